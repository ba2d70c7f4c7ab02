"""Consent in Japanese and in English: the names of what the record holds, the API's error
messages, the compliance pages and their CSV files, and the member's preference page.

The suite reads English unless a test asks (tests/conftest.py); these tests ask for Japanese.
"""

import csv
import io
import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation

from consent.models import ConsentEvent, DataSubjectRequest, Purpose
from consent.names import DATA_ITEM_NAMES, data_item_name, partner_name
from consent.preference_page import notices
from consent.preference_page.notices import PublishedNotice
from consent.services import chain_problem_text, chains_verify_all, consent_grant
from federation.agreements.terms import FLOW_FIELDS
from partners.actors import Actor
from partners.member_columns import PERSONAL_FIELDS
from partners.models import MemberAccount, Partner
from tests.conftest import Key, client_for
from tests.consent.test_compliance_pages import World
from tests.factories import make_member, make_notice

pytestmark = pytest.mark.django_db


# --- Names ------------------------------------------------------------------------------------


def test_every_data_item_a_notice_or_a_flow_may_name_has_a_name_in_both_languages() -> None:
    assert set(PERSONAL_FIELDS) | set(FLOW_FIELDS) <= set(DATA_ITEM_NAMES)
    for code in DATA_ITEM_NAMES:
        with translation.override("en"):
            english = data_item_name(code)
        with translation.override("ja"):
            japanese = data_item_name(code)
        assert english != japanese, code
        assert english.isascii(), code
        assert not japanese.isascii(), code


@pytest.mark.parametrize(
    ("code", "english", "japanese"),
    [
        ("email", "e-mail", "メールアドレス"),
        ("age_band", "age band", "年代"),
        ("kind", "member type", "会員区分"),
    ],
)
def test_a_data_item_is_named_in_the_active_language(
    code: str, english: str, japanese: str
) -> None:
    with translation.override("en"):
        assert data_item_name(code) == english
    with translation.override("ja"):
        assert data_item_name(code) == japanese
    assert data_item_name("not_named_yet") == "not_named_yet"


def test_purposes_partners_and_choices_are_named_in_the_active_language(partner: Partner) -> None:
    purpose = Purpose.objects.get(code="profile_sharing")
    with translation.override("ja"):
        assert purpose.display_name == purpose.name_ja == "会員情報の共有"
        assert partner_name(partner) == partner.name_ja
        assert DataSubjectRequest.Kind.ERASURE.label == "削除"
        assert str(DataSubjectRequest._meta.verbose_name) == "本人からの請求"
    with translation.override("en"):
        assert purpose.display_name == purpose.name_en == "Profile sharing"
        assert partner_name(partner) == partner.name_latin
        assert DataSubjectRequest.Kind.ERASURE.label == "Erasure"


# --- The API: error messages in the language asked for, codes and statuses unchanged ------------


def _post(key: Key, path: str, body: dict[str, Any], language: str) -> Any:
    client = client_for(key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}", HTTP_ACCEPT_LANGUAGE=language)
    return client.post(path, body, format="json")


