"""Bulk import of a member base from CSV or JSON Lines.

A run has two phases:

1. **Stage.** The file is read as a stream, line by line, so memory stays flat whatever its size.
   Each row is validated, normalised and sealed (``member_records``) and written, a chunk at a
   time, into a staging table of its own (PostgreSQL ``COPY`` in binary format); row errors go
   to an error table. Each chunk commits together with the byte offset and line number reached,
   so a crashed run resumes at the last chunk boundary with nothing staged twice.
2. **Apply.** Once the whole file is staged, set-based SQL finds duplicate member numbers in the
   file (and, in create mode, numbers that exist already); then, unless there are errors and
   the job does not skip invalid rows, one transaction upserts every staged row into the member
   accounts and links them to persons (``matching``). Rows whose keyed fingerprint is unchanged
   are left alone, so importing the same file twice changes nothing.

A file that cannot be read at all (wrong encoding, missing columns) is refused before any row is
staged. Nothing reaches the member accounts unless the whole file has been read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner
from partners.services.audit import audit_record
from partners.services.matching import link_staged_rows, new_uuid_sql
from partners.services.member_records import (
    COLUMNS,
    REQUIRED_COLUMNS,
    SEALED_COLUMNS,
    MemberInvalidError,
    clean_member,
    seal_member,
)

logger = logging.getLogger(__name__)

# A run that has not renewed its lease for this long is presumed dead and may be resumed.
LEASE = timedelta(minutes=5)
_SAMPLE_BYTES = 64 * 1024
_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "shift_jis": "cp932", "sjis": "cp932"}
_ENCODINGS["cp932"] = "cp932"
_ENCODING_LABEL = {"utf-8": "UTF-8", "cp932": "Shift_JIS"}
_MEMBER = MemberAccount._meta.db_table

Progress = Callable[[MemberImport], None]


class FileRefusedError(Exception):
    """The file as a whole cannot be imported; nothing is staged."""


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
    enqueue: bool = True,
) -> MemberImport:
    """Store an uploaded member base file and create its import job.

    The file is copied into the job's storage as a stream (hashing it on the way), so a Celery
    worker on another host can read it. With ``enqueue`` the job is handed to Celery once the
    transaction commits. Raises ApplicationError (validation_failed) for bad options.
    """
    if not partner.holds_customer_data:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"{partner.name_latin} has no member base of its own."
        )
    format = format or _format_from_name(original_name)
    if format not in MemberImport.Format.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            "The file must be CSV (.csv) or JSON Lines (.jsonl).",
            fields={"format": ["Choose csv or jsonl."]},
        )
    if encoding != "auto" and encoding.lower() not in _ENCODINGS:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            "The encoding must be auto, utf-8 or shift_jis.",
            fields={"encoding": ["Choose auto, utf-8 or shift_jis."]},
        )
    if mode not in MemberImport.Mode.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            "The mode must be upsert or create.",
            fields={"mode": ["Choose upsert or create."]},
        )
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        while chunk := upload.read(1024 * 1024):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        with transaction.atomic():
            job = MemberImport(
                partner=partner,
                created_by=actor.user,
                original_name=original_name[:255],
                file_size=size,
                file_sha256=digest.hexdigest(),
                format=format,
                encoding=encoding.lower(),
                mode=mode,
                skip_invalid_rows=skip_invalid_rows,
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
                from partners.tasks import run_member_import

                job_id = str(job.id)
                transaction.on_commit(lambda: run_member_import.delay(job_id))
    return job


def _format_from_name(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return MemberImport.Format.JSONL
    return MemberImport.Format.CSV


# --- Running a job --------------------------------------------------------------------------


def member_import_run(*, job_id: uuid.UUID | str, progress: Progress | None = None) -> MemberImport:
    """Stage and apply an import job, or resume one whose run died. Idempotent: a finished job
    is returned as it is, and a job another live run holds raises ApplicationError (conflict).
    """
    runner = uuid.uuid4()
    job = _claim(job_id, runner)
    if job.is_finished:
        return job
    stage = _Stage(name=job.id, partner_id=job.partner_id)
    try:
        if job.status in (MemberImport.Status.PENDING, MemberImport.Status.STAGING):
            stage.create()
            _stage_file(job, stage, runner, progress)
        _finish(job, stage, runner)
    except FileRefusedError as refusal:
        _record_failure(job, runner, str(refusal))
    finally:
        if job.is_finished:
            stage.drop()
    if progress is not None:
        progress(job)
    return job


def member_import_resume(*, job: MemberImport) -> None:
    """Hand an interrupted import to Celery again once this transaction commits.

    Raises ApplicationError (conflict) if the job has finished or a live run still holds it;
    the run itself checks again when it starts, so two resumes never run twice.
    """
    job.refresh_from_db()
    if job.is_finished:
        raise ApplicationError(ErrorCode.CONFLICT, "This import has finished: nothing to resume.")
    if job.runner is not None and job.heartbeat_at and job.heartbeat_at > timezone.now() - LEASE:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"This import is still running (last progress at {job.heartbeat_at:%H:%M:%S} UTC); "
            f"it can be resumed {int(LEASE.total_seconds() // 60)} minutes after it stops.",
        )
    from partners.tasks import run_member_import

    job_id = str(job.id)
    transaction.on_commit(lambda: run_member_import.delay(job_id))


def _claim(job_id: uuid.UUID | str, runner: uuid.UUID) -> MemberImport:
    now = timezone.now()
    with transaction.atomic():
        job = MemberImport.objects.select_for_update().select_related("partner").get(pk=job_id)
        if job.is_finished:
            return job
        if job.runner is not None and job.heartbeat_at and job.heartbeat_at > now - LEASE:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"Import {job.id} is being run by another worker (last seen "
                f"{job.heartbeat_at:%H:%M:%S}); it can be resumed once that run stops.",
            )
        job.runner = runner
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        if job.status == MemberImport.Status.PENDING:
            job.status = MemberImport.Status.STAGING
        job.save(update_fields=["runner", "heartbeat_at", "started_at", "status"])
    return job


def _checkpoint(job: MemberImport, runner: uuid.UUID, **fields: Any) -> None:
    """Save progress if this run still holds the job; otherwise abort the chunk."""
    fields["heartbeat_at"] = timezone.now()
    updated = MemberImport.objects.filter(pk=job.pk, runner=runner).update(**fields)
    if not updated:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"Import {job.id} was taken over by another run; stopping."
        )
    for name, value in fields.items():
        setattr(job, name, value)


def _record_failure(job: MemberImport, runner: uuid.UUID, reason: str) -> None:
    with transaction.atomic():
        _checkpoint(
            job,
            runner,
            status=MemberImport.Status.FAILED,
            failure=reason,
            finished_at=timezone.now(),
        )
        _audit_finished(job)


def _audit_finished(job: MemberImport) -> None:
    audit_record(
        action=AuditEvent.Action.MEMBER_IMPORT_FINISHED,
        actor=Actor.system() if job.created_by is None else Actor(user=job.created_by),
        partner=job.partner,
        target=job,
        detail={
            "status": job.status,
            "created": job.rows_created,
            "updated": job.rows_updated,
            "unchanged": job.rows_unchanged,
            "invalid": job.rows_invalid,
        },
    )


# --- Reading the file -----------------------------------------------------------------------


def _resolve_encoding(job: MemberImport, raw: IO[bytes]) -> str:
    """Decide the file's encoding from its first 64 KiB, refusing a mismatch with the declared
    one: a Shift_JIS file read as UTF-8 (or the reverse) would import garbled names."""
    sample = raw.read(_SAMPLE_BYTES)
    raw.seek(0)
    if not sample:
        raise FileRefusedError("The file is empty.")
    declared = _ENCODINGS.get(job.encoding)
    has_bom = sample.startswith(codecs.BOM_UTF8)
    is_utf8 = _decodes(sample, "utf-8")
    is_cp932 = _decodes(sample, "cp932")
    is_ascii = sample.isascii()
    if declared == "utf-8" and not is_utf8:
        hint = " It looks like Shift_JIS: import it with encoding shift_jis." if is_cp932 else ""
        raise FileRefusedError(f"The file is not valid UTF-8.{hint}")
    if declared == "cp932" and (has_bom or (is_utf8 and not is_ascii)):
        raise FileRefusedError(
            "The file is UTF-8, not Shift_JIS: import it with encoding utf-8 (or auto)."
        )
    if declared == "cp932" and not is_cp932:
        raise FileRefusedError("The file is not valid Shift_JIS.")
    if declared is not None:
        return declared
    if is_utf8:
        return "utf-8"
    if is_cp932:
        return "cp932"
    raise FileRefusedError("The file is neither UTF-8 nor Shift_JIS text.")


def _decodes(sample: bytes, encoding: str) -> bool:
    # Incremental, so a character cut in two at the end of the sample is not an error.
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


class _Lines:
    """Decoded lines of a binary stream, tracking the byte offset and line number reached.

    Lines longer than the limit are skipped in constant memory and reported, as are lines that
    do not decode; neither is yielded. ``row_line`` is the first line of the row being parsed.
    """

    def __init__(self, raw: IO[bytes], *, encoding: str, offset: int, line: int) -> None:
        self.raw = raw
        self.encoding = encoding
        self.offset = offset
        self.line = line
        self.row_line = 0
        # Rows that lost a line (too long, undecodable) while being parsed: never staged.
        self.broken_rows: set[int] = set()
        self.errors: list[tuple[int, str, str, str]] = []
        self.ended_without_newline = False
        self.max_bytes = settings.SANPO_IMPORT_MAX_LINE_BYTES

    def __iter__(self) -> Iterator[str]:
        readline = self.raw.readline
        limit = self.max_bytes + 1
        while data := readline(limit):
            self.line += 1
            self.offset += len(data)
            if len(data) == limit and not data.endswith(b"\n"):
                self._skip_rest_of_line()
                self._error("", "line_too_long", f"Longer than {self.max_bytes:,} bytes.")
                continue
            if not data.endswith(b"\n"):
                self.ended_without_newline = True
            if self.line == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            try:
                text = data.decode(self.encoding)
            except UnicodeDecodeError as error:
                label = _ENCODING_LABEL.get(self.encoding, self.encoding)
                self._error("", "invalid_encoding", f"Not valid {label} at byte {error.start + 1}.")
                continue
            if self.row_line == 0:
                self.row_line = self.line
            yield text

    def _skip_rest_of_line(self) -> None:
        while chunk := self.raw.readline(1024 * 1024):
            self.offset += len(chunk)
            if chunk.endswith(b"\n"):
                return

    def _error(self, column: str, code: str, message: str) -> None:
        self.errors.append((self.line, column, code, message))
        if self.row_line:
            self.broken_rows.add(self.row_line)

    def row_is_broken(self, line: int) -> bool:
        if line in self.broken_rows:
            self.broken_rows.discard(line)
            return True
        return False

    def take_row_line(self) -> int:
        line, self.row_line = self.row_line, 0
        return line


def _normalise_header(names: Sequence[str]) -> list[str]:
    import unicodedata

    return [unicodedata.normalize("NFKC", name).strip().lower() for name in names]


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    if repeated:
        problems.append(f"repeated columns: {', '.join(repeated)}")
    if problems:
        raise FileRefusedError(
            "The header row is not a member base header ("
            + "; ".join(problems)
            + f"). Expected columns: {', '.join(COLUMNS)}."
        )


def _csv_records(
    job: MemberImport, lines: _Lines, on_header: Callable[[list[str]], None]
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(line number, record) per CSV row; record None when the row was reported as an error."""
    reader = csv.reader(lines, strict=True)
    header = list(job.header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = lines.take_row_line()
            lines.errors.append((line, "", "malformed_csv", f"Not valid CSV: {error}."))
            yield line, None
            continue
        line = lines.take_row_line()
        if lines.row_is_broken(line):
            lines.errors.append(
                (line, "", "broken_row", "A line of this row could not be read; row skipped.")
            )
            yield line, None
            continue
        if not header:
            header = _normalise_header(row)
            _check_header(header)
            on_header(header)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            cut = " The file may have been cut off here." if lines.ended_without_newline else ""
            lines.errors.append(
                (
                    line,
                    "",
                    "wrong_field_count",
                    f"Expected {len(header)} fields, found {len(row)}.{cut}",
                )
            )
            yield line, None
            continue
        yield line, dict(zip(header, row, strict=True))


def _jsonl_records(lines: _Lines) -> Iterator[tuple[int, dict[str, str] | None]]:
    for text in lines:
        line = lines.take_row_line()
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as error:
            cut = " The file may have been cut off here." if lines.ended_without_newline else ""
            lines.errors.append((line, "", "malformed_json", f"Not valid JSON: {error}.{cut}"))
            yield line, None
            continue
        if not isinstance(record, dict):
            lines.errors.append((line, "", "malformed_json", "Each line must be a JSON object."))
            yield line, None
            continue
        unknown = sorted(set(record) - set(COLUMNS))
        bad_types = sorted(
            k
            for k, v in record.items()
            if v is not None and (isinstance(v, bool) or not isinstance(v, str | int))
        )
        if unknown or bad_types:
            for name in unknown:
                lines.errors.append((line, name, "unknown_field", "Not a member field."))
            for name in bad_types:
                lines.errors.append((line, name, "invalid_type", "Must be a string."))
            yield line, None
            continue
        yield line, {k: "" if v is None else str(v) for k, v in record.items()}


def _stage_file(
    job: MemberImport, stage: _Stage, runner: uuid.UUID, progress: Progress | None
) -> None:
    chunk_rows = settings.SANPO_IMPORT_CHUNK_ROWS
    today = timezone.localdate()
    indexer = pii.BlindIndexer()
    partner_id = job.partner_id
    with job.source.open("rb") as raw:
        if not job.resolved_encoding:
            encoding = _resolve_encoding(job, raw)
            _checkpoint(job, runner, resolved_encoding=encoding)
        raw.seek(job.bytes_done)
        lines = _Lines(
            raw, encoding=job.resolved_encoding, offset=job.bytes_done, line=job.lines_done
        )

        def on_header(header: list[str]) -> None:
            _checkpoint(job, runner, header=header, bytes_done=lines.offset, lines_done=lines.line)

        if job.format == MemberImport.Format.CSV:
            records = _csv_records(job, lines, on_header)
        else:
            records = _jsonl_records(lines)
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
    stage: _Stage,
    runner: uuid.UUID,
    staged: list[tuple[Any, ...]],
    lines: _Lines,
) -> None:
    with transaction.atomic():
        stage.write_rows(staged)
        stage.write_errors(lines.errors)
        _checkpoint(
            job,
            runner,
            bytes_done=lines.offset,
            lines_done=lines.line,
            rows_staged=job.rows_staged + len(staged),
        )
    lines.errors.clear()


