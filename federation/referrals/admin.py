"""Referrals in the alliance console: offers, conversions with the review queue of flagged
ones (approved or rejected with a reason, through the services, audited), and fees. Nothing
else writes here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.names import partner_name
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from federation.referrals.models import ReferralConversion, ReferralFee, ReferralOffer
from federation.referrals.selectors import funnel_of, review_queue
from federation.referrals.services import referral_conversion_approve, referral_conversion_reject
from partners.actors import Actor
from partners.admin.base import error_text
from partners.admin.export import CsvExportMixin
from partners.charts import bar_chart
from partners.errors import ApplicationError

FUNNEL_DAYS = 30
FUNNEL_STEPS = (
    ("clicks", gettext_lazy("Clicks")),
    ("conversions", gettext_lazy("Conversions")),
    ("flagged", gettext_lazy("Flagged")),
    ("rejected", gettext_lazy("Rejected")),
    ("refunded", gettext_lazy("Refunded")),
)
REVIEWS = {"approve": referral_conversion_approve, "reject": referral_conversion_reject}


@admin.register(ReferralOffer)
class ReferralOfferAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "title",
        "source_name",
        "destination_name",
        "fee",
        "attribution_days",
        "valid_from",
        "valid_until",
        "funnel_link",
    ]
    list_filter = [
        related_filter("source", gettext_lazy("source")),
        related_filter("destination", gettext_lazy("destination")),
        "valid_until",
    ]
    search_fields = ["title_ja", "title_en", "=id", "landing_url"]
    list_select_related = ["source", "destination"]
    ordering = ["-created_at"]
    fields = readonly_fields = (
        "agreement",
        "source",
        "destination",
        "title_ja",
        "title_en",
        "description_ja",
        "description_en",
        "landing_url",
        "lead_fee_yen",
        "sale_fee_yen",
        "sale_fee_percent",
        "attribution_days",
        "member_coins",
        "member_coins_on",
        "valid_from",
        "valid_until",
        "created_at",
    )
    csv_fields = [
        "id",
        "created_at",
        "source__slug",
        "destination__slug",
        "title_en",
        "landing_url",
        "lead_fee_yen",
        "sale_fee_yen",
        "sale_fee_percent",
        "attribution_days",
        "member_coins",
        "member_coins_on",
        "valid_from",
        "valid_until",
    ]

    @admin.display(description=gettext_lazy("title"), ordering="title_en")
    def title(self, obj: ReferralOffer) -> str:
        return f"{obj.title_ja} / {obj.title_en}"

    @admin.display(description=gettext_lazy("source"), ordering="source__name_latin")
    def source_name(self, obj: ReferralOffer) -> str:
        return partner_name(obj.source)

    @admin.display(description=gettext_lazy("destination"), ordering="destination__name_latin")
    def destination_name(self, obj: ReferralOffer) -> str:
        return partner_name(obj.destination)

    @admin.display(description=gettext_lazy("fee per sale"))
    def fee(self, obj: ReferralOffer) -> str:
        if obj.sale_fee_percent is not None:
            return f"{obj.sale_fee_percent.normalize()}%"
        return f"¥{obj.sale_fee_yen}" if obj.sale_fee_yen is not None else "—"

    @admin.display(description=gettext_lazy("funnel"))
    def funnel_link(self, obj: ReferralOffer) -> str:
        return format_html('<a href="{}">{}</a>', self.url_of("funnel", obj.pk), _("funnel"))

    def get_urls(self) -> list[URLPattern]:
        pages = self.custom_urls(("<path:object_id>/funnel/", "funnel", self.funnel_view))
        return pages + super().get_urls()

    def funnel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The offer's funnel over the last ``FUNNEL_DAYS`` days: clicks, conversions that
        count, flagged and rejected ones as a chart, and per day as a table with the fees."""
        offer = self.managed_object(request, object_id)
        assert isinstance(offer, ReferralOffer)
        last = timezone.localdate()
        first = last - timedelta(days=FUNNEL_DAYS - 1)
        rows = funnel_of(offer.source, first=first, last=last, offer_ids=[offer.pk])
        totals = [sum(getattr(row, name) for row in rows) for name, _label in FUNNEL_STEPS]
        chart = bar_chart(
            title=_("Funnel of the last %(days)s days") % {"days": FUNNEL_DAYS},
            labels=[str(label) for _name, label in FUNNEL_STEPS],
            values=totals,
        )
        return self.page(
            request,
            "admin/federation/referrals/funnel.html",
            title=_("Funnel: %(offer)s") % {"offer": offer.title_en},
            offer=offer,
            chart=chart,
            rows=rows,
        )


