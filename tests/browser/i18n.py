"""Checks of a page in a language, for every app's browser tests.

- ``assert_no_english(page, words)``: none of the English words the page uses in English is
  left in its visible text. Pass the words of that page (headings, labels, buttons, column
  names, messages): a word in the list is matched whole and in any case, so "Purpose" does not
  match "purposes" and "Log out" matches "LOG OUT".
- ``assert_japanese_renders(page)``: Japanese text on the page is drawn with real glyphs, not
  the empty boxes ("tofu") a browser draws when no installed font has the characters. A page
  can be perfectly translated and still unreadable on a machine without a Japanese font; the
  HTML says nothing about it, only the pixels do.

How the second works: it writes two different Japanese strings of the same length in the
page's own font, screenshots each, and requires the two images to differ (boxes look alike
whatever the characters), and to differ from a string of unassigned code points, which no font
can draw. It first checks that two different strings of unassigned code points do look alike
here, so that a browser which labels its boxes (with the code point in hex) cannot pass it.

    from tests.browser.i18n import assert_japanese_renders, assert_no_english
"""

import re
from collections.abc import Iterable

from playwright.sync_api import Page

# Equal in length; no character in common, so their glyphs cannot coincide.
JAPANESE_SAMPLES = ("会員同意", "撤回提供")
# Unassigned in Unicode (the Greek block's gaps): drawn as the font's missing-glyph box.
UNASSIGNED_SAMPLES = ("\u0378\u0379\u0380\u0381", "\u0381\u0380\u0379\u0378")

_SAMPLE_ID = "sanpo-i18n-sample"
_DRAW_SAMPLE = """([id, text]) => {
  const sample = document.createElement("div");
  sample.id = id;
  sample.lang = "ja";
  sample.textContent = text;
  const style = getComputedStyle(document.body);
  Object.assign(sample.style, {
    position: "fixed", top: "0", left: "0", zIndex: "2147483647", margin: "0",
    padding: "8px", width: "320px", height: "64px", overflow: "hidden", whiteSpace: "nowrap",
    fontFamily: style.fontFamily, fontSize: "40px", lineHeight: "48px",
    color: "#000", background: "#fff",
  });
  document.body.appendChild(sample);
}"""


def visible_text(page: Page) -> str:
    return page.inner_text("body")


def _whole(word: str) -> str:
    # Whole words: no ASCII letter or digit just before or after a word's letters and digits
    # (a Japanese character may touch it: 「CSVをダウンロード」 holds "CSV").
    before = r"(?<![A-Za-z0-9])" if word[:1].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if word[-1:].isalnum() else ""
    return before + re.escape(word) + after


def words_left(text: str, words: Iterable[str]) -> list[str]:
    """The words of ``words`` that ``text`` holds as whole words, in any case."""
    return sorted({word for word in words if re.search(_whole(word), text, flags=re.IGNORECASE)})


def assert_no_english(page: Page, words: Iterable[str]) -> None:
    words = list(words)
    assert words, "name the English words this page shows in English"
    left = words_left(visible_text(page), words)
    assert not left, f"{page.url}: English left on the page: {left}"


def _picture(page: Page, text: str) -> bytes:
    page.evaluate(_DRAW_SAMPLE, [_SAMPLE_ID, text])
    try:
        return page.locator(f"#{_SAMPLE_ID}").screenshot(animations="disabled", caret="hide")
    finally:
        page.evaluate("id => document.getElementById(id).remove()", _SAMPLE_ID)


def assert_japanese_renders(page: Page) -> None:
    tofu, other_tofu = (_picture(page, text) for text in UNASSIGNED_SAMPLES)
    assert tofu == other_tofu, (
        "this browser draws missing characters distinguishably (with their code points?), "
        "so boxes cannot be told from glyphs here"
    )
    first, second = (_picture(page, text) for text in JAPANESE_SAMPLES)
    assert first != second, (
        f"{page.url}: Japanese is drawn as boxes (tofu): no Japanese font is installed "
        "(apt-get install -y fonts-ipafont-gothic)"
    )
    assert first != tofu, f"{page.url}: Japanese is drawn like unassigned characters (tofu)"
