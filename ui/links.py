"""Link parameters: every shareable input as a :class:`Param`, parsed strictly (pure, no
Streamlit).

Every input that shapes a view is a :class:`Param` in :data:`PARAMS`: a whitelisted key,
a type, bounds or catalog choices and a default. A link carries the inputs as plain text
(``?model=openai/gpt-oss-120b&units=1,2,4``); nothing from a URL is ever unpickled or
evaluated. Unknown keys, unknown ids, unparsable numbers and out-of-bounds values are
ignored and reported as warnings that the page shows (:func:`parse_query`,
:func:`encode_query`). The session glue that applies them is `ui.state`. Tested in
tests/ui/test_state.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sizing import limits
from sizing.catalog import Catalog
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES
from sizing.speculative import CONTENT_TYPES, SPEC_METHODS
from sizing.workload import DEFAULT_MAX_TTFT_S, DEFAULT_MIN_TOK_S_PER_STREAM

Kind = Literal["str", "int", "float", "bool", "ints", "strs"]
MAX_RAW_LEN = 400  # longer query values are garbage by construction

Choices = Callable[[Catalog], Sequence[str]] | tuple[str, ...] | None
Default = Callable[[Catalog], Any] | Any

RANK_CHOICES: tuple[str, ...] = ("cheapest", "fastest", "chf_per_tok_s", "tco")
METRIC_CHOICES: tuple[str, ...] = ("per_stream", "total")
DESIGN_CHOICES: tuple[str, ...] = ("auto", "direct", "switch")
REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
PLAN_RE = re.compile(r"^[1-9][0-9]?(m|s|ms|sm)(\+[1-9][0-9]?(m|s|ms|sm)){0,15}$")


@dataclass(frozen=True)
class Param:
    """One shareable input: query key == session-state key (``w_`` + name for widgets)."""

    name: str
    kind: Kind
    default: Default
    choices: Choices = None
    lo: float | None = None
    hi: float | None = None
    max_items: int = 10
    pattern: re.Pattern[str] | None = None
    label: str = ""

    def default_value(self, catalog: Catalog) -> Any:
        value = self.default(catalog) if callable(self.default) else self.default
        return list(value) if isinstance(value, list | tuple) else value

    def allowed(self, catalog: Catalog) -> Sequence[str] | None:
        if self.choices is None:
            return None
        return self.choices(catalog) if callable(self.choices) else self.choices


def _model_ids(c: Catalog) -> list[str]:
    return [m.id for m in c.models]


def _platform_ids(c: Catalog) -> list[str]:
    return [p.id for p in c.platforms]


def _families(c: Catalog) -> list[str]:
    return list(dict.fromkeys(p.family for p in c.platforms))


def _quant_ids(c: Catalog) -> list[str]:
    return [q.id for q in c.quantizations]


def _tariff_ids(c: Catalog) -> list[str]:
    return [t.id for t in c.tariffs]


def _item_ids(c: Catalog) -> list[str]:
    return [i.id for i in c.priced_items()]


def _memory_setting_ids(c: Catalog) -> list[str]:
    return c.memory_setting_ids()


def default_platform(c: Catalog, family: str | None = None) -> str:
    """Cheapest catalog-priced platform of ``family`` (default: the first family)."""
    family = family or c.platforms[0].family
    own = [p for p in c.platforms if p.family == family]
    priced = [p for p in own if p.price is not None]
    return min(priced, key=lambda p: p.price.chf).id if priced else own[0].id  # type: ignore[union-attr]


PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        # workload (Compare, Build, Fit)
        Param("model", "str", "openai/gpt-oss-120b", _model_ids, label="model"),
        Param("repo", "str", "", pattern=REPO_RE, label="Hugging Face repo id"),
        Param("weights", "str", "mxfp4", _quant_ids, label="quantization"),
        Param("kv", "str", "bf16", KV_DTYPES, label="KV cache dtype"),
        Param("engine", "str", "auto", ("auto", *ENGINE_CHOICES), label="engine"),
        Param(
            "ctx",
            "int",
            32768,
            lo=limits.CONTEXT_TOKENS_MIN,
            hi=limits.CONTEXT_TOKENS_MAX,
            label="context (tokens)",
        ),
        Param("spec", "str", "none", SPEC_METHODS, label="speculative decoding"),
        Param("spec_k", "int", 3, lo=1, hi=16, label="draft tokens per step"),
        Param("content", "str", "prose", CONTENT_TYPES, label="generated content"),
        Param("spec_draft", "str", lambda c: c.models[0].id, _model_ids, label="draft model"),
        Param("spec_accept", "float", 0.7, lo=0.0, hi=0.999, label="draft acceptance per token"),
        Param(
            "streams",
            "int",
            1,
            lo=limits.CONCURRENCY_MIN,
            hi=limits.CONCURRENCY_MAX,
            label="concurrent streams",
        ),
        # hardware
        Param("family", "str", lambda c: c.platforms[0].family, _families, label="platform family"),
        Param("platform", "str", lambda c: default_platform(c), _platform_ids, label="platform"),
        Param(
            "units",
            "ints",
            lambda c: list(c.defaults.cluster_sizes),
            lo=limits.UNITS_MIN,
            hi=limits.UNITS_MAX,
            max_items=8,
            label="cluster sizes",
        ),
        Param("parallel", "str", "auto", ("auto", *PARALLEL_CHOICES), label="layout"),
        Param("graphs", "str", "auto", ("auto", "on", "off"), label="CUDA graphs"),
        # "auto" = each platform's default (RoCE on GB10); applied where a platform offers it
        Param(
            "transport",
            "str",
            "auto",
            lambda c: ("auto", *(t.id for t in c.transports)),
            label="transport",
        ),
        # "" = the platform's default; applied to every platform that lists the id
        Param("mem", "str", "", _memory_setting_ids, label="memory setting"),
        Param("alt", "bool", True, label="alternatives"),
        Param("fitonly", "bool", False, label="only configurations that fit"),
        Param("rank", "str", "cheapest", RANK_CHOICES, label="best option rule"),
        Param("metric", "str", "per_stream", METRIC_CHOICES, label="speed metric"),
        # floors of the best option and the planner (sizing.compare.Floors; 0 = none)
        Param(
            "min_tok_s",
            "float",
            DEFAULT_MIN_TOK_S_PER_STREAM,
            lo=0,
            hi=100_000,
            label="minimum decode tok/s per stream",
        ),
        Param(
            "max_ttft_s",
            "float",
            DEFAULT_MAX_TTFT_S,
            lo=0,
            hi=1_000_000,
            label="maximum time to first token (s)",
        ),
        # costs
        Param(
            "tariff", "str", lambda c: c.defaults.tariff, _tariff_ids, label="electricity tariff"
        ),
        Param(
            "hours",
            "float",
            lambda c: c.defaults.hours_at_load_per_day,
            lo=limits.HOURS_MIN,
            hi=limits.HOURS_MAX,
            label="hours at load per day",
        ),
        # build
        Param("n", "int", 2, lo=limits.UNITS_MIN, hi=limits.UNITS_MAX, label="units to build"),
        Param("design", "str", "auto", DESIGN_CHOICES, label="network design"),
        Param("plan", "str", "", pattern=PLAN_RE, label="deployment plan"),
        Param("sub_model", "str", "openai/gpt-oss-20b", _model_ids, label="sub-agent model"),
        Param("sub_weights", "str", "mxfp4", _quant_ids, label="sub-agent quantization"),
        Param("sub_count", "int", 2, lo=0, hi=1024, label="sub-agent streams"),
        # plan (requirements)
        Param("req_model", "str", "openai/gpt-oss-120b", _model_ids, label="main-agent model"),
        Param("req_weights", "str", "mxfp4", _quant_ids, label="main-agent quantization"),
        Param("req_streams", "int", 1, lo=1, hi=1024, label="main-agent streams"),
        Param("req_min", "float", 20.0, lo=0.1, hi=100_000, label="main-agent min tok/s"),
        Param("req_target", "float", 0.0, lo=0, hi=100_000, label="main-agent target tok/s"),
        Param("req_sub_count", "int", 0, lo=0, hi=1024, label="sub-agent streams"),
        Param("req_sub_model", "str", "openai/gpt-oss-20b", _model_ids, label="sub-agent model"),
        Param("req_sub_weights", "str", "mxfp4", _quant_ids, label="sub-agent quantization"),
        Param("req_sub_min", "float", 15.0, lo=0.1, hi=100_000, label="sub-agent min tok/s"),
        Param(
            "req_ctx",
            "int",
            32768,
            lo=limits.CONTEXT_TOKENS_MIN,
            hi=limits.CONTEXT_TOKENS_MAX,
            label="required context",
        ),
        Param("req_kv", "str", "bf16", KV_DTYPES, label="KV cache dtype"),
        Param("budget", "int", 10_000, lo=1, hi=10_000_000, label="budget (CHF)"),
        Param("power_cap", "int", 0, lo=0, hi=100_000, label="power cap (W)"),
        Param("min_mem", "int", 0, lo=0, hi=100_000, label="minimum raw memory (GB)"),
        Param("req_families", "strs", _families, _families, max_items=10, label="families"),
        Param(
            "req_units",
            "ints",
            lambda _c: list(range(1, 9)),
            lo=1,
            hi=64,
            max_items=12,
            label="unit counts",
        ),
        # fit
        Param(
            "fit_quants",
            "strs",
            lambda _c: ["bf16", "fp8", "nvfp4", "mxfp4", "int4", "q4_k_m"],
            _quant_ids,
            max_items=8,
            label="quantizations",
        ),
        Param(
            "min_ctx",
            "int",
            32768,
            lo=limits.CONTEXT_TOKENS_MIN,
            hi=limits.CONTEXT_TOKENS_MAX,
            label="minimum context",
        ),
        # prices
        Param("item", "str", "", _item_ids, label="price item"),
    )
}


# --------------------------------------------------------------------------- pure parsing
class ParamError(ValueError):
    """A query value that cannot be used; the message is shown to the user."""


def _number(param: Param, text: str, cast: type) -> float | int:
    try:
        value = cast(text)
    except (TypeError, ValueError):
        raise ParamError(f"'{param.name}': {text!r} is not a valid {cast.__name__}") from None
    if cast is float and value != value:  # NaN
        raise ParamError(f"'{param.name}': not a number")
    too_low = param.lo is not None and value < param.lo
    too_high = param.hi is not None and value > param.hi
    if too_low or too_high:
        raise ParamError(
            f"'{param.name}': {value} is outside {param.lo or 0:g}…"
            f"{param.hi if param.hi is not None else math.inf:g}"
        )
    return value


def _choice(param: Param, text: str, catalog: Catalog) -> str:
    allowed = param.allowed(catalog)
    if allowed is not None:
        if text in allowed:
            return text
        lowered = {a.lower(): a for a in allowed}
        if text.lower() in lowered:
            return lowered[text.lower()]
        if param.name in ("model", "req_models"):  # model variants resolve to their base id
            try:
                return catalog.model(text).id
            except KeyError:
                pass
        raise ParamError(f"'{param.name}': unknown value {text!r}")
    if param.name == "plan":  # a literal '+' in a pasted URL arrives as a space
        text = re.sub(r"[\s+]+", "+", text)
    if param.pattern is not None and text and not param.pattern.match(text):
        raise ParamError(f"'{param.name}': {text!r} is not in the expected form")
    return text


def _yes_no(param: Param, text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ParamError(f"'{param.name}': {text!r} is not a yes/no value")


def _list(param: Param, text: str, catalog: Catalog) -> list[Any]:
    """A comma-separated "ints"/"strs" value: ints sorted and unique, strs in order."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ParamError(f"'{param.name}': empty list")
    if len(parts) > param.max_items:
        raise ParamError(f"'{param.name}': more than {param.max_items} values")
    if param.kind == "ints":
        return sorted({int(_number(param, p, int)) for p in parts})
    return list(dict.fromkeys(_choice(param, p, catalog) for p in parts))


