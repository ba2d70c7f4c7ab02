"""Finding a member and reading the member's whole consent record; revealing the personal data
once, for a reason, is the only write, through ``partners.services.member_reveal``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django import forms
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from consent.compliance import export, selectors
from consent.compliance.access import compliance_reviewer_required
from consent.compliance.selectors import SearchBy
from consent.compliance.views.common import paginate, reviewer_page
from consent.names import data_item_name
from consent.services import chain_verify
from partners import pii
from partners.actors import Actor
from partners.models import MemberAccount
from partners.normalize import PREFECTURE_NAMES
from partners.services import audit_undecryptable, member_reveal

MASK = _("●●●● (hidden)")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Member number, e-mail or phone"), max_length=254, required=False)
    by = forms.ChoiceField(label=_("Search by"), choices=SearchBy.CHOICES, required=False)


class TimelinePeriodForm(forms.Form):
    """The days (in the reader's time zone) whose recorded events the timeline shows."""

    events_from = forms.DateField(
        label=_("Recorded from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    events_to = forms.DateField(
        label=_("Recorded until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> tuple[datetime | None, datetime | None]:
        """``[start of the first day, start of the day after the last)``; an invalid form
        means no period."""
        if not self.is_valid():
            return None, None
        first, last = self.cleaned_data["events_from"], self.cleaned_data["events_to"]
        start = timezone.make_aware(datetime.combine(first, time.min)) if first else None
        end = (
            timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
            if last
            else None
        )
        return start, end


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


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (recorded in the audit log)"),
        min_length=3,
        max_length=150,
        help_text=_("For example the inquiry or case number you are working on."),
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
    period = TimelinePeriodForm(request.GET)
    recorded_from, recorded_before = period.period()
    personal_rows = [
        (capfirst(data_item_name(name)), personal.get(name) if personal is not None else MASK)
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
        "period_form": period,
        "period_query": _period_query(request) if period.is_valid() else "",
        "linked": list(selectors.member_linked_accounts(member=member)),
        "timeline": paginate(
            request,
            selectors.consent_timeline(
                member=member, recorded_from=recorded_from, recorded_before=recorded_before
            ),
            param="events",
            path=path,
            anchor="timeline",
        ),
        "states": list(selectors.consent_states(member=member, now=now)),
        "provisions": paginate(
            request,
            selectors.provision_records(member=member),
            param="provisions",
            per_page=25,
            path=path,
            anchor="provisions",
        ),
        "withdrawals": paginate(
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


def _period_query(request: HttpRequest) -> str:
    """The timeline's period as a query string, for its CSV download."""
    given = {
        name: request.GET[name] for name in TimelinePeriodForm.base_fields if request.GET.get(name)
    }
    return urlencode(given)


def _member_export(request: HttpRequest, member: MemberAccount, name: str) -> StreamingHttpResponse:
    now = timezone.now()
    label = f"{member.partner.slug}-{member.member_number}"
    if name == "timeline":
        recorded_from, recorded_before = TimelinePeriodForm(request.GET).period()
        events = selectors.consent_timeline(
            member=member, recorded_from=recorded_from, recorded_before=recorded_before
        )
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
        return _member_export(request, member, list_name)
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
