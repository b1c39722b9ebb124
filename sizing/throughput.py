"""Decode and prefill speed from first principles, with calibrated efficiencies.

Decode (design.md "Decode throughput"): one step of a batch of ``b`` sequences makes
every unit stream its share of the *active* weights — attention, dense and shared MLP,
lm_head, and the distinct routed experts the batch touches — plus the KV cache of every
sequence, at ``bandwidth x efficiency``; or it is bound by compute at large batch::

    t_step = max(t_memory, t_compute) + t_allreduce (TP) + step_overhead

Tensor parallel adds ``2 * layers + 1`` all-reduces per step, latency bound over 200G
RoCE (tens of microseconds each): that is why two GB10s give ~1.3x, not 2x, on a sparse
MoE and why a dense model with many layers can get slower. Pipeline parallel runs stages
one after another for a single stream (no speed-up) but overlaps micro-batches when
there are enough requests. Replicas are independent copies.

Prefill is compute bound: ``2 * active_params`` FLOPs per token plus causal attention, at
a calibrated fraction of the platform's dense peak for the quant's compute dtype, and
never faster than re-reading the touched weights once per chunk.

The efficiencies come from ``catalog.yaml`` ``calibration`` (fitted by
``python -m sizing calibrate --fit`` on ``data/benchmarks.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.catalog import Catalog, FamilyCalibration
from sizing.llm import expected_experts_touched, param_counts, weight_bytes_by_class
from sizing.memory import MemoryFit, kv_per_unit
from sizing.scenario import Resolved

PREFILL_CHUNK_TOKENS = 2048   # vLLM max_num_batched_tokens / llama.cpp -ub in the benchmarks
ACTIVATION_BYTES = 2          # bf16 activations in all-reduces


@dataclass(frozen=True)
class Throughput:
    decode_tok_s_per_request: float
    decode_tok_s_total: float
    batch_per_group: int          # sequences one model copy decodes together
    bound: str                    # "memory" | "compute"
    step_ms: float
    allreduce_ms_per_step: float
    prefill_tok_s: float
    ttft_s: float


def _efficiency(r: Resolved, catalog: Catalog) -> tuple[FamilyCalibration, float, float]:
    fam, eng = catalog.calibration_for(r.platform.family, r.engine.id)
    bw_eff = min(1.0, fam.bandwidth_efficiency * eng.decode_factor)
    prefill_eff = min(1.0, fam.prefill_compute_efficiency * eng.prefill_factor)
    return fam, bw_eff, prefill_eff


def peak_tflops(r: Resolved) -> float:
    """Dense peak for the quant's compute dtype; falls back to bf16 where unsupported."""
    c = r.platform.compute
    by_dtype = {"bf16": c.bf16_tflops, "fp8": c.fp8_tflops, "fp4": c.fp4_tflops,
                "int8": c.int8_tops or c.fp8_tflops}
    dtype = r.quant.compute_dtype
    if r.engine.quantized_compute_dtype and r.quant.id != "bf16":
        dtype = r.engine.quantized_compute_dtype
    return by_dtype.get(dtype) or c.bf16_tflops


def _shard(r: Resolved) -> float:
    """Fraction of each layer's weights that lives on one unit of a model copy."""
    if r.parallel == "tp":
        return 1.0 / r.tp
    if r.parallel == "pp":
        return math.ceil(r.model.num_hidden_layers / r.pp) / r.model.num_hidden_layers
    return 1.0


def step_weight_bytes(r: Resolved, catalog: Catalog, batch: float) -> float:
    """Weight bytes one unit reads in one decode step of `batch` sequences."""
    by_class = weight_bytes_by_class(r.model, r.quant, catalog, engine_id=r.engine.id)
    m = r.model
    dense = sum(by_class[c] for c in ("attention", "linear_attention", "dense_mlp",
                                      "shared_experts"))
    head = by_class["lm_head"] or by_class["embedding"]
    routed = by_class["routed_experts"]
    if m.moe is not None and routed:
        touched = expected_experts_touched(m.moe.num_experts, m.moe.experts_per_token, batch)
        routed *= touched / m.moe.num_experts
    head_share = 1.0 / r.tp if r.parallel == "tp" else 1.0   # PP: the last stage holds it
    return (dense + routed) * _shard(r) + head * head_share


