"""Deployment plans and the planner: which configuration meets a buyer's requirements.

The requirements themselves (schema, loading, checks) are in `sizing.requirements`.

A *deployment plan* splits N units into serving groups (e.g. 3 GB10 as units 1-2 TP=2
for the main agent + unit 3 for the sub-agents). Each group serves one or more model
instances; every instance gets its own predicted speed from `sizing.estimate`. Models that
share units (co-location) must fit together and share the units' time:

* memory: the sum over the instances of weights + runtime overhead + KV for their streams
  (per unit) must stay within the usable memory of a unit;
* speed (ASSUMPTION, worst case): when all co-located instances decode at once they
  alternate on the accelerator, so each stream advances at ``1 / sum_j(1 / v_j)`` where
  ``v_j`` is instance j's per-stream speed alone.

Roles with the same model and weights in one group are one instance (one server batching
all their streams). Every model is resident at once ("all loaded at once").

The planner (`plan`) tries every platform and unit count (default 1-8), every split of
the roles (main agent, sub-agents, optional vision model) into groups and every split of
the units among those groups, keeps per configuration the plan that meets all minimum
speeds (preferring the one meeting the targets, then the fastest main agent), and ranks the
configurations that meet every requirement cheapest first. Every other configuration is
rejected with its reasons: ``memory`` (models do not fit, or less raw memory than asked),
``speed`` (a stream below its minimum tok/s or the floor), ``ttft`` (time to first token
above the ceiling), ``budget``, ``power`` (load watts above the cap), ``price`` (a part has
no known price) or ``unsupported`` (quant/engine/topology).

Floors (`sizing.compare.Floors`, fields ``min_tok_s_per_stream`` and ``max_ttft_s`` of the
requirements, defaults 10 tok/s and 60 s, 0 = none): every stream of every role must decode
at least ``min_tok_s_per_stream`` (on top of the role's own ``min_tok_s``: the larger
counts) and every instance must reach its first token of a full-context request within
``max_ttft_s``, both on the central estimate. TTFT is the instance's own (ASSUMPTION: a
co-located model's prefill running at the same moment is not added). When nothing meets
the requirements, `PlanResult.closest` is the configuration that only misses the floors or
minimum speeds, by the smallest factor, and `PlanResult.closest_text` says what it misses.

Incomplete prices: some designs need parts the catalog does not hold (a Strix Halo
cluster's Ethernet cable or switch, a Mac cluster's Thunderbolt 5 cables), so their
bill-of-materials total is a lower bound (`BillOfMaterials.price_complete` False). The
planner never claims such a configuration meets the budget: it is rejected for
``budget`` when even the known part exceeds it, and otherwise recommended but ranked
after every configuration with a complete price, with ``price_complete=False``,
``unpriced_items`` and the note "price incomplete: <items> not priced".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from sizing.bom import BillOfMaterials, bill_of_materials
from sizing.estimate import Estimate
from sizing.money import PriceQuote, chf
from sizing.power import running_cost
from sizing.requirements import Requirements, Serve, check_requirements
from sizing.scenario import KV_DTYPES, ScenarioError
from sizing.topology import TopologyError
from sizing.workload import (
    Floors,
    Workload,
    best_estimate,
    best_estimates,
    effective_total_tok_s,
    layouts,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from sizing.catalog import Catalog, Platform
    from sizing.power import RunningCost

REASONS: tuple[str, ...] = ("memory", "speed", "ttft", "budget", "power", "price", "unsupported")


DEFAULT_PLAN_UNITS: tuple[int, ...] = tuple(range(1, 9))


# Strict: a YAML boolean is not a number (pydantic would read `true` as 1); finite only.
@dataclass(frozen=True)
class GroupSpec:
    """`units` units serving `serves`; `parallel` forces the layout of its instances."""

    units: int
    serves: tuple[Serve, ...]
    parallel: str | None = None


@dataclass(frozen=True)
class ServingGroup:
    """One model instance on units first_unit..first_unit+units-1 (1-based)."""

    first_unit: int
    units: int
    roles: tuple[str, ...]
    model: str
    weights: str
    engine: str | None
    parallel: str
    streams: int
    fits: bool
    memory_gib_per_unit: float  # weights + overhead + KV of this instance, per unit
    usable_gib_per_unit: float
    decode_tok_s_per_stream: float  # after sharing the units with co-located instances
    decode_tok_s_total: float
    shared_with: tuple[str, ...]  # other models on the same units
    reason: str
    ttft_s: float = math.nan  # full-context time to first token, this instance alone

    @property
    def unit_label(self) -> str:
        last = self.first_unit + self.units - 1
        return f"unit {self.first_unit}" if self.units == 1 else (f"units {self.first_unit}-{last}")

    def describe(self) -> str:
        lay = (
            ""
            if self.units == 1
            else f" {self.parallel.upper()}={self.units}"
            if (self.parallel != "replicas")
            else f" {self.units} replicas"
        )
        share = f", sharing with {', '.join(self.shared_with)}" if self.shared_with else ""
        if not self.fits:
            return (
                f"{self.unit_label}: {self.model} {self.weights}{lay} for "
                f"{' + '.join(self.roles)} ({self.streams} stream(s)): DOES NOT FIT — "
                f"{self.reason}"
            )
        ttft = f", TTFT {self.ttft_s:.3g} s" if self.ttft_s == self.ttft_s else ""
        return (
            f"{self.unit_label}: {self.model} {self.weights}{lay} for "
            f"{' + '.join(self.roles)} ({self.streams} stream(s)){share}: "
            f"{self.decode_tok_s_per_stream:.1f} tok/s per stream, "
            f"{self.decode_tok_s_total:.1f} tok/s total{ttft}"
        )


@dataclass(frozen=True)
class Shortfall:
    """One requirement a plan misses: ``kind`` memory | minimum (a speed minimum or the
    speed floor) | ttft (the TTFT ceiling) | target; ``gap`` = how far, as a factor >= 1
    (needed / reached tok/s, or TTFT / ceiling; inf for memory)."""

    kind: Literal["memory", "minimum", "ttft", "target"]
    role: str
    text: str
    gap: float = math.inf


@dataclass(frozen=True)
class DeploymentPlan:
    platform_id: str
    units: int
    groups: list[ServingGroup]
    fits: bool
    meets_minimums: bool
    meets_targets: bool
    shortfalls: list[str]  # speed below minimum or target, memory problems
    misses: list[Shortfall] = field(default_factory=list)  # the same, as data

    def describe(self) -> str:
        return "; ".join(g.describe() for g in self.groups)

    def speed_of(self, role: str) -> float:
        """Per-stream tok/s of the instance serving `role` (0 if it does not fit)."""
        for g in self.groups:
            if role in g.roles:
                return g.decode_tok_s_per_stream if g.fits else 0.0
        raise KeyError(role)


_Cache = dict[tuple[Any, ...], Estimate | ScenarioError]


def _instance(
    catalog: Catalog,
    pid: str,
    units: int,
    model: str,
    weights: str,
    streams: int,
    allowed: tuple[str, ...],
    context: int,
    kv_dtype: str,
    cache: _Cache,
) -> Estimate:
    key = (pid, units, model, weights, streams, allowed, context, kv_dtype)
    if key not in cache:
        w = Workload(
            model=model,
            weights=weights,
            context_tokens=context,
            concurrency=streams,
            kv_dtype=kv_dtype,
        )
        try:
            cache[key] = best_estimate(w, catalog, pid, units, parallel=allowed)
        except ScenarioError as exc:
            cache[key] = exc
    got = cache[key]
    if isinstance(got, ScenarioError):
        raise got
    return got


def _prefetch(
    catalog: Catalog,
    sizes_by_platform: Mapping[str, Sequence[int]],
    serves: Sequence[Serve],
    context: int,
    kv_dtype: str,
    cache: _Cache,
    prices: Mapping[str, PriceQuote] | None = None,
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError] | None = None,
) -> None:
    """Fill `cache` with every instance the candidate plans of `serves` need on each
    platform (id → unit counts), in one vectorized pass (`best_estimates`) instead of one
    call per instance or per platform; `_instance` then finds them. Plans that cannot be
    built are skipped here (`evaluate_plan` raises their error). `prices` and the `boms`
    already built with them only spare building each bill of materials twice (the plans
    use the estimates' fit and speed, not their price). A twin platform's (`_twins`)
    instances are those of the first of its twins: the same fit and speed (their price,
    power and platform are the first's, which `evaluate_plan` does not read); where that
    is an error, the twin's own is estimated (an error names its platform)."""
    keys: dict[tuple[Any, ...], None] = {}
    for pid, sizes in sizes_by_platform.items():
        for groups in (g for units in sizes for g in candidate_plans(serves, units)):
            _instance_keys(catalog, pid, groups, context, kv_dtype, cache, keys)
    twin = _twins(catalog, list(sizes_by_platform))
    shared = {k: (twin[k[0]], *k[1:]) for k in keys if twin[k[0]] != k[0]}
    shared = {k: first for k, first in shared.items() if first in keys or first in cache}
    _estimate_keys(
        catalog, [k for k in keys if k not in shared], context, kv_dtype, cache, prices, boms
    )
    again = []
    for key, first in shared.items():
        got = cache[first]
        if isinstance(got, ScenarioError):
            again.append(key)
        else:
            cache[key] = got
    _estimate_keys(catalog, again, context, kv_dtype, cache, prices, boms)


#: The fields of a platform that say how it is bought, not how it computes.
PURCHASE_FIELDS = frozenset(
    {
        *("id", "name", "part_number", "price", "source", "shop_url", "known_good", "caveat"),
        *("vendor", "noise", "storage_note", "availability"),
    }
)


def _twins(catalog: Catalog, pids: Sequence[str]) -> dict[str, str]:
    """Each of `pids` -> the first of `pids` equal to it in every field but
    `PURCHASE_FIELDS` (e.g. the GB10 boxes of several vendors; itself when none): their
    estimates have the same fit and speed, which is all `evaluate_plan` reads of them
    (their price, power and errors are each platform's own)."""
    firsts: list[tuple[list[Any], str]] = []
    out: dict[str, str] = {}
    for pid in pids:
        p = catalog.platform(pid)
        values = [getattr(p, f) for f in type(p).model_fields if f not in PURCHASE_FIELDS]
        out[pid] = next((first for seen, first in firsts if seen == values), pid)
        if out[pid] == pid:
            firsts.append((values, pid))
    return out


def _estimate_keys(
    catalog: Catalog,
    keys: Sequence[tuple[Any, ...]],
    context: int,
    kv_dtype: str,
    cache: _Cache,
    prices: Mapping[str, PriceQuote] | None,
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError] | None,
) -> None:
    """Put the best estimate (or its error) of each instance key in `cache`, all in one
    vectorized pass (`best_estimates`)."""
    if not keys:
        return
    requests = [
        (
            Workload(
                model=k[2],
                weights=k[3],
                context_tokens=context,
                concurrency=k[4],
                kv_dtype=kv_dtype,
            ),
            k[0],
            k[1],
            k[5],
        )
        for k in keys
    ]
    results = best_estimates(requests, catalog, prices=prices, boms=boms)
    for key, result in zip(keys, results, strict=True):
        cache[key] = result


def _instance_keys(
    catalog: Catalog,
    pid: str,
    groups: Sequence[GroupSpec],
    context: int,
    kv_dtype: str,
    cache: _Cache,
    keys: dict[tuple[Any, ...], None],
) -> None:
    """Add to `keys` the cache keys of the instances of one candidate plan not yet in
    `cache` (a group whose layout is impossible ends the plan)."""
    first = 1
    for spec in groups:
        try:
            allowed = _allowed(catalog, pid, first, spec.units, spec.parallel)
        except ScenarioError:
            return
        streams: dict[tuple[str, str], int] = {}
        for s in spec.serves:
            streams[(s.model, s.weights)] = streams.get((s.model, s.weights), 0) + s.streams
        for (model, weights), n in streams.items():
            key = (pid, spec.units, model, weights, n, allowed, context, kv_dtype)
            if key not in cache:
                keys[key] = None
        first += spec.units


def _allowed(
    catalog: Catalog, pid: str, first: int, units: int, forced: str | None
) -> tuple[str, ...]:
    """Layouts for a group: GPU-card groups spanning hosts can only run replicas."""
    p = catalog.platform(pid)
    allowed = layouts(catalog, pid, units)
    if units > 1 and p.form == "gpu_card" and p.host is not None:
        per = p.host.max_cards_per_host
        if (first - 1) // per != (first + units - 2) // per:
            allowed = ("replicas",)
    if forced is not None:
        if units > 1 and forced not in allowed:
            raise ScenarioError(
                f"parallel '{forced}' is not possible for units {first}-"
                f"{first + units - 1} of {pid}; valid choices: "
                f"{', '.join(allowed)}"
            )
        allowed = (forced,) if units > 1 else ("tp",)
    return allowed


def evaluate_plan(
    catalog: Catalog,
    platform_id: str,
    groups: Sequence[GroupSpec],
    *,
    context_tokens: int = 32768,
    kv_dtype: str = "bf16",
    floors: Floors | None = None,
    _cache: _Cache | None = None,
) -> DeploymentPlan:
    """Predict every group of a deployment plan (see module docstring for co-location).

    ``floors`` (default: none) adds the speed floor to every role's minimum and the TTFT
    ceiling to every instance (central estimates).

    Raises ScenarioError for unknown ids or impossible layouts.
    """
    catalog.platform(platform_id)
    if kv_dtype not in KV_DTYPES:
        raise ScenarioError(f"unknown kv dtype '{kv_dtype}'; valid choices: {', '.join(KV_DTYPES)}")
    if not groups:
        raise ScenarioError("a deployment plan needs at least one group")
    cache: _Cache = {} if _cache is None else _cache
    out: list[ServingGroup] = []
    misses: list[Shortfall] = []
    limits_ = _PlanFloors(
        floors.min_tok_s_per_stream if floors is not None else 0.0,
        floors.max_ttft_s if floors is not None else 0.0,
    )
    first = 1
    for spec in groups:
        g_out, g_misses = _evaluate_group(
            catalog, platform_id, first, spec, context_tokens, kv_dtype, cache, limits_
        )
        out += g_out
        misses += g_misses
        first += spec.units
    kinds = {m.kind for m in misses}
    fits = "memory" not in kinds  # a memory miss fails every test
    meets_min = not kinds & {"memory", "minimum", "ttft"}
    meets_target = not kinds
    return DeploymentPlan(
        platform_id, first - 1, out, fits, meets_min, meets_target, [m.text for m in misses], misses
    )


@dataclass(frozen=True)
class _PlanFloors:
    """The floors every role's instance must meet: tok/s per stream and TTFT ceiling
    in s (0 = none)."""

    min_tok_s: float
    max_ttft_s: float


def _evaluate_group(
    catalog: Catalog,
    platform_id: str,
    first: int,
    spec: GroupSpec,
    context_tokens: int,
    kv_dtype: str,
    cache: _Cache,
    limits_: _PlanFloors,
) -> tuple[list[ServingGroup], list[Shortfall]]:
    """The serving groups (one per co-located instance) of one group of units starting at
    unit `first`, and what they miss."""
    if spec.units < 1 or not spec.serves:
        raise ScenarioError("every group needs at least 1 unit and one model")
    allowed = _allowed(catalog, platform_id, first, spec.units, spec.parallel)
    # one instance per distinct (model, weights): its roles share one server
    merged: dict[tuple[str, str], list[Serve]] = {}
    for s in spec.serves:
        merged.setdefault((s.model, s.weights), []).append(s)
    est = {
        k: _instance(
            catalog,
            platform_id,
            spec.units,
            k[0],
            k[1],
            sum(s.streams for s in v),
            allowed,
            context_tokens,
            kv_dtype,
            cache,
        )
        for k, v in merged.items()
    }
    need = {
        k: e.fit.weights_gib_per_unit + e.fit.overhead_gib_per_unit + e.fit.kv_required_gib_per_unit
        for k, e in est.items()
    }
    usable = min(e.fit.usable_gib_per_unit for e in est.values())
    group_fits = all(e.fits for e in est.values()) and sum(need.values()) <= usable
    shared_speed = _shared_speed(est.values())
    out: list[ServingGroup] = []
    misses: list[Shortfall] = []
    for k, e in est.items():
        serves = merged[k]
        others = tuple(f"{m}" for (m, _q) in est if (m, _q) != k)
        alone = e.speed.decode_tok_s_per_request
        per_stream = shared_speed if others else alone
        total = effective_total_tok_s(e) * (per_stream / alone if alone > 0 else 0.0)
        reason = _group_reason(e, group_fits, sum(need.values()), usable)
        out.append(
            ServingGroup(
                first_unit=first,
                units=spec.units,
                roles=tuple(s.role for s in serves),
                model=k[0],
                weights=k[1],
                engine=e.resolved.engine.id,
                parallel=e.resolved.parallel,
                streams=sum(s.streams for s in serves),
                fits=group_fits,
                memory_gib_per_unit=need[k],
                usable_gib_per_unit=usable,
                decode_tok_s_per_stream=per_stream if group_fits else 0.0,
                decode_tok_s_total=total if group_fits else 0.0,
                shared_with=others,
                reason=reason,
                ttft_s=e.speed.ttft_s if group_fits else math.nan,
            )
        )
        roles = " + ".join(s.role for s in serves)
        if not group_fits:
            misses.append(Shortfall("memory", roles, f"{roles}: {reason}"))
            continue
        misses += _speed_misses(serves, per_stream, limits_.min_tok_s)
        ttft = e.speed.ttft_s
        if limits_.max_ttft_s > 0 and not ttft <= limits_.max_ttft_s:
            misses.append(
                Shortfall(
                    "ttft",
                    roles,
                    f"{roles}: TTFT {ttft:.3g} s > ceiling {limits_.max_ttft_s:g} s",
                    ttft / limits_.max_ttft_s,
                )
            )
    return out, misses


def _shared_speed(est: Iterable[Estimate]) -> float:
    """tok/s per stream when co-located models all decode at once: 1/sum(1/v) of their
    solo speeds (worst case; 0 without any speed)."""
    inv = sum(
        1.0 / e.speed.decode_tok_s_per_request for e in est if e.speed.decode_tok_s_per_request > 0
    )
    return 1.0 / inv if inv > 0 else 0.0


def _group_reason(e: Estimate, group_fits: bool, need_gib: float, usable_gib: float) -> str:
    """ "fits", the instance's own reason, or the co-located memory shortfall."""
    if not e.fits:
        return e.fit.reason
    if not group_fits:
        return f"co-located models need {need_gib:.1f} GiB per unit; {usable_gib:.1f} GiB usable"
    return "fits"


def _speed_misses(
    serves: Sequence[Serve], per_stream: float, floor_tok_s: float
) -> list[Shortfall]:
    """The speed minimum (or floor, the larger counts) and target misses of each role at
    `per_stream` tok/s."""
    misses: list[Shortfall] = []
    for s in serves:
        need_tok_s = max(s.min_tok_s, floor_tok_s)
        what = "minimum" if s.min_tok_s >= floor_tok_s else "floor"
        if per_stream < need_tok_s:
            misses.append(
                Shortfall(
                    "minimum",
                    s.role,
                    f"{s.role}: {per_stream:.1f} tok/s per stream < {what} {need_tok_s:g}",
                    need_tok_s / per_stream if per_stream > 0 else math.inf,
                )
            )
        elif s.target_tok_s is not None and per_stream < s.target_tok_s:
            misses.append(
                Shortfall(
                    "target",
                    s.role,
                    f"{s.role}: {per_stream:.1f} tok/s per stream < target {s.target_tok_s:g}",
                    s.target_tok_s / per_stream if per_stream > 0 else math.inf,
                )
            )
    return misses


def _set_partitions(items: list[Serve]) -> Iterator[list[list[Serve]]]:
    if not items:
        yield []
        return
    head, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [head, *part[i]], *part[i + 1 :]]
        yield [[head], *part]


