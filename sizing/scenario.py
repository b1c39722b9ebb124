"""A sizing scenario: what runs where, resolved against the catalog and validated.

Every check raises `ScenarioError` with a one-line message that names the bad value and,
for ids, the valid choices — the CLI prints it and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Literal, cast

from sizing import limits
from sizing.catalog import (
    Catalog,
    Engine,
    ModelArch,
    Platform,
    Quantization,
    Transport,
    UnknownIdError,
)
from sizing.llm import quant_applies, quant_mismatch_message, quant_named_by
from sizing.speculative import SpecError, SpecSetting, describe, resolve_spec

Parallel = Literal["tp", "pp", "replicas", "tp+ep"]
PARALLEL_CHOICES: tuple[str, ...] = ("tp", "pp", "replicas", "tp+ep")
CUDA_GRAPH_CHOICES: tuple[str, ...] = ("on", "off")
KV_DTYPES: tuple[str, ...] = ("bf16", "fp8")
ENGINE_CHOICES: tuple[str, ...] = ("vllm", "sglang", "llamacpp", "trtllm", "mlx", "ds4", "ollama")


class ScenarioError(ValueError):
    """An impossible or unknown input; the message is one line naming the bad value."""


@dataclass(frozen=True)
class Scenario:
    """User inputs. Optional fields are filled from the catalog's defaults by `resolve`."""

    platform: str
    units: int
    parallel: str
    model: str
    weights: str
    kv_dtype: str = "bf16"
    engine: str | None = None
    context_tokens: int = 32768
    concurrency: int = 1
    mem_util: float | None = None
    speculative_multiplier: float = 1.0
    memory_setting: str | None = None  # platform memory setting id; None = its default
    speculative: str = "none"  # none | mtp | eagle | draft (sizing.speculative)
    spec_draft_tokens: int | None = None  # k; None: the method's default
    spec_content: str = "prose"  # prose | code | structured
    spec_accept: float | None = None  # the user's own per-token acceptance rate
    spec_draft_model: str | None = None  # catalog model id (speculative == "draft")
    # engine memory (vLLM's memory model; catalog engine `memory_model`): None = defaults
    max_num_batched_tokens: int | None = None  # None: 8192 on >= 70 GiB GPUs, else 2048
    engine_version: str | None = None  # e.g. "0.26"; None: the catalog's default
    cuda_graphs: bool | None = None  # None: the engine's default (on for vLLM/SGLang/TRT)
    transport: str | None = None  # catalog transport id; None: the platform's default


@dataclass(frozen=True)
class Resolved:
    """A validated scenario with catalog objects in place of ids."""

    scenario: Scenario
    platform: Platform
    model: ModelArch
    quant: Quantization
    engine: Engine
    units: int
    parallel: str
    kv_dtype: str
    context_tokens: int
    concurrency: int
    mem_util: float
    assumptions: list[str] = field(default_factory=list)
    spec: SpecSetting | None = None  # speculative decoding, None when off
    cuda_graphs: bool = False  # decode replays captured CUDA graphs
    sequence_overhead_us: float = 0.0  # fitted µs per sequence per decode step
    transport: Transport | None = None  # collectives between units (None: no link)

    @property
    def tp(self) -> int:
        """Tensor-parallel ranks (tp+ep shards attention and dense weights the same way)."""
        return self.units if self.parallel in ("tp", "tp+ep") else 1

    @property
    def pp(self) -> int:
        return self.units if self.parallel == "pp" else 1

    @property
    def replicas(self) -> int:
        return self.units if self.parallel == "replicas" else 1


def default_engine(
    platform: Platform, catalog: Catalog | None = None, quant: str | None = None
) -> str:
    """The engine assumed when none is given: vLLM where supported, else the first listed;
    with `quant` (and `catalog`), the first of those that runs that quantization."""
    preferred = ["vllm", *platform.engines] if "vllm" in platform.engines else platform.engines
    if catalog is not None and quant is not None:
        for engine_id in preferred:
            if quant in catalog.engine(engine_id).quants:
                return engine_id
    return preferred[0]


def default_mem_util(catalog: Catalog, platform: Platform, engine: Engine) -> float:
    """GB10 owners run vLLM/SGLang at 0.80-0.88 (catalog default), not vLLM's 0.9."""
    if platform.family == "gb10" and engine.memory_policy == "preallocate":
        return catalog.defaults.mem_util_gb10_vllm
    return engine.default_mem_util


