"""Speculative decoding and MTP: acceptance ranges, engine support, draft cost columns.

With k draft tokens per step and a per-token acceptance rate ``a`` the target model
verifies k + 1 tokens per sequence in one step and keeps on average
``E = (1 - a^(k+1)) / (1 - a)`` of them (Leviathan et al. 2023, "Fast Inference from
Transformers via Speculative Decoding", arXiv 2211.17192). The step itself is computed by
`sizing.kernel.decode` at b x (k + 1) tokens plus k sequential draft forwards, so the gain
falls as the batch becomes compute bound. The acceptance figures, which engines run which
method, and the default draft lengths are in ``data/speculative.yaml`` (each with a source);
this module turns them into a `SpecSetting` and into the kernel's ``spec_*`` columns.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sizing import kernel
from sizing.catalog import Catalog, ModelArch, Platform, Quantization, read_yaml_file
from sizing.llm import quant_applies, weight_bytes_by_class

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "speculative.yaml"
SPEC_METHODS: tuple[str, ...] = ("none", "mtp", "eagle", "draft")
CONTENT_TYPES: tuple[str, ...] = ("prose", "code", "structured")
METRICS: tuple[str, ...] = ("per_token_rate", "accept_length", "draft_acceptance_rate")
DRAFT_TOKENS_MAX = 16
METHOD_NAMES = {"mtp": "MTP", "eagle": "EAGLE-3", "draft": "draft model"}

# EAGLE-3 head, an assumption (stated in every estimate that uses it): fc 3h x h, one
# Llama-style decoder layer at the target's hidden size (attention 4 h^2, SwiGLU MLP with
# intermediate 3.5 h as in the EAGLE-3 heads for Llama-3.1-8B), a 32k draft vocabulary head
# (EAGLE-3 paper, arXiv 2503.01840), all bf16.
EAGLE_HEAD_H2 = 3.0 + 4.0 + 3 * 3.5
EAGLE_DRAFT_VOCAB = 32_000
EAGLE_BYTES_PER_PARAM = 2.0


class SpecError(ValueError):
    """A speculative-decoding input that cannot be evaluated (one line)."""


@dataclass(frozen=True)
class Measurement:
    method: str
    content: str
    model_family: str
    metric: str
    value: float
    draft_tokens: int | None
    source: str
    date: str
    note: str

    @property
    def accept_rate(self) -> float:
        """This measurement as a per-token acceptance rate ``a``."""
        return accept_rate_from(self.metric, self.value, self.draft_tokens)


@dataclass(frozen=True)
class SpecData:
    default_draft_tokens: dict[str, int]
    engines: dict[str, dict[str, dict[str, Any]]]
    measurements: tuple[Measurement, ...]


@dataclass(frozen=True)
class SpecSetting:
    """A validated speculative-decoding input: method, k, content, acceptance range."""

    method: str  # mtp | eagle | draft
    draft_tokens: int  # k
    content: str  # prose | code | structured | user
    accept_low: float
    accept_high: float
    accept_central: float
    pooled: bool  # True: no row for this model family, all families' range
    user_rate: bool  # True: the user gave the rate (--spec-accept)
    sources: tuple[str, ...]
    draft_model: str | None = None

    @property
    def label(self) -> str:
        """Short text for tables: ``MTP k=3, code``."""
        return f"{METHOD_NAMES[self.method]} k={self.draft_tokens}, {self.content}"


def expected_accepted_tokens(accept_rate: float, draft_tokens: int) -> float:
    """E = (1 - a^(k+1)) / (1 - a): tokens per target step (1 without drafts, k+1 at a=1)."""
    a, k = accept_rate, draft_tokens
    if k <= 0:
        return 1.0
    if a >= 1.0:
        return float(k + 1)
    return (1.0 - a ** (k + 1)) / (1.0 - a)


def accept_rate_from(metric: str, value: float, draft_tokens: int | None) -> float:
    """Per-token acceptance ``a`` from a published figure (see data/speculative.yaml)."""
    if metric == "per_token_rate":
        return value
    if draft_tokens is None or draft_tokens < 1:
        raise SpecError(f"{metric} needs draft_tokens")
    k = draft_tokens
    target = value if metric == "accept_length" else 1.0 + value * k
    if not 1.0 <= target <= k + 1:
        raise SpecError(f"{metric} {value} is impossible with {k} draft tokens")
    lo, hi = 0.0, 1.0
    for _ in range(60):  # E(a) rises monotonically in a
        mid = (lo + hi) / 2
        if expected_accepted_tokens(mid, k) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


@lru_cache(maxsize=4)
def load_spec_data(path: Path = DATA_PATH) -> SpecData:
    """Read and check data/speculative.yaml (a bad entry is a one-line SpecError)."""
    raw = read_yaml_file(path, SpecError)
    rows = []
    for i, m in enumerate(raw.get("measurements") or []):
        where = f"{path.name}: measurements[{i}]"
        if m.get("method") not in SPEC_METHODS[1:] or m.get("content") not in CONTENT_TYPES:
            raise SpecError(f"{where}: unknown method or content")
        if m.get("metric") not in METRICS or not m.get("source") or not m.get("date"):
            raise SpecError(f"{where}: metric, source and date are required")
        row = Measurement(
            method=m["method"],
            content=m["content"],
            model_family=str(m.get("model_family") or ""),
            metric=m["metric"],
            value=float(m["value"]),
            draft_tokens=m.get("draft_tokens"),
            source=str(m["source"]),
            date=_date(m["date"]),
            note=str(m.get("note") or ""),
        )
        if not 0.0 <= row.accept_rate < 1.0:
            raise SpecError(f"{where}: acceptance rate {row.accept_rate:.3f} outside 0..1")
        rows.append(row)
    return SpecData(
        default_draft_tokens=dict(raw["default_draft_tokens"]),
        engines={k: dict(v) for k, v in raw["engines"].items()},
        measurements=tuple(rows),
    )


MIN_FAMILY_FIGURES = 2  # fewer figures for the model's family: the pooled range around them


def acceptance_range(
    method: str, content: str, model_family: str, data: SpecData | None = None
) -> tuple[float, float, float, bool, tuple[str, ...]]:
    """(low, high, central, pooled, sources) of the per-token acceptance for (method,
    content). With MIN_FAMILY_FIGURES rows for the model's family: their range, centred on
    their median. With fewer: the range of every family's rows (pooled, wider), centred on
    the family's own figure if it has one, else on the middle of the range."""
    data = data or load_spec_data()
    rows = [m for m in data.measurements if m.method == method and m.content == content]
    if not rows:
        have = sorted({m.content for m in data.measurements if m.method == method})
        raise SpecError(
            f"no published acceptance figure for {METHOD_NAMES[method]} on "
            f"{content} text (sourced: {', '.join(have) or 'none'}); give your "
            "own rate with --spec-accept"
        )
    own = [m for m in rows if m.model_family == model_family]
    pooled = len(own) < MIN_FAMILY_FIGURES
    use = rows if pooled else own
    rates = [m.accept_rate for m in use]
    low, high = min(rates), max(rates)
    central = statistics.median(m.accept_rate for m in own) if own else (low + high) / 2
    sources = tuple(dict.fromkeys(m.source for m in [*own, *use]))
    return low, high, central, pooled, sources


