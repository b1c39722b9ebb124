"""`python -m sizing bom | compare | plan` (registered by sizing/cli.py).

    python -m sizing bom --platform ID --units N [--design direct|switch] [--json|--markdown]
        [--from OWNED]
    python -m sizing upgrade --platform ID --from N --to M [--json|--markdown]
    python -m sizing compare --model M --weights Q [--units 1,2,3,4,8] [--platforms A,B]
        [--context T] [--concurrency C] [--parallel P] [--format csv|json|markdown]
        [--library MODEL:QUANT,...] [--min-tok-s 10] [--max-ttft-s 60] [--rank RULE]
    python -m sizing plan --requirements FILE.yaml [--json]

All three use the effective prices of the price history by default, as the app does
(``--prices catalog``: the catalog list prices only; ``--prices-db DB``: another history;
``--live-prices`` is kept as a no-op alias) and say which prices they used (a "prices:" line,
JSON ``price_source``). compare and plan take ``--memory-setting ID`` (repeatable): a
platform memory setting such as the raised Mac GPU limit. This is a composition layer: only
here do `sizing` and `pricing` meet.
Errors print one line on stderr and exit with status 2 (handled by sizing.cli.main).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any

from sizing import limits
from sizing.catalog import Catalog
from sizing.money import chf
from sizing.safe_text import md_escape, spreadsheet_cell
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES, ScenarioError
from sizing.workload import DEFAULT_MAX_TTFT_S, DEFAULT_MIN_TOK_S_PER_STREAM, RANK_RULES

if TYPE_CHECKING:     # only in annotations: estimate, bom and plan load no pandas
    import pandas as pd


def register(subparsers: Any) -> None:
    """Add the bom, compare and plan subcommands to `python -m sizing`."""
    p = subparsers.add_parser("bom", help="bill of materials (CHF) for N units of a platform")
    p.add_argument("--platform", required=True)
    p.add_argument("--units", type=limits.units_arg, required=True)
    p.add_argument("--design", choices=("direct", "switch"),
                   help="network design for 2+ GB10 nodes (default: direct for 2, switch "
                        "for 3+; direct = triangle for 3, ring for 4)")
    p.add_argument("--from", dest="from_units", type=limits.units_arg, metavar="OWNED",
                   help="units already owned: print the upgrade shopping list from OWNED to "
                        "--units instead (same as `upgrade --from OWNED --to UNITS`)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true", help="the default output")
    _price_args(p)
    p.set_defaults(func=cmd_bom)

    p = subparsers.add_parser("upgrade", help="shopping list from N owned units to M: parts "
                              "to buy, owned parts left unused, cost now, total spent")
    p.add_argument("--platform", required=True)
    p.add_argument("--from", dest="from_units", type=limits.units_arg, required=True,
                   metavar="N", help="units owned now (their default build is owned)")
    p.add_argument("--to", dest="to_units", type=limits.units_arg, required=True,
                   metavar="M", help="units wanted")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true", help="the default output")
    _price_args(p)
    p.set_defaults(func=cmd_upgrade)

    p = subparsers.add_parser("compare", help="one workload across cluster sizes / platforms")
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--units", nargs="+",
                   help="unit counts, e.g. 1,2,3,4,8 or 1 2 4 (default: catalog 1,2,3,4,8)")
    p.add_argument("--platforms", nargs="+",
                   help="platform ids, comma- or space-separated (default: all)")
    p.add_argument("--context", type=limits.context_arg, default=32768,
                   help="tokens per request")
    p.add_argument("--concurrency", type=limits.concurrency_arg, default=1,
                   help="concurrent requests")
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--parallel", choices=PARALLEL_CHOICES,
                   help="force a layout (default: the fastest per request that fits)")
    p.add_argument("--tariff", help="tariff id (default: catalog default)")
    p.add_argument("--hours-at-load", type=limits.hours_arg,
                   help="hours per day at load (rest idle)")
    p.add_argument("--library", help="model library for the SSD check: MODEL:QUANT,...")
    p.add_argument("--min-tok-s", type=_floor_arg("min-tok-s", 100_000.0),
                   default=DEFAULT_MIN_TOK_S_PER_STREAM,
                   help="best option: decode tok/s per stream at least this (central "
                        "estimate; default %(default)g, 0 = no floor)")
    p.add_argument("--max-ttft-s", type=_floor_arg("max-ttft-s", 1_000_000.0),
                   default=DEFAULT_MAX_TTFT_S,
                   help="best option: time to first token at most this many seconds "
                        "(central estimate; default %(default)g, 0 = no ceiling)")
    p.add_argument("--rank", choices=RANK_RULES, default="cheapest",
                   help="best-option rule (default: cheapest)")
    p.add_argument("--format", choices=("csv", "json", "markdown"), default="markdown")
    _price_args(p)
    _memory_arg(p)
    p.set_defaults(func=cmd_compare)

    p = subparsers.add_parser("plan", help="rank configurations meeting a requirements file")
    p.add_argument("--requirements", required=True, help="requirements YAML")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="list every rejected configuration")
    _price_args(p)
    _memory_arg(p)
    p.set_defaults(func=cmd_plan)


def _memory_arg(p: argparse.ArgumentParser) -> None:
    from sizing.cli import add_memory_setting_arg

    add_memory_setting_arg(p, many=True)


def _floor_arg(name: str, hi: float) -> Any:
    """argparse type: a finite float in [0, hi] (0 switches the floor off)."""
    def convert(text: str) -> float:
        try:
            return limits.parse_float(name, text, 0.0, hi)
        except limits.InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.replace("-", "_")
    return convert


def _price_args(p: argparse.ArgumentParser) -> None:
    from sizing.cli import add_price_args

    add_price_args(p)


def strict_json(value: Any) -> str:
    """JSON without NaN/Infinity (sizing.cli.strict_json: non-finite numbers become null)."""
    from sizing.cli import strict_json as strict

    return strict(value)


def _context(args: argparse.Namespace) -> tuple[Catalog, Any]:
    """(catalog with any ``--memory-setting`` in force, prices); the price source is kept
    on `args` (``args.price_source``) for the output."""
    from sizing.cli import _catalog, memory_settings_catalog, price_context

    catalog = memory_settings_catalog(_catalog(args), args)
    prices, args.price_source = price_context(catalog, args)
    return catalog, prices


def _source_dict(args: argparse.Namespace) -> dict[str, Any]:
    source = getattr(args, "price_source", None)
    return source.to_dict() if source is not None else {}


def _print_source(args: argparse.Namespace, oldest: Any) -> None:
    source = getattr(args, "price_source", None)
    if source is not None:
        print(source.line(oldest))


def memory_setting_of(catalog: Catalog, platform_id: str) -> str | None:
    """The memory setting in force on a platform of `catalog` (None: not a user choice)."""
    ms = catalog.platform(platform_id).memory_setting
    return ms.id if ms is not None else None


def memory_setting_lines(catalog: Catalog, platform_ids: Any) -> list[str]:
    """One line per platform with memory settings: the setting in force and its how-to."""
    lines = []
    for pid in dict.fromkeys(platform_ids):
        ms = catalog.platform(pid).memory_setting
        if ms is not None:
            lines.append(f"memory setting of {pid}: {ms.id} — {ms.label} ({ms.how_to})")
    return lines


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


# ----------------------------------------------------------------------------- price age
def price_age_of(catalog: Any, dates: Any) -> Any:
    """The PriceAge of the oldest of ``dates`` (dates or ISO strings) as of today (UTC),
    stale past the catalog's ``defaults.price_stale_days``."""
    import datetime

    from sizing.money import price_age

    parsed = [datetime.date.fromisoformat(d) if isinstance(d, str) else d for d in dates
              if d is not None and not (isinstance(d, float) and math.isnan(d))]
    return price_age(parsed, today=datetime.datetime.now(datetime.UTC).date(),
                     stale_days=catalog.defaults.price_stale_days)


