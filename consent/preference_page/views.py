"""The member's preference page (the link: ``links``): server-rendered, no log-in, in
Japanese or English, readable on a phone.

The page speaks the member's language, not the browser's: Japanese unless the link asks for
English (``?lang=en``), whatever the language switch or Accept-Language chose for the request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.models import ConsentState, Purpose
from consent.names import data_item_list, partner_name
from consent.preference_page.links import preference_link_member
from consent.preference_page.notices import published_notices
from consent.selectors import member_held_grants
from consent.services import consent_withdraw
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner


def _link_invalid(request: HttpRequest) -> HttpResponse:
    # Tampered, expired or for an erased member: one answer for all, naming nobody, in both
    # languages since we cannot tell which the member reads.
    return render(request, "preference_page/link_invalid.html", status=404)


def _language(request: HttpRequest) -> str:
    return "en" if request.GET.get("lang") == "en" else "ja"


def _row(state: ConsentState) -> dict[str, Any]:
    """One consent as the page shows it, in the active language."""
    items = state.notice.conditions["data_items"] if state.notice else []
    return {
        "recipient": state.recipient,
        "recipient_name": partner_name(state.recipient),
        "purpose": state.purpose,
        "purpose_name": state.purpose.display_name,
        "items": data_item_list(items),
        "expires_at": state.expires_at,
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


@require_GET
@_for_linked_member
def preference_page(request: HttpRequest, member: MemberAccount, token: str) -> HttpResponse:
    lang = _language(request)
    with translation.override(lang):
        rows = [_row(state) for state in member_held_grants(member, at=timezone.now())]
        # The token is in the URL: the site-wide Referrer-Policy (same-origin) keeps it from
        # other sites. Not no-referrer: browsers then post forms with "Origin: null", which
        # CSRF refuses.
        response = render(
            request,
            "preference_page/page.html",
            {
                "token": token,
                "lang": lang,
                "other_lang": "en" if lang == "ja" else "ja",
                "rows": rows,
                "notices": published_notices(member, lang),
                "done": request.GET.get("done") == "1",
            },
        )
    # The middleware would name the request's language, which this page does not follow.
    response["Content-Language"] = lang
    return response


@require_POST
@_for_linked_member
def preference_withdraw(request: HttpRequest, member: MemberAccount, token: str) -> HttpResponse:
    purpose = Purpose.objects.filter(code=request.POST.get("purpose", "")).first()
    recipient = Partner.objects.filter(slug=request.POST.get("recipient", "")).first()
    if purpose is None or recipient is None:
        raise Http404("No such consent.")
    try:
        consent_withdraw(
            member=member,
            purpose_code=purpose.code,
            recipient=recipient,
            channel="preference_page",
            occurred_at=timezone.now(),
            actor=Actor.from_request(request),
        )
    except ApplicationError:
        raise Http404("No such consent.") from None
    return redirect(f"{request.path.rsplit('/withdraw', 1)[0]}/?lang={_language(request)}&done=1")
