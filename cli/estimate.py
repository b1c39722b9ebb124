"""``python -m sizing estimate``: memory fit and speed of one scenario, or of every row of
a CSV file (``--batch``); `estimate_dict` also serves cost and agent.

    python -m sizing estimate --platform ID --units N --parallel {tp,pp,replicas} --model M
        --weights Q [--kv-dtype D] [--engine E] [--context T] [--concurrency C]
        [--mem-util F] [--memory-setting ID] [--prices effective|catalog] [--json]
        | --batch FILE.csv
"""

from __future__ import annotations

import csv
import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cli.common import (
    CliError,
    add_memory_setting_arg,
    add_price_args,
    catalog_of,
    one_line,
    price_age_of,
    price_context,
    resolve_model,
    strict_json,
)
from sizing import limits
from sizing.bom import bill_of_materials
from sizing.catalog import Catalog, UnknownIdError
from sizing.estimate import estimate, estimate_many
from sizing.money import chf
from sizing.scenario import (
    CUDA_GRAPH_CHOICES,
    ENGINE_CHOICES,
    KV_DTYPES,
    PARALLEL_CHOICES,
    Scenario,
    ScenarioError,
)
from sizing.speculative import CONTENT_TYPES, DRAFT_TOKENS_MAX, SPEC_METHODS
from sizing.topology import check_parallel

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

