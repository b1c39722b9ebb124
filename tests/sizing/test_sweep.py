"""The vectorized sweep agrees with single estimates and covers the whole grid."""

from __future__ import annotations

import pytest

from sizing.sweep import sweep


@pytest.fixture(scope="module")
def grid(catalog):
    return sweep(
        catalog,
        platforms=["asus-gx10-1tb", "rtx-pro-6000-ws", "rtx-3090", "mac-studio-m3-ultra-256gb"],
        models=[
            "openai/gpt-oss-120b",
            "meta-llama/Llama-3.3-70B-Instruct",
            "deepseek-ai/DeepSeek-V3",
            "Qwen/Qwen3-Next-80B-A3B",
            "google/gemma-3-27b-it",
        ],
    )


def test_grid_size_and_no_negative_values(grid):
    # 4 platforms x quants each can run (of bf16/fp8/int4/mxfp4) x 5 models x 8 x 5 x 4;
    # the Mac runs no fp8, and mxfp4 (experts only) is no checkpoint of the 2 dense models
    assert len(grid) == ((4 + 4 + 4 + 3) * 5 - 4 * 2) * 8 * 5 * 4
    numeric = grid.select_dtypes("number")
    assert (numeric >= 0).all().all()
    assert not numeric.isna().any().any()


# Llama-3.3-70B in bf16 on ASUS GX10s, hand-computed (vLLM, bf16 KV):
LLAMA = "meta-llama/Llama-3.3-70B-Instruct"
LLAMA_WEIGHTS_GIB = 70.55e9 * 2 / 2**30  # 70.55 B parameters (model card) x 2 B = 131.4 GiB
LLAMA_KV_B_PER_TOKEN = 80 * 2 * 8 * 128 * 2  # 80 layers x (K, V) x 8 KV heads x 128 x 2 B
GX10_USABLE_GIB = 121.69 * 0.85  # CUDA-visible GiB x gpu_memory_utilization 0.85
# vLLM's overhead per unit at TP=2 over two nodes (catalog engine memory_model): non-torch
# 2.2 (unified) + 0.5 (NCCL across nodes) + activation 8,192 batched tokens x 2 B x
# (3 x 28,672 / 2 + 4 x 8,192) + 256 x 128,256 x 4 B of logits + CUDA graphs 86 x 80 layers
# x 8,192 x 100 B = 2.2 + 0.5 + 1.2786 + 5.2490 = 9.2276 GiB
VLLM_OVERHEAD_GIB = (
    2.2
    + 0.5
    + (8192 * 2 * (3 * 28672 / 2 + 4 * 8192) + 256 * 128256 * 4 + 86 * 80 * 8192 * 100) / 2**30
)
# TP=2: half the weights and half the KV heads per unit; what is left holds
# (103.44 - 65.7 - 9.23) GiB / 163'840 B = ~186'800 tokens of KV on the pair
TP2_CAPACITY_TOKENS = (
    (GX10_USABLE_GIB - LLAMA_WEIGHTS_GIB / 2 - VLLM_OVERHEAD_GIB)
    * 2**30
    / (LLAMA_KV_B_PER_TOKEN / 2)
)


def test_rows_match_hand_computed_figures(grid):
    rows = grid[
        (grid.model == LLAMA) & (grid.weights == "bf16") & (grid.platform == "asus-gx10-1tb")
    ]
    at = rows.set_index(["units", "context_tokens", "concurrency"])
    one = at.loc[(1, 4096, 1)]
    assert one.weights_gib_per_unit == pytest.approx(LLAMA_WEIGHTS_GIB, rel=1e-3)
    assert not one.fits  # 131.4 GiB > the 121.69 GiB a GX10 shows
    for units in (2, 4, 8):  # tensor parallel: weights split evenly
        assert at.loc[(units, 4096, 1)].weights_gib_per_unit == pytest.approx(
            LLAMA_WEIGHTS_GIB / units, rel=1e-3
        )
    for streams in (1, 4, 16, 64):  # max context per stream at a concurrency
        # the model's 128K cap; vLLM blocks of 16 tokens
        expected = min(131072, TP2_CAPACITY_TOKENS // streams // 16 * 16)
        assert at.loc[(2, 4096, streams)].max_context_tokens == pytest.approx(expected, rel=0.002)
    # fits exactly when context x streams tokens of KV fit in the ~186'800 (4096 x 16 =
    # 65'536 does; 16384 x 16 = 262'144 does not)
    for context, streams, fits in (
        (4096, 16, True),
        (16384, 16, False),
        (32768, 4, True),
        (65536, 4, False),
        (131072, 1, True),
        (4096, 64, False),
    ):
        assert bool(at.loc[(2, context, streams)].fits) is fits, (context, streams)
        assert (context * streams <= TP2_CAPACITY_TOKENS) is fits
    assert at.loc[(2, 4096, 1)].max_concurrency == int(TP2_CAPACITY_TOKENS // 4096)  # 45


def test_more_units_never_lower_usable_memory_in_the_grid(grid):
    fit = grid[grid.context_ok]
    by = fit.groupby(["platform", "model", "weights", "context_tokens", "concurrency"])
    total = (
        (fit.usable_gib_per_unit * fit.units)
        .groupby(
            [fit.platform, fit.model, fit.weights, fit.context_tokens, fit.concurrency, fit.units]
        )
        .max()
    )
    for _, series in total.groupby(level=[0, 1, 2, 3, 4]):
        assert series.is_monotonic_increasing
    assert by.ngroups > 0
