"""The alliance dashboard on the admin index (federation/dashboard): each figure counts what it
says on data the services made, in the right day or month of Tokyo; an empty alliance shows
empty charts, not errors; only alliance managers see it; and the page costs a fixed number of
queries however many rows it counts."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation

from consent.models import DataSubjectRequest, WithdrawalNotice
from consent.services import consent_withdraw, data_request_submit, withdrawal_acknowledge
from federation import services
from federation.dashboard import figures, selectors
from federation.dashboard.selectors import Period
from federation.models import Agreement, Enrollment
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Partner, WebhookDelivery
from tests.conftest import WebhookReceiver
from tests.factories import grant_consent, make_member, make_notice, make_partner
from tests.federation.conftest import enrollment_member, grant_enrollment_consents

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TOKYO = ZoneInfo("Asia/Tokyo")


def month_start(day: date, back: int = 0) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


def dashboard_page(client: Client, user: User, **params: str) -> str:
    client.force_login(user)
    response = client.get("/admin/", params)
    assert response.status_code == 200
    return response.content.decode()


# --- Periods ----------------------------------------------------------------------------------


def test_the_periods_are_days_or_months_of_tokyo_ending_now() -> None:
    # 15:30 UTC on 30 November is 00:30 on 1 December in Tokyo: December is the current month.
    now = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)

    days = selectors.window_of(Period.DAYS, now=now)
    months = selectors.window_of(Period.MONTHS, now=now)

    assert len(days.buckets) == 30
    assert days.buckets[-1] == date(2026, 12, 1)
    assert days.buckets[0] == date(2026, 11, 2)
    assert days.start == datetime(2026, 11, 2, tzinfo=TOKYO)
    assert len(months.buckets) == 12
    assert months.buckets[0] == date(2026, 1, 1)
    assert months.buckets[-1] == date(2026, 12, 1)


def test_days_and_months_are_labelled_as_each_language_writes_them() -> None:
    months = selectors.window_of(Period.MONTHS, now=datetime(2026, 11, 10, tzinfo=UTC))
    days = selectors.window_of(Period.DAYS, now=datetime(2026, 11, 10, tzinfo=UTC))
    with translation.override("ja"):
        assert figures.bucket_label(months, date(2026, 11, 1)) == "2026年11月"
        assert figures.bucket_label(days, date(2026, 11, 5)) == "11月5日"
    with translation.override("en"):
        assert figures.bucket_label(months, date(2026, 11, 1)) == "Nov 2026"
        assert figures.bucket_label(days, date(2026, 11, 5)) == "5 Nov"


# --- Members ----------------------------------------------------------------------------------


def test_members_per_company_count_active_and_inactive_accounts_not_erased_ones(
    host: Partner, partner: Partner, client: Client, alliance_manager: User
) -> None:
    members = [make_member(host, f"H-{n}") for n in range(4)]
    partner_services.member_deactivate(member=members[0], actor=SYSTEM)
    partner_services.member_erase(member=members[1], actor=SYSTEM)
    make_member(partner, "B-1")
    make_partner("sampler", holds_customer_data=False)  # no member base: not a row

    rows = selectors.members_per_company()

    assert [(r.slug, r.active, r.inactive) for r in rows] == [
        ("host-co", 2, 1),
        ("brand-co", 1, 0),
    ]
    page = dashboard_page(client, alliance_manager)
    assert "<dt>Member accounts</dt><dd>4</dd>" in page
    assert "<th scope='row'>Host Co</th><td>2</td><td>1</td>" in page


def test_names_on_the_page_are_escaped(client: Client, alliance_manager: User) -> None:
    evil = make_partner("evil-co", name_latin="<script>alert(1)</script> & Co")
    make_member(evil, "E-1")

    page = dashboard_page(client, alliance_manager)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


# --- Enrollments ------------------------------------------------------------------------------


def test_enrollments_are_counted_in_the_period_they_were_requested_and_confirmed(
    host: Partner, partner: Partner, agreement: Agreement
) -> None:
    enrolled = []
    for number in ("K-1", "K-2", "K-3"):
        member = enrollment_member(host, number)
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
        enrolled.append(
            services.enrollment_request(member=member, target=partner, fields=None, actor=SYSTEM)
        )
    services.enrollment_confirm(enrollment=enrolled[0], target_member_number="T-1", actor=SYSTEM)
    # The third was requested 40 days ago: outside the last 30 days, inside the 12 months.
    long_ago = timezone.now() - timedelta(days=40)
    Enrollment.objects.filter(pk=enrolled[2].pk).update(requested_at=long_ago)
    now = timezone.now()

    days = selectors.enrollments_over_time(selectors.window_of(Period.DAYS, now=now))
    months = selectors.enrollments_over_time(selectors.window_of(Period.MONTHS, now=now))

    assert days.requested[-1] == 2
    assert sum(days.requested) == 2
    assert days.confirmed[-1] == 1
    assert sum(days.confirmed) == 1
    assert sum(months.requested) == 3
    assert months.requested[-1] == 2
    then = long_ago.astimezone(TOKYO).date().replace(day=1)
    window = selectors.window_of(Period.MONTHS, now=now)
    assert months.requested[window.buckets.index(then)] == 1


# --- Consents ---------------------------------------------------------------------------------


@pytest.fixture
def year_old_notice(partner: Partner) -> Any:
    return make_notice(
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(days=400),
    )


def test_consents_are_counted_per_month_of_tokyo_and_per_purpose(
    host: Partner, partner: Partner, year_old_notice: Any
) -> None:
    today = timezone.now().astimezone(TOKYO).date()
    last_month = month_start(today, back=1)
    # 00:30 on the 1st in Tokyo is still the previous month's last day in UTC.
    first_thing = tokyo(last_month, 0, 30)
    a, b = make_member(host, "H-1"), make_member(host, "H-2")
    grant_consent(a, partner, "profile_sharing", "co_marketing_contact", occurred_at=first_thing)
    grant_consent(b, partner, "profile_sharing", occurred_at=first_thing + timedelta(hours=1))
    consent_withdraw(
        member=a,
        purpose_code="co_marketing_contact",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now() - timedelta(minutes=1),
        actor=SYSTEM,
    )
    window = selectors.window_of(Period.MONTHS, now=timezone.now())

    activity = selectors.consent_activity(window)

    assert activity.granted[window.buckets.index(last_month)] == 3
    assert sum(activity.granted) == 3
    assert activity.withdrawn[-1] == 1
    assert sum(activity.withdrawn) == 1
    by_purpose = {p.code: (p.granted, p.withdrawn) for p in activity.purposes}
    assert by_purpose["profile_sharing"] == (2, 0)
    assert by_purpose["co_marketing_contact"] == (1, 1)
    assert by_purpose["overlap_matching"] == (0, 0)  # every active purpose is listed


def test_consents_older_than_the_period_are_not_counted(
    host: Partner, partner: Partner, year_old_notice: Any
) -> None:
    member = make_member(host, "H-1")
    grant_consent(
        member, partner, "profile_sharing", occurred_at=timezone.now() - timedelta(days=380)
    )

    activity = selectors.consent_activity(selectors.window_of(Period.MONTHS, now=timezone.now()))

    assert sum(activity.granted) == 0


# --- What is due ------------------------------------------------------------------------------


def test_withdrawals_not_acknowledged_in_time_are_overdue_per_recipient(
    host: Partner, partner: Partner, outsider: Partner, settings: Any
) -> None:
    make_notice(
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner, outsider],
        data_items=["name"],
    )
    for number in ("H-1", "H-2", "H-3"):
        member = make_member(host, number)
        grant_consent(member, partner, "profile_sharing")
        consent_withdraw(
            member=member,
            purpose_code="profile_sharing",
            recipient=partner,
            channel="host_portal",
            occurred_at=timezone.now(),
            actor=SYSTEM,
        )
    notices = list(WithdrawalNotice.objects.order_by("created_at"))
    past = timezone.now() - timedelta(hours=settings.SANPO_WITHDRAWAL_ACK_HOURS + 1)
    WithdrawalNotice.objects.filter(pk=notices[0].pk).update(created_at=past)
    withdrawal_acknowledge(notice=notices[2], actor=SYSTEM)

    rows = selectors.withdrawals_unacknowledged(now=timezone.now())

    assert [(r.slug, r.unacknowledged, r.overdue) for r in rows] == [("brand-co", 2, 1)]


def test_open_data_subject_requests_are_counted_by_deadline(
    host: Partner, partner: Partner, settings: Any
) -> None:
    def request(number: str, due_in_days: int) -> DataSubjectRequest:
        settings.SANPO_DSR_DUE_DAYS = due_in_days
        member = make_member(host, number, email=f"{number}@example.jp", phone="09011112222")
        identity = {"email": f"{number}@example.jp", "phone": "090-1111-2222"}
        made, _ = data_request_submit(
            member=member, kind="access", identity=identity, received_via=host, actor=SYSTEM
        )
        return made

    overdue = request("H-1", 30)
    DataSubjectRequest.objects.filter(pk=overdue.pk).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    request("H-2", 3)
    request("H-3", 6)
    request("H-4", 30)
    done = request("H-5", 1)
    DataSubjectRequest.objects.filter(pk=done.pk).update(
        status=DataSubjectRequest.Status.COMPLETED, due_at=timezone.now() - timedelta(days=1)
    )

    due = selectors.data_subject_requests_due(now=timezone.now())

    assert (due.overdue, due.due_soon, due.later) == (1, 2, 1)


def test_the_webhook_success_rate_is_of_deliveries_that_finished(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 1  # a refused delivery gives up at once
    endpoint = partner_services.webhook_endpoint_create(
        partner=partner, url=webhook_receiver.url, events=["consent.withdrawn"], actor=SYSTEM
    ).endpoint
    deliveries = [partner_services.webhook_endpoint_ping(endpoint=endpoint) for _ in range(5)]
    webhook_receiver.answer(200, 200, 200, 500)
    for delivery in deliveries[:4]:  # the fifth is still waiting for its first attempt
        partner_services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=1)
    assert WebhookDelivery.objects.filter(state="failed").count() == 1

    outcomes = selectors.webhook_outcomes(selectors.window_of(Period.DAYS, now=timezone.now()))

    assert (outcomes.succeeded, outcomes.failed, outcomes.pending) == (3, 1, 1)
    panel = figures.webhooks_panel(outcomes)
    assert panel.headlines[0].value == "75.0%"
    assert panel.headlines[1].alert


# --- The page ---------------------------------------------------------------------------------


def test_an_empty_alliance_shows_every_chart_saying_it_has_nothing(
    client: Client, alliance_manager: User
) -> None:
    page = dashboard_page(client, alliance_manager)

    # Members, enrollments, consents over time and per purpose (whose purposes are listed,
    # with zeros), withdrawals, requests, webhooks: seven charts, none with anything to draw.
    assert page.count("<figure class='sanpo-chart'>") == 7
    assert page.count("Nothing to show.") == 7
    assert "<dt>Success rate</dt><dd>—</dd>" in page
    assert 'id="content-main"' in page  # the app list is still there
    assert "/admin/partners/" in page


def test_the_period_switch_chooses_days_or_months_and_ignores_anything_else(
    client: Client, alliance_manager: User
) -> None:
    today = timezone.now().astimezone(TOKYO).date()

    def rows_of_enrollments(page: str) -> int:
        start = page.index('id="dashboard-enrollments"')
        section = page[start : page.index("</section>", start)]
        return section.count("<th scope='row'>")

    assert rows_of_enrollments(dashboard_page(client, alliance_manager)) == 12
    days = dashboard_page(client, alliance_manager, period="30d")
    assert rows_of_enrollments(days) == 30
    assert f"<th scope='row'>{today.day} {today:%b}</th>" in days
    assert 'href="?period=30d" aria-current="true"' in days
    assert rows_of_enrollments(dashboard_page(client, alliance_manager, period="x")) == 12


def test_the_dashboard_speaks_japanese_with_japanese_months_and_names(
    client: Client, alliance_manager: User, host: Partner
) -> None:
    make_member(host, "H-1")
    client.force_login(alliance_manager)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    this_month = timezone.now().astimezone(TOKYO).date()
    assert "アライアンスの概況" in page
    assert f"<th scope='row'>{this_month.year}年{this_month.month}月</th>" in page
    assert "<th scope='row'>host-co株式会社</th>" in page
    assert "Nothing to show." not in page


@pytest.mark.parametrize(
    "who", ["anonymous", "partner_admin", "partner_analyst", "compliance_reviewer"]
)
def test_nobody_but_staff_reaches_the_admin_index(client: Client, who: str, request: Any) -> None:
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_superuser_without_a_role_gets_the_plain_index(
    client: Client, host: Partner, alliance_manager: User
) -> None:
    root = User.objects.create_superuser("root", "root@example.test", "correct horse")
    make_member(host, "H-1")
    client.force_login(root)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "alliance-dashboard-figures" not in response.content.decode()
    assert "dashboard_panels" not in response.context
    assert response.templates[0].name == "admin/index.html"


def test_an_alliance_manager_gets_the_dashboard_above_the_app_list(
    client: Client, alliance_manager: User
) -> None:
    client.force_login(alliance_manager)
    response = client.get("/admin/")

    page = response.content.decode()
    assert response.templates[0].name == "admin/federation/dashboard/index.html"
    assert page.index("alliance-dashboard-figures") < page.index('id="content-main"')
    assert "Recent actions" in page


# --- Cost -------------------------------------------------------------------------------------


def _grow(host: Partner, partner: Partner, start: int, count: int) -> None:
    for n in range(start, start + count):
        member = make_member(host, f"H-{n}")
        grant_consent(member, partner, "profile_sharing")
        consent_withdraw(
            member=member,
            purpose_code="profile_sharing",
            recipient=partner,
            channel="host_portal",
            occurred_at=timezone.now(),
            actor=SYSTEM,
        )


def test_the_page_costs_the_same_few_queries_however_much_it_counts(
    client: Client,
    alliance_manager: User,
    host: Partner,
    partner: Partner,
    django_assert_num_queries: Any,
) -> None:
    make_notice(purposes=["profile_sharing"], recipients=[partner], data_items=["name"])
    client.force_login(alliance_manager)
    _grow(host, partner, 0, 2)
    with django_assert_num_queries(QUERIES_PER_PAGE):
        client.get("/admin/", {"period": "30d"})

    _grow(host, partner, 2, 6)
    with django_assert_num_queries(QUERIES_PER_PAGE):
        client.get("/admin/", {"period": "30d"})
    with django_assert_num_queries(QUERIES_PER_PAGE):
        client.get("/admin/")


# The figures' eight (members 1, enrollments 2, consents 2, withdrawals 1, requests 1,
# webhooks 1) and the admin index's own six: the session, the user, the role, the user's and
# the groups' permissions (the app list), the recent actions.
QUERIES_PER_PAGE = 14
