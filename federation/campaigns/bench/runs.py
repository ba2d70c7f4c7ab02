"""What the campaign benchmark times, each against a plain SQL query over the same tables, in
turn, ``rounds`` times (the last round of each counts: the earlier ones warm the cache):

- the draw: ``campaign_select`` (the segment, the consent rule in force, the cooldown, the
  seeded order, the audit row) against one plain ``INSERT … SELECT`` joining the consent states,
  each rolled back after it is timed;
- the results: ``campaign_results`` (the tallies, the suppression, the scrubbed texts in no
  order, the question logged) against a plain ``GROUP BY`` over the answers' JSON and the texts
  fetched."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from federation.campaigns.models import Campaign, CampaignMember
from federation.campaigns.services import campaign_results, campaign_select
from partners.actors import Actor

SYSTEM = Actor.system()

_SELECT = """
INSERT INTO federation_campaignmember (campaign_id, member_id, status, selected_at)
SELECT %(campaign)s, a.id, 'selected', now()
FROM partners_memberaccount a
JOIN consent_consentstate s
  ON s.member_id = a.id AND s.purpose_id = 'sampling_shipment' AND s.recipient_id = %(brand)s
 AND s.granted
WHERE a.partner_id = %(host)s AND a.status = 'active' AND a.kind = 'household'
  AND a.birth_year BETWEEN %(oldest)s AND %(youngest)s
  AND NOT EXISTS (
      SELECT 1 FROM federation_campaignmember d JOIN federation_campaign c ON c.id = d.campaign_id
      WHERE d.member_id = a.id AND c.category = %(category)s AND c.id <> %(campaign)s
        AND d.selected_at >= %(since)s)
ORDER BY md5(%(seed)s || a.id::text) LIMIT %(quantity)s
"""
# Per question: the rating and the single choice by value, the multiple choice by each choice.
_TALLY = """
SELECT '1', answers->>'1', count(*) FROM federation_surveyanswer
 WHERE campaign_id = %(campaign)s GROUP BY 2
UNION ALL
SELECT '2', answers->>'2', count(*) FROM federation_surveyanswer
 WHERE campaign_id = %(campaign)s GROUP BY 2
UNION ALL
SELECT '3', v.value, count(*) FROM federation_surveyanswer
 CROSS JOIN LATERAL jsonb_array_elements_text(answers->'3') AS v(value)
 WHERE campaign_id = %(campaign)s GROUP BY 2
"""
_TEXTS = "SELECT answers->>'4' FROM federation_surveyanswer WHERE campaign_id = %(campaign)s"


@dataclass(frozen=True)
class Timing:
    baseline: float
    real: float
    baseline_rows: int
    real_rows: int

    @property
    def ratio(self) -> float:
        return self.real / self.baseline


def _timed(run: Callable[[], int], *, rollback: bool) -> tuple[float, int]:
    with transaction.atomic():
        started = time.perf_counter()
        rows = run()
        seconds = time.perf_counter() - started
        transaction.set_rollback(rollback)
    return seconds, rows


def _alternate(
    baseline: Callable[[], int], real: Callable[[], int], rounds: int, *, rollback: bool
) -> Timing:
    times: dict[str, tuple[float, int]] = {}
    for _round in range(rounds):
        times["baseline"] = _timed(baseline, rollback=rollback)
        times["real"] = _timed(real, rollback=rollback)
    return Timing(times["baseline"][0], times["real"][0], times["baseline"][1], times["real"][1])


def selection(campaign: Campaign, rounds: int) -> Timing:
    """The draw, by the service and by the plain query, each rolled back."""
    year = timezone.localdate().year
    params: dict[str, Any] = {
        "campaign": campaign.pk,
        "brand": campaign.partner_id,
        "host": campaign.host_id,
        "oldest": year - 59,
        "youngest": year - 30,
        "category": campaign.category,
        "since": timezone.now() - timedelta(days=settings.SANPO_CAMPAIGN_COOLDOWN_DAYS),
        "seed": campaign.seed,
        "quantity": campaign.quantity,
    }

    def baseline() -> int:
        with connection.cursor() as cursor:
            cursor.execute(_SELECT, params)
            return int(cursor.rowcount)

    def real() -> int:
        return campaign_select(campaign=campaign, actor=SYSTEM).selected

    return _alternate(baseline, real, rounds, rollback=True)


def draw(campaign: Campaign) -> int:
    """The draw, committed, for the answers to come."""
    campaign_select(campaign=campaign, actor=SYSTEM)
    return CampaignMember.objects.filter(campaign=campaign).count()


def results(campaign: Campaign, rounds: int) -> Timing:
    """The partner's results by the service, and the plain tallies and texts."""
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SURVEYING)
    campaign.refresh_from_db()
    params = {"campaign": campaign.pk}

    def baseline() -> int:
        with connection.cursor() as cursor:
            cursor.execute(_TALLY, params)
            tallies = cursor.fetchall()
            cursor.execute(_TEXTS, params)
            texts = cursor.fetchall()
        return len(tallies) + len(texts)

    def real() -> int:
        shown = campaign_results(campaign=campaign, actor=SYSTEM)
        return sum(len(q.cells) + len(q.texts or []) for q in shown.questions)

    return _alternate(baseline, real, rounds, rollback=False)
