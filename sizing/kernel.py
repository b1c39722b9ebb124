"""The memory-fit and throughput formulas, vectorized over many scenarios (numpy).

This is the single implementation of the physics in design.md "The models"; the scalar
API (`sizing.memory.memory_fit`, `sizing.throughput.throughput`) evaluates a one-row table
and the sweep (`sizing.sweep`) evaluates hundreds of thousands of rows at once.

A table is a dict of equal-length numpy arrays: the static numbers of each row's
(platform, model, quant, engine) from `static_row`, plus the scenario columns `units`,
`parallel` (0 = tp, 1 = pp, 2 = replicas), `kv_bytes` (1 or 2), `context`,
`concurrency`, `mem_util` and `spec` (speculative multiplier). Units: bytes, seconds,
FLOP/s, tokens, unless a name says otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sizing.catalog import Catalog, Engine, ModelArch, Platform, Quantization
from sizing.llm import GIB, _memo, param_counts, weight_bytes_by_class

TP, PP, REPLICAS = 0, 1, 2
PARALLEL_CODE = {"tp": TP, "pp": PP, "replicas": REPLICAS}
PREFILL_CHUNK_TOKENS = 2048   # vLLM max_num_batched_tokens / llama.cpp -ub in the benchmarks
ACTIVATION_BYTES = 2          # bf16 activations in all-reduces

Table = dict[str, np.ndarray]


def static_row(platform: Platform, model: ModelArch, quant: Quantization, engine: Engine,
               catalog: Catalog) -> dict[str, float]:
    """Numbers that depend only on (platform, model, quant, engine) — cached."""
    key = ("static", id(platform), id(model), id(quant), id(engine), id(catalog))
    return _memo(key, (platform, model, quant, engine, catalog),
                 lambda: _static_row(platform, model, quant, engine, catalog))


def _peak_flops(platform: Platform, quant: Quantization, engine: Engine) -> float:
    """Dense peak for the matmul dtype; falls back to bf16 where the dtype is unsupported."""
    c = platform.compute
    by_dtype = {"bf16": c.bf16_tflops, "fp8": c.fp8_tflops, "fp4": c.fp4_tflops,
                "int8": c.int8_tops or c.fp8_tflops}
    dtype = quant.compute_dtype
    if engine.quantized_compute_dtype and quant.id != "bf16":
        dtype = engine.quantized_compute_dtype
    return (by_dtype.get(dtype) or c.bf16_tflops) * 1e12


def _static_row(platform: Platform, m: ModelArch, quant: Quantization, engine: Engine,
                catalog: Catalog) -> dict[str, float]:
    fam, eng = catalog.calibration_for(platform.family, engine.id)
    b = weight_bytes_by_class(m, quant, catalog, engine_id=engine.id)
    counts = param_counts(m).by_class
    routed_active = counts["routed_experts"]
    if m.moe is not None:
        routed_active *= m.moe.experts_per_token / m.moe.num_experts
    active = (counts["attention"] + counts["linear_attention"] + counts["dense_mlp"]
              + counts["shared_experts"] + routed_active
              + (counts["lm_head"] or counts["embedding"]))
    replicated = 0.0
    if m.attention == "mla" and m.mla is not None:   # q_a / kv_a are replicated under TP
        a = m.mla
        per_layer = m.hidden_size * ((a.q_lora_rank or 0) + a.kv_lora_rank + a.qk_rope_head_dim)
        replicated = b["attention"] * per_layer * m.num_hidden_layers / max(
            1, counts["attention"])
    la = m.linear_attention
    ic = platform.interconnect
    return {
        "accel_bytes": platform.accelerator_memory_gib * GIB,
        "bw": platform.memory_bandwidth_gb_s * 1e9,
        "peak": _peak_flops(platform, quant, engine),
        "latency": ic.allreduce_latency_us * 1e-6 if ic else 0.0,
        "link": ic.link_gbit_s * 1e9 / 8 if ic else math.inf,
        "bw_eff": min(1.0, fam.bandwidth_efficiency * eng.decode_factor),
        "prefill_eff": min(1.0, fam.prefill_compute_efficiency * eng.prefill_factor),
        "decode_cmp_eff": fam.decode_compute_efficiency,
        "layer_overhead": catalog.calibration.layer_overhead_us * 1e-6,
        "overhead": engine.runtime_overhead_gib * GIB,
        "block": engine.kv_block_tokens,
        "swa_aware": float(engine.swa_aware),
        "emb": b["embedding"], "head": b["lm_head"], "attn": b["attention"],
        "lin": b["linear_attention"], "dense": b["dense_mlp"], "routed": b["routed_experts"],
        "shared": b["shared_experts"], "replicated": replicated,
        "active": active,
        "layers": m.num_hidden_layers, "hidden": m.hidden_size,
        "heads": m.num_attention_heads, "head_dim": m.head_dim, "kv_heads": m.num_key_value_heads,
        "full_layers": m.n_full_attention_layers, "swa_layers": m.sliding_window_layers,
        "window": m.sliding_window or 0,
        "mla_elems": (m.num_hidden_layers * (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim)
                      if m.attention == "mla" and m.mla else 0),
        "lin_layers": la.layers if la else 0,
        "lin_recurrent": la.num_value_heads * la.key_head_dim * la.value_head_dim if la else 0,
        "lin_conv": ((2 * la.num_key_heads * la.key_head_dim + la.num_value_heads
                      * la.value_head_dim) * (la.conv_kernel_dim - 1)) if la else 0,
        "lin_state_bytes": la.state_bytes_per_elem if la else 0,
        "lin_key_heads": la.num_key_heads if la else 1,
        "experts": m.moe.num_experts if m.moe else 0,
        "experts_per_token": m.moe.experts_per_token if m.moe else 0,
        "max_context": m.max_context_tokens,
    }


def table_from_rows(statics: list[dict[str, float]], scenario: dict[str, Any]) -> Table:
    """Stack static rows and scenario columns (scalars broadcast) into a table."""
    n = len(statics)
    table = {k: np.array([s[k] for s in statics], dtype=float) for k in statics[0]}
    for k, v in scenario.items():
        table[k] = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
    return table


# ----------------------------------------------------------------------------- layout
def _layout(t: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, par = t["units"], t["parallel"]
    tp = np.where(par == TP, u, 1.0)
    pp = np.where(par == PP, u, 1.0)
    rep = np.where(par == REPLICAS, u, 1.0)
    return tp, pp, rep


def _stage_share(t: Table, pp: np.ndarray) -> np.ndarray:
    """Fraction of the layers on the most loaded pipeline stage (1 without PP)."""
    return np.ceil(t["layers"] / pp) / t["layers"]


def _kv_per_unit(t: Table, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bytes per context token, fixed bytes per sequence) on the most loaded unit."""
    tp, pp, _ = _layout(t)
    kvb = t["kv_bytes"]
    heads_rank = np.maximum(1.0, t["kv_heads"] / tp)
    gqa_layers = t["full_layers"] + (1.0 - t["swa_aware"]) * t["swa_layers"]
    per_token = np.where(t["mla_elems"] > 0, t["mla_elems"] * kvb,
                         2 * gqa_layers * heads_rank * t["head_dim"] * kvb)
    swa = (t["swa_aware"] * 2 * t["swa_layers"] * heads_rank * t["head_dim"] * kvb
           * np.minimum(context, t["window"]))
    lin = t["lin_layers"] * (t["lin_recurrent"] * t["lin_state_bytes"] + t["lin_conv"] * 2) / (
        np.minimum(tp, np.maximum(t["lin_key_heads"], 1)))
    share = _stage_share(t, pp)
    return per_token * share, (swa + lin) * share


