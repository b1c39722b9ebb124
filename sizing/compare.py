"""Compare one workload across cluster sizes and platforms: a pandas DataFrame.

One row per (platform, units). Every row comes from `sizing.estimate.estimate` plus the
bill of materials and power of `sizing.bom` and `sizing.power`. Column units are in the names:

* ``price_chf`` -- bill-of-materials total (None/NaN when a part has no known price)
* ``price_complete`` -- False when the total leaves parts out: a catalog part without a
  price (then ``price_chf`` is NaN) or a part the catalog does not hold (Mac Thunderbolt 5
  cables, Strix Halo Ethernet switch; ``price_chf`` and the ratios below are then lower
  bounds); ``unpriced_items`` names them ("; "-separated, empty when complete) and
  ``missing_parts`` lists them (a list of str: the flag and the list travel as data, never
  as English text to search)
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
* ``oldest_price_date`` -- ISO date of the oldest price in ``price_chf`` (None without a
  BOM); ``price_age_days`` -- whole days (int) from it to ``today``
  (`sizing.money.price_age`, the formula of every price age; None without a date)
* the memory of the row's chosen layout, per unit (`MEMORY_COLUMNS`, GiB; NaN where no
  layout is valid): ``weights_gib_per_unit``, ``kv_required_gib_per_unit`` (KV for the
  context x streams), ``overhead_gib_per_unit``, ``free_gib_per_unit`` (never below 0),
  ``usable_gib_per_unit``, ``accelerator_gib_per_unit`` (the platform's, every row),
  ``kv_cache_gib_per_unit`` with ``_low`` / ``_high``, ``max_context_tokens_low`` /
  ``_high`` and ``max_concurrency_low`` / ``_high`` (the range of the engine's overhead)
* ``rough_decode`` / ``rough_prefill`` (bool) -- the figures rest on a borrowed
  calibration (`sizing.estimate.rough_figures`); ``assumptions`` -- the row's estimate
  assumptions (a list of str, as `estimate` states them)

Floors (`Floors`, `with_floors`): a configuration is *usable* when its per-stream decode
speed is at least ``min_tok_s_per_stream`` (default 10 tok/s) and its time to first token
at the full context at most ``max_ttft_s`` (default 60 s), tested on the central estimate
(not the band's low or high end). ``meets_floors`` (bool) and ``floor_misses`` (list of
"speed" / "ttft") are added per row. `rank` orders rows (fitting and usable first, then for
the cost rules complete prices before incomplete ones, then the rule), and `best_choice`
picks the best option or, when nothing meets the floors, the closest configuration and
what it misses.

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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sizing import limits
from sizing.bom import bill_of_materials
from sizing.catalog import Catalog, ModelArch, UnknownIdError
from sizing.estimate import Estimate
from sizing.llm import GIB, weight_bytes_by_class
from sizing.money import price_age
from sizing.power import RunningCost, running_cost
from sizing.scenario import ScenarioError
from sizing.topology import TopologyError
from sizing.upgrade import upgrade_path
from sizing.workload import (
    DEFAULT_MAX_TTFT_S,
    DEFAULT_MIN_TOK_S_PER_STREAM,
    FLOOR_MISSES,
    OS_RESERVE_GB,
    RANK_RULES,
    Floors,
    Workload,
    best_estimate,
    best_estimates,
    check_transport,
    effective_total_tok_s,
    layouts,
    offered_transport,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sizing.memory import MemoryFit
    from sizing.money import PriceQuote


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def compare(
    workload: Workload,
    catalog: Catalog,
    *,
    units: Iterable[int] | None = None,
    platforms: Sequence[str] | None = None,
    parallel: str | None = None,
    prices: Mapping[str, PriceQuote] | None = None,
    tariff: str | None = None,
    hours_at_load_per_day: float | None = None,
    model: ModelArch | None = None,
    floors: Floors | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """One row per (platform, units); see the module docstring for columns and rules.

    ``floors`` (default `Floors()`: 10 tok/s per stream, TTFT 60 s) sets ``meets_floors``
    and ``floor_misses`` (`with_floors`). ``today``: the day ``price_age_days`` counts to
    (default: the date of the call, UTC).

    units default: catalog ``defaults.cluster_sizes`` (1, 2, 3, 4, 8); platforms default:
    every catalog platform. Rows that cannot be built (unknown quant on a platform, no
    topology) have fits=False and the reason; unknown platform ids raise UnknownIdError.
    """
    sizes = sorted(set(units if units is not None else catalog.defaults.cluster_sizes))
    _check_inputs(workload, sizes, hours_at_load_per_day)
    ids = list(platforms) if platforms is not None else [p.id for p in catalog.platforms]
    for pid in ids:
        catalog.platform(pid)  # UnknownIdError lists the valid ids
    check_transport(workload, catalog, ids)
    cost = running_cost(catalog, tariff, hours_at_load_per_day)
    tco_col = f"tco_chf_{cost.years:g}y"
    day = today or datetime.now(UTC).date()
    keys = [(pid, n) for pid in ids for n in sizes]
    try:  # every layout of every row in one vectorized pass (sizing.workload)
        found = dict(
            zip(
                keys,
                best_estimates(
                    [(workload, pid, n, parallel) for pid, n in keys],
                    catalog,
                    model=model,
                    prices=prices,
                ),
                strict=True,
            )
        )
    except UnknownIdError:
        found = {}  # row by row then, each row reporting its own error
    rows: list[dict[str, Any]] = []
    for pid in ids:
        p = catalog.platform(pid)
        prev: int | None = None
        for n in sizes:
            row = _row(
                workload,
                catalog,
                pid,
                n,
                parallel=parallel,
                prices=prices,
                model=model,
                cost=cost,
                tco_col=tco_col,
                today=day,
                found=found.get((pid, n)),
            )
            row["family"] = p.family
            row.update(
                _upgrade_columns(
                    catalog, pid, prev, n, prices=prices, priced=not math.isnan(row["price_chf"])
                )
            )
            if not math.isnan(row["price_chf"]):
                prev = n
            rows.append(row)
    df = pd.DataFrame(rows, columns=_columns(workload, tco_col))
    # whole days as Python ints, None where no price is dated (never a float such as 289.0)
    df["price_age_days"] = pd.Series([r["price_age_days"] for r in rows], dtype=object)
    return with_floors(df, floors or Floors())


def _check_inputs(
    workload: Workload, sizes: Sequence[int], hours_at_load_per_day: float | None
) -> None:
    """The same rules as estimate (sizing.limits), for the whole comparison rather than as
    a "does not fit" on every row; raises ScenarioError."""
    if not sizes:
        raise ScenarioError("units must list at least one cluster size")
    try:
        for n in sizes:
            limits.check_workload(
                context_tokens=workload.context_tokens, concurrency=workload.concurrency, units=n
            )
        if hours_at_load_per_day is not None:
            limits.check_float(
                "hours at load per day", hours_at_load_per_day, limits.HOURS_MIN, limits.HOURS_MAX
            )
    except limits.InputError as exc:
        raise ScenarioError(str(exc)) from None


def _upgrade_columns(
    catalog: Catalog,
    pid: str,
    prev: int | None,
    n: int,
    *,
    prices: Mapping[str, PriceQuote] | None,
    priced: bool,
) -> dict[str, Any]:
    """``upgrade_chf_from_previous`` (CHF, NaN if none) and ``upgrade_note`` of the row
    with `n` units from the previous priced row with `prev` units."""
    cols: dict[str, Any] = {"upgrade_chf_from_previous": math.nan, "upgrade_note": ""}
    if prev is None or not priced:
        return cols
    try:
        up = upgrade_path(catalog, pid, prev, n, prices=prices)
    except (ValueError, TopologyError):
        return cols
    return {"upgrade_chf_from_previous": _nan(up.extra_chf), "upgrade_note": " ".join(up.notes)}


def _columns(workload: Workload, tco_col: str) -> list[str]:
    """The frame's columns in order (``speculative`` only where speculation is on)."""
    cols = [
        "platform",
        "family",
        "units",
        "parallel",
        "engine",
        "transport",
        "fits",
        "reason",
        "design",
        "price_chf",
        "price_complete",
        "unpriced_items",
        "missing_parts",
        "meets_floors",
        "floor_misses",
        "oldest_price_date",
        "price_age_days",
        "raw_memory_gb",
        "usable_memory_gib",
        "weights_gib_per_unit",
        "max_context_tokens",
        "max_concurrency",
        "decode_tok_s_per_request",
        "decode_tok_s_total",
        "prefill_tok_s",
        "ttft_s",
        "decode_tok_s_low",
        "decode_tok_s_high",
        "ttft_s_low",
        "ttft_s_high",
        "power_w_idle",
        "power_w_load",
        "energy_chf_per_year",
        "chf_per_usable_gb",
        "chf_per_tok_s",
        tco_col,
        "upgrade_chf_from_previous",
        "upgrade_note",
        "storage_tb_per_unit",
        *MEMORY_COLUMNS,
        "rough_decode",
        "rough_prefill",
        "assumptions",
    ]
    if workload.speculative != "none":  # the column only where speculation is on
        cols.append("speculative")
    return cols


