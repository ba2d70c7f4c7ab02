"""Issued statements are signed (Ed25519) and verifiable with a public key alone: through the
API's answer and the published keys, or offline with ``verify_settlement_statement``; a
tampered document fails, and a rotated key keeps older statements verifiable."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.services import (
    period_issue,
    period_lock,
    period_review_open,
    settlement_line_post,
)
from federation.settlement.signing import public_keys, verify
from tests.conftest import Key, client_for
from tests.factories import issue_key
from tests.federation.settlement_world import SYSTEM, Alliance, make_alliance, may_ledger, tokyo

pytestmark = pytest.mark.django_db
MAY = (date(2026, 5, 1), date(2026, 5, 31))
NEW_KEY = ("2027a", bytes(range(32)))


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


def _issued(alliance: Alliance) -> SettlementPeriod:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    period_review_open(may, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    period_lock(may, actor=SYSTEM)
    return period_issue(may, actor=SYSTEM)


def test_a_partner_verifies_its_issued_statement_with_the_published_key(
    alliance: Alliance,
) -> None:
    may = _issued(alliance)
    key = Key(alliance.b, issue_key(alliance.b).plaintext)
    answer = client_for(key).get(f"/api/v1/settlement/periods/{may.pk}/statement").json()
    published = client_for(key).get("/api/v1/settlement/signing-keys").json()["keys"]
    public = {k["key_id"]: k["public_key"] for k in published}[answer["key_id"]]

    assert verify(answer["document"], answer["signature"], public)
    tampered = answer["document"].replace('"850"', '"851"')
    assert tampered != answer["document"]
    assert not verify(tampered, answer["signature"], public)
    assert not verify(answer["document"], "not base64!", public)


def test_a_statement_is_unsigned_until_issued(alliance: Alliance) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    period_review_open(may, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    assert set(may.statements.values_list("signature", flat=True)) == {""}


def test_the_command_verifies_a_downloaded_statement_offline(
    alliance: Alliance, tmp_path: Path, capsys: Any
) -> None:
    statement = _issued(alliance).statements.get(partner=alliance.a)
    answer = {
        "document": statement.document,
        "sha256": statement.content_hash,
        "signature": statement.signature,
        "key_id": statement.signing_key_id,
    }
    saved = tmp_path / "statement.json"
    saved.write_text(json.dumps(answer), encoding="utf-8")
    public = public_keys()[0]["public_key"]

    call_command("verify_settlement_statement", str(saved), public_key=public)
    assert "valid: signed by key dev1" in capsys.readouterr().out

    saved.write_text(
        json.dumps({**answer, "sha256": None, "document": statement.document[:-1] + " }"})
    )
    with pytest.raises(CommandError, match="invalid"):
        call_command("verify_settlement_statement", str(saved), public_key=public)
    other = base64.urlsafe_b64encode(bytes(32)).decode()
    saved.write_text(json.dumps(answer), encoding="utf-8")
    with pytest.raises(CommandError, match="invalid"):
        call_command("verify_settlement_statement", str(saved), public_key=other)


def test_a_rotated_key_signs_new_statements_and_the_old_one_still_verifies(
    alliance: Alliance, settings: Any
) -> None:
    old = _issued(alliance).statements.get(partner=alliance.a)
    settings.SANPO_SETTLEMENT_SIGNING_KEYS = [NEW_KEY, *settings.SANPO_SETTLEMENT_SIGNING_KEYS]
    keys = {k["key_id"]: k["public_key"] for k in public_keys()}

    assert list(keys) == ["2027a", "dev1"]
    assert verify(old.document, old.signature, keys[old.signing_key_id])
    june = alliance.period(date(2026, 6, 1), date(2026, 6, 30))
    settlement_line_post(
        host=alliance.host,
        on=date(2026, 6, 3),
        kind=SettlementLine.Kind.FEE,
        debtor=alliance.a,
        creditor=alliance.b,
        amount_yen=Decimal(300),
        note="referral fee",
        actor=SYSTEM,
    )
    period_review_open(june, actor=SYSTEM, now=tokyo(date(2026, 7, 1), 0))
    period_lock(june, actor=SYSTEM)
    new = period_issue(june, actor=SYSTEM).statements.get(partner=alliance.a)
    assert new.signing_key_id == "2027a"
    assert verify(new.document, new.signature, keys["2027a"])
    assert not verify(new.document, new.signature, keys["dev1"])