def step_flops(r: Resolved, batch: float, context_tokens: float) -> float:
    """FLOPs one unit performs in one decode step (matmuls + attention over the context)."""
    m = r.model
    active = _active_params(r)
    attn_layers = m.n_full_attention_layers + m.sliding_window_layers * (
        min(1.0, (m.sliding_window or 0) / max(context_tokens, 1)))
    attn = 4 * context_tokens * m.num_attention_heads * m.head_dim * attn_layers
    return batch * (2 * active + attn) * _shard(r)


def _active_params(r: Resolved) -> float:
    c = param_counts(r.model).by_class
    routed = c["routed_experts"]
    if r.model.moe is not None:
        routed *= r.model.moe.experts_per_token / r.model.moe.num_experts
    return (c["attention"] + c["linear_attention"] + c["dense_mlp"] + c["shared_experts"]
            + routed + (c["lm_head"] or c["embedding"]))


def allreduce_s(r: Resolved, tokens: float) -> float:
    """Time of one all-reduce of `tokens` hidden vectors across the TP group (seconds).

    Latency term: the interconnect's measured in-engine small-message all-reduce latency
    (roughly flat from 2 to 4 ranks on GB10: ~30 us nccl-tests at TP2, 54-64 us in vLLM
    decode at TP4); bandwidth term: a ring all-reduce moves 2(N-1)/N of the message over
    each link.
    """
    n = r.tp
    if n <= 1:
        return 0.0
    ic = r.platform.interconnect
    if ic is None:
        raise ValueError(f"{r.platform.id} has no interconnect for tensor parallel")
    msg_bytes = tokens * r.model.hidden_size * ACTIVATION_BYTES
    latency_s = ic.allreduce_latency_us * 1e-6
    bandwidth_s = msg_bytes * 2 * (n - 1) / n / (ic.link_gbit_s * 1e9 / 8)
    return latency_s + bandwidth_s


def _n_allreduce(r: Resolved) -> int:
    return 2 * r.model.num_hidden_layers + 1


def stage_step_s(r: Resolved, catalog: Catalog, batch: float, *,
                 context_tokens: float | None = None) -> tuple[float, str, float]:
    """(seconds, bound, all-reduce seconds) for one unit's part of one decode step.

    For TP and single units that is the whole step; for PP it is one pipeline stage.
    """
    fam, bw_eff, _ = _efficiency(r, catalog)
    ctx = r.context_tokens if context_tokens is None else context_tokens
    per_token, fixed = kv_per_unit(r)
    kv_bytes = batch * (per_token * ctx + fixed)
    bw = r.platform.memory_bandwidth_gb_s * 1e9 * bw_eff
    t_mem = (step_weight_bytes(r, catalog, batch) + kv_bytes) / bw
    t_cmp = step_flops(r, batch, ctx) / (peak_tflops(r) * 1e12 * fam.decode_compute_efficiency)
    t_ar = _n_allreduce(r) * allreduce_s(r, batch) if r.parallel == "tp" else 0.0
    bound = "memory" if t_mem >= t_cmp else "compute"
    t_fixed = _layers_on_unit(r) * catalog.calibration.layer_overhead_us * 1e-6
    return max(t_mem, t_cmp) + t_ar + t_fixed, bound, t_ar


def _layers_on_unit(r: Resolved) -> int:
    layers = r.model.num_hidden_layers
    return math.ceil(layers / r.pp) if r.parallel == "pp" else layers


def _hop_s(r: Resolved) -> float:
    """Latency of handing activations to the next pipeline stage (one message)."""
    ic = r.platform.interconnect
    return ic.allreduce_latency_us * 1e-6 if ic else 0.0


