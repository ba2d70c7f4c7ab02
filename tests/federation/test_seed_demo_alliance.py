"""`manage.py seed_demo_alliance`: agreements made through the services in each state, overlap
that answers numbers, enrollments in every state, and webhooks delivered to the demo receiver;
and loading it again changes nothing."""

import io
import time
from typing import Any

import pytest
import urllib3
from django.core.management import CommandError, call_command

from consent.models import ProvisionRecord
from federation.campaigns.models import Campaign, SurveyAnswer
from federation.coins.models import CoinLot, CoinTransaction
from federation.coins.selectors import ledger_verify
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.management.commands._demo_settlement import last_month
from federation.management.commands.seed_demo_alliance import STORY_MEMBER
from federation.models import Agreement, AgreementVersion
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import statement_verify
from federation.settlement.signing import public_keys, verify
from partners.actors import Actor
from partners.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from partners.services import webhook_endpoint_create
from partners.signing import signature_header
from tests.conftest import client_for
from tests.demo_data import (  # noqa: F401  (fixtures)
    demo_db,
    demo_receiver,
    load_demo,
)

MIDORI_KEY = "sanpo_mr0VMrejpT_UAmMKB7QJK8FGRtLniBRyqOtAn4HHyd52WvpQ0"


def _snapshot() -> dict[str, Any]:
    return {
        "agreements": sorted(Agreement.objects.values_list("title", "status")),
        "versions": AgreementVersion.objects.count(),
        "enrollments": sorted(Enrollment.objects.values_list("member_id", "target_id", "status")),
        "batches": EnrollmentBatch.objects.count(),
        "endpoints": WebhookEndpoint.objects.count(),
        "deliveries": WebhookDelivery.objects.count(),
        "coin_transactions": CoinTransaction.objects.count(),
        "settlement": sorted(
            SettlementPeriod.objects.values_list("starts_on", "state", "lines__amount_yen")
        ),
        "campaigns": sorted(Campaign.objects.values_list("name_en", "state", "selected")),
        "answers": SurveyAnswer.objects.count(),
        # Every import of a member file is a job of its own, audited, even when nothing changed.
        "audit": AuditEvent.objects.exclude(action__startswith="member_import.").count(),
    }


