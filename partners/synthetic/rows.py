"""The stream of rows: a person each (:mod:`.identities`), spelt with the quirks real bases
have, an address, and membership dates and status drawn from one ``random.Random`` per seed."""

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict, Unpack

from partners.member_columns import COLUMNS
from partners.synthetic.identities import identity_fn
from partners.synthetic.places import BLOCKS, BUILDING_TAILS, CITY_TOWNS, FOUR_DIGITS, PREF_TABLE

#: ``today`` used when none is given, so that output does not depend on the clock.
DEFAULT_TODAY = datetime.date(2026, 11, 1)

# Presentation quirks, as overall shares of rows that have an e-mail / phone. Rows shared with
# another base (``overlap_with``) get them more often, so that the two bases often spell the
# same person differently; the other rows get them less, to keep the overall shares.
_EMAIL_UPPER, _EMAIL_FULLWIDTH = 0.03, 0.01
_PHONE_NO_HYPHEN, _PHONE_PLUS81, _PHONE_FULLWIDTH = 0.05, 0.03, 0.02
_OVERLAP_SHARE = 0.30
_OVERLAP_EMAIL_UPPER, _OVERLAP_EMAIL_FULLWIDTH = 0.08, 0.02
_OVERLAP_PHONE_NO_HYPHEN, _OVERLAP_PHONE_PLUS81, _OVERLAP_PHONE_FULLWIDTH = 0.12, 0.06, 0.03

_BUILDING_SHARE, _DORMANT_SHARE = 0.30, 0.30
# ~5 % inactive overall, mostly among dormant members.
_INACTIVE_SHARE, _INACTIVE_IF_DORMANT = 0.05, 0.15
_INACTIVE_IF_ACTIVE = (_INACTIVE_SHARE - _DORMANT_SHARE * _INACTIVE_IF_DORMANT) / (
    1 - _DORMANT_SHARE
)
_JOINED_YEARS, _MIN_AGE, _MAX_AGE = 15, 18, 90

_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


class Options(TypedDict, total=False):
    """What picks a base besides its size; see :func:`synthetic_members` for each."""

    seed: int
    prefix: str
    business_share: float
    overlap_with: int | None
    today: datetime.date | None


@dataclass(frozen=True, slots=True)
class Spec:
    """``count`` rows of the base picked by the other fields, checked, ``today`` resolved."""

    count: int
    seed: int
    prefix: str
    business_share: float
    overlap_with: int | None
    today: datetime.date


