"""A joint-use flow's public notice (APPI 共同利用) is shown on the preference page of the
members of the companies that use the data jointly, while the agreement is in force."""

import pytest
from django.test import Client
from django.utils import timezone

from consent.preference_page.links import preference_link_token
from federation import services
from federation.models import Agreement
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from tests.factories import make_agreement, make_member

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
NOTICE = {
    "data_items": "年代、都道府県、購入履歴",
    "users_scope": "きらりホームサービスおよびブランド社",
    "purpose_of_use": "共同の商品調査",
    "responsible_name": "きらりホームサービス株式会社",
    "responsible_address": "東京都千代田区架空町1-1",
    "responsible_representative": "代表取締役 架空 太郎",
}


@pytest.fixture
def agreement(host: Partner, partner: Partner) -> Agreement:
    flow = {
        "provider": host.slug,
        "recipient": partner.slug,
        "purpose": "research_survey",
        "fields": ["age_band", "prefecture"],
        "legal_basis": "joint_use",
        "joint_use": NOTICE,
    }
    return make_agreement(host, partner, title="共同調査の取り決め", terms={"data_flows": [flow]})


def _page(member: MemberAccount, lang: str = "ja") -> str:
    response = Client().get(f"/preferences/{preference_link_token(member)}/?lang={lang}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_joint_use_notice_is_on_the_members_page_while_in_force(
    agreement: Agreement, host: Partner, outsider: Partner
) -> None:
    hanako = make_member(host, "K-1")

    page = _page(hanako)
    english = _page(hanako, "en")

    assert "共同利用について" in page
    for text in NOTICE.values():
        assert text in page
    assert "管理について責任を有する者" in page
    assert "Responsible for its management" in english
    assert "共同利用" not in _page(make_member(outsider, "O-1"))  # not its company's data

    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)
    assert NOTICE["purpose_of_use"] not in _page(hanako)


def test_the_notice_is_worded_in_the_pages_language_whatever_the_browser_asks(
    agreement: Agreement, host: Partner
) -> None:
    hanako = make_member(host, "K-1")
    english_browser = Client(headers={"accept-language": "en"})
    token = preference_link_token(hanako)

    japanese = english_browser.get(f"/preferences/{token}/").content.decode()
    english = Client(headers={"accept-language": "ja"}).get(f"/preferences/{token}/?lang=en")

    assert "共同して利用される個人データの項目" in japanese
    assert "対象となる会員情報の項目" in japanese
    assert "年代、都道府県" in japanese  # the flow's fields, by their Japanese names
    responsible = "{responsible_name}（{responsible_address}、{responsible_representative}）"  # noqa: RUF001
    assert responsible.format(**NOTICE) in japanese
    assert "Data used jointly" not in japanese
    english_page = english.content.decode()
    assert "Data used jointly" in english_page
    assert "Your member data it covers" in english_page
    assert "age band, prefecture" in english_page
    assert "共同して利用される個人データの項目" not in english_page
