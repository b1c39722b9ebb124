"""Command-line interface of the sizing package (the design's command-line contract).

    python -m sizing catalog [--kind platforms|models|network] [--json]
    python -m sizing estimate --platform ID --units N --parallel {tp,pp,replicas} --model M
        --weights Q [--kv-dtype D] [--engine E] [--context T] [--concurrency C]
        [--mem-util F] [--memory-setting ID] [--prices effective|catalog] [--json]
        | --batch FILE.csv
    python -m sizing model MODEL --weights Q [--tp N] [--kv-dtype D] [--engine E] --json
    python -m sizing calibrate --report [--fit]
    python -m sizing bom | upgrade | compare | plan     (sizing/cli_cluster.py)
    python -m sizing cost | agent                       (sizing/cli_cost.py)

Errors (unknown ids, impossible inputs, bad options) print one line on stderr and exit
with status 2 -- argparse's own errors included (no usage block).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sizing import limits
from sizing.catalog import (
    Catalog,
    CatalogError,
    ModelArch,
    UnknownIdError,
    default_catalog,
    load_catalog,
    model_from_config_json,
)
from sizing.safe_text import strip_controls
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES, Scenario, ScenarioError
from sizing.speculative import CONTENT_TYPES, DRAFT_TOKENS_MAX, SPEC_METHODS

EXIT_USAGE = 2
BATCH_COLUMNS = ("platform", "units", "parallel", "model", "weights", "kv_dtype", "engine",
                 "context", "concurrency", "mem_util", "memory_setting",
                 # speculative decoding (optional; sizing.speculative)
                 "spec", "spec_tokens", "content", "spec_accept", "spec_draft_model",
                 # engine memory (optional; vLLM's memory model)
                 "max_num_batched_tokens", "cuda_graphs", "engine_version")
REQUIRED_BATCH_COLUMNS = ("platform", "units", "parallel", "model", "weights")


class CliError(Exception):
    """A one-line user error (exit status 2)."""


def one_line(exc: BaseException) -> str:
    """An error message on one line (KeyError's quotes dropped, newlines joined by '; ',
    control characters such as terminal escapes dropped)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return strip_controls("; ".join(part.strip() for part in str(text).splitlines()
                                    if part.strip()))


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (exit 2), not the usage block.

    Subparsers inherit the class (argparse uses ``type(self)`` for them).
    """

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        text = " ".join(message.split()).replace("invalid choice: ", "invalid choice ")
        self.exit(EXIT_USAGE, f"error: {text} (see {self.prog} --help)\n")


def _catalog(args: argparse.Namespace) -> Catalog:
    path = getattr(args, "catalog", None)
    return load_catalog(path) if path else default_catalog()


def resolve_model(catalog: Catalog, model: str) -> ModelArch:
    """A catalog model id/variant, a path to a Hugging Face config.json, or a Hub repo id
    that is not in the catalog (its config fetched and cached, sizing.hub)."""
    if model.endswith(".json"):
        if not Path(model).is_file():
            raise CliError(f"config file not found: {model}")
        return model_from_config_json(model)
    try:
        return catalog.model(model)
    except UnknownIdError:
        # imported here: requests costs ~0.15 s of start-up that catalog models never need
        from sizing.hub import HubError, is_repo_id, model_from_hub
        if not is_repo_id(model):
            raise
        try:
            hub_model: ModelArch = model_from_hub(model)
            return hub_model
        except HubError as exc:
            raise CliError(str(exc)) from None


# ----------------------------------------------------------------------------- estimate
# (parse function, low, high) per numeric field of a scenario: the rules of sizing.limits,
# the same for the command-line flags and the columns of a batch file
_NUMERIC_FIELDS: dict[str, tuple[Any, Any, Any]] = {
    "units": (limits.parse_int, limits.UNITS_MIN, limits.UNITS_MAX),
    "context": (limits.parse_int, limits.CONTEXT_TOKENS_MIN, limits.CONTEXT_TOKENS_MAX),
    "concurrency": (limits.parse_int, limits.CONCURRENCY_MIN, limits.CONCURRENCY_MAX),
    "mem_util": (limits.parse_float, limits.MEM_UTIL_MIN, limits.MEM_UTIL_MAX),
    "spec_multiplier": (limits.parse_float, limits.SPEC_MULTIPLIER_MIN,
                        limits.SPEC_MULTIPLIER_MAX),
    "spec_tokens": (limits.parse_int, 1, DRAFT_TOKENS_MAX),
    "spec_accept": (limits.parse_float, 0.0, 0.999),
    "max_num_batched_tokens": (limits.parse_int, 64, limits.CONTEXT_TOKENS_MAX),
}


def _scenario_from(values: dict[str, Any]) -> Scenario:
    def num(key: str, default: Any = None) -> Any:
        raw = values.get(key)
        if raw is None or raw == "":
            return default
        parse, lo, hi = _NUMERIC_FIELDS[key]
        try:
            return parse(key, str(raw), lo, hi)
        except limits.InputError as exc:
            raise CliError(str(exc)) from None

    for key in REQUIRED_BATCH_COLUMNS:
        if values.get(key) in (None, ""):
            raise CliError(f"{key} is missing")
    return Scenario(
        platform=str(values["platform"]),
        units=num("units"),
        parallel=str(values["parallel"]),
        model=str(values["model"]),
        weights=str(values["weights"]),
        kv_dtype=str(values.get("kv_dtype") or "bf16"),
        engine=values.get("engine") or None,
        context_tokens=num("context", 32768),
        concurrency=num("concurrency", 1),
        mem_util=num("mem_util"),
        speculative_multiplier=num("spec_multiplier", 1.0),
        memory_setting=str(values.get("memory_setting") or "").strip() or None,
        speculative=str(values.get("spec") or "none"),
        spec_draft_tokens=num("spec_tokens"),
        spec_content=str(values.get("content") or "prose"),
        spec_accept=num("spec_accept"),
        spec_draft_model=values.get("spec_draft_model") or None,
        max_num_batched_tokens=num("max_num_batched_tokens"),
        cuda_graphs=_flag("cuda_graphs", values.get("cuda_graphs")),
        engine_version=str(values.get("engine_version") or "").strip() or None,
    )


def _flag(key: str, raw: Any) -> bool:
    """A yes/no column or flag value (default yes)."""
    if raw is None or raw == "" or raw is True:
        return True
    if raw is False:
        return False
    text = str(raw).strip().lower()
    if text in ("1", "yes", "true", "on"):
        return True
    if text in ("0", "no", "false", "off"):
        return False
    raise CliError(f"{key} must be yes or no (got {str(raw)[:20]!r})")


def _check_hosts(catalog: Catalog, scenario: Scenario) -> None:
    """Refuse tp/pp across GPU hosts, as compare and plan do (`cluster.check_parallel`)."""
    from sizing.cluster import check_parallel

    try:
        catalog.platform(scenario.platform)
    except UnknownIdError:
        return                              # estimate names the bad id and the choices
    check_parallel(catalog, scenario.platform, scenario.units, scenario.parallel)


def _estimate_dict(catalog: Catalog, values: dict[str, Any],
                   prices: Any = None) -> dict[str, Any]:
    from sizing.estimate import estimate

    scenario = _scenario_from(values)
    _check_hosts(catalog, scenario)
    model = None
    if scenario.model.endswith(".json"):
        model = resolve_model(catalog, scenario.model)
    d = estimate(scenario, catalog, model=model, prices=prices).to_dict()
    return _with_price_status(catalog, d, prices, {})


def _with_price_status(catalog: Catalog, d: dict[str, Any], prices: Any,
                       cache: dict[tuple[str, int], tuple[Any, ...]]) -> dict[str, Any]:
    """Add `price_complete` and `unpriced_items` (as in the BOM) to an estimate dict:
    `price_chf` leaves out parts the catalog does not hold or has no price for."""
    from sizing.cli_cluster import price_age_of
    from sizing.cluster import bill_of_materials

    key = (d["platform"], d["units"])
    if key not in cache:
        bom = bill_of_materials(catalog, *key, prices=prices)
        cache[key] = (bom.price_complete, [*bom.missing_prices, *bom.unpriced_items],
                      price_age_of(catalog, [bom.oldest_price_date]).to_dict())
    d["price_complete"], d["unpriced_items"] = cache[key][0], list(cache[key][1])
    d.update(cache[key][2])                 # oldest_price_date, price_age_days, ...
    return d


def _range(d: dict[str, Any], key: str, spec: str) -> str:
    """`` (low-high)`` from the estimate's ``<key>_low`` / ``<key>_high``, if present."""
    low, high = d.get(f"{key}_low"), d.get(f"{key}_high")
    return "" if low is None or high is None else f" ({low:{spec}}-{high:{spec}})"


