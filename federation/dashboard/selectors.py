"""What the alliance dashboard reads: each figure one grouped query over its table, whatever
the number of members, consents or deliveries (tests/federation/test_dashboard.py holds the
page to a fixed number of queries), on the read replica when there is one (``partners.db``).

Periods are days or months in Asia/Tokyo (``settings.TIME_ZONE``): a consent given at 08:00 on
1 December in Tokyo counts in December, though it is 30 November in UTC."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DateField, Q
from django.db.models.functions import Trunc

from consent.compliance.selectors import RequestFilter, withdrawal_overdue_before
from consent.models import ConsentEvent, DataSubjectRequest, Purpose, WithdrawalNotice
from federation.enrollment.models import Enrollment
from partners.db import replica_alias
from partners.models import MemberAccount, Partner, WebhookDelivery

DUE_SOON_DAYS = 7  # a data-subject request due within this many days is "due soon"


class Period(enum.StrEnum):
    """What the dashboard looks back over: the last 30 days by day, or the last 12 months by
    month (the current day or month included, so far)."""

    DAYS = "30d"
    MONTHS = "12m"


@dataclass(frozen=True)
class Window:
    """A period as the buckets the figures are counted in: ``buckets`` are the first days of
    each day or month, oldest first; counting starts at ``start`` (the first bucket's
    midnight in Tokyo)."""

    period: Period
    buckets: tuple[date, ...]
    start: datetime

    @property
    def unit(self) -> str:
        return "day" if self.period == Period.DAYS else "month"


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def window_of(period: Period, *, now: datetime) -> Window:
    """The buckets of ``period`` ending with the day or month ``now`` falls in, in Tokyo."""
    today = now.astimezone(_zone()).date()
    if period == Period.DAYS:
        buckets = tuple(today - timedelta(days=back) for back in range(29, -1, -1))
    else:
        months = [(today.year * 12 + today.month - 1) - back for back in range(11, -1, -1)]
        buckets = tuple(date(month // 12, month % 12 + 1, 1) for month in months)
    start = datetime.combine(buckets[0], time.min, tzinfo=_zone())
    return Window(period=period, buckets=buckets, start=start)


def _bucket(window: Window, field: str) -> Trunc:
    return Trunc(field, window.unit, output_field=DateField(), tzinfo=_zone())


# --- Members and enrollments ------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyMembers:
    slug: str
    name_ja: str
    name_latin: str
    active: int
    inactive: int


def members_per_company() -> list[CompanyMembers]:
    """Per company that holds a member base, its active and inactive member accounts (erased
    ones are no longer members), most members first: one grouped query."""
    rows = (
        Partner.objects.using(replica_alias())
        .filter(holds_customer_data=True)
        .annotate(
            active=Count("members", filter=Q(members__status=MemberAccount.Status.ACTIVE)),
            inactive=Count("members", filter=Q(members__status=MemberAccount.Status.INACTIVE)),
        )
        .order_by("-active", "-inactive", "name_latin")
        .values("slug", "name_ja", "name_latin", "active", "inactive")
    )
    return [CompanyMembers(**row) for row in rows]


@dataclass(frozen=True)
class EnrollmentCounts:
    requested: tuple[int, ...]  # enrollments requested in each bucket
    confirmed: tuple[int, ...]  # enrollments the target confirmed in each bucket


def enrollments_over_time(window: Window) -> EnrollmentCounts:
    """Per bucket, the enrollments requested and those confirmed then: two grouped queries
    (a request and its confirmation may fall in different buckets)."""

    def counted(field: str) -> tuple[int, ...]:
        rows = (
            Enrollment.objects.using(replica_alias())
            .filter(**{f"{field}__gte": window.start})
            .annotate(bucket=_bucket(window, field))
            .values("bucket")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts = {row["bucket"]: row["n"] for row in rows}
        return tuple(counts.get(bucket, 0) for bucket in window.buckets)

    return EnrollmentCounts(requested=counted("requested_at"), confirmed=counted("confirmed_at"))


# --- Consents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposeConsents:
    code: str
    name_ja: str
    name_en: str
    granted: int
    withdrawn: int


@dataclass(frozen=True)
class ConsentActivity:
    granted: tuple[int, ...]  # grants per bucket
    withdrawn: tuple[int, ...]  # withdrawals per bucket
    purposes: list[PurposeConsents]  # per purpose over the whole window


def consent_activity(window: Window) -> ConsentActivity:
    """The consents granted and withdrawn in each bucket and per purpose, by when the member
    said so (``occurred_at``, as the record keeps it): one grouped query by bucket, purpose
    and action, and one of the purposes' names. Every active purpose is listed, with zeros
    when nothing happened to it."""
    grouped = (
        ConsentEvent.objects.using(replica_alias())
        .filter(occurred_at__gte=window.start)
        .annotate(bucket=_bucket(window, "occurred_at"))
        .values("bucket", "purpose_id", "action")
        .annotate(n=Count("pk"))
        .order_by()
    )
    # Folds a few dozen grouped rows (buckets x purposes x 2 actions), not the events.
    by_bucket: Counter[tuple[date, str]] = Counter()
    by_purpose: Counter[tuple[str, str]] = Counter()
    for row in grouped:
        by_bucket[row["bucket"], row["action"]] += row["n"]
        by_purpose[row["purpose_id"], row["action"]] += row["n"]
    seen = {code for code, _ in by_purpose}
    purposes = (
        Purpose.objects.using(replica_alias())
        .filter(Q(active=True) | Q(code__in=seen))
        .order_by("code")
    )
    granted, withdrawn = ConsentEvent.Action.GRANTED, ConsentEvent.Action.WITHDRAWN
    return ConsentActivity(
        granted=tuple(by_bucket[bucket, granted] for bucket in window.buckets),
        withdrawn=tuple(by_bucket[bucket, withdrawn] for bucket in window.buckets),
        purposes=[
            PurposeConsents(
                code=purpose.code,
                name_ja=purpose.name_ja,
                name_en=purpose.name_en,
                granted=by_purpose[purpose.code, granted],
                withdrawn=by_purpose[purpose.code, withdrawn],
            )
            for purpose in purposes
        ],
    )


# --- What is due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientWithdrawals:
    slug: str
    name_ja: str
    name_latin: str
    unacknowledged: int
    overdue: int


def withdrawals_unacknowledged(*, now: datetime) -> list[RecipientWithdrawals]:
    """Per recipient with withdrawals it has not acknowledged, how many, and how many of those
    are overdue (``consent.compliance.selectors.withdrawal_overdue_before``, the deadline the
    compliance pages use), most overdue first: one grouped query."""
    overdue = Q(created_at__lt=withdrawal_overdue_before(now))
    rows = (
        WithdrawalNotice.objects.using(replica_alias())
        .filter(acknowledged_at__isnull=True)
        .values("recipient__slug", "recipient__name_ja", "recipient__name_latin")
        .annotate(unacknowledged=Count("pk"), overdue=Count("pk", filter=overdue))
        .order_by("-overdue", "-unacknowledged", "recipient__name_latin")
    )
    return [
        RecipientWithdrawals(
            slug=row["recipient__slug"],
            name_ja=row["recipient__name_ja"],
            name_latin=row["recipient__name_latin"],
            unacknowledged=row["unacknowledged"],
            overdue=row["overdue"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RequestsDue:
    overdue: int  # open, past their deadline
    due_soon: int  # open, due within DUE_SOON_DAYS
    later: int  # open, due after that


def data_subject_requests_due(*, now: datetime) -> RequestsDue:
    """The open data-subject requests by deadline (open and overdue as the compliance pages
    count them, ``consent.compliance.selectors.RequestFilter``): one aggregate query."""
    soon = now + timedelta(days=DUE_SOON_DAYS)
    counts = (
        DataSubjectRequest.objects.using(replica_alias())
        .filter(status=RequestFilter.OPEN)
        .aggregate(
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            due_soon=Count("pk", filter=Q(due_at__gte=now, due_at__lt=soon)),
            later=Count("pk", filter=Q(due_at__gte=soon)),
        )
    )
    return RequestsDue(**counts)


# --- Webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcomes:
    succeeded: int
    failed: int  # given up on after every retry
    pending: int  # still being tried

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed


def webhook_outcomes(window: Window) -> WebhookOutcomes:
    """The webhook deliveries created in the window by state: one aggregate query. A delivery
    still being retried has no outcome yet, so the success rate is over finished ones."""
    state = WebhookDelivery.State
    counts = (
        WebhookDelivery.objects.using(replica_alias())
        .filter(created_at__gte=window.start)
        .aggregate(
            succeeded=Count("pk", filter=Q(state=state.SUCCEEDED)),
            failed=Count("pk", filter=Q(state=state.FAILED)),
            pending=Count("pk", filter=Q(state=state.PENDING)),
        )
    )
    return WebhookOutcomes(**counts)


# --- The whole dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    window: Window
    members: list[CompanyMembers]
    enrollments: EnrollmentCounts
    consents: ConsentActivity
    withdrawals: list[RecipientWithdrawals]
    requests: RequestsDue
    webhooks: WebhookOutcomes


def dashboard(*, period: Period, now: datetime) -> Dashboard:
    """Every figure of the dashboard for ``period`` up to ``now``: eight queries in all."""
    window = window_of(period, now=now)
    return Dashboard(
        window=window,
        members=members_per_company(),
        enrollments=enrollments_over_time(window),
        consents=consent_activity(window),
        withdrawals=withdrawals_unacknowledged(now=now),
        requests=data_subject_requests_due(now=now),
        webhooks=webhook_outcomes(window),
    )
