"""Overlap between two member bases: how many of my members are also yours, in counts only.

The match runs in the database over the keyed blind indexes (equal e-mail or equal phone under
the same index key), never over decrypted data, and counts only members who consented to
overlap matching with the other party, on both sides.

Disclosure control, the rule:
1. The other party must allow the asker counts (``OverlapVisibility``), and an active agreement
   must let it give the asker ``overlap_matching``; its ``overlap.min_cell`` is the threshold.
2. One breakdown at a time, from a fixed set (none, age band, prefecture, kind): no filters, so
   no two questions differ by a small group of members.
3. Primary suppression: every cell below the threshold is withheld, and so is the total (and
   then every cell).
4. Complementary suppression: the total is shown, so if a breakdown withholds exactly one cell,
   the smallest shown cell is withheld too, and the two cannot be told apart by subtracting
   the others from the total.
5. Every question is logged (``OverlapQuery``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.utils import timezone

from consent.services import consenting_states
from federation.models import OverlapQuery, OverlapVisibility
from federation.selectors import TermsInForce, terms_in_force
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import Partner

PURPOSE = "overlap_matching"
BREAKDOWNS = ("age_band", "prefecture", "kind")


@dataclass(frozen=True)
class OverlapResult:
    total: int | None  # None: withheld
    cells: dict[str, int | None]  # segment → count, None where withheld
    min_cell: int
    breakdown: str


def overlap_visibility_set(
    *, owner: Partner, viewer: Partner, level: str, actor: Actor
) -> OverlapVisibility:
    """``owner`` decides how much of its base ``viewer`` may see in overlap."""
    if level not in OverlapVisibility.Level.values:
        raise validation_failed("level", "Give a level: nothing or counts.")
    if owner.pk == viewer.pk:
        raise validation_failed("viewer", "A company always sees its own base.")
    visibility, _ = OverlapVisibility.objects.update_or_create(
        owner=owner,
        viewer=viewer,
        defaults={"level": level, "updated_at": timezone.now(), "updated_by": actor.label[:200]},
    )
    return visibility


def _age_band(birth_year: str) -> Case:
    # partners.normalize.age_band, in SQL: the first matching band wins.
    year = timezone.localdate().year
    bands = [When(**{f"{birth_year}__isnull": True}, then=Value("unknown"))]
    bands.append(When(**{f"{birth_year}__gt": year - 20}, then=Value("under-20")))
    for low in range(20, 80, 10):
        # Born from year - low - 9 to year - low: aged low to low + 9.
        bands.append(When(**{f"{birth_year}__gte": year - low - 9}, then=Value(f"{low}-{low + 9}")))
    return Case(*bands, default=Value("80+"), output_field=CharField())


def _segment(breakdown: str) -> Any:
    if breakdown == "age_band":
        return _age_band("member__birth_year")
    return F(f"member__{breakdown}") if breakdown else Value("all")


def _consenting(member_of: Partner, towards: Partner, segment: Any) -> QuerySet[Any]:
    """``member_of``'s active members who consented to overlap matching with ``towards``,
    read from the consent states (the narrower table) joined to their accounts."""
    return (
        consenting_states(purpose_code=PURPOSE, recipient=towards)
        .filter(member__partner=member_of)
        .annotate(segment=segment)
        .values(
            "member_id",
            "member__index_key_id",
            "member__email_index",
            "member__phone_index",
            "segment",
        )
    )


def _overlap_counts_sql(asker: Partner, other: Partner, breakdown: str) -> dict[str, int]:
    """Count, per segment, the asker's members matched in the other's base by e-mail or by
    phone index: two equi-joins (hash joins over millions of rows) and a union, rather than an
    OR of two correlated lookups per member. The two sides are inlined, not materialised, so
    the planner joins the tables and their indexes directly (measured: 1.6 times faster)."""
    mine_sql, mine_params = _consenting(asker, other, _segment(breakdown)).query.sql_with_params()
    theirs_sql, theirs_params = _consenting(other, asker, Value("")).query.sql_with_params()
    columns = "(id, index_key_id, email_index, phone_index, segment)"
    on = "t.index_key_id = m.index_key_id AND t.{0} = m.{0}"
    sql = f"""
        WITH mine {columns} AS NOT MATERIALIZED ({mine_sql}),
        theirs {columns} AS NOT MATERIALIZED ({theirs_sql}),
        matched AS (
            SELECT m.id, m.segment FROM mine m JOIN theirs t ON {on.format("email_index")}
            UNION
            SELECT m.id, m.segment FROM mine m JOIN theirs t ON {on.format("phone_index")}
        )
        SELECT segment, count(*) FROM matched GROUP BY segment ORDER BY segment
    """  # noqa: S608 - built from the ORM's own SQL; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*mine_params, *theirs_params])
        return {str(segment or "unknown"): int(count) for segment, count in cursor.fetchall()}


def _suppress(counts: dict[str, int], min_cell: int) -> tuple[int | None, dict[str, int | None]]:
    total = sum(counts.values())
    if total < min_cell:
        return None, dict.fromkeys(counts)
    cells: dict[str, int | None] = {
        key: (value if value >= min_cell else None) for key, value in counts.items()
    }
    withheld = [key for key, value in cells.items() if value is None]
    if len(withheld) == 1:
        shown = [key for key, value in cells.items() if value is not None]
        if shown:
            smallest = min(shown, key=lambda key: (counts[key], key))
            cells[smallest] = None
    return total, cells


def overlap_counts(
    *, asker: Partner, other: Partner, breakdown: str, actor: Actor
) -> OverlapResult:
    """How many of ``asker``'s members are also ``other``'s, broken down by one segment of the
    asker's members (``""`` for the total alone). Raises ApplicationError: validation_failed,
    no_agreement, permission_denied (the other party shares no counts with the asker)."""
    if breakdown and breakdown not in BREAKDOWNS:
        raise validation_failed("breakdown", f"One of: {', '.join(BREAKDOWNS)}, or none.")
    if asker.pk == other.pk:
        raise validation_failed("other", "Ask about another company's base.")
    terms: TermsInForce | None = terms_in_force(provider=other, recipient=asker, purpose=PURPOSE)
    if terms is None:
        raise ApplicationError(
            ErrorCode.NO_AGREEMENT,
            f"No active agreement lets {other.slug} share overlap counts with {asker.slug}.",
        )
    level = (
        OverlapVisibility.objects.filter(owner=other, viewer=asker)
        .values_list("level", flat=True)
        .first()
    )
    if level != OverlapVisibility.Level.COUNTS:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED, f"{other.slug} shares no overlap counts with you."
        )
    counts = _overlap_counts_sql(asker, other, breakdown)
    if not breakdown:
        counts = {"all": counts.get("all", 0)}
    total, cells = _suppress(counts, terms.min_cell)
    with transaction.atomic():
        OverlapQuery.objects.create(
            asker=asker,
            other=other,
            agreement=terms.agreement,
            breakdown=breakdown,
            min_cell=terms.min_cell,
            cells=len(cells),
            suppressed=sum(1 for value in cells.values() if value is None),
            asked_by=actor.label[:200],
        )
    return OverlapResult(total=total, cells=cells, min_cell=terms.min_cell, breakdown=breakdown)
