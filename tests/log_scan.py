"""No personal data in the logs of the whole suite (``tests/conftest.py`` wires it in).

Every log record any test makes, at the levels the settings log (``LOG_LEVEL``, INFO), is kept
while the test runs, written out in each configured format (``tests.log_capture.record_text``)
and searched, after the test's teardown, for what the demo and the factories make people of: a
full name from the synthetic name tables (kanji or katakana), an e-mail address at the reserved
``example.*`` domains they use, and a Japanese phone number, hyphenated or in digits. A test
whose records name one fails at its teardown, with the record and what it named.

Records of loggers under ``sanpo.scan.`` are left out: the scan's own tests log personal data on
purpose to show it is found."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache

import pytest

from partners.synthetic.names import people_tables
from tests.log_capture import record_text

EXEMPT_LOGGERS = "sanpo.scan."

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@example\.(?:ne\.jp|co\.jp|jp|com|net|org)\b")
PHONE = re.compile(
    r"(?<![\w-])0\d{1,4}-\d{1,4}-\d{4}(?![\w-])"  # 090-1234-5678, 03-1234-5678
    r"|(?<![\w-])0[5789]0\d{8}(?![\w-])"  # 09012345678
)


@cache
def name_pattern() -> re.Pattern[str]:
    """A full name of the synthetic tables: family then given name, kanji or katakana, with or
    without the space between them."""
    families, givens = set(), set()
    for name, kana in people_tables().households:
        for text in (name, kana):
            family, given = text.split("\u3000")
            families.add(family)
            givens.add(given)

    def any_of(words: set[str]) -> str:
        return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))

    return re.compile(rf"(?:{any_of(families)})[ \u3000]?(?:{any_of(givens)})")


def personal_data_in(text: str) -> list[str]:
    """What ``text`` names of a person, as found."""
    found = EMAIL.findall(text) + PHONE.findall(text)
    return found + name_pattern().findall(text)


def findings(records: list[logging.LogRecord]) -> list[str]:
    """One line per record that names personal data: its logger, level, what it named and the
    start of the record as written."""
    lines = []
    for record in records:
        if record.name.startswith(EXEMPT_LOGGERS):
            continue
        text = record_text(record)
        named = sorted(set(personal_data_in(text)))
        if named:
            lines.append(f"{record.name} {record.levelname} names {named[:3]}: {text[:300]!r}")
    return lines


def fail_on_leaks(report: pytest.TestReport, records: list[logging.LogRecord]) -> None:
    """Turn a passed teardown ``report`` into a failure when ``records`` name personal data."""
    leaks = findings(records)
    if leaks and report.passed:
        report.outcome = "failed"
        report.longrepr = "Log records name personal data:\n" + "\n".join(leaks[:20])


class SuiteLogScan:
    """Keeps every record made between ``install`` and ``uninstall``; ``take`` hands over the
    records kept since the last call (a test's)."""

    def __init__(self) -> None:
        self._records: list[logging.LogRecord] = []
        self._make: Callable[..., logging.LogRecord] | None = None

    def install(self) -> None:
        make = self._make = logging.getLogRecordFactory()

        def keep(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make(*args, **kwargs)
            self._records.append(record)
            return record

        logging.setLogRecordFactory(keep)

    def uninstall(self) -> None:
        if self._make is not None:
            logging.setLogRecordFactory(self._make)
            self._make = None

    @property
    def installed(self) -> bool:
        return self._make is not None

    def kept(self) -> list[logging.LogRecord]:
        """The records kept so far, left in place."""
        return list(self._records)

    def take(self) -> list[logging.LogRecord]:
        records, self._records = self._records, []
        return records


SCAN = SuiteLogScan()


def scan_files(paths: list[str]) -> list[str]:
    """The lines of these log files (a load run's gunicorn, worker and beat logs) that name
    personal data, as ``file:line: what``."""
    lines = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                named = sorted(set(personal_data_in(line)))
                if named:
                    lines.append(f"{path}:{number}: names {named[:3]}: {line[:200]!r}")
    return lines


if __name__ == "__main__":  # python -m tests.log_scan FILE...: exit 1 if any line names a person
    import sys

    found = scan_files(sys.argv[1:])
    print("\n".join(found[:20]) or f"No personal data in {len(sys.argv) - 1} log files.")
    sys.exit(1 if found else 0)
