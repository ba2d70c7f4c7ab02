"""The audit actions of the federation app, registered in ``FederationConfig.ready``, and
``audit``, the one way every federation domain's services record them."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from partners.actors import Actor
from partners.models import Partner
from partners.services import audit_record


class FederationAuditAction(models.TextChoices):
    AGREEMENT_CREATED = "agreement.created", _("Agreement created")
    AGREEMENT_VERSION_DRAFTED = "agreement.version_drafted", _("Agreement version drafted")
    AGREEMENT_VERSION_CHANGED = "agreement.version_changed", _("Agreement draft changed")
    AGREEMENT_PROPOSED = "agreement.proposed", _("Agreement version proposed")
    AGREEMENT_WITHDRAWN = "agreement.withdrawn", _("Agreement version withdrawn")
    AGREEMENT_SIGNED = "agreement.signed", _("Agreement version signed by a party")
    AGREEMENT_SUSPENDED = "agreement.suspended", _("Agreement suspended")
    AGREEMENT_RESUMED = "agreement.resumed", _("Agreement resumed")
    AGREEMENT_TERMINATED = "agreement.terminated", _("Agreement terminated")
    AGREEMENT_EXPIRED = "agreement.expired", _("Agreement expired")
    OVERLAP_VISIBILITY_SET = "overlap.visibility_set", _("Overlap visibility set")
    ENROLLMENT_REQUESTED = "enrollment.requested", _("Member enrolled with a partner")
    ENROLLMENT_CONFIRMED = "enrollment.confirmed", _("Enrollment confirmed by the target")
    ENROLLMENT_ENDED = "enrollment.ended", _("Enrollment ended")
    ENROLLMENT_BATCH_STARTED = "enrollment.batch_started", _("Enrollment batch started")
    ENROLLMENT_BATCH_FINISHED = "enrollment.batch_finished", _("Enrollment batch finished")
    ENROLLMENT_BATCH_ABANDONED = "enrollment.batch_abandoned", _("Enrollment batch abandoned")


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
