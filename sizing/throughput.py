"""Decode and prefill speed from first principles, with calibrated efficiencies.

Decode (design.md "Decode throughput"): one step of a batch of ``b`` sequences makes
every unit stream its share of the *active* weights — attention, dense and shared MLP,
lm_head, and the distinct routed experts the batch touches — plus the KV cache of every
sequence, at ``bandwidth x efficiency``; or it is bound by compute at large batch::

    t_step = max(t_memory, t_compute) + t_allreduce (TP) + step_overhead

Tensor parallel adds ``2 * layers + 1`` all-reduces per step, latency bound over 200G
RoCE (tens of microseconds each): that is why two GB10s give ~1.3x, not 2x, on a sparse
MoE and why a dense model with many layers can get slower. Pipeline parallel passes a
token through every stage once (one unit's speed plus the hand-offs for a single stream)
and overlaps micro-batches when there are enough requests. Replicas are independent
copies.

Prefill is compute bound: the GEMMs (``2 * active_params`` FLOPs per token) at the measured
rate of the compute path (a fitted fraction of the dense peak of the quant's compute dtype,
per platform family and kernel path), plus causal attention at the platform's
flash-attention rate, never faster than re-reading the touched weights once per chunk.
Time to first token adds the engine's fixed cost (HTTP, tokenizer, scheduler).

The efficiencies come from ``catalog.yaml`` ``calibration`` (fitted by
``python -m sizing calibrate --fit`` on ``data/benchmarks.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sizing import kernel
from sizing.memory import table_for

if TYPE_CHECKING:
    from sizing.catalog import Catalog, FamilyCalibration
    from sizing.scenario import Resolved


@dataclass(frozen=True)
class Throughput:
    decode_tok_s_per_request: float
    decode_tok_s_total: float
    batch_per_group: int  # sequences one model copy decodes together
    bound: str  # "memory" | "compute"
    step_ms: float
    allreduce_ms_per_step: float
    prefill_tok_s: float
    ttft_s: float


def decode_at(
    r: Resolved, catalog: Catalog, batch: int, *, context_tokens: float | None = None
) -> tuple[float, float, str, float, float]:
    """(tok/s per request, tok/s total, bound, step ms, all-reduce ms) at `batch` per copy."""
    t = table_for(r, catalog)
    mem = kernel.memory(t)
    ctx = None if context_tokens is None else np.array([float(context_tokens)])
    d = kernel.decode(t, mem, batch=np.array([float(batch)]), context=ctx)
    return (
        float(d["tok_s_per_request"][0]),
        float(d["tok_s_total"][0]),
        "compute" if d["compute_bound_flag"][0] else "memory",
        float(d["step_s"][0] * 1e3),
        float(d["allreduce_s"][0] * 1e3),
    )


def prefill_s(r: Resolved, catalog: Catalog, tokens: float, *, depth: float = 0.0) -> float:
    """Seconds to prefill `tokens` new tokens on top of `depth` cached ones (one request)."""
    return float(kernel.prefill(table_for(r, catalog), np.array([float(tokens)]), depth)[0])


def throughput(r: Resolved, catalog: Catalog) -> Throughput:
    """Decode and prefill figures for a resolved scenario at its context and concurrency."""
    t = table_for(r, catalog)
    mem = kernel.memory(t)
    d = kernel.decode(t, mem)
    t_prefill = float(kernel.prefill(t, t["context_tokens"])[0])
    t_first = float(kernel.ttft_s(t, t["context_tokens"])[0])
    per_request = float(d["tok_s_per_request"][0])
    return Throughput(
        decode_tok_s_per_request=per_request,
        decode_tok_s_total=float(d["tok_s_total"][0]),
        batch_per_group=int(d["batch_count"][0]),
        bound="compute" if d["compute_bound_flag"][0] else "memory",
        step_ms=float(d["step_s"][0] * 1e3),
        allreduce_ms_per_step=float(d["allreduce_s"][0] * 1e3),
        prefill_tok_s=r.context_tokens / t_prefill,
        ttft_s=t_first,
    )


@dataclass(frozen=True)
class SpeedBand:
    """Likely ranges of a prediction (cross-validated error of its platform family)."""

    decode_tok_s_low: float
    decode_tok_s_high: float
    decode_tok_s_total_low: float
    decode_tok_s_total_high: float
    prefill_tok_s_low: float
    prefill_tok_s_high: float
    ttft_s_low: float
    ttft_s_high: float


def speed_band(
    speed: Throughput,
    context_tokens: int,
    fam: FamilyCalibration,
    *,
    decode_range: tuple[float, float, float, float] | None = None,
    assumed_fixed_s: float = 0.0,
) -> SpeedBand:
    """Divide and multiply by (1 + band) (``FamilyCalibration.decode_band_pct`` /
    ``prefill_band_pct``); TTFT = the engine's fixed cost + prefill at the prefill band.

    `decode_range` (per request low, high, total low, high), with speculative decoding the
    decode figures at the low and high end of the acceptance range: the band is then
    widened to (low / band, high x band). `assumed_fixed_s`, a fixed cost per decode step
    that no row of this engine fitted (an assumption), widens the decode band further: the
    step with that cost from 0 to twice its value."""
    d = 1.0 + fam.decode_band_pct / 100
    p = 1.0 + fam.prefill_band_pct / 100
    prefill_s_ = context_tokens / speed.prefill_tok_s
    fixed_s = max(0.0, speed.ttft_s - prefill_s_)
    per_low = per_high = speed.decode_tok_s_per_request
    tot_low = tot_high = speed.decode_tok_s_total
    if decode_range is not None:
        per_low, per_high, tot_low, tot_high = decode_range
    step_s = speed.step_ms / 1e3
    slow = fast = 1.0
    if assumed_fixed_s > 0 and step_s > 0:
        slow = step_s / (step_s + assumed_fixed_s)
        fast = step_s / max(step_s - assumed_fixed_s, 0.5 * step_s)
    return SpeedBand(
        decode_tok_s_low=per_low / d * slow,
        decode_tok_s_high=per_high * d * fast,
        decode_tok_s_total_low=tot_low / d * slow,
        decode_tok_s_total_high=tot_high * d * fast,
        prefill_tok_s_low=speed.prefill_tok_s / p,
        prefill_tok_s_high=speed.prefill_tok_s * p,
        ttft_s_low=fixed_s + prefill_s_ / p,
        ttft_s_high=fixed_s + prefill_s_ * p,
    )
