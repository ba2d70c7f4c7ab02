"""The Payment Services Act report (資金決済法): each issuer's unused coins at a base date, what
moved in the half-year ending there, and the deposit the Act asks for, from the ledger alone.

The rules, in one place:

- **Base dates** are 31 March and 30 September (第3条第2項). A base date's figures are the
  ledger as of the end of that day in Asia/Tokyo (``cutoff``: the next midnight, exclusive);
  its half-year runs from the previous base date's cutoff (inclusive) to its own.
- **Unused** (基準日未使用残高): coins of lots issued before the cutoff, less what postings
  before the cutoff took out of them (``CoinLotUse``: redemptions, refunds, reversals,
  expiries; negative uses, coins put back by a void or a reversed redemption, count back in).
  Pending coins are unused (the member holds them). Held coins are unused until their hold is
  resolved: a hold's uses count from the moment it was captured, voided or expired (its
  ``resolved_at``), so an open hold's coins are still the member's. (The coins a capture or
  void gives back are counted when that posting is stamped, a few milliseconds after the
  hold's ``resolved_at``: a hold resolved across a cutoff to the millisecond is understated
  for that base date by what it gave back.) A lot past its expiry
  whose expiry had not yet been posted is still unused: the ledger is the record.
- **Yen**: each lot's coins at its own ``yen_per_coin``, summed exactly (Decimal), then
  rounded down to the whole yen (ROUND_FLOOR: the balance is not overstated by fractions of a
  yen no coin holder could claim).
- **Deposit** (発行保証金, 第14条第1項): when the unused balance exceeds the threshold
  (基準額, 10,000,000 yen, 施行令第6条), at least half of the **whole** unused balance, rounded
  up to the yen (ROUND_CEILING: never short of half). The issue text said "half of what
  exceeds 10 million yen"; the Act says half of the balance, and the Act wins. ``excess_yen``
  is reported too. ``report_required`` is the threshold crossed: what obliges an issuer of
  coins usable only with itself (自家型) to notify and report (第5条), and any issuer to
  deposit; an issuer registered for coins usable at other companies (第三者型) reports at
  every base date whatever its balance.

Figures for every issuer come from two grouped queries (lots, and lot uses), grouped by
issuer and yen per coin, so the yen are exact on every database (SQLite hands decimals back
as floats if it is asked to multiply them); nothing loops over ledger rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Q, Sum, Value, When
from django.db.models.fields import CharField
from django.utils import timezone

from federation.coins.models import CoinHold, CoinLot, CoinLotUse, CoinTransaction
from partners.models import Partner

TOKYO = ZoneInfo("Asia/Tokyo")
BASE_DATES = ((3, 31), (9, 30))  # (month, day), in the year's order
# The Act came into force on 1 April 2010: its first base date.
FIRST_BASE_DATE = date(2010, 9, 30)
THRESHOLD_YEN = Decimal(10_000_000)
YEN = Decimal(1)

Tx = CoinTransaction.Kind
# What a lot use did, for the half-year's movements.
USED, CANCELLED, EXPIRED = "used", "cancelled", "expired"
EARNINGS = (Tx.EARN_PURCHASE, Tx.EARN_ACTION, Tx.BONUS)


def is_base_date(day: date) -> bool:
    return (day.month, day.day) in BASE_DATES


def is_reportable(day: date, now: datetime | None = None) -> bool:
    """A base date there can be a report for: the Act's, and over (in Japan) at ``now``."""
    over = cutoff_of(day) <= (now or timezone.now())
    return is_base_date(day) and day >= FIRST_BASE_DATE and over


def cutoff_of(base_date: date) -> datetime:
    """The moment a base date ends in Japan: its figures are the ledger before it."""
    return datetime.combine(base_date + timedelta(days=1), time.min, tzinfo=TOKYO)


def previous_base_date(base_date: date) -> date:
    if (base_date.month, base_date.day) == (9, 30):
        return date(base_date.year, 3, 31)
    return date(base_date.year - 1, 9, 30)


def latest_base_date(now: datetime | None = None) -> date:
    """The latest base date that has ended (in Japan) at ``now``."""
    today = timezone.localtime(now or timezone.now(), TOKYO).date()
    candidates = [date(today.year - 1, 9, 30), *(date(today.year, m, d) for m, d in BASE_DATES)]
    return max(day for day in candidates if day < today)


@dataclass
class Figure:
    """Coins and their yen value (exact; ``yen`` rounds down to the whole yen)."""

    coins: int = 0
    exact_yen: Decimal = Decimal(0)

    def add(self, coins: int, yen_per_coin: Decimal) -> None:
        self.coins += coins
        self.exact_yen += coins * yen_per_coin

    @property
    def yen(self) -> Decimal:
        return self.exact_yen.quantize(YEN, rounding=ROUND_FLOOR)


