"""The stream of rows: a person each (:mod:`.identities`), spelt with the quirks real bases
have, an address, and membership dates and status drawn from one ``random.Random`` per seed."""

import datetime
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypedDict, Unpack

from partners.member_columns import COLUMNS
from partners.synthetic.identities import Identity, identity_fn
from partners.synthetic.places import Rand, place_fn

#: ``today`` used when none is given, so that output does not depend on the clock.
DEFAULT_TODAY = datetime.date(2026, 11, 1)

# Spelling quirks of the e-mail and phone of a row that has them: (share of all such rows,
# share among the people shared with another base). Shared people get them more often, so that
# the two bases often spell the same person differently; the others get them less, to keep the
# overall shares.
_EMAIL_QUIRKS = (
    (0.03, 0.08),  # upper case: the whole address, or a capitalised local part
    (0.01, 0.02),  # full-width local part
)
_PHONE_QUIRKS = (
    (0.05, 0.12),  # digits only
    (0.03, 0.06),  # +81 instead of the leading 0
    (0.02, 0.03),  # full-width
)
_OVERLAP_SHARE = 0.30

_DORMANT_SHARE = 0.30
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


def row_tuples(spec: Spec) -> Iterator[tuple[str, ...]]:
    """Yield rows as tuples in :data:`COLUMNS` order (the fast path used by the writers).

    Every random choice of a row is drawn from one stream, in a fixed order: the person, then
    the place, then the membership. Reordering the draws would change every row after.
    """
    calendar = _calendar(spec.today)
    # A str seed is hashed with SHA-512: stable across runs, and distinct for seed -1 and 1.
    rand = random.Random(f"sanpo.synthetic.rows:{spec.seed}").random
    person = _person_fn(spec, calendar.birth_dates, rand)
    place = place_fn(rand)
    membership = _membership_fn(calendar, rand)
    prefix = spec.prefix
    for n in range(1, spec.count + 1):
        kind, name, kana, email, phone, birth = person(n)
        code, postal, address = place()
        joined_on, last_active_on, status = membership()
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
            joined_on,
            last_active_on,
            status,
        )


def _person_fn(spec: Spec, birth_dates: tuple[str, ...], rand: Rand) -> Callable[[int], Identity]:
    """Return ``person(n)``: row ``n``'s person as this base spells it.

    With ``overlap_with``, ~30 % of rows are the other base's person of the same ``n``. The
    e-mail and phone then get one draw each for their spelling quirks, more often on shared
    people than on the others, so that the overall shares stay those of the constants.
    """
    identity = identity_fn(spec.seed, spec.business_share, birth_dates)
    other = None
    overlap_share = 0.0
    if spec.overlap_with is not None:
        other = identity_fn(spec.overlap_with, spec.business_share, birth_dates)
        overlap_share = _OVERLAP_SHARE
    own_email = _cuts(_EMAIL_QUIRKS, overlap_share, shared=False)
    own_phone = _cuts(_PHONE_QUIRKS, overlap_share, shared=False)
    shared_email = _cuts(_EMAIL_QUIRKS, overlap_share, shared=True)
    shared_phone = _cuts(_PHONE_QUIRKS, overlap_share, shared=True)

    def person(n: int) -> Identity:
        if other is not None and rand() < overlap_share:
            kind, name, kana, email, phone, birth = other(n)
            email_cuts, phone_cuts = shared_email, shared_phone
        else:
            kind, name, kana, email, phone, birth = identity(n)
            email_cuts, phone_cuts = own_email, own_phone
        if email and (r := rand()) < email_cuts[-1]:
            email = _respell_email(email, r, email_cuts)
        if phone and (r := rand()) < phone_cuts[-1]:
            phone = _respell_phone(phone, r, phone_cuts)
        return kind, name, kana, email, phone, birth

    return person


