"""Price age at the point of decision: the oldest price date of a configuration and a
warning past ``defaults.price_stale_days`` (30) — pure function with hand-counted days, and
the CLI's ``bom``, ``compare``, ``plan`` and ``estimate --json``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cli.sizing_main import main
from pricing.history import PriceHistory
from sizing.compare import Workload, compare
from sizing.money import price_age

if TYPE_CHECKING:
    import pytest

    from sizing.catalog import Catalog

TODAY = datetime.now(UTC).date()
GX10_LIST = date(2026, 2, 17)  # catalog.yaml: asus-gx10-1tb list price date
DAC_LIST = date(2026, 2, 15)  # catalog.yaml: dac-qsfp56-200g-0m5 list price date
BOM = ["bom", "--platform", "asus-gx10-1tb", "--units", "2"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert err == "", err
    return code, out


def test_price_age_hand_counted() -> None:
    # 2026-02-17 -> 2026-12-02: 11 (Feb) + 31+30+31+30+31+31+30+31+30 (Mar-Nov) + 2 = 288
    age = price_age(
        [date(2026, 11, 1), None, date(2026, 2, 17)], today=date(2026, 12, 2), stale_days=30
    )
    assert (age.oldest_price_date, age.price_age_days, age.stale) == (date(2026, 2, 17), 288, True)
    assert age.note().startswith(
        "prices as of 2026-02-17 (288 days old) — older than 30 days: refresh"
    )
    assert age.to_dict() == {"oldest_price_date": "2026-02-17", "price_age_days": 288}


def test_price_age_boundary_and_nothing_dated() -> None:
    at_limit = price_age([date(2026, 11, 2)], today=date(2026, 12, 2), stale_days=30)
    assert (at_limit.price_age_days, at_limit.stale) == (30, False)
    assert at_limit.note() == "prices as of 2026-11-02 (30 days old)"
    assert price_age([date(2026, 11, 1)], today=date(2026, 12, 2), stale_days=30).stale
    one = price_age([date(2026, 12, 1)], today=date(2026, 12, 2), stale_days=30)
    assert one.note() == "prices as of 2026-12-01 (1 day old)"
    none = price_age([None], today=date(2026, 12, 2), stale_days=30)
    assert none.to_dict() == {"oldest_price_date": None, "price_age_days": None}
    assert not none.stale


def test_compare_rows_count_the_days_to_the_day_given(catalog: Catalog) -> None:
    """`sizing.compare` carries ``price_age_days`` per row, counted to ``today`` (pages
    and exports only format it). Hand-counted from 2026-12-02: the GX10's list price of
    2026-02-17 is 288 days old; with two units the DAC cable's of 2026-02-15, 290."""
    df = compare(
        Workload("openai/gpt-oss-120b", "mxfp4"),
        catalog,
        platforms=["asus-gx10-1tb", "mac-studio-m3-ultra-256gb"],
        units=[1, 2, 8],
        today=date(2026, 12, 2),
    )
    rows = {(r["platform"], r["units"]): r for r in df.to_dict("records")}
    assert rows["asus-gx10-1tb", 1]["price_age_days"] == 288
    assert rows["asus-gx10-1tb", 2]["price_age_days"] == 290
    assert type(rows["asus-gx10-1tb", 2]["price_age_days"]) is int  # whole days, not 290.0
    no_bom = rows["mac-studio-m3-ultra-256gb", 8]  # no topology (full mesh): no prices
    assert pd.isna(no_bom["oldest_price_date"])
    assert pd.isna(no_bom["price_age_days"])  # unknown, never 0
    today = compare(
        Workload("openai/gpt-oss-120b", "mxfp4"), catalog, platforms=["asus-gx10-1tb"], units=[1]
    )
    assert today["price_age_days"].tolist() == [(TODAY - GX10_LIST).days]


