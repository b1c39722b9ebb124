"""``python -m pricing``: refresh, show, history, set, parse (catalog loader replaced by a
fake built from Items, so the tests never read catalog.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pricing
from cli import prices as cli
from pricing.history import PriceHistory
from tests.pricing.support import (
    BLOCKED_HTML,
    DATA,
    PRODUCT_HTML,
    FakeCatalog,
    Reply,
    Server,
    make_item,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog(server: Server, monkeypatch: pytest.MonkeyPatch) -> FakeCatalog:
    items = [
        make_item("gx10", url=server.route("/gx10", Reply(200, PRODUCT_HTML))),
        make_item(
            "blocked-box", url=server.route("/blocked", Reply(403, BLOCKED_HTML)), part_number=None
        ),
        make_item("cable", part_number=None, chf=73.0),
        make_item("unpriced", priced=False),
    ]
    fake = FakeCatalog(items)
    monkeypatch.setattr(cli, "_load_catalog", lambda _path: fake)
    return fake


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_default_locations_follow_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PLANNER_PRICES_DB", str(tmp_path / "x.sqlite"))
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path / "c"))
    assert pricing.default_db_path() == tmp_path / "x.sqlite"
    assert pricing.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LLM_PLANNER_PRICES_DB")
    assert pricing.default_db_path().name == "prices.sqlite"
    assert "llm-hardware-planner" in str(pricing.default_db_path())


@pytest.mark.usefixtures("catalog")
def test_refresh_show_history_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "p.sqlite")
    code, out, _ = run(
        capsys,
        "refresh",
        "--db",
        db,
        "--min-interval-s",
        "0",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 1  # one item blocked
    assert "[1/2] gx10: ok CHF 2'477.00 (jsonld)" in out
    assert "[2/2] blocked-box: blocked" in out
    assert "summary: 2 items: ok 1 · blocked 1 · failed 0" in out
    assert "python -m pricing set" in out

    code, out, _ = run(capsys, "show", "--db", db, "--json")
    rows = {r["item_id"]: r for r in json.loads(out)}
    assert code == 0
    assert (rows["gx10"]["kind"], rows["gx10"]["rappen"]) == ("scraped", 247_700)
    assert rows["blocked-box"]["kind"] == "catalog"
    assert rows["blocked-box"]["last_attempt_outcome"] == "blocked"
    assert rows["cable"]["chf"] == 73.0
    assert rows["cable"]["last_attempt_outcome"] is None
    assert rows["unpriced"]["kind"] is None

    code, out, _ = run(
        capsys, "set", "blocked-box", "2'550.50", "--note", "phone quote", "--db", db
    )
    assert code == 0
    assert "CHF 2'550.50" in out
    code, out, _ = run(capsys, "show", "--db", db)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("blocked-box"))
    assert "CHF 2'550.50" in line
    assert "manual" in line
    assert "manual override: phone quote" in line

    code, out, _ = run(capsys, "history", "blocked-box", "--db", db, "--json")
    data = json.loads(out)
    assert [a["outcome"] for a in data["attempts"]] == ["blocked"]
    assert data["manual"][0]["price_rappen"] == 255_050
    assert data["effective"]["kind"] == "manual"
    code, out, _ = run(capsys, "history", "blocked-box", "--db", db)
    assert code == 0
    assert "blocked" in out
    assert "manual" in out
    assert "effective:" in out


@pytest.mark.usefixtures("catalog")
def test_refresh_only(tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "p.sqlite")
    code, out, _ = run(
        capsys,
        "refresh",
        "--only",
        "gx10",
        "cable",
        "--db",
        db,
        "--min-interval-s",
        "0",
        "--no-cache",
    )
    assert code == 0
    assert "cable: no price URL" in out
    assert "[1/1] gx10: ok" in out
    assert server.count("/blocked") == 0
    assert len(PriceHistory(db).attempts()) == 1


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    "args",
    [
        ("refresh", "--only", "nope"),
        ("history", "nope"),
        ("set", "nope", "12"),
    ],
)
def test_unknown_ids_exit_2_listing_valid_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, *args, "--db", str(tmp_path / "p.sqlite"))
    assert code == 2
    assert err.count("\n") == 1
    assert "unknown item 'nope'" in err
    assert "blocked-box, cable, gx10, unpriced" in err


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("price", ["abc", "0", "-"])
def test_set_refuses_bad_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], price: str
) -> None:
    code, _, err = run(capsys, "set", "gx10", price, "--db", str(tmp_path / "p.sqlite"))
    assert code == 2
    assert "invalid price" in err


def test_broken_catalog_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "show",
        "--catalog",
        str(tmp_path / "missing.yaml"),
        "--db",
        str(tmp_path / "p.sqlite"),
    )
    assert code == 2
    assert "missing.yaml" in err


def test_parse_json_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pricing",
            "parse",
            str(DATA / "toppreise_product_reconstructed.html"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["low"], data["high"], data["currency"], data["offer_count"], data["method"]) == (
        2477.0,
        2899.0,
        "CHF",
        3,
        "jsonld",
    )
    assert (data["low_rappen"], data["high_rappen"]) == (247_700, 289_900)
    assert data["mpn"] == "90MS0371-M00030"
    assert "GX10" in data["name"]
    assert data["offers"][1]["shop"] == "Example Shop B"
    assert data["offers"][1]["shipping_price_rappen"] == 253_890


def test_parse_human_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", str(DATA / "microdata_only.html"))
    assert code == 0
    assert "via microdata" in out
    assert "CHF 3'503.00" in out
    code, _, err = run(capsys, "parse", str(DATA / "toppreise_blocked_reconstructed.html"))
    assert code == 1
    assert "block" in err
    code, _, err = run(capsys, "parse", str(tmp_path / "nope.html"))
    assert code == 2
    assert "cannot read" in err