def decode_at(r: Resolved, catalog: Catalog, batch: int, *,
              context_tokens: float | None = None) -> tuple[float, float, str, float, float]:
    """(tok/s per request, tok/s total, bound, step ms, all-reduce ms) at `batch` per copy.

    PP: with m = min(batch, stages) micro-batches, all sequences advance one token every
    max(m, stages) stage-times plus the hand-offs between stages.
    """
    mult = r.scenario.speculative_multiplier
    if r.parallel == "pp" and r.pp > 1:
        micro = min(batch, r.pp)
        stage_s, bound, _ = stage_step_s(r, catalog, batch / micro,
                                         context_tokens=context_tokens)
        period = max(micro, r.pp) * stage_s + (r.pp - 1) * _hop_s(r)
        return mult / period, mult * batch / period, bound, period * 1e3, 0.0
    step_s, bound, ar_s = stage_step_s(r, catalog, batch, context_tokens=context_tokens)
    return mult / step_s, mult * batch * r.replicas / step_s, bound, step_s * 1e3, ar_s * 1e3


def decode(r: Resolved, catalog: Catalog, fit: MemoryFit) -> tuple[float, float, int, str,
                                                                    float, float]:
    """(tok/s per request, tok/s total, batch per copy, bound, step ms, all-reduce ms).

    The batch is the requested concurrency per model copy, capped by what the KV pool
    holds (further requests queue).
    """
    batch = max(1, min(fit.sequences_per_group, max(1, fit.max_concurrency // r.replicas)))
    per_req, total, bound, step_ms, ar_ms = decode_at(r, catalog, batch)
    return per_req, total, batch, bound, step_ms, ar_ms


def prefill_s(r: Resolved, catalog: Catalog, tokens: float, *, depth: float = 0.0) -> float:
    """Seconds to prefill `tokens` new tokens on top of `depth` cached ones (one request)."""
    if tokens <= 0:
        return 0.0
    _, bw_eff, prefill_eff = _efficiency(r, catalog)
    m = r.model
    attn_layers = m.n_full_attention_layers + m.sliding_window_layers * min(
        1.0, (m.sliding_window or 0) / max(depth + tokens, 1))
    # causal attention: each new token attends to depth + its position
    attn_pairs = tokens * depth + tokens * tokens / 2
    flops = 2 * _active_params(r) * tokens + 4 * attn_pairs * m.num_attention_heads * (
        m.head_dim) * attn_layers
    units_computing = r.tp if r.parallel == "tp" else 1
    t_compute = flops / (units_computing * peak_tflops(r) * 1e12 * prefill_eff)
    chunks = math.ceil(tokens / PREFILL_CHUNK_TOKENS)
    all_weights = step_weight_bytes(r, catalog, PREFILL_CHUNK_TOKENS)
    bw = r.platform.memory_bandwidth_gb_s * 1e9 * bw_eff
    t_weights = chunks * all_weights / bw
    t_ar = _n_allreduce(r) * chunks * allreduce_s(r, min(tokens, PREFILL_CHUNK_TOKENS)) if (
        r.parallel == "tp") else 0.0
    hops = 0.0
    if r.parallel == "pp" and r.pp > 1 and r.platform.interconnect:
        hops = (r.pp - 1) * chunks * _hop_s(r)
    t_fixed = chunks * r.model.num_hidden_layers * catalog.calibration.layer_overhead_us * 1e-6
    return max(t_compute, t_weights) + t_ar + hops + t_fixed


def throughput(r: Resolved, catalog: Catalog, fit: MemoryFit) -> Throughput:
    """Decode and prefill figures for a resolved scenario at its context and concurrency."""
    per_req, total, batch, bound, step_ms, ar_ms = decode(r, catalog, fit)
    t_prefill = prefill_s(r, catalog, r.context_tokens)
    prefill_tok_s = r.context_tokens / t_prefill if t_prefill > 0 else 0.0
    ttft = t_prefill + 1.0 / max(per_req, 1e-9)
    return Throughput(
        decode_tok_s_per_request=per_req,
        decode_tok_s_total=total,
        batch_per_group=batch,
        bound=bound,
        step_ms=step_ms,
        allreduce_ms_per_step=ar_ms,
        prefill_tok_s=prefill_tok_s,
        ttft_s=ttft,
    )
