"""One scenario end to end: memory fit + throughput + cluster price and power.

`estimate(...).to_dict()` is the JSON object of the command-line contract
(`python -m sizing estimate ... --json`). Prices come from the `prices` mapping (item id
-> PriceQuote) the caller passes — the CLI and the app hand in effective prices from the
price history; None means the catalog list prices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from sizing import kernel, speculative
from sizing.bom import bill_of_materials
from sizing.llm import precision_source
from sizing.memory import MemoryFit, fits_from_table, spec_columns
from sizing.scenario import (
    Resolved,
    Scenario,
    ScenarioError,
    engine_memory_columns,
    resolve_shared,
)
from sizing.throughput import SpeedBand, Throughput, speed_band
from sizing.topology import check_parallel

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sizing.bom import BillOfMaterials
    from sizing.catalog import Catalog, EngineCalibration, FamilyCalibration, ModelArch
    from sizing.money import PriceQuote


#: `estimate_many`'s memo is emptied past this many entries (a batch of ever new rows).
MEMO_MAX_ENTRIES = 20_000


#: ``round(value, 4)`` of positive floats `Estimate.to_dict` has met: Python's correctly
#: rounded `round` costs ~0.4 µs a value, and the rows of a batch repeat most figures (the
#: weights, usable memory, power and price of a layout: 91 % of the 10,000-row bench
#: file's values); emptied past the bound.
_ROUNDED: dict[float, float] = {}
ROUNDED_MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class Estimate:
    scenario: Scenario
    resolved: Resolved
    fits: bool
    fit: MemoryFit
    speed: Throughput
    power_w_load: float
    power_w_idle: float
    price_chf: float | None
    assumptions: list[str]
    band: SpeedBand
    spec_figures: dict[str, Any] | None = None  # speculative decoding (None when off)
    # rough figures: the decode / prefill efficiency is borrowed, not measured for this
    # platform family or engine (`rough_figures`; the assumptions say so in words)
    rough_decode: bool = False
    rough_prefill: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The CLI contract's fields, JSON-ready (no NaN, no negative values)."""
        r, f, s = self.resolved, self.fit, self.speed
        setting = r.platform.memory_setting  # (a property that searches the settings)
        out: dict[str, Any] = {
            "platform": r.platform.id,
            "units": r.units,
            "parallel": r.parallel,
            "model": r.model.id,
            "weights": r.quant.id,
            "kv_dtype": r.kv_dtype,
            "engine": r.engine.id,
            "context": r.context_tokens,
            "concurrency": r.concurrency,
            "mem_util": r.mem_util,
            "memory_setting": setting.id if setting is not None else None,
            # decode inputs of issue 11 item 3 (null where the engine has no switch)
            "cuda_graphs": r.cuda_graphs if r.engine.cuda_graphs else None,
            # collectives between units (issue 11 item 4); null for one unit / no link
            "transport": r.transport.id if r.transport is not None and r.units > 1 else None,
            "routing_concentration": r.model.routing_concentration
            if r.model.arch.num_experts
            else None,
            "sequence_overhead_us_per_step": r.sequence_overhead_us,
            "fits": self.fits,
            "reason": f.reason,
            "usable_gib_per_unit": f.usable_gib_per_unit,
            "weights_gib_per_unit": f.weights_gib_per_unit,
            "weights_gib_total": f.weights_gib_total,
            "overhead_gib_per_unit": f.overhead_gib_per_unit,
            "kv_cache_gib_per_unit": f.kv_cache_gib_per_unit,
            "kv_required_gib_per_unit": f.kv_required_gib_per_unit,
            "headroom_gib_per_unit": max(0.0, f.headroom_gib_per_unit),
            "kv_bytes_per_token_per_unit": f.kv_bytes_per_token_per_unit,
            "kv_bytes_per_sequence_fixed_per_unit": f.kv_bytes_per_sequence_fixed_per_unit,
            "kv_capacity_tokens": f.kv_capacity_tokens,
            "max_concurrency": f.max_concurrency,
            "max_context_tokens": f.max_context_tokens,
            # the range of the engine's overhead (vLLM CUDA graphs, GB10 boot spread)
            "kv_cache_gib_per_unit_low": f.kv_cache_gib_per_unit_low,
            "kv_cache_gib_per_unit_high": f.kv_cache_gib_per_unit_high,
            "kv_capacity_tokens_low": f.kv_capacity_tokens_low,
            "kv_capacity_tokens_high": f.kv_capacity_tokens_high,
            "max_concurrency_low": f.max_concurrency_low,
            "max_concurrency_high": f.max_concurrency_high,
            "max_context_tokens_low": f.max_context_tokens_low,
            "max_context_tokens_high": f.max_context_tokens_high,
            "max_num_batched_tokens": self.scenario.max_num_batched_tokens,
            "engine_version": (
                self.scenario.engine_version
                or (r.engine.memory_model.default_version if r.engine.memory_model else None)
            ),
            "decode_tok_s_per_request": s.decode_tok_s_per_request if self.fits else 0.0,
            "decode_tok_s_total": s.decode_tok_s_total if self.fits else 0.0,
            "decode_batch_per_copy": s.batch_per_group,
            "decode_bound": s.bound,
            "allreduce_ms_per_step": s.allreduce_ms_per_step,
            # a scenario that does not fit has no prompt phase: null, not an instant 0 s
            "prefill_tok_s": s.prefill_tok_s if self.fits else None,
            "ttft_s": s.ttft_s if self.fits else None,
            # the likely range (cross-validated error of the platform family)
            **{k: (v if self.fits else None) for k, v in vars(self.band).items()},
            **self._spec_dict(),
            "power_w_load": self.power_w_load,
            "power_w_idle": self.power_w_idle,
            "price_chf": self.price_chf,
            "assumptions": list(self.assumptions),
        }
        finite, rounded = math.isfinite, _ROUNDED
        for key, value in out.items():
            if type(value) is float and value >= 0.0:
                if value == 0.0:
                    continue  # 0.0 or -0.0: round(max(value, 0.0), 4) is `value`
                hit = rounded.get(value)  # (only finite values are kept)
                if hit is None:
                    if not finite(value):
                        raise ValueError(f"internal error: {key} is {value}")
                    if len(rounded) > ROUNDED_MAX_ENTRIES:
                        rounded.clear()
                    hit = rounded[value] = round(value, 4)
                out[key] = hit
            elif isinstance(value, float):  # negative, NaN, or a float subclass
                if not finite(value):
                    raise ValueError(f"internal error: {key} is {value}")
                out[key] = round(max(value, 0.0), 4)
        return out

    def _spec_dict(self) -> dict[str, Any]:
        """Speculative-decoding fields: accepted tokens per step (with the range the
        published acceptance figures give), draft cost, speed-up over no speculation."""
        spec, f = self.resolved.spec, self.spec_figures
        if spec is None or f is None:
            return {
                "speculative": "none",
                "spec_draft_tokens": 0,
                "spec_content": None,
                "spec_draft_model": None,
                "spec_label": None,
                "spec_accepted_tokens_per_step": 1.0,
                "spec_accepted_tokens_per_step_low": None,
                "spec_accepted_tokens_per_step_high": None,
                "spec_accept_rate": None,
                "spec_accept_rate_low": None,
                "spec_accept_rate_high": None,
                "spec_draft_ms_per_step": 0.0,
                "spec_speedup": None,
                "decode_tok_s_per_request_no_spec": None,
                "spec_sources": [],
            }
        return {
            "speculative": spec.method,
            "spec_draft_tokens": spec.draft_tokens,
            "spec_content": spec.content,
            "spec_draft_model": spec.draft_model,
            "spec_label": spec.label,
            "spec_accept_rate": spec.accept_central,
            "spec_accept_rate_low": spec.accept_low,
            "spec_accept_rate_high": spec.accept_high,
            **f,
            "spec_sources": list(spec.sources),
        }