def _k(tokens: float) -> str:
    """98,304 -> '98k' (thousands of tokens, rounded)."""
    return f"{tokens / 1000:.0f}k" if tokens >= 10_000 else f"{tokens:,.0f}"


def _span(d: dict[str, Any], key: str, spec: str) -> str:
    """`` (low-high)`` of a memory figure whose range is not a single value."""
    low, high = d.get(f"{key}_low"), d.get(f"{key}_high")
    if low is None or high is None or low == high:
        return ""
    if spec == "k":
        return f" ({_k(low)}-{_k(high)})"
    return f" ({low:{spec}}-{high:{spec}})"


def _price_text(d: dict[str, Any]) -> str:
    from sizing.cluster import chf

    if d["price_chf"] is None:
        return "unknown (no price for " + ", ".join(d.get("unpriced_items") or ["a part"]) + ")"
    text = f"CHF {chf(round(d['price_chf']))}"
    if d.get("price_complete") is False:
        text += f" + not priced: {', '.join(d['unpriced_items'])}"
    return text


def _print_estimate(d: dict[str, Any]) -> None:
    fits = "FITS" if d["fits"] else "DOES NOT FIT"
    print(f"{d['units']} x {d['platform']} ({d['parallel']}), {d['model']} {d['weights']}, "
          f"KV {d['kv_dtype']}, {d['engine']}, context {d['context']}, "
          f"{d['concurrency']} concurrent: {fits} — {d['reason']}")
    rows = [
        ("usable memory / unit", f"{d['usable_gib_per_unit']:.1f} GiB"),
        ("weights / unit", f"{d['weights_gib_per_unit']:.1f} GiB"),
        ("runtime overhead / unit", f"{d['overhead_gib_per_unit']:.1f} GiB"),
        ("KV cache / unit", f"{d['kv_cache_gib_per_unit']:.1f} GiB"
         + _span(d, "kv_cache_gib_per_unit", ".1f")),
        ("KV / token / unit", f"{d['kv_bytes_per_token_per_unit'] / 1024:.1f} KiB"),
        ("KV capacity", f"{d['kv_capacity_tokens']:,} tokens"
         + _span(d, "kv_capacity_tokens", ",")),
        ("max concurrency @ context", f"{d['max_concurrency']}"
         + _span(d, "max_concurrency", "")),
        ("max context @ concurrency", f"{_k(d['max_context_tokens'])} tokens"
         + _span(d, "max_context_tokens", "k")),
        ("decode / request", f"{d['decode_tok_s_per_request']:.1f} tok/s"
         + _range(d, "decode_tok_s", ".1f")),
        ("decode total", f"{d['decode_tok_s_total']:.1f} tok/s"
         + _range(d, "decode_tok_s_total", ".1f")),
        *([("speculative decoding", f"{d['spec_label']}: "
            f"{d['spec_accepted_tokens_per_step']:.2f} tokens / step"
            + _range(d, "spec_accepted_tokens_per_step", ".2f")
            + f", x{d['spec_speedup']:.2f} vs none")] if d.get("spec_label") else []),
        ("prefill", "–" if d["prefill_tok_s"] is None else f"{d['prefill_tok_s']:.0f} tok/s"
         + _range(d, "prefill_tok_s", ".0f")),
        ("time to first token", "–" if d["ttft_s"] is None else f"{d['ttft_s']:.2f} s"
         + _range(d, "ttft_s", ".2f")),
        ("power idle / load", f"{d['power_w_idle']:.0f} / {d['power_w_load']:.0f} W"),
        ("price", _price_text(d)),
    ]
    for label, value in rows:
        print(f"  {label:<28}{value}")
    print("Assumptions:")
    for a in d["assumptions"]:
        print(f"  - {a}")


