"""The member's preference page (the link: ``links``): server-rendered, no log-in, in
Japanese or English, readable on a phone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.models import ConsentState, Purpose
from consent.preference_page.links import preference_link_member
from consent.preference_page.notices import published_notices
from consent.selectors import member_held_grants
from consent.services import consent_withdraw
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

TEXT = {
    "ja": {
        "title": "情報の提供先と利用目的",
        "intro": "あなたの情報を利用できる会社と目的の一覧です。いつでも取り消せます。",
        "company": "提供先",
        "purpose": "利用目的",
        "items": "提供する情報",
        "until": "有効期限",
        "none": "現在、提供に同意している会社はありません。",
        "withdraw": "同意を取り消す",
        "withdrawn": "同意を取り消しました。提供先にもすぐに通知されます。",
        "switch": "English",
        "notices": "共同利用について",
        "no_expiry": "取り消すまで",
    },
    "en": {
        "title": "Who may use your data, and for what",
        "intro": "These companies may use your data for these purposes. You can withdraw at any "
        "time.",
        "company": "Company",
        "purpose": "Purpose",
        "items": "Data provided",
        "until": "Valid until",
        "none": "You have not agreed to share your data with any company.",
        "withdraw": "Withdraw consent",
        "withdrawn": "Your consent is withdrawn; the company is told at once.",
        "switch": "日本語",
        "notices": "Joint use of your data",
        "no_expiry": "until you withdraw",
    },
}
ITEM_NAMES = {
    "ja": {"name": "氏名", "name_kana": "フリガナ", "email": "メールアドレス", "phone": "電話番号",
           "postal_code": "郵便番号", "address": "住所", "birth_date": "生年月日"},
    "en": {"name": "name", "name_kana": "name (kana)", "email": "e-mail", "phone": "phone",
           "postal_code": "postal code", "address": "address", "birth_date": "date of birth"},
}  # fmt: skip


def _link_invalid(request: HttpRequest) -> HttpResponse:
    # Tampered, expired or for an erased member: one answer for all, naming nobody, in both
    # languages since we cannot tell which the member reads.
    return render(request, "preference_page/link_invalid.html", status=404)


def _language(request: HttpRequest) -> str:
    return "en" if request.GET.get("lang") == "en" else "ja"


def _row(state: ConsentState, lang: str) -> dict[str, Any]:
    items = state.notice.conditions["data_items"] if state.notice else []
    return {
        "recipient": state.recipient,
        "recipient_name": state.recipient.name_ja if lang == "ja" else state.recipient.name_latin,
        "purpose": state.purpose,
        "purpose_name": state.purpose.name_ja if lang == "ja" else state.purpose.name_en,
        "items": [ITEM_NAMES[lang].get(item, item) for item in items],
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
    rows = [_row(state, lang) for state in member_held_grants(member, at=timezone.now())]
    # The token is in the URL: the site-wide Referrer-Policy (same-origin) keeps it from other
    # sites. Not no-referrer: browsers then post forms with "Origin: null", which CSRF refuses.
    return render(
        request,
        "preference_page/page.html",
        {
            "token": token,
            "lang": lang,
            "other_lang": "en" if lang == "ja" else "ja",
            "t": TEXT[lang],
            "rows": rows,
            "notices": published_notices(member, lang),
            "done": request.GET.get("done") == "1",
        },
    )


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
