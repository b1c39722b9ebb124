"""Memory fit: usable memory, weights per unit, KV capacity — hand-computed values."""

from __future__ import annotations

import pytest

from sizing.llm import GIB
from tests.sizing.conftest import run

GPT = "openai/gpt-oss-120b"


def test_vllm_budget_matches_gb10_log(catalog):
    # vLLM on GB10: "Desired GPU memory utilization is (0.6, 73.01 GiB)" of 121.69 GiB
    _, fit, _ = run(catalog, "dgx-spark-fe-4tb", 1, "tp", GPT, "mxfp4", engine="vllm", mem_util=0.6)
    assert fit.usable_gib_per_unit == pytest.approx(73.01, abs=0.01)


def test_gpt_oss_on_one_gb10_hand_computed(catalog):
    _, fit, _ = run(
        catalog,
        "asus-gx10-1tb",
        1,
        "tp",
        GPT,
        "mxfp4",
        engine="vllm",
        context=131072,
        concurrency=1,
    )
    usable = 121.69 * 0.85  # GB10 default utilization
    assert fit.usable_gib_per_unit == pytest.approx(usable, abs=0.01)
    # vLLM overhead: non-torch 2.2 GiB (GB10) + activation 8,192 x 2 B x (3 x 11,520 + 4 x
    # 2,880) + 256 x 201,088 x 4 B logits + CUDA graphs 86 x 36 layers x 2,880 x 100 B
    overhead = (
        2.2 + (8192 * 2 * (3 * 11520 + 4 * 2880) + 256 * 201088 * 4 + 86 * 36 * 2880 * 100) / GIB
    )  # 3.925 GiB
    pool = usable - 60.67 - overhead  # weights (bf16 rest) and overhead
    assert fit.kv_cache_gib_per_unit == pytest.approx(pool, abs=0.02)
    # 36 KiB per token for the 18 full layers, bf16
    assert fit.kv_capacity_tokens == pytest.approx(pool * GIB / (36 * 1024), rel=1e-3)
    assert fit.fits
    assert fit.max_context_tokens == 131072  # capped at the model's maximum


def test_tp_halves_weights_and_kv_per_unit(catalog):
    _, one, _ = run(catalog, "asus-gx10-1tb", 1, "tp", GPT, "mxfp4", engine="vllm")
    _, two, _ = run(catalog, "asus-gx10-1tb", 2, "tp", GPT, "mxfp4", engine="vllm")
    assert two.weights_gib_per_unit == pytest.approx(one.weights_gib_per_unit / 2)
    assert two.kv_bytes_per_token_per_unit == one.kv_bytes_per_token_per_unit / 2


def test_dense_70b_bf16_does_not_fit_one_gb10_but_fits_two(catalog):
    _, one, _ = run(
        catalog,
        "asus-gx10-1tb",
        1,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "bf16",
        engine="vllm",
    )
    assert not one.fits
    assert "exceed the usable" in one.reason
    _, two, _ = run(
        catalog,
        "asus-gx10-1tb",
        2,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "bf16",
        engine="vllm",
    )
    assert two.fits


def test_kv_limit_reported_as_reason_and_max_concurrency(catalog):
    # Llama-3.3-70B fp8 on one GB10: 320 KiB/token; ~33 GiB pool holds ~108k tokens
    _, fit, _ = run(
        catalog,
        "asus-gx10-1tb",
        1,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "fp8",
        engine="vllm",
        context=65536,
        concurrency=4,
    )
    assert not fit.fits
    assert "KV for 4 x 65536 tokens" in fit.reason
    assert fit.max_concurrency == 1
    assert 65536 <= fit.max_context_tokens * 4 <= fit.kv_capacity_tokens + 4 * 16


def test_replicas_split_requests_pp_splits_layers(catalog):
    _, rep, _ = run(
        catalog, "asus-gx10-1tb", 2, "replicas", GPT, "mxfp4", engine="vllm", concurrency=8
    )
    assert rep.sequences_per_group == 4
    _, pp, _ = run(catalog, "asus-gx10-1tb", 2, "pp", GPT, "mxfp4", engine="vllm")
    _, one, _ = run(catalog, "asus-gx10-1tb", 1, "tp", GPT, "mxfp4", engine="vllm")
    # half the layers plus the larger of embedding / lm_head (0.58 B params at bf16)
    assert pp.weights_gib_per_unit < one.weights_gib_per_unit * 0.55
