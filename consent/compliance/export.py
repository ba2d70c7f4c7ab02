"""CSV exports of the compliance lists: streamed, UTF-8 with a byte-order mark (so Excel in
Japan reads it as UTF-8 rather than Shift_JIS), and safe to open in a spreadsheet.

Every export is a ``Table``: a header and how to read each cell from a row. Tables only name
clear columns; decrypted personal data never reaches a CSV (a reveal is shown once, on screen).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Generic, TypeVar

from django.http import StreamingHttpResponse
from django.utils import timezone

from consent.compliance.selectors import ConsentCount
from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProvisionRecord,
    WithdrawalNotice,
)
from partners.models import MemberAccount

T = TypeVar("T")
BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (tab and carriage return too, per OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def cell(value: Any) -> str:
    """One value as CSV text: times in Tokyo (ISO 8601 with offset), yes/no, lists joined with
    "; ", and a leading apostrophe on anything a spreadsheet would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    is_list = isinstance(value, list | tuple)
    text = "; ".join(str(item) for item in value) if is_list else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass(frozen=True)
class Table(Generic[T]):
    name: str  # part of the file name
    columns: Sequence[tuple[str, Callable[[T], Any]]]

    def rows(self, items: Iterable[T]) -> Iterator[list[str]]:
        yield [header for header, _ in self.columns]
        for item in items:
            yield [cell(read(item)) for _, read in self.columns]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(table: Table[T], items: Iterable[T], *, label: str = "") -> StreamingHttpResponse:
    """Stream ``items`` as CSV, as a download named after the table, ``label`` and today.

    ``items`` is read while the response is sent: pass a queryset's ``iterator()`` so that a
    long list is never held in memory.
    """
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield BOM
        for row in table.rows(items):
            yield writer.writerow(row)

    # Labels are slugs, member numbers and filter values; keep the characters those use, so
    # the name needs no quoting rules and a crafted filter cannot break the header.
    parts = ["sanpo", table.name, _UNSAFE_IN_NAME.sub("", label)[:80]]
    parts.append(timezone.localdate().strftime("%Y%m%d"))
    filename = "-".join(part for part in parts if part)
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response


def _names(value: Any) -> list[str]:
    """``verified_with`` holds field names, as a list (or the keys of a mapping)."""
    if isinstance(value, dict):
        return sorted(str(key) for key in value)
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [] if value is None else [str(value)]


# --- The tables -------------------------------------------------------------------------------


def _member_columns(path: Callable[[Any], MemberAccount]) -> list[tuple[str, Callable[[Any], Any]]]:
    return [
        ("member_partner", lambda row: path(row).partner.slug),
        ("member_number", lambda row: path(row).member_number),
    ]


SEARCH_RESULTS: Table[MemberAccount] = Table(
    "member-search",
    [
        ("partner", lambda m: m.partner.slug),
        ("partner_name", lambda m: m.partner.name_latin),
        ("member_number", lambda m: m.member_number),
        ("kind", lambda m: m.kind),
        ("status", lambda m: m.status),
    ],
)

TIMELINE: Table[ConsentEvent] = Table(
    "consent-timeline",
    [
        ("sequence", lambda e: e.sequence),
        ("occurred_at", lambda e: e.occurred_at),
        ("recorded_at", lambda e: e.recorded_at),
        ("purpose", lambda e: e.purpose_id),
        ("recipient", lambda e: e.recipient.slug),
        ("action", lambda e: e.action),
        ("channel", lambda e: e.channel),
        ("captured_by", lambda e: e.captured_by),
        ("notice_version", lambda e: e.notice.version if e.notice else None),
        ("notice_language", lambda e: e.notice.language if e.notice else None),
        ("expires_at", lambda e: e.expires_at),
        ("jurisdiction", lambda e: e.jurisdiction),
        ("event_id", lambda e: e.id),
        ("hash", lambda e: e.hash),
        ("previous_hash", lambda e: e.previous_hash),
    ],
)

