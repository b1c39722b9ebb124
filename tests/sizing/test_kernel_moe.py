"""MoE traffic, expert parallel, the per-sequence step cost and CUDA graphs (issue 11 item 3):
the new kernel terms by hand, their invariants, and a public GB10 cluster measurement."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizing import kernel
from sizing.catalog import default_catalog
from sizing.estimate import estimate
from sizing.memory import memory_fit, table_for
from sizing.scenario import Scenario, ScenarioError, resolve

CAT = default_catalog()
GB10 = "dgx-spark-fe-4tb"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _t(**columns: float) -> kernel.Table:
    return {k: np.array([v], dtype=float) for k, v in {"units_count": 1, **columns}.items()}


# ----------------------------------------------------------------------------- by hand
def test_experts_touched_uniform_and_concentrated_by_hand():
    # Qwen3-235B shape: E = 128 experts, k = 8 per token
    t = _t(experts_count=128, experts_per_token_count=8)
    # one token touches its 8 experts: 8 / 128 = 0.0625
    assert kernel._experts_touched_fraction(t, np.array([1.0]))[0] == pytest.approx(0.0625)
    # two tokens, uniform: 1 - (1 - 8/128)^2 = 1 - 0.9375^2 = 0.12109375
    assert kernel._experts_touched_fraction(t, np.array([2.0]))[0] == pytest.approx(0.12109375)
    # concentrated on half the experts (E_eff = 64): 64 x (1 - (56/64)^2) / 128
    #   = 64 x 0.234375 / 128 = 0.1171875 (fewer distinct experts than uniform)
    t["routing_concentration_fraction"] = np.array([0.5])
    assert kernel._experts_touched_fraction(t, np.array([2.0]))[0] == pytest.approx(0.1171875)
    # a dense model reads all its MLP: 1
    dense = _t(experts_count=0, experts_per_token_count=0)
    assert kernel._experts_touched_fraction(dense, np.array([7.0]))[0] == 1.0


def test_expert_parallel_load_imbalance_by_hand():
    def lam(units: int, items: float) -> float:
        t = _t(units_count=units, parallel_code=kernel.EP, experts_count=128)
        return float(kernel._load_imbalance(t, np.array([items]))[0])

    # N = 2, m = 8 touched experts: 1 + sqrt(2 x 1 x ln 2 / 8) = 1 + sqrt(0.17329) = 1.41628
    assert lam(2, 8) == pytest.approx(1 + math.sqrt(2 * math.log(2) / 8))
    assert lam(2, 8) == pytest.approx(1.41628, abs=1e-5)
    # N = 4, m = 32: 1 + sqrt(2 x 3 x ln 4 / 32) = 1 + sqrt(0.25993) = 1.50983
    assert lam(4, 32) == pytest.approx(1.50983, abs=1e-5)
    # never above N (everything on one unit), 1 for one unit or plain tp
    assert lam(4, 0.01) == 4.0
    assert lam(1, 8) == 1.0
    t = _t(units_count=2, parallel_code=kernel.TP, experts_count=128)
    assert kernel._load_imbalance(t, np.array([8.0]))[0] == 1.0


def test_cuda_graph_padding_by_hand():
    t = _t(cuda_graphs_flag=1, cuda_graph_align_tokens=8, cuda_graph_max_batch_count=512)
    del t["units_count"]
    batches = np.array([1, 2, 3, 5, 8, 9, 10, 33, 512, 513], dtype=float)
    t = {k: np.repeat(v, batches.size) for k, v in t.items()}
    # vLLM's capture sizes 1, 2, 4, 8, 16, 24, ..., 512; above 512 no graph, no padding
    assert kernel._graph_batch(t, batches).tolist() == [1, 2, 4, 8, 8, 16, 16, 40, 512, 513]
    eager = {**t, "cuda_graphs_flag": np.zeros(batches.size)}
    assert kernel._graph_batch(eager, batches).tolist() == batches.tolist()


def test_sequence_cost_by_hand():
    # 100 µs per sequence, 10 sequences padded to the capture size 16: 1.6 ms per step
    t = _t(
        sequence_overhead_s=100e-6,
        cuda_graphs_flag=1,
        cuda_graph_align_tokens=8,
        cuda_graph_max_batch_count=512,
        units_count=1,
    )
    assert kernel._sequence_s(t, np.array([10.0]))[0] == pytest.approx(1.6e-3)


def test_expert_dispatch_by_hand():
    # 94 MoE layers x one more collective's fixed cost of 40 µs = 3.76 ms per step under
    # tp+ep (the same bytes and ring steps as tp's all-reduce, one more launch)
    t = _t(units_count=2, parallel_code=kernel.EP, moe_layers_count=94, comm_base_latency_s=40e-6)
    assert kernel._expert_dispatch_s(t)[0] == pytest.approx(94 * 40e-6)
    t["parallel_code"] = np.array([float(kernel.TP)])
    assert kernel._expert_dispatch_s(t)[0] == 0.0


def test_eager_mode_adds_the_per_layer_launch_cost():
    # gpt-oss-120b (36 layers), vLLM on GB10: eager adds 36 x 598 µs = 21.528 ms per step
    # (598 µs = (1/26 - 1/59) s / 36: conselara.dev measured ~59 tok/s with CUDA graphs and
    # ~26 with --enforce-eager; benchmarks.csv row 18)
    s = Scenario(
        GB10, 1, "tp", "openai/gpt-oss-120b", "mxfp4_all", engine="vllm", context_tokens=1024
    )
    on = estimate(s, CAT).speed.step_ms
    off = estimate(replace(s, cuda_graphs=False), CAT).speed.step_ms
    assert off - on == pytest.approx(36 * 0.598, rel=1e-6)
    # and the measured drop comes out: 59 -> ~26 tok/s is x2.27; predicted within 25 %
    ratio = off / on
    assert ratio == pytest.approx((1 / 26) / (1 / 59), rel=0.25)


def test_expert_parallel_reads_more_than_tp_at_one_stream():
    # Qwen3-235B int4 on two GB10s, one stream: the 8 touched experts land unevenly on the
    # two units (max/mean 1.416), so the slowest unit reads more expert bytes than tp's
    # even half, and every MoE layer pays one more collective's fixed cost (RoCE)
    tp = estimate(
        Scenario(GB10, 2, "tp", "Qwen/Qwen3-235B-A22B", "int4", engine="vllm", context_tokens=1024),
        CAT,
    )
    ep = estimate(
        Scenario(
            GB10, 2, "tp+ep", "Qwen/Qwen3-235B-A22B", "int4", engine="vllm", context_tokens=1024
        ),
        CAT,
    )
    assert ep.speed.decode_tok_s_per_request < tp.speed.decode_tok_s_per_request
    assert ep.fit.weights_gib_per_unit == pytest.approx(tp.fit.weights_gib_per_unit)
    moe_layers = sum(1 for x in tp.resolved.model.arch.layers if x.routed_params)
    latency_ms = CAT.transport("roce").base_latency_us / 1e3
    assert ep.speed.allreduce_ms_per_step - tp.speed.allreduce_ms_per_step == pytest.approx(
        moe_layers * latency_ms
    )


# ----------------------------------------------------------------------------- refusals
def test_tp_ep_refused_for_a_dense_model():
    with pytest.raises(ScenarioError, match="dense model"):
        resolve(Scenario(GB10, 2, "tp+ep", "meta-llama/Llama-3.1-8B", "fp8", engine="vllm"), CAT)


def test_cuda_graphs_refused_for_an_engine_without_the_switch():
    with pytest.raises(ScenarioError, match="no CUDA-graph switch"):
        resolve(
            Scenario(
                GB10, 1, "tp", "openai/gpt-oss-120b", "mxfp4", engine="llamacpp", cuda_graphs=True
            ),
            CAT,
        )


def test_new_inputs_show_in_assumptions_and_json():
    e = estimate(
        Scenario(
            GB10,
            2,
            "tp+ep",
            "Qwen/Qwen3-235B-A22B",
            "int4",
            engine="vllm",
            concurrency=8,
            context_tokens=1024,
        ),
        CAT,
    )
    d = e.to_dict()
    assert d["parallel"] == "tp+ep"
    assert d["cuda_graphs"] is True
    assert d["routing_concentration"] == 1.0
    assert d["sequence_overhead_us_per_step"] >= 0
    text = " ".join(d["assumptions"])
    for words in (
        "CUDA graphs on",
        "expert parallel over 2 units",
        "uniform routing",
        "per-sequence cost",
    ):
        assert words in text


# ----------------------------------------------------------------------------- invariants
def _static(model: str, weights: str) -> dict[str, float]:
    r = resolve(Scenario(GB10, 1, "tp", model, weights, engine="vllm"), CAT)
    return dict(kernel.static_row(r.platform, r.model, r.quant, r.engine, CAT))


STATICS = {
    m: _static(m, w)
    for m, w in [
        ("openai/gpt-oss-120b", "mxfp4"),
        ("Qwen/Qwen3-235B-A22B", "int4"),
        ("meta-llama/Llama-3.1-8B", "fp8"),
    ]
}


@SETTINGS
@given(
    st.sampled_from(sorted(STATICS)),
    st.sampled_from([2, 4, 8]),
    st.integers(8, 64),
    st.floats(2.0, 20.0),
)
def test_replicas_total_at_least_tp_once_per_sequence_cost_dominates(
    model, units, per_unit, dominance
):
    """Aggregate tok/s of N replicas >= TP over N units when the per-sequence cost of the
    batch is at least twice the time one unit needs to read a whole copy (weights + KV):
    TP saves at most that read time per step, and pays the per-sequence cost of the whole
    batch on every rank, where each replica pays it for its 1/N of the batch."""
    concurrency = 8 * units * per_unit  # whole capture sizes for both layouts
    base = {
        **STATICS[model],
        "context_tokens": 1024.0,
        "concurrency_count": concurrency,
        "memory_utilization_fraction": 0.85,
        "spec_speed_multiplier": 1.0,
        "kv_bytes_per_elem": 2.0,
        "units_count": float(units),
    }
    one = kernel.table_from_rows([base], {"units_count": 1.0, "parallel_code": kernel.TP})
    mem1 = kernel.memory(one)
    per_seq_bytes = mem1["kv_bytes_per_token"][0] * 1024 + mem1["kv_bytes_per_sequence_fixed"][0]
    read_s = (mem1["weights_bytes"][0] + concurrency * per_seq_bytes) / (
        base["memory_bandwidth_bytes_s"] * base["bandwidth_efficiency"]
    )
    seq_s = dominance * read_s / concurrency
    totals = {}
    for par, batch in ((kernel.TP, concurrency), (kernel.REPLICAS, concurrency / units)):
        t = kernel.table_from_rows([base], {"parallel_code": par, "sequence_overhead_s": seq_s})
        d = kernel.decode(t, kernel.memory(t), batch=np.array([float(batch)]))
        totals[par] = float(d["tok_s_total"][0])
    assert totals[kernel.REPLICAS] >= totals[kernel.TP]


MOE = [m.id for m in CAT.models if m.arch.num_experts]
DENSE = [m.id for m in CAT.models if not m.arch.num_experts]


@SETTINGS
@given(
    st.sampled_from(MOE + DENSE),
    st.sampled_from(["tp", "tp+ep", "replicas", "pp"]),
    st.sampled_from([1, 2, 4]),
    st.sampled_from(["nvfp4", "fp8", "int4", "bf16"]),
    st.integers(1024, 65536),
    st.integers(1, 32),
)
def test_memory_never_falls_with_more_units(model, parallel, units, weights, context, concurrency):
    """Doubling the units of a layout never lowers the deployment's KV room: the KV pool per
    unit and the concurrency the deployment holds at the context stay or grow."""

    def fit(n: int):
        try:
            r = resolve(
                Scenario(
                    GB10,
                    n,
                    parallel,
                    model,
                    weights,
                    engine="vllm",
                    context_tokens=context,
                    concurrency=concurrency,
                ),
                CAT,
            )
        except ScenarioError:
            return None
        return memory_fit(r, CAT)

    small, big = fit(units), fit(2 * units)
    if small is None or big is None or (units == 1 and parallel != "tp"):
        return
    assert big.kv_cache_gib_per_unit >= small.kv_cache_gib_per_unit - 1e-9
    assert big.max_concurrency >= small.max_concurrency
    assert big.weights_gib_per_unit <= small.weights_gib_per_unit + 1e-9


def test_memory_of_tp_ep_equals_tp():
    for units in (2, 4):
        a, b = (
            memory_fit(
                resolve(
                    Scenario(
                        GB10,
                        units,
                        par,
                        "Qwen/Qwen3-235B-A22B",
                        "int4",
                        engine="vllm",
                        context_tokens=8192,
                    ),
                    CAT,
                ),
                CAT,
            )
            for par in ("tp", "tp+ep")
        )
        assert (a.weights_gib_per_unit, a.kv_capacity_tokens) == (
            b.weights_gib_per_unit,
            b.kv_capacity_tokens,
        )


def test_table_keys_carry_units():
    r = resolve(Scenario(GB10, 2, "tp+ep", "Qwen/Qwen3-235B-A22B", "int4", engine="vllm"), CAT)
    t = table_for(r, CAT)
    suffixes = (
        "_bytes",
        "_s",
        "_bytes_s",
        "_flop_s",
        "_tokens",
        "_count",
        "_fraction",
        "_efficiency",
        "_flag",
        "_code",
        "_per_token",
        "_per_sequence",
        "_per_elem",
        "_per_pair",
        "_cap1",
        "_cap2",
        "_multiplier",
    )
    assert [k for k in t if not k.endswith(suffixes)] == []


# ----------------------------------------------------------------------------- GB10 cluster
# kubis.ai, "Nemotron-3-Super-120B: Topology Benchmark on DGX Spark" (2026-03-30, read
# 2026-12-03): vLLM 0.17.2rc1 NVFP4, llama-benchy pp1024 tg128, aggregate decode tok/s of
# one GB10 (solo) and two at TP=2 over the 200G stacking link (rows 19-22 of
# data/benchmarks.csv hold c1 and c32).
KUBIS_SOLO = {1: 16.29, 2: 28.47, 4: 43.68, 8: 55.79, 16: 69.08, 32: 83.50}
KUBIS_TP2 = {1: 22.97, 2: 37.77, 4: 52.99, 8: 82.77, 16: 103.71, 32: 128.27, 64: 156.40}
NEMOTRON = "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B"


def _total(units: int, concurrency: int) -> float:
    return estimate(
        Scenario(
            GB10,
            units,
            "tp",
            NEMOTRON,
            "nvfp4",
            engine="vllm",
            context_tokens=1088,
            concurrency=concurrency,
        ),
        CAT,
    ).speed.decode_tok_s_total


def test_gb10_tp2_gain_is_flat_from_8_streams_as_measured():
    measured = [KUBIS_TP2[c] / KUBIS_SOLO[c] for c in (8, 16, 32)]  # 1.48, 1.50, 1.54
    assert max(measured) / min(measured) < 1.05
    predicted = [_total(2, c) / _total(1, c) for c in (8, 16, 32)]  # ~1.80-1.89
    assert max(predicted) / min(predicted) < 1.10  # flat, as measured
    # the level is ~25 % above the measured 1.5x (no per-sequence cost fitted: README,
    # "Known limits"); this bound catches a regression that widens the gap
    for p, m in zip(predicted, measured, strict=True):
        assert m < p < 1.3 * m


@pytest.mark.xfail(
    strict=True,
    reason="per-sequence cost not identified by two sources yet: "
    "the model keeps TP=2 ahead of two replicas for this MoE (README, Known "
    "limits)",
)
def test_gb10_two_replicas_ahead_of_tp2_at_high_concurrency():
    # measured: 2 x solo at 32 streams = 167.0 > TP=2 at 64 = 156.4
    assert 2 * KUBIS_SOLO[32] > KUBIS_TP2[64]
    assert 2 * _total(1, 32) > _total(2, 64)
