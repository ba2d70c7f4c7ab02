"""How the consent API obtains a withdrawal sent to the calling partner.

Member accounts, one or many, come through ``partners.access``.
"""

import uuid

from consent.models import DataSubjectRequest, WithdrawalNotice
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


def access_data_request_by_id(principal: Partner, request_id: str) -> DataSubjectRequest:
    """A data-subject request of one of ``principal``'s own members; any other is a 404."""
    try:
        pk = uuid.UUID(str(request_id))
    except ValueError:
        raise not_found("data request") from None
    found = (
        DataSubjectRequest.objects.select_related("member", "member__partner")
        .filter(pk=pk, member__partner=principal)
        .first()
    )
    if found is None:
        raise not_found("data request")
    return found
