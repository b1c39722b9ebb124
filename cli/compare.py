"""``python -m sizing compare``: one workload across cluster sizes and platforms, the best
option by a rule and floors, and optionally the SSD check of a model library.

    python -m sizing compare --model M --weights Q [--units 1,2,3,4,8] [--platforms A,B]
        [--context T] [--concurrency C] [--parallel P] [--format csv|json|markdown]
        [--library MODEL:QUANT,...] [--min-tok-s 10] [--max-ttft-s 60] [--rank RULE]
        [--memory-setting ID ...] [--prices effective|catalog]

The only command that builds a table: it imports pandas (through sizing.compare).
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

from cli.common import (
    add_ranking_args,
    float_arg,
    memory_setting_lines,
    memory_setting_of,
    price_age_of,
    print_age,
    ranking_context,
    strict_json,
)
from sizing import limits
from sizing.compare import Floors, Workload, best_choice, compare, storage_fit
from sizing.money import chf
from sizing.safe_text import md_escape, spreadsheet_cell
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES, ScenarioError
from sizing.workload import DEFAULT_MAX_TTFT_S, DEFAULT_MIN_TOK_S_PER_STREAM, RANK_RULES

if TYPE_CHECKING:  # the tables come from sizing.compare, which imports pandas
    import argparse

    import pandas as pd

    from sizing.catalog import Catalog


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``compare``."""
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument(
        "--units",
        nargs="+",
        help="unit counts, e.g. 1,2,3,4,8 or 1 2 4 (default: catalog 1,2,3,4,8)",
    )
    p.add_argument(
        "--platforms", nargs="+", help="platform ids, comma- or space-separated (default: all)"
    )
    p.add_argument("--context", type=limits.context_arg, default=32768, help="tokens per request")
    p.add_argument(
        "--concurrency", type=limits.concurrency_arg, default=1, help="concurrent requests"
    )
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument(
        "--parallel",
        choices=PARALLEL_CHOICES,
        help="force a layout (default: the fastest per request that fits)",
    )
    p.add_argument(
        "--transport",
        metavar="ID",
        help="collectives between units over this catalog transport (e.g. tcp, "
        "pcie-host) on the platforms that offer it; the others keep their "
        "default (RoCE on GB10)",
    )
    p.add_argument("--tariff", help="tariff id (default: catalog default)")
    p.add_argument(
        "--hours-at-load", type=limits.hours_arg, help="hours per day at load (rest idle)"
    )
    p.add_argument("--library", help="model library for the SSD check: MODEL:QUANT,...")
    p.add_argument(
        "--min-tok-s",
        type=float_arg("min-tok-s", 0.0, 100_000.0),
        default=DEFAULT_MIN_TOK_S_PER_STREAM,
        help="best option: decode tok/s per stream at least this (central "
        "estimate; default %(default)g, 0 = no floor)",
    )
    p.add_argument(
        "--max-ttft-s",
        type=float_arg("max-ttft-s", 0.0, 1_000_000.0),
        default=DEFAULT_MAX_TTFT_S,
        help="best option: time to first token at most this many seconds "
        "(central estimate; default %(default)g, 0 = no ceiling)",
    )
    p.add_argument(
        "--rank",
        choices=RANK_RULES,
        default="cheapest",
        help="best-option rule (default: cheapest)",
    )
    p.add_argument("--format", choices=("csv", "json", "markdown"), default="markdown")
    add_ranking_args(p)
    p.set_defaults(func=run)


def _ints(parts: list[str] | str, name: str) -> list[int]:
    """Unit counts from "1,2,4" or ["1", "2", "4"], each within the shared unit range."""
    text = parts if isinstance(parts, str) else ",".join(parts)
    try:
        return limits.units_list(text, name)
    except limits.InputError as exc:
        raise ScenarioError(str(exc)) from None


def _ids(parts: list[str] | str) -> list[str]:
    text = parts if isinstance(parts, str) else ",".join(parts)
    return [x.strip() for x in text.split(",") if x.strip()]


