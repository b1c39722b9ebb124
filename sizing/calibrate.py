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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sizing import kernel
from sizing.catalog import Calibration, Catalog, FamilyCalibration
from sizing.memory import table_for
from sizing.scenario import Scenario, ScenarioError, resolve

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
    speculative: str | None = None          # "MTP k=3, prose": evaluated, not fitted
    predicted_decode_low: float | None = None    # at the ends of the acceptance range
    predicted_decode_high: float | None = None

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
        errs = [abs(e) for r in self.evaluated
                if (e := (r.decode_error if kind == "decode" else r.prefill_error)) is not None]
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
    model_family: str
    table: kernel.Table
    mem: kernel.Table
    batch: float
    aggregate: bool
    prefill_tokens: float | None
    prefill_depth_tokens: float
    speculative: str | None = None
    accept_range: tuple[float, float] | None = None

    @property
    def row(self) -> int:
        return int(self.base["row"])

    @property
    def source_url(self) -> str:
        return str(self.base["source_url"])


def prepare_row(row: dict[str, str], catalog: Catalog) -> Case | RowResult:
    """Resolve one benchmark row (a skipped row comes back as its RowResult)."""
    label = (f"{row['system'][:34]} x{row['units']} | {row['model'][:34]} | "
             f"{row['weight_quant'][:14]} | {row['engine'][:22]} | c{row['concurrency']}")
    base = dict(row=int(row["row"]), label=label, source_url=row["source_url"],
                measured_decode=_num(row["decode_tok_s"]),
                measured_prefill=_num(row["prefill_tok_s"]))
    if row["evaluate"] != "yes":
        return RowResult(family="", engine="", predicted_decode=None, predicted_prefill=None,
                         skip_reason=row["skip_reason"] or "not evaluable", **base)
    try:
        scenario = Scenario(platform=row["platform_id"], units=int(row["units_eval"]),
                            parallel=row["parallel_id"], model=row["model_id"],
                            weights=row["weights_id"], kv_dtype=row["kv_dtype_id"],
                            engine=row["engine_id"],
                            context_tokens=max(1, int(row["decode_context_tokens"])),
                            concurrency=int(row["concurrency_eval"]),
                            speculative=row.get("spec_method") or "none",
                            spec_draft_tokens=int(row["spec_draft_tokens"])
                            if row.get("spec_draft_tokens") else None,
                            spec_content=row.get("spec_content") or "prose")
        r = resolve(scenario, catalog)
    except ScenarioError as exc:
        return RowResult(family="", engine="", predicted_decode=None, predicted_prefill=None,
                         skip_reason=f"cannot evaluate: {exc}", **base)
    t = table_for(r, catalog)
    tokens = _num(row.get("prefill_tokens"))
    return Case(base=base, family=r.platform.family, engine=r.engine.id,
                model_family=r.model.family, table=t, mem=kernel.memory(t),
                batch=float(row["concurrency_eval"]),
                aggregate=row["decode_metric"] == "aggregate",
                prefill_tokens=tokens if tokens and base["measured_prefill"] else None,
                prefill_depth_tokens=_num(row.get("prefill_depth_tokens")) or 0.0,
                speculative=r.spec.label if r.spec else None,
                accept_range=(r.spec.accept_low, r.spec.accept_high) if r.spec else None)


def predict(case: Case, cal: Calibration) -> RowResult:
    """The row's decode (and prefill) figures under the constants `cal`."""
    fam = next(f for f in cal.families if f.family == case.family)
    eng = next(e for e in cal.engines if e.engine == case.engine)
    t = dict(case.table)
    for key, value in kernel.calibration_columns(fam, eng, cal.layer_overhead_us).items():
        t[key] = np.array([value])
    d = kernel.decode(t, case.mem, batch=np.array([case.batch]))
    key = "total" if case.aggregate else "per_request"
    predicted = float(d[key][0])
    ends: list[float | None] = [None, None]
    if case.accept_range is not None:
        for n, rate in enumerate(case.accept_range):
            ends[n] = float(kernel.decode({**t, "spec_accept": np.array([rate])}, case.mem,
                                          batch=np.array([case.batch]))[key][0])
    prefill = None
    if case.prefill_tokens:
        seconds = kernel.prefill(t, np.array([case.prefill_tokens]), case.prefill_depth_tokens)
        prefill = case.prefill_tokens / float(seconds[0])
    return RowResult(family=case.family, engine=case.engine,
                     predicted_decode=predicted if case.base["measured_decode"] else None,
                     predicted_prefill=prefill, speculative=case.speculative,
                     predicted_decode_low=ends[0], predicted_decode_high=ends[1], **case.base)