# ----------------------------------------------------------------------------- memory
def memory(t: Table) -> Table:
    """Memory fit per unit: usable, weights, overhead, KV pool, capacity, fits."""
    tp, pp, rep = _layout(t)
    total = t["emb"] + t["head"] + t["attn"] + t["lin"] + t["dense"] + t["routed"] + t["shared"]
    layer_bytes = t["attn"] + t["lin"] + t["dense"] + t["routed"] + t["shared"]
    w_tp = (total - t["replicated"]) / tp + t["replicated"]
    w_pp = layer_bytes * _stage_share(t, pp) + np.maximum(t["emb"], t["head"])
    weights = np.where(tp > 1, w_tp, np.where(pp > 1, w_pp, total))
    usable = t["accel_bytes"] * t["mem_util"]
    pool = usable - weights - t["overhead"]
    per_token, fixed = _kv_per_unit(t, t["context"])
    block = t["block"]
    ctx_rounded = np.ceil(t["context"] / block) * block
    seqs = np.ceil(t["concurrency"] / rep)
    per_seq = per_token * ctx_rounded + fixed
    required = seqs * per_seq
    weights_fit = pool > 0
    fits = weights_fit & (required <= pool)
    pool0 = np.maximum(pool, 0.0)
    ctx_fit = (pool0 / seqs - fixed) / per_token
    max_ctx = np.clip(np.floor(ctx_fit / block) * block, 0, t["max_context"])
    return {
        "usable": usable, "weights": weights, "weights_total": total, "pool": pool0,
        "kv_per_token": per_token, "kv_fixed": fixed, "seqs": seqs, "required": required,
        "weights_fit": weights_fit, "fits": fits, "headroom": pool - required,
        "capacity_tokens": np.floor(pool0 / per_token),
        "max_concurrency": np.floor(pool0 / per_seq) * rep,
        "max_context": max_ctx,
    }


