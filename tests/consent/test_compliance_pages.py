"""The compliance pages: compliance reviewers, and only they, read the consent record of any
member (timeline, current states, provisions, withdrawals, chain, data-subject requests), find
members by number, e-mail or phone, reveal personal data for a recorded reason, and download
every list as CSV. Read-only, bounded in queries, and never a byte of personal data in a CSV,
nor what was searched for in a URL. The log-in form turns password guessers away.
"""

import csv
import io
import logging
import re
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.compliance.access import LOGIN_LOCKOUT_SECONDS, LOGIN_WINDOW_SECONDS
from consent.compliance.export import cell
from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    WithdrawalNotice,
)
from consent.services import (
    chains_verify_all,
    consent_grant,
    consent_withdraw,
    provision_record,
)
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner, StaffRole
from partners.services import member_erase, staff_role_set
from tests.factories import make_member, make_notice, make_partner, make_staff, make_user

pytestmark = pytest.mark.django_db

NAME = "佐藤 花子"
EMAIL = "hanako.sato@example.jp"
PHONE = "090-1234-5678"
ADDRESS = "東京都千代田区丸の内1-1-1"
PII = (NAME, EMAIL, "09012345678", PHONE, ADDRESS, "1985-04-01", "100-0005")
MASK = "●●●● (hidden)"


# --- The world ------------------------------------------------------------------------------


def _ago(**delta: float) -> Any:
    return timezone.now() - timedelta(**delta)


class World:
    """Hanako (host member K-1) consented to the brand for two purposes and withdrew one, let
    a consent to the outsider expire, and had her name provided to the brand. Jiro (K-2) only
    consented. The brand has its own member K-1, someone else."""

    def __init__(self, host: Partner, brand: Partner, outsider: Partner) -> None:
        self.host, self.brand, self.outsider = host, brand, outsider
        self.notice = make_notice(
            text="氏名とメールアドレスを提携先に提供します。",
            purposes=["cross_enrollment", "profile_sharing"],
            recipients=[brand, outsider],
            data_items=["name", "email"],
            effective_at=_ago(days=10),
        )
        self.hanako = make_member(
            host,
            "K-1",
            name=NAME,
            email=EMAIL,
            phone=PHONE,
            address=ADDRESS,
            postal_code="100-0005",
            birth_date="1985-04-01",
            prefecture="13",
            joined_on="2020-04-01",
        )
        self.jiro = make_member(host, "K-2", email="jiro@example.jp", phone="080-1111-2222")
        self.brand_k1 = make_member(brand, "K-1", email="someone.else@example.jp")
        self.grant(self.hanako, brand, "cross_enrollment", days=5)
        self.grant(self.hanako, brand, "profile_sharing", days=5)
        self.grant(self.hanako, outsider, "profile_sharing", days=5, expires_at=_ago(days=1))
        self.grant(self.jiro, brand, "cross_enrollment", days=2)
        self.provision = provision_record(
            member=self.hanako,
            recipient=brand,
            purpose_code="profile_sharing",
            data_items=["name"],
            actor=Actor.system(),
        )
        consent_withdraw(
            member=self.hanako,
            purpose_code="cross_enrollment",
            recipient=brand,
            channel="preference_page",
            occurred_at=_ago(hours=1),
            actor=Actor.system(),
        )
        self.withdrawal = WithdrawalNotice.objects.get(event__member=self.hanako)

    def grant(
        self, member: MemberAccount, recipient: Partner, purpose: str, *, days: float, **extra: Any
    ) -> ConsentEvent:
        return consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=recipient,
            notice=self.notice,
            channel="host_portal",
            occurred_at=_ago(days=days),
            actor=Actor.system(),
            **extra,
        )

    def make_withdrawal_overdue(self) -> None:
        # Time passing: the recipient never acknowledged, and the deadline went by.
        past = _ago(hours=100)
        WithdrawalNotice.objects.filter(pk=self.withdrawal.pk).update(
            created_at=past, last_sent_at=past
        )

    def request(
        self, member: MemberAccount, kind: str, *, received_days_ago: float, due_in_days: float
    ) -> DataSubjectRequest:
        # Written directly: a request's dates must lie in the past to be overdue, and the
        # submitting service (consent.data_requests) stamps them with now.
        received = _ago(days=received_days_ago)
        return DataSubjectRequest.objects.create(
            member=member,
            kind=kind,
            received_at=received,
            due_at=timezone.now() + timedelta(days=due_in_days),
            received_via=self.host,
            requested_by="API key sk_…abcd of host-co",
            verified_with=["birth_date", "email"],
        )


@pytest.fixture
def world(host: Partner, partner: Partner, outsider: Partner) -> World:
    return World(host, partner, outsider)


@pytest.fixture
def reviewer(compliance_reviewer: User) -> Client:
    client = Client()
    client.force_login(compliance_reviewer)
    return client


