"""``python -m sizing``: the parser and the dispatcher (the design's command-line contract).

Each command is one module of this package, named after it (cli/estimate.py, cli/bom.py,
...), with ``add_arguments(parser)`` and ``run(args)``. Errors (unknown ids, impossible
inputs, bad options) print one line on stderr and exit with status 2 (cli/common.py).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from cli.common import OneLineParser, exit_status

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

# name -> one-line help, in the order ``--help`` lists them
COMMANDS = {
    "catalog": "list catalog ids with key specs",
    "estimate": "memory fit and speed of one scenario (or --batch)",
    "model": "parameters, weights and KV bytes of a model",
    "calibrate": "predicted vs measured on data/benchmarks.csv",
    "bom": "bill of materials (CHF) for N units of a platform",
    "upgrade": "shopping list from N owned units to M: parts to buy, owned parts left "
    "unused, cost now, total spent",
    "compare": "one workload across cluster sizes / platforms",
    "plan": "rank configurations meeting a requirements file",
    "cost": "CHF per million tokens (energy + depreciation) and break-even vs cloud API prices",
    "agent": "seconds per turn of a long agent session (prefix caching) and how many "
    "checkpoints fit on each SSD",
}


def command_module(name: str) -> ModuleType:
    """The module of command `name`, imported only when that command is parsed: each
    module imports what it uses at its top, and some of that is slow to load (pandas and
    pyarrow for compare, ~0.5 s), so a command pays only for its own imports."""
    if name not in COMMANDS:
        raise ValueError(f"unknown command {name!r}")
    return importlib.import_module(f"cli.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``python -m sizing``: every command by name and help, with the
    options of `command` only (of every command when None: --help, the README check)."""
    parser = OneLineParser(
        prog="python -m sizing", description="LLM hardware sizing: memory fit, speed, cost."
    )
    parser.add_argument("--catalog", help="catalog YAML (default: the project's catalog.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        p = sub.add_parser(name, help=text)
        if command in (None, name):
            command_module(name).add_arguments(p)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is neither an option nor the value of
    ``--catalog`` (the only option before the command); None if that is not a command."""
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
        if "=" not in word and len(word) > 2 and "--catalog".startswith(word):
            next(words, None)  # --catalog PATH (or an abbreviation of it)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m sizing`` with `argv` (default: the process's); the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_named(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a one-line option error (2), printed
        return int(exc.code or 0)
    return exit_status(args.func, args)
