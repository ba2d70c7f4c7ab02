"""Consent in the console: alliance managers read every register and nobody changes a row
there; a new privacy notice version is published only through the service, after a preview of
what it changes for members; data-subject requests show the days left before they are due.
Members appear by number, never by their personal data."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from consent.admin.requests import days_left
from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    Purpose,
    WithdrawalNotice,
)
from consent.services import consent_withdraw
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner
from tests.factories import grant_consent, make_member, make_notice, make_user

pytestmark = pytest.mark.django_db
MODELS = [
    Purpose,
    PrivacyNotice,
    ConsentEvent,
    ConsentState,
    WithdrawalNotice,
    ProvisionRecord,
    DataSubjectRequest,
    ChainVerification,
]
NAME, EMAIL, PHONE = "山田 太郎", "taro.yamada@example.jp", "09033334444"
NOTICES = "/admin/consent/privacynotice/"
PUBLISH = NOTICES + "publish/"
REQUESTS = "/admin/consent/datasubjectrequest/"


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _list(model: Any) -> str:
    return f"/admin/consent/{model._meta.model_name}/"


@pytest.fixture
def manager(alliance_manager: User) -> Client:
    return _login(alliance_manager)


@pytest.fixture
def taro(host: Partner, partner: Partner) -> MemberAccount:
    """A member who consented to the brand under notice v1 and withdrew one consent."""
    make_notice(
        text="氏名とメールアドレスを提携先に提供します。\n問い合わせ窓口はサンポ事務局です。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[partner],
        data_items=["name", "email"],
    )
    member = make_member(host, "T-1", name=NAME, email=EMAIL, phone=PHONE)
    grant_consent(member, partner, "cross_enrollment", "profile_sharing")
    consent_withdraw(
        member=member,
        purpose_code="profile_sharing",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )
    return member


def _request(member: MemberAccount, *, due_in: timedelta, **extra: Any) -> DataSubjectRequest:
    # Written directly: a request's dates must lie in the past to be overdue, and the
    # submitting service stamps them with now (as in test_compliance_pages).
    return DataSubjectRequest.objects.create(
        member=member,
        kind=extra.pop("kind", DataSubjectRequest.Kind.ACCESS),
        received_at=timezone.now() + due_in - timedelta(days=30),
        due_at=timezone.now() + due_in,
        received_via=member.partner,
        requested_by="API key sk_…abcd of host-co",
        verified_with=["birth_date", "email"],
        **extra,
    )


# --- Who gets in -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.model_name for m in MODELS])
def test_every_register_answers_alliance_managers_alone(
    model: Any, manager: Client, compliance_reviewer: User, partner_admin: User
) -> None:
    root = get_user_model().objects.create_superuser("root", "root@sanpo.example", "pw-123456")
    staff_without_role = make_user("sam-staff")
    staff_without_role.is_staff = True
    staff_without_role.save()

    assert manager.get(_list(model)).status_code == 200
    assert Client().get(_list(model)).status_code == 302
    assert _login(partner_admin).get(_list(model)).status_code == 302
    assert _login(compliance_reviewer).get(_list(model)).status_code == 302  # not staff
    assert _login(staff_without_role).get(_list(model)).status_code == 403
    assert _login(root).get(_list(model)).status_code == 403  # the flag grants no role


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.model_name for m in MODELS])
def test_nobody_adds_a_consent_row_in_the_console(model: Any, manager: Client) -> None:
    assert manager.get(_list(model) + "add/").status_code == 403
    assert manager.post(_list(model) + "add/", {}).status_code == 403


def test_a_consent_row_cannot_be_changed_or_deleted_in_the_console(
    taro: MemberAccount, manager: Client
) -> None:
    purpose = Purpose.objects.get(code="cross_enrollment")
    event = ConsentEvent.objects.filter(member=taro).first()
    assert event is not None

    for url in (f"{_list(Purpose)}{purpose.pk}/", f"{_list(ConsentEvent)}{event.pk}/"):
        assert manager.get(url + "change/").status_code == 200
        assert manager.post(url + "change/", {"name_en": "x"}).status_code == 403
        assert manager.post(url + "delete/", {"post": "yes"}).status_code == 403
    purpose.refresh_from_db()
    assert purpose.name_en == "Cross-enrollment"
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_a_staff_compliance_reviewer_reads_the_record_but_not_the_purposes_or_publishing(
    taro: MemberAccount, compliance_reviewer: User
) -> None:
    compliance_reviewer.is_staff = True  # were reviewers ever given console accounts
    compliance_reviewer.save()
    reviewer = _login(compliance_reviewer)

    assert reviewer.get(_list(ConsentEvent)).status_code == 200
    assert reviewer.get(_list(DataSubjectRequest)).status_code == 200
    assert reviewer.get(NOTICES).status_code == 200
    assert reviewer.get(_list(Purpose)).status_code == 403
    assert reviewer.get(PUBLISH).status_code == 403
    assert "Publish a new version" not in reviewer.get(NOTICES).content.decode()


# --- Nothing personal --------------------------------------------------------------------------


def test_no_list_shows_personal_data(taro: MemberAccount, manager: Client) -> None:
    _request(taro, due_in=timedelta(days=3))

    for model in MODELS:
        text = manager.get(_list(model)).content.decode()
        assert NAME not in text, model
        assert EMAIL not in text, model
        assert PHONE not in text, model
    assert "T-1" in manager.get(_list(ConsentEvent)).content.decode()
    assert "T-1" in manager.get(REQUESTS).content.decode()


def test_each_list_names_its_csv_columns() -> None:
    from django.contrib import admin

    for model in MODELS:
        columns = admin.site._registry[model].csv_fields  # type: ignore[attr-defined]
        assert columns, model
        assert not any("sealed" in column or "index" in column for column in columns)


# --- Purposes ----------------------------------------------------------------------------------


def test_purposes_are_listed_in_japanese_and_english(manager: Client) -> None:
    purpose = Purpose.objects.get(code="cross_enrollment")

    text = manager.get(_list(Purpose)).content.decode()

    assert purpose.name_ja in text
    assert purpose.name_en in text
    assert purpose.description_ja[:20] in text
    assert purpose.description_en[:30] in text
    assert manager.get(_list(Purpose), {"q": purpose.name_ja}).context["cl"].result_count == 1


# --- Privacy notices ---------------------------------------------------------------------------


def _publish_form(partner: Partner, outsider: Partner, **changes: Any) -> dict[str, Any]:
    form = {
        "version": "2",
        "language": "ja",
        "effective_at": (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "purposes": ["cross_enrollment", "overlap_matching"],
        "recipients": [str(partner.pk), str(outsider.pk)],
        "data_items": ["name", "age_band"],
        "text": "氏名と年代を提携先に提供します。\n問い合わせ窓口はサンポ事務局です。",
    }
    return {**form, **changes}


def test_the_publish_page_starts_from_the_version_in_force(
    taro: MemberAccount, manager: Client
) -> None:
    form = manager.get(PUBLISH).context["form"]

    assert form.initial["version"] == 2
    assert form.initial["purposes"] == ["cross_enrollment", "profile_sharing"]
    assert form.initial["text"].startswith("氏名とメールアドレス")
    assert form.initial["effective_at"] > timezone.now()  # a time the form can post back


def test_the_preview_shows_what_changes_for_members(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    page = manager.post(PUBLISH, {**_publish_form(partner, outsider), "_preview": "1"})

    changes = page.context["changes"]
    assert changes.purposes.added == ["Overlap matching"]
    assert changes.purposes.removed == ["Profile sharing"]
    assert changes.recipients.added == [outsider.name_latin]
    assert changes.recipients.removed == []
    assert changes.data_items.added == ["age band"]
    assert changes.data_items.removed == ["e-mail"]
    assert ("-", "氏名とメールアドレスを提携先に提供します。") in changes.text
    assert ("+", "氏名と年代を提携先に提供します。") in changes.text
    assert (" ", "問い合わせ窓口はサンポ事務局です。") in changes.text
    assert changes.conditions_changed
    text = page.content.decode()
    assert 'id="consents-do-not-carry-over"' in text
    assert "<ins>+ 氏名と年代を提携先に提供します。</ins>" in text
    assert not PrivacyNotice.objects.filter(version=2).exists()  # a preview publishes nothing


def test_a_reworded_notice_keeps_members_consents(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    same_conditions = _publish_form(
        partner,
        outsider,
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[str(partner.pk)],
        data_items=["name", "email"],
        text="氏名・メールアドレスを提携先に提供します。",
    )

    page = manager.post(PUBLISH, {**same_conditions, "_preview": "1"})

    assert not page.context["changes"].conditions_changed
    assert page.context["changes"].text_changed
    assert 'id="consents-carry-over"' in page.content.decode()


def test_the_preview_speaks_japanese(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    page = manager.post(
        PUBLISH, {**_publish_form(partner, outsider), "_preview": "1"}, HTTP_ACCEPT_LANGUAGE="ja"
    )

    text = page.content.decode()
    assert "会員にとっての変更点" in text
    assert outsider.name_ja in page.context["changes"].recipients.added
    assert "年代" in page.context["changes"].data_items.added


def test_publishing_goes_through_the_service_and_audits(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    form = _publish_form(partner, outsider)
    preview = manager.post(PUBLISH, {**form, "_preview": "1"})

    answer = manager.post(
        PUBLISH, {**form, "previewed": preview.context["previewed"], "_publish": "1"}
    )

    notice = PrivacyNotice.objects.get(version=2)
    assert answer.status_code == 302
    assert answer["Location"] == f"{NOTICES}{notice.pk}/change/"
    assert notice.conditions == {
        "purposes": ["cross_enrollment", "overlap_matching"],
        "recipients": sorted([partner.slug, outsider.slug]),
        "data_items": ["age_band", "name"],
    }
    (event,) = AuditEvent.objects.filter(action="notice.published", object_id=str(notice.pk))
    assert event.actor_label == "user alice-manager"
    assert event.detail["version"] == 2


def test_only_what_was_previewed_is_published(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    form = _publish_form(partner, outsider)
    preview = manager.post(PUBLISH, {**form, "_preview": "1"})
    edited = {**form, "text": "別の文面", "previewed": preview.context["previewed"]}

    answer = manager.post(PUBLISH, {**edited, "_publish": "1"})

    assert answer.status_code == 200
    assert answer.context["changes"] is not None  # previewed again, as it now stands
    assert not PrivacyNotice.objects.filter(version=2).exists()
    assert not manager.post(PUBLISH, {**form, "_publish": "1"}).context["form"].errors
    assert not PrivacyNotice.objects.filter(version=2).exists()  # never previewed at all


def test_a_refused_publication_says_why_and_records_nothing(
    taro: MemberAccount, partner: Partner, outsider: Partner, manager: Client
) -> None:
    form = _publish_form(partner, outsider, version="1")  # v1 in Japanese exists
    preview = manager.post(PUBLISH, {**form, "_preview": "1"})

    answer = manager.post(
        PUBLISH, {**form, "previewed": preview.context["previewed"], "_publish": "1"}
    )

    assert answer.status_code == 200
    assert answer.context["form"].errors
    assert PrivacyNotice.objects.count() == 1
    assert not AuditEvent.objects.filter(action="notice.published", detail__version=1).exclude(
        actor_label="system"
    )


def test_the_notice_list_marks_the_version_in_force(taro: MemberAccount, manager: Client) -> None:
    page = manager.get(NOTICES)

    (row,) = page.context["cl"].result_list
    assert row.is_in_force
    assert "Publish a new version" in page.content.decode()


# --- Data-subject requests ---------------------------------------------------------------------


def test_days_left_counts_whole_days_in_japan() -> None:
    today = timezone.localdate()
    noon = timezone.make_aware(datetime(today.year, today.month, today.day, 12))

    assert days_left(noon, today) == 0
    assert days_left(noon + timedelta(days=10), today) == 10
    assert days_left(noon - timedelta(days=3), today) == -3


def test_requests_show_days_left_and_overdue_ones_stand_out(
    taro: MemberAccount, manager: Client
) -> None:
    soon = _request(taro, due_in=timedelta(days=10))
    late = _request(taro, due_in=timedelta(days=-3), kind=DataSubjectRequest.Kind.ERASURE)
    done = _request(
        taro,
        due_in=timedelta(days=-40),
        status=DataSubjectRequest.Status.COMPLETED,
        completed_at=timezone.now() - timedelta(days=45),
    )

    page = manager.get(REQUESTS)

    shown = {
        row.pk: page.context["cl"].model_admin.days_left_shown(row)
        for row in page.context["cl"].result_list
    }
    assert shown[soon.pk] == "10 days"
    assert (
        shown[late.pk]
        == '<strong class="overdue" style="color: var(--error-fg)">overdue by 3 days</strong>'
    )
    assert shown[done.pk] == "—"
    assert "overdue by 3 days" in page.content.decode()


def test_requests_filter_and_search(taro: MemberAccount, host: Partner, manager: Client) -> None:
    other = make_member(host, "T-2", email="hanako@example.jp")
    soon = _request(taro, due_in=timedelta(days=10))
    late = _request(other, due_in=timedelta(days=-3), kind=DataSubjectRequest.Kind.ERASURE)

    def listed(**query: Any) -> set[Any]:
        page = manager.get(REQUESTS, query)
        assert page.status_code == 200
        return {row.pk for row in page.context["cl"].result_list}

    assert listed() == {soon.pk, late.pk}
    assert listed(deadline="overdue") == {late.pk}
    assert listed(deadline="verified") == {soon.pk, late.pk}
    assert listed(deadline="completed") == set()
    assert listed(kind__exact="erasure") == {late.pk}
    assert listed(q="T-2") == {late.pk}
    assert listed(q=str(soon.pk)) == {soon.pk}


def test_requests_in_japanese(taro: MemberAccount, manager: Client) -> None:
    _request(taro, due_in=timedelta(days=-3))

    text = manager.get(REQUESTS, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "3日超過" in text
    assert "残り日数" in text
