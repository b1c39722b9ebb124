"""Checking a user-named product URL (``check_url``, ``python -m pricing check``), the
allowlist from ``$LLM_PLANNER_URL_ALLOWLIST``, the User-Agent URL from
``$LLM_PLANNER_USER_AGENT_URL`` and the per-host interval shared by all fetchers — against a
real HTTP server on 127.0.0.1."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import pricing.refresh
from cli import prices as cli
from pricing.effective import effective_price
from pricing.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    URLNotAllowedError,
    check_url_allowed,
    default_user_agent,
    url_allowlist,
)
from pricing.history import PriceHistory
from pricing.refresh import check_url
from tests.pricing.support import PRODUCT_HTML, FakeCatalog, Reply, Server, make_item, product_page

MakeFetcher = Callable[..., Fetcher]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server's host is on the allowlist (as a user would configure it)."""
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", "127.0.0.1")


# --------------------------------------------------------------------------- allowlist config
def test_allowlist_defaults_to_toppreise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_PLANNER_URL_ALLOWLIST", raising=False)
    assert url_allowlist() == ("toppreise.ch",)
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", " , ")
    assert url_allowlist() == ("toppreise.ch",)


def test_allowlist_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", " Digitec.CH, https://www.galaxus.ch/x ,,")
    assert url_allowlist() == ("digitec.ch", "www.galaxus.ch")
    assert check_url_allowed("https://shop.digitec.ch/p/1")  # subdomain
    assert check_url_allowed("https://www.galaxus.ch/p/1")
    with pytest.raises(URLNotAllowedError, match="LLM_PLANNER_URL_ALLOWLIST"):
        check_url_allowed("https://www.toppreise.ch/p/1")  # replaced, not added
    with pytest.raises(URLNotAllowedError, match="not on the allowlist"):
        check_url_allowed("https://digitec.ch.evil.com/p/1")


