"""Throughput model against the published headline figures and measured multi-unit behaviour.

Measured references (data/benchmarks.csv): gpt-oss-120b on one GB10 59.0 tok/s (llama.cpp),
58.8-59.5 (tuned vLLM); on two GB10 with TP=2 75.96 (vLLM); dense 70B on GB10 2.7 (FP8,
SGLang) to 4.7 (Q4_K_M, Ollama); the reference guide quotes ~134 tok/s for gpt-oss-120b on
one RTX PRO 6000 and "~1.4x, not 2x" for two GB10s.
"""

from __future__ import annotations

import pytest

from sizing.scenario import Scenario, resolve
from sizing.throughput import throughput
from tests.sizing.conftest import run

GPT = "openai/gpt-oss-120b"
GX10 = "asus-gx10-1tb"


def test_gpt_oss_120b_on_one_gb10(catalog):
    """llama.cpp 59.0 (benches/dgx-spark.md); vLLM with the --mxfp4-layers recipe 59.0-59.5
    (rows 18, 41); vLLM on the plain checkpoint 33-34 (stock playbook image, row 44)."""
    for engine, weights, low, high in (
        ("llamacpp", "mxfp4", 53, 62),
        ("vllm", "mxfp4_all", 54, 63),
        ("vllm", "mxfp4", 29, 38),
    ):
        _, _, t = run(catalog, GX10, 1, "tp", GPT, weights, engine=engine)
        assert low <= t.decode_tok_s_per_request <= high, (engine, weights)


def test_gpt_oss_120b_tp2_is_well_under_2x(catalog):
    """Spark Arena leaderboard, recipe, TP=2: 75.96 tok/s (row 40)."""
    _, _, one = run(catalog, GX10, 1, "tp", GPT, "mxfp4_all", engine="vllm")
    _, _, two = run(catalog, GX10, 2, "tp", GPT, "mxfp4_all", engine="vllm")
    # +10 % at most: the 2-unit all-reduce is the RoCE transport model's (~46 us, NCCL's
    # 2.7 us step + a base solved from the 4-Spark in-engine figure), no longer a flat 55 us
    assert 69 <= two.decode_tok_s_per_request <= 84
    assert 1.2 <= two.decode_tok_s_per_request / one.decode_tok_s_per_request <= 1.45
    assert two.allreduce_ms_per_step > 3.0  # 73 all-reduces x ~46 us: the missing 0.6x


def test_dense_70b_on_gb10_is_single_digit(catalog):
    for weights, engine in (("fp8", "vllm"), ("q4_k_m", "llamacpp"), ("int4", "vllm")):
        _, fit, t = run(
            catalog, GX10, 1, "tp", "meta-llama/Llama-3.3-70B-Instruct", weights, engine=engine
        )
        assert fit.fits
        assert 1.5 <= t.decode_tok_s_per_request < 10, weights


def test_gpt_oss_120b_on_rtx_pro_6000_well_above_100(catalog):
    _, fit, t = run(catalog, "rtx-pro-6000-ws", 1, "tp", GPT, "mxfp4", engine="vllm")
    assert fit.fits
    assert t.decode_tok_s_per_request > 100
    # the build guide (seeds/000_44c8e32581abac25.txt) quotes 134 tok/s for this card and
    # model; vLLM's GB10-fitted factor once pushed the prediction to 354 (2.6x): keep the
    # prediction within 1.6x of a published figure
    assert t.decode_tok_s_per_request < 1.6 * 134


def test_layer_split_does_not_speed_a_single_stream(catalog):
    _, _, one = run(catalog, GX10, 1, "tp", GPT, "mxfp4", engine="llamacpp")
    _, _, pp2 = run(catalog, GX10, 2, "pp", GPT, "mxfp4", engine="llamacpp")
    assert pp2.decode_tok_s_per_request <= one.decode_tok_s_per_request
    # measured: 3090 layer split 2 -> 4 GPUs 16.57 -> 17.07 tok/s (flat)
    _, _, two = run(
        catalog,
        "rtx-3090",
        2,
        "pp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "q4_k_m",
        engine="llamacpp",
        context=256,
    )
    _, _, four = run(
        catalog,
        "rtx-3090",
        4,
        "pp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "q4_k_m",
        engine="llamacpp",
        context=256,
    )
    assert abs(four.decode_tok_s_per_request / two.decode_tok_s_per_request - 1) < 0.1


def test_pipeline_overlaps_micro_batches_in_aggregate(catalog):
    _, _, c1 = run(catalog, GX10, 2, "pp", GPT, "mxfp4", engine="vllm", concurrency=1)
    _, _, c8 = run(catalog, GX10, 2, "pp", GPT, "mxfp4", engine="vllm", concurrency=8)
    # 8 streams = 2 micro-batches of 4 keep both stages busy: each step reads the weights
    # once per micro-batch (plus the experts 4 sequences touch), so the aggregate grows
    # ~3.5x over one stream (which already runs at one unit's speed), and every stream is
    # slower than the lone one
    assert c8.decode_tok_s_total > 3 * c1.decode_tok_s_total
    assert c8.decode_tok_s_per_request < c1.decode_tok_s_per_request


def test_replicas_beat_tp_in_aggregate_at_high_concurrency(catalog):
    # Compute-bound regime: dense 8B FP8, 256 short streams on two GB10s. TP still pays its
    # all-reduces; replicas don't. (With long contexts decode is KV-read bound and TP's
    # halved weight traffic can win: see the README's notes on the model.)
    kwargs = dict(engine="vllm", concurrency=256, context=256)
    _, _, tp = run(catalog, GX10, 2, "tp", "meta-llama/Llama-3.1-8B", "fp8", **kwargs)
    _, _, rep = run(catalog, GX10, 2, "replicas", "meta-llama/Llama-3.1-8B", "fp8", **kwargs)
    assert rep.decode_tok_s_total > tp.decode_tok_s_total
    # ...while TP wins the single stream.
    _, _, tp1 = run(catalog, GX10, 2, "tp", "meta-llama/Llama-3.1-8B", "fp8", engine="vllm")
    _, _, rep1 = run(catalog, GX10, 2, "replicas", "meta-llama/Llama-3.1-8B", "fp8", engine="vllm")
    assert tp1.decode_tok_s_per_request > rep1.decode_tok_s_per_request


def test_longer_context_slows_decode_and_prefill(catalog):
    _, _, short = run(catalog, GX10, 1, "tp", GPT, "mxfp4", engine="llamacpp", context=2048)
    _, _, long = run(catalog, GX10, 1, "tp", GPT, "mxfp4", engine="llamacpp", context=32768)
    # measured (llama-bench): 59.02 at depth 0 -> 41.35 at depth 32768
    assert 0.6 < long.decode_tok_s_per_request / short.decode_tok_s_per_request < 0.85
    assert long.ttft_s > 10 * short.ttft_s


def test_speculative_multiplier_scales_decode(catalog):
    base = Scenario(GX10, 1, "tp", GPT, "mxfp4", engine="vllm")
    spec = Scenario(GX10, 1, "tp", GPT, "mxfp4", engine="vllm", speculative_multiplier=1.8)
    speeds = []
    for s in (base, spec):
        r = resolve(s, catalog)
        speeds.append(throughput(r, catalog).decode_tok_s_per_request)
    # equal up to float rounding (x 1.8 applied at a different point of the product)
    assert speeds[1] == pytest.approx(speeds[0] * 1.8, rel=1e-12)