def _as(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _text(response: HttpResponseBase) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return response.content.decode()  # type: ignore[attr-defined]


def _csv(response: HttpResponseBase) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="sanpo-')
    assert response["Content-Disposition"].endswith('.csv"')
    raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert raw.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    text = raw.decode("utf-8-sig")
    for value in PII:
        assert value not in text, f"personal data in a CSV: {value!r}"
    return list(csv.DictReader(io.StringIO(text)))


def _member_url(member: MemberAccount, suffix: str = "") -> str:
    return f"/compliance/members/{member.pk}/{suffix}"


# --- Who may see what -----------------------------------------------------------------------


def _pages(world: World) -> list[str]:
    member = _member_url(world.hanako)
    return [
        "/compliance/",
        "/compliance/?format=csv",
        "/compliance/counts.csv",
        "/compliance/search/",
        member,
        *(_member_url(world.hanako, f"{name}.csv") for name in ("timeline", "states")),
        *(_member_url(world.hanako, f"{name}.csv") for name in ("provisions", "withdrawals")),
        _member_url(world.hanako, "requests.csv"),
        "/compliance/withdrawals/overdue/",
        "/compliance/withdrawals/overdue.csv",
        "/compliance/chain/",
        "/compliance/chain.csv",
        "/compliance/requests/",
        "/compliance/requests.csv?status=verified",
    ]


# The member search and its CSV are POST forms, so that what was searched for stays out of URLs.
SEARCHES = [
    ("/compliance/search/", {"q": "K-1", "by": ""}),
    ("/compliance/search/", {"q": EMAIL, "by": "email"}),
    ("/compliance/search.csv", {"q": "K-1", "by": "any"}),
]


def test_only_compliance_reviewers_see_any_page(
    world: World,
    compliance_reviewer: User,
    alliance_manager: User,
    partner_admin: User,
    partner_analyst: User,
    host_admin: User,
) -> None:
    no_role = make_user("nora-no-role")
    others = [alliance_manager, partner_admin, partner_analyst, host_admin, no_role]
    clients = {user.username: _as(user) for user in others}
    anonymous, reviewer = Client(), _as(compliance_reviewer)

    for url in _pages(world):
        away = anonymous.get(url)
        assert away.status_code == 302, url
        assert away["Location"].startswith("/compliance/login/?next=/compliance/"), url
        for username, client in clients.items():
            refused = client.get(url)
            assert refused.status_code == 403, (url, username)
            assert "only for compliance reviewers" in refused.content.decode()
            assert "Hanako" not in refused.content.decode()
        assert reviewer.get(url).status_code == 200, url

    for url, data in SEARCHES:
        away = anonymous.post(url, data)
        assert away.status_code == 302, url
        assert away["Location"] == "/compliance/login/?next=/compliance/search/", url
        for username, client in clients.items():
            refused = client.post(url, data)
            assert refused.status_code == 403, (url, username)
            assert "only for compliance reviewers" in refused.content.decode()
            assert "host-co" not in refused.content.decode()
        assert reviewer.post(url, data).status_code == 200, url


def test_the_reveal_is_refused_to_everyone_else_and_records_nothing(
    world: World, alliance_manager: User, partner_admin: User
) -> None:
    url = _member_url(world.hanako, "reveal/")

    assert Client().post(url, {"reason": "curious"}).status_code == 302
    for user in (alliance_manager, partner_admin):
        refused = _as(user).post(url, {"reason": "curious"})
        assert refused.status_code == 403
        assert NAME not in refused.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)


