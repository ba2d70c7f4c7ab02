"""The registers compliance reviewers work through: withdrawal notices and their deadlines,
chain verification runs, and data-subject requests. Reports, so read from the replica when
there is one (``partners.db``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consent.compliance.selectors.members import without_ciphertexts
from consent.models import ChainVerification, DataSubjectRequest, WithdrawalNotice
from partners.db import replica_alias
from partners.models import MemberAccount


def withdrawal_overdue_before(now: datetime) -> datetime:
    """Unacknowledged notices created before this are overdue: the same deadline as
    ``consent.services.withdrawal_due`` (created_at + SANPO_WITHDRAWAL_ACK_HOURS < now)."""
    return now - timedelta(hours=settings.SANPO_WITHDRAWAL_ACK_HOURS)


def _with_overdue_flag(
    notices: QuerySet[WithdrawalNotice], now: datetime
) -> QuerySet[WithdrawalNotice]:
    return notices.annotate(
        is_overdue=Case(
            When(
                acknowledged_at__isnull=True,
                created_at__lt=withdrawal_overdue_before(now),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def member_withdrawal_notices(
    *, member: MemberAccount, now: datetime
) -> QuerySet[WithdrawalNotice]:
    """The withdrawals of the member's consents sent to recipients, newest first, with
    ``is_overdue``."""
    notices = (
        WithdrawalNotice.objects.using(replica_alias())
        .filter(event__member=member)
        .select_related("recipient", "event__purpose")
        .order_by("-created_at")
    )
    return _with_overdue_flag(notices, now)


def withdrawals_overdue(*, now: datetime, recipient_slug: str = "") -> QuerySet[WithdrawalNotice]:
    """Unacknowledged withdrawals past their deadline, oldest first, optionally of one
    recipient, with the withdrawing member (without ciphertexts) and its partner."""
    notices = (
        WithdrawalNotice.objects.using(replica_alias())
        .filter(acknowledged_at__isnull=True, created_at__lt=withdrawal_overdue_before(now))
        .select_related("recipient", "event__purpose", "event__member__partner")
        .defer(*without_ciphertexts("event__member"))
        .order_by("created_at")
    )
    if recipient_slug:
        notices = notices.filter(recipient__slug=recipient_slug)
    return _with_overdue_flag(notices, now)


def withdrawals_overdue_count(*, now: datetime) -> int:
    return (
        WithdrawalNotice.objects.using(replica_alias())
        .filter(acknowledged_at__isnull=True, created_at__lt=withdrawal_overdue_before(now))
        .count()
    )


# --- Chain verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRuns:
    latest: ChainVerification | None  # the newest finished run
    unfinished: ChainVerification | None  # a newer run still going, or one that stopped


def chain_runs() -> ChainRuns:
    """The latest finished verification run, and a newer one that has not finished if any
    (``chains_verify_all`` writes its results only when it finishes)."""
    runs = ChainVerification.objects.using(replica_alias()).order_by("-started_at")
    latest = runs.filter(finished_at__isnull=False).first()
    newer = runs.filter(finished_at__isnull=True)
    if latest is not None:
        newer = newer.filter(started_at__gt=latest.started_at)
    return ChainRuns(latest=latest, unfinished=newer.defer("breaks").first())


def chain_breaks(run: ChainVerification | None) -> list[dict[str, Any]]:
    """The broken links a run recorded, as it recorded them (see ``chains_verify_all``)."""
    if run is None:
        return []
    return [dict(item) for item in run.breaks if isinstance(item, dict)]


# --- Data-subject requests --------------------------------------------------------------------


class RequestFilter:
    OPEN = DataSubjectRequest.Status.VERIFIED.value
    COMPLETED = DataSubjectRequest.Status.COMPLETED.value
    OVERDUE = "overdue"
    CHOICES = (
        ("", pgettext_lazy("requests", "All")),
        (OPEN, _("Open")),
        (OVERDUE, _("Open and overdue")),
        (COMPLETED, _("Completed")),
    )


@dataclass(frozen=True)
class RequestCounts:
    open: int
    overdue: int


def data_subject_request_counts(*, now: datetime) -> RequestCounts:
    """How many requests are open, and how many of those are past their deadline."""
    counts = (
        DataSubjectRequest.objects.using(replica_alias())
        .filter(status=RequestFilter.OPEN)
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    return RequestCounts(open=counts["open"], overdue=counts["overdue"])


def data_subject_requests(
    *,
    now: datetime,
    status: str = "",
    kind: str = "",
    member: MemberAccount | None = None,
) -> QuerySet[DataSubjectRequest]:
    """Data-subject requests with the member (without ciphertexts) and the partner that took
    them, annotated with ``is_overdue`` (still open after ``due_at``) and ``completed_late``.

    ``status`` is one of ``RequestFilter``: open, overdue and completed; anything else means
    all. Open requests come soonest deadline first, the others newest first.
    """
    requests = (
        DataSubjectRequest.objects.using(replica_alias())
        .select_related("member__partner", "received_via")
        .defer(*without_ciphertexts("member"))
        .annotate(
            is_overdue=Case(
                When(status=RequestFilter.OPEN, due_at__lt=now, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            completed_late=Case(
                When(completed_at__gt=F("due_at"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )
    if member is not None:
        requests = requests.filter(member=member)
    if kind in DataSubjectRequest.Kind.values:
        requests = requests.filter(kind=kind)
    if status == RequestFilter.OVERDUE:
        return requests.filter(status=RequestFilter.OPEN, due_at__lt=now).order_by("due_at")
    if status == RequestFilter.OPEN:
        return requests.filter(status=RequestFilter.OPEN).order_by("due_at")
    if status == RequestFilter.COMPLETED:
        requests = requests.filter(status=RequestFilter.COMPLETED)
    return requests.order_by("-received_at")
