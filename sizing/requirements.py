"""A buyer's requirements: the schema of a requirements file, loading and validation.

`parse_requirements` / `load_requirements` validate a mapping or a YAML file against the
schema (`Requirements`: agents, sub-agents, vision, budget, power cap, floors);
`check_requirements` checks ids and limits against the catalog. Every error is a one-line
`RequirementsError` naming the field. The planner that meets them is `sizing.planner`.

Requirements files are strict: numbers must be finite numbers (``true`` is not 1,
``.inf`` is not a speed), and a key given twice is an error naming the key and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from sizing import limits
from sizing.catalog import Catalog, UnknownIdError, read_yaml_file
from sizing.scenario import ScenarioError
from sizing.workload import DEFAULT_MAX_TTFT_S, DEFAULT_MIN_TOK_S_PER_STREAM, Floors

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PosFloat = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
StrictInt = Annotated[int, Strict()]


@dataclass(frozen=True)
class Serve:
    """One role to serve: model, weights, concurrent streams, per-stream tok/s floor/target."""

    role: str
    model: str
    weights: str
    streams: int = 1
    min_tok_s: float = 0.0
    target_tok_s: float | None = None


class RequirementsError(ScenarioError):
    """A requirements file or value is invalid; the one-line message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AgentRequirement(_Strict):
    """A model that must be served: per-stream decode speed floor and target (tok/s)."""

    model: str = Field(min_length=1)
    weights: str = Field(min_length=1)
    min_tok_s: PosFloat
    target_tok_s: PosFloat | None = None
    streams: StrictInt = Field(1, ge=1, le=1024)

    @model_validator(mode="after")
    def _target_ge_min(self) -> AgentRequirement:
        if self.target_tok_s is not None and self.target_tok_s < self.min_tok_s:
            raise ValueError(
                f"target_tok_s ({self.target_tok_s:g}) is below min_tok_s ({self.min_tok_s:g})"
            )
        return self


class SubAgentsRequirement(_Strict):
    """Sub-agents: `count` concurrent streams of one model (at least)."""

    model: str = Field(min_length=1)
    weights: str = Field(min_length=1)
    count: StrictInt = Field(ge=1, le=1024)
    min_tok_s: PosFloat
    target_tok_s: PosFloat | None = None

    @model_validator(mode="after")
    def _target_ge_min(self) -> SubAgentsRequirement:
        if self.target_tok_s is not None and self.target_tok_s < self.min_tok_s:
            raise ValueError(
                f"target_tok_s ({self.target_tok_s:g}) is below min_tok_s ({self.min_tok_s:g})"
            )
        return self


class Budget(_Strict):
    """CHF. Only `max` rejects configurations; `min` is kept for the report."""

    max: PosFloat
    min: NonNegFloat | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Budget:
        if self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) exceeds max ({self.max:g})")
        return self


