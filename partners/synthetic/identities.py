"""Who a member is: row ``n``'s person as a pure function of ``(seed, n)``.

Kind, name, reading, e-mail, phone and birth date are picked by 32 bytes of BLAKE2b over the
seed and ``n``, so any row's person can be recomputed without generating the rows before it:
that is what lets a base share people with another (``overlap_with``) without generating it.
"""

import hashlib
import struct
from collections.abc import Callable

from partners.synthetic.names import (
    BUSINESS_DOMAINS,
    BUSINESS_MAILBOXES,
    COMPANY_BRANDS,
    COMPANY_TRADES,
    DOMAINS,
    LEGAL_FORMS,
    LOCAL_PATTERNS,
    people_tables,
)
from partners.synthetic.places import FOUR_DIGITS

_MOBILE_PREFIXES = ("070", "080", "080", "090", "090", "090", "090")
_AREA_CODES_4 = (
    "0422", "0466", "0467", "0476", "0493", "0537", "0544", "0565",
    "0595", "0735", "0745", "0766", "0835", "0942", "0965", "0996",
)  # fmt: skip

_EMAIL_SHARE, _PHONE_SHARE, _BIRTH_SHARE = 0.85, 0.90, 0.90

_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))
_NUMBERS = tuple(str(i) for i in range(1, 10_000))

Identity = tuple[str, str, str, str, str, str]  # kind, name, name_kana, email, phone, birth

# The 32 bytes of a person's digest, read as its draws: uint32 kind, name, e-mail number, phone
# digits; uint16 e-mail local part, has e-mail, e-mail domain, has phone, phone kind, phone
# prefix, has birth date, birth date.
_Draws = tuple[int, ...]
_UNPACK = struct.Struct("<4I8H").unpack


def _seed_key(seed: int) -> bytes:
    return hashlib.blake2b(f"sanpo.synthetic:{seed}".encode(), digest_size=32).digest()


def identity_fn(
    seed: int, business_share: float, birth_dates: tuple[str, ...]
) -> Callable[[int], Identity]:
    """Return ``identity(n)``: the person of row ``n`` of the base with this ``seed``.

    A pure function of ``(seed, n, business_share, today)`` (``birth_dates`` depends on
    ``today``): 32 bytes of BLAKE2b over (seed, n) pick every attribute. The e-mail is
    canonical (lower-case ASCII) and the phone hyphenated.
    """
    # Copying a hasher primed with the key is ~2x faster than hashing key + n from scratch.
    fresh = hashlib.blake2b(_seed_key(seed), digest_size=32).copy
    unpack = _UNPACK
    tables = people_tables()
    households, businesses = tables.households, tables.businesses
    n_households, n_births = len(households), len(birth_dates)
    n_companies = len(COMPANY_BRANDS) * len(COMPANY_TRADES)
    n_forms = len(LEGAL_FORMS)
    business_cut = round(business_share * 2**32)
    birth_cut = round(_BIRTH_SHARE * 65536)
    household_email = _email_fn(tables.household_stems, len(LOCAL_PATTERNS), DOMAINS)
    business_email = _email_fn(tables.business_stems, len(BUSINESS_MAILBOXES), BUSINESS_DOMAINS)
    phone = _phone_fn()

    def identity(n: int) -> Identity:
        hasher = fresh()
        hasher.update(n.to_bytes(8, "little"))
        draws = unpack(hasher.digest())
        kind_v, combo_v, *_, birth_v, birth_day = draws
        if kind_v < business_cut:
            company = (combo_v * n_companies) >> 32
            name, kana = businesses[company * n_forms + (((kind_v & 0xFFFF) * n_forms) >> 16)]
            return "business", name, kana, business_email(company, draws), phone(draws), ""
        combo = (combo_v * n_households) >> 32
        name, kana = households[combo]
        birth = birth_dates[(birth_day * n_births) >> 16] if birth_v < birth_cut else ""
        return "household", name, kana, household_email(combo, draws), phone(draws), birth

    return identity


def _email_fn(
    stems: tuple[str, ...], per_name: int, domains: tuple[str, ...]
) -> Callable[[int, _Draws], str]:
    """Return ``email(name, draws)``: for ~85 % of people, one of the ``per_name`` local parts
    of name number ``name`` in ``stems``, a number and one of the four ``domains``; else ""."""
    at_domains = tuple("@" + domain for domain in domains)
    email_cut = round(_EMAIL_SHARE * 65536)
    two_digit_cut = round(0.10 * 256)  # e-mail number: ~10 % two digits ("87"), else 1-9999
    numbers, twos = _NUMBERS, _TWO_DIGITS

    def email(name: int, draws: _Draws) -> str:
        _, _, number_v, _, local_v, email_v, domain_v, *_ = draws
        if email_v >= email_cut:
            return ""
        num = twos[number_v % 100] if (domain_v >> 8) < two_digit_cut else numbers[number_v % 9999]
        return (
            stems[name * per_name + ((local_v * per_name) >> 16)] + num + at_domains[domain_v & 3]
        )

    return email


def _phone_fn() -> Callable[[_Draws], str]:
    """Return ``phone(draws)``: for ~90 % of people a hyphenated number (80 % mobile, 10 %
    Tokyo, 4 % Osaka, 6 % elsewhere); else ""."""
    phone_cut = round(_PHONE_SHARE * 65536)
    twos, four = _TWO_DIGITS, FOUR_DIGITS
    mobiles, n_mobiles = _MOBILE_PREFIXES, len(_MOBILE_PREFIXES)
    area4, n_area4 = _AREA_CODES_4, len(_AREA_CODES_4)

    def phone(draws: _Draws) -> str:
        _, _, _, digits, _, _, _, phone_v, phone_kind, phone_prefix, _, _ = draws
        if phone_v >= phone_cut:
            return ""
        if phone_kind >= 61604:  # 6 %: elsewhere, 0AAA-XX-XXXX
            return (
                f"{area4[(phone_prefix * n_area4) >> 16]}-"
                f"{twos[10 + digits % 90]}-{four[(digits // 90) % 10000]}"
            )
        subscriber = f"{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
        if phone_kind < 52429:  # 80 %: mobile
            return f"{mobiles[(phone_prefix * n_mobiles) >> 16]}-{subscriber}"
        if phone_kind < 58982:  # 10 %: Tokyo
            return f"03-{subscriber}"
        return f"06-{subscriber}"  # 4 %: Osaka

    return phone
