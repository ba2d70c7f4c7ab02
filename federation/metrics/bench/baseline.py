"""The baseline: the figures the metrics API answers with, computed by plain SQL aggregates
over the raw ledger (entries joined to their accounts and transactions, lots, lots' uses), with
no rollup. The same definitions as the rollups: activity is a purchase, action, redemption or
captured hold the company posted on a member's own account, dated by Japan's day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from federation.holdouts.models import Holdout
from federation.holdouts.selectors import held_out_sql
from federation.metrics.days import day_bounds
from partners.models import Partner

# Every (person, day) the company saw activity on before ``until``, with whether they bought.
_ACTS = """
SELECT a.person_id, (t.posted_at AT TIME ZONE %(zone)s)::date AS day,
       bool_or(t.kind = 'earn_purchase' AND e.amount > 0) AS bought
  FROM federation_coinentry AS e
  JOIN federation_coinaccount AS a ON a.id = e.account_id
  JOIN federation_cointransaction AS t ON t.id = e.transaction_id
 WHERE t.partner_id = %(company)s AND t.posted_at < %(until)s
   AND t.kind IN ('earn_purchase', 'earn_action', 'redeem', 'capture')
   AND a.kind IN ('wallet', 'pending', 'hold')
 GROUP BY 1, 2
"""
MEMBERS = f"""
WITH acts AS MATERIALIZED ({_ACTS}),
days AS (SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, '1 day') d),
firsts AS (SELECT person_id, MIN(day) AS day FROM acts GROUP BY person_id)
SELECT days.day,
       (SELECT COUNT(DISTINCT person_id) FROM acts
         WHERE acts.day BETWEEN days.day - %(n)s + 1 AND days.day) AS active,
       (SELECT COUNT(*) FROM firsts WHERE firsts.day <= days.day) AS known
  FROM days ORDER BY 1
"""  # noqa: S608 - fixed SQL
ISSUED = """
SELECT (issued_at AT TIME ZONE %(zone)s)::date, SUM(amount) FROM federation_coinlot
 WHERE issuer_id = %(company)s AND issued_at >= %(since)s AND issued_at < %(until)s
 GROUP BY 1 ORDER BY 1
"""
SPENT = """
SELECT (t.posted_at AT TIME ZONE %(zone)s)::date, u.issuer_id, SUM(u.coins)
  FROM federation_coinlotuse AS u JOIN federation_cointransaction AS t ON t.id = u.transaction_id
 WHERE t.partner_id = %(company)s AND t.kind IN ('redeem', 'hold', 'void', 'reversal')
   AND t.posted_at >= %(since)s AND t.posted_at < %(until)s
 GROUP BY 1, 2 ORDER BY 1, 2
"""
LIFT = f"""
WITH acts AS MATERIALIZED ({_ACTS}),
before AS (SELECT person_id, MAX(day) AS last_day FROM acts WHERE day < %(start)s GROUP BY 1),
outcome AS (SELECT person_id, bool_or(bought) AS bought FROM acts
             WHERE day BETWEEN %(start)s AND %(end)s GROUP BY 1)
SELECT {{held}} AS held, COUNT(*), COUNT(o.person_id), COUNT(*) FILTER (WHERE o.bought)
  FROM before AS b LEFT JOIN outcome AS o ON o.person_id = b.person_id
 WHERE b.last_day <= %(cutoff)s
 GROUP BY 1 ORDER BY 1
"""  # noqa: S608 - fixed SQL


def _params(company: Partner, first: date, last: date) -> dict[str, Any]:
    since, until = day_bounds(first, last)
    return {
        "zone": str(timezone.get_current_timezone()),
        "company": company.pk,
        "since": since,
        "until": until,
        "first": first,
        "last": last,
    }


def figures(company: Partner, first: date, last: date, dormant_days: int) -> dict[str, Any]:
    """The company's members active and known per day, coins issued per day and coins spent
    at it per day and issuer, from ``first`` to ``last``."""
    params = {**_params(company, first, last), "n": dormant_days}
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, sql in (("members", MEMBERS), ("issued", ISSUED), ("spent", SPENT)):
            cursor.execute(sql, params)
            found[name] = cursor.fetchall()
    return found


def lift_groups(
    company: Partner, holdout: Holdout, start: date, end: date, dormant_days: int
) -> dict[bool, tuple[int, int, int]]:
    """The lift's groups: held out or not, members dormant at ``start``, how many came back
    and how many bought during the period."""
    held, (seed, share) = held_out_sql(holdout, "b.person_id")
    # held_out_sql's placeholders are positional (the seed, then the share): name them.
    named = held.replace("%s", "%(seed)s", 1).replace("%s", "%(share)s", 1)
    sql = LIFT.replace("{held}", named)
    params = {
        **_params(company, start, end),
        "start": start,
        "end": end,
        "cutoff": start - timedelta(days=dormant_days),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "seed": seed, "share": share})
        return {bool(row[0]): (row[1], row[2], row[3]) for row in cursor.fetchall()}
