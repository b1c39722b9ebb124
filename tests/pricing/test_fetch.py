"""Fetcher against a real HTTP server on 127.0.0.1 (no mocks of requests)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from pricing.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    URLNotAllowedError,
    check_url_allowed,
)
from tests.pricing.support import BLOCKED_HTML, PRODUCT_HTML, Reply, Server

MakeFetcher = Callable[..., Fetcher]


def test_ok_identifies_itself(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/p1", Reply(200, PRODUCT_HTML))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "ok"
    assert result.status == 200
    assert result.content == PRODUCT_HTML
    hit = next(h for h in server.hits if h.path == "/p1")
    assert hit.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("llm-hardware-planner/")
    assert hit.headers["Accept-Language"] == "de-CH,de;q=0.9,en;q=0.8"


def test_429_with_retry_after_then_200(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route(
        "/p", Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, PRODUCT_HTML)
    )
    t0 = time.monotonic()
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "ok"
    assert result.retries == 1
    assert time.monotonic() - t0 >= 0.9  # Retry-After honoured
    assert server.count("/p") == 2


def test_500_then_200(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/p", Reply(500, b"oops"), Reply(503, b"oops"), Reply(200, PRODUCT_HTML))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "ok"
    assert result.retries == 2
    assert server.count("/p") == 3


def test_persistent_500_gives_up_after_retries(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/p", Reply(500, b"oops"))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert result.status == 500
    assert server.count("/p") == 4  # 1 + Retry(total=3)
    assert "HTTP 500" in result.detail


def test_persistent_429_is_blocked(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/p", Reply(429, b"too many", {"Retry-After": "0"}))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "blocked"
    assert result.status == 429
    assert "429" in result.detail
    assert server.count("/p") == 4


def test_polite_defaults(tmp_path: object) -> None:
    with Fetcher(cache_dir=str(tmp_path)) as fetcher:
        assert (fetcher.min_interval_s, fetcher.jitter, fetcher.timeout_s) == (8.0, 0.2, 20.0)
        assert (fetcher.retries, fetcher.backoff_factor) == (3, 2.0)
        assert fetcher.max_body_bytes == 16 * 2**20
        # connection errors are never retried by urllib3 underneath
        retry = fetcher.session.get_adapter("https://www.toppreise.ch/").max_retries
        assert (retry.total, retry.connect, retry.read) == (0, None, False)
        assert fetcher.session.headers["User-Agent"] == DEFAULT_USER_AGENT
        assert fetcher.cache_ttl_s == 12 * 3600


def test_403_block_page_is_blocked_and_not_retried(
    server: Server, make_fetcher: MakeFetcher
) -> None:
    url = server.route("/p", Reply(403, BLOCKED_HTML))
    result = make_fetcher().fetch(url)
    assert result.outcome == "blocked"
    assert result.status == 403
    assert "massive, ongoing attacks" in result.detail
    assert server.count("/p") == 1


def test_block_page_with_200_is_blocked_and_not_cached(
    server: Server, make_fetcher: MakeFetcher
) -> None:
    url = server.route("/p", Reply(200, BLOCKED_HTML), Reply(200, PRODUCT_HTML))
    fetcher = make_fetcher()
    assert fetcher.fetch(url).outcome == "blocked"
    second = fetcher.fetch(url)
    assert second.outcome == "ok"
    assert not second.from_cache
    assert server.count("/p") == 2


def test_404_is_not_found_and_not_retried(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/gone", Reply(404, b"nope"))
    result = make_fetcher().fetch(url)
    assert result.outcome == "not_found"
    assert result.status == 404
    assert server.count("/gone") == 1


def test_slow_response_times_out(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/slow", Reply(200, PRODUCT_HTML, delay_s=1.5))
    t0 = time.monotonic()
    result = make_fetcher(timeout_s=0.2, retries=1, use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert "timed out" in result.detail
    assert time.monotonic() - t0 < 1.4


def test_connection_reset(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/reset", Reply(action="reset"))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert result.status is None
    assert "reset" in result.detail or "connection" in result.detail


def test_truncated_body(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/cut", Reply(200, PRODUCT_HTML[:5000], action="truncate"))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert "truncated" in result.detail


def test_cache_serves_repeat_fetches_without_waiting(
    server: Server, make_fetcher: MakeFetcher
) -> None:
    url = server.route("/p", Reply(200, PRODUCT_HTML))
    fetcher = make_fetcher()
    first = fetcher.fetch(url)
    fetcher.min_interval_s = 5.0
    t0 = time.monotonic()
    second = fetcher.fetch(url)
    assert time.monotonic() - t0 < 1.0  # a cache hit does not wait for the host's turn
    assert not first.from_cache
    assert second.from_cache
    assert second.content == PRODUCT_HTML
    assert second.fetched_at == first.fetched_at or second.fetched_at <= first.fetched_at
    assert server.count("/p") == 1
    fetcher.forget(url)
    server.route("/p", Reply(200, PRODUCT_HTML))
    fetcher.min_interval_s = 0.0
    assert not fetcher.fetch(url).from_cache
    assert server.count("/p") == 2


def test_errors_are_not_cached(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/p", Reply(404, b"no"), Reply(200, PRODUCT_HTML))
    fetcher = make_fetcher()
    assert fetcher.fetch(url).outcome == "not_found"
    assert fetcher.fetch(url).outcome == "ok"


def test_robots_disallow_is_obeyed(server: Server, make_fetcher: MakeFetcher) -> None:
    server.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n"))
    secret = server.route("/private/p", Reply(200, PRODUCT_HTML))
    public = server.route("/public/p", Reply(200, PRODUCT_HTML))
    fetcher = make_fetcher(use_cache=False)
    refused = fetcher.fetch(secret)
    assert refused.outcome == "error"
    assert "robots.txt" in refused.detail
    assert server.count("/private/p") == 0
    assert fetcher.fetch(public).outcome == "ok"
    assert server.count("/robots.txt") == 1  # read once per host


def test_robots_for_our_user_agent(server: Server, make_fetcher: MakeFetcher) -> None:
    server.route("/robots.txt", Reply(200, b"User-agent: llm-hardware-planner\nDisallow: /\n"))
    url = server.route("/p", Reply(200, PRODUCT_HTML))
    assert make_fetcher(use_cache=False).fetch(url).outcome == "error"
    assert server.count("/p") == 0


def test_robots_403_means_blocked(server: Server, make_fetcher: MakeFetcher) -> None:
    server.route("/robots.txt", Reply(403, BLOCKED_HTML))
    url = server.route("/p", Reply(200, PRODUCT_HTML))
    result = make_fetcher(use_cache=False).fetch(url)
    assert result.outcome == "blocked"
    assert server.count("/p") == 0


def test_min_interval_between_requests_to_one_host(
    server: Server, make_fetcher: MakeFetcher
) -> None:
    urls = [server.route(f"/p{i}", Reply(200, PRODUCT_HTML)) for i in range(3)]
    fetcher = make_fetcher(min_interval_s=0.3, jitter=0.2, use_cache=False)
    for url in urls:
        assert fetcher.fetch(url).outcome == "ok"
    times = server.times()  # robots.txt + 3 pages
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.3 * 0.8 - 0.02, gaps
    assert max(gaps) < 2.0, gaps


def test_ext_clickout_links_are_never_fetched(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/ext_de?pid=1&did=2&oid=3", Reply(200, PRODUCT_HTML))
    result = make_fetcher().fetch(url)
    assert result.outcome == "error"
    assert "/ext_" in result.detail
    assert server.count("/ext_de?pid=1&did=2&oid=3") == 0


def test_redirect_is_followed_and_checked(server: Server, make_fetcher: MakeFetcher) -> None:
    server.route("/new", Reply(200, PRODUCT_HTML))
    old = server.route("/old", Reply(301, b"", {"Location": "/new"}))
    result = make_fetcher().fetch(old)
    assert result.outcome == "ok"
    assert result.final_url.endswith("/new")
    evil = server.route("/evil", Reply(302, b"", {"Location": "https://evil.example/x"}))
    refused = make_fetcher(allowlist=["127.0.0.1"]).fetch(evil)
    assert refused.outcome == "error"
    assert "allowlist" in refused.detail


def test_allowlisted_fetcher_refuses_other_hosts(make_fetcher: MakeFetcher) -> None:
    fetcher = make_fetcher(allowlist=["toppreise.ch"])
    refused = fetcher.fetch("http://127.0.0.1:9/p")
    assert refused.outcome == "error"
    assert "not on the allowlist" in refused.detail


# --------------------------------------------------------------------------- allowlist
@pytest.mark.parametrize(
    "url",
    [
        "https://toppreise.ch/price-comparison/x-p1",
        "https://www.toppreise.ch/price-comparison/x-p1",
        "http://m.toppreise.ch/x",
        "https://WWW.TOPPREISE.CH./x",
        "https://www.toppreise.ch:443/x",
    ],
)
def test_allowlist_accepts(url: str) -> None:
    assert check_url_allowed(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://toppreise.ch.evil.com/x", "not on the allowlist"),
        ("https://eviltoppreise.ch/x", "not on the allowlist"),
        ("https://toppreise.ch@evil.com/x", "user info"),
        ("https://evil.com\\@toppreise.ch/x", "'\\\\'"),
        ("https://evil.com/?u=https://toppreise.ch/", "not on the allowlist"),
        ("ftp://toppreise.ch/x", "http"),
        ("javascript:alert(1)", "http"),
        ("file:///etc/passwd", "http"),
        ("https://www.toppreise.ch/ext_de?pid=1", "/ext_"),
        ("", "empty"),
        ("https:///x", "no host"),
        ("https://www.toppreise.ch:99999/x", "malformed"),
    ],
)
def test_allowlist_refuses(url: str, reason: str) -> None:
    with pytest.raises(URLNotAllowedError, match=reason):
        check_url_allowed(url)


def test_allowlist_is_configurable() -> None:
    assert check_url_allowed("https://www.digitec.ch/x", allowlist=["digitec.ch", "toppreise.ch"])
    with pytest.raises(URLNotAllowedError):
        check_url_allowed("https://www.toppreise.ch/x", allowlist=["digitec.ch"])
    with pytest.raises(URLNotAllowedError):
        check_url_allowed("https://www.toppreise.ch/x", allowlist=[])