def _cuts(
    quirks: tuple[tuple[float, float], ...], overlap_share: float, *, shared: bool
) -> tuple[float, ...]:
    """Cumulative thresholds of ``quirks`` for one ``rand()`` draw.

    ``quirks`` are (overall share, share among overlapping rows); non-overlapping rows get what
    keeps the overall share.
    """
    shares = [
        over if shared else max(0.0, (base - overlap_share * over) / (1.0 - overlap_share))
        for base, over in quirks
    ]
    return tuple(sum(shares[: i + 1]) for i in range(len(shares)))


def _respell_email(email: str, r: float, cuts: tuple[float, ...]) -> str:
    """``email`` with the quirk that the draw ``r`` (below ``cuts[-1]``) picked."""
    if r < cuts[0]:  # upper case: whole address, or capitalised local part
        return email.upper() if r < cuts[0] / 2 else email.capitalize()
    # full-width local part (U+FF01..U+FF5E), domain kept ASCII
    local, _, domain = email.partition("@")
    if r < (cuts[0] + cuts[1]) / 2:
        local = local.upper()
    return f"{local.translate(_FULLWIDTH)}@{domain}"


def _respell_phone(phone: str, r: float, cuts: tuple[float, ...]) -> str:
    """``phone`` with the quirk that the draw ``r`` (below ``cuts[-1]``) picked."""
    if r < cuts[0]:
        return phone.replace("-", "")
    if r < cuts[1]:
        return "+81 " + phone[1:]
    return phone.translate(_FULLWIDTH)


@dataclass(frozen=True, slots=True)
class _Calendar:
    """The days a row can name, as indexes into ``iso``: every ISO date from the earliest
    possible birth date to ``today``."""

    iso: tuple[str, ...]
    birth_dates: tuple[str, ...]  # ages 18..90 at today
    today: int
    first_joined: int
    dormant_until: int  # last activity on or before: more than a year ago
    recent_from: int  # the first day of the last year


def _calendar(today: datetime.date) -> _Calendar:
    today_ord = today.toordinal()
    # Ages 18..90 inclusive: born after (today - 91 years) and on or before (today - 18 years).
    first_ord = _years_before(today, _MAX_AGE + 1).toordinal() + 1
    last_birth_ord = _years_before(today, _MIN_AGE).toordinal()
    iso = tuple(datetime.date.fromordinal(o).isoformat() for o in range(first_ord, today_ord + 1))
    return _Calendar(
        iso=iso,
        birth_dates=iso[: last_birth_ord - first_ord + 1],
        today=today_ord - first_ord,
        first_joined=_years_before(today, _JOINED_YEARS).toordinal() - first_ord,
        dormant_until=today_ord - 366 - first_ord,
        recent_from=today_ord - 365 - first_ord,
    )


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _membership_fn(calendar: _Calendar, rand: Rand) -> Callable[[], tuple[str, str, str]]:
    """Return ``membership()``: ``(joined_on, last_active_on, status)`` from two or three draws.

    Members join within the last 15 years; ~30 % are dormant (last active more than a year
    ago, and more often inactive), the others were active within the last year.
    """
    iso, today = calendar.iso, calendar.today
    joined_base, dormant_limit = calendar.first_joined, calendar.dormant_until
    recent_start = calendar.recent_from
    joined_span = today - joined_base + 1
    # Only members who joined more than a year ago can be dormant; adjust so ~30 % overall.
    eligible = max(1, dormant_limit - joined_base + 1) / joined_span
    dormant_share = min(1.0, _DORMANT_SHARE / eligible)

    def membership() -> tuple[str, str, str]:
        joined = joined_base + int(rand() * joined_span)
        if joined <= dormant_limit and rand() < dormant_share:
            last = joined + int(rand() * (dormant_limit - joined + 1))
            status = "inactive" if rand() < _INACTIVE_IF_DORMANT else "active"
        else:
            start = joined if joined > recent_start else recent_start
            last = start + int(rand() * (today - start + 1))
            status = "inactive" if rand() < _INACTIVE_IF_ACTIVE else "active"
        return iso[joined], iso[last], status

    return membership


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
