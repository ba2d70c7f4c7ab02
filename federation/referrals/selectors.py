"""Referral reads: a company's offers and links, its funnel per offer and day, the review
queue, and the locked fees settlement posts (``locked_fees_between``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from federation.referrals.models import (
    ReferralClick,
    ReferralConversion,
    ReferralFee,
    ReferralLink,
    ReferralOffer,
)
from partners.models import Partner

TOKYO = ZoneInfo("Asia/Tokyo")
Conv = ReferralConversion.State
# What the funnel counts as conversions: those that count, and refunded ones that counted
# before their refund (a refund undoes the fee, not the referral). A conversion refunded while
# flagged never counted: it is only ``refunded``. Flagged and rejected ones are counted apart.
COUNTED = (Conv.RECORDED, Conv.APPROVED)
# A refunded conversion that was flagged and never approved: flags, and no review.
REFUNDED_WHILE_FLAGGED = ~Q(flags=[]) & Q(reviewed_at__isnull=True)


def offers_of(partner: Partner) -> QuerySet[ReferralOffer]:
    """The offers ``partner`` is the source or the destination of, newest first."""
    return (
        ReferralOffer.objects.filter(Q(source=partner) | Q(destination=partner))
        .select_related("source", "destination")
        .order_by("-created_at", "-id")
    )


def links_of(offer: ReferralOffer) -> QuerySet[ReferralLink]:
    """The offer's links, newest first, with their member (for the source's own number)."""
    return ReferralLink.objects.filter(offer=offer).select_related("member").order_by("-id")


def review_queue() -> QuerySet[ReferralConversion]:
    """The flagged conversions awaiting a manager, oldest first."""
    return (
        ReferralConversion.objects.filter(state=Conv.FLAGGED)
        .select_related("offer__source", "offer__destination", "link")
        .order_by("id")
    )


def locked_fees_between(start: datetime, end: datetime) -> QuerySet[ReferralFee]:
    """The locked fees (and clawbacks, negative) locked in ``[start, end)``, not settled yet:
    what settlement posts for that period, each as a line of its destination owing its source
    ``amount_yen``. Settlement then calls ``services.referral_fees_settle`` with their ids."""
    return (
        ReferralFee.objects.filter(
            state=ReferralFee.State.LOCKED, locked_at__gte=start, locked_at__lt=end
        )
        .select_related("source", "destination", "offer")
        .order_by("id")
    )


@dataclass
class FunnelRow:
    offer_id: uuid.UUID
    role: str  # "source" (the caller earns) or "destination" (it owes)
    day: date
    clicks: int = 0
    conversions: int = 0
    flagged: int = 0
    rejected: int = 0
    refunded: int = 0
    fees_yen: Decimal = field(default_factory=Decimal)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=TOKYO)
    return start, datetime.combine(last + timedelta(days=1), time.min, tzinfo=TOKYO)


def funnel_of(
    partner: Partner, *, first: date, last: date, offer_ids: Iterable[uuid.UUID] | None = None
) -> list[FunnelRow]:
    """``partner``'s funnel from day ``first`` to ``last`` (Japan's days), per offer it is
    party to (or those of ``offer_ids``) and day: clicks, conversions that count (refunded
    ones included when they counted before, never one refunded while flagged), flagged,
    rejected and refunded ones, and fees (net of clawbacks, reversed ones left out) it earns
    as the source or owes as the destination. Four queries, whatever the volume; days without
    any activity are left out."""
    offers = offers_of(partner)
    if offer_ids is not None:
        offers = offers.filter(pk__in=list(offer_ids))
    roles = {
        pk: "source" if source_id == partner.pk else "destination"
        for pk, source_id in offers.values_list("pk", "source_id")
    }
    start, end = day_bounds(first, last)
    rows: dict[tuple[uuid.UUID, date], FunnelRow] = {}

    def row(offer_id: uuid.UUID, day: date) -> FunnelRow:
        key = (offer_id, day)
        if key not in rows:
            rows[key] = FunnelRow(offer_id=offer_id, role=roles[offer_id], day=day)
        return rows[key]

    for item in _grouped(ReferralClick.objects, "at", roles, start, end).annotate(n=Count("id")):
        row(item["offer_id"], item["day"]).clicks = item["n"]
    conversions = _grouped(ReferralConversion.objects, "occurred_at", roles, start, end).annotate(
        held=ExpressionWrapper(REFUNDED_WHILE_FLAGGED, output_field=BooleanField())
    )
    for item in conversions.values("offer_id", "day", "state", "held").annotate(n=Count("id")):
        _count(row(item["offer_id"], item["day"]), item["state"], item["held"], item["n"])
    fees = _grouped(ReferralFee.objects, "created_at", roles, start, end).exclude(
        state=ReferralFee.State.REVERSED
    )
    for item in fees.annotate(total=Sum("amount_yen")):
        row(item["offer_id"], item["day"]).fees_yen = item["total"] or Decimal(0)
    return sorted(rows.values(), key=lambda r: (r.day, str(r.offer_id)))


def _count(target: FunnelRow, state: str, held: bool, n: int) -> None:
    if state in COUNTED:
        target.conversions += n
    elif state == Conv.FLAGGED:
        target.flagged += n
    elif state == Conv.REFUNDED:
        target.refunded += n
        if not held:
            target.conversions += n
    else:
        target.rejected += n


def _grouped(
    manager: Any, column: str, roles: dict[uuid.UUID, str], start: datetime, end: datetime
) -> Any:
    return (
        manager.filter(offer_id__in=list(roles), **{f"{column}__gte": start, f"{column}__lt": end})
        .annotate(day=TruncDate(column, tzinfo=TOKYO))
        .values("offer_id", "day")
        .order_by()
    )
