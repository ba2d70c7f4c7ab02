"""Settlement's tables: an alliance's periods, their lines, each company's statement, the
disputes raised on lines and the payments recorded against statements."""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Partner

# Whole yen, and the exact value the ledger gives (to 0.0001 yen, like its lots).
YEN_DIGITS, EXACT_DIGITS = 18, 22


class SettlementPeriod(models.Model):
    """A range of Asia/Tokyo days (``starts_on`` to ``ends_on``, both included) of the
    alliance run by ``host``. Periods of one alliance never overlap: PostgreSQL refuses it (an
    exclusion constraint) and ``period_create`` says so on every database. ``starts_at`` and
    ``ends_at`` are the same range as instants (Tokyo midnights), which the ledger is read by."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        LOCKED = "locked", _("Locked")
        ISSUED = "issued", _("Statements issued")
        PAID = "paid", _("Paid")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    host = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("host")
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    starts_at = models.DateTimeField(_("starts at"), editable=False)
    ends_at = models.DateTimeField(_("ends at"), editable=False)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.DRAFT, db_index=True
    )
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    review_opened_at = models.DateTimeField(_("review opened at"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    CLOSED = frozenset({State.LOCKED, State.ISSUED, State.PAID})

    class Meta:
        verbose_name = _("settlement period")
        verbose_name_plural = _("settlement periods")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="settlement_period_days"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="settlement_period_instants"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on:%Y-%m-%d}/{self.ends_on:%Y-%m-%d}"  # an ISO 8601 interval

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED


class SettlementLine(models.Model):
    """One amount ``debtor`` owes ``creditor`` in the period, in whole yen, with the exact
    ledger value it was rounded from. A line with only one party is a memo shown on that
    company's statement and never paid: breakage (coins of the creditor's that expired) and a
    clawback shortfall (coins of the debtor's spent before their purchase was refunded).
    Computed lines are replaced whenever a draft is computed again; posted lines (fees posted
    by other features, adjustments of resolved disputes) stay."""

    class Kind(models.TextChoices):
        REDEMPTION = "redemption", _("Coins redeemed")
        CLAWBACK_SHORTFALL = "clawback_shortfall", _("Clawback not recovered")
        BREAKAGE = "breakage", _("Breakage (expired coins)")
        FEE = "fee", _("Fee")
        ADJUSTMENT = "adjustment", _("Adjustment")
        ROUNDING = "rounding", _("Rounding")

    class Source(models.TextChoices):
        COMPUTED = "computed", _("Computed from the ledger")
        POSTED = "posted", _("Posted")

    id = models.BigAutoField(primary_key=True)
    period = models.ForeignKey(
        SettlementPeriod, on_delete=models.PROTECT, related_name="lines", verbose_name=_("period")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    debtor = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owed by"),
    )
    creditor = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owed to"),
    )
    coins = models.BigIntegerField(_("coins"), default=0)
    exact_yen = models.DecimalField(
        _("exact value (yen)"), max_digits=EXACT_DIGITS, decimal_places=4
    )
    amount_yen = models.DecimalField(_("amount (yen)"), max_digits=YEN_DIGITS, decimal_places=0)
    adjusts = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name=_("adjusts"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["period", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debtor__isnull=False) | Q(creditor__isnull=False),
                name="settlement_line_has_party",
            ),
            models.CheckConstraint(
                condition=Q(debtor__isnull=True)
                | Q(creditor__isnull=True)
                | ~Q(debtor=F("creditor")),
                name="settlement_line_two_parties",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | Q(adjusts__isnull=False),
                name="settlement_adjustment_names_line",
            ),
        ]
        indexes = [models.Index(fields=["period", "kind"], name="settlement_line_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ¥{self.amount_yen}"

    @property
    def is_memo(self) -> bool:
        return self.debtor_id is None or self.creditor_id is None


class SettlementStatement(models.Model):
    """What ``partner`` pays or receives for the period through the host, as a canonical JSON
    ``document`` and its SHA-256 ``content_hash``: recomputing it from the period's lines
    gives the same bytes, and any change to it fails ``statement_verify``. Refreshed while the
    period is a draft or in review; once issued (``issued_at``) it is signed (Ed25519,
    ``signing``) and never changes again."""

    id = models.BigAutoField(primary_key=True)
    period = models.ForeignKey(
        SettlementPeriod,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("period"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    receivable_yen = models.DecimalField(
        _("to receive (yen)"), max_digits=YEN_DIGITS, decimal_places=0
    )
    payable_yen = models.DecimalField(_("to pay (yen)"), max_digits=YEN_DIGITS, decimal_places=0)
    net_yen = models.DecimalField(_("net position (yen)"), max_digits=YEN_DIGITS, decimal_places=0)
    document = models.TextField(_("document"))
    content_hash = models.CharField(_("SHA-256"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    # Set once, when issued: the Ed25519 signature of ``document`` and the key that made it.
    signature = models.CharField(_("signature"), max_length=100, blank=True)
    signing_key_id = models.CharField(_("signing key"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["period", "partner__slug"]
        constraints = [
            models.UniqueConstraint(fields=["period", "partner"], name="settlement_statement_once"),
            models.CheckConstraint(
                condition=Q(net_yen=F("receivable_yen") - F("payable_yen")),
                name="settlement_statement_net",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.period_id}"


class SettlementDispute(models.Model):
    """A party of a line disagreeing with it, with its reason, while the period is in review.
    The host resolves it: accepted (a correction in whole yen, posted as an adjustment line
    in the next open period, naming the disputed line) or rejected. Still open when the period
    locks, it stays open and is carried on the statements as such."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    line = models.ForeignKey(
        SettlementLine, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("line")
    )
    raised_by = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    reason = models.TextField(_("reason"), max_length=2000)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.OPEN, db_index=True
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolution = models.TextField(_("resolution"), blank=True, max_length=2000)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    adjustment = models.OneToOneField(
        SettlementLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("adjustment"),
    )

    class Meta:
        verbose_name = _("settlement dispute")
        verbose_name_plural = _("settlement disputes")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "raised_by"],
                condition=Q(state="open"),
                name="settlement_dispute_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} {str(self.id)[:8]}"


