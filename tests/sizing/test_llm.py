"""Architecture math against published figures and engine logs (data/memory_calibration)."""

from __future__ import annotations

import pytest

from sizing.llm import (
    GIB,
    active_params,
    expected_experts_touched,
    kv_bytes_per_sequence_fixed,
    kv_bytes_per_token,
    quants_for,
    weights_bytes,
)

KIB = 1024


@pytest.mark.parametrize(
    ("model_id", "kib"),
    [  # reference_models.yaml kv_per_token_bf16_kib
        ("openai/gpt-oss-120b", 36.0),
        ("Qwen/Qwen3-235B-A22B", 188.0),
        ("zai-org/GLM-4.5", 368.0),
        ("deepseek-ai/DeepSeek-V3", 68.625),
        ("Qwen/Qwen3-Next-80B-A3B", 24.0),
        ("google/gemma-3-27b-it", 80.0),
        ("MiniMaxAI/MiniMax-M2", 248.0),
        ("meta-llama/Llama-3.3-70B-Instruct", 320.0),
    ],
)
def test_kv_bytes_per_token_bf16(catalog, model_id, kib):
    assert kv_bytes_per_token(catalog.model(model_id), "bf16") == kib * KIB


def test_kv_fp8_halves_and_mla_is_replicated_under_tp(catalog):
    ds = catalog.model("deepseek-ai/DeepSeek-V3")
    assert kv_bytes_per_token(ds, "fp8") == 34.3125 * KIB
    assert kv_bytes_per_token(ds, "bf16", tp=8) == kv_bytes_per_token(ds, "bf16")


def test_kv_sharded_by_tp_never_below_one_head(catalog):
    # SGLang log, Qwen3-235B-A22B FP8 on 4 x H100: K 8.23 + V 8.23 GB(=GiB) for 367,404 tokens
    q = catalog.model("Qwen/Qwen3-235B-A22B")
    per_rank = kv_bytes_per_token(q, "bf16", tp=4)
    assert per_rank == pytest.approx(16.46 * GIB / 367404, rel=0.01)
    assert kv_bytes_per_token(q, "bf16", tp=8) == per_rank  # 4 KV heads: 1 per rank at TP4+


def test_llamacpp_gpt_oss_kv_log(catalog):
    # llama.cpp log: 2016 cells, 18 layers -> 70.88 MiB; SWA cache 640 cells -> 22.50 MiB
    m = catalog.model("openai/gpt-oss-120b")
    assert 2016 * kv_bytes_per_token(m, "bf16") / 2**20 == pytest.approx(70.875)
    swa = kv_bytes_per_sequence_fixed(m, "bf16", context_tokens=640)
    assert swa / 2**20 * 640 / 128 == pytest.approx(22.5)  # the window holds 128 of 640 cells


def test_sliding_window_caps_and_linear_state_is_constant(catalog):
    gemma = catalog.model("google/gemma-3-27b-it")
    at_window = kv_bytes_per_sequence_fixed(gemma, "bf16", context_tokens=1024)
    assert at_window / 2**20 == pytest.approx(416.0)  # reference_models.yaml
    assert kv_bytes_per_sequence_fixed(gemma, "bf16", context_tokens=100_000) == at_window
    nxt = catalog.model("Qwen/Qwen3-Next-80B-A3B")
    short = kv_bytes_per_sequence_fixed(nxt, "bf16", context_tokens=10)
    assert short == kv_bytes_per_sequence_fixed(nxt, "bf16", context_tokens=200_000)
    # 36 x (32*128*128 recurrent + 8192*3 conv) elems x 2 B = 37.69 MiB ("~38 MiB", reference)
    assert short / 2**20 == pytest.approx(37.6875)


def test_gpt_oss_weights_match_published_sizes(catalog):
    m, q = catalog.model("openai/gpt-oss-120b"), catalog.quant("mxfp4")
    assert weights_bytes(m, q, catalog) / GIB == pytest.approx(60.8, rel=0.01)  # model card
    # llama-bench reports 59.02 GiB for ggml-org's GGUF (non-expert tensors in Q8_0)
    assert weights_bytes(m, q, catalog, engine_id="llamacpp") / GIB == pytest.approx(
        59.02, rel=0.01
    )


