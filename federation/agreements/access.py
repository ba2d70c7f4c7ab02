"""How the partner API obtains agreements and their versions.

``version_propose`` grants each party's group ``view_agreement``, so a company sees the
agreements it is, or once was, a party to. Within one it sees only the versions that name it
and that were put to the parties: a draft is the host's work in progress, and the terms of a
version between other companies (before it joined, or after it left) are theirs alone.
Missing and not-yours give the same 404.
"""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from partners.access import access_object
from partners.errors import ApplicationError, not_found
from partners.models import Partner
from partners.normalize import whole_number


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
        what=_("agreement"),
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
    # Anything but plain digits (a sign, spaces, full-width digits, too many) is no version.
    whole = whole_number(number)
    if whole is None:
        raise not_found(_("agreement version"))
    version = (
        versions_visible_to(principal)
        .filter(agreement=agreement, number=whole)
        .prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("partner"))
        )
        .first()
    )
    if version is None:
        raise not_found(_("agreement version"))
    version.agreement = agreement
    return version


# --- Enrollment -------------------------------------------------------------------------------
#
# Enrollments are not granted one by one (a campaign enrolls thousands): the two companies an
# enrollment joins are its ``source`` and ``target`` columns, and nobody else sees it.


# --- Counterparties -------------------------------------------------------------------------


def counterparties_of(principal: Partner) -> QuerySet[Partner]:
    """The companies ``principal`` shares an agreement with: named with it in a version it can
    read (``versions_visible_to``), whatever the agreement's status now. These are the only
    other companies whose slugs a partner learns from the API (``/agreements``)."""
    named = AgreementParty.objects.filter(version__in=versions_visible_to(principal)).values(
        "partner_id"
    )
    return Partner.objects.filter(pk__in=named).exclude(pk=principal.pk)


def access_counterparty_by_slug(
    principal: Partner, slug: str, *, missing: ApplicationError | None = None
) -> Partner:
    """A company ``principal`` shares an agreement with, or ``principal`` itself, by slug.

    A company it has no agreement with answers exactly like a slug nobody has (404, or
    ``missing`` where the endpoint words both as its own refusal), so the API never confirms
    that a company is in the alliance to one that has no business with it.
    """
    if slug == principal.slug:
        return principal
    found = counterparties_of(principal).filter(slug=slug).first()
    if found is None:
        raise missing or not_found(_("partner"))
    return found
