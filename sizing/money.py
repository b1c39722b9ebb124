"""Prices as values: the one price type (`PriceQuote`), the catalog's list prices, how old
the prices of a configuration are (`price_age`), and the one CHF formatter (`chf`,
`chf_rappen`).

A `PriceQuote` is the price one item is costed at, with its date and provenance. The
price history (`pricing.effective.effective_prices`) and the catalog (`catalog_prices`)
both produce it; the bill of materials, both CLIs and the app read it. Amounts are
integer Rappen (1 CHF = 100 Rappen), as in the price history; `chf` gives francs.

This module imports only `sizing.catalog`, so `pricing` may import it (docs/design.md,
"Layers and who may import whom").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sizing.catalog import Catalog, Item

PriceKind = Literal["scraped", "manual", "catalog"]
DASH = "–"  # an unknown amount: never a made-up price


@dataclass(frozen=True, kw_only=True)
class PriceQuote:
    """The price the planner uses for one item, with its date and provenance.

    ``rappen``: CHF Rappen; ``as_of``: the date the price was seen, set or published;
    ``kind``: ``scraped`` (a toppreise.ch page), ``manual`` (an override) or ``catalog``
    (the list price in catalog.yaml); ``source``: URL (scraped), "manual override: <note>"
    or the catalog's source text; ``note``: e.g. the catalog's "CONVERTED, ASSUMPTION: …
    x 0.93 CHF/EUR …"; ``last_attempt_*``: the item's newest scrape attempt of any outcome
    (None when never scraped or not read from a price history).
    """

    rappen: int
    as_of: date
    kind: PriceKind
    source: str
    url: str | None = None
    note: str = field(default="", compare=False)
    item_id: str = ""
    last_attempt_outcome: str | None = None
    last_attempt_at: datetime | None = None

    @property
    def chf(self) -> float:
        """The amount in CHF."""
        return self.rappen / 100

    def age_days(self, today: date | None = None) -> int:
        """Whole days from ``as_of`` to ``today`` (default: today in UTC)."""
        return ((today or datetime.now(UTC).date()) - self.as_of).days

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings), amounts in both CHF and Rappen."""
        return {
            "item_id": self.item_id,
            "chf": self.chf,
            "rappen": self.rappen,
            "as_of": self.as_of.isoformat(),
            "kind": self.kind,
            "source": self.source,
            "url": self.url,
            "last_attempt_outcome": self.last_attempt_outcome,
            "last_attempt_at": None
            if self.last_attempt_at is None
            else self.last_attempt_at.isoformat(),
            "note": self.note,
        }


def catalog_quote(item: Item, **last_attempt: Any) -> PriceQuote | None:
    """The catalog list price of `item` as a quote (None when the catalog has none).
    `last_attempt`: ``last_attempt_outcome`` / ``last_attempt_at`` from a price history."""
    if item.price is None:
        return None
    return PriceQuote(
        rappen=item.price.rappen,
        as_of=item.price.date,
        kind="catalog",
        source=item.price.source,
        url=item.price.url,
        note=item.price.note or "",
        item_id=item.id,
        **last_attempt,
    )


def catalog_prices(catalog: Catalog) -> dict[str, PriceQuote]:
    """The catalog's dated list prices, by item id (items without a price are absent)."""
    out: dict[str, PriceQuote] = {}
    for item in catalog.priced_items():
        quote = catalog_quote(item)
        if quote is not None:
            out[item.id] = quote
    return out


@dataclass(frozen=True)
class PriceAge:
    """How old the oldest price of a configuration is, at the point of decision.

    ``price_age_days``: whole days from ``oldest_price_date`` to the day asked about;
    ``stale``: older than ``stale_days`` (catalog ``defaults.price_stale_days``, 30)."""

    oldest_price_date: date | None
    price_age_days: int | None
    stale_days: int

    @property
    def stale(self) -> bool:
        return self.price_age_days is not None and self.price_age_days > self.stale_days

    def note(self) -> str:
        """One line, e.g. "prices as of 2026-02-17 (288 days old) — older than 30 days:
        refresh or import saved pages (Prices page)"."""
        if self.oldest_price_date is None or self.price_age_days is None:
            return "no dated price in this configuration"
        days = self.price_age_days
        text = (
            f"prices as of {self.oldest_price_date.isoformat()} "
            f"({days} day{'' if days == 1 else 's'} old)"
        )
        if self.stale:
            text += (
                f" — older than {self.stale_days} days: refresh, import saved pages or "
                "set prices (Prices page)"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "oldest_price_date": None
            if self.oldest_price_date is None
            else self.oldest_price_date.isoformat(),
            "price_age_days": self.price_age_days,
        }


def price_age(dates: Iterable[date | None], *, today: date, stale_days: int) -> PriceAge:
    """The :class:`PriceAge` of the oldest of ``dates`` (Nones ignored) on ``today``."""
    known = [d for d in dates if d is not None]
    if not known:
        return PriceAge(None, None, stale_days)
    oldest = min(known)
    return PriceAge(oldest, (today - oldest).days, stale_days)


def chf(
    amount_chf: float | None, decimals: int | None = 0, *, unit: bool = True, missing: str = DASH
) -> str:
    """Swiss francs as text, apostrophe thousands separator: ``2477`` -> ``"CHF 2'477"``.

    ``decimals``: digits after the point (rounded); None: none for whole francs, else two
    (``"CHF 2'477.50"``). ``unit``: False leaves out ``"CHF "`` (a table cell under a CHF
    header, ``"2 x 2'477"``). None, NaN, an infinite amount or a non-number -> ``missing``.
    """
    if amount_chf is None:
        return missing
    try:
        number = float(amount_chf)
    except (TypeError, ValueError):
        return missing
    if not math.isfinite(number):
        return missing
    if decimals is None:
        decimals = 0 if abs(number - round(number)) < 0.005 else 2
    text = f"{number:,.{decimals}f}".replace(",", "'")
    if text == "-0":
        text = "0"
    return f"CHF {text}" if unit else text


def chf_rappen(rappen: int | None, *, missing: str = DASH) -> str:
    """Integer Rappen as CHF with two decimals: ``247700`` -> ``"CHF 2'477.00"``; None ->
    ``missing``."""
    return missing if rappen is None else chf(rappen / 100, 2)


__all__ = [
    "DASH",
    "PriceAge",
    "PriceKind",
    "PriceQuote",
    "catalog_prices",
    "catalog_quote",
    "chf",
    "chf_rappen",
    "price_age",
]
