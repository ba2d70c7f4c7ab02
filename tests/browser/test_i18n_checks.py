"""The language checks of tests/browser/i18n.py, tried on pages whose answer is known: English
words found whole and in any case, and Japanese told from tofu, with a Japanese font and in a
browser that has none (fontconfig pointed at the Latin fonts only)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.i18n import assert_japanese_renders, assert_no_english, words_left

LATIN_FONTS = [
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
]
PAGE = (
    '<!doctype html><html lang="ja"><body style="font-family: sans-serif">'
    "<h1>会員の同意</h1><p>CSVをダウンロード · Log out</p></body></html>"
)


def test_english_words_are_found_whole_and_in_any_case() -> None:
    text = "利用目的: purposes · LOG OUT · CSVをダウンロード · Event #3"

    assert words_left(text, ["Purpose", "purposes", "Log out", "CSV", "Event #", "Kind"]) == [
        "CSV",
        "Event #",
        "Log out",
        "purposes",
    ]


def test_the_checks_pass_a_japanese_page_drawn_with_a_japanese_font(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content(PAGE)

    assert_japanese_renders(page)
    assert_no_english(page, ["Dashboard", "Member"])
    with pytest.raises(AssertionError, match="Log out"):
        assert_no_english(page, ["Log out", "Dashboard"])
    page.close()


@pytest.fixture
def browser_without_japanese_fonts(_playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    dirs = [path for path in LATIN_FONTS if path.is_dir()]
    if not dirs:
        pytest.skip("no Latin fonts to keep")
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        + "".join(f"<dir>{path}</dir>" for path in dirs)
        + f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    browser = _playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        env={**os.environ, "FONTCONFIG_FILE": str(config)},
    )
    yield browser
    browser.close()


def test_the_check_sees_tofu_where_no_japanese_font_is_installed(
    browser_without_japanese_fonts: Browser,
) -> None:
    page: Page = browser_without_japanese_fonts.new_page()
    page.set_content(PAGE)

    with pytest.raises(AssertionError, match="tofu"):
        assert_japanese_renders(page)
