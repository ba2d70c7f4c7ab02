"""Serializer fields shared by the endpoints of every app."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    """A choice field that the schema describes as the enum component ``schema_name``.

    drf-spectacular names an enum after its field, so two apps' ``kind`` or ``status`` fields
    would collide (a schema warning, which CI fails on) and rename those. Naming
    them here keeps each name next to its choices and leaves the existing enums as they are.

    ``offered`` narrows the values the schema offers, for an input that still hears the others
    so as to refuse them with a message of its own rather than "not a valid choice".
    """

    def __init__(
        self, *, schema_name: str, offered: list[str] | None = None, **kwargs: Any
    ) -> None:
        self.schema_name = schema_name
        self.offered = offered
        super().__init__(**kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str:
        name: str = self.target.schema_name
        return name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        offered = self.target.offered
        return {"type": "string", "enum": list(self.target.choices if offered is None else offered)}
