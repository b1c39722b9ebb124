"""Calibration of the throughput model against measured benchmarks (`data/benchmarks.csv`).

`data/benchmarks.csv` keeps every column of ``../shared/data/benchmarks_calibration.csv``
(system, model, engine, figures, source URL, date, notes) and adds how each row maps to
catalog ids (`platform_id`, `model_id`, `weights_id`, `engine_id`, context, concurrency,
whether the decode figure is per request or aggregate). Rows the model cannot evaluate
carry `evaluate=no` and a `skip_reason`; the report lists them instead of dropping them.

The fit has few constants and is robust: per platform family one bandwidth efficiency
and one prefill compute efficiency, per engine one decode and one prefill factor
(llama.cpp is the reference, factor 1). Each is the median log-ratio of measured over
predicted on all rows of its family / engine (alternating, a few rounds), so no constant
follows a single row.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sizing.catalog import Calibration, Catalog
from sizing.scenario import Scenario, ScenarioError, resolve
from sizing.throughput import decode_at, prefill_s

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
        return [r for r in self.rows if r.skip_reason is None]

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


def evaluate_row(row: dict[str, str], catalog: Catalog) -> RowResult:
    """Predict one benchmark row's decode (and prefill) figures."""
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
                            concurrency=int(row["concurrency_eval"]))
        r = resolve(scenario, catalog)
    except ScenarioError as exc:
        return RowResult(family="", engine="", predicted_decode=None, predicted_prefill=None,
                         skip_reason=f"cannot evaluate: {exc}", **base)
    batch = int(row["concurrency_eval"])
    per_req, total, *_ = decode_at(r, catalog, batch)
    predicted = total if row["decode_metric"] == "aggregate" else per_req
    prefill = None
    tokens = _num(row.get("prefill_tokens"))
    if tokens and base["measured_prefill"]:
        depth = _num(row.get("prefill_depth_tokens")) or 0.0
        prefill = tokens / prefill_s(r, catalog, tokens, depth=depth)
    return RowResult(family=r.platform.family, engine=r.engine.id,
                     predicted_decode=predicted if base["measured_decode"] else None,
                     predicted_prefill=prefill, **base)


def run_calibration(catalog: Catalog, path: Path) -> CalibrationResult:
    return CalibrationResult([evaluate_row(row, catalog) for row in load_rows(path)])


def format_report(result: CalibrationResult) -> str:
    """Measured vs predicted per row, skipped rows with reasons, then the error summary."""
    lines = ["Decode tok/s: measured vs predicted (per request, or aggregate where c>1)", ""]
    lines.append(f"{'row':>3}  {'benchmark':<124} {'meas':>8} {'pred':>8} {'err':>7}"
                 f"   {'pf meas':>8} {'pf pred':>8} {'err':>7}")
    for r in result.evaluated:
        de, pe = r.decode_error, r.prefill_error
        lines.append(
            f"{r.row:>3}  {r.label:<124} {_f(r.measured_decode):>8} {_f(r.predicted_decode):>8} "
            f"{_pct(de):>7}   {_f(r.measured_prefill):>8} {_f(r.predicted_prefill):>8} "
            f"{_pct(pe):>7}")
    lines += ["", f"Skipped ({len(result.skipped)} rows):"]
    for r in result.skipped:
        lines.append(f"{r.row:>3}  {r.label:<124} {r.skip_reason}")
    n_dec = sum(1 for r in result.evaluated if r.decode_error is not None)
    n_pf = sum(1 for r in result.evaluated if r.prefill_error is not None)
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
PARSIMONY_PP = 0.5               # MAPE points traded for a smaller per-layer overhead
LAYER_OVERHEAD_GRID_US = tuple(range(0, 101, 5))


def _with(catalog: Catalog, calibration: Calibration) -> Catalog:
    return catalog.model_copy(update={"calibration": calibration})


