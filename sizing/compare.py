"""Compare one workload across cluster sizes and platforms: a pandas DataFrame.

One row per (platform, units). Every row comes from `sizing.estimate.estimate` plus the
bill of materials and power of `sizing.cluster`. Column units are in the names:

* ``price_chf`` -- bill-of-materials total (None/NaN when a part has no known price)
* ``price_complete`` -- False when the total leaves parts out: a catalog part without a
  price (then ``price_chf`` is NaN) or a part the catalog does not hold (Mac Thunderbolt 5
  cables, Strix Halo Ethernet switch; ``price_chf`` and the ratios below are then lower
  bounds); ``unpriced_items`` names them ("; "-separated, empty when complete)
* ``raw_memory_gb`` -- nameplate memory of all units; ``usable_memory_gib`` -- what the
  engine may use on all units (accelerator memory x utilization)
* ``decode_tok_s_per_request`` / ``decode_tok_s_total`` at the workload's concurrency,
  ``prefill_tok_s``, ``ttft_s`` (NaN when the model does not fit); ``decode_tok_s_low`` /
  ``_high`` (per request) and ``ttft_s_low`` / ``_high``: the likely range (the platform
  family's cross-validated error band, `sizing.throughput.speed_band`)
* ``power_w_idle`` / ``power_w_load`` -- whole cluster incl. hosts and switch
* ``energy_chf_per_year`` -- ``hours_at_load_per_day`` at load, the rest idle, at a tariff
* ``chf_per_usable_gb`` -- price / usable memory in GB (1e9 bytes)
* ``chf_per_tok_s`` -- price / aggregate decode tok/s at the workload's concurrency
* ``tco_chf_3y`` -- price + 3 years of energy (years = catalog ``defaults.years_tco``;
  the column is named after the years used)
* ``upgrade_chf_from_previous`` -- extra CHF to grow from the previous unit count in the
  comparison (item by item, parts already owned are reused, cheapest reachable switch
  design; `cluster.upgrade_path`); ``upgrade_note`` says what is bought, what owned part
  goes unused and the runner-up design

Layout rule ("parallel"), unless the caller forces one: every layout the engine supports
for that unit count is estimated (tp only where the attention heads divide evenly); among
those that fit, the one with the highest decode tok/s per request at the workload's
concurrency wins (ties: higher total, then tp > pp > replicas). So tp wins for a single
stream, replicas win when the model fits on one unit and the concurrency is high. GPU
cards spread over several hosts only allow replicas (`cluster.allowed_parallel`: hosts
talk over Ethernet, not PCIe, and the BOM has no network gear between them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sizing import limits
from sizing.catalog import Catalog, ModelArch, UnknownIdError
from sizing.cluster import (
    PriceQuote,
    TopologyError,
    allowed_parallel,
    bill_of_materials,
    check_parallel,
    energy_chf_per_year,
    upgrade_path,
)
from sizing.estimate import Estimate, estimate
from sizing.llm import GIB, weight_bytes_by_class
from sizing.scenario import PARALLEL_CHOICES, Scenario, ScenarioError

OS_RESERVE_GB = 100.0   # ASSUMPTION: OS, containers (vLLM/NGC images ~15-30 GB each), caches


@dataclass(frozen=True)
class Workload:
    """What to run: model, weight format and load (see `sizing.scenario.Scenario`)."""

    model: str
    weights: str
    context_tokens: int = 32768
    concurrency: int = 1
    kv_dtype: str = "bf16"
    engine: str | None = None
    mem_util: float | None = None
    speculative_multiplier: float = 1.0
    speculative: str = "none"             # none | mtp | eagle | draft (sizing.speculative)
    spec_draft_tokens: int | None = None
    spec_content: str = "prose"
    spec_accept: float | None = None      # the user's own rate (a draft model)
    spec_draft_model: str | None = None


def _scenario(w: Workload, platform_id: str, units: int, parallel: str,
              engine: str | None = None) -> Scenario:
    return Scenario(platform=platform_id, units=units, parallel=parallel, model=w.model,
                    weights=w.weights, kv_dtype=w.kv_dtype, engine=engine or w.engine,
                    context_tokens=w.context_tokens, concurrency=w.concurrency,
                    mem_util=w.mem_util, speculative_multiplier=w.speculative_multiplier,
                    speculative=w.speculative, spec_draft_tokens=w.spec_draft_tokens,
                    spec_content=w.spec_content, spec_accept=w.spec_accept,
                    spec_draft_model=w.spec_draft_model)


def effective_total_tok_s(e: Estimate) -> float:
    """Aggregate decode tok/s, never more than per-request speed x concurrent requests.

    (Replicas without enough requests stay idle; the cap keeps idle copies out.)
    """
    s = e.speed
    return min(s.decode_tok_s_total, s.decode_tok_s_per_request * e.scenario.concurrency)


def layouts(catalog: Catalog, platform_id: str, units: int) -> tuple[str, ...]:
    """Layouts worth trying for `units` units ('tp' alone for one unit)."""
    if units == 1:
        return ("tp",)
    return allowed_parallel(catalog, platform_id, units)


def best_estimate(workload: Workload, catalog: Catalog, platform_id: str, units: int, *,
                  parallel: str | Sequence[str] | None = None,
                  model: ModelArch | None = None,
                  prices: Mapping[str, PriceQuote] | None = None,
                  engine: str | None = None) -> Estimate:
    """The estimate of the best layout (module rule) among `parallel` (one layout or
    several; default: all of `layouts(...)`).

    When nothing fits, returns the valid layout with the most memory headroom (fits=False).
    Raises ScenarioError when no layout is valid (the first layout's message).
    """
    wanted = (parallel,) if isinstance(parallel, str) else parallel
    for par in wanted or ():
        if par not in PARALLEL_CHOICES:
            raise ScenarioError(f"unknown parallel '{par}'; valid choices: "
                                f"{', '.join(PARALLEL_CHOICES)}")
    allowed = layouts(catalog, platform_id, units)
    if wanted and units > 1:
        for par in wanted:
            check_parallel(catalog, platform_id, units, par)
        allowed = tuple(wanted)
    results: list[tuple[int, Estimate]] = []
    first_error: ScenarioError | None = None
    for rank, par in enumerate(allowed):
        try:
            e = estimate(_scenario(workload, platform_id, units, par, engine), catalog,
                         model=model, prices=prices)
        except ScenarioError as exc:
            first_error = first_error or exc
            continue
        results.append((rank, e))
    if not results:
        assert first_error is not None
        raise first_error
    fitting = [(r, e) for r, e in results if e.fits]
    if fitting:
        return max(fitting, key=lambda re: (re[1].speed.decode_tok_s_per_request,
                                            effective_total_tok_s(re[1]), -re[0]))[1]
    return max(results, key=lambda re: (re[1].fit.headroom_gib_per_unit, -re[0]))[1]


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def compare(workload: Workload, catalog: Catalog, *, units: Iterable[int] | None = None,
            platforms: Sequence[str] | None = None, parallel: str | None = None,
            prices: Mapping[str, PriceQuote] | None = None, tariff: str | None = None,
            hours_at_load_per_day: float | None = None, model: ModelArch | None = None,
            ) -> pd.DataFrame:
    """One row per (platform, units); see the module docstring for columns and rules.

    units default: catalog ``defaults.cluster_sizes`` (1, 2, 3, 4, 8); platforms default:
    every catalog platform. Rows that cannot be built (unknown quant on a platform, no
    topology) have fits=False and the reason; unknown platform ids raise UnknownIdError.
    """
    sizes = sorted(set(units if units is not None else catalog.defaults.cluster_sizes))
    if not sizes:
        raise ScenarioError("units must list at least one cluster size")
    try:                        # the same rules as estimate (sizing.limits), for the whole
        for n in sizes:         # comparison rather than as a "does not fit" on every row
            limits.check_workload(context_tokens=workload.context_tokens,
                                  concurrency=workload.concurrency, units=n)
        if hours_at_load_per_day is not None:
            limits.check_float("hours at load per day", hours_at_load_per_day,
                               limits.HOURS_MIN, limits.HOURS_MAX)
    except limits.InputError as exc:
        raise ScenarioError(str(exc)) from None
    ids = list(platforms) if platforms is not None else [p.id for p in catalog.platforms]
    for pid in ids:
        catalog.platform(pid)               # UnknownIdError lists the valid ids
    rp = catalog.tariff(tariff or catalog.defaults.tariff).rappen_per_kwh
    hours = (catalog.defaults.hours_at_load_per_day if hours_at_load_per_day is None
             else hours_at_load_per_day)
    years = catalog.defaults.years_tco
    tco_col = f"tco_chf_{years:g}y"
    rows: list[dict[str, Any]] = []
    for pid in ids:
        p = catalog.platform(pid)
        prev: int | None = None
        for n in sizes:
            row = _row(workload, catalog, pid, n, parallel=parallel, prices=prices,
                       model=model, rp=rp, hours=hours, years=years, tco_col=tco_col)
            row["family"] = p.family
            row["upgrade_chf_from_previous"] = math.nan
            row["upgrade_note"] = ""
            if prev is not None and not math.isnan(row["price_chf"]):
                try:
                    up = upgrade_path(catalog, pid, prev, n, prices=prices)
                except (ValueError, TopologyError):
                    pass
                else:
                    row["upgrade_chf_from_previous"] = _nan(up.extra_chf)
                    row["upgrade_note"] = " ".join(up.notes)
            if not math.isnan(row["price_chf"]):
                prev = n
            rows.append(row)
    cols = ["platform", "family", "units", "parallel", "engine", "fits", "reason", "design",
            "price_chf", "price_complete", "unpriced_items", "oldest_price_date",
            "raw_memory_gb", "usable_memory_gib", "weights_gib_per_unit",
            "max_context_tokens", "max_concurrency", "decode_tok_s_per_request",
            "decode_tok_s_total", "prefill_tok_s", "ttft_s", "decode_tok_s_low",
            "decode_tok_s_high", "ttft_s_low", "ttft_s_high", "power_w_idle", "power_w_load",
            "energy_chf_per_year", "chf_per_usable_gb", "chf_per_tok_s", tco_col,
            "upgrade_chf_from_previous", "upgrade_note", "storage_tb_per_unit"]
    if workload.speculative != "none":      # the column only where speculation is on
        cols.append("speculative")
    return pd.DataFrame(rows, columns=cols)


def _row(w: Workload, catalog: Catalog, pid: str, n: int, *, parallel: str | None,
         prices: Mapping[str, PriceQuote] | None, model: ModelArch | None, rp: float,
         hours: float, years: float, tco_col: str) -> dict[str, Any]:
    p = catalog.platform(pid)
    row: dict[str, Any] = {
        "platform": pid, "units": n, "parallel": None, "engine": None, "fits": False,
        "reason": "", "design": None, "price_chf": math.nan, "price_complete": False,
        "unpriced_items": "", "oldest_price_date": None,
        "raw_memory_gb": n * p.memory_gb, "usable_memory_gib": math.nan,
        "weights_gib_per_unit": math.nan, "max_context_tokens": math.nan,
        "max_concurrency": math.nan, "decode_tok_s_per_request": math.nan,
        "decode_tok_s_total": math.nan, "prefill_tok_s": math.nan, "ttft_s": math.nan,
        "decode_tok_s_low": math.nan, "decode_tok_s_high": math.nan,
        "ttft_s_low": math.nan, "ttft_s_high": math.nan,
        "power_w_idle": math.nan, "power_w_load": math.nan,
        "energy_chf_per_year": math.nan, "chf_per_usable_gb": math.nan,
        "chf_per_tok_s": math.nan, tco_col: math.nan,
        "storage_tb_per_unit": storage_tb(catalog, pid),
        "speculative": "",          # "MTP k=3, code" when speculative decoding is on
    }
    try:
        bom = bill_of_materials(catalog, pid, n, prices=prices)
    except TopologyError as exc:
        row["reason"] = str(exc)
        return row
    row.update(design=bom.topology.design, price_chf=_nan(bom.total_chf),
               price_complete=bom.price_complete,
               unpriced_items="; ".join([*bom.missing_prices, *bom.unpriced_items]),
               power_w_idle=bom.power_w_idle, power_w_load=bom.power_w_load,
               oldest_price_date=None if bom.oldest_price_date is None
               else bom.oldest_price_date.isoformat())
    energy = energy_chf_per_year(idle_w=bom.power_w_idle, load_w=bom.power_w_load,
                                 hours_at_load_per_day=hours, rappen_per_kwh=rp)
    row["energy_chf_per_year"] = energy
    row[tco_col] = row["price_chf"] + years * energy
    try:
        e = best_estimate(w, catalog, pid, n, parallel=parallel, model=model, prices=prices)
    except (ScenarioError, UnknownIdError) as exc:
        row["reason"] = str(exc)
        return row
    r, f = e.resolved, e.fit
    if r.spec is not None and e.spec_figures:
        sf = e.spec_figures
        row["speculative"] = (f"{r.spec.label}: {sf['spec_accepted_tokens_per_step']:.1f} "
                              f"tok/step, x{sf['spec_speedup']:.2f}")
    usable_gib = f.usable_gib_per_unit * n
    row.update(parallel=r.parallel, engine=r.engine.id, fits=e.fits, reason=f.reason,
               usable_memory_gib=usable_gib, weights_gib_per_unit=f.weights_gib_per_unit,
               max_context_tokens=f.max_context_tokens, max_concurrency=f.max_concurrency)
    row["chf_per_usable_gb"] = row["price_chf"] / (usable_gib * GIB / 1e9)
    if e.fits:
        total = effective_total_tok_s(e)
        row.update(decode_tok_s_per_request=e.speed.decode_tok_s_per_request,
                   decode_tok_s_total=total, prefill_tok_s=e.speed.prefill_tok_s,
                   ttft_s=e.speed.ttft_s,
                   decode_tok_s_low=e.band.decode_tok_s_low,
                   decode_tok_s_high=e.band.decode_tok_s_high,
                   ttft_s_low=e.band.ttft_s_low, ttft_s_high=e.band.ttft_s_high,
                   chf_per_tok_s=row["price_chf"] / total if total > 0 else math.nan)
    return row


# ----------------------------------------------------------------------------- storage
def checkpoint_gb(catalog: Catalog, model: str, weights: str) -> float:
    """Download size of a checkpoint in GB (1e9 bytes): every tensor class incl. MTP and
    vision, at the quant's bits per weight (sizing.llm)."""
    m, q = catalog.model(model), catalog.quant(weights)
    return sum(weight_bytes_by_class(m, q, catalog).values()) / 1e9


def storage_tb(catalog: Catalog, platform_id: str) -> float:
    """SSD TB per unit: the platform's `storage_tb`, or for a GPU card its host's SSD part
    (capacity read from the part name, e.g. "Samsung 990 EVO Plus 2 TB"; 0 if unknown)."""
    p = catalog.platform(platform_id)
    if p.form != "gpu_card" or p.host is None:
        return p.storage_tb or 0.0
    total = 0.0
    for part in p.host.parts:
        item = catalog.host_part(part.item)
        found = re.search(r"(\d+(?:\.\d+)?)\s*TB\b", item.name) if item.kind == "ssd" else None
        if found:
            total += float(found.group(1)) * part.quantity
    return total


def storage_fit(catalog: Catalog, library: Sequence[tuple[str, str]], *,
                platforms: Sequence[str] | None = None,
                reserve_gb: float = OS_RESERVE_GB) -> pd.DataFrame:
    """How much of a model library (model id, quant id) each SKU's SSD holds.

    Per unit: every node of a multi-node cluster keeps its own copy of the checkpoints it
    serves (no shared storage assumed). SSD capacity in decimal TB; `reserve_gb` (default
    100 GB, an ASSUMPTION) is kept for the OS, containers and caches. ``models_fit``
    counts models smallest first. Columns: platform, storage_tb, usable_gb, library_gb,
    models_in_library, models_fit, all_fit, free_gb_after_library.
    """
    sizes = sorted(checkpoint_gb(catalog, m, q) for m, q in library)
    total = sum(sizes)
    rows = []
    for pid in platforms if platforms is not None else [p.id for p in catalog.platforms]:
        tb = storage_tb(catalog, pid)
        usable = max(0.0, tb * 1000 - reserve_gb) if tb else 0.0
        fit, used = 0, 0.0
        for s in sizes:
            if used + s > usable:
                break
            fit, used = fit + 1, used + s
        rows.append({"platform": pid, "storage_tb": tb, "usable_gb": usable,
                     "library_gb": total, "models_in_library": len(sizes),
                     "models_fit": fit, "all_fit": fit == len(sizes),
                     "free_gb_after_library": usable - total})
    return pd.DataFrame(rows)


__all__ = ["OS_RESERVE_GB", "Workload", "best_estimate", "checkpoint_gb", "compare",
           "effective_total_tok_s", "layouts", "storage_fit", "storage_tb"]