def _print_age(age: Any) -> None:
    print(("WARNING: " if age.stale else "") + age.note())


# ----------------------------------------------------------------------------- bom
def cmd_bom(args: argparse.Namespace) -> int:
    from sizing.bom import bill_of_materials

    if getattr(args, "from_units", None) is not None:
        if args.design is not None:
            raise ScenarioError("--design does not apply with --from (the upgrade picks the "
                                "design cheapest to complete from what is owned)")
        args.to_units = args.units
        return cmd_upgrade(args)
    catalog, prices = _context(args)
    bom = bill_of_materials(catalog, args.platform, args.units, prices=prices,
                            design=args.design)
    age = price_age_of(catalog, [bom.oldest_price_date])
    if args.json:
        print(strict_json({**bom.to_dict(), **age.to_dict(), **_source_dict(args)}))
    else:
        sys.stdout.write(bom.to_markdown())
        print()
        _print_source(args, age.oldest_price_date)
        _print_age(age)
    return 0


# ----------------------------------------------------------------------------- upgrade
def cmd_upgrade(args: argparse.Namespace) -> int:
    """The upgrade shopping list (sizing.upgrade.upgrade_path) as Markdown or JSON."""
    from sizing.topology import topology
    from sizing.upgrade import upgrade_path

    if args.to_units < args.from_units:
        raise ScenarioError(f"--to ({args.to_units}) must be at least --from "
                            f"({args.from_units}): an upgrade adds units")
    catalog, prices = _context(args)
    topology(catalog, args.platform, args.to_units)       # unknown id / unbuildable: exit 2
    up = upgrade_path(catalog, args.platform, args.from_units, args.to_units, prices=prices)
    age = price_age_of(catalog, [up.oldest_price_date])
    if args.json:
        print(strict_json({**up.to_dict(), **age.to_dict()}))
    else:
        sys.stdout.write(up.to_markdown())
        print()
        _print_age(age)
    return 0


