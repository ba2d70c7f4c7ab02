"""Provision records: what personal data went to which recipient, when, and under which consent,
as APPI article 27 requires the provider to keep."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import (
    ConsentState,
    ProvisionRecord,
)
from consent.selectors.check import consent_check
from consent.services.common import invalid as _invalid
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.partitions import month_partitions_create, month_partitions_detach
from partners.pii import pseudonym_for


@transaction.atomic
def provision_record(
    *,
    member: MemberAccount,
    recipient: Partner,
    purpose_code: str,
    data_items: Iterable[str],
    actor: Actor,
    at: datetime | None = None,
) -> ProvisionRecord:
    """Check consent and record that ``member``'s ``data_items`` go to ``recipient``.

    Call it inside the transaction that provides the data, so the record exists exactly when
    the provision does. Raises ApplicationError: permission_denied (with the reason) when there
    is no consent in force at this moment, validation_failed when the items go beyond what the
    notice the member consented under names.
    """
    at = at or timezone.now()
    items = sorted(set(data_items))
    # Hold the consent state row until the transaction ends: a withdrawal, which locks it
    # too, then waits for this provision or is seen by it, never slips in between.
    state = (
        ConsentState.objects.select_for_update(no_key=True, of=("self",))
        .select_related("event", "notice")
        .filter(member=member, purpose_id=purpose_code, recipient=recipient)
        .first()
    )
    decision = consent_check(
        member_id=member.pk, purpose_code=purpose_code, recipient=recipient, at=at
    )
    if state is None or not decision.allowed:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            _("The member's consent does not allow this provision (%(reason)s).")
            % {"reason": decision.reason},
        )
    allowed_items = set(state.notice.conditions["data_items"]) if state.notice else set()
    if not items or not set(items) <= allowed_items:
        raise _invalid("data_items", _("Only items named in the notice the member agreed to."))
    provider = member.partner
    return ProvisionRecord.objects.create(
        provided_at=at,
        provider=provider,
        recipient=recipient,
        member=member,
        member_pseudonym=pseudonym_for(member.pk, recipient.pk),
        purpose_id=purpose_code,
        data_items=items,
        consent_event=state.event,
        consent_event_recorded_at=state.event_recorded_at,
        recipient_obtained_from=(
            f"{provider.name_latin} ({provider.name_ja}), through Sanpo, under the member's "
            f"consent {state.event_id}"
        )[:300],
        recorded_by=actor.label[:200],
        retain_until=(at + timedelta(days=settings.SANPO_PROVISION_RETENTION_DAYS)).date(),
    )


def provision_records_purge(*, today: datetime | None = None) -> int:
    """Delete provision records past their retention (the daily task). Returns how many."""
    day = (today or timezone.now()).date()
    deleted, _ = ProvisionRecord.objects.filter(retain_until__lt=day).delete()
    return deleted


# How many months past this one always have their partition (README, "Partitioning").
PARTITION_MONTHS_AHEAD = 3


class PartitionChanges(NamedTuple):
    created: list[str]
    dropped: list[str]


def provision_partitions_maintain(*, today: date | None = None) -> PartitionChanges:
    """Keep the monthly partitions of the provision records (the daily task): create this
    month's and the next PARTITION_MONTHS_AHEAD months' if missing, and drop the months whose
    every record is past its retention, that is months ending at least
    SANPO_PROVISION_RETENTION_DAYS before ``today`` that hold no record still to keep (one
    written under a longer retention). Nothing on a database without partitions (SQLite)."""
    if connection.vendor != "postgresql":
        return PartitionChanges([], [])
    day = today or timezone.now().date()
    table = ProvisionRecord._meta.db_table
    created = month_partitions_create(
        table=table, column="provided_at", months_ahead=PARTITION_MONTHS_AHEAD, today=day
    )

    def still_kept(partition: str) -> bool:
        query = "SELECT EXISTS (SELECT 1 FROM {} WHERE retain_until >= %s)"
        with connection.cursor() as cursor:
            cursor.execute(query.format(connection.ops.quote_name(partition)), [day])
            return bool(cursor.fetchone()[0])

    dropped = month_partitions_detach(
        table=table,
        before=day - timedelta(days=settings.SANPO_PROVISION_RETENTION_DAYS),
        drop=True,
        keep=still_kept,
    )
    return PartitionChanges(created, dropped)
