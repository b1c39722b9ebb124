"""The CLI prices with the same effective prices as the app by default (price history:
scraped and manual prices, catalog list prices for the rest) and says which; ``--prices
catalog`` uses the catalog list prices only; a missing or empty history falls back to the
catalog and says so. Real SQLite databases in a temp dir (``pricing.history``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cli.sizing_main import main
from pricing.history import PriceHistory

TODAY = datetime.now(UTC).date()
GX10_LIST_CHF = 2477  # catalog.yaml: asus-gx10-1tb list price, 2026-02-17
DAC_LIST = date(2026, 2, 15)  # catalog.yaml: dac-qsfp56-200g-0m5 list price date
DAC_CHF = 73  # catalog.yaml: EUR 79 x 0.93, rounded
BOM = ["bom", "--platform", "asus-gx10-1tb", "--units", "2"]
REQ = str(Path(__file__).resolve().parents[1] / "data" / "requirements" / "guide_buyer.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default price history (LLM_PLANNER_PRICES_DB) holding one manual GX10 price."""
    path = tmp_path / "prices.sqlite"
    PriceHistory(path).set_manual("asus-gx10-1tb", 299_900, "shop quote today")
    monkeypatch.setenv("LLM_PLANNER_PRICES_DB", str(path))
    return path


def source_line(out: str) -> str:
    lines = [ln for ln in out.splitlines() if ln.startswith("prices: ")]
    assert len(lines) == 1, out
    return lines[0]


def test_bom_uses_the_history_by_default_and_says_so(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *BOM, "--json")
    d = json.loads(out)
    assert code == 0
    assert err == ""
    assert d["total_chf"] == 2 * 2999 + DAC_CHF  # the manual price, no flag
    assert d["price_source"] == "effective"
    assert d["prices_db"] == str(db)
    assert "1 manual" in d["price_source_detail"]
    assert "0 scraped" in d["price_source_detail"]
    assert d["oldest_price_date"] == DAC_LIST.isoformat()  # the DAC is still a list price
    code, out, _ = run(capsys, *BOM)
    line = source_line(out)
    assert line.startswith(f"prices: effective — price history {db}: 0 scraped, 1 manual")
    assert line.endswith(f"oldest price used {DAC_LIST.isoformat()}")
    # the price-age line stays the last line
    assert out.rstrip().splitlines()[-1].startswith("WARNING: prices as of")


@pytest.mark.usefixtures("db")
def test_prices_catalog_ignores_the_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *BOM, "--json", "--prices", "catalog")
    d = json.loads(out)
    assert code == 0
    assert d["total_chf"] == 2 * GX10_LIST_CHF + DAC_CHF
    assert d["price_source"] == "catalog"
    assert d["prices_db"] is None
    code, out, _ = run(capsys, *BOM, "--prices", "catalog")
    assert source_line(out).startswith("prices: catalog — catalog list prices (--prices catalog)")


def test_missing_and_empty_history_fall_back_and_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.sqlite"
    code, out, _ = run(capsys, *BOM, "--json", "--prices-db", str(missing))
    d = json.loads(out)
    assert code == 0
    assert d["total_chf"] == 2 * GX10_LIST_CHF + DAC_CHF
    assert d["price_source"] == "catalog"
    assert f"no price history at {missing}" in d["price_source_detail"]
    assert not missing.exists()  # read-only: never created
    empty = tmp_path / "empty.sqlite"
    PriceHistory(empty)  # schema, no price yet
    code, out, _ = run(capsys, *BOM, "--prices-db", str(empty))
    assert code == 0
    assert "holds no scraped or manual price" in source_line(out)
    assert source_line(out).startswith("prices: catalog — ")


def test_a_named_unusable_database_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    code, out, err = run(capsys, *BOM, "--prices-db", str(bad))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "bad.sqlite" in err


@pytest.mark.usefixtures("db")
def test_estimate_compare_and_plan_state_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    est = [
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
    ]
    code, out, _ = run(capsys, *est, "--json")
    d = json.loads(out)
    assert code == 0
    assert d["price_chf"] == 2999
    assert d["price_source"] == "effective"
    code, out, _ = run(capsys, *est)
    assert "1 manual" in source_line(out)
    code, out, _ = run(
        capsys,
        "compare",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--platforms",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--format",
        "json",
    )
    row = json.loads(out)[0]
    assert row["price_chf"] == 2999
    assert row["price_source"] == "effective"
    code, out, _ = run(
        capsys,
        "compare",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--platforms",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--prices",
        "catalog",
    )
    assert source_line(out).startswith("prices: catalog")
    assert f"| {GX10_LIST_CHF:,} |".replace(",", "'") in out
    code, out, _ = run(capsys, "plan", "--requirements", REQ, "--json")
    assert code == 0
    assert json.loads(out)["price_source"] == "effective"
    code, out, _ = run(capsys, "plan", "--requirements", REQ)
    assert source_line(out).startswith("prices: effective")


@pytest.mark.usefixtures("db")
def test_live_prices_flag_still_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *BOM, "--json", "--live-prices")
    assert code == 0
    assert json.loads(out)["price_source"] == "effective"
