"""The three names of a referral that leave Sanpo: the link's opaque token, the short code a
person can type from a flyer, and a click's coarse fingerprint.

- A token is 32 random URL-safe characters from ``secrets`` (192 bits): it names nothing (no
  member number, e-mail or pseudonym) and cannot be guessed or enumerated.
- A code is eight characters and a check character from an alphabet without the characters
  people confuse (0/O, 1/I/L, U/V): ``K7QM-4RT9X``. The check character (Luhn mod N) catches
  every single mistyped character and all swaps of two neighbours but one pair, so a mistyped
  code is refused at once instead of crediting someone else's code.
- A fingerprint is a keyed hash of the client's network (its /24, or /48 for IPv6) and browser
  family, cut to 16 hex characters: enough to see one device clicking a link a hundred times,
  too coarse to identify anyone, and meaningless without the server's key.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from django.utils.crypto import salted_hmac

TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 characters: no 0 O 1 I L U
CODE_BODY = 8
CODE_LENGTH = CODE_BODY + 1
FINGERPRINT_LENGTH = 16
_SEPARATORS = re.compile("[\\s\\-_\u2010\uff0d\u30fc]")  # and the hyphens of Japanese input


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(text: str) -> bool:
    """Whether ``text`` could be a token at all (a tampered or foreign one is not looked up)."""
    return bool(TOKEN_PATTERN.fullmatch(text))


def _check_character(body: str) -> str:
    # Luhn mod N over the code alphabet (N even, so doubling is one-to-one on the digits):
    # every single change moves the sum, and so does a swap of neighbours but one pair.
    n = len(CODE_ALPHABET)
    total = 0
    for position, char in enumerate(reversed(body)):
        value = CODE_ALPHABET.index(char)
        if position % 2 == 0:
            value *= 2
            value = value // n + value % n
        total += value
    return CODE_ALPHABET[(n - total % n) % n]


def new_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_BODY))
    return body + _check_character(body)


def normalize_code(text: str) -> str | None:
    """The code a person typed, in canonical form (upper case, no separators), or None when it
    is not one: a wrong length, a character outside the alphabet or a wrong check character."""
    code = _SEPARATORS.sub("", text.upper()) if isinstance(text, str) else ""
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code if _check_character(code[:-1]) == code[-1] else None


def display_code(code: str) -> str:
    """A code as printed on a flyer: ``K7QM-4RT9X``."""
    return f"{code[:4]}-{code[4:]}"


def _network(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "?"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def browser_family(user_agent: str) -> str:
    """The coarse family of a user agent: a robot, or a browser and whether it is mobile."""
    agent = user_agent.lower()
    if any(word in agent for word in ("bot", "crawler", "spider", "curl", "wget", "python")):
        return "robot"
    family = "other"
    for marker, name in (("edg/", "edge"), ("firefox/", "firefox"), ("chrome/", "chrome")):
        if marker in agent:
            family = name
            break
    else:
        if "safari/" in agent:
            family = "safari"
    return f"{family}{'-mobile' if 'mobile' in agent else ''}"


def fingerprint(address: str, user_agent: str) -> str:
    message = f"{_network(address)}|{browser_family(user_agent)}"
    digest = salted_hmac("sanpo.referrals.fingerprint", message, algorithm="sha256")
    return digest.hexdigest()[:FINGERPRINT_LENGTH]