def estimate(
    scenario: Scenario,
    catalog: Catalog,
    *,
    model: ModelArch | None = None,
    prices: Mapping[str, PriceQuote] | None = None,
) -> Estimate:
    """Predict memory fit, speed, power and price of `scenario`.

    Raises ScenarioError (one line) for unknown ids or impossible inputs.
    """
    result = estimate_many([scenario], catalog, models=[model], prices=prices)[0]
    if isinstance(result, ScenarioError):
        raise result
    return result


def estimate_many(
    scenarios: Sequence[Scenario],
    catalog: Catalog,
    *,
    models: Sequence[ModelArch | None] | None = None,
    prices: Mapping[str, PriceQuote] | None = None,
    memo: dict[Any, Any] | None = None,
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError] | None = None,
) -> list[Estimate | ScenarioError]:
    """Evaluate many scenarios in one vectorized pass (sizing.kernel), in order.

    A scenario that cannot be evaluated yields its ScenarioError in its place. `memo`, a
    dict the caller keeps across calls with the same catalog and prices (e.g. the chunks
    of one batch file), holds the work rows share (`resolve`'s, the kernel's static
    columns, the assumptions that do not depend on the workload, cluster power and
    price); without it that work is shared within the call. `boms`: bills of materials
    the caller already built with the same catalog and prices, by (platform id, units),
    or the error building one raised (the planner's); the others are built here.
    """
    if memo is None:
        memo = {}
    elif len(memo) > MEMO_MAX_ENTRIES:  # a long batch of ever new rows: memory stays bounded
        memo.clear()
    out: list[Estimate | ScenarioError | None] = [None] * len(scenarios)
    ok: list[tuple[int, Resolved]] = []
    shared: list[tuple[object, dict[Any, Any]]] = []
    own: dict[Any, Any] = {}  # a model given as an object (config.json): this call only
    for i, s in enumerate(scenarios):
        model = models[i] if models else None
        kept = memo if model is None else own
        try:
            r, static = resolve_shared(s, catalog, model, kept)
            _check_parallel(catalog, r, memo)  # cards across hosts
            ok.append((i, r))
            shared.append((static, kept))
        except ScenarioError as exc:
            out[i] = exc
    if ok:
        _estimate_resolved(ok, shared, catalog, prices, out, memo, boms or {})
    return [o for o in out if o is not None]


