"""The compliance pages: read-only, server-rendered, no JavaScript, printable.

Every list is also a CSV download (``?format=csv`` or the list's ``.csv`` address) built from
the same selector as the page; the member search and its CSV are POST forms instead, so that
what was searched for stays out of URLs. Nothing here writes except the reveal, which goes
through ``partners.services.member_reveal`` and so leaves an audit event naming the reviewer.
The log-in form refuses more guesses after a few failures (``access.login_locked_out``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.compliance import export, selectors
from consent.compliance.access import (
    LOGIN_LOCKOUT_SECONDS,
    compliance_reviewer_required,
    login_failure_record,
    login_failures_forget,
    login_locked_out,
)
from consent.compliance.selectors import RequestFilter, SearchBy
from consent.models import DataSubjectRequest
from consent.services import chain_verify
from partners import pii
from partners.actors import Actor
from partners.models import MemberAccount
from partners.normalize import PREFECTURE_NAMES
from partners.services import audit_undecryptable, member_reveal

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

logger = logging.getLogger(__name__)


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


# --- Logging in -------------------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    # The address the audit log records too: behind our TLS proxy, the client's, as
    # config.middleware takes it from the entry the proxy appended to X-Forwarded-For.
    return str(request.META.get("REMOTE_ADDR", ""))


class ComplianceLoginView(LoginView):
    """Django's log-in form, which turns guessers away for a while: after
    ``LOGIN_FAILURES_ALLOWED`` failures for a user name (in any case) or from an address, the
    next attempts get a 429 without their password being checked at all, even a right one.

    Failed log-ins go to the application log, not the audit log: ``AuditEvent`` has no action
    for them. The user name is logged, never the password.
    """

    template_name = "compliance/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        address = _client_address(request)
        if not login_locked_out(username=username, ip=address):
            return super().post(request, *args, **kwargs)
        logger.warning(
            "Compliance log-in refused, too many failures: user name %r from %s",
            username[:200],
            address,
        )
        # An unbound form: showing a bound one's errors would check the password after all.
        form = self.get_form_class()(request, initial={"username": username})
        context = self.get_context_data(form=form, locked_out=True)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(LOGIN_LOCKOUT_SECONDS)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(form.data.get("username", ""))
        address = _client_address(self.request)
        login_failure_record(username=username, ip=address)
        logger.warning("Compliance log-in failed: user name %r from %s", username[:200], address)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        login_failures_forget(username=form.cleaned_data["username"])
        return super().form_valid(form)


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


def search_page(
    *methods: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """The member search and its CSV, which take an e-mail address or phone number, so only
    ever in a POST body: never in a URL, and so never in access logs, proxies or browser
    history. An anonymous visitor comes back to the bare search page after logging in, not to
    the address asked for (which may carry a query) nor to the CSV (which is only a POST)."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        checked = compliance_reviewer_required(view, return_to="compliance:search")
        return never_cache(require_http_methods(list(methods))(checked))

    return decorate


def _searched(form: SearchForm) -> tuple[str, str, list[MemberAccount]]:
    if not form.is_valid():
        return "", SearchBy.ANY, []
    query = form.cleaned_data["q"].strip()
    by = form.cleaned_data["by"] or SearchBy.ANY
    return query, by, selectors.member_search(query=query, by=by) if query else []


@search_page("GET", "POST")
def search(request: HttpRequest) -> HttpResponseBase:
    # A GET shows the empty form, whatever its query string says.
    form = SearchForm(request.POST) if request.method == "POST" else SearchForm()
    query, by, results = _searched(form)
    # The results are this POST's response, not a redirect to a page whose address would
    # have to carry the query.
    return render(
        request,
        "compliance/search.html",
        {
            "form": form,
            "query": query,
            "by": by,
            "results": results,
            "limit": selectors.MAX_SEARCH_RESULTS,
        },
    )


@search_page("POST")
def search_csv(request: HttpRequest) -> HttpResponseBase:
    """The search results as CSV, from the hidden form on the results page (a POST, for the
    same reason as the search)."""
    _query, _by, results = _searched(SearchForm(request.POST))
    # The file is named for the list, never for the e-mail or phone searched for.
    return export.csv_response(export.SEARCH_RESULTS, results)


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
    unreadable: pii.UndecryptableError | None = None,
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
        "key_unavailable": isinstance(unreadable, pii.DataKeyUnavailableError),
        "integrity_failed": isinstance(unreadable, pii.DataIntegrityError),
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
    actor = Actor.from_request(request)
    try:
        personal = member_reveal(
            member=member,
            actor=actor,
            purpose=f"compliance review: {form.cleaned_data['reason']}",
        )
    except pii.DataErasedError:
        return _member_page(request, member, form=RevealForm(), erased=True)
    except pii.UndecryptableError as error:
        # Not an erasure: the stored data is altered, copied from another record, or under a
        # master key no longer configured. A security event, shown to the reviewer as such.
        audit_undecryptable(
            error=error,
            actor=actor,
            partner=member.partner,
            detail={"request": f"compliance review: {form.cleaned_data['reason']}"[:200]},
        )
        return _member_page(request, member, form=RevealForm(), unreadable=error, status=409)
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
