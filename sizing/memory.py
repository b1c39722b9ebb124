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
from typing import TYPE_CHECKING, Any

from sizing import kernel, speculative
from sizing.llm import GIB
from sizing.scenario import Resolved, engine_memory_columns

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sizing.catalog import Catalog


@dataclass(frozen=True)
class MemoryFit:
    """Memory figures for one scenario, per unit (GiB unless stated)."""

    usable_gib_per_unit: float
    weights_gib_per_unit: float
    weights_gib_total: float
    overhead_gib_per_unit: float
    kv_cache_gib_per_unit: float  # what is left for KV after weights and overhead
    kv_bytes_per_token_per_unit: float
    kv_bytes_per_sequence_fixed_per_unit: float
    kv_capacity_tokens: int  # tokens of context the KV pool holds (one copy)
    sequences_per_group: int  # concurrency each model copy serves
    kv_required_gib_per_unit: float  # KV needed for the requested context x concurrency
    max_concurrency: int  # at the requested context, whole deployment
    max_context_tokens: int  # at the requested concurrency
    fits: bool
    headroom_gib_per_unit: float  # usable - weights - overhead - required KV
    reason: str
    # the range of the engine's overhead (vLLM: CUDA-graph estimate; GB10: boot-to-boot
    # accounting spread); equal to the central figure for a flat overhead
    kv_cache_gib_per_unit_low: float = 0.0
    kv_cache_gib_per_unit_high: float = 0.0
    kv_capacity_tokens_low: int = 0
    kv_capacity_tokens_high: int = 0
    max_concurrency_low: int = 0
    max_concurrency_high: int = 0
    max_context_tokens_low: int = 0
    max_context_tokens_high: int = 0


def table_for(r: Resolved, catalog: Catalog) -> kernel.Table:
    """The one-row kernel table of a resolved scenario."""
    static = kernel.static_row(r.platform, r.model, r.quant, r.engine, catalog)
    return kernel.table_from_rows(
        [static],
        {
            "units_count": r.units,
            "parallel_code": kernel.PARALLEL_CODE[r.parallel],
            "kv_bytes_per_elem": 1 if r.kv_dtype == "fp8" else 2,
            "context_tokens": r.context_tokens,
            "concurrency_count": r.concurrency,
            "memory_utilization_fraction": r.mem_util,
            "spec_speed_multiplier": r.scenario.speculative_multiplier,
            "cuda_graphs_flag": float(r.cuda_graphs),
            **spec_columns(r, catalog),
            **engine_memory_columns(r.scenario, r.engine),
            **kernel.transport_columns(r.platform, r.transport),
        },
    )


def spec_columns(
    r: Resolved, catalog: Catalog, *, accept_rate: float | None = None
) -> dict[str, float]:
    """The speculative-decoding columns of a resolved scenario (zeros when off); a draft
    model's step time is evaluated on the same units and workload."""
    cols = speculative.columns(
        r.spec, r.model, r.quant, r.engine.id, catalog, accept_rate=accept_rate
    )
    if r.spec is not None and r.spec.method == "draft":
        cols["spec_draft_s"] = speculative.draft_model_step_s(
            r.spec,
            platform=r.platform,
            quant=r.quant,
            engine=r.engine,
            catalog=catalog,
            scenario={
                "units_count": r.units,
                "parallel_code": kernel.PARALLEL_CODE[r.parallel],
                "kv_bytes_per_elem": 1 if r.kv_dtype == "fp8" else 2,
                "context_tokens": r.context_tokens,
                "concurrency_count": r.concurrency,
                "memory_utilization_fraction": r.mem_util,
                "cuda_graphs_flag": float(r.cuda_graphs),
                **kernel.transport_columns(r.platform, r.transport),
            },
        )
    return cols


def fit_from_table(mem: kernel.Table, t: kernel.Table, i: int = 0) -> MemoryFit:
    """Row `i` of a kernel memory result as a MemoryFit (with the reason in words)."""
    return _fit_row(mem, t, i)


def fits_from_table(mem: kernel.Table, t: kernel.Table) -> list[MemoryFit]:
    """Every row of a kernel memory result as a MemoryFit (`fit_from_table`'s, from the
    columns as Python floats: the same values, without a numpy scalar per field)."""
    cols = {k: mem[k].tolist() for k in _FIT_COLUMNS}
    rows = {k: t[k].tolist() for k in ("context_tokens", "kv_block_tokens")}
    return [_fit_row(cols, rows, i) for i in range(len(rows["context_tokens"]))]


