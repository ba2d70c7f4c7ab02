"""What the coin endpoints share: the rule that names a member, the gates every posting for
one passes, and the idempotency every write requires."""

from __future__ import annotations

from typing import Any, ClassVar

from consent.errors import ConsentErrorCode
from federation.coins.access import access_coin_member
from federation.errors import FederationErrorCode
from federation.kernel.api import WRITE, FederationEndpoint
from partners.errors import ErrorCode
from partners.models import MemberAccount

MEMBER_RULE = (
    "Name the member by exactly one of `member_number` (your own member) or `member` (the "
    "pseudonymous id you were given for another company's member); anyone else is a 404. For "
    "another company's member the agreement in force must let your company exchange coins "
    "with that company (403 `no_agreement`) and the member must consent to coin exchange with "
    "you now (403 `consent_required`)."
)
KEYS = (
    "An `Idempotency-Key` is required: a retry replays the first answer, a refusal included, "
    "so a retried request can never post later by surprise."
)
# What a posting for a named member may answer besides its own refusals.
MEMBER_GATES = (
    FederationErrorCode.NO_AGREEMENT,
    ConsentErrorCode.CONSENT_REQUIRED,
    ErrorCode.NOT_FOUND,
)


class CoinPostingEndpoint(FederationEndpoint):
    # A coin write (no docstring: the schema would read it). It needs the write scope and an
    # Idempotency-Key, and names its member through ``member_named``.
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    def member_named(self, values: dict[str, Any]) -> MemberAccount:
        return access_coin_member(
            self.partner, member_number=values.get("member_number"), member=values.get("member")
        )
