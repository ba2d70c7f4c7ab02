"""The member's preference page (the link: ``links``): server-rendered, no log-in, in
Japanese or English, readable on a phone.

The page speaks the member's language, not the browser's: Japanese unless the link asks for
English (``?lang=en``), whatever the language switch or Accept-Language chose for the request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.models import ConsentEvent, ConsentState, ProvisionRecord, Purpose
from consent.names import data_item_list, partner_name
from consent.preference_page.branding import host_branding
from consent.preference_page.links import preference_link_member
from consent.preference_page.notices import published_notices
from consent.selectors import (
    member_held_grants,
    member_provisions,
    member_standing_withdrawal,
    member_withdrawal,
    member_withdrawals,
    notice_in_force_for_reader,
)
from consent.services import consent_withdraw
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

# A record listed in full could make a page no phone loads; the rest stays in the record, for an
# access request (which exports everything).
MAX_LISTED = 100

# Members read times in Japan's, whatever zone the server or their phone is in; the page says so.
TOKYO = ZoneInfo("Asia/Tokyo")


def _link_invalid(request: HttpRequest) -> HttpResponse:
    # Tampered, expired or for an erased member: one answer for all, naming nobody, in both
    # languages since we cannot tell which the member reads.
    return render(request, "preference_page/link_invalid.html", status=404)


def _language(request: HttpRequest) -> str:
    return "en" if request.GET.get("lang") == "en" else "ja"


def _consent_row(state: ConsentState) -> dict[str, Any]:
    """One consent as the page shows it, in the active language. A notice states one text for
    all its purposes, so what a company does with the data for a purpose is the catalogue's
    plain-language description of that purpose."""
    items = state.notice.conditions["data_items"] if state.notice else []
    return {
        "recipient": state.recipient,
        "recipient_name": partner_name(state.recipient),
        "purpose": state.purpose,
        "purpose_name": state.purpose.display_name,
        "description": state.purpose.display_description,
        "items": data_item_list(items),
        "expires_at": state.expires_at,
    }


def _withdrawal_row(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.occurred_at,
        "recipient_name": partner_name(event.recipient),
        "purpose_name": event.purpose.display_name,
        "channel": event.get_channel_display(),
    }


def _provision_row(record: ProvisionRecord) -> dict[str, Any]:
    return {
        "at": record.provided_at,
        "provider_name": partner_name(record.provider),
        "recipient_name": partner_name(record.recipient),
        "purpose_name": record.purpose.display_name,
        "items": data_item_list(record.data_items),
    }


MemberView = Callable[[HttpRequest, MemberAccount, str], HttpResponse]


def _for_linked_member(view: MemberView) -> Callable[[HttpRequest, str], HttpResponse]:
    """A view of the member the link's token was issued for; any other token gets the one
    invalid-link page. Never cached: the page shows one member's consents."""

    @never_cache
    @wraps(view)
    def resolved(request: HttpRequest, token: str) -> HttpResponse:
        member = preference_link_member(token, actor=Actor.from_request(request))
        if member is None:
            return _link_invalid(request)
        return view(request, member, token)

    return resolved


def _latest(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """At most ``MAX_LISTED`` rows under ``name``, and whether there were more
    (``<name>_cut``): the caller reads one row more than it lists to know."""
    return {name: rows[:MAX_LISTED], f"{name}_cut": len(rows) > MAX_LISTED}


def _page_context(member: MemberAccount, lang: str, withdrawn_id: str) -> dict[str, Any]:
    """Everything the page shows, read for this member alone, in the active language. A
    withdrawal to confirm is looked up among the member's own: another's id confirms nothing."""
    withdrawn = member_withdrawal(member, withdrawn_id) if withdrawn_id else None
    notice = notice_in_force_for_reader(language=lang)
    more = MAX_LISTED + 1
    return {
        "lang": lang,
        "other_lang": "en" if lang == "ja" else "ja",
        "brand": host_branding(member.partner),
        "rows": [_consent_row(state) for state in member_held_grants(member, at=timezone.now())],
        "withdrawn": _withdrawal_row(withdrawn) if withdrawn is not None else None,
        **_latest("withdrawals", [_withdrawal_row(e) for e in member_withdrawals(member)[:more]]),
        **_latest("provisions", [_provision_row(r) for r in member_provisions(member)[:more]]),
        "notices": published_notices(member, lang),
        "notice": notice,
        "notice_in_other_language": notice is not None and notice.language != lang,
    }


@require_GET
@_for_linked_member
def preference_page(request: HttpRequest, member: MemberAccount, token: str) -> HttpResponse:
    lang = _language(request)
    with translation.override(lang), timezone.override(TOKYO):
        context = _page_context(member, lang, request.GET.get("withdrawn", ""))
        # The token is in the URL: the site-wide Referrer-Policy (same-origin) keeps it from
        # other sites. Not no-referrer: browsers then post forms with "Origin: null", which
        # CSRF refuses.
        response = render(request, "preference_page/page.html", {"token": token, **context})
    # The middleware would name the request's language, which this page does not follow.
    response["Content-Language"] = lang
    return response


def _confirmation(token: str, lang: str, withdrawal: ConsentEvent) -> HttpResponse:
    """Back to the page (post/redirect/get), which confirms this withdrawal with its time; a
    reload shows the confirmation again and withdraws nothing more."""
    query = urlencode({"lang": lang, "withdrawn": str(withdrawal.pk)})
    return redirect(f"{reverse('preference-page', kwargs={'token': token})}?{query}")


@require_POST
@_for_linked_member
def preference_withdraw(request: HttpRequest, member: MemberAccount, token: str) -> HttpResponse:
    purpose = Purpose.objects.filter(code=request.POST.get("purpose", "")).first()
    recipient = Partner.objects.filter(slug=request.POST.get("recipient", "")).first()
    if purpose is None or recipient is None:
        raise Http404("No such consent.")
    try:
        withdrawal = consent_withdraw(
            member=member,
            purpose_code=purpose.code,
            recipient=recipient,
            channel="preference_page",
            occurred_at=timezone.now(),
            actor=Actor.from_request(request),
        )
    except ApplicationError:
        # Posted twice (a double tap, the back button): the first post withdrew it already.
        standing = member_standing_withdrawal(
            member, purpose_code=purpose.code, recipient=recipient
        )
        if standing is None:
            raise Http404("No such consent.") from None
        withdrawal = standing
    return _confirmation(token, _language(request), withdrawal)
