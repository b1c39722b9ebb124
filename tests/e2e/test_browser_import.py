"""End to end: pages saved from a browser are dropped on the Prices page of the real app
(``streamlit run app.py``) in headless Chromium — the real toppreise page fixture (a GARMIN
watch: listed as matching no catalog item, nothing stored) and a GX10 product page (imported,
recorded as a saved page). Own server: this module writes a price database, which the shared
server of test_browser.py must never do."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from pricing.history import PriceHistory
from tests.e2e.test_browser import (  # noqa: F401  (fixtures: browser, page)
    ROOT,
    _free_port,
    _healthy,
    browser,
    no_exceptions,
    open_app,
    page,
    pytestmark,
    run_app_server,
    settle,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

DATA = ROOT / "tests" / "data" / "pricing"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``streamlit run app.py`` with a private price database; yields (base URL, db path)."""
    tmp = tmp_path_factory.mktemp("e2e-import")
    with run_app_server(tmp) as url:
        yield url, tmp / "prices.sqlite"


def test_saved_pages_dropped_on_the_prices_page(served: tuple[str, Path], page: Page) -> None:  # noqa: F811

    url, db = served
    open_app(page, f"{url}/prices")
    page.get_by_text("Import product pages saved from your browser").wait_for()
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.set_input_files(
        [
            str(DATA / "toppreise_real_product_p818374.html"),
            str(DATA / "toppreise_product_reconstructed.html"),
        ]
    )
    box = page.locator('[data-testid="stFileUploader"]')
    deadline = time.monotonic() + 60
    while box.inner_text().count(".html") < 2:  # both files listed (names shortened)
        assert time.monotonic() < deadline, box.inner_text()
        page.wait_for_timeout(200)
    page.get_by_role("button", name="Import pages").click()
    page.get_by_text("Imported 1 of 2 saved page(s).").wait_for()
    settle(page)
    no_exceptions(page)
    [attempt] = PriceHistory(db, read_only=True).attempts()
    assert (attempt.item_id, attempt.origin, attempt.price_rappen) == (
        "asus-gx10-1tb",
        "saved page",
        247_700,
    )
    assert attempt.url is not None
    assert attempt.url.endswith("-p824149")
    table = page.locator('[data-testid="stDataFrame"]').first
    text = table.locator("table").evaluate("t => t.textContent")
    assert "unmatched" in text
    assert "toppreise product p818374" in text
    assert "imported" in text