def _compositions(n: int, k: int) -> Iterator[tuple[int, ...]]:
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        yield tuple(bounds[i + 1] - bounds[i] for i in range(k))


def candidate_plans(serves: Sequence[Serve], units: int) -> Iterator[list[GroupSpec]]:
    """Every split of the roles into groups and of `units` units among the groups."""
    for part in _set_partitions(list(serves)):
        if len(part) > units:
            continue
        for sizes in _compositions(units, len(part)):
            yield [GroupSpec(u, tuple(block)) for u, block in zip(sizes, part, strict=True)]


def _plan_key(p: DeploymentPlan, main_role: str) -> tuple[Any, ...]:
    slack = min((g.usable_gib_per_unit - g.memory_gib_per_unit for g in p.groups), default=0.0)
    return (
        p.meets_minimums,
        p.meets_targets,
        p.fits,
        p.speed_of(main_role) if p.fits else slack,
        min((g.decode_tok_s_per_stream for g in p.groups), default=0.0),
    )


def best_plan(
    catalog: Catalog,
    platform_id: str,
    units: int,
    serves: Sequence[Serve],
    *,
    context_tokens: int = 32768,
    kv_dtype: str = "bf16",
    floors: Floors | None = None,
    _cache: _Cache | None = None,
) -> DeploymentPlan:
    """The best deployment plan of `serves` on `units` units (meets the minimums first,
    then the targets, then the fastest main agent). Raises ScenarioError if none is valid."""
    cache: _Cache = {} if _cache is None else _cache
    if _cache is None and kv_dtype in KV_DTYPES:  # (`plan` prefetches for its cache)
        _prefetch(catalog, {platform_id: [units]}, serves, context_tokens, kv_dtype, cache)
    best: DeploymentPlan | None = None
    first_error: ScenarioError | None = None
    main_role = serves[0].role
    for groups in candidate_plans(serves, units):
        try:
            p = evaluate_plan(
                catalog,
                platform_id,
                groups,
                context_tokens=context_tokens,
                kv_dtype=kv_dtype,
                floors=floors,
                _cache=cache,
            )
        except ScenarioError as exc:
            first_error = first_error or exc
            continue
        if best is None or _plan_key(p, main_role) > _plan_key(best, main_role):
            best = p
    if best is None:
        raise first_error or ScenarioError(f"no deployment plan for {units} x {platform_id}")
    return best