def resolve_spec(
    *,
    method: str,
    draft_tokens: int | None,
    content: str,
    accept_rate: float | None,
    draft_model: str | None,
    model: ModelArch,
    engine_id: str,
    catalog: Catalog,
) -> SpecSetting | None:
    """Validate a speculative-decoding input; None when it is off."""
    if method not in SPEC_METHODS:
        raise SpecError(
            f"unknown speculative method '{method}'; valid choices: {', '.join(SPEC_METHODS)}"
        )
    if method == "none":
        if draft_model:
            raise SpecError("--spec-draft-model needs --spec draft")
        return None
    if content not in CONTENT_TYPES:
        raise SpecError(f"unknown content '{content}'; valid choices: {', '.join(CONTENT_TYPES)}")
    data = load_spec_data()
    engines = data.engines.get(method, {})
    if engine_id not in engines:
        raise SpecError(
            f"engine '{engine_id}' does not run {METHOD_NAMES[method]} "
            f"speculative decoding; engines that do: {', '.join(engines)}"
        )
    if method == "mtp" and not model.arch.mtp_layers:
        raise SpecError(
            f"{model.id} has no MTP head (its config.json declares no MTP "
            "layers: num_nextn_predict_layers / mtp_num_hidden_layers)"
        )
    if method == "draft":
        _check_draft_model(draft_model, model, catalog)
    elif draft_model:
        raise SpecError("--spec-draft-model is only used with --spec draft")
    k = data.default_draft_tokens[method] if draft_tokens is None else draft_tokens
    if not 1 <= k <= DRAFT_TOKENS_MAX:
        raise SpecError(f"spec-tokens must be between 1 and {DRAFT_TOKENS_MAX} (got {k})")
    return _with_acceptance(method, k, content, accept_rate, draft_model, model.family, data)