# --- Checking and applying ------------------------------------------------------------------


def _finish(job: MemberImport, stage: _Stage, runner: uuid.UUID) -> None:
    with transaction.atomic():
        if job.status != MemberImport.Status.APPLYING:
            stage.report_duplicates_in_file()
            if job.mode == MemberImport.Mode.CREATE:
                stage.report_existing(erased_only=False)
            else:
                stage.report_existing(erased_only=True)
            _checkpoint(job, runner, status=MemberImport.Status.APPLYING, staged_at=timezone.now())
    invalid = stage.count_invalid_lines()
    if invalid:
        _save_error_file(job, stage)
    if invalid and not job.skip_invalid_rows:
        with transaction.atomic():
            _checkpoint(
                job,
                runner,
                status=MemberImport.Status.REJECTED,
                rows_invalid=invalid,
                finished_at=timezone.now(),
                errors=job.errors.name or "",
            )
            _audit_finished(job)
        return
    with transaction.atomic():
        # One apply at a time per member base: the counts below and the upsert must see the
        # same rows, and two imports racing on one member number must not both "create" it.
        Partner.objects.select_for_update().get(pk=job.partner_id)
        stage.drop_invalid_rows()
        counts, persons = apply_stage(stage)
        _checkpoint(
            job,
            runner,
            status=MemberImport.Status.COMPLETED,
            rows_invalid=invalid,
            rows_created=counts.created,
            rows_updated=counts.updated,
            rows_unchanged=counts.unchanged,
            persons_linked=persons,
            finished_at=timezone.now(),
            errors=job.errors.name or "",
        )
        _audit_finished(job)


