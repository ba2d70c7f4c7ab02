"""The metrics benchmark at a tiny size: it loads, refreshes, times the API and the baseline,
and both give the same figures."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_benchmark_reports_its_figures_and_agrees_with_its_baseline() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark loads its ledger in PostgreSQL's SQL")
    out = io.StringIO()
    sizes = ["--entries=4000", "--members=400", "--days=40", "--calls=2", "--baseline-calls=1"]
    call_command("bench_metrics", "--child", *sizes, stdout=out)
    report = out.getvalue()
    for heading in ("1. Rollup refresh", "2. API from the rollups", "3. Baseline", "4. API /"):
        assert heading in report
    assert "figures, 90 days by day" in report
    assert "same members, coins and lift groups as the baseline: yes" in report
