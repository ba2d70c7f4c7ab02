"""Consent: the purposes members can agree to, the notices they saw, and the record of what they
agreed to, for whom, and when.

The record is an append-only chain of events per member (``ConsentEvent``), each carrying the
hash of the one before, so an edited or deleted event is detectable
(``consent.services.chain_verify``).
``ConsentState`` is the current state derived from it, kept in the same transaction, so the one
question every feature asks ("may M's data be used for P by R, now?") is one indexed lookup.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.names import in_japanese
from partners.models import MemberAccount, Partner

# The __str__ of a record stays English whatever the language: it is what the audit log stores
# as the object's name (``AuditEvent.object_repr``), and a record must not change with the
# language of whoever wrote it. A purpose, which nobody audits, is named in the reader's.


class Purpose(models.Model):
    """What member data may be used for. Codes are stable: consents and later features name
    purposes by code."""

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_ja = models.TextField(_("description (Japanese)"))
    description_en = models.TextField(_("description (English)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return f"{self.code} ({self.display_name})"

    @property
    def display_name(self) -> str:
        """The name in the language being answered in: Japanese, or English."""
        return self.name_ja if in_japanese() else self.name_en

    @property
    def display_description(self) -> str:
        return self.description_ja if in_japanese() else self.description_en


class PrivacyNotice(models.Model):
    """One version of the privacy notice in one language, as a member saw it. Immutable.

    ``conditions`` (the purposes, recipients and data items the notice covers) is what a consent
    depends on: a later version with different conditions does not inherit earlier consents,
    while a version that only rewords the text does (its ``conditions_sha256`` is the same).
    """

    class Language(models.TextChoices):
        # Each language by its own name, as a language switch shows them: not translated.
        JA = "ja", "日本語"
        EN = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    effective_at = models.DateTimeField(_("in effect from"))
    text = models.TextField(_("text"))
    content_sha256 = models.CharField(_("text SHA-256"), max_length=64, editable=False)
    conditions = models.JSONField(
        _("conditions"),
        help_text=_(
            'The purposes, recipients and data items it covers: {"purposes": [codes], '
            '"recipients": [partner slugs], "data_items": [fields]}'
        ),
    )
    conditions_sha256 = models.CharField(
        _("conditions SHA-256"), max_length=64, editable=False, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-version", "language"]
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="consent_notice_version_language"
            )
        ]

    def __str__(self) -> str:
        return f"Notice v{self.version} ({self.language})"


class Channel(models.TextChoices):
    HOST_PORTAL = "host_portal", _("Host portal")
    PARTNER_APP = "partner_app", _("Partner app")
    PAPER = "paper", _("Paper form")
    CALL_CENTRE = "call_centre", _("Call centre")
    STAFF_VISIT = "staff_visit", _("Delivery staff visit")
    PREFERENCE_PAGE = "preference_page", _("Preference page")
    # Only for the withdrawals an erasure makes; nobody grants consent through it.
    DATA_SUBJECT_REQUEST = "data_subject_request", _("Data-subject request")


class ConsentEvent(models.Model):
    """One grant or withdrawal, never changed or deleted once written.

    ``sequence`` numbers a member's events from 1; ``hash`` is SHA-256 over the canonical form
    of this event and ``previous_hash``, the hash of the member's event before it.

    On PostgreSQL the table is range-partitioned by month of ``recorded_at`` (README,
    "Partitioning"); its key is ``(id, recorded_at)``, so a row pointing to an event carries the
    event's ``recorded_at`` too, and the database checks the pair.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        MemberAccount,
        on_delete=models.PROTECT,
        related_name="consent_events",
        verbose_name=_("member"),
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    recipient = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    occurred_at = models.DateTimeField(
        _("occurred at"), help_text=_("When the member said so (aware, any zone).")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    captured_by = models.CharField(
        _("captured by"), max_length=200, help_text=_("Who recorded it (actor label).")
    )
    captured_by_partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("captured by partner"),
    )
    notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("privacy notice"),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=8, default="JP")
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    # Not declared unique, nor is (member, sequence): on PostgreSQL the table is partitioned by
    # month of ``recorded_at`` and a unique key there would hold per month only. The appends are
    # serialised by the member's row lock (``consent.services.records``), and the chain
    # verification reports a duplicate of either over the whole table.
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["member", "sequence"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [models.Index(fields=["member", "sequence"], name="consent_event_member_seq")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="withdrawn") | Q(notice__isnull=False),
                name="consent_event_grant_names_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.purpose_id} → {self.recipient_id}"


class ConsentState(models.Model):
    """The current consent of one member for one purpose and one recipient: the latest event,
    materialised in the same transaction as the event, for the consent check."""

    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    recipient = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient")
    )
    granted = models.BooleanField(_("granted"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("privacy notice"),
    )
    # The database's foreign key is (event_id, event_recorded_at) (migration 0009).
    event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("event"),
        db_constraint=False,
    )
    event_recorded_at = models.DateTimeField(_("event recorded at"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "purpose", "recipient"], name="consent_state_unique"
            )
        ]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.purpose_id} → {self.recipient_id}: {state}"


