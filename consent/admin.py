"""Consent rows in the console: read-only, always. A consent event is never edited or deleted,
from here or anywhere (a change of mind is a new event); compliance reviewers read the record on
the compliance pages."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    Purpose,
    WithdrawalNotice,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purpose)
class PurposeAdmin(ReadOnly):
    list_display = ["code", "name_ja", "name_en", "active"]
    fieldsets = [
        (None, {"fields": ["code", "active"]}),
        (_("Japanese"), {"fields": ["name_ja", "description_ja"]}),
        (_("English"), {"fields": ["name_en", "description_en"]}),
    ]


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(ReadOnly):
    list_display = ["version", "language", "effective_at", "conditions_sha256"]
    list_filter = ["language"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnly):
    list_display = ["recorded_at", "member", "sequence", "action", "purpose", "recipient"]
    list_filter = ["action", "purpose", "recipient", "channel"]
    list_select_related = ["member", "recipient", "purpose"]
    search_fields = ["member__member_number", "hash"]
    date_hierarchy = "recorded_at"
    fieldsets = [
        (None, {"fields": ["member", "sequence", "action", "purpose", "recipient"]}),
        (
            _("How it was given"),
            {
                "fields": [
                    "occurred_at",
                    "recorded_at",
                    "channel",
                    "captured_by",
                    "captured_by_partner",
                    "notice",
                    "expires_at",
                    "jurisdiction",
                ]
            },
        ),
        (_("Hash chain"), {"fields": ["previous_hash", "hash"]}),
    ]


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnly):
    list_display = ["member", "purpose", "recipient", "granted", "expires_at", "changed_at"]
    list_filter = ["granted", "purpose", "recipient"]
    list_select_related = ["member", "recipient", "purpose"]


@admin.register(WithdrawalNotice)
class WithdrawalNoticeAdmin(ReadOnly):
    list_display = ["created_at", "recipient", "times_sent", "acknowledged_at"]
    list_filter = ["recipient"]
    list_select_related = ["recipient"]


@admin.register(ProvisionRecord)
class ProvisionRecordAdmin(ReadOnly):
    list_display = ["provided_at", "provider", "recipient", "purpose", "retain_until"]
    list_filter = ["provider", "recipient", "purpose"]
    list_select_related = ["provider", "recipient", "purpose"]
    date_hierarchy = "provided_at"


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnly):
    list_display = ["received_at", "kind", "status", "member", "due_at", "completed_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["member"]
    date_hierarchy = "received_at"


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnly):
    list_display = ["started_at", "finished_at", "chains_checked", "events_checked"]
