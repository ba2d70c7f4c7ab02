"""Reads for the compliance pages: each list is one query with its related rows joined, so a
page costs the same number of queries whatever its length.

Member accounts are read without their ciphertexts (``partners.selectors.MEMBER_CLEAR_FIELDS``,
or the opaque columns deferred when joined): these pages only decrypt through
``partners.services.member_reveal``, which records who looked and why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    WithdrawalNotice,
)
from partners import pii
from partners.models import MemberAccount, Partner
from partners.normalize import InvalidValueError, normalize_member_number
from partners.selectors import MEMBER_CLEAR_FIELDS, member_find_by_contact

# Columns of a member account that are personal data or derived from it. Never loaded by a list.
_MEMBER_OPAQUE_FIELDS = (
    *(f"{name}_sealed" for name in pii.PERSONAL_FIELDS),
    "wrapped_key",
    "email_index",
    "phone_index",
    "record_digest",
)
MAX_SEARCH_RESULTS = 200


def _without_ciphertexts(path: str) -> list[str]:
    """The opaque columns of the member account joined at ``path`` (e.g. ``"member"``)."""
    return [f"{path}__{field}" for field in _MEMBER_OPAQUE_FIELDS]


# --- Members ----------------------------------------------------------------------------------


class SearchBy:
    ANY = "any"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    CHOICES = ((ANY, "Any"), (NUMBER, "Member number"), (EMAIL, "E-mail"), (PHONE, "Phone"))


def member_search(*, query: str, by: str = SearchBy.ANY) -> list[MemberAccount]:
    """Member accounts of every partner whose member number (exact, once normalised), e-mail or
    phone (through the keyed blind indexes, never by decrypting) is ``query``.

    ``by`` narrows to one kind of value; with ``any`` a value with an "@" is an e-mail, anything
    else is tried both as a member number and as a phone number. A value that cannot be the
    kind asked for finds nothing. Sorted by partner and number; at most ``MAX_SEARCH_RESULTS``.
    """
    query = query.strip()
    if not query:
        return []
    found: dict[uuid.UUID, MemberAccount] = {}
    looks_like_email = "@" in query
    if by == SearchBy.NUMBER or (by == SearchBy.ANY and not looks_like_email):
        try:
            number = normalize_member_number(query)
        except InvalidValueError:
            number = ""
        if number:
            by_number = (
                MemberAccount.objects.filter(member_number=number)
                .only(*MEMBER_CLEAR_FIELDS)
                .select_related("partner")
            )
            found.update((member.pk, member) for member in by_number[:MAX_SEARCH_RESULTS])
    if by == SearchBy.EMAIL or (by == SearchBy.ANY and looks_like_email):
        by_email = member_find_by_contact(email=query)
        found.update((member.pk, member) for member in by_email[:MAX_SEARCH_RESULTS])
    if by == SearchBy.PHONE or (by == SearchBy.ANY and not looks_like_email):
        by_phone = member_find_by_contact(phone=query)
        found.update((member.pk, member) for member in by_phone[:MAX_SEARCH_RESULTS])
    members = sorted(found.values(), key=lambda m: (m.partner.slug, m.member_number))
    return members[:MAX_SEARCH_RESULTS]


def member_get(*, member_id: uuid.UUID) -> MemberAccount | None:
    """A member account with its partner, without personal data columns; None if missing."""
    return (
        MemberAccount.objects.only(*MEMBER_CLEAR_FIELDS, "person")
        .select_related("partner")
        .filter(pk=member_id)
        .first()
    )


def member_get_sealed(*, member_id: uuid.UUID) -> MemberAccount | None:
    """The whole account, ciphertexts included, for ``partners.services.member_reveal``."""
    return MemberAccount.objects.select_related("partner").filter(pk=member_id).first()


def member_linked_accounts(*, member: MemberAccount) -> QuerySet[MemberAccount]:
    """Other partners' accounts believed to be the same person (``MemberAccount.person``)."""
    if member.person_id is None:
        return MemberAccount.objects.none()
    return (
        MemberAccount.objects.filter(person_id=member.person_id)
        .exclude(pk=member.pk)
        .only(*MEMBER_CLEAR_FIELDS)
        .select_related("partner")
        .order_by("partner__slug", "member_number")
    )


# --- Consent record ---------------------------------------------------------------------------


def consent_timeline(*, member: MemberAccount) -> QuerySet[ConsentEvent]:
    """Every grant and withdrawal of ``member``, for every recipient, in chain order."""
    return (
        ConsentEvent.objects.filter(member=member)
        .select_related("purpose", "recipient", "notice")
        .order_by("sequence")
    )


