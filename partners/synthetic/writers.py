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
from partners.synthetic.rows import Options, Spec, checked_spec, row_tuples

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
    spec = checked_spec(count=count, **options)
    encode = _csv_encoder(encoding)
    return _write_chunks(path_or_file, _csv_chunks(spec, encode))


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
    spec = checked_spec(count=count, **options)
    return _write_chunks(path_or_file, _jsonl_chunks(spec))


def _batches(spec: Spec) -> Iterator[Iterator[tuple[str, ...]]]:
    rows = row_tuples(spec)
    for _ in range(0, spec.count, _CHUNK_ROWS):
        yield islice(rows, _CHUNK_ROWS)


class _Encode(Protocol):
    def __call__(self, text: str, final: bool = False, /) -> bytes: ...


def _csv_encoder(encoding: str) -> _Encode:
    encode: _Encode = codecs.getincrementalencoder(encoding)().encode
    try:
        "\uff0d".encode(encoding)
    except UnicodeEncodeError:
        # shift_jis maps 0x817C to U+2212 where cp932 maps it to U+FF0D (full-width hyphen).
        return lambda text, final=False: encode(text.replace("\uff0d", "\u2212"), final)
    return encode


def _csv_chunks(spec: Spec, encode: _Encode) -> Iterator[bytes]:
    # Generated values never contain a delimiter, a quote or a line break, so ",".join writes
    # the very bytes csv.writer would (no field needs quoting) at a fraction of the cost; the
    # csv module writes the header, and every row whenever ``prefix`` would need quoting.
    plain = not any(ch in spec.prefix for ch in ',"\r\n')
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    text = _drain(buffer)
    join = ",".join
    for batch in _batches(spec):
        if plain:
            lines = list(map(join, batch))
            lines.append("")
            text += "\n".join(lines)
        else:
            writer.writerows(batch)
            text += _drain(buffer)
        yield encode(text)
        text = ""
    yield encode(text, True)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


_JSON = json.JSONEncoder(ensure_ascii=False)


def _jsonl_chunks(spec: Spec) -> Iterator[bytes]:
    encode, columns = _JSON.encode, COLUMNS
    for batch in _batches(spec):
        lines = [encode(dict(zip(columns, row, strict=True))) for row in batch]
        lines.append("")
        yield "\n".join(lines).encode("utf-8")