@dataclass(frozen=True)
class Candidate:
    """A configuration that meets every requirement (with `price_complete` False: that
    meets them if its unpriced parts fit in what is left of the budget)."""

    platform_id: str
    family: str
    units: int
    price_chf: float
    power_w_idle: float
    power_w_load: float
    energy_chf_per_year: float
    tco_chf: float  # price + years x energy (years: catalog default)
    raw_memory_gb: float
    meets_targets: bool
    plan: DeploymentPlan
    notes: list[str] = field(default_factory=list)
    price_complete: bool = True  # False: price_chf leaves out `unpriced_items`
    unpriced_items: list[str] = field(default_factory=list)
    oldest_price_date: datetime.date | None = None  # the oldest price in price_chf


@dataclass(frozen=True)
class Rejection:
    platform_id: str
    family: str
    units: int
    reasons: list[str]  # subset of REASONS, in that order
    detail: str
    price_chf: float | None
    price_complete: bool = True  # False: price_chf (if any) is a lower bound
    unpriced_items: list[str] = field(default_factory=list)
    floor_gap: float | None = None  # misses only speed/TTFT: by this factor (>= 1)


@dataclass(frozen=True)
class PlanResult:
    recommended: list[Candidate]  # complete prices cheapest first, then incomplete ones
    rejected: list[Rejection]
    families: dict[str, str]  # family without any recommendation -> why
    assumptions: list[str]
    floors: Floors = field(default_factory=Floors)
    closest: Rejection | None = None  # nothing recommended: the nearest miss on speed/TTFT

    def closest_text(self) -> str:
        """``"nothing meets 10 tok/s and 60 s; closest: 4 x X (CHF 11'102) misses: main
        agent: 7.0 tok/s per stream < floor 10"``; empty when something is recommended or
        nothing comes close (every configuration fails on memory, budget, power...)."""
        if self.recommended or self.closest is None:
            return ""
        c = self.closest
        price = (
            ""
            if c.price_chf is None
            else f" ({chf(c.price_chf, None)}"
            + ("" if c.price_complete else " + unpriced parts")
            + ")"
        )
        return (
            f"nothing meets every requirement with {self.floors.short_text()}; closest: "
            f"{c.units} x {c.platform_id}{price} misses: {c.detail}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["closest_text"] = self.closest_text()
        for c, cand in zip(d["recommended"], self.recommended, strict=True):
            c["plan"]["description"] = cand.plan.describe()
            c["oldest_price_date"] = (
                None if cand.oldest_price_date is None else cand.oldest_price_date.isoformat()
            )
        return d


def _detail_memory(plan: DeploymentPlan | None, error: str | None) -> str:
    if plan is None:
        return error or "no valid plan"
    bad = [g for g in plan.groups if not g.fits]
    return "; ".join(f"{g.model} {g.weights} on {g.unit_label}: {g.reason}" for g in bad) or (
        "does not fit"
    )


def plan(
    req: Requirements, catalog: Catalog, *, prices: Mapping[str, PriceQuote] | None = None
) -> PlanResult:
    """Rank the configurations meeting `req`, cheapest first; reject the rest with reasons.

    A configuration whose price is incomplete (parts outside the catalog; see the module
    docstring) is never said to meet the budget: rejected for ``budget`` if its known part
    exceeds it, else ranked after every complete-priced one with the note "price
    incomplete: <items> not priced".
    Raises RequirementsError (naming the field) for ids the catalog does not know.
    """
    check_requirements(req, catalog)
    serves = req.serves()
    ids = req.platforms or [p.id for p in catalog.platforms]
    sizes = sorted(set(req.units or DEFAULT_PLAN_UNITS))
    cost = running_cost(catalog, req.tariff, req.hours_at_load_per_day)
    floors = req.floors()
    recommended: list[Candidate] = []
    rejected: list[Rejection] = []
    boms = {pid: _boms(catalog, pid, sizes, prices) for pid in ids}
    cache: _Cache = {}
    if req.kv_dtype in KV_DTYPES:  # every instance of every platform and size in one pass
        buildable = {
            pid: [n for n in sizes if not isinstance(boms[pid][n], Exception)] for pid in ids
        }
        built = {(pid, n): bom for pid in ids for n, bom in boms[pid].items()}
        _prefetch(
            catalog, buildable, serves, req.context_tokens, req.kv_dtype, cache, prices, built
        )
    twins = _twins(catalog, ids)
    bests: dict[tuple[str, int], DeploymentPlan] = {}
    for pid in ids:
        p = catalog.platform(pid)
        for n in sizes:
            outcome = _judge(
                req, catalog, p, n, boms[pid][n], serves, floors, cost, cache, twins[pid], bests
            )
            if isinstance(outcome, Candidate):
                recommended.append(outcome)
            else:
                rejected.append(outcome)
    recommended.sort(
        key=lambda c: (
            not c.price_complete,
            c.price_chf,
            -c.plan.speed_of(serves[0].role),
            c.platform_id,
            c.units,
        )
    )
    families = _family_reasons(recommended, rejected)
    near = [r for r in rejected if r.floor_gap is not None]
    closest = min(
        near,
        key=lambda r: (
            r.floor_gap,
            not r.price_complete,
            r.price_chf if r.price_chf is not None else math.inf,
        ),
        default=None,
    )
    return PlanResult(
        recommended,
        rejected,
        families,
        _plan_assumptions(req, serves, floors, cost),
        floors,
        closest,
    )


def _boms(
    catalog: Catalog,
    pid: str,
    sizes: Sequence[int],
    prices: Mapping[str, PriceQuote] | None,
) -> dict[int, BillOfMaterials | TopologyError]:
    """The bill of materials of each unit count of `pid`, or why it cannot be built."""
    boms: dict[int, BillOfMaterials | TopologyError] = {}
    for n in sizes:
        try:
            boms[n] = bill_of_materials(catalog, pid, n, prices=prices)
        except TopologyError as exc:
            boms[n] = exc
    return boms


def _judge(
    req: Requirements,
    catalog: Catalog,
    p: Platform,
    n: int,
    bom: BillOfMaterials | TopologyError,
    serves: Sequence[Serve],
    floors: Floors,
    cost: RunningCost,
    cache: _Cache,
    twin: str,
    bests: dict[tuple[str, int], DeploymentPlan],
) -> Candidate | Rejection:
    """`n` units of platform `p`: a Candidate meeting `req`, or the Rejection with reasons.
    `twin`: the first of `p`'s twins (`_twins`); `bests`: the best plans found so far of
    first twins, by (platform id, units). A twin's best plan is its first twin's (the same
    estimates: `_prefetch`) on its own units; without one, it is searched for."""
    if isinstance(bom, TopologyError):
        return Rejection(p.id, p.family, n, ["unsupported"], str(bom), None)
    best: DeploymentPlan | None = bests.get((twin, n)) if twin != p.id else None
    error: str | None = None
    if best is not None:
        best = replace(  # (its own lists; the groups and misses are frozen)
            best,
            platform_id=p.id,
            groups=list(best.groups),
            shortfalls=list(best.shortfalls),
            misses=list(best.misses),
        )
    else:
        try:
            best = best_plan(
                catalog,
                p.id,
                n,
                serves,
                context_tokens=req.context_tokens,
                kv_dtype=req.kv_dtype,
                floors=floors,
                _cache=cache,
            )
        except ScenarioError as exc:
            error = str(exc)
        if best is not None and twin == p.id:
            bests[p.id, n] = best
    raw_gb = n * p.memory_gb
    reasons, details, slow_late = _plan_reasons(req, best, error, raw_gb)
    price = bom.total_chf
    unpriced = list(bom.unpriced_items)
    incomplete = f"price incomplete: {', '.join(unpriced)} not priced" if unpriced else ""
    _price_reasons(req, bom, reasons, details)
    if reasons or best is None or price is None:
        order = [r for r in REASONS if r in reasons]
        if incomplete:
            details.append(incomplete)
        gap = (
            max(m.gap for m in slow_late)
            if best is not None and best.fits and set(order) <= {"speed", "ttft"}
            else None
        )
        return Rejection(
            p.id,
            p.family,
            n,
            order,
            "; ".join(details),
            price,
            bom.price_complete,
            [*bom.missing_prices, *bom.unpriced_items],
            gap,
        )
    energy = cost.energy_chf_per_year(idle_w=bom.power_w_idle, load_w=bom.power_w_load)
    notes = [incomplete] if incomplete else []
    notes += [m.text for m in best.misses if m.kind == "target"]
    return Candidate(
        p.id,
        p.family,
        n,
        price,
        bom.power_w_idle,
        bom.power_w_load,
        energy,
        cost.tco_chf(price, energy),
        raw_gb,
        best.meets_targets,
        best,
        [*notes, f"topology: {bom.topology.design}"],
        not unpriced,
        unpriced,
        bom.oldest_price_date,
    )


def _plan_reasons(
    req: Requirements, best: DeploymentPlan | None, error: str | None, raw_gb: float
) -> tuple[list[str], list[str], list[Shortfall]]:
    """(reasons, details, speed and TTFT misses) of the best plan against `req`'s memory,
    speed and TTFT requirements (``raw_gb``: raw memory in GB)."""
    if best is None:
        return ["unsupported"], [error or "no plan"], []
    reasons: list[str] = []
    details: list[str] = []
    if not best.fits:
        reasons.append("memory")
        details.append(_detail_memory(best, error))
    if req.min_memory_gb is not None and raw_gb < req.min_memory_gb:
        if "memory" not in reasons:
            reasons.append("memory")
        details.append(f"{raw_gb:g} GB raw memory < required {req.min_memory_gb:g} GB")
    slow = [m for m in best.misses if m.kind == "minimum"]
    late = [m for m in best.misses if m.kind == "ttft"]
    if best.fits and slow:
        reasons.append("speed")
        details.append("; ".join(m.text for m in slow))
    if best.fits and late:
        reasons.append("ttft")
        details.append("; ".join(m.text for m in late))
    return reasons, details, [*slow, *late]


def _price_reasons(
    req: Requirements, bom: BillOfMaterials, reasons: list[str], details: list[str]
) -> None:
    """Append the price, budget (CHF) and power cap (W) reasons to `reasons`/`details`."""
    price = bom.total_chf
    if price is None:
        reasons.append("price")
        details.append("no price known for: " + ", ".join(bom.missing_prices))
    elif price > req.budget_chf.max:
        reasons.append("budget")
        details.append(
            f"{chf(price, None)}{' + unpriced parts' if bom.unpriced_items else ''}"
            f" > budget {chf(req.budget_chf.max, None)}"
        )
    if req.power_cap_w is not None and bom.power_w_load > req.power_cap_w:
        reasons.append("power")
        details.append(f"{bom.power_w_load:.0f} W at load > cap {req.power_cap_w:g} W")


def _plan_assumptions(
    req: Requirements, serves: Sequence[Serve], floors: Floors, cost: RunningCost
) -> list[str]:
    """The assumptions of a plan, in words."""
    return [
        "streams: " + ", ".join(f"{s.role} {s.streams} x {s.model} {s.weights}" for s in serves),
        f"context {req.context_tokens} tokens per stream, KV cache {req.kv_dtype}",
        "co-located models: memory adds up; when all decode at once each stream runs at "
        "1/sum(1/v) of the models' solo speeds (worst case)",
        "speeds: sizing.estimate at the plan's batch sizes; minimum speeds are hard limits, "
        "targets are reported (meets_targets)",
        f"floors: every stream {floors.text()} (central estimate, not the band's ends; "
        "the larger of a role's minimum and the floor counts; TTFT of a full-context "
        "request on the instance alone)",
        f"energy: {cost.hours_at_load_per_day:g} h/day at load, the rest idle, "
        f"{cost.rappen_per_kwh:g} Rp/kWh ({cost.tariff_id}); TCO over {cost.years:g} years",
        "budget: bill-of-materials total (units, hosts, switch, cables) vs budget_chf.max; "
        "a configuration needing parts outside the catalog (price incomplete) is ranked "
        "after every complete-priced one and never counted as within budget",
    ]


def _family_reasons(recommended: list[Candidate], rejected: list[Rejection]) -> dict[str, str]:
    ok = {c.family for c in recommended}
    out: dict[str, str] = {}
    by_family: dict[str, list[Rejection]] = {}
    for r in rejected:
        if r.family not in ok:
            by_family.setdefault(r.family, []).append(r)
    for fam, rejs in by_family.items():
        parts = []
        by_reason: dict[tuple[str, ...], list[Rejection]] = {}
        for r in rejs:
            by_reason.setdefault(tuple(r.reasons), []).append(r)
        for reasons, group in by_reason.items():
            example = min(group, key=lambda r: (r.units, r.price_chf or math.inf))
            parts.append(
                f"{' + '.join(reasons)} in {len(group)} configuration(s), e.g. "
                f"{example.units} x {example.platform_id}: {example.detail}"
            )
        out[fam] = "; ".join(parts)
    return out


__all__ = [
    "DEFAULT_PLAN_UNITS",
    "REASONS",
    "Candidate",
    "DeploymentPlan",
    "GroupSpec",
    "PlanResult",
    "Rejection",
    "ServingGroup",
    "Shortfall",
    "best_plan",
    "candidate_plans",
    "evaluate_plan",
    "plan",
]
