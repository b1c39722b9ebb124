"""Calibration of the throughput model against measured benchmarks (`data/benchmarks.csv`).

`data/benchmarks.csv` keeps every column of the project's benchmark compilation
(system, model, engine, figures, source URL, date, notes) and adds how each row maps to
catalog ids (`platform_id`, `model_id`, `weights_id`, `engine_id`, context, concurrency,
whether the decode figure is per request or aggregate). Rows the model cannot evaluate
carry `evaluate=no` and a `skip_reason`; the report lists them instead of dropping them.

The fit has few constants and is robust: per platform family one bandwidth efficiency
and one prefill compute efficiency, per engine one decode and one prefill factor
(llama.cpp is the reference, factor 1) plus its own decode factor on a family where it has
MIN_PATH_ROWS rows (a kernel path), never above the family's measured read ceiling. Each
is the median log-ratio of measured over predicted on the rows it covers (alternating, a
few rounds), so no constant follows a single row. Every row is resolved once (`Case`) and
predicted under any constants (`predict`), so a fit takes seconds and cross-validation
(`cross_validate`, `error_bands`) can refit per held-out group.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from sizing import kernel
from sizing.memory import table_for
from sizing.scenario import Scenario, ScenarioError, resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from sizing.catalog import Calibration, Catalog, EngineCalibration, FamilyCalibration

REFERENCE_ENGINE = "llamacpp"


@dataclass(frozen=True)
class RowResult:
    row: int
    label: str
    source_url: str
    family: str
    engine: str
    measured_decode: float | None
    predicted_decode: float | None
    measured_prefill: float | None
    predicted_prefill: float | None
    skip_reason: str | None = None
    speculative: str | None = None  # "MTP k=3, prose": evaluated, not fitted
    predicted_decode_low: float | None = None  # at the ends of the acceptance range
    predicted_decode_high: float | None = None
    weights: str = ""  # quantization id: with family and engine, the path

    @property
    def decode_error(self) -> float | None:
        if self.measured_decode and self.predicted_decode is not None:
            return self.predicted_decode / self.measured_decode - 1.0
        return None

    @property
    def prefill_error(self) -> float | None:
        if self.measured_prefill and self.predicted_prefill is not None:
            return self.predicted_prefill / self.measured_prefill - 1.0
        return None


@dataclass(frozen=True)
class CalibrationResult:
    rows: list[RowResult]

    @property
    def evaluated(self) -> list[RowResult]:
        """Rows the constants are fitted and scored on (speculative rows are not)."""
        return [r for r in self.rows if r.skip_reason is None and r.speculative is None]

    @property
    def speculative(self) -> list[RowResult]:
        """Speculative-decoding rows: predicted with the published acceptance range."""
        return [r for r in self.rows if r.skip_reason is None and r.speculative is not None]

    @property
    def skipped(self) -> list[RowResult]:
        return [r for r in self.rows if r.skip_reason is not None]

    def mape(self, kind: str = "decode") -> float:
        """Median absolute percentage error over the evaluated rows (in %)."""
        errs = [
            abs(e)
            for r in self.evaluated
            if (e := (r.decode_error if kind == "decode" else r.prefill_error)) is not None
        ]
        return 100 * statistics.median(errs) if errs else float("nan")


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Case:
    """An evaluable benchmark row, resolved once: its one-row kernel table and memory fit
    (which no calibrated constant changes), ready to be predicted under any calibration."""

    base: dict[str, Any]
    family: str
    engine: str
    weights: str
    model_family: str
    table: kernel.Table
    mem: kernel.Table
    batch: float
    aggregate: bool
    prefill_tokens: float | None
    prefill_depth_tokens: float
    speculative: str | None = None
    accept_range: tuple[float, float] | None = None
    model: str = ""

    @property
    def row(self) -> int:
        return int(self.base["row"])

    @property
    def source_url(self) -> str:
        return str(self.base["source_url"])


def row_transport(row: dict[str, str]) -> str | None:
    """The transport a benchmark row ran its collectives over: its ``transport_id`` column
    (e.g. ``tcp`` where NCCL fell back to its socket transport over the NIC, row 37); empty
    = the platform's default for the engine (RoCE on GB10, TCP under llama.cpp RPC)."""
    return (row.get("transport_id") or "").strip() or None


def prepare_row(row: dict[str, str], catalog: Catalog) -> Case | RowResult:
    """Resolve one benchmark row (a skipped row comes back as its RowResult)."""
    label = (
        f"{row['system'][:34]} x{row['units']} | {row['model'][:34]} | "
        f"{row['weight_quant'][:14]} | {row['engine'][:22]} | c{row['concurrency']}"
    )
    base: dict[str, Any] = dict(
        row=int(row["row"]),
        label=label,
        source_url=row["source_url"],
        measured_decode=_num(row["decode_tok_s"]),
        measured_prefill=_num(row["prefill_tok_s"]),
    )
    if row["evaluate"] != "yes":
        return RowResult(
            family="",
            engine="",
            predicted_decode=None,
            predicted_prefill=None,
            skip_reason=row["skip_reason"] or "not evaluable",
            **base,
        )
    try:
        scenario = Scenario(
            platform=row["platform_id"],
            units=int(row["units_eval"]),
            parallel=row["parallel_id"],
            model=row["model_id"],
            weights=row["weights_id"],
            kv_dtype=row["kv_dtype_id"],
            engine=row["engine_id"],
            context_tokens=max(1, int(row["decode_context_tokens"])),
            concurrency=int(row["concurrency_eval"]),
            speculative=row.get("spec_method") or "none",
            spec_draft_tokens=int(row["spec_draft_tokens"])
            if row.get("spec_draft_tokens")
            else None,
            spec_content=row.get("spec_content") or "prose",
            transport=row_transport(row),
        )
        r = resolve(scenario, catalog)
    except ScenarioError as exc:
        return RowResult(
            family="",
            engine="",
            predicted_decode=None,
            predicted_prefill=None,
            skip_reason=f"cannot evaluate: {exc}",
            **base,
        )
    t = table_for(r, catalog)
    tokens = _num(row.get("prefill_tokens"))
    return Case(
        base=base,
        family=r.platform.family,
        engine=r.engine.id,
        weights=r.quant.id,
        model_family=r.model.family,
        table=t,
        mem=kernel.memory(t),
        batch=float(row["concurrency_eval"]),
        aggregate=row["decode_metric"] == "aggregate",
        prefill_tokens=tokens if tokens and base["measured_prefill"] else None,
        prefill_depth_tokens=_num(row.get("prefill_depth_tokens")) or 0.0,
        speculative=r.spec.label if r.spec else None,
        accept_range=(r.spec.accept_low, r.spec.accept_high) if r.spec else None,
        model=r.model.id,
    )


def predict(case: Case, cal: Calibration) -> RowResult:
    """The row's decode (and prefill) figures under the constants `cal`."""
    fam = next(f for f in cal.families if f.family == case.family)
    eng = next(e for e in cal.engines if e.engine == case.engine)
    t = dict(case.table)
    for key, value in kernel.calibration_columns(
        fam, eng, cal.layer_overhead_us, case.weights
    ).items():
        t[key] = np.array([value])
    d = kernel.decode(t, case.mem, batch=np.array([case.batch]))
    key = "tok_s_total" if case.aggregate else "tok_s_per_request"
    predicted = float(d[key][0])
    ends: list[float | None] = [None, None]
    if case.accept_range is not None:
        for n, rate in enumerate(case.accept_range):
            ends[n] = float(
                kernel.decode(
                    {**t, "spec_accept_fraction": np.array([rate])},
                    case.mem,
                    batch=np.array([case.batch]),
                )[key][0]
            )
    prefill = None
    if case.prefill_tokens:
        seconds = kernel.prefill(t, np.array([case.prefill_tokens]), case.prefill_depth_tokens)
        prefill = case.prefill_tokens / float(seconds[0])
    return RowResult(
        family=case.family,
        engine=case.engine,
        weights=case.weights,
        predicted_decode=predicted if case.base["measured_decode"] else None,
        predicted_prefill=prefill,
        speculative=case.speculative,
        predicted_decode_low=ends[0],
        predicted_decode_high=ends[1],
        **case.base,
    )