STATES: Table[ConsentState] = Table(
    "consent-states",
    [
        ("recipient", lambda s: s.recipient.slug),
        ("purpose", lambda s: s.purpose_id),
        ("status", attrgetter("status")),  # annotations: see selectors
        ("granted", lambda s: s.granted),
        ("expires_at", lambda s: s.expires_at),
        ("changed_at", lambda s: s.changed_at),
        ("notice_version", lambda s: s.notice.version if s.notice else None),
        ("notice_in_force", lambda s: attrgetter("notice_in_force")(s) if s.granted else None),
        ("event_sequence", lambda s: s.event.sequence),
        ("event_id", lambda s: s.event_id),
    ],
)

PROVISIONS: Table[ProvisionRecord] = Table(
    "provision-records",
    [
        ("provided_at", lambda p: p.provided_at),
        ("provider", lambda p: p.provider.slug),
        ("recipient", lambda p: p.recipient.slug),
        ("purpose", lambda p: p.purpose_id),
        ("data_items", lambda p: list(p.data_items)),
        ("consent_event_sequence", lambda p: p.consent_event.sequence),
        ("consent_event_id", lambda p: p.consent_event_id),
        ("recipient_obtained_from", lambda p: p.recipient_obtained_from),
        ("member_pseudonym", lambda p: p.member_pseudonym),
        ("recorded_by", lambda p: p.recorded_by),
        ("retain_until", lambda p: p.retain_until),
    ],
)

_WITHDRAWAL_COLUMNS: list[tuple[str, Callable[[WithdrawalNotice], Any]]] = [
    ("withdrawal_id", lambda n: n.event_id),
    ("recipient", lambda n: n.recipient.slug),
    ("purpose", lambda n: n.event.purpose_id),
    ("member_pseudonym", lambda n: n.member_pseudonym),
    ("created_at", lambda n: n.created_at),
    ("last_sent_at", lambda n: n.last_sent_at),
    ("times_sent", lambda n: n.times_sent),
    ("acknowledged_at", lambda n: n.acknowledged_at),
    ("acknowledged_by", lambda n: n.acknowledged_by),
    ("overdue", attrgetter("is_overdue")),
]

MEMBER_WITHDRAWALS: Table[WithdrawalNotice] = Table("withdrawal-notices", _WITHDRAWAL_COLUMNS)

OVERDUE_WITHDRAWALS: Table[WithdrawalNotice] = Table(
    "overdue-withdrawal-acknowledgements",
    [*_member_columns(lambda n: n.event.member), *_WITHDRAWAL_COLUMNS],
)

COUNTS: Table[ConsentCount] = Table(
    "consent-counts",
    [
        ("recipient", lambda c: c.recipient_slug),
        ("recipient_name", lambda c: c.recipient_name),
        ("purpose", lambda c: c.purpose),
        ("consented", lambda c: c.consented),
        ("withdrawn", lambda c: c.withdrawn),
        ("expired", lambda c: c.expired),
    ],
)

CHAIN_BREAKS: Table[dict[str, Any]] = Table(
    "chain-breaks",
    [
        ("member_partner", lambda b: b.get("partner")),
        ("member_number", lambda b: b.get("member_number")),
        ("member_id", lambda b: b.get("member_id")),
        ("sequence", lambda b: b.get("sequence")),
        ("event_id", lambda b: b.get("event_id")),
        ("problem", lambda b: b.get("problem")),
    ],
)

REQUESTS: Table[DataSubjectRequest] = Table(
    "data-subject-requests",
    [
        ("request_id", lambda r: r.id),
        *_member_columns(lambda r: r.member),
        ("kind", lambda r: r.kind),
        ("status", lambda r: r.status),
        ("received_at", lambda r: r.received_at),
        ("received_via", lambda r: r.received_via.slug),
        ("requested_by", lambda r: r.requested_by),
        ("verified_with", lambda r: _names(r.verified_with)),
        ("due_at", lambda r: r.due_at),
        ("completed_at", lambda r: r.completed_at),
        ("overdue", attrgetter("is_overdue")),
        ("completed_late", attrgetter("completed_late")),
    ],
)
