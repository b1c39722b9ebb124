"""``python -m pricing``: refresh, check, show, history, set, import, parse -- the parser,
the dispatcher and the commands (design.md "Command-line contract").

Exit codes: 0 success; 1 a refresh with blocked/failed items, a check whose outcome is not
ok, or a page without a price; 2 usage errors (unknown item id — the message lists the valid
ids —, unreadable catalog, bad price, a URL whose host is not on the allowlist).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pricing import ALLOWLIST_ENV_VAR, CACHE_ENV_VAR, DB_ENV_VAR, default_db_path
from pricing.amounts import PriceInputError, parse_chf_input
from pricing.effective import effective_price, effective_prices
from pricing.fetch import Fetcher, URLNotAllowedError, check_url_allowed, url_allowlist
from pricing.history import HistoryError, PriceHistory
from pricing.pages import ParseError, parse_product_page
from pricing.refresh import check_url, format_chf, refresh
from pricing.saved import MAX_SAVED_PAGE_BYTES, ImportResult, SavedPage, import_saved_pages
from sizing.catalog import CatalogError, UnknownIdError, load_catalog

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main"]


class _Catalog(Protocol):
    def priced_items(self) -> Any: ...

    def item(self, id_: str) -> Any: ...


class CliError(Exception):
    """A usage error: printed as one line, exit status 2."""


def _load_catalog(path: str | None) -> _Catalog:
    """The catalog at ``path`` (default: the project's catalog.yaml)."""
    try:
        return load_catalog(path)
    except CatalogError as exc:
        raise CliError(str(exc).replace("\n", "; ")) from None


def _item(catalog: _Catalog, item_id: str) -> Any:
    try:
        return catalog.item(item_id)
    except UnknownIdError as exc:
        raise CliError(str(exc)) from None


def _history(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    """The price history named by ``--db`` (a bad file: one line, exit 2). ``read_only``
    for commands that only read: never creates the file, never waits for a write lock."""
    try:
        return PriceHistory(Path(args.db) if args.db else default_db_path(), read_only=read_only)
    except HistoryError as exc:
        raise CliError(str(exc)) from None


def _fetcher(args: argparse.Namespace, allowlist: tuple[str, ...] | None = None) -> Any:
    """The polite Fetcher configured by the command-line options (bad values: exit 2)."""
    try:
        return Fetcher(
            min_interval_s=args.min_interval_s,
            timeout_s=args.timeout_s,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            allowlist=allowlist,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` safe for a terminal: control characters (ESC sequences, C1, bidi overrides)
    from scraped pages become ``?``, line breaks a space."""
    return _CONTROL.sub("?", str(text).replace("\n", " ").replace("\t", " "))


class _TerminalSafe:
    """A text stream that passes everything through :func:`printable` except line breaks
    and tabs: nothing a scraped page says can move the cursor or recolour the terminal."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_CONTROL.sub("?", text))  # keeps \n and \t
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _dump(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# =========================================================================== commands
def _cmd_refresh(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args.catalog)
    items = [_item(catalog, i) for i in args.only] if args.only else list(catalog.priced_items())
    for item in items:
        if args.only and (item.price is None or not item.price.url):
            print(f"{item.id}: no price URL in the catalog; skipped")
    targets = [i for i in items if i.price is not None and i.price.url]
    if not targets:
        print("nothing to refresh: no selected item has a price URL")
        return 0
    history = _history(args)
    print(
        f"refreshing {len(targets)} item(s); at least {args.min_interval_s:g} s between "
        f"requests to one host; history: {history.db_path}",
        flush=True,
    )
    width = len(str(len(targets)))

    def progress(done: int, total: int, result: Any) -> None:
        print(f"[{done:>{width}}/{total}] {result.line()}", flush=True)

    with _fetcher(args) as fetcher:
        summary = refresh(targets, history=history, fetcher=fetcher, on_progress=progress)
    print(f"summary: {summary.describe()}")
    for line in summary.host_lines():
        print(line)
    return 0 if len(summary.ok) == len(summary.results) else 1


def _cmd_check(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args.catalog)
    item = _item(catalog, args.id)
    allowed = url_allowlist()
    try:
        check_url_allowed(args.url, allowlist=allowed)
    except URLNotAllowedError as exc:
        raise CliError(f"not fetched: {exc}") from None
    history = _history(args)
    with _fetcher(args, allowed) as fetcher:
        result = check_url(item, args.url, history=history, fetcher=fetcher, allowlist=allowed)
    print(result.line())
    if result.detail and result.ok:
        print(f"  {result.detail}")
    catalog_url = item.price.url if item.price is not None else None
    if result.ok and args.url.strip() != catalog_url:
        print(
            "recorded in the history; not the catalog URL, so the effective price is "
            f"unchanged (use it with `python -m pricing set {item.id} PRICE_CHF`)"
        )
    return 0 if result.ok else 1


def _cmd_show(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args.catalog)
    items = list(catalog.priced_items())
    prices = effective_prices(items, _history(args, read_only=True))
    if args.json:
        rows = []
        for item in items:
            p = prices.get(item.id)
            row: dict[str, Any] = {"item_id": item.id, "name": item.name}
            row.update(
                p.to_json()
                if p
                else {
                    "chf": None,
                    "rappen": None,
                    "as_of": None,
                    "kind": None,
                    "source": None,
                    "url": None,
                    "last_attempt_outcome": None,
                    "last_attempt_at": None,
                    "note": "",
                }
            )
            rows.append(row)
        _dump(rows)
        return 0
    table = [("item", "price", "kind", "as of", "last attempt", "source")]
    for item in items:
        p = prices.get(item.id)
        if p is None:
            table.append((item.id, "—", "—", "—", "—", "no price"))
            continue
        last = "never"
        if p.last_attempt_outcome and p.last_attempt_at:
            last = f"{p.last_attempt_outcome} {p.last_attempt_at:%Y-%m-%d %H:%M}"
        table.append(
            (item.id, format_chf(p.rappen), p.kind, p.as_of.isoformat(), last, p.source[:70])
        )
    widths = [max(len(r[c]) for r in table) for c in range(len(table[0]) - 1)]
    for r in table:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args.catalog)
    item = _item(catalog, args.id)
    history = _history(args, read_only=True)
    attempts = history.attempts(item.id)
    manual = history.manual_prices(item.id)
    effective = effective_price(item, history)
    if args.json:
        _dump(
            {
                "item_id": item.id,
                "attempts": [a.to_json() for a in attempts],
                "manual": [m.to_json() for m in manual],
                "effective": effective.to_json() if effective else None,
            }
        )
        return 0
    rows: list[tuple[Any, str]] = []
    for a in attempts:
        status = f"HTTP {a.http_status}" if a.http_status is not None else "no HTTP"
        text = (
            f"scrape  {a.outcome:<11} {format_chf(a.price_rappen):<15} "
            f"{a.method or '-':<9} {status:<8} {a.detail}"
        )
        rows.append((a.attempted_at, text))
    for m in manual:
        rows.append((m.set_at, f"manual  {'set':<11} {format_chf(m.price_rappen):<15} {m.note}"))
    if not rows:
        print(f"{item.id}: no history yet")
    for when, text in sorted(rows, key=lambda r: r[0]):
        print(f"{when:%Y-%m-%d %H:%M:%S} UTC  {text.rstrip()}")
    if effective:
        print(
            f"effective: {format_chf(effective.rappen)} ({effective.kind}, as of "
            f"{effective.as_of}, {effective.source})"
        )
    return 0


def _cmd_set(args: argparse.Namespace) -> int:
    try:
        rappen = parse_chf_input(args.price_chf)
    except PriceInputError as exc:
        raise CliError(f"invalid price {args.price_chf!r}: {exc}") from None
    catalog = _load_catalog(args.catalog)
    item = _item(catalog, args.id)
    manual = _history(args).set_manual(item.id, rappen, args.note)
    print(
        f"{item.id}: manual price {format_chf(manual.price_rappen)} set at "
        f"{manual.set_at:%Y-%m-%d %H:%M} UTC (wins until a newer good scrape)"
    )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args.catalog)
    pages: list[SavedPage] = []
    unreadable: list[ImportResult] = []
    for name in args.files:
        path = Path(name)
        try:
            size = path.stat().st_size
            if size > MAX_SAVED_PAGE_BYTES:
                unreadable.append(
                    ImportResult(
                        name,
                        "invalid",
                        f"{size:,} bytes; a saved product page is at most {MAX_SAVED_PAGE_BYTES:,}",
                    )
                )
                continue
            data = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as exc:
            unreadable.append(ImportResult(name, "invalid", f"cannot read: {exc.strerror or exc}"))
            continue
        saved_at = (
            datetime.combine(args.saved_on, time(12, 0), UTC)
            if args.saved_on is not None
            else mtime
        )
        pages.append(SavedPage(name, data, saved_at))
    results = unreadable
    if pages:
        history = _history(args)
        results = unreadable + import_saved_pages(pages, catalog.priced_items(), history=history)
    order = {name: i for i, name in enumerate(args.files)}
    results.sort(key=lambda r: order.get(r.name, 0))
    imported = sum(r.ok for r in results)
    print(f"imported {imported} of {len(results)} saved page(s)")
    for r in results:
        print(f"  {printable(r.line())}")
    if imported < len(results):
        print(
            "not imported pages stored nothing; save the item's own toppreise product page "
            "(File → Save page as) or set a manual price with `python -m pricing set ID "
            "PRICE_CHF`"
        )
    return 0 if imported == len(results) else 1


def _seconds(low: float, high: float) -> Any:
    """argparse type: a finite number of seconds in [low, high] (nan and inf refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not low <= value <= high:  # false for nan; inf is out of range
            raise argparse.ArgumentTypeError(f"{text!r} is not between {low:g} and {high:g} s")
        return value

    return parse


def _saved_on(text: str) -> Any:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if day > datetime.now(UTC).date():
        raise argparse.ArgumentTypeError(f"{day} is in the future")
    return day


def _cmd_parse(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        page = parse_product_page(data)
    except ParseError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        _dump(page.to_json())
        return 0

    def money(rappen: int | None, currency: str | None) -> str:
        text = format_chf(rappen)
        return text if currency in (None, "CHF") else text.replace("CHF", currency, 1)

    print(f"{page.name or '(no name)'}  [mpn {page.mpn or '-'}]")
    print(
        f"low {money(page.low_rappen, page.currency)}  "
        f"high {money(page.high_rappen, page.currency)}  currency {page.currency or '?'}  "
        f"offers {page.offer_count}  via {page.method}"
    )
    for o in page.offers:
        stock = {True: "in stock", False: "not available", None: "?"}[o.in_stock]
        print(
            f"  {o.shop or '?':<28} {money(o.price_rappen, o.currency):<15} "
            f"incl. shipping {money(o.shipping_price_rappen, o.currency):<15} {stock}"
        )
    for note in page.notes:
        print(f"note: {note}")
    return 0


# =========================================================================== parser
def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m pricing``."""
    parser = argparse.ArgumentParser(
        prog="python -m pricing",
        description="Live CHF prices for the planner's catalog (toppreise.ch), with history.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, catalog: bool = True) -> None:
        if catalog:
            p.add_argument(
                "--catalog",
                metavar="PATH",
                help="catalog YAML (default: the project's catalog.yaml)",
            )
        p.add_argument(
            "--db",
            metavar="PATH",
            help=f"price history SQLite file (default: ${DB_ENV_VAR} or {default_db_path()})",
        )

    def fetch_options(p: argparse.ArgumentParser) -> None:
        """The polite fetcher's knobs, shared by refresh and check."""
        p.add_argument(
            "--min-interval-s",
            type=_seconds(0.0, 3600.0),
            default=8.0,
            metavar="S",
            help="minimum seconds between requests to one host (±20%% jitter; default 8; 0-3600)",
        )
        p.add_argument(
            "--timeout-s",
            type=_seconds(0.1, 600.0),
            default=20.0,
            metavar="S",
            help="deadline per request: connect and the whole body (default 20; 0.1-600)",
        )
        p.add_argument(
            "--cache-dir",
            metavar="PATH",
            help=f"HTTP cache directory (default: ${CACHE_ENV_VAR} or the user cache dir)",
        )
        p.add_argument("--no-cache", action="store_true", help="bypass the 12 h HTTP cache")

    p = sub.add_parser("refresh", help="scrape current prices for catalog items with a URL")
    common(p)
    p.add_argument("--only", nargs="+", metavar="ID", help="refresh only these item ids")
    fetch_options(p)
    p.set_defaults(func=_cmd_refresh)

    p = sub.add_parser(
        "check",
        help="check one item's price on a product URL you name (host must be on the allowlist)",
        description="Fetch URL once (politely), validate it against item ID "
        "like refresh does, record the attempt and print the outcome. Only hosts "
        f"on ${ALLOWLIST_ENV_VAR} (comma-separated; default toppreise.ch, "
        "subdomains included) are fetched.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("url", metavar="URL", help="product page, e.g. https://www.toppreise.ch/...")
    common(p)
    fetch_options(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("show", help="effective price, source, date and last attempt per item")
    common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("history", help="every scrape attempt and manual price of one item")
    p.add_argument("id", metavar="ID")
    common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_history)

    p = sub.add_parser("set", help="record a manual price override (CHF)")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "price_chf",
        metavar="PRICE_CHF",
        help="positive CHF amount, at most 2 decimals, e.g. 2477 or 2'477.00",
    )
    p.add_argument("--note", default="", metavar="TEXT", help="where the price comes from")
    common(p)
    p.set_defaults(func=_cmd_set)

    p = sub.add_parser(
        "import",
        help='import product pages saved from your browser ("Save page as")',
        description="Each page is matched to its catalog item by toppreise product id "
        "(the -pNNNNNN of its canonical/og:url address) or part number, validated like a "
        "scrape (CHF, page identity, plausible price) and recorded with origin 'saved page' "
        "and the day it was saved. Pages that do not match or do not validate are listed "
        "with the reason; nothing is stored for them. Exit 1 when any page was not imported.",
    )
    p.add_argument("files", nargs="+", metavar="FILE.html", help="saved product page(s)")
    p.add_argument(
        "--saved-on",
        type=_saved_on,
        metavar="YYYY-MM-DD",
        help="the day the pages were saved (default: each file's modification time)",
    )
    common(p)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("parse", help="parse a saved product page (no network)")
    p.add_argument("file", metavar="FILE.html", help="HTML file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m pricing`` with `argv` (default: the process's); the exit status."""
    args = build_parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        return int(args.func(args))
    except (CliError, HistoryError) as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        err.close()
        return 0
    finally:
        sys.stdout, sys.stderr = out, err