def prepare(rows: list[dict[str, str]], catalog: Catalog) -> list[Case | RowResult]:
    return [prepare_row(r, catalog) for r in rows]


def evaluate(cases: list[Case | RowResult], cal: Calibration) -> CalibrationResult:
    return CalibrationResult([predict(c, cal) if isinstance(c, Case) else c for c in cases])


def evaluate_row(row: dict[str, str], catalog: Catalog) -> RowResult:
    """Predict one benchmark row's decode (and prefill) figures."""
    case = prepare_row(row, catalog)
    return predict(case, catalog.calibration) if isinstance(case, Case) else case


def run_calibration(catalog: Catalog, path: Path) -> CalibrationResult:
    return evaluate(prepare(load_rows(path), catalog), catalog.calibration)


def cross_validated_summary(results: dict[str, CalibrationResult]) -> dict[str, float]:
    """``{"leave one source out decode": 13.9, ...}``: median absolute % error per grouping
    and kind (the held-out groupings only), rounded to 0.1."""
    return {f"{name} {kind}": round(r.mape(kind), 1) for name, r in results.items()
            if name.startswith("leave") for kind in ("decode", "prefill")}


def cross_validated_results(catalog: Catalog, path: Path) -> dict[str, CalibrationResult]:
    """In-sample error of a refit on every row, then leave one source / model family out."""
    cases = prepare(load_rows(path), catalog)
    refit, in_sample = fit_cases(catalog.calibration, cases,
                                 overheads_us=(catalog.calibration.layer_overhead_us,))
    del refit
    out = {"refit on all rows (in sample)": in_sample}
    for name, key in CV_GROUPINGS.items():
        out[f"leave one {name} out"] = cross_validate(catalog, cases, key)
    return out


def format_report(result: CalibrationResult,
                  cross_validated: dict[str, CalibrationResult] | None = None) -> str:
    """Measured vs predicted per row, skipped rows with reasons, the cross-validated error
    per grouping (if given), then the error summary of the catalog's constants."""
    lines = ["Decode tok/s: measured vs predicted (per request, or aggregate where c>1)", ""]
    lines.append(f"{'row':>3}  {'benchmark':<124} {'meas':>8} {'pred':>8} {'err':>7}"
                 f"   {'pf meas':>8} {'pf pred':>8} {'err':>7}")
    for r in result.evaluated:
        de, pe = r.decode_error, r.prefill_error
        lines.append(
            f"{r.row:>3}  {r.label:<124} {_f(r.measured_decode):>8} {_f(r.predicted_decode):>8} "
            f"{_pct(de):>7}   {_f(r.measured_prefill):>8} {_f(r.predicted_prefill):>8} "
            f"{_pct(pe):>7}")
    if result.speculative:
        lines += ["", "Speculative decoding rows (predicted at the central acceptance, range at "
                      "the published acceptance range; not used in the fit or the error "
                      "figures below):"]
        for r in result.speculative:
            inside = (r.measured_decode is not None and r.predicted_decode_low is not None
                      and r.predicted_decode_high is not None
                      and r.predicted_decode_low <= r.measured_decode
                      <= r.predicted_decode_high)
            lines.append(
                f"{r.row:>3}  {r.label:<90} {r.speculative:<18} meas {_f(r.measured_decode)} "
                f"pred {_f(r.predicted_decode)} ({_f(r.predicted_decode_low)}-"
                f"{_f(r.predicted_decode_high)}) {_pct(r.decode_error)}"
                f"{'' if inside else '  outside the range'}")
    lines += ["", f"Skipped ({len(result.skipped)} rows):"]
    for r in result.skipped:
        lines.append(f"{r.row:>3}  {r.label:<124} {r.skip_reason}")
    n_dec = sum(1 for r in result.evaluated if r.decode_error is not None)
    n_pf = sum(1 for r in result.evaluated if r.prefill_error is not None)
    if cross_validated:
        lines += ["", "Refitted constants (efficiencies refitted, per-layer overhead held at "
                      "the catalog's), median absolute percentage error (share within 25 %):"]
        for name, cv in cross_validated.items():
            lines.append(f"  {name:<28} decode {cv.mape('decode'):5.1f}% "
                         f"({100 * within(cv, 'decode'):.0f}%)   prefill "
                         f"{cv.mape('prefill'):5.1f}% ({100 * within(cv, 'prefill'):.0f}%)")
    lines += ["", f"Prefill: median absolute percentage error {result.mape('prefill'):.1f}% "
                  f"over {n_pf} rows",
              f"Decode: median absolute percentage error {result.mape('decode'):.1f}% over "
              f"{n_dec} evaluated rows ({len(result.skipped)} skipped)"]
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.0f}%"


