"""How the partner API obtains agreements and their versions.

``version_propose`` grants each party's group ``view_agreement``, so a company sees the
agreements it is, or once was, a party to. Within one it sees only the versions that name it
and that were put to the parties: a draft is the host's work in progress, and the terms of a
version between other companies (before it joined, or after it left) are theirs alone.
Missing and not-yours give the same 404.
"""

import re

from django.db.models import Prefetch, QuerySet

from federation.models import Agreement, AgreementParty, AgreementVersion
from partners.access import access_object
from partners.errors import not_found
from partners.models import Partner

# A version number as it appears in a path; anything else (a sign, spaces, full-width digits,
# or more digits than a number can have) is simply no version.
_VERSION_NUMBER = re.compile(r"[0-9]{1,9}")


def versions_visible_to(principal: Partner) -> QuerySet[AgreementVersion]:
    """The versions ``principal`` may read: those naming it as a party that were proposed.

    ``proposed_at`` rather than the status alone: a draft withdrawn before it was proposed (or
    when its agreement ended) is ``withdrawn`` too, yet no party ever saw it.
    """
    return AgreementVersion.objects.filter(
        parties__partner=principal,
        proposed_at__isnull=False,
    ).exclude(status=AgreementVersion.Status.DRAFT)


def access_agreement_by_id(principal: Partner, agreement_id: str) -> Agreement:
    """An agreement ``principal`` is or was a party to; any other, like a missing one, is 404."""
    return access_object(
        principal,
        Agreement.objects.select_related("host"),
        agreement_id,
        what="agreement",
    )


def access_version_by_number(
    principal: Partner, agreement_id: str, number: str
) -> AgreementVersion:
    """Version ``number`` of an agreement of ``principal``, with its parties, if ``principal``
    may read it (``versions_visible_to``). Raises not_found otherwise: a draft, a version that
    does not name the caller and a missing number all answer alike.

    Signing goes through here too: only a party may sign, and a party can read what it signs.
    """
    agreement = access_agreement_by_id(principal, agreement_id)
    if not _VERSION_NUMBER.fullmatch(number):
        raise not_found("agreement version")
    version = (
        versions_visible_to(principal)
        .filter(agreement=agreement, number=int(number))
        .prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("partner"))
        )
        .first()
    )
    if version is None:
        raise not_found("agreement version")
    version.agreement = agreement
    return version
