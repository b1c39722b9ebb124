"""Memory fit per unit: usable memory, weights, runtime overhead, KV capacity.

Physics (design.md, "The models"):

* Usable memory is the accelerator memory the runtime reports (GB10: ~121.7 GiB of the
  128 GB nameplate) times the engine's utilization. vLLM/SGLang pre-allocate that budget
  and fill whatever weights and overhead leave with KV; llama.cpp/MLX allocate what the
  context needs, up to the same ceiling.
* Tensor parallel shards every weight matrix and the KV heads by N; MLA's latent KV is
  replicated. Pipeline parallel splits the layers (the largest stage decides).
  Replicas hold the whole model on every unit and split the requests.

All results are per unit (the most loaded unit) unless the name says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.catalog import Catalog
from sizing.llm import (
    GIB,
    kv_bytes_per_sequence_fixed,
    kv_bytes_per_token,
    param_counts,
    round_up,
    weight_bytes_by_class,
)
from sizing.scenario import Resolved

_LAYER_CLASSES = ("attention", "linear_attention", "dense_mlp", "routed_experts",
                  "shared_experts")


@dataclass(frozen=True)
class MemoryFit:
    """Memory figures for one scenario, per unit (GiB unless stated)."""

    usable_gib_per_unit: float
    weights_gib_per_unit: float
    weights_gib_total: float
    overhead_gib_per_unit: float
    kv_cache_gib_per_unit: float          # what is left for KV after weights and overhead
    kv_bytes_per_token_per_unit: float
    kv_bytes_per_sequence_fixed_per_unit: float
    kv_capacity_tokens: int               # tokens of context the KV pool holds (one group)
    sequences_per_group: int              # concurrency each model copy serves
    kv_required_gib_per_unit: float       # KV needed for the requested context x concurrency
    max_concurrency: int                  # at the requested context, whole deployment
    max_context_tokens: int               # at the requested concurrency
    fits: bool
    headroom_gib_per_unit: float          # usable - weights - overhead - required KV
    reason: str


def weights_bytes_per_unit(r: Resolved, catalog: Catalog) -> tuple[float, float]:
    """(bytes on the most loaded unit, bytes of one full model copy)."""
    by_class = weight_bytes_by_class(r.model, r.quant, catalog, engine_id=r.engine.id)
    by_class.pop("mtp", None)        # MTP heads load only with speculative MTP (not modelled)
    by_class.pop("vision", None)     # text-only serving assumed
    total = sum(by_class.values())
    if r.parallel == "tp" and r.tp > 1:
        replicated = 0.0
        if r.model.attention == "mla" and r.model.mla is not None:
            # q_a / kv_a down-projections are replicated on every rank (vLLM ReplicatedLinear).
            a, h = r.model.mla, r.model.hidden_size
            per_layer = h * ((a.q_lora_rank or 0) + a.kv_lora_rank + a.qk_rope_head_dim)
            frac = per_layer * r.model.num_hidden_layers / max(1, param_counts(r.model)
                                                                 .by_class["attention"])
            replicated = by_class["attention"] * frac
        return (total - replicated) / r.tp + replicated, total
    if r.parallel == "pp" and r.pp > 1:
        layers = r.model.num_hidden_layers
        per_layer = sum(by_class[c] for c in _LAYER_CLASSES) / layers
        stage_layers = math.ceil(layers / r.pp)
        ends = max(by_class["embedding"], by_class["lm_head"])
        return per_layer * stage_layers + ends, total
    return total, total


def kv_per_unit(r: Resolved) -> tuple[float, float]:
    """(bytes per context token, fixed bytes per sequence) on the most loaded unit."""
    swa = r.engine.swa_aware
    per_token = kv_bytes_per_token(r.model, r.kv_dtype, tp=r.tp, swa_aware=swa)
    fixed = kv_bytes_per_sequence_fixed(r.model, r.kv_dtype, context_tokens=r.context_tokens,
                                        tp=r.tp, swa_aware=swa)
    if r.parallel == "pp" and r.pp > 1:
        share = math.ceil(r.model.num_hidden_layers / r.pp) / r.model.num_hidden_layers
        per_token, fixed = per_token * share, fixed * share
    return per_token, fixed


def memory_fit(r: Resolved, catalog: Catalog) -> MemoryFit:
    """Does the scenario fit, and what context / concurrency does the memory allow."""
    usable = r.platform.accelerator_memory_gib * r.mem_util * GIB
    weights_unit, weights_total = weights_bytes_per_unit(r, catalog)
    overhead = r.engine.runtime_overhead_gib * GIB
    kv_pool = usable - weights_unit - overhead
    per_token, fixed = kv_per_unit(r)
    block = r.engine.kv_block_tokens
    ctx = round_up(r.context_tokens, block)
    # Replicas split the requests; TP / PP groups serve all of them.
    groups = r.replicas
    seqs = math.ceil(r.concurrency / groups)
    per_seq = per_token * ctx + fixed
    required = seqs * per_seq
    fits_weights = kv_pool > 0
    fits = fits_weights and required <= kv_pool
    pool = max(kv_pool, 0.0)
    capacity_tokens = int(pool // per_token) if per_token > 0 else 0
    max_conc = int(pool // per_seq) * groups if per_seq > 0 else 0
    if seqs and per_token > 0:
        ctx_fit = (pool / seqs - fixed) / per_token
        max_ctx = max(0, min(r.model.max_context_tokens, int(ctx_fit // block * block)))
    else:
        max_ctx = 0
    if not fits_weights:
        reason = (f"weights {weights_unit / GIB:.1f} GiB + overhead {overhead / GIB:.1f} GiB "
                  f"exceed the usable {usable / GIB:.1f} GiB per unit")
    elif not fits:
        reason = (f"KV for {seqs} x {ctx} tokens needs {required / GIB:.1f} GiB per unit; "
                  f"{pool / GIB:.1f} GiB left after weights")
    else:
        reason = "fits"
    return MemoryFit(
        usable_gib_per_unit=usable / GIB,
        weights_gib_per_unit=weights_unit / GIB,
        weights_gib_total=weights_total / GIB,
        overhead_gib_per_unit=overhead / GIB,
        kv_cache_gib_per_unit=pool / GIB,
        kv_bytes_per_token_per_unit=per_token,
        kv_bytes_per_sequence_fixed_per_unit=fixed,
        kv_capacity_tokens=capacity_tokens,
        sequences_per_group=seqs,
        kv_required_gib_per_unit=required / GIB,
        max_concurrency=max_conc,
        max_context_tokens=max_ctx,
        fits=fits,
        headroom_gib_per_unit=(kv_pool - required) / GIB,
        reason=reason,
    )