# --------------------------------------------------------------------------- check_url
@pytest.mark.usefixtures("local_allowed")
def test_check_an_allowed_url(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    catalog_url = "https://www.toppreise.ch/preisvergleich/gx10"
    item = make_item(url=catalog_url)
    url = server.route("/shop/gx10", Reply(200, product_page(low="2399.00")))
    result = check_url(item, url, history=history, fetcher=make_fetcher())
    assert result.ok
    assert result.price_rappen == 239_900
    assert result.method == "jsonld"
    assert server.count("/shop/gx10") == 1
    [attempt] = history.attempts(item.id)
    assert attempt.url == url
    assert attempt.outcome == "ok"
    assert attempt.price_rappen == 239_900
    # another page than the catalog's: recorded, but the effective price is unchanged
    assert effective_price(item, history).kind == "catalog"


@pytest.mark.usefixtures("local_allowed")
def test_check_of_the_catalog_url_sets_the_scraped_price(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    item = make_item(url=url)
    assert check_url(item, url, history=history, fetcher=make_fetcher()).ok
    price = effective_price(item, history)
    assert price.kind == "scraped"
    assert price.rappen == 247_700


def test_a_refused_host_is_never_fetched(
    server: Server,
    make_fetcher: MakeFetcher,
    history: PriceHistory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LLM_PLANNER_URL_ALLOWLIST", raising=False)  # toppreise.ch only
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    with pytest.raises(URLNotAllowedError, match=r"'127\.0\.0\.1' is not on the allowlist"):
        check_url(make_item(), url, history=history, fetcher=make_fetcher())
    assert server.hits == []  # not even robots.txt
    assert history.attempts() == []


@pytest.mark.usefixtures("local_allowed")
def test_a_redirect_off_the_allowlist_is_not_followed(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    elsewhere = server.base.replace("127.0.0.1", "localhost") + "/gx10"
    server.route("/gx10", Reply(200, PRODUCT_HTML))
    url = server.route("/go", Reply(302, b"", headers={"Location": elsewhere}))
    result = check_url(make_item(), url, history=history, fetcher=make_fetcher())
    assert result.outcome == "error"
    assert "'localhost' is not on the allowlist" in result.detail
    assert server.count("/gx10") == 0
    assert [a.outcome for a in history.attempts()] == ["error"]


@pytest.mark.usefixtures("local_allowed")
@pytest.mark.parametrize(
    ("page", "outcome", "detail"),
    [
        (product_page(currency="EUR"), "mismatch", "currency EUR, expected CHF"),
        (product_page(mpn="90MS0371-M99999"), "mismatch", "does not match part number"),
        (product_page(low="499.00", high="599.00"), "suspect", "catalog list price"),
        (b"<html><body>nothing here</body></html>", "parse_error", "no price found"),
    ],
)
def test_check_validates_like_refresh(
    server: Server,
    make_fetcher: MakeFetcher,
    history: PriceHistory,
    page: bytes,
    outcome: str,
    detail: str,
) -> None:
    url = server.route("/p", Reply(200, page))
    result = check_url(make_item(), url, history=history, fetcher=make_fetcher())
    assert result.outcome == outcome
    assert detail in result.detail
    assert [a.outcome for a in history.attempts()] == [outcome]


@pytest.mark.usefixtures("local_allowed")
def test_check_compares_with_the_items_current_price(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    """The band is taken around the item's last good scrape (from its catalog URL), so a
    pasted page at x0.6 of a fresh CHF 4'000 scrape is plausible, at x0.4 it is not."""
    catalog_url = server.route("/catalog", Reply(200, product_page(low="4000.00", high="4100.00")))
    item = make_item(url=catalog_url)
    assert check_url(item, catalog_url, history=history, fetcher=make_fetcher()).ok
    low = server.route("/low", Reply(200, product_page(low="1600.00")))
    assert check_url(item, low, history=history, fetcher=make_fetcher()).outcome == "suspect"
    fair = server.route("/fair", Reply(200, product_page(low="2400.00")))
    assert check_url(item, fair, history=history, fetcher=make_fetcher()).ok


@pytest.mark.usefixtures("local_allowed")
def test_check_without_a_fetcher_uses_the_polite_default(
    server: Server, history: PriceHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Fetcher] = []

    def default_but_quick(**kwargs: object) -> Fetcher:  # the 8 s interval made quick
        made.append(Fetcher(min_interval_s=0, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr(pricing.refresh, "Fetcher", default_but_quick)
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    assert check_url(make_item(), url, history=history).ok
    assert made[0].allowlist == ("127.0.0.1",)
    assert made[0].obey_robots
    page_hit = next(h for h in server.hits if h.path == "/gx10")
    assert page_hit.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert server.count("/robots.txt") == 1


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def fake_catalog(monkeypatch: pytest.MonkeyPatch) -> FakeCatalog:
    fake = FakeCatalog([make_item("gx10", url="https://www.toppreise.ch/preisvergleich/gx10")])
    monkeypatch.setattr(cli, "_load_catalog", lambda _path: fake)
    return fake


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("fake_catalog", "local_allowed")
def test_cli_check_allowed(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "p.sqlite")
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    code, out, _ = run(
        capsys,
        "check",
        "gx10",
        url,
        "--db",
        db,
        "--min-interval-s",
        "0",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 0
    assert out.startswith("gx10: ok CHF 2'477.00 (jsonld)")
    assert "effective price is unchanged" in out
    assert [a.url for a in PriceHistory(db).attempts("gx10")] == [url]


@pytest.mark.usefixtures("fake_catalog", "local_allowed")
def test_cli_check_not_ok_exits_1(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.route("/eur", Reply(200, product_page(currency="EUR")))
    code, out, _ = run(
        capsys,
        "check",
        "gx10",
        url,
        "--db",
        str(tmp_path / "p.sqlite"),
        "--min-interval-s",
        "0",
        "--no-cache",
    )
    assert code == 1
    assert "gx10: mismatch" in out
    assert "currency EUR" in out


@pytest.mark.usefixtures("fake_catalog")
def test_cli_check_refused_host_exits_2(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", "toppreise.ch,digitec.ch")
    db = tmp_path / "p.sqlite"
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    code, out, err = run(capsys, "check", "gx10", url, "--db", str(db))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "not fetched" in err
    assert "toppreise.ch, digitec.ch" in err
    assert server.hits == []
    assert not db.exists()


@pytest.mark.usefixtures("fake_catalog")
def test_cli_check_unknown_id_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "check", "nope", "https://www.toppreise.ch/x", "--db", str(tmp_path / "p.sqlite")
    )
    assert code == 2
    assert "unknown item 'nope'" in err


# --------------------------------------------------------------------------- User-Agent
def test_user_agent_names_the_tool_and_version_and_no_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LLM_PLANNER_USER_AGENT_URL", raising=False)
    version = re.search(
        r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
    ).group(1)  # type: ignore[union-attr]
    assert (
        default_user_agent()
        == DEFAULT_USER_AGENT
        == (f"llm-hardware-planner/{version} (price research, low volume)")
    )
    # never a browser's: no engine tokens a bot wall would take for a browser
    for token in ("Mozilla", "Chrome", "Safari", "Gecko", "http"):
        assert token not in DEFAULT_USER_AGENT


def test_user_agent_url_from_the_environment(
    server: Server, make_fetcher: MakeFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PLANNER_USER_AGENT_URL", "https://example.org/planner")
    url = server.route("/p", Reply(200, PRODUCT_HTML))
    assert make_fetcher(use_cache=False).fetch(url).ok
    expected = (
        "llm-hardware-planner/0.1.0 (price research, low volume; +https://example.org/planner)"
    )
    assert {h.headers["User-Agent"] for h in server.hits} == {expected}


@pytest.mark.parametrize(
    "bad", ["not a url", "ftp://x.org", "https://x.org/a b", "https://x.org/;)\r\nX-Evil: 1"]
)
def test_a_malformed_user_agent_url_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("LLM_PLANNER_USER_AGENT_URL", bad)
    with pytest.raises(ValueError, match="LLM_PLANNER_USER_AGENT_URL"):
        Fetcher(use_cache=False)


@pytest.mark.usefixtures("fake_catalog")
def test_cli_reports_a_malformed_user_agent_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PLANNER_USER_AGENT_URL", "nope")
    code, _, err = run(capsys, "refresh", "--db", str(tmp_path / "p.sqlite"))
    assert code == 2
    assert "LLM_PLANNER_USER_AGENT_URL" in err


# --------------------------------------------------------------------------- shared interval
def test_fetchers_share_the_per_host_interval(server: Server, make_fetcher: MakeFetcher) -> None:
    """A refresh and a URL check in one process take turns: two Fetchers keep the interval."""
    urls = [server.route(f"/p{i}", Reply(200, PRODUCT_HTML)) for i in range(2)]
    first = make_fetcher(min_interval_s=0.3, jitter=0.0, use_cache=False, obey_robots=False)
    second = make_fetcher(min_interval_s=0.3, jitter=0.0, use_cache=False, obey_robots=False)
    assert first.fetch(urls[0]).ok
    assert second.fetch(urls[1]).ok
    gaps = [b - a for a, b in itertools.pairwise(server.times())]
    assert len(gaps) == 1, gaps
    assert gaps[0] >= 0.3 - 0.02, gaps
