"""``python -m sizing plan``: the configurations that meet a requirements file, ranked.

python -m sizing plan --requirements FILE.yaml [--json] [--all]
    [--memory-setting ID ...] [--prices effective|catalog]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import (
    add_ranking_args,
    memory_setting_lines,
    memory_setting_of,
    price_age_of,
    print_age,
    ranking_context,
    strict_json,
)
from sizing.money import chf
from sizing.planner import plan
from sizing.requirements import RequirementsError, check_requirements, load_requirements

if TYPE_CHECKING:
    import argparse

    from sizing.planner import PlanResult


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``plan``."""
    p.add_argument("--requirements", required=True, help="requirements YAML")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="list every rejected configuration")
    add_ranking_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the configurations that meet a requirements file, cheapest first."""
    req = load_requirements(args.requirements)
    catalog, prices, source = ranking_context(args)
    try:
        check_requirements(req, catalog)  # ids and limits: name the file as well
    except RequirementsError as exc:
        raise RequirementsError(f"{Path(args.requirements).name}: {exc}") from None
    result = plan(req, catalog, prices=prices)
    age = price_age_of(catalog, [c.oldest_price_date for c in result.recommended])
    if args.json:
        d = result.to_dict()
        for c, cand in zip(d["recommended"], result.recommended, strict=True):
            c["price_age_days"] = price_age_of(catalog, [cand.oldest_price_date]).price_age_days
            c["memory_setting"] = memory_setting_of(catalog, cand.platform_id)
        print(strict_json({**d, **age.to_dict(), **source.to_dict()}))
        return 0
    print(source.line(age.oldest_price_date))
    print_age(age)
    for line in memory_setting_lines(catalog, [c.platform_id for c in result.recommended]):
        print(line)
    _print_recommended(result)
    _print_rejected(result, every=args.all)
    print("\nAssumptions:")
    for a in result.assumptions:
        print(f"- {a}")
    return 0


def _print_recommended(result: PlanResult) -> None:
    """The configurations that meet the requirements: priced completely first, then those
    with unpriced parts; the floors and the closest miss in between."""
    complete = [c for c in result.recommended if c.price_complete]
    partial = [c for c in result.recommended if not c.price_complete]
    print(f"{len(complete)} configuration(s) meet the requirements (cheapest first):")
    _print_candidates(complete, 1)
    print(
        f"Floors: every stream {result.floors.text()} (central estimate; "
        "min_tok_s_per_stream / max_ttft_s in the requirements file, 0 = none)."
    )
    closest = result.closest_text()
    if closest:
        print(closest[:1].upper() + closest[1:] + ".")
    if partial:
        print(
            f"\n{len(partial)} more meet them only if their unpriced parts fit in the rest of "
            f"the budget (price incomplete; ranked after the complete ones):"
        )
        _print_candidates(partial, len(complete) + 1)


def _print_rejected(result: PlanResult, *, every: bool) -> None:
    """Rejected platform families, and every rejected configuration (`every`) or their
    count."""
    if result.families:
        print("\nRejected platform families:")
        for fam, why in result.families.items():
            print(f"- {fam}: {why}")
    if every:
        print("\nRejected configurations:")
        for r in result.rejected:
            print(f"- {r.units} x {r.platform_id}: {', '.join(r.reasons)} — {r.detail}")
    else:
        print(f"\n{len(result.rejected)} configuration(s) rejected (--all lists them).")


def _print_candidates(candidates: list[Any], start: int) -> None:
    for i, c in enumerate(candidates, start):
        flag = "meets targets" if c.meets_targets else "meets minimums only"
        price = chf(c.price_chf, None) + ("" if c.price_complete else " + unpriced parts")
        print(
            f"{i:>3}. {c.units} x {c.platform_id}: {price}, "
            f"{c.power_w_idle:.0f}/{c.power_w_load:.0f} W idle/load, "
            f"{chf(round(c.energy_chf_per_year), None)}/yr energy — {flag}"
        )
        for g in c.plan.groups:
            print(f"       {g.describe()}")
        for n in c.notes:
            print(f"       note: {n}")
