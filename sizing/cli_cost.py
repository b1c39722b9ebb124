"""`python -m sizing cost | agent` (registered by sizing/cli.py).

    python -m sizing cost --platform ID --units N [--parallel P] --model M --weights Q
        [--context T] [--concurrency C] [--hours H] [--input-share S] [--life-years Y]
        [--tariff ID | --rappen-per-kwh R] [--usd-chf X] [--cloud-model M ...]
        [--cloud-prices FILE] [--format text|json|csv|markdown] [--json]
    python -m sizing agent --platform ID --units N [--parallel P] --model M --weights Q
        [--start-tokens T] [--tokens-per-turn T] [--output-tokens T] [--turns N]
        [--library MODEL:QUANT,...] [--storage-platforms ID,...] [--os-reserve-gb GB]
        [--format text|json|markdown] [--json]

Both accept --live-prices [--prices-db DB]. Errors print one line on stderr and exit with
status 2 (sizing.cli.main).
"""

from __future__ import annotations

import argparse
import csv
import io
from typing import Any

from sizing import limits
from sizing.catalog import Catalog
from sizing.money import chf
from sizing.safe_text import md_escape, spreadsheet_cell
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES, ScenarioError

INPUT_SHARE_MAX = 0.99
LIFE_YEARS_MAX = 20.0
TURNS_MAX = 10_000
RAPPEN_MAX = 1000.0
USD_CHF_MAX = 100.0
RESERVE_GB_MAX = 100_000.0


def _float(name: str, lo: float, hi: float) -> Any:
    def convert(text: str) -> float:
        try:
            return limits.parse_float(name, text, lo, hi)
        except limits.InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.replace("-", "_")
    return convert


def _int(name: str, lo: int, hi: int) -> Any:
    def convert(text: str) -> int:
        try:
            return limits.parse_int(name, text, lo, hi)
        except limits.InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.replace("-", "_")
    return convert


def _scenario_args(p: argparse.ArgumentParser, *, context_default: int | None) -> None:
    p.add_argument("--platform", required=True)
    p.add_argument("--units", type=limits.units_arg, default=1)
    p.add_argument("--parallel", choices=PARALLEL_CHOICES,
                   help="layout of 2+ units (default: tp for one unit; required for more)")
    p.add_argument("--model", required=True, help="catalog model id or path to a config.json")
    p.add_argument("--weights", required=True, help="quantization id")
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--context", type=limits.context_arg, default=context_default,
                   help="tokens per request" + ("" if context_default else
                                                " (default: the session's final context)"))
    p.add_argument("--concurrency", type=limits.concurrency_arg, default=1,
                   help="concurrent streams (sessions)")
    p.add_argument("--mem-util", type=limits.mem_util_arg)
    p.add_argument("--live-prices", action="store_true",
                   help="use effective prices from the price history (python -m pricing)")
    p.add_argument("--prices-db", help="price history database (default: see pricing)")


