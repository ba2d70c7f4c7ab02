"""Member accounts for the compliance pages, read without their ciphertexts: these pages only
decrypt through ``partners.services.member_reveal``, which records who looked and why."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partners import pii
from partners.models import MemberAccount
from partners.normalize import InvalidValueError, normalize_member_number
from partners.selectors import MEMBER_CLEAR_FIELDS, member_find_by_contact

# Columns of a member account that are personal data or derived from it. Never loaded by a list.
_MEMBER_OPAQUE_FIELDS = (
    *(f"{name}_sealed" for name in pii.PERSONAL_FIELDS),
    "wrapped_key",
    "email_index",
    "phone_index",
    "record_digest",
)
MAX_SEARCH_RESULTS = 200


def without_ciphertexts(path: str) -> list[str]:
    """The opaque columns of the member account joined at ``path`` (e.g. ``"member"``)."""
    return [f"{path}__{field}" for field in _MEMBER_OPAQUE_FIELDS]


class SearchBy:
    ANY = "any"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    CHOICES = (
        (ANY, pgettext_lazy("search by", "Any")),
        (NUMBER, _("Member number")),
        (EMAIL, _("E-mail")),
        (PHONE, _("Phone")),
    )


def member_search(*, query: str, by: str = SearchBy.ANY) -> list[MemberAccount]:
    """Member accounts of every partner whose member number (exact, once normalised), e-mail or
    phone (through the keyed blind indexes, never by decrypting) is ``query``.

    ``by`` narrows to one kind of value; with ``any`` a value with an "@" is an e-mail, anything
    else is tried both as a member number and as a phone number. A value that cannot be the
    kind asked for finds nothing. Sorted by partner and number; at most ``MAX_SEARCH_RESULTS``.
    """
    query = query.strip()
    if not query:
        return []
    found: dict[uuid.UUID, MemberAccount] = {}
    looks_like_email = "@" in query
    if by == SearchBy.NUMBER or (by == SearchBy.ANY and not looks_like_email):
        try:
            number = normalize_member_number(query)
        except InvalidValueError:
            number = ""
        if number:
            by_number = (
                MemberAccount.objects.filter(member_number=number)
                .only(*MEMBER_CLEAR_FIELDS)
                .select_related("partner")
            )
            found.update((member.pk, member) for member in by_number[:MAX_SEARCH_RESULTS])
    if by == SearchBy.EMAIL or (by == SearchBy.ANY and looks_like_email):
        by_email = member_find_by_contact(email=query)
        found.update((member.pk, member) for member in by_email[:MAX_SEARCH_RESULTS])
    if by == SearchBy.PHONE or (by == SearchBy.ANY and not looks_like_email):
        by_phone = member_find_by_contact(phone=query)
        found.update((member.pk, member) for member in by_phone[:MAX_SEARCH_RESULTS])
    members = sorted(found.values(), key=lambda m: (m.partner.slug, m.member_number))
    return members[:MAX_SEARCH_RESULTS]


def member_get(*, member_id: uuid.UUID) -> MemberAccount | None:
    """A member account with its partner, without personal data columns; None if missing."""
    return (
        MemberAccount.objects.only(*MEMBER_CLEAR_FIELDS, "person")
        .select_related("partner")
        .filter(pk=member_id)
        .first()
    )


def member_get_sealed(*, member_id: uuid.UUID) -> MemberAccount | None:
    """The whole account, ciphertexts included, for ``partners.services.member_reveal``."""
    return MemberAccount.objects.select_related("partner").filter(pk=member_id).first()


def member_linked_accounts(*, member: MemberAccount) -> QuerySet[MemberAccount]:
    """Other partners' accounts believed to be the same person (``MemberAccount.person``)."""
    if member.person_id is None:
        return MemberAccount.objects.none()
    return (
        MemberAccount.objects.filter(person_id=member.person_id)
        .exclude(pk=member.pk)
        .only(*MEMBER_CLEAR_FIELDS)
        .select_related("partner")
        .order_by("partner__slug", "member_number")
    )
