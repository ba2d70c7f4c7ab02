"""Writes for member accounts one at a time: the API's and the admin's door.

Bulk imports go through ``partners.services.member_import`` and share the validation and
sealing of ``partners.services.member_records``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, Partner
from partners.normalize import InvalidValueError, normalize_member_number
from partners.services.audit import audit_record
from partners.services.matching import link_unlinked_members
from partners.services.member_records import (
    SEALED_COLUMNS,
    CleanMember,
    MemberInvalidError,
    clean_member,
    member_as_raw,
    open_member,
    seal_member,
)
from partners.services.member_staging import merge_member_rows
from partners.signals import member_erased

_WRITTEN_FIELDS = SEALED_COLUMNS[1:]  # everything sealing sets except the immutable number


def _invalid(error: MemberInvalidError) -> ApplicationError:
    return ApplicationError(
        ErrorCode.VALIDATION_FAILED,
        _("Some member fields are not valid."),
        fields={e.field: [e.message] for e in error.errors},
    )


def _clean(raw: Mapping[str, Any]) -> CleanMember:
    try:
        return clean_member(raw, today=timezone.localdate())
    except MemberInvalidError as error:
        raise _invalid(error) from None


def _apply_sealed(member: MemberAccount, clean: CleanMember) -> None:
    """Seal ``clean`` under a fresh data key into the columns of ``member``."""
    values = dict(
        zip(
            SEALED_COLUMNS,
            seal_member(clean, partner_id=member.partner_id, indexer=_indexer()),
            strict=True,
        )
    )
    for name, value in values.items():
        setattr(member, name, value)


def _indexer() -> pii.BlindIndexer:
    return pii.BlindIndexer()


def _ensure_holds_members(partner: Partner) -> None:
    if not partner.holds_customer_data:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            _("%(partner)s has no member base of its own (holds_customer_data is off).")
            % {"partner": partner.name_latin},
        )


def member_create(*, partner: Partner, values: Mapping[str, Any], actor: Actor) -> MemberAccount:
    """Create one member account of ``partner`` and link it to a person.

    Raises ApplicationError: validation_failed (per field), conflict if the member number is
    taken in this partner's base (other partners' numbers are never consulted).
    """
    _ensure_holds_members(partner)
    clean = _clean(values)
    member = MemberAccount(partner=partner)
    _apply_sealed(member, clean)
    try:
        with transaction.atomic():
            member.save(force_insert=True)
            link_unlinked_members()
            audit_record(
                action=AuditEvent.Action.MEMBER_CREATED,
                actor=actor,
                partner=partner,
                target=member,
            )
            member.refresh_from_db(fields=["person"])
    except IntegrityError:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            _("Member number %(number)s already exists in your member base.")
            % {"number": clean.member_number},
            fields={"member_number": [_("This member number is taken.")]},
        ) from None
    return member


def member_update(
    *, member: MemberAccount, values: Mapping[str, Any], actor: Actor
) -> MemberAccount:
    """Change some fields of a member account (a partial update), re-sealed under a new data key.

    The member number is bound into every ciphertext and cannot change. Raises ApplicationError:
    validation_failed, conflict for an erased account.
    """
    if "member_number" in values and not _same_number(values["member_number"], member):
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("A member number never changes; deactivate this account and create a new one."),
            fields={"member_number": [_("A member number never changes.")]},
        )
    _ensure_holds_members(member.partner)
    with transaction.atomic():
        member = MemberAccount.objects.select_for_update().get(pk=member.pk)
        _ensure_not_erased(member)
        raw = member_as_raw(member)
        before = _clean(raw)
        if "address" in values and "prefecture" not in values:
            raw["prefecture"] = ""  # derive it again from the new address
        raw.update({name: "" if value is None else value for name, value in values.items()})
        clean = _clean(raw)
        if _indexer().record_digest(clean.digest_parts()) == bytes(member.record_digest):
            return member  # nothing changed: no new data key, no audit event, same updated_at
        # Relink only when what matching compares changed, not merely the key of its index
        # (mid-rotation): relinking then would split a person from accounts not re-indexed yet.
        relink = before.kind != clean.kind or any(
            before.personal.get(name) != clean.personal.get(name) for name in ("email", "phone")
        )
        _apply_sealed(member, clean)
        if relink:
            member.person = None
        member.updated_at = timezone.now()
        member.save(update_fields=[*_WRITTEN_FIELDS, "person", "updated_at"])
        if relink:
            link_unlinked_members()
        audit_record(
            action=AuditEvent.Action.MEMBER_UPDATED,
            actor=actor,
            partner=member.partner,
            target=member,
            detail={"fields": sorted(values)},
        )
    return member


def _same_number(value: Any, member: MemberAccount) -> bool:
    try:
        return normalize_member_number(str(value or "")) == member.member_number
    except InvalidValueError:
        return False


def _ensure_not_erased(member: MemberAccount) -> None:
    if member.status == MemberAccount.Status.ERASED:
        raise ApplicationError(ErrorCode.CONFLICT, _("This member account has been erased."))


def member_deactivate(*, member: MemberAccount, actor: Actor) -> MemberAccount:
    """Mark an account inactive (it stays matchable and can be reactivated by an update)."""
    with transaction.atomic():
        member = MemberAccount.objects.select_for_update().get(pk=member.pk)
        _ensure_not_erased(member)
        if member.status != MemberAccount.Status.INACTIVE:
            raw = member_as_raw(member)
            raw["status"] = MemberAccount.Status.INACTIVE
            _apply_sealed(member, _clean(raw))
            member.updated_at = timezone.now()
            member.save(update_fields=[*_WRITTEN_FIELDS, "updated_at"])
            audit_record(
                action=AuditEvent.Action.MEMBER_DEACTIVATED,
                actor=actor,
                partner=member.partner,
                target=member,
            )
    return member


def member_erase(*, member: MemberAccount, actor: Actor) -> MemberAccount:
    """Erase a member's personal data for good by destroying its data key (crypto-shredding).

    The row stays (member number, kind, dates) so other records that point at it keep their
    integrity; nothing personal is recoverable, from this database or from its backups once
    they age out, because the only key that opens the ciphertexts is gone.
    """
    with transaction.atomic():
        member = MemberAccount.objects.select_for_update().get(pk=member.pk)
        if member.status == MemberAccount.Status.ERASED:
            return member
        member.wrapped_key = None
        for name in pii.PERSONAL_FIELDS:
            setattr(member, f"{name}_sealed", None)
        member.email_index = None
        member.phone_index = None
        member.record_digest = b""  # a fingerprint of the erased data is still about them
        member.birth_year = None
        member.person = None
        member.status = MemberAccount.Status.ERASED
        member.updated_at = timezone.now()
        member.save(
            update_fields=[
                "wrapped_key",
                *(f"{name}_sealed" for name in pii.PERSONAL_FIELDS),
                "email_index",
                "phone_index",
                "record_digest",
                "birth_year",
                "person",
                "status",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditEvent.Action.MEMBER_ERASED,
            actor=actor,
            partner=member.partner,
            target=member,
        )
        member_erased.send(sender=MemberAccount, member=member, actor=actor)
    return member


def member_reveal(*, member: MemberAccount, actor: Actor, purpose: str) -> dict[str, str | None]:
    """Decrypt a member's personal data for a person allowed to see it, and log that they did.

    The audit event is written in the caller's transaction; call this outside any transaction
    that could still roll back after the data is shown (the admin's reveal view runs in
    autocommit), so the record of the viewing always stays. Raises pii.UndecryptableError for
    an erased account.
    """
    personal = open_member(member)
    audit_record(
        action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED,
        actor=actor,
        partner=member.partner,
        target=member,
        detail={"purpose": purpose[:200], "fields": list(pii.PERSONAL_FIELDS)},
    )
    return personal


MAX_BULK_MEMBERS = 1000


@dataclass(frozen=True)
class BulkResult:
    """What a bulk upsert did, per member number and in total."""

    outcomes: dict[str, str]  # member number → "created" | "updated" | "unchanged"

    def count(self, outcome: str) -> int:
        return sum(1 for value in self.outcomes.values() if value == outcome)


def member_bulk_upsert(
    *, partner: Partner, records: Sequence[Mapping[str, Any]], actor: Actor
) -> BulkResult:
    """Create or update up to ``MAX_BULK_MEMBERS`` accounts of ``partner`` all-or-nothing.

    Every record is a full record (absent optional fields are cleared). Raises ApplicationError
    validation_failed with fields named ``members[<index>].<field>`` if any record is invalid,
    repeats a member number, or names an erased account; then nothing is written.
    """
    _ensure_holds_members(partner)
    if len(records) > MAX_BULK_MEMBERS:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("Send at most %(count)d members per request.") % {"count": MAX_BULK_MEMBERS},
            fields={"members": [_("At most %(count)d items.") % {"count": MAX_BULK_MEMBERS}]},
        )
    batch = _clean_batch(records)
    indexer = _indexer()
    sealed = [seal_member(clean, partner_id=partner.id, indexer=indexer) for clean in batch.cleaned]
    with transaction.atomic():
        existing = _lock_existing(partner, batch)
        if batch.errors:
            raise ApplicationError(
                ErrorCode.VALIDATION_FAILED, _("Some members are not valid."), fields=batch.errors
            )
        outcomes = _outcomes(batch.cleaned, sealed, existing)
        merge_member_rows(partner=partner, rows=sealed)
        result = BulkResult(outcomes=outcomes)
        audit_record(
            action=AuditEvent.Action.MEMBER_BULK_UPSERTED,
            actor=actor,
            partner=partner,
            detail={name: result.count(name) for name in ("created", "updated", "unchanged")},
        )
    return result


@dataclass
class _CleanBatch:
    """The valid records of a bulk request, and the errors of the others by field name."""

    cleaned: list[CleanMember] = field(default_factory=list)
    first_index: dict[str, int] = field(default_factory=dict)  # member number → its index
    errors: dict[str, list[str]] = field(default_factory=dict)


def _clean_batch(records: Sequence[Mapping[str, Any]]) -> _CleanBatch:
    today = timezone.localdate()
    batch = _CleanBatch()
    for index, record in enumerate(records):
        try:
            clean = clean_member(record, today=today)
        except MemberInvalidError as invalid:
            for error in invalid.errors:
                batch.errors.setdefault(f"members[{index}].{error.field}", []).append(error.message)
            continue
        if clean.member_number in batch.first_index:
            batch.errors[f"members[{index}].member_number"] = [
                _("Repeats members[%(index)d].") % {"index": batch.first_index[clean.member_number]}
            ]
            continue
        batch.first_index[clean.member_number] = index
        batch.cleaned.append(clean)
    return batch


def _lock_existing(partner: Partner, batch: _CleanBatch) -> dict[str, tuple[str, bytes]]:
    """Lock the batch's accounts that exist already: their status and change fingerprint by
    member number. An erased one is an error of the batch: its number cannot be written again."""
    existing = {
        number: (status, bytes(digest))
        for number, status, digest in MemberAccount.objects.select_for_update()
        .filter(partner=partner, member_number__in=list(batch.first_index))
        .values_list("member_number", "status", "record_digest")
    }
    for number, (status, _digest) in existing.items():
        if status == MemberAccount.Status.ERASED:
            batch.errors[f"members[{batch.first_index[number]}].member_number"] = [
                _("This member account has been erased and cannot be written again.")
            ]
    return existing


def _outcomes(
    cleaned: list[CleanMember],
    sealed: list[tuple[Any, ...]],
    existing: dict[str, tuple[str, bytes]],
) -> dict[str, str]:
    digest_at = SEALED_COLUMNS.index("record_digest")
    outcomes = {}
    for clean, row in zip(cleaned, sealed, strict=True):
        before = existing.get(clean.member_number)
        if before is None:
            outcomes[clean.member_number] = "created"
        elif before[1] == row[digest_at]:
            outcomes[clean.member_number] = "unchanged"
        else:
            outcomes[clean.member_number] = "updated"
    return outcomes
