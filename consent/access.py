"""How the consent API obtains a partner's own member accounts in bulk, and its withdrawals.

One account at a time goes through ``partners.access.access_member_by_number``; the consent
check asks about up to a thousand at once, and must answer in one query for all of them.
"""

import unicodedata
import uuid
from collections.abc import Iterable

from consent.models import WithdrawalNotice
from partners.errors import not_found
from partners.models import MemberAccount, Partner


def normalize_member_number(member_number: str) -> str:
    # The same normalisation as ``access_member_by_number``, so a number that finds an account
    # there finds it here too.
    return unicodedata.normalize("NFKC", member_number).strip()


def access_member_ids_by_numbers(
    principal: Partner, member_numbers: Iterable[str]
) -> dict[str, uuid.UUID]:
    """The ids of those of ``member_numbers`` that are accounts of the principal's own base,
    keyed by the normalised number. Numbers of other bases are absent, like missing ones."""
    numbers = {normalize_member_number(number) for number in member_numbers}
    rows = MemberAccount.objects.filter(partner=principal, member_number__in=numbers).values_list(
        "member_number", "pk"
    )
    return dict(rows)


def access_withdrawal_by_id(principal: Partner, withdrawal_id: str) -> WithdrawalNotice:
    """A withdrawal sent to ``principal``; anyone else's, like a missing one, is a 404."""
    try:
        event_id = uuid.UUID(str(withdrawal_id))
    except ValueError:
        raise not_found("withdrawal") from None
    found = (
        WithdrawalNotice.objects.select_related("event")
        .filter(event_id=event_id, recipient=principal)
        .first()
    )
    if found is None:
        raise not_found("withdrawal")
    return found
