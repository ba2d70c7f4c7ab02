"""Backup and restore (README, "Backup and restore"): the database dumped with ``pg_dump``,
restored into a fresh database with ``pg_restore``, and the project's own verifications run on
the restored copy: the coin ledger balances (``verify_coin_ledger``) and the consent hash
chains (``verify_consent_chains``) hold, and a copy with a broken chain is caught."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from federation.coins.services import coins_earn_for_purchase
from partners.actors import Actor
from partners.models import Partner
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]


def _url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def _run(*command: str, database: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if database is not None:
        env["DATABASE_URL"] = _url(database)
    return subprocess.run(  # noqa: S603 - our own tools, fixed arguments
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_dump_restored_into_a_fresh_database_verifies(
    host: Partner, partner: Partner, tmp_path: Path
) -> None:
    # A transactional test starts from a flushed database: the purposes' catalogue again.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    make_agreement(host, partner, terms=coin_terms(host, partner, coins_per_100_yen="1"))
    for n in range(3):
        member = make_member(host, f"K-{n}")
        grant_consent(member, partner, "coin_exchange")
        coins_earn_for_purchase(
            company=host,
            member=member,
            amount_yen=Decimal(1200),
            order_id=f"O-{n}",
            actor=Actor.system(),
        )
    db = connection.settings_dict
    dump = tmp_path / "sanpo.dump"
    dumped = _run(
        "pg_dump",
        "-Fc",
        "-h",
        db["HOST"],
        "-p",
        str(db["PORT"]),
        "-U",
        db["USER"],
        "-f",
        str(dump),
        db["NAME"],
    )
    assert dumped.returncode == 0, dumped.stderr
    copy = f"{db['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    base = ("-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"])
    assert _run("createdb", *base, copy).returncode == 0
    try:
        restored = _run("pg_restore", *base, "--no-owner", "-d", copy, str(dump))
        assert restored.returncode == 0, restored.stderr
        for check in ("verify_coin_ledger", "verify_consent_chains"):
            verified = _run(sys.executable, "manage.py", check, database=copy)
            assert verified.returncode == 0, (check, verified.stdout, verified.stderr)
        # A copy whose consent history was altered is caught by the same verification.
        tampered = _run(
            "psql",
            *base,
            "-d",
            copy,
            "-c",
            "UPDATE consent_consentevent SET channel = 'partner_app' "
            "WHERE id = (SELECT id FROM consent_consentevent ORDER BY recorded_at LIMIT 1)",
        )
        assert tampered.returncode == 0, tampered.stderr
        caught = _run(sys.executable, "manage.py", "verify_consent_chains", database=copy)
        assert caught.returncode != 0
    finally:
        _run("dropdb", *base, "--if-exists", copy)