def test_bom_carries_the_oldest_price(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, *BOM, "--json")
    d = json.loads(out)
    assert code == 0
    assert d["oldest_price_date"] == DAC_LIST.isoformat()
    assert d["price_age_days"] == (TODAY - DAC_LIST).days
    code, out = run(capsys, *BOM)
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(
        f"WARNING: prices as of {DAC_LIST.isoformat()} ({(TODAY - DAC_LIST).days} days old)"
    )


def test_one_manual_price_does_not_hide_the_old_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "p.sqlite"
    PriceHistory(db).set_manual("asus-gx10-1tb", 299_900, "shop quote today")
    code, out = run(capsys, *BOM, "--json", "--live-prices", "--prices-db", str(db))
    d = json.loads(out)
    assert d["total_chf"] == 2 * 2999 + 73
    assert d["oldest_price_date"] == DAC_LIST.isoformat()  # the cable is still old
    PriceHistory(db).set_manual("dac-qsfp56-200g-0m5", 7_500, "shop quote today")
    code, out = run(capsys, *BOM, "--live-prices", "--prices-db", str(db))
    assert code == 0
    assert out.rstrip().splitlines()[-1] == f"prices as of {TODAY.isoformat()} (0 days old)"


def test_estimate_compare_and_plan_carry_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        capsys,
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
        "--json",
    )
    d = json.loads(out)
    assert (d["oldest_price_date"], d["price_age_days"]) == (
        GX10_LIST.isoformat(),
        (TODAY - GX10_LIST).days,
    )
    code, out = run(
        capsys,
        "compare",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--platforms",
        "asus-gx10-1tb",
        "--units",
        "1,2",
        "--format",
        "json",
    )
    assert code == 0
    rows = {r["units"]: r for r in json.loads(out)}
    assert rows[1]["oldest_price_date"] == GX10_LIST.isoformat()
    assert rows[2]["oldest_price_date"] == DAC_LIST.isoformat()
    assert rows[2]["price_age_days"] == (TODAY - DAC_LIST).days
    code, out = run(
        capsys,
        "plan",
        "--requirements",
        str(Path(__file__).parents[1] / "data" / "requirements" / "guide_buyer.yaml"),
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    cands = d["recommended"]
    assert cands
    assert all(c["oldest_price_date"] for c in cands)
    assert d["oldest_price_date"] == min(c["oldest_price_date"] for c in cands)
    assert d["price_age_days"] == (TODAY - date.fromisoformat(d["oldest_price_date"])).days


def test_converted_prices_state_their_terms_in_the_bom(capsys: pytest.CaptureFixture[str]) -> None:
    """The DAC's list price is FS.com DE EUR 79 converted at 0.93 CHF/EUR (catalog.yaml):
    the BOM line says so (JSON and Markdown); the CHF toppreise price carries no such note."""
    code, out = run(capsys, *BOM, "--json")
    assert code == 0
    lines = {ln["item_id"]: ln for ln in json.loads(out)["lines"]}
    note = lines["dac-qsfp56-200g-0m5"]["price_note"]
    assert note.startswith("CONVERTED")
    assert "EUR 79" in note
    assert "0.93 CHF/EUR" in note
    assert lines["asus-gx10-1tb"]["price_note"] is None
    code, out = run(capsys, *BOM)
    assert code == 0
    [md] = [
        ln
        for ln in out.splitlines()
        if ln.startswith("- dac-qsfp56-200g-0m5: catalog price, 2026-02-15")
    ]
    assert "0.93 CHF/EUR" in md


def test_compare_csv_writes_whole_days(capsys: pytest.CaptureFixture[str]) -> None:
    """Every platform (some rows without a dated price): the CSV's ages are whole days
    ("289", not "289.0") or empty."""
    code, out = run(
        capsys, "compare", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--format", "csv"
    )
    assert code == 0
    ages = [r["price_age_days"] for r in csv.DictReader(io.StringIO(out))]
    assert "" in ages
    assert str((TODAY - DAC_LIST).days) in ages
    assert all(a == "" or a.isdigit() for a in ages), sorted(set(ages))
