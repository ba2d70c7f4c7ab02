"""The coin ledger's tables: accounts, transactions and their entries.

An account's ``balance`` and ``version`` live on its row, so reading a balance is one row
whatever the history; every entry records the balance after it and the account version it
made, so ``balance = sum(entries)`` and ``version = count(entries)`` can be verified at any time
(``verify_coin_ledger``). Entries are append-only: PostgreSQL refuses an UPDATE or DELETE of an
entry, and refuses at commit a transaction whose entries do not sum to zero.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, Person

# An issuer's outstanding-coin liability is split over this many accounts, chosen by the
# wallet, so that one popular issuer's postings do not all wait on one row's lock.
LIABILITY_SHARDS = 16


class CoinAccount(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", _("Member wallet")
        HOLD = "hold", _("Coins held for a checkout")
        PENDING = "pending", _("Pending coins")
        LIABILITY = "liability", _("Issuer's outstanding coins")
        REDEMPTION = "redemption", _("Redemptions at a company")
        BREAKAGE = "breakage", _("Expired coins")

    # Accounts whose balance may never go below zero: the member's own coins. The companies'
    # accounts are the other side of every posting and run negative by construction.
    NEVER_NEGATIVE = frozenset({Kind.WALLET, Kind.HOLD, Kind.PENDING})

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("company"),
    )
    shard = models.PositiveSmallIntegerField(_("shard"), default=0)
    balance = models.BigIntegerField(_("balance (coins)"), default=0)
    version = models.BigIntegerField(_("version"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("coin account")
        verbose_name_plural = _("coin accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "person", "partner", "shard"],
                nulls_distinct=False,
                name="coins_account_unique",
            ),
            # A member's accounts belong to a person; a company's to a company.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["wallet", "hold", "pending"], person__isnull=False)
                    | Q(kind__in=["liability", "redemption", "breakage"], partner__isnull=False)
                ),
                name="coins_account_owner",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["wallet", "hold", "pending"]) | Q(balance__gte=0),
                name="coins_member_account_not_negative",
            ),
            models.CheckConstraint(condition=Q(version__gte=0), name="coins_account_version"),
        ]

    def __str__(self) -> str:
        owner = self.partner_id or self.person_id
        return f"{self.get_kind_display()} {owner}" + (f" #{self.shard}" if self.shard else "")


class CoinTransaction(models.Model):
    class Kind(models.TextChoices):
        EARN_PURCHASE = "earn_purchase", _("Earned for a purchase")
        EARN_ACTION = "earn_action", _("Earned for an action")
        BONUS = "bonus", _("Reactivation bonus")
        RELEASE = "release", _("Pending coins released")
        REDEEM = "redeem", _("Redeemed")
        HOLD = "hold", _("Held for a checkout")
        CAPTURE = "capture", _("Hold captured")
        VOID = "void", _("Hold released")
        REFUND = "refund", _("Refund clawback")
        EXPIRE = "expire", _("Expired")
        REVERSAL = "reversal", _("Reversal")
        TRANSFER = "transfer", _("Transfer")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    # Why the coins moved, as the member's history shows it: the order id, the action type and
    # content, the refund... Free keys, stated by the service that posted it.
    reason = models.JSONField(_("reason"), default=dict, blank=True)
    # The posting company's own reference for what it posted (an order id): one posting of a
    # kind per company and reference, so a purchase reported twice earns once.
    reference = models.CharField(_("reference"), max_length=100, blank=True, default="")
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("reverses"),
    )
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("coin transaction")
        verbose_name_plural = _("coin transactions")
        ordering = ["-posted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="coins_reversal_names_original",
            ),
            models.UniqueConstraint(
                fields=["partner", "kind", "reference"],
                condition=~Q(reference=""),
                name="coins_transaction_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.id)[:8]}"


class CoinEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(
        CoinTransaction,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("transaction"),
    )
    account = models.ForeignKey(
        CoinAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount = models.BigIntegerField(_("amount (coins)"))
    balance_after = models.BigIntegerField(_("balance after"))
    account_version = models.BigIntegerField(_("account version"))
    # Its transaction's ``posted_at``, copied by ``post``: the table is partitioned by month
    # of it on PostgreSQL (README, "Partitioning"), so a period's entries are read from the
    # period's partitions without the transaction's row.
    posted_at = models.DateTimeField(_("posted at"))

    class Meta:
        verbose_name = _("coin entry")
        verbose_name_plural = _("coin entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="coins_entry_not_zero"),
        ]
        # (account, account_version) is unique, but a partitioned table cannot declare it
        # without posted_at: ``post`` gives each version once, under the account's row lock,
        # and ``ledger_verify`` checks it over the whole table.
        indexes = [models.Index(fields=["account", "account_version"], name="coins_entry_version")]

    def __str__(self) -> str:
        return f"{self.amount:+d} → {self.balance_after}"


class CoinLot(models.Model):
    """Coins earned together: who funds them (the issuer), at what yen value per coin (from
    the terms in force the day they were issued), when they expire, and how many are left.
    Redemption spends the oldest lots first; what each spent is recorded in ``CoinLotUse``."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    issuer = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    earned_by = models.ForeignKey(
        CoinTransaction,
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("earned by"),
    )
    yen_per_coin = models.DecimalField(_("yen per coin"), max_digits=10, decimal_places=4)
    amount = models.BigIntegerField(_("coins issued"))
    remaining = models.BigIntegerField(_("coins left"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # Pending lots cannot be spent until released (the program's return window).
    pending_until = models.DateTimeField(_("pending until"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coin lot")
        verbose_name_plural = _("coin lots")
        ordering = ["issued_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="coins_lot_amount"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                name="coins_lot_remaining",
            ),
        ]
        indexes = [
            # FIFO: a person's spendable lots, oldest first.
            models.Index(
                fields=["person", "issued_at", "id"],
                condition=Q(remaining__gt=0),
                name="coins_lot_spendable",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="coins_lot_expiring"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.amount} @ ¥{self.yen_per_coin}"


class CoinLotUse(models.Model):
    """The lineage of a transaction that took coins out of lots (a redemption, a hold, an
    expiry, a clawback) or put them back (a reversal, a void): per lot, how many coins, so
    settlement can say from the ledger alone whose coins were spent where."""

    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(
        CoinTransaction,
        on_delete=models.PROTECT,
        related_name="lot_uses",
        verbose_name=_("transaction"),
    )
    lot = models.ForeignKey(
        CoinLot, on_delete=models.PROTECT, related_name="uses", verbose_name=_("lot")
    )
    issuer = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    coins = models.BigIntegerField(_("coins"))  # taken out of the lot; negative: put back
    yen_value = models.DecimalField(_("yen value"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("coin lot use")
        verbose_name_plural = _("coin lot uses")
        constraints = [models.CheckConstraint(condition=~Q(coins=0), name="coins_lot_use")]

    def __str__(self) -> str:
        return f"{self.coins:+d} from lot {self.lot_id}"


class CoinHold(models.Model):
    """Coins reserved at a checkout: out of the member's available balance (in their hold
    account) until captured (all or part, spent at ``merchant``), voided, or expired by itself.
    A hold resolves once."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CAPTURED = "captured", _("Captured")
        VOIDED = "voided", _("Voided")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    merchant = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    coins = models.BigIntegerField(_("coins held"))
    captured = models.BigIntegerField(_("coins captured"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    held_by = models.OneToOneField(
        CoinTransaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("held by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coin hold")
        verbose_name_plural = _("coin holds")
        constraints = [
            models.CheckConstraint(condition=Q(coins__gt=0), name="coins_hold_amount"),
            models.CheckConstraint(
                condition=Q(captured__gte=0) & Q(captured__lte=F("coins")),
                name="coins_hold_captured",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(state="open"), name="coins_hold_open_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.coins} ({self.get_state_display()})"


class CoinClawback(models.Model):
    """A refund of a purchase that earned coins: how many coins it asked back, how many the
    member still had (taken back, in ``refund``) and how many they had already spent (the
    shortfall, which settlement charges to the issuer)."""

    id = models.BigAutoField(primary_key=True)
    earned_by = models.ForeignKey(
        CoinTransaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("earned by")
    )
    refund = models.OneToOneField(
        CoinTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund"),
    )
    issuer = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    requested = models.BigIntegerField(_("coins asked back"))
    recovered = models.BigIntegerField(_("coins taken back"))
    shortfall = models.BigIntegerField(_("coins already spent"))
    shortfall_yen = models.DecimalField(_("yen not recovered"), max_digits=18, decimal_places=4)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("coin clawback")
        verbose_name_plural = _("coin clawbacks")
        constraints = [
            models.CheckConstraint(
                condition=Q(requested=F("recovered") + F("shortfall")), name="coins_clawback_sum"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recovered}/{self.requested}"
