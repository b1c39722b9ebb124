"""``python -m sizing upgrade``: the shopping list from N owned units to M -- parts to
buy, owned parts left unused, cost now, total spent.

    python -m sizing upgrade --platform ID --from N --to M [--json|--markdown]
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from cli.common import (
    add_build_args,
    catalog_of,
    price_age_of,
    price_context,
    print_age,
    strict_json,
)
from sizing.scenario import ScenarioError
from sizing.topology import topology
from sizing.upgrade import upgrade_path

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``upgrade``."""
    add_build_args(
        p,
        (
            "--from",
            {
                "dest": "from_units",
                "required": True,
                "metavar": "N",
                "help": "units owned now (their default build is owned)",
            },
        ),
        ("--to", {"dest": "to_units", "required": True, "metavar": "M", "help": "units wanted"}),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the upgrade shopping list (sizing.upgrade.upgrade_path) as Markdown or JSON."""
    if args.to_units < args.from_units:
        raise ScenarioError(
            f"--to ({args.to_units}) must be at least --from "
            f"({args.from_units}): an upgrade adds units"
        )
    catalog = catalog_of(args)
    prices, _ = price_context(catalog, args)
    topology(catalog, args.platform, args.to_units)  # unknown id / unbuildable: exit 2
    up = upgrade_path(catalog, args.platform, args.from_units, args.to_units, prices=prices)
    age = price_age_of(catalog, [up.oldest_price_date])
    if args.json:
        print(strict_json({**up.to_dict(), **age.to_dict()}))
    else:
        sys.stdout.write(up.to_markdown())
        print()
        print_age(age)
    return 0