def _consented(now: datetime) -> Q:
    return Q(granted=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _expired(now: datetime) -> Q:
    return Q(granted=True, expires_at__lte=now)


_WITHDRAWN = Q(granted=False)


class ConsentStatus:
    CONSENTED = "consented"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


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
        ConsentState.objects.filter(member=member)
        .select_related("purpose", "recipient", "notice", "event")
        .annotate(
            status=Case(
                When(_WITHDRAWN, then=Value(ConsentStatus.WITHDRAWN)),
                When(_expired(now), then=Value(ConsentStatus.EXPIRED)),
                default=Value(ConsentStatus.CONSENTED),
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
    recipient_name: str
    purpose: str
    purpose_name: str
    consented: int
    withdrawn: int
    expired: int


def consent_counts(*, now: datetime) -> list[ConsentCount]:
    """Per recipient and purpose, how many members consent now, have withdrawn, or let their
    consent expire: one grouped query over the materialised states."""
    rows = (
        ConsentState.objects.values(
            "recipient__slug", "recipient__name_latin", "purpose_id", "purpose__name_en"
        )
        .annotate(
            consented=Count("pk", filter=_consented(now)),
            withdrawn=Count("pk", filter=_WITHDRAWN),
            expired=Count("pk", filter=_expired(now)),
        )
        .order_by("recipient__name_latin", "purpose_id")
    )
    return [
        ConsentCount(
            recipient_slug=row["recipient__slug"],
            recipient_name=row["recipient__name_latin"],
            purpose=row["purpose_id"],
            purpose_name=row["purpose__name_en"],
            consented=row["consented"],
            withdrawn=row["withdrawn"],
            expired=row["expired"],
        )
        for row in rows
    ]


def provision_records(*, member: MemberAccount) -> QuerySet[ProvisionRecord]:
    """Every recorded provision of the member's data, newest first."""
    return (
        ProvisionRecord.objects.filter(member=member)
        .select_related("provider", "recipient", "purpose", "consent_event")
        .order_by("-provided_at")
    )


def recipients() -> QuerySet[Partner]:
    """Every partner, for the recipient filter."""
    return Partner.objects.only("id", "slug", "name_latin").order_by("name_latin")


# --- Withdrawal notices -----------------------------------------------------------------------


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
        WithdrawalNotice.objects.filter(event__member=member)
        .select_related("recipient", "event__purpose")
        .order_by("-created_at")
    )
    return _with_overdue_flag(notices, now)


def withdrawals_overdue(*, now: datetime, recipient_slug: str = "") -> QuerySet[WithdrawalNotice]:
    """Unacknowledged withdrawals past their deadline, oldest first, optionally of one
    recipient, with the withdrawing member (without ciphertexts) and its partner."""
    notices = (
        WithdrawalNotice.objects.filter(
            acknowledged_at__isnull=True, created_at__lt=withdrawal_overdue_before(now)
        )
        .select_related("recipient", "event__purpose", "event__member__partner")
        .defer(*_without_ciphertexts("event__member"))
        .order_by("created_at")
    )
    if recipient_slug:
        notices = notices.filter(recipient__slug=recipient_slug)
    return _with_overdue_flag(notices, now)


def withdrawals_overdue_count(*, now: datetime) -> int:
    return WithdrawalNotice.objects.filter(
        acknowledged_at__isnull=True, created_at__lt=withdrawal_overdue_before(now)
    ).count()


# --- Chain verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRuns:
    latest: ChainVerification | None  # the newest finished run
    unfinished: ChainVerification | None  # a newer run still going, or one that stopped


def chain_runs() -> ChainRuns:
    """The latest finished verification run, and a newer one that has not finished if any
    (``chains_verify_all`` writes its results only when it finishes)."""
    runs = ChainVerification.objects.order_by("-started_at")
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
    CHOICES = (("", "All"), (OPEN, "Open"), (OVERDUE, "Open and overdue"), (COMPLETED, "Completed"))


@dataclass(frozen=True)
class RequestCounts:
    open: int
    overdue: int


def data_subject_request_counts(*, now: datetime) -> RequestCounts:
    """How many requests are open, and how many of those are past their deadline."""
    counts = DataSubjectRequest.objects.filter(status=RequestFilter.OPEN).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
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
        DataSubjectRequest.objects.select_related("member__partner", "received_via")
        .defer(*_without_ciphertexts("member"))
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
