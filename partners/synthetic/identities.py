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
    key = _seed_key(seed)
    # Copying a hasher primed with the key is ~2x faster than hashing key + n from scratch.
    fresh = hashlib.blake2b(key, digest_size=32).copy
    unpack = _UNPACK
    tables = people_tables()
    households, household_stems = tables.households, tables.household_stems
    businesses, business_stems = tables.businesses, tables.business_stems
    n_households, n_patterns = len(households), len(LOCAL_PATTERNS)
    n_companies = len(COMPANY_BRANDS) * len(COMPANY_TRADES)
    n_forms, n_mailboxes = len(LEGAL_FORMS), len(BUSINESS_MAILBOXES)
    business_cut = round(business_share * 2**32)
    email_cut = round(_EMAIL_SHARE * 65536)
    phone_cut = round(_PHONE_SHARE * 65536)
    birth_cut = round(_BIRTH_SHARE * 65536)
    two_digit_cut = round(0.10 * 256)  # e-mail number: ~10 % two digits ("87"), else 1-9999
    domains = tuple("@" + d for d in DOMAINS)
    business_domains = tuple("@" + d for d in BUSINESS_DOMAINS)
    numbers, twos, four = _NUMBERS, _TWO_DIGITS, FOUR_DIGITS
    mobiles, n_mobiles = _MOBILE_PREFIXES, len(_MOBILE_PREFIXES)
    area4, n_area4 = _AREA_CODES_4, len(_AREA_CODES_4)
    n_births = len(birth_dates)

    def identity(n: int) -> Identity:
        hasher = fresh()
        hasher.update(n.to_bytes(8, "little"))
        (
            kind_v,
            combo_v,
            number_v,
            digits,
            local_v,
            email_v,
            domain_v,
            phone_v,
            phone_kind,
            phone_prefix,
            birth_v,
            birth_day,
        ) = unpack(hasher.digest())
        num = twos[number_v % 100] if (domain_v >> 8) < two_digit_cut else numbers[number_v % 9999]
        if kind_v < business_cut:
            kind = "business"
            company = (combo_v * n_companies) >> 32
            name, kana = businesses[company * n_forms + (((kind_v & 0xFFFF) * n_forms) >> 16)]
            birth = ""
            if email_v < email_cut:
                stem = business_stems[company * n_mailboxes + ((local_v * n_mailboxes) >> 16)]
                email = stem + num + business_domains[domain_v & 3]
            else:
                email = ""
        else:
            kind = "household"
            combo = (combo_v * n_households) >> 32
            name, kana = households[combo]
            birth = birth_dates[(birth_day * n_births) >> 16] if birth_v < birth_cut else ""
            if email_v < email_cut:
                stem = household_stems[combo * n_patterns + ((local_v * n_patterns) >> 16)]
                email = stem + num + domains[domain_v & 3]
            else:
                email = ""
        if phone_v >= phone_cut:
            phone = ""
        elif phone_kind < 52429:  # 80 %: mobile
            phone = (
                f"{mobiles[(phone_prefix * n_mobiles) >> 16]}-"
                f"{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
            )
        elif phone_kind < 58982:  # 10 %: Tokyo
            phone = f"03-{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
        elif phone_kind < 61604:  # 4 %: Osaka
            phone = f"06-{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
        else:  # 6 %: elsewhere, 0AAA-XX-XXXX
            phone = (
                f"{area4[(phone_prefix * n_area4) >> 16]}-"
                f"{twos[10 + digits % 90]}-{four[(digits // 90) % 10000]}"
            )
        return kind, name, kana, email, phone, birth

    return identity
