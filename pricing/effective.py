"""Effective prices: which price the planner uses for each item, with its date and source.

The newest of {latest good scrape from the item's current catalog URL, latest manual
override} — a tie goes to the manual override — else the catalog list price.

Kept apart from `pricing.refresh` (fetch → parse → validate → store) so that reading
prices never imports the network and HTML stack (requests, BeautifulSoup): a command that
only estimates loads `pricing.history` and this module. `pricing.refresh` re-exports the
names below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pricing.history import Attempt, ManualPrice, PriceHistory
from sizing.catalog import Item

__all__ = ["EffectivePrice", "PriceKind", "effective_price", "effective_prices"]

PriceKind = Literal["scraped", "manual", "catalog"]


@dataclass(frozen=True)
class EffectivePrice:
    """The price the planner uses for one item, with its date and provenance.

    ``rappen``: CHF Rappen; ``as_of``: the UTC date the price was seen/set/published;
    ``kind``: ``scraped`` | ``manual`` | ``catalog``; ``source``: URL (scraped), "manual
    override: <note>" or the catalog's source text; ``last_attempt_*``: the newest scrape
    attempt of any outcome (None when never scraped).
    """

    item_id: str
    rappen: int
    as_of: date
    kind: PriceKind
    source: str
    url: str | None = None
    last_attempt_outcome: str | None = None
    last_attempt_at: datetime | None = None
    note: str = field(default="", compare=False)

    @property
    def chf(self) -> float:
        return self.rappen / 100

    def age_days(self, today: date | None = None) -> int:
        return ((today or datetime.now(UTC).date()) - self.as_of).days

    def to_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id, "chf": self.chf, "rappen": self.rappen,
            "as_of": self.as_of.isoformat(), "kind": self.kind, "source": self.source,
            "url": self.url, "last_attempt_outcome": self.last_attempt_outcome,
            "last_attempt_at": None if self.last_attempt_at is None
            else self.last_attempt_at.isoformat(),
            "note": self.note,
        }


def effective_price(item: Item, history: PriceHistory) -> EffectivePrice | None:
    """Effective price of one item (None when it has no scrape, override or list price)."""
    url = item.price.url if item.price is not None else None
    good: Attempt | None = history.latest_good(item.id, url=url, saved_pages=True)
    manual: ManualPrice | None = history.latest_manual(item.id)
    last = history.latest_attempt(item.id)
    last_fields: dict[str, Any] = {"last_attempt_outcome": last.outcome if last else None,
                                   "last_attempt_at": last.attempted_at if last else None}
    use_manual = manual is not None and (
        good is None or good.price_rappen is None or manual.set_at >= good.price_as_of)
    if manual is not None and use_manual:
        source = "manual override" + (f": {manual.note}" if manual.note else "")
        return EffectivePrice(item.id, manual.price_rappen, manual.set_at.date(), "manual",
                              source, None, note=manual.note, **last_fields)
    if good is not None and good.price_rappen is not None:
        source = good.url or ""
        if good.origin == "saved page":
            source = f"saved page: {good.url or 'no address on the page'}"
        return EffectivePrice(item.id, good.price_rappen, good.price_as_of.date(), "scraped",
                              source, good.url, note=good.detail, **last_fields)
    if item.price is not None:
        return EffectivePrice(item.id, item.price.rappen, item.price.date, "catalog",
                              item.price.source, item.price.url, note=item.price.note or "",
                              **last_fields)
    return None


def effective_prices(items: Iterable[Item], history: PriceHistory) -> dict[str, EffectivePrice]:
    """Effective price per item id (items without any price are left out).

    Precedence: the newest of {good scrape from the item's current ``price.url``, manual
    override} wins (a manual override set after the last good scrape beats it; a later good
    scrape beats an older override; ties go to the override); else the catalog list price.
    """
    out: dict[str, EffectivePrice] = {}
    for item in items:
        price = effective_price(item, history)
        if price is not None:
            out[item.id] = price
    return out