def _save_error_file(job: MemberImport, stage: _Stage) -> None:
    with tempfile.TemporaryFile() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["line", "column", "code", "message"])
        for batch in stage.iter_errors():
            writer.writerows(batch)
        text.flush()
        spool.seek(0)
        job.errors.save(f"{job.id.hex}-errors.csv", File(spool), save=False)
        text.detach()


class MergeCounts:
    def __init__(self, created: int, updated: int, unchanged: int) -> None:
        self.created = created
        self.updated = updated
        self.unchanged = unchanged


def apply_stage(stage: _Stage) -> tuple[MergeCounts, int]:
    """Give the staged rows persons, then upsert them into the partner's member accounts.

    Matching runs first, on a narrow table of just the match columns, so each account is
    written once, already linked; rows whose e-mail, phone and kind did not change keep the
    person they had. Rows whose fingerprint is unchanged are not touched (re-import is a
    no-op); erased accounts are never overwritten. Call inside a transaction. Returns the
    counts and the number of persons created.
    """
    partner = _db_uuid(stage.partner_id)
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage.link_table}")
        cursor.execute(
            f"""
            CREATE TABLE {stage.link_table} AS
            SELECT s.line, s.kind, s.index_key_id, s.email_index, s.phone_index, m.person_id
            FROM {stage.table} s
            LEFT JOIN {_MEMBER} m
              ON m.partner_id = %s AND m.member_number = s.member_number
             AND m.kind = s.kind AND m.index_key_id = s.index_key_id
             AND m.email_index {same} s.email_index AND m.phone_index {same} s.phone_index
            """,
            [partner],
        )
        table = stage.link_table
        cursor.execute(f"CREATE UNIQUE INDEX {table}_line ON {table} (line)")
        cursor.execute(f"CREATE INDEX {table}_person ON {table} (person_id)")
        if stage.postgres:
            cursor.execute(f"ANALYZE {stage.link_table}")
    persons = link_staged_rows(stage.link_table)
    return _merge(stage, partner), persons


