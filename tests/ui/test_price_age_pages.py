"""Price age at the point of decision in the app: Compare's headline, Build's total and Plan's
recommendations say how old the oldest price is and warn past 30 days; a fresh manual price
for every part of the build clears the warning there."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from pricing.history import PriceHistory

if TYPE_CHECKING:
    from pathlib import Path

TODAY = datetime.now(UTC).date()


def age_warnings(at) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning if w.icon == "⏳"]


@pytest.mark.parametrize("page", ["compare", "build", "plan"])
def test_old_catalog_prices_are_flagged(app, page: str) -> None:
    at = app(page)
    assert not at.exception
    [text] = age_warnings(at)
    m = re.match(r"Prices as of (\d{4}-\d\d-\d\d) \((\d+) days old\) — older than 30 days", text)
    assert m, text
    oldest = datetime.fromisoformat(m.group(1)).date()
    assert int(m.group(2)) == (TODAY - oldest).days > 30


def test_compare_table_has_the_date_per_configuration(app) -> None:
    at = app("compare")
    frames = [df.value for df in at.dataframe if "Prices as of" in df.value.columns]
    assert frames
    assert frames[0]["Prices as of"].dropna().str.match(r"\d{4}-\d\d-\d\d$").all()


def test_fresh_prices_for_every_part_clear_the_warning(app, prices_db: Path) -> None:
    at = app("build")
    bom = next(df.value for df in at.dataframe if "Price date" in df.value.columns)
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    history = PriceHistory(prices_db)
    for item in bom["Item"]:
        history.set_manual(item, 10_000, "fresh quote")
    at = app("build")
    assert not at.exception
    assert age_warnings(at) == []
    assert any(f"Prices as of {TODAY.isoformat()} (0 days old)" in c.value for c in at.caption)