def prepare(rows: list[dict[str, str]], catalog: Catalog) -> list[Case | RowResult]:
    return [prepare_row(r, catalog) for r in rows]


def evaluate(
    cases: list[Case | RowResult], cal: Calibration, *, with_prefill: bool = True
) -> CalibrationResult:
    """Every row under the constants `cal`: rows with the same table columns are stacked
    into one table, each with its own path's calibrated columns, and predicted in one kernel
    call (the same figures as `predict`, row by row). `with_prefill=False` skips prefill."""
    out: dict[int, RowResult] = {}
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, c in enumerate(cases):
        if not isinstance(c, Case):
            out[i] = c
        elif c.accept_range is not None:
            out[i] = predict(c, cal)
        else:
            groups.setdefault((tuple(c.table), tuple(c.mem)), []).append(i)
    for idx in groups.values():
        group = [c for c in (cases[i] for i in idx) if isinstance(c, Case)]
        out.update(zip(idx, _predict_stacked(group, cal, with_prefill), strict=True))
    return CalibrationResult([out[i] for i in range(len(cases))])


@dataclass(frozen=True)
class _Stack:
    """Rows with the same table columns, concatenated once (they never change)."""

    group: list[Case]
    table: kernel.Table
    mem: kernel.Table
    batch: np.ndarray
    tokens: np.ndarray
    depth: np.ndarray


_STACKS: dict[tuple[int, ...], _Stack] = {}
_MAX_STACKS = 20_000


def _stack(group: list[Case]) -> _Stack:
    key = tuple(id(c) for c in group)
    hit = _STACKS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit.group, group, strict=True)):
        return hit
    if len(_STACKS) >= _MAX_STACKS:
        _STACKS.clear()
    first = group[0]
    stack = _Stack(
        group=list(group),
        table={k: np.concatenate([c.table[k] for c in group]) for k in first.table},
        mem={k: np.concatenate([c.mem[k] for c in group]) for k in first.mem},
        batch=np.array([c.batch for c in group]),
        tokens=np.array([c.prefill_tokens or 1.0 for c in group]),
        depth=np.array([c.prefill_depth_tokens for c in group]),
    )
    _STACKS[key] = stack
    return stack


def _predict_stacked(
    group: list[Case], cal: Calibration, with_prefill: bool = True
) -> list[RowResult]:
    """`predict` for rows with the same table columns at once."""
    stack = _stack(group)
    columns: dict[tuple[str, str, str], dict[str, float]] = {}
    for c in group:
        path = (c.family, c.engine, c.weights)
        if path not in columns:
            fam = next(f for f in cal.families if f.family == c.family)
            eng = next(e for e in cal.engines if e.engine == c.engine)
            columns[path] = kernel.calibration_columns(fam, eng, cal.layer_overhead_us, c.weights)
    t = dict(stack.table)
    for key in next(iter(columns.values())):
        t[key] = np.array([columns[(c.family, c.engine, c.weights)][key] for c in group])
    d = kernel.decode(t, stack.mem, batch=stack.batch)
    seconds = kernel.prefill(t, stack.tokens, stack.depth) if with_prefill else None
    return [
        RowResult(
            family=c.family,
            engine=c.engine,
            weights=c.weights,
            predicted_decode=float(d["tok_s_total" if c.aggregate else "tok_s_per_request"][i])
            if c.base["measured_decode"]
            else None,
            predicted_prefill=c.prefill_tokens / float(seconds[i])
            if c.prefill_tokens and seconds is not None
            else None,
            **c.base,
        )
        for i, c in enumerate(group)
    ]


def evaluate_row(row: dict[str, str], catalog: Catalog) -> RowResult:
    """Predict one benchmark row's decode (and prefill) figures."""
    case = prepare_row(row, catalog)
    return predict(case, catalog.calibration) if isinstance(case, Case) else case


def run_calibration(catalog: Catalog, path: Path) -> CalibrationResult:
    return evaluate(prepare(load_rows(path), catalog), catalog.calibration)


def cross_validated_summary(results: dict[str, CalibrationResult]) -> dict[str, float]:
    """``{"leave one source out decode": 13.9, ...}``: median absolute % error per grouping
    and kind (the held-out groupings only), rounded to 0.1."""
    return {
        f"{name} {kind}": round(r.mape(kind), 1)
        for name, r in results.items()
        if name.startswith("leave")
        for kind in ("decode", "prefill")
    }


def cross_validated_results(catalog: Catalog, path: Path) -> dict[str, CalibrationResult]:
    """In-sample error of a refit on every row, then leave one source / model family out."""
    cases = prepare(load_rows(path), catalog)
    refit, in_sample = fit_cases(
        catalog.calibration, cases, overheads_us=(catalog.calibration.layer_overhead_us,)
    )
    del refit
    out = {"refit on all rows (in sample)": in_sample}
    for name, key in CV_GROUPINGS.items():
        out[f"leave one {name} out"] = cross_validate(catalog, cases, key)
    return out


def format_report(
    result: CalibrationResult, cross_validated: dict[str, CalibrationResult] | None = None
) -> str:
    """Measured vs predicted per row, skipped rows with reasons, the cross-validated error
    per grouping (if given), then the error summary of the catalog's constants."""
    lines = ["Decode tok/s: measured vs predicted (per request, or aggregate where c>1)", ""]
    lines.append(
        f"{'row':>3}  {'benchmark':<124} {'meas':>8} {'pred':>8} {'err':>7}"
        f"   {'pf meas':>8} {'pf pred':>8} {'err':>7}"
    )
    for r in result.evaluated:
        de, pe = r.decode_error, r.prefill_error
        lines.append(
            f"{r.row:>3}  {r.label:<124} {_f(r.measured_decode):>8} {_f(r.predicted_decode):>8} "
            f"{_pct(de):>7}   {_f(r.measured_prefill):>8} {_f(r.predicted_prefill):>8} "
            f"{_pct(pe):>7}"
        )
    if result.speculative:
        lines += [
            "",
            "Speculative decoding rows (predicted at the central acceptance, range at "
            "the published acceptance range; not used in the fit or the error "
            "figures below):",
        ]
        for r in result.speculative:
            inside = (
                r.measured_decode is not None
                and r.predicted_decode_low is not None
                and r.predicted_decode_high is not None
                and r.predicted_decode_low <= r.measured_decode <= r.predicted_decode_high
            )
            lines.append(
                f"{r.row:>3}  {r.label:<90} {r.speculative:<18} meas {_f(r.measured_decode)} "
                f"pred {_f(r.predicted_decode)} ({_f(r.predicted_decode_low)}-"
                f"{_f(r.predicted_decode_high)}) {_pct(r.decode_error)}"
                f"{'' if inside else '  outside the range'}"
            )
    lines += ["", f"Skipped ({len(result.skipped)} rows):"]
    for r in result.skipped:
        lines.append(f"{r.row:>3}  {r.label:<124} {r.skip_reason}")
    n_dec = sum(1 for r in result.evaluated if r.decode_error is not None)
    n_pf = sum(1 for r in result.evaluated if r.prefill_error is not None)
    if cross_validated:
        lines += [
            "",
            "Refitted constants (efficiencies refitted, per-layer overhead held at "
            "the catalog's), median absolute percentage error (share within 25 %):",
        ]
        for name, cv in cross_validated.items():
            lines.append(
                f"  {name:<28} decode {cv.mape('decode'):5.1f}% "
                f"({100 * within(cv, 'decode'):.0f}%)   prefill "
                f"{cv.mape('prefill'):5.1f}% ({100 * within(cv, 'prefill'):.0f}%)"
            )
    lines += [
        "",
        f"Prefill: median absolute percentage error {result.mape('prefill'):.1f}% over {n_pf} rows",
        f"Decode: median absolute percentage error {result.mape('decode'):.1f}% over "
        f"{n_dec} evaluated rows ({len(result.skipped)} skipped)",
    ]
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.0f}%"