# (key, header, format spec); "chf" = Swiss-style CHF amount. Every comparison column a
# buyer reads: price, raw and usable memory, fit, context, decode per request and in
# total, prefill, TTFT, power, energy, CHF per GB and per tok/s (TCO added at run time).
_MD_COLUMNS: list[tuple[str, str, str | None]] = [
    ("platform", "Platform", None),
    ("units", "N", None),
    ("parallel", "Layout", None),
    ("fits", "Fits", None),
    ("meets_floors", "Floors", None),
    ("price_chf", "CHF", "chf"),
    ("raw_memory_gb", "Raw GB", ",.0f"),
    ("usable_memory_gib", "Usable GiB", ",.0f"),
    ("max_context_tokens", "Max ctx", ",.0f"),
    ("decode_tok_s_per_request", "tok/s/req", ".1f"),
    ("decode_tok_s_total", "tok/s total", ".1f"),
    ("prefill_tok_s", "Prefill tok/s", ",.0f"),
    ("ttft_s", "TTFT s", ".1f"),
    ("power_w_idle", "Idle W", ".0f"),
    ("power_w_load", "Load W", ".0f"),
    ("energy_chf_per_year", "CHF/yr energy", "chf"),
    ("chf_per_usable_gb", "CHF/GB", "chf.1"),
    ("chf_per_tok_s", "CHF per tok/s", "chf.1"),
    ("upgrade_chf_from_previous", "Upgrade CHF", "chf"),
]