def _median_log_ratio(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    logs = [math.log(m / p) for m, p in pairs if m and p]
    return statistics.median(logs) if logs else None


def _evaluate(rows: list[dict[str, str]], catalog: Catalog,
              cal: Calibration) -> CalibrationResult:
    return CalibrationResult([evaluate_row(r, _with(catalog, cal)) for r in rows])


def _prefill_rows(result: CalibrationResult, rows: list[dict[str, str]]) -> list[RowResult]:
    long_prompt = {int(r["row"]) for r in rows
                   if (_num(r.get("prefill_tokens")) or 0) >= MIN_PREFILL_FIT_TOKENS}
    return [r for r in result.evaluated if r.row in long_prompt]


def _fit_efficiencies(rows: list[dict[str, str]], catalog: Catalog, cal: Calibration,
                      rounds: int) -> Calibration:
    """Alternate: family efficiencies on reference-engine rows, then engine factors."""
    for _ in range(rounds):
        result = _evaluate(rows, catalog, cal)
        prefill_rows = _prefill_rows(result, rows)
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
                "bandwidth_efficiency": round(min(1.0, bw), 3),
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
        result = _evaluate(rows, catalog, cal)
        engs = []
        for e in cal.engines:
            if e.engine == REFERENCE_ENGINE:
                engs.append(e)
                continue
            dec = _median_log_ratio((r.measured_decode, r.predicted_decode)
                                    for r in result.evaluated if r.engine == e.engine)
            # never let an engine stream faster than the memory of the families it ran on
            used = {r.family for r in result.evaluated if r.engine == e.engine}
            ceiling = min((1.0 / f.bandwidth_efficiency for f in cal.families
                           if f.family in used), default=math.inf)
            factor = min(e.decode_factor * math.exp(dec or 0.0), ceiling)
            engs.append(e.model_copy(update={"decode_factor": round(factor, 3)}))
        cal = cal.model_copy(update={"engines": engs})
    return cal


def _families_with_prefill(result: CalibrationResult, rows: list[dict[str, str]]) -> set[str]:
    return {r.family for r in _prefill_rows(result, rows) if r.predicted_prefill}


def fit(catalog: Catalog, path: Path, *, rounds: int = 4) -> tuple[Calibration,
                                                                   CalibrationResult]:
    """Grid-search the global per-layer overhead; fit efficiencies at each grid point.

    A family with fewer than MIN_FAMILY_ROWS evaluable decode rows takes the median
    bandwidth efficiency of the others (its rows then check the model out of sample);
    families without long-prompt prefill rows get the median prefill efficiency of the
    families that have them. Both are stated in the family's note.
    """
    rows = load_rows(path)
    trials = []
    for overhead_us in LAYER_OVERHEAD_GRID_US:
        cal = catalog.calibration.model_copy(update={"layer_overhead_us": float(overhead_us)})
        cal = _fit_efficiencies(rows, catalog, cal, rounds)
        trials.append((_evaluate(rows, catalog, cal).mape("decode"), overhead_us, cal))
    # Parsimony: the smallest overhead within PARSIMONY_PP points of the best error.
    best_mape = min(t[0] for t in trials)
    cal = min((t for t in trials if t[0] <= best_mape + PARSIMONY_PP), key=lambda t: t[1])[2]
    result = _evaluate(rows, catalog, cal)
    have = _families_with_prefill(result, rows)
    fitted = [f.prefill_compute_efficiency for f in cal.families if f.family in have]
    fallback = round(statistics.median(fitted), 3) if fitted else 0.3
    fams = []
    for f in cal.families:
        own = [r for r in result.evaluated if r.family == f.family]
        n_pf = sum(1 for r in _prefill_rows(result, rows) if r.family == f.family)
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
        note = ("reference engine (factor 1 by definition)" if e.engine == REFERENCE_ENGINE
                else f"{n} decode rows" if n else "no rows: assumed equal to llama.cpp")
        engs.append(e.model_copy(update={"note": note}))
    cal = cal.model_copy(update={"families": fams, "engines": engs})
    result = _evaluate(rows, catalog, cal)
    cal = cal.model_copy(update={
        "fitted_on": f"{path.name}, {len(result.evaluated)} evaluated rows, {date.today()}",
        "median_abs_pct_error": round(result.mape("decode"), 1)})
    return cal, result


def fit_constants(catalog: Catalog, path: Path) -> str:
    """Fit and render the `calibration:` block of catalog.yaml as YAML (to paste in)."""
    cal, result = fit(catalog, path)
    out = [f"# Fitted by `python -m sizing calibrate --fit` on {cal.fitted_on}: decode MAPE "
           f"{result.mape('decode'):.1f}%, prefill MAPE {result.mape('prefill'):.1f}%.",
           "calibration:", f"  fitted_on: \"{cal.fitted_on}\"",
           f"  median_abs_pct_error: {cal.median_abs_pct_error}",
           f"  layer_overhead_us: {cal.layer_overhead_us}", "  families:"]
    for f in cal.families:
        out.append(f"    - {{family: {f.family}, bandwidth_efficiency: {f.bandwidth_efficiency}, "
                   f"prefill_compute_efficiency: {f.prefill_compute_efficiency}, "
                   f"decode_compute_efficiency: {f.decode_compute_efficiency}, "
                   f"note: \"{f.note}\", source: [data/benchmarks.csv]}}")
    out.append("  engines:")
    for e in cal.engines:
        out.append(f"    - {{engine: {e.engine}, decode_factor: {e.decode_factor}, "
                   f"prefill_factor: {e.prefill_factor}, note: \"{e.note}\"}}")
    return "\n".join(out)


__all__ = ["CalibrationResult", "RowResult", "fit", "fit_constants", "format_report",
           "run_calibration"]
