"""``python -m sizing cost``: CHF per million tokens (energy + depreciation) and the
break-even against cloud API prices; `add_scenario_args` and `scenario_estimate` also serve
agent.

    python -m sizing cost --platform ID --units N [--parallel P] --model M --weights Q
        [--context T] [--concurrency C] [--hours H] [--input-share S] [--life-years Y]
        [--tariff ID | --rappen-per-kwh R] [--usd-chf X] [--cloud-model M ...]
        [--cloud-prices FILE] [--format text|json|csv|markdown] [--json]
        [--live-prices] [--prices-db DB]
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from cli.common import catalog_of, float_arg, price_context, strict_json
from cli.estimate import estimate_dict
from sizing import limits
from sizing.economics import CloudPriceError, cost_report, cumulative_table, load_cloud_prices
from sizing.money import chf
from sizing.safe_text import md_escape, spreadsheet_cell
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES, PARALLEL_CHOICES, ScenarioError

if TYPE_CHECKING:
    import argparse

    from sizing.catalog import Catalog

INPUT_SHARE_MAX = 0.99
LIFE_YEARS_MAX = 20.0
RAPPEN_MAX = 1000.0
USD_CHF_MAX = 100.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``cost``."""
    add_scenario_args(p, context_default=32768)
    p.add_argument(
        "--hours",
        type=limits.hours_arg,
        help="hours of use (at load) per day (default: catalog, 8)",
    )
    p.add_argument(
        "--input-share",
        type=float_arg("input-share", 0.0, INPUT_SHARE_MAX),
        default=0.75,
        help="share of input (prompt) tokens in all tokens "
        "(default 0.75 = 3 input tokens per output token)",
    )
    p.add_argument(
        "--life-years",
        type=float_arg("life-years", 0.25, LIFE_YEARS_MAX),
        help="depreciation period (default: catalog years_tco, 3)",
    )
    p.add_argument("--tariff", help="electricity tariff id (default: catalog default)")
    p.add_argument(
        "--rappen-per-kwh",
        type=float_arg("rappen-per-kwh", 0.0, RAPPEN_MAX),
        help="electricity price, overrides --tariff (0 = free power)",
    )
    p.add_argument(
        "--usd-chf",
        type=float_arg("usd-chf", 0.01, USD_CHF_MAX),
        help="CHF per USD (default: the dated rate in the cloud price file)",
    )
    p.add_argument(
        "--cloud-model",
        action="append",
        help="compare with this model's cloud prices (repeatable; default: the model run locally)",
    )
    p.add_argument("--cloud-prices", help="cloud price YAML (default: data/cloud_prices.yaml)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--format", choices=("text", "json", "csv", "markdown"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(func=run)


def add_scenario_args(p: argparse.ArgumentParser, *, context_default: int | None) -> None:
    """The scenario options of cost and agent (``--context`` default: `context_default`)."""
    p.add_argument("--platform", required=True)
    p.add_argument("--units", type=limits.units_arg, default=1)
    p.add_argument(
        "--parallel",
        choices=PARALLEL_CHOICES,
        help="layout of 2+ units (default: tp for one unit; required for more)",
    )
    p.add_argument("--model", required=True, help="catalog model id or path to a config.json")
    p.add_argument("--weights", required=True, help="quantization id")
    p.add_argument("--kv-dtype", default="bf16", choices=KV_DTYPES)
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument(
        "--context",
        type=limits.context_arg,
        default=context_default,
        help="tokens per request"
        + ("" if context_default else " (default: the session's final context)"),
    )
    p.add_argument(
        "--concurrency",
        type=limits.concurrency_arg,
        default=1,
        help="concurrent streams (sessions)",
    )
    p.add_argument("--mem-util", type=limits.mem_util_arg)
    p.add_argument(
        "--live-prices",
        action="store_true",
        help="use effective prices from the price history (python -m pricing)",
    )
    p.add_argument("--prices-db", help="price history database (default: see pricing)")


def scenario_estimate(
    args: argparse.Namespace, catalog: Catalog, prices: Any, context: int
) -> dict[str, Any]:
    """The estimate dict of the scenario given by `add_scenario_args`'s options at
    `context` tokens."""
    parallel = args.parallel
    if parallel is None:
        if args.units > 1:
            raise ScenarioError(
                f"--parallel is needed for {args.units} units; valid "
                f"choices: {', '.join(PARALLEL_CHOICES)}"
            )
        parallel = "tp"
    values = {
        "platform": args.platform,
        "units": args.units,
        "parallel": parallel,
        "model": args.model,
        "weights": args.weights,
        "kv_dtype": args.kv_dtype,
        "engine": args.engine,
        "context": context,
        "concurrency": args.concurrency,
        "mem_util": args.mem_util,
    }
    return estimate_dict(catalog, values, prices)


def _fmt_months(months: float | None) -> str:
    return "never" if months is None else f"{months:,.1f}".replace(",", "'")


def cost_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The cloud comparison of a cost report as flat rows (CSV / Markdown / the app)."""
    return [
        {
            "provider": r["provider"],
            "model": r["model"],
            "local_chf_per_mtok_output": report["chf_per_mtok_output"],
            "local_chf_per_mtok_input": report["chf_per_mtok_input"],
            "cloud_chf_per_mtok_output": r["cloud_chf_per_mtok_output"],
            "cloud_chf_per_mtok_input": r["cloud_chf_per_mtok_input"],
            "cloud_chf_per_month": r["cloud_chf_per_month"],
            "local_energy_chf_per_month": report["energy_chf_per_month"],
            "break_even_months": r["break_even_months"],
            "pays_back_within_life": r["pays_back_within_life"],
            "price_date": r["price_date"],
            "source": r["source"],
        }
        for r in report["cloud"]
    ]


def run(args: argparse.Namespace) -> int:
    """Print the cost per million tokens and the break-even against cloud APIs."""
    catalog = catalog_of(args)
    prices, _ = price_context(catalog, args)
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
            raise ScenarioError(
                f"--cloud-model {unknown[0]!r} has no price in the cloud price "
                f"file; valid choices: "
                f"{', '.join(sorted({p.model for p in cloud.prices}))}"
            )
    est = scenario_estimate(args, catalog, prices, args.context)
    try:
        report = cost_report(
            est,
            cloud,
            rappen_per_kwh=rappen,
            tariff_id=tariff_id,
            hours_per_day=hours,
            input_share=args.input_share,
            life_years=life,
            chf_per_usd=args.usd_chf,
            compare_models=args.cloud_model,
        )
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
            writer.writerow(
                {k: spreadsheet_cell(v) if isinstance(v, str) else v for k, v in row.items()}
            )
    return buffer.getvalue()


def _head(report: dict[str, Any]) -> str:
    return (
        f"{report['units']} x {report['platform']} ({report['parallel']}), "
        f"{report['model']} {report['weights']}, {report['engine']}, context "
        f"{report['context']}, {report['concurrency']} streams"
    )


def _print_cost(report: dict[str, Any]) -> None:
    print(_head(report))
    incomplete = (
        "" if report["price_complete"] else f" + not priced: {', '.join(report['unpriced_items'])}"
    )
    rows = [
        ("hardware (BOM)", chf(report["hardware_chf"], 0) + incomplete),
        (
            "use",
            f"{report['hours_per_day']:g} h/day, input share "
            f"{report['input_share']:.0%}, life {report['life_years']:g} years",
        ),
        ("output tokens / day", f"{report['output_tokens_per_day']:,.0f}".replace(",", "'")),
        ("input tokens / day", f"{report['input_tokens_per_day']:,.0f}".replace(",", "'")),
        ("energy / month", chf(report["energy_chf_per_month"], 2)),
        ("depreciation / month", chf(report["depreciation_chf_per_month"], 2)),
        ("local CHF / Mtok output", chf(report["chf_per_mtok_output"], 2)),
        ("local CHF / Mtok input", chf(report["chf_per_mtok_input"], 2)),
        (
            "all-in CHF / Mtok output",
            chf(report["chf_per_mtok_output_all_in"], 2)
            + " (the whole day's cost / output tokens)",
        ),
    ]
    for label, value in rows:
        print(f"  {label:<28}{value}")
    if report["cloud"]:
        print("Cloud APIs (same tokens per month):")
        for r in report["cloud"]:
            print(
                f"  {r['provider']}: {chf(r['cloud_chf_per_mtok_output'], 3)}/Mtok out, "
                f"{chf(r['cloud_chf_per_mtok_input'], 3)}/Mtok in, "
                f"{chf(r['cloud_chf_per_month'], 2)}/month; break-even "
                f"{_fmt_months(r['break_even_months'])} months "
                f"(price of {r['price_date']}, {r['source']})"
            )
    print("Assumptions:")
    for a in report["assumptions"]:
        print(f"  - {a}")


def cost_markdown(report: dict[str, Any]) -> str:
    """The cost report as a Markdown document (text escaped: md_escape)."""
    lines = [
        f"# Cost per million tokens: {md_escape(_head(report))}",
        "",
        "| Quantity | Value |",
        "|---|---|",
    ]
    for label, value in (
        ("Hardware (BOM)", chf(report["hardware_chf"], 0)),
        ("Energy per month", chf(report["energy_chf_per_month"], 2)),
        ("Depreciation per month", chf(report["depreciation_chf_per_month"], 2)),
        ("Local CHF / Mtok output", chf(report["chf_per_mtok_output"], 2)),
        ("Local CHF / Mtok input", chf(report["chf_per_mtok_input"], 2)),
        ("All-in CHF / Mtok output", chf(report["chf_per_mtok_output_all_in"], 2)),
    ):
        lines.append(f"| {label} | {md_escape(value)} |")
    lines += [
        "",
        "## Cloud APIs",
        "",
        "| Provider | CHF/Mtok out | CHF/Mtok in | CHF/month | "
        "Break-even (months) | Price date | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["cloud"]:
        lines.append(
            f"| {md_escape(r['provider'])} | {r['cloud_chf_per_mtok_output']:.3f} | "
            f"{r['cloud_chf_per_mtok_input']:.3f} | {r['cloud_chf_per_month']:.2f} | "
            f"{_fmt_months(r['break_even_months'])} | {r['price_date']} | "
            f"{md_escape(r['source'])} |"
        )
    lines += ["", "## Assumptions", ""] + [f"- {md_escape(a)}" for a in report["assumptions"]]
    return "\n".join(lines) + "\n"
