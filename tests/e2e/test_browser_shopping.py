"""End to end (issue 15): the Build page of the real app in headless Chromium shows an
orderable bill of materials and the upgrade shopping list, and the Markdown export carries
both. Hand-computed at catalog prices: owning 4 x GX10 (+ CRS812 + 2 breakouts, CHF 11,174)
and going to 8 costs CHF 11,236 now, leaves the CRS812 unused, total spent CHF 22,410."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.e2e.test_browser import (  # noqa: F401  (fixtures: browser, page, server)
    browser,
    download,
    no_exceptions,
    open_app,
    page,
    pytestmark,
    select,
    server,
    settle,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_build_shopping_list_in_the_browser(server: str, page: Page) -> None:  # noqa: F811
    open_app(page, f"{server}/build?platform=asus-gx10-1tb&n=4")
    no_exceptions(page)
    page.get_by_text("Cheaper alternatives with a known problem").first.wait_for()
    select(page, "Shopping list for growing to", "8", "8 units")
    settle(page)
    no_exceptions(page)
    page.get_by_text("Buy now (4 → 8 units)").first.wait_for()
    metrics = dict(
        zip(
            page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
            page.locator('[data-testid="stMetricValue"]').all_inner_texts(),
            strict=True,
        )
    )
    assert metrics["Cost now"] == "CHF 11'236"
    assert metrics["Total spent"] == "CHF 22'410"
    page.get_by_text("Owned parts left unused by the new design").first.wait_for()
    md = download(page, "Download Markdown").decode()
    assert "## Shopping list 4 -> 8 units: owned parts left unused" in md
    unused = md.split("owned parts left unused", 1)[1].split("##", 1)[0]
    assert "mikrotik-crs812-ddq" in unused
    assert "- Total spent: CHF 22'410" in md
    assert "## Cheaper alternatives with a known problem (not in the total)" in md
    bom = md.split("## Bill of materials", 1)[1].split("##", 1)[0]
    assert "| MPN |" in bom
    assert "toppreise.ch product page" in bom