def _same_error_in_both_languages(
    key: Key, path: str, body: dict[str, Any], *, status: int, code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The error of the same request asked in English and in Japanese: the same status, code and
    fields, each answer saying which language it is in."""
    english, japanese = (_post(key, path, body, language) for language in ("en", "ja"))
    for response, language in ((english, "en"), (japanese, "ja")):
        assert response.status_code == status, response.content
        assert response["Content-Language"] == language
        assert response.json()["error"]["code"] == code
    errors = english.json()["error"], japanese.json()["error"]
    assert set(errors[0]) == set(errors[1])
    assert set(errors[0].get("fields", {})) == set(errors[1].get("fields", {}))
    return errors


def test_a_brand_recording_for_another_recipient_is_refused_in_either_language(
    partner_key: Key, partner: Partner, host: Partner
) -> None:
    notice = make_notice(purposes=["cross_enrollment"], recipients=[host], data_items=["name"])
    make_member(partner, "BC-1")
    body = {
        "purpose": "cross_enrollment",
        "recipient": host.slug,
        "notice": str(notice.pk),
        "channel": "partner_app",
        "occurred_at": timezone.now().isoformat(),
    }

    english, japanese = _same_error_in_both_languages(
        partner_key,
        "/api/v1/members/BC-1/consents",
        body,
        status=403,
        code="permission_denied",
    )

    assert "itself as the recipient" in english["message"]
    assert "ホスト企業のポータル" in japanese["message"]
    assert ConsentEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "english_noun", "japanese_noun"),
    [
        ("/api/v1/data-requests/{id}", "data request", "本人からの請求"),
        ("/api/v1/consent/withdrawals/{id}/acknowledge", "withdrawal", "撤回"),
    ],
)
def test_a_missing_consent_object_is_named_in_the_language_asked_for(
    partner_key: Key, path: str, english_noun: str, japanese_noun: str
) -> None:
    import uuid

    missing = path.format(id=uuid.uuid4())
    method = "post" if missing.endswith("acknowledge") else "get"
    answers = {}
    for language in ("en", "ja"):
        client = client_for(partner_key)
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {partner_key.plaintext}", HTTP_ACCEPT_LANGUAGE=language
        )
        response = getattr(client, method)(missing)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        answers[language] = response.json()["error"]["message"]
    assert answers["en"] == f"No such {english_noun}."
    assert japanese_noun in answers["ja"]
    assert not re.search(r"[A-Za-z]", answers["ja"]), answers["ja"]


def test_an_identity_that_does_not_match_is_refused_in_either_language(
    host_key: Key, host: Partner
) -> None:
    make_member(host, "K-1", email="hanako@example.jp", phone="090-1111-2222")
    body = {"kind": "access", "identity": {"email": "hanako@example.jp", "phone": "090-0000-0000"}}

    english, japanese = _same_error_in_both_languages(
        host_key,
        "/api/v1/members/K-1/data-requests",
        body,
        status=403,
        code="identity_not_verified",
    )

    assert "does not match the member's record" in english["message"]
    assert japanese["message"] == "本人確認情報が会員の記録と一致しません。何も処理していません。"
    assert DataSubjectRequest.objects.count() == 0


def test_a_field_error_is_in_the_language_asked_for_under_its_unchanged_field(
    host_key: Key, host: Partner
) -> None:
    make_member(host, "K-1")
    body = {"purpose": "no_such_purpose", "members": ["K-1"]}

    english, japanese = _same_error_in_both_languages(
        host_key, "/api/v1/consent/check", body, status=400, code="validation_failed"
    )

    assert english["fields"]["purpose"] == ["There is no purpose 'no_such_purpose'."]
    assert japanese["fields"]["purpose"] == ["利用目的 'no_such_purpose' はありません。"]


def test_the_api_documentation_of_consent_rows_stays_english_whatever_the_language() -> None:
    from drf_spectacular.generators import SchemaGenerator

    def components(language: str) -> dict[str, Any]:
        with translation.override(language):
            schema = SchemaGenerator().get_schema(request=None, public=True)
        return {
            name: schema["components"]["schemas"][name]
            for name in ("PurposeOutput", "NoticeOutput", "ConsentEventOutput", "DataRequestOutput")
        }

    japanese, english = components("ja"), components("en")

    assert japanese == english
    occurred_at = english["ConsentEventOutput"]["properties"]["occurred_at"]
    assert occurred_at["description"] == "When the member said so (aware, any zone)."
    assert "title" not in occurred_at


# --- The compliance pages ----------------------------------------------------------------------

# Words a Japanese page may share with the English one: the record's own data (slugs, purpose
# codes, the reviewer's user name, actor labels), names that are not words (Sanpo, CSV), and
# the partners app's labels of a member's kind and status, which that app translates.
DATA_WORDS = {
    *("host", "brand", "outsider", "co", "carol", "reviewer", "system"),
    *("cross", "enrollment", "profile", "sharing", "jp", "ja", "id"),
    *("sanpo", "csv", "asia", "tokyo", "english"),
    *("household", "active"),
}


def _words(html: str, *, leave_out: tuple[str, ...] = ()) -> set[str]:
    """The words a reader sees on a page, labels of phone cards and navigation included; codes
    (``<code>``: hashes, ids, pseudonyms) left out."""
    html = re.sub(r"<(style|code)\b.*?</\1>", " ", html, flags=re.S)
    labels = " ".join(re.findall(r'(?:data-label|aria-label)="([^"]*)"', html))
    text = unescape(re.sub(r"<[^>]+>", " ", html)) + " " + unescape(labels)
    for data in leave_out:
        text = text.replace(data, " ")
    return {word.lower() for word in re.findall(r"[A-Za-z]{2,}", text)}


@pytest.fixture
def world(host: Partner, partner: Partner, outsider: Partner) -> World:
    world = World(host, partner, outsider)
    world.make_withdrawal_overdue()
    world.request(world.hanako, "access", received_days_ago=40, due_in_days=-10)
    chains_verify_all()
    return world


def _pages(world: World) -> list[str]:
    return [
        "/compliance/",
        f"/compliance/members/{world.hanako.pk}/",
        "/compliance/search/",
        "/compliance/requests/",
        "/compliance/withdrawals/overdue/",
        "/compliance/chain/",
    ]


def test_a_reviewer_reads_every_compliance_page_in_japanese_by_default(
    world: World, compliance_reviewer: User, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "ja"  # the configured default; the browser names no language
    reviewer = Client()
    reviewer.force_login(compliance_reviewer)
    record_text = world.provision.recipient_obtained_from  # the record as written, in English

    for url in _pages(world):
        japanese = reviewer.get(url)
        english = reviewer.get(url, headers={"accept-language": "en"})

        assert japanese["Content-Language"] == "ja", url
        assert '<html lang="ja">' in japanese.content.decode(), url
        assert '<html lang="en">' in english.content.decode(), url
        left = _words(japanese.content.decode(), leave_out=(record_text,)) & _words(
            english.content.decode(), leave_out=(record_text,)
        )
        assert left <= DATA_WORDS, f"{url}: English left on the Japanese page: {left - DATA_WORDS}"


def test_the_japanese_member_page_names_purposes_partners_items_and_dates_in_japanese(
    world: World, reviewer_ja: Client
) -> None:
    page = reviewer_ja.get(f"/compliance/members/{world.hanako.pk}/").content.decode()

    assert "<h1>会員 K-1" in page
    assert "会員情報の共有" in page  # the purpose's Japanese name
    assert world.brand.name_ja in page
    assert "<dt>メールアドレス</dt>" in page  # the masked personal data's labels
    assert "●●●●" in page
    assert "非表示" in page
    assert "2020/04/01" in page  # the joined date, in the Japanese short format
    assert '<td data-label="提供した項目">氏名</td>' in page
    assert '<span class="okay">同意中</span>' in page  # a state's status
    assert "期限超過" in page


@pytest.fixture
def reviewer_ja(compliance_reviewer: User) -> Client:
    client = Client(headers={"accept-language": "ja"})
    client.force_login(compliance_reviewer)
    return client


def test_the_language_switch_comes_back_to_the_same_page_in_the_other_language(
    world: World, reviewer_ja: Client
) -> None:
    page = reviewer_ja.get("/compliance/requests/?status=verified").content.decode()
    assert '<input type="hidden" name="next" value="/compliance/requests/?status=verified">' in page
    assert 'value="en" lang="en">English</button>' in page  # each language in its own name
    assert 'value="ja" lang="ja" aria-pressed="true">日本語</button>' in page

    switched = reviewer_ja.post(
        "/i18n/setlang/", {"language": "en", "next": "/compliance/requests/?status=verified"}
    )

    assert switched.status_code == 302
    assert switched["Location"] == "/compliance/requests/?status=verified"
    english = reviewer_ja.get(switched["Location"])
    assert english["Content-Language"] == "en"  # the switch wins over the browser's Japanese
    assert "<h1>Data-subject requests</h1>" in english.content.decode()


def test_the_language_switch_on_the_search_never_carries_what_was_searched_for(
    world: World, reviewer_ja: Client
) -> None:
    typed = reviewer_ja.get("/compliance/search/", {"q": "hanako.sato@example.jp"})
    results = reviewer_ja.post("/compliance/search/", {"q": "hanako.sato@example.jp"})

    for page in (typed.content.decode(), results.content.decode()):
        assert '<input type="hidden" name="next" value="/compliance/search/">' in page
    assert "検索結果" in results.content.decode()


def _csv_rows(response: Any) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode()), "Excel in Japan needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("name", ["timeline", "states", "provisions", "withdrawals", "requests"])
def test_a_csv_is_headed_in_the_reviewers_language_and_its_codes_do_not_change(
    world: World, compliance_reviewer: User, name: str
) -> None:
    reviewer = Client()
    reviewer.force_login(compliance_reviewer)
    url = f"/compliance/members/{world.hanako.pk}/{name}.csv"

    english = _csv_rows(reviewer.get(url, headers={"accept-language": "en"}))
    japanese = _csv_rows(reviewer.get(url, headers={"accept-language": "ja"}))

    assert english[0][0].isascii()
    assert all(not header.isascii() for header in japanese[0]), japanese[0]
    assert len(japanese[0]) == len(english[0])
    assert japanese[1:] == english[1:]  # slugs, codes, yes/no, ISO times


def test_the_counts_csv_names_recipients_in_the_reviewers_language(
    world: World, reviewer_ja: Client
) -> None:
    rows = _csv_rows(reviewer_ja.get("/compliance/counts.csv"))

    assert rows[0] == ["提供先", "提供先名", "利用目的", "同意中", "撤回", "期限切れ"]
    assert [world.brand.slug, world.brand.name_ja, "cross_enrollment"] == rows[1][:3]


def test_a_chain_break_reads_in_the_reviewers_language(world: World, reviewer_ja: Client) -> None:
    ConsentEvent.objects.filter(member=world.hanako, sequence=2).update(channel="paper")
    chains_verify_all()

    assert "記録後に変更されています" in reviewer_ja.get("/compliance/chain/").content.decode()
    rows = _csv_rows(reviewer_ja.get("/compliance/chain.csv"))
    assert rows[1][-1] == "記録後に変更されています"
    with translation.override("ja"):
        assert chain_problem_text("event #3 is missing") == "イベント #3 が欠落しています"
        assert chain_problem_text("something new") == "something new"


# --- The member's preference page ---------------------------------------------------------------


@pytest.fixture
def member_link(host: Partner, partner: Partner, host_key: Key) -> str:
    """The path of a host member's link, who agreed to share items of every kind."""
    notice = make_notice(
        purposes=["profile_sharing"],
        recipients=[partner],
        data_items=["name", "email", "age_band", "prefecture", "kind"],
    )
    member = make_member(host, "K-1")
    consent_grant(
        member=member,
        purpose_code="profile_sharing",
        recipient=partner,
        notice=notice,
        channel="host_portal",
        occurred_at=timezone.now() - timedelta(hours=1),
        actor=Actor.system(),
    )
    response = client_for(host_key).post("/api/v1/members/K-1/preference-link")
    return str(urlsplit(response.json()["url"]).path)


def test_the_preference_page_is_japanese_whatever_the_browser_asks_unless_the_link_says(
    member_link: str, host: Partner, partner: Partner
) -> None:
    browser = Client(headers={"accept-language": "en"})
    browser.cookies["django_language"] = "en"

    japanese = browser.get(member_link)
    english = browser.get(member_link + "?lang=en")

    page = japanese.content.decode()
    assert japanese["Content-Language"] == "ja"
    assert '<html lang="ja">' in page
    assert "<h1>情報の提供先と利用目的</h1>" in page
    assert "<dd>氏名、メールアドレス、年代、都道府県、会員区分</dd>" in page
    assert partner.name_ja in page
    assert "会員情報の共有" in page
    assert '<a class="lang" href="?lang=en" lang="en" hreflang="en">English</a>' in page
    page = english.content.decode()
    assert english["Content-Language"] == "en"
    assert '<html lang="en">' in page
    assert "<dd>name, e-mail, age band, prefecture, member type</dd>" in page
    assert partner.name_latin in page
    assert '<a class="lang" href="?lang=ja" lang="ja" hreflang="ja">日本語</a>' in page
    left = _words(japanese.content.decode()) & _words(english.content.decode())
    # The switch; the factories' 「brand-co株式会社」 and the host's in the page's header.
    names = {"english", *partner.slug.split("-"), *host.slug.split("-")}
    assert left <= names, f"English left on the Japanese page: {left - names}"


def test_notices_other_apps_publish_are_asked_for_in_the_pages_language(
    member_link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def joint_use(member: MemberAccount, language: str) -> list[PublishedNotice]:
        label = translation.gettext("Joint use of your data")  # whatever the source translates
        return [PublishedNotice(title=language, items=[(label, data_item_name("age_band"))])]

    monkeypatch.setattr(notices, "_SOURCES", [joint_use])

    japanese = Client().get(member_link).content.decode()
    english = Client().get(member_link + "?lang=en").content.decode()

    assert "<h3>ja</h3>" in japanese
    assert "<dt>共同利用について</dt><dd>年代</dd>" in japanese
    assert "<h3>en</h3>" in english
    assert "<dt>Joint use of your data</dt><dd>age band</dd>" in english


def test_a_bad_link_answers_in_both_languages(member_link: str) -> None:
    response = Client(headers={"accept-language": "en"}).get(member_link[:-2] + "x/")

    page = response.content.decode()
    assert response.status_code == 404
    assert '<section lang="ja">\n  <h1>このリンクは使えません</h1>' in page
    assert '<section lang="en">\n  <h1>This link does not work</h1>' in page
    assert "<title>このリンクは使えません / This link does not work</title>" in page


# --- The console --------------------------------------------------------------------------------


def test_the_console_shows_consent_rows_in_japanese(world: World, alliance_manager: Any) -> None:
    console = Client(headers={"accept-language": "ja"})
    console.force_login(alliance_manager)
    event = ConsentEvent.objects.filter(member=world.hanako).first()
    assert event is not None

    listed = console.get("/admin/consent/consentevent/").content.decode()
    shown = console.get(f"/admin/consent/consentevent/{event.pk}/change/").content.decode()
    purposes = console.get("/admin/consent/purpose/").content.decode()

    assert "同意イベント" in listed
    assert "取得経路" in listed  # a column and a filter
    assert "ホスト企業のポータル" in listed  # a channel
    assert "同意の取得" in shown  # a fieldset
    assert "相互会員登録" in shown  # the purpose, by its Japanese name
    assert "名称\uff08日本語\uff09" in purposes  # a column
