"""Fail fast: one deadline per request (connect + whole body), a body-size cap, no retry on
connection errors, an unreachable host remembered for the run (its other items skipped and
recorded), a block page answered with one line saying what to do instead. Real HTTP servers
on 127.0.0.1 and unresolvable ``.invalid`` hosts (RFC 2606) only: never the real network."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cli import prices as cli
from pricing.fetch import Fetcher
from pricing.history import PriceHistory
from pricing.refresh import refresh
from tests.pricing.support import BLOCKED_HTML, PRODUCT_HTML, Reply, Server, make_item

MakeFetcher = Callable[..., Fetcher]
ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://shop.example.invalid"  # never resolves (RFC 2606)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: connecting is refused


def test_slow_drip_body_is_cut_at_the_deadline(server: Server, make_fetcher: MakeFetcher) -> None:
    """Headers at once, then a byte every 50 ms: each read is quick, the whole is not."""
    url = server.route("/drip", Reply(200, PRODUCT_HTML[:400], action="drip", drip_s=0.05))
    t0 = time.monotonic()
    result = make_fetcher(timeout_s=0.6, use_cache=False).fetch(url)
    elapsed = time.monotonic() - t0
    assert result.outcome == "error"
    assert "timed out" in result.detail
    assert "connect + whole body" in result.detail
    assert 0.5 <= elapsed < 1.5  # 400 bytes would take 20 s
    assert not result.unreachable
    assert server.count("/drip") == 1


def test_server_that_never_answers_is_cut_at_the_deadline(
    server: Server, make_fetcher: MakeFetcher
) -> None:
    url = server.route("/hang", Reply(200, PRODUCT_HTML, delay_s=5.0))
    t0 = time.monotonic()
    result = make_fetcher(timeout_s=0.5, use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert "timed out" in result.detail
    assert time.monotonic() - t0 < 1.5
    assert server.count("/hang") == 1  # a timeout is not retried either


@pytest.mark.parametrize("action", ["normal", "nolength"])
def test_oversized_body_is_refused(server: Server, make_fetcher: MakeFetcher, action: str) -> None:
    """Declared (Content-Length) or not (read until the cap), nothing past the cap is kept."""
    body = b"<html>" + b"x" * 300_000
    url = server.route("/big", Reply(200, body, action=action))
    result = make_fetcher(max_body_bytes=100_000, use_cache=False).fetch(url)
    assert result.outcome == "error"
    assert "larger than" in result.detail
    assert result.content == b""


def test_page_at_the_cap_is_accepted(server: Server, make_fetcher: MakeFetcher) -> None:
    url = server.route("/fits", Reply(200, PRODUCT_HTML))
    result = make_fetcher(max_body_bytes=len(PRODUCT_HTML), use_cache=False).fetch(url)
    assert result.ok
    assert result.content == PRODUCT_HTML


def test_dns_failure_is_not_retried_and_remembered(make_fetcher: MakeFetcher) -> None:
    fetcher = make_fetcher(use_cache=False, retries=3, backoff_factor=1.0)
    t0 = time.monotonic()
    first = fetcher.fetch(f"{DEAD}/p1")
    assert first.outcome == "error"
    assert first.unreachable
    assert "DNS lookup failed" in first.detail
    second = fetcher.fetch(f"{DEAD}/p2")
    assert second.unreachable
    assert "could not be reached earlier" in second.detail
    assert time.monotonic() - t0 < 5.0  # no backoff (1 + 2 + 4 s) was waited
    assert fetcher.unreachable_hosts() == {
        "shop.example.invalid": first.detail.split("(", 1)[1].rsplit(")", 1)[0]
    }


def test_connection_refused_is_not_retried(make_fetcher: MakeFetcher) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/p"
    t0 = time.monotonic()
    result = make_fetcher(use_cache=False, obey_robots=False, retries=3, backoff_factor=1.0).fetch(
        url
    )
    assert result.outcome == "error"
    assert result.unreachable
    assert "refused" in result.detail
    assert time.monotonic() - t0 < 1.0


def test_refresh_skips_the_rest_of_an_unreachable_host(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    dead = [make_item(f"dead-{i}", url=f"{DEAD}/p{i}") for i in range(4)]
    alive = make_item("alive", url=server.route("/gx10", Reply(200, PRODUCT_HTML)))
    history.set_manual("dead-2", 250_000, "quote")
    summary = refresh(
        [dead[0], alive, *dead[1:]],
        history=history,
        fetcher=make_fetcher(min_interval_s=5.0, use_cache=False),
    )
    outcomes = {r.item_id: r for r in summary.results}
    assert outcomes["alive"].ok
    assert "DNS lookup failed" in outcomes["dead-0"].detail
    for i in (1, 2, 3):
        r = outcomes[f"dead-{i}"]
        assert r.outcome == "error"
        assert r.unreachable
        assert r.detail.startswith("skipped: shop.example.invalid could not be reached")
    assert len(history.attempts()) == 5  # one row per item
    assert history.latest_manual("dead-2").price_rappen == 250_000  # type: ignore[union-attr]
    [line] = summary.host_lines()
    assert line.startswith("shop.example.invalid: could not be reached (DNS lookup failed")
    assert "4 of 4 item(s) not fetched" in line


def test_block_page_gives_one_line_next_step(
    server: Server, make_fetcher: MakeFetcher, history: PriceHistory
) -> None:
    items = [
        make_item(f"i{i}", url=server.route(f"/p{i}", Reply(403, BLOCKED_HTML))) for i in range(3)
    ]
    summary = refresh(items, history=history, fetcher=make_fetcher(use_cache=False))
    assert [r.outcome for r in summary.results] == ["blocked"] * 3
    assert server.count("/p1") == server.count("/p2") == 0
    [line] = summary.host_lines()
    assert "\n" not in line
    assert "Next step:" in line
    assert "python -m pricing import" in line
    assert "python -m pricing set" in line


def test_offline_refresh_of_the_whole_catalog_is_quick(tmp_path: Path) -> None:
    """Every catalog URL on an unresolvable host, the real polite defaults (8 s interval,
    20 s deadline, 3 retries): done in well under 10 s, one clear line for the host."""
    text = (ROOT / "catalog.yaml").read_text(encoding="utf-8")
    assert text.count("https://www.toppreise.ch/") >= 10
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        text.replace("https://www.toppreise.ch/", "https://www.toppreise.invalid/"),
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "LLM_PLANNER_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    t0 = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pricing",
            "refresh",
            "--catalog",
            str(catalog),
            "--db",
            str(tmp_path / "p.sqlite"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 10.0, done.stdout
    assert done.returncode == 1
    assert done.stderr == ""
    host_lines = [ln for ln in done.stdout.splitlines() if ln.startswith("www.toppreise.invalid:")]
    assert len(host_lines) == 1
    assert "could not be reached" in host_lines[0]
    n = len(PriceHistory(tmp_path / "p.sqlite").attempts())
    assert f"{n} of {n} item(s) not fetched" in host_lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--timeout-s", "nan"],
        ["--timeout-s", "inf"],
        ["--min-interval-s", "nan"],
        ["--min-interval-s", "inf"],
        ["--min-interval-s", "-1"],
        ["--timeout-s", "0"],
    ],
)
def test_cli_refuses_nan_and_inf_seconds(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["refresh", "--db", str(tmp_path / "p.sqlite"), *argv])
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err
    assert not (tmp_path / "p.sqlite").exists()


@pytest.mark.parametrize(
    "name", ["timeout_s", "min_interval_s", "backoff_factor", "retry_after_max_s"]
)
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_fetcher_refuses_nan_and_inf(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        Fetcher(use_cache=False, **{name: value})
