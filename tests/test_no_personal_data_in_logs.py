"""No personal data in the logs: the demo is loaded, the README's worked examples are run on it
(enrollment, coins, referrals, campaigns, settlement, consent), and members' personal data is
sent, read and refused through the API, while every log record any logger makes is kept at
DEBUG (SQL and its parameters included), and written in each of the configured formats; none
may name a demo member's e-mail, phone, name or address."""

import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

import pytest
from django.db import connection

from partners.models import MemberAccount
from partners.services.member_records import open_member
from tests.conftest import client_for
from tests.demo_data import (  # noqa: F401  (fixtures)
    demo_db,
    demo_receiver,
    load_demo,
)
from tests.log_capture import every_log_record, record_text
from tests.test_readme_examples import README, _script, readme_examples

HOST_KEY = "sanpo_cFRhmvbhcO_yCjuaJHR4NSD2gZYoth8nqu8wh5taB3r05VXBz"  # Kirari's, in the README
STORY_MEMBER = "K00000002"
SCANNED_FIELDS = ("name", "name_kana", "email", "phone", "address")
# Fewer than the README test's: the flows are the same, the scan needs no overlap to show.
DEMO_MEMBERS = 80


def _run_readme_examples(base_url: str) -> None:
    for example in readme_examples(README.read_text(encoding="utf-8")):
        with tempfile.TemporaryDirectory() as workdir:
            subprocess.run(  # noqa: S603 - the README test checks their answers
                ["bash", "-c", _script(example, base_url)],  # noqa: S607
                env={**os.environ, "SANPO_README_DIR": workdir},
                capture_output=True,
                timeout=120,
                check=False,
            )


