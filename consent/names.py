"""What people read for the codes of the consent record, in the language being answered in:
the data items a notice covers, and the companies it names.

One place for the names of data items, so that the member's preference page, the compliance
pages and other apps' notices (federation's joint-use notices) call each item the same thing in
Japanese and in English. The codes themselves never change with the language: notices, consents,
provision records and the API name items by code.

Other apps call ``data_item_name(code)`` for one item and ``data_item_list(codes)`` for a list
of them, in the language active when they do (the preference page asks its notice sources for
their notices inside its own language).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext, pgettext_lazy

from partners.models import Partner

# Every item a notice or a data flow may name: a member's personal fields
# (``partners.member_columns.PERSONAL_FIELDS``) and the coarse segments computed from a member
# on the day of use (federation's ``SEGMENT_FIELDS``). Lower case, as they are read in a list.
DATA_ITEM_NAMES: dict[str, Promise] = {
    "name": pgettext_lazy("data item", "name"),
    "name_kana": pgettext_lazy("data item", "name (kana)"),
    "email": pgettext_lazy("data item", "e-mail"),
    "phone": pgettext_lazy("data item", "phone"),
    "postal_code": pgettext_lazy("data item", "postal code"),
    "address": pgettext_lazy("data item", "address"),
    "birth_date": pgettext_lazy("data item", "date of birth"),
    "age_band": pgettext_lazy("data item", "age band"),
    "prefecture": pgettext_lazy("data item", "prefecture"),
    "kind": pgettext_lazy("data item", "member type"),
}


def in_japanese() -> bool:
    """Whether the answer being made is in Japanese (the active language, else the default)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return language.split("-")[0] == "ja"


def data_item_name(code: str) -> str:
    """The name of the data item ``code`` in the active language; an item nobody named yet is
    shown by its code rather than hidden."""
    name = DATA_ITEM_NAMES.get(code)
    return str(name) if name is not None else code


def data_item_list(codes: Iterable[str]) -> str:
    """Several data items named in the active language, as a list is written in it, in the
    order above (a notice stores its items sorted by code); items nobody named yet last."""
    order = {code: position for position, code in enumerate(DATA_ITEM_NAMES)}
    ordered = sorted(codes, key=lambda code: (order.get(code, len(order)), code))
    return list_join(data_item_name(code) for code in ordered)


def list_join(names: Iterable[str]) -> str:
    """Names joined as the active language lists them ("a, b" and 「a、b」)."""
    return pgettext("list separator", ", ").join(names)


def partner_name(partner: Partner) -> str:
    """A company's name as the active language writes it: Japanese, or in Latin script."""
    return partner.name_ja if in_japanese() else partner.name_latin