def _weights_id(model: ModelArch, weights: str) -> str:
    """A quantization id, or the id of the model's kept checkpoint named by repo id
    (``nvidia/Qwen3.5-397B-A17B-NVFP4`` -> ``nvfp4``)."""
    if "/" not in weights:
        return weights
    named = quant_named_by(model, weights, include_self=True)
    if named is None:
        kept = ", ".join(f"{r} ({q})" for q, r in model.checkpoints.items()) or "none"
        raise ScenarioError(
            f"weights '{weights}' is not a checkpoint of {model.id} kept in the "
            f"catalog; kept checkpoints: {kept}; or use a quantization id"
        )
    return named


def _version_tuple(version: str) -> tuple[int, ...]:
    """ "0.21.1" -> (0, 21, 1); a version that is not dotted numbers is a ScenarioError."""
    parts = version.strip().lstrip("v").split(".")
    if not parts or not all(x.isdigit() for x in parts) or len(parts) > 4:
        raise ScenarioError(f"engine version '{version}' is not a version like 0.26 or 0.21.1")
    return tuple(int(x) for x in parts)


def engine_memory_columns(s: Scenario, engine: Engine) -> dict[str, float]:
    """Kernel columns of the engine-memory inputs: max_num_batched_tokens (0 = the engine's
    default) and whether the version reserves CUDA-graph memory before the KV cache (CUDA
    graphs on/off is `Resolved.cuda_graphs`, the ``cuda_graphs_flag`` column)."""
    mm = engine.memory_model
    version = s.engine_version or (mm.default_version if mm else "0")
    reserved = bool(mm) and _version_tuple(version) >= _version_tuple(
        mm.graph_reserved_since if mm else "0"
    )
    return {
        "max_num_batched_tokens_count": float(s.max_num_batched_tokens or 0),
        "graph_reserved_flag": float(reserved),
    }


def _engine_memory_text(s: Scenario, platform: Platform, engine: Engine) -> str | None:
    mm = engine.memory_model
    if mm is None:
        return None
    large = platform.accelerator_memory_gib >= mm.large_gpu_gib
    tokens = s.max_num_batched_tokens or (
        mm.default_max_num_batched_tokens if large else mm.default_max_num_batched_tokens_small
    )
    version = s.engine_version or mm.default_version
    reserved = _version_tuple(version) >= _version_tuple(mm.graph_reserved_since)
    graphs = (
        "CUDA graphs off (eager)"
        if s.cuda_graphs is False
        else f"CUDA graphs on ({mm.capture_graphs} captured), "
        + (
            "reserved before the KV cache"
            if reserved
            else f"not reserved before the KV cache before v{mm.graph_reserved_since}"
        )
    )
    text = (
        f"{engine.name} {version}: overhead = non-torch + activation peak at "
        f"max_num_batched_tokens {tokens}"
        + ("" if s.max_num_batched_tokens else " (default)")
        + f" + {graphs}"
    )
    if platform.unified_memory and mm.unified_spread_gib:
        text += (
            f"; unified-memory accounting ±{mm.unified_spread_gib:g} GiB per unit "
            "between boots (ASSUMPTION): KV pool and max context shown as a range"
        )
    return text


def resolve(
    s: Scenario,
    catalog: Catalog,
    *,
    model: ModelArch | None = None,
    memo: dict[Any, Any] | None = None,
) -> Resolved:
    """Validate `s` against `catalog`; `model` overrides the id lookup (config.json input).

    `memo` (a dict the caller keeps, e.g. for one batch over one catalog) holds the part
    of the work that does not depend on the context and concurrency (`_Static`): rows
    that differ only in those are resolved once. The checks run in the same order and
    give the same errors with or without it."""
    return _resolve_row(s, _static_of(s, catalog, model, memo))


def resolve_shared(
    s: Scenario, catalog: Catalog, model: ModelArch | None, memo: dict[Any, Any]
) -> tuple[Resolved, object]:
    """`resolve` with `memo`, and the object every scenario that differs from `s` only
    in context and concurrency shares (while `memo` holds it): a key for work shared
    by those rows."""
    static = _static_of(s, catalog, model, memo)
    return _resolve_row(s, static), static


