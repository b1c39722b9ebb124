"""The memory-fit and throughput formulas, vectorized over many scenarios (numpy).

This is the single implementation of the physics in design.md "The models"; the scalar
API (`sizing.memory.memory_fit`, `sizing.throughput.throughput`) evaluates a one-row table
and the sweep (`sizing.sweep`) evaluates hundreds of thousands of rows at once.

A table is a dict of equal-length numpy arrays: the static numbers of each row's
(platform, model, quant, engine) from `static_row`, plus the scenario columns `units`,
`parallel` (0 = tp, 1 = pp, 2 = replicas), `kv_bytes` (1 or 2), `context`,
`concurrency`, `mem_util` and `spec` (speculative multiplier), and optionally the
``spec_*`` columns of speculative decoding (`sizing.speculative.columns`). Units: bytes, seconds,
FLOP/s, tokens, unless a name says otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sizing.catalog import (
    Catalog,
    Engine,
    EngineCalibration,
    FamilyCalibration,
    ModelArch,
    Platform,
    Quantization,
)
from sizing.llm import GIB, _memo, weight_bytes_by_class

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


def calibration_columns(fam: FamilyCalibration, eng: EngineCalibration,
                        layer_overhead_us: float, weights: str | None = None
                        ) -> dict[str, float]:
    """The calibrated columns of a table row: bandwidth efficiency (fraction of nameplate,
    never above the family's measured read ceiling), prefill and decode compute efficiency
    (fraction of dense peak), per-layer overhead (s: the path's own, else
    `layer_overhead_us`); `weights` (a quantization id) selects the kernel path's own decode
    factor where one is fitted."""
    return {
        "bw_eff": min(fam.read_ceiling,
                      fam.bandwidth_efficiency * eng.decode_factor_on(fam.family, weights)),
        "prefill_eff": min(1.0, fam.prefill_compute_efficiency * eng.prefill_factor),
        "decode_cmp_eff": fam.decode_compute_efficiency,
        "layer_overhead": eng.layer_overhead_us_on(fam.family, layer_overhead_us) * 1e-6,
        "recurrent_overhead": eng.family_recurrent_overhead_us.get(fam.family, 0.0) * 1e-6,
    }


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
    a = m.arch
    counts = a.params_by_class
    replicated = b["attention"] * a.replicated_attention_params / max(1, counts["attention"])
    ic = platform.interconnect
    sparse_share, read_cap = a.kv_sparse_share()
    work_full, work_capped = a.attention_work()
    (cap1_flops, cap1), (cap2_flops, cap2) = ([*work_capped, (0.0, 0), (0.0, 0)])[:2]
    windowed = [x for x in a.layers if x.window_elems_per_token]
    growing = [x for x in a.layers if x.kv_elems_per_token]
    return {
        "accel_bytes": platform.accelerator_memory_gib * GIB,
        "bw": platform.memory_bandwidth_gb_s * 1e9,
        "peak": _peak_flops(platform, quant, engine),
        "latency": ic.allreduce_latency_us * 1e-6 if ic else 0.0,
        "link": ic.link_gbit_s * 1e9 / 8 if ic else math.inf,
        **calibration_columns(fam, eng, catalog.calibration.layer_overhead_us, quant.id),
        "overhead": engine.runtime_overhead_gib * GIB,
        "block": engine.kv_block_tokens,
        "swa_aware": float(engine.swa_aware),
        "prefill_pipelined": float(engine.pipelines_prefill),
        "emb": b["embedding"], "head": b["lm_head"], "attn": b["attention"],
        "lin": b["linear_attention"], "dense": b["dense_mlp"], "routed": b["routed_experts"],
        "shared": b["shared_experts"], "vision": b["vision"], "replicated": replicated,
        # the router (+ latent projections) is read every step; the experts as touched
        "router": b["routed_experts"] * a.router_params / max(1, counts["routed_experts"]),
        # the output projection a tied model reads: vocab x hidden of the embedding bytes
        "head_read": b["lm_head"] or b["embedding"] * a.vocab_size * a.hidden_size / max(
            1, counts["embedding"]),
        "active": a.active_params,
        "layers": a.num_layers, "hidden": a.hidden_size, "heads": a.num_attention_heads,
        # share of the layers that carry a recurrent state (linear attention, Mamba-2)
        "recurrent_share": sum(1 for x in a.layers if x.state_bytes) / max(1, a.num_layers),
        # cache: elements per token that grow (split by KV head / replicated), bytes in a
        # fixed format (indexer keys), windowed elements, constant state per sequence
        "kv_sharded_elems": sum(x.kv_elems_per_token for x in growing if x.kv_heads > 1),
        "kv_heads": min((x.kv_heads for x in growing if x.kv_heads > 1), default=1),
        "kv_latent_elems": sum(x.kv_elems_per_token for x in growing if x.kv_heads <= 1),
        "kv_extra_bytes": a.kv_extra_bytes_per_token(),
        "swa_elems": sum(x.window_elems_per_token for x in windowed),
        "swa_heads": min((x.kv_heads for x in windowed), default=1),
        "window": max((x.window_tokens or 0 for x in windowed), default=0),
        "state_bytes": a.state_bytes(),
        "state_shards": min((x.state_shards for x in a.layers if x.state_bytes), default=1),
        "kv_sparse_share": sparse_share, "kv_read_cap": read_cap,
        "attn_flops_full": work_full,
        "attn_flops_cap1": cap1_flops, "attn_cap1": cap1,
        "attn_flops_cap2": cap2_flops, "attn_cap2": cap2,
        "experts": a.num_experts,
        "experts_per_token": a.experts_per_token,
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
    """(bytes per context token, fixed bytes per sequence) on the most loaded unit.

    Growing KV splits over TP ranks by KV head (``min(tp, kv_heads)``), latents are on
    every rank; without SWA-aware allocation windowed layers are paid as full layers.
    """
    tp, pp, _ = _layout(t)
    kvb = t["kv_bytes"]
    swa_as_full = (1.0 - t["swa_aware"]) * t["swa_elems"] / np.minimum(tp, t["swa_heads"])
    per_token = ((t["kv_sharded_elems"] / np.minimum(tp, t["kv_heads"]) + t["kv_latent_elems"]
                  + swa_as_full) * kvb + t["kv_extra_bytes"])
    swa = (t["swa_aware"] * t["swa_elems"] / np.minimum(tp, t["swa_heads"]) * kvb
           * np.minimum(context, t["window"]))
    state = t["state_bytes"] / np.minimum(tp, np.maximum(t["state_shards"], 1))
    share = _stage_share(t, pp)
    return per_token * share, (swa + state) * share


def _kv_read_per_token(t: Table, per_token: np.ndarray, ctx: np.ndarray) -> np.ndarray:
    """Bytes of growing KV one decode step reads per sequence at `ctx` tokens: sparse
    layers (DSA/MSA/CSA) read their top-k tokens, the rest read everything, and so do the
    indexer keys (``kv_extra_bytes``) that choose the top-k."""
    _, pp, _ = _layout(t)
    extra = t["kv_extra_bytes"] * _stage_share(t, pp)
    sparse = t["kv_sparse_share"]
    capped = np.where(t["kv_read_cap"] > 0, np.minimum(ctx, t["kv_read_cap"]), ctx)
    return (per_token - extra) * ((1.0 - sparse) * ctx + sparse * capped) + extra * ctx


def _attention_flops(t: Table, ctx: np.ndarray) -> np.ndarray:
    """Attention FLOPs of one token attending `ctx` cached tokens (all layers, TP 1)."""
    return (t["attn_flops_full"] * ctx
            + t["attn_flops_cap1"] * np.minimum(ctx, t["attn_cap1"])
            + t["attn_flops_cap2"] * np.minimum(ctx, t["attn_cap2"]))


def _attended_pairs(tokens: np.ndarray, depth: np.ndarray | float,
                    cap: np.ndarray | float) -> np.ndarray:
    """Sum over `tokens` new positions (after `depth` cached) of min(position, cap)."""
    depth = np.asarray(depth, dtype=float)
    below = np.clip(cap - depth, 0.0, tokens)            # positions still under the cap
    return below * depth + below * (below + 1) / 2 + (tokens - below) * cap


def _prefill_attention_flops(t: Table, tokens: np.ndarray,
                             depth: np.ndarray | float) -> np.ndarray:
    full = tokens * depth + tokens * (tokens + 1) / 2
    return (t["attn_flops_full"] * full
            + t["attn_flops_cap1"] * _attended_pairs(tokens, depth, t["attn_cap1"])
            + t["attn_flops_cap2"] * _attended_pairs(tokens, depth, t["attn_cap2"]))


# ----------------------------------------------------------------------------- memory
def memory(t: Table) -> Table:
    """Memory fit per unit: usable, weights, overhead, KV pool, capacity, fits."""
    tp, pp, rep = _layout(t)
    total = (t["emb"] + t["head"] + t["attn"] + t["lin"] + t["dense"] + t["routed"]
             + t["shared"] + t["vision"])
    layer_bytes = t["attn"] + t["lin"] + t["dense"] + t["routed"] + t["shared"]
    w_tp = (total - t["replicated"]) / tp + t["replicated"]
    w_pp = layer_bytes * _stage_share(t, pp) + np.maximum(t["emb"] + t["vision"], t["head"])
    weights = np.where(tp > 1, w_tp, np.where(pp > 1, w_pp, total))
    weights = weights + _col(t, "spec_mem") / tp      # MTP layers / EAGLE head / draft model
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
def _col(t: Table, key: str, default: float = 0.0) -> np.ndarray:
    """An optional column (the ``spec_*`` columns of speculative decoding), else `default`."""
    if key in t:
        return t[key]
    return np.full(len(t["units"]), default)


def accepted_tokens(accept: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Expected tokens kept per target step with k drafts at per-token acceptance a:
    ``(1 - a^(k+1)) / (1 - a)`` (Leviathan et al. 2023, arXiv 2211.17192); 1 without drafts."""
    a = np.minimum(accept, 1.0 - 1e-12)
    return np.where(k > 0, (1.0 - a ** (k + 1)) / (1.0 - a), 1.0)


def _draft_s(t: Table, b: np.ndarray) -> np.ndarray:
    """Seconds of the k sequential draft forwards of one speculative step at `b` sequences.

    MTP: one MTP layer (its routed experts as touched by the batch) + the shared lm_head;
    EAGLE: the head's bytes; both TP-sharded with the layer's all-reduces and launch cost.
    A separate draft model brings its own decode step (``spec_draft_s``)."""
    tp, _, _ = _layout(t)
    k = _col(t, "spec_k")
    experts = np.maximum(t["experts"], 1.0)
    touched = np.where(t["experts"] > 0,
                       1.0 - (1.0 - t["experts_per_token"] / experts) ** b, 1.0)
    layers = _col(t, "spec_draft_layers")
    read = ((_col(t, "spec_draft_fixed") + _col(t, "spec_draft_routed") * touched) / tp
            + _col(t, "spec_draft_head") * t["head_read"] / tp)
    t_mem = read / (t["bw"] * t["bw_eff"])
    t_cmp = b * 2 * _col(t, "spec_draft_active") / tp / (t["peak"] * t["decode_cmp_eff"])
    t_ar = np.where(layers > 0, (2 * layers + 1) * _allreduce_s(t, b), 0.0)
    one = (np.maximum(t_mem, t_cmp) + t_ar + layers * t["layer_overhead"]
           + _col(t, "spec_draft_s"))
    return k * one


def _step_weight_bytes(t: Table, batch: np.ndarray) -> np.ndarray:
    """Weight bytes one unit reads per decode step of `batch` sequences.

    MoE: the expected number of distinct experts a batch touches under uniform routing,
    ``E * (1 - (1 - k/E) ** batch)`` — an upper bound on traffic for real, skewed routers.
    """
    tp, pp, _ = _layout(t)
    experts = np.maximum(t["experts"], 1.0)
    touched = experts * (1.0 - (1.0 - t["experts_per_token"] / experts) ** batch)
    experts_bytes = t["routed"] - t["router"]
    routed = t["router"] + np.where(t["experts"] > 0, experts_bytes * touched / experts,
                                    experts_bytes)
    shard = np.where(tp > 1, 1.0 / tp, _stage_share(t, pp))
    return (t["attn"] + t["lin"] + t["dense"] + t["shared"] + routed) * shard + (
        t["head_read"] / tp)


def _allreduce_s(t: Table, tokens: np.ndarray) -> np.ndarray:
    """One all-reduce of `tokens` hidden vectors: in-engine latency + ring bandwidth term."""
    tp, _, _ = _layout(t)
    msg = tokens * t["hidden"] * ACTIVATION_BYTES
    return np.where(tp > 1, t["latency"] + msg * 2 * (tp - 1) / tp / t["link"], 0.0)


def decode(t: Table, mem: Table, *, batch: np.ndarray | None = None,
           context: np.ndarray | None = None) -> Table:
    """Decode speed per request and in total, at `batch` sequences per model copy.

    Default batch: the requested concurrency per copy, capped by the KV pool (the rest
    queue). PP with m = min(batch, stages) micro-batches: a token passes every stage once
    (the whole model, lm_head once, plus a hand-off per stage boundary), and a full
    pipeline advances all micro-batches every m slowest-stage times, whichever is longer.
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
    share = _stage_share(t, pp)
    # speculative decoding: each sequence verifies k drafts + 1 token in one step (weights
    # read once for all of them, KV read once per sequence, compute and all-reduce x q)
    k = _col(t, "spec_k")
    on = bool(np.any(k > 0))             # skip the speculative terms in plain sweeps
    q = 1.0 + k if on else 1.0
    kv_stage = b * (_kv_read_per_token(t, per_token, ctx) + fixed)
    stage, t_cmp, t_mem, t_ar = _step_s(t, b, ctx, kv_stage, _step_weight_bytes(t, b * q),
                                        np.where(tp > 1, 1.0 / tp, share),
                                        np.where(pp > 1, np.ceil(t["layers"] / pp),
                                                 t["layers"]), q)
    # one pass through every stage: all layers' weights and KV, lm_head once
    layer_bytes = _step_weight_bytes(t, b * q) - t["head_read"]
    whole, _, _, _ = _step_s(t, b, ctx, kv_stage / share, layer_bytes / share + t["head_read"],
                             np.ones_like(share), t["layers"], q)
    hops = (pp - 1) * t["latency"]
    draft = _draft_s(t, b) if on else np.zeros_like(b)
    period = np.where(pp > 1, np.maximum(micro * stage, whole) + hops, stage) + draft
    accepted = accepted_tokens(_col(t, "spec_accept"), k) if on else np.ones_like(b)
    spec = t["spec"] * accepted
    active = np.minimum(t["concurrency"], batch * rep)    # idle replicas add nothing
    return {
        "batch": batch, "per_request": spec / period, "total": spec * active / period,
        "step_s": period, "allreduce_s": t_ar, "compute_bound": t_cmp > t_mem,
        "draft_s": draft, "accepted_tokens": accepted,
    }


def _step_s(t: Table, b: np.ndarray, ctx: np.ndarray, kv_bytes: np.ndarray,
            weight_bytes: np.ndarray, share: np.ndarray, layers: np.ndarray,
            q: np.ndarray | float = 1.0
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(step s, compute s, memory s, all-reduce s) of one unit holding `share` of the layers
    for a decode step of `b` sequences of `q` tokens each (q = k + 1 when verifying k
    drafts) that reads `weight_bytes` + `kv_bytes`."""
    t_mem = (weight_bytes + kv_bytes) / (t["bw"] * t["bw_eff"])
    flops = b * q * (2 * t["active"] + _attention_flops(t, ctx)) * share
    t_cmp = flops / (t["peak"] * t["decode_cmp_eff"])
    t_ar = (2 * t["layers"] + 1) * _allreduce_s(t, b * q)
    return np.maximum(t_mem, t_cmp) + t_ar + layers * _layer_s(t), t_cmp, t_mem, t_ar


def _layer_s(t: Table) -> np.ndarray:
    """Fixed seconds per layer per forward pass: the path's per-layer overhead plus, for the
    share of layers with a recurrent state, the path's extra cost of those kernels."""
    return t["layer_overhead"] + _col(t, "recurrent_share") * _col(t, "recurrent_overhead")


def prefill(t: Table, tokens: np.ndarray, depth: np.ndarray | float = 0.0) -> np.ndarray:
    """Seconds to prefill `tokens` new tokens on top of `depth` cached ones (one request).

    Compute: 2 x active params per token plus causal attention, at the calibrated fraction
    of the dense peak (TP splits it); never faster than re-reading the weights once per
    2048-token chunk; plus TP all-reduces per chunk. PP: every chunk passes every stage
    (no speed-up for one chunk); an engine that pipelines the chunks (ubatches) of one
    request (llama.cpp) runs them on consecutive stages at once: chunk-stage times plus the
    pipeline fill of pp - 1 of them; each chunk pays the hand-offs.
    """
    tp, pp, _ = _layout(t)
    tokens = np.maximum(tokens, 1.0)
    flops = 2 * t["active"] * tokens + _prefill_attention_flops(t, tokens, depth)
    t_compute = flops / (tp * t["peak"] * t["prefill_eff"])
    chunks = np.ceil(tokens / PREFILL_CHUNK_TOKENS)
    chunk_bytes = _step_weight_bytes(t, np.full_like(tokens, float(PREFILL_CHUNK_TOKENS)))
    share = _stage_share(t, pp)
    whole_bytes = np.where(pp > 1, (chunk_bytes - t["head_read"]) / share + t["head_read"],
                           chunk_bytes)
    t_weights = chunks * whole_bytes / (t["bw"] * t["bw_eff"])
    t_ar = (2 * t["layers"] + 1) * chunks * _allreduce_s(
        t, np.minimum(tokens, PREFILL_CHUNK_TOKENS))
    core = np.maximum(t_compute, t_weights)
    # pipelined chunks: chunk i runs on stage s while chunk i+1 runs on stage s-1. Each
    # stage spends max(compute, its weights) per chunk; the last stage starts pp - 1
    # chunk-stage-times late (the pipeline fill), the longest chunk's.
    w_pass = whole_bytes / (t["bw"] * t["bw_eff"])
    per_token = t_compute / tokens
    full = np.floor(tokens / PREFILL_CHUNK_TOKENS)
    rest = tokens - full * PREFILL_CHUNK_TOKENS
    stage_full = np.maximum(per_token * PREFILL_CHUNK_TOKENS, w_pass) / pp
    stage_rest = np.where(rest > 0, np.maximum(per_token * rest, w_pass) / pp, 0.0)
    fill = (pp - 1) * np.where(full > 0, stage_full, stage_rest)
    piped = full * stage_full + stage_rest + fill
    core = np.where((pp > 1) & (t["prefill_pipelined"] > 0), piped, core)
    return (core + t_ar + chunks * t["layers"] * _layer_s(t)
            + (pp - 1) * chunks * t["latency"])