def test_a_reviewer_logs_in_through_the_form_and_out_with_a_post(
    compliance_reviewer: User,
) -> None:
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/compliance/login/")
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token is not None
    csrf = token.group(1)

    wrong = browser.post(
        "/compliance/login/",
        {"username": "carol-reviewer", "password": "wrong", "csrfmiddlewaretoken": csrf},
    )
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()

    logged_in = browser.post(
        "/compliance/login/?next=/compliance/chain/",
        {
            "username": "carol-reviewer",
            "password": "correct horse battery staple",
            "next": "/compliance/chain/",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert logged_in.status_code == 302
    assert logged_in["Location"] == "/compliance/chain/"
    dashboard = browser.get("/compliance/")
    assert dashboard.status_code == 200
    csrf = browser.cookies["csrftoken"].value

    assert browser.get("/compliance/logout/").status_code == 405
    logged_out = browser.post("/compliance/logout/", {"csrfmiddlewaretoken": csrf})
    assert logged_out.status_code == 302
    assert logged_out["Location"] == "/compliance/login/"
    assert browser.get("/compliance/").status_code == 302


def test_a_login_without_next_lands_on_the_dashboard(compliance_reviewer: User) -> None:
    client = Client()
    response = client.post(
        "/compliance/login/",
        {"username": "carol-reviewer", "password": "correct horse battery staple"},
    )
    assert (response.status_code, response["Location"]) == (302, "/compliance/")


# --- Log-in throttling ----------------------------------------------------------------------

RIGHT = "correct horse battery staple"  # tests.factories.UserFactory's


def _log_in(username: str, password: str, *, ip: str, client: Client | None = None) -> Any:
    return (client or Client()).post(
        "/compliance/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _refused(response: Any) -> bool:
    if response.status_code != 429:
        return False
    page = response.content.decode()
    assert "Too many failed log-ins" in page
    assert "did not match" not in page
    assert response["Retry-After"] == str(LOGIN_LOCKOUT_SECONDS)
    return True


def _logged_in(response: Any) -> bool:
    return (response.status_code, response.get("Location")) == (302, "/compliance/")


def test_five_failed_log_ins_lock_the_user_name_out_even_with_the_right_password(
    compliance_reviewer: User,
) -> None:
    guesser = Client()
    for n in range(5):
        wrong = _log_in("carol-reviewer", f"guess {n}", ip="203.0.113.7", client=guesser)
        assert wrong.status_code == 200, n
        assert "did not match" in wrong.content.decode()

    assert _refused(_log_in("carol-reviewer", RIGHT, ip="203.0.113.7", client=guesser))
    assert guesser.get("/compliance/").status_code == 302  # not logged in
    assert guesser.get("/compliance/login/").status_code == 200  # the form still shows
    # The user name, in any case, from anywhere.
    assert _refused(_log_in("CAROL-Reviewer", RIGHT, ip="198.51.100.1"))
    assert _refused(_log_in("carol-reviewer", RIGHT, ip="198.51.100.2"))

    # Another reviewer, from another address, still logs in.
    make_staff("dave-reviewer", StaffRole.Role.COMPLIANCE_REVIEWER)
    dave = Client()
    assert _logged_in(_log_in("dave-reviewer", RIGHT, ip="198.51.100.3", client=dave))
    assert dave.get("/compliance/").status_code == 200


def test_five_failed_log_ins_from_one_address_lock_the_address_out(
    compliance_reviewer: User,
) -> None:
    for n in range(5):
        assert _log_in(f"guess-{n}", "guess", ip="203.0.113.9").status_code == 200

    assert _refused(_log_in("carol-reviewer", RIGHT, ip="203.0.113.9"))
    assert _logged_in(_log_in("carol-reviewer", RIGHT, ip="203.0.113.10"))


def test_a_successful_log_in_resets_the_user_names_count(compliance_reviewer: User) -> None:
    # Every attempt from another address, so only the user name's count can lock anyone out.
    for n in range(4):
        assert _log_in("carol-reviewer", "guess", ip=f"192.0.2.{n}").status_code == 200
    assert _logged_in(_log_in("carol-reviewer", RIGHT, ip="192.0.2.100"))

    # Without the reset, the first of these would be the fifth failure and the second a 429.
    for n in range(4, 8):
        assert _log_in("carol-reviewer", "guess", ip=f"192.0.2.{n}").status_code == 200, n
    assert _logged_in(_log_in("carol-reviewer", RIGHT, ip="192.0.2.101"))
    for n in range(8, 13):
        assert _log_in("carol-reviewer", "guess", ip=f"192.0.2.{n}").status_code == 200, n
    assert _refused(_log_in("carol-reviewer", RIGHT, ip="192.0.2.102"))


class _CacheClock:
    """The clock of Django's local-memory cache, moved by hand: counters expire by it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from django.core.cache import caches
        from django.core.cache.backends import base, locmem

        if not isinstance(caches["default"], locmem.LocMemCache):
            pytest.skip("moves the clock of Django's local-memory cache (REDIS_URL is set)")
        self.now = time.time()
        for module in (base, locmem):
            monkeypatch.setattr(module, "time", self)

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_the_counts_and_the_lock_out_last_fifteen_minutes(
    compliance_reviewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _CacheClock(monkeypatch)

    # Four failures, and the window passes: the count starts again.
    for _ in range(4):
        assert _log_in("carol-reviewer", "guess", ip="203.0.113.20").status_code == 200
    clock.advance(LOGIN_WINDOW_SECONDS + 1)
    for _ in range(4):
        assert _log_in("carol-reviewer", "guess", ip="203.0.113.20").status_code == 200
    assert _logged_in(_log_in("carol-reviewer", RIGHT, ip="203.0.113.21"))

    # The fifth failure, late in the window, still locks out for the whole fifteen minutes.
    for _ in range(4):
        assert _log_in("carol-reviewer", "guess", ip="203.0.113.30").status_code == 200
    clock.advance(14 * 60)
    assert _log_in("carol-reviewer", "guess", ip="203.0.113.30").status_code == 200
    clock.advance(LOGIN_LOCKOUT_SECONDS - 60)
    assert _refused(_log_in("carol-reviewer", RIGHT, ip="203.0.113.31"))
    clock.advance(61)
    assert _logged_in(_log_in("carol-reviewer", RIGHT, ip="203.0.113.31"))


def test_failed_log_ins_are_logged_with_the_user_name_but_never_the_password(
    compliance_reviewer: User, caplog: pytest.LogCaptureFixture
) -> None:
    audited = AuditEvent.objects.count()
    with caplog.at_level(logging.WARNING, logger="consent.compliance.views.login"):
        for _ in range(6):
            _log_in("carol-reviewer", "hunter2-secret", ip="203.0.113.5")

    messages = [
        r.getMessage() for r in caplog.records if r.name == "consent.compliance.views.login"
    ]
    failed = "Compliance log-in failed: user name 'carol-reviewer' from 203.0.113.5"
    refused = "Compliance log-in refused, too many failures: user name 'carol-reviewer' from "
    assert messages == [failed] * 5 + [refused + "203.0.113.5"]
    assert "hunter2" not in caplog.text
    assert AuditEvent.objects.count() == audited  # it has no action for failed log-ins


def test_the_pages_offer_no_way_to_change_the_record(world: World, reviewer: Client) -> None:
    world.make_withdrawal_overdue()
    world.request(world.hanako, "access", received_days_ago=40, due_in_days=-10)
    allowed_posts = {
        "/compliance/logout/",
        _member_url(world.hanako, "reveal/"),
        "/compliance/search/",
        "/compliance/search.csv",
        "/i18n/setlang/",  # the language switch: a cookie of the reviewer's, no record
    }
    search_results = reviewer.post("/compliance/search/", {"q": "K-1"})
    assert "Download CSV" in search_results.content.decode()

    responses = [(url, reviewer.get(url)) for url in _pages(world)]
    for url, response in [*responses, ("search results", search_results)]:
        if response.streaming:
            continue
        page = response.content.decode()
        forms = re.findall(r"<form\b[^>]*>", page)
        for form in forms:
            method = re.search(r'method="(\w+)"', form)
            if method is not None and method.group(1).lower() == "post":
                action = re.search(r'action="([^"]+)"', form)
                assert action is not None, (url, form)
                assert action.group(1) in allowed_posts, (url, form)
        assert "<script" not in page.lower(), url
        assert not re.search(r"https?://", page), f"outside resource on {url}"

    # The list pages answer only GET; the search GET and POST; its CSV only POST.
    for url in ("/compliance/", _member_url(world.hanako), "/compliance/requests/"):
        assert reviewer.post(url).status_code == 405
        assert reviewer.put(url).status_code == 405
        assert reviewer.delete(url).status_code == 405
    for url in ("/compliance/search/", "/compliance/search.csv"):
        assert reviewer.put(url).status_code == 405
        assert reviewer.delete(url).status_code == 405


# --- Finding a member -----------------------------------------------------------------------


def _found(reviewer: Client, query: str, by: str = "") -> list[tuple[str, str]]:
    response = reviewer.post("/compliance/search/", {"q": query, "by": by})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    rows = re.findall(
        r'<td data-label="Partner">.*?\((?P<slug>[\w-]+)\)</span></td>\s*'
        r'<td data-label="Member number"><a href="[^"]+">(?P<number>[^<]+)</a>',
        response.content.decode(),
    )
    return sorted(rows)


@pytest.mark.parametrize(
    ("query", "by", "expected"),
    [
        ("K-1", "", [("brand-co", "K-1"), ("host-co", "K-1")]),
        ("Ｋ－１", "number", [("brand-co", "K-1"), ("host-co", "K-1")]),  # noqa: RUF001
        ("K-2", "", [("host-co", "K-2")]),
        (EMAIL, "", [("host-co", "K-1")]),
        ("HANAKO.SATO@EXAMPLE.JP", "email", [("host-co", "K-1")]),
        ("+81 90-1234-5678", "", [("host-co", "K-1")]),
        ("０９０１２３４５６７８", "phone", [("host-co", "K-1")]),  # noqa: RUF001
        ("080-1111-2222", "", [("host-co", "K-2")]),
    ],
    ids=[
        "number in every base",
        "full-width number",
        "other number",
        "e-mail",
        "e-mail in capitals",
        "phone with +81",
        "full-width phone",
        "other phone",
    ],
)
def test_a_member_is_found_by_number_email_or_phone(
    world: World, reviewer: Client, query: str, by: str, expected: list[tuple[str, str]]
) -> None:
    assert _found(reviewer, query, by) == expected


@pytest.mark.parametrize(
    ("query", "by"),
    [
        ("K-9", ""),
        ("nobody@example.jp", ""),
        ("090-0000-0000", ""),
        ("K-1", "email"),
        (EMAIL, "number"),
        (EMAIL, "phone"),
        ("hanako.sato", ""),
        ("=1+1", ""),
    ],
)
def test_other_values_find_nobody(world: World, reviewer: Client, query: str, by: str) -> None:
    assert _found(reviewer, query, by) == []


def test_search_results_export_without_the_searched_value(world: World, reviewer: Client) -> None:
    response = reviewer.post("/compliance/search.csv", {"q": EMAIL, "by": "any"})
    assert EMAIL not in response["Content-Disposition"]
    assert _csv(response) == [
        {
            "partner": "host-co",
            "partner_name": "Host Co",
            "member_number": "K-1",
            "kind": "household",
            "status": "active",
        }
    ]


def _urls(page: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', page)


def test_what_was_searched_for_never_appears_in_a_url(
    world: World, reviewer: Client, partner_admin: User
) -> None:
    searched = reviewer.post("/compliance/search/", {"q": EMAIL, "by": ""})

    # The results are the POST's own response, not a redirect to an address with the query.
    assert searched.status_code == 200
    assert not searched.has_header("Location")
    page = searched.content.decode()
    assert 'href="' + _member_url(world.hanako) + '"' in page
    # The CSV button posts the query back in the form, not in its address.
    assert f'<input type="hidden" name="q" value="{EMAIL}">' in page
    assert '<input type="hidden" name="by" value="any">' in page
    assert _urls(page)
    for url in _urls(page):
        assert "hanako" not in url.lower(), url


@pytest.mark.parametrize("query", [EMAIL, PHONE])
def test_a_search_in_the_address_searches_nothing(
    world: World, reviewer: Client, partner_admin: User, query: str
) -> None:
    for params in ({"q": query}, {"q": query, "by": "any", "format": "csv"}):
        shown = reviewer.get("/compliance/search/", params)
        assert shown.status_code == 200
        assert shown["Content-Type"].startswith("text/html")
        page = shown.content.decode()
        assert "Find a member" in page
        assert "<h2>Results</h2>" not in page
        assert "host-co" not in page
        assert query not in page
        assert 'name="q" value=""' in page

    # Nor does it travel on: not into the log-in redirect, nor into the 403 page.
    away = Client().get("/compliance/search/", {"q": query})
    assert away.status_code == 302
    assert away["Location"] == "/compliance/login/?next=/compliance/search/"
    refused = _as(partner_admin).get("/compliance/search/", {"q": query})
    assert refused.status_code == 403
    assert query not in refused.content.decode()


def test_the_search_csv_is_a_post_only(world: World, reviewer: Client) -> None:
    assert reviewer.get("/compliance/search.csv").status_code == 405
    assert reviewer.get("/compliance/search.csv", {"q": "K-1"}).status_code == 405
    assert reviewer.post("/compliance/search.csv", {"q": "K-1"}).status_code == 200
    # An empty query is an empty list, not an error.
    assert _csv(reviewer.post("/compliance/search.csv", {"q": " "})) == []
    # The anonymous visitor comes back to the search page, where a GET makes sense.
    away = Client().post("/compliance/search.csv", {"q": EMAIL})
    assert away["Location"] == "/compliance/login/?next=/compliance/search/"


# --- The member page ------------------------------------------------------------------------


def test_the_member_page_shows_the_account_with_personal_data_masked(
    world: World, reviewer: Client
) -> None:
    page = _text(reviewer.get(_member_url(world.hanako)))

    for text in ("Host Co", "K-1", "Household", "Active", "2020-04-01", "東京都", "1985"):
        assert text in page
    assert page.count(MASK) == 7
    for value in PII:
        assert value not in page
    assert "Reveal personal data" in page


def test_the_member_page_shows_the_whole_consent_record(world: World, reviewer: Client) -> None:
    world.make_withdrawal_overdue()
    world.request(world.hanako, "access", received_days_ago=40, due_in_days=-10)
    page = _text(reviewer.get(_member_url(world.hanako)))

    timeline = re.findall(r'<td data-label="#" class="num">(\d+)</td>', page)
    assert timeline == ["1", "2", "3", "4"]
    first = ConsentEvent.objects.get(member=world.hanako, sequence=1)
    assert first.hash[:12] in page
    assert "v1 (ja)" in page
    assert "Preference page" in page
    assert "Host portal" in page
    section = page.split('id="states"')[1].split('id="provisions"')[0]
    states = re.findall(r'<td data-label="Status">(?:<span class="\w+">)?(\w+)', section)
    assert sorted(states) == ["consented", "expired", "withdrawn"]
    assert "Intact." in page
    provisions = page.split('id="provisions"')[1].split('id="withdrawals"')[0]
    assert "event #2" in provisions
    assert "name" in provisions
    withdrawals = page.split('id="withdrawals"')[1].split('id="requests"')[0]
    assert world.withdrawal.member_pseudonym in withdrawals
    assert "OVERDUE" in withdrawals
    requests = page.split('id="requests"')[1]
    assert "Access" in requests
    assert "OVERDUE" in requests


def test_a_reviewer_reveals_personal_data_for_a_reason_and_it_is_recorded(
    world: World, reviewer: Client, compliance_reviewer: User
) -> None:
    response = reviewer.post(_member_url(world.hanako, "reveal/"), {"reason": "inquiry #42"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    for value in (NAME, EMAIL, "09012345678", ADDRESS):
        assert value in page
    assert MASK not in page
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)
    assert viewed.actor_user == compliance_reviewer
    assert viewed.object_id == str(world.hanako.pk)
    assert viewed.detail["purpose"] == "compliance review: inquiry #42"
    # The page after the reveal is masked again.
    assert NAME not in _text(reviewer.get(_member_url(world.hanako)))


@pytest.mark.parametrize("reason", ["", "  ", "x"])
def test_a_reveal_needs_a_reason(world: World, reviewer: Client, reason: str) -> None:
    response = reviewer.post(_member_url(world.hanako, "reveal/"), {"reason": reason})

    assert response.status_code == 400
    assert NAME not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)


def test_a_reveal_is_a_post(world: World, reviewer: Client) -> None:
    assert reviewer.get(_member_url(world.hanako, "reveal/")).status_code == 405
    missing = reviewer.post(f"/compliance/members/{UUID(int=1)}/reveal/", {"reason": "inquiry #42"})
    assert missing.status_code == 404


def test_the_reveal_of_an_erased_member_says_so(world: World, reviewer: Client) -> None:
    member_erase(member=world.hanako, actor=Actor.system())

    page = _text(reviewer.get(_member_url(world.hanako)))
    assert "has been erased" in page
    assert "Reveal personal data" not in page
    response = reviewer.post(_member_url(world.hanako, "reveal/"), {"reason": "inquiry #42"})
    assert response.status_code == 200
    assert "has been erased" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)
    # The consent record outlives the personal data.
    assert len(_csv(reviewer.get(_member_url(world.hanako, "timeline.csv")))) >= 4


def test_a_reveal_of_data_that_does_not_authenticate_is_an_integrity_failure_not_an_erasure(
    world: World, reviewer: Client, compliance_reviewer: User
) -> None:
    # An attacker copied Jiro's e-mail ciphertext into Hanako's row.
    MemberAccount.objects.filter(pk=world.hanako.pk).update(email_sealed=world.jiro.email_sealed)

    response = reviewer.post(_member_url(world.hanako, "reveal/"), {"reason": "inquiry #42"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Integrity check failed" in page
    assert "has not been erased" in page
    assert "has been erased" not in page
    assert "jiro@example.jp" not in page
    assert NAME not in page
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.DATA_INTEGRITY_FAILED)
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert event.actor_user == compliance_reviewer
    assert event.object_id == str(world.hanako.pk)
    assert event.detail["location"] == "partners.MemberAccount.email_sealed"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)
    assert MemberAccount.objects.get(pk=world.hanako.pk).status == MemberAccount.Status.ACTIVE


def test_a_reveal_under_a_master_key_no_longer_configured_says_so(
    world: World, reviewer: Client, settings: Any
) -> None:
    settings.SANPO_MEMBER_MASTER_KEYS = [("new", b"\x01" * 32)]

    response = reviewer.post(_member_url(world.hanako, "reveal/"), {"reason": "inquiry #42"})

    assert response.status_code == 409
    assert "Key not configured" in response.content.decode()
    assert "has been erased" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DATA_KEY_UNAVAILABLE, object_id=str(world.hanako.pk)
    ).exists()


def test_the_timeline_pages_through_long_histories(world: World, reviewer: Client) -> None:
    for _ in range(28):  # one grant so far; 59 events in all
        consent_withdraw(
            member=world.jiro,
            purpose_code="cross_enrollment",
            recipient=world.brand,
            channel="call_centre",
            occurred_at=timezone.now(),
            actor=Actor.system(),
        )
        world.grant(world.jiro, world.brand, "cross_enrollment", days=0.0001)
    world.grant(world.jiro, world.brand, "profile_sharing", days=0.0001)
    world.grant(world.jiro, world.outsider, "profile_sharing", days=0.0001)

    first = _text(reviewer.get(_member_url(world.jiro)))
    assert len(re.findall(r'<td data-label="#"', first)) == 50
    assert "Page 1 of 2 (59 rows)" in first
    assert f'href="{_member_url(world.jiro)}?events=2#timeline"' in first
    second = _text(reviewer.get(_member_url(world.jiro), {"events": "2"}))
    assert re.findall(r'<td data-label="#" class="num">(\d+)</td>', second) == [
        str(n) for n in range(51, 60)
    ]
    exported = _csv(reviewer.get(_member_url(world.jiro, "timeline.csv")))
    assert [row["sequence"] for row in exported] == [str(n) for n in range(1, 60)]


def test_the_timeline_and_its_csv_keep_to_a_period_of_recorded_days(
    world: World, reviewer: Client
) -> None:
    world.grant(world.jiro, world.brand, "profile_sharing", days=0.0001)
    first = ConsentEvent.objects.get(member=world.jiro, sequence=1)
    earlier = first.recorded_at - timedelta(days=40)
    # As if recorded then: the event and every row naming it (the database checks the pair).
    ConsentEvent.objects.filter(pk=first.pk).update(recorded_at=earlier)
    ConsentState.objects.filter(event=first).update(event_recorded_at=earlier)
    today = timezone.localdate()
    period = {
        "events_from": (today - timedelta(days=45)).isoformat(),
        "events_to": (today - timedelta(days=30)).isoformat(),
    }

    shown = _text(reviewer.get(_member_url(world.jiro), period))
    everything = _text(reviewer.get(_member_url(world.jiro)))
    exported = _csv(reviewer.get(_member_url(world.jiro, "timeline.csv"), period))

    sequence = r'<td data-label="#" class="num">(\d+)</td>'
    assert re.findall(sequence, shown) == ["1"]
    assert re.findall(sequence, everything) == ["1", "2"]
    assert [row["sequence"] for row in exported] == ["1"]
    csv_link = _member_url(world.jiro, "timeline.csv")
    assert f"{csv_link}?events_from={period['events_from']}&amp;events_to=" in shown


def test_a_missing_member_or_list_is_a_404(world: World, reviewer: Client) -> None:
    assert reviewer.get(f"/compliance/members/{UUID(int=1)}/").status_code == 404
    assert reviewer.get(_member_url(world.hanako, "secrets.csv")).status_code == 404


# --- Member lists as CSV --------------------------------------------------------------------


def test_the_member_lists_export_as_csv(world: World, reviewer: Client) -> None:
    world.make_withdrawal_overdue()
    world.request(world.hanako, "access", received_days_ago=40, due_in_days=-10)

    timeline = reviewer.get(_member_url(world.hanako, "timeline.csv"))
    assert 'filename="sanpo-consent-timeline-host-co-K-1-' in timeline["Content-Disposition"]
    events = _csv(timeline)
    stored = ConsentEvent.objects.filter(member=world.hanako).order_by("sequence")
    assert [(row["sequence"], row["action"], row["hash"]) for row in events] == [
        (str(e.sequence), e.action, e.hash) for e in stored
    ]
    assert events[0]["recipient"] == "brand-co"
    assert events[0]["notice_version"] == "1"
    assert events[0]["notice_language"] == "ja"
    assert events[0]["occurred_at"].endswith("+09:00")
    assert events[3]["channel"] == "preference_page"
    assert events[2]["expires_at"] != ""

    states = _csv(reviewer.get(_member_url(world.hanako), {"format": "csv", "list": "states"}))
    assert sorted((s["recipient"], s["purpose"], s["status"]) for s in states) == [
        ("brand-co", "cross_enrollment", "withdrawn"),
        ("brand-co", "profile_sharing", "consented"),
        ("outsider-co", "profile_sharing", "expired"),
    ]
    assert {s["notice_in_force"] for s in states if s["granted"] == "yes"} == {"yes"}

    provisions = _csv(reviewer.get(_member_url(world.hanako, "provisions.csv")))
    assert len(provisions) == 1
    assert provisions[0]["data_items"] == "name"
    assert provisions[0]["consent_event_sequence"] == "2"
    assert provisions[0]["recipient"] == "brand-co"
    assert provisions[0]["retain_until"] == world.provision.retain_until.isoformat()

    withdrawals = _csv(reviewer.get(_member_url(world.hanako, "withdrawals.csv")))
    assert [(w["recipient"], w["times_sent"], w["overdue"]) for w in withdrawals] == [
        ("brand-co", "1", "yes")
    ]
    assert withdrawals[0]["member_pseudonym"] == world.withdrawal.member_pseudonym

    requests = _csv(reviewer.get(_member_url(world.hanako, "requests.csv")))
    assert [(r["kind"], r["status"], r["overdue"]) for r in requests] == [
        ("access", "verified", "yes")
    ]
    assert requests[0]["verified_with"] == "birth_date; email"


def test_csv_cells_never_start_a_formula(reviewer: Client, host: Partner) -> None:
    evil = make_partner("evil-co", name_latin='=HYPERLINK("http://x")')
    notice = make_notice(
        text="t",
        purposes=["cross_enrollment"],
        recipients=[evil],
        data_items=["name"],
        effective_at=_ago(days=1),
    )
    member = make_member(host, "K-7")
    consent_grant(
        member=member,
        purpose_code="cross_enrollment",
        recipient=evil,
        notice=notice,
        channel="host_portal",
        occurred_at=_ago(hours=1),
        actor=Actor.system(),
    )

    counts = _csv(reviewer.get("/compliance/counts.csv"))
    assert counts[0]["recipient_name"] == '\'=HYPERLINK("http://x")'
    for value, safe in [
        ("=1+1", "'=1+1"),
        ("+81", "'+81"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (-2, "-2"),
        (None, ""),
        (True, "yes"),
        (["a", "b"], "a; b"),
    ]:
        assert cell(value) == safe


# --- Dashboard and lists --------------------------------------------------------------------


def test_the_dashboard_counts_consents_per_recipient_and_purpose(
    world: World, reviewer: Client
) -> None:
    page = _text(reviewer.get("/compliance/"))
    assert "None overdue." in page
    assert "No verification run has finished yet." in page

    counts = _csv(reviewer.get("/compliance/", {"format": "csv"}))
    assert [
        (c["recipient"], c["purpose"], c["consented"], c["withdrawn"], c["expired"]) for c in counts
    ] == [
        ("brand-co", "cross_enrollment", "1", "1", "0"),
        ("brand-co", "profile_sharing", "1", "0", "0"),
        ("outsider-co", "profile_sharing", "0", "0", "1"),
    ]


def test_overdue_acknowledgements_are_counted_and_listed(world: World, reviewer: Client) -> None:
    assert "Nothing overdue." in _text(reviewer.get("/compliance/withdrawals/overdue/"))
    world.make_withdrawal_overdue()

    assert "1 overdue:" in _text(reviewer.get("/compliance/"))
    listed = _text(reviewer.get("/compliance/withdrawals/overdue/"))
    assert world.withdrawal.member_pseudonym in listed
    assert f'href="{_member_url(world.hanako)}"' in listed
    rows = _csv(reviewer.get("/compliance/withdrawals/overdue.csv"))
    assert [(r["member_partner"], r["member_number"], r["recipient"]) for r in rows] == [
        ("host-co", "K-1", "brand-co")
    ]
    # Filtered by another recipient, nothing is overdue.
    assert _csv(reviewer.get("/compliance/withdrawals/overdue.csv?recipient=outsider-co")) == []

    WithdrawalNotice.objects.filter(pk=world.withdrawal.pk).update(acknowledged_at=timezone.now())
    assert "None overdue." in _text(reviewer.get("/compliance/"))


def test_the_latest_chain_verification_and_its_breaks_are_shown(
    world: World, reviewer: Client
) -> None:
    chains_verify_all()
    assert 'Broken chains</dt><dd><span class="okay">none' in _text(reviewer.get("/compliance/"))

    # Someone with database access rewrites who captured Hanako's second grant.
    ConsentEvent.objects.filter(member=world.hanako, sequence=2).update(captured_by="=evil")
    run = chains_verify_all()

    dashboard = _text(reviewer.get("/compliance/"))
    assert f'href="{_member_url(world.hanako)}">host-co / K-1</a>' in dashboard
    assert "was changed after it was written" in dashboard
    assert f"{run.chains_checked}" in dashboard
    assert "was changed after it was written" in _text(reviewer.get("/compliance/chain/"))
    assert "Broken:" in _text(reviewer.get(_member_url(world.hanako)))
    breaks = _csv(reviewer.get("/compliance/chain.csv"))
    assert [(b["member_number"], b["sequence"], b["problem"]) for b in breaks] == [
        ("K-1", "2", "was changed after it was written")
    ]
    timeline = _csv(reviewer.get(_member_url(world.hanako, "timeline.csv")))
    assert timeline[1]["captured_by"] == "'=evil"


def test_data_subject_requests_are_listed_with_deadlines_and_filters(
    world: World, reviewer: Client
) -> None:
    late = world.request(world.hanako, "access", received_days_ago=40, due_in_days=-10)
    world.request(world.jiro, "access", received_days_ago=1, due_in_days=29)
    done = world.request(world.jiro, "erasure", received_days_ago=50, due_in_days=-20)
    DataSubjectRequest.objects.filter(pk=done.pk).update(
        status="completed", completed_at=_ago(days=5)
    )

    dashboard = _text(reviewer.get("/compliance/"))
    assert '2 open, <span class="flag">1 overdue</span>' in dashboard
    assert dashboard.count('<tr class="overdue">') == 1

    def listed(**filters: str) -> list[tuple[str, str, str]]:
        rows = _csv(reviewer.get("/compliance/requests.csv", filters))
        return [(r["member_number"], r["kind"], r["overdue"]) for r in rows]

    assert listed() == [("K-2", "access", "no"), ("K-1", "access", "yes"), ("K-2", "erasure", "no")]
    assert listed(status="verified") == [("K-1", "access", "yes"), ("K-2", "access", "no")]
    assert listed(status="overdue") == [("K-1", "access", "yes")]
    assert listed(status="completed", kind="erasure") == [("K-2", "erasure", "no")]
    assert (
        _csv(reviewer.get("/compliance/requests.csv", {"status": "completed"}))[0]["completed_late"]
        == "yes"
    )
    page = _text(reviewer.get("/compliance/requests/", {"status": "overdue"}))
    assert f'href="{_member_url(late.member)}"' in page
    assert "OVERDUE" in page
    assert page.count('<tr class="overdue">') == 1


def test_the_request_list_pages_through(world: World, reviewer: Client) -> None:
    for days in range(55):
        world.request(world.jiro, "access", received_days_ago=days, due_in_days=30)

    first = _text(reviewer.get("/compliance/requests/", {"status": "verified"}))
    assert "Page 1 of 2 (55 rows)" in first
    assert 'href="/compliance/requests/?status=verified&amp;page=2"' in first
    second = _text(reviewer.get("/compliance/requests/", {"status": "verified", "page": "2"}))
    assert second.count('<td data-label="Received">') == 5


# --- Query counts ---------------------------------------------------------------------------


@pytest.fixture
def busy_world(world: World, host: Partner) -> World:
    """Many members, events, notices, requests and a broken chain: enough rows that one query
    per row would blow every bound below."""
    members = [make_member(host, f"B-{n}") for n in range(12)]
    for member in members:
        world.grant(member, world.brand, "cross_enrollment", days=3)
        world.grant(member, world.outsider, "profile_sharing", days=3)
        provision_record(
            member=member,
            recipient=world.brand,
            purpose_code="cross_enrollment",
            data_items=["name"],
            actor=Actor.system(),
        )
        consent_withdraw(
            member=member,
            purpose_code="cross_enrollment",
            recipient=world.brand,
            channel="paper",
            occurred_at=timezone.now(),
            actor=Actor.system(),
        )
        world.request(member, "access", received_days_ago=40, due_in_days=-10)
    for _ in range(10):
        world.grant(world.hanako, world.outsider, "cross_enrollment", days=0.001)
        consent_withdraw(
            member=world.hanako,
            purpose_code="cross_enrollment",
            recipient=world.outsider,
            channel="paper",
            occurred_at=timezone.now(),
            actor=Actor.system(),
        )
        provision_record(
            member=world.hanako,
            recipient=world.brand,
            purpose_code="profile_sharing",
            data_items=["name", "email"],
            actor=Actor.system(),
        )
        world.request(world.hanako, "access", received_days_ago=3, due_in_days=20)
    past = _ago(hours=200)
    WithdrawalNotice.objects.update(created_at=past, last_sent_at=past)
    ConsentEvent.objects.filter(member__in=members[:5], sequence=1).update(jurisdiction="XX")
    chains_verify_all()
    return world


# Every page starts with three: the session, the user and the user's role.
LIST_QUERY_BOUNDS = {
    "/compliance/": 9,
    "/compliance/counts.csv": 4,
    "/compliance/search/": 3,
    "/compliance/withdrawals/overdue/": 6,
    "/compliance/withdrawals/overdue.csv": 4,
    "/compliance/chain/": 5,
    "/compliance/chain.csv": 5,
    "/compliance/requests/": 5,
    "/compliance/requests.csv": 4,
}
SEARCH_QUERY_BOUNDS = [
    ("/compliance/search/", {"q": "K-1"}, 5),
    ("/compliance/search/", {"q": EMAIL}, 4),
    ("/compliance/search.csv", {"q": "K-1"}, 5),
]


def test_list_pages_cost_a_fixed_number_of_queries(
    busy_world: World, reviewer: Client, django_assert_max_num_queries: Any
) -> None:
    for url, bound in LIST_QUERY_BOUNDS.items():
        with django_assert_max_num_queries(bound, info=url):
            response = reviewer.get(url)
            assert response.status_code == 200
            assert _text(response)
    for url, data, bound in SEARCH_QUERY_BOUNDS:
        with django_assert_max_num_queries(bound, info=f"{url} {data}"):
            response = reviewer.post(url, data)
            assert response.status_code == 200
            assert _text(response)


def test_the_member_page_costs_a_fixed_number_of_queries(
    busy_world: World, reviewer: Client, django_assert_max_num_queries: Any
) -> None:
    url = _member_url(busy_world.hanako)
    assert ConsentEvent.objects.filter(member=busy_world.hanako).count() > 20

    with django_assert_max_num_queries(14):
        assert reviewer.get(url).status_code == 200
    with django_assert_max_num_queries(15):  # and the audit event
        assert reviewer.post(url + "reveal/", {"reason": "case 7"}).status_code == 200
    for name in ("timeline", "states", "provisions", "withdrawals", "requests"):
        with django_assert_max_num_queries(5):
            assert _csv(reviewer.get(_member_url(busy_world.hanako, f"{name}.csv")))


def test_a_reviewer_moved_to_another_role_loses_the_pages_at_once(
    compliance_reviewer: User, host: Partner
) -> None:
    client = _as(compliance_reviewer)
    assert client.get("/compliance/").status_code == 200
    staff_role_set(
        user=compliance_reviewer,
        role=StaffRole.Role.PARTNER_ANALYST,
        partner=host,
        actor=Actor.system(),
    )
    assert client.get("/compliance/").status_code == 403


def test_consents_under_a_superseded_notice_are_shown_as_not_in_force(
    world: World, reviewer: Client
) -> None:
    # A new version with other conditions: the old consents still read "consented", but
    # consent_check no longer allows them.
    make_notice(
        version=2,
        text="住所も提供します。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[world.brand, world.outsider],
        data_items=["name", "email", "address"],
        effective_at=_ago(minutes=1),
    )
    assert PrivacyNotice.objects.count() == 2
    page = _text(reviewer.get(_member_url(world.hanako)))
    assert "no: superseded, needs new consent" in page


def test_no_page_loads_a_ciphertext(busy_world: World, reviewer: Client) -> None:
    # Only the reveal decrypts; lists and CSVs never even read the sealed columns.
    requests = [(url, None) for url in _pages(busy_world)] + SEARCHES
    for url, data in requests:
        with CaptureQueriesContext(connection) as queries:
            assert _text(reviewer.get(url) if data is None else reviewer.post(url, data))
        for query in queries.captured_queries:
            assert "_sealed" not in query["sql"], url
            assert "wrapped_key" not in query["sql"], url


def test_a_crafted_filter_cannot_break_the_download_header(reviewer: Client) -> None:
    response = reviewer.get(
        "/compliance/withdrawals/overdue.csv", {"recipient": 'x"; filename="evil.exe'}
    )
    assert response["Content-Disposition"].startswith(
        'attachment; filename="sanpo-overdue-withdrawal-acknowledgements-xfilenameevil.exe-'
    )
    assert response["Content-Disposition"].count('"') == 2