def _row(
    w: Workload,
    catalog: Catalog,
    pid: str,
    n: int,
    *,
    parallel: str | None,
    prices: Mapping[str, PriceQuote] | None,
    model: ModelArch | None,
    cost: RunningCost,
    tco_col: str,
    today: date,
    found: Estimate | ScenarioError | None = None,
) -> dict[str, Any]:
    """One row; `found`: the row's `best_estimate` (or its error) when already computed;
    ``price_age_days`` counts to `today`."""
    p = catalog.platform(pid)
    row: dict[str, Any] = {
        "platform": pid,
        "units": n,
        "parallel": None,
        "engine": None,
        "transport": None,
        "fits": False,
        "reason": "",
        "design": None,
        "price_chf": math.nan,
        "price_complete": False,
        "unpriced_items": "",
        "missing_parts": [],
        "oldest_price_date": None,
        "price_age_days": None,
        "raw_memory_gb": n * p.memory_gb,
        "usable_memory_gib": math.nan,
        "weights_gib_per_unit": math.nan,
        "max_context_tokens": math.nan,
        "max_concurrency": math.nan,
        "decode_tok_s_per_request": math.nan,
        "decode_tok_s_total": math.nan,
        "prefill_tok_s": math.nan,
        "ttft_s": math.nan,
        "decode_tok_s_low": math.nan,
        "decode_tok_s_high": math.nan,
        "ttft_s_low": math.nan,
        "ttft_s_high": math.nan,
        "power_w_idle": math.nan,
        "power_w_load": math.nan,
        "energy_chf_per_year": math.nan,
        "chf_per_usable_gb": math.nan,
        "chf_per_tok_s": math.nan,
        tco_col: math.nan,
        "storage_tb_per_unit": storage_tb(catalog, pid),
        "speculative": "",  # "MTP k=3, code" when speculative decoding is on
        **dict.fromkeys(MEMORY_COLUMNS, math.nan),
        "accelerator_gib_per_unit": p.accelerator_memory_gib,
        "rough_decode": False,
        "rough_prefill": False,
        "assumptions": [],
    }
    try:
        bom = bill_of_materials(catalog, pid, n, prices=prices)
    except TopologyError as exc:
        row["reason"] = str(exc)
        return row
    row.update(
        design=bom.topology.design,
        price_chf=_nan(bom.total_chf),
        price_complete=bom.price_complete,
        unpriced_items="; ".join([*bom.missing_prices, *bom.unpriced_items]),
        missing_parts=[*bom.missing_prices, *bom.unpriced_items],
        power_w_idle=bom.power_w_idle,
        power_w_load=bom.power_w_load,
        oldest_price_date=None
        if bom.oldest_price_date is None
        else bom.oldest_price_date.isoformat(),
        price_age_days=price_age(
            [bom.oldest_price_date], today=today, stale_days=catalog.defaults.price_stale_days
        ).price_age_days,
    )
    energy = cost.energy_chf_per_year(idle_w=bom.power_w_idle, load_w=bom.power_w_load)
    row["energy_chf_per_year"] = energy
    row[tco_col] = cost.tco_chf(row["price_chf"], energy)
    e: Estimate | ScenarioError | UnknownIdError | None = found
    if e is None:
        try:
            e = best_estimate(w, catalog, pid, n, parallel=parallel, model=model, prices=prices)
        except (ScenarioError, UnknownIdError) as exc:
            e = exc
    if not isinstance(e, Estimate):
        row["reason"] = str(e)
        return row
    r, f = e.resolved, e.fit
    if r.spec is not None and e.spec_figures:
        sf = e.spec_figures
        row["speculative"] = (
            f"{r.spec.label}: {sf['spec_accepted_tokens_per_step']:.1f} "
            f"tok/step, x{sf['spec_speedup']:.2f}"
        )
    usable_gib = f.usable_gib_per_unit * n
    split = r.units > 1 and r.parallel != "replicas" and r.transport is not None
    row.update(
        parallel=r.parallel,
        engine=r.engine.id,
        fits=e.fits,
        reason=f.reason,
        transport=r.transport.id if split and r.transport is not None else None,
        usable_memory_gib=usable_gib,
        weights_gib_per_unit=f.weights_gib_per_unit,
        max_context_tokens=f.max_context_tokens,
        max_concurrency=f.max_concurrency,
        **memory_breakdown(f),
        rough_decode=e.rough_decode,
        rough_prefill=e.rough_prefill,
        assumptions=list(e.assumptions),
    )
    row["chf_per_usable_gb"] = row["price_chf"] / (usable_gib * GIB / 1e9)
    if e.fits:
        total = effective_total_tok_s(e)
        row.update(
            decode_tok_s_per_request=e.speed.decode_tok_s_per_request,
            decode_tok_s_total=total,
            prefill_tok_s=e.speed.prefill_tok_s,
            ttft_s=e.speed.ttft_s,
            decode_tok_s_low=e.band.decode_tok_s_low,
            decode_tok_s_high=e.band.decode_tok_s_high,
            ttft_s_low=e.band.ttft_s_low,
            ttft_s_high=e.band.ttft_s_high,
            chf_per_tok_s=row["price_chf"] / total if total > 0 else math.nan,
        )
    return row


