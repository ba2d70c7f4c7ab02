"""Rotating the keys that protect member data, in small batches while the service runs.

- Master keys: prepend a new key to ``SANPO_MEMBER_MASTER_KEYS``, deploy, then
  ``member_master_keys_rotate`` re-wraps every data key under it (32 bytes per member; the
  personal data is not re-encrypted). Old keys keep decrypting until the run is done; then
  remove them.
- Blind-index keys: prepend a new key to ``SANPO_BLIND_INDEX_KEYS``, deploy, then
  ``member_blind_indexes_rotate`` recomputes every e-mail and phone index and change fingerprint
  under it. Matching compares indexes under the same key only, so accounts written between the
  deploy and the end of the run are matched against re-indexed accounts only; run it when
  imports are quiet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, MemberImport
from partners.services.audit import audit_record
from partners.services.member_records import KEY_COLUMNS, clean_member, member_as_raw

Progress = Callable[[int], None]


def _db_value(member: MemberAccount, name: str) -> Any:
    field = member._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_save(getattr(member, name), connection)


def _id(member: MemberAccount) -> Any:
    return _db_value(member, "id")


def _ensure_no_import_in_flight() -> None:
    # Staged import rows are sealed and indexed under the keys current when they were read;
    # applied after a rotation they would carry a key that is about to be removed.
    unfinished = MemberImport.objects.exclude(status__in=MemberImport.FINISHED_STATUSES).count()
    if unfinished:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"{unfinished} member import(s) are unfinished; let them finish (or resume them) "
            "before rotating keys, or their rows would be applied under the old key.",
        )


def _batches(
    *,
    stale: dict[str, str],
    batch_size: int,
    rewrite: Callable[[MemberAccount], None],
    progress: Progress | None,
) -> int:
    _ensure_no_import_in_flight()
    done = 0
    last_id = None
    while True:
        with transaction.atomic():
            # Row locks: a concurrent update re-seals a member under a new data key, and a
            # re-wrap computed from the old one must not overwrite it.
            batch = MemberAccount.objects.select_for_update().exclude(**stale).order_by("id")
            batch = batch.exclude(status=MemberAccount.Status.ERASED)
            if last_id is not None:
                batch = batch.filter(id__gt=last_id)
            rows = list(batch[:batch_size])
            if not rows:
                return done
            for member in rows:
                rewrite(member)
            # One parameterised UPDATE per row, sent as a batch (psycopg pipelines it):
            # bulk_update's CASE expressions grow too slow at thousands of rows.
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {MemberAccount._meta.db_table} SET "
                    + ", ".join(f"{name} = %s" for name in KEY_COLUMNS)
                    + " WHERE id = %s",
                    [
                        (*(_db_value(member, name) for name in KEY_COLUMNS), _id(member))
                        for member in rows
                    ],
                )
            done += len(rows)
            last_id = rows[-1].id
        if progress is not None:
            progress(done)


def member_key_usage() -> dict[str, dict[str, int]]:
    """How many accounts with personal data are under each master key (``"master"``) and
    each blind-index key (``"blind_index"``): a key may be removed from settings only once
    no account is under it."""
    live = MemberAccount.objects.exclude(status=MemberAccount.Status.ERASED)
    return {
        kind: dict(live.values_list(column).annotate(n=models.Count("id")).values_list(column, "n"))
        for kind, column in (("master", "master_key_id"), ("blind_index", "index_key_id"))
    }


def _ensure_master_keys_configured() -> None:
    configured = {key_id for key_id, _ in settings.SANPO_MEMBER_MASTER_KEYS}
    missing = {
        key_id: count
        for key_id, count in member_key_usage()["master"].items()
        if key_id not in configured
    }
    if missing:
        listed = ", ".join(f"{count} under {key_id!r}" for key_id, count in sorted(missing.items()))
        raise ApplicationError(
            ErrorCode.DATA_KEY_UNAVAILABLE,
            f"Some member accounts are under master keys not in SANPO_MEMBER_MASTER_KEYS "
            f"({listed}); nothing was re-wrapped. Put those keys back (after the first) and "
            "run again: only then can their data keys move to the current key.",
        )


def member_master_keys_rotate(
    *, actor: Actor, batch_size: int = 1000, progress: Progress | None = None
) -> int:
    """Re-wrap every data key not yet under the current master key. Returns how many.

    Raises ApplicationError: conflict while a member import is unfinished,
    data_key_unavailable (before changing anything) when accounts are under a master key that
    is not configured. A data key that does not authenticate raises pii.DataIntegrityError
    and rolls back its batch."""
    _ensure_master_keys_configured()
    current = pii.current_master_key_id()

    def rewrap(member: MemberAccount) -> None:
        member.master_key_id, member.wrapped_key = pii.rewrap_data_key(
            partner_id=member.partner_id,
            member_number=member.member_number,
            master_key_id=member.master_key_id,
            wrapped_key=bytes(member.wrapped_key or b""),
        )

    count = _batches(
        stale={"master_key_id": current}, batch_size=batch_size, rewrite=rewrap, progress=progress
    )
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.MEMBER_KEYS_ROTATED,
            actor=actor,
            detail={"master_key": current, "rewrapped": count},
        )
    return count


def member_blind_indexes_rotate(
    *, actor: Actor, batch_size: int = 1000, progress: Progress | None = None
) -> int:
    """Recompute the blind indexes and fingerprints of every account not yet under the current
    blind-index key. Returns how many accounts were re-indexed."""
    indexer = pii.BlindIndexer()

    def reindex(member: MemberAccount) -> None:
        clean = clean_member(member_as_raw(member), today=timezone.localdate())
        member.index_key_id = indexer.key_id
        member.email_index = indexer.email(clean.personal.get("email"))
        member.phone_index = indexer.phone(clean.personal.get("phone"))
        member.record_digest = indexer.record_digest(clean.digest_parts())

    count = _batches(
        stale={"index_key_id": indexer.key_id},
        batch_size=batch_size,
        rewrite=reindex,
        progress=progress,
    )
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.MEMBER_KEYS_ROTATED,
            actor=actor,
            detail={"blind_index_key": indexer.key_id, "reindexed": count},
        )
    return count
