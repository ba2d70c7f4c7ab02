"""What the consent endpoints share: scopes, channels and their fields, and time fields."""

from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from consent.models import (
    Channel,
    PrivacyNotice,
)
from partners.api.fields import NamedChoiceField
from partners.models import ApiScope

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value

RECEIPT_VERSION = "KI-CR-v1.1.0"
DECISION_REASONS = [
    "consented",
    "not_consented",
    "withdrawn",
    "expired",
    "notice_changed",
    "member_unavailable",
    "recipient_unavailable",
    "not_found",
]


def channel_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(schema_name="ConsentChannelEnum", choices=Channel.choices, **kwargs)


# Channels only Sanpo itself records through: the member's own preference page, and the
# withdrawals an erasure request makes. The API refuses them (403, saying why), so its schema
# does not offer them.
API_CHANNELS = [
    channel
    for channel in Channel.values
    if channel not in {Channel.PREFERENCE_PAGE, Channel.DATA_SUBJECT_REQUEST}
]


def input_channel_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="ConsentInputChannelEnum",
        choices=Channel.choices,
        offered=API_CHANNELS,
        **kwargs,
    )


def language_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="NoticeLanguageEnum", choices=PrivacyNotice.Language.choices, **kwargs
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its offset. DRF would read a naive time in the server's
    zone; a consent record must say exactly when, so a naive time is refused instead."""

    def enforce_timezone(self, value: Any) -> Any:
        if value.tzinfo is None or value.utcoffset() is None:
            raise serializers.ValidationError(
                _("Give a timezone-aware time (with an offset, e.g. +09:00)."), code="naive"
            )
        return super().enforce_timezone(value)


# An output of model rows documented in the API's own words. The models' verbose names and help
# texts are written for people and translated (the admin shows them in Japanese); left to DRF
# they would become the schema's titles and descriptions, and the schema would change with the
# language it is generated in. API documentation stays English: a field's help is written on the
# serializer (``Meta.extra_kwargs``) when it needs one. (A comment, not a docstring: drf-spectacular
# would publish a docstring as every subclass's description.)
class ModelOutput(serializers.ModelSerializer):
    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[Any, Any]:
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        field_kwargs.pop("label", None)
        field_kwargs.pop("help_text", None)
        return field_class, field_kwargs


def named_serializer(name: str, doc: str, fields: dict[str, Any]) -> type[serializers.Serializer]:
    # The consent receipt's field names are Kantara's own (camelCase); building the class with
    # type() keeps them as they are without renaming every attribute for the linter. ``doc`` is
    # for the API's readers: the schema shows no docstring, only a declared description.
    serializer = type(name, (serializers.Serializer,), {"__doc__": doc, **fields})
    return cast(type[serializers.Serializer], extend_schema_serializer(description=doc)(serializer))
