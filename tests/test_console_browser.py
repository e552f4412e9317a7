"""The console in a real browser (issue 25): Debian's Chromium, headless, driven by
Playwright, against `guestsync serve`'s own app on 127.0.0.1 and a store of generated
duplicates. Logs in, decides review items with the keyboard shortcuts, checks the store,
and checks each page at phone and desktop widths: no sideways scrolling, no label cut off.

`make test` installs Debian's chromium when it is missing; never `playwright install`
(it downloads a browser). Screenshots go to $GUESTSYNC_CONSOLE_SHOTS, or the test's tmp.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guestsync.actions.guests import current_id
from guestsync.serve.service import Service
from guestsync.store import Store

from .browser import WIDTHS, chromium, needs_chromium, shots
from .console_fixtures import TOKEN, add_trouble, console_config, filled_store

# Elements whose text a person must read whole: cut off by the viewport's edge, or by
# their own box when that box hides what overflows.
CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll(
      'button, a, label, th, td, dt, dd, h1, h2, p, kbd, .count, input')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const style = getComputedStyle(el);
    const hides = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
    if (r.right > innerWidth + 1 || r.left < -1
        || (hides && el.tagName !== 'INPUT' && el.scrollWidth > el.clientWidth + 1)) {
      out.push(el.tagName + ': ' + (el.innerText || el.value || '').slice(0, 40));
    }
  }
  return out;
}"""

pytestmark = needs_chromium


@pytest.fixture
def served(tmp_path):
    config = console_config(tmp_path)
    store = filled_store(config)
    long_error = "400 VALIDATION_ERROR: Property values were not valid: " + "x" * 300
    add_trouble(store, error=long_error + ' {"status":"error","category":"VALIDATION_ERROR"}')
    store.close()
    service = Service(config, host="127.0.0.1", port=0, worker=False).start()
    yield service
    service.stop(timeout=5)


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def _shots(tmp_path: Path) -> Path:
    return shots(tmp_path, "GUESTSYNC_CONSOLE_SHOTS")


def _review_status(served: Service, item_id: int) -> str:
    store = Store.open(served.config.store_path)
    try:
        item = store.review(item_id)
        assert item is not None
        return item.status
    finally:
        store.close()


def _decidable(served: Service) -> list[int]:
    """Open items whose two guests are still two (the page's order: by id)."""
    store = Store.open(served.config.store_path)
    try:
        return sorted(
            i.id
            for i in store.reviews(limit=1000)
            if current_id(store, i.guest_id) != current_id(store, i.candidate)
        )
    finally:
        store.close()


def _login(page, url: str) -> None:
    page.goto(url + "/console/review")
    assert "/console/login" in page.url
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/review**")


def _current_item(page) -> int:
    return int(page.get_attribute("[data-review]", "data-review"))


def test_log_in_accept_and_reject_with_the_keyboard(served, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, served.url)
    first, second, *_ = _decidable(served)
    page.goto(f"{served.url}/console/review?after={first - 1}")
    assert _current_item(page) == first
    page.keyboard.press("s")  # skip: nothing recorded, the next item shows
    page.wait_for_load_state()
    assert _current_item(page) != first and _review_status(served, first) == "open"
    page.goto(f"{served.url}/console/review?after={first - 1}")
    page.keyboard.press("a")
    page.wait_for_selector(".flash.ok")
    assert _review_status(served, first) == "accepted"
    page.goto(f"{served.url}/console/review?after={second - 1}")
    page.keyboard.press("r")
    page.wait_for_selector(".flash.ok")
    assert _review_status(served, second) == "rejected"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_every_page_fits_the_screen(served, browser, tmp_path, width, lang):
    page = browser.new_page(viewport={"width": WIDTHS[width], "height": 900})
    _login(page, served.url)
    store = Store.open(served.config.store_path)
    try:
        guest = next(
            gid
            for gid, n in store.conn.execute(
                "SELECT guest_id, count(*) FROM guest_links GROUP BY guest_id ORDER BY 2 DESC"
            )
            if n > 1
        )
    finally:
        store.close()
    pages = {
        "login": "/console/login",
        "review": "/console/review",
        "pipeline": "/console/pipeline",
        "search": "/console/guests?q=陳",
        "guest": f"/console/guests/{guest}",
    }
    shots = _shots(tmp_path)
    for name, path in pages.items():
        sep = "&" if "?" in path else "?"
        page.goto(f"{served.url}{path}{sep}lang={lang}")
        page.screenshot(path=str(shots / f"{name}-{width}-{lang}.png"), full_page=True)
        fits = page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        assert fits, f"{name} scrolls sideways at {WIDTHS[width]} px"
        assert page.evaluate(CLIPPED) == [], f"{name} at {WIDTHS[width]} px"


def test_merge_unmerge_and_retry_the_dead_letters_in_the_browser(served, browser):
    """Issue 25: the guest page's "merge" and "take out", and the pipeline's "retry
    all", clicked as a person would, each checked in the store."""

    def look(fn):
        store = Store.open(served.config.store_path)
        try:
            return fn(store)
        finally:
            store.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, served.url)
    keep, other = look(lambda s: sorted(s.all_guest_ids())[:2])
    page.goto(f"{served.url}/console/guests/{keep}")
    page.fill("input[name=other]", other[:20])  # the start of its id, as a person copies it
    page.locator("form[action$='/merge'] button").click()
    page.wait_for_selector(".flash.ok")
    assert look(lambda s: s.merged_into(other)) == keep
    links = look(lambda s: len(s.links_of([keep])))
    page.locator("form[action$='/unmerge'] button").first.click()  # take one record out
    page.wait_for_selector(".flash.ok")
    assert look(lambda s: len(s.links_of([keep]))) < links
    page.goto(f"{served.url}/console/pipeline")
    page.click("#retry-all")
    page.wait_for_selector(".flash.ok")
    assert look(lambda s: s.dead_letter_details()) == []  # queued again for the CRM
