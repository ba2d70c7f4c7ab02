"""The alliance console in Japanese and in English: every partners page a manager reads shows
the partners app's words in the manager's language, none left in English on a Japanese page."""

import re
import uuid
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from django.utils.text import capfirst

from partners import services
from partners.actors import Actor
from partners.audit_actions import AUDIT_ACTIONS
from partners.models import AuditEvent, MemberImport, Partner, WebhookAttempt, WebhookDelivery
from tests.factories import issue_key, make_member

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).parents[2] / "partners/locale/ja/LC_MESSAGES/django.po"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
BAD_CSV = (
    "member_number,kind,name,email\n"
    "C-1,household,Ichiro Suzuki,ichiro@example.test\n"
    "C-2,household,Hanako Sato,hanako-at-example\n"
)


class _VisibleText(HTMLParser):
    """The words a person reads: text nodes and the words on buttons, titles and labels given
    as attributes; not scripts, styles, identifiers (``<code>``) or stored snapshots written in
    their writer's language (an audit event's actor, object and detail, an import's errors)."""

    ATTRIBUTES = ("title", "placeholder", "aria-label")
    HIDDEN_TAGS = ("script", "style", "code")
    # An audit summary quotes the recorded detail, an import's row errors the uploader's file.
    HIDDEN_CELLS = (
        "field-actor_label",
        "field-object_repr",
        "field-summary",
        "import-error-message",
    )

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden: list[str] = []  # the end tags that close what is hidden

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        classes = (named.get("class") or "").split()
        if tag in self.HIDDEN_TAGS or any(c in self.HIDDEN_CELLS for c in classes):
            self._hidden.append(tag)
        if self._hidden:
            return
        if "action-select" in classes:
            return  # its label quotes the row's name, which an audit event recorded as written
        words = [str(named[a]) for a in self.ATTRIBUTES if named.get(a)]
        if tag == "input" and named.get("type") in ("submit", "button") and named.get("value"):
            words.append(str(named["value"]))  # other values are data, not the page's words
        self.parts.extend(words)

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@cache
def _catalogue_phrases() -> tuple[str, ...]:
    """The English phrases of the partners catalogue a page can show as they are: each msgid
    (and its plural) without placeholders, that Japanese renders differently."""
    phrases = set()
    for entry in polib.pofile(str(CATALOGUE)):
        translated = entry.msgstr or entry.msgstr_plural.get(0, "")
        for msgid in (entry.msgid, entry.msgid_plural):
            if not msgid or msgid == translated or "%(" in msgid or "{" in msgid:
                continue
            phrases.update({msgid, capfirst(msgid)})
    return tuple(sorted(phrases, key=len, reverse=True))


def english_left(english_page: str, japanese_page: str) -> list[str]:
    """The catalogue's English phrases that the English page shows and the Japanese one still
    does: words that were not translated (or not marked for translation at all)."""
    left = []
    for phrase in _catalogue_phrases():
        # Whole words only, and not part of a code such as ``api_key.revoked``.
        pattern = re.compile(rf"(?<![\w.\-]){re.escape(phrase)}(?![\w\-]|\.\w)")
        if pattern.search(english_page) and pattern.search(japanese_page):
            left.append(phrase)
    return left


def _other_apps_words(language: str) -> list[str]:
    """The audit actions other apps register, in ``language``: the console lists them all,
    and each app translates its own."""
    own = {str(action.value) for action in AuditEvent.Action}
    with translation.override(language):
        return [str(label) for code, label in AUDIT_ACTIONS.items() if code not in own]


def _without(text: str, words: list[str]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, " ")
    return text