@dataclass
class DepositReport:
    """One issuer's figures at one base date."""

    issuer: Partner
    base_date: date
    unused: Figure = field(default_factory=Figure)
    issued: Figure = field(default_factory=Figure)  # in the half-year
    cancelled: Figure = field(default_factory=Figure)  # refunded or reversed, in it
    used: Figure = field(default_factory=Figure)  # redeemed or captured, net, in it
    expired: Figure = field(default_factory=Figure)  # in it

    @property
    def period_start(self) -> date:
        """The day after the previous base date: the half-year's first day."""
        return previous_base_date(self.base_date) + timedelta(days=1)

    @property
    def threshold_yen(self) -> Decimal:
        return THRESHOLD_YEN

    @property
    def report_required(self) -> bool:
        return self.unused.yen > THRESHOLD_YEN

    @property
    def excess_yen(self) -> Decimal:
        return max(self.unused.yen - THRESHOLD_YEN, Decimal(0))

    @property
    def deposit_yen(self) -> Decimal:
        """要供託額: half the unused balance once it exceeds the threshold, rounded up."""
        if not self.report_required:
            return Decimal(0)
        return (self.unused.yen / 2).quantize(YEN, rounding=ROUND_CEILING)


def deposit_report(issuer: Partner, base_date: date) -> DepositReport:
    """``issuer``'s report at ``base_date`` (one ``is_reportable``: the caller checks; any
    other date gives figures the Act never asks for). Two aggregate queries."""
    return _reports(base_date, issuer=issuer).get(issuer.pk) or DepositReport(issuer, base_date)


def deposit_reports(base_date: date) -> list[DepositReport]:
    """The report of every issuer that had issued coins by the end of ``base_date``, by issuer
    slug. Three queries, whatever the ledger's size (each a scan of the lots or lot uses
    before the cutoff: a twice-yearly report, not a hot path)."""
    return sorted(_reports(base_date).values(), key=lambda report: report.issuer.slug)


def _reports(base_date: date, *, issuer: Partner | None = None) -> dict[Any, DepositReport]:
    cutoff = cutoff_of(base_date)
    start = cutoff_of(previous_base_date(base_date))
    lots = CoinLot.objects.filter(issued_at__lt=cutoff)
    uses = CoinLotUse.objects.filter(_counted(before=cutoff))
    if issuer is not None:
        lots, uses = lots.filter(issuer=issuer), uses.filter(issuer=issuer)
    lot_groups = (
        lots.order_by()
        .values("issuer_id", "yen_per_coin")
        .annotate(total=Sum("amount"), recent=Sum("amount", filter=Q(issued_at__gte=start)))
    )
    use_groups = (
        uses.order_by()
        .annotate(what=_what())
        .values("issuer_id", "lot__yen_per_coin", "what")
        .annotate(total=Sum("coins"), recent=Sum("coins", filter=~_counted(before=start)))
    )
    reports: dict[Any, DepositReport] = {}
    issuers = {issuer.pk: issuer} if issuer is not None else {}

    def report_of(issuer_id: Any) -> DepositReport:
        if issuer_id not in reports:
            who = issuers.get(issuer_id) or Partner(pk=issuer_id)
            reports[issuer_id] = DepositReport(who, base_date)
        return reports[issuer_id]

    for row in lot_groups:
        report = report_of(row["issuer_id"])
        report.unused.add(row["total"], row["yen_per_coin"])
        report.issued.add(row["recent"] or 0, row["yen_per_coin"])
    for use in use_groups:
        report = report_of(use["issuer_id"])
        yen_per_coin = use["lot__yen_per_coin"]
        report.unused.add(-use["total"], yen_per_coin)
        movement = {USED: report.used, CANCELLED: report.cancelled, EXPIRED: report.expired}
        movement.get(use["what"], report.used).add(use["recent"] or 0, yen_per_coin)
    if issuer is None and reports:
        named = Partner.objects.in_bulk(list(reports))
        for issuer_id, report in reports.items():
            report.issuer = named[issuer_id]
    return reports


def _counted(*, before: datetime) -> Q:
    """Lot uses that had happened before ``before``: a hold's once it was resolved (until
    then its coins are the member's), every other posting's once it was posted."""
    resolved = CoinHold.objects.filter(resolved_at__lt=before).values("held_by_id")
    return (~Q(transaction__kind=Tx.HOLD) & Q(transaction__posted_at__lt=before)) | Q(
        transaction__kind=Tx.HOLD, transaction_id__in=resolved
    )


def _what() -> Case:
    """What a lot use did: spent (a redemption, a captured hold, a void or a reversed
    redemption putting coins back), cancelled (a refund, a reversed earning) or expired."""
    return Case(
        When(transaction__kind=Tx.EXPIRE, then=Value(EXPIRED)),
        When(transaction__kind=Tx.REFUND, then=Value(CANCELLED)),
        When(transaction__reverses__kind__in=EARNINGS, then=Value(CANCELLED)),
        default=Value(USED),
        output_field=CharField(),
    )
