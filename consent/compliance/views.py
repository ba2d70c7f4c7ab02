"""The compliance pages: read-only, server-rendered, no JavaScript, printable.

Every list is also a CSV download (``?format=csv`` or the list's ``.csv`` address) built from
the same selector as the page. Nothing here writes except the reveal, which goes through
``partners.services.member_reveal`` and so leaves an audit event naming the reviewer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.compliance import export, selectors
from consent.compliance.access import compliance_reviewer_required
from consent.compliance.selectors import RequestFilter, SearchBy
from consent.models import DataSubjectRequest
from consent.services import chain_verify
from partners import pii
from partners.actors import Actor
from partners.models import MemberAccount
from partners.normalize import PREFECTURE_NAMES
from partners.services import member_reveal

PERSONAL_LABELS = {
    "name": "Name",
    "name_kana": "Name (kana)",
    "email": "E-mail",
    "phone": "Phone",
    "postal_code": "Postal code",
    "address": "Address",
    "birth_date": "Date of birth",
}
MASK = "●●●● (hidden)"


# --- Plumbing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paged:
    """One page of a list, with links to its neighbours that keep the other GET parameters
    (filters, and the other lists' pages on the member page)."""

    page: Page[Any]
    previous_url: str
    next_url: str


def _paginate(
    request: HttpRequest,
    items: Sequence[Any] | Any,
    *,
    param: str = "page",
    per_page: int = 50,
    path: str = "",
    anchor: str = "",
) -> Paged:
    page = Paginator(items, per_page).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"{path or request.path}?{query.urlencode()}{f'#{anchor}' if anchor else ''}"

    return Paged(
        page=page,
        previous_url=url(page.previous_page_number()) if page.has_previous() else "",
        next_url=url(page.next_page_number()) if page.has_next() else "",
    )


def _wants_csv(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == "csv" or request.GET.get("format") == "csv"


def _csv_url(request: HttpRequest, path: str) -> str:
    """The CSV download of a list page, with its filters (and without its page number)."""
    query = request.GET.copy()
    for name in ("page", "format"):
        query.pop(name, None)
    return f"{path}?{query.urlencode()}" if query else path


def reviewer_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A GET-only page for compliance reviewers, never cached: it shows member records."""
    return never_cache(require_GET(compliance_reviewer_required(view)))


# --- Dashboard --------------------------------------------------------------------------------


@reviewer_page
def dashboard(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    now = timezone.now()
    counts = selectors.consent_counts(now=now)
    if _wants_csv(request, fmt):
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


# --- Member search ----------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(label="Member number, e-mail or phone", max_length=254, required=False)
    by = forms.ChoiceField(label="Search by", choices=SearchBy.CHOICES, required=False)


@reviewer_page
def search(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    form = SearchForm(request.GET)
    query, by = "", SearchBy.ANY
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        by = form.cleaned_data["by"] or SearchBy.ANY
    results = selectors.member_search(query=query, by=by) if query else []
    if _wants_csv(request, fmt):
        # The file is named for the list, never for the e-mail or phone searched for.
        return export.csv_response(export.SEARCH_RESULTS, results)
    # The e-mail or phone searched for is in this page's address. The site-wide
    # Referrer-Policy (same-origin) keeps it from other sites; "no-referrer" would go further
    # but makes browsers send "Origin: null" with the log-out form, which CSRF refuses.
    return render(
        request,
        "compliance/search.html",
        {
            "form": form,
            "query": query,
            "results": results,
            "limit": selectors.MAX_SEARCH_RESULTS,
            "csv_url": _csv_url(request, reverse("compliance:search-csv")),
        },
    )


# --- Member page ------------------------------------------------------------------------------


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="Reason (recorded in the audit log)",
        min_length=3,
        max_length=150,
        help_text="For example the inquiry or case number you are working on.",
    )


def _member_or_404(member: MemberAccount | None) -> MemberAccount:
    if member is None:
        raise Http404("No such member.")
    return member


def _member_page(
    request: HttpRequest,
    member: MemberAccount,
    *,
    form: RevealForm,
    personal: dict[str, str | None] | None = None,
    erased: bool = False,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    path = reverse("compliance:member", args=[member.pk])
    personal_rows = [
        (PERSONAL_LABELS[name], personal.get(name) if personal is not None else MASK)
        for name in pii.PERSONAL_FIELDS
    ]
    context = {
        "member": member,
        "prefecture_name": PREFECTURE_NAMES.get(member.prefecture, ""),
        "is_erased": erased or member.status == MemberAccount.Status.ERASED,
        "revealed": personal is not None,
        "personal_rows": personal_rows,
        "form": form,
        "linked": list(selectors.member_linked_accounts(member=member)),
        "timeline": _paginate(
            request,
            selectors.consent_timeline(member=member),
            param="events",
            path=path,
            anchor="timeline",
        ),
        "states": list(selectors.consent_states(member=member, now=now)),
        "provisions": _paginate(
            request,
            selectors.provision_records(member=member),
            param="provisions",
            per_page=25,
            path=path,
            anchor="provisions",
        ),
        "withdrawals": _paginate(
            request,
            selectors.member_withdrawal_notices(member=member, now=now),
            param="withdrawals",
            per_page=25,
            path=path,
            anchor="withdrawals",
        ),
        "chain_break": chain_verify(member=member),
        "requests": list(selectors.data_subject_requests(now=now, member=member)),
    }
    return render(request, "compliance/member.html", context, status=status)


def _member_export(member: MemberAccount, name: str) -> StreamingHttpResponse:
    now = timezone.now()
    label = f"{member.partner.slug}-{member.member_number}"
    if name == "timeline":
        events = selectors.consent_timeline(member=member)
        return export.csv_response(export.TIMELINE, events.iterator(), label=label)
    if name == "states":
        states = selectors.consent_states(member=member, now=now)
        return export.csv_response(export.STATES, states.iterator(), label=label)
    if name == "provisions":
        records = selectors.provision_records(member=member)
        return export.csv_response(export.PROVISIONS, records.iterator(), label=label)
    if name == "withdrawals":
        notices = selectors.member_withdrawal_notices(member=member, now=now)
        return export.csv_response(export.MEMBER_WITHDRAWALS, notices.iterator(), label=label)
    if name == "requests":
        requests = selectors.data_subject_requests(now=now, member=member)
        return export.csv_response(export.REQUESTS, requests.iterator(), label=label)
    raise Http404("No such list.")


@reviewer_page
def member_detail(
    request: HttpRequest, member_id: uuid.UUID, list_name: str | None = None
) -> HttpResponseBase:
    member = _member_or_404(selectors.member_get(member_id=member_id))
    if list_name is None and request.GET.get("format") == "csv":
        list_name = request.GET.get("list", "")
    if list_name is not None:
        return _member_export(member, list_name)
    return _member_page(request, member, form=RevealForm())


@transaction.non_atomic_requests
@never_cache
@require_POST
@compliance_reviewer_required
def member_reveal_view(request: HttpRequest, member_id: uuid.UUID) -> HttpResponse:
    """Decrypt and show the member's personal data once, for the reason the reviewer gives;
    ``member_reveal`` records who looked and why. Kept out of any request-wide transaction
    (as ``member_reveal`` asks), so the audit event is committed before the data is shown."""
    member = _member_or_404(selectors.member_get_sealed(member_id=member_id))
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _member_page(request, member, form=form, status=400)
    try:
        personal = member_reveal(
            member=member,
            actor=Actor.from_request(request),
            purpose=f"compliance review: {form.cleaned_data['reason']}",
        )
    except pii.UndecryptableError:
        return _member_page(request, member, form=RevealForm(), erased=True)
    response = _member_page(request, member, form=RevealForm(), personal=personal)
    response["Cache-Control"] = "no-store"
    return response


# --- Withdrawal acknowledgements --------------------------------------------------------------


@reviewer_page
def withdrawals_overdue(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    now = timezone.now()
    recipient = request.GET.get("recipient", "")
    notices = selectors.withdrawals_overdue(now=now, recipient_slug=recipient)
    if _wants_csv(request, fmt):
        return export.csv_response(export.OVERDUE_WITHDRAWALS, notices.iterator(), label=recipient)
    return render(
        request,
        "compliance/withdrawals_overdue.html",
        {
            "notices": _paginate(request, notices),
            "recipients": list(selectors.recipients()),
            "recipient": recipient,
            "csv_url": _csv_url(request, reverse("compliance:withdrawals-overdue-csv")),
        },
    )


# --- Chain verification -----------------------------------------------------------------------


@reviewer_page
def chain(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    runs = selectors.chain_runs()
    breaks = selectors.chain_breaks(runs.latest)
    if _wants_csv(request, fmt):
        return export.csv_response(export.CHAIN_BREAKS, breaks)
    return render(
        request,
        "compliance/chain.html",
        {"runs": runs, "breaks": _paginate(request, breaks), "breaks_total": len(breaks)},
    )


# --- Data-subject requests --------------------------------------------------------------------


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(choices=RequestFilter.CHOICES, required=False)
    kind = forms.ChoiceField(
        choices=[("", "All"), *DataSubjectRequest.Kind.choices], required=False
    )


@reviewer_page
def requests(request: HttpRequest, fmt: str | None = None) -> HttpResponseBase:
    form = RequestFilterForm(request.GET)
    status = kind = ""
    if form.is_valid():
        status, kind = form.cleaned_data["status"], form.cleaned_data["kind"]
    found = selectors.data_subject_requests(now=timezone.now(), status=status, kind=kind)
    if _wants_csv(request, fmt):
        return export.csv_response(
            export.REQUESTS, found.iterator(), label="-".join(p for p in (status, kind) if p)
        )
    return render(
        request,
        "compliance/requests.html",
        {
            "form": form,
            "requests": _paginate(request, found),
            "csv_url": _csv_url(request, reverse("compliance:requests-csv")),
        },
    )
