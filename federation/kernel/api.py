"""What every federation domain's endpoints share, on top of the partner API's own plumbing
(``partners.api``: authentication, scopes, one error shape, atomic and idempotent writes, a
request body read by its serializer, pages, strict filters): the scopes by name, enums named
after their model's choices, and a filtered page of a list."""

from typing import Any

from django.db import models

from partners.api.base import PartnerEndpoint
from partners.api.fields import NamedChoiceField
from partners.models import ApiScope

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value
ADMIN = ApiScope.ADMIN.value


def choice_field(choices: type[models.Choices], **kwargs: Any) -> NamedChoiceField:
    """A field taking one of a model's ``choices`` (``Agreement.Status``), which the schema
    describes as one enum named after them (``AgreementStatusEnum``) wherever it is shown."""
    schema_name = choices.__qualname__.replace(".", "") + "Enum"
    return NamedChoiceField(schema_name=schema_name, choices=choices.choices, **kwargs)


class FederationEndpoint(PartnerEndpoint):
    # The base of every federation endpoint: a PartnerEndpoint (required_scopes per method,
    # objects only through access functions) with the steps they all take. No docstring: the
    # schema describes an operation whose view has none by its base's (PartnerEndpoint's, as
    # it always has), and a docstring here would change that description. Its steps (a
    # validated body, a filtered page) are PartnerEndpoint's, shared by every app.
    pass