def _static_of(
    s: Scenario, catalog: Catalog, model: ModelArch | None, memo: dict[Any, Any] | None
) -> _Static:
    if memo is None:
        return _resolve_static(s, catalog, model)
    values = _static_fields(s)  # with their types: 1 == 1.0 == True as keys
    key = ("resolve", id(catalog), id(model), values, tuple(map(type, values)))
    hit = memo.get(key)
    if hit is not None:
        return cast("_Static", hit[2])
    static = _resolve_static(s, catalog, model)
    if static.foreign is None:  # other errors are raised afresh for every row
        memo[key] = (catalog, model, static)  # pins the keyed objects
    return static


#: The fields of a Scenario that `_Static` depends on: all but the context and concurrency.
_STATIC_FIELD_NAMES = tuple(
    f.name for f in fields(Scenario) if f.name not in ("context_tokens", "concurrency")
)
_static_fields = attrgetter(*_STATIC_FIELD_NAMES)


@dataclass(frozen=True)
class _Static:
    """What `resolve` finds from a scenario's fields other than context and concurrency:
    the catalog objects and assumptions, or the one-line error of the check that failed
    (``errors[stage]``: 0 = before the workload limits, 1 = between the limits and the
    workload check, 2 = after it); `foreign` is any other exception (never memoised)."""

    errors: tuple[str | None, str | None, str | None] = (None, None, None)
    error_type: type[ScenarioError] = ScenarioError
    foreign: Exception | None = None
    foreign_stage: int = 0
    platform: Platform | None = None
    arch: ModelArch | None = None
    quant: Quantization | None = None
    engine: Engine | None = None
    mem_util: float = 0.0
    transport: Transport | None = None
    cuda_graphs: bool = False
    assumptions: tuple[str, ...] = ()
    spec: SpecSetting | None = None
    sequence_overhead_us: float = 0.0


def _resolve_static(s: Scenario, catalog: Catalog, model: ModelArch | None) -> _Static:
    """The checks and lookups of `resolve` that do not read the context or concurrency,
    in `resolve`'s order; the first failing check ends it (its stage says where the
    per-row checks come in)."""
    stage, arch = 0, None
    try:
        platform, arch, quant = _lookup(s, catalog, model)
        _check_choices(s)
        engine = _resolve_engine(s, catalog, platform, arch, quant)
        _check_quant(catalog, platform, arch, quant, engine)
        stage = 1  # (the workload limits, per row)
        if s.parallel not in engine.parallel and s.units > 1:
            raise ScenarioError(
                f"parallel '{s.parallel}' is not supported by {engine.id}; valid "
                f"choices: {', '.join(engine.parallel)}"
            )
        stage = 2  # (the workload against the model, per row)
        mem_util = (
            s.mem_util if s.mem_util is not None else default_mem_util(catalog, platform, engine)
        )
        if not 0.05 <= mem_util <= 1.0:
            raise ScenarioError(f"mem-util must be between 0.05 and 1.0 (got {mem_util})")
        _check_layout(s, platform, arch, engine)
        transport = resolve_transport(s.transport, platform, engine, catalog)
        _check_engine_memory_inputs(s)
        cuda_graphs = engine.cuda_graphs if s.cuda_graphs is None else s.cuda_graphs
        assumptions = [
            *_setup_assumptions(s, platform, quant, engine, mem_util),
            *_run_assumptions(s, platform, engine, cuda_graphs, transport),
        ]
        try:
            spec = resolve_spec(
                method=s.speculative,
                draft_tokens=s.spec_draft_tokens,
                content=s.spec_content,
                accept_rate=s.spec_accept,
                draft_model=s.spec_draft_model,
                model=arch,
                engine_id=engine.id,
                catalog=catalog,
            )
        except SpecError as exc:
            raise ScenarioError(str(exc)) from None
        if spec is not None:
            if s.speculative_multiplier > 1.0:
                raise ScenarioError(
                    "give either --spec or --spec-multiplier, not both (both "
                    "count the accepted tokens per step)"
                )
            assumptions += describe(spec)
        sequence_overhead_us = catalog.calibration_for(platform.family, engine.id)[
            1
        ].sequence_overhead_us_on(platform.family)
    except ScenarioError as exc:
        errors: list[str | None] = [None, None, None]
        errors[stage] = str(exc)
        return _Static(errors=(errors[0], errors[1], errors[2]), error_type=type(exc), arch=arch)
    except Exception as exc:  # raised again, in its place, by _resolve_row
        return _Static(foreign=exc, foreign_stage=stage, arch=arch)
    return _Static(
        platform=platform,
        arch=arch,
        quant=quant,
        engine=engine,
        mem_util=mem_util,
        transport=transport,
        cuda_graphs=cuda_graphs,
        assumptions=tuple(assumptions),
        spec=spec,
        sequence_overhead_us=sequence_overhead_us,
    )


