"""One member record from any source (API, admin, import file) → validated, sealed columns.

The API, the admin and the bulk import all go through ``clean_member`` and ``seal_member``, so a
row means the same thing whichever door it came in by, and the import's speed is the speed of
these two functions (they avoid Django model instances on purpose).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from partners import pii
from partners.models import MemberAccount
from partners.normalize import (
    InvalidValueError,
    normalize_date,
    normalize_email,
    normalize_member_number,
    normalize_phone,
    normalize_postal_code,
    normalize_prefecture,
    normalize_text,
    prefecture_of_address,
)

_KINDS = frozenset(MemberAccount.Kind.values)
# Erased is the outcome of an erasure request, never something a file or a partner sets.
_SETTABLE_STATUSES = frozenset((MemberAccount.Status.ACTIVE, MemberAccount.Status.INACTIVE))
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str


class MemberInvalidError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(slots=True)
class CleanMember:
    member_number: str
    kind: str
    status: str
    personal: dict[str, str | None] = field(default_factory=dict)
    birth_year: int | None = None
    prefecture: str = ""
    joined_on: datetime.date | None = None
    last_active_on: datetime.date | None = None

    def digest_parts(self) -> list[str]:
        return [
            self.kind,
            self.status,
            *(self.personal.get(name) or "" for name in pii.PERSONAL_FIELDS),
            self.prefecture,
            self.joined_on.isoformat() if self.joined_on else "",
            self.last_active_on.isoformat() if self.last_active_on else "",
        ]


class _Fields:
    """A raw record read field by field as text, collecting every field's errors."""

    __slots__ = ("errors", "raw")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def text(self, name: str) -> str:
        value = self.raw.get(name)
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value)

    def error(self, name: str, code: str, message: str) -> None:
        self.errors.append(FieldError(name, code, message))

    def check(self, name: str, func: Any, *args: Any) -> Any:
        """``func(*args)``, or None with the field's error noted if the value is not valid."""
        try:
            return func(*args)
        except InvalidValueError as error:
            self.error(name, error.code, error.message)
            return None


def clean_member(raw: Mapping[str, Any], *, today: datetime.date) -> CleanMember:
    """Validate and normalise one record given as strings. Raises MemberInvalidError with every
    field's error at once, so a person fixing a file sees all the problems of a row."""
    fields = _Fields(raw)
    member_number = fields.check(
        "member_number", normalize_member_number, fields.text("member_number")
    )
    kind = fields.text("kind").strip().lower()
    if kind not in _KINDS:
        fields.error("kind", "invalid_choice", _("kind must be household or business."))
    status = fields.text("status").strip().lower() or MemberAccount.Status.ACTIVE
    if status not in _SETTABLE_STATUSES:
        fields.error("status", "invalid_choice", _("status must be active or inactive."))
    personal = _personal(fields)
    birth_year = _birth_date(fields, personal, today=today)
    prefecture_text = fields.text("prefecture")
    if prefecture_text.strip():
        prefecture = fields.check("prefecture", normalize_prefecture, prefecture_text) or ""
    else:
        prefecture = prefecture_of_address(personal["address"] or "") or ""
    joined_on = _past_date(fields, "joined_on", today=today)
    last_active_on = _past_date(fields, "last_active_on", today=today)
    if fields.errors:
        raise MemberInvalidError(fields.errors)
    return CleanMember(
        member_number=member_number,
        kind=kind,
        status=status,
        personal=personal,
        birth_year=birth_year,
        prefecture=prefecture,
        joined_on=joined_on,
        last_active_on=last_active_on,
    )


def _personal(fields: _Fields) -> dict[str, str | None]:
    """The personal fields but the birth date: a name is required, the others optional."""
    name = fields.text("name")
    if not name.strip():
        fields.error("name", "required", _("A name is required."))
        name = ""
    else:
        name = fields.check("name", normalize_text, name) or ""
    personal: dict[str, str | None] = {"name": name}
    for column, func in (
        ("name_kana", normalize_text),
        ("email", normalize_email),
        ("phone", normalize_phone),
        ("postal_code", normalize_postal_code),
        ("address", normalize_text),
    ):
        value = fields.text(column)
        personal[column] = fields.check(column, func, value) if value.strip() else None
    return personal