class Requirements(_Strict):
    """What a buyer needs (the planner's YAML input; unknown keys are rejected).

    concurrent_streams: total streams at peak; the streams beyond the main agent's and
    the vision model's go to the sub-agents (at least `sub_agents.count`), or to the main
    agent when there are no sub-agents.
    """

    main_agent: AgentRequirement
    sub_agents: SubAgentsRequirement | None = None
    vision: AgentRequirement | None = None
    concurrent_streams: StrictInt | None = Field(
        None, ge=limits.CONCURRENCY_MIN, le=limits.CONCURRENCY_MAX
    )
    context_tokens: StrictInt = Field(
        32768, ge=limits.CONTEXT_TOKENS_MIN, le=limits.CONTEXT_TOKENS_MAX
    )
    kv_dtype: Literal["bf16", "fp8"] = "bf16"
    budget_chf: Budget
    power_cap_w: PosFloat | None = None
    min_memory_gb: PosFloat | None = None
    platforms: list[str] | None = Field(None, min_length=1)
    units: (
        list[Annotated[int, Strict(), Field(ge=limits.UNITS_MIN, le=limits.UNITS_MAX)]] | None
    ) = Field(None, min_length=1)
    tariff: str | None = None
    hours_at_load_per_day: Annotated[NonNegFloat, Field(le=24)] | None = None
    min_tok_s_per_stream: Annotated[NonNegFloat, Field(le=100_000)] = DEFAULT_MIN_TOK_S_PER_STREAM
    max_ttft_s: Annotated[NonNegFloat, Field(le=1_000_000)] = DEFAULT_MAX_TTFT_S

    def floors(self) -> Floors:
        """The speed floor and TTFT ceiling every stream must meet (0 = none)."""
        return Floors(min_tok_s_per_stream=self.min_tok_s_per_stream, max_ttft_s=self.max_ttft_s)

    @model_validator(mode="after")
    def _streams(self) -> Requirements:
        fixed = (
            self.main_agent.streams
            + (self.vision.streams if self.vision else 0)
            + (self.sub_agents.count if self.sub_agents else 0)
        )
        if self.concurrent_streams is not None and self.concurrent_streams < fixed:
            raise ValueError(
                f"concurrent_streams ({self.concurrent_streams}) is below the "
                f"streams listed for the agents ({fixed})"
            )
        return self

    def serves(self) -> list[Serve]:
        """The model instances to place, with their streams (see class docstring)."""
        main, sub, vis = self.main_agent, self.sub_agents, self.vision
        vis_streams = vis.streams if vis else 0
        total = self.concurrent_streams or 0
        main_streams = main.streams
        if sub is None:
            main_streams = max(main.streams, total - vis_streams)
        out = [
            Serve(
                "main agent",
                main.model,
                main.weights,
                main_streams,
                main.min_tok_s,
                main.target_tok_s,
            )
        ]
        if sub is not None:
            sub_streams = max(sub.count, total - main.streams - vis_streams)
            out.append(
                Serve(
                    "sub-agents",
                    sub.model,
                    sub.weights,
                    sub_streams,
                    sub.min_tok_s,
                    sub.target_tok_s,
                )
            )
        if vis is not None:
            out.append(
                Serve(
                    "vision", vis.model, vis.weights, vis.streams, vis.min_tok_s, vis.target_tok_s
                )
            )
        return out


def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_requirements(data: Any, *, filename: str = "requirements") -> Requirements:
    """Validate loaded YAML; RequirementsError names the file and the field."""
    if not isinstance(data, dict):
        raise RequirementsError(f"{filename}: top level must be a mapping")
    try:
        return Requirements.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not allowed)"
        elif isinstance(got, bool) and err["type"] in ("float_type", "int_type"):
            kind = "a number" if err["type"] == "float_type" else "an integer"
            msg = f"must be {kind}, not a boolean (got {str(got).lower()})"
        elif err["type"] == "finite_number":
            msg = f"must be a finite number (got {got})"
        # model-level checks name their field at the start of the message
        raise RequirementsError(
            f"{filename}: {where}: {msg}" if where else f"{filename}: {msg}"
        ) from None


def load_requirements(path: str | Path) -> Requirements:
    """Read and validate a requirements YAML file."""
    path = Path(path)
    return parse_requirements(read_yaml_file(path, RequirementsError), filename=path.name)


def check_requirements(req: Requirements, catalog: Catalog) -> None:
    """Check ids and limits against the catalog; RequirementsError names the field."""
    agents: list[tuple[str, Any]] = [("main_agent", req.main_agent)]
    if req.sub_agents:
        agents.append(("sub_agents", req.sub_agents))
    if req.vision:
        agents.append(("vision", req.vision))
    for name, a in agents:
        m = _known(catalog.model, a.model, f"{name}.model")
        _known(catalog.quant, a.weights, f"{name}.weights")
        if req.context_tokens > m.max_context_tokens:
            raise RequirementsError(
                f"context_tokens: {req.context_tokens} exceeds {m.id}'s "
                f"maximum of {m.max_context_tokens} tokens"
            )
    for i, pid in enumerate(req.platforms or []):
        _known(catalog.platform, pid, f"platforms[{i}]")
    if req.tariff is not None:
        _known(catalog.tariff, req.tariff, "tariff")


_T = TypeVar("_T")


def _known(lookup: Callable[[str], _T], catalog_id: str, where: str) -> _T:
    """``lookup(catalog_id)``; an unknown id is a RequirementsError naming `where`."""
    try:
        return lookup(catalog_id)
    except UnknownIdError as exc:
        raise RequirementsError(f"{where}: {exc}") from None


__all__ = [
    "AgentRequirement",
    "Budget",
    "Requirements",
    "RequirementsError",
    "Serve",
    "SubAgentsRequirement",
    "check_requirements",
    "load_requirements",
    "parse_requirements",
]
