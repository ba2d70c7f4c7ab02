"""CSV exports of the compliance lists: streamed, UTF-8 with a byte-order mark (so Excel in
Japan reads it as UTF-8 rather than Shift_JIS), and safe to open in a spreadsheet.

Every export is a ``Table``: a header and how to read each cell from a row. Tables only name
clear columns; decrypted personal data never reaches a CSV (a reveal is shown once, on screen).

The header is in the reviewer's language (in English, the column names a program reads), and
so are names of companies and problems; values that are codes (slugs, purposes, actions,
statuses, channels, yes/no) and times (ISO 8601) stay the same in every language, so that a
file compares with another whoever downloaded it. The cells (formulas neutralised, times in
Tokyo) are those of every console export (``partners.admin.export``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from consent.compliance.selectors import ConsentCount
from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProvisionRecord,
    WithdrawalNotice,
)
from consent.names import partner_name
from consent.services import chain_problem_text
from partners.admin.export import BOM, Echo, cell
from partners.models import MemberAccount

T = TypeVar("T")
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Table(Generic[T]):
    name: str  # part of the file name
    columns: Sequence[tuple[Promise, Callable[[T], Any]]]

    def rows(self, items: Iterable[T]) -> Iterator[list[str]]:
        yield [str(header) for header, _ in self.columns]
        for item in items:
            yield [cell(read(item)) for _, read in self.columns]


def csv_response(table: Table[T], items: Iterable[T], *, label: str = "") -> StreamingHttpResponse:
    """Stream ``items`` as CSV, as a download named after the table, ``label`` and today.

    ``items`` is read while the response is sent: pass a queryset's ``iterator()`` so that a
    long list is never held in memory.
    """
    writer = csv.writer(Echo())
    # The lines are made while the response is sent, after this request's language may have
    # been switched off: keep the reviewer's.
    language = translation.get_language()

    def lines() -> Iterator[str]:
        with translation.override(language):
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
# Each header is spelled out as pgettext_lazy("CSV column", ...): makemessages only finds the
# literal calls, and the context tells a translator that the English is a program's column name.


def _member_columns(
    path: Callable[[Any], MemberAccount],
) -> list[tuple[Promise, Callable[[Any], Any]]]:
    return [
        (pgettext_lazy("CSV column", "member_partner"), lambda row: path(row).partner.slug),
        (pgettext_lazy("CSV column", "member_number"), lambda row: path(row).member_number),
    ]


SEARCH_RESULTS: Table[MemberAccount] = Table(
    "member-search",
    [
        (pgettext_lazy("CSV column", "partner"), lambda m: m.partner.slug),
        (pgettext_lazy("CSV column", "partner_name"), lambda m: partner_name(m.partner)),
        (pgettext_lazy("CSV column", "member_number"), lambda m: m.member_number),
        # A member's kind and status are not a request's: the same English column, other words.
        (pgettext_lazy("CSV column of a member", "kind"), lambda m: m.kind),
        (pgettext_lazy("CSV column of a member", "status"), lambda m: m.status),
    ],
)

TIMELINE: Table[ConsentEvent] = Table(
    "consent-timeline",
    [
        (pgettext_lazy("CSV column", "sequence"), lambda e: e.sequence),
        (pgettext_lazy("CSV column", "occurred_at"), lambda e: e.occurred_at),
        (pgettext_lazy("CSV column", "recorded_at"), lambda e: e.recorded_at),
        (pgettext_lazy("CSV column", "purpose"), lambda e: e.purpose_id),
        (pgettext_lazy("CSV column", "recipient"), lambda e: e.recipient.slug),
        (pgettext_lazy("CSV column", "action"), lambda e: e.action),
        (pgettext_lazy("CSV column", "channel"), lambda e: e.channel),
        (pgettext_lazy("CSV column", "captured_by"), lambda e: e.captured_by),
        (
            pgettext_lazy("CSV column", "notice_version"),
            lambda e: e.notice.version if e.notice else None,
        ),
        (
            pgettext_lazy("CSV column", "notice_language"),
            lambda e: e.notice.language if e.notice else None,
        ),
        (pgettext_lazy("CSV column", "expires_at"), lambda e: e.expires_at),
        (pgettext_lazy("CSV column", "jurisdiction"), lambda e: e.jurisdiction),
        (pgettext_lazy("CSV column", "event_id"), lambda e: e.id),
        (pgettext_lazy("CSV column", "hash"), lambda e: e.hash),
        (pgettext_lazy("CSV column", "previous_hash"), lambda e: e.previous_hash),
    ],
)

STATES: Table[ConsentState] = Table(
    "consent-states",
    [
        (pgettext_lazy("CSV column", "recipient"), lambda s: s.recipient.slug),
        (pgettext_lazy("CSV column", "purpose"), lambda s: s.purpose_id),
        (pgettext_lazy("CSV column", "status"), attrgetter("status")),  # annotations: see selectors
        (pgettext_lazy("CSV column", "granted"), lambda s: s.granted),
        (pgettext_lazy("CSV column", "expires_at"), lambda s: s.expires_at),
        (pgettext_lazy("CSV column", "changed_at"), lambda s: s.changed_at),
        (
            pgettext_lazy("CSV column", "notice_version"),
            lambda s: s.notice.version if s.notice else None,
        ),
        (
            pgettext_lazy("CSV column", "notice_in_force"),
            lambda s: attrgetter("notice_in_force")(s) if s.granted else None,
        ),
        (pgettext_lazy("CSV column", "event_sequence"), lambda s: s.event.sequence),
        (pgettext_lazy("CSV column", "event_id"), lambda s: s.event_id),
    ],
)

PROVISIONS: Table[ProvisionRecord] = Table(
    "provision-records",
    [
        (pgettext_lazy("CSV column", "provided_at"), lambda p: p.provided_at),
        (pgettext_lazy("CSV column", "provider"), lambda p: p.provider.slug),
        (pgettext_lazy("CSV column", "recipient"), lambda p: p.recipient.slug),
        (pgettext_lazy("CSV column", "purpose"), lambda p: p.purpose_id),
        (pgettext_lazy("CSV column", "data_items"), lambda p: list(p.data_items)),
        (pgettext_lazy("CSV column", "consent_event_sequence"), lambda p: p.consent_event.sequence),
        (pgettext_lazy("CSV column", "consent_event_id"), lambda p: p.consent_event_id),
        (
            pgettext_lazy("CSV column", "recipient_obtained_from"),
            lambda p: p.recipient_obtained_from,
        ),
        (pgettext_lazy("CSV column", "member_pseudonym"), lambda p: p.member_pseudonym),
        (pgettext_lazy("CSV column", "recorded_by"), lambda p: p.recorded_by),
        (pgettext_lazy("CSV column", "retain_until"), lambda p: p.retain_until),
    ],
)

_WITHDRAWAL_COLUMNS: list[tuple[Promise, Callable[[WithdrawalNotice], Any]]] = [
    (pgettext_lazy("CSV column", "withdrawal_id"), lambda n: n.event_id),
    (pgettext_lazy("CSV column", "recipient"), lambda n: n.recipient.slug),
    (pgettext_lazy("CSV column", "purpose"), lambda n: n.event.purpose_id),
    (pgettext_lazy("CSV column", "member_pseudonym"), lambda n: n.member_pseudonym),
    (pgettext_lazy("CSV column", "created_at"), lambda n: n.created_at),
    (pgettext_lazy("CSV column", "last_sent_at"), lambda n: n.last_sent_at),
    (pgettext_lazy("CSV column", "times_sent"), lambda n: n.times_sent),
    (pgettext_lazy("CSV column", "acknowledged_at"), lambda n: n.acknowledged_at),
    (pgettext_lazy("CSV column", "acknowledged_by"), lambda n: n.acknowledged_by),
    (pgettext_lazy("CSV column", "overdue"), attrgetter("is_overdue")),
]

MEMBER_WITHDRAWALS: Table[WithdrawalNotice] = Table("withdrawal-notices", _WITHDRAWAL_COLUMNS)

OVERDUE_WITHDRAWALS: Table[WithdrawalNotice] = Table(
    "overdue-withdrawal-acknowledgements",
    [*_member_columns(lambda n: n.event.member), *_WITHDRAWAL_COLUMNS],
)

COUNTS: Table[ConsentCount] = Table(
    "consent-counts",
    [
        (pgettext_lazy("CSV column", "recipient"), lambda c: c.recipient_slug),
        (pgettext_lazy("CSV column", "recipient_name"), lambda c: c.recipient_name),
        (pgettext_lazy("CSV column", "purpose"), lambda c: c.purpose),
        (pgettext_lazy("CSV column", "consented"), lambda c: c.consented),
        (pgettext_lazy("CSV column", "withdrawn"), lambda c: c.withdrawn),
        (pgettext_lazy("CSV column", "expired"), lambda c: c.expired),
    ],
)

CHAIN_BREAKS: Table[dict[str, Any]] = Table(
    "chain-breaks",
    [
        (pgettext_lazy("CSV column", "member_partner"), lambda b: b.get("partner")),
        (pgettext_lazy("CSV column", "member_number"), lambda b: b.get("member_number")),
        (pgettext_lazy("CSV column", "member_id"), lambda b: b.get("member_id")),
        (pgettext_lazy("CSV column", "sequence"), lambda b: b.get("sequence")),
        (pgettext_lazy("CSV column", "event_id"), lambda b: b.get("event_id")),
        (
            pgettext_lazy("CSV column", "problem"),
            lambda b: chain_problem_text(str(b.get("problem", ""))),
        ),
    ],
)

REQUESTS: Table[DataSubjectRequest] = Table(
    "data-subject-requests",
    [
        (pgettext_lazy("CSV column", "request_id"), lambda r: r.id),
        *_member_columns(lambda r: r.member),
        (pgettext_lazy("CSV column", "kind"), lambda r: r.kind),
        (pgettext_lazy("CSV column", "status"), lambda r: r.status),
        (pgettext_lazy("CSV column", "received_at"), lambda r: r.received_at),
        (pgettext_lazy("CSV column", "received_via"), lambda r: r.received_via.slug),
        (pgettext_lazy("CSV column", "requested_by"), lambda r: r.requested_by),
        (pgettext_lazy("CSV column", "verified_with"), lambda r: _names(r.verified_with)),
        (pgettext_lazy("CSV column", "due_at"), lambda r: r.due_at),
        (pgettext_lazy("CSV column", "completed_at"), lambda r: r.completed_at),
        (pgettext_lazy("CSV column", "overdue"), attrgetter("is_overdue")),
        (pgettext_lazy("CSV column", "completed_late"), attrgetter("completed_late")),
    ],
)