def _birth_date(
    fields: _Fields, personal: dict[str, str | None], *, today: datetime.date
) -> int | None:
    """Put the birth date, if plausible, into ``personal``; the year of birth, kept in clear."""
    birth_text = fields.text("birth_date")
    if not birth_text.strip():
        personal["birth_date"] = None
        return None
    birth_date: datetime.date | None = fields.check("birth_date", normalize_date, birth_text)
    if birth_date is None:
        return None
    if not _EARLIEST_BIRTH <= birth_date <= today:
        fields.error("birth_date", "out_of_range", _("Birth date is not plausible."))
        return None
    personal["birth_date"] = birth_date.isoformat()
    return birth_date.year


def _past_date(fields: _Fields, column: str, *, today: datetime.date) -> datetime.date | None:
    value = fields.text(column)
    date: datetime.date | None = (
        fields.check(column, normalize_date, value) if value.strip() else None
    )
    if date is not None and date > today:
        fields.error(column, "out_of_range", _("The date is in the future."))
    return date


_WRAPPING_COLUMNS = ("master_key_id", "wrapped_key")
_INDEX_COLUMNS = ("index_key_id", "email_index", "phone_index", "record_digest")
# The columns that depend on the keys rather than on the member: what a key rotation rewrites.
KEY_COLUMNS: tuple[str, ...] = (*_WRAPPING_COLUMNS, *_INDEX_COLUMNS)
# The column order of ``seal_member``'s output: the staging table and the member table share it.
SEALED_COLUMNS: tuple[str, ...] = (
    "member_number",
    "kind",
    "status",
    *_WRAPPING_COLUMNS,
    *(f"{name}_sealed" for name in pii.PERSONAL_FIELDS),
    *_INDEX_COLUMNS,
    *MemberAccount.SEGMENT_FIELDS,
)


def seal_member(
    member: CleanMember, *, partner_id: uuid.UUID, indexer: pii.BlindIndexer
) -> tuple[Any, ...]:
    """The stored form of a clean record, as a tuple in ``SEALED_COLUMNS`` order."""
    sealed = pii.seal(
        partner_id=partner_id, member_number=member.member_number, values=member.personal
    )
    ciphertexts = sealed.ciphertexts
    return (
        member.member_number,
        member.kind,
        member.status,
        sealed.master_key_id,
        sealed.wrapped_key,
        *(ciphertexts[name] for name in pii.PERSONAL_FIELDS),
        indexer.key_id,
        indexer.email(member.personal.get("email")),
        indexer.phone(member.personal.get("phone")),
        indexer.record_digest(member.digest_parts()),
        member.birth_year,
        member.prefecture,
        member.joined_on,
        member.last_active_on,
    )


def open_member(
    member: MemberAccount, fields: tuple[str, ...] = pii.PERSONAL_FIELDS
) -> dict[str, str | None]:
    """Decrypt a stored account's personal fields. Raises a pii.UndecryptableError that names
    the account: DataErasedError, DataIntegrityError or DataKeyUnavailableError."""
    try:
        return pii.open_fields(
            partner_id=member.partner_id,
            member_number=member.member_number,
            master_key_id=member.master_key_id,
            wrapped_key=bytes(member.wrapped_key) if member.wrapped_key is not None else None,
            ciphertexts={name: getattr(member, f"{name}_sealed") for name in fields},
        )
    except pii.UndecryptableError as error:
        error.location = f"{MemberAccount._meta.label}.{error.location}".rstrip(".")
        error.target = member
        raise


def member_as_raw(member: MemberAccount) -> dict[str, str]:
    """A stored account back in input form, so a partial update can re-validate the whole."""
    personal = open_member(member)
    raw = {name: value or "" for name, value in personal.items()}
    raw.update(
        member_number=member.member_number,
        kind=member.kind,
        status=member.status,
        prefecture=member.prefecture,
        joined_on=member.joined_on.isoformat() if member.joined_on else "",
        last_active_on=member.last_active_on.isoformat() if member.last_active_on else "",
    )
    return raw
