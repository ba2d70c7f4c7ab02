"""The consent record in the console, read-only: events, states, withdrawal notices, provision
records and chain verification runs. Members are shown by their number, never by their
personal data."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from consent.admin.base import ConsentRecordAdmin
from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    ProvisionRecord,
    WithdrawalNotice,
)


class MemberNumberColumn(ConsentRecordAdmin):
    @admin.display(description=_("member number"), ordering="member__member_number")
    def member_number(self, obj: ConsentEvent | ConsentState) -> str:
        return obj.member.member_number


@admin.register(ConsentEvent)
class ConsentEventAdmin(MemberNumberColumn):
    list_display = ["recorded_at", "member_number", "sequence", "action", "purpose", "recipient"]
    list_filter = ["action", "purpose", "recipient", "channel", "recorded_at"]
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
    csv_fields = [
        "recorded_at",
        "member__member_number",
        "sequence",
        "action",
        "purpose_id",
        "recipient__slug",
        "channel",
        "occurred_at",
        "expires_at",
        "notice_id",
        "hash",
    ]


@admin.register(ConsentState)
class ConsentStateAdmin(MemberNumberColumn):
    list_display = [
        "member_number",
        "purpose",
        "recipient",
        "granted",
        "expires_at",
        "changed_at",
    ]
    list_filter = ["granted", "purpose", "recipient", "changed_at"]
    list_select_related = ["member", "recipient", "purpose"]
    search_fields = ["member__member_number"]
    date_hierarchy = "changed_at"
    csv_fields = [
        "member__member_number",
        "purpose_id",
        "recipient__slug",
        "granted",
        "expires_at",
        "changed_at",
    ]


@admin.register(WithdrawalNotice)
class WithdrawalNoticeAdmin(ConsentRecordAdmin):
    list_display = ["created_at", "recipient", "times_sent", "acknowledged_at"]
    list_filter = ["recipient", "created_at", "acknowledged_at"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    search_fields = ["recipient__slug", "=member_pseudonym"]
    csv_fields = ["created_at", "recipient__slug", "times_sent", "acknowledged_at"]


@admin.register(ProvisionRecord)
class ProvisionRecordAdmin(ConsentRecordAdmin):
    list_display = ["provided_at", "provider", "recipient", "purpose", "retain_until"]
    list_filter = ["provider", "recipient", "purpose", "provided_at"]
    list_select_related = ["provider", "recipient", "purpose"]
    search_fields = ["provider__slug", "recipient__slug", "=member_pseudonym"]
    date_hierarchy = "provided_at"
    csv_fields = [
        "provided_at",
        "provider__slug",
        "recipient__slug",
        "purpose_id",
        "retain_until",
    ]


@admin.register(ChainVerification)
class ChainVerificationAdmin(ConsentRecordAdmin):
    list_display = ["started_at", "finished_at", "chains_checked", "events_checked"]
    list_filter = ["started_at"]
    date_hierarchy = "started_at"
    csv_fields = ["started_at", "finished_at", "chains_checked", "events_checked"]