def _merge(stage: _Stage, partner: Any) -> MergeCounts:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    new_id = new_uuid_sql()
    columns = ", ".join(SEALED_COLUMNS)
    selected = ", ".join(f"s.{name}" for name in SEALED_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in SEALED_COLUMNS[1:])
    count = (
        "COUNT(*) FILTER (WHERE {})" if stage.postgres else "SUM(CASE WHEN {} THEN 1 ELSE 0 END)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*), {count.format("m.id IS NULL")},
                   {count.format("m.record_digest = s.record_digest")}
            FROM {stage.table} s
            LEFT JOIN {_MEMBER} m ON m.partner_id = %s AND m.member_number = s.member_number
            """,
            [partner],
        )
        total, created, unchanged = (int(n or 0) for n in cursor.fetchone())
        cursor.execute(
            f"""
            INSERT INTO {_MEMBER} (id, partner_id, {columns}, person_id, created_at, updated_at)
            SELECT {new_id}, %s, {selected}, l.person_id, %s, %s
            FROM {stage.table} s JOIN {stage.link_table} l ON l.line = s.line
            WHERE true
            ON CONFLICT (partner_id, member_number) DO UPDATE SET {updates},
              person_id = excluded.person_id,
              updated_at = excluded.updated_at
            WHERE {_MEMBER}.record_digest <> excluded.record_digest
              AND {_MEMBER}.status <> '{MemberAccount.Status.ERASED}'
            """,
            [partner, now, now],
        )
    return MergeCounts(created=created, updated=total - created - unchanged, unchanged=unchanged)


def _db_uuid(value: uuid.UUID) -> Any:
    return MemberAccount._meta.get_field("id").get_db_prep_value(value, connection)


class _Stage:
    """The staging and error tables of one import (plain tables, dropped when it ends)."""

    def __init__(self, *, name: uuid.UUID, partner_id: uuid.UUID) -> None:
        self.partner_id = partner_id
        self.table = f"sanpo_import_{name.hex}"
        self.errors_table = f"sanpo_import_errors_{name.hex}"
        self.link_table = f"sanpo_import_links_{name.hex}"
        self.postgres = connection.vendor == "postgresql"

    def _types(self) -> list[tuple[str, str]]:
        blob, text, integer, date = (
            ("bytea", "text", "integer", "date")
            if self.postgres
            else ("blob", "text", "integer", "text")
        )
        types = {"wrapped_key": blob, "email_index": blob, "phone_index": blob}
        types.update(record_digest=blob, birth_year=integer, joined_on=date, last_active_on=date)
        types.update({f"{name}_sealed": blob for name in pii.PERSONAL_FIELDS})
        return [("line", "bigint" if self.postgres else "integer")] + [
            (name, types.get(name, text)) for name in SEALED_COLUMNS
        ]

    def create(self) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in self._types())
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.errors_table} "
                "(line bigint, column_name text, code text, message text)"
            )

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.errors_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.link_table}")

    def write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = [name for name, _ in self._types()]
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {self.table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
                with cursor.cursor.copy(sql) as copy:
                    copy.set_types([kind for _, kind in self._types()])
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({marks})",
                    [_sqlite_row(row) for row in rows],
                )

    def write_errors(self, errors: list[tuple[int, str, str, str]]) -> None:
        if not errors:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.errors_table} (line, column_name, code, message) "
                "VALUES (%s, %s, %s, %s)",
                errors,
            )

    def report_duplicates_in_file(self) -> None:
        aggregate = (
            "string_agg(line::text, ', ' ORDER BY line)"
            if self.postgres
            else "group_concat(line, ', ')"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {self.errors_table} (line, column_name, code, message)
                SELECT s.line, 'member_number', 'duplicate_in_file',
                       'Member number ' || s.member_number || ' appears more than once in the '
                       || 'file, on lines ' || d.lines || '.'
                FROM {self.table} s
                JOIN (
                    SELECT member_number, {aggregate} AS lines FROM {self.table}
                    GROUP BY member_number HAVING COUNT(*) > 1
                ) d ON d.member_number = s.member_number
                """
            )

    def report_existing(self, *, erased_only: bool) -> None:
        erased = MemberAccount.Status.ERASED
        condition = f"AND m.status = '{erased}'" if erased_only else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {self.errors_table} (line, column_name, code, message)
                SELECT s.line, 'member_number',
                       CASE WHEN m.status = '{erased}' THEN 'member_erased'
                            ELSE 'member_exists' END,
                       CASE WHEN m.status = '{erased}'
                            THEN 'Member number ' || s.member_number || ' was erased at the '
                                 || 'member''s request and cannot be imported again.'
                            ELSE 'Member number ' || s.member_number || ' already exists '
                                 || '(this import only creates new members).' END
                FROM {self.table} s
                JOIN {_MEMBER} m ON m.partner_id = %s AND m.member_number = s.member_number
                WHERE true {condition}
                """,
                [_db_uuid(self.partner_id)],
            )

    def count_invalid_lines(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(DISTINCT line) FROM {self.errors_table}")
            return int(cursor.fetchone()[0])

    def drop_invalid_rows(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE line IN (SELECT line FROM {self.errors_table})"
            )

    def iter_errors(self) -> Iterator[list[tuple[Any, ...]]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT line, column_name, code, message FROM {self.errors_table} "
                "ORDER BY line, column_name"
            )
            while batch := cursor.fetchmany(5000):
                yield list(batch)


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(value.isoformat() if hasattr(value, "isoformat") else value for value in row)


def merge_member_rows(*, partner: Partner, rows: list[tuple[Any, ...]]) -> MergeCounts:
    """Upsert already sealed rows (``seal_member`` output) and link persons, in the caller's
    transaction: the bulk API's path, sharing the import's SQL."""
    stage = _Stage(name=uuid.uuid4(), partner_id=partner.id)
    with transaction.atomic():
        stage.create()
        stage.write_rows([(line, *row) for line, row in enumerate(rows, start=1)])
        counts, _ = apply_stage(stage)
        stage.drop()
    return counts
