"""A member's consent record for the compliance pages: the chain of events, the state per
purpose and recipient, what was provided to whom, and the counts over every member. Reports,
so read from the replica when there is one (``partners.db``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.utils.translation import pgettext_lazy

from consent.models import ConsentEvent, ConsentState, PrivacyNotice, ProvisionRecord
from consent.names import in_japanese
from consent.rule import Moment, condition_q, held_q
from partners.db import replica_alias
from partners.models import MemberAccount, Partner


def consent_timeline(
    *,
    member: MemberAccount,
    recorded_from: datetime | None = None,
    recorded_before: datetime | None = None,
) -> QuerySet[ConsentEvent]:
    """Every grant and withdrawal of ``member``, for every recipient, in chain order; only
    those recorded in ``[recorded_from, recorded_before)`` when given. On PostgreSQL a period
    reads only the monthly partitions it spans."""
    events = ConsentEvent.objects.using(replica_alias()).filter(member=member)
    if recorded_from is not None:
        events = events.filter(recorded_at__gte=recorded_from)
    if recorded_before is not None:
        events = events.filter(recorded_at__lt=recorded_before)
    return events.select_related("purpose", "recipient", "notice").order_by("sequence")


# The statuses a reviewer reads, each from the one rule (``consent.rule``): consented is held
# (given and not expired), withdrawn fails the rule's withdrawal condition, expired passes it
# but fails expiry. The notice condition is shown apart, as ``notice_in_force``.
def _consented(now: datetime) -> Q:
    return held_q(Moment(at=now, conditions=None))


def _withdrawn(now: datetime) -> Q:
    return ~condition_q("withdrawn", Moment(at=now, conditions=None))


def _expired(now: datetime) -> Q:
    moment = Moment(at=now, conditions=None)
    return condition_q("withdrawn", moment) & ~condition_q("expired", moment)


class ConsentStatus(TextChoices):
    CONSENTED = "consented", pgettext_lazy("consent status", "consented")
    WITHDRAWN = "withdrawn", pgettext_lazy("consent status", "withdrawn")
    EXPIRED = "expired", pgettext_lazy("consent status", "expired")


def consent_states(*, member: MemberAccount, now: datetime) -> QuerySet[ConsentState]:
    """The member's current consent per purpose and recipient, annotated with ``status``
    (consented, withdrawn or expired at ``now``) and ``notice_in_force``: whether a granted
    consent was given under the conditions of the notice in effect now. A consent under
    superseded conditions no longer allows anything (``consent.selectors.consent_check``
    answers notice_changed) although its status still reads consented.
    """
    in_force = (
        PrivacyNotice.objects.filter(effective_at__lte=now)
        .order_by("-version")
        .values("conditions_sha256")[:1]
    )
    return (
        ConsentState.objects.using(replica_alias())
        .filter(member=member)
        .select_related("purpose", "recipient", "notice", "event")
        .annotate(
            status=Case(
                When(_withdrawn(now), then=Value(ConsentStatus.WITHDRAWN.value)),
                When(_expired(now), then=Value(ConsentStatus.EXPIRED.value)),
                default=Value(ConsentStatus.CONSENTED.value),
                output_field=CharField(),
            ),
            in_force_conditions=Subquery(in_force),
        )
        .annotate(
            notice_in_force=Case(
                When(
                    Q(notice__isnull=False) & Q(notice__conditions_sha256=F("in_force_conditions")),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("recipient__name_latin", "purpose_id")
    )


@dataclass(frozen=True)
class ConsentCount:
    recipient_slug: str
    recipient_name_ja: str
    recipient_name_latin: str
    purpose: str
    purpose_name_ja: str
    purpose_name_en: str
    consented: int
    withdrawn: int
    expired: int

    @property
    def recipient_name(self) -> str:
        """The recipient's name as the active language writes it."""
        return self.recipient_name_ja if in_japanese() else self.recipient_name_latin

    @property
    def purpose_name(self) -> str:
        return self.purpose_name_ja if in_japanese() else self.purpose_name_en


def consent_counts(*, now: datetime) -> list[ConsentCount]:
    """Per recipient and purpose, how many members consent now, have withdrawn, or let their
    consent expire: one grouped query over the materialised states."""
    rows = (
        ConsentState.objects.using(replica_alias())
        .values(
            "recipient__slug",
            "recipient__name_ja",
            "recipient__name_latin",
            "purpose_id",
            "purpose__name_ja",
            "purpose__name_en",
        )
        .annotate(
            consented=Count("pk", filter=_consented(now)),
            withdrawn=Count("pk", filter=_withdrawn(now)),
            expired=Count("pk", filter=_expired(now)),
        )
        .order_by("recipient__name_latin", "purpose_id")
    )
    return [
        ConsentCount(
            recipient_slug=row["recipient__slug"],
            recipient_name_ja=row["recipient__name_ja"],
            recipient_name_latin=row["recipient__name_latin"],
            purpose=row["purpose_id"],
            purpose_name_ja=row["purpose__name_ja"],
            purpose_name_en=row["purpose__name_en"],
            consented=row["consented"],
            withdrawn=row["withdrawn"],
            expired=row["expired"],
        )
        for row in rows
    ]


def provision_records(*, member: MemberAccount) -> QuerySet[ProvisionRecord]:
    """Every recorded provision of the member's data, newest first."""
    return (
        ProvisionRecord.objects.using(replica_alias())
        .filter(member=member)
        .select_related("provider", "recipient", "purpose", "consent_event")
        .order_by("-provided_at")
    )


def recipients() -> QuerySet[Partner]:
    """Every partner, for the recipient filter."""
    return Partner.objects.only("id", "slug", "name_ja", "name_latin").order_by("name_latin")
