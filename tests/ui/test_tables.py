"""View-model helpers: ranking, best option, plans, BOM frame, prices, code constants."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from sizing.bom import bill_of_materials
from sizing.catalog import default_catalog
from sizing.compare import Workload, compare
from sizing.estimate import rough_figures
from sizing.money import catalog_prices
from sizing.planner import GroupSpec, evaluate_plan
from sizing.requirements import Serve
from ui import tables

CAT = default_catalog()
W = Workload("openai/gpt-oss-120b", "mxfp4")


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    out = compare(W, CAT, units=[1, 2], platforms=["asus-gx10-1tb", "rtx-3090", "rtx-pro-6000-ws"])
    return tables.add_labels(out)


def test_rank_cheapest_puts_fitting_priced_rows_first(df):
    ranked = tables.rank(df, "cheapest")
    fits = ranked["fits"].tolist()
    assert fits == sorted(fits, reverse=True)
    fitting = ranked[ranked["fits"]]
    assert fitting["price_chf"].tolist() == sorted(fitting["price_chf"])
    best = tables.best_row(ranked, "cheapest")
    assert best is not None
    assert best["config"] == "1 x asus-gx10-1tb"


def test_rank_fastest(df):
    ranked = tables.rank(df, "fastest")
    speeds = ranked[ranked["fits"]]["decode_tok_s_per_request"].tolist()
    assert speeds == sorted(speeds, reverse=True)
    assert tables.best_row(ranked, "fastest")["platform"] == "rtx-pro-6000-ws"


def test_no_best_when_nothing_fits(df):
    ranked = tables.rank(df[df["platform"] == "rtx-3090"], "cheapest")
    assert tables.best_row(ranked, "cheapest") is None


def test_unknown_rule():
    with pytest.raises(ValueError, match="unknown rank rule 'best'"):
        tables.rank(pd.DataFrame(), "best")


# gpt-oss-120b, hand-computed: 36 layers alternating sliding-window (128 tokens) and full
# attention, 8 KV heads of 64 dims, bf16 KV: 18 full layers x 2 (K, V) x 8 x 64 x 2 B =
# 36'864 B per token, plus 18 sliding layers x 2 x 8 x 64 x 2 B x 128 tokens.
GPT_OSS_KV_GIB_32K = (18 * 2 * 8 * 64 * 2 * 32768 + 18 * 2 * 8 * 64 * 2 * 128) / 2**30
GPT_OSS_WEIGHTS_GIB = 60.8  # the published MXFP4 checkpoint (OpenAI model card: 60.8 GiB)
GX10_USABLE_GIB = 121.69 * 0.85  # CUDA-visible memory x vLLM gpu_memory_utilization 0.85
# vLLM overhead per unit (catalog memory_model): non-torch 2.2 GiB (+0.5 NCCL across two
# nodes) + activation 8,192 x 2 B x (3 x 11,520 / TP + 4 x 2,880) + 256 x 201,088 x 4 B of
# logits + CUDA graphs 86 x 36 layers x 2,880 x 100 B
VLLM_OVERHEAD_GIB = {
    tp: 2.2
    + (0.5 if tp > 1 else 0.0)
    + (8192 * 2 * (3 * 11520 / tp + 4 * 2880) + 256 * 201088 * 4 + 86 * 36 * 2880 * 100) / 2**30
    for tp in (1, 2)
}


def test_memory_breakdown_matches_hand_computed_figures(df):
    mem = df  # compare returns the breakdown of each row's layout
    gx10 = mem[mem["platform"] == "asus-gx10-1tb"].set_index("units")
    for units in (1, 2):  # TP=2 halves the weights and the KV heads
        row = gx10.loc[units]
        assert row["usable_gib_per_unit"] == pytest.approx(GX10_USABLE_GIB, abs=1e-3)
        assert row["kv_required_gib_per_unit"] == pytest.approx(
            GPT_OSS_KV_GIB_32K / units, rel=1e-6
        )
        assert row["weights_gib_per_unit"] == pytest.approx(GPT_OSS_WEIGHTS_GIB / units, rel=0.01)
        assert row["overhead_gib_per_unit"] == pytest.approx(VLLM_OVERHEAD_GIB[units], rel=1e-6)
        # 1 unit: 103.44 - 60.8 - 1.13 - 2.5 = ~39.0 GiB free; 2 units: ~70.0 GiB
        free = (
            GX10_USABLE_GIB
            - GPT_OSS_WEIGHTS_GIB / units
            - GPT_OSS_KV_GIB_32K / units
            - VLLM_OVERHEAD_GIB[units]
        )
        assert row["free_gib_per_unit"] == pytest.approx(free, abs=0.35)
        assert row["accelerator_gib_per_unit"] == 121.69


def test_display_frame_labels_carry_units(df):
    cols = tables.compare_columns(tables.tco_column(df))
    shown = tables.display_frame(df, cols)
    numeric = [
        c.label
        for c in cols
        if c.kind not in ("text", "bool") and c.label not in ("Units", "Max streams @ context")
    ]
    assert all("(" in label for label in numeric), numeric
    assert shown["Price (CHF)"].dtype.kind == "f"


def test_parse_plan():
    assert tables.parse_plan("2m+1s", 3, has_sub_agents=True) == [(2, "m"), (1, "s")]
    assert tables.parse_plan(" 1sm ", 1, has_sub_agents=True) == [(1, "ms")]
    for text, n, sub, fragment in [
        ("2m+2s", 3, True, "uses 4"),
        ("3s", 3, True, "main"),
        ("3m", 3, True, "sub-agents"),
        ("2m+1s", 3, False, "0"),
        ("two", 2, False, "not like"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            tables.parse_plan(text, n, has_sub_agents=sub)


def test_plan_text_roundtrip():
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
    assert gx10["Price (CHF)"] == 2477.0
    assert gx10["Kind"] == "catalog"
    assert gx10["Age (days)"] == (date(2026, 11, 23) - date(2026, 2, 17)).days
    assert gx10["Stale"]
    assert gx10["Last refresh"] == "never"
    unpriced = rows[rows["Price (CHF)"].isna()]
    assert set(unpriced["Kind"]) == {"none"}
    assert not unpriced["Stale"].any()


def test_code_constants_reads_source_without_importing(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text(
        "import os\nA_W = 18.0  # per node (facts 2.1)\nB = (0.5, 1.75)\n"
        "NAME = 'x'\n_PRIVATE = 1\nC = os.system('false')\nG = 2**30\n"
    )
    got = tables.code_constants([src, tmp_path / "missing.py"])
    assert got["Constant"].tolist() == ["A_W", "B", "G"]
    assert got.iloc[0]["Comment"] == "per node (facts 2.1)"
    assert got.iloc[2]["Value"] == "2**30"


def test_fit_grid_cells():
    grid = tables.fit_grid(
        CAT,
        "asus-gx10-1tb",
        [1, 2],
        ["bf16"],
        ["meta-llama/Llama-3.3-70B-Instruct"],
        kv_dtype="bf16",
        engine=None,
        streams=1,
        min_context_tokens=32768,
    )
    by_units = dict(zip(grid["units"], grid["max_context_tokens"], strict=True))
    assert by_units[1] == 0
    assert by_units[2] > 32768
    assert not math.isnan(by_units[2])


def test_auto_engine_runs_the_quantization():
    assert tables.auto_engine(CAT, "asus-gx10-1tb", "mxfp4") == "vllm"
    assert tables.auto_engine(CAT, "asus-gx10-1tb", "q4_k_m") == "llamacpp"  # GGUF
    assert tables.auto_engine(CAT, "framework-desktop-395-128gb", "fp8") is None
    grid = tables.fit_grid(
        CAT,
        "asus-gx10-1tb",
        [1],
        ["q4_k_m"],
        ["Qwen/Qwen3-30B-A3B"],
        kv_dtype="bf16",
        engine=None,
        streams=1,
        min_context_tokens=32768,
    )
    assert grid["fits"].all()
    assert (grid["engine"] == "llamacpp").all()


def test_compare_columns_put_the_decision_first():
    labels = [c.label for c in tables.compare_columns("tco_chf_3y")]
    assert labels[:12] == [
        "Configuration",
        "Price (CHF)",
        "Fits",
        "Decode per stream (tok/s)",
        "Decode low (tok/s)",
        "Decode high (tok/s)",
        "Decode total (tok/s)",
        "TTFT (s)",
        "TTFT low (s)",
        "TTFT high (s)",
        "Rough figures",
        "Max context (tokens)",
    ]
    assert labels[-1] == "Reason"


def test_display_columns_dash_what_is_unknown_and_mark_rough_figures():
    w = Workload("openai/gpt-oss-120b", "mxfp4")
    raw = compare(w, CAT, units=[1, 2], platforms=["asus-gx10-1tb", "rtx-3090", "rtx-pro-6000-ws"])
    out = tables.with_display_columns(tables.add_labels(raw))
    by = out.set_index("config")
    assert by.loc["1 x asus-gx10-1tb", "layout"] == "single"  # as on Build
    assert by.loc["2 x asus-gx10-1tb (tp)", "layout"] == "tp"
    three = by.loc["1 x rtx-3090"]  # 24 GB: the weights do not load
    assert not three["fits"]
    assert three["max_context_tokens"] == 0
    assert math.isnan(three["max_context_shown"])
    assert three["rough"] == ""
    pro = by.loc["1 x rtx-pro-6000-ws"]  # two long-prompt rows of its own
    assert pro["fits"]
    assert not pro["rough_prefill"]
    assert pro["rough"] == ""
    assert by.loc["1 x asus-gx10-1tb", "rough"] == ""
    # the RTX 5090 has no long-prompt measurement: its prefill efficiency is borrowed
    small = Workload("Qwen/Qwen3-30B-A3B", "q4_k_m")
    five = tables.with_display_columns(
        tables.add_labels(compare(small, CAT, units=[1], platforms=["rtx-5090"]))
    ).iloc[0]
    assert five["fits"]
    assert five["rough_prefill"]
    assert "TTFT" in five["rough"]


def test_rough_flags_come_from_the_calibration():
    # the typed flags sizing.calibrate writes for a borrowed efficiency
    fam, eng = CAT.calibration_for("gb10", "vllm")  # both measured: not rough
    assert rough_figures(fam, eng) == (False, False)
    no_prefill = fam.model_copy(update={"prefill_borrowed": True})
    assert rough_figures(no_prefill, eng) == (False, True)
    few_decode = fam.model_copy(update={"decode_borrowed": True})
    no_rows = eng.model_copy(update={"decode_borrowed": True})
    assert rough_figures(few_decode, eng) == (True, False)
    assert rough_figures(fam, no_rows) == (True, False)
    assert tables.rough_label(True, True) == "≈ decode, TTFT"
    assert tables.rough_label(False, False) == ""


def test_memory_rows_by_units_without_empty_bars():
    ranked = pd.DataFrame(
        {
            "platform": ["a", "a", "b", "a", "c", "b"],
            "units": [4, 1, 2, 2, 1, 1],
            "config": ["4 x a", "1 x a", "2 x b", "2 x a", "1 x c", "1 x b"],
            "weights_gib_per_unit": [10.0, math.nan, 20.0, 30.0, math.nan, 40.0],
        }
    )
    shown, omitted = tables.memory_rows(ranked, "a")
    assert list(shown["config"]) == ["2 x a", "4 x a", "2 x b"]  # a by units, then b's best
    assert omitted == ["1 x a", "c (every size)"]


def test_bom_quantities_are_whole_and_prices_whole_francs():
    frame = tables.bom_frame(bill_of_materials(CAT, "asus-gx10-1tb", 2))
    assert str(frame["Qty"].dtype) == "Int64"
    assert frame["Qty"].iloc[-1] is pd.NA
    kinds = tables.kinds_by_label(tables.BOM_COLUMNS)
    assert kinds["Unit price (CHF)"] == kinds["Line total (CHF)"] == "chf"  # as Compare


def test_price_age_of_rows_reads_the_compare_columns():
    """The page's price-age line comes from compare's own columns: the row with the most
    days (not recounted), rows without a date ignored, none dated -> no date."""
    rows = pd.DataFrame(
        {
            "oldest_price_date": ["2026-11-02", "2026-02-15", None],
            "price_age_days": [30, 290, math.nan],
        }
    )
    age = tables.price_age_of_rows(rows, 30)
    assert (age.oldest_price_date, age.price_age_days, age.stale) == (
        date(2026, 2, 15),
        290,
        True,
    )
    assert age.note().startswith("prices as of 2026-02-15 (290 days old) — older than 30")
    fresh = tables.price_age_of_rows(rows.iloc[[0]], 30)
    assert (fresh.price_age_days, fresh.stale) == (30, False)
    none = tables.price_age_of_rows(rows.iloc[[2]], 30)
    assert none.note() == "no dated price in this configuration"
    best = compare(W, CAT, units=[1], platforms=["asus-gx10-1tb"], today=date(2026, 12, 2))
    one = tables.price_age_of_rows(best.iloc[0].to_frame().T, 30)
    assert (one.oldest_price_date, one.price_age_days) == (date(2026, 2, 17), 288)
