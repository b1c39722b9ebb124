"""Speculative decoding / MTP (issue 11 item 9): accepted tokens, bounds, refusals, data.

Hand-computed: E = (1 - a^(k+1)) / (1 - a) = 1 + a + ... + a^k (Leviathan et al. 2023,
arXiv 2211.17192). Measured: Qwen3.5-122B-A10B NVFP4 on one GB10 (vLLM), ~20 tok/s without
MTP and ~38-40 with it (NVIDIA forum thread 365639, data/benchmarks.csv rows 39 and 73).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.sizing_main import main
from sizing.calibrate import run_calibration
from sizing.estimate import estimate
from sizing.scenario import Scenario, ScenarioError
from sizing.speculative import (
    accept_rate_from,
    acceptance_range,
    expected_accepted_tokens,
    load_spec_data,
)

ROOT = Path(__file__).resolve().parents[2]
GX10 = "asus-gx10-1tb"
Q397 = "Qwen/Qwen3.5-397B-A17B"
Q27 = "Qwen/Qwen3.6-27B"


def test_expected_accepted_tokens_hand_computed():
    assert expected_accepted_tokens(0.8, 3) == pytest.approx(1 + 0.8 + 0.64 + 0.512)
    assert expected_accepted_tokens(0.5, 1) == pytest.approx(1.5)
    assert expected_accepted_tokens(0.0, 4) == pytest.approx(1.0)
    assert expected_accepted_tokens(1.0, 3) == pytest.approx(4.0)
    assert expected_accepted_tokens(0.9, 0) == 1.0


def test_published_figures_convert_to_per_token_rates():
    # accept length 3.28 at k=3 (Qwen3.5-397B MTP, MT-Bench): 1 + a + a^2 + a^3 = 3.28
    a = accept_rate_from("accept_length", 3.28, 3)
    assert 1 + a + a**2 + a**3 == pytest.approx(3.28, abs=1e-6)
    # llama.cpp "rate" = accepted / drafted at k=4: 0.811 -> E = 1 + 4 x 0.811
    b = accept_rate_from("draft_acceptance_rate", 0.811, 4)
    assert expected_accepted_tokens(b, 4) == pytest.approx(1 + 4 * 0.811, abs=1e-6)
    assert accept_rate_from("per_token_rate", 0.85, None) == 0.85


def test_every_figure_has_a_source_and_code_accepts_more_than_prose():
    data = load_spec_data()
    assert all(m.source.startswith("https://") and m.date for m in data.measurements)
    for method in ("mtp", "eagle"):
        _, _, prose_c, _, _ = acceptance_range(method, "prose", "Qwen3.5")
        _, _, code_c, _, _ = acceptance_range(method, "code", "Qwen3.5")
        assert code_c > prose_c
    assert acceptance_range("mtp", "code", "Qwen3.5")[0] > 0.9


def _est(model=Q397, weights="nvfp4", units=4, concurrency=1, context=8192, catalog=None, **spec):
    s = Scenario(
        GX10,
        units,
        "tp",
        model,
        weights,
        engine="vllm",
        context_tokens=context,
        concurrency=concurrency,
        **spec,
    )
    return estimate(s, catalog).to_dict()


def test_speedup_between_physical_bounds(catalog):
    d = _est(catalog=catalog, speculative="mtp", spec_content="code")
    k, e = d["spec_draft_tokens"], d["spec_accepted_tokens_per_step"]
    assert k == 3
    assert 1.0 < d["spec_speedup"] <= e <= k + 1
    # lower bound: the verify step costs at most (k+1) plain steps, plus the drafts
    t0 = 1.0 / d["decode_tok_s_per_request_no_spec"]
    draft_s = d["spec_draft_ms_per_step"] / 1e3
    assert d["spec_speedup"] >= e * t0 / ((k + 1) * t0 + draft_s) - 1e-9
    # the figures and the band
    assert d["decode_tok_s_per_request"] == pytest.approx(
        d["decode_tok_s_per_request_no_spec"] * d["spec_speedup"], rel=2e-3
    )
    assert d["spec_accepted_tokens_per_step_low"] <= e <= d["spec_accepted_tokens_per_step_high"]
    off = _est(catalog=catalog)
    assert off["speculative"] == "none"
    assert off["spec_accepted_tokens_per_step"] == 1.0
    assert off["decode_tok_s_per_request"] == pytest.approx(
        d["decode_tok_s_per_request_no_spec"], rel=1e-3
    )
    # the band is wider than the platform band alone (acceptance range added)
    width = d["decode_tok_s_high"] / d["decode_tok_s_low"]
    assert width > off["decode_tok_s_high"] / off["decode_tok_s_low"]
    # MTP weights are loaded: 6.6 B MTP params at NVFP4 over 4 ranks
    assert d["weights_gib_per_unit"] > off["weights_gib_per_unit"] + 0.5


@settings(max_examples=15, deadline=None)
@given(c=st.integers(min_value=1, max_value=96))
def test_speedup_shrinks_once_the_verify_step_is_compute_bound(catalog, c):
    """A dense model: from the concurrency where the (k+1)-token verify step is compute
    bound, more streams only lower the gain (weights are no longer the cost to share)."""
    d1 = _est(
        model=Q27,
        weights="fp8",
        units=1,
        concurrency=c,
        context=2048,
        catalog=catalog,
        speculative="mtp",
    )
    d2 = _est(
        model=Q27,
        weights="fp8",
        units=1,
        concurrency=2 * c,
        context=2048,
        catalog=catalog,
        speculative="mtp",
    )
    if d1["decode_bound"] == "compute":
        assert d2["spec_speedup"] <= d1["spec_speedup"] + 1e-6


def test_high_concurrency_loses_most_of_the_gain(catalog):
    low = _est(
        model=Q27,
        weights="fp8",
        units=1,
        concurrency=1,
        context=2048,
        catalog=catalog,
        speculative="mtp",
    )
    high = _est(
        model=Q27,
        weights="fp8",
        units=1,
        concurrency=128,
        context=2048,
        catalog=catalog,
        speculative="mtp",
    )
    assert high["decode_bound"] == "compute"
    assert high["spec_speedup"] < low["spec_speedup"]


def test_refusals_are_one_line(catalog):
    with pytest.raises(ScenarioError, match="openai/gpt-oss-120b has no MTP head"):
        _est(
            model="openai/gpt-oss-120b",
            weights="mxfp4",
            units=1,
            catalog=catalog,
            speculative="mtp",
        )
    with pytest.raises(
        ScenarioError, match="no published acceptance figure for EAGLE-3 on structured"
    ):
        _est(catalog=catalog, speculative="eagle", spec_content="structured")
    with pytest.raises(ScenarioError, match="--spec-accept"):  # no sourced draft figure
        _est(
            model="Qwen/Qwen3-235B-A22B",
            weights="int4",
            units=2,
            catalog=catalog,
            speculative="draft",
            spec_draft_model="Qwen/Qwen3-30B-A3B",
        )
    with pytest.raises(ScenarioError, match="does not share"):
        _est(
            model="Qwen/Qwen3-235B-A22B",
            weights="int4",
            units=2,
            catalog=catalog,
            speculative="draft",
            spec_draft_model="openai/gpt-oss-20b",
            spec_accept=0.7,
        )
    with pytest.raises(ScenarioError, match="not both"):
        _est(catalog=catalog, speculative="mtp", speculative_multiplier=2.0)


def test_draft_model_costs_its_own_decode_step(catalog):
    """With the user's rate: the draft model's weights are loaded and its step is paid k
    times, so the gain is below E (and below the same rate with an MTP head's cheap draft)."""
    d = _est(
        model="Qwen/Qwen3-235B-A22B",
        weights="int4",
        units=2,
        catalog=catalog,
        speculative="draft",
        spec_draft_model="Qwen/Qwen3-30B-A3B",
        spec_accept=0.7,
    )
    off = _est(model="Qwen/Qwen3-235B-A22B", weights="int4", units=2, catalog=catalog)
    e = 1 + 0.7 + 0.7**2 + 0.7**3 + 0.7**4  # default k = 4
    assert d["spec_accepted_tokens_per_step"] == pytest.approx(e, rel=1e-3)
    assert d["spec_speedup"] < e
    assert d["spec_draft_ms_per_step"] > 0
    assert d["weights_gib_per_unit"] > off["weights_gib_per_unit"] + 5  # 30B int4 / 2


def test_cli_mtp_without_head_exits_2(capsys):
    rc = main(
        [
            "estimate",
            "--platform",
            GX10,
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--spec",
            "mtp",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1
    assert "openai/gpt-oss-120b has no MTP head" in err
    rc = main(
        [
            "estimate",
            "--platform",
            "mac-studio-m3-ultra-512gb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            Q397,
            "--weights",
            "int4",
            "--engine",
            "mlx",
            "--spec",
            "mtp",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "does not run MTP" in err


def test_cli_flags_and_json(capsys):
    rc = main(
        [
            "estimate",
            "--platform",
            GX10,
            "--units",
            "4",
            "--parallel",
            "tp",
            "--model",
            Q397,
            "--weights",
            "nvfp4",
            "--spec",
            "mtp",
            "--spec-tokens",
            "2",
            "--content",
            "code",
            "--json",
        ]
    )
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert d["speculative"] == "mtp"
    assert d["spec_draft_tokens"] == 2
    a = d["spec_accept_rate"]
    assert d["spec_accepted_tokens_per_step"] == pytest.approx(1 + a + a * a, rel=1e-3)
    assert d["spec_sources"]


def test_mtp_speedup_matches_the_measured_one_on_gb10(catalog):
    """Qwen3.5-122B NVFP4, one GB10, vLLM: ~20 tok/s without MTP, 38-40 with it (rows 39,
    73): measured x1.95. The predicted speed-up (same model, same calibration) must be
    within 20 % of it; the absolute figures carry the platform's error (row 39 -34 %)."""
    result = run_calibration(catalog, ROOT / "data" / "benchmarks.csv")
    by_row = {r.row: r for r in result.rows}
    plain, mtp = by_row[39], by_row[73]
    assert mtp.speculative == "MTP k=3, prose"
    assert mtp.skip_reason is None
    assert mtp not in result.evaluated  # not used in the fit
    measured = mtp.measured_decode / plain.measured_decode
    predicted = mtp.predicted_decode / plain.predicted_decode
    assert math.isclose(measured, 1.95, rel_tol=0.01)
    assert abs(predicted / measured - 1) < 0.20
    assert mtp.predicted_decode_low < mtp.predicted_decode < mtp.predicted_decode_high
