"""The HTML report in a real browser (issue 24): Debian's Chromium, headless, driven by
Playwright, as in test_console_browser.py. At phone and desktop widths, in every
language: no sideways scrolling, no label cut off by its box (scrollWidth <= clientWidth)
or by the page's edge, every section there, and the Chinese labels drawn with a font that
has their glyphs (Chromium's own account of the fonts it used, not a guess).

Screenshots go to $GUESTSYNC_REPORT_SHOTS, or the test's tmp.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guestsync.actions import report, report_html
from guestsync.store import Store

from .browser import WIDTHS, chromium, needs_chromium, shots
from .report_fixtures import LONG_DISH, LONG_NAME, NOW, TZ, year_of_history

# Text a reader must see whole: cut off by the page's edge, or by a box that hides what
# overflows it; and any element wider than the page.
CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll(
      'h1, h2, p, th, td, .kpi, .kpi b, .kpi span, .bar-label, .bar-value, .legend span')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > innerWidth + 1 || r.left < -1 || el.scrollWidth > el.clientWidth + 1) {
      out.push(el.className + ' ' + el.tagName + ': ' + el.innerText.slice(0, 40));
    }
  }
  return out;
}"""

# Figures and dates broken over two lines ("TWD 14,40" / "0") read as other figures.
BROKEN = """() => [...document.querySelectorAll('td:not(:first-child), .bar-value, .kpi b')]
  .filter(el => { const r = document.createRange(); r.selectNodeContents(el);
                  return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1; })
  .map(el => el.innerText)"""

pytestmark = needs_chromium

SECTIONS = [
    "kpis",
    "segments",
    "new-guests",
    "spend",
    "vip",
    "at-risk",
    "no-shows-weekday",
    "no-shows-source",
    "top-dishes",
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The report of a year of history, one page per language."""
    folder = tmp_path_factory.mktemp("report")
    store = Store.open(folder / "hub.db")
    year_of_history(store)
    out = {}
    for lang in ("zh-TW", "zh-CN", "en"):
        rep = report.build(store, now=NOW, tz=TZ, lang=lang, currency="TWD")
        out[lang] = folder / f"report-{lang}.html"
        out[lang].write_text(report_html.html(rep), encoding="utf-8")
    store.close()
    return out


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _shots(tmp_path: Path) -> Path:
    return shots(tmp_path, "GUESTSYNC_REPORT_SHOTS")


def _fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium drew the element's text with, and how many glyphs each drew."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["zh-TW", "zh-CN", "en"])
def test_the_report_fits_the_screen_in_every_language(pages, browser, tmp_path, width, lang):
    page = browser.new_page(viewport={"width": WIDTHS[width], "height": 900})
    page.goto(pages[lang].as_uri())
    page.screenshot(path=str(_shots(tmp_path) / f"report-{width}-{lang}.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), (
        f"the report scrolls sideways at {WIDTHS[width]} px"
    )
    assert page.evaluate(CLIPPED) == [], f"{lang} at {WIDTHS[width]} px"
    assert page.evaluate(BROKEN) == [], f"{lang} at {WIDTHS[width]} px"
    found = page.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
    assert found == SECTIONS
    # the long labels are there whole, where they were once cut ("6 sold, 3 gue")
    text = page.inner_text("body")
    assert LONG_DISH in text and LONG_NAME in text
    bars = page.evaluate(
        "[...document.querySelectorAll('#segments .bar')].map(b => b.getBoundingClientRect().width)"
    )
    # drawn to scale, not blank: 6 regulars against 3 new guests
    assert len(bars) == 4 and min(bars) > 0 and max(bars) / min(bars) == pytest.approx(2, 0.02)


@pytest.mark.parametrize(
    ("lang", "heading", "weekday"),
    [
        ("zh-TW", "賓客分群", "週五"),
        ("zh-CN", "宾客分群", "周五"),
        ("en", "Guests by segment", "Fri"),
    ],
)
def test_the_labels_are_in_the_reports_language(pages, browser, lang, heading, weekday):
    page = browser.new_page(viewport={"width": WIDTHS["phone"], "height": 900})
    page.goto(pages[lang].as_uri())
    assert page.get_attribute("html", "lang") == lang
    assert page.inner_text("#segments h2") == heading
    assert weekday in page.inner_text("#no-shows-weekday")
    if lang != "en":  # drawn with a font holding the glyphs, not as empty boxes
        fonts = _fonts(page, "#segments h2")
        assert sum(f["glyphCount"] for f in fonts) == len(heading), fonts
        assert all(f["familyName"] and f["familyName"] != "LastResort" for f in fonts)


def test_series_keep_their_colours_from_one_report_to_the_next(pages, browser):
    def colours(lang: str) -> dict[str, str]:
        page = browser.new_page(viewport={"width": WIDTHS["desktop"], "height": 900})
        page.goto(pages[lang].as_uri())
        return dict(
            page.evaluate(
                "[...document.querySelectorAll('#segments .bar')]"
                ".map(b => [b.title.split(':')[1].trim(), getComputedStyle(b).backgroundColor])"
            )
        )

    en, zh = colours("en"), colours("zh-TW")
    # the same segments (by their counts here) in the same colours, whatever the language
    assert sorted(en.items()) == sorted(zh.items()) and len(set(en.values())) == 4
