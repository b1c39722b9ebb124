"""Helpers the ``python -m sizing`` commands share: the one-line error parser and the exit
status of bad input, catalog and model loading, price and memory-setting options, price
age, argparse number types and strict JSON.

Errors (unknown ids, impossible inputs, bad options) print one line on stderr and exit with
status 2 -- argparse's own errors included (no usage block).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricing import default_db_path
from pricing.history import HistoryError
from pricing.sources import CATALOG_ONLY, PriceSource, price_source
from sizing import limits
from sizing.catalog import (
    Catalog,
    CatalogError,
    ModelArch,
    UnknownIdError,
    default_catalog,
    load_catalog,
    model_from_config_json,
)
from sizing.money import PriceAge, price_age
from sizing.safe_text import strip_controls
from sizing.scenario import ScenarioError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

EXIT_USAGE = 2


class CliError(Exception):
    """A one-line user error (exit status 2)."""


def one_line(exc: BaseException) -> str:
    """An error message on one line (KeyError's quotes dropped, newlines joined by '; ',
    control characters such as terminal escapes dropped)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return strip_controls(
        "; ".join(part.strip() for part in str(text).splitlines() if part.strip())
    )


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (exit 2), not the usage block.

    Subparsers inherit the class (argparse uses ``type(self)`` for them).
    """

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        text = " ".join(message.split()).replace("invalid choice: ", "invalid choice ")
        self.exit(EXIT_USAGE, f"error: {text} (see {self.prog} --help)\n")


def exit_status(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run `command` and return its exit status: bad input is one line on stderr and status
    2; a rule this program has no message for yet is one line and status 1, never a
    traceback."""
    try:
        return int(command(args) or 0)
    except (ScenarioError, UnknownIdError, CatalogError, CliError, limits.InputError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.stderr.close()
        return 0
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
        # set LLM_PLANNER_TRACEBACK=1 to see where; exit 1: it is the program's fault
        if os.environ.get("LLM_PLANNER_TRACEBACK"):
            raise
        print(
            f"error: cannot evaluate this input ({type(exc).__name__}: "
            f"{one_line(exc)[:300]}); please report it",
            file=sys.stderr,
        )
        return 1


# ----------------------------------------------------------------------------- inputs
def catalog_of(args: argparse.Namespace) -> Catalog:
    """The catalog named by ``--catalog`` (default: the project's catalog.yaml)."""
    path = getattr(args, "catalog", None)
    return load_catalog(path) if path else default_catalog()


def resolve_model(catalog: Catalog, model: str) -> ModelArch:
    """A catalog model id/variant, a path to a Hugging Face config.json, or a Hub repo id
    that is not in the catalog (its config fetched and cached, sizing.hub)."""
    if model.endswith(".json"):
        if not Path(model).is_file():
            raise CliError(f"config file not found: {model}")
        return model_from_config_json(model)
    try:
        return catalog.model(model)
    except UnknownIdError:
        # imported here: requests costs ~0.15 s of start-up that catalog models never need
        from sizing.hub import HubError, is_repo_id, model_from_hub  # noqa: PLC0415

        if not is_repo_id(model):
            raise
        try:
            hub_model: ModelArch = model_from_hub(model)
            return hub_model
        except HubError as exc:
            raise CliError(str(exc)) from None


def float_arg(name: str, lo: float, hi: float) -> Callable[[str], float]:
    """argparse type: a finite float in [lo, hi] (the rules of sizing.limits)."""

    def convert(text: str) -> float:
        try:
            return limits.parse_float(name, text, lo, hi)
        except limits.InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.replace("-", "_")
    return convert


def int_arg(name: str, lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: an integer in [lo, hi] (the rules of sizing.limits)."""

    def convert(text: str) -> int:
        try:
            return limits.parse_int(name, text, lo, hi)
        except limits.InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.replace("-", "_")
    return convert


# ----------------------------------------------------------------------------- prices
def add_price_args(p: argparse.ArgumentParser) -> None:
    """``--prices {effective,catalog}``, ``--prices-db`` and the older ``--live-prices``."""
    p.add_argument(
        "--prices",
        choices=("effective", "catalog"),
        default="effective",
        help="effective (default): the price history's scraped and manual prices "
        "as the app uses them, catalog list prices for the rest; catalog: the "
        "dated catalog list prices only",
    )
    p.add_argument(
        "--live-prices",
        action="store_true",
        help="kept for older scripts: the same as --prices effective (the default)",
    )
    p.add_argument("--prices-db", help="price history database (default: see pricing)")


def add_build_args(p: argparse.ArgumentParser, *options: tuple[str, dict[str, Any]]) -> None:
    """The options of the shopping-list commands (``bom``, ``upgrade``): ``--platform``,
    the command's own `options` (flag and argparse settings; a unit count unless they give
    another type), ``--json`` or ``--markdown`` (the default), and the price options."""
    p.add_argument("--platform", required=True)
    for flag, settings in options:
        p.add_argument(flag, **{"type": limits.units_arg, **settings})
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true", help="the default output")
    add_price_args(p)


def add_ranking_args(p: argparse.ArgumentParser) -> None:
    """The options of the commands that rank configurations (``compare``, ``plan``): the
    price options and a repeatable ``--memory-setting``."""
    add_price_args(p)
    add_memory_setting_arg(p, many=True)


def ranking_context(args: argparse.Namespace) -> tuple[Catalog, Any, PriceSource]:
    """(catalog with the chosen memory settings, prices, their source) for `compare` and
    `plan` (see `add_ranking_args`)."""
    catalog = memory_settings_catalog(catalog_of(args), args)
    prices, source = price_context(catalog, args)
    return catalog, prices, source


def price_context(catalog: Catalog, args: argparse.Namespace) -> tuple[Any, PriceSource]:
    """(prices for `sizing`, `pricing.sources.PriceSource`): by default the effective prices
    of the price history, exactly as the app uses them (`pricing.sources.price_source`);
    with ``--prices catalog`` the catalog list prices. An unusable database named with
    ``--prices-db`` is an error (exit 2), the default one a stated fallback."""
    if getattr(args, "prices", "effective") == "catalog":
        return None, CATALOG_ONLY
    named = getattr(args, "prices_db", None)
    db = Path(named).expanduser() if named else default_db_path()
    try:
        return price_source(catalog.priced_items(), db=db, strict=bool(named))
    except HistoryError as exc:
        raise CliError(str(exc)) from None


def price_age_of(catalog: Catalog, dates: Iterable[Any]) -> PriceAge:
    """The PriceAge of the oldest of ``dates`` (dates or ISO strings) as of today (UTC),
    stale past the catalog's ``defaults.price_stale_days``."""
    parsed = [
        datetime.date.fromisoformat(d) if isinstance(d, str) else d
        for d in dates
        if d is not None and not (isinstance(d, float) and math.isnan(d))
    ]
    return price_age(
        parsed,
        today=datetime.datetime.now(datetime.UTC).date(),
        stale_days=catalog.defaults.price_stale_days,
    )


def print_age(age: PriceAge) -> None:
    """The price-age line (a warning when the prices are stale)."""
    print(("WARNING: " if age.stale else "") + age.note())


# ----------------------------------------------------------------------------- memory settings
def add_memory_setting_arg(p: argparse.ArgumentParser, *, many: bool) -> None:
    """``--memory-setting ID``: a platform memory setting (``catalog --kind platforms``
    lists them); with `many`, repeatable or comma-separated, each applied to the platforms
    that list it."""
    p.add_argument(
        "--memory-setting",
        action="append" if many else "store",
        metavar="ID",
        help="platform memory setting, e.g. wired-limit-raised (Mac "
        "GPU limit) or bios-vram-96 (Strix Halo); default: each platform's default"
        + ("; repeat or comma-separate for several platform kinds" if many else ""),
    )


def memory_settings_catalog(catalog: Catalog, args: argparse.Namespace) -> Catalog:
    """`catalog` with the ``--memory-setting`` ids in force (one line, exit 2, for an id
    no platform lists or two ids for one platform)."""
    raw = getattr(args, "memory_setting", None) or []
    ids = [
        x.strip()
        for part in ([raw] if isinstance(raw, str) else raw)
        for x in part.split(",")
        if x.strip()
    ]
    try:
        return catalog.with_memory_settings(ids)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def memory_setting_of(catalog: Catalog, platform_id: str) -> str | None:
    """The memory setting in force on a platform of `catalog` (None: not a user choice)."""
    ms = catalog.platform(platform_id).memory_setting
    return ms.id if ms is not None else None


def memory_setting_lines(catalog: Catalog, platform_ids: Iterable[str]) -> list[str]:
    """One line per platform with memory settings: the setting in force and its how-to."""
    lines = []
    for pid in dict.fromkeys(platform_ids):
        ms = catalog.platform(pid).memory_setting
        if ms is not None:
            lines.append(f"memory setting of {pid}: {ms.id} — {ms.label} ({ms.how_to})")
    return lines


# ----------------------------------------------------------------------------- output
def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±Infinity) replaced by None, in nested
    dicts and lists too: JSON has no such numbers; null means "unknown / not applicable"."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def strict_json(value: Any) -> str:
    """JSON text that any strict parser accepts: non-finite numbers become null."""
    try:  # most values hold no NaN or ±Infinity: encoded as they are, in one pass
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(finite_or_none(value), allow_nan=False)