def _cmd_estimate(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    prices, source = price_context(catalog, args)
    if args.batch:
        return _estimate_batch(catalog, Path(args.batch), prices, source,
                               args.memory_setting)
    single = args.parallel is None and args.units == 1   # one unit: the single-unit layout
    missing = [f"--{k}" for k in ("platform", "units", "parallel", "model", "weights")
               if getattr(args, k) is None and not (k == "parallel" and single)]
    if missing:
        raise CliError(f"missing required option(s): {', '.join(missing)} (or use --batch)"
                       + ("; --parallel is needed for more than one unit"
                          if "--parallel" in missing and args.units else ""))
    values = {"platform": args.platform, "units": args.units,
              "parallel": "tp" if single else args.parallel,
              "model": args.model, "weights": args.weights, "kv_dtype": args.kv_dtype,
              "engine": args.engine, "context": args.context, "concurrency": args.concurrency,
              "mem_util": args.mem_util, "spec_multiplier": args.spec_multiplier,
              "memory_setting": args.memory_setting,
              "spec": args.spec, "spec_tokens": args.spec_tokens, "content": args.content,
              "spec_accept": args.spec_accept, "spec_draft_model": args.spec_draft_model,
              "max_num_batched_tokens": args.max_num_batched_tokens,
              "cuda_graphs": not args.no_cuda_graphs, "engine_version": args.engine_version}
    d = {**_estimate_dict(catalog, values, prices), **source.to_dict()}
    if single:
        d["assumptions"].append("layout: one unit (no --parallel needed; reported as tp, "
                                "the single-unit layout)")
    if args.json:
        print(strict_json(d))
    else:
        _print_estimate(d)
        print(source.line(d.get("oldest_price_date")))
    return 0


BATCH_CHUNK_ROWS = 256        # rows evaluated per vectorized pass (memory stays bounded)
_ROW_ERRORS = (ValueError, KeyError, ArithmeticError, RecursionError, CliError)


def _bounded_lines(handle: Any, name: str) -> Iterator[str]:
    """The lines of a text file, each at most ``limits.BATCH_MAX_LINE_CHARS`` characters
    (so /dev/zero or a file without line breaks ends with an error, not a full memory)."""
    cap = limits.BATCH_MAX_LINE_CHARS
    number = 0
    while True:
        line = handle.readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) > cap:
            raise CliError(f"{name}: line {number} is longer than {cap:,} characters "
                           "(not a batch CSV?)".replace(",", "'"))
        yield line


