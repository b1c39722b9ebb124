"""Refresh catalog prices (fetch → parse → validate → store).

Validation before a scraped price is accepted (design.md "Prices"; catalog_facts.md §1.2,
§1.9 "Validate identity"):

1. currency is CHF (a page that states none is accepted as CHF only on toppreise.ch, which
   lists CHF only);
2. page identity (:func:`check_identity`): when both the page (canonical / ``og:url``) and
   the catalog URL carry a toppreise product id (``-pNNNNNN``), they must be equal; and the
   page's MPN or product name contains the catalog part number (boundary-aware, ignoring
   case and ``-``/space/``.``/``/`` separators) — unless the page states no MPN at all and
   its product id is the catalog page's (the DGX Spark FE page's name carries no part
   number); neither known: accepted with a note;
3. the low price lies within a plausibility band of the reference price: the newest of the
   last good scrape (same URL) and the last manual override, ``band`` = ×0.5 … ×1.75; with
   neither, the catalog list price with the wider ``catalog_band`` ×0.33 … ×3 (list prices
   are months old and 2026 prices moved by +50-100 %). A jump outside the band is stored as
   ``suspect`` and not used until a later network fetch lands within ``confirm_tolerance``
   (10 %) of it, or a manual override sets a new reference.

Effective price of an item (``effective_prices``, in `pricing.effective`):
the newest of {latest good scrape from the item's current catalog URL, latest manual
override} — a tie goes to the manual override — else the catalog list price; always with
its date and source.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pricing.fetch import Fetcher, check_url_allowed, url_allowlist
from pricing.pages import (
    PARSER_VERSION,
    PageOffer,
    ParseError,
    parse_product_page,
    toppreise_product_id,
)
from sizing.money import chf_rappen

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pricing.fetch import FetchResult
    from pricing.history import Outcome, PriceHistory
    from sizing.catalog import Item

__all__ = [
    "CATALOG_BAND",
    "CONFIRM_TOLERANCE",
    "DEFAULT_BAND",
    "RefreshResult",
    "RefreshSummary",
    "blocked_next_step",
    "check_identity",
    "check_url",
    "format_chf",
    "part_number_matches",
    "refresh",
]

log = logging.getLogger(__name__)

DEFAULT_BAND: tuple[float, float] = (0.5, 1.75)
CATALOG_BAND: tuple[float, float] = (0.33, 3.0)
CONFIRM_TOLERANCE = 0.10
CHF_ONLY_HOSTS = ("toppreise.ch",)


def blocked_next_step(host: str = "toppreise.ch") -> str:
    """What to do when ``host`` serves its block page (one line; the tool never disguises
    itself as a browser to get around it)."""
    return (
        f"Next step: {host} turns tools away — open the product pages in your browser, "
        "save them (File → Save page as) and import them (python -m pricing import "
        "FILE.html …, or the Prices page), or set a price (python -m pricing set ID "
        "PRICE_CHF)"
    )


def format_chf(rappen: int | None) -> str:
    """``247700`` → ``"CHF 2'477.00"``; unknown → ``"—"`` (the pricing CLI's dash):
    `sizing.money.chf_rappen`, the one CHF formatter."""
    return chf_rappen(rappen, missing="—")


# =========================================================================== results
@dataclass(frozen=True)
class RefreshResult:
    """What happened to one item in a refresh (one history row: ``attempt_id``)."""

    item_id: str
    url: str
    outcome: Outcome
    price_rappen: int | None = None
    http_status: int | None = None
    method: str | None = None
    from_cache: bool = False
    detail: str = ""
    attempt_id: int | None = None
    unreachable: bool = False  # the host could not be reached (or an earlier item's)

    @property
    def price_chf(self) -> float | None:
        return None if self.price_rappen is None else self.price_rappen / 100

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def line(self) -> str:
        """One human-readable progress line."""
        price = format_chf(self.price_rappen) if self.price_rappen is not None else ""
        extra = ", ".join(x for x in (self.method, "cached" if self.from_cache else None) if x)
        text = f"{self.item_id}: {self.outcome}"
        if price:
            text += f" {price}"
        if extra:
            text += f" ({extra})"
        if self.detail and self.outcome != "ok":
            text += f" — {self.detail}"
        return text


@dataclass(frozen=True)
class RefreshSummary:
    """All results of one refresh, in catalog order, with UTC start/end times."""

    results: tuple[RefreshResult, ...]
    started_at: datetime
    finished_at: datetime

    @property
    def ok(self) -> list[RefreshResult]:
        return [r for r in self.results if r.outcome == "ok"]

    @property
    def blocked(self) -> list[RefreshResult]:
        return [r for r in self.results if r.outcome == "blocked"]

    @property
    def failed(self) -> list[RefreshResult]:
        """Neither ok nor blocked: not_found, parse_error, mismatch, suspect, error."""
        return [r for r in self.results if r.outcome not in ("ok", "blocked")]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        return counts

    def host_lines(self) -> list[str]:
        """One line per host that blocked us or could not be reached, with the next step."""
        by_host: dict[str, list[RefreshResult]] = {}
        for r in self.results:
            by_host.setdefault((urlsplit(r.url).hostname or "?").lower(), []).append(r)
        lines = []
        for host, results in by_host.items():
            blocked = [r for r in results if r.outcome == "blocked"]
            down = [r for r in results if r.outcome == "error" and r.unreachable]
            if blocked:
                lines.append(
                    f"{host}: blocked ({blocked[0].detail}); {len(blocked)} of "
                    f"{len(results)} item(s) without a new price. " + blocked_next_step(host)
                )
            elif down:
                why = down[-1].detail.split(" earlier in this run: ", 1)[-1]
                lines.append(
                    f"{host}: could not be reached ({why}); {len(down)} of "
                    f"{len(results)} item(s) not fetched, their prices unchanged. "
                    "Check the connection and refresh again, or import saved pages "
                    "(python -m pricing import FILE.html)"
                )
        return lines

    def describe(self) -> str:
        """``"3 items: ok 1 · blocked 1 · failed 1 (suspect 1)"``."""
        failed = self.failed
        kinds: dict[str, int] = {}
        for r in failed:
            kinds[r.outcome] = kinds.get(r.outcome, 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        text = (
            f"{len(self.results)} items: ok {len(self.ok)} · blocked {len(self.blocked)}"
            f" · failed {len(failed)}"
        )
        return text + (f" ({detail})" if detail else "")


# =========================================================================== validation
def part_number_matches(part_number: str, *texts: str | None) -> bool:
    """True when ``part_number`` occurs in one of ``texts`` as a whole token.

    Case and separators (space, ``-``, ``_``, ``.``, ``/``) are ignored, but the match must
    not continue with a letter or digit: ``90MS0371-M00030`` matches
    ``"ASUS Ascent (90MS0371-M00030)"`` and ``"90ms0371 m00030"``, not ``"90MS0371-M000300"``.
    """
    chunks = re.findall(r"[A-Za-z0-9]+", part_number)
    if not chunks:
        return False
    pattern = re.compile(
        r"(?<![A-Za-z0-9])" + r"[\s\-_./]*".join(map(re.escape, chunks)) + r"(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    return any(t and pattern.search(t) for t in texts)


def check_identity(item: Item, page: PageOffer, catalog_url: str | None) -> tuple[bool, str]:
    """(same product, note or reason): is ``page`` the catalog item's product?

    Product ids (``-pNNNNNN`` of the page's canonical/``og:url`` and of ``catalog_url``) must
    agree when both are known; the part number must occur in the page's MPN or name, except
    on the catalog's own product page when the page states no MPN."""
    item_pid = toppreise_product_id(catalog_url)
    page_pid = page.product_id
    if item_pid and page_pid and item_pid != page_pid:
        return False, (
            f"page is toppreise product p{page_pid}, the catalog's page for "
            f"{item.id} is p{item_pid}"
        )
    same_page = bool(item_pid and page_pid == item_pid)
    part_number = item.part_number
    if part_number:
        if part_number_matches(part_number, page.mpn, page.name):
            return True, ""
        if same_page and not page.mpn:
            return True, (
                f"page states no part number; identity by toppreise product id p{page_pid}"
            )
        return False, (
            f"page MPN {page.mpn!r} / name {page.name!r} does not match part number {part_number!r}"
        )
    if same_page:
        return True, f"catalog has no part number; identity by toppreise product id p{page_pid}"
    return True, "catalog has no part number; page identity not checked"


def _is_chf_only_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in CHF_ONLY_HOSTS)


@dataclass(frozen=True)
class _Reference:
    rappen: int
    label: str
    at: datetime | None
    as_of: date
    band: tuple[float, float]


def _reference(
    item: Item,
    history: PriceHistory,
    url: str | None,
    *,
    band: tuple[float, float],
    catalog_band: tuple[float, float],
) -> _Reference | None:
    good = history.latest_good(item.id, url=url, saved_pages=True)
    manual = history.latest_manual(item.id)
    refs: list[_Reference] = []
    if good is not None and good.price_rappen is not None:
        refs.append(
            _Reference(
                good.price_rappen,
                "last good scrape",
                good.price_as_of,
                good.price_as_of.date(),
                band,
            )
        )
    if manual is not None:
        refs.append(
            _Reference(
                manual.price_rappen, "manual override", manual.set_at, manual.set_at.date(), band
            )
        )
    if refs:
        return max(
            refs,
            key=lambda r: (r.at or datetime.min.replace(tzinfo=UTC), r.label == "manual override"),
        )
    if item.price is not None and item.price.rappen > 0:
        return _Reference(
            item.price.rappen, "catalog list price", None, item.price.date, catalog_band
        )
    return None


def _plausibility(
    item: Item,
    price_rappen: int,
    history: PriceHistory,
    url: str,
    *,
    band: tuple[float, float],
    catalog_band: tuple[float, float],
    confirm_tolerance: float,
    reference_url: str | None = None,
) -> tuple[bool, str]:
    """(plausible, note) for a new scraped price from ``url``; the last good scrape is
    looked up for ``reference_url`` (default ``url``), suspects to confirm for ``url``."""
    ref = _reference(item, history, reference_url or url, band=band, catalog_band=catalog_band)
    if ref is None or ref.rappen <= 0:
        return True, "no reference price to compare with"
    ratio = price_rappen / ref.rappen
    lo, hi = ref.band
    if lo <= ratio <= hi:
        return True, ""
    for s in history.suspects_since(item.id, ref.at, url=url):
        if s.price_rappen and (
            abs(price_rappen - s.price_rappen) <= confirm_tolerance * s.price_rappen
        ):
            return True, (
                f"confirms the suspect price {format_chf(s.price_rappen)} of "
                f"{s.attempted_at:%Y-%m-%d %H:%M} UTC (×{ratio:.2f} the {ref.label})"
            )
    return False, (
        f"{format_chf(price_rappen)} is ×{ratio:.2f} the {ref.label} "
        f"{format_chf(ref.rappen)} ({ref.as_of}); outside ×{lo:g}…×{hi:g}, kept out "
        "until a second fetch or a manual price confirms it"
    )


# =========================================================================== refresh
class _Recorder:
    """Writes one history row per item and builds its RefreshResult."""

    def __init__(self, history: PriceHistory, item: Item, url: str) -> None:
        self.history, self.item, self.url = history, item, url

    def __call__(
        self,
        outcome: Outcome,
        *,
        detail: str = "",
        page: PageOffer | None = None,
        currency: str | None = None,
        unreachable: bool = False,
        **fetch_fields: Any,
    ) -> RefreshResult:
        page_fields: dict[str, Any] = {}
        if page is not None:
            page_fields = {
                "price_rappen": page.low_rappen,
                "high_rappen": page.high_rappen,
                "currency": currency or page.currency,
                "offer_count": page.offer_count,
                "method": page.method,
                "parser_version": page.parser_version,
                "mpn": page.mpn,
                "page_name": page.name,
            }
        attempt = self.history.append_attempt(
            self.item.id,
            url=self.url,
            outcome=outcome,
            detail=detail,
            **page_fields,
            **fetch_fields,
        )
        return RefreshResult(
            item_id=self.item.id,
            url=self.url,
            outcome=outcome,
            price_rappen=page.low_rappen if page is not None else None,
            http_status=fetch_fields.get("http_status"),
            method=page.method if page is not None else None,
            from_cache=bool(fetch_fields.get("from_cache", False)),
            detail=detail,
            attempt_id=attempt.id,
            unreachable=unreachable,
        )


def _refresh_one(
    item: Item,
    url: str,
    *,
    history: PriceHistory,
    fetcher: Fetcher,
    blocked_hosts: dict[str, str],
    stop_host_on_block: bool,
    down_hosts: dict[str, str] | None = None,
    band: tuple[float, float],
    catalog_band: tuple[float, float],
    confirm_tolerance: float,
    allowlist: tuple[str, ...] | None = None,
    reference_url: str | None = None,
) -> RefreshResult:
    record = _Recorder(history, item, url)
    host = (urlsplit(url).hostname or "").lower()
    skipped = _skipped(record, host, blocked_hosts if stop_host_on_block else None, down_hosts)
    if skipped is not None:
        return skipped
    fetched = fetcher.fetch(url) if allowlist is None else fetcher.fetch(url, allowlist=allowlist)
    if fetched.unreachable and down_hosts is not None:
        down_hosts[host] = fetcher.unreachable_hosts().get(host, fetched.detail)
    common: dict[str, Any] = {
        "http_status": fetched.status,
        "from_cache": fetched.from_cache,
        "page_fetched_at": fetched.fetched_at,
        "parser_version": PARSER_VERSION,
    }
    if fetched.outcome != "ok":
        if fetched.outcome == "blocked":
            blocked_hosts[host] = fetched.detail
        return record(
            fetched.outcome, detail=fetched.detail, unreachable=fetched.unreachable, **common
        )
    del common["parser_version"]
    try:
        page = parse_product_page(fetched.content)
    except ParseError as exc:
        fetcher.forget(url)
        return record("parse_error", detail=str(exc), parser_version=PARSER_VERSION, **common)
    return _validated(
        record,
        item,
        url,
        page,
        fetched,
        common,
        fetcher=fetcher,
        history=history,
        band=band,
        catalog_band=catalog_band,
        confirm_tolerance=confirm_tolerance,
        reference_url=reference_url,
    )


def _skipped(
    record: _Recorder,
    host: str,
    blocked_hosts: dict[str, str] | None,
    down_hosts: dict[str, str] | None,
) -> RefreshResult | None:
    """The row of a URL not fetched: its host blocked or could not be reached earlier in
    this run (`blocked_hosts` None: keep trying blocked hosts); None to fetch it."""
    if blocked_hosts is not None and host in blocked_hosts:
        return record(
            "blocked",
            detail=(
                f"not fetched: {host} blocked an earlier request in this "
                f"run ({blocked_hosts[host]})"
            ),
        )
    if down_hosts is not None and host in down_hosts:
        return record(
            "error",
            unreachable=True,
            detail=(
                f"skipped: {host} could not be reached earlier in this run: {down_hosts[host]}"
            ),
        )
    return None


def _currency_or_chf_host(currency: str | None, url: str | None, notes: list[str]) -> str | None:
    """A page's currency; CHF for a page of a CHF-only host that states none (noted)."""
    if currency is None and url and _is_chf_only_host(url):
        notes.append("page states no currency; toppreise.ch lists CHF only")
        return "CHF"
    return currency


def _validated(
    record: _Recorder,
    item: Item,
    url: str,
    page: PageOffer,
    fetched: FetchResult,
    common: dict[str, Any],
    *,
    fetcher: Fetcher,
    history: PriceHistory,
    band: tuple[float, float],
    catalog_band: tuple[float, float],
    confirm_tolerance: float,
    reference_url: str | None,
) -> RefreshResult:
    """The row of a parsed page: a mismatch (currency, product), suspect (implausible jump;
    neither kept in the HTTP cache) or ok, with the notes on how it was checked."""
    notes: list[str] = list(page.notes)
    currency = _currency_or_chf_host(page.currency, fetched.final_url, notes)
    if currency != "CHF":
        fetcher.forget(url)
        stated = f"currency {currency}" if currency else "page states no currency"
        return record("mismatch", detail=f"{stated}, expected CHF", page=page, **common)
    same, identity_note = check_identity(
        item, page, item.price.url if item.price is not None and item.price.url else url
    )
    if not same:
        fetcher.forget(url)
        return record("mismatch", page=page, currency=currency, detail=identity_note, **common)
    if identity_note:
        notes.append(identity_note)
    plausible, note = _plausibility(
        item,
        page.low_rappen,
        history,
        url,
        band=band,
        catalog_band=catalog_band,
        confirm_tolerance=confirm_tolerance,
        reference_url=reference_url,
    )
    if not plausible:
        fetcher.forget(url)
        return record("suspect", page=page, currency=currency, detail=note, **common)
    if note:
        notes.insert(0, note)
    if fetched.from_cache:
        notes.append("from HTTP cache")
    return record("ok", page=page, currency=currency, detail="; ".join(notes), **common)


def refresh(
    items: Iterable[Item],
    *,
    history: PriceHistory,
    fetcher: Fetcher | None = None,
    on_progress: Callable[[int, int, RefreshResult], None] | None = None,
    band: tuple[float, float] = DEFAULT_BAND,
    catalog_band: tuple[float, float] = CATALOG_BAND,
    confirm_tolerance: float = CONFIRM_TOLERANCE,
    stop_host_on_block: bool = True,
) -> RefreshSummary:
    """Fetch, parse, validate and store the price of every item that has a ``price.url``.

    Each item gets exactly one history row. ``on_progress(done, total, result)`` is called
    after each item (exceptions from it are logged, not raised). Once a host answers with a
    block, its remaining items are not fetched in this run (``stop_host_on_block``) and are
    recorded as ``blocked``; once a host cannot be reached (DNS, refused, unreachable — never
    retried), its remaining items are recorded as ``error`` "not fetched: … could not be
    reached earlier in this run" without a request or a wait. Never raises for a single
    failing item; safe to run in a
    background thread (give each concurrent refresh its own ``fetcher``, or share one: it
    serialises requests). Without ``fetcher`` a default polite :class:`Fetcher` is used.
    """
    started = datetime.now(UTC)
    targets = [(i, i.price.url) for i in items if i.price is not None and i.price.url]
    own_fetcher = fetcher is None
    active = fetcher if fetcher is not None else Fetcher()
    blocked_hosts: dict[str, str] = {}
    down_hosts: dict[str, str] = {}
    results: list[RefreshResult] = []
    try:
        for done, (item, url) in enumerate(targets, 1):
            try:
                result = _refresh_one(
                    item,
                    url,
                    history=history,
                    fetcher=active,
                    blocked_hosts=blocked_hosts,
                    down_hosts=down_hosts,
                    stop_host_on_block=stop_host_on_block,
                    band=band,
                    catalog_band=catalog_band,
                    confirm_tolerance=confirm_tolerance,
                )
            except Exception as exc:  # one broken item must not stop the refresh
                log.exception("refreshing %s failed", item.id)
                result = _record_crash(history, item, url, exc)
            results.append(result)
            if on_progress is not None:
                try:
                    on_progress(done, len(targets), result)
                except Exception:
                    log.exception("on_progress callback failed")
    finally:
        if own_fetcher:
            active.close()
    return RefreshSummary(tuple(results), started, datetime.now(UTC))


def check_url(
    item: Item,
    url: str,
    *,
    history: PriceHistory,
    fetcher: Fetcher | None = None,
    allowlist: Iterable[str] | None = None,
    band: tuple[float, float] = DEFAULT_BAND,
    catalog_band: tuple[float, float] = CATALOG_BAND,
    confirm_tolerance: float = CONFIRM_TOLERANCE,
) -> RefreshResult:
    """Check the price of ``item`` on a product page a person named (app form, ``python -m
    pricing check``): fetch ``url`` once, validate exactly like :func:`refresh` and append
    the attempt to the history.

    The host of ``url`` and of every redirect must be on ``allowlist`` (default
    :func:`pricing.fetch.url_allowlist`: ``$LLM_PLANNER_URL_ALLOWLIST``, else toppreise.ch);
    otherwise :class:`~pricing.fetch.URLNotAllowedError` is raised and nothing is fetched or
    recorded. Validation: currency CHF, page MPN/name matches the part number, low price
    within the plausibility band of the item's current reference (last good scrape of its
    catalog URL, manual override, else the catalog list price). An ``ok`` price becomes the
    effective price only when ``url`` is the item's catalog URL; from any other page it is
    recorded for reference (set a manual price to use it). Without ``fetcher`` a default
    polite :class:`Fetcher` is used (robots.txt, User-Agent, per-host interval, cache).
    """
    allowed = url_allowlist() if allowlist is None else tuple(allowlist)
    url = url.strip() if isinstance(url, str) else url
    check_url_allowed(url, allowlist=allowed)
    catalog_url = item.price.url if item.price is not None else None
    active = fetcher if fetcher is not None else Fetcher(allowlist=allowed)
    try:
        return _refresh_one(
            item,
            url,
            history=history,
            fetcher=active,
            blocked_hosts={},
            stop_host_on_block=False,
            band=band,
            catalog_band=catalog_band,
            confirm_tolerance=confirm_tolerance,
            allowlist=allowed,
            reference_url=catalog_url or url,
        )
    finally:
        if fetcher is None:
            active.close()


def _record_crash(history: PriceHistory, item: Item, url: str, exc: Exception) -> RefreshResult:
    detail = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
    attempt_id = None
    try:
        attempt_id = history.append_attempt(
            item.id, url=url, outcome="error", detail=detail, parser_version=PARSER_VERSION
        ).id
    except Exception:
        log.exception("could not record the failure of %s", item.id)
        detail += " (not recorded: history unavailable)"
    return RefreshResult(
        item_id=item.id, url=url, outcome="error", detail=detail, attempt_id=attempt_id
    )