# ----------------------------------------------------------------------------- fitting
MIN_PREFILL_FIT_TOKENS = 512  # shorter prompts are launch-bound, not compute-bound
MIN_FAMILY_ROWS = 2  # fewer rows than this: no family-specific constant
MIN_PATH_SOURCES = 2  # publications a weight-format path needs for its own factor
MIN_PATH_ROWS = 3  # an engine gets its own factor on a family from this many
PARSIMONY_PP = 0.5  # MAPE points traded for a smaller per-layer overhead
LAYER_OVERHEAD_GRID_US = tuple(range(0, 101, 5))
#: Per-path overheads (µs per layer per forward pass): kernel launches and host work run
#: from a few µs (CUDA graphs) to a few hundred (eager launches, recurrent-state kernels).
PATH_OVERHEAD_GRID_US = (0, 10, 20, 30, 45, 60, 80, 100, 130, 160, 200, 250, 300)
#: Extra µs per recurrent-state layer (linear attention, Mamba-2) per forward pass.
RECURRENT_OVERHEAD_GRID_US = (0, 20, 40, 60, 90, 120, 160, 200, 250, 300, 400)
MIN_PATH_MODELS = 2  # model sizes a path's rows must span for its own overhead
PATH_PASSES = 2  # path overheads <-> efficiencies, alternated
#: Where every fit starts (`canonical_start`): neutral values, not the last fit's constants.
NEUTRAL_BANDWIDTH_EFFICIENCY = 0.7
NEUTRAL_COMPUTE_EFFICIENCY = 0.3
#: Per-sequence µs per decode step (scheduling, sampling, per-request kernels): fitted on a
#: path whose rows hold MIN_PATH_ROWS rows at MIN_MULTI_STREAM or more streams from
#: MIN_PATH_SOURCES publications (its single-stream rows pin the efficiency).
SEQUENCE_OVERHEAD_GRID_US = (0, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000)
MIN_MULTI_STREAM = 8
#: Fixed µs per decode step of the per-step class (Apple, Metal): a token of a 20 tok/s
#: stream takes 50 ms, so a few ms of per-token submission and synchronization matter.
STEP_OVERHEAD_GRID_US = (0, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000)
#: A prefill kernel path (family x weight format of one engine) gets its own GEMM factor
#: from MIN_PATH_ROWS long-prompt rows of this many models: one model's rows say how that
#: model ran, not how the path's GEMMs run.
MIN_PREFILL_PATH_MODELS = 2
#: Lowest attention efficiency a depth sweep may imply (a floor against noisy pairs).
ATTENTION_EFFICIENCY_MIN = 0.05


