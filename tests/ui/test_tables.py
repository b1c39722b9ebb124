"""View-model helpers: ranking, best option, plans, BOM frame, prices, code constants."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from sizing.catalog import default_catalog
from sizing.cluster import bill_of_materials, catalog_prices
from sizing.compare import Workload, compare
from sizing.plan import Serve, evaluate_plan
from ui import tables

CAT = default_catalog()
W = Workload("openai/gpt-oss-120b", "mxfp4")


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    out = compare(W, CAT, units=[1, 2], platforms=["asus-gx10-1tb", "rtx-3090",
                                                   "rtx-pro-6000-ws"])
    return tables.add_labels(out)


def test_rank_cheapest_puts_fitting_priced_rows_first(df):
    ranked = tables.rank(df, "cheapest")
    fits = ranked["fits"].tolist()
    assert fits == sorted(fits, reverse=True)
    fitting = ranked[ranked["fits"]]
    assert fitting["price_chf"].tolist() == sorted(fitting["price_chf"])
    best = tables.best_row(ranked, "cheapest")
    assert best is not None and best["config"] == "1 x asus-gx10-1tb"


def test_rank_fastest(df):
    ranked = tables.rank(df, "fastest")
    speeds = ranked[ranked["fits"]]["decode_tok_s_per_request"].tolist()
    assert speeds == sorted(speeds, reverse=True)
    assert tables.best_row(ranked, "fastest")["platform"] == "rtx-pro-6000-ws"


def test_no_best_when_nothing_fits(df):
    ranked = tables.rank(df[df["platform"] == "rtx-3090"], "cheapest")
    assert tables.best_row(ranked, "cheapest") is None


def test_unknown_rule():
    with pytest.raises(ValueError):
        tables.rank(pd.DataFrame(), "best")


def test_memory_breakdown_adds_up(df):
    mem = tables.with_memory_breakdown(df, W, CAT)
    ok = mem[mem["fits"]]
    parts = (ok["weights_gib_per_unit"] + ok["kv_required_gib_per_unit"]
             + ok["overhead_gib_per_unit"] + ok["free_gib_per_unit"])
    assert parts.tolist() == pytest.approx(ok["usable_gib_per_unit"].tolist())
    assert (ok["usable_gib_per_unit"] <= ok["accelerator_gib_per_unit"]).all()


def test_display_frame_labels_carry_units(df):
    cols = tables.compare_columns(tables.tco_column(df))
    shown = tables.display_frame(df, cols)
    numeric = [c.label for c in cols if c.kind not in ("text", "bool")
               and c.label not in ("Units", "Max streams @ context")]
    assert all("(" in label for label in numeric), numeric
    assert shown["Price (CHF)"].dtype.kind == "f"


def test_parse_plan():
    assert tables.parse_plan("2m+1s", 3, has_sub_agents=True) == [(2, "m"), (1, "s")]
    assert tables.parse_plan(" 1sm ", 1, has_sub_agents=True) == [(1, "ms")]
    for text, n, sub, fragment in [("2m+2s", 3, True, "uses 4"), ("3s", 3, True, "main"),
                                   ("3m", 3, True, "sub-agents"), ("2m+1s", 3, False, "0"),
                                   ("two", 2, False, "not like")]:
        with pytest.raises(ValueError, match=fragment):
            tables.parse_plan(text, n, has_sub_agents=sub)


def test_plan_text_roundtrip():
    from sizing.plan import GroupSpec

    main = Serve("main agent", "openai/gpt-oss-120b", "mxfp4")
    sub = Serve("sub-agents", "openai/gpt-oss-20b", "mxfp4", 2)
    plan = evaluate_plan(CAT, "asus-gx10-1tb", [GroupSpec(2, (main,)), GroupSpec(1, (sub,))])
    assert tables.plan_text(plan) == "2m+1s"
    frame = tables.plan_frame(plan)
    assert list(frame["Units"]) == ["units 1-2", "unit 3"]


def test_bom_frame_total_row():
    bom = bill_of_materials(CAT, "asus-gx10-1tb", 3)
    frame = tables.bom_frame(bom)
    assert frame.iloc[-1]["Item"] == "TOTAL"
    assert frame.iloc[-1]["Line total (CHF)"] == pytest.approx(bom.total_chf)
    assert frame.iloc[:-1]["Line total (CHF)"].sum() == pytest.approx(bom.total_chf)
    assert set(frame.iloc[:-1]["Price kind"]) == {"catalog"}


def test_price_rows_mark_stale_prices():
    items = list(CAT.priced_items())
    rows = tables.price_rows(items, catalog_prices(CAT), date(2026, 11, 23), 30)
    gx10 = rows[rows["Item"] == "asus-gx10-1tb"].iloc[0]
    assert gx10["Price (CHF)"] == 2477.0 and gx10["Kind"] == "catalog"
    assert gx10["Age (days)"] == (date(2026, 11, 23) - date(2026, 2, 17)).days
    assert gx10["Stale"] and gx10["Last refresh"] == "never"
    unpriced = rows[rows["Price (CHF)"].isna()]
    assert set(unpriced["Kind"]) == {"none"} and not unpriced["Stale"].any()


def test_code_constants_reads_source_without_importing(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text("import os\nA_W = 18.0  # per node (facts 2.1)\nB = (0.5, 1.75)\n"
                   "NAME = 'x'\n_PRIVATE = 1\nC = os.system('false')\nG = 2**30\n")
    got = tables.code_constants([src, tmp_path / "missing.py"])
    assert got["Constant"].tolist() == ["A_W", "B", "G"]
    assert got.iloc[0]["Comment"] == "per node (facts 2.1)"
    assert got.iloc[2]["Value"] == "2**30"


def test_fit_grid_cells():
    grid = tables.fit_grid(CAT, "asus-gx10-1tb", [1, 2], ["bf16"],
                           ["meta-llama/Llama-3.3-70B-Instruct"], kv_dtype="bf16",
                           engine=None, streams=1, min_context_tokens=32768)
    by_units = dict(zip(grid["units"], grid["max_context_tokens"], strict=True))
    assert by_units[1] == 0 and by_units[2] > 32768
    assert not math.isnan(by_units[2])
