"""Reading member base files: encodings, lines, CSV and JSON Lines records.

Everything here streams: a file is read one line at a time, lines longer than the configured
limit are skipped in constant memory, and every problem is reported against its line number.
Validation of the values themselves is ``member_records.clean_member``'s job. Messages are in
the active language: the import job's (``member_import``).
"""

from __future__ import annotations

import codecs
import csv
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from partners import jsondepth
from partners.member_columns import COLUMNS, REQUIRED_COLUMNS

_SAMPLE_BYTES = 64 * 1024
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "shift_jis": "cp932", "sjis": "cp932"}
ENCODINGS["cp932"] = "cp932"
_ENCODING_LABEL = {"utf-8": "UTF-8", "cp932": "Shift_JIS"}

Record = tuple[int, dict[str, str] | None]


class FileRefusedError(Exception):
    """The file as a whole cannot be imported; nothing is staged."""


def resolve_encoding(declared_name: str, raw: IO[bytes]) -> str:
    """Decide the file's encoding from its first 64 KiB, refusing a mismatch with the declared
    one: a Shift_JIS file read as UTF-8 (or the reverse) would import garbled names."""
    sample = raw.read(_SAMPLE_BYTES)
    raw.seek(0)
    if not sample:
        raise FileRefusedError(_("The file is empty."))
    declared = ENCODINGS.get(declared_name)
    has_bom = sample.startswith(codecs.BOM_UTF8)
    is_utf8 = _decodes(sample, "utf-8")
    is_cp932 = _decodes(sample, "cp932")
    is_ascii = sample.isascii()
    if declared == "utf-8" and not is_utf8:
        if is_cp932:
            raise FileRefusedError(
                _(
                    "The file is not valid UTF-8. It looks like Shift_JIS: import it with "
                    "encoding shift_jis."
                )
            )
        raise FileRefusedError(_("The file is not valid UTF-8."))
    if declared == "cp932" and (has_bom or (is_utf8 and not is_ascii)):
        raise FileRefusedError(
            _("The file is UTF-8, not Shift_JIS: import it with encoding utf-8 (or auto).")
        )
    if declared == "cp932" and not is_cp932:
        raise FileRefusedError(_("The file is not valid Shift_JIS."))
    if declared is not None:
        return declared
    if is_utf8:
        return "utf-8"
    if is_cp932:
        return "cp932"
    raise FileRefusedError(_("The file is neither UTF-8 nor Shift_JIS text."))


def _decodes(sample: bytes, encoding: str) -> bool:
    # Incremental, so a character cut in two at the end of the sample is not an error.
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


class Lines:
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
                self._error(
                    "",
                    "line_too_long",
                    _("Longer than %(bytes)s bytes.") % {"bytes": f"{self.max_bytes:,}"},
                )
                continue
            if not data.endswith(b"\n"):
                self.ended_without_newline = True
            if self.line == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            try:
                text = data.decode(self.encoding)
            except UnicodeDecodeError as error:
                label = _ENCODING_LABEL.get(self.encoding, self.encoding)
                self._error(
                    "",
                    "invalid_encoding",
                    _("Not valid %(encoding)s at byte %(byte)d.")
                    % {"encoding": label, "byte": error.start + 1},
                )
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


def normalise_header(names: Sequence[str]) -> list[str]:
    return [unicodedata.normalize("NFKC", name).strip().lower() for name in names]


def check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(
            _("missing required columns: %(columns)s") % {"columns": ", ".join(missing)}
        )
    if unknown:
        problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
    if repeated:
        problems.append(_("repeated columns: %(columns)s") % {"columns": ", ".join(repeated)})
    if problems:
        raise FileRefusedError(
            _(
                "The header row is not a member base header (%(problems)s). Expected columns: "
                "%(columns)s."
            )
            % {"problems": "; ".join(problems), "columns": ", ".join(COLUMNS)}
        )


def csv_records(
    known_header: list[str], lines: Lines, on_header: Callable[[list[str]], None]
) -> Iterator[Record]:
    """(line number, record) per CSV row; record None when the row was reported as an error."""
    reader = csv.reader(lines, strict=True)
    header = list(known_header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = lines.take_row_line()
            message = _("Not valid CSV: %(error)s.") % {"error": error}
            lines.errors.append((line, "", "malformed_csv", message))
            yield line, None
            continue
        line = lines.take_row_line()
        if lines.row_is_broken(line):
            lines.errors.append(
                (line, "", "broken_row", _("A line of this row could not be read; row skipped."))
            )
            yield line, None
            continue
        if not header:
            header = normalise_header(row)
            check_header(header)
            on_header(header)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            message = _("Expected %(expected)d fields, found %(found)d.") % {
                "expected": len(header),
                "found": len(row),
            }
            lines.errors.append((line, "", "wrong_field_count", _cut_off(message, lines)))
            yield line, None
            continue
        yield line, dict(zip(header, row, strict=True))


def _cut_off(message: str, lines: Lines) -> str:
    """``message``, with a hint when the file's last line has no newline: it may be cut off."""
    if not lines.ended_without_newline:
        return message
    return _("%(message)s The file may have been cut off here.") % {"message": message}


def jsonl_records(lines: Lines) -> Iterator[Record]:
    for text in lines:
        line = lines.take_row_line()
        if not text.strip():
            continue
        try:
            record = jsondepth.loads(text)
        except ValueError as error:
            message = _("Not valid JSON: %(error)s.") % {"error": error}
            lines.errors.append((line, "", "malformed_json", _cut_off(message, lines)))
            yield line, None
            continue
        if not isinstance(record, dict):
            lines.errors.append((line, "", "malformed_json", _("Each line must be a JSON object.")))
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
                lines.errors.append((line, name, "unknown_field", _("Not a member field.")))
            for name in bad_types:
                lines.errors.append((line, name, "invalid_type", _("Must be a string.")))
            yield line, None
            continue
        yield line, {k: "" if v is None else str(v) for k, v in record.items()}
