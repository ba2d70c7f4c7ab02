"""The funnel benchmark's data, loaded set-based in SQL (``generate_series``): the demo's offer
cloned into ``OFFERS`` offers of the same two companies, ``LINKS`` campaign links each,
``clicks`` clicks (into their months' partitions) and ``conversions`` conversions spread over
the ``DAYS`` days before now, and the fees of the conversions that earn one.

Conversion g is of offer ``g % OFFERS`` and member ``(g / OFFERS) % members``, a sale for the
first ``OFFERS * members`` and a lead after, so no member converts twice for an offer and
kind (the database's rule) with as few synthetic members as that allows. Of every hundred,
90 are recorded, 4 flagged, 3 rejected, 2 refunded and 1 flagged then refunded. Members are
rows of the destination with placeholder ciphertexts: the funnel never reads them.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from federation.referrals.models import ReferralOffer
from federation.referrals.services import referral_click_months_create

OFFERS = 100
LINKS = 10
DAYS = 90
CHUNK = 1_000_000

_OFFERS = """
INSERT INTO federation_referraloffer (id, agreement_id, source_id, destination_id, title_ja,
       title_en, description_ja, description_en, landing_url, lead_fee_yen, sale_fee_yen,
       sale_fee_percent, attribution_days, member_coins, member_coins_on, valid_from,
       valid_until, created_at)
SELECT gen_random_uuid(), agreement_id, source_id, destination_id, title_ja || g,
       title_en || ' ' || g, description_ja, description_en, landing_url, lead_fee_yen,
       sale_fee_yen, sale_fee_percent, attribution_days, member_coins, member_coins_on,
       valid_from - %(days)s, valid_until, created_at
  FROM federation_referraloffer, generate_series(1, %(n)s) AS g
 WHERE id = %(offer)s
"""
_LINKS = """
INSERT INTO federation_referrallink (offer_id, token, code, campaign, channel, created_at)
SELECT o.id, md5(o.id::text || g), 'BENCH' || upper(substr(md5(o.id::text || g), 1, 10)),
       'bench-funnel-' || g, '', now()
  FROM unnest(%(offers)s::uuid[]) AS o(id), generate_series(1, %(links)s) AS g
"""
_MEMBERS = """
INSERT INTO partners_memberaccount (id, partner_id, member_number, kind, status,
       master_key_id, wrapped_key, index_key_id, record_digest, prefecture, created_at,
       updated_at)
SELECT gen_random_uuid(), %(partner)s, 'BENCH-' || g, 'household', 'active', 'bench',
       '\\x00'::bytea, 'bench', '\\x00'::bytea, '', now(), now()
  FROM generate_series(1, %(n)s) AS g
"""
# Click g: link g % links (its offer with it), at an instant going back over DAYS days.
_CLICKS = """
INSERT INTO federation_referralclick (link_id, offer_id, at, fingerprint)
SELECT (%(links)s::bigint[])[g %% %(nlinks)s + 1], (%(link_offers)s::uuid[])[g %% %(nlinks)s + 1],
       now() - (g::float8 / %(total)s * %(days)s) * interval '1 day',
       substr(md5((g %% 5000)::text), 1, 16)
  FROM generate_series(%(first)s, %(last)s) AS g
"""
_CONVERSIONS = """
INSERT INTO federation_referralconversion (offer_id, link_id, destination_id, member_id, kind,
       order_id, amount_yen, occurred_at, recorded_at, state, flags, reviewed_by,
       review_reason, refunded_at)
SELECT (%(offers)s::uuid[])[g %% %(noffers)s + 1],
       (%(links)s::bigint[])[(g %% %(noffers)s) * %(per_offer)s
                             + g / %(noffers)s %% %(per_offer)s + 1],
       %(destination)s, (%(members)s::uuid[])[g / %(noffers)s %% %(nmembers)s + 1],
       CASE WHEN g < %(noffers)s * %(nmembers)s THEN 'sale' ELSE 'lead' END,
       'BENCH-' || g, 9800, at, at,
       CASE WHEN g %% 100 < 90 THEN 'recorded' WHEN g %% 100 < 94 THEN 'flagged'
            WHEN g %% 100 < 97 THEN 'rejected' ELSE 'refunded' END,
       CASE WHEN g %% 100 >= 90 AND g %% 100 <> 97 AND g %% 100 <> 98
            THEN '["velocity_link"]'::jsonb ELSE '[]'::jsonb END,
       '', '', CASE WHEN g %% 100 >= 97 THEN at + interval '1 day' END
  FROM (SELECT g, now() - (g::float8 / %(total)s * %(days)s) * interval '1 day' AS at
          FROM generate_series(%(first)s, %(last)s) AS g) AS c
