"""The measured lift of a programme against its holdout, from the activity rollup, one grouped
query each; the comparison is intent-to-treat: every member of a group counts.

- A company's reactivation bonus: members dormant when a period starts (no activity with the
  company for ``dormant_days``), split by the bonus's holdout; the reactivation rate is the
  share of a group active at least once in the period.
- A sampling campaign: the members it drew against the eligible members its holdout kept
  out (recorded at the draw); the active rate is the share active with the campaign's partner.

Either way the purchase rate is the share that bought; yen and coins per member are over the
whole group."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connections

from federation.campaigns.models import Campaign, CampaignHoldoutMember, CampaignMember
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import held_out_sql
from federation.metrics import stats
from federation.metrics.models import ACTIVITY, ActivityDay, RollupState
from partners.db import PRIMARY
from partners.models import MemberAccount, Partner

AMOUNTS = ("yen", "coins_earned", "coins_redeemed")


# Each amount's sum and sum of squares over a group's outcomes (``o``), for ``_groups``.
_SUMS = ", ".join(f"COALESCE(SUM(o.{a}), 0), COALESCE(SUM(o.{a} * o.{a}), 0)" for a in AMOUNTS)


def _outcome() -> str:
    """The ``outcome`` CTE: what each person did with a company (``%s``) over a period
    (``%s`` to ``%s``), from the activity rollup."""
    return f"""outcome AS (
            SELECT person_id, SUM(purchases) AS purchases, SUM(yen) AS yen,
                   SUM(coins_earned) AS coins_earned, SUM(coins_redeemed) AS coins_redeemed
            FROM {ActivityDay._meta.db_table}
            WHERE company_id = %s AND day >= %s AND day <= %s GROUP BY person_id
        )"""  # noqa: S608 - a table name only; values are parameters


def _group_sums(
    company: Partner, holdout: Holdout, start: date, end: date, dormant_days: int, using: str
) -> dict[bool, dict[str, Any]]:
    table = ActivityDay._meta.db_table
    held, held_params = held_out_sql(holdout, "b.person_id")
    sql = f"""
        WITH before AS (
            SELECT person_id, MAX(day) AS last_day FROM {table}
            WHERE company_id = %s AND day < %s GROUP BY person_id
        ), {_outcome()}
        SELECT CASE WHEN {held} THEN 1 ELSE 0 END AS held, COUNT(*),
               COUNT(o.person_id), COALESCE(SUM(CASE WHEN o.purchases > 0 THEN 1 ELSE 0 END), 0),
               {_SUMS}
        FROM before b LEFT JOIN outcome o ON o.person_id = b.person_id
        WHERE b.last_day <= %s
        GROUP BY CASE WHEN {held} THEN 1 ELSE 0 END
    """  # noqa: S608 - table names and fixed expressions only; values are parameters
    connection = connections[using]
    company_id = Partner._meta.pk.get_db_prep_value(company.pk, connection)
    cutoff = start - timedelta(days=dormant_days)
    params: list[Any] = [company_id, start, company_id, start, end]
    params += [*held_params, cutoff, *held_params]
    return _groups(sql, params, using)


def _groups(sql: str, params: list[Any], using: str) -> dict[bool, dict[str, Any]]:
    """Runs a grouped query whose rows are (held, members, active, bought, then each of
    ``AMOUNTS``' sum and sum of squares) into each group's figures, on ``using``."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    groups: dict[bool, dict[str, Any]] = {}
    for row in rows:
        n, active, bought, *amounts = row[1:]
        group = {"members": n, "reactivated": active, "purchased": bought}
        for index, name in enumerate(AMOUNTS):
            group[name] = stats.Sample(n, float(amounts[2 * index]), float(amounts[2 * index + 1]))
        groups[bool(row[0])] = group
    return groups


def _empty() -> dict[str, Any]:
    zero = stats.Sample(0, 0.0, 0.0)
    return {"members": 0, "reactivated": 0, "purchased": 0, **dict.fromkeys(AMOUNTS, zero)}


def reactivation_lift(
    company: Partner,
    holdout: Holdout,
    *,
    start: date,
    end: date,
    dormant_days: int,
    using: str = PRIMARY,
) -> dict[str, Any]:
    """The figures of both groups and, when both are large enough, the differences with
    their 95% intervals (``stats``), read from the database ``using`` names: the primary
    unless the caller shows the figures and keeps nothing (``partners.db.replica_alias``)."""
    groups = _group_sums(company, holdout, start, end, dormant_days, using)
    treated, held = groups.get(False, _empty()), groups.get(True, _empty())
    body: dict[str, Any] = {
        "programme": holdout.key,
        "holdout_percent": str(holdout.percent),
        "seed": holdout.seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "dormant_days": dormant_days,
        "groups": {"treated": _view(treated), "holdout": _view(held)},
        "too_small": stats.too_small(treated["members"], held["members"]),
        "min_group": stats.MIN_GROUP,
    }
    if not body["too_small"]:
        body["lift"] = _lift(treated, held)
    return body


def _view(group: dict[str, Any], active: str = "reactivated") -> dict[str, Any]:
    n = group["members"]
    view: dict[str, Any] = {
        "members": n,
        active: group["reactivated"],
        "purchased": group["purchased"],
    }
    for name in AMOUNTS:
        view[f"{name}_per_member"] = round(group[name].mean, 2) if n else None
    return view


def _lift(
    treated: dict[str, Any], held: dict[str, Any], active: str = "reactivation_rate"
) -> dict[str, Any]:
    n1, n0 = treated["members"], held["members"]
    lift = {
        active: stats.rate_difference(treated["reactivated"], n1, held["reactivated"], n0).rounded(
            4
        ),
        "purchase_rate": stats.rate_difference(
            treated["purchased"], n1, held["purchased"], n0
        ).rounded(4),
    }
    for name in AMOUNTS:
        lift[f"{name}_per_member"] = stats.mean_difference(treated[name], held[name]).rounded(2)
    return lift


def _campaign_groups(
    campaign: Campaign, start: date, end: date, using: str
) -> dict[bool, dict[str, Any]]:
    accounts = MemberAccount._meta.db_table
    sql = f"""
        WITH grouped AS (
            SELECT 0 AS held, a.person_id FROM {CampaignMember._meta.db_table} m
            JOIN {accounts} a ON a.id = m.member_id WHERE m.campaign_id = %s
            UNION ALL
            SELECT 1 AS held, a.person_id FROM {CampaignHoldoutMember._meta.db_table} h
            JOIN {accounts} a ON a.id = h.member_id WHERE h.campaign_id = %s
        ), {_outcome()}
        SELECT g.held, COUNT(*), COUNT(o.person_id),
               COALESCE(SUM(CASE WHEN o.purchases > 0 THEN 1 ELSE 0 END), 0), {_SUMS}
        FROM grouped g LEFT JOIN outcome o ON o.person_id = g.person_id
        GROUP BY g.held
    """  # noqa: S608 - table names and fixed expressions only; values are parameters
    connection = connections[using]
    campaign_id = Campaign._meta.pk.get_db_prep_value(campaign.pk, connection)
    company_id = Partner._meta.pk.get_db_prep_value(campaign.partner_id, connection)
    return _groups(sql, [campaign_id, campaign_id, company_id, start, end], using)


def campaign_lift(
    campaign: Campaign, holdout: Holdout, *, start: date, end: date, using: str = PRIMARY
) -> dict[str, Any]:
    """The members a campaign drew (treated) against its eligible members held out, and what
    each group did with the campaign's partner from ``start`` to ``end``: the share active
    and the share that bought, yen and coins per member, with the differences' 95% intervals
    when both groups are large enough. Intent-to-treat: every member drawn counts, whether
    or not they confirmed, answered or bought. Read from ``using``, as ``reactivation_lift``."""
    groups = _campaign_groups(campaign, start, end, using)
    treated, held = groups.get(False, _empty()), groups.get(True, _empty())
    body: dict[str, Any] = {
        "campaign": str(campaign.pk),
        "programme": holdout.key,
        "holdout_percent": str(holdout.percent),
        "seed": holdout.seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "groups": {
            "treated": _view(treated, active="active"),
            "holdout": _view(held, active="active"),
        },
        "too_small": stats.too_small(treated["members"], held["members"]),
        "min_group": stats.MIN_GROUP,
    }
    if not body["too_small"]:
        body["lift"] = _lift(treated, held, active="active_rate")
    return body


def complete_through() -> date | None:
    """The last day the activity rollup holds in full."""
    state = RollupState.objects.filter(name=ACTIVITY).first()
    return state.through if state else None