class SettlementPayment(models.Model):
    """A company's net amount paid to or by the host, recorded by the host with its bank
    reference. One per statement: the statement itself never changes."""

    id = models.BigAutoField(primary_key=True)
    statement = models.OneToOneField(
        SettlementStatement,
        on_delete=models.PROTECT,
        related_name="payment",
        verbose_name=_("statement"),
    )
    amount_yen = models.DecimalField(_("amount (yen)"), max_digits=YEN_DIGITS, decimal_places=0)
    reference = models.CharField(_("payment reference"), max_length=100)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement payment")
        verbose_name_plural = _("settlement payments")

    def __str__(self) -> str:
        return self.reference


class SettlementAcknowledgement(models.Model):
    """A company confirming its issued statement (the hash it read), once. The statement
    itself never changes; its status reads acknowledged from this row."""

    id = models.BigAutoField(primary_key=True)
    statement = models.OneToOneField(
        SettlementStatement,
        on_delete=models.PROTECT,
        related_name="acknowledgement",
        verbose_name=_("statement"),
    )
    content_hash = models.CharField(_("SHA-256 acknowledged"), max_length=64)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("statement acknowledgement")
        verbose_name_plural = _("statement acknowledgements")

    def __str__(self) -> str:
        return f"{self.statement_id} {self.content_hash[:12]}"


class SettlementRun(models.Model):
    """One computation of a period and how far it got. Written in short transactions of its
    own (``services/runs.py``), so the console and the API see the stage while the
    computation's transaction is still open. ``period_id`` is a plain column, not a foreign
    key: the row is written beside that transaction, and outlives a worker killed mid-run
    (its stage then stays where it stopped, with its ``updated_at``)."""

    class Stage(models.TextChoices):
        QUEUED = "queued", _("Queued")
        WAITING = "waiting", _("Waiting for the period")
        READING = "reading", _("Reading the ledger")
        STATEMENTS = "statements", _("Writing the lines and statements")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    FINISHED = frozenset({Stage.DONE, Stage.FAILED})

    id = models.BigAutoField(primary_key=True)
    period_id = models.UUIDField(_("period"), db_index=True)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    percent = models.PositiveSmallIntegerField(_("percent done"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement computation")
        verbose_name_plural = _("settlement computations")
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="settlement_run_percent")
        ]

    def __str__(self) -> str:
        return f"{self.period_id} {self.stage} {self.percent}%"

    @property
    def running(self) -> bool:
        return self.stage not in self.FINISHED
