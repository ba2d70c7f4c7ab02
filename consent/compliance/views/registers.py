"""The dashboard and the registers reviewers work through: overdue withdrawal
acknowledgements, chain verification, data-subject requests. Each is also a CSV."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from consent.compliance import export, selectors
from consent.compliance.selectors import RequestFilter
from consent.compliance.views.common import csv_url, paginate, reviewer_page, wants_csv
from consent.models import DataSubjectRequest


@reviewer_page
def dashboard(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    now = timezone.now()
    counts = selectors.consent_counts(now=now)
    if wants_csv(request, fmt):
        return export.csv_response(export.COUNTS, counts)
    runs = selectors.chain_runs()
    breaks = selectors.chain_breaks(runs.latest)
    open_requests = selectors.data_subject_requests(now=now, status=RequestFilter.OPEN)
    return render(
        request,
        "compliance/dashboard.html",
        {
            "counts": counts,
            "overdue_withdrawals": selectors.withdrawals_overdue_count(now=now),
            "runs": runs,
            "breaks": breaks[:10],
            "breaks_total": len(breaks),
            "open_requests": list(open_requests[:20]),
            "request_counts": selectors.data_subject_request_counts(now=now),
        },
    )


@reviewer_page
def withdrawals_overdue(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    now = timezone.now()
    recipient = request.GET.get("recipient", "")
    notices = selectors.withdrawals_overdue(now=now, recipient_slug=recipient)
    if wants_csv(request, fmt):
        return export.csv_response(export.OVERDUE_WITHDRAWALS, notices.iterator(), label=recipient)
    return render(
        request,
        "compliance/withdrawals_overdue.html",
        {
            "notices": paginate(request, notices),
            "recipients": list(selectors.recipients()),
            "recipient": recipient,
            "csv_url": csv_url(request, reverse("compliance:withdrawals-overdue-csv")),
        },
    )


@reviewer_page
def chain(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    runs = selectors.chain_runs()
    breaks = selectors.chain_breaks(runs.latest)
    if wants_csv(request, fmt):
        return export.csv_response(export.CHAIN_BREAKS, breaks)
    return render(
        request,
        "compliance/chain.html",
        {"runs": runs, "breaks": paginate(request, breaks), "breaks_total": len(breaks)},
    )


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(choices=RequestFilter.CHOICES, required=False)
    kind = forms.ChoiceField(
        choices=[("", pgettext_lazy("requests", "All")), *DataSubjectRequest.Kind.choices],
        required=False,
    )


@reviewer_page
def requests(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    form = RequestFilterForm(request.GET)
    status = kind = ""
    if form.is_valid():
        status, kind = form.cleaned_data["status"], form.cleaned_data["kind"]
    found = selectors.data_subject_requests(now=timezone.now(), status=status, kind=kind)
    if wants_csv(request, fmt):
        return export.csv_response(
            export.REQUESTS, found.iterator(), label="-".join(p for p in (status, kind) if p)
        )
    return render(
        request,
        "compliance/requests.html",
        {
            "form": form,
            "requests": paginate(request, found),
            "csv_url": csv_url(request, reverse("compliance:requests-csv")),
        },
    )
