"""refresh() + effective_prices() against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from pricing.effective import effective_price, effective_prices
from pricing.fetch import Fetcher, FetchResult
from pricing.refresh import (
    RefreshResult,
    format_chf,
    part_number_matches,
    refresh,
)
from sizing.money import PriceQuote
from tests.pricing.support import (
    BLOCKED_HTML,
    DATA,
    PRODUCT_HTML,
    Reply,
    Server,
    make_item,
    product_page,
)

if TYPE_CHECKING:
    from pricing.history import PriceHistory

MakeFetcher = Callable[..., Fetcher]


def snapshot(items: list, history: PriceHistory) -> dict[str, tuple[int, str, date]]:
    return {k: (v.rappen, v.kind, v.as_of) for k, v in effective_prices(items, history).items()}


def test_ok_refresh_sets_the_scraped_price(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(url=server.route("/p", Reply(200, PRODUCT_HTML)), chf=2300.0)
    progress: list[tuple[int, int, RefreshResult]] = []
    summary = refresh(
        [item, make_item("no-url")],
        history=history,
        fetcher=make_fetcher(),
        on_progress=lambda d, t, r: progress.append((d, t, r)),
    )
    [result] = summary.results
    assert result.outcome == "ok"
    assert result.price_rappen == 247_700
    assert result.method == "jsonld"
    assert [(d, t) for d, t, _ in progress] == [(1, 1)]
    [row] = history.attempts(item.id)
    assert (
        row.outcome,
        row.http_status,
        row.price_rappen,
        row.high_rappen,
        row.currency,
        row.offer_count,
        row.method,
        row.mpn,
    ) == ("ok", 200, 247_700, 289_900, "CHF", 3, "jsonld", "90MS0371-M00030")
    assert row.parser_version
    price = effective_prices([item], history)[item.id]
    assert (price.kind, price.rappen, price.chf, price.url) == (
        "scraped",
        247_700,
        2477.0,
        item.price.url,
    )  # type: ignore
    assert price.as_of == datetime.now(UTC).date()
    assert price.source == item.price.url  # type: ignore
    assert price.last_attempt_outcome == "ok"
    assert summary.describe() == "1 items: ok 1 · blocked 0 · failed 0"


def test_wrong_currency_is_a_mismatch(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(
        url=server.route("/eur", Reply(200, (DATA / "wrong_currency.html").read_bytes()))
    )
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "mismatch"
    assert "EUR" in r.detail
    assert effective_prices([item], history)[item.id].kind == "catalog"


def test_unstated_currency_off_toppreise_is_a_mismatch(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    html = (
        b"<html><body><h1>Thing (90MS0371-M00030)</h1>"
        b"<div class='productPrice'><div class='Plugin_Price'>2'400.00</div></div>"
        b"</body></html>"
    )
    item = make_item(url=server.route("/nocur", Reply(200, html)))
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "mismatch"
    assert "no currency" in r.detail


def test_wrong_part_number_is_a_mismatch(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(url=server.route("/other", Reply(200, product_page(mpn="90MS0371-M000U0"))))
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "mismatch"
    assert "90MS0371-M00030" in r.detail
    assert history.attempts(item.id)[0].mpn == "90MS0371-M000U0"
    assert history.latest_good(item.id) is None


def test_item_without_part_number_is_accepted_with_a_note(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(url=server.route("/p", Reply(200, PRODUCT_HTML)), part_number=None)
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "ok"
    assert "not checked" in r.detail


def test_parse_error(server: Server, make_fetcher: MakeFetcher, history: PriceHistory) -> None:
    item = make_item(url=server.route("/empty", Reply(200, b"<html><body>nothing</body></html>")))
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "parse_error"
    assert history.attempts(item.id)[0].outcome == "parse_error"


def test_jump_is_suspect_until_a_second_fetch_confirms(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    url = server.route("/p", Reply(200, PRODUCT_HTML))
    item = make_item(url=url)
    fetcher = make_fetcher()
    assert refresh([item], history=history, fetcher=fetcher).results[0].outcome == "ok"
    fetcher.forget(url)
    server.route("/p", Reply(200, product_page(low="4999.00", high="5200.00")))
    [r1] = refresh([item], history=history, fetcher=fetcher).results
    assert r1.outcome == "suspect"
    assert "×2.02" in r1.detail
    assert effective_price(item, history).rappen == 247_700  # type: ignore[union-attr]
    assert server.count("/p") == 2
    [r2] = refresh([item], history=history, fetcher=fetcher).results  # suspect pages not cached
    assert server.count("/p") == 3
    assert r2.outcome == "ok"
    assert "confirms" in r2.detail
    assert effective_price(item, history).rappen == 499_900  # type: ignore[union-attr]


def test_a_different_second_jump_stays_suspect(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(
        url=server.route(
            "/p",
            Reply(200, product_page(low="4999.00", high="5000.00")),
            Reply(200, product_page(low="7999.00", high="8000.00")),
        )
    )
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="ok",  # type: ignore[union-attr]
        price_rappen=247_700,
    )
    fetcher = make_fetcher()
    assert refresh([item], history=history, fetcher=fetcher).results[0].outcome == "suspect"
    assert refresh([item], history=history, fetcher=fetcher).results[0].outcome == "suspect"
    assert effective_price(item, history).rappen == 247_700  # type: ignore[union-attr]


def test_manual_override_resets_the_reference(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(
        url=server.route("/p", Reply(200, product_page(low="4999.00", high="5200.00")))
    )
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="ok",  # type: ignore[union-attr]
        price_rappen=247_700,
        attempted_at=datetime.now(UTC) - timedelta(days=30),
    )
    history.set_manual(item.id, 480_000, "confirmed with a shop")
    assert effective_price(item, history).kind == "manual"  # type: ignore[union-attr]
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "ok"
    price = effective_price(item, history)
    assert price is not None
    assert (price.kind, price.rappen) == ("scraped", 499_900)


def test_first_scrape_is_checked_against_the_catalog_price(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    item = make_item(url=server.route("/p", Reply(200, PRODUCT_HTML)), chf=24.77)
    [r] = refresh([item], history=history, fetcher=make_fetcher()).results
    assert r.outcome == "suspect"
    assert "catalog list price" in r.detail


FAILURES = {
    "blocked": Reply(403, BLOCKED_HTML),
    "gone": Reply(404, b"no"),
    "broken": Reply(500, b"oops"),
    "reset": Reply(action="reset"),
    "slow": Reply(200, PRODUCT_HTML, delay_s=1.0),
    "cut": Reply(200, PRODUCT_HTML[:3000], action="truncate"),
    "garbage": Reply(200, b"\x00\x01 not html at all"),
}


def test_all_fetches_fail_prices_unchanged(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    items = [
        make_item(name, url=server.route(f"/{name}", reply), chf=1000.0 + i)
        for i, (name, reply) in enumerate(FAILURES.items())
    ]
    history.set_manual("gone", 123_400, "earlier quote")
    history.append_attempt(
        "broken",
        url=items[2].price.url,
        outcome="ok",  # type: ignore
        price_rappen=99_900,
    )
    before = snapshot(items, history)
    rows_before = len(history.attempts())
    summary = refresh(
        items,
        history=history,
        fetcher=make_fetcher(timeout_s=0.3, retries=1, use_cache=False),
        stop_host_on_block=False,
    )
    assert snapshot(items, history) == before
    assert len(history.attempts()) == rows_before + len(items)
    for item in items:
        assert history.latest_attempt(item.id).outcome != "ok"  # type: ignore[union-attr]
    outcomes = {r.item_id: r.outcome for r in summary.results}
    assert outcomes == {
        "blocked": "blocked",
        "gone": "not_found",
        "broken": "error",
        "reset": "error",
        "slow": "error",
        "cut": "error",
        "garbage": "parse_error",
    }
    assert not summary.ok
    assert len(summary.blocked) == 1
    assert len(summary.failed) == 6
    assert effective_prices(items, history)["gone"].kind == "manual"
    assert effective_prices(items, history)["broken"].kind == "scraped"


def test_a_block_stops_further_requests_to_that_host(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    items = [
        make_item(f"i{k}", url=server.route(f"/p{k}", Reply(403, BLOCKED_HTML))) for k in range(3)
    ]
    summary = refresh(items, history=history, fetcher=make_fetcher())
    assert [r.outcome for r in summary.results] == ["blocked"] * 3
    assert server.count("/p0") == 1
    assert server.count("/p1") == 0
    assert server.count("/p2") == 0
    assert "not fetched" in summary.results[1].detail
    assert len(history.attempts()) == 3


class ExplodingFetcher(Fetcher):
    def fetch(self, url: str) -> FetchResult:
        if url.endswith("/boom"):
            raise RuntimeError("kaboom")
        return super().fetch(url)


def test_one_broken_item_does_not_stop_the_refresh(server: Server, history: PriceHistory) -> None:
    ok_url = server.route("/p", Reply(200, PRODUCT_HTML))
    items = [make_item("a", url=server.base + "/boom"), make_item("b", url=ok_url)]
    calls: list[int] = []

    def bad_callback(done: int, _total: int, _result: RefreshResult) -> None:
        calls.append(done)
        raise ValueError("UI went away")

    with ExplodingFetcher(min_interval_s=0, use_cache=False) as fetcher:
        summary = refresh(items, history=history, fetcher=fetcher, on_progress=bad_callback)
    assert [r.outcome for r in summary.results] == ["error", "ok"]
    assert "kaboom" in summary.results[0].detail
    assert calls == [1, 2]
    assert history.latest_attempt("a").outcome == "error"  # type: ignore[union-attr]


def test_refresh_in_a_background_thread(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    items = [
        make_item(f"i{k}", url=server.route(f"/p{k}", Reply(200, PRODUCT_HTML))) for k in range(5)
    ]
    out: list[object] = []
    thread = threading.Thread(
        target=lambda: out.append(
            refresh(items, history=history, fetcher=make_fetcher(min_interval_s=0.05))
        )
    )
    thread.start()
    while thread.is_alive():
        effective_prices(items, history)  # the page reads while the refresh writes
    thread.join()
    assert len(effective_prices(items, history)) == 5
    assert all(p.kind == "scraped" for p in effective_prices(items, history).values())


# --------------------------------------------------------------------------- precedence
def test_effective_price_precedence(history: PriceHistory) -> None:
    item = make_item(url="https://www.toppreise.ch/p1", chf=2000.0)
    now = datetime.now(UTC)
    assert effective_price(item, history) == PriceQuote(
        item_id=item.id,
        rappen=200_000,
        as_of=date(2026, 2, 17),
        kind="catalog",
        source="test list price",
        url="https://www.toppreise.ch/p1",
    )
    history.append_attempt(
        item.id,
        url="https://www.toppreise.ch/OTHER",
        outcome="ok",
        price_rappen=1,
        attempted_at=now,
    )
    assert effective_price(item, history).kind == "catalog"  # type: ignore[union-attr]
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="ok",  # type: ignore
        price_rappen=210_000,
        attempted_at=now - timedelta(days=2),
    )
    assert effective_price(item, history).rappen == 210_000  # type: ignore[union-attr]
    history.set_manual(item.id, 220_000, "quote", at=now - timedelta(days=1))
    p = effective_price(item, history)
    assert p is not None
    assert (p.kind, p.rappen, p.source) == ("manual", 220_000, "manual override: quote")
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="ok",  # type: ignore
        price_rappen=230_000,
        attempted_at=now,
    )
    assert effective_price(item, history).rappen == 230_000  # type: ignore[union-attr]
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="blocked",  # type: ignore
        attempted_at=now + timedelta(minutes=1),
    )
    p = effective_price(item, history)
    assert p is not None
    assert p.rappen == 230_000
    assert p.last_attempt_outcome == "blocked"


def test_manual_wins_a_tie_and_items_without_price_are_left_out(history: PriceHistory) -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    item = make_item(url="https://www.toppreise.ch/p")
    history.append_attempt(
        item.id,
        url=item.price.url,
        outcome="ok",  # type: ignore
        price_rappen=1000,
        attempted_at=when,
    )
    history.set_manual(item.id, 2000, at=when)
    assert effective_price(item, history).kind == "manual"  # type: ignore[union-attr]
    bare = make_item("bare", priced=False)
    assert "bare" not in effective_prices([item, bare], history)
    history.set_manual("bare", 5000)
    assert effective_prices([bare], history)["bare"].kind == "manual"


def test_effective_price_json_and_age() -> None:
    p = PriceQuote(
        item_id="x", rappen=247_700, as_of=date(2026, 11, 1), kind="catalog", source="src"
    )
    assert p.chf == 2477.0
    assert p.age_days(date(2026, 11, 23)) == 22
    assert p.to_json()["as_of"] == "2026-11-01"


@pytest.mark.parametrize(
    ("texts", "ok"),
    [
        (("90MS0371-M00030",), True),
        (("ASUS Ascent GX10 (90MS0371-M00030)",), True),
        (("asus 90ms0371 m00030",), True),
        ((None, "90MS0371M00030"), True),
        (("90MS0371-M000300",), False),
        (("X90MS0371-M00030",), False),
        (("90MS0371-M000U0",), False),
        ((None, None), False),
    ],
)
def test_part_number_matching(texts: tuple, ok: bool) -> None:
    assert part_number_matches("90MS0371-M00030", *texts) is ok


def test_format_chf() -> None:
    assert format_chf(247_700) == "CHF 2'477.00"
    assert format_chf(5) == "CHF 0.05"
    assert format_chf(123_456_789) == "CHF 1'234'567.89"
    assert format_chf(None) == "—"
