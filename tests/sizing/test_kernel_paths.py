"""Kernel paths: an engine's efficiency per (platform family, weight format), the per-layer
fixed costs, and the read ceiling no fitted efficiency may pass (issue 11, item 2)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from sizing import kernel
from sizing.calibrate import Case, RowResult, _path_factors, fit_cases, load_rows, prepare
from sizing.catalog import EngineCalibration, FamilyCalibration

FAM = FamilyCalibration(
    family="gb10",
    bandwidth_efficiency=0.7,
    read_ceiling=0.857,
    prefill_compute_efficiency=0.1,
    decode_compute_efficiency=0.1,
    decode_band_pct=40,
    prefill_band_pct=100,
    decode_borrowed=False,
    prefill_borrowed=False,
    note="n",
    source=["data/benchmarks.csv"],
)


def _engine(**kw: object) -> EngineCalibration:
    return EngineCalibration(
        engine="vllm",
        decode_factor=0.9,
        prefill_factor=1.0,
        decode_borrowed=False,
        note="n",
        **kw,  # type: ignore[arg-type]
    )


def test_path_factor_overrides_family_and_engine_factor():
    e = _engine(family_decode_factors={"gb10": 0.8}, path_decode_factors={"gb10/mxfp4": 0.7})
    assert e.decode_factor_on("gb10", "mxfp4") == 0.7
    assert e.decode_factor_on("gb10", "fp8") == 0.8  # no own path: the family's
    assert e.decode_factor_on("gb10") == 0.8
    assert e.decode_factor_on("strix-halo", "mxfp4") == 0.9  # no own family: engine-wide
    # 0.7 x 0.7 = 0.49 of nameplate on the path, 0.7 x 0.8 = 0.56 elsewhere on GB10
    assert kernel.calibration_columns(FAM, e, 20.0, "mxfp4")[
        "bandwidth_efficiency"
    ] == pytest.approx(0.49)
    assert kernel.calibration_columns(FAM, e, 20.0, "fp8")["bandwidth_efficiency"] == pytest.approx(
        0.56
    )


def test_a_path_factor_never_streams_above_the_read_ceiling():
    e = _engine(path_decode_factors={"gb10/int4": 2.0})
    # 0.7 x 2.0 = 1.4 of nameplate is capped at the measured 0.857
    assert kernel.calibration_columns(FAM, e, 0.0, "int4")["bandwidth_efficiency"] == pytest.approx(
        0.857
    )


def _row(n: int, source: str, weights: str, family: str = "gb10") -> RowResult:
    return RowResult(
        row=n,
        label="x",
        source_url=source,
        family=family,
        engine="vllm",
        measured_decode=10.0,
        predicted_decode=10.0,
        measured_prefill=None,
        predicted_prefill=None,
        weights=weights,
    )


def test_a_path_needs_three_rows_from_two_sources():
    one_source = [_row(i, "https://a", "mxfp4") for i in range(5)]
    two_sources = [_row(10 + i, "https://a" if i < 2 else "https://b", "fp8") for i in range(3)]
    too_few = [_row(20 + i, f"https://{i}", "nvfp4") for i in range(2)]
    rows = one_source + two_sources + too_few
    implied = {r.row: math.log(0.8) for r in rows}
    implied[12] = math.log(0.6)  # median of 0.8, 0.8, 0.6 is 0.8
    own = _path_factors(rows, implied, {"gb10": FAM})
    assert own == {"gb10/fp8": pytest.approx(0.8)}


def test_path_factor_is_capped_by_the_family_ceiling():
    rows = [_row(i, f"https://{i}", "int4") for i in range(3)]
    own = _path_factors(rows, {r.row: math.log(3.0) for r in rows}, {"gb10": FAM})
    # 0.857 / 0.7 = 1.224: the factor at which the path would read at the ceiling
    assert own["gb10/int4"] == pytest.approx(1.224, abs=1e-3)


def test_layer_seconds_by_hand():
    """10 µs per layer, plus 200 µs on the 3 of 4 layers with a recurrent state (Qwen3.5's
    3:1 linear-attention pattern): 10 + 0.75 x 200 = 160 µs per layer on average."""
    t = {
        "layer_overhead_s": np.array([10e-6, 10e-6]),
        "recurrent_layer_fraction": np.array([0.75, 0.0]),
        "recurrent_layer_overhead_s": np.array([200e-6, 200e-6]),
        "units_count": np.array([1, 1]),
    }
    assert kernel._layer_s(t) == pytest.approx([160e-6, 10e-6])
    # a table without the columns (an older cached table) costs the plain per-layer overhead
    assert kernel._layer_s(
        {"layer_overhead_s": np.array([10e-6]), "units_count": np.array([1])}
    ) == pytest.approx([10e-6])


def test_no_fitted_efficiency_above_the_read_ceiling(catalog):
    """Property of the committed fit: every family efficiency, and every engine factor on a
    family or a kernel path, reads no faster than the family's measured ceiling."""
    cal = catalog.calibration
    fams = {f.family: f for f in cal.families}
    for f in cal.families:
        assert f.bandwidth_efficiency <= f.read_ceiling + 1e-9, f.family
    for e in cal.engines:
        factors = [(fam, v) for fam, v in e.family_decode_factors.items()]
        factors += [(k.split("/")[0], v) for k, v in e.path_decode_factors.items()]
        for fam, v in factors:
            f = fams[fam]
            assert f.bandwidth_efficiency * v <= f.read_ceiling + 2e-3, (e.engine, fam, v)
        for key in e.path_decode_factors:
            fam, weights = key.split("/")
            assert fam in fams, key
            assert weights in {q.id for q in catalog.quantizations}, key


def test_every_own_path_has_rows_from_two_sources(catalog):
    """The committed path factors are backed by the calibration file as the fit requires."""
    text = (Path(__file__).resolve().parents[2] / "data" / "benchmarks.csv").read_text(
        encoding="utf-8"
    )
    rows = list(csv.DictReader(text.splitlines()))
    family_of = {p.id: p.family for p in catalog.platforms}
    for e in catalog.calibration.engines:
        for key in e.path_decode_factors:
            fam, weights = key.split("/")
            on = [
                r
                for r in rows
                if r["evaluate"] == "yes"
                and r["engine_id"] == e.engine
                and r["weights_id"] == weights
                and family_of.get(r["platform_id"]) == fam
                and not r.get("spec_method")
            ]
            assert len(on) >= 3, (e.engine, key)
            assert len({r["source_url"] for r in on}) >= 2, (e.engine, key)


def test_an_engine_with_every_row_held_out_falls_back_to_the_reference(catalog):
    """Cross-validation may not borrow the full fit: with all ds4 rows held out, ds4's
    factor is llama.cpp's (1.0), not the catalog's value fitted on those rows."""
    cases = prepare(
        load_rows(Path(__file__).resolve().parents[2] / "data" / "benchmarks.csv"), catalog
    )
    ds4 = next(e for e in catalog.calibration.engines if e.engine == "ds4")
    assert ds4.decode_factor != 1.0
    train = [c for c in cases if not (isinstance(c, Case) and c.engine == "ds4")]
    cal, _ = fit_cases(
        catalog.calibration, train, overheads_us=(catalog.calibration.layer_overhead_us,)
    )
    held = next(e for e in cal.engines if e.engine == "ds4")
    assert held.decode_factor == 1.0
    assert not held.path_decode_factors
