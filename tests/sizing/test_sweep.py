"""The vectorized sweep agrees with single estimates and covers the whole grid."""

from __future__ import annotations

import random

import pytest

from sizing.estimate import estimate
from sizing.scenario import Scenario, ScenarioError
from sizing.sweep import sweep


@pytest.fixture(scope="module")
def grid(catalog):
    return sweep(catalog, platforms=["asus-gx10-1tb", "rtx-pro-6000-ws", "rtx-3090",
                                     "mac-studio-m3-ultra-256gb"],
                 models=["openai/gpt-oss-120b", "meta-llama/Llama-3.3-70B-Instruct",
                         "deepseek-ai/DeepSeek-V3", "Qwen/Qwen3-Next-80B-A3B",
                         "google/gemma-3-27b-it"])


def test_grid_size_and_no_negative_values(grid):
    # 4 platforms x quants each can run (of bf16/fp8/int4/mxfp4) x 5 models x 8 x 5 x 4;
    # the Mac runs no fp8, and mxfp4 (experts only) is no checkpoint of the 2 dense models
    assert len(grid) == ((4 + 4 + 4 + 3) * 5 - 4 * 2) * 8 * 5 * 4
    numeric = grid.select_dtypes("number")
    assert (numeric >= 0).all().all()
    assert not numeric.isna().any().any()


def test_rows_match_single_estimates(grid, catalog):
    rng = random.Random(7)
    checked = 0
    for i in rng.sample(range(len(grid)), 120):
        row = grid.iloc[i]
        scenario = Scenario(row.platform, int(row.units), row.parallel, row.model, row.weights,
                            engine=row.engine, context_tokens=int(row.context_tokens),
                            concurrency=int(row.concurrency))
        try:
            d = estimate(scenario, catalog).to_dict()
        except ScenarioError:
            assert not row.context_ok or row.units > 1
            continue
        checked += 1
        assert d["fits"] == row.fits
        for key in ("weights_gib_per_unit", "max_context_tokens", "decode_tok_s_per_request",
                    "decode_tok_s_total"):
            assert d[key] == pytest.approx(row[key], rel=1e-3, abs=1e-3), key
    assert checked > 60


def test_more_units_never_lower_usable_memory_in_the_grid(grid):
    fit = grid[grid.context_ok]
    by = fit.groupby(["platform", "model", "weights", "context_tokens", "concurrency"])
    total = (fit.usable_gib_per_unit * fit.units).groupby([fit.platform, fit.model, fit.weights,
                                                            fit.context_tokens,
                                                            fit.concurrency, fit.units]).max()
    for _, series in total.groupby(level=[0, 1, 2, 3, 4]):
        assert series.is_monotonic_increasing
    assert by.ngroups > 0
