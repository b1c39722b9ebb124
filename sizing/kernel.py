"""The memory-fit and throughput formulas, vectorized over many scenarios (numpy).

This is the single implementation of the physics in design.md "The models"; the scalar
API (`sizing.memory.memory_fit`, `sizing.throughput.throughput`) evaluates a one-row table
and the sweep (`sizing.sweep`) evaluates hundreds of thousands of rows at once.

A table is a dict of equal-length numpy arrays whose keys carry their unit (``_bytes``,
``_s``, ``_flop_s``, ``_bytes_s``, ``_tokens``, ``_count``, ``_fraction``, ``_efficiency``,
``_flag`` for 0/1): the static numbers of each row's (platform, model, quant, engine) from
`static_row`, plus the scenario columns `units_count`, `parallel_code` (0 = tp, 1 = pp,
2 = replicas, 3 = tp+ep: attention tensor parallel, routed experts sharded whole),
`kv_bytes_per_elem` (1 or 2), `context_tokens`, `concurrency_count`,
`memory_utilization_fraction`, `spec_speed_multiplier` and `cuda_graphs_flag`, and
optionally the ``spec_*`` columns of speculative decoding (`sizing.speculative.columns`).
`memory` and `decode` return tables named the same way.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sizing.llm import GIB, _memo, weight_bytes_by_class

if TYPE_CHECKING:
    from sizing.catalog import (
        Catalog,
        Engine,
        EngineCalibration,
        FamilyCalibration,
        ModelArch,
        Platform,
        Quantization,
        Transport,
    )

TP, PP, REPLICAS, EP = 0, 1, 2, 3
PARALLEL_CODE = {"tp": TP, "pp": PP, "replicas": REPLICAS, "tp+ep": EP}
PREFILL_CHUNK_TOKENS = 2048  # vLLM max_num_batched_tokens / llama.cpp -ub in the benchmarks
ACTIVATION_BYTES = 2  # bf16 activations in all-reduces
#: ASSUMPTION for a platform without a flash-attention figure in the catalog: its prefill
#: attention runs at this fraction of the bf16 dense peak — GB10's measured ratio (94 TF/s
#: FlashAttention-2, flashinfer PR 3897, over the 125 TFLOPS bf16 figure).
ASSUMED_FLASH_ATTENTION_FRACTION = 0.75

Table = dict[str, np.ndarray]


def static_row(
    platform: Platform, model: ModelArch, quant: Quantization, engine: Engine, catalog: Catalog
) -> dict[str, float]:
    """Numbers that depend only on (platform, model, quant, engine) — cached."""
    key = ("static", id(platform), id(model), id(quant), id(engine), id(catalog))
    return _memo(
        key,
        (platform, model, quant, engine, catalog),
        lambda: _static_row(platform, model, quant, engine, catalog),
    )


def calibration_columns(
    fam: FamilyCalibration,
    eng: EngineCalibration,
    layer_overhead_us: float,
    weights: str | None = None,
) -> dict[str, float]:
    """The calibrated columns of a table row: bandwidth efficiency (fraction of nameplate,
    never above the family's measured read ceiling), prefill and decode compute efficiency
    (fraction of dense peak; the prefill GEMMs' the kernel path's own where fitted),
    per-layer overhead (s: the path's own, else `layer_overhead_us`; 0 on a family whose
    fixed cost is per decode step, which gets ``step_overhead_s`` instead), the engine's prefill
    attention efficiency (fraction of the platform's flash-attention rate) and its fixed
    time-to-first-token cost (s); `weights` (a quantization id) selects the kernel path's
    own decode and prefill factors where fitted."""
    per_step = fam.fixed_cost == "per_step"
    return {
        "bandwidth_efficiency": min(
            fam.read_ceiling, fam.bandwidth_efficiency * eng.decode_factor_on(fam.family, weights)
        ),
        "prefill_compute_efficiency": min(
            1.0, fam.prefill_compute_efficiency * eng.prefill_factor_on(fam.family, weights)
        ),
        "decode_compute_efficiency": fam.decode_compute_efficiency,
        # the platform class's fixed cost: per decoder layer, or per decode step (Apple)
        "layer_overhead_s": 0.0
        if per_step
        else eng.layer_overhead_us_on(fam.family, layer_overhead_us) * 1e-6,
        "step_overhead_s": fam.step_overhead_us * 1e-6 if per_step else 0.0,
        "recurrent_layer_overhead_s": eng.family_recurrent_overhead_us.get(fam.family, 0.0) * 1e-6,
        "sequence_overhead_s": eng.sequence_overhead_us_on(fam.family) * 1e-6,
        "attention_efficiency": eng.attention_efficiency,
        "ttft_fixed_s": eng.ttft_fixed_s,
    }


def _peak_flops(platform: Platform, quant: Quantization, engine: Engine) -> float:
    """Dense peak for the matmul dtype; falls back to bf16 where the dtype is unsupported."""
    c = platform.compute
    by_dtype = {
        "bf16": c.bf16_tflops,
        "fp8": c.fp8_tflops,
        "fp4": c.fp4_tflops,
        "int8": c.int8_tops or c.fp8_tflops,
    }
    dtype = quant.compute_dtype
    if engine.quantized_compute_dtype and quant.id != "bf16":
        dtype = engine.quantized_compute_dtype
    return (by_dtype.get(dtype) or c.bf16_tflops) * 1e12


def attention_flop_s(platform: Platform) -> float:
    """FLOP/s of the platform's prefill attention kernel (flash attention, bf16): the
    catalog's `compute.flash_attention` figure, else ASSUMED_FLASH_ATTENTION_FRACTION of the
    bf16 dense peak."""
    fa = platform.compute.flash_attention
    if fa is not None:
        return fa.tflops * 1e12
    return ASSUMED_FLASH_ATTENTION_FRACTION * platform.compute.bf16_tflops * 1e12


def memory_model_columns(platform: Platform, m: ModelArch, engine: Engine) -> dict[str, float]:
    """Static columns of the engine's runtime-overhead model (`engine_overhead_bytes`):
    non-torch bytes, the widest MLP intermediate per token, logits bytes of the profile
    run, CUDA-graph bytes (low, central, high) at the default capture sizes, the default
    max_num_batched_tokens and the unified-memory spread. Zeros (flag 0) for an engine
    without a memory model: it keeps its flat `runtime_overhead_gib`."""
    mm = engine.memory_model
    a = m.arch
    if mm is None:
        return {
            "memory_model_flag": 0.0,
            "non_torch_bytes": 0.0,
            "non_torch_multi_unit_bytes": 0.0,
            "mlp_width_count": 0.0,
            "activation_hidden_buffers_count": 0.0,
            "logits_bytes": 0.0,
            "graph_low_bytes": 0.0,
            "graph_bytes": 0.0,
            "graph_high_bytes": 0.0,
            "default_max_num_batched_tokens_count": float(PREFILL_CHUNK_TOKENS),
            "memory_spread_bytes": 0.0,
        }
    width = max(
        (x.dense_mlp_params + x.routed_active_params - x.router_params + x.shared_params)
        for x in a.layers
    ) / (3 * a.hidden_size)
    per_graph = mm.capture_graphs * a.num_layers * a.hidden_size
    low, mid, high = mm.graph_bytes_per_layer_graph_hidden
    large = platform.accelerator_memory_gib >= mm.large_gpu_gib
    return {
        "memory_model_flag": 1.0,
        "non_torch_bytes": (
            mm.non_torch_gib_unified if platform.unified_memory else mm.non_torch_gib_discrete
        )
        * GIB,
        # NCCL buffers across nodes (a multi-GPU host's are in the measured non-torch)
        "non_torch_multi_unit_bytes": (
            mm.non_torch_multi_unit_gib * GIB if platform.form == "system" else 0.0
        ),
        "mlp_width_count": width,
        "activation_hidden_buffers_count": mm.activation_hidden_buffers,
        "logits_bytes": mm.logits_rows * a.vocab_size * 4.0,
        "graph_low_bytes": low * per_graph,
        "graph_bytes": mid * per_graph,
        "graph_high_bytes": high * per_graph,
        "default_max_num_batched_tokens_count": float(
            mm.default_max_num_batched_tokens if large else mm.default_max_num_batched_tokens_small
        ),
        "memory_spread_bytes": mm.unified_spread_gib * GIB if platform.unified_memory else 0.0,
    }


def _static_row(
    platform: Platform, m: ModelArch, quant: Quantization, engine: Engine, catalog: Catalog
) -> dict[str, float]:
    fam, eng = catalog.calibration_for(platform.family, engine.id)
    b = weight_bytes_by_class(m, quant, catalog, engine_id=engine.id)
    a = m.arch
    counts = a.params_by_class
    replicated = b["attention"] * a.replicated_attention_params / max(1, counts["attention"])
    sparse_share, read_cap = a.kv_sparse_share()
    work_full, work_capped = a.attention_work()
    (cap1_flops, cap1), (cap2_flops, cap2) = ([*work_capped, (0.0, 0), (0.0, 0)])[:2]
    windowed = [x for x in a.layers if x.window_elems_per_token]
    growing = [x for x in a.layers if x.kv_elems_per_token]
    return {
        "accelerator_memory_bytes": platform.accelerator_memory_gib * GIB,
        "memory_bandwidth_bytes_s": platform.memory_bandwidth_gb_s * 1e9,
        "peak_flop_s": _peak_flops(platform, quant, engine),
        "attention_flop_s": attention_flop_s(platform),
        **transport_columns(platform, catalog.default_transport(platform, engine)),
        **calibration_columns(fam, eng, catalog.calibration.layer_overhead_us, quant.id),
        "runtime_overhead_bytes": engine.runtime_overhead_gib * GIB,
        **memory_model_columns(platform, m, engine),
        "kv_block_tokens": engine.kv_block_tokens,
        "swa_aware_flag": float(engine.swa_aware),
        "prefill_pipelined_flag": float(engine.pipelines_prefill),
        # CUDA graphs: on by default where the engine captures them (the scenario's
        # ``cuda_graphs_flag`` overrides); eager mode pays the per-layer launch cost
        "cuda_graphs_flag": float(engine.cuda_graphs),
        "cuda_graph_align_tokens": float(engine.cuda_graph_align_tokens),
        "cuda_graph_max_batch_count": float(engine.cuda_graph_max_batch),
        "eager_layer_overhead_s": engine.eager_layer_overhead_us * 1e-6,
        "embedding_bytes": b["embedding"],
        "lm_head_bytes": b["lm_head"],
        "attention_bytes": b["attention"],
        "linear_attention_bytes": b["linear_attention"],
        "dense_mlp_bytes": b["dense_mlp"],
        "routed_experts_bytes": b["routed_experts"],
        "shared_experts_bytes": b["shared_experts"],
        "vision_bytes": b["vision"],
        "replicated_attention_bytes": replicated,
        # the router (+ latent projections) is read every step; the experts as touched
        "router_bytes": b["routed_experts"] * a.router_params / max(1, counts["routed_experts"]),
        # the output projection a tied model reads: vocab x hidden of the embedding bytes
        "lm_head_read_bytes": b["lm_head"]
        or b["embedding"] * a.vocab_size * a.hidden_size / max(1, counts["embedding"]),
        "active_params_count": a.active_params,
        "layers_count": a.num_layers,
        "hidden_size_count": a.hidden_size,
        "attention_heads_count": a.num_attention_heads,
        # share of the layers that carry a recurrent state (linear attention, Mamba-2)
        "recurrent_layer_fraction": sum(1 for x in a.layers if x.state_bytes)
        / max(1, a.num_layers),
        # cache: elements per token that grow (split by KV head / replicated), bytes in a
        # fixed format (indexer keys), windowed elements, constant state per sequence
        "kv_sharded_elems_per_token": sum(x.kv_elems_per_token for x in growing if x.kv_heads > 1),
        "kv_heads_count": min((x.kv_heads for x in growing if x.kv_heads > 1), default=1),
        "kv_latent_elems_per_token": sum(x.kv_elems_per_token for x in growing if x.kv_heads <= 1),
        "kv_extra_bytes_per_token": a.kv_extra_bytes_per_token(),
        "swa_elems_per_token": sum(x.window_elems_per_token for x in windowed),
        "swa_kv_heads_count": min((x.kv_heads for x in windowed), default=1),
        "swa_window_tokens": max((x.window_tokens or 0 for x in windowed), default=0),
        "state_bytes_per_sequence": a.state_bytes(),
        "state_shards_count": min((x.state_shards for x in a.layers if x.state_bytes), default=1),
        "kv_sparse_layer_fraction": sparse_share,
        "kv_read_cap_tokens": read_cap,
        "attention_flop_per_pair": work_full,
        "attention_flop_per_pair_cap1": cap1_flops,
        "attention_cap1_tokens": cap1,
        "attention_flop_per_pair_cap2": cap2_flops,
        "attention_cap2_tokens": cap2,
        "experts_count": a.num_experts,
        "experts_per_token_count": a.experts_per_token,
        "routing_concentration_fraction": m.routing_concentration,
        "moe_layers_count": sum(1 for x in a.layers if x.routed_params),
        "routed_active_params_count": a.routed_active_params,
        "model_max_context_tokens": m.max_context_tokens,
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
    """(tensor-parallel ranks, pipeline stages, replicas); tp+ep shards like tp (attention
    and dense weights split by rank, every unit holds 1/N of the routed experts)."""
    u, par = t["units_count"], t["parallel_code"]
    tp = np.where((par == TP) | (par == EP), u, 1.0)
    pp = np.where(par == PP, u, 1.0)
    rep = np.where(par == REPLICAS, u, 1.0)
    return tp, pp, rep


def _ep_units(t: Table) -> np.ndarray:
    """Expert-parallel ranks (the units of a tp+ep layout; 1 otherwise)."""
    return np.where(t["parallel_code"] == EP, t["units_count"], 1.0)


def _stage_share(t: Table, pp: np.ndarray) -> np.ndarray:
    """Fraction of the layers on the most loaded pipeline stage (1 without PP)."""
    return np.ceil(t["layers_count"] / pp) / t["layers_count"]


def _kv_per_unit(t: Table, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bytes per context token, fixed bytes per sequence) on the most loaded unit.

    Growing KV splits over TP ranks by KV head (``min(tp, kv_heads)``), latents are on
    every rank; without SWA-aware allocation windowed layers are paid as full layers.
    """
    tp, pp, _ = _layout(t)
    kvb = t["kv_bytes_per_elem"]
    swa_as_full = (
        (1.0 - t["swa_aware_flag"])
        * t["swa_elems_per_token"]
        / np.minimum(tp, t["swa_kv_heads_count"])
    )
    per_token = (
        t["kv_sharded_elems_per_token"] / np.minimum(tp, t["kv_heads_count"])
        + t["kv_latent_elems_per_token"]
        + swa_as_full
    ) * kvb + t["kv_extra_bytes_per_token"]
    swa = (
        t["swa_aware_flag"]
        * t["swa_elems_per_token"]
        / np.minimum(tp, t["swa_kv_heads_count"])
        * kvb
        * np.minimum(context, t["swa_window_tokens"])
    )
    state = t["state_bytes_per_sequence"] / np.minimum(tp, np.maximum(t["state_shards_count"], 1))
    share = _stage_share(t, pp)
    return per_token * share, (swa + state) * share


def _kv_read_per_token(t: Table, per_token: np.ndarray, ctx: np.ndarray) -> np.ndarray:
    """Bytes of growing KV one decode step reads per sequence at `ctx` tokens: sparse
    layers (DSA/MSA/CSA) read their top-k tokens, the rest read everything, and so do the
    indexer keys (``kv_extra_bytes``) that choose the top-k."""
    _, pp, _ = _layout(t)
    extra = t["kv_extra_bytes_per_token"] * _stage_share(t, pp)
    sparse = t["kv_sparse_layer_fraction"]
    capped = np.where(t["kv_read_cap_tokens"] > 0, np.minimum(ctx, t["kv_read_cap_tokens"]), ctx)
    return (per_token - extra) * ((1.0 - sparse) * ctx + sparse * capped) + extra * ctx


def _attention_flops(t: Table, ctx: np.ndarray) -> np.ndarray:
    """Attention FLOPs of one token attending `ctx` cached tokens (all layers, TP 1)."""
    return (
        t["attention_flop_per_pair"] * ctx
        + t["attention_flop_per_pair_cap1"] * np.minimum(ctx, t["attention_cap1_tokens"])
        + t["attention_flop_per_pair_cap2"] * np.minimum(ctx, t["attention_cap2_tokens"])
    )


def _attended_pairs(
    tokens: np.ndarray, depth: np.ndarray | float, cap: np.ndarray | float
) -> np.ndarray:
    """Sum over `tokens` new positions (after `depth` cached) of min(position, cap)."""
    depth = np.asarray(depth, dtype=float)
    below = np.clip(cap - depth, 0.0, tokens)  # positions still under the cap
    return below * depth + below * (below + 1) / 2 + (tokens - below) * cap


def _prefill_attention_flops(t: Table, tokens: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
    full = tokens * depth + tokens * (tokens + 1) / 2
    return (
        t["attention_flop_per_pair"] * full
        + t["attention_flop_per_pair_cap1"]
        * _attended_pairs(tokens, depth, t["attention_cap1_tokens"])
        + t["attention_flop_per_pair_cap2"]
        * _attended_pairs(tokens, depth, t["attention_cap2_tokens"])
    )


# ----------------------------------------------------------------------------- memory
def activation_peak_bytes(t: Table) -> np.ndarray:
    """Torch peak of vLLM's profile run, bytes per unit: max_num_batched_tokens x 2 B (bf16)
    x (3 x the widest MLP intermediate per token, sharded by TP: gate/up output + the
    activation, + hidden-size buffers) + the fp32 logits of the sampled rows."""
    tp, _, _ = _layout(t)
    tokens = _col(t, "max_num_batched_tokens_count", 0.0)
    tokens = np.where(tokens > 0, tokens, t["default_max_num_batched_tokens_count"])
    per_token = 2.0 * (
        3.0 * t["mlp_width_count"] / tp
        + t["activation_hidden_buffers_count"] * t["hidden_size_count"]
    )
    return tokens * per_token + t["logits_bytes"]


def cuda_graph_bytes(t: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CUDA-graph memory reserved before the KV cache (low, central, high), bytes per unit:
    zero with CUDA graphs off (``cuda_graphs_flag``) or on an engine version before the
    reservation (``graph_reserved_flag``)."""
    on = _col(t, "cuda_graphs_flag", 1.0) * _col(t, "graph_reserved_flag", 1.0)
    return t["graph_low_bytes"] * on, t["graph_bytes"] * on, t["graph_high_bytes"] * on


def engine_overhead_bytes(t: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runtime overhead per unit (low, central, high), bytes. With an engine memory model
    (vLLM): non-torch (+ NCCL buffers with TP/PP across nodes) + the activation peak +
    CUDA-graph memory; otherwise the engine's flat ``runtime_overhead_bytes`` (llama.cpp:
    its compute buffer; it allocates the KV the context needs, not a utilization
    fraction)."""
    multi = np.where((t["units_count"] > 1) & (t["parallel_code"] != REPLICAS), 1.0, 0.0)
    base = (
        t["non_torch_bytes"] + multi * t["non_torch_multi_unit_bytes"] + (activation_peak_bytes(t))
    )
    g_low, g_mid, g_high = cuda_graph_bytes(t)
    on = t["memory_model_flag"] > 0
    flat = t["runtime_overhead_bytes"]
    return (
        np.where(on, base + g_low, flat),
        np.where(on, base + g_mid, flat),
        np.where(on, base + g_high, flat),
    )


def memory(t: Table) -> Table:
    """Memory fit per unit: usable, weights, overhead, KV pool, capacity, fits."""
    tp, pp, rep = _layout(t)
    total = (
        t["embedding_bytes"]
        + t["lm_head_bytes"]
        + t["attention_bytes"]
        + t["linear_attention_bytes"]
        + t["dense_mlp_bytes"]
        + t["routed_experts_bytes"]
        + t["shared_experts_bytes"]
        + t["vision_bytes"]
    )
    layer_bytes = (
        t["attention_bytes"]
        + t["linear_attention_bytes"]
        + t["dense_mlp_bytes"]
        + t["routed_experts_bytes"]
        + t["shared_experts_bytes"]
    )
    w_tp = (total - t["replicated_attention_bytes"]) / tp + t["replicated_attention_bytes"]
    w_pp = layer_bytes * _stage_share(t, pp) + np.maximum(
        t["embedding_bytes"] + t["vision_bytes"], t["lm_head_bytes"]
    )
    weights = np.where(tp > 1, w_tp, np.where(pp > 1, w_pp, total))
    weights = weights + _col(t, "spec_memory_bytes") / tp  # MTP layers / EAGLE head / draft model
    usable = t["accelerator_memory_bytes"] * t["memory_utilization_fraction"]
    over_low, overhead, over_high = engine_overhead_bytes(t)
    spread = t["memory_spread_bytes"]
    pool = usable - weights - overhead
    per_token, fixed = _kv_per_unit(t, t["context_tokens"])
    block = t["kv_block_tokens"]
    ctx_rounded = np.ceil(t["context_tokens"] / block) * block
    seqs = np.ceil(t["concurrency_count"] / rep)
    per_seq = per_token * ctx_rounded + fixed
    required = seqs * per_seq
    weights_fit = pool > 0
    fits = weights_fit & (required <= pool)
    pool0 = np.maximum(pool, 0.0)
    ctx_fit = (pool0 / seqs - fixed) / per_token
    max_ctx = np.clip(np.floor(ctx_fit / block) * block, 0, t["model_max_context_tokens"])

    def at(p: np.ndarray) -> dict[str, np.ndarray]:
        p0 = np.maximum(p, 0.0)
        ctx = np.clip(
            np.floor((p0 / seqs - fixed) / per_token / block) * block,
            0,
            t["model_max_context_tokens"],
        )
        return {
            "kv_pool_bytes": p0,
            "kv_capacity_tokens": np.floor(p0 / per_token),
            "max_concurrency_count": np.floor(p0 / per_seq) * rep,
            "max_context_tokens": ctx,
        }

    low = at(usable - weights - over_high - spread)
    high = at(usable - weights - over_low + spread)
    return {
        "overhead_bytes": overhead,
        **{f"{k}_low": v for k, v in low.items()},
        **{f"{k}_high": v for k, v in high.items()},
        "usable_bytes": usable,
        "weights_bytes": weights,
        "weights_total_bytes": total,
        "kv_pool_bytes": pool0,
        "kv_bytes_per_token": per_token,
        "kv_bytes_per_sequence_fixed": fixed,
        "sequences_count": seqs,
        "kv_required_bytes": required,
        "weights_fit_flag": weights_fit,
        "fits_flag": fits,
        "headroom_bytes": pool - required,
        "kv_capacity_tokens": np.floor(pool0 / per_token),
        "max_concurrency_count": np.floor(pool0 / per_seq) * rep,
        "max_context_tokens": max_ctx,
    }


# ----------------------------------------------------------------------------- throughput
def _col(t: Table, key: str, default: float = 0.0) -> np.ndarray:
    """An optional column (the ``spec_*`` columns of speculative decoding), else `default`."""
    if key in t:
        return t[key]
    return np.full(len(t["units_count"]), default)


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
    k = _col(t, "spec_draft_tokens")
    touched = _routed_read_fraction(t, b)
    layers = _col(t, "spec_draft_layers_count")
    read = (
        _col(t, "spec_draft_fixed_bytes") + _col(t, "spec_draft_routed_bytes") * touched
    ) / tp + _col(t, "spec_draft_lm_head_fraction") * t["lm_head_read_bytes"] / tp
    t_mem = read / (t["memory_bandwidth_bytes_s"] * t["bandwidth_efficiency"])
    t_cmp = (
        b
        * 2
        * _col(t, "spec_draft_active_params_count")
        / tp
        / (t["peak_flop_s"] * t["decode_compute_efficiency"])
    )
    t_ar = np.where(layers > 0, (2 * layers + 1) * _allreduce_s(t, b), 0.0)
    one = (
        np.maximum(t_mem, t_cmp)
        + t_ar
        + layers * (t["layer_overhead_s"] + _eager_layer_s(t))
        + _col(t, "spec_draft_s")
    )
    return k * one


def _experts_touched_fraction(t: Table, tokens: np.ndarray) -> np.ndarray:
    """Expected share of a layer's routed experts that `tokens` routed tokens touch.

    Uniform routing over E experts with k per token touches ``E (1 - (1 - k/E)^n)``
    (design.md "MoE traffic"): the upper bound. A router that concentrates its tokens is
    modelled as uniform over ``E_eff = c x E`` experts (``routing_concentration_fraction``
    c, catalog ``routing_concentration``, 1 unless a measured expert-load distribution is
    cited; never below k): ``E_eff (1 - (1 - k/E_eff)^n) / E``. 1 for a dense model."""
    experts = np.maximum(t["experts_count"], 1.0)
    k = t["experts_per_token_count"]
    effective = np.maximum(
        _col(t, "routing_concentration_fraction", 1.0) * experts, np.maximum(k, 1.0)
    )
    touched = effective * (1.0 - (1.0 - k / effective) ** np.maximum(tokens, 0.0))
    return np.where(t["experts_count"] > 0, touched / experts, 1.0)


def _load_imbalance(t: Table, items: np.ndarray) -> np.ndarray:
    """Max / mean load of the most loaded of N expert-parallel units (1 without tp+ep) when
    `items` (touched experts for the bytes, token-to-expert assignments for the FLOPs) land
    on them at random.

    Assumption (no engine measurement on these platforms): balls in bins; the expected
    maximum of m balls in N bins is about ``m/N + sqrt(2 (m/N) (1 - 1/N) ln N)`` (Gaussian
    approximation of the heavy-load case, Raab & Steger 1998, "Balls into Bins: A Simple
    and Tight Analysis"), so ``max/mean = 1 + sqrt(2 (N - 1) ln N / m)``, at most N."""
    n = _ep_units(t)
    m = np.maximum(items, 1e-9)
    imbalance = np.minimum(1.0 + np.sqrt(2.0 * (n - 1.0) * np.log(n) / m), n)
    return np.where((n > 1) & (t["experts_count"] > 0), imbalance, 1.0)


def _routed_read_fraction(t: Table, tokens: np.ndarray) -> np.ndarray:
    """Share of the routed-expert bytes the most loaded unit's share of a step reads, in
    units of the layout's even share: touched fraction x expert-parallel imbalance."""
    touched = _experts_touched_fraction(t, tokens)
    # a unit never reads more than all of its own E/N experts
    return np.minimum(touched * _load_imbalance(t, touched * t["experts_count"]), 1.0)


def _step_weight_bytes(t: Table, batch: np.ndarray) -> np.ndarray:
    """Weight bytes one unit reads per decode step of `batch` sequences.

    MoE: the distinct experts the batch touches (`_experts_touched_fraction`); under tp+ep
    the most loaded unit reads its whole experts, max/mean more than the even share
    (`_load_imbalance`); under tp each unit reads 1/N of every touched expert.
    """
    tp, pp, _ = _layout(t)
    experts_bytes = t["routed_experts_bytes"] - t["router_bytes"]
    routed = t["router_bytes"] + experts_bytes * _routed_read_fraction(t, batch)
    shard = np.where(tp > 1, 1.0 / tp, _stage_share(t, pp))
    return (
        t["attention_bytes"]
        + t["linear_attention_bytes"]
        + t["dense_mlp_bytes"]
        + t["shared_experts_bytes"]
        + routed
    ) * shard + (t["lm_head_read_bytes"] / tp)


def _expert_dispatch_s(t: Table) -> np.ndarray:
    """Extra collective seconds per step of tp+ep over tp: per MoE layer a dispatch
    (all-gather) and a combine (reduce-scatter) of the tokens' hidden vectors (vLLM's
    AgRsAll2AllManager, the backend without NVLink/IBGDA all-to-all: docs.vllm.ai
    vllm/distributed/device_communicators/all2all, 2026-12-03) replace the one all-reduce
    tp pays for the MoE output: the same bytes (an all-reduce is a reduce-scatter plus an
    all-gather) and steps, one more collective's fixed cost per MoE layer."""
    return np.where(_ep_units(t) > 1, t["moe_layers_count"] * t["comm_base_latency_s"], 0.0)


def _graph_batch(t: Table, batch: np.ndarray) -> np.ndarray:
    """The batch a decode step runs at: with CUDA graphs on, padded up to the engine's next
    capture size (vLLM: 1, 2, 4, then multiples of 8 up to 512; vLLM's model runner
    `_BATCH_SIZES_TO_CAPTURE = [1, 2, 4] + [8 * i ...]`, vllm-project/vllm PR 7894, and
    `cudagraph_capture_sizes` in vllm/config/compilation.py); unchanged in eager mode, for
    engines without padding and above the largest captured size."""
    align = t["cuda_graph_align_tokens"]
    b = np.maximum(batch, 1.0)
    below = 2.0 ** np.ceil(np.log2(b))
    padded = np.where(
        b < align,
        np.minimum(below, np.maximum(align, 1.0)),
        np.ceil(b / np.maximum(align, 1.0)) * align,
    )
    on = (t["cuda_graphs_flag"] > 0) & (align > 0) & (b <= t["cuda_graph_max_batch_count"])
    return np.where(on, padded, b)


def _sequence_s(t: Table, batch: np.ndarray) -> np.ndarray:
    """Per-sequence seconds of one decode step: the engine's fixed cost per sequence
    (scheduling, sampling, per-request kernels; fitted, ``sequence_overhead_s``) times the
    padded batch of one model copy. Every tensor-parallel rank runs the whole batch, so TP
    does not divide it; replicas each run their own share."""
    return _col(t, "sequence_overhead_s") * _graph_batch(t, batch)


def _eager_layer_s(t: Table) -> np.ndarray:
    """Extra seconds per layer per decode forward pass in eager mode (CUDA graphs off)."""
    return (1.0 - _col(t, "cuda_graphs_flag")) * _col(t, "eager_layer_overhead_s")


# ----------------------------------------------------------------------------- communication
def transport_columns(platform: Platform, transport: Transport | None) -> dict[str, float]:
    """Kernel columns of the transport collectives run over (catalog `transports`): fixed
    seconds per collective, seconds per ring step, bus bandwidth in bytes/s (the fraction
    of the transport's own link, else the platform interconnect's), the tree flag and the
    fixed seconds per decode step across hosts. Zeros (infinite bandwidth) without one: a
    platform that cannot split a model never pays them."""
    ic = platform.interconnect
    if transport is None or ic is None:
        return {
            "comm_base_latency_s": 0.0,
            "comm_hop_latency_s": 0.0,
            "comm_bus_bytes_s": math.inf,
            "comm_tree_flag": 0.0,
            "comm_step_fixed_s": 0.0,
            "comm_across_hosts_flag": 0.0,
        }
    link_gbit_s = transport.link_gbit_s or ic.link_gbit_s
    return {
        "comm_base_latency_s": transport.base_latency_us * 1e-6,
        "comm_hop_latency_s": transport.hop_latency_us * 1e-6,
        "comm_bus_bytes_s": transport.bus_bandwidth_fraction * link_gbit_s * 1e9 / 8,
        "comm_tree_flag": float(transport.tree),
        "comm_step_fixed_s": transport.step_fixed_us * 1e-6,
        "comm_across_hosts_flag": float(transport.across_hosts),
    }


#: NCCL's tree step costs this many ring steps: its network LL step latencies are 5.0 us
#: (tree) and 2.7 us (ring) in NVIDIA/nccl src/graph/tuning.cc `hwLat`.
TREE_HOP_FACTOR = 5.0 / 2.7


def ring_allreduce_s(
    ranks: np.ndarray,
    message_bytes: np.ndarray,
    base_latency_s: np.ndarray,
    hop_latency_s: np.ndarray,
    bus_bytes_s: np.ndarray,
) -> np.ndarray:
    """Seconds of one ring all-reduce of `message_bytes` over `ranks` units: a fixed cost,
    2 (N-1) steps of `hop_latency_s` (reduce-scatter then all-gather) and the bytes each
    rank sends, ``M 2 (N-1) / N``, at the bus bandwidth (NCCL's cost model, tuning.cc).
    Zero on one rank."""
    n = np.maximum(ranks, 1.0)
    t = (
        base_latency_s
        + 2.0 * (n - 1.0) * hop_latency_s
        + message_bytes * 2.0 * (n - 1.0) / n / bus_bytes_s
    )
    return np.where(n > 1, t, 0.0)


def tree_allreduce_s(
    ranks: np.ndarray,
    message_bytes: np.ndarray,
    base_latency_s: np.ndarray,
    hop_latency_s: np.ndarray,
    bus_bytes_s: np.ndarray,
) -> np.ndarray:
    """Seconds of one tree all-reduce (NCCL's double binary tree across hosts): up and down
    ``ceil(log2 N)`` levels of TREE_HOP_FACTOR ring steps each, the message at half the bus
    bandwidth (NCCL's tree algorithm bandwidth). Zero on one rank."""
    n = np.maximum(ranks, 1.0)
    levels = np.ceil(np.log2(n))
    t = (
        base_latency_s
        + 2.0 * levels * TREE_HOP_FACTOR * hop_latency_s
        + 2.0 * message_bytes / bus_bytes_s
    )
    return np.where(n > 1, t, 0.0)


def allreduce_s(t: Table, ranks: np.ndarray, message_bytes: np.ndarray) -> np.ndarray:
    """Seconds of one all-reduce of `message_bytes` over `ranks` units on the row's
    transport: the ring, or the tree where the transport offers it and it is faster (NCCL
    picks the cheaper by the same model). Never faster with more ranks."""
    args = (
        ranks,
        message_bytes,
        t["comm_base_latency_s"],
        t["comm_hop_latency_s"],
        t["comm_bus_bytes_s"],
    )
    ring = ring_allreduce_s(*args)
    return np.where(t["comm_tree_flag"] > 0, np.minimum(ring, tree_allreduce_s(*args)), ring)


def _allreduce_s(t: Table, tokens: np.ndarray) -> np.ndarray:
    """One tensor-parallel all-reduce of `tokens` hidden vectors (bf16) over the TP ranks."""
    tp, _, _ = _layout(t)
    return allreduce_s(t, tp, tokens * t["hidden_size_count"] * ACTIVATION_BYTES)


def hop_s(t: Table, tokens: np.ndarray) -> np.ndarray:
    """Seconds of one pipeline hand-off of `tokens` hidden vectors (bf16) to the next
    stage: one collective's fixed cost, one step and the bytes at the bus bandwidth."""
    msg = tokens * t["hidden_size_count"] * ACTIVATION_BYTES
    return t["comm_base_latency_s"] + t["comm_hop_latency_s"] + msg / t["comm_bus_bytes_s"]


def multi_node_step_s(t: Table) -> np.ndarray:
    """Fixed seconds per decode step when tensor or pipeline parallel spans hosts (the
    engine's per-step broadcast of the scheduler output and gather of the sampled tokens;
    transport ``step_fixed_us``); zero for one unit, replicas and cards in one host."""
    split = (t["units_count"] > 1) & (t["parallel_code"] != REPLICAS)
    return np.where(split & (t["comm_across_hosts_flag"] > 0), t["comm_step_fixed_s"], 0.0)


def decode(
    t: Table, mem: Table, *, batch: np.ndarray | None = None, context: np.ndarray | None = None
) -> Table:
    """Decode speed per request and in total, at `batch` sequences per model copy.

    Default batch: the requested concurrency per copy, capped by the KV pool (the rest
    queue). PP with m = min(batch, stages) micro-batches: a token passes every stage once
    (the whole model, lm_head once, plus a hand-off per stage boundary), and a full
    pipeline advances all micro-batches every m slowest-stage times, whichever is longer.
    """
    tp, pp, rep = _layout(t)
    if batch is None:
        batch = np.maximum(
            1.0,
            np.minimum(
                mem["sequences_count"],
                np.maximum(1.0, np.floor(mem["max_concurrency_count"] / rep)),
            ),
        )
    ctx = t["context_tokens"] if context is None else context
    per_token, fixed = mem["kv_bytes_per_token"], mem["kv_bytes_per_sequence_fixed"]
    micro = np.where(pp > 1, np.minimum(batch, pp), 1.0)
    b = batch / micro  # sequences per stage pass
    share = _stage_share(t, pp)
    # speculative decoding: each sequence verifies k drafts + 1 token in one step (weights
    # read once for all of them, KV read once per sequence, compute and all-reduce x q)
    k = _col(t, "spec_draft_tokens")
    on = bool(np.any(k > 0))  # skip the speculative terms in plain sweeps
    q = 1.0 + k if on else 1.0
    kv_stage = b * (_kv_read_per_token(t, per_token, ctx) + fixed)
    stage, t_cmp, t_mem, t_ar = _step_s(
        t,
        b,
        ctx,
        kv_stage,
        _step_weight_bytes(t, b * q),
        np.where(tp > 1, 1.0 / tp, share),
        np.where(pp > 1, np.ceil(t["layers_count"] / pp), t["layers_count"]),
        q,
    )
    # one pass through every stage: all layers' weights and KV, lm_head once
    layer_bytes = _step_weight_bytes(t, b * q) - t["lm_head_read_bytes"]
    whole, _, _, _ = _step_s(
        t,
        b,
        ctx,
        kv_stage / share,
        layer_bytes / share + t["lm_head_read_bytes"],
        np.ones_like(share),
        t["layers_count"],
        q,
    )
    hops = (pp - 1) * hop_s(t, b * q)
    draft = _draft_s(t, b) if on else np.zeros_like(b)
    period = (
        np.where(pp > 1, np.maximum(micro * stage, whole) + hops, stage)
        + draft
        + multi_node_step_s(t)
    )
    accepted = accepted_tokens(_col(t, "spec_accept_fraction"), k) if on else np.ones_like(b)
    spec = t["spec_speed_multiplier"] * accepted
    active = np.minimum(t["concurrency_count"], batch * rep)  # idle replicas add nothing
    return {
        "batch_count": batch,
        "tok_s_per_request": spec / period,
        "tok_s_total": spec * active / period,
        "step_s": period,
        "allreduce_s": t_ar,
        "compute_bound_flag": t_cmp > t_mem,
        "draft_s": draft,
        "accepted_tokens_per_step": accepted,
    }


def _step_s(
    t: Table,
    b: np.ndarray,
    ctx: np.ndarray,
    kv_bytes: np.ndarray,
    weight_bytes: np.ndarray,
    share: np.ndarray,
    layers: np.ndarray,
    q: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(step s, compute s, memory s, collective s) of one unit holding `share` of the layers
    for a decode step of `b` sequences of `q` tokens each (q = k + 1 when verifying k
    drafts) that reads `weight_bytes` + `kv_bytes`. Fixed costs by platform class: per
    decoder layer (``layer_overhead_s``, fast GPUs) or per decode step
    (``step_overhead_s``, Apple unified memory), plus the per-sequence cost."""
    t_mem = (weight_bytes + kv_bytes) / (t["memory_bandwidth_bytes_s"] * t["bandwidth_efficiency"])
    flops = _decode_flops(t, b, ctx, q) * share
    t_cmp = flops / (t["peak_flop_s"] * t["decode_compute_efficiency"])
    t_ar = (2 * t["layers_count"] + 1) * _allreduce_s(t, b * q) + _expert_dispatch_s(t)
    t_fixed = (
        layers * (_layer_s(t) + _eager_layer_s(t)) + _col(t, "step_overhead_s") + _sequence_s(t, b)
    )
    return np.maximum(t_mem, t_cmp) + t_ar + t_fixed, t_cmp, t_mem, t_ar


def _decode_flops(
    t: Table, b: np.ndarray, ctx: np.ndarray, q: np.ndarray | float = 1.0
) -> np.ndarray:
    """FLOPs of one decode step of `b` sequences x `q` tokens on the whole model (TP 1):
    2 x active params per token at the CUDA-graph padded batch (`_graph_batch`), under tp+ep
    the routed part times the token imbalance of the most loaded unit, plus attention."""
    rows = _graph_batch(t, b) * q
    routed = t["routed_active_params_count"]
    imbalance = _load_imbalance(t, rows * t["experts_per_token_count"])
    weights = 2 * (t["active_params_count"] + (imbalance - 1.0) * routed)
    return rows * weights + b * q * _attention_flops(t, ctx)


def _layer_s(t: Table) -> np.ndarray:
    """Fixed seconds per layer per forward pass: the path's per-layer overhead plus, for the
    share of layers with a recurrent state, the path's extra cost of those kernels."""
    return t["layer_overhead_s"] + _col(t, "recurrent_layer_fraction") * _col(
        t, "recurrent_layer_overhead_s"
    )


def prefill_gemm_s(t: Table, tokens: np.ndarray) -> np.ndarray:
    """Seconds of the prefill GEMMs (2 x active params FLOPs per token) of `tokens` new
    tokens at the measured rate of the compute path: the dtype's dense peak x the fitted
    prefill efficiency of (platform family, engine); tensor parallel splits them."""
    tp, _, _ = _layout(t)
    flops = 2 * t["active_params_count"] * tokens
    return flops / (tp * t["peak_flop_s"] * t["prefill_compute_efficiency"])


def prefill_attention_s(
    t: Table, tokens: np.ndarray, depth: np.ndarray | float = 0.0
) -> np.ndarray:
    """Seconds of the causal attention of `tokens` new tokens over `depth` cached ones
    (sliding-window and sparse layers capped), at the platform's flash-attention rate
    (``attention_flop_s``) x the engine's attention efficiency; TP splits the heads."""
    tp, _, _ = _layout(t)
    flops = _prefill_attention_flops(t, tokens, depth)
    return flops / (tp * t["attention_flop_s"] * _col(t, "attention_efficiency", 1.0))


def ttft_s(t: Table, tokens: np.ndarray, depth: np.ndarray | float = 0.0) -> np.ndarray:
    """Time to first token of one request, s: the engine's fixed cost (HTTP, tokenizer,
    scheduler, first-step launch; ``ttft_fixed_s``) plus the prefill of `tokens` new tokens
    on `depth` cached ones (the last prefill forward samples the first token)."""
    return _col(t, "ttft_fixed_s") + prefill(t, tokens, depth)


def prefill(t: Table, tokens: np.ndarray, depth: np.ndarray | float = 0.0) -> np.ndarray:
    """Seconds to prefill `tokens` new tokens on top of `depth` cached ones (one request).

    Compute: the GEMMs at the fitted rate of the compute path (`prefill_gemm_s`) plus the
    causal attention at the platform's flash-attention rate (`prefill_attention_s`), one
    after the other; never faster than re-reading the weights once per 2048-token chunk;
    plus TP all-reduces per chunk. PP: every chunk passes every stage (no speed-up for one
    chunk); an engine that pipelines the chunks (ubatches) of one request (llama.cpp) runs
    them on consecutive stages at once: chunk-stage times plus the pipeline fill of pp - 1
    of them; each chunk pays the hand-offs. The engine's fixed time-to-first-token cost is
    not part of it (`ttft_s`).
    """
    _, pp, _ = _layout(t)
    tokens = np.maximum(tokens, 1.0)
    t_compute = prefill_gemm_s(t, tokens) + prefill_attention_s(t, tokens, depth)
    chunks = np.ceil(tokens / PREFILL_CHUNK_TOKENS)
    chunk_bytes = _step_weight_bytes(t, np.full_like(tokens, float(PREFILL_CHUNK_TOKENS)))
    share = _stage_share(t, pp)
    whole_bytes = np.where(
        pp > 1,
        (chunk_bytes - t["lm_head_read_bytes"]) / share + t["lm_head_read_bytes"],
        chunk_bytes,
    )
    t_weights = chunks * whole_bytes / (t["memory_bandwidth_bytes_s"] * t["bandwidth_efficiency"])
    t_ar = (
        (2 * t["layers_count"] + 1)
        * chunks
        * _allreduce_s(t, np.minimum(tokens, PREFILL_CHUNK_TOKENS))
    )
    core = np.maximum(t_compute, t_weights)
    # pipelined chunks: chunk i runs on stage s while chunk i+1 runs on stage s-1. Each
    # stage spends max(compute, its weights) per chunk; the last stage starts pp - 1
    # chunk-stage-times late (the pipeline fill), the longest chunk's.
    w_pass = whole_bytes / (t["memory_bandwidth_bytes_s"] * t["bandwidth_efficiency"])
    per_token = t_compute / tokens
    full = np.floor(tokens / PREFILL_CHUNK_TOKENS)
    rest = tokens - full * PREFILL_CHUNK_TOKENS
    stage_full = np.maximum(per_token * PREFILL_CHUNK_TOKENS, w_pass) / pp
    stage_rest = np.where(rest > 0, np.maximum(per_token * rest, w_pass) / pp, 0.0)
    fill = (pp - 1) * np.where(full > 0, stage_full, stage_rest)
    piped = full * stage_full + stage_rest + fill
    core = np.where((pp > 1) & (t["prefill_pipelined_flag"] > 0), piped, core)
    return (
        core
        + t_ar
        + chunks * (t["layers_count"] * _layer_s(t) + _col(t, "step_overhead_s"))
        + (pp - 1) * chunks * hop_s(t, np.minimum(tokens, PREFILL_CHUNK_TOKENS))
    )