def _check_parallel(catalog: Catalog, r: Resolved, memo: dict[Any, Any]) -> None:
    """`check_parallel` of the resolved layout; its outcome memoised per (platform id,
    units, layout)."""
    key = ("parallel", id(catalog), r.platform.id, r.units, type(r.units), r.parallel)
    hit = memo.get(key)
    if hit is None:
        try:
            check_parallel(catalog, r.platform.id, r.units, r.parallel)
            hit = (catalog, None)
        except ScenarioError as exc:
            hit = (catalog, (type(exc), str(exc)))
        memo[key] = hit
    if hit[1] is not None:
        raise hit[1][0](hit[1][1])


def _cluster_figures(
    catalog: Catalog,
    key: tuple[str, int],
    prices: Mapping[str, PriceQuote] | None,
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError],
) -> Any:
    """(idle W, load W, price CHF, items without a price) of (platform id, units), or the
    ScenarioError (e.g. no topology for that many units); the bill of materials from
    `boms` when it is there. Its power is `cluster_power`'s (`sizing.power.power_w` of
    the same topology), not computed a second time."""
    bom = boms.get(key)
    if bom is None:
        try:
            bom = bill_of_materials(catalog, *key, prices=prices)
        except ScenarioError as exc:
            return exc
    if isinstance(bom, ScenarioError):
        return bom
    return (bom.power_w_idle, bom.power_w_load, bom.total_chf, bom.missing_prices)


def _band_assumption(fam: FamilyCalibration, engine_name: str, assumed_s: float) -> str:
    """The likely-range line (``assumed_s``: the per-step cost the engine has no rows for)."""
    return (
        f"likely range: decode ±{fam.decode_band_pct:g} %, prefill and TTFT "
        f"±{fam.prefill_band_pct:g} % ({fam.family}: 80 % of leave-one-source-out "
        "predictions fell inside)"
        + (
            f"; decode widened for the per-step cost {engine_name} has no rows for "
            f"(ASSUMPTION: 0 to {2 * assumed_s * 1e3:g} ms per step)"
            if assumed_s
            else ""
        )
    )


