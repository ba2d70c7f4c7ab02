"""The member's preference page: the host's portal gets a signed link for one member; the page
shows, in Japanese or English, who may use which data for what, what the member withdrew and
when, and which company received which of their data when; and withdraws with one click. No
log-in, and nothing but that member's own record is reachable with the link."""

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentEvent, ConsentState, Purpose, WithdrawalNotice
from consent.preference_page import links, views
from consent.preference_page.branding import DEFAULT_COLOUR
from consent.preference_page.views import TOKYO
from consent.selectors import consent_check
from consent.services import consent_grant, consent_withdraw, provision_record
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner
from partners.services import member_erase
from tests.conftest import Key, client_for
from tests.factories import grant_consent, make_member, make_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def consented(host: Partner, partner: Partner) -> tuple[MemberAccount, MemberAccount]:
    """Hanako and Jiro, host members, both agreed to share their name and e-mail with the brand."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["profile_sharing"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=3),
    )
    members = (make_member(host, "K-1"), make_member(host, "K-2"))
    for member in members:
        consent_grant(
            member=member,
            purpose_code="profile_sharing",
            recipient=partner,
            notice=notice,
            channel="host_portal",
            occurred_at=timezone.now() - timedelta(days=1),
            actor=Actor.system(),
        )
    return members


def _visible(response: Any) -> str:
    """The text a reader sees, spaces collapsed: no tags, attributes (hidden form values) or
    styles."""
    assert response.status_code == 200, response.status_code
    html = re.sub(r"<style\b.*?</style>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _words_of(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]+", text))


def _link(key: Key, number: str) -> str:
    response = client_for(key).post(f"/api/v1/members/{number}/preference-link")
    assert response.status_code == 201, response.content
    url: str = response.json()["url"]
    return url.split("testserver", 1)[1]


def test_the_member_sees_their_consents_in_japanese_or_english_and_withdraws_one(
    consented: Any, host_key: Key, partner: Partner
) -> None:
    hanako, jiro = consented
    page = _link(host_key, "K-1")
    browser = Client(enforce_csrf_checks=True)

    japanese = browser.get(page)
    assert japanese.status_code == 200
    assert partner.name_ja in japanese.content.decode()
    assert "会員情報の共有" in japanese.content.decode()
    assert "メールアドレス" in japanese.content.decode()
    assert japanese["Cache-Control"].startswith("max-age=0")
    english = browser.get(page + "?lang=en").content.decode()
    assert partner.name_latin in english
    assert "Profile sharing" in english

    token = browser.cookies["csrftoken"].value
    posted = browser.post(
        page + "withdraw?lang=en",
        {"purpose": "profile_sharing", "recipient": partner.slug, "csrfmiddlewaretoken": token},
    )

    event = ConsentEvent.objects.get(member=hanako, action="withdrawn")
    # Post/redirect/get: the page the browser lands on names the withdrawal, not a form.
    assert posted.status_code == 302
    assert posted["Location"] == f"{page}?lang=en&withdrawn={event.pk}"
    assert event.channel == "preference_page"
    assert event.captured_by  # the record says who captured it: the chain is the audit
    done = browser.get(posted["Location"])
    # The token in the URL goes to no other site (and forms still post with a real Origin).
    assert done["Referrer-Policy"] == "same-origin"
    assert "<form" not in done.content.decode()  # nothing left to withdraw
    check = consent_check(member_id=hanako.pk, purpose_code="profile_sharing", recipient=partner)
    assert check.reason == "withdrawn"
    assert WithdrawalNotice.objects.get().recipient == partner  # the brand is told at once
    assert consent_check(member_id=jiro.pk, purpose_code="profile_sharing", recipient=partner)


def test_the_confirmation_says_what_was_withdrawn_and_when_in_tokyo_time(
    consented: Any, host_key: Key, partner: Partner
) -> None:
    hanako, _ = consented
    page = _link(host_key, "K-1")

    posted = Client().post(
        page + "withdraw", {"purpose": "profile_sharing", "recipient": partner.slug}
    )
    confirmed = _visible(Client().get(posted["Location"]))

    event = ConsentEvent.objects.get(member=hanako, action="withdrawn")
    tokyo = timezone.localtime(event.occurred_at, TOKYO)
    assert posted["Location"] == f"{page}?lang=ja&withdrawn={event.pk}"
    assert (
        f"同意を撤回しました。{partner.name_ja}は今後、「会員情報の共有」のためにあなたの情報を"
        "利用できません。" in confirmed
    )
    assert f"撤回日時：{tokyo:%Y/%m/%d %H:%M}（日本時間）。" in confirmed  # noqa: RUF001
    english = _visible(Client().get(posted["Location"].replace("lang=ja", "lang=en")))
    assert (
        f"You withdrew your consent: {partner.name_latin} may no longer use your data for "
        "“Profile sharing”." in english
    )
    assert f"Withdrawn at {tokyo:%Y-%m-%d %H:%M} (Japan time)." in english
    # Without the withdrawal in the address, the page confirms nothing.
    assert "撤回日時" not in _visible(Client().get(page))


def test_posting_the_form_again_confirms_the_first_withdrawal_and_records_no_other(
    consented: Any, host_key: Key, partner: Partner
) -> None:
    page = _link(host_key, "K-1")
    body = {"purpose": "profile_sharing", "recipient": partner.slug}

    first = Client().post(page + "withdraw", body)
    again = Client().post(page + "withdraw", body)  # a double tap, or the back button

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 1
    assert WithdrawalNotice.objects.count() == 1


def test_the_withdrawals_stay_listed_with_their_time_in_tokyo(
    consented: Any, host: Partner, host_key: Key, partner: Partner
) -> None:
    saburo = make_member(host, "K-3")
    now = timezone.now()
    grant_consent(saburo, partner, "profile_sharing", occurred_at=now - timedelta(days=2))
    # The last 15:30 in UTC: half past midnight the next day in Tokyo.
    at = now.replace(hour=15, minute=30, second=0, microsecond=0)
    if at > now:
        at -= timedelta(days=1)
    consent_withdraw(
        member=saburo,
        purpose_code="profile_sharing",
        recipient=partner,
        channel="call_centre",
        occurred_at=at,
        actor=Actor.system(),
    )
    page = _link(host_key, "K-3")

    japanese = _visible(Client().get(page))
    english = _visible(Client().get(page + "?lang=en"))

    tokyo = timezone.localtime(at, TOKYO)
    assert tokyo.strftime("%H:%M") == "00:30"
    assert "撤回の履歴" in japanese
    assert (
        f"{tokyo:%Y/%m/%d %H:%M} {partner.name_ja}：「会員情報の共有」"  # noqa: RUF001
        "（撤回の受付：コールセンター）" in japanese  # noqa: RUF001
    )
    assert "撤回した同意はありません" not in japanese
    assert (
        f"{tokyo:%Y-%m-%d %H:%M} {partner.name_latin}: “Profile sharing” "
        "(withdrawn through: Call centre)" in english
    )
    assert "You have not agreed to share your data with any company." in english
    # Given again later, the withdrawal stays in the history: it is a record, not a card.
    grant_consent(saburo, partner, "profile_sharing", occurred_at=timezone.now())
    again = _visible(Client().get(page))
    assert f"{tokyo:%Y/%m/%d %H:%M} {partner.name_ja}：「会員情報の共有」" in again  # noqa: RUF001
    assert "同意を撤回する" in again


def test_a_member_without_withdrawals_or_provisions_is_told_so(
    consented: Any, host_key: Key
) -> None:
    page = _visible(Client().get(_link(host_key, "K-1")))

    assert "撤回した同意はありません。" in page
    assert "あなたの情報が提供された記録はまだありません。" in page


def test_each_consent_says_what_the_company_does_with_the_data(
    consented: Any, host_key: Key, partner: Partner
) -> None:
    page = _link(host_key, "K-1")

    japanese = Client().get(page).content.decode()
    english = Client().get(page + "?lang=en").content.decode()

    # The notice states one text for all its purposes: each purpose is described in the
    # catalogue's plain words, in the reader's language.
    purpose = Purpose.objects.get(code="profile_sharing")
    assert f"<dt>提供先での利用内容</dt><dd>{purpose.description_ja}</dd>" in japanese
    assert f"<dt>What it does with your data</dt><dd>{purpose.description_en}</dd>" in english
    assert f"<dt>提供先</dt><dd>{partner.name_ja}</dd>" in japanese
    assert f"<dt>Company</dt><dd>{partner.name_latin}</dd>" in english


def test_the_notice_in_force_is_shown_in_the_readers_language(
    host: Partner, partner: Partner, host_key: Key
) -> None:
    member = make_member(host, "K-1")
    common: dict[str, Any] = {
        "purposes": ["profile_sharing"],
        "recipients": [partner],
        "data_items": ["name"],
    }
    make_notice(**common, version=1, language="ja", text="第一版の通知です。")
    make_notice(**common, version=1, language="en", text="This is the first notice.")
    make_notice(**common, version=2, language="ja", text="第二版の通知です。")
    later = timezone.now() + timedelta(days=7)
    make_notice(**common, version=3, language="ja", text="まだ効力のない通知。", effective_at=later)
    grant_consent(member, partner, "profile_sharing")
    page = _link(host_key, "K-1")

    japanese = _visible(Client().get(page))
    english = _visible(Client().get(page + "?lang=en"))

    assert "第二版の通知です。" in japanese
    assert "第2版" in japanese
    assert "第一版" not in japanese
    assert "まだ効力のない通知" not in japanese
    # Version 2 has no English text: the page says so and shows the Japanese one.
    assert "Version 2, in effect from" in english
    assert "It is published in Japanese only." in english
    assert "第二版の通知です。" in english
    assert "This is the first notice." not in english


# Every code a notice, a consent or a provision may name, and how each reads.
ITEM_CODES = ["name", "name_kana", "email", "birth_date", "postal_code", "age_band"]
ITEM_CODES += ["prefecture", "kind"]


def test_every_data_item_is_named_and_no_code_shows(
    host: Partner, partner: Partner, host_key: Key
) -> None:
    member = make_member(host, "K-1")
    make_notice(
        purposes=["profile_sharing", "research_survey"],
        recipients=[partner],
        data_items=ITEM_CODES,
        text="会員情報を提携先に提供します。",
    )
    grant_consent(member, partner, "profile_sharing", "research_survey")
    provision_record(
        member=member,
        recipient=partner,
        purpose_code="research_survey",
        data_items=["age_band", "prefecture", "kind"],
        actor=Actor.system(),
    )
    consent_withdraw(
        member=member,
        purpose_code="research_survey",
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )
    page = _link(host_key, "K-1")

    japanese = _visible(Client().get(page))
    english = _visible(Client().get(page + "?lang=en"))

    codes = [*ITEM_CODES, "profile_sharing", "research_survey", "preference_page", partner.slug]
    assert _words_of(japanese) & set(codes) == set()
    named = "氏名、フリガナ、メールアドレス、郵便番号、生年月日、年代、都道府県、会員区分"
    assert named in japanese
    assert "年代、都道府県、会員区分を提供しました。" in japanese
    # In English some items are named by an ordinary word that is also their code ("name",
    # "prefecture"); the codes that are not words must not show, nor "kind".
    assert {"name_kana", "birth_date", "postal_code", "age_band", "kind"} & _words_of(
        english
    ) == set()
    assert "your age band, prefecture, member type for “Research survey”." in english


def test_the_provision_records_show_who_received_which_data_and_when(
    consented: Any, host: Partner, host_key: Key, partner: Partner
) -> None:
    hanako, jiro = consented
    at = timezone.now() - timedelta(hours=2)
    provision_record(
        member=hanako,
        recipient=partner,
        purpose_code="profile_sharing",
        data_items=["email"],
        actor=Actor.system(),
        at=at,
    )
    provision_record(  # Jiro's, which Hanako never sees
        member=jiro,
        recipient=partner,
        purpose_code="profile_sharing",
        data_items=["name"],
        actor=Actor.system(),
    )
    page = _link(host_key, "K-1")

    japanese = _visible(Client().get(page))
    english = _visible(Client().get(page + "?lang=en"))

    tokyo = timezone.localtime(at, TOKYO)
    assert "あなたの情報の提供記録" in japanese
    assert (
        f"{tokyo:%Y/%m/%d %H:%M} {host.name_ja}から{partner.name_ja}へ、「会員情報の共有」の"
        "ためにメールアドレスを提供しました。" in japanese
    )
    assert japanese.count("を提供しました。") == 1
    assert (
        f"{tokyo:%Y-%m-%d %H:%M} {host.name_latin} gave {partner.name_latin} your e-mail for "
        "“Profile sharing”." in english
    )


def test_a_long_record_lists_the_latest_and_says_where_the_rest_is(
    consented: Any, host: Partner, host_key: Key, partner: Partner, monkeypatch: Any
) -> None:
    hanako, _ = consented
    monkeypatch.setattr(views, "MAX_LISTED", 2)
    now = timezone.now()
    for hours in (3, 2, 1):
        provision_record(
            member=hanako,
            recipient=partner,
            purpose_code="profile_sharing",
            data_items=["name"] if hours == 3 else ["email"],
            actor=Actor.system(),
            at=now - timedelta(hours=hours),
        )
    page = _link(host_key, "K-1")

    japanese = _visible(Client().get(page))
    english = _visible(Client().get(page + "?lang=en"))

    assert japanese.count("のためにメールアドレスを提供しました。") == 2
    assert "のために氏名を提供しました。" not in japanese  # the oldest
    assert (
        f"提供記録は最新の2件のみ表示しています。すべてをご覧になるには、{host.name_ja}に"
        "あなたの情報の開示をご請求ください。" in japanese
    )
    assert (
        f"Only the latest 2 records are shown. To see them all, ask {host.name_latin} for a "
        "copy of your data." in english
    )
    assert "withdrawals are shown" not in english  # the withdrawals were not cut


def test_another_members_data_never_shows(
    consented: Any, host_key: Key, partner: Partner, outsider: Partner
) -> None:
    _, jiro = consented
    make_notice(
        version=2,
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner, outsider],
        data_items=["name", "email", "phone"],
    )
    grant_consent(jiro, outsider, "co_marketing_contact")
    grant_consent(jiro, partner, "co_marketing_contact")
    provision_record(
        member=jiro,
        recipient=outsider,
        purpose_code="co_marketing_contact",
        data_items=["phone"],
        actor=Actor.system(),
    )
    jiros = consent_withdraw(
        member=jiro,
        purpose_code="co_marketing_contact",
        recipient=partner,
        channel="call_centre",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )
    page = _link(host_key, "K-1")

    for lang in ("ja", "en"):
        # Even handed the id of Jiro's withdrawal, Hanako's page confirms nothing.
        shown = _visible(Client().get(f"{page}?lang={lang}&withdrawn={jiros.pk}"))
        for text in (outsider.name_ja, outsider.name_latin, "共同販促のご案内", "電話番号"):
            assert text not in shown
        for text in ("Co-marketing contact", "phone", "コールセンター", "Call centre"):
            assert text not in shown
        assert "撤回日時" not in shown  # no confirmation,
        assert "Withdrawn at" not in shown  # in either language
    assert Client().get(f"{page}?withdrawn=not-a-uuid").status_code == 200


def test_the_page_bears_the_hosts_name_and_look_and_loads_nothing_else(
    consented: Any, host: Partner, host_key: Key
) -> None:
    page = _link(host_key, "K-1")

    japanese = Client().get(page).content.decode()
    english = Client().get(page + "?lang=en").content.decode()

    assert f'<span class="host">{host.name_ja}</span>' in japanese
    assert f'<span class="host">{host.name_latin}</span>' in english
    assert f"--brand: {DEFAULT_COLOUR};" in japanese
    assert f'<span class="mark" aria-hidden="true">{host.name_ja[0].upper()}</span>' in japanese
    for html in (japanese, english):
        # One request: no stylesheet, script, image, font or frame from anywhere.
        assert re.search(r"<(link|script|img|iframe)\b|url\(|@import", html) is None


def test_the_page_reads_the_same_number_of_times_however_much_it_shows(
    consented: Any, host_key: Key, partner: Partner, outsider: Partner
) -> None:
    hanako, _ = consented
    page = _link(host_key, "K-1")
    Client().get(page)  # the first request sets up the session's CSRF cookie and caches
    with CaptureQueriesContext(connection) as few:
        Client().get(page)

    make_notice(
        version=2,
        purposes=["profile_sharing", "co_marketing_contact", "research_survey"],
        recipients=[partner, outsider],
        data_items=["name", "email"],
    )
    for recipient in (partner, outsider):
        grant_consent(hanako, recipient, "co_marketing_contact", "research_survey")
        provision_record(
            member=hanako,
            recipient=recipient,
            purpose_code="research_survey",
            data_items=["name"],
            actor=Actor.system(),
        )
        consent_withdraw(
            member=hanako,
            purpose_code="co_marketing_contact",
            recipient=recipient,
            channel="preference_page",
            occurred_at=timezone.now(),
            actor=Actor.system(),
        )
    with CaptureQueriesContext(connection) as many:
        shown = _visible(Client().get(page))

    assert shown.count("同意を撤回する") == 3
    assert len(many) == len(few), [query["sql"] for query in many]


@pytest.mark.parametrize("damage", ["tampered", "expired", "erased", "another member"])
def test_a_bad_link_reaches_nothing(
    consented: Any,
    host_key: Key,
    partner: Partner,
    damage: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    hanako, jiro = consented
    if damage == "expired":
        real = links.signing.TimestampSigner.timestamp
        monkeypatch.setattr(
            links.signing.TimestampSigner,
            "timestamp",
            lambda self: links.signing.b62_encode(
                int(timezone.now().timestamp()) - settings.SANPO_PREFERENCE_LINK_HOURS * 3600 - 60
            ),
        )
        page = _link(host_key, "K-1")
        monkeypatch.setattr(links.signing.TimestampSigner, "timestamp", real)
    else:
        page = _link(host_key, "K-1")
    if damage == "tampered":
        flipped = "A" if page[-2] != "A" else "B"  # the signature's last character
        page = page[:-2] + flipped + "/"
    if damage == "erased":
        member_erase(member=hanako, actor=Actor.system())
    body = {"purpose": "profile_sharing", "recipient": partner.slug}

    if damage == "another member":
        # Hanako's link cannot withdraw Jiro's consent, whatever the form says.
        Client().post(page + "withdraw", {**body, "member": str(jiro.pk)})
        assert consent_check(member_id=jiro.pk, purpose_code="profile_sharing", recipient=partner)
        return
    in_force = ConsentState.objects.filter(granted=True).count()  # erasure withdrew Hanako's
    refused = Client().get(page)
    assert refused.status_code == 404
    # In both languages, since we cannot tell which the member reads, and naming nobody.
    assert "このリンクは使えません" in refused.content.decode()
    assert "This link does not work" in refused.content.decode()
    assert "佐藤" not in refused.content.decode()
    assert Client().post(page + "withdraw", body).status_code == 404
    assert ConsentState.objects.filter(granted=True).count() == in_force  # the link changed nothing


def test_a_tampered_or_foreign_link_is_refused_and_recorded(consented: Any, host_key: Key) -> None:
    hanako, _ = consented
    page = _link(host_key, "K-1")
    token = page.rstrip("/").rsplit("/", 1)[1]
    prefix = page[: -len(token) - 1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    # Signed by Sanpo, but for something else: the salt keeps it from opening this page.
    foreign = signing.TimestampSigner(salt="another.purpose").sign(hanako.pk.hex)

    for bad in (tampered, foreign):
        refused = Client().get(f"{prefix}{bad}/")
        assert refused.status_code == 404
        assert "This link does not work" in refused.content.decode()
        assert "このリンクは使えません" in refused.content.decode()
    assert Client().get(page).status_code == 200  # the real link still works, unrecorded

    events = AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFUSED)
    assert [(e.outcome, e.detail["token"]) for e in events] == [("denied", "preference link")] * 2
    assert all(tampered not in str(e.detail) for e in events)


def test_only_the_members_own_partner_can_ask_for_a_link(
    consented: Any, outsider_key: Key, partner_read_key: Key
) -> None:
    assert client_for(outsider_key).post("/api/v1/members/K-1/preference-link").status_code == 404
    assert client_for(partner_read_key).post("/api/v1/members/K-1/preference-link").status_code in (
        403,
        404,
    )


def test_a_withdrawal_of_a_consent_not_in_force_changes_nothing(
    consented: Any, host_key: Key, outsider: Partner
) -> None:
    page = _link(host_key, "K-2")

    response = Client().post(
        page + "withdraw", {"purpose": "profile_sharing", "recipient": outsider.slug}
    )

    assert response.status_code == 404
    assert Client().get(page + "withdraw").status_code == 405
    assert ConsentState.objects.filter(granted=True).count() == 2