def _median_log_ratio(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    logs = [math.log(m / p) for m, p in pairs if m and p]
    return statistics.median(logs) if logs else None


def _prefill_rows(result: CalibrationResult, cases: list[Case | RowResult]) -> list[RowResult]:
    long_prompt = {
        c.row
        for c in cases
        if isinstance(c, Case) and (c.prefill_tokens or 0) >= MIN_PREFILL_FIT_TOKENS
    }
    return [r for r in result.evaluated if r.row in long_prompt]


def _capped(log_factor: float, families: list[FamilyCalibration]) -> float:
    """An engine factor, never streaming faster than the families' measured read ceiling."""
    ceiling = min(f.read_ceiling / f.bandwidth_efficiency for f in families)
    return round(min(math.exp(log_factor), ceiling), 3)


def _fit_efficiencies(cases: list[Case | RowResult], cal: Calibration, rounds: int) -> Calibration:
    """Alternate: family efficiencies on reference-engine rows, then engine factors; at most
    `rounds` rounds, stopping early at a fixed point (a round that changes no constant at
    the constants' rounding)."""
    for _ in range(rounds):
        before = cal
        result = evaluate(cases, cal)
        prefill_rows = _prefill_rows(result, cases)
        fams = []
        for f in cal.families:
            own = [r for r in result.evaluated if r.family == f.family]
            ref = [r for r in own if r.engine == REFERENCE_ENGINE] or own
            if len(own) < MIN_FAMILY_ROWS:
                ref = []
            dec = _median_log_ratio((r.measured_decode, r.predicted_decode) for r in ref)
            pf = _median_log_ratio(
                (r.measured_prefill, r.predicted_prefill)
                for r in prefill_rows
                if r.family == f.family
            )
            bw = f.bandwidth_efficiency * math.exp(dec or 0.0)
            pfe = f.prefill_compute_efficiency * math.exp(pf or 0.0)
            fams.append(
                f.model_copy(
                    update={
                        "bandwidth_efficiency": round(min(f.read_ceiling, bw), 3),
                        "prefill_compute_efficiency": round(min(1.0, pfe), 3),
                        "decode_compute_efficiency": round(min(1.0, pfe), 3),
                    }
                )
            )
        fitted = [
            f.bandwidth_efficiency
            for f in fams
            if sum(1 for r in result.evaluated if r.family == f.family) >= MIN_FAMILY_ROWS
        ]
        if fitted:
            pooled = round(statistics.median(fitted), 3)
            fams = [
                f
                if sum(1 for r in result.evaluated if r.family == f.family) >= MIN_FAMILY_ROWS
                else f.model_copy(update={"bandwidth_efficiency": pooled})
                for f in fams
            ]
        cal = cal.model_copy(update={"families": fams})
        result = evaluate(cases, cal)
        engs = []
        fam_by_id = {f.family: f for f in cal.families}
        for e in cal.engines:
            # the factor each row implies (measured / predicted x the one it used)
            rows = [
                r
                for r in result.evaluated
                if r.engine == e.engine
                and r.measured_decode
                and r.predicted_decode
                and not r.speculative
            ]
            implied = {
                r.row: math.log(
                    e.decode_factor_on(r.family, r.weights)
                    * (r.measured_decode or 0)
                    / (r.predicted_decode or 1)
                )
                for r in rows
            }
            if not rows:  # no rows (also when cross-validation holds them all out)
                engs.append(
                    e.model_copy(
                        update={
                            "decode_factor": 1.0,
                            "family_decode_factors": {},
                            "path_decode_factors": {},
                        }
                    )
                )
                continue
            update: dict[str, Any] = {
                "path_decode_factors": _path_factors(rows, implied, fam_by_id)
            }
            if e.engine != REFERENCE_ENGINE:
                by_family: dict[str, list[float]] = {}
                for r in rows:
                    by_family.setdefault(r.family, []).append(implied[r.row])
                update["decode_factor"] = _capped(
                    statistics.median(implied.values()), [fam_by_id[f] for f in by_family]
                )
                update["family_decode_factors"] = {
                    f: _capped(statistics.median(v), [fam_by_id[f]])
                    for f, v in by_family.items()
                    if len(v) >= MIN_PATH_ROWS
                }
            engs.append(e.model_copy(update=update))
        cal = cal.model_copy(update={"engines": engs})
        cal = _fit_prefill_paths(cases, cal)
        if cal == before:
            break
    return cal


def _fit_prefill_paths(cases: list[Case | RowResult], cal: Calibration) -> Calibration:
    """Per engine: the prefill GEMM factor of each kernel path (family x weight format) with
    MIN_PATH_ROWS long-prompt rows of MIN_PREFILL_PATH_MODELS models (median implied
    factor), then the attention efficiency: the median of what the engine's depth sweeps
    imply (`_depth_sweep_attention`; MIN_PATH_ROWS of them, else 1: the platform's
    flash-attention rate)."""
    long_rows = {
        c.row: c
        for c in cases
        if isinstance(c, Case)
        and c.speculative is None
        and (c.prefill_tokens or 0) >= MIN_PREFILL_FIT_TOKENS
    }
    result = evaluate([*long_rows.values()], cal)
    engs = []
    for e in cal.engines:
        paths: dict[str, list[RowResult]] = {}
        for r in result.rows:
            if r.engine == e.engine and r.measured_prefill and r.predicted_prefill:
                paths.setdefault(f"{r.family}/{r.weights}", []).append(r)
        factors = {}
        for key, rows in paths.items():
            if (
                len(rows) < MIN_PATH_ROWS
                or len({long_rows[r.row].model for r in rows}) < MIN_PREFILL_PATH_MODELS
            ):
                continue
            family, weights = key.split("/", 1)
            implied = [
                math.log(
                    e.prefill_factor_on(family, weights)
                    * (r.measured_prefill or 0)
                    / (r.predicted_prefill or 1)
                )
                for r in rows
            ]
            factors[key] = round(math.exp(statistics.median(implied)), 3)
        e = e.model_copy(update={"path_prefill_factors": factors})
        engs.append(e)
    cal = cal.model_copy(update={"engines": engs})
    out = []
    for e in cal.engines:
        implied = _depth_sweep_attention(
            [c for c in long_rows.values() if c.engine == e.engine], cal
        )
        ae = (
            round(min(1.0, max(ATTENTION_EFFICIENCY_MIN, statistics.median(implied))), 3)
            if len(implied) >= MIN_PATH_ROWS
            else 1.0
        )
        out.append(e.model_copy(update={"attention_efficiency": ae}))
    return cal.model_copy(update={"engines": out})


def _depth_sweep_attention(rows: list[Case], cal: Calibration) -> list[float]:
    """Attention efficiencies implied by depth sweeps: two rows of one setup (platform,
    model, weights, units, prompt tokens) at different cached depths differ only by the
    attention over the extra depth, so ``(A_deep - A_shallow) / (t_deep - t_shallow)``
    (attention seconds at the flash-attention rate over measured seconds) is the rate the
    engine's attention kernels reach relative to the platform's figure."""
    sweeps: dict[tuple[Any, ...], list[Case]] = {}
    for c in rows:
        if c.base["measured_prefill"] and c.prefill_tokens:
            key = (
                c.family,
                c.model,
                c.weights,
                c.prefill_tokens,
                float(c.table["units_count"][0]),
                float(c.table["parallel_code"][0]),
            )
            sweeps.setdefault(key, []).append(c)
    implied = []
    for group in sweeps.values():
        base = min(group, key=lambda c: c.prefill_depth_tokens)
        for c in group:
            if c.prefill_depth_tokens <= base.prefill_depth_tokens:
                continue
            t_meas = (c.prefill_tokens or 1) / c.base["measured_prefill"] - (
                (base.prefill_tokens or 1) / base.base["measured_prefill"]
            )
            if t_meas <= 0:
                continue
            t_fa = _attention_s_at_rate(c, cal) - _attention_s_at_rate(base, cal)
            implied.append(t_fa / t_meas)
    return implied


def _attention_s_at_rate(case: Case, cal: Calibration) -> float:
    """The row's prefill attention seconds at the platform's flash-attention rate."""
    fam = next(f for f in cal.families if f.family == case.family)
    eng = next(e for e in cal.engines if e.engine == case.engine)
    t = dict(case.table)
    for key, value in kernel.calibration_columns(
        fam, eng, cal.layer_overhead_us, case.weights
    ).items():
        t[key] = np.array([value])
    t["attention_efficiency"] = np.array([1.0])
    return float(
        kernel.prefill_attention_s(
            t, np.array([case.prefill_tokens or 1.0]), case.prefill_depth_tokens
        )[0]
    )


def _path_factors(
    rows: list[RowResult], implied: dict[int, float], families: dict[str, FamilyCalibration]
) -> dict[str, float]:
    """Own decode factors of the kernel paths (family x weight format) of one engine whose
    rows number MIN_PATH_ROWS and come from at least MIN_PATH_SOURCES publications: one
    source's rows say how that setup ran, not how the path runs. On the reference engine
    the factor is relative to the family's efficiency (fitted on all its formats)."""
    paths: dict[tuple[str, str], list[RowResult]] = {}
    for r in rows:
        paths.setdefault((r.family, r.weights), []).append(r)
    own = {}
    for (family, weights), path in paths.items():
        if len(path) < MIN_PATH_ROWS or len({r.source_url for r in path}) < MIN_PATH_SOURCES:
            continue
        logs = [implied[r.row] for r in path]
        own[f"{family}/{weights}"] = _capped(statistics.median(logs), [families[family]])
    return own


def _path_cases(cases: list[Case | RowResult], family: str, engine: str) -> list[Case]:
    return [
        c
        for c in cases
        if isinstance(c, Case)
        and c.family == family
        and c.engine == engine
        and c.speculative is None
        and c.base["measured_decode"]
    ]


def _with_path(
    cal: Calibration,
    family: str,
    engine: str,
    overhead_us: float,
    scale: float,
    recurrent_us: float = 0.0,
    sequence_us: float | None = None,
) -> Calibration:
    """`cal` with the path's own per-layer overhead (and recurrent-layer extra) and its
    efficiency times `scale` (the engine's factor on the family, or for the reference engine
    the family's bandwidth efficiency), never above the family's read ceiling;
    `sequence_us` (None: keep the path's) sets its per-sequence step cost."""
    fam = next(f for f in cal.families if f.family == family)
    fams, engs = list(cal.families), []
    for e in cal.engines:
        if e.engine == engine:
            update: dict[str, Any] = {
                "family_layer_overhead_us": {
                    **e.family_layer_overhead_us,
                    family: float(overhead_us),
                },
                "family_recurrent_overhead_us": {
                    **{k: v for k, v in e.family_recurrent_overhead_us.items() if k != family},
                    **({family: float(recurrent_us)} if recurrent_us else {}),
                },
            }
            if sequence_us is not None:
                update["family_sequence_overhead_us"] = {
                    **{k: v for k, v in e.family_sequence_overhead_us.items() if k != family},
                    **({family: float(sequence_us)} if sequence_us else {}),
                }
            if engine != REFERENCE_ENGINE:
                update["family_decode_factors"] = {
                    **e.family_decode_factors,
                    family: _capped(math.log(e.decode_factor_on(family) * scale), [fam]),
                }
                update["path_decode_factors"] = {
                    k: _capped(math.log(v * scale), [fam]) if k.startswith(f"{family}/") else v
                    for k, v in e.path_decode_factors.items()
                }
            e = e.model_copy(update=update)
        engs.append(e)
    if engine == REFERENCE_ENGINE:
        fams = [
            f.model_copy(
                update={
                    "bandwidth_efficiency": round(
                        min(f.read_ceiling, f.bandwidth_efficiency * scale), 3
                    )
                }
            )
            if f.family == family
            else f
            for f in fams
        ]
    return cal.model_copy(update={"families": fams, "engines": engs})


def _path_error(path: list[Case], cal: Calibration) -> tuple[float, float]:
    """(median |log(measured / predicted)|, median log ratio) of a path's decode rows."""
    logs = [
        math.log(r.measured_decode / r.predicted_decode)
        for r in evaluate(list(path), cal, with_prefill=False).rows
        if r.measured_decode and r.predicted_decode
    ]
    return statistics.median(abs(x) for x in logs), statistics.median(logs)


def _parsimonious(trials: list[tuple[float, float, Calibration]]) -> Calibration:
    """The smallest overhead within PARSIMONY_PP points of the best median error."""
    best = min(t[0] for t in trials)
    return min((t for t in trials if t[0] <= best + PARSIMONY_PP), key=lambda t: t[1])[2]


def _sizes(rows: list[Case]) -> int:
    return len({round(float(c.table["active_params_count"][0]) / 1e9, 1) for c in rows})


def _fit_path_overheads(cases: list[Case | RowResult], cal: Calibration) -> Calibration:
    """Per kernel path (engine x platform family) whose decode rows span models of at least
    MIN_PATH_MODELS sizes and number MIN_PATH_ROWS: its own per-layer overhead, grid-searched
    with the path's efficiency refitted at each point. The size spread is what separates a
    fixed cost per layer from a bandwidth efficiency; a path without it keeps the global
    overhead. Where the path also has MIN_PATH_ROWS rows of hybrid models (linear-attention
    or Mamba-2 layers), the overhead and efficiency come from the attention-only rows and the
    hybrids' rows then fit the extra cost per recurrent layer."""
    for e in cal.engines:
        for f in cal.families:
            path = _path_cases(cases, f.family, e.engine)
            if len(path) < MIN_PATH_ROWS or _sizes(path) < MIN_PATH_MODELS:
                continue
            hybrid = [c for c in path if float(c.table["recurrent_layer_fraction"][0]) > 0]
            plain = [c for c in path if float(c.table["recurrent_layer_fraction"][0]) == 0]
            split = (
                len(hybrid) >= MIN_PATH_ROWS
                and len(plain) >= MIN_PATH_ROWS
                and _sizes(plain) >= MIN_PATH_MODELS
            )
            base = plain if split else path
            trials: list[tuple[float, float, Calibration]] = []
            for overhead_us in PATH_OVERHEAD_GRID_US:
                trial = _with_path(cal, f.family, e.engine, overhead_us, 1.0)
                trial = _with_path(
                    trial, f.family, e.engine, overhead_us, math.exp(_path_error(base, trial)[1])
                )
                trials.append((100 * _path_error(base, trial)[0], overhead_us, trial))
            cal = _parsimonious(trials)
            own = next(x for x in cal.engines if x.engine == e.engine)
            own_us = own.layer_overhead_us_on(f.family, 0.0)
            if split:
                cal = _parsimonious(
                    [
                        (100 * _path_error(hybrid, trial)[0], extra_us, trial)
                        for extra_us in RECURRENT_OVERHEAD_GRID_US
                        for trial in [_with_path(cal, f.family, e.engine, own_us, 1.0, extra_us)]
                    ]
                )
                own = next(x for x in cal.engines if x.engine == e.engine)
            cal = _fit_sequence_overhead(
                cal,
                path,
                f.family,
                e.engine,
                own_us,
                own.family_recurrent_overhead_us.get(f.family, 0.0),
            )
    return cal


def _step_cases(cases: list[Case | RowResult], cal: Calibration) -> list[Case]:
    """Decode rows (no speculation) of the families whose fixed cost is per decode step."""
    step = {f.family for f in cal.families if f.fixed_cost == "per_step"}
    return [
        c
        for c in cases
        if isinstance(c, Case)
        and c.family in step
        and c.speculative is None
        and c.base["measured_decode"]
    ]


def _step_note(cases: list[Case | RowResult], cal: Calibration) -> str:
    rows = _step_cases(cases, cal)
    us = next(f.step_overhead_us for f in cal.families if f.fixed_cost == "per_step")
    if len(rows) >= MIN_PATH_ROWS and _sizes(rows) >= MIN_PATH_MODELS:
        return (
            f"fixed cost {us:g} us per decode step, every engine (fitted on {len(rows)} "
            f"rows of {_sizes(rows)} model sizes of the per-step class: Apple, Metal)"
        )
    return (
        f"fixed cost {us:g} us per decode step: ASSUMPTION (fewer than {MIN_PATH_ROWS} "
        "rows of several model sizes in the per-step class: the value of the last fit)"
    )


def _with_step(cal: Calibration, step_us: float, scales: dict[str, float]) -> Calibration:
    """`cal` with every per-step family's fixed cost at `step_us` and its bandwidth efficiency
    times `scales[family]` (never above its read ceiling)."""
    return cal.model_copy(
        update={
            "families": [
                f.model_copy(
                    update={
                        "step_overhead_us": float(step_us),
                        "bandwidth_efficiency": round(
                            min(f.read_ceiling, f.bandwidth_efficiency * scales.get(f.family, 1.0)),
                            3,
                        ),
                    }
                )
                if f.fixed_cost == "per_step"
                else f
                for f in cal.families
            ]
        }
    )


def _fit_step_overheads(cases: list[Case | RowResult], cal: Calibration) -> Calibration:
    """The per-decode-step fixed cost of the per-step platform class (Apple unified memory:
    Metal command-buffer submission and synchronization per token, not per layer), one value
    for the class, grid-searched (STEP_OVERHEAD_GRID_US) with each family's bandwidth
    efficiency refitted on its own rows at each point, where the class has MIN_PATH_ROWS rows
    of MIN_PATH_MODELS model sizes (the size spread separates a fixed cost from a bandwidth
    efficiency); else the catalog's value is kept (an assumption, said in the note)."""
    rows = _step_cases(cases, cal)
    if len(rows) < MIN_PATH_ROWS or _sizes(rows) < MIN_PATH_MODELS:
        return cal
    families = {c.family for c in rows}
    trials: list[tuple[float, float, Calibration]] = []
    for step_us in STEP_OVERHEAD_GRID_US:
        trial = _with_step(cal, step_us, {})
        scales = {}
        for fam in families:
            own = [c for c in rows if c.family == fam]
            if len(own) >= MIN_FAMILY_ROWS:
                scales[fam] = math.exp(_path_error(own, trial)[1])
        trial = _with_step(trial, step_us, scales)
        trials.append((100 * _path_error(rows, trial)[0], step_us, trial))
    return _parsimonious(trials)


def _fit_sequence_overhead(
    cal: Calibration,
    path: list[Case],
    family: str,
    engine: str,
    overhead_us: float,
    recurrent_us: float,
) -> Calibration:
    """The path's per-sequence step cost, grid-searched (SEQUENCE_OVERHEAD_GRID_US) with the
    path's efficiency refitted at each point, where its rows hold MIN_PATH_ROWS rows at
    MIN_MULTI_STREAM+ streams from MIN_PATH_SOURCES publications: the spread of batch sizes
    is what separates a cost per sequence from the bytes a batch reads."""
    multi = [c for c in path if c.batch >= MIN_MULTI_STREAM]
    if len(multi) < MIN_PATH_ROWS or len({c.source_url for c in multi}) < MIN_PATH_SOURCES:
        return cal
    # separable from the bytes only where a source measured the same path on one unit and
    # on several at many streams (TP does not divide the cost, the bytes it does): with
    # only one layout the fit traded held-out error for in-sample (sglang on gb10: 600 µs,
    # in sample 6.4 -> 5.5 %, leave one source out 12.0 -> 12.1 %)
    layouts = {
        src: {float(c.table["units_count"][0]) > 1 for c in multi if c.source_url == src}
        for src in {c.source_url for c in multi}
    }
    if sum(1 for v in layouts.values() if v == {True, False}) < MIN_PATH_SOURCES:
        return cal
    if _at_read_ceiling(cal, family, engine, family_only=True):
        return cal  # the family already streams at its ceiling: no room to separate
    trials: list[tuple[float, float, Calibration]] = []
    for sequence_us in SEQUENCE_OVERHEAD_GRID_US:
        trial = _with_path(cal, family, engine, overhead_us, 1.0, recurrent_us, sequence_us)
        trial = _with_path(
            trial,
            family,
            engine,
            overhead_us,
            math.exp(_path_error(path, trial)[1]),
            recurrent_us,
            sequence_us,
        )
        if sequence_us and _at_read_ceiling(trial, family, engine):
            continue  # a cost that needs a faster-than-physical read is the wrong term
        trials.append((100 * _path_error(path, trial)[0], sequence_us, trial))
    return _parsimonious(trials)


def _at_read_ceiling(
    cal: Calibration, family: str, engine: str, *, family_only: bool = False
) -> bool:
    """Whether the family's efficiency (`family_only`) or any kernel path of `engine` on
    `family` streams at the family's read ceiling (it was capped: the bytes or the fixed
    costs are wrong, not the speed)."""
    fam = next(f for f in cal.families if f.family == family)
    eng = next(e for e in cal.engines if e.engine == engine)
    factors = (
        [1.0]
        if family_only
        else [eng.decode_factor_on(family)]
        + [v for k, v in eng.path_decode_factors.items() if k.startswith(f"{family}/")]
    )
    return any(fam.bandwidth_efficiency * f >= fam.read_ceiling - 1e-3 for f in factors)


def _families_with_prefill(result: CalibrationResult, cases: list[Case | RowResult]) -> set[str]:
    return {r.family for r in _prefill_rows(result, cases) if r.predicted_prefill}


#: Measured times to first token (benchmark row, prompt tokens, seconds), beside the
#: benchmarks file: the engines' fixed TTFT cost is fitted on the `use=fit` rows.
TTFT_FILE = "ttft.csv"
MIN_TTFT_ROWS = 2  # an engine's own fixed TTFT cost from this many measured TTFTs
#: ASSUMPTION for an engine without measured TTFTs and without fitted engines to borrow
#: from: a local server's HTTP + tokenizer + scheduling, tens of ms.
ASSUMED_TTFT_FIXED_S = 0.03


@dataclass(frozen=True)
class TtftRow:
    """A measured time to first token of a benchmark row's setup."""

    row: int
    prompt_tokens: float
    ttft_s: float
    use: str  # "fit" | "check"
    note: str
    source_url: str


def load_ttft_rows(path: Path) -> list[TtftRow]:
    """`data/ttft.csv` (empty list when the file is absent)."""
    if not path.exists():
        return []
    return [
        TtftRow(
            int(r["row"]),
            float(r["prompt_tokens"]),
            float(r["ttft_s"]),
            r["use"],
            r["note"],
            r["source_url"],
        )
        for r in load_rows(path)
    ]


def predicted_ttft_s(case: Case, cal: Calibration, prompt_tokens: float) -> float:
    """TTFT of the row's setup for a prompt of `prompt_tokens` under the constants `cal`
    (the engine's fixed cost + the prefill from an empty cache)."""
    fam = next(f for f in cal.families if f.family == case.family)
    eng = next(e for e in cal.engines if e.engine == case.engine)
    t = dict(case.table)
    for key, value in kernel.calibration_columns(
        fam, eng, cal.layer_overhead_us, case.weights
    ).items():
        t[key] = np.array([value])
    return float(kernel.ttft_s(t, np.array([float(prompt_tokens)]))[0])


def fit_ttft_fixed(
    cal: Calibration, cases: list[Case | RowResult], ttft_rows: list[TtftRow]
) -> Calibration:
    """Each engine's fixed time-to-first-token cost: the median of measured TTFT minus the
    predicted prefill of the prompt over its `use=fit` rows (MIN_TTFT_ROWS of them, never
    below 0); an engine with fewer takes the median of the fitted engines (stated in
    `ttft_fixed_note`), or ASSUMED_TTFT_FIXED_S when none is fitted."""
    by_row = {c.row: c for c in cases if isinstance(c, Case)}
    zero = cal.model_copy(
        update={"engines": [e.model_copy(update={"ttft_fixed_s": 0.0}) for e in cal.engines]}
    )
    residuals: dict[str, list[float]] = {}
    for m in ttft_rows:
        c = by_row.get(m.row)
        if m.use == "fit" and c is not None:
            residuals.setdefault(c.engine, []).append(
                m.ttft_s - predicted_ttft_s(c, zero, m.prompt_tokens)
            )
    own = {
        e: round(max(0.0, statistics.median(v)), 4)
        for e, v in residuals.items()
        if len(v) >= MIN_TTFT_ROWS
    }
    fallback = round(statistics.median(own.values()), 4) if own else ASSUMED_TTFT_FIXED_S
    engs = []
    for e in cal.engines:
        n = len(residuals.get(e.engine, []))
        if e.engine in own:
            value, note = (
                own[e.engine],
                (f"fitted: median of {n} measured TTFTs minus the predicted prefill ({TTFT_FILE})"),
            )
        else:
            value = fallback
            note = (
                (
                    f"ASSUMPTION: {n} measured TTFT (fewer than {MIN_TTFT_ROWS}); the median "
                    "of the fitted engines' fixed costs"
                )
                if own
                else "ASSUMPTION: no measured TTFT; a local server's HTTP + tokenizer + scheduling"
            )
        engs.append(e.model_copy(update={"ttft_fixed_s": value, "ttft_fixed_note": note}))
    return cal.model_copy(update={"engines": engs})


def fit(catalog: Catalog, path: Path, *, rounds: int = 4) -> tuple[Calibration, CalibrationResult]:
    """Fit the constants on every evaluable row of `path` (see `fit_cases`), then the
    engines' fixed TTFT cost on the measured TTFTs beside it (`fit_ttft_fixed`)."""
    cases = prepare(load_rows(path), catalog)
    cal, result = fit_cases(catalog.calibration, cases, rounds=rounds)
    cal = fit_ttft_fixed(cal, cases, load_ttft_rows(path.with_name(TTFT_FILE)))
    return cal.model_copy(
        update={"fitted_on": f"{path.name}, {len(result.evaluated)} evaluated rows, {date.today()}"}
    ), result


def canonical_start(cal: Calibration, cases: list[Case | RowResult]) -> Calibration:
    """`cal` with every fitted constant at a neutral value, so that a fit is a function of
    the rows and the catalog's fixed inputs (read ceilings, fixed-cost classes, engine
    prefill factors), not of the constants it starts from: refitting from the last fit's
    block used to alternate between two fits (global per-layer overhead 25 -> 20 -> 25 µs).
    Families stream at NEUTRAL_BANDWIDTH_EFFICIENCY (never above their read ceiling) and
    compute at NEUTRAL_COMPUTE_EFFICIENCY; engines at factor 1 with no own paths, overheads
    or attention factor; the per-step class's fixed cost at 0 where its rows fit it (else
    the catalog's value is kept: an assumption, said in the family's note)."""
    fit_step = (
        len(rows := _step_cases(cases, cal)) >= MIN_PATH_ROWS and _sizes(rows) >= MIN_PATH_MODELS
    )
    return cal.model_copy(
        update={
            "families": [
                f.model_copy(
                    update={
                        "bandwidth_efficiency": min(f.read_ceiling, NEUTRAL_BANDWIDTH_EFFICIENCY),
                        "prefill_compute_efficiency": NEUTRAL_COMPUTE_EFFICIENCY,
                        "decode_compute_efficiency": NEUTRAL_COMPUTE_EFFICIENCY,
                        **(
                            {"step_overhead_us": 0.0}
                            if fit_step and f.fixed_cost == "per_step"
                            else {}
                        ),
                    }
                )
                for f in cal.families
            ],
            "engines": [
                e.model_copy(
                    update={
                        "decode_factor": 1.0,
                        "family_decode_factors": {},
                        "path_decode_factors": {},
                        "family_layer_overhead_us": {},
                        "family_recurrent_overhead_us": {},
                        "family_sequence_overhead_us": {},
                        "path_prefill_factors": {},
                        "attention_efficiency": 1.0,
                    }
                )
                for e in cal.engines
            ],
        }
    )


def fit_cases(
    start: Calibration,
    cases: list[Case | RowResult],
    *,
    rounds: int = 4,
    overheads_us: tuple[float, ...] | None = None,
) -> tuple[Calibration, CalibrationResult]:
    """Grid-search the global per-layer overhead; fit efficiencies at each grid point.

    A family with fewer than MIN_FAMILY_ROWS evaluable decode rows takes the median
    bandwidth efficiency of the others (its rows then check the model out of sample);
    families without long-prompt prefill rows get the median prefill efficiency of the
    families that have them. Both are stated in the family's note.
    """
    trials = []
    grid = LAYER_OVERHEAD_GRID_US if overheads_us is None else overheads_us
    start = canonical_start(start, cases)
    for overhead_us in grid:
        cal = start.model_copy(update={"layer_overhead_us": float(overhead_us)})
        cal = _fit_efficiencies(cases, cal, rounds)
        trials.append((evaluate(cases, cal).mape("decode"), overhead_us, cal))
    # Parsimony: the smallest overhead within PARSIMONY_PP points of the best error.
    best_mape = min(t[0] for t in trials)
    cal = min((t for t in trials if t[0] <= best_mape + PARSIMONY_PP), key=lambda t: t[1])[2]
    for _ in range(PATH_PASSES):
        cal = _fit_efficiencies(
            cases, _fit_step_overheads(cases, _fit_path_overheads(cases, cal)), rounds
        )
    result = evaluate(cases, cal)
    cal = cal.model_copy(
        update={
            "families": _noted_families(cal, result, cases),
            "engines": [
                e.model_copy(
                    update={
                        "decode_borrowed": _engine_borrowed(e, result),
                        "note": _engine_note(e, result, cases),
                    }
                )
                for e in cal.engines
            ],
        }
    )
    result = evaluate(cases, cal)
    cal = cal.model_copy(update={"median_abs_pct_error": round(result.mape("decode"), 1)})
    return cal, result


def _noted_families(
    cal: Calibration, result: CalibrationResult, cases: list[Case | RowResult]
) -> list[FamilyCalibration]:
    """`cal`'s families with their notes (rows fitted on, fallbacks taken), the per-step
    engines of a per-step family, and the median prefill efficiency of the others for a
    family without prefill rows."""
    have = _families_with_prefill(result, cases)
    fitted = [f.prefill_compute_efficiency for f in cal.families if f.family in have]
    fallback = round(statistics.median(fitted), 3) if fitted else 0.3
    fams = []
    for f in cal.families:
        own = [r for r in result.evaluated if r.family == f.family]
        n_pf = sum(1 for r in _prefill_rows(result, cases) if r.family == f.family)
        note = (
            f"{len(own)} decode rows, {n_pf} prefill rows (prompts >= "
            f"{MIN_PREFILL_FIT_TOKENS} tokens)"
        )
        decode_borrowed = len(own) < MIN_FAMILY_ROWS
        if decode_borrowed:
            note += "; too few decode rows: median bandwidth efficiency of the other families"
        if f.fixed_cost == "per_step":
            note += "; " + _step_note(cases, cal)
            step_rows = _step_cases(cases, cal)
            if len(step_rows) >= MIN_PATH_ROWS and _sizes(step_rows) >= MIN_PATH_MODELS:
                f = f.model_copy(
                    update={"step_overhead_engines": sorted({c.engine for c in step_rows})}
                )
        prefill_borrowed = f.family not in have
        if prefill_borrowed:
            f = f.model_copy(
                update={
                    "prefill_compute_efficiency": fallback,
                    "decode_compute_efficiency": fallback,
                }
            )
            note += "; no prefill rows: median prefill efficiency of the other families"
        fams.append(
            f.model_copy(
                update={
                    "decode_borrowed": decode_borrowed,
                    "prefill_borrowed": prefill_borrowed,
                    "note": note,
                    "source": ["data/benchmarks.csv"],
                }
            )
        )
    return fams


def _engine_borrowed(e: EngineCalibration, result: CalibrationResult) -> bool:
    """True where engine `e` has no evaluated decode rows and is not the reference engine:
    its factors are then the reference engine's (llama.cpp), an assumption."""
    return e.engine != REFERENCE_ENGINE and not any(r.engine == e.engine for r in result.evaluated)


def _engine_note(
    e: EngineCalibration, result: CalibrationResult, cases: list[Case | RowResult]
) -> str:
    """The note of engine calibration `e`: rows fitted on and the constants of its own."""
    n = sum(1 for r in result.evaluated if r.engine == e.engine)
    own_text = ", ".join(
        f"{f}: {sum(1 for r in result.evaluated if r.engine == e.engine and r.family == f)} rows"
        for f in e.family_decode_factors
    )
    note = (
        "reference engine (factor 1 by definition)"
        if e.engine == REFERENCE_ENGINE
        else "no rows: assumed equal to llama.cpp"
        if _engine_borrowed(e, result)
        else (f"{n} decode rows" + (f"; own factor on {own_text}" if own_text else ""))
    )
    if e.path_decode_factors:
        rows_on = Counter(
            f"{r.family}/{r.weights}" for r in result.evaluated if r.engine == e.engine
        )
        note += "; own factor on kernel paths " + ", ".join(
            f"{k} ({rows_on[k]} rows)" for k in sorted(e.path_decode_factors)
        )
    if e.family_layer_overhead_us:
        note += "; own per-layer overhead (rows of several model sizes) on " + ", ".join(
            e.family_layer_overhead_us
        )
    if e.family_recurrent_overhead_us:
        note += (
            "; extra per recurrent-state layer (hybrid and attention-only rows) on "
            + ", ".join(e.family_recurrent_overhead_us)
        )
    if e.family_sequence_overhead_us:
        note += "; per-sequence step cost (rows at several concurrencies) on " + ", ".join(
            e.family_sequence_overhead_us
        )
    if e.path_prefill_factors:
        pf_on = Counter(
            f"{r.family}/{r.weights}" for r in _prefill_rows(result, cases) if r.engine == e.engine
        )
        note += "; own prefill GEMM factor on kernel paths " + ", ".join(
            f"{k} ({pf_on[k]} rows)" for k in sorted(e.path_prefill_factors)
        )
    if e.attention_efficiency < 1.0:
        note += (
            f"; prefill attention at {e.attention_efficiency:g} x the platform's "
            "flash-attention rate (depth sweeps)"
        )
    return note


def cross_validate(
    catalog: Catalog, cases: list[Case | RowResult], key: Callable[[Case], str]
) -> CalibrationResult:
    """Every evaluable row predicted by constants refitted without its group (`key`): the
    efficiencies are refitted per fold, the global per-layer overhead is held at the
    catalog's value (a grid search per fold would take minutes and fits 0 either way)."""
    evaluable = [c for c in cases if isinstance(c, Case)]
    held_out: list[RowResult] = []
    for group in sorted({key(c) for c in evaluable}):
        train = [c for c in cases if not (isinstance(c, Case) and key(c) == group)]
        cal, _ = fit_cases(
            catalog.calibration, train, overheads_us=(catalog.calibration.layer_overhead_us,)
        )
        held_out += [predict(c, cal) for c in evaluable if key(c) == group]
    return CalibrationResult(sorted(held_out, key=lambda r: r.row))


#: How the cross-validation groups rows: by publication, and by model family.
CV_GROUPINGS: dict[str, Callable[[Case], str]] = {
    "source": lambda c: c.source_url,
    "model family": lambda c: c.model_family,
}


BAND_QUANTILE = 0.8  # the band holds this share of held-out predictions
MIN_BAND_ROWS = 5  # fewer held-out rows in a family: at least the pooled band


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def error_bands(held_out: CalibrationResult) -> dict[str, tuple[float, float]]:
    """Per platform family: (decode ±%, prefill ±%) that hold BAND_QUANTILE of the held-out
    predictions (|log(predicted / measured)|). A family with fewer than MIN_BAND_ROWS rows
    takes the larger of its own and the pooled band; with none, the pooled band."""

    def logs(kind: str, family: str | None) -> list[float]:
        out = []
        for r in held_out.evaluated:
            m, p = (
                (r.measured_decode, r.predicted_decode)
                if kind == "decode"
                else (r.measured_prefill, r.predicted_prefill)
            )
            if m and p and (family is None or r.family == family):
                out.append(abs(math.log(p / m)))
        return out

    def band(kind: str, family: str) -> float:
        pooled = _quantile(logs(kind, None), BAND_QUANTILE)
        own = logs(kind, family)
        q = (
            _quantile(own, BAND_QUANTILE)
            if len(own) >= MIN_BAND_ROWS
            else max(pooled, _quantile(own, BAND_QUANTILE) if own else 0.0)
        )
        return round(100 * (math.exp(q) - 1))

    return {
        f: (band("decode", f), band("prefill", f))
        for f in sorted({r.family for r in held_out.evaluated})
    }


def within(result: CalibrationResult, kind: str = "decode", bound: float = 0.25) -> float:
    """Share of the evaluated rows predicted within `bound` (0.25 = 25 %)."""
    errs = [
        abs(e)
        for r in result.evaluated
        if (e := (r.decode_error if kind == "decode" else r.prefill_error)) is not None
    ]
    return sum(e <= bound for e in errs) / len(errs) if errs else float("nan")


def _with_calibration(catalog: Catalog, cal: Calibration) -> Catalog:
    return catalog.model_copy(update={"calibration": cal})


def _yaml_bool(flag: bool) -> str:
    return "true" if flag else "false"


def fit_constants(catalog: Catalog, path: Path) -> str:
    """Fit and render the `calibration:` block of catalog.yaml as YAML (to paste in)."""
    cal, result = fit(catalog, path)
    held_out = cross_validated_results(_with_calibration(catalog, cal), path)
    bands = error_bands(held_out["leave one source out"])
    out = [
        f"# Fitted by `python -m sizing calibrate --fit` on {cal.fitted_on}: decode MAPE "
        f"{result.mape('decode'):.1f}%, prefill MAPE {result.mape('prefill'):.1f}%.",
        "calibration:",
        f'  fitted_on: "{cal.fitted_on}"',
        f"  median_abs_pct_error: {cal.median_abs_pct_error}",
        "  cross_validated: {"
        + ", ".join(f"{k}: {v}" for k, v in cross_validated_summary(held_out).items())
        + "}",
        f"  layer_overhead_us: {cal.layer_overhead_us}",
        "  families:",
    ]
    for f in cal.families:
        decode_band, prefill_band = bands.get(f.family, (f.decode_band_pct, f.prefill_band_pct))
        out.append(
            f"    - {{family: {f.family}, bandwidth_efficiency: {f.bandwidth_efficiency}, "
            + (f"read_ceiling: {f.read_ceiling}, " if f.read_ceiling < 1 else "")
            + f"prefill_compute_efficiency: {f.prefill_compute_efficiency}, "
            f"decode_compute_efficiency: {f.decode_compute_efficiency}, "
            f"decode_band_pct: {decode_band:g}, prefill_band_pct: {prefill_band:g}, "
            + (
                f"fixed_cost: per_step, step_overhead_us: {f.step_overhead_us:g}, "
                f"step_overhead_engines: [{', '.join(f.step_overhead_engines)}], "
                if f.fixed_cost == "per_step"
                else ""
            )
            + f"decode_borrowed: {_yaml_bool(f.decode_borrowed)}, "
            f"prefill_borrowed: {_yaml_bool(f.prefill_borrowed)}, "
            f'note: "{f.note}", source: [data/benchmarks.csv]}}'
        )
    out.append("  engines:")
    for e in cal.engines:
        own = ", ".join(f"{f}: {v}" for f, v in e.family_decode_factors.items())
        lat = ", ".join(f"{f}: {v:g}" for f, v in e.family_layer_overhead_us.items())
        rec = ", ".join(f"{f}: {v:g}" for f, v in e.family_recurrent_overhead_us.items())
        seq = ", ".join(f"{f}: {v:g}" for f, v in e.family_sequence_overhead_us.items())
        paths = ", ".join(f"{k}: {v}" for k, v in sorted(e.path_decode_factors.items()))
        pf_paths = ", ".join(f"{k}: {v}" for k, v in sorted(e.path_prefill_factors.items()))
        out.append(
            f"    - {{engine: {e.engine}, decode_factor: {e.decode_factor}, "
            f"prefill_factor: {e.prefill_factor}, "
            + (f"family_decode_factors: {{{own}}}, " if own else "")
            + (f"path_decode_factors: {{{paths}}}, " if paths else "")
            + (f"family_layer_overhead_us: {{{lat}}}, " if lat else "")
            + (f"family_recurrent_overhead_us: {{{rec}}}, " if rec else "")
            + (f"family_sequence_overhead_us: {{{seq}}}, " if seq else "")
            + (f"path_prefill_factors: {{{pf_paths}}}, " if pf_paths else "")
            + f"attention_efficiency: {e.attention_efficiency}, "
            f'ttft_fixed_s: {e.ttft_fixed_s}, ttft_fixed_note: "{e.ttft_fixed_note}", '
            f"decode_borrowed: {_yaml_bool(e.decode_borrowed)}, "
            f'note: "{e.note}"}}'
        )
    return "\n".join(out)


__all__ = [
    "CalibrationResult",
    "Case",
    "RowResult",
    "cross_validate",
    "cross_validated_results",
    "cross_validated_summary",
    "fit",
    "fit_cases",
    "fit_constants",
    "format_report",
    "run_calibration",
    "within",
]