def _spec_assumption(spec_figures: dict[str, float]) -> str:
    return (
        f"speculative decoding: {spec_figures['spec_accepted_tokens_per_step']:.2f} "
        f"tokens per step ({spec_figures['spec_accepted_tokens_per_step_low']:.2f}-"
        f"{spec_figures['spec_accepted_tokens_per_step_high']:.2f}), x"
        f"{spec_figures['spec_speedup']:.2f} over no speculation at this batch; "
        "the decode range includes the acceptance range"
    )


@dataclass(frozen=True)
class _Group:
    """What every row of one (platform, model, quant, engine, transport, speculation,
    layout, engine-memory inputs) shares: the kernel's static columns (the ``spec_*``
    ones unless a draft model's step depends on the workload), the calibration, the
    assumptions that do not depend on the workload and the likely-range line."""

    columns: dict[str, float]
    keys: tuple[str, ...]  # of `columns`, in order
    vector: tuple[float, ...]  # the values of `columns`, in order
    fam: FamilyCalibration
    eng: EngineCalibration
    notes: _StaticNotes
    band_text: str
    assumed_s: float
    rough: tuple[bool, bool]


def _group_of(r: Resolved, static: object, memo: dict[Any, Any], catalog: Catalog) -> _Group:
    """The `_Group` of `r`, memoised per `static` (`resolve_shared`'s: the same for every
    row that differs from `r` only in context and concurrency; pinned in `memo`)."""
    s = r.scenario
    key = ("group", id(static))
    hit = memo.get(key)
    if hit is None:
        columns = {
            **kernel.static_row(r.platform, r.model, r.quant, r.engine, catalog),
            **engine_memory_columns(s, r.engine),
            **kernel.transport_columns(r.platform, r.transport),
        }
        columns.update(
            spec_columns(r, catalog)
            if r.spec is None or r.spec.method != "draft"
            else speculative.columns(None, r.model, r.quant, r.engine.id, catalog)  # per row
        )
        fam, eng = catalog.calibration_for(r.platform.family, r.engine.id)
        assumed_s = (
            fam.step_overhead_us * 1e-6
            if fam.fixed_cost == "per_step" and r.engine.id not in fam.step_overhead_engines
            else 0.0
        )
        group = _Group(
            columns,
            tuple(columns),
            tuple(columns.values()),
            fam,
            eng,
            _static_notes(r, catalog, memo),
            _band_assumption(fam, r.engine.name, assumed_s),
            assumed_s,
            rough_figures(fam, eng),
        )
        hit = memo[key] = (static, group)
    return cast("_Group", hit[1])


def _table(rs: Sequence[Resolved], groups: Sequence[_Group], catalog: Catalog) -> kernel.Table:
    """The kernel table of `rs` (as `kernel.table_from_rows` stacks it): each distinct
    group's static columns stacked once and taken per row; the workload columns, and a
    draft model's ``spec_*`` columns, per row."""
    index: dict[int, int] = {}
    distinct: list[_Group] = []
    rows: list[int] = []
    for g in groups:
        at = index.get(id(g))
        if at is None:
            at = index[id(g)] = len(distinct)
            distinct.append(g)
        rows.append(at)
    keys = distinct[0].keys
    if all(g.keys == keys for g in distinct):  # (always: one kernel, one column list)
        stacked = np.array([g.vector for g in distinct], dtype=float)[rows].T.copy()
        table = dict(zip(keys, stacked, strict=True))
    else:
        take = np.array(rows, dtype=np.intp)
        table = {k: np.array([g.columns[k] for g in distinct], dtype=float)[take] for k in keys}
    for j, r in enumerate(rs):
        if r.spec is not None and r.spec.method == "draft":  # the draft's step: per workload
            for key, value in spec_columns(r, catalog).items():
                table[key][j] = value
    n = len(rs)
    workload: dict[str, list[Any]] = {
        "units_count": [r.units for r in rs],
        "parallel_code": [kernel.PARALLEL_CODE[r.parallel] for r in rs],
        "kv_bytes_per_elem": [1 if r.kv_dtype == "fp8" else 2 for r in rs],
        "context_tokens": [r.context_tokens for r in rs],
        "concurrency_count": [r.concurrency for r in rs],
        "memory_utilization_fraction": [r.mem_util for r in rs],
        "spec_speed_multiplier": [r.scenario.speculative_multiplier for r in rs],
        "cuda_graphs_flag": [float(r.cuda_graphs) for r in rs],
    }
    for key, column in workload.items():
        table[key] = np.broadcast_to(np.asarray(column, dtype=float), (n,)).copy()
    return table


