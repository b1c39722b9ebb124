"""``python -m sizing agent``: seconds per turn of a long agent session (with and without
prefix caching) and how many checkpoints fit on each SSD.

    python -m sizing agent --platform ID --units N [--parallel P] --model M --weights Q
        [--start-tokens T] [--tokens-per-turn T] [--output-tokens T] [--turns N]
        [--library MODEL:QUANT,...] [--storage-platforms ID,...] [--os-reserve-gb GB]
        [--format text|json|markdown] [--json] [--live-prices] [--prices-db DB]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.common import catalog_of, float_arg, int_arg, price_context, resolve_model, strict_json
from cli.cost import add_scenario_args, scenario_estimate
from sizing import limits
from sizing.economics import agent_report, final_context_tokens, parse_checkpoints, storage_report
from sizing.safe_text import md_escape
from sizing.scenario import Scenario, ScenarioError, resolve

if TYPE_CHECKING:
    import argparse

TURNS_MAX = 10_000
RESERVE_GB_MAX = 100_000.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``agent``."""
    add_scenario_args(p, context_default=None)
    tokens = limits.CONTEXT_TOKENS_MAX
    p.add_argument(
        "--start-tokens",
        type=int_arg("start-tokens", 1, tokens),
        default=20000,
        help="context of the first turn (default 20000)",
    )
    p.add_argument(
        "--tokens-per-turn",
        type=int_arg("tokens-per-turn", 0, tokens),
        default=2000,
        help="new tokens per turn incl. tool output (default 2000)",
    )
    p.add_argument(
        "--output-tokens",
        type=int_arg("output-tokens", 1, tokens),
        default=500,
        help="tokens the model answers per turn (default 500)",
    )
    p.add_argument("--turns", type=int_arg("turns", 1, TURNS_MAX), default=30)
    p.add_argument(
        "--library",
        help="checkpoints for the SSD check, MODEL:QUANT,... "
        "(default: the chosen model and weights)",
    )
    p.add_argument("--storage-platforms", help="platform ids for the SSD check (default: all)")
    p.add_argument(
        "--os-reserve-gb",
        type=float_arg("os-reserve-gb", 0.0, RESERVE_GB_MAX),
        help="SSD kept for the OS and containers (default 100 GB)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(func=run)


def _n(value: float) -> str:
    """A count with Swiss thousands separators: 92'500."""
    return f"{value:,.0f}".replace(",", "'")


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_checkpoints(text)
    except ValueError as exc:
        raise ScenarioError(f"--library: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Print the seconds per turn of an agent session and the SSD check of its library."""
    catalog = catalog_of(args)
    prices, _ = price_context(catalog, args)
    final = final_context_tokens(
        start_tokens=args.start_tokens,
        tokens_per_turn=args.tokens_per_turn,
        output_tokens_per_turn=args.output_tokens,
        turns=args.turns,
    )
    context = args.context or final
    if context < final:
        raise ScenarioError(
            f"--context {context} is shorter than the session's final context of {final} tokens"
        )
    est = scenario_estimate(args, catalog, prices, context)
    if not est["fits"]:
        raise ScenarioError(
            f"the session does not fit at {context} tokens x "
            f"{args.concurrency} streams: {est['reason']}"
        )
    model = resolve_model(catalog, args.model) if args.model.endswith(".json") else None
    scenario = Scenario(
        platform=est["platform"],
        units=est["units"],
        parallel=est["parallel"],
        model=est["model"] if model is None else args.model,
        weights=est["weights"],
        kv_dtype=est["kv_dtype"],
        engine=est["engine"],
        context_tokens=context,
        concurrency=args.concurrency,
        mem_util=est["mem_util"],
    )
    resolved = resolve(scenario, catalog, model=model)
    try:
        report = agent_report(
            resolved,
            catalog,
            start_tokens=args.start_tokens,
            tokens_per_turn=args.tokens_per_turn,
            output_tokens_per_turn=args.output_tokens,
            turns=args.turns,
        )
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    library = _pairs(args.library) if args.library else [(est["model"], est["weights"])]
    for m, q in library:
        catalog.model(m)  # unknown ids: one line naming the valid choices
        catalog.quant(q)
    platforms = (
        [x.strip() for x in args.storage_platforms.split(",") if x.strip()]
        if args.storage_platforms
        else None
    )
    for pid in platforms or []:
        catalog.platform(pid)
    storage = storage_report(
        catalog, library, platform_ids=platforms, os_reserve_gb=args.os_reserve_gb
    )
    out = {
        "platform": est["platform"],
        "units": est["units"],
        "parallel": est["parallel"],
        "model": est["model"],
        "weights": est["weights"],
        "engine": est["engine"],
        "concurrency": args.concurrency,
        "start_tokens": args.start_tokens,
        "tokens_per_turn": args.tokens_per_turn,
        "output_tokens_per_turn": args.output_tokens,
        **report,
        "storage": storage,
    }
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
        (
            "turns",
            f"{len(turns)} (context {_n(first['context_tokens'])} -> "
            f"{_n(last['context_tokens'])} tokens)",
        ),
        ("first turn", f"{first['seconds_cached']:.1f} s"),
        (
            "last turn, prefix caching",
            f"{last['seconds_cached']:.1f} s (prefill "
            f"{last['prefill_s_cached']:.1f} s + decode "
            f"{last['decode_s']:.1f} s)",
        ),
        (
            "last turn, no caching",
            f"{last['seconds_uncached']:.1f} s (prefill {last['prefill_s_uncached']:.1f} s)",
        ),
        ("session, prefix caching", f"{out['total_s_cached'] / 60:.1f} min"),
        ("session, no caching", f"{out['total_s_uncached'] / 60:.1f} min"),
    ]


def _print_agent(out: dict[str, Any]) -> None:
    print(
        f"{out['units']} x {out['platform']} ({out['parallel']}), {out['model']} "
        f"{out['weights']}, {out['engine']}: agent session"
    )
    for label, value in _agent_summary(out):
        print(f"  {label:<28}{value}")
    st = out["storage"]
    sizes = ", ".join(
        f"{c['model']} {c['weights']} {c['size_gb']:.0f} GB" for c in st["checkpoints"]
    )
    print(f"SSD per unit ({sizes}; {st['os_reserve_gb']:g} GB kept for the OS):")
    for row in st["platforms"]:
        tb = row["storage_tb"]
        free = f"{row['free_gb_after_library']:,.0f}".replace(",", "'")
        print(
            f"  {row['platform']:<32}{tb:g} TB: {row['models_fit']} of "
            f"{row['models_in_library']} fit, {free} GB free after all"
        )
    print("Assumptions:")
    for a in out["assumptions"] + st["assumptions"]:
        print(f"  - {a}")


def agent_markdown(out: dict[str, Any]) -> str:
    """The agent report (turn summary, per-turn table, SSD table) as Markdown."""
    lines = [
        f"# Agent session: {out['units']} x {md_escape(out['platform'])}, "
        f"{md_escape(out['model'])} {md_escape(out['weights'])}",
        "",
        "| Quantity | Value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {md_escape(v)} |" for k, v in _agent_summary(out)]
    lines += [
        "",
        "| Turn | Context (tokens) | Prefilled (cached) | s/turn cached | s/turn uncached |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {t['turn']} | {t['context_tokens']} | {t['prefilled_tokens_cached']} | "
        f"{t['seconds_cached']:.2f} | {t['seconds_uncached']:.2f} |"
        for t in out["turns"]
    ]
    st = out["storage"]
    lines += [
        "",
        "## SSD per unit",
        "",
        "| Platform | SSD (TB) | Usable (GB) | Fit | Free after all (GB) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {md_escape(r['platform'])} | {r['storage_tb']:g} | {r['usable_gb']:.0f} | "
        f"{r['models_fit']} of {r['models_in_library']} | "
        f"{r['free_gb_after_library']:.0f} |"
        for r in st["platforms"]
    ]
    lines += ["", "## Assumptions", ""]
    lines += [f"- {md_escape(a)}" for a in out["assumptions"] + st["assumptions"]]
    return "\n".join(lines) + "\n"