def _with_acceptance(
    method: str,
    k: int,
    content: str,
    accept_rate: float | None,
    draft_model: str | None,
    model_family: str,
    data: SpecData,
) -> SpecSetting:
    """The setting with the user's acceptance rate, or the published range for the method,
    content and model family (`acceptance_range`)."""
    if accept_rate is not None:
        if not 0.0 <= accept_rate < 1.0:
            raise SpecError(f"spec-accept must be in [0, 1) (got {accept_rate})")
        return SpecSetting(
            method,
            k,
            content,
            accept_rate,
            accept_rate,
            accept_rate,
            False,
            True,
            ("your --spec-accept",),
            draft_model,
        )
    low, high, central, pooled, sources = acceptance_range(method, content, model_family, data)
    return SpecSetting(method, k, content, low, high, central, pooled, False, sources, draft_model)


def _check_draft_model(draft_model: str | None, model: ModelArch, catalog: Catalog) -> None:
    """A separate draft model must be a catalog model of the same tokenizer family with
    fewer active parameters; SpecError (one line) otherwise."""
    if not draft_model:
        raise SpecError("--spec draft needs --spec-draft-model (a catalog model id)")
    try:
        drafter = catalog.model(draft_model)
    except Exception as exc:  # UnknownIdError names the choices
        raise SpecError(str(exc)) from None
    if drafter.family != model.family:
        raise SpecError(
            f"draft model {drafter.id} ({drafter.family}) does not share "
            f"{model.id}'s tokenizer family ({model.family})"
        )
    if drafter.arch.active_params >= model.arch.active_params:
        raise SpecError(f"draft model {drafter.id} is not smaller than {model.id}")


def _mtp_layer_bytes(
    model: ModelArch, quant: Quantization, catalog: Catalog, engine_id: str
) -> tuple[float, float, float, float]:
    """(non-routed bytes, routed bytes, active params, total bytes) of one MTP layer."""
    a = model.arch
    layers = a.mtp_layers
    total = weight_bytes_by_class(model, quant, catalog, engine_id=engine_id)["mtp"]
    params = max(1, a.params_by_class["mtp"])
    routed = sum(x.routed_params for x in layers)
    active = sum(
        x.params - x.routed_params + x.routed_active_params for x in layers
    ) + 2 * a.hidden_size**2 * len(layers)
    n = len(layers)
    return (
        (total * (params - routed) / params) / n,
        (total * routed / params) / n,
        active / n,
        total,
    )


def eagle_head_params(model: ModelArch) -> float:
    """Parameters of the assumed EAGLE-3 head (see EAGLE_HEAD_H2)."""
    h = model.arch.hidden_size
    return EAGLE_HEAD_H2 * h * h + EAGLE_DRAFT_VOCAB * h