def _estimate_resolved(
    ok: Sequence[tuple[int, Resolved]],
    shared: Sequence[tuple[object, dict[Any, Any]]],
    catalog: Catalog,
    prices: Mapping[str, PriceQuote] | None,
    out: list[Estimate | ScenarioError | None],
    memo: dict[Any, Any],
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError],
) -> None:
    """Fill ``out[i]`` for every resolved ``(i, r)`` of `ok` from one kernel pass."""
    rs = [r for _, r in ok]
    groups = [_group_of(r, *kept, catalog) for r, kept in zip(rs, shared, strict=True)]
    t = _table(rs, groups, catalog)
    mem = kernel.memory(t)
    dec = kernel.decode(t, mem)
    spec_dec = _spec_variants(t, mem, rs) if any(r.spec for r in rs) else None
    t_prefill = kernel.prefill(t, t["context_tokens"]).tolist()
    t_first = kernel.ttft_s(t, t["context_tokens"]).tolist()
    fits = fits_from_table(mem, t)
    d = {
        k: dec[k].tolist()
        for k in (
            "tok_s_per_request",
            "tok_s_total",
            "batch_count",
            "compute_bound_flag",
            "step_s",
            "allreduce_s",
        )
    }
    clusters: dict[int, Any] = {}  # per group (one platform and unit count)
    for j, (i, r) in enumerate(ok):
        g, fit = groups[j], fits[j]
        cluster = clusters.get(id(g))
        if cluster is None:
            cluster = clusters[id(g)] = _cluster_of(
                catalog, (r.platform.id, r.units), prices, memo, boms
            )
        if isinstance(cluster, ScenarioError):
            out[i] = cluster
            continue
        idle_w, load_w, price, missing = cluster
        speed = Throughput(
            decode_tok_s_per_request=d["tok_s_per_request"][j],
            decode_tok_s_total=d["tok_s_total"][j],
            batch_per_group=int(d["batch_count"][j]),
            bound="compute" if d["compute_bound_flag"][j] else "memory",
            step_ms=d["step_s"][j] * 1e3,
            allreduce_ms_per_step=d["allreduce_s"][j] * 1e3,
            prefill_tok_s=r.context_tokens / t_prefill[j],
            ttft_s=t_first[j],
        )
        assumptions = [*r.assumptions, *_model_notes(r, fit, speed, g.notes)]
        if missing:
            assumptions.append("no price known for: " + ", ".join(missing))
        spec_figures, decode_range = None, None
        if r.spec is not None and spec_dec is not None:
            spec_figures, decode_range = _spec_figures(dec, spec_dec, j)
        band = speed_band(
            speed, r.context_tokens, g.fam, decode_range=decode_range, assumed_fixed_s=g.assumed_s
        )
        assumptions.append(g.band_text)
        if spec_figures is not None:
            assumptions.append(_spec_assumption(spec_figures))
        out[i] = Estimate(
            r.scenario,
            r,
            fit.fits,
            fit,
            speed,
            load_w,
            idle_w,
            price,
            assumptions,
            band,
            spec_figures,
            rough_decode=g.rough[0],
            rough_prefill=g.rough[1],
        )


def _cluster_of(
    catalog: Catalog,
    key: tuple[str, int],
    prices: Mapping[str, PriceQuote] | None,
    memo: dict[Any, Any],
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError],
) -> Any:
    """`_cluster_figures`, memoised per (platform id, units)."""
    memo_key = ("cluster", id(catalog), id(prices), *key, type(key[1]))
    hit = memo.get(memo_key)
    if hit is None:
        figures = _cluster_figures(catalog, key, prices, boms)
        hit = memo[memo_key] = (catalog, prices, figures)
    return hit[2]


def _engine_memory_table_columns(rs: Sequence[Resolved]) -> dict[str, list[float]]:
    """The engine-memory kernel columns of every row (`engine_memory_columns`)."""
    rows = [engine_memory_columns(r.scenario, r.engine) for r in rs]
    return {k: [c[k] for c in rows] for k in rows[0]}


