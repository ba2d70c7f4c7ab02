"""The recording rules (who may record a consent, through which channel, for which recipient)
and how the consent API obtains a withdrawal sent to the calling partner, a data-subject
request, and the recipient of a consent it records.

Member accounts, one or many, come through ``partners.access``.
"""

import uuid

from django.utils.translation import gettext as _

from consent.models import Channel, DataSubjectRequest, WithdrawalNotice
from partners.errors import ApplicationError, ErrorCode, not_found, validation_failed
from partners.models import Partner

# The channels a partner brand collects consent in itself; the host portal is the host's, and
# the preference page is Sanpo's own.
BRAND_CHANNELS = frozenset(
    {Channel.PARTNER_APP, Channel.PAPER, Channel.CALL_CENTRE, Channel.STAFF_VISIT}
)


def access_withdrawal_by_id(principal: Partner, withdrawal_id: str) -> WithdrawalNotice:
    """A withdrawal sent to ``principal``; anyone else's, like a missing one, is a 404."""
    try:
        event_id = uuid.UUID(str(withdrawal_id))
    except ValueError:
        raise not_found(_("withdrawal")) from None
    found = (
        WithdrawalNotice.objects.select_related("event")
        .filter(event_id=event_id, recipient=principal)
        .first()
    )
    if found is None:
        raise not_found(_("withdrawal"))
    return found


def access_data_request_by_id(principal: Partner, request_id: str) -> DataSubjectRequest:
    """A data-subject request of one of ``principal``'s own members; any other is a 404."""
    try:
        pk = uuid.UUID(str(request_id))
    except ValueError:
        raise not_found(_("data request")) from None
    found = (
        DataSubjectRequest.objects.select_related("member", "member__partner")
        .filter(pk=pk, member__partner=principal)
        .first()
    )
    if found is None:
        raise not_found(_("data request"))
    return found


def access_consent_recipient(principal: Partner, slug: str, *, channel: str) -> Partner:
    """The recipient named by ``slug`` of a consent (or withdrawal) ``principal`` records
    through ``channel``, once ``check_may_record`` allows it.

    The host's portal records on the member's behalf for any company, so an unknown slug is a
    400 for it. A brand records only for itself: any other slug is the same 403 whether or not
    such a company exists, so the answer never tells a brand which slugs are taken."""
    if principal.kind != Partner.Kind.HOST and slug != principal.slug:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            _(
                "A partner brand records consents only with itself as the recipient; consents "
                "for other recipients are recorded through the host's portal."
            ),
        )
    recipient = Partner.objects.filter(slug=slug).first()
    if recipient is None:
        raise validation_failed("recipient", _("Unknown recipient."))
    check_may_record(principal, channel=channel)
    return recipient


def check_may_record(caller: Partner, *, channel: str) -> None:
    """Refuse a consent (or withdrawal) the caller may not record. The host's portal records on
    the member's behalf for any recipient; a brand only what it collected itself, for itself."""
    if channel == Channel.PREFERENCE_PAGE:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            _("Only the member's own preference page records through the preference_page channel."),
        )
    if channel == Channel.DATA_SUBJECT_REQUEST:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            _(
                "Only an erasure request records through the data_subject_request channel (its "
                "withdrawals); no consent is ever granted through it."
            ),
        )
    if caller.kind == Partner.Kind.HOST:
        return
    # The recipient came through access_consent_recipient, which holds a brand to itself.
    if channel not in BRAND_CHANNELS:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            _("A partner brand records consents only through its own channels: %(channels)s.")
            % {"channels": ", ".join(sorted(BRAND_CHANNELS))},
        )
