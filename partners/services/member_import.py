"""Bulk import of a member base from CSV or JSON Lines.

A run has two phases:

1. **Stage.** The file is read as a stream, line by line, so memory stays flat whatever its size.
   Each row is validated, normalised and sealed (``member_records``) and written, a chunk at a
   time, into a staging table of its own (PostgreSQL ``COPY`` in binary format); row errors go
   to an error table. Each chunk commits together with the byte offset and line number reached,
   so a crashed run resumes at the last chunk boundary with nothing staged twice.
2. **Apply.** Once the whole file is staged, set-based SQL finds duplicate member numbers in the
   file (and, in create mode, numbers that exist already); then, unless there are errors and
   the job does not skip invalid rows, one transaction links every staged row to a person and
   upserts it into the member accounts (``member_staging``). Rows whose keyed fingerprint is
   unchanged are left alone, so importing the same file twice changes nothing.

A file that cannot be read at all (wrong encoding, missing columns) is refused before any row is
staged. Nothing reaches the member accounts unless the whole file has been read.

Which run holds a job (a lease), how it saves progress and ends, and resuming or failing the
jobs left unfinished: ``member_import_jobs``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
import uuid
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import AuditEvent, MemberImport, Partner
from partners.services.audit import audit_record
from partners.services.member_files import (
    ENCODINGS,
    FileRefusedError,
    Lines,
    csv_records,
    jsonl_records,
    resolve_encoding,
)
from partners.services.member_import_jobs import (
    RUN_MEMBER_IMPORT,
    checkpoint,
    claim,
    discard_source,
    finish,
    record_failure,
)
from partners.services.member_records import MemberInvalidError, clean_member, seal_member
from partners.services.member_staging import Stage, apply_stage
from partners.tasking import enqueue_on_commit

logger = logging.getLogger(__name__)

Progress = Callable[[MemberImport], None]
# The columns of a job's error report, as stored (the messages are in the job's language).
ERROR_REPORT_COLUMNS = ("line", "column", "code", "message")


# --- Creating a job -------------------------------------------------------------------------


def member_import_create(
    *,
    partner: Partner,
    upload: IO[bytes],
    original_name: str,
    actor: Actor,
    format: str | None = None,
    encoding: str = "auto",
    mode: str = MemberImport.Mode.UPSERT,
    skip_invalid_rows: bool = False,
    language: str | None = None,
    enqueue: bool = True,
) -> MemberImport:
    """Store an uploaded member base file and create its import job.

    The file is copied into the job's storage as a stream (hashing it on the way), so a Celery
    worker on another host can read it. With ``enqueue`` the job is handed to Celery once the
    transaction commits. Its run reports errors in ``language`` (by default the one active
    now: the uploader's). Raises ApplicationError (validation_failed) for bad options.
    """
    if not partner.holds_customer_data:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            _("%(partner)s has no member base of its own.") % {"partner": partner.name_latin},
        )
    format = format or _format_from_name(original_name)
    _check_options(format=format, encoding=encoding, mode=mode)
    with tempfile.TemporaryFile() as spool:
        size, sha256 = _spool(upload, spool)
        with transaction.atomic():
            job = MemberImport(
                partner=partner,
                created_by=actor.user,
                original_name=original_name[:255],
                file_size=size,
                file_sha256=sha256,
                format=format,
                encoding=encoding.lower(),
                mode=mode,
                skip_invalid_rows=skip_invalid_rows,
                language=_job_language(language),
            )
            job.source.save(f"{job.id.hex}.{format}", File(spool), save=False)
            job.save(force_insert=True)
            audit_record(
                action=AuditEvent.Action.MEMBER_IMPORT_STARTED,
                actor=actor,
                partner=partner,
                target=job,
                detail={"file": job.original_name, "bytes": size, "sha256": job.file_sha256},
            )
            if enqueue:
                enqueue_on_commit(RUN_MEMBER_IMPORT, str(job.id))
    return job


def _job_language(language: str | None) -> str:
    spoken = [code for code, _name in settings.LANGUAGES]
    wanted = language or translation.get_language() or settings.LANGUAGE_CODE
    if wanted not in spoken:
        raise validation_failed(
            "language", _("Choose one of: %(languages)s.") % {"languages": ", ".join(spoken)}
        )
    return wanted


def _format_from_name(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return MemberImport.Format.JSONL
    return MemberImport.Format.CSV


def _check_options(*, format: str, encoding: str, mode: str) -> None:
    if format not in MemberImport.Format.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("The file must be CSV (.csv) or JSON Lines (.jsonl)."),
            fields={"format": [_("Choose csv or jsonl.")]},
        )
    if encoding != "auto" and encoding.lower() not in ENCODINGS:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("The encoding must be auto, utf-8 or shift_jis."),
            fields={"encoding": [_("Choose auto, utf-8 or shift_jis.")]},
        )
    if mode not in MemberImport.Mode.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("The mode must be upsert or create."),
            fields={"mode": [_("Choose upsert or create.")]},
        )


def _spool(upload: IO[bytes], spool: IO[bytes]) -> tuple[int, str]:
    """Copy ``upload`` into ``spool`` a megabyte at a time and rewind it; its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    while chunk := upload.read(1024 * 1024):
        digest.update(chunk)
        spool.write(chunk)
        size += len(chunk)
    spool.seek(0)
    return size, digest.hexdigest()


# --- Running a job --------------------------------------------------------------------------


def member_import_run(*, job_id: uuid.UUID | str, progress: Progress | None = None) -> MemberImport:
    """Stage and apply an import job, or resume one whose run died. Idempotent: a finished job
    is returned as it is, and a job another live run holds raises ApplicationError (conflict).
    """
    runner = uuid.uuid4()
    job = claim(job_id, runner)
    if job.is_finished:
        return job
    # Row errors and the reason for a refusal, in the uploader's language, whichever worker
    # runs the job.
    with translation.override(job.language):
        _run(job, runner, progress)
    return job


def _run(job: MemberImport, runner: uuid.UUID, progress: Progress | None) -> None:
    stage = Stage(name=job.id, partner_id=job.partner_id)
    try:
        if job.status in (MemberImport.Status.PENDING, MemberImport.Status.STAGING):
            stage.create()
            _stage_file(job, stage, runner, progress)
        _check_and_apply(job, stage, runner)
    except FileRefusedError as refusal:
        record_failure(job, runner, str(refusal))
    finally:
        if job.is_finished:
            stage.drop()
            discard_source(job)
    if progress is not None:
        progress(job)


def _stage_file(
    job: MemberImport, stage: Stage, runner: uuid.UUID, progress: Progress | None
) -> None:
    chunk_rows = settings.SANPO_IMPORT_CHUNK_ROWS
    today = timezone.localdate()
    indexer = pii.BlindIndexer()
    partner_id = job.partner_id
    with job.source.open("rb") as raw:
        if not job.resolved_encoding:
            encoding = resolve_encoding(job.encoding, raw)
            checkpoint(job, runner, resolved_encoding=encoding)
        raw.seek(job.bytes_done)
        lines = Lines(
            raw, encoding=job.resolved_encoding, offset=job.bytes_done, line=job.lines_done
        )

        def on_header(header: list[str]) -> None:
            checkpoint(job, runner, header=header, bytes_done=lines.offset, lines_done=lines.line)

        if job.format == MemberImport.Format.CSV:
            records = csv_records(job.header, lines, on_header)
        else:
            records = jsonl_records(lines)
        staged: list[tuple[Any, ...]] = []
        pending_rows = 0
        for line, record in records:
            pending_rows += 1
            if record is not None:
                try:
                    clean = clean_member(record, today=today)
                except MemberInvalidError as invalid:
                    lines.errors.extend((line, e.field, e.code, e.message) for e in invalid.errors)
                else:
                    staged.append(
                        (line, *seal_member(clean, partner_id=partner_id, indexer=indexer))
                    )
            if pending_rows >= chunk_rows:
                _flush(job, stage, runner, staged, lines)
                staged, pending_rows = [], 0
                if progress is not None:
                    progress(job)
        # Errors can also come from lines that never became a row (too long, undecodable).
        _flush(job, stage, runner, staged, lines)


def _flush(
    job: MemberImport,
    stage: Stage,
    runner: uuid.UUID,
    staged: list[tuple[Any, ...]],
    lines: Lines,
) -> None:
    with transaction.atomic():
        stage.write_rows(staged)
        stage.write_errors(lines.errors)
        checkpoint(
            job,
            runner,
            bytes_done=lines.offset,
            lines_done=lines.line,
            rows_staged=job.rows_staged + len(staged),
        )
    lines.errors.clear()


# --- Checking and applying ------------------------------------------------------------------


def _check_and_apply(job: MemberImport, stage: Stage, runner: uuid.UUID) -> None:
    if job.status != MemberImport.Status.APPLYING:
        checkpoint(job, runner, status=MemberImport.Status.APPLYING, staged_at=timezone.now())
    with transaction.atomic():
        # One apply at a time per member base, and the checks see what the upsert will see:
        # two create-mode imports of one number cannot both pass them.
        Partner.objects.select_for_update().get(pk=job.partner_id)
        stage.report_duplicates_in_file()
        stage.report_existing(erased_only=job.mode != MemberImport.Mode.CREATE)
        invalid = stage.count_invalid_lines()
        if invalid:
            _save_error_file(job, stage)
        if invalid and not job.skip_invalid_rows:
            finish(
                job,
                runner,
                MemberImport.Status.REJECTED,
                rows_invalid=invalid,
                errors=job.errors.name or "",
            )
            return
        stage.drop_invalid_rows()
        counts, persons = apply_stage(stage, create_only=job.mode == MemberImport.Mode.CREATE)
        finish(
            job,
            runner,
            MemberImport.Status.COMPLETED,
            rows_invalid=invalid,
            rows_created=counts.created,
            rows_updated=counts.updated,
            rows_unchanged=counts.unchanged,
            persons_linked=persons,
            errors=job.errors.name or "",
        )


def _save_error_file(job: MemberImport, stage: Stage) -> None:
    if job.errors:  # written by a run that died before it could finish: replace it
        job.errors.delete(save=False)
    with tempfile.TemporaryFile() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\n")
        # Identifiers: the console shows the header in its reader's language.
        writer.writerow(ERROR_REPORT_COLUMNS)
        for batch in stage.iter_errors():
            writer.writerows(batch)
        text.flush()
        spool.seek(0)
        job.errors.save(f"{job.id.hex}-errors.csv", File(spool), save=False)
        text.detach()