_FIT_COLUMNS = (
    "usable_bytes",
    "weights_bytes",
    "overhead_bytes",
    "sequences_count",
    "kv_required_bytes",
    "kv_pool_bytes",
    "weights_fit_flag",
    "fits_flag",
    "weights_total_bytes",
    "kv_bytes_per_token",
    "kv_bytes_per_sequence_fixed",
    "kv_capacity_tokens",
    "max_concurrency_count",
    "max_context_tokens",
    "headroom_bytes",
    "kv_pool_bytes_low",
    "kv_pool_bytes_high",
    "kv_capacity_tokens_low",
    "kv_capacity_tokens_high",
    "max_concurrency_count_low",
    "max_concurrency_count_high",
    "max_context_tokens_low",
    "max_context_tokens_high",
)


def _fit_row(mem: Mapping[str, Any], t: Mapping[str, Any], i: int) -> MemoryFit:
    """Row `i` of memory columns `mem` and table columns `t` (numpy arrays or lists of
    floats) as a MemoryFit."""
    usable, weights, overhead = (
        mem["usable_bytes"][i],
        mem["weights_bytes"][i],
        mem["overhead_bytes"][i],
    )
    seqs, required, pool = (
        int(mem["sequences_count"][i]),
        mem["kv_required_bytes"][i],
        mem["kv_pool_bytes"][i],
    )
    ctx = int(math.ceil(t["context_tokens"][i] / t["kv_block_tokens"][i]) * t["kv_block_tokens"][i])
    if not mem["weights_fit_flag"][i]:
        reason = (
            f"weights {weights / GIB:.1f} GiB + overhead {overhead / GIB:.1f} GiB "
            f"exceed the usable {usable / GIB:.1f} GiB per unit"
        )
    elif not mem["fits_flag"][i]:
        reason = (
            f"KV for {seqs} x {ctx} tokens needs {required / GIB:.1f} GiB per unit; "
            f"{pool / GIB:.1f} GiB left after weights"
        )
    else:
        reason = "fits"
    return MemoryFit(
        usable_gib_per_unit=float(usable / GIB),
        weights_gib_per_unit=float(weights / GIB),
        weights_gib_total=float(mem["weights_total_bytes"][i] / GIB),
        overhead_gib_per_unit=float(overhead / GIB),
        kv_cache_gib_per_unit=float(pool / GIB),
        kv_bytes_per_token_per_unit=float(mem["kv_bytes_per_token"][i]),
        kv_bytes_per_sequence_fixed_per_unit=float(mem["kv_bytes_per_sequence_fixed"][i]),
        kv_capacity_tokens=int(mem["kv_capacity_tokens"][i]),
        sequences_per_group=seqs,
        kv_required_gib_per_unit=float(required / GIB),
        max_concurrency=int(mem["max_concurrency_count"][i]),
        max_context_tokens=int(mem["max_context_tokens"][i]),
        fits=bool(mem["fits_flag"][i]),
        headroom_gib_per_unit=float(mem["headroom_bytes"][i] / GIB),
        reason=reason,
        kv_cache_gib_per_unit_low=float(mem["kv_pool_bytes_low"][i] / GIB),
        kv_cache_gib_per_unit_high=float(mem["kv_pool_bytes_high"][i] / GIB),
        kv_capacity_tokens_low=int(mem["kv_capacity_tokens_low"][i]),
        kv_capacity_tokens_high=int(mem["kv_capacity_tokens_high"][i]),
        max_concurrency_low=int(mem["max_concurrency_count_low"][i]),
        max_concurrency_high=int(mem["max_concurrency_count_high"][i]),
        max_context_tokens_low=int(mem["max_context_tokens_low"][i]),
        max_context_tokens_high=int(mem["max_context_tokens_high"][i]),
    )


def memory_fit(r: Resolved, catalog: Catalog) -> MemoryFit:
    """Does the scenario fit, and what context / concurrency does the memory allow."""
    t = table_for(r, catalog)
    return fit_from_table(kernel.memory(t), t)