def test_ds4_files_match_the_download_script(catalog):
    """antirez/ds4 download_model.sh: q2 "about 81 GB", q4 "about 153 GB" on disk (GiB, as
    ls -h and Finder-free tools print); MTP ships as a separate file and is not loaded."""
    m = catalog.model("deepseek-ai/DeepSeek-V4-Flash")
    q2 = weights_bytes(m, catalog.quant("ds4_q2"), catalog, engine_id="ds4") / GIB
    q4 = weights_bytes(m, catalog.quant("ds4_q4"), catalog, engine_id="ds4") / GIB
    assert q2 == pytest.approx(81, rel=0.03)
    assert q4 == pytest.approx(153, rel=0.03)
    # the 2-bit file fits one 128 GB GB10 (121.7 GiB visible), the 4-bit one does not
    assert q2 < catalog.platform("asus-gx10-1tb").accelerator_memory_gib < q4


def test_engine_files_exist_only_for_their_model(catalog):
    assert {"ds4_q2", "ds4_q4"} <= set(
        quants_for(catalog.model("deepseek-ai/DeepSeek-V4-Flash"), catalog)
    )
    for model_id in ("deepseek-ai/DeepSeek-V3", "Qwen/Qwen3-30B-A3B", "openai/gpt-oss-120b"):
        assert not {"ds4_q2", "ds4_q4"} & set(quants_for(catalog.model(model_id), catalog))


def test_weights_match_vllm_logs(catalog):
    # "Loading model weights took 67.7229 GB" (GiB) for Llama-3.1-70B w8a8 on one GPU
    llama = catalog.model("meta-llama/Llama-3.1-70B-Instruct")
    assert weights_bytes(llama, catalog.quant("int8"), catalog) / GIB == pytest.approx(
        67.72, rel=0.01
    )
    # "Loading model weights took 13.9476 GB" per rank, R1-Distill-Qwen-14B bf16 at TP=2
    qwen = catalog.model("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B")
    assert weights_bytes(qwen, catalog.quant("bf16"), catalog) / GIB / 2 == pytest.approx(
        13.95, rel=0.02
    )
    # "Loading model weights took 57.7520 GB" per rank, Llama-3.1-405B-Instruct-FP8 at TP=8:
    # Meta's FP8 covers the MLPs only (attention stays bf16); the catalog's fp8_mlp does not
    # exempt the first and last layers' MLPs (bf16 in the checkpoint, +0.61 GiB per rank)
    llama405 = catalog.model("meta-llama/Llama-3.1-405B")
    per_rank = weights_bytes(llama405, catalog.quant("fp8_mlp"), catalog) / GIB / 8
    assert per_rank == pytest.approx(57.75, rel=0.035)
    assert per_rank + 0.61 == pytest.approx(57.75, rel=0.02)
    # the generic block-scaled fp8 (attention in fp8 too) would be 10 GiB short per rank
    assert weights_bytes(llama405, catalog.quant("fp8"), catalog) / GIB / 8 < 50


def test_active_params_close_to_published(catalog):
    for model_id, published in [
        ("openai/gpt-oss-120b", 5.1),
        ("deepseek-ai/DeepSeek-V3", 37),
        ("Qwen/Qwen3-235B-A22B", 22),
    ]:
        assert active_params(catalog.model(model_id)) / 1e9 == pytest.approx(published, rel=0.05)


def test_expected_experts_touched_hand_values():
    assert expected_experts_touched(128, 4, 1) == pytest.approx(4.0)
    # 128 * (1 - (124/128)**32) = 81.66 (hand-computed)
    assert expected_experts_touched(128, 4, 32) == pytest.approx(81.66, abs=0.02)
    assert expected_experts_touched(128, 4, 10_000) == pytest.approx(128.0)
    assert expected_experts_touched(128, 4, 0) == 0.0