@admin.register(ReferralConversion)
class ReferralConversionAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "occurred_at",
        "offer",
        "destination_name",
        "kind",
        "order_id",
        "amount_yen",
        "state",
        "flag_names",
    ]
    list_filter = [
        "state",
        "kind",
        related_filter("destination", gettext_lazy("destination")),
        "occurred_at",
    ]
    search_fields = ["order_id", "=member__member_number", "=offer__id", "link__code"]
    list_select_related = ["offer", "destination"]
    change_list_template = "admin/federation/referrals/conversion_change_list.html"
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    fields = readonly_fields = (
        "offer",
        "link",
        "click",
        "click_at",
        "destination",
        "member",
        "kind",
        "order_id",
        "amount_yen",
        "occurred_at",
        "recorded_at",
        "state",
        "flag_names",
        "duplicate_of",
        "reviewed_at",
        "reviewed_by",
        "review_reason",
        "refunded_at",
        "member_coins_earned",
    )
    csv_fields = [
        "id",
        "occurred_at",
        "recorded_at",
        "offer_id",
        "destination__slug",
        "kind",
        "order_id",
        "amount_yen",
        "state",
        "flags",
        "reviewed_at",
        "review_reason",
        "refunded_at",
    ]

    @admin.display(description=gettext_lazy("destination"), ordering="destination__name_latin")
    def destination_name(self, obj: ReferralConversion) -> str:
        return partner_name(obj.destination)

    @admin.display(description=gettext_lazy("flags"))
    def flag_names(self, obj: ReferralConversion) -> str:
        names = dict(ReferralConversion.Flag.choices)
        return ", ".join(str(names.get(flag, flag)) for flag in obj.flags) or "—"

    def get_urls(self) -> list[URLPattern]:
        pages = self.custom_urls(
            ("review/", "review", self.review_view),
            ("<path:object_id>/review/", "review_one", self.review_one_view),
        )
        return pages + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        context = {"review_url": self.url_of("review"), **(extra_context or {})}
        return super().changelist_view(request, context)

    def review_view(self, request: HttpRequest) -> HttpResponse:
        """The flagged conversions, oldest first, each with its approve and reject form."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [
            (conversion, self.url_of("review_one", conversion.pk))
            for conversion in review_queue()[:200]
        ]
        return self.page(
            request,
            "admin/federation/referrals/review.html",
            title=_("Flagged referral conversions"),
            rows=rows,
            flags=dict(ReferralConversion.Flag.choices),
        )

    def review_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: approve or reject one flagged conversion with the reason given."""
        conversion = self.managed_object(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = REVIEWS.get(request.POST.get("action", ""))
        if review is None:
            messages.error(request, _("Choose approve or reject."))
            return HttpResponseRedirect(self.url_of("review"))
        assert isinstance(conversion, ReferralConversion)
        try:
            done = review(
                conversion=conversion,
                reason=request.POST.get("reason", ""),
                actor=Actor.from_request(request),
            )
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        else:
            self.log_change(request, done, done.get_state_display())
            messages.success(
                request,
                _("Conversion %(order)s: %(state)s.")
                % {"order": done.order_id, "state": done.get_state_display()},
            )
        return HttpResponseRedirect(self.url_of("review"))


@admin.register(ReferralFee)
class ReferralFeeAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "created_at",
        "source_name",
        "destination_name",
        "kind",
        "amount_yen",
        "state",
        "lock_after",
        "conversion_link",
    ]
    list_filter = [
        "state",
        "kind",
        related_filter("source", gettext_lazy("source")),
        related_filter("destination", gettext_lazy("destination")),
        "created_at",
    ]
    search_fields = ["conversion__order_id", "settlement_reference", "=offer__id"]
    list_select_related = ["source", "destination", "conversion"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = readonly_fields = (
        "conversion",
        "offer",
        "source",
        "destination",
        "kind",
        "amount_yen",
        "state",
        "reason",
        "created_at",
        "lock_after",
        "locked_at",
        "settled_at",
        "settlement_reference",
        "reversed_at",
    )
    csv_fields = [
        "id",
        "created_at",
        "source__slug",
        "destination__slug",
        "offer_id",
        "conversion__order_id",
        "kind",
        "amount_yen",
        "state",
        "reason",
        "lock_after",
        "locked_at",
        "settled_at",
        "settlement_reference",
    ]

    @admin.display(description=gettext_lazy("source"), ordering="source__name_latin")
    def source_name(self, obj: ReferralFee) -> str:
        return partner_name(obj.source)

    @admin.display(description=gettext_lazy("destination"), ordering="destination__name_latin")
    def destination_name(self, obj: ReferralFee) -> str:
        return partner_name(obj.destination)

    @admin.display(description=gettext_lazy("conversion"))
    def conversion_link(self, obj: ReferralFee) -> str:
        url = reverse("admin:federation_referralconversion_change", args=[obj.conversion_id])
        return format_html('<a href="{}">{}</a>', url, obj.conversion.order_id)