#: Per-unit memory of a row's chosen layout (GiB; NaN where no layout is valid) and the
#: ranges of the engine's overhead where it has them (`sizing.memory.MemoryFit`).
MEMORY_COLUMNS: tuple[str, ...] = (
    "usable_gib_per_unit",
    "accelerator_gib_per_unit",
    "kv_required_gib_per_unit",
    "overhead_gib_per_unit",
    "free_gib_per_unit",
    "kv_cache_gib_per_unit",
    "kv_cache_gib_per_unit_low",
    "kv_cache_gib_per_unit_high",
    "max_context_tokens_low",
    "max_context_tokens_high",
    "max_concurrency_low",
    "max_concurrency_high",
)


def memory_breakdown(f: MemoryFit) -> dict[str, float]:
    """The `MEMORY_COLUMNS` of one fit, except the accelerator memory (a platform figure);
    ``free_gib_per_unit`` is the headroom, never below 0."""
    return {
        "usable_gib_per_unit": f.usable_gib_per_unit,
        "kv_required_gib_per_unit": f.kv_required_gib_per_unit,
        "overhead_gib_per_unit": f.overhead_gib_per_unit,
        "free_gib_per_unit": max(0.0, f.headroom_gib_per_unit),
        "kv_cache_gib_per_unit": f.kv_cache_gib_per_unit,
        "kv_cache_gib_per_unit_low": f.kv_cache_gib_per_unit_low,
        "kv_cache_gib_per_unit_high": f.kv_cache_gib_per_unit_high,
        "max_context_tokens_low": f.max_context_tokens_low,
        "max_context_tokens_high": f.max_context_tokens_high,
        "max_concurrency_low": f.max_concurrency_low,
        "max_concurrency_high": f.max_concurrency_high,
    }


