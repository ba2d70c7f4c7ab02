"""Campaigns in the alliance console: every campaign with its state (the review queue is the
list filtered to proposed), a review page showing the product, the survey and the segment's
exact reach among the host's own members, with approve and reject (a reason) through the
services, and a results page with the shipments, the response rate and each question's
distribution, downloadable as CSV. Nothing here writes but through the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from consent.names import partner_name
from federation.campaigns.charts import question_charts
from federation.campaigns.models import Campaign, CampaignImage, CampaignMember, SurveyAnswer
from federation.campaigns.services import (
    campaign_approve,
    campaign_close,
    campaign_promote,
    campaign_rating,
    campaign_reject,
    campaign_survey_open,
    eligible_count,
    exact_tallies,
)
from federation.campaigns.services.results import BREAKDOWNS
from federation.kernel.admin import AllianceConsoleAdmin, count_of, related_filter
from partners.actors import Actor
from partners.admin.base import error_text
from partners.admin.export import CsvExportMixin, csv_download
from partners.errors import ApplicationError


class PromoteForm(forms.Form):
    landing_url = forms.URLField(
        label=gettext_lazy("landing URL"),
        assume_scheme="https",
        max_length=500,
        required=False,
        help_text=gettext_lazy("An https page where members get it; else the partner's own."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("reason for rejection"), max_length=2000, widget=forms.Textarea
    )


@admin.register(Campaign)
class CampaignAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "name_en",
        "partner_name",
        "state",
        "category",
        "quantity",
        "selected",
        "shipped",
        "answered",
        "created_at",
        "review_link",
    ]
    list_filter = ["state", related_filter("partner", gettext_lazy("partner")), "category"]
    search_fields = ["name_ja", "name_en", "category", "=id"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    actions = ["open_survey", "close"]
    fields = readonly_fields = (
        "partner",
        "host",
        "agreement",
        "state",
        "name_ja",
        "name_en",
        "description_ja",
        "description_en",
        "category",
        "quantity",
        "segment",
        "starts_on",
        "ends_on",
        "selection",
        "coins_per_answer",
        "reject_reason",
        "seed",
        "selected",
        "created_at",
        "decided_at",
        "decided_by",
    )
    csv_fields = [
        "id",
        "created_at",
        "partner__slug",
        "name_en",
        "category",
        "state",
        "quantity",
        "selected",
        "shipped",
        "answered",
        "coins_per_answer",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                shipped_count=count_of(
                    CampaignMember.objects.exclude(exported_at=None), through="campaign"
                ),
                answered_count=count_of(SurveyAnswer.objects.all(), through="campaign"),
            )
        )

    @admin.display(description=gettext_lazy("partner"), ordering="partner__name_latin")
    def partner_name(self, obj: Campaign) -> str:
        return partner_name(obj.partner)

    @admin.display(description=gettext_lazy("shipped"), ordering="shipped_count")
    def shipped(self, obj: Any) -> int:
        return int(obj.shipped_count)

    @admin.display(description=gettext_lazy("answered"), ordering="answered_count")
    def answered(self, obj: Any) -> int:
        return int(obj.answered_count)

    @admin.display(description=gettext_lazy("review and results"))
    def review_link(self, obj: Campaign) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            self.url_of("review", obj.pk),
            _("Review"),
            self.url_of("results", obj.pk),
            _("Results"),
        )

    def get_urls(self) -> list[URLPattern]:
        pages = self.custom_urls(
            ("<path:object_id>/review/", "review", self.review_view),
            ("<path:object_id>/results/", "results", self.results_view),
            ("<path:object_id>/review/images/<int:position>/", "image", self.image_view),
        )
        return [*pages, *super().get_urls()]

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        campaign = self.managed_object(request, object_id)
        assert isinstance(campaign, Campaign)
        form = RejectForm(request.POST if "reject" in request.POST else None)
        if request.method == "POST":
            actor = Actor.from_request(request)
            try:
                if "approve" in request.POST:
                    campaign = campaign_approve(campaign=campaign, actor=actor)
                    messages.success(
                        request, _("Approved: %(n)s members drawn.") % {"n": campaign.selected}
                    )
                    return HttpResponseRedirect(self.url_of("review", campaign.pk))
                if form.is_valid():
                    reason = form.cleaned_data["reason"]
                    campaign_reject(campaign=campaign, reason=reason, actor=actor)
                    messages.success(request, _("Rejected; the partner was told why."))
                    return HttpResponseRedirect(self.url_of("review", campaign.pk))
            except ApplicationError as refused:
                messages.error(request, error_text(refused))
        reach = (
            eligible_count(campaign)
            if campaign.state in (Campaign.State.DRAFT, Campaign.State.PROPOSED)
            else None
        )
        return self.page(
            request,
            "admin/federation/campaigns/review.html",
            title=_("Review of %(name)s") % {"name": campaign.name_en},
            campaign=campaign,
            questions=campaign.questions.all(),
            images=campaign.images.defer("content"),
            reach=reach,
            form=form,
            can_decide=campaign.state == Campaign.State.PROPOSED,
        )

    def image_view(self, request: HttpRequest, object_id: str, position: int) -> HttpResponse:
        """A product image for the review page, served with the type its bytes showed."""
        campaign = self.managed_object(request, object_id)
        assert isinstance(campaign, Campaign)
        image = CampaignImage.objects.filter(campaign=campaign, position=position).first()
        if image is None:
            raise Http404
        response = HttpResponse(bytes(image.content), content_type=image.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    def results_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        campaign = self.managed_object(request, object_id)
        assert isinstance(campaign, Campaign)
        form = PromoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                offer = campaign_promote(
                    campaign=campaign,
                    landing_url=form.cleaned_data["landing_url"],
                    actor=Actor.from_request(request),
                )
            except ApplicationError as refused:
                messages.error(request, error_text(refused))
            else:
                messages.success(
                    request, _("Promoted: referral offer %(offer)s made.") % {"offer": offer.pk}
                )
                return HttpResponseRedirect(self.url_of("results", campaign.pk))
        respondents, tallies, _texts = exact_tallies(campaign)
        questions = list(campaign.questions.all())
        breakdown = request.GET.get("breakdown", "")
        breakdown = breakdown if breakdown in BREAKDOWNS else ""
        rows = [
            (question, value, count)
            for question in questions
            for value, count in tallies[question.position].items()
        ]
        if request.GET.get("format") == "csv":
            header = [_("question"), _("value"), _("count")]
            lines = [header, *((q.position, value, count) for q, value, count in rows)]
            # A streamed response: the console's pages are typed as plain ones.
            return cast(
                HttpResponse, csv_download(lines, name="campaign-results", label=campaign.category)
            )
        members = CampaignMember.objects.filter(campaign=campaign)
        shipped = members.exclude(exported_at=None).count()
        return self.page(
            request,
            "admin/federation/campaigns/results.html",
            title=_("Results of %(name)s") % {"name": campaign.name_en},
            campaign=campaign,
            selected=members.count(),
            shipped=shipped,
            respondents=respondents,
            response_rate=f"{respondents / shipped:.0%}" if shipped else "—",
            rows=rows,
            charts=question_charts(questions, tallies) if respondents else [],
            breakdown=breakdown,
            cells=_cells(campaign, questions, breakdown),
            form=form,
            rating=_rating_or_none(campaign),
        )

    @admin.action(description=gettext_lazy("Open the survey of the selected campaigns"))
    def open_survey(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, campaign_survey_open)

    @admin.action(description=gettext_lazy("Close the selected campaigns"))
    def close(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, campaign_close)

    def _move(self, request: HttpRequest, queryset: QuerySet[Campaign], service: Any) -> None:
        actor, moved = Actor.from_request(request), 0
        for campaign in queryset.select_related("partner", "host"):
            try:
                service(campaign=campaign, actor=actor)
            except ApplicationError as refused:
                messages.error(request, error_text(refused))
            else:
                moved += 1
        messages.success(
            request,
            ngettext("%(count)s campaign moved on.", "%(count)s campaigns moved on.", moved)
            % {"count": moved},
        )


def _cells(campaign: Campaign, questions: list[Any], breakdown: str) -> list[Any]:
    """The exact distributions per segment cell (the host's own members), as table rows:
    (cell, respondents, question, value, count)."""
    rows: list[Any] = []
    for value in BREAKDOWNS.get(breakdown, ()):
        respondents, tallies, _texts = exact_tallies(campaign, cell=(breakdown, value))
        if not respondents:
            continue
        for question in questions:
            for answer, count in tallies[question.position].items():
                rows.append((value, respondents, question, answer, count))
    return rows


def _rating_or_none(campaign: Campaign) -> Any:
    """The mean rating shown beside the promotion form (none without research terms)."""
    try:
        return campaign_rating(campaign)
    except ApplicationError:
        return None
