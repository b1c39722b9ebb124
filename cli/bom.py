"""``python -m sizing bom``: the bill of materials (CHF) for N units of a platform.

    python -m sizing bom --platform ID --units N [--design direct|switch] [--json|--markdown]
        [--from OWNED]

With ``--from OWNED`` it prints the upgrade shopping list instead (cli/upgrade.py). Prices:
the effective prices of the price history by default, as the app uses them (``--prices
catalog``: the catalog list prices only; ``--prices-db DB``: another history), with a
"prices:" line or JSON ``price_source`` naming them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from cli import upgrade
from cli.common import (
    add_build_args,
    catalog_of,
    price_age_of,
    price_context,
    print_age,
    strict_json,
)
from sizing.bom import bill_of_materials
from sizing.scenario import ScenarioError

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``bom``."""
    add_build_args(
        p,
        ("--units", {"required": True}),
        (
            "--design",
            {
                "type": str,
                "choices": ("direct", "switch"),
                "help": "network design for 2+ GB10 nodes (default: direct for 2, "
                "switch for 3+; direct = triangle for 3, ring for 4)",
            },
        ),
        (
            "--from",
            {
                "dest": "from_units",
                "metavar": "OWNED",
                "help": "units already owned: print the upgrade shopping list from OWNED "
                "to --units instead (same as `upgrade --from OWNED --to UNITS`)",
            },
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the bill of materials as Markdown or JSON."""
    if getattr(args, "from_units", None) is not None:
        if args.design is not None:
            raise ScenarioError(
                "--design does not apply with --from (the upgrade picks the "
                "design cheapest to complete from what is owned)"
            )
        args.to_units = args.units
        return upgrade.run(args)
    catalog = catalog_of(args)
    prices, source = price_context(catalog, args)
    bom = bill_of_materials(catalog, args.platform, args.units, prices=prices, design=args.design)
    age = price_age_of(catalog, [bom.oldest_price_date])
    if args.json:
        print(strict_json({**bom.to_dict(), **age.to_dict(), **source.to_dict()}))
    else:
        sys.stdout.write(bom.to_markdown())
        print()
        print(source.line(age.oldest_price_date))
        print_age(age)
    return 0
