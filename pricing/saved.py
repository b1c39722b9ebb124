"""Import product pages saved from the user's own browser ("Save page as").

toppreise.ch answers clients that identify as tools with a block page, and the project never
disguises its client; a page the user saved while browsing is the honest route to today's
price. Each page is parsed like a scrape, matched to its catalog item by toppreise product id
(``-pNNNNNN`` of the canonical / ``og:url`` address, see :func:`pricing.pages.toppreise_product_id`)
or else by part number, validated exactly like a scrape (currency CHF, page identity,
plausibility band) and recorded with origin ``saved page`` and the day it was saved.
Unmatched or invalid pages are listed with a reason; nothing is stored for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pricing.pages import PageOffer, ParseError, parse_product_page, toppreise_product_id
from pricing.refresh import (
    CATALOG_BAND,
    CONFIRM_TOLERANCE,
    DEFAULT_BAND,
    _currency_or_chf_host,
    _plausibility,
    check_identity,
    format_chf,
    part_number_matches,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pricing.history import PriceHistory
    from sizing.catalog import Item

__all__ = ["MAX_SAVED_PAGE_BYTES", "ImportResult", "SavedPage", "import_saved_pages"]

MAX_SAVED_PAGE_BYTES = 20_000_000  # a real toppreise product page is ~0.6 MB
ImportOutcome = Literal["imported", "unmatched", "invalid"]


@dataclass(frozen=True)
class SavedPage:
    """One saved page: a display name (file name), its bytes and when it was saved (UTC)."""

    name: str
    content: bytes
    saved_at: datetime


@dataclass(frozen=True)
class ImportResult:
    """What happened to one saved page. ``attempt_id``: its history row (imported only)."""

    name: str
    outcome: ImportOutcome
    reason: str = ""
    item_id: str | None = None
    price_rappen: int | None = None
    saved_at: datetime | None = None
    attempt_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "imported"

    def line(self) -> str:
        """One human-readable line (the caller strips control characters for a terminal)."""
        if self.ok:
            when = f", saved {self.saved_at:%Y-%m-%d}" if self.saved_at else ""
            text = f"{self.name}: {self.item_id} {format_chf(self.price_rappen)} imported{when}"
            return text + (f" ({self.reason})" if self.reason else "")
        where = f" for {self.item_id}" if self.item_id else ""
        return f"{self.name}: not imported{where} ({self.outcome}) — {self.reason}"


def _match(page: PageOffer, items: list[Item]) -> tuple[Item | None, str]:
    """(item, how) by product id, else by part number; (None, reason) when none or several."""
    pid = page.product_id
    if pid:
        by_id = [
            i for i in items if i.price is not None and toppreise_product_id(i.price.url) == pid
        ]
        if len(by_id) == 1:
            return by_id[0], f"matched by toppreise product id p{pid}"
        if len(by_id) > 1:
            return None, (
                f"several catalog items use toppreise product p{pid} "
                f"({', '.join(i.id for i in by_id)}); fix the catalog"
            )
    by_part = [
        i
        for i in items
        if i.part_number and part_number_matches(i.part_number, page.mpn, page.name)
    ]
    if len(by_part) == 1:
        return by_part[0], f"matched by part number {by_part[0].part_number}"
    if len(by_part) > 1:
        return None, (
            f"the page matches the part numbers of several items "
            f"({', '.join(i.id for i in by_part)}); import it on its own item's "
            "page or set a manual price"
        )
    shown = [
        f"toppreise product p{pid}" if pid else "no toppreise product id",
        f"MPN {page.mpn!r}" if page.mpn else "no MPN",
    ]
    return None, (
        f"no catalog item matches this page ({', '.join(shown)}; name {(page.name or '')[:80]!r})"
    )


def import_saved_pages(
    pages: Iterable[SavedPage],
    items: Iterable[Item],
    *,
    history: PriceHistory,
    band: tuple[float, float] = DEFAULT_BAND,
    catalog_band: tuple[float, float] = CATALOG_BAND,
    confirm_tolerance: float = CONFIRM_TOLERANCE,
    now: datetime | None = None,
) -> list[ImportResult]:
    """Parse, match, validate and record each saved page; one result per page, in order.

    Only validated pages are stored (one ``ok`` attempt with origin ``saved page``, its URL
    the page's own address, its price date ``saved_at``); a page saved in the future,
    larger than :data:`MAX_SAVED_PAGE_BYTES`, unparseable, a block or listing page, in
    another currency, of another product or with an implausible jump is only reported.
    """
    catalog = [i for i in items]
    now = now or datetime.now(UTC)
    results: list[ImportResult] = []
    for saved in pages:
        results.append(
            _import_one(
                saved,
                catalog,
                history=history,
                band=band,
                catalog_band=catalog_band,
                confirm_tolerance=confirm_tolerance,
                now=now,
            )
        )
    return results


def _import_one(
    saved: SavedPage,
    items: list[Item],
    *,
    history: PriceHistory,
    band: tuple[float, float],
    catalog_band: tuple[float, float],
    confirm_tolerance: float,
    now: datetime,
) -> ImportResult:
    name = saved.name
    saved_at = saved.saved_at if saved.saved_at.tzinfo else saved.saved_at.replace(tzinfo=UTC)
    if len(saved.content) > MAX_SAVED_PAGE_BYTES:
        return ImportResult(
            name,
            "invalid",
            f"{len(saved.content):,} bytes; a saved product "
            f"page is at most {MAX_SAVED_PAGE_BYTES:,}",
        )
    if saved_at > now:
        return ImportResult(
            name, "invalid", f"saved {saved_at:%Y-%m-%d %H:%M} UTC, which is in the future"
        )
    try:
        page = parse_product_page(saved.content)
    except ParseError as exc:
        return ImportResult(name, "invalid", str(exc))
    item, how = _match(page, items)
    if item is None:
        return ImportResult(name, "unmatched", how)
    catalog_url = item.price.url if item.price is not None else None
    notes = [how]
    currency = _currency_or_chf_host(page.currency, page.url, notes)
    if currency != "CHF":
        stated = f"currency {currency}" if currency else "page states no currency"
        return ImportResult(name, "invalid", f"{stated}, expected CHF", item.id, page.low_rappen)
    same, note = check_identity(item, page, catalog_url)
    if not same:
        return ImportResult(name, "invalid", note, item.id, page.low_rappen)
    if note:
        notes.append(note)
    plausible, note = _plausibility(
        item,
        page.low_rappen,
        history,
        page.url or "",
        band=band,
        catalog_band=catalog_band,
        confirm_tolerance=confirm_tolerance,
        reference_url=catalog_url,
    )
    if not plausible:
        return ImportResult(
            name, "invalid", note + "; set a manual price if it is right", item.id, page.low_rappen
        )
    if note:
        notes.append(note)
    detail = f"saved page {name[:120]}; " + "; ".join(notes)
    attempt = history.append_attempt(
        item.id,
        url=page.url,
        outcome="ok",
        price_rappen=page.low_rappen,
        high_rappen=page.high_rappen,
        currency=currency,
        offer_count=page.offer_count,
        method=page.method,
        parser_version=page.parser_version,
        mpn=page.mpn,
        page_name=page.name,
        detail=detail,
        page_fetched_at=saved_at,
        origin="saved page",
    )
    return ImportResult(name, "imported", how, item.id, page.low_rappen, saved_at, attempt.id)