MISS_TEXT = {"speed": "the speed floor", "ttft": "the TTFT ceiling"}


def with_floors(df: pd.DataFrame, floors: Floors) -> pd.DataFrame:
    """A copy of a `compare` frame with ``meets_floors`` (bool: fits and meets both floors
    on the central estimate) and ``floor_misses`` (list: "speed" / "ttft"; empty for rows
    that do not fit -- they fail on memory, see ``reason``)."""
    out = df.copy()
    misses: list[list[str]] = []
    for fits, v, t in zip(out["fits"], out["decode_tok_s_per_request"], out["ttft_s"], strict=True):
        misses.append(floors.misses(float(v), float(t)) if bool(fits) else [])
    out["floor_misses"] = pd.Series(misses, index=out.index, dtype=object)
    out["meets_floors"] = [bool(f) and not m for f, m in zip(out["fits"], misses, strict=True)]
    out["meets_floors"] = out["meets_floors"].astype(bool)
    return out


_COST_RULES = ("cheapest", "chf_per_tok_s", "tco")


def _tco_column(df: pd.DataFrame) -> str:
    return next((c for c in df.columns if c.startswith("tco_chf_")), "tco_chf_3y")


def rank(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Rows of a `compare` frame in the order of ``rule``, stable:

    1. fitting rows that meet the floors (``meets_floors``, when the column is there),
       then fitting rows that miss them, then rows that do not fit;
    2. cost rules (cheapest, chf_per_tok_s, tco): rows with a known price, complete prices
       before incomplete ones (a lower bound never outranks a full bill), then no price;
    3. the rule: cheapest (ties: faster per stream), fastest per stream (ties: cheaper),
       CHF per tok/s, TCO.
    """
    if rule not in RANK_RULES:
        raise ValueError(f"unknown rank rule {rule!r}; valid: {', '.join(RANK_RULES)}")
    fits = df["fits"].fillna(False).to_numpy(dtype=bool)
    usable = (
        df["meets_floors"].fillna(False).to_numpy(dtype=bool)
        if "meets_floors" in df.columns
        else fits
    )
    price_col = df["price_chf"].to_numpy(dtype=float)
    priced = ~np.isnan(price_col)
    complete = (
        df["price_complete"].fillna(False).to_numpy(dtype=bool)
        if "price_complete" in df.columns
        else priced
    )
    speed = np.nan_to_num(df["decode_tok_s_per_request"].to_numpy(dtype=float), nan=0.0)
    price = np.where(priced, price_col, math.inf)
    usable_tier = (~fits).astype(int) * 2 + (fits & ~usable).astype(int)
    price_tier = (~priced).astype(int) * 2 + (priced & ~complete).astype(int)

    def inf_nan(col: str) -> np.ndarray:
        values = df[col].to_numpy(dtype=float)
        return np.where(np.isnan(values), math.inf, values)

    keys: tuple[np.ndarray, ...]
    if rule == "cheapest":
        keys = (usable_tier, price_tier, price, -speed)
    elif rule == "fastest":
        keys = (usable_tier, -speed, price)
    elif rule == "chf_per_tok_s":
        keys = (usable_tier, price_tier, inf_nan("chf_per_tok_s"), price)
    else:
        keys = (usable_tier, price_tier, inf_nan(_tco_column(df)), -speed)
    order = np.lexsort(keys[::-1])  # stable; the first key is the primary one
    return df.iloc[order].reset_index(drop=True)


@dataclass(frozen=True, kw_only=True)
class BestChoice:
    """The best option of a comparison under a rule and floors.

    ``best``: the first ranked row that fits, meets the floors and (cost rules) has a
    price; None when there is none. Then ``closest`` is the fitting row nearest to the
    floors (`Floors.shortfall`; ties: cheaper) with ``closest_misses`` ("speed"/"ttft").
    """

    rule: str
    floors: Floors
    best: dict[str, Any] | None
    closest: dict[str, Any] | None = None
    closest_misses: tuple[str, ...] = ()

    def rule_text(self) -> str:
        """The rule as stated next to the headline."""
        what = {
            "cheapest": "cheapest configuration that fits",
            "fastest": "fastest decode per stream that fits",
            "chf_per_tok_s": "lowest CHF per decode tok/s that fits",
            "tco": "lowest total cost of ownership that fits",
        }[self.rule]
        if self.floors.active:
            what += f" and meets {self.floors.text()}"
        extra = (
            " (central estimate; complete prices before incomplete ones)"
            if self.rule in _COST_RULES
            else " (central estimate)"
        )
        return what + extra

    def miss_text(self) -> str:
        """``"nothing meets 10 tok/s and 60 s; closest: X (7.2 tok/s, TTFT 41 s) misses
        the speed floor"``; empty when there is a best option."""
        if self.best is not None:
            return ""
        head = f"nothing meets {self.floors.short_text()}"
        c = self.closest
        if c is None:
            return head + "; nothing fits at all"
        label = f"{int(c['units'])} x {c['platform']}"
        if isinstance(c.get("parallel"), str) and int(c["units"]) > 1:
            label += f" ({c['parallel']})"
        misses = " and ".join(MISS_TEXT[m] for m in self.closest_misses) or "a floor"
        return (
            f"{head}; closest: {label} ({_g(c['decode_tok_s_per_request'])} tok/s, "
            f"TTFT {_g(c['ttft_s'])} s) misses {misses}"
        )


def _g(x: float) -> str:
    """Two significant digits at most, never exponent form (7.2, 41, 5600)."""
    if x != x:
        return "?"
    if x >= 100:
        return f"{round(x, -len(str(int(x))) + 2):.0f}"
    return f"{x:.2g}" if x >= 10 else f"{x:.1f}"


def best_choice(
    df: pd.DataFrame, rule: str = "cheapest", floors: Floors | None = None
) -> BestChoice:
    """The best option of a `compare` frame under ``rule`` and ``floors`` (default
    `Floors()`; the frame's own ``meets_floors`` is recomputed for these floors)."""
    floors = floors or Floors()
    ranked = rank(with_floors(df, floors), rule)
    best = None
    if len(ranked):
        first = ranked.iloc[0]
        if bool(first["meets_floors"]) and (rule == "fastest" or not pd.isna(first["price_chf"])):
            best = {str(k): v for k, v in first.to_dict().items()}
    if best is not None:
        return BestChoice(rule=rule, floors=floors, best=best)
    fitting = ranked[ranked["fits"].fillna(False).astype(bool)]
    if fitting.empty:
        return BestChoice(rule=rule, floors=floors, best=None)
    gaps = [
        floors.shortfall(float(v), float(t))
        for v, t in zip(fitting["decode_tok_s_per_request"], fitting["ttft_s"], strict=True)
    ]
    prices = fitting["price_chf"].fillna(math.inf).to_numpy(dtype=float)
    i = min(range(len(gaps)), key=lambda k: (gaps[k], prices[k]))
    closest = {str(k): v for k, v in fitting.iloc[i].to_dict().items()}
    return BestChoice(
        rule=rule,
        floors=floors,
        best=None,
        closest=closest,
        closest_misses=tuple(closest["floor_misses"]),
    )


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


def storage_fit(
    catalog: Catalog,
    library: Sequence[tuple[str, str]],
    *,
    platforms: Sequence[str] | None = None,
    reserve_gb: float = OS_RESERVE_GB,
) -> pd.DataFrame:
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
        rows.append(
            {
                "platform": pid,
                "storage_tb": tb,
                "usable_gb": usable,
                "library_gb": total,
                "models_in_library": len(sizes),
                "models_fit": fit,
                "all_fit": fit == len(sizes),
                "free_gb_after_library": usable - total,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "DEFAULT_MAX_TTFT_S",
    "DEFAULT_MIN_TOK_S_PER_STREAM",
    "FLOOR_MISSES",
    "OS_RESERVE_GB",
    "RANK_RULES",
    "BestChoice",
    "Floors",
    "Workload",
    "best_choice",
    "best_estimate",
    "check_transport",
    "checkpoint_gb",
    "compare",
    "effective_total_tok_s",
    "layouts",
    "offered_transport",
    "rank",
    "storage_fit",
    "storage_tb",
    "with_floors",
]
