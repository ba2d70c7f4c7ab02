"""Deterministic generator of a realistic but entirely fictional Japanese member base.

Used by the benchmark (a million rows) and the demo seed (a few thousand rows). Nothing here
describes a real person: names are drawn from common family/given names, companies are built
from generic parts, cities and buildings are invented, and e-mail addresses only use the
reserved ``example.*`` domains (RFC 2606 / JPRS reserved names). Phone numbers follow Japanese
formats with random digits; Japan has no reserved "fictional" range, so a generated number may
happen to be assigned to someone -- never dial them.

Contract:

- **Deterministic**: the same arguments always give the same rows, byte for byte, on any
  machine (no dependency on ``PYTHONHASHSEED``, the clock or the locale).
- **Streaming**: rows are produced lazily with constant memory whatever ``count`` is.
- **Addressable identities**: each row's person (kind, name, reading, e-mail, phone, birth date)
  is a pure function of ``(seed, n)``, computed with BLAKE2b. That is what lets
  ``overlap_with`` reuse the people of another base without generating it. Everything else
  (address, dates, status, formatting quirks) comes from one ``random.Random`` stream seeded
  from ``seed``.
- **cp932-safe**: every generated character encodes in cp932; with ``encoding="shift_jis"``,
  :func:`write_csv` writes the full-width hyphen U+FF0D as U+2212, which is the same byte
  pair (0x817C), so the two encodings produce identical bytes.
"""

from partners.member_columns import COLUMNS
from partners.synthetic.places import PREFECTURES
from partners.synthetic.rows import DEFAULT_TODAY, synthetic_members
from partners.synthetic.writers import write_csv, write_jsonl

__all__ = [
    "COLUMNS",
    "DEFAULT_TODAY",
    "PREFECTURES",
    "synthetic_members",
    "write_csv",
    "write_jsonl",
]
