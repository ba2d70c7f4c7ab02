"""A statement as PDF: served to its company alone (like the CSV), drawn with a Japanese font
embedded (IPA Gothic where installed, else the built-in CID font), the same bytes each time,
and a page that renders to something other than a blank sheet."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from federation.settlement.models import SettlementPeriod, SettlementStatement
from federation.settlement.pdf import EMBEDDED, FALLBACK, statement_pdf
from federation.settlement.services import period_issue, period_lock, period_review_open
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner
from tests.federation.settlement_world import SYSTEM, Alliance, make_alliance, may_ledger, tokyo

pytestmark = pytest.mark.django_db
IPA_GOTHIC = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
needs_ipa = pytest.mark.skipif(not IPA_GOTHIC.is_file(), reason="fonts-ipafont-gothic missing")


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


@pytest.fixture
def may(alliance: Alliance) -> SettlementPeriod:
    may_ledger(alliance)
    period = alliance.period(date(2026, 5, 1), date(2026, 5, 31))
    return period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))


def _statement(period: SettlementPeriod, alliance: Alliance) -> SettlementStatement:
    return period.statements.select_related("partner", "period").get(partner=alliance.b)


def _pdf(key: Key, period: SettlementPeriod) -> Any:
    return client_for(key).get(f"/api/v1/settlement/periods/{period.pk}/statement.pdf")


def test_a_company_downloads_its_statement_as_pdf_and_nobody_else_does(
    alliance: Alliance, may: SettlementPeriod
) -> None:
    b_key = Key(alliance.b, issue_key(alliance.b).plaintext)
    response = _pdf(b_key, may)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="sanpo-settlement-20260501-st-b.pdf"'
    )
    assert response["Cache-Control"] == "no-store, private"
    assert response.content.startswith(b"%PDF-1.")
    assert response.content.rstrip().endswith(b"%%EOF")

    outsider = make_partner("st-pdf-outsider")
    assert _pdf(Key(outsider, issue_key(outsider).plaintext), may).status_code == 404
    draft = alliance.period(date(2026, 7, 1), date(2026, 7, 31))
    assert _pdf(b_key, draft).status_code == 404


@needs_ipa
@override_settings(SANPO_PDF_FONT=str(IPA_GOTHIC))
def test_ipa_gothic_is_embedded_and_the_bytes_never_change(
    alliance: Alliance, may: SettlementPeriod
) -> None:
    statement = _statement(may, alliance)
    pdf = statement_pdf(statement)
    assert b"+IPAGothic" in pdf  # the subset of the TrueType font, embedded
    assert b"/FontFile2" in pdf
    assert FALLBACK.encode() not in pdf
    assert statement_pdf(statement) == pdf


@override_settings(SANPO_PDF_FONT="/nonexistent/font.ttf")
def test_without_the_font_file_the_built_in_japanese_font_is_named(
    alliance: Alliance, may: SettlementPeriod
) -> None:
    pdf = statement_pdf(_statement(may, alliance))
    assert pdf.startswith(b"%PDF-1.")
    assert FALLBACK.encode() in pdf
    assert b"/FontFile2" not in pdf
    assert EMBEDDED.encode() not in pdf


def _gray_pixels(pdf: bytes, tmp_path: Path) -> tuple[int, int, bytes]:
    """The first page rendered by poppler at 40 dpi: width, height, 8-bit gray pixels."""
    source = tmp_path / "statement.pdf"
    source.write_bytes(pdf)
    pdftoppm = shutil.which("pdftoppm") or "pdftoppm"
    subprocess.run(  # noqa: S603 - poppler on our own file
        [pdftoppm, "-gray", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],
        check=True,
    )
    data = next(tmp_path.glob("page*.pgm")).read_bytes()
    magic, size, depth, pixels = data.split(b"\n", 3)
    width, height = (int(n) for n in size.split())
    assert (magic, depth) == (b"P5", b"255")
    return width, height, pixels[: width * height]


@needs_ipa
@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils missing")
@override_settings(SANPO_PDF_FONT=str(IPA_GOTHIC))
def test_the_page_renders_with_its_japanese_font(
    alliance: Alliance, may: SettlementPeriod, tmp_path: Path
) -> None:
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)
    pdf = statement_pdf(_statement(may, alliance))
    width, height, pixels = _gray_pixels(pdf, tmp_path)
    assert width > height  # landscape A4
    ink = sum(1 for value in pixels if value < 200)
    assert ink > width * height // 50  # text and ruled lines: not a blank page
    fonts = subprocess.run(  # noqa: S603 - poppler on our own file
        [shutil.which("pdffonts") or "pdffonts", str(tmp_path / "statement.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ipa = [row for row in fonts.splitlines() if "IPAGothic" in row]
    assert ipa
    assert all(" yes " in row for row in ipa)  # embedded, a subset


def test_the_period_page_links_each_statement_pdf(
    alliance: Alliance, may: SettlementPeriod, alliance_manager: User, compliance_reviewer: User
) -> None:
    statement = _statement(may, alliance)
    base = "/admin/federation/settlementperiod"
    manager = Client()
    manager.force_login(alliance_manager)
    page = manager.get(f"{base}/{may.pk}/change/").content.decode()
    assert f'href="statements/{statement.pk}.pdf"' in page
    response = manager.get(f"{base}/{may.pk}/statements/{statement.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.")
    assert manager.get(f"{base}/{may.pk}/statements/999999999.pdf").status_code == 404
    reviewer = Client()
    reviewer.force_login(compliance_reviewer)
    refused = reviewer.get(f"{base}/{may.pk}/statements/{statement.pk}.pdf")
    assert refused.status_code in (302, 403)  # the admin's login, as for every console page
    assert not refused.content.startswith(b"%PDF")