def checked_spec(
    *,
    count: int,
    seed: int = 0,
    prefix: str = "M",
    business_share: float = 0.2,
    overlap_with: int | None = None,
    today: datetime.date | None = None,
) -> Spec:
    """The one place the public functions' arguments get their defaults and are checked.

    Raises ``ValueError`` or ``TypeError`` naming the first argument that is off.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    for label, value in (("seed", seed), ("overlap_with", overlap_with)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{label} must be an int, got {value!r}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {prefix!r}")
    if not 0.0 <= business_share <= 1.0:
        raise ValueError(f"business_share must be within [0, 1], got {business_share!r}")
    if today is None:
        today = DEFAULT_TODAY
    elif isinstance(today, datetime.datetime) or not isinstance(today, datetime.date):
        raise TypeError(f"today must be a datetime.date, got {today!r}")
    return Spec(count, seed, prefix, business_share, overlap_with, today)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def row_tuples(spec: Spec) -> Iterator[tuple[str, ...]]:
    """Yield rows as tuples in :data:`COLUMNS` order (the fast path used by the writers)."""
    count, seed, prefix, today = spec.count, spec.seed, spec.prefix, spec.today
    business_share, overlap_with = spec.business_share, spec.overlap_with
    today_ord = today.toordinal()
    # Ages 18..90 inclusive: born after (today - 91 years) and on or before (today - 18 years).
    first_ord = _years_before(today, _MAX_AGE + 1).toordinal() + 1
    last_birth_ord = _years_before(today, _MIN_AGE).toordinal()
    first_joined_ord = _years_before(today, _JOINED_YEARS).toordinal()
    iso = tuple(datetime.date.fromordinal(o).isoformat() for o in range(first_ord, today_ord + 1))
    birth_dates = iso[: last_birth_ord - first_ord + 1]
    joined_base = first_joined_ord - first_ord
    joined_span = today_ord - first_joined_ord + 1
    dormant_limit = today_ord - 366 - first_ord  # last activity on or before: > 1 year ago
    recent_start = today_ord - 365 - first_ord
    # Only members who joined more than a year ago can be dormant; adjust so ~30 % overall.
    eligible = max(1, dormant_limit - joined_base + 1) / joined_span
    dormant_share = min(1.0, _DORMANT_SHARE / eligible)

    identity = identity_fn(seed, business_share, birth_dates)
    other = None if overlap_with is None else identity_fn(overlap_with, business_share, birth_dates)
    overlap_share = 0.0 if other is None else _OVERLAP_SHARE

    def cuts(pairs: tuple[tuple[float, float], ...], shared: bool) -> tuple[float, ...]:
        # Cumulative thresholds for one rand() draw. ``pairs`` = (overall share, share among
        # overlapping rows); non-overlapping rows get what keeps the overall share.
        shares = [
            over if shared else max(0.0, (base - overlap_share * over) / (1.0 - overlap_share))
            for base, over in pairs
        ]
        return tuple(sum(shares[: i + 1]) for i in range(len(shares)))

    email_pairs = (
        (_EMAIL_UPPER, _OVERLAP_EMAIL_UPPER),
        (_EMAIL_FULLWIDTH, _OVERLAP_EMAIL_FULLWIDTH),
    )
    phone_pairs = (
        (_PHONE_NO_HYPHEN, _OVERLAP_PHONE_NO_HYPHEN),
        (_PHONE_PLUS81, _OVERLAP_PHONE_PLUS81),
        (_PHONE_FULLWIDTH, _OVERLAP_PHONE_FULLWIDTH),
    )
    own_email, shared_email = cuts(email_pairs, False), cuts(email_pairs, True)
    own_phone, shared_phone = cuts(phone_pairs, False), cuts(phone_pairs, True)

    # A str seed is hashed with SHA-512: stable across runs, and distinct for seed -1 and 1.
    rand = random.Random(f"sanpo.synthetic.rows:{seed}").random
    fullwidth = _FULLWIDTH
    pref_table, n_pref = PREF_TABLE, len(PREF_TABLE)
    four, city_towns, blocks, tails = FOUR_DIGITS, CITY_TOWNS, BLOCKS, BUILDING_TAILS
    n_city_towns, n_blocks, n_tails = len(city_towns), len(blocks), len(tails)

    for n in range(1, count + 1):
        if other is not None and rand() < overlap_share:
            kind, name, kana, email, phone, birth = other(n)
            email_cuts, phone_cuts = shared_email, shared_phone
        else:
            kind, name, kana, email, phone, birth = identity(n)
            email_cuts, phone_cuts = own_email, own_phone

        if email:
            r = rand()
            if r < email_cuts[1]:
                if r < email_cuts[0]:  # upper case: whole address, or capitalised local part
                    email = email.upper() if r < email_cuts[0] / 2 else email.capitalize()
                else:  # full-width local part (U+FF01..U+FF5E), domain kept ASCII
                    local, _, domain = email.partition("@")
                    if r < (email_cuts[0] + email_cuts[1]) / 2:
                        local = local.upper()
                    email = f"{local.translate(fullwidth)}@{domain}"
        if phone:
            r = rand()
            if r < phone_cuts[2]:
                if r < phone_cuts[0]:
                    phone = phone.replace("-", "")
                elif r < phone_cuts[1]:
                    phone = "+81 " + phone[1:]
                else:
                    phone = phone.translate(fullwidth)

        code, pref_name, postal3 = pref_table[int(rand() * n_pref)]
        postal = postal3[int(rand() * len(postal3))] + four[int(rand() * 10000)]
        address = (
            pref_name + city_towns[int(rand() * n_city_towns)] + blocks[int(rand() * n_blocks)]
        )
        if rand() < _BUILDING_SHARE:
            address += tails[int(rand() * n_tails)]

        joined = joined_base + int(rand() * joined_span)
        if joined <= dormant_limit and rand() < dormant_share:
            last = joined + int(rand() * (dormant_limit - joined + 1))
            status = "inactive" if rand() < _INACTIVE_IF_DORMANT else "active"
        else:
            start = joined if joined > recent_start else recent_start
            last = start + int(rand() * (today_ord - first_ord - start + 1))
            status = "inactive" if rand() < _INACTIVE_IF_ACTIVE else "active"

        yield (
            prefix + str(n).zfill(8),  # == f"{prefix}{n:08d}", faster
            kind,
            name,
            kana,
            email,
            phone,
            postal,
            address,
            birth,
            code,
            iso[joined],
            iso[last],
            status,
        )


def synthetic_members(*, count: int, **options: Unpack[Options]) -> Iterator[dict[str, str]]:
    """Lazily yield ``count`` fictional members as ``{column: str}`` dicts (keys = COLUMNS).

    Options, all keyword-only: ``seed=0``, ``prefix="M"``, ``business_share=0.2``,
    ``overlap_with=None`` and ``today=None`` (:data:`DEFAULT_TODAY`); the writers take the same.

    - ``member_number`` is ``f"{prefix}{n:08d}"`` for n = 1..count, in order.
    - ``kind`` is ``"business"`` for about ``business_share`` of rows, else ``"household"``.
    - ``name`` / ``name_kana``: kanji family + "　" + given name and its katakana reading, or
      an invented company (``株式会社さくら精工``) and the reading of its name part
      (``サクラセイコウ``).
    - ``email`` (~85 %, ``example.*`` domains only; ~3 % upper case, ~1 % full-width local part),
      ``phone`` (~90 %; mostly hyphenated, ~5 % digits only, ~3 % ``+81 90-…``, ~2 % full-width),
      ``postal_code`` ``NNN-NNNN``, ``address`` starting with a prefecture name of
      :data:`PREFECTURES` whose code is ``prefecture``; empty string when absent.
    - ``birth_date`` ISO date, ages 18-90 at ``today`` (~10 % empty; always empty for businesses).
    - ``joined_on`` within 15 years before ``today``; ``joined_on <= last_active_on <= today``,
      with ~30 % of members dormant (last active more than a year ago).
    - ``status`` ``"active"`` (~95 %) or ``"inactive"``.

    ``today`` defaults to :data:`DEFAULT_TODAY` so output is reproducible. The same arguments
    always give the same rows.

    ``overlap_with``: about 30 % of rows are people of the base generated with
    ``seed=overlap_with`` (same ``business_share`` and ``today``): they take the kind, name,
    reading, birth date, e-mail and phone of that base's row with the same ``n`` (the e-mail or
    phone may be absent there too), often formatted differently. The other base is never
    generated; its rows are recomputed by ``n``.

    Arguments are validated on call (``ValueError`` / ``TypeError``); the returned generator
    keeps constant memory whatever ``count`` is.
    """
    rows = row_tuples(checked_spec(count=count, **options))
    return (dict(zip(COLUMNS, row, strict=True)) for row in rows)
