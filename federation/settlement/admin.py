"""Settlement in the alliance console: the periods, and each period's page with who owes whom
(a table and a heat map), the net positions, the statements and their payments, the disputes,
and the actions that move the period on. Everything writes through the settlement services."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.kernel.admin import (
    AllianceConsoleAdmin,
    count_of,
    is_alliance_manager,
    related_filter,
)
from federation.settlement import services
from federation.settlement.charts import heat_map
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.exports import csv_response, line_row
from federation.settlement.models import SettlementDispute, SettlementPeriod
from federation.settlement.pdf import pdf_response
from federation.settlement.selectors import disputes_of, last_run, matrix_of
from federation.settlement.services.statements import ordered_lines
from partners.actors import Actor
from partners.admin.base import error_text
from partners.admin.export import CsvExportMixin
from partners.errors import ApplicationError, ErrorCode
from partners.models import Partner


class PeriodForm(forms.Form):
    starts_on = forms.DateField(label=gettext_lazy("first day"))
    ends_on = forms.DateField(label=gettext_lazy("last day"))


def _compute(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    if period.state != SettlementPeriod.State.DRAFT:
        raise ApplicationError(SettlementErrorCode.PERIOD_STATE)
    services.period_compute_queue(period)
    return _("The computation is queued; this page shows how far it got.")


def _review(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    services.period_review_open(period, actor=actor)
    return _("The period is open for review.")


def _lock(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    services.period_lock(period, actor=actor)
    return _("The period is locked.")


def _issue(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    services.period_issue(period, actor=actor)
    return _("The statements are issued.")


def _pay(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    statement = period.statements.filter(pk=_number(request.POST.get("statement"))).first()
    if statement is None:
        raise Http404(_("No such statement."))
    services.payment_record(statement, reference=request.POST.get("reference", ""), actor=actor)
    return _("The payment is recorded.")


def _resolve(request: HttpRequest, period: SettlementPeriod, actor: Actor) -> str:
    dispute = None
    with suppress(ValueError, ValidationError):
        dispute = SettlementDispute.objects.filter(
            line__period=period, pk=request.POST.get("dispute", "")
        ).first()
    if dispute is None:
        raise Http404(_("No such dispute."))
    accepted = request.POST.get("decision") == "accept"
    correction = None
    if accepted:
        try:
            correction = Decimal(request.POST.get("correction_yen", "").strip())
        except InvalidOperation as error:
            message = _("An accepted dispute needs a correction in whole yen.")
            raise ApplicationError(ErrorCode.VALIDATION_FAILED, message) from error
    services.dispute_resolve(
        dispute,
        accepted=accepted,
        correction_yen=correction,
        resolution=request.POST.get("resolution", ""),
        actor=actor,
    )
    return _("The dispute is resolved.")


def _number(value: str | None) -> int:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 18 else 0


ACTIONS = {
    "compute": _compute,
    "review": _review,
    "lock": _lock,
    "issue": _issue,
    "pay": _pay,
    "resolve": _resolve,
}


@admin.register(SettlementPeriod)
class SettlementPeriodAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "__str__",
        "state",
        "open_disputes",
        "computed_at",
        "review_opened_at",
        "locked_at",
        "issued_at",
        "paid_at",
    ]
    list_filter = ["state"]
    search_fields = ["=id"]
    ordering = ["-starts_on"]
    csv_fields = [
        "id",
        "starts_on",
        "ends_on",
        "state",
        "open_disputes",
        "computed_at",
        "locked_at",
        "issued_at",
        "paid_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SettlementPeriod]:
        still_open = SettlementDispute.objects.filter(state=SettlementDispute.State.OPEN)
        return (
            super()
            .get_queryset(request)
            .annotate(open_count=count_of(still_open, through="line__period"))
        )

    @admin.display(description=gettext_lazy("open disputes"), ordering="open_count")
    def open_disputes(self, obj: Any) -> int:
        return int(getattr(obj, "open_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_alliance_manager(request.user)

    def get_urls(self) -> list[URLPattern]:
        pages = self.custom_urls(
            ("<path:object_id>/act/<str:action>/", "act", self.act_view),
            ("<path:object_id>/lines.csv", "lines_csv", self.lines_csv),
            ("<path:object_id>/statements/<int:statement_id>.pdf", "pdf", self.statement_pdf),
        )
        return pages + super().get_urls()

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """A new period of the alliance (its host is the one host), through the service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PeriodForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            host = Partner.objects.filter(kind=Partner.Kind.HOST).first()
            try:
                if host is None:
                    raise ApplicationError(ErrorCode.NOT_FOUND, _("There is no host company."))
                period = services.period_create(
                    host=host, actor=Actor.from_request(request), **form.cleaned_data
                )
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, _("The period is created."))
                return HttpResponseRedirect(self.url_of("change", period.pk))
        return self.page(
            request,
            "admin/settlement/period_add.html",
            title=_("New settlement period"),
            form=form,
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The period's page: who owes whom, net positions, statements, disputes, lines."""
        period: Any = self.managed_object(request, object_id)
        matrix = matrix_of(period)
        lines = ordered_lines(period)
        statements = period.statements.select_related("partner", "payment").order_by(
            "partner__slug"
        )
        rows = [
            (debtor, [matrix.cells.get((debtor.pk, c.pk)) for c in matrix.companies])
            for debtor in matrix.companies
        ]
        return self.page(
            request,
            "admin/settlement/period_detail.html",
            title=_("Settlement %(period)s") % {"period": period},
            original=period,
            period=period,
            matrix=matrix,
            matrix_rows=rows,
            picture=heat_map(matrix, title=_("Who owes whom (yen)")),
            statements=statements,
            net_total=sum((s.net_yen for s in statements), Decimal(0)),
            disputes=disputes_of(period),
            lines=[{**line_row(line), "label": line.get_kind_display()} for line in lines],
            run=last_run(period),
        )

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST only: a link followed, prefetched or crawled changes nothing."""
        period: Any = self.managed_object(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = ACTIONS.get(action)
        if run is None:
            raise Http404(_("No such action."))
        try:
            done = run(request, period, Actor.from_request(request))
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(self.url_of("change", period.pk))

    def lines_csv(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Every line of the period, numbered as on the statements."""
        period: Any = self.managed_object(request, object_id)
        name = f"sanpo-settlement-{period.starts_on:%Y%m%d}-lines.csv"
        return csv_response(ordered_lines(period), filename=name)

    def statement_pdf(
        self, request: HttpRequest, object_id: str, statement_id: int
    ) -> HttpResponse:
        """One company's statement of the period as PDF, as the company downloads it."""
        period: Any = self.managed_object(request, object_id)
        statement = period.statements.select_related("partner").filter(pk=statement_id).first()
        if statement is None:
            raise Http404(_("No such statement."))
        return pdf_response(statement)


@admin.register(SettlementDispute)
class SettlementDisputeAdmin(CsvExportMixin, AllianceConsoleAdmin):
    """Every dispute, open ones first to find; each is resolved on its period's page."""

    list_display = ["raised_at", "period_link", "raised_by", "line", "state", "resolved_at"]
    list_filter = [
        "state",
        related_filter("raised_by", gettext_lazy("raised by")),
    ]
    search_fields = ["=id", "reason", "raised_by__slug"]
    list_select_related = ["raised_by", "line__period", "line__debtor", "line__creditor"]
    ordering = ["state", "-raised_at"]
    fields = readonly_fields = (
        "line",
        "raised_by",
        "reason",
        "state",
        "raised_at",
        "resolution",
        "resolved_at",
        "adjustment",
    )
    csv_fields = [
        "id",
        "line__period_id",
        "line_id",
        "raised_by__slug",
        "state",
        "raised_at",
        "reason",
        "resolution",
        "resolved_at",
        "adjustment_id",
    ]

    @admin.display(description=gettext_lazy("period"))
    def period_link(self, obj: SettlementDispute) -> str:
        period = obj.line.period
        url = reverse("admin:federation_settlementperiod_change", args=[period.pk])
        return format_html("<a href='{}'>{}</a>", url, period)