def _client(user: User, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def _both(user: User, url: str) -> tuple[str, str]:
    english = _client(user, "en").get(url)
    japanese = _client(user, "ja").get(url)
    assert english.status_code == japanese.status_code == 200, url
    assert english["Content-Language"] == "en"
    assert japanese["Content-Language"] == "ja"
    assert '<html lang="ja"' in japanese.content.decode()
    return (
        _without(visible_text(english.content.decode()), _other_apps_words("en")),
        _without(visible_text(japanese.content.decode()), _other_apps_words("ja")),
    )


@pytest.fixture
def world(alliance_manager: User, partner: Partner, host: Partner) -> dict[str, Any]:
    """One of everything the console lists, so each list and page has rows to show."""
    actor = Actor(user=alliance_manager)
    member = make_member(partner, "M-0001", name="山田 花子", address="東京都千代田区1-1")
    erased = make_member(partner, "M-0002", name="佐藤 一郎")
    services.member_erase(member=erased, actor=actor)
    key = issue_key(partner, name="nightly-report").api_key
    endpoint = services.webhook_endpoint_create(
        partner=partner,
        url="https://8.8.8.8/hook",
        events=["api_key.revoked"],
        actor=actor,
    ).endpoint
    delivery = WebhookDelivery.objects.create(
        event_id=uuid.uuid4(),
        event_type="api_key.revoked",
        payload={},
        endpoint=endpoint,
        state=WebhookDelivery.State.FAILED,
        attempt_count=2,
    )
    for number, error, status in ((1, "The endpoint is disabled.", None), (2, "", 500)):
        WebhookAttempt.objects.create(
            delivery=delivery,
            delivery_created_at=delivery.created_at,
            number=number,
            started_at=timezone.now(),
            duration_ms=12,
            status_code=status,
            error=error or "The receiver answered 500.",
        )
    job = services.member_import_create(
        partner=partner,
        upload=SimpleUploadedFile("members.csv", BAD_CSV.encode()),
        original_name="members.csv",
        actor=actor,
        enqueue=False,
    )
    services.member_import_run(job_id=job.id)
    services.partner_suspend(partner=host, actor=actor)
    return {
        "partner": partner,
        "member": member,
        "key": key,
        "endpoint": endpoint,
        "delivery": delivery,
        "job": MemberImport.objects.get(pk=job.pk),
        "role": alliance_manager.sanpo_role,
    }


def _pages(world: dict[str, Any]) -> list[str]:
    def change(model: str, obj: Any, page: str = "change") -> str:
        return f"/admin/partners/{model}/{obj.pk}/{page}/"

    lists = [
        f"/admin/partners/{model}/"
        for model in (
            "partner",
            "staffrole",
            "apikey",
            "webhookendpoint",
            "webhookdelivery",
            "auditevent",
            "memberaccount",
            "memberimport",
            "person",
        )
    ]
    adds = [
        f"/admin/partners/{model}/add/"
        for model in ("partner", "staffrole", "apikey", "webhookendpoint", "memberaccount")
    ]
    return [
        "/admin/",
        "/admin/partners/",
        *lists,
        *adds,
        "/admin/partners/memberimport/add/",
        change("partner", world["partner"]),
        change("staffrole", world["role"]),
        change("apikey", world["key"]),
        change("webhookendpoint", world["endpoint"]),
        change("webhookdelivery", world["delivery"]),
        change("memberaccount", world["member"]),
        change("memberaccount", world["member"], "reveal"),
        change("memberimport", world["job"]),
    ]


def test_every_console_page_speaks_the_manager_language(
    alliance_manager: User, world: dict[str, Any]
) -> None:
    untranslated = {}
    for url in _pages(world):
        english, japanese = _both(alliance_manager, url)
        assert JAPANESE.search(japanese), url
        left = english_left(english, japanese)
        if left:
            untranslated[url] = left
    assert not untranslated, "\n".join(f"{url}: {left}" for url, left in untranslated.items())


def test_the_console_names_partners_models_in_japanese(alliance_manager: User) -> None:
    english, japanese = _both(alliance_manager, "/admin/")

    assert "Partners and access" in english
    assert "Member accounts" in english
    assert "提携企業とアクセス" in japanese
    assert "会員アカウント" in japanese
    assert "監査ログ" in japanese


def test_the_member_list_shows_kinds_statuses_and_prefectures_in_japanese(
    alliance_manager: User, world: dict[str, Any]
) -> None:
    english, japanese = _both(alliance_manager, "/admin/partners/memberaccount/")

    assert "Household" in english
    assert "個人" in japanese
    assert "削除済み" in japanese  # the erased member's status
    assert "13 東京都" in english
    assert "13 東京都" in japanese  # JIS code and Japanese name in both languages


def test_the_erase_confirmation_speaks_the_manager_language(
    alliance_manager: User, world: dict[str, Any]
) -> None:
    def confirm(language: str) -> str:
        response = _client(alliance_manager, language).post(
            "/admin/partners/memberaccount/",
            {"action": "erase", "_selected_action": [str(world["member"].pk)]},
        )
        assert response.status_code == 200
        return visible_text(response.content.decode())

    english, japanese = confirm("en"), confirm("ja")

    assert "This cannot be undone." in english
    assert "この操作は取り消せません。" in japanese
    assert english_left(english, japanese) == []


def test_action_messages_speak_the_manager_language(
    alliance_manager: User, world: dict[str, Any]
) -> None:
    def deactivate(language: str) -> list[str]:
        response = _client(alliance_manager, language).post(
            "/admin/partners/memberaccount/",
            {"action": "deactivate", "_selected_action": [str(world["member"].pk)]},
            follow=True,
        )
        return [str(message) for message in response.context["messages"]]

    assert deactivate("en") == ["Deactivated 1 member account."]
    assert deactivate("ja") == ["1件の会員アカウントを無効にしました。"]