# ----------------------------------------------------------------------------- compare
# (key, header, format spec); "chf" = Swiss-style CHF amount. Every comparison column a
# buyer reads: price, raw and usable memory, fit, context, decode per request and in
# total, prefill, TTFT, power, energy, CHF per GB and per tok/s (TCO added at run time).
_MD_COLUMNS: list[tuple[str, str, str | None]] = [
    ("platform", "Platform", None), ("units", "N", None), ("parallel", "Layout", None),
    ("fits", "Fits", None), ("meets_floors", "Floors", None), ("price_chf", "CHF", "chf"),
    ("raw_memory_gb", "Raw GB", ",.0f"), ("usable_memory_gib", "Usable GiB", ",.0f"),
    ("max_context_tokens", "Max ctx", ",.0f"),
    ("decode_tok_s_per_request", "tok/s/req", ".1f"),
    ("decode_tok_s_total", "tok/s total", ".1f"), ("prefill_tok_s", "Prefill tok/s", ",.0f"),
    ("ttft_s", "TTFT s", ".1f"), ("power_w_idle", "Idle W", ".0f"),
    ("power_w_load", "Load W", ".0f"), ("energy_chf_per_year", "CHF/yr energy", "chf"),
    ("chf_per_usable_gb", "CHF/GB", "chf.1"), ("chf_per_tok_s", "CHF per tok/s", "chf.1"),
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
    lines = ["| " + " | ".join(h for _, h, _ in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
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
        out.append({k: None if isinstance(v, float) and not math.isfinite(v) else v
                    for k, v in values.items()})
    return out


def _best_line(choice: Any) -> str:
    """The best option (or what comes closest) as one line, with the rule."""
    b = choice.best
    if b is None:
        text = choice.miss_text() if choice.closest is not None else (
            "nothing in this comparison fits")
        return f"Best option: none — {text}.\nRule: {choice.rule_text()}."
    label = f"{b['units']} x {b['platform']}" + (
        f" ({b['parallel']})" if b["units"] > 1 and b["parallel"] else "")
    price = "no price" if b["price_chf"] != b["price_chf"] else chf(b['price_chf'])
    if not b["price_complete"] and b["price_chf"] == b["price_chf"]:
        price += " + not priced: " + ", ".join(b["missing_parts"])
    return (f"Best option: {label} — {price}, {b['decode_tok_s_per_request']:.1f} tok/s per "
            f"stream, TTFT {b['ttft_s']:.3g} s.\nRule: {choice.rule_text()}.")


def cmd_compare(args: argparse.Namespace) -> int:
    from sizing.compare import Floors, Workload, best_choice, compare, storage_fit

    catalog, prices = _context(args)
    if args.library and args.format == "csv":
        raise ScenarioError("--library needs --format markdown or json")
    workload = Workload(model=args.model, weights=args.weights, context_tokens=args.context,
                        concurrency=args.concurrency, kv_dtype=args.kv_dtype,
                        engine=args.engine)
    catalog.model(args.model)
    catalog.quant(args.weights)
    if args.tariff:
        catalog.tariff(args.tariff)
    floors = Floors(min_tok_s_per_stream=args.min_tok_s, max_ttft_s=args.max_ttft_s)
    df = compare(workload, catalog,
                 units=_ints(args.units, "--units") if args.units else None,
                 platforms=_ids(args.platforms) if args.platforms else None,
                 parallel=args.parallel, prices=prices, tariff=args.tariff,
                 hours_at_load_per_day=args.hours_at_load, floors=floors)
    choice = best_choice(df, args.rank, floors)
    best = choice.best
    df["best_option"] = [best is not None and (r["platform"], r["units"]) == (
        best["platform"], best["units"]) for r in df[["platform", "units"]].to_dict("records")]
    storage = None
    if args.library:
        library = []
        for entry in _ids(args.library):
            model, sep, quant = entry.rpartition(":")
            if not sep or not model or not quant:
                raise ScenarioError(f"--library entries must be MODEL:QUANT (got {entry!r})")
            catalog.model(model)
            catalog.quant(quant)
            library.append((model, quant))
        storage = storage_fit(catalog, library, platforms=list(dict.fromkeys(df["platform"])))
    df["price_age_days"] = [price_age_of(catalog, [d]).price_age_days
                            for d in df["oldest_price_date"]]
    df["memory_setting"] = [memory_setting_of(catalog, pid) for pid in df["platform"]]
    for key, value in _source_dict(args).items():
        df[key] = value
    age = price_age_of(catalog, df.loc[df["price_chf"].notna(), "oldest_price_date"])
    if args.format == "csv":                # formula-like text neutralised (OWASP)
        flat = df.copy()
        for col in ("missing_parts", "floor_misses"):
            flat[col] = flat[col].map("; ".join)
        sys.stdout.write(flat.map(spreadsheet_cell).to_csv(index=False))
    elif args.format == "json":
        rows = _records(df)
        print(strict_json(rows if storage is None else
                          {"configurations": rows, "storage": _records(storage)}))
    else:
        tco = [c for c in df.columns if c.startswith("tco_chf_")]
        cols = _MD_COLUMNS + [(c, f"TCO {c.removeprefix('tco_chf_')} CHF", "chf")
                              for c in tco]
        if df["memory_setting"].notna().any():
            cols.insert(7, ("memory_setting", "Memory setting", None))
        print(f"{args.model} {args.weights}, context {args.context}, concurrency "
              f"{args.concurrency}\n")
        _print_source(args, age.oldest_price_date)
        _print_age(age)
        print(_best_line(choice))
        for line in memory_setting_lines(catalog, df["platform"]):
            print(line)
        print()
        sys.stdout.write(markdown_table(df, cols))
        partial = df[~df["price_complete"].astype(bool) & df["unpriced_items"].astype(bool)]
        if len(partial):
            print("\nPrice incomplete (these parts are not priced; the CHF figures of the row "
                  "leave them out):")
            for row in partial.to_dict("records"):
                print(f"- {row['units']} x {row['platform']}: {row['unpriced_items']}")
        bad = df[~df["fits"].astype(bool)]
        if len(bad):
            print("\nNot fitting / not buildable:")
            for row in bad.to_dict("records"):
                print(f"- {row['units']} x {row['platform']}: {row['reason']}")
        if storage is not None:
            print("\nSSD per unit vs model library (100 GB kept for OS and containers):\n")
            sys.stdout.write(markdown_table(storage, [
                ("platform", "Platform", None), ("storage_tb", "SSD TB", "g"),
                ("library_gb", "Library GB", ",.0f"), ("models_fit", "Models that fit", None),
                ("models_in_library", "of", None), ("free_gb_after_library", "Free GB",
                                                    ",.0f")]))
    return 0


# ----------------------------------------------------------------------------- plan
def cmd_plan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sizing.planner import plan
    from sizing.requirements import RequirementsError, check_requirements, load_requirements

    req = load_requirements(args.requirements)
    catalog, prices = _context(args)
    try:
        check_requirements(req, catalog)      # ids and limits: name the file as well
    except RequirementsError as exc:
        raise RequirementsError(f"{Path(args.requirements).name}: {exc}") from None
    result = plan(req, catalog, prices=prices)
    age = price_age_of(catalog, [c.oldest_price_date for c in result.recommended])
    if args.json:
        d = result.to_dict()
        for c, cand in zip(d["recommended"], result.recommended, strict=True):
            c["price_age_days"] = price_age_of(catalog, [cand.oldest_price_date]).price_age_days
            c["memory_setting"] = memory_setting_of(catalog, cand.platform_id)
        print(strict_json({**d, **age.to_dict(), **_source_dict(args)}))
        return 0
    _print_source(args, age.oldest_price_date)
    _print_age(age)
    for line in memory_setting_lines(catalog, [c.platform_id for c in result.recommended]):
        print(line)
    complete = [c for c in result.recommended if c.price_complete]
    partial = [c for c in result.recommended if not c.price_complete]
    print(f"{len(complete)} configuration(s) meet the requirements (cheapest first):")
    _print_candidates(complete, 1)
    print(f"Floors: every stream {result.floors.text()} (central estimate; "
          "min_tok_s_per_stream / max_ttft_s in the requirements file, 0 = none).")
    closest = result.closest_text()
    if closest:
        print(closest[:1].upper() + closest[1:] + ".")
    if partial:
        print(f"\n{len(partial)} more meet them only if their unpriced parts fit in the rest of "
              f"the budget (price incomplete; ranked after the complete ones):")
        _print_candidates(partial, len(complete) + 1)
    if result.families:
        print("\nRejected platform families:")
        for fam, why in result.families.items():
            print(f"- {fam}: {why}")
    if args.all:
        print("\nRejected configurations:")
        for r in result.rejected:
            print(f"- {r.units} x {r.platform_id}: {', '.join(r.reasons)} — {r.detail}")
    else:
        print(f"\n{len(result.rejected)} configuration(s) rejected (--all lists them).")
    print("\nAssumptions:")
    for a in result.assumptions:
        print(f"- {a}")
    return 0


def _print_candidates(candidates: list[Any], start: int) -> None:
    for i, c in enumerate(candidates, start):
        flag = "meets targets" if c.meets_targets else "meets minimums only"
        price = chf(c.price_chf, None) + ("" if c.price_complete else " + unpriced parts")
        print(f"{i:>3}. {c.units} x {c.platform_id}: {price}, "
              f"{c.power_w_idle:.0f}/{c.power_w_load:.0f} W idle/load, "
              f"{chf(round(c.energy_chf_per_year), None)}/yr energy — {flag}")
        for g in c.plan.groups:
            print(f"       {g.describe()}")
        for n in c.notes:
            print(f"       note: {n}")


__all__ = ["cmd_bom", "cmd_compare", "cmd_plan", "cmd_upgrade", "markdown_table", "register"]
