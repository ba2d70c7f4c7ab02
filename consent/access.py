"""How the consent API obtains a withdrawal sent to the calling partner.

Member accounts, one or many, come through ``partners.access``.
"""

import uuid

from consent.models import WithdrawalNotice
from partners.errors import not_found
from partners.models import Partner


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