# ----------------------------------------------------------------------------- throughput
def _step_weight_bytes(t: Table, batch: np.ndarray) -> np.ndarray:
    """Weight bytes one unit reads per decode step of `batch` sequences.

    MoE: the expected number of distinct experts a batch touches under uniform routing,
    ``E * (1 - (1 - k/E) ** batch)`` — an upper bound on traffic for real, skewed routers.
    """
    tp, pp, _ = _layout(t)
    experts = np.maximum(t["experts"], 1.0)
    touched = experts * (1.0 - (1.0 - t["experts_per_token"] / experts) ** batch)
    routed = np.where(t["experts"] > 0, t["routed"] * touched / experts, t["routed"])
    shard = np.where(tp > 1, 1.0 / tp, _stage_share(t, pp))
    head = np.where(t["head"] > 0, t["head"], t["emb"])
    return (t["attn"] + t["lin"] + t["dense"] + t["shared"] + routed) * shard + head / tp


def _allreduce_s(t: Table, tokens: np.ndarray) -> np.ndarray:
    """One all-reduce of `tokens` hidden vectors: in-engine latency + ring bandwidth term."""
    tp, _, _ = _layout(t)
    msg = tokens * t["hidden"] * ACTIVATION_BYTES
    return np.where(tp > 1, t["latency"] + msg * 2 * (tp - 1) / tp / t["link"], 0.0)


def decode(t: Table, mem: Table, *, batch: np.ndarray | None = None,
           context: np.ndarray | None = None) -> Table:
    """Decode speed per request and in total, at `batch` sequences per model copy.

    Default batch: the requested concurrency per copy, capped by the KV pool (the rest
    queue). PP: with m = min(batch, stages) micro-batches, all sequences advance one token
    every max(m, stages) stage-times plus the hand-offs between stages.
    """
    tp, pp, rep = _layout(t)
    if batch is None:
        batch = np.maximum(1.0, np.minimum(mem["seqs"],
                                           np.maximum(1.0, np.floor(mem["max_concurrency"]
                                                                    / rep))))
    ctx = t["context"] if context is None else context
    per_token, fixed = mem["kv_per_token"], mem["kv_fixed"]
    micro = np.where(pp > 1, np.minimum(batch, pp), 1.0)
    b = batch / micro                                     # sequences per stage pass
    kv = b * (per_token * ctx + fixed)
    t_mem = (_step_weight_bytes(t, b) + kv) / (t["bw"] * t["bw_eff"])
    attn_layers = t["full_layers"] + t["swa_layers"] * np.minimum(
        1.0, t["window"] / np.maximum(ctx, 1.0))
    shard = np.where(tp > 1, 1.0 / tp, _stage_share(t, pp))
    flops = b * (2 * t["active"] + 4 * ctx * t["heads"] * t["head_dim"] * attn_layers) * shard
    t_cmp = flops / (t["peak"] * t["decode_cmp_eff"])
    t_ar = (2 * t["layers"] + 1) * _allreduce_s(t, b)
    layers_on_unit = np.where(pp > 1, np.ceil(t["layers"] / pp), t["layers"])
    stage = np.maximum(t_mem, t_cmp) + t_ar + layers_on_unit * t["layer_overhead"]
    period = np.where(pp > 1, np.maximum(micro, pp) * stage + (pp - 1) * t["latency"], stage)
    spec = t["spec"]
    active = np.minimum(t["concurrency"], batch * rep)    # idle replicas add nothing
    return {
        "batch": batch, "per_request": spec / period, "total": spec * active / period,
        "step_s": period, "allreduce_s": t_ar, "compute_bound": t_cmp > t_mem,
    }


def prefill(t: Table, tokens: np.ndarray, depth: np.ndarray | float = 0.0) -> np.ndarray:
    """Seconds to prefill `tokens` new tokens on top of `depth` cached ones (one request).

    Compute: 2 x active params per token plus causal attention, at the calibrated fraction
    of the dense peak (TP splits it); never faster than re-reading the weights once per
    2048-token chunk; plus TP all-reduces and PP hand-offs per chunk.
    """
    tp, pp, _ = _layout(t)
    tokens = np.maximum(tokens, 1.0)
    attn_layers = t["full_layers"] + t["swa_layers"] * np.minimum(
        1.0, t["window"] / np.maximum(depth + tokens, 1.0))
    pairs = tokens * depth + tokens * tokens / 2
    flops = 2 * t["active"] * tokens + 4 * pairs * t["heads"] * t["head_dim"] * attn_layers
    t_compute = flops / (tp * t["peak"] * t["prefill_eff"])
    chunks = np.ceil(tokens / PREFILL_CHUNK_TOKENS)
    chunk_bytes = _step_weight_bytes(t, np.full_like(tokens, float(PREFILL_CHUNK_TOKENS)))
    t_weights = chunks * chunk_bytes / (t["bw"] * t["bw_eff"])
    t_ar = (2 * t["layers"] + 1) * chunks * _allreduce_s(
        t, np.minimum(tokens, PREFILL_CHUNK_TOKENS))
    hops = (pp - 1) * chunks * t["latency"]
    return (np.maximum(t_compute, t_weights) + t_ar + hops
            + chunks * t["layers"] * t["layer_overhead"])
