"""How the partner API obtains enrollments and enrollment batches: only those the caller is
the source or the target of; missing and not-yours give the same 404. And the program a member
joins, which a company with no agreement cannot tell from one that does not exist."""

import uuid
from typing import Literal

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from federation.agreements.access import access_counterparty_by_slug
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.enrollment.services import no_agreement_to_enroll
from partners.errors import not_found
from partners.models import Partner

EnrollmentRole = Literal["party", "target"]


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def enrollments_visible_to(principal: Partner) -> QuerySet[Enrollment]:
    """The enrollments ``principal`` is the source or the target of, with the source's member
    number as ``member_number`` (which only the source may be shown)."""
    return (
        Enrollment.objects.filter(Q(source=principal) | Q(target=principal))
        .select_related("source", "target")
        .annotate(member_number=F("member__member_number"))
    )


def access_enrollment_by_id(
    principal: Partner, enrollment_id: str, *, role: EnrollmentRole = "party"
) -> Enrollment:
    """An enrollment ``principal`` is a party to; with ``role="target"``, only one it is the
    target of (reading the member's data, confirming). Anything else, like a missing id, is
    404: to the source, the target's door does not exist."""
    pk = _uuid(enrollment_id)
    if pk is None:
        raise not_found(_("enrollment"))
    found = enrollments_visible_to(principal).filter(pk=pk)
    if role == "target":
        found = found.filter(target=principal)
    enrollment = found.first()
    if enrollment is None:
        raise not_found(_("enrollment"))
    return enrollment


def access_enrollment_batch_by_id(principal: Partner, batch_id: str) -> EnrollmentBatch:
    """A batch ``principal`` started (the source) or receives (the target); others are 404."""
    pk = _uuid(batch_id)
    if pk is None:
        raise not_found(_("enrollment batch"))
    batch = (
        EnrollmentBatch.objects.filter(Q(source=principal) | Q(target=principal))
        .filter(pk=pk)
        .select_related("source", "target")
        .first()
    )
    if batch is None:
        raise not_found(_("enrollment batch"))
    return batch


def access_target_by_slug(principal: Partner, slug: str) -> Partner:
    """The company whose program ``principal``'s members are to join. A company ``principal``
    has no agreement with, and a slug nobody has, answer as the services answer a company
    whose agreement is not in force (no_agreement), so the answer never tells whether a
    company is in the alliance."""
    return access_counterparty_by_slug(
        principal, slug, missing=no_agreement_to_enroll(principal, slug)
    )
