"""What to run and which configuration wins, without tables: the part of `sizing.compare`
that `sizing.planner` and the command line need (`sizing.compare` re-exports every name).

`Workload` (model, weights and load), `best_estimate` (the layout rule: every layout the
engine supports for a unit count is estimated; among those that fit, the highest decode
tok/s per request wins), `Floors` (the speed floor and TTFT ceiling) and the ranking rules.
No pandas here (tests/test_layers.py): a single estimate or a plan loads no table library;
`sizing.compare` builds the DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sizing.estimate import Estimate, estimate_many
from sizing.scenario import PARALLEL_CHOICES, Scenario, ScenarioError
from sizing.topology import allowed_parallel, check_parallel

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sizing.bom import BillOfMaterials
    from sizing.catalog import Catalog, ModelArch
    from sizing.money import PriceQuote

OS_RESERVE_GB = 100.0  # ASSUMPTION: OS, containers (vLLM/NGC images ~15-30 GB each), caches


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
    speculative: str = "none"  # none | mtp | eagle | draft (sizing.speculative)
    spec_draft_tokens: int | None = None
    spec_content: str = "prose"
    spec_accept: float | None = None  # the user's own rate (a draft model)
    spec_draft_model: str | None = None
    cuda_graphs: bool | None = None  # None: the engine's default (on for vLLM/SGLang/TRT)
    # catalog transport id for the platforms that offer it (the rest keep their default)
    transport: str | None = None


def offered_transport(w: Workload, catalog: Catalog, platform_id: str) -> str | None:
    """The workload's transport where `platform_id`'s interconnect offers it, else None
    (the platform's default): one --transport across a comparison of platforms."""
    ic = catalog.platform(platform_id).interconnect
    return w.transport if ic is not None and w.transport in ic.transports else None


def check_transport(w: Workload, catalog: Catalog, platform_ids: Sequence[str]) -> None:
    """ScenarioError (one line) when the workload names a transport no platform of
    `platform_ids` offers (or one the catalog does not know)."""
    if w.transport is None:
        return
    known = [t.id for t in catalog.transports]
    if w.transport not in known:
        raise ScenarioError(f"unknown transport '{w.transport}'; valid choices: {', '.join(known)}")
    if not any(offered_transport(w, catalog, pid) for pid in platform_ids):
        raise ScenarioError(
            f"transport '{w.transport}' is not offered by any compared "
            f"platform ({', '.join(platform_ids)})"
        )


def scenario_for(
    w: Workload,
    platform_id: str,
    units: int,
    parallel: str,
    engine: str | None = None,
    transport: str | None = None,
) -> Scenario:
    """The `Scenario` of a workload on ``units`` x ``platform_id`` in one layout
    (``engine`` overrides the workload's; ``transport`` None = the platform's default)."""
    return Scenario(
        platform=platform_id,
        units=units,
        parallel=parallel,
        model=w.model,
        weights=w.weights,
        kv_dtype=w.kv_dtype,
        engine=engine or w.engine,
        context_tokens=w.context_tokens,
        concurrency=w.concurrency,
        mem_util=w.mem_util,
        speculative_multiplier=w.speculative_multiplier,
        speculative=w.speculative,
        spec_draft_tokens=w.spec_draft_tokens,
        spec_content=w.spec_content,
        spec_accept=w.spec_accept,
        cuda_graphs=w.cuda_graphs,
        transport=transport,
        spec_draft_model=w.spec_draft_model,
    )


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


def best_estimate(
    workload: Workload,
    catalog: Catalog,
    platform_id: str,
    units: int,
    *,
    parallel: str | Sequence[str] | None = None,
    model: ModelArch | None = None,
    prices: Mapping[str, PriceQuote] | None = None,
    engine: str | None = None,
) -> Estimate:
    """The estimate of the best layout (module rule) among `parallel` (one layout or
    several; default: all of `layouts(...)`).

    When nothing fits, returns the valid layout with the most memory headroom (fits=False).
    Raises ScenarioError when no layout is valid (the first layout's message).
    """
    (result,) = best_estimates(
        [(workload, platform_id, units, parallel)],
        catalog,
        model=model,
        prices=prices,
        engine=engine,
    )
    if isinstance(result, ScenarioError):
        raise result
    return result


BestRequest = tuple[Workload, str, int, "str | Sequence[str] | None"]
"""(workload, platform id, units, parallel) for `best_estimates`."""


def _layouts_to_try(
    catalog: Catalog, platform_id: str, units: int, parallel: str | Sequence[str] | None
) -> tuple[str, ...]:
    """The layouts `best_estimate` estimates; ScenarioError for an unknown or impossible
    forced layout."""
    wanted = (parallel,) if isinstance(parallel, str) else parallel
    for par in wanted or ():
        if par not in PARALLEL_CHOICES:
            raise ScenarioError(
                f"unknown parallel '{par}'; valid choices: {', '.join(PARALLEL_CHOICES)}"
            )
    allowed = layouts(catalog, platform_id, units)
    if wanted and units > 1:
        for par in wanted:
            check_parallel(catalog, platform_id, units, par)
        allowed = tuple(wanted)
    return allowed


def best_estimates(
    requests: Sequence[BestRequest],
    catalog: Catalog,
    *,
    model: ModelArch | None = None,
    prices: Mapping[str, PriceQuote] | None = None,
    engine: str | None = None,
    boms: Mapping[tuple[str, int], BillOfMaterials | ScenarioError] | None = None,
) -> list[Estimate | ScenarioError]:
    """`best_estimate` of each request, in order, every layout of every request evaluated in
    one vectorized pass (`sizing.estimate.estimate_many`); a request with no valid layout
    yields its ScenarioError in its place. Same results as one `best_estimate` per request
    (the kernel works row by row), without paying the per-call overhead for each layout.
    `boms`: bills of materials already built with these prices (`estimate_many`)."""
    out: list[Estimate | ScenarioError | None] = [None] * len(requests)
    scenarios: list[Scenario] = []
    spans: list[tuple[int, int, int]] = []  # (request, first scenario, layouts)
    for i, (w, pid, units, parallel) in enumerate(requests):
        try:
            allowed = _layouts_to_try(catalog, pid, units, parallel)
        except ScenarioError as exc:
            out[i] = exc
            continue
        spans.append((i, len(scenarios), len(allowed)))
        transport = offered_transport(w, catalog, pid)
        scenarios += [scenario_for(w, pid, units, par, engine, transport) for par in allowed]
    results = (
        estimate_many(scenarios, catalog, models=[model] * len(scenarios), prices=prices, boms=boms)
        if scenarios
        else []
    )
    for i, start, count in spans:
        out[i] = _best_of(results[start : start + count])
    return [o for o in out if o is not None]


def _best_of(candidates: Sequence[Estimate | ScenarioError]) -> Estimate | ScenarioError:
    """The layout rule over one configuration's layouts (in `layouts` order): the fastest
    fitting one, else the one with the most headroom; the first error when none is valid."""
    results: list[tuple[int, Estimate]] = []
    first_error: ScenarioError | None = None
    for rank, e in enumerate(candidates):
        if isinstance(e, ScenarioError):
            first_error = first_error or e
            continue
        results.append((rank, e))
    if not results:
        assert first_error is not None
        return first_error
    fitting = [(r, e) for r, e in results if e.fits]
    if fitting:
        return max(
            fitting,
            key=lambda re: (
                re[1].speed.decode_tok_s_per_request,
                effective_total_tok_s(re[1]),
                -re[0],
            ),
        )[1]
    return max(results, key=lambda re: (re[1].fit.headroom_gib_per_unit, -re[0]))[1]


# ----------------------------------------------------------------------------- floors
DEFAULT_MIN_TOK_S_PER_STREAM = 10.0  # ASSUMPTION (issue 15): below ~10 tok/s a person waits
#                                      on every line; an agent loop crawls
DEFAULT_MAX_TTFT_S = 60.0  # ASSUMPTION (issue 15): a minute to the first token of a
#                                      full-context request is the most a session tolerates
FLOOR_MISSES: tuple[str, ...] = ("speed", "ttft")


@dataclass(frozen=True, kw_only=True)
class Floors:
    """What makes a configuration usable: decode tok/s per stream at least
    ``min_tok_s_per_stream`` and time to first token (s, full context) at most
    ``max_ttft_s``; 0 switches a floor off. Tested on the central estimate."""

    min_tok_s_per_stream: float = DEFAULT_MIN_TOK_S_PER_STREAM
    max_ttft_s: float = DEFAULT_MAX_TTFT_S

    def __post_init__(self) -> None:
        for name in ("min_tok_s_per_stream", "max_ttft_s"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ScenarioError(
                    f"{name} must be a finite number >= 0 (0 = none), got {value!r}"
                )

    @property
    def active(self) -> bool:
        return self.min_tok_s_per_stream > 0 or self.max_ttft_s > 0

    def misses(self, decode_tok_s_per_stream: float, ttft_s: float) -> list[str]:
        """Which floors a fitting configuration misses ("speed", "ttft"); NaN misses."""
        out = []
        if self.min_tok_s_per_stream > 0 and not (
            decode_tok_s_per_stream >= self.min_tok_s_per_stream
        ):
            out.append("speed")
        if self.max_ttft_s > 0 and not ttft_s <= self.max_ttft_s:
            out.append("ttft")
        return out

    def shortfall(self, decode_tok_s_per_stream: float, ttft_s: float) -> float:
        """How far from the floors, as a factor >= 1 (1 = meets both): the larger of
        floor / speed and TTFT / ceiling. Used to find the closest configuration."""
        f = 1.0
        if self.min_tok_s_per_stream > 0:
            f = max(
                f,
                self.min_tok_s_per_stream / decode_tok_s_per_stream
                if decode_tok_s_per_stream > 0
                else math.inf,
            )
        if self.max_ttft_s > 0:
            f = max(f, ttft_s / self.max_ttft_s if ttft_s == ttft_s else math.inf)
        return f

    def text(self) -> str:
        """``"≥10 tok/s per stream and TTFT ≤ 60 s"`` (or "no speed or TTFT floor")."""
        return self._joined("≥{:g} tok/s per stream", "TTFT ≤ {:g} s", "no speed or TTFT floor")

    def short_text(self) -> str:
        """``"10 tok/s and 60 s"``."""
        return self._joined("{:g} tok/s", "{:g} s", "no floor")

    def _joined(self, speed: str, ttft: str, none: str) -> str:
        """The floors that are set, each in its format, joined with "and"."""
        parts = [
            fmt.format(v)
            for fmt, v in ((speed, self.min_tok_s_per_stream), (ttft, self.max_ttft_s))
            if v > 0
        ]
        return " and ".join(parts) if parts else none


# the orders of `sizing.compare.rank` (and `compare --rank`, `best_choice`)
RANK_RULES: tuple[str, ...] = ("cheapest", "fastest", "chf_per_tok_s", "tco")


__all__ = [
    "DEFAULT_MAX_TTFT_S",
    "DEFAULT_MIN_TOK_S_PER_STREAM",
    "FLOOR_MISSES",
    "OS_RESERVE_GB",
    "RANK_RULES",
    "Floors",
    "Workload",
    "best_estimate",
    "best_estimates",
    "effective_total_tok_s",
    "layouts",
    "scenario_for",
]