def _resolve_row(s: Scenario, st: _Static) -> Resolved:
    """`s` resolved from its `_Static` part: the per-row checks of the context and
    concurrency in their place among the static ones."""
    if st.errors[0] is not None:
        raise st.error_type(st.errors[0])
    if st.foreign is not None and st.foreign_stage == 0:
        raise st.foreign
    _check_limits(s)
    if st.errors[1] is not None:
        raise st.error_type(st.errors[1])
    if st.foreign is not None and st.foreign_stage == 1:
        raise st.foreign
    _check_workload(s, cast("ModelArch", st.arch))  # stage 0 passed: the model is known
    if st.errors[2] is not None:
        raise st.error_type(st.errors[2])
    if st.foreign is not None:
        raise st.foreign
    return Resolved(  # every check passed: every object is there
        s,
        cast("Platform", st.platform),
        cast("ModelArch", st.arch),
        cast("Quantization", st.quant),
        cast("Engine", st.engine),
        s.units,
        s.parallel if s.units > 1 else "tp",
        s.kv_dtype,
        s.context_tokens,
        s.concurrency,
        st.mem_util,
        list(st.assumptions),
        st.spec,
        st.cuda_graphs,
        st.sequence_overhead_us,
        st.transport,
    )


def _lookup(
    s: Scenario, catalog: Catalog, model: ModelArch | None
) -> tuple[Platform, ModelArch, Quantization]:
    """The platform (with its memory setting), model and quantization `s` names."""
    try:
        platform = catalog.platform(s.platform).with_memory_setting(s.memory_setting)
        arch = model if model is not None else catalog.model(s.model)
        quant = catalog.quant(_weights_id(arch, s.weights))
    except UnknownIdError as exc:
        raise ScenarioError(str(exc)) from None
    return platform, arch, quant


def _check_choices(s: Scenario) -> None:
    """The parallel layout and KV dtype are among the known choices."""
    if s.parallel not in PARALLEL_CHOICES:
        raise ScenarioError(
            f"unknown parallel '{s.parallel}'; valid choices: {', '.join(PARALLEL_CHOICES)}"
        )
    if s.kv_dtype not in KV_DTYPES:
        raise ScenarioError(
            f"unknown kv dtype '{s.kv_dtype}'; valid choices: {', '.join(KV_DTYPES)}"
        )


def _resolve_engine(
    s: Scenario, catalog: Catalog, platform: Platform, arch: ModelArch, quant: Quantization
) -> Engine:
    """The engine `s` names (or the default) when it runs on `platform` and runs `arch`."""
    engine_id = s.engine or default_engine(platform, catalog, quant.id)
    try:
        engine = catalog.engine(engine_id)
    except UnknownIdError as exc:
        raise ScenarioError(str(exc)) from None
    if engine.id not in platform.engines:
        raise ScenarioError(
            f"engine '{engine.id}' does not run on {platform.id}; valid choices: "
            f"{', '.join(platform.engines)}"
        )
    if not engine.runs(arch):
        others = [e for e in platform.engines if catalog.engine(e).runs(arch)]
        raise ScenarioError(
            f"engine '{engine.id}' runs only {', '.join(engine.models)} models "
            f"in its own code, not {arch.id}; valid choices: {', '.join(others)}"
        )
    return engine


def _check_quant(
    catalog: Catalog, platform: Platform, arch: ModelArch, quant: Quantization, engine: Engine
) -> None:
    """The quantization runs on the platform, in the engine, and applies to the model."""
    if quant.id not in platform.quants:
        raise ScenarioError(
            f"quant '{quant.id}' cannot run on {platform.id}; valid choices: "
            f"{', '.join(platform.quants)}"
        )
    if quant.id not in engine.quants:
        raise ScenarioError(
            f"quant '{quant.id}' is not supported by {engine.id}; valid choices: "
            f"{', '.join(q for q in engine.quants if q in platform.quants)}"
        )
    if not quant_applies(arch, quant):
        raise ScenarioError(quant_mismatch_message(arch, quant, catalog))