def parse_value(param: Param, raw: str | Sequence[str], catalog: Catalog) -> Any:
    """Parse one query value strictly; raise :class:`ParamError` with a readable message."""
    text = raw[-1] if isinstance(raw, list | tuple) else raw
    if not isinstance(text, str):
        raise ParamError(f"'{param.name}': not text")
    text = text.strip()
    if len(text) > MAX_RAW_LEN:
        raise ParamError(f"'{param.name}': value too long")
    match param.kind:
        case "int":
            return int(_number(param, text, int))
        case "float":
            return float(_number(param, text, float))
        case "bool":
            return _yes_no(param, text)
        case "ints" | "strs":
            return _list(param, text, catalog)
        case _:
            return _choice(param, text, catalog)


def parse_query(
    query: Mapping[str, str | Sequence[str]],
    catalog: Catalog,
    *,
    params: Mapping[str, Param] = PARAMS,
) -> tuple[dict[str, Any], list[str]]:
    """(valid values by name, warnings) from a query mapping; never raises."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key, raw in query.items():
        param = params.get(key)
        if param is None:
            shown = key if len(key) <= 40 else key[:40] + "…"
            warnings.append(f"ignored unknown link parameter {shown!r}")
            continue
        try:
            values[key] = parse_value(param, raw, catalog)
        except ParamError as exc:
            warnings.append(f"ignored link parameter {exc}")
    if "platform" in values:  # the platform is more specific than the family: it wins
        values["family"] = catalog.platform(values["platform"]).family
    return values, warnings


def encode_value(param: Param, value: Any) -> str:
    """The query-string text of a value (inverse of :func:`parse_value`)."""
    if param.kind == "bool":
        return "1" if value else "0"
    if param.kind in ("ints", "strs"):
        return ",".join(str(v) for v in value)
    if param.kind == "float":
        return f"{float(value):g}"
    return str(value)


def encode_query(
    values: Mapping[str, Any], names: Iterable[str], *, params: Mapping[str, Param] = PARAMS
) -> dict[str, str]:
    """Query dict for ``names`` (skipping missing and empty values)."""
    out: dict[str, str] = {}
    for name in names:
        if name in values and values[name] not in (None, "", []):
            out[name] = encode_value(params[name], values[name])
    return out


__all__ = [
    "PARAMS",
    "Param",
    "ParamError",
    "default_platform",
    "encode_query",
    "encode_value",
    "parse_query",
    "parse_value",
]