def _transport_table_columns(rs: Sequence[Resolved]) -> dict[str, list[float]]:
    """The ``comm_*`` kernel columns of every row's transport (`kernel.transport_columns`)."""
    rows = [kernel.transport_columns(r.platform, r.transport) for r in rs]
    return {k: [c[k] for c in rows] for k in rows[0]}


def _spec_table_columns(rs: Sequence[Resolved], catalog: Catalog) -> dict[str, list[float]]:
    """The ``spec_*`` kernel columns of every row (zeros where speculation is off)."""
    rows = [spec_columns(r, catalog) for r in rs]
    return {k: [c[k] for c in rows] for k in rows[0]}


def _spec_variants(
    t: kernel.Table, mem: kernel.Table, rs: Sequence[Resolved]
) -> dict[str, kernel.Table]:
    """Decode without speculation and at the low / high end of the acceptance range."""

    def at(accept: list[float] | None, k: Any = None) -> kernel.Table:
        v = dict(t)
        if accept is not None:
            v["spec_accept_fraction"] = np.array(accept, dtype=float)
        if k is not None:
            v["spec_draft_tokens"] = np.zeros_like(t["spec_draft_tokens"])
            v["spec_memory_bytes"] = np.zeros_like(t["spec_memory_bytes"])
        return kernel.decode(v, kernel.memory(v) if k is not None else mem)

    low = [r.spec.accept_low if r.spec else 0.0 for r in rs]
    high = [r.spec.accept_high if r.spec else 0.0 for r in rs]
    return {"off": at(None, k=0), "low": at(low), "high": at(high)}


def _spec_figures(
    dec: kernel.Table, v: dict[str, kernel.Table], j: int
) -> tuple[dict[str, float], tuple[float, float, float, float]]:
    def f(table: kernel.Table, key: str) -> float:
        return float(table[key][j])

    off = f(v["off"], "tok_s_per_request")
    figures = {
        "spec_accepted_tokens_per_step": f(dec, "accepted_tokens_per_step"),
        "spec_accepted_tokens_per_step_low": f(v["low"], "accepted_tokens_per_step"),
        "spec_accepted_tokens_per_step_high": f(v["high"], "accepted_tokens_per_step"),
        "spec_draft_ms_per_step": f(dec, "draft_s") * 1e3,
        "spec_speedup": f(dec, "tok_s_per_request") / off,
        "decode_tok_s_per_request_no_spec": off,
    }
    low = [
        f(v["low"], "tok_s_per_request"),
        f(v["high"], "tok_s_per_request"),
        f(v["low"], "tok_s_total"),
        f(v["high"], "tok_s_total"),
    ]
    return figures, (
        min(low[0], low[1]),
        max(low[0], low[1]),
        min(low[2], low[3]),
        max(low[2], low[3]),
    )


def _prefill_assumption(
    r: Resolved, fam: FamilyCalibration, eng: EngineCalibration, catalog: Catalog
) -> str:
    """How prefill is charged: GEMMs at the compute path's fitted rate, attention at the
    platform's flash-attention rate (measured, or an ASSUMPTION said so)."""
    cols = kernel.calibration_columns(fam, eng, 0.0, r.quant.id)
    peak = kernel.static_row(r.platform, r.model, r.quant, r.engine, catalog)["peak_flop_s"]
    gemm_tflops = peak * cols["prefill_compute_efficiency"] / 1e12
    fa = r.platform.compute.flash_attention
    fa_tflops = kernel.attention_flop_s(r.platform) / 1e12
    if fa is None:
        fa_text = (
            f"ASSUMPTION {kernel.ASSUMED_FLASH_ATTENTION_FRACTION:g} x the bf16 dense "
            f"peak = {fa_tflops:.0f} TFLOPS (no flash-attention figure for this "
            "platform)"
        )
    else:
        fa_text = (
            f"{fa.tflops:g} TFLOPS flash attention ("
            + ("measured" if fa.measured else "ASSUMPTION")
            + f", {fa.source[0]}, "
            f"{fa.date.isoformat()})"
        )
    path = (
        " (the kernel path's own factor)"
        if f"{fam.family}/{r.quant.id}" in eng.path_prefill_factors
        else ""
    )
    return (
        f"prefill: GEMMs at {gemm_tflops:.0f} TFLOPS (fitted rate of {fam.family} x "
        f"{eng.engine} x {r.quant.id}{path}); attention at {fa_text}"
        + (
            f" x {eng.attention_efficiency:g} ({eng.engine}'s attention kernels, fitted on "
            "depth sweeps)"
            if eng.attention_efficiency < 1
            else ""
        )
    )


