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

from partners.models import MemberAccount, Partner


class Purpose(models.Model):
    """What member data may be used for. Codes are stable: consents and later features name
    purposes by code."""

    code = models.SlugField(max_length=40, primary_key=True)
    name_ja = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    description_ja = models.TextField()
    description_en = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name_en})"


class PrivacyNotice(models.Model):
    """One version of the privacy notice in one language, as a member saw it. Immutable.

    ``conditions`` (the purposes, recipients and data items the notice covers) is what a consent
    depends on: a later version with different conditions does not inherit earlier consents,
    while a version that only rewords the text does (its ``conditions_sha256`` is the same).
    """

    class Language(models.TextChoices):
        JA = "ja", "日本語"
        EN = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField()
    language = models.CharField(max_length=2, choices=Language.choices)
    effective_at = models.DateTimeField()
    text = models.TextField()
    content_sha256 = models.CharField(max_length=64, editable=False)
    conditions = models.JSONField(
        help_text='{"purposes": [codes], "recipients": [partner slugs], "data_items": [fields]}'
    )
    conditions_sha256 = models.CharField(max_length=64, editable=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="consent_notice_version_language"
            )
        ]

    def __str__(self) -> str:
        return f"Notice v{self.version} ({self.language})"


class Channel(models.TextChoices):
    HOST_PORTAL = "host_portal", "Host portal"
    PARTNER_APP = "partner_app", "Partner app"
    PAPER = "paper", "Paper form"
    CALL_CENTRE = "call_centre", "Call centre"
    STAFF_VISIT = "staff_visit", "Delivery staff visit"
    PREFERENCE_PAGE = "preference_page", "Preference page"
    # Only for the withdrawals an erasure makes; nobody grants consent through it.
    DATA_SUBJECT_REQUEST = "data_subject_request", "Data-subject request"


class ConsentEvent(models.Model):
    """One grant or withdrawal, never changed or deleted once written.

    ``sequence`` numbers a member's events from 1; ``hash`` is SHA-256 over the canonical form
    of this event and ``previous_hash``, the hash of the member's event before it.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", "Granted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="consent_events"
    )
    sequence = models.PositiveIntegerField()
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    occurred_at = models.DateTimeField(help_text="When the member said so (aware, any zone).")
    recorded_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    captured_by = models.CharField(max_length=200, help_text="Who recorded it (actor label).")
    captured_by_partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notice = models.ForeignKey(
        PrivacyNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    jurisdiction = models.CharField(max_length=8, default="JP")
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["member", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "sequence"], name="consent_event_member_sequence"
            ),
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

    member = models.ForeignKey(MemberAccount, on_delete=models.PROTECT, related_name="+")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    granted = models.BooleanField()
    expires_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(
        PrivacyNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.OneToOneField(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
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

    event = models.OneToOneField(
        ConsentEvent, on_delete=models.PROTECT, related_name="withdrawal_notice"
    )
    recipient = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    member_pseudonym = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(default=timezone.now)
    times_sent = models.PositiveIntegerField(default=1)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
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
    provided_at = models.DateTimeField(default=timezone.now, db_index=True)
    provider = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="provision_records"
    )
    member_pseudonym = models.CharField(
        max_length=40, help_text="The member as the recipient knows them."
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    data_items = models.JSONField()
    consent_event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    recipient_obtained_from = models.CharField(
        max_length=300, help_text="The recipient's record: from whom and how it was obtained."
    )
    recorded_by = models.CharField(max_length=200)
    retain_until = models.DateField(db_index=True)

    class Meta:
        ordering = ["-provided_at"]

    def __str__(self) -> str:
        return f"{self.provided_at:%Y-%m-%d} {self.provider_id} → {self.recipient_id}"


class DataSubjectRequest(models.Model):
    """A member's request to see (access) or erase (erasure) what the federation holds about
    them. Only written once the requester's identity matched the member's record, so every row
    here is a verified request; it is due ``SANPO_DSR_DUE_DAYS`` after it was received."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        ERASURE = "erasure", "Erasure"

    class Status(models.TextChoices):
        VERIFIED = "verified", "Verified, in progress"
        COMPLETED = "completed", "Completed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="data_subject_requests"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VERIFIED)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField()
    received_via = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    requested_by = models.CharField(max_length=200)
    verified_with = models.JSONField(
        help_text="Which facts matched the member's record (names of fields, never values)."
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
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

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    chains_checked = models.PositiveIntegerField(default=0)
    events_checked = models.PositiveBigIntegerField(default=0)
    breaks = models.JSONField(
        default=list, help_text="The first broken link of each broken chain, at most 1,000."
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Chain verification {self.started_at:%Y-%m-%d %H:%M}"