def _check_limits(s: Scenario) -> None:
    """The shared input rules (sizing.limits)."""
    try:
        limits.check_workload(
            context_tokens=s.context_tokens, concurrency=s.concurrency, units=s.units
        )
        limits.check_float(
            "speculative multiplier",
            s.speculative_multiplier,
            limits.SPEC_MULTIPLIER_MIN,
            limits.SPEC_MULTIPLIER_MAX,
        )
        if s.mem_util is not None:
            limits.check_float("mem-util", s.mem_util, limits.MEM_UTIL_MIN, limits.MEM_UTIL_MAX)
    except limits.InputError as exc:
        raise ScenarioError(str(exc)) from None


def _check_workload(s: Scenario, arch: ModelArch) -> None:
    """Concurrency, context (within the model's maximum) and speculative multiplier."""
    if s.concurrency < 1:
        raise ScenarioError(f"concurrency must be at least 1 (got {s.concurrency})")
    if s.context_tokens < 1:
        raise ScenarioError(f"context must be at least 1 token (got {s.context_tokens})")
    if s.context_tokens > arch.max_context_tokens:
        raise ScenarioError(
            f"context {s.context_tokens} exceeds {arch.id}'s maximum of "
            f"{arch.max_context_tokens} tokens"
        )
    if s.speculative_multiplier < 1.0:
        raise ScenarioError(
            f"speculative multiplier must be >= 1.0 (got {s.speculative_multiplier})"
        )


def _check_layout(s: Scenario, platform: Platform, arch: ModelArch, engine: Engine) -> None:
    """The parallel layout fits the model and platform; --cuda-graphs fits the engine."""
    if s.parallel == "tp+ep" and s.units > 1 and not arch.arch.num_experts:
        raise ScenarioError(
            f"parallel 'tp+ep' shards routed experts; {arch.id} is a dense "
            "model: use --parallel tp, pp or replicas"
        )
    if s.cuda_graphs is not None and not engine.cuda_graphs:
        raise ScenarioError(
            f"--cuda-graphs: {engine.id} has no CUDA-graph switch in the model; "
            "engines with one: vllm, sglang, trtllm"
        )
    if s.parallel in ("tp", "tp+ep") and s.units > 1:
        heads = arch.num_attention_heads
        if heads % s.units:
            raise ScenarioError(
                f"tensor parallel over {s.units} units needs the {heads} attention heads of "
                f"{arch.id} to divide evenly; use --parallel pp or replicas, or units in "
                f"{', '.join(str(n) for n in range(2, 9) if heads % n == 0)}"
            )
    if s.parallel == "pp" and s.units > arch.arch.num_layers:
        raise ScenarioError(f"pipeline over {s.units} units exceeds {arch.arch.num_layers} layers")
    if platform.form == "system" and s.units > 1 and platform.interconnect is None:
        raise ScenarioError(f"{platform.id} has no multi-unit interconnect in the catalog")


def _check_engine_memory_inputs(s: Scenario) -> None:
    """max-num-batched-tokens in range and an engine version that parses."""
    if s.max_num_batched_tokens is not None and not (
        64 <= s.max_num_batched_tokens <= limits.CONTEXT_TOKENS_MAX
    ):
        raise ScenarioError(
            f"max-num-batched-tokens must be between 64 and "
            f"{limits.CONTEXT_TOKENS_MAX} (got {s.max_num_batched_tokens})"
        )
    if s.engine_version is not None:
        _version_tuple(s.engine_version)


def _setup_assumptions(
    s: Scenario, platform: Platform, quant: Quantization, engine: Engine, mem_util: float
) -> list[str]:
    """Assumptions lines of the engine's memory, the weights, the KV cache, the engine
    memory model and the memory setting."""
    assumptions = [
        f"engine {engine.name}: {engine.memory_policy} memory, utilization {mem_util:.2f} "
        f"of {platform.accelerator_memory_gib:.1f} GiB accelerator memory per unit",
        f"weights {quant.name} ({quant.bits_per_weight:g} bits/weight on "
        f"{', '.join(quant.applies_to)}); other tensors "
        + (
            f"stored as {quant.unquantized_dtype[engine.id]} by {engine.id}"
            if engine.id in quant.unquantized_dtype
            else "keep the checkpoint dtype"
        ),
        f"KV cache {s.kv_dtype}; blocks of {engine.kv_block_tokens} tokens",
    ]
    memory_text = _engine_memory_text(s, platform, engine)
    if memory_text is not None:
        assumptions.append(memory_text)
    elif s.max_num_batched_tokens or s.cuda_graphs is False or s.engine_version:
        assumptions.append(
            f"max-num-batched-tokens, CUDA graphs and engine version change "
            f"nothing for {engine.name} (no engine memory model: flat "
            f"{engine.runtime_overhead_gib:g} GiB overhead)"
        )
    if platform.memory_setting is not None:
        ms = platform.memory_setting
        assumptions.insert(
            1,
            f"memory setting '{ms.id}': {ms.label}; {ms.how_to} "
            f"(source {ms.source[0]}, {ms.date.isoformat()})",
        )
    return assumptions


