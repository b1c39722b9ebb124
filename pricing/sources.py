"""Which prices a command or a page uses, and why: one answer for both CLIs and the app.

By default the effective prices of the price history (`pricing.effective.effective_prices`:
the newest scraped or manual price per item, the dated catalog list price for the rest);
a missing history, or one with no scraped or manual price yet, falls back to the catalog
list prices and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pricing.effective import effective_prices
from pricing.history import HistoryError, PriceHistory

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from sizing.catalog import Item
    from sizing.money import PriceQuote


@dataclass(frozen=True)
class PriceSource:
    """Which prices were used: ``kind`` "effective" (the price history's scraped and manual
    prices, catalog list prices for the rest — what the app shows) or "catalog" (the dated
    catalog list prices only), and why; ``db`` the history's path when one was looked at."""

    kind: str
    detail: str
    db: str | None = None

    def line(self, oldest_price_date: Any = None) -> str:
        """The text-output line: source, detail and the oldest price date used."""
        oldest = (
            f"; oldest price used {oldest_price_date}"
            if oldest_price_date not in (None, "") and oldest_price_date == oldest_price_date
            else ""
        )
        return f"prices: {self.kind} — {self.detail}{oldest}"

    def to_dict(self) -> dict[str, Any]:
        """JSON fields: ``price_source``, ``price_source_detail``, ``prices_db``."""
        return {"price_source": self.kind, "price_source_detail": self.detail, "prices_db": self.db}


CATALOG_ONLY = PriceSource("catalog", "catalog list prices (--prices catalog)")


def price_source(
    items: Iterable[Item], *, db: Path, strict: bool = False
) -> tuple[dict[str, PriceQuote] | None, PriceSource]:
    """(effective prices or None = catalog list prices, PriceSource) for `items` from the
    history at `db`, read-only (never creates the file, never waits for a refresh's write
    lock). An unusable database is a stated fallback, or with `strict` (a database the user
    named) raises `HistoryError`."""
    if not db.exists():
        return None, PriceSource(
            "catalog",
            f"catalog list prices (no price history at {db}; "
            "python -m pricing refresh, import or set prices to use "
            "current ones)",
            str(db),
        )
    try:
        prices = effective_prices(items, PriceHistory(db, read_only=True))
    except HistoryError as exc:
        if strict:
            raise
        reason = " ".join(str(exc).split())
        return None, PriceSource(
            "catalog", f"catalog list prices (the price history cannot be used: {reason})", str(db)
        )
    kinds = [p.kind for p in prices.values()]
    scraped, manual = kinds.count("scraped"), kinds.count("manual")
    if not scraped and not manual:
        return None, PriceSource(
            "catalog",
            f"catalog list prices (the price history {db} holds no scraped or manual price yet)",
            str(db),
        )
    return prices, PriceSource(
        "effective",
        f"price history {db}: {scraped} scraped, "
        f"{manual} manual; the other {len(kinds) - scraped - manual} "
        "priced items at catalog list prices (as in the app)",
        str(db),
    )