class WithdrawalNotice(models.Model):
    """A withdrawal sent to the partner that received the data, until it confirms that it
    stopped using it. Sent as a ``consent.withdrawn`` webhook; re-sent while unacknowledged,
    and overdue once ``SANPO_WITHDRAWAL_ACK_HOURS`` have passed."""

    # The database's foreign key is (event_id, event_recorded_at) (migration 0009).
    event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="withdrawal_notice",
        verbose_name=_("withdrawal event"),
        db_constraint=False,
    )
    event_recorded_at = models.DateTimeField(_("event recorded at"))
    recipient = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient")
    )
    member_pseudonym = models.CharField(_("member pseudonym"), max_length=40)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_sent_at = models.DateTimeField(_("last sent at"), default=timezone.now)
    times_sent = models.PositiveIntegerField(_("times sent"), default=1)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("withdrawal notice")
        verbose_name_plural = _("withdrawal notices")
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="consent_withdrawal_unacked",
            )
        ]

    def __str__(self) -> str:
        return f"Withdrawal {self.event_id} → {self.recipient_id}"


class ProvisionRecord(models.Model):
    """One provision of a member's data to another company, as APPI requires both sides to
    record it: what the provider gave whom, when, under which consent; and how the recipient
    obtained it. Written in the transaction of the provision; kept until ``retain_until``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provided_at = models.DateTimeField(_("provided at"), default=timezone.now, db_index=True)
    provider = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    recipient = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient")
    )
    member = models.ForeignKey(
        MemberAccount,
        on_delete=models.PROTECT,
        related_name="provision_records",
        verbose_name=_("member"),
    )
    member_pseudonym = models.CharField(
        _("member pseudonym"),
        max_length=40,
        help_text=_("The member as the recipient knows them."),
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    data_items = models.JSONField(_("data items"))
    # The database's foreign key is (consent_event_id, consent_event_recorded_at), with the
    # index on that pair (migration 0009).
    consent_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consent relied on"),
        db_constraint=False,
        db_index=False,
    )
    consent_event_recorded_at = models.DateTimeField(_("consent recorded at"))
    recipient_obtained_from = models.CharField(
        _("recipient obtained it from"),
        max_length=300,
        help_text=_("The recipient's record: from whom and how it was obtained."),
    )
    recorded_by = models.CharField(_("recorded by"), max_length=200)
    retain_until = models.DateField(_("keep until"), db_index=True)

    class Meta:
        ordering = ["-provided_at"]
        verbose_name = _("provision record")
        verbose_name_plural = _("provision records")

    def __str__(self) -> str:
        return f"{self.provided_at:%Y-%m-%d} {self.provider_id} → {self.recipient_id}"


class DataSubjectRequest(models.Model):
    """A member's request to see (access) or erase (erasure) what the federation holds about
    them. Only written once the requester's identity matched the member's record, so every row
    here is a verified request; it is due ``SANPO_DSR_DUE_DAYS`` after it was received."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        ERASURE = "erasure", _("Erasure")

    class Status(models.TextChoices):
        VERIFIED = "verified", _("Verified, in progress")
        COMPLETED = "completed", _("Completed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        MemberAccount,
        on_delete=models.PROTECT,
        related_name="data_subject_requests",
        verbose_name=_("member"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.VERIFIED
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("due at"))
    received_via = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("received via")
    )
    requested_by = models.CharField(_("requested by"), max_length=200)
    verified_with = models.JSONField(
        _("verified with"),
        help_text=_("Which facts matched the member's record (names of fields, never values)."),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="verified"), name="consent_dsr_open_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.id} ({self.status})"


class ChainVerification(models.Model):
    """One run of the consent chain verification over every member: when, how many chains it
    read, and the first broken links it found. The compliance pages show the latest run."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chains_checked = models.PositiveIntegerField(_("chains checked"), default=0)
    events_checked = models.PositiveBigIntegerField(_("events checked"), default=0)
    breaks = models.JSONField(
        _("broken links"),
        default=list,
        help_text=_("The first broken link of each broken chain, at most 1,000."),
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("chain verification")
        verbose_name_plural = _("chain verifications")

    def __str__(self) -> str:
        return f"Chain verification {self.started_at:%Y-%m-%d %H:%M}"
