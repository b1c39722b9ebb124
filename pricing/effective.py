"""Effective prices: which price the planner uses for each item, with its date and source.

The newest of {latest good scrape from the item's current catalog URL, latest manual
override} — a tie goes to the manual override — else the catalog list price.

Kept apart from `pricing.refresh` (fetch → parse → validate → store) so that reading
prices never imports the network and HTML stack (requests, BeautifulSoup): a command that
only estimates loads `pricing.history` and this module. `pricing.refresh` re-exports the
names below. Both return `sizing.money.PriceQuote`, the one price type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sizing.money import PriceQuote, catalog_quote

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pricing.history import Attempt, ManualPrice, PriceHistory
    from sizing.catalog import Item

__all__ = ["effective_price", "effective_prices"]


def effective_price(item: Item, history: PriceHistory) -> PriceQuote | None:
    """Effective price of one item (None when it has no scrape, override or list price)."""
    url = item.price.url if item.price is not None else None
    good: Attempt | None = history.latest_good(item.id, url=url, saved_pages=True)
    manual: ManualPrice | None = history.latest_manual(item.id)
    last = history.latest_attempt(item.id)
    last_fields: dict[str, Any] = {
        "last_attempt_outcome": last.outcome if last else None,
        "last_attempt_at": last.attempted_at if last else None,
    }
    use_manual = manual is not None and (
        good is None or good.price_rappen is None or manual.set_at >= good.price_as_of
    )
    if manual is not None and use_manual:
        source = "manual override" + (f": {manual.note}" if manual.note else "")
        return PriceQuote(
            rappen=manual.price_rappen,
            as_of=manual.set_at.date(),
            kind="manual",
            source=source,
            note=manual.note,
            item_id=item.id,
            **last_fields,
        )
    if good is not None and good.price_rappen is not None:
        source = good.url or ""
        if good.origin == "saved page":
            source = f"saved page: {good.url or 'no address on the page'}"
        return PriceQuote(
            rappen=good.price_rappen,
            as_of=good.price_as_of.date(),
            kind="scraped",
            source=source,
            url=good.url,
            note=good.detail,
            item_id=item.id,
            **last_fields,
        )
    return catalog_quote(item, **last_fields)


def effective_prices(items: Iterable[Item], history: PriceHistory) -> dict[str, PriceQuote]:
    """Effective price per item id (items without any price are left out).

    Precedence: the newest of {good scrape from the item's current ``price.url``, manual
    override} wins (a manual override set after the last good scrape beats it; a later good
    scrape beats an older override; ties go to the override); else the catalog list price.
    """
    out: dict[str, PriceQuote] = {}
    for item in items:
        price = effective_price(item, history)
        if price is not None:
            out[item.id] = price
    return out