def _cell(value: Any, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt is not None and fmt.startswith("chf"):
        return chf(float(value), int(fmt[4:] or 0), unit=False)
    if fmt is not None:
        return format(value, fmt).replace(",", "'")
    return md_escape(value)


def markdown_table(df: pd.DataFrame, columns: list[tuple[str, str, str | None]]) -> str:
    """A Markdown table of `columns` (key, header, format spec) of `df`.

    A row with ``price_complete`` False shows its CHF figures with " (incomplete)" when
    they are known: they leave out parts that are not priced.
    """
    cols = [c for c in columns if c[0] in df.columns]
    lines = [
        "| " + " | ".join(h for _, h, _ in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for row in df.to_dict("records"):
        partial = row.get("price_complete") is False
        cells = []
        for k, _, f in cols:
            text = _cell(row[k], f)
            if partial and k == "price_chf" and text != "-":
                text += " (incomplete)"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: numpy scalars as Python numbers; NaN and ±Infinity as
    None (null: unknown or not applicable, e.g. no price or the model does not fit)."""
    out = []
    for row in df.to_dict("records"):
        values = {str(k): v.item() if hasattr(v, "item") else v for k, v in row.items()}
        out.append(
            {
                k: None if isinstance(v, float) and not math.isfinite(v) else v
                for k, v in values.items()
            }
        )
    return out


def _best_line(choice: Any) -> str:
    """The best option (or what comes closest) as one line, with the rule."""
    b = choice.best
    if b is None:
        text = (
            choice.miss_text()
            if choice.closest is not None
            else ("nothing in this comparison fits")
        )
        return f"Best option: none — {text}.\nRule: {choice.rule_text()}."
    label = f"{b['units']} x {b['platform']}" + (
        f" ({b['parallel']})" if b["units"] > 1 and b["parallel"] else ""
    )
    price = "no price" if b["price_chf"] != b["price_chf"] else chf(b["price_chf"])
    if not b["price_complete"] and b["price_chf"] == b["price_chf"]:
        price += " + not priced: " + ", ".join(b["missing_parts"])
    return (
        f"Best option: {label} — {price}, {b['decode_tok_s_per_request']:.1f} tok/s per "
        f"stream, TTFT {b['ttft_s']:.3g} s.\nRule: {choice.rule_text()}."
    )


def run(args: argparse.Namespace) -> int:
    """Print one workload across unit counts and platforms as Markdown, CSV or JSON."""
    catalog, prices, source = ranking_context(args)
    if args.library and args.format == "csv":
        raise ScenarioError("--library needs --format markdown or json")
    workload = Workload(
        model=args.model,
        weights=args.weights,
        context_tokens=args.context,
        concurrency=args.concurrency,
        kv_dtype=args.kv_dtype,
        engine=args.engine,
        transport=args.transport,
    )
    catalog.model(args.model)
    catalog.quant(args.weights)
    if args.tariff:
        catalog.tariff(args.tariff)
    floors = Floors(min_tok_s_per_stream=args.min_tok_s, max_ttft_s=args.max_ttft_s)
    df = compare(
        workload,
        catalog,
        units=_ints(args.units, "--units") if args.units else None,
        platforms=_ids(args.platforms) if args.platforms else None,
        parallel=args.parallel,
        prices=prices,
        tariff=args.tariff,
        hours_at_load_per_day=args.hours_at_load,
        floors=floors,
    )
    choice = best_choice(df, args.rank, floors)
    best = choice.best
    df["best_option"] = [
        best is not None and (r["platform"], r["units"]) == (best["platform"], best["units"])
        for r in df[["platform", "units"]].to_dict("records")
    ]
    storage = _library_storage(args.library, catalog, df) if args.library else None
    df["memory_setting"] = [memory_setting_of(catalog, pid) for pid in df["platform"]]
    for key, value in source.to_dict().items():
        df[key] = value
    age = price_age_of(catalog, df.loc[df["price_chf"].notna(), "oldest_price_date"])
    if args.format == "csv":  # formula-like text neutralised (OWASP)
        flat = df.copy()
        for col in ("missing_parts", "floor_misses", "assumptions"):
            flat[col] = flat[col].map("; ".join)
        cells = flat.map(spreadsheet_cell)
        # whole days, empty without a dated price (a None among ints made the column
        # float); set after the map, which gives float64 again on pandas 2.2
        cells["price_age_days"] = flat["price_age_days"].astype("Int64")
        sys.stdout.write(cells.to_csv(index=False))
    elif args.format == "json":
        rows = _records(df)
        print(
            strict_json(
                rows if storage is None else {"configurations": rows, "storage": _records(storage)}
            )
        )
    else:
        print(
            f"{args.model} {args.weights}, context {args.context}, concurrency {args.concurrency}\n"
        )
        print(source.line(age.oldest_price_date))
        print_age(age)
        print(_best_line(choice))
        for line in memory_setting_lines(catalog, df["platform"]):
            print(line)
        print()
        _print_markdown(df, storage)
    return 0


def _library_storage(library_text: str, catalog: Catalog, df: pd.DataFrame) -> pd.DataFrame:
    """The SSD check of ``--library MODEL:QUANT,...`` on the compared platforms."""
    library = []
    for entry in _ids(library_text):
        model, sep, quant = entry.rpartition(":")
        if not sep or not model or not quant:
            raise ScenarioError(f"--library entries must be MODEL:QUANT (got {entry!r})")
        catalog.model(model)
        catalog.quant(quant)
        library.append((model, quant))
    return storage_fit(catalog, library, platforms=list(dict.fromkeys(df["platform"])))


def _print_markdown(df: pd.DataFrame, storage: pd.DataFrame | None) -> None:
    """The comparison table (with TCO and memory-setting columns where present), the rows
    with unpriced parts, those that do not fit, and the SSD check."""
    tco = [c for c in df.columns if c.startswith("tco_chf_")]
    cols = _MD_COLUMNS + [(c, f"TCO {c.removeprefix('tco_chf_')} CHF", "chf") for c in tco]
    if df["memory_setting"].notna().any():
        cols.insert(7, ("memory_setting", "Memory setting", None))
    sys.stdout.write(markdown_table(df, cols))
    partial = df[~df["price_complete"].astype(bool) & df["unpriced_items"].astype(bool)]
    if len(partial):
        print(
            "\nPrice incomplete (these parts are not priced; the CHF figures of the row "
            "leave them out):"
        )
        for row in partial.to_dict("records"):
            print(f"- {row['units']} x {row['platform']}: {row['unpriced_items']}")
    bad = df[~df["fits"].astype(bool)]
    if len(bad):
        print("\nNot fitting / not buildable:")
        for row in bad.to_dict("records"):
            print(f"- {row['units']} x {row['platform']}: {row['reason']}")
    if storage is not None:
        print("\nSSD per unit vs model library (100 GB kept for OS and containers):\n")
        sys.stdout.write(
            markdown_table(
                storage,
                [
                    ("platform", "Platform", None),
                    ("storage_tb", "SSD TB", "g"),
                    ("library_gb", "Library GB", ",.0f"),
                    ("models_fit", "Models that fit", None),
                    ("models_in_library", "of", None),
                    ("free_gb_after_library", "Free GB", ",.0f"),
                ],
            )
        )