def _fixed_cost_assumption(fam: FamilyCalibration, eng: EngineCalibration, catalog: Catalog) -> str:
    """The fixed decode cost of the platform class, in words."""
    if fam.fixed_cost == "per_step":
        return (
            f"fixed cost {fam.step_overhead_us / 1e3:g} ms per decode step (per token of "
            f"a stream), whatever the layer count: {fam.family} is Apple/Metal, whose "
            "fixed cost is per step, not per layer (one value for every engine on the "
            "class, fitted on its Mac rows; for an engine without Mac rows an assumption)"
        )
    us = eng.layer_overhead_us_on(fam.family, catalog.calibration.layer_overhead_us)
    own = fam.family in eng.family_layer_overhead_us
    return (
        f"fixed cost {us:g} µs per decoder layer per forward pass (kernel launches; "
        + (
            f"fitted for {eng.engine} on {fam.family}"
            if own
            else "the global value: no own fit for this path"
        )
        + ")"
    )


def rough_figures(fam: FamilyCalibration, eng: EngineCalibration) -> tuple[bool, bool]:
    """(decode rough, prefill rough): True where the calibration is borrowed -- a platform
    family with fewer than 2 measured decode rows or no long-prompt rows takes the other
    families' efficiency, an engine without measured rows takes llama.cpp's factor (the
    ``decode_borrowed`` / ``prefill_borrowed`` flags `sizing.calibrate` writes into the
    catalog). The assumptions state each case in words."""
    return fam.decode_borrowed or eng.decode_borrowed, fam.prefill_borrowed


def _model_assumptions(
    r: Resolved, fit: MemoryFit, speed: Throughput, catalog: Catalog
) -> list[str]:
    """The assumptions of the model, engine and calibration behind an estimate."""
    return _model_notes(r, fit, speed, _static_notes(r, catalog))


@dataclass(frozen=True)
class _StaticNotes:
    """The lines of `_model_assumptions` that do not depend on the workload (context,
    concurrency) or the memory fit, and the fixed start of the TTFT line."""

    decode: str
    fixed_cost: str
    ttft_start: str
    prefill: str
    rest: tuple[str, ...]


def _model_notes(r: Resolved, fit: MemoryFit, speed: Throughput, sn: _StaticNotes) -> list[str]:
    """`_model_assumptions` from its workload-independent lines `sn`."""
    notes = [
        f"runtime overhead {fit.overhead_gib_per_unit:.1f} GiB per unit "
        + (
            f"(non-torch + activation peak + CUDA graphs, {r.engine.name}'s memory model; KV "
            f"pool {fit.kv_cache_gib_per_unit_low:.1f}-{fit.kv_cache_gib_per_unit_high:.1f} "
            "GiB per unit)"
            if r.engine.memory_model is not None
            else f"(activations, CUDA graphs, buffers; {r.engine.name} assumption)"
        ),
        sn.decode,
        sn.fixed_cost,
        f"decode measured at a KV depth of {r.context_tokens} tokens per request; batch "
        f"{speed.batch_per_group} per model copy ({speed.bound}-bound)",
        f"{sn.ttft_start}{r.context_tokens}-token context",
        sn.prefill,
        *sn.rest,
    ]
    if fit.sequences_per_group * r.replicas < r.concurrency or not fit.fits:
        notes.append(f"memory: {fit.reason}")
    return notes


