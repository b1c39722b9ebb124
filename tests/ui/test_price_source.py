"""The app says which prices it uses, in the CLI's words: the effective prices of the
price history (as the CLI by default), or the catalog list prices when there is none."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pricing.history import PriceHistory

if TYPE_CHECKING:
    from pathlib import Path


def shown(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def notices(at) -> list[str]:
    return [shown(x.value) for x in [*at.caption, *at.warning]]


def test_without_history_the_page_says_catalog_prices(app) -> None:
    at = app(query={"units": "1", "alt": "0"})
    assert not at.exception, at.exception
    assert any(
        "Prices: catalog — catalog list prices (no price history at" in t for t in notices(at)
    ), notices(at)


def test_with_a_manual_price_the_page_says_effective(app, prices_db: Path) -> None:
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    PriceHistory(prices_db).set_manual("asus-gx10-1tb", 299_900, "shop quote")
    at = app(query={"platform": "asus-gx10-1tb", "units": "1", "alt": "0"})
    assert not at.exception, at.exception
    line = next((t for t in notices(at) if "Prices: effective" in t), None)
    assert line is not None, notices(at)
    assert f"price history {prices_db}: 0 scraped, 1 manual" in line