def test_the_demo_alliance_exercises_every_flow_and_loads_once(
    demo_db: None,  # noqa: F811
    demo_receiver: str,  # noqa: F811
    settings: Any,
) -> None:
    # About 24 members are in both Midori's and Kirari's bases at this size, 14 over the floor:
    # noise of scale 4 would withhold the total about once in 75 runs. The demo's counts are
    # exact here; the overlap tests check the noise.
    settings.SANPO_OVERLAP_NOISE_SCALE = 0
    load_demo(demo_receiver)
    first = _snapshot()

    # Agreements, each made and signed by every party through the services.
    statuses = dict(Agreement.objects.values_list("title", "status"))
    assert sorted(statuses.values()) == ["active", "active", "suspended"]
    amended = Agreement.objects.get(title__startswith="Kirari & Midori")
    v1, v2 = amended.versions.order_by("number")
    assert {p.partner.slug for p in v1.parties.all()} == {"kirari", "midori-fitness"}
    assert {p.partner.slug for p in v2.parties.all()} == {
        "kirari",
        "midori-fitness",
        "tsubame-travel",
    }
    for version in AgreementVersion.objects.all():
        assert version.status == AgreementVersion.Status.SIGNED
        assert not version.parties.filter(signed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="agreement.signed").count() == sum(
        version.parties.count() for version in AgreementVersion.objects.all()
    )

    # Enrollments in every state, and a campaign run to the end; the README's member is free.
    assert set(Enrollment.objects.values_list("status", flat=True)) == set(Enrollment.Status.values)
    assert {e.source.slug for e in Enrollment.objects.select_related("source")} == {
        "kirari",
        "midori-fitness",
        "tsubame-travel",
    }
    (batch,) = EnrollmentBatch.objects.all()
    assert batch.status == EnrollmentBatch.Status.DONE
    assert batch.enrolled > 0
    assert not Enrollment.objects.filter(member__member_number=STORY_MEMBER).exists()

    # Hoshizora's sampling campaign ran to its results: members drawn, a shipment list with a
    # provision each, answers that earned Hoshizora's coins, closed; the README's member
    # earned none (its coins are the README's story).
    (sampling,) = Campaign.objects.filter(partner__slug="hoshizora")
    assert sampling.state == Campaign.State.CLOSED
    assert sampling.selected == 100
    assert sampling.images.get().content_type == "image/png"
    assert sampling.members.exclude(exported_at=None).count() == 100
    assert SurveyAnswer.objects.filter(campaign=sampling, coins=30).count() == 80
    assert not SurveyAnswer.objects.filter(
        campaign_member__member__member_number=STORY_MEMBER
    ).exists()
    assert ProvisionRecord.objects.filter(purpose__code="sampling_shipment").count() >= 100

    # Every event was delivered to the receiver, which verified its signature (204).
    assert WebhookEndpoint.objects.count() == 4
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.count() > 20
    assert set(deliveries.values_list("state", flat=True)) == {WebhookDelivery.State.SUCCEEDED}
    assert set(WebhookAttempt.objects.values_list("status_code", flat=True)) == {204}
    kinds = set(deliveries.values_list("event_type", flat=True))
    assert {"agreement.version_signed", "agreement.suspended", "enrollment.requested"} <= kinds
    assert {"enrollment.confirmed", "enrollment.ended", "enrollment.batch_completed"} <= kinds

    # The overlap answers numbers, not withheld cells.
    answer = client_for(MIDORI_KEY).get("/api/v1/overlap", {"other": "kirari"})
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.json()["total"], int)
    assert answer.json()["total"] >= answer.json()["min_cell"]

    # Coins earned at both companies, spent at the host, one purchase refunded in part: the
    # ledger verifies, and Midori heard that its coins were spent at Kirari.
    kinds_posted = set(CoinTransaction.objects.values_list("kind", flat=True))
    assert {"earn_purchase", "redeem", "refund"} <= kinds_posted
    assert {lot.issuer.slug for lot in CoinLot.objects.select_related("issuer")} == {
        "kirari",
        "midori-fitness",
        "tsubame-travel",  # last month's ledger only
        "hoshizora",  # the sampling campaign's survey answers
    }
    assert ledger_verify() is None
    assert "coins.redeemed" in kinds

    # Last month settled and issued, every statement signed and verifiable; this month a draft.
    first_day, last_day = last_month()
    issued = SettlementPeriod.objects.get(starts_on=first_day, ends_on=last_day)
    assert issued.state == SettlementPeriod.State.ISSUED
    assert issued.lines.filter(kind="redemption").count() == 4
    assert sum(s.net_yen for s in issued.statements.all()) == 0
    keys = {key["key_id"]: key["public_key"] for key in public_keys()}
    for statement in issued.statements.all():
        assert statement_verify(statement)
        assert verify(statement.document, statement.signature, keys[statement.signing_key_id])
    assert SettlementPeriod.objects.filter(state="draft").count() == 1

    load_demo(demo_receiver)
    again = _snapshot()
    assert again == first


def test_the_demo_receiver_refuses_a_signature_it_cannot_verify(
    demo_db: None,  # noqa: F811
    demo_receiver: str,  # noqa: F811
    partner: Any,
) -> None:
    url = f"{demo_receiver}/brand-co"
    created = webhook_endpoint_create(
        partner=partner, url=url, events=["api_key.issued"], actor=Actor.system()
    )
    body = b'{"id": "e1"}'
    http = urllib3.PoolManager()

    def post(secret: str) -> int:
        header = signature_header(
            secrets=[secret], event_id="e1", timestamp=int(time.time()), body=body
        )
        headers = {"Sanpo-Event-Id": "e1", "Sanpo-Signature": header}
        return http.request("POST", url, body=body, headers=headers, retries=False).status

    assert post(created.secret) == 204
    assert post("whsec_not-the-secret") == 401


@pytest.fixture
def partner(demo_db: None) -> Any:  # noqa: F811
    from tests.factories import make_partner

    return make_partner("brand-co")


def test_the_alliance_needs_the_companies_and_the_consents_first(db: None) -> None:
    with pytest.raises(CommandError, match="Run seed_demo and seed_demo_consents first"):
        call_command("seed_demo_alliance", stdout=io.StringIO())
    call_command("seed_demo", members=0, stdout=io.StringIO())
    with pytest.raises(CommandError, match="Run seed_demo and seed_demo_consents first"):
        call_command("seed_demo_alliance", stdout=io.StringIO())