def _static_notes(
    r: Resolved, catalog: Catalog, memo: dict[Any, Any] | None = None
) -> _StaticNotes:
    """The workload-independent lines of `_model_assumptions` (see `_StaticNotes`); those
    of (platform, model, quant, engine) kept in `memo` when given."""
    if memo is None:
        base = _path_notes(r, catalog)
    else:
        pinned = (catalog, r.platform, r.model, r.quant, r.engine)
        key = ("notes", *map(id, pinned))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = (pinned, _path_notes(r, catalog))
        base = cast("_StaticNotes", hit[1])
    return _StaticNotes(
        base.decode,
        base.fixed_cost,
        base.ttft_start,
        base.prefill,
        (*base.rest, *_layout_notes(r)),
    )


def _path_notes(r: Resolved, catalog: Catalog) -> _StaticNotes:
    """The lines of `_static_notes` that depend only on the platform, model, quant and
    engine (not the layout)."""
    fam, eng = catalog.calibration_for(r.platform.family, r.engine.id)
    decode = (
        f"decode streams weights + KV at "
        f"{kernel.calibration_columns(fam, eng, 0.0, r.quant.id)['bandwidth_efficiency']:.0%} of "
        f"{r.platform.memory_bandwidth_gb_s:g} GB/s (calibrated: {fam.family} x {eng.engine}"
        + (
            f" x {r.quant.id}, the kernel path's own factor"
            if f"{fam.family}/{r.quant.id}" in eng.path_decode_factors
            else ""
        )
        + ")"
    )
    ttft_start = (
        f"TTFT = {eng.ttft_fixed_s * 1e3:.0f} ms fixed ({r.engine.name}: HTTP, tokenizer, "
        f"scheduler; {eng.ttft_fixed_note or 'catalog value'}) + prefill of the full "
    )
    notes = []
    if fam.decode_borrowed:  # (the flags of `rough_figures`)
        notes.append(
            f"decode efficiency of {fam.family} borrowed from the other families "
            "(fewer than 2 measured rows): treat the speed as an estimate"
        )
    if eng.decode_borrowed:
        notes.append(
            f"{r.engine.name} has no measured rows: its speed factor is assumed equal "
            "to llama.cpp's"
        )
    if fam.prefill_borrowed:
        notes.append(
            f"prefill efficiency of {fam.family} borrowed from the other families "
            "(no long-prompt measurements): prefill and TTFT are rough"
        )
    notes.append(f"weights: {precision_source(r.model, r.quant, r.engine.id)}")
    if r.model.is_moe:
        c = r.model.routing_concentration
        notes.append(
            "MoE experts touched per step assume uniform routing "
            "E*(1-(1-k/E)^batch): an upper bound on weight traffic"
            if c >= 1.0
            else f"MoE experts touched per step: routing concentrated on {c:.0%} of the "
            f"experts, as if uniform over them ({r.model.routing_source})"
        )
    notes.append(
        f"per-sequence cost {r.sequence_overhead_us:g} µs per sequence per decode step "
        f"(scheduling, sampling, per-request kernels; fitted for {eng.engine} on "
        f"{fam.family}"
        + (
            ", none fitted: rows without several concurrencies"
            if not r.sequence_overhead_us
            else ""
        )
        + "): replicas divide it, tensor parallel does not"
    )
    return _StaticNotes(
        decode,
        _fixed_cost_assumption(fam, eng, catalog),
        ttft_start,
        _prefill_assumption(r, fam, eng, catalog),
        tuple(notes),
    )


def _layout_notes(r: Resolved) -> list[str]:
    """The tensor- and pipeline-parallel lines of `_model_assumptions`."""
    notes = []
    if r.parallel in ("tp", "tp+ep") and r.tp > 1 and r.transport is not None:
        tr = r.transport
        cols = {k: np.array([v]) for k, v in kernel.transport_columns(r.platform, tr).items()}
        one = kernel.allreduce_s(
            cols,
            np.array([float(r.tp)]),
            np.array([r.model.arch.hidden_size * kernel.ACTIVATION_BYTES * 1.0]),
        )[0]
        notes.append(
            f"tensor parallel: {2 * r.model.arch.num_layers + 1} all-reduces per "
            f"step, ~{one * 1e6:.0f} µs each for one sequence on {r.tp} units over "
            + (
                f"{r.platform.interconnect.kind} ({tr.name})"
                if r.platform.interconnect
                else tr.name
            )
        )
    if r.parallel == "pp" and r.pp > 1:
        notes.append("pipeline parallel: one stage active per token for a single stream")
    return notes