def register(subparsers: Any) -> None:
    """Add the cost and agent subcommands to `python -m sizing`."""
    p = subparsers.add_parser(
        "cost", help="CHF per million tokens (energy + depreciation) and break-even vs "
        "cloud API prices")
    _scenario_args(p, context_default=32768)
    p.add_argument("--hours", type=limits.hours_arg,
                   help="hours of use (at load) per day (default: catalog, 8)")
    p.add_argument("--input-share", type=_float("input-share", 0.0, INPUT_SHARE_MAX),
                   default=0.75, help="share of input (prompt) tokens in all tokens "
                   "(default 0.75 = 3 input tokens per output token)")
    p.add_argument("--life-years", type=_float("life-years", 0.25, LIFE_YEARS_MAX),
                   help="depreciation period (default: catalog years_tco, 3)")
    p.add_argument("--tariff", help="electricity tariff id (default: catalog default)")
    p.add_argument("--rappen-per-kwh", type=_float("rappen-per-kwh", 0.0, RAPPEN_MAX),
                   help="electricity price, overrides --tariff (0 = free power)")
    p.add_argument("--usd-chf", type=_float("usd-chf", 0.01, USD_CHF_MAX),
                   help="CHF per USD (default: the dated rate in the cloud price file)")
    p.add_argument("--cloud-model", action="append",
                   help="compare with this model's cloud prices (repeatable; default: the "
                   "model run locally)")
    p.add_argument("--cloud-prices", help="cloud price YAML (default: data/cloud_prices.yaml)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--format", choices=("text", "json", "csv", "markdown"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(func=cmd_cost)

    p = subparsers.add_parser(
        "agent", help="seconds per turn of a long agent session (prefix caching) and how "
        "many checkpoints fit on each SSD")
    _scenario_args(p, context_default=None)
    p.add_argument("--start-tokens", type=_int("start-tokens", 1, limits.CONTEXT_TOKENS_MAX),
                   default=20000, help="context of the first turn (default 20000)")
    p.add_argument("--tokens-per-turn", type=_int("tokens-per-turn", 0,
                                                  limits.CONTEXT_TOKENS_MAX),
                   default=2000, help="new tokens per turn incl. tool output (default 2000)")
    p.add_argument("--output-tokens", type=_int("output-tokens", 1, limits.CONTEXT_TOKENS_MAX),
                   default=500, help="tokens the model answers per turn (default 500)")
    p.add_argument("--turns", type=_int("turns", 1, TURNS_MAX), default=30)
    p.add_argument("--library", help="checkpoints for the SSD check, MODEL:QUANT,... "
                   "(default: the chosen model and weights)")
    p.add_argument("--storage-platforms", help="platform ids for the SSD check (default: all)")
    p.add_argument("--os-reserve-gb", type=_float("os-reserve-gb", 0.0, RESERVE_GB_MAX),
                   help="SSD kept for the OS and containers (default 100 GB)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(func=cmd_agent)


# ----------------------------------------------------------------------------- helpers
def _estimate(args: argparse.Namespace, catalog: Catalog, prices: Any,
              context: int) -> dict[str, Any]:
    from sizing.cli import _estimate_dict

    parallel = args.parallel
    if parallel is None:
        if args.units > 1:
            raise ScenarioError(f"--parallel is needed for {args.units} units; valid "
                                f"choices: {', '.join(PARALLEL_CHOICES)}")
        parallel = "tp"
    values = {"platform": args.platform, "units": args.units, "parallel": parallel,
              "model": args.model, "weights": args.weights, "kv_dtype": args.kv_dtype,
              "engine": args.engine, "context": context, "concurrency": args.concurrency,
              "mem_util": args.mem_util}
    return _estimate_dict(catalog, values, prices)


def _context(args: argparse.Namespace) -> tuple[Catalog, Any]:
    from sizing.cli import _catalog, _effective_prices

    catalog = _catalog(args)
    return catalog, _effective_prices(catalog, args)


def _fmt_months(months: float | None) -> str:
    return "never" if months is None else f"{months:,.1f}".replace(",", "'")


def _n(value: float) -> str:
    """A count with Swiss thousands separators: 92'500."""
    return f"{value:,.0f}".replace(",", "'")


def _pairs(text: str) -> list[tuple[str, str]]:
    from sizing.economics import parse_checkpoints

    try:
        return parse_checkpoints(text)
    except ValueError as exc:
        raise ScenarioError(f"--library: {exc}") from None


# ----------------------------------------------------------------------------- cost
def cost_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The cloud comparison of a cost report as flat rows (CSV / Markdown / the app)."""
    return [{
        "provider": r["provider"], "model": r["model"],
        "local_chf_per_mtok_output": report["chf_per_mtok_output"],
        "local_chf_per_mtok_input": report["chf_per_mtok_input"],
        "cloud_chf_per_mtok_output": r["cloud_chf_per_mtok_output"],
        "cloud_chf_per_mtok_input": r["cloud_chf_per_mtok_input"],
        "cloud_chf_per_month": r["cloud_chf_per_month"],
        "local_energy_chf_per_month": report["energy_chf_per_month"],
        "break_even_months": r["break_even_months"],
        "pays_back_within_life": r["pays_back_within_life"],
        "price_date": r["price_date"], "source": r["source"]} for r in report["cloud"]]


def cmd_cost(args: argparse.Namespace) -> int:
    from sizing.cli import strict_json
    from sizing.economics import (
        CloudPriceError,
        cost_report,
        cumulative_table,
        load_cloud_prices,
    )

    catalog, prices = _context(args)
    try:
        cloud = load_cloud_prices(args.cloud_prices)
    except CloudPriceError as exc:
        raise ScenarioError(str(exc)) from None
    tariff = catalog.tariff(args.tariff or catalog.defaults.tariff)
    rappen = tariff.rappen_per_kwh if args.rappen_per_kwh is None else args.rappen_per_kwh
    tariff_id = tariff.id if args.rappen_per_kwh is None else "given"
    hours = catalog.defaults.hours_at_load_per_day if args.hours is None else args.hours
    life = catalog.defaults.years_tco if args.life_years is None else args.life_years
    if args.cloud_model:
        known = {p.model.lower() for p in cloud.prices}
        unknown = [m for m in args.cloud_model if m.lower() not in known]
        if unknown:
            raise ScenarioError(f"--cloud-model {unknown[0]!r} has no price in the cloud price "
                                f"file; valid choices: "
                                f"{', '.join(sorted({p.model for p in cloud.prices}))}")
    est = _estimate(args, catalog, prices, args.context)
    try:
        report = cost_report(est, cloud, rappen_per_kwh=rappen, tariff_id=tariff_id,
                             hours_per_day=hours, input_share=args.input_share,
                             life_years=life, chf_per_usd=args.usd_chf,
                             compare_models=args.cloud_model)
    except ValueError as exc:
        raise ScenarioError(f"cannot compute a cost: {exc}") from None
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(strict_json({**report, "cumulative": cumulative_table(report)}))
    elif fmt == "csv":
        print(_csv(cost_rows(report)), end="")
    elif fmt == "markdown":
        print(cost_markdown(report))
    else:
        _print_cost(report)
    return 0


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: spreadsheet_cell(v) if isinstance(v, str) else v
                             for k, v in row.items()})
    return buffer.getvalue()


def _head(report: dict[str, Any]) -> str:
    return (f"{report['units']} x {report['platform']} ({report['parallel']}), "
            f"{report['model']} {report['weights']}, {report['engine']}, context "
            f"{report['context']}, {report['concurrency']} streams")


def _print_cost(report: dict[str, Any]) -> None:
    print(_head(report))
    incomplete = "" if report["price_complete"] else \
        f" + not priced: {', '.join(report['unpriced_items'])}"
    rows = [
        ("hardware (BOM)", chf(report["hardware_chf"], 0) + incomplete),
        ("use", f"{report['hours_per_day']:g} h/day, input share "
                f"{report['input_share']:.0%}, life {report['life_years']:g} years"),
        ("output tokens / day", f"{report['output_tokens_per_day']:,.0f}".replace(",", "'")),
        ("input tokens / day", f"{report['input_tokens_per_day']:,.0f}".replace(",", "'")),
        ("energy / month", chf(report["energy_chf_per_month"], 2)),
        ("depreciation / month", chf(report["depreciation_chf_per_month"], 2)),
        ("local CHF / Mtok output", chf(report["chf_per_mtok_output"], 2)),
        ("local CHF / Mtok input", chf(report["chf_per_mtok_input"], 2)),
        ("all-in CHF / Mtok output", chf(report["chf_per_mtok_output_all_in"], 2)
         + " (the whole day's cost / output tokens)"),
    ]
    for label, value in rows:
        print(f"  {label:<28}{value}")
    if report["cloud"]:
        print("Cloud APIs (same tokens per month):")
        for r in report["cloud"]:
            print(f"  {r['provider']}: {chf(r['cloud_chf_per_mtok_output'], 3)}/Mtok out, "
                  f"{chf(r['cloud_chf_per_mtok_input'], 3)}/Mtok in, "
                  f"{chf(r['cloud_chf_per_month'], 2)}/month; break-even "
                  f"{_fmt_months(r['break_even_months'])} months "
                  f"(price of {r['price_date']}, {r['source']})")
    print("Assumptions:")
    for a in report["assumptions"]:
        print(f"  - {a}")


def cost_markdown(report: dict[str, Any]) -> str:
    """The cost report as a Markdown document (text escaped: md_escape)."""
    lines = [f"# Cost per million tokens: {md_escape(_head(report))}", "",
             "| Quantity | Value |", "|---|---|"]
    for label, value in (
            ("Hardware (BOM)", chf(report["hardware_chf"], 0)),
            ("Energy per month", chf(report["energy_chf_per_month"], 2)),
            ("Depreciation per month", chf(report["depreciation_chf_per_month"], 2)),
            ("Local CHF / Mtok output", chf(report["chf_per_mtok_output"], 2)),
            ("Local CHF / Mtok input", chf(report["chf_per_mtok_input"], 2)),
            ("All-in CHF / Mtok output", chf(report["chf_per_mtok_output_all_in"], 2))):
        lines.append(f"| {label} | {md_escape(value)} |")
    lines += ["", "## Cloud APIs", "", "| Provider | CHF/Mtok out | CHF/Mtok in | CHF/month | "
              "Break-even (months) | Price date | Source |", "|---|---|---|---|---|---|---|"]
    for r in report["cloud"]:
        lines.append(f"| {md_escape(r['provider'])} | {r['cloud_chf_per_mtok_output']:.3f} | "
                     f"{r['cloud_chf_per_mtok_input']:.3f} | {r['cloud_chf_per_month']:.2f} | "
                     f"{_fmt_months(r['break_even_months'])} | {r['price_date']} | "
                     f"{md_escape(r['source'])} |")
    lines += ["", "## Assumptions", ""] + [f"- {md_escape(a)}" for a in report["assumptions"]]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- agent
def cmd_agent(args: argparse.Namespace) -> int:
    from sizing.cli import resolve_model, strict_json
    from sizing.economics import agent_report, final_context_tokens, storage_report
    from sizing.scenario import Scenario, resolve

    catalog, prices = _context(args)
    final = final_context_tokens(start_tokens=args.start_tokens,
                                 tokens_per_turn=args.tokens_per_turn,
                                 output_tokens_per_turn=args.output_tokens, turns=args.turns)
    context = args.context or final
    if context < final:
        raise ScenarioError(f"--context {context} is shorter than the session's final "
                            f"context of {final} tokens")
    est = _estimate(args, catalog, prices, context)
    if not est["fits"]:
        raise ScenarioError(f"the session does not fit at {context} tokens x "
                            f"{args.concurrency} streams: {est['reason']}")
    model = resolve_model(catalog, args.model) if args.model.endswith(".json") else None
    scenario = Scenario(platform=est["platform"], units=est["units"], parallel=est["parallel"],
                        model=est["model"] if model is None else args.model,
                        weights=est["weights"], kv_dtype=est["kv_dtype"],
                        engine=est["engine"], context_tokens=context,
                        concurrency=args.concurrency, mem_util=est["mem_util"])
    resolved = resolve(scenario, catalog, model=model)
    try:
        report = agent_report(resolved, catalog, start_tokens=args.start_tokens,
                              tokens_per_turn=args.tokens_per_turn,
                              output_tokens_per_turn=args.output_tokens, turns=args.turns)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    library = _pairs(args.library) if args.library else [(est["model"], est["weights"])]
    for m, q in library:
        catalog.model(m)                    # unknown ids: one line naming the valid choices
        catalog.quant(q)
    platforms = ([x.strip() for x in args.storage_platforms.split(",") if x.strip()]
                 if args.storage_platforms else None)
    for pid in platforms or []:
        catalog.platform(pid)
    storage = storage_report(catalog, library, platform_ids=platforms,
                             os_reserve_gb=args.os_reserve_gb)
    out = {"platform": est["platform"], "units": est["units"], "parallel": est["parallel"],
           "model": est["model"], "weights": est["weights"], "engine": est["engine"],
           "concurrency": args.concurrency, "start_tokens": args.start_tokens,
           "tokens_per_turn": args.tokens_per_turn, "output_tokens_per_turn": args.output_tokens,
           **report, "storage": storage}
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(strict_json(out))
    elif fmt == "markdown":
        print(agent_markdown(out))
    else:
        _print_agent(out)
    return 0


def _agent_summary(out: dict[str, Any]) -> list[tuple[str, str]]:
    turns = out["turns"]
    first, last = turns[0], turns[-1]
    return [
        ("turns", f"{len(turns)} (context {_n(first['context_tokens'])} -> "
                  f"{_n(last['context_tokens'])} tokens)"),
        ("first turn", f"{first['seconds_cached']:.1f} s"),
        ("last turn, prefix caching", f"{last['seconds_cached']:.1f} s (prefill "
                                      f"{last['prefill_s_cached']:.1f} s + decode "
                                      f"{last['decode_s']:.1f} s)"),
        ("last turn, no caching", f"{last['seconds_uncached']:.1f} s (prefill "
                                  f"{last['prefill_s_uncached']:.1f} s)"),
        ("session, prefix caching", f"{out['total_s_cached'] / 60:.1f} min"),
        ("session, no caching", f"{out['total_s_uncached'] / 60:.1f} min"),
    ]


def _print_agent(out: dict[str, Any]) -> None:
    print(f"{out['units']} x {out['platform']} ({out['parallel']}), {out['model']} "
          f"{out['weights']}, {out['engine']}: agent session")
    for label, value in _agent_summary(out):
        print(f"  {label:<28}{value}")
    st = out["storage"]
    sizes = ", ".join(f"{c['model']} {c['weights']} {c['size_gb']:.0f} GB"
                      for c in st["checkpoints"])
    print(f"SSD per unit ({sizes}; {st['os_reserve_gb']:g} GB kept for the OS):")
    for row in st["platforms"]:
        tb = row["storage_tb"]
        free = f"{row['free_gb_after_library']:,.0f}".replace(",", "'")
        print(f"  {row['platform']:<32}{tb:g} TB: {row['models_fit']} of "
              f"{row['models_in_library']} fit, {free} GB free after all")
    print("Assumptions:")
    for a in out["assumptions"] + st["assumptions"]:
        print(f"  - {a}")


def agent_markdown(out: dict[str, Any]) -> str:
    """The agent report (turn summary, per-turn table, SSD table) as Markdown."""
    lines = [f"# Agent session: {out['units']} x {md_escape(out['platform'])}, "
             f"{md_escape(out['model'])} {md_escape(out['weights'])}", "",
             "| Quantity | Value |", "|---|---|"]
    lines += [f"| {k} | {md_escape(v)} |" for k, v in _agent_summary(out)]
    lines += ["", "| Turn | Context (tokens) | Prefilled (cached) | s/turn cached | "
              "s/turn uncached |", "|---|---|---|---|---|"]
    lines += [f"| {t['turn']} | {t['context_tokens']} | {t['prefilled_tokens_cached']} | "
              f"{t['seconds_cached']:.2f} | {t['seconds_uncached']:.2f} |" for t in out["turns"]]
    st = out["storage"]
    lines += ["", "## SSD per unit", "", "| Platform | SSD (TB) | Usable (GB) | Fit | Free "
              "after all (GB) |", "|---|---|---|---|---|"]
    lines += [f"| {md_escape(r['platform'])} | {r['storage_tb']:g} | {r['usable_gb']:.0f} | "
              f"{r['models_fit']} of {r['models_in_library']} | "
              f"{r['free_gb_after_library']:.0f} |" for r in st["platforms"]]
    lines += ["", "## Assumptions", ""]
    lines += [f"- {md_escape(a)}" for a in out["assumptions"] + st["assumptions"]]
    return "\n".join(lines) + "\n"


__all__ = ["agent_markdown", "cmd_agent", "cmd_cost", "cost_markdown", "cost_rows",
           "register"]
