"""How long clicks are kept: ``SANPO_REFERRAL_CLICK_RETENTION_DAYS`` (400 by default, longer
than any attribution window, which is at most 365 days). A daily task deletes, set-based in
batches, the clicks older than that which no conversion names; the older clicks a conversion
does name stay (its attribution must remain checkable), their fingerprint blanked, so nothing
about a device is kept past the retention period. On PostgreSQL the partition task
(``click_partitions``) has dropped, shortly before, each expired month no conversion names;
this purge takes the rest (the months a conversion names, the month of the cutoff, the default
partition)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from federation.referrals.audit import ReferralAuditAction
from federation.referrals.models import ReferralClick, ReferralConversion
from partners.actors import Actor
from partners.services import audit_record

BATCH = 50_000


def referral_clicks_purge(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete the clicks older than the retention period that no conversion names, and blank
    the fingerprint of those a conversion names; returns the clicks deleted. Audited once per
    run that changed anything; a second run changes nothing."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SANPO_REFERRAL_CLICK_RETENTION_DAYS)
    named = Exists(ReferralConversion.objects.filter(click=OuterRef("pk")))
    old = ReferralClick.objects.filter(at__lt=cutoff)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(old.filter(~named).order_by("id").values_list("id", flat=True)[:batch])
            if not ids:
                break
            # ``old`` again: on PostgreSQL only the partitions before the cutoff are probed.
            deleted += old.filter(pk__in=ids).delete()[0]
    with transaction.atomic():
        blanked = old.exclude(fingerprint="").update(fingerprint="")
        if deleted or blanked:
            audit_record(
                action=ReferralAuditAction.CLICKS_PURGED,
                actor=Actor.system(),
                detail={"deleted": deleted, "blanked": blanked, "before": cutoff.isoformat()},
            )
    return deleted