def _run_assumptions(
    s: Scenario, platform: Platform, engine: Engine, cuda_graphs: bool, transport: Transport | None
) -> list[str]:
    """Assumptions lines of CUDA graphs, the transport, expert parallel and the
    speculative multiplier."""
    assumptions = []
    if engine.cuda_graphs:
        assumptions.append(
            f"CUDA graphs {'on' if cuda_graphs else 'off (eager)'}"
            + (" (the engine's default)" if s.cuda_graphs is None else " (your --cuda-graphs)")
            + (
                f": decode batches padded to the capture sizes (1, 2, 4, then multiples of "
                f"{engine.cuda_graph_align_tokens} up to {engine.cuda_graph_max_batch})"
                if cuda_graphs and engine.cuda_graph_align_tokens
                else ""
            )
            + (
                f": +{engine.eager_layer_overhead_us:g} µs per layer per decode step "
                "(kernel launches a graph replays for free)"
                if not cuda_graphs
                else ""
            )
        )
    if transport is not None and s.units > 1 and s.parallel != "replicas":
        assumptions.append(transport_text(transport, platform, s.transport is None))
    if s.parallel == "tp+ep" and s.units > 1:
        assumptions.append(
            f"expert parallel over {s.units} units: attention and dense weights as tensor "
            f"parallel, each unit holds 1/{s.units} of the routed experts whole; the most "
            "loaded unit reads max/mean = 1 + sqrt(2 (N-1) ln N / m) more expert bytes "
            "(m touched experts placed at random; an assumption, balls in bins); per MoE "
            "layer a dispatch (all-gather) and a combine (reduce-scatter) in place of one "
            "all-reduce (vLLM AgRsAll2AllManager): one more collective latency per MoE layer"
        )
    if s.speculative_multiplier > 1.0:
        assumptions.append(
            f"speculative decoding multiplier x{s.speculative_multiplier:g} "
            "applied to decode speed (accepted tokens per step)"
        )
    return assumptions


def resolve_transport(
    transport_id: str | None, platform: Platform, engine: Engine, catalog: Catalog
) -> Transport | None:
    """The transport collectives between units run over: `transport_id` (a catalog
    transport id) when the platform and engine can use it, else the default; a
    ScenarioError (one line, naming the valid choices) for one they cannot."""
    choices = catalog.transport_choices(platform, engine)
    if transport_id is None:
        return choices[0] if choices else None
    ids = [t.id for t in choices]
    if transport_id not in ids:
        known = {t.id for t in catalog.transports}
        what = "unknown transport" if transport_id not in known else "transport"
        where = f"cannot be used by {engine.id} on {platform.id}" if transport_id in known else ""
        raise ScenarioError(
            f"{what} '{transport_id}'"
            + (f" {where}" if where else "")
            + "; valid choices: "
            + (", ".join(ids) if ids else f"none ({platform.id} has no multi-unit link)")
        )
    return catalog.transport(transport_id)


def transport_text(transport: Transport, platform: Platform, default: bool) -> str:
    """The assumptions-list line of the transport and its all-reduce model."""
    ic = platform.interconnect
    link = transport.link_gbit_s or (ic.link_gbit_s if ic else 0.0)
    return (
        f"collectives over {transport.name}"
        + (" (the platform's default)" if default else " (your --transport)")
        + f": all-reduce = {transport.base_latency_us:g} µs + 2 (N-1) x "
        f"{transport.hop_latency_us:g} µs ring steps"
        + (" (or NCCL's tree, log2 N levels, when faster)" if transport.tree else "")
        + f" + bytes at {transport.bus_bandwidth_fraction * link:g} Gb/s bus bandwidth"
        + (
            f"; +{transport.step_fixed_us:g} µs per decode step across hosts"
            if transport.across_hosts and transport.step_fixed_us
            else ""
        )
    )