def _evaluate_chunk(catalog: Catalog, rows: list[dict[str, Any]], prices: Any,
                    cache: dict[tuple[str, int], tuple[Any, ...]]
                    ) -> list[dict[str, Any]]:
    """One result dict per row, in order; a row that cannot be evaluated gives
    ``{"error": ...}`` and never stops the others."""
    from sizing.estimate import estimate_many

    lines: list[dict[str, Any] | None] = [None] * len(rows)
    scenarios, models, where = [], [], []
    for i, row in enumerate(rows):
        try:
            extra = dict[Any, Any](row).get(None)    # csv.DictReader's surplus fields
            if extra is not None:
                raise CliError(f"{len(extra)} more field(s) than columns")
            scenario = _scenario_from(row)
            _check_hosts(catalog, scenario)
            model = (resolve_model(catalog, scenario.model)
                     if scenario.model.endswith(".json") else None)
        except _ROW_ERRORS as exc:
            lines[i] = {"error": one_line(exc)}
            continue
        scenarios.append(scenario)
        models.append(model)
        where.append(i)
    try:
        results: list[Any] = estimate_many(scenarios, catalog, models=models, prices=prices)
    except _ROW_ERRORS:                      # isolate the row that breaks the pass
        results = []
        for scenario, model in zip(scenarios, models, strict=True):
            try:
                results.extend(estimate_many([scenario], catalog, models=[model],
                                             prices=prices))
            except _ROW_ERRORS as exc:
                results.append(exc)
    for i, result in zip(where, results, strict=True):
        if isinstance(result, Exception):
            lines[i] = {"error": one_line(result)}
            continue
        try:
            lines[i] = _with_price_status(catalog, result.to_dict(), prices, cache)
        except _ROW_ERRORS as exc:
            lines[i] = {"error": one_line(exc)}
    return [line or {"error": "not evaluated"} for line in lines]


