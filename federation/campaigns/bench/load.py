"""The campaign benchmark's data, loaded set-based in SQL (``generate_series``): ``members``
host members (born 1940 to 2004, one in seven a business, prefectures in turn), 80% of them
consenting to ``sampling_shipment`` with the brand (a consent event and state each, as the
consent services would leave them), and, once a sample is drawn, one survey answer per member
drawn. The campaign itself, its notice and its agreement go through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from consent.models import PrivacyNotice
from consent.services import notice_publish
from federation.agreements import services
from federation.agreements.services import PartyInput
from federation.campaigns.models import Campaign
from federation.campaigns.services import CampaignInput, campaign_create
from partners import pii
from partners.actors import Actor
from partners.models import Partner

SYSTEM = Actor.system()
SEGMENT = {"age_bands": ["30-39", "40-49", "50-59"], "kinds": ["household"]}
QUESTIONS: list[dict[str, Any]] = [
    {"kind": "rating", "text_ja": "満足度", "text_en": "Satisfaction"},
    {
        "kind": "single",
        "text_ja": "また買う",
        "text_en": "Buy again",
        "choices": [{"ja": "はい", "en": "Yes"}, {"ja": "いいえ", "en": "No"}],
    },
    {
        "kind": "multiple",
        "text_ja": "良い点",
        "text_en": "Good",
        "choices": [{"ja": "味", "en": "Taste"}, {"ja": "価格", "en": "Price"}],
    },
    {"kind": "text", "text_ja": "ご意見", "text_en": "Comments"},
]

_MEMBERS = """
INSERT INTO partners_memberaccount (
    id, partner_id, member_number, kind, status, master_key_id, wrapped_key,
    index_key_id, email_index, phone_index, record_digest, birth_year,
    prefecture, created_at, updated_at)
SELECT gen_random_uuid(), %(partner)s, 'B' || n,
       CASE WHEN n %% 7 = 0 THEN 'business' ELSE 'household' END,
       'active', 'bench', '\\x00'::bytea, %(key)s,
       decode(md5('mail' || n), 'hex'), decode(md5('tel' || n), 'hex'),
       '\\x00'::bytea, 1940 + n %% 65, lpad((n %% 47 + 1)::text, 2, '0'), now(), now()
FROM generate_series(1, %(count)s) AS n
"""
_CHOOSE = """
CREATE TEMP TABLE bench_consent AS
SELECT gen_random_uuid() AS event_id, id AS member_id, now() AS recorded_at
FROM partners_memberaccount
WHERE partner_id = %(partner)s AND hashtext(member_number) %% 5 <> 0
"""
_EVENTS = """
INSERT INTO consent_consentevent (
    id, member_id, sequence, purpose_id, recipient_id, action, occurred_at,
    recorded_at, channel, captured_by, notice_id, jurisdiction, previous_hash, hash)
SELECT event_id, member_id, 1, 'sampling_shipment', %(brand)s, 'granted',
       now() - interval '1 hour', recorded_at, 'paper', 'bench', %(notice)s, 'JP',
       repeat('0', 64), encode(sha256(event_id::text::bytea), 'hex')
FROM bench_consent
"""
_STATES = """
INSERT INTO consent_consentstate (
    member_id, purpose_id, recipient_id, granted, notice_id, event_id, event_recorded_at,
    changed_at)
SELECT member_id, 'sampling_shipment', %(brand)s, true, %(notice)s, event_id, recorded_at,
       now()
FROM bench_consent
"""
# One answer per member drawn: a rating, a choice, one or two choices, a comment.
_ANSWERS = """
INSERT INTO federation_surveyanswer (
    campaign_id, campaign_member_id, answers, age_band, kind, coins, answered_at)
SELECT d.campaign_id, d.id,
       jsonb_build_object(
           '1', 1 + d.id %% 5,
           '2', d.id %% 2,
           '3', CASE WHEN d.id %% 3 = 0 THEN '[0, 1]'::jsonb ELSE '[1]'::jsonb END,
           '4', 'コメント ' || (d.id %% 100)),
       '', 'household', 0, now()
FROM federation_campaignmember d
WHERE d.campaign_id = %(campaign)s
"""


def parties() -> tuple[Partner, Partner]:
    """The demo's host and Hoshizora Foods (``seed_demo --members 0``)."""
    return Partner.objects.get(kind=Partner.Kind.HOST), Partner.objects.get(slug="hoshizora")


def agree(host: Partner, brand: Partner) -> None:
    """A notice naming both campaign purposes, and the sampling and research agreement."""
    notice_publish(
        version=1,
        language="ja",
        text="ベンチマーク用の通知",
        purposes=["sampling_shipment", "research_survey"],
        recipients=[brand],
        data_items=["name", "postal_code", "age_band", "kind"],
        effective_at=timezone.now() - timedelta(days=1),
        actor=SYSTEM,
    )
    today = timezone.localdate()
    flows = [
        {"provider": host.slug, "recipient": brand.slug, "purpose": purpose, "fields": fields}
        for purpose, fields in (
            ("sampling_shipment", ["name", "postal_code"]),
            ("research_survey", ["age_band", "kind"]),
        )
    ]
    agreement = services.agreement_create(
        title="Benchmark sampling",
        host=host,
        parties=[
            PartyInput(host, "Bench", "bench@host.example"),
            PartyInput(brand, "Bench", "bench@brand.example"),
        ],
        terms={"data_flows": flows},
        effective_from=today,
        valid_until=today + timedelta(days=30),
        actor=SYSTEM,
    )
    version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    for party in (host, brand):
        services.version_sign(version=version, partner=party, signed_by="Bench", actor=SYSTEM)


def members(host: Partner, brand: Partner, count: int) -> None:
    """``count`` host members, 80% consenting to sampling with ``brand``."""
    notice = PrivacyNotice.objects.get()
    with connection.cursor() as cursor:
        # No process caches this throw-away database's consents: no notifications needed.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            _MEMBERS,
            {"partner": host.pk, "key": pii.current_index_key_id(), "count": count},
        )
        cursor.execute(_CHOOSE, {"partner": host.pk})
        cursor.execute(_EVENTS, {"brand": brand.pk, "notice": notice.pk})
        cursor.execute(_STATES, {"brand": brand.pk, "notice": notice.pk})
        cursor.execute("DROP TABLE bench_consent")
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")


def campaign(host: Partner, brand: Partner, quantity: int) -> Campaign:
    """The brand's campaign, drafted by the service and marked approved (its seed given)."""
    today = timezone.localdate()
    drafted = campaign_create(
        partner=brand,
        host=host,
        values=CampaignInput(
            name_ja="ベンチ",
            name_en="Bench",
            description_ja="ベンチ",
            description_en="Bench",
            category="bench",
            quantity=quantity,
            segment=SEGMENT,
            starts_on=today,
            ends_on=today + timedelta(days=30),
            selection=Campaign.Selection.DIRECT,
            coins_per_answer=0,
            questions=QUESTIONS,
        ),
        actor=SYSTEM,
    )
    Campaign.objects.filter(pk=drafted.pk).update(
        state=Campaign.State.APPROVED, seed="0123456789abcdef"
    )
    drafted.refresh_from_db()
    return drafted


def answers(drawn: Campaign) -> int:
    """One answer per member drawn; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(_ANSWERS, {"campaign": drawn.pk})
        cursor.execute("ANALYZE federation_surveyanswer")
    return drawn.answers.count()
