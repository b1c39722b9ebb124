"""Every speed the planner prints carries the cross-validated error band of its family."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sizing.calibrate import (
    CV_GROUPINGS,
    cross_validate,
    cross_validated_results,
    cross_validated_summary,
    error_bands,
    load_rows,
    prepare,
)
from sizing.catalog import FamilyCalibration
from sizing.throughput import Throughput, speed_band

ROOT = Path(__file__).resolve().parents[2]


def test_band_by_hand():
    """±50 % decode, ±100 % prefill: 40 tok/s -> 26.7-60; 2,000 tokens at 1,000 tok/s
    (2 s) + a fixed 25 ms (TTFT 2.025 s) -> TTFT 1 s + 25 ms to 4 s + 25 ms: the engine's
    fixed cost carries no band."""
    speed = Throughput(
        decode_tok_s_per_request=40.0,
        decode_tok_s_total=120.0,
        batch_per_group=3,
        bound="memory",
        step_ms=25.0,
        allreduce_ms_per_step=0.0,
        prefill_tok_s=1000.0,
        ttft_s=2.025,
    )
    fam = FamilyCalibration(
        family="x",
        bandwidth_efficiency=0.5,
        prefill_compute_efficiency=0.1,
        decode_compute_efficiency=0.1,
        decode_band_pct=50,
        prefill_band_pct=100,
        decode_borrowed=False,
        prefill_borrowed=False,
        note="n",
        source=["data/benchmarks.csv"],
    )
    b = speed_band(speed, 2000, fam)
    assert (b.decode_tok_s_low, b.decode_tok_s_high) == pytest.approx((40 / 1.5, 60.0))
    assert (b.decode_tok_s_total_low, b.decode_tok_s_total_high) == pytest.approx((80.0, 180.0))
    assert (b.prefill_tok_s_low, b.prefill_tok_s_high) == pytest.approx((500.0, 2000.0))
    assert b.ttft_s_low == pytest.approx(1.0 + 0.025)
    assert b.ttft_s_high == pytest.approx(4.0 + 0.025)


def test_catalog_bands_are_the_current_cross_validated_ones(catalog):
    """The bands in catalog.yaml are what leave-one-source-out gives on today's data."""
    held = cross_validate(
        catalog,
        prepare(load_rows(ROOT / "data" / "benchmarks.csv"), catalog),
        CV_GROUPINGS["source"],
    )
    bands = error_bands(held)
    for f in catalog.calibration.families:
        assert (f.decode_band_pct, f.prefill_band_pct) == bands[f.family], f.family
    # and a band holds about 80 % of the held-out rows it was built from (GB10: 39 rows)
    gb10 = [r for r in held.evaluated if r.family == "gb10" and r.decode_error is not None]
    b = next(f for f in catalog.calibration.families if f.family == "gb10").decode_band_pct
    inside = [1 / (1 + b / 100) <= 1 + r.decode_error <= 1 + b / 100 for r in gb10]
    assert 0.75 <= sum(inside) / len(inside) <= 0.9


def test_estimate_prints_and_exports_the_range():
    args = [
        sys.executable,
        "-m",
        "sizing",
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
        "--engine",
        "llamacpp",
        "--context",
        "1024",
    ]
    d = json.loads(
        subprocess.run(
            [*args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
        ).stdout
    )
    assert d["decode_tok_s_low"] < d["decode_tok_s_per_request"] < d["decode_tok_s_high"]
    assert d["ttft_s_low"] < d["ttft_s"] < d["ttft_s_high"]
    # the measured 59.0 tok/s (llama.cpp benches/dgx-spark.md) lies inside the range
    assert d["decode_tok_s_low"] <= 59.0 <= d["decode_tok_s_high"]
    text = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    line = next(x for x in text.splitlines() if x.strip().startswith("decode / request"))
    assert f"({d['decode_tok_s_low']:.1f}-{d['decode_tok_s_high']:.1f})" in line


def test_catalog_cross_validated_error_is_current(catalog):
    """The held-out errors catalog.yaml states (and the Assumptions page shows) are what the
    data gives today."""

    fresh = cross_validated_summary(
        cross_validated_results(catalog, ROOT / "data" / "benchmarks.csv")
    )
    assert catalog.calibration.cross_validated == fresh
    assert set(fresh) == {
        f"leave one {g} out {k}" for g in ("source", "model family") for k in ("decode", "prefill")
    }