BATCH_COLUMNS = (
    "platform",
    "units",
    "parallel",
    "model",
    "weights",
    "kv_dtype",
    "engine",
    "context",
    "concurrency",
    "mem_util",
    "memory_setting",
    # speculative decoding (optional; sizing.speculative)
    "spec",
    "spec_tokens",
    "content",
    "spec_accept",
    "spec_draft_model",
    # engine memory and CUDA graphs (optional; vLLM's memory model)
    "max_num_batched_tokens",
    "cuda_graphs",
    "engine_version",
    # collectives between units (optional; catalog transports)
    "transport",
)
REQUIRED_BATCH_COLUMNS = ("platform", "units", "parallel", "model", "weights")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``estimate``."""
    p.add_argument("--platform")
    p.add_argument("--units", type=limits.units_arg)
    p.add_argument(
        "--parallel",
        choices=PARALLEL_CHOICES,
        help="layout across units; optional for --units 1 (single unit)",
    )
    p.add_argument("--model", help="catalog model id or path to a config.json")
    p.add_argument("--weights", help="quantization id")
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--context", type=limits.context_arg, default=32768, help="tokens per request")
    p.add_argument(
        "--concurrency", type=limits.concurrency_arg, default=1, help="concurrent requests"
    )
    p.add_argument(
        "--mem-util", type=limits.mem_util_arg, help="engine memory utilization (0.05-1)"
    )
    p.add_argument(
        "--spec-multiplier",
        type=limits.spec_multiplier_arg,
        default=1.0,
        help="speculative decoding / MTP speed-up (accepted tokens per step)",
    )
    p.add_argument(
        "--spec",
        default="none",
        choices=SPEC_METHODS,
        help="speculative decoding: none (default), mtp, eagle, draft",
    )
    p.add_argument(
        "--spec-tokens",
        help="draft tokens per step k (default: 3 for mtp and eagle, 4 for a draft model)",
    )
    p.add_argument(
        "--content",
        default="prose",
        choices=CONTENT_TYPES,
        help="what is generated (acceptance differs): prose, code, structured",
    )
    p.add_argument(
        "--spec-accept",
        help="your own per-token acceptance rate (0-1) instead of the published range",
    )
    p.add_argument("--spec-draft-model", help="catalog model id of the draft model (--spec draft)")
    p.add_argument(
        "--cuda-graphs",
        choices=CUDA_GRAPH_CHOICES,
        help="decode with captured CUDA graphs (default: on for vllm, sglang, "
        "trtllm) or eager (off: per-layer launch cost, no CUDA-graph memory; "
        "vLLM --enforce-eager)",
    )
    p.add_argument(
        "--max-num-batched-tokens",
        type=int,
        metavar="TOKENS",
        help="vLLM's max_num_batched_tokens (activation peak; default 8192 on "
        "GPUs with >= 70 GiB, else 2048)",
    )
    p.add_argument(
        "--engine-version",
        metavar="VERSION",
        help="engine version, e.g. 0.20 (vLLM reserves CUDA-graph memory before "
        "the KV cache from 0.21; default: the catalog's)",
    )
    p.add_argument(
        "--transport",
        metavar="ID",
        help="how units exchange all-reduces and pipeline hand-offs: roce, tcp "
        "(sockets), pcie-p2p, pcie-host (no peer-to-peer), nvlink, tb5-rdma, "
        "tcp-host (catalog transports; default: the platform's first, RoCE on "
        "GB10, TCP under llama.cpp RPC)",
    )
    p.add_argument("--batch", help="CSV with columns " + ",".join(BATCH_COLUMNS))
    add_memory_setting_arg(p, many=False)
    add_price_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


PARSED_MAX_ENTRIES = 10_000  # numeric texts whose parse a batch keeps

# (parse function, low, high) per numeric field of a scenario: the rules of sizing.limits,
# the same for the command-line flags and the columns of a batch file
_NUMERIC_FIELDS: dict[str, tuple[Any, Any, Any]] = {
    "units": (limits.parse_int, limits.UNITS_MIN, limits.UNITS_MAX),
    "context": (limits.parse_int, limits.CONTEXT_TOKENS_MIN, limits.CONTEXT_TOKENS_MAX),
    "concurrency": (limits.parse_int, limits.CONCURRENCY_MIN, limits.CONCURRENCY_MAX),
    "mem_util": (limits.parse_float, limits.MEM_UTIL_MIN, limits.MEM_UTIL_MAX),
    "spec_multiplier": (limits.parse_float, limits.SPEC_MULTIPLIER_MIN, limits.SPEC_MULTIPLIER_MAX),
    "spec_tokens": (limits.parse_int, 1, DRAFT_TOKENS_MAX),
    "spec_accept": (limits.parse_float, 0.0, 0.999),
    "max_num_batched_tokens": (limits.parse_int, 64, limits.CONTEXT_TOKENS_MAX),
}


def _parse_num(key: str, raw: Any) -> Any:
    """The value of numeric field `key` from its text (`_NUMERIC_FIELDS`' rules)."""
    parse, lo, hi = _NUMERIC_FIELDS[key]
    try:
        return parse(key, str(raw), lo, hi)
    except limits.InputError as exc:
        raise CliError(str(exc)) from None


def _parse_num_kept(key: str, raw: str, parsed: dict[tuple[str, str], tuple[bool, Any]]) -> Any:
    """`_parse_num`, its value or error kept in `parsed` (the texts of one batch)."""
    hit = parsed.get((key, raw))
    if hit is None:
        if len(parsed) > PARSED_MAX_ENTRIES:
            parsed.clear()
        try:
            hit = parsed[key, raw] = (True, _parse_num(key, raw))
        except CliError as exc:
            hit = parsed[key, raw] = (False, str(exc))
    if not hit[0]:
        raise CliError(hit[1])
    return hit[1]


#: The numeric fields of a scenario with their defaults, in the order they are checked.
_NUMBERS: tuple[tuple[str, Any], ...] = (
    ("units", None),
    ("context", 32768),
    ("concurrency", 1),
    ("mem_util", None),
    ("spec_multiplier", 1.0),
    ("spec_tokens", None),
    ("spec_accept", None),
    ("max_num_batched_tokens", None),
)


def _scenario_from(
    values: dict[str, Any], parsed: dict[tuple[str, str], tuple[bool, Any]] | None = None
) -> Scenario:
    """The Scenario of flag values or a batch row; `parsed` (one batch) keeps each
    numeric (column, text)'s value or error, so a text repeated in many rows is parsed
    once."""
    for key in REQUIRED_BATCH_COLUMNS:
        if values.get(key) in (None, ""):
            raise CliError(f"{key} is missing")
    num: dict[str, Any] = {}
    for key, default in _NUMBERS:
        raw = values.get(key)
        if raw is None or raw == "":
            num[key] = default
        elif parsed is None or type(raw) is not str:
            num[key] = _parse_num(key, raw)
        else:
            num[key] = _parse_num_kept(key, raw, parsed)
    return Scenario(
        platform=str(values["platform"]),
        units=num["units"],
        parallel=str(values["parallel"]),
        model=str(values["model"]),
        weights=str(values["weights"]),
        kv_dtype=str(values.get("kv_dtype") or "bf16"),
        engine=values.get("engine") or None,
        context_tokens=num["context"],
        concurrency=num["concurrency"],
        mem_util=num["mem_util"],
        speculative_multiplier=num["spec_multiplier"],
        memory_setting=str(values.get("memory_setting") or "").strip() or None,
        speculative=str(values.get("spec") or "none"),
        spec_draft_tokens=num["spec_tokens"],
        spec_content=str(values.get("content") or "prose"),
        spec_accept=num["spec_accept"],
        spec_draft_model=values.get("spec_draft_model") or None,
        max_num_batched_tokens=num["max_num_batched_tokens"],
        cuda_graphs=_cuda_graphs(values.get("cuda_graphs")),
        engine_version=str(values.get("engine_version") or "").strip() or None,
        transport=str(values.get("transport") or "").strip() or None,
    )


def _cuda_graphs(raw: Any) -> bool | None:
    """'on' / 'off' (None when absent: the engine's default); anything else is an error."""
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip().lower()
    if value not in CUDA_GRAPH_CHOICES:
        raise CliError(
            f"cuda_graphs '{str(raw)[:40]}' is not valid; valid choices: "
            f"{', '.join(CUDA_GRAPH_CHOICES)}"
        )
    return value == "on"


def _check_hosts(catalog: Catalog, scenario: Scenario, memo: dict[Any, Any] | None = None) -> None:
    """Refuse tp/pp across GPU hosts, as compare and plan do (`cluster.check_parallel`);
    with `memo` (one batch), each (platform, units, layout) is checked once."""
    if memo is None:
        _check_hosts_of(catalog, scenario.platform, scenario.units, scenario.parallel)
        return
    key = ("hosts", scenario.platform, scenario.units, type(scenario.units), scenario.parallel)
    hit = memo.get(key)
    if hit is None:
        try:
            _check_hosts_of(catalog, scenario.platform, scenario.units, scenario.parallel)
            hit = memo[key] = (None,)
        except ScenarioError as exc:
            hit = memo[key] = ((type(exc), str(exc)),)
    if hit[0] is not None:
        raise hit[0][0](hit[0][1])


def _check_hosts_of(catalog: Catalog, platform: str, units: int, parallel: str) -> None:
    try:
        catalog.platform(platform)
    except UnknownIdError:
        return  # estimate names the bad id and the choices
    check_parallel(catalog, platform, units, parallel)


def estimate_dict(catalog: Catalog, values: dict[str, Any], prices: Any = None) -> dict[str, Any]:
    """The estimate of one scenario given as flag values (`BATCH_COLUMNS` names) as a
    dict, with its price status; bad values raise a one-line error."""
    scenario = _scenario_from(values)
    _check_hosts(catalog, scenario)
    model = None
    if scenario.model.endswith(".json"):
        model = resolve_model(catalog, scenario.model)
    d = estimate(scenario, catalog, model=model, prices=prices).to_dict()
    return _with_price_status(catalog, d, prices, {})


def _with_price_status(
    catalog: Catalog, d: dict[str, Any], prices: Any, cache: dict[Any, Any]
) -> dict[str, Any]:
    """Add `price_complete` and `unpriced_items` (as in the BOM) to an estimate dict:
    `price_chf` leaves out parts the catalog does not hold or has no price for."""
    key = (d["platform"], d["units"])
    if key not in cache:
        bom = bill_of_materials(catalog, *key, prices=prices)
        cache[key] = (
            bom.price_complete,
            [*bom.missing_prices, *bom.unpriced_items],
            price_age_of(catalog, [bom.oldest_price_date]).to_dict(),
        )
    d["price_complete"], d["unpriced_items"] = cache[key][0], list(cache[key][1])
    d.update(cache[key][2])  # oldest_price_date, price_age_days, ...
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
    if d["price_chf"] is None:
        return "unknown (no price for " + ", ".join(d.get("unpriced_items") or ["a part"]) + ")"
    text = chf(round(d["price_chf"]), None)
    if d.get("price_complete") is False:
        text += f" + not priced: {', '.join(d['unpriced_items'])}"
    return text


def _print_estimate(d: dict[str, Any]) -> None:
    fits = "FITS" if d["fits"] else "DOES NOT FIT"
    print(
        f"{d['units']} x {d['platform']} ({d['parallel']}), {d['model']} {d['weights']}, "
        f"KV {d['kv_dtype']}, {d['engine']}, context {d['context']}, "
        f"{d['concurrency']} concurrent: {fits} — {d['reason']}"
    )
    rows = [
        ("usable memory / unit", f"{d['usable_gib_per_unit']:.1f} GiB"),
        ("weights / unit", f"{d['weights_gib_per_unit']:.1f} GiB"),
        ("runtime overhead / unit", f"{d['overhead_gib_per_unit']:.1f} GiB"),
        (
            "KV cache / unit",
            f"{d['kv_cache_gib_per_unit']:.1f} GiB" + _span(d, "kv_cache_gib_per_unit", ".1f"),
        ),
        ("KV / token / unit", f"{d['kv_bytes_per_token_per_unit'] / 1024:.1f} KiB"),
        (
            "KV capacity",
            f"{d['kv_capacity_tokens']:,} tokens" + _span(d, "kv_capacity_tokens", ","),
        ),
        ("max concurrency @ context", f"{d['max_concurrency']}" + _span(d, "max_concurrency", "")),
        (
            "max context @ concurrency",
            f"{_k(d['max_context_tokens'])} tokens" + _span(d, "max_context_tokens", "k"),
        ),
        (
            "decode / request",
            f"{d['decode_tok_s_per_request']:.1f} tok/s" + _range(d, "decode_tok_s", ".1f"),
        ),
        (
            "decode total",
            f"{d['decode_tok_s_total']:.1f} tok/s" + _range(d, "decode_tok_s_total", ".1f"),
        ),
        *(
            [
                (
                    "speculative decoding",
                    f"{d['spec_label']}: "
                    f"{d['spec_accepted_tokens_per_step']:.2f} tokens / step"
                    + _range(d, "spec_accepted_tokens_per_step", ".2f")
                    + f", x{d['spec_speedup']:.2f} vs none",
                )
            ]
            if d.get("spec_label")
            else []
        ),
        (
            "prefill",
            "–"
            if d["prefill_tok_s"] is None
            else f"{d['prefill_tok_s']:.0f} tok/s" + _range(d, "prefill_tok_s", ".0f"),
        ),
        (
            "time to first token",
            "–" if d["ttft_s"] is None else f"{d['ttft_s']:.2f} s" + _range(d, "ttft_s", ".2f"),
        ),
        ("power idle / load", f"{d['power_w_idle']:.0f} / {d['power_w_load']:.0f} W"),
        ("price", _price_text(d)),
    ]
    for label, value in rows:
        print(f"  {label:<28}{value}")
    print("Assumptions:")
    for a in d["assumptions"]:
        print(f"  - {a}")


def run(args: argparse.Namespace) -> int:
    """Print the estimate of one scenario, or of every row of ``--batch``."""
    catalog = catalog_of(args)
    prices, source = price_context(catalog, args)
    if args.batch:
        return _estimate_batch(catalog, Path(args.batch), prices, source, args.memory_setting)
    single = args.parallel is None and args.units == 1  # one unit: the single-unit layout
    missing = [
        f"--{k}"
        for k in ("platform", "units", "parallel", "model", "weights")
        if getattr(args, k) is None and not (k == "parallel" and single)
    ]
    if missing:
        raise CliError(
            f"missing required option(s): {', '.join(missing)} (or use --batch)"
            + (
                "; --parallel is needed for more than one unit"
                if "--parallel" in missing and args.units
                else ""
            )
        )
    values = {
        "platform": args.platform,
        "units": args.units,
        "parallel": "tp" if single else args.parallel,
        "model": args.model,
        "weights": args.weights,
        "kv_dtype": args.kv_dtype,
        "engine": args.engine,
        "context": args.context,
        "concurrency": args.concurrency,
        "mem_util": args.mem_util,
        "spec_multiplier": args.spec_multiplier,
        "memory_setting": args.memory_setting,
        "spec": args.spec,
        "spec_tokens": args.spec_tokens,
        "content": args.content,
        "spec_accept": args.spec_accept,
        "spec_draft_model": args.spec_draft_model,
        "max_num_batched_tokens": args.max_num_batched_tokens,
        "cuda_graphs": args.cuda_graphs,
        "engine_version": args.engine_version,
        "transport": args.transport,
    }
    d = {**estimate_dict(catalog, values, prices), **source.to_dict()}
    if single:
        d["assumptions"].append(
            "layout: one unit (no --parallel needed; reported as tp, the single-unit layout)"
        )
    if args.json:
        print(strict_json(d))
    else:
        _print_estimate(d)
        print(source.line(d.get("oldest_price_date")))
    return 0


# Rows evaluated per vectorized pass: the first pass is short, so the first lines come out
# early (e.g. into a pipe); the later ones longer, so the cost of a pass that does not grow
# with its rows (the table, the kernel calls) weighs less (~7 % of a 10,000-row batch
# against 256-row passes, measured). Memory stays bounded (peak ~100 MB, ~20 MB more).
BATCH_FIRST_CHUNK_ROWS = 256
BATCH_CHUNK_ROWS = 1024
GC_YOUNG_THRESHOLD = 10_000  # allocations between young-generation collections in a batch
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
            raise CliError(
                f"{name}: line {number} is longer than {cap:,} characters "
                "(not a batch CSV?)".replace(",", "'")
            )
        yield line


def _evaluate_chunk(
    catalog: Catalog,
    rows: list[dict[str, Any]],
    prices: Any,
    cache: dict[Any, Any],
) -> list[dict[str, Any]]:
    """One result dict per row, in order; a row that cannot be evaluated gives
    ``{"error": ...}`` and never stops the others. `cache` lives for the whole batch
    (the price status per cluster and `estimate_many`'s memo)."""
    lines: list[dict[str, Any] | None] = [None] * len(rows)
    memo = cache.setdefault("estimate_many", {})
    parsed = cache.setdefault("parsed", {})
    scenarios, models, where = [], [], []
    for i, row in enumerate(rows):
        try:
            extra = cast("dict[Any, Any]", row).get(None)  # csv.DictReader's surplus fields
            if extra is not None:
                raise CliError(f"{len(extra)} more field(s) than columns")
            scenario = _scenario_from(row, parsed)
            _check_hosts(catalog, scenario, memo)
            model = (
                resolve_model(catalog, scenario.model) if scenario.model.endswith(".json") else None
            )
        except _ROW_ERRORS as exc:
            lines[i] = {"error": one_line(exc)}
            continue
        scenarios.append(scenario)
        models.append(model)
        where.append(i)
    try:
        results: list[Any] = estimate_many(
            scenarios, catalog, models=models, prices=prices, memo=memo
        )
    except _ROW_ERRORS:  # isolate the row that breaks the pass
        results = []
        for scenario, model in zip(scenarios, models, strict=True):
            try:
                results.extend(
                    estimate_many([scenario], catalog, models=[model], prices=prices, memo=memo)
                )
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


def _estimate_batch(
    catalog: Catalog, path: Path, prices: Any, source: Any = None, memory_setting: str | None = None
) -> int:
    """One JSON object per CSV row, in order; a bad row yields {"error": ...} and the run
    goes on. Rows are read and evaluated in chunks (memory bounded by the chunk, not the
    file); a line longer than ``limits.BATCH_MAX_LINE_CHARS`` or more than
    ``limits.BATCH_MAX_ROWS`` rows end the run with one line (exit 2) after the rows
    already printed."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")  # tolerate Excel's BOM
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    cache: dict[Any, Any] = {}
    count = 0
    # Each row leaves a few hundred short-lived containers; at CPython's default (a young
    # collection per 700 net allocations) the collector runs every few rows and walks the
    # chunk's live results each time (~0.25 s of a 10,000-row run, measured with
    # gc.callbacks): collect less often while the batch runs.
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_YOUNG_THRESHOLD), *threshold[1:])
    try:
        with handle:
            reader = csv.DictReader(_bounded_lines(handle, path.name))
            header = reader.fieldnames or []
            unknown = [c for c in header if c not in BATCH_COLUMNS]
            if unknown:
                raise CliError(
                    f"{path.name}: unknown column(s) "
                    f"{', '.join(repr(c)[1:-1][:40] for c in unknown[:5])}; valid: "
                    f"{', '.join(BATCH_COLUMNS)}"
                )
            absent = [c for c in REQUIRED_BATCH_COLUMNS if c not in header]
            if absent:
                raise CliError(f"{path.name}: missing column(s) {', '.join(absent)}")
            chunk: list[dict[str, Any]] = []
            chunk_rows = BATCH_FIRST_CHUNK_ROWS
            extra = source.to_dict() if source is not None else {}
            for row in reader:
                count += 1
                if memory_setting and not row.get("memory_setting"):
                    row = {**row, "memory_setting": memory_setting}  # the flag: rows' default
                if count > limits.BATCH_MAX_ROWS:
                    _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
                    raise CliError(
                        f"{path.name}: more than {limits.BATCH_MAX_ROWS:,} rows; "
                        "split the file".replace(",", "'")
                    )
                chunk.append(row)
                if len(chunk) >= chunk_rows:
                    _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
                    chunk, chunk_rows = [], BATCH_CHUNK_ROWS
            _write_lines(_evaluate_chunk(catalog, chunk, prices, cache), extra)
    except UnicodeDecodeError as exc:
        raise CliError(
            f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
            f"after row {count}); save the CSV as UTF-8"
        ) from None
    except csv.Error as exc:
        raise CliError(
            f"{path.name}: not a readable CSV file (row {count + 1}: {one_line(exc)})"
        ) from None
    finally:
        gc.set_threshold(*threshold)
    return 0


#: `strict_json`'s encoder, made once for the lines of a batch
_LINE_ENCODER = json.JSONEncoder(allow_nan=False)


def _write_lines(lines: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    sys.stdout.writelines(
        _json_line(line if "error" in line else {**line, **(extra or {})}) + "\n" for line in lines
    )
    sys.stdout.flush()


def _json_line(value: dict[str, Any]) -> str:
    """`strict_json(value)` (the same text) without a new encoder per line."""
    try:
        return _LINE_ENCODER.encode(value)
    except ValueError:  # a NaN or infinity: strict_json's null
        return strict_json(value)