def _estimate_batch(catalog: Catalog, path: Path, prices: Any,
                    source: Any = None, memory_setting: str | None = None
                    ) -> int:
    """One JSON object per CSV row, in order; a bad row yields {"error": ...} and the run
    goes on. Rows are read and evaluated in chunks (memory bounded by the chunk, not the
    file); a line longer than ``limits.BATCH_MAX_LINE_CHARS`` or more than
    ``limits.BATCH_MAX_ROWS`` rows end the run with one line (exit 2) after the rows
    already printed."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")   # tolerate Excel's BOM
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    cache: dict[tuple[str, int], tuple[Any, ...]] = {}
    count = 0
    try:
        with handle:
            reader = csv.DictReader(_bounded_lines(handle, path.name))
            header = reader.fieldnames or []
            unknown = [c for c in header if c not in BATCH_COLUMNS]
            if unknown:
                raise CliError(f"{path.name}: unknown column(s) "
                               f"{', '.join(repr(c)[1:-1][:40] for c in unknown[:5])}; valid: "
                               f"{', '.join(BATCH_COLUMNS)}")
            absent = [c for c in REQUIRED_BATCH_COLUMNS if c not in header]
            if absent:
                raise CliError(f"{path.name}: missing column(s) {', '.join(absent)}")
            chunk: list[dict[str, Any]] = []
            extra = source.to_dict() if source is not None else {}
            for row in reader:
                count += 1
                if memory_setting and not row.get("memory_setting"):
                    row = {**row, "memory_setting": memory_setting}   # the flag: rows' default
                if count > limits.BATCH_MAX_ROWS:
                    _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
                    raise CliError(f"{path.name}: more than {limits.BATCH_MAX_ROWS:,} rows; "
                                   "split the file".replace(",", "'"))
                chunk.append(row)
                if len(chunk) >= BATCH_CHUNK_ROWS:
                    _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
                    chunk = []
            _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
    except UnicodeDecodeError as exc:
        raise CliError(f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                       f"after row {count}); save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise CliError(f"{path.name}: not a readable CSV file (row {count + 1}: "
                       f"{one_line(exc)})") from None
    return 0


def _write_lines(lines: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    sys.stdout.writelines(strict_json(line if "error" in line else {**line, **(extra or {})})
                          + "\n" for line in lines)
    sys.stdout.flush()


def price_context(catalog: Catalog, args: argparse.Namespace) -> tuple[Any, Any]:
    """(prices for `sizing`, `pricing.sources.PriceSource`): by default the effective prices
    of the price history, exactly as the app uses them (`pricing.sources.price_source`);
    with ``--prices catalog`` the catalog list prices. An unusable database named with
    ``--prices-db`` is an error (exit 2), the default one a stated fallback."""
    # The CLI is a composition layer (docs/design.md): only here do sizing and pricing meet.
    from pricing import default_db_path
    from pricing.history import HistoryError
    from pricing.sources import CATALOG_ONLY, price_source

    if getattr(args, "prices", "effective") == "catalog":
        return None, CATALOG_ONLY
    named = getattr(args, "prices_db", None)
    db = Path(named).expanduser() if named else default_db_path()
    try:
        return price_source(catalog.priced_items(), db=db, strict=bool(named))
    except HistoryError as exc:
        raise CliError(str(exc)) from None


def _effective_prices(catalog: Catalog, args: argparse.Namespace) -> Any:
    """The prices of `price_context` (None = catalog list prices)."""
    return price_context(catalog, args)[0]


def add_price_args(p: argparse.ArgumentParser) -> None:
    """``--prices {effective,catalog}``, ``--prices-db`` and the older ``--live-prices``."""
    p.add_argument("--prices", choices=("effective", "catalog"), default="effective",
                   help="effective (default): the price history's scraped and manual prices "
                   "as the app uses them, catalog list prices for the rest; catalog: the "
                   "dated catalog list prices only")
    p.add_argument("--live-prices", action="store_true",
                   help="kept for older scripts: the same as --prices effective (the default)")
    p.add_argument("--prices-db", help="price history database (default: see pricing)")


def add_memory_setting_arg(p: argparse.ArgumentParser, *, many: bool) -> None:
    """``--memory-setting ID``: a platform memory setting (``catalog --kind platforms``
    lists them); with `many`, repeatable or comma-separated, each applied to the platforms
    that list it."""
    p.add_argument("--memory-setting", action="append" if many else "store",
                   metavar="ID", help="platform memory setting, e.g. wired-limit-raised (Mac "
                   "GPU limit) or bios-vram-96 (Strix Halo); default: each platform's default"
                   + ("; repeat or comma-separate for several platform kinds" if many else ""))


def memory_settings_catalog(catalog: Catalog, args: argparse.Namespace) -> Catalog:
    """`catalog` with the ``--memory-setting`` ids in force (one line, exit 2, for an id
    no platform lists or two ids for one platform)."""
    raw = getattr(args, "memory_setting", None) or []
    ids = [x.strip() for part in ([raw] if isinstance(raw, str) else raw)
           for x in part.split(",") if x.strip()]
    try:
        return catalog.with_memory_settings(ids)
    except ValueError as exc:
        raise CliError(str(exc)) from None


# ----------------------------------------------------------------------------- model
def _cmd_model(args: argparse.Namespace) -> int:
    from sizing.llm import (
        GIB,
        active_params,
        kv_bytes_per_sequence_fixed,
        kv_bytes_per_token,
        param_counts,
        precision_source,
        precision_table,
        quant_applies,
        quant_mismatch_message,
        quant_named_by,
    )
    from sizing.quantmap import QUANT_IN_NAME
    catalog = _catalog(args)
    model = resolve_model(catalog, args.model)
    weights = args.weights or quant_named_by(model, args.model)
    if weights and "/" in weights:
        named = quant_named_by(model, weights, include_self=True)
        if named is None:
            raise CliError(f"weights '{weights}' is not a checkpoint of {model.id} kept in the "
                           f"catalog; kept: {', '.join(model.checkpoints.values()) or 'none'}")
        weights = named
    if weights is None and args.model.lower() != model.id.lower():
        said = QUANT_IN_NAME.search(args.model)
        if said:
            raise CliError(f"{args.model} is a {said.group(1).upper()} checkpoint of {model.id} "
                           "whose quantization map is not kept: pass --weights (a generic "
                           "format) or the checkpoint's config.json")
    quant = catalog.quant(weights) if weights else None
    if quant is not None and not quant_applies(model, quant):
        raise CliError(quant_mismatch_message(model, quant, catalog))
    if args.kv_dtype not in KV_DTYPES:
        raise CliError(f"unknown kv dtype '{args.kv_dtype}'; valid choices: "
                       f"{', '.join(KV_DTYPES)}")
    if args.tp < 1:
        raise CliError(f"--tp must be at least 1 (got {args.tp})")
    heads = model.num_attention_heads
    if heads % args.tp:                     # the rule estimate applies (sizing.scenario)
        raise CliError(
            f"--tp {args.tp} needs the {heads} attention heads of {model.id} to divide "
            f"evenly; valid choices: {', '.join(str(n) for n in range(1, 9) if heads % n == 0)}")
    engine = catalog.engine(args.engine) if args.engine else None
    swa = engine.swa_aware if engine else True
    counts = param_counts(model)
    table = precision_table(model, quant, catalog, engine_id=engine.id if engine else None)
    by_class = {c: counts.by_class[c] * bits / 8 for c, (_, bits) in table.items()}
    total_w = sum(v for c, v in by_class.items() if c != "mtp")
    arch = model.arch
    d = {
        "model": model.id,
        "weights": quant.id if quant else "checkpoint",
        "precision_source": (precision_source(model, quant, engine.id if engine else None) if quant
                             else f"the checkpoint's own ({model.native_precision.method})"),
        "tp": args.tp,
        "kv_dtype": args.kv_dtype,
        "family": arch.family,
        "layer_kinds": arch.layer_kinds(),
        "total_params_b": counts.total / 1e9,
        "active_params_b": active_params(model) / 1e9,
        "mtp_params_b": counts.by_class["mtp"] / 1e9,
        "vision_params_b": counts.by_class["vision"] / 1e9,
        "params_b_by_class": {k: v / 1e9 for k, v in counts.by_class.items() if v},
        "precision_by_class": {c: label for c, (label, _) in table.items()},
        "bits_per_weight_by_class": {c: round(bits, 4) for c, (_, bits) in table.items()},
        "weights_gib": total_w / GIB,
        "weights_gib_per_unit": total_w / GIB / args.tp,
        "kv_bytes_per_token": kv_bytes_per_token(model, args.kv_dtype, swa_aware=swa),
        "kv_bytes_per_token_per_unit": kv_bytes_per_token(model, args.kv_dtype, tp=args.tp,
                                                          swa_aware=swa),
        "kv_bytes_per_sequence_fixed": kv_bytes_per_sequence_fixed(
            model, args.kv_dtype, context_tokens=model.max_context_tokens, swa_aware=swa),
        "max_context_tokens": model.max_context_tokens,
        "published_total_params_b": model.published_total_params_b,
        "published_active_params_b": model.published_active_params_b,
        "released": model.released.isoformat() if model.released else None,
        "notes": list(arch.notes) + list(model.native_precision.notes),
        "source": model.source,
    }
    if args.json:
        print(strict_json(d))
        return 0
    kinds = ", ".join(f"{n} {k}" for k, n in arch.layer_kinds().items())
    published = (f" (card: {model.published_total_params_b:g} B total"
                 + (f", {model.published_active_params_b:g} B active"
                    if model.published_active_params_b else "") + ")"
                 if model.published_total_params_b else "")
    print(f"{model.id} — {arch.family}, {arch.num_layers} layers: {kinds}")
    print(f"  parameters: {d['total_params_b']:.2f} B total, {d['active_params_b']:.2f} B active "
          f"per token{published}; MTP {d['mtp_params_b']:.2f} B, vision "
          f"{d['vision_params_b']:.2f} B")
    print(f"  weights: {d['precision_source']}")
    width = max(len(c) for c in table)
    for c, (label, bits) in table.items():
        print(f"    {c:<{width}}  {counts.by_class[c] / 1e9:8.2f} B  {label:<18} "
              f"{bits:6.3f} bits  {by_class[c] / GIB:8.2f} GiB")
    print(f"  total {d['weights_gib']:.2f} GiB (MTP not loaded), {d['weights_gib_per_unit']:.2f} "
          f"GiB per unit at TP={args.tp}")
    print(f"  KV: {d['kv_bytes_per_token'] / 1024:.2f} KiB/token "
          f"({d['kv_bytes_per_token_per_unit'] / 1024:.2f} KiB per unit), "
          f"{d['kv_bytes_per_sequence_fixed'] / 2**20:.1f} MiB fixed per sequence "
          f"({args.kv_dtype})")
    for note in d["notes"]:
        print(f"  note: {note}")
    return 0


# ----------------------------------------------------------------------------- catalog
def _cmd_catalog(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    rows: list[dict[str, Any]] = []
    kinds = [args.kind] if args.kind else ["platforms", "models", "network"]
    if "platforms" in kinds:
        for p in catalog.platforms:
            rows.append({"kind": "platform", "id": p.id, "name": p.name, "family": p.family,
                         "memory_gb": p.memory_gb,
                         "memory_bandwidth_gb_s": p.memory_bandwidth_gb_s,
                         "power_w_load": p.power.load_w,
                         "price_chf": p.price.chf if p.price else None,
                         "price_date": str(p.price.date) if p.price else None,
                         "memory_settings": ",".join(m.id for m in p.memory_settings)
                         or None})
    if "models" in kinds:
        from sizing.llm import active_params, param_counts

        for m in catalog.models:
            rows.append({"kind": "model", "id": m.id, "name": m.name, "family": m.family,
                         "released": m.released.isoformat() if m.released else None,
                         "checkpoints": ",".join(m.checkpoints) or None,
                         "total_params_b": round(param_counts(m).total / 1e9, 2),
                         "active_params_b": round(active_params(m) / 1e9, 2),
                         "attention": m.attention, "moe": m.is_moe,
                         "max_context_tokens": m.max_context_tokens})
    if "network" in kinds:
        for s in catalog.switches:
            rows.append({"kind": "switch", "id": s.id, "name": s.name,
                         "max_200g_nodes": s.max_200g_nodes, "power_max_w": s.power_max_w,
                         "price_chf": s.price.chf if s.price else None})
        for c in catalog.cables:
            rows.append({"kind": c.kind, "id": c.id, "name": c.name,
                         "speed_gbit_s": c.speed_gbit_s, "length_m": c.length_m,
                         "price_chf": c.price.chf if c.price else None})
    if args.json:
        print(strict_json(rows))
        return 0
    for kind in dict.fromkeys(r["kind"] for r in rows):
        group = [r for r in rows if r["kind"] == kind]
        cols = [k for k in group[0] if k != "kind"]
        widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in group)) for c in cols}
        print(f"\n{kind.upper()}S")
        print("  ".join(c.ljust(widths[c]) for c in cols))
        for r in group:
            print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ----------------------------------------------------------------------------- calibrate
def _cmd_calibrate(args: argparse.Namespace) -> int:
    from sizing.calibrate import (
        cross_validated_results,
        fit_constants,
        format_report,
        run_calibration,
    )

    catalog = _catalog(args)
    if args.fit:
        print(fit_constants(catalog, Path(args.data)))
        return 0
    result = run_calibration(catalog, Path(args.data))
    cv = None if args.no_cv else cross_validated_results(catalog, Path(args.data))
    print(format_report(result, cv))
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m sizing",
                           description="LLM hardware sizing: memory fit, speed, cost.")
    parser.add_argument("--catalog", help="catalog YAML (default: the project's catalog.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("catalog", help="list catalog ids with key specs")
    p.add_argument("--kind", choices=("platforms", "models", "network"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_catalog)

    p = sub.add_parser("estimate", help="memory fit and speed of one scenario (or --batch)")
    p.add_argument("--platform")
    p.add_argument("--units", type=limits.units_arg)
    p.add_argument("--parallel", choices=PARALLEL_CHOICES,
                   help="layout across units; optional for --units 1 (single unit)")
    p.add_argument("--model", help="catalog model id or path to a config.json")
    p.add_argument("--weights", help="quantization id")
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--context", type=limits.context_arg, default=32768,
                   help="tokens per request")
    p.add_argument("--concurrency", type=limits.concurrency_arg, default=1,
                   help="concurrent requests")
    p.add_argument("--mem-util", type=limits.mem_util_arg,
                   help="engine memory utilization (0.05-1)")
    p.add_argument("--spec-multiplier", type=limits.spec_multiplier_arg, default=1.0,
                   help="speculative decoding / MTP speed-up (accepted tokens per step)")
    p.add_argument("--spec", default="none", choices=SPEC_METHODS,
                   help="speculative decoding: none (default), mtp, eagle, draft")
    p.add_argument("--spec-tokens", help="draft tokens per step k (default: 3 for mtp and "
                                         "eagle, 4 for a draft model)")
    p.add_argument("--content", default="prose", choices=CONTENT_TYPES,
                   help="what is generated (acceptance differs): prose, code, structured")
    p.add_argument("--spec-accept", help="your own per-token acceptance rate (0-1) instead "
                                         "of the published range")
    p.add_argument("--spec-draft-model", help="catalog model id of the draft model "
                                              "(--spec draft)")
    p.add_argument("--max-num-batched-tokens", type=int, metavar="TOKENS",
                   help="vLLM's max_num_batched_tokens (activation peak; default 8192 on "
                   "GPUs with >= 70 GiB, else 2048)")
    p.add_argument("--no-cuda-graphs", action="store_true",
                   help="eager mode: no CUDA-graph memory (vLLM --enforce-eager)")
    p.add_argument("--engine-version", metavar="VERSION",
                   help="engine version, e.g. 0.20 (vLLM reserves CUDA-graph memory before "
                   "the KV cache from 0.21; default: the catalog's)")
    p.add_argument("--batch", help="CSV with columns " + ",".join(BATCH_COLUMNS))
    add_memory_setting_arg(p, many=False)
    add_price_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_estimate)

    p = sub.add_parser("model", help="parameters, weights and KV bytes of a model")
    p.add_argument("model", help="catalog model id, Hugging Face repo id, or path to a "
                                 "config.json")
    p.add_argument("--weights", help="quantization id (default: the checkpoint's own "
                                     "precision per tensor class)")
    p.add_argument("--tp", type=limits.tp_arg, default=1)
    p.add_argument("--kv-dtype", default="bf16")
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_model)

    p = sub.add_parser("calibrate", help="predicted vs measured on data/benchmarks.csv")
    p.add_argument("--report", action="store_true", help="print the calibration report")
    p.add_argument("--fit", action="store_true", help="fit the constants, print YAML")
    p.add_argument("--no-cv", action="store_true",
                   help="skip the cross-validation (about 10 s) in the report")
    p.add_argument("--data", default=str(Path(__file__).resolve().parent.parent / "data" /
                                         "benchmarks.csv"))
    p.set_defaults(func=_cmd_calibrate)

    try:
        from sizing.cli_cluster import register
    except ImportError:  # pragma: no cover - during development only
        pass
    else:
        register(sub)
    from sizing.cli_cost import register as register_cost  # cost, agent

    register_cost(sub)
    return parser


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±Infinity) replaced by None, in nested
    dicts and lists too: JSON has no such numbers; null means "unknown / not applicable"."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def strict_json(value: Any) -> str:
    """JSON text that any strict parser accepts: non-finite numbers become null."""
    try:        # most values hold no NaN or ±Infinity: encoded as they are, in one pass
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(finite_or_none(value), allow_nan=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # --help (0) or a one-line option error (2), printed
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, UnknownIdError, CatalogError, CliError, limits.InputError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.stderr.close()
        return 0
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
        # A rule this program has no message for yet: one line, never a traceback (set
        # LLM_PLANNER_TRACEBACK=1 to see where). Exit 1: it is the program's fault.
        if os.environ.get("LLM_PLANNER_TRACEBACK"):
            raise
        print(f"error: cannot evaluate this input ({type(exc).__name__}: "
              f"{one_line(exc)[:300]}); please report it", file=sys.stderr)
        return 1