"""
# A fee for each conversion that earned one: pending for the recorded, reversed for the
# refunded ones that had been recorded (a flagged one never earned any).
_FEES = """
INSERT INTO federation_referralfee (conversion_id, offer_id, source_id, destination_id, kind,
       amount_yen, state, reason, created_at, lock_after, settlement_reference, reversed_at)
SELECT c.id, c.offer_id, o.source_id, c.destination_id, 'fee', 500,
       CASE WHEN c.state = 'recorded' THEN 'pending' ELSE 'reversed' END,
       '', c.occurred_at, c.occurred_at + interval '14 days', '', c.refunded_at
  FROM federation_referralconversion AS c
  JOIN federation_referraloffer AS o ON o.id = c.offer_id
 WHERE c.order_id LIKE 'BENCH-%%'
   AND (c.state = 'recorded' OR (c.state = 'refunded' AND c.flags = '[]'::jsonb))
"""


def members_needed(conversions: int) -> int:
    return max(1, math.ceil(conversions / (OFFERS * 2)))


def load(offer: ReferralOffer, clicks: int, conversions: int) -> float:
    """Load the module's data beside ``offer`` (the demo's); the seconds it took."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        with transaction.atomic():
            cursor.execute(_OFFERS, {"offer": offer.pk, "n": OFFERS - 1, "days": DAYS})
            offers = [
                str(pk)
                for pk in ReferralOffer.objects.filter(
                    source=offer.source, destination=offer.destination
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:OFFERS]
            ]
            cursor.execute(_LINKS, {"offers": offers, "links": LINKS})
            cursor.execute(
                "SELECT id, offer_id::text FROM federation_referrallink"
                " WHERE campaign LIKE 'bench-funnel-%%' ORDER BY offer_id, id"
            )
            links, link_offers = map(list, zip(*cursor.fetchall(), strict=True))
            cursor.execute(
                _MEMBERS, {"partner": offer.destination_id, "n": members_needed(conversions)}
            )
            cursor.execute(
                "SELECT id::text FROM partners_memberaccount WHERE member_number LIKE"
                " 'BENCH-%%' AND partner_id = %s ORDER BY id",
                [offer.destination_id],
            )
            members = [row[0] for row in cursor.fetchall()]
        # Their months' partitions, as the daily task would have made them over those months
        # (on PostgreSQL: README, "Partitioning"), so none lands in the default one.
        today = timezone.now().date()
        referral_click_months_create(first=today - timedelta(days=DAYS + 1), last=today)
        common = {"total": max(clicks, 1), "days": DAYS}
        link_params: dict[str, Any] = {
            "links": links,
            "link_offers": link_offers,
            "nlinks": len(links),
        }
        for first in range(0, clicks, CHUNK):
            with transaction.atomic():
                last = min(first + CHUNK, clicks) - 1
                cursor.execute(_CLICKS, {**common, **link_params, "first": first, "last": last})
        conversion_params: dict[str, Any] = {
            "offers": link_offers[::LINKS],
            "noffers": OFFERS,
            "links": links,
            "per_offer": LINKS,
            "destination": offer.destination_id,
            "members": members,
            "nmembers": len(members),
            "total": max(conversions, 1),
            "days": DAYS,
        }
        for first in range(0, conversions, CHUNK):
            with transaction.atomic():
                last = min(first + CHUNK, conversions) - 1
                cursor.execute(_CONVERSIONS, {**conversion_params, "first": first, "last": last})
        with transaction.atomic():
            cursor.execute(_FEES)
        for table in ("referralclick", "referralconversion", "referralfee"):
            cursor.execute(f"VACUUM ANALYZE federation_{table}")
    return time.perf_counter() - began
