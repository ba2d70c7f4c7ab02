"""Writing a generated base to a file: CSV in any encoding the import accepts, or JSON Lines."""

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from itertools import islice
from typing import Protocol, Unpack

from partners.member_columns import COLUMNS
from partners.synthetic.rows import Options, checked_spec, row_tuples

_CHUNK_ROWS = 2048


class _BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


_Target = str | os.PathLike[str] | _BinaryWriter


def _write_chunks(target: _Target, chunks: Iterator[bytes]) -> int:
    written = 0
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
    else:
        for chunk in chunks:
            target.write(chunk)
            written += len(chunk)
    return written


def write_csv(
    path_or_file: _Target,
    *,
    count: int,
    encoding: str = "utf-8",
    **options: Unpack[Options],
) -> int:
    """Write a header (:data:`COLUMNS`) and ``count`` rows as CSV; return the bytes written.

    ``path_or_file`` is a path (``str`` / ``PathLike``, created or truncated; closed afterwards)
    or a binary file object (written to, neither flushed nor closed). Rows are exactly those of
    :func:`synthetic_members` with the same keyword arguments. ``csv`` module defaults with
    ``lineterminator="\\n"``. ``encoding`` is any Python codec able to encode the output:
    ``"utf-8"`` (default), ``"utf-8-sig"``, ``"cp932"`` or ``"shift_jis"`` (for which the
    full-width hyphen is written as U+2212, giving the same bytes as cp932).
    """
    checked = checked_spec(count=count, **options)
    encoder = codecs.getincrementalencoder(encoding)()
    # shift_jis maps 0x817C to U+2212 where cp932 maps it to U+FF0D (full-width hyphen).
    try:
        "\uff0d".encode(encoding)
        fix_hyphen = False
    except UnicodeEncodeError:
        fix_hyphen = True
    rows = row_tuples(checked)

    # Generated values never contain a delimiter, a quote or a line break, so ",".join writes
    # the very bytes csv.writer would (no field needs quoting) at a fraction of the cost; the
    # csv module writes the header, and every row whenever ``prefix`` would need quoting.
    plain = not any(ch in checked.prefix for ch in ',"\r\n')
    encode = encoder.encode

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        join = ",".join
        for _ in range(0, count, _CHUNK_ROWS):
            batch = islice(rows, _CHUNK_ROWS)
            if plain:
                lines = list(map(join, batch))
                lines.append("")
                text += "\n".join(lines)
            else:
                writer.writerows(batch)
                text += buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            if fix_hyphen:
                text = text.replace("\uff0d", "\u2212")
            yield encode(text)
            text = ""
        if fix_hyphen:
            text = text.replace("\uff0d", "\u2212")
        yield encode(text, final=True)

    return _write_chunks(path_or_file, chunks())


_JSON = json.JSONEncoder(ensure_ascii=False)


def write_jsonl(
    path_or_file: _Target,
    *,
    count: int,
    **options: Unpack[Options],
) -> int:
    """Write ``count`` rows as UTF-8 JSON Lines; return the bytes written.

    Each line is ``json.dumps(row, ensure_ascii=False)`` of a :func:`synthetic_members` row
    (same keyword arguments), keys in :data:`COLUMNS` order, terminated by ``"\\n"``.
    ``path_or_file`` is handled as in :func:`write_csv`.
    """
    checked = checked_spec(count=count, **options)
    rows = row_tuples(checked)
    encode = _JSON.encode
    columns = COLUMNS

    def chunks() -> Iterator[bytes]:
        for _ in range(0, count, _CHUNK_ROWS):
            lines = [
                encode(dict(zip(columns, row, strict=True))) for row in islice(rows, _CHUNK_ROWS)
            ]
            lines.append("")
            yield "\n".join(lines).encode("utf-8")

    return _write_chunks(path_or_file, chunks())