# ----------------------------------------------------------------------------- fitting
MIN_PREFILL_FIT_TOKENS = 512     # shorter prompts are launch-bound, not compute-bound
MIN_FAMILY_ROWS = 2              # fewer rows than this: no family-specific constant
MIN_PATH_ROWS = 3                # an engine gets its own factor on a family from this many
PARSIMONY_PP = 0.5               # MAPE points traded for a smaller per-layer overhead
LAYER_OVERHEAD_GRID_US = tuple(range(0, 101, 5))


def _median_log_ratio(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    logs = [math.log(m / p) for m, p in pairs if m and p]
    return statistics.median(logs) if logs else None


def _prefill_rows(result: CalibrationResult, cases: list[Case | RowResult]) -> list[RowResult]:
    long_prompt = {c.row for c in cases if isinstance(c, Case)
                   and (c.prefill_tokens or 0) >= MIN_PREFILL_FIT_TOKENS}
    return [r for r in result.evaluated if r.row in long_prompt]


def _capped(log_factor: float, families: list[FamilyCalibration]) -> float:
    """An engine factor, never streaming faster than the families' measured read ceiling."""
    ceiling = min(f.read_ceiling / f.bandwidth_efficiency for f in families)
    return round(min(math.exp(log_factor), ceiling), 3)


def _fit_efficiencies(cases: list[Case | RowResult], cal: Calibration,
                      rounds: int) -> Calibration:
    """Alternate: family efficiencies on reference-engine rows, then engine factors."""
    for _ in range(rounds):
        result = evaluate(cases, cal)
        prefill_rows = _prefill_rows(result, cases)
        fams = []
        for f in cal.families:
            own = [r for r in result.evaluated if r.family == f.family]
            ref = [r for r in own if r.engine == REFERENCE_ENGINE] or own
            if len(own) < MIN_FAMILY_ROWS:
                ref = []
            dec = _median_log_ratio((r.measured_decode, r.predicted_decode) for r in ref)
            pf = _median_log_ratio((r.measured_prefill, r.predicted_prefill)
                                   for r in prefill_rows if r.family == f.family)
            bw = f.bandwidth_efficiency * math.exp(dec or 0.0)
            pfe = f.prefill_compute_efficiency * math.exp(pf or 0.0)
            fams.append(f.model_copy(update={
                "bandwidth_efficiency": round(min(f.read_ceiling, bw), 3),
                "prefill_compute_efficiency": round(min(1.0, pfe), 3),
                "decode_compute_efficiency": round(min(1.0, pfe), 3)}))
        fitted = [f.bandwidth_efficiency for f in fams if sum(
            1 for r in result.evaluated if r.family == f.family) >= MIN_FAMILY_ROWS]
        if fitted:
            pooled = round(statistics.median(fitted), 3)
            fams = [f if sum(1 for r in result.evaluated if r.family == f.family)
                    >= MIN_FAMILY_ROWS else f.model_copy(update={"bandwidth_efficiency": pooled})
                    for f in fams]
        cal = cal.model_copy(update={"families": fams})
        result = evaluate(cases, cal)
        engs = []
        fam_by_id = {f.family: f for f in cal.families}
        for e in cal.engines:
            if e.engine == REFERENCE_ENGINE:
                engs.append(e)
                continue
            # the engine factor each row implies (measured / predicted x the one it used)
            implied: dict[str, list[float]] = {}
            for r in result.evaluated:
                if r.engine == e.engine and r.measured_decode and r.predicted_decode:
                    implied.setdefault(r.family, []).append(
                        math.log(e.decode_factor_on(r.family) * r.measured_decode
                                 / r.predicted_decode))
            if not implied:
                engs.append(e)
                continue

            everywhere = _capped(statistics.median([x for v in implied.values() for x in v]),
                                 [fam_by_id[f] for f in implied])
            own = {f: _capped(statistics.median(v), [fam_by_id[f]]) for f, v in implied.items()
                   if len(v) >= MIN_PATH_ROWS}
            engs.append(e.model_copy(update={"decode_factor": everywhere,
                                             "family_decode_factors": own}))
        cal = cal.model_copy(update={"engines": engs})
    return cal


def _families_with_prefill(result: CalibrationResult,
                           cases: list[Case | RowResult]) -> set[str]:
    return {r.family for r in _prefill_rows(result, cases) if r.predicted_prefill}


def fit(catalog: Catalog, path: Path, *, rounds: int = 4) -> tuple[Calibration,
                                                                   CalibrationResult]:
    """Fit the constants on every evaluable row of `path` (see `fit_cases`)."""
    cases = prepare(load_rows(path), catalog)
    cal, result = fit_cases(catalog.calibration, cases, rounds=rounds)
    return cal.model_copy(update={
        "fitted_on": f"{path.name}, {len(result.evaluated)} evaluated rows, {date.today()}"}
    ), result


def fit_cases(start: Calibration, cases: list[Case | RowResult], *, rounds: int = 4,
              overheads_us: tuple[float, ...] | None = None
              ) -> tuple[Calibration, CalibrationResult]:
    """Grid-search the global per-layer overhead; fit efficiencies at each grid point.

    A family with fewer than MIN_FAMILY_ROWS evaluable decode rows takes the median
    bandwidth efficiency of the others (its rows then check the model out of sample);
    families without long-prompt prefill rows get the median prefill efficiency of the
    families that have them. Both are stated in the family's note.
    """
    trials = []
    grid = LAYER_OVERHEAD_GRID_US if overheads_us is None else overheads_us
    for overhead_us in grid:
        cal = start.model_copy(update={"layer_overhead_us": float(overhead_us)})
        cal = _fit_efficiencies(cases, cal, rounds)
        trials.append((evaluate(cases, cal).mape("decode"), overhead_us, cal))
    # Parsimony: the smallest overhead within PARSIMONY_PP points of the best error.
    best_mape = min(t[0] for t in trials)
    cal = min((t for t in trials if t[0] <= best_mape + PARSIMONY_PP), key=lambda t: t[1])[2]
    result = evaluate(cases, cal)
    have = _families_with_prefill(result, cases)
    fitted = [f.prefill_compute_efficiency for f in cal.families if f.family in have]
    fallback = round(statistics.median(fitted), 3) if fitted else 0.3
    fams = []
    for f in cal.families:
        own = [r for r in result.evaluated if r.family == f.family]
        n_pf = sum(1 for r in _prefill_rows(result, cases) if r.family == f.family)
        note = (f"{len(own)} decode rows, {n_pf} prefill rows (prompts >= "
                f"{MIN_PREFILL_FIT_TOKENS} tokens)")
        if len(own) < MIN_FAMILY_ROWS:
            note += "; too few decode rows: median bandwidth efficiency of the other families"
        if f.family not in have:
            f = f.model_copy(update={"prefill_compute_efficiency": fallback,
                                     "decode_compute_efficiency": fallback})
            note += "; no prefill rows: median prefill efficiency of the other families"
        fams.append(f.model_copy(update={"note": note, "source": ["data/benchmarks.csv"]}))
    engs = []
    for e in cal.engines:
        n = sum(1 for r in result.evaluated if r.engine == e.engine)
        own = ", ".join(
            f"{f}: {sum(1 for r in result.evaluated if r.engine == e.engine and r.family == f)}"
            " rows" for f in e.family_decode_factors)
        note = ("reference engine (factor 1 by definition)" if e.engine == REFERENCE_ENGINE
                else (f"{n} decode rows" + (f"; own factor on {own}" if own else ""))
                if n else "no rows: assumed equal to llama.cpp")
        engs.append(e.model_copy(update={"note": note}))
    cal = cal.model_copy(update={"families": fams, "engines": engs})
    result = evaluate(cases, cal)
    cal = cal.model_copy(update={"median_abs_pct_error": round(result.mape("decode"), 1)})
    return cal, result


def cross_validate(catalog: Catalog, cases: list[Case | RowResult],
                   key: Callable[[Case], str]) -> CalibrationResult:
    """Every evaluable row predicted by constants refitted without its group (`key`): the
    efficiencies are refitted per fold, the global per-layer overhead is held at the
    catalog's value (a grid search per fold would take minutes and fits 0 either way)."""
    evaluable = [c for c in cases if isinstance(c, Case)]
    held_out: list[RowResult] = []
    for group in sorted({key(c) for c in evaluable}):
        train = [c for c in cases if not (isinstance(c, Case) and key(c) == group)]
        cal, _ = fit_cases(catalog.calibration, train,
                           overheads_us=(catalog.calibration.layer_overhead_us,))
        held_out += [predict(c, cal) for c in evaluable if key(c) == group]
    return CalibrationResult(sorted(held_out, key=lambda r: r.row))


#: How the cross-validation groups rows: by publication, and by model family.
CV_GROUPINGS: dict[str, Callable[[Case], str]] = {
    "source": lambda c: c.source_url,
    "model family": lambda c: c.model_family,
}


BAND_QUANTILE = 0.8        # the band holds this share of held-out predictions
MIN_BAND_ROWS = 5          # fewer held-out rows in a family: at least the pooled band


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
            m, p = ((r.measured_decode, r.predicted_decode) if kind == "decode"
                    else (r.measured_prefill, r.predicted_prefill))
            if m and p and (family is None or r.family == family):
                out.append(abs(math.log(p / m)))
        return out

    def band(kind: str, family: str) -> float:
        pooled = _quantile(logs(kind, None), BAND_QUANTILE)
        own = logs(kind, family)
        q = (_quantile(own, BAND_QUANTILE) if len(own) >= MIN_BAND_ROWS
             else max(pooled, _quantile(own, BAND_QUANTILE) if own else 0.0))
        return round(100 * (math.exp(q) - 1))

    return {f: (band("decode", f), band("prefill", f))
            for f in sorted({r.family for r in held_out.evaluated})}


def within(result: CalibrationResult, kind: str = "decode", bound: float = 0.25) -> float:
    """Share of the evaluated rows predicted within `bound` (0.25 = 25 %)."""
    errs = [abs(e) for r in result.evaluated
            if (e := (r.decode_error if kind == "decode" else r.prefill_error)) is not None]
    return sum(e <= bound for e in errs) / len(errs) if errs else float("nan")


def _with_calibration(catalog: Catalog, cal: Calibration) -> Catalog:
    return catalog.model_copy(update={"calibration": cal})


def fit_constants(catalog: Catalog, path: Path) -> str:
    """Fit and render the `calibration:` block of catalog.yaml as YAML (to paste in)."""
    cal, result = fit(catalog, path)
    held_out = cross_validated_results(_with_calibration(catalog, cal), path)
    bands = error_bands(held_out["leave one source out"])
    out = [f"# Fitted by `python -m sizing calibrate --fit` on {cal.fitted_on}: decode MAPE "
           f"{result.mape('decode'):.1f}%, prefill MAPE {result.mape('prefill'):.1f}%.",
           "calibration:", f"  fitted_on: \"{cal.fitted_on}\"",
           f"  median_abs_pct_error: {cal.median_abs_pct_error}",
           "  cross_validated: {" + ", ".join(
               f"{k}: {v}" for k, v in cross_validated_summary(held_out).items()) + "}",
           f"  layer_overhead_us: {cal.layer_overhead_us}", "  families:"]
    for f in cal.families:
        decode_band, prefill_band = bands.get(f.family, (f.decode_band_pct, f.prefill_band_pct))
        out.append(f"    - {{family: {f.family}, bandwidth_efficiency: {f.bandwidth_efficiency}, "
                   + (f"read_ceiling: {f.read_ceiling}, " if f.read_ceiling < 1 else "")
                   + f"prefill_compute_efficiency: {f.prefill_compute_efficiency}, "
                   f"decode_compute_efficiency: {f.decode_compute_efficiency}, "
                   f"decode_band_pct: {decode_band:g}, prefill_band_pct: {prefill_band:g}, "
                   f"note: \"{f.note}\", source: [data/benchmarks.csv]}}")
    out.append("  engines:")
    for e in cal.engines:
        own = ", ".join(f"{f}: {v}" for f, v in e.family_decode_factors.items())
        out.append(f"    - {{engine: {e.engine}, decode_factor: {e.decode_factor}, "
                   f"prefill_factor: {e.prefill_factor}, "
                   + (f"family_decode_factors: {{{own}}}, " if own else "")
                   + f"note: \"{e.note}\"}}")
    return "\n".join(out)


__all__ = ["CalibrationResult", "Case", "RowResult", "cross_validate",
           "cross_validated_results", "cross_validated_summary", "fit", "fit_cases",
           "fit_constants", "format_report", "run_calibration", "within"]
