"""The comparison DataFrame and the SSD check (sizing/compare.py).

Hand-computed expectations: prices and power from the reference build guide and
catalog_facts.md (see tests/sizing/test_cluster.py), energy at the catalog defaults
(8 h/day at load, 27.7 Rp/kWh ElCom 2026 median), checkpoint sizes from published
parameter counts (bf16 = 2 bytes per parameter) and the gpt-oss-120b model card (60.8 GiB).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from cli.sizing_main import main
from sizing.catalog import Catalog, UnknownIdError
from sizing.compare import Workload, best_estimate, checkpoint_gb, compare, storage_fit
from sizing.estimate import estimate
from sizing.scenario import Scenario
from tests.sizing.test_cluster import facts_catalog

GX10 = "asus-gx10-1tb"
OSS = Workload("openai/gpt-oss-120b", "mxfp4")
NUMERIC = [
    "price_chf",
    "raw_memory_gb",
    "usable_memory_gib",
    "max_context_tokens",
    "decode_tok_s_per_request",
    "decode_tok_s_total",
    "prefill_tok_s",
    "ttft_s",
    "power_w_idle",
    "power_w_load",
    "energy_chf_per_year",
    "chf_per_usable_gb",
    "chf_per_tok_s",
    "tco_chf_3y",
    "upgrade_chf_from_previous",
]


@pytest.fixture(scope="module")
def facts(catalog: Catalog) -> Catalog:
    return facts_catalog(catalog)


@pytest.fixture(scope="module")
def three_platforms(facts: Catalog) -> pd.DataFrame:
    return compare(OSS, facts, platforms=[GX10, "rtx-pro-6000-ws", "mac-studio-m3-ultra-256gb"])


def _row(df: pd.DataFrame, platform: str, units: int) -> dict:
    rows = df[(df.platform == platform) & (df.units == units)].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def test_shape_and_columns(three_platforms: pd.DataFrame, facts: Catalog) -> None:
    assert facts.defaults.cluster_sizes == [1, 2, 3, 4, 8]
    assert len(three_platforms) == 3 * 5
    for col in ["platform", "units", "parallel", "fits", "reason", *NUMERIC]:
        assert col in three_platforms.columns
    for col in NUMERIC:
        assert pd.api.types.is_numeric_dtype(three_platforms[col]), col


def test_two_gx10_row_by_hand(three_platforms: pd.DataFrame, facts: Catalog) -> None:
    assert facts.defaults.hours_at_load_per_day == 8
    assert facts.tariff(facts.defaults.tariff).rappen_per_kwh == 27.7
    r = _row(three_platforms, GX10, 2)
    assert r["fits"]
    assert r["parallel"] == "tp"
    assert r["price_chf"] == pytest.approx(2 * 2477 + 73)
    assert r["raw_memory_gb"] == 256
    assert (r["power_w_idle"], r["power_w_load"]) == (60, 200)
    # (200 W x 8 h + 60 W x 16 h) x 365 / 1000 = 934.4 kWh x 0.277 = CHF 258.83
    assert r["energy_chf_per_year"] == pytest.approx(258.8288)
    assert r["tco_chf_3y"] == pytest.approx(5027 + 3 * 258.8288)
    assert r["chf_per_usable_gb"] == pytest.approx(5027 / (r["usable_memory_gib"] * 2**30 / 1e9))
    assert r["chf_per_tok_s"] == pytest.approx(5027 / r["decode_tok_s_total"])


def test_upgrade_column_switch_appears_at_three(three_platforms: pd.DataFrame) -> None:
    up = {n: _row(three_platforms, GX10, n)["upgrade_chf_from_previous"] for n in (1, 2, 3, 4, 8)}
    assert math.isnan(up[1])
    assert up[2] == pytest.approx(2477 + 73)
    assert up[3] == pytest.approx(2477 + 974 + 110)  # unit + CRS812 + breakout
    assert up[4] == pytest.approx(2477 + 73)  # one more DAC beats a breakout
    assert up[8] == pytest.approx(4 * 2477 + 1036 + 2 * 110)  # CRS804 replaces CRS812
    note = _row(three_platforms, GX10, 8)["upgrade_note"]
    assert "Owned but unused by the new design: 1 x mikrotik-crs812-ddq" in note
    assert "Alternative: 2 x mikrotik-crs812-ddq" in note  # second CRS812 + uplink


def test_unpriced_parts_are_flagged(facts: Catalog) -> None:
    # review: compare showed Mac / Strix Halo cluster totals unqualified
    df = compare(
        OSS,
        facts,
        platforms=["framework-desktop-395-128gb", "mac-studio-m3-ultra-256gb", GX10],
        units=[1, 2, 4],
    )
    assert df["price_complete"].dtype == bool
    fw4 = _row(df, "framework-desktop-395-128gb", 4)
    assert not fw4["price_complete"]
    assert fw4["unpriced_items"].startswith("Ethernet switch")
    assert fw4["price_chf"] == pytest.approx(4 * 2759)  # the known part, a lower bound
    assert _row(df, "mac-studio-m3-ultra-256gb", 2)["unpriced_items"] == ("1 x Thunderbolt 5 cable")
    for n in (1, 2, 4):
        r = _row(df, GX10, n)
        assert r["price_complete"]
        assert r["unpriced_items"] == ""
    assert _row(df, "mac-studio-m3-ultra-256gb", 1)["price_complete"]
    dell = compare(OSS, facts, platforms=["dell-pro-max-gb10"], units=[1])
    assert not dell.price_complete[0]
    assert dell.unpriced_items[0] == "dell-pro-max-gb10"


def test_forced_tp_across_gpu_hosts_is_refused_like_estimate(facts: Catalog) -> None:
    # review: estimate said 8 x rtx-3090 TP fits at 321 tok/s, compare refused it
    df = compare(OSS, facts, platforms=["rtx-3090"], units=[2, 8], parallel="tp")
    r = _row(df, "rtx-3090", 8)
    assert not r["fits"]
    assert "needs 4 hosts" in r["reason"]
    assert "--parallel replicas" in r["reason"]


def test_layout_rule(facts: Catalog) -> None:
    df = compare(OSS, facts, platforms=[GX10], units=[1, 2, 3, 4])
    assert list(df.parallel) == ["tp", "tp", df.parallel[2], "tp"]
    assert df.parallel[2] != "tp"  # 64 heads do not divide by 3
    # the chosen layout is the fastest per request among those that fit
    for n in (2, 3, 4):
        chosen = best_estimate(OSS, facts, GX10, n)
        for par in ("tp", "pp", "replicas"):
            try:
                e = estimate(Scenario(GX10, n, par, OSS.model, OSS.weights), facts)
            except ValueError:
                continue
            if e.fits:
                assert (
                    chosen.speed.decode_tok_s_per_request >= e.speed.decode_tok_s_per_request - 1e-9
                )
    forced = compare(OSS, facts, platforms=[GX10], units=[1, 2, 4], parallel="pp")
    assert list(forced.parallel) == ["tp", "pp", "pp"]


def test_gpu_cards_in_separate_hosts_only_replicate(three_platforms: pd.DataFrame) -> None:
    r = _row(three_platforms, "rtx-pro-6000-ws", 2)  # one WS card per AM5 host
    assert r["parallel"] == "replicas"
    assert r["design"] == "host"


def test_totals_never_exceed_streams_times_speed(facts: Catalog) -> None:
    df = compare(
        Workload("openai/gpt-oss-120b", "mxfp4", concurrency=1),
        facts,
        platforms=[GX10, "rtx-pro-6000-maxq"],
    )
    ok = df[df.fits]
    assert (ok.decode_tok_s_total <= ok.decode_tok_s_per_request * 1 + 1e-9).all()


def test_published_ordering_pro6000_vs_gb10(three_platforms: pd.DataFrame) -> None:
    # guide: RTX PRO 6000 ~134 tok/s vs one GB10 ~50-55 on gpt-oss-120b (1,792 vs 273 GB/s)
    pro = _row(three_platforms, "rtx-pro-6000-ws", 1)["decode_tok_s_per_request"]
    gb10 = _row(three_platforms, GX10, 1)["decode_tok_s_per_request"]
    assert pro > 1.5 * gb10


def test_rows_that_cannot_work(facts: Catalog) -> None:
    df = compare(OSS, facts, platforms=["rtx-3090", "mac-studio-m3-ultra-256gb"])
    r = _row(df, "rtx-3090", 1)  # 60.7 GiB of weights on 24 GB
    assert not r["fits"]
    assert "exceed" in r["reason"]
    assert math.isnan(r["decode_tok_s_per_request"])
    assert r["price_chf"] > 0
    mac8 = _row(df, "mac-studio-m3-ultra-256gb", 8)
    assert not mac8["fits"]
    assert "full mesh" in mac8["reason"]
    nv = compare(
        Workload("openai/gpt-oss-120b", "nvfp4"),
        facts,
        platforms=["mac-studio-m3-ultra-256gb"],
        units=[1],
    )
    assert not nv.fits[0]
    assert "nvfp4" in nv.reason[0]
    with pytest.raises(UnknownIdError, match="valid choices"):
        compare(OSS, facts, platforms=["gx10"])


def test_storage_fit_against_published_sizes(catalog: Catalog) -> None:
    # gpt-oss-120b: 60.8 GiB on the model card = 65.3 GB
    assert checkpoint_gb(catalog, "openai/gpt-oss-120b", "mxfp4") == pytest.approx(65.3, rel=0.02)
    # bf16 = 2 bytes/param: Qwen3-235B ~470 GB, Llama-3.1-405B ~811 GB (405.8 B params)
    assert checkpoint_gb(catalog, "Qwen/Qwen3-235B-A22B", "bf16") == pytest.approx(470, rel=0.02)
    assert checkpoint_gb(catalog, "meta-llama/Llama-3.1-405B", "bf16") == pytest.approx(
        811, rel=0.02
    )
    lib = [
        ("meta-llama/Llama-3.1-405B", "bf16"),
        ("openai/gpt-oss-120b", "mxfp4"),
        ("Qwen/Qwen3-235B-A22B", "bf16"),
    ]
    df = storage_fit(
        catalog,
        lib,
        platforms=[
            "asus-gx10-1tb",
            "asus-gx10-2tb",
            "framework-desktop-395-128gb",
            "rtx-pro-6000-ws",
        ],
    ).set_index("platform")
    # 1 TB - 100 GB reserve = 900 GB: 65 + 470 fit, + 811 does not -> 2 of 3
    assert df.loc["asus-gx10-1tb", "models_fit"] == 2
    assert not df.loc["asus-gx10-1tb", "all_fit"]
    assert df.loc["asus-gx10-2tb", "models_fit"] == 3  # 1,346 GB <= 1,900 GB
    assert df.loc["framework-desktop-395-128gb", "models_fit"] == 0  # DIY: no SSD
    assert df.loc["rtx-pro-6000-ws", "storage_tb"] == 2  # the host's 2 TB NVMe


def test_cli_compare_formats(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "compare",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--platforms",
        GX10,
        "--units",
        "1,2",
    ]
    assert main([*args, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["units"] for r in rows] == [1, 2]
    assert rows[0]["upgrade_chf_from_previous"] is None
    assert main([*args, "--format", "csv"]) == 0
    csv_header = capsys.readouterr().out.splitlines()[0]
    assert csv_header.startswith("platform,family,units,")
    assert "price_complete,unpriced_items" in csv_header
    assert main([*args, "--library", "openai/gpt-oss-120b:mxfp4"]) == 0
    out = capsys.readouterr().out
    assert "| Platform | N |" in out
    assert "Models that fit" in out
    assert main([*args[:-1], "1,zero"]) == 2
    assert "--units" in capsys.readouterr().err
    assert main([*args, "--library", "x", "--format", "csv"]) == 2
    capsys.readouterr()


def test_cli_compare_markdown_has_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    # review: Markdown lacked raw memory and prefill, which CSV/JSON have. Every column the
    # issue lists: total CHF, raw + usable memory, fits, max context, decode per request and
    # total, prefill, TTFT, idle/load W, energy CHF/year, CHF/GB, CHF per tok/s, 3-year TCO
    assert (
        main(
            [
                "compare",
                "--model",
                "openai/gpt-oss-120b",
                "--weights",
                "mxfp4",
                "--platforms",
                f"{GX10},framework-desktop-395-128gb",
                "--units",
                "1,4",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| Platform"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    for label in [
        "CHF",
        "Raw GB",
        "Usable GiB",
        "Fits",
        "Max ctx",
        "tok/s/req",
        "tok/s total",
        "Prefill tok/s",
        "TTFT s",
        "Idle W",
        "Load W",
        "CHF/yr energy",
        "CHF/GB",
        "CHF per tok/s",
        "TCO 3y CHF",
    ]:
        assert label in cells, label
    rows = {
        tuple(c.strip() for c in line.strip("|").split("|")[:2]): line
        for line in out.splitlines()
        if line.startswith("| ")
    }
    gx4 = rows[(GX10, "4")]
    # 4 x 2,477 + CRS812 974 + 2 FS breakouts x 146 (known-good first, issue 15) = 11,174
    assert "| 11'174 |" in gx4
    assert "| 512 |" in gx4  # Swiss CHF, raw GB
    fw4 = rows[("framework-desktop-395-128gb", "4")]
    assert "| 11'036 (incomplete) |" in fw4
    assert "Price incomplete" in out
    assert "Ethernet switch (4 ports" in out