def columns(
    spec: SpecSetting | None,
    model: ModelArch,
    quant: Quantization,
    engine_id: str,
    catalog: Catalog,
    *,
    accept_rate: float | None = None,
) -> dict[str, float]:
    """The kernel's ``spec_*`` columns (zeros when off). Bytes are for the whole model
    (the kernel divides by TP); ``spec_draft_s`` (a separate draft model's step) is set by
    the caller (`draft_model_step_s`)."""
    cols = {
        "spec_draft_tokens": 0.0,
        "spec_accept_fraction": 0.0,
        "spec_draft_fixed_bytes": 0.0,
        "spec_draft_routed_bytes": 0.0,
        "spec_draft_active_params_count": 0.0,
        "spec_draft_layers_count": 0.0,
        "spec_draft_lm_head_fraction": 0.0,
        "spec_memory_bytes": 0.0,
        "spec_draft_s": 0.0,
    }
    if spec is None:
        return cols
    cols["spec_draft_tokens"] = float(spec.draft_tokens)
    cols["spec_accept_fraction"] = spec.accept_central if accept_rate is None else accept_rate
    if spec.method == "mtp":
        fixed, routed, active, total = _mtp_layer_bytes(model, quant, catalog, engine_id)
        cols.update(
            spec_draft_fixed_bytes=fixed,
            spec_draft_routed_bytes=routed,
            spec_draft_active_params_count=active,
            spec_draft_layers_count=1.0,
            spec_draft_lm_head_fraction=1.0,
            spec_memory_bytes=total,
        )
    elif spec.method == "eagle":
        params = eagle_head_params(model)
        cols.update(
            spec_draft_fixed_bytes=params * EAGLE_BYTES_PER_PARAM,
            spec_draft_active_params_count=params,
            spec_draft_layers_count=1.0,
            spec_memory_bytes=params * EAGLE_BYTES_PER_PARAM,
        )
    else:
        drafter = catalog.model(spec.draft_model or "")
        dq = quant if _applies(drafter, quant) else catalog.quant("bf16")
        cols["spec_memory_bytes"] = sum(
            v
            for k, v in weight_bytes_by_class(drafter, dq, catalog, engine_id=engine_id).items()
            if k not in ("mtp", "vision")
        )
    return cols


def _applies(model: ModelArch, quant: Quantization) -> bool:
    return quant_applies(model, quant)


def draft_model_step_s(
    spec: SpecSetting,
    *,
    platform: Platform,
    quant: Quantization,
    engine: Any,
    catalog: Catalog,
    scenario: dict[str, Any],
) -> float:
    """Seconds of one decode step of the separate draft model on the same units, at the
    scenario's concurrency (its own kernel table: weights, KV, overheads)."""
    drafter = catalog.model(spec.draft_model or "")
    dq = quant if _applies(drafter, quant) else catalog.quant("bf16")
    t = kernel.table_from_rows(
        [kernel.static_row(platform, drafter, dq, engine, catalog)],
        {**scenario, "spec_speed_multiplier": 1.0},
    )
    d = kernel.decode(t, kernel.memory(t))
    return float(d["step_s"][0])


def describe(spec: SpecSetting) -> list[str]:
    """Assumption lines for an estimate."""
    if spec.user_rate:
        rate = f"acceptance {spec.accept_low:.2f} per token (your --spec-accept)"
    else:
        rate = (
            f"acceptance {spec.accept_low:.2f}-{spec.accept_high:.2f} per token for "
            f"{spec.content} ("
            + (
                f"central {spec.accept_central:.2f}; fewer than {MIN_FAMILY_FIGURES} "
                "figures for this model family: every family's range, wider"
                if spec.pooled
                else f"central {spec.accept_central:.2f}: this model family's published figures"
            )
            + "; "
            + ", ".join(spec.sources)
            + ")"
        )
    lines = [
        f"speculative decoding {spec.label}: each step verifies {spec.draft_tokens + 1} "
        f"tokens per sequence and keeps E = (1 - a^(k+1)) / (1 - a) of them; {rate}"
    ]
    if spec.method == "mtp":
        lines.append(
            "draft cost: one MTP layer + the shared lm_head per draft token; MTP "
            "weights loaded (counted in weights per unit)"
        )
    elif spec.method == "eagle":
        lines.append(
            f"draft cost: an EAGLE-3 head of ~{EAGLE_HEAD_H2:g} h^2 + "
            f"{EAGLE_DRAFT_VOCAB} x h bf16 parameters per draft token (assumed "
            "head shape, not a measured checkpoint)"
        )
    else:
        lines.append(
            f"draft cost: one decode step of {spec.draft_model} per draft token; "
            "its weights counted, its KV cache not"
        )
    return lines


__all__ = [
    "CONTENT_TYPES",
    "SPEC_METHODS",
    "SpecError",
    "SpecSetting",
    "accept_rate_from",
    "acceptance_range",
    "columns",
    "describe",
    "draft_model_step_s",
    "expected_accepted_tokens",
    "load_spec_data",
    "resolve_spec",
]
