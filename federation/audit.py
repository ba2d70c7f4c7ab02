"""The audit actions of the federation app, registered in ``FederationConfig.ready``, and
``audit``, the one way every federation domain's services record them."""

from typing import Any

from django.db import models

from partners.actors import Actor
from partners.models import Partner
from partners.services import audit_record


class FederationAuditAction(models.TextChoices):
    AGREEMENT_CREATED = "agreement.created", "Agreement created"
    AGREEMENT_VERSION_DRAFTED = "agreement.version_drafted", "Agreement version drafted"
    AGREEMENT_VERSION_CHANGED = "agreement.version_changed", "Agreement draft changed"
    AGREEMENT_PROPOSED = "agreement.proposed", "Agreement version proposed"
    AGREEMENT_WITHDRAWN = "agreement.withdrawn", "Agreement version withdrawn"
    AGREEMENT_SIGNED = "agreement.signed", "Agreement version signed by a party"
    AGREEMENT_SUSPENDED = "agreement.suspended", "Agreement suspended"
    AGREEMENT_RESUMED = "agreement.resumed", "Agreement resumed"
    AGREEMENT_TERMINATED = "agreement.terminated", "Agreement terminated"
    AGREEMENT_EXPIRED = "agreement.expired", "Agreement expired"
    OVERLAP_VISIBILITY_SET = "overlap.visibility_set", "Overlap visibility set"
    ENROLLMENT_REQUESTED = "enrollment.requested", "Member enrolled with a partner"
    ENROLLMENT_CONFIRMED = "enrollment.confirmed", "Enrollment confirmed by the target"
    ENROLLMENT_ENDED = "enrollment.ended", "Enrollment ended"
    ENROLLMENT_BATCH_STARTED = "enrollment.batch_started", "Enrollment batch started"
    ENROLLMENT_BATCH_FINISHED = "enrollment.batch_finished", "Enrollment batch finished"
    ENROLLMENT_BATCH_ABANDONED = "enrollment.batch_abandoned", "Enrollment batch abandoned"


def audit(
    action: FederationAuditAction,
    actor: Actor,
    about: models.Model,
    /,
    *,
    partner: Partner,
    **detail: Any,
) -> None:
    """Record that ``actor`` did ``action`` to the row ``about``, in ``partner``'s audit log,
    with ``detail`` (no personal data). Call it inside the transaction of the write it records,
    so the event and the write commit or roll back together."""
    audit_record(action=action, actor=actor, partner=partner, target=about, detail=detail)