def _handle_a_member(personal: dict[str, str | None]) -> None:
    """The member's data read, sent again under another number, and refused in a bad update."""
    host = client_for(HOST_KEY)
    assert host.get(f"/api/v1/members/{STORY_MEMBER}").status_code == 200
    copy = {
        "member_number": "K-LOG-COPY",
        "kind": "individual",
        **{field: personal[field] for field in ("name", "email", "phone") if personal[field]},
    }
    created = host.post("/api/v1/members", copy, format="json", HTTP_IDEMPOTENCY_KEY="log-1")
    assert created.status_code in {201, 400}, created.content
    refused = host.patch(
        f"/api/v1/members/{STORY_MEMBER}",
        {"email": f"{personal['email']} <{personal['name']}>", "phone": f"x{personal['phone']}"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="log-2",
    )
    assert refused.status_code == 400, refused.content
    # An address where a member number goes: Django logs a 404 with its path (the line names
    # the route instead, config.log_filters). Not with SQL: a lookup's parameters are in the
    # SQL as given, which only DEBUG (development) logs.
    connection.force_debug_cursor = False
    assert host.get(f"/api/v1/members/{personal['email']}").status_code == 404
    connection.force_debug_cursor = True


def _personal_values() -> dict[str, str]:
    """Each demo member's scanned values, to the member number (the host's and the brands')."""
    values = {}
    for member in MemberAccount.objects.all():
        for field, value in open_member(member).items():
            if field in SCANNED_FIELDS and value and len(value) >= 4:
                values[value] = member.member_number
                if field == "phone":
                    values[re.sub(r"\D", "", value)] = member.member_number
    return values


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_no_log_record_names_a_demo_member(
    demo_db: None,  # noqa: F811
    demo_receiver: str,  # noqa: F811
    live_server: Any,
) -> None:
    with every_log_record() as records:
        connection.force_debug_cursor = True  # the SQL and its parameters are logged too
        try:
            load_demo(demo_receiver, members=DEMO_MEMBERS)
            story = open_member(MemberAccount.objects.get(member_number=STORY_MEMBER))
            _handle_a_member(story)
            _run_readme_examples(live_server.url)
        finally:
            connection.force_debug_cursor = False
    values = _personal_values()
    assert len(values) > 3 * DEMO_MEMBERS  # each member's name, e-mail and phone at least
    assert len(records) > 1000, "too little was logged for the scan to mean anything"
    leaks = []
    for record in records:
        text = record_text(record)
        leaks += [
            f"{record.name} {record.levelname}: {values[value]}'s {value!r} in {text[:300]!r}"
            for value in values
            if value in text
        ]
    assert not leaks, "\n".join(leaks[:20])


def test_the_scan_finds_personal_data_where_it_is_logged() -> None:
    """The scan itself: a record that names a value, in its message, its arguments or an
    ``extra`` attribute, is found."""
    import logging

    email = "hanako.yamada@example.jp"
    with every_log_record() as records:
        logger = logging.getLogger("sanpo.scan.check")
        logger.propagate = False
        logger.debug("member %s", email)
        logger.info("plain", extra={"member": {"email": email}})
        try:
            raise ValueError(email)
        except ValueError:
            logger.exception("failed")
    assert [email in record_text(record) for record in records] == [True, True, True]


# --- The scan of the whole suite's logs (tests/log_scan.py) ----------------------------------


def test_every_test_s_log_records_are_kept_for_the_suite_scan() -> None:
    import logging

    from tests.log_scan import SCAN

    logging.getLogger("partners.scan_probe").info("probe %s", "kept")
    assert SCAN.installed
    assert "probe kept" in [record.getMessage() for record in SCAN.kept()]


@pytest.mark.parametrize(
    "text",
    [
        "佐藤 花子",
        "佐藤\u3000花子",
        "サトウ　ハナコ",
        "hanako.sato@example.co.jp",
        "<info.sakura@example.jp>",
        "090-1234-5678",
        "tel:09012345678",
        "03-1234-5678",
    ],
)
def test_the_suite_scan_finds_a_name_an_e_mail_or_a_phone(text: str) -> None:
    from tests.log_scan import personal_data_in

    assert personal_data_in(f"member {text} refused")


@pytest.mark.parametrize(
    "text",
    [
        "member K00000002 enrolled",
        "delivery 1a2b3c4d-0123-4567-8901-0a1b2c3d4e5f attempt 2",
        "idempotency key 090123456789012",
        "ops@sanpo.invalid",
        "2026-12-06 08:06:47,352",
    ],
)
def test_the_suite_scan_leaves_identifiers_and_times_alone(text: str) -> None:
    from tests.log_scan import personal_data_in

    assert personal_data_in(text) == []


def test_the_suite_scan_finds_every_household_the_demo_generator_makes() -> None:
    from partners.synthetic.identities import identity_fn
    from tests.log_scan import personal_data_in

    identity = identity_fn(seed=7, business_share=0.0, birth_dates=("1980-01-01",))
    for n in range(200):
        _, name, kana, email, phone, _ = identity(n)
        for value in (name, kana, email, phone):
            assert not value or personal_data_in(f"x {value} y"), (n, value)


def test_the_load_run_s_log_files_are_scanned_line_by_line(tmp_path: Any) -> None:
    from tests.log_scan import scan_files

    clean, leaky = tmp_path / "worker1.log", tmp_path / "gunicorn1.log"
    clean.write_text("INFO partners.tasks delivery 5 sent\n", encoding="utf-8")
    leaky.write_text("ok\nWARNING member 鈴木 一郎 <ichiro@example.jp>\n", encoding="utf-8")
    assert scan_files([str(clean)]) == []
    (finding,) = scan_files([str(clean), str(leaky)])
    assert finding.startswith(f"{leaky}:2: names ['ichiro@example.jp', '鈴木 一郎']")


def test_a_test_whose_logs_name_a_person_fails_at_its_teardown() -> None:
    import logging

    from tests.log_scan import fail_on_leaks

    def teardown_report() -> pytest.TestReport:
        return pytest.TestReport("t.py::t", ("t.py", 1, "t"), {}, "passed", None, "teardown")

    def record(msg: str, arg: object) -> logging.LogRecord:
        # Made directly, not through the record factory: the suite scan would keep it too.
        return logging.LogRecord("partners.tasks", logging.INFO, "t.py", 1, msg, (arg,), None)

    clean, leaky = record("delivery %s", 5), record("member %s", "佐藤 花子")
    kept, failed = teardown_report(), teardown_report()
    fail_on_leaks(kept, [clean])
    fail_on_leaks(failed, [clean, leaky])
    assert kept.passed
    assert failed.failed
    assert "names ['佐藤 花子']" in str(failed.longrepr)
