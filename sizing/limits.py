"""One set of input rules for every entry point (estimate, compare, plan, bom, model, the
app): numeric ranges, file-size caps, nesting depth and number limits.

Each range check raises `InputError` (a ValueError) with one line naming the input; the
argparse ``type=`` callables below turn the same checks into one-line option errors
(exit 2). `check_depth` walks loaded JSON iteratively (it cannot itself hit Python's
recursion limit); YAML files get the depth and number limits node by node, with the field
and line, in `sizing.catalog.UniqueKeyLoader`.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

UNITS_MIN, UNITS_MAX = 1, 64  # cluster size (units of one platform)
CONTEXT_TOKENS_MIN, CONTEXT_TOKENS_MAX = 1, 10_000_000
CONCURRENCY_MIN, CONCURRENCY_MAX = 1, 4096  # concurrent streams
SPEC_MULTIPLIER_MIN, SPEC_MULTIPLIER_MAX = 1.0, 16.0  # accepted tokens per decode step
MEM_UTIL_MIN, MEM_UTIL_MAX = 0.05, 1.0
HOURS_MIN, HOURS_MAX = 0.0, 24.0
TP_MIN, TP_MAX = 1, 64

MAX_DEPTH = 64  # nesting levels of objects/arrays in a JSON or YAML file
MAX_ABS_NUMBER = 1e15  # no count, size, price or rate of this project comes near it
MAX_INT_DIGITS = 16  # integers longer than this are refused before conversion
YAML_MAX_BYTES = 4 * 2**20  # requirements and catalog YAML (catalog.yaml is ~0.3 MB)
BATCH_MAX_LINE_CHARS = 64 * 1024  # one CSV row of `estimate --batch`
BATCH_MAX_ROWS = 1_000_000  # rows per `estimate --batch` run


class InputError(ValueError):
    """An input out of range or unreadable; the message is one line naming it."""


def check_int(name: str, value: int, lo: int, hi: int) -> int:
    """``value`` if ``lo <= value <= hi`` (not a bool), else InputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer (got {_short(value)})")
    if value < lo:
        raise InputError(f"{name} must be at least {lo} (got {value})")
    if value > hi:
        shown = value if len(str(value)) <= 20 else f"a {len(str(value))}-digit number"
        raise InputError(f"{name} must be at most {hi} (got {shown})")
    return value


def check_float(name: str, value: float, lo: float, hi: float) -> float:
    """``value`` if finite and ``lo <= value <= hi``, else InputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} must be a number (got {_short(value)})")
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number (got {value})")
    if value < lo:
        raise InputError(f"{name} must be at least {lo:g} (got {value:g})")
    if value > hi:
        raise InputError(f"{name} must be at most {hi:g} (got {value:g})")
    return float(value)


def parse_int(name: str, text: str, lo: int, hi: int) -> int:
    """An integer from text (at most MAX_INT_DIGITS digits), checked against [lo, hi]."""
    raw = str(text).strip()
    digits = raw.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS and digits.isdigit():
        bound = f"at least {lo}" if raw.startswith("-") else f"at most {hi}"
        raise InputError(f"{name} must be {bound} (got a {len(digits)}-digit number)")
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer (got {_short(raw)})") from None
    return check_int(name, value, lo, hi)


def parse_float(name: str, text: str, lo: float, hi: float) -> float:
    """A finite float from text, checked against [lo, hi]."""
    raw = str(text).strip()
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number (got {_short(raw)})") from None
    return check_float(name, value, lo, hi)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ----------------------------------------------------------------------------- argparse
def _arg_type(kind: Callable[..., Any], name: str, lo: Any, hi: Any) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return kind(name, text, lo, hi)
        except InputError as exc:
            # argparse prefixes "argument --x:"; keep only the rule
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None

    convert.__name__ = name.lstrip("-").replace("-", "_")  # argparse names it on errors
    return convert


units_arg = _arg_type(parse_int, "units", UNITS_MIN, UNITS_MAX)
context_arg = _arg_type(parse_int, "context", CONTEXT_TOKENS_MIN, CONTEXT_TOKENS_MAX)
concurrency_arg = _arg_type(parse_int, "concurrency", CONCURRENCY_MIN, CONCURRENCY_MAX)
tp_arg = _arg_type(parse_int, "tp", TP_MIN, TP_MAX)
spec_multiplier_arg = _arg_type(
    parse_float, "spec-multiplier", SPEC_MULTIPLIER_MIN, SPEC_MULTIPLIER_MAX
)
mem_util_arg = _arg_type(parse_float, "mem-util", MEM_UTIL_MIN, MEM_UTIL_MAX)
hours_arg = _arg_type(parse_float, "hours-at-load", HOURS_MIN, HOURS_MAX)


def units_list(text: str, name: str = "--units") -> list[int]:
    """Comma-separated unit counts, each within [UNITS_MIN, UNITS_MAX]."""
    parts = [x for x in text.split(",") if x.strip()]
    if not parts:
        raise InputError(f"{name} must be comma-separated integers (got {_short(text)})")
    return [parse_int(name, x, UNITS_MIN, UNITS_MAX) for x in parts]


def check_workload(*, context_tokens: int, concurrency: int, units: int | None = None) -> None:
    """The shared range rules of a workload (estimate, compare, plan, the app)."""
    check_int("context", context_tokens, CONTEXT_TOKENS_MIN, CONTEXT_TOKENS_MAX)
    check_int("concurrency", concurrency, CONCURRENCY_MIN, CONCURRENCY_MAX)
    if units is not None:
        check_int("units", units, UNITS_MIN, UNITS_MAX)


# ----------------------------------------------------------------------------- files
def check_depth(data: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """InputError if objects/arrays in ``data`` nest deeper than ``max_depth`` levels."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            if level > max_depth:
                raise InputError(f"nested deeper than {max_depth} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)


__all__ = [
    "BATCH_MAX_LINE_CHARS",
    "BATCH_MAX_ROWS",
    "CONCURRENCY_MAX",
    "CONCURRENCY_MIN",
    "CONTEXT_TOKENS_MAX",
    "CONTEXT_TOKENS_MIN",
    "HOURS_MAX",
    "HOURS_MIN",
    "MAX_ABS_NUMBER",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MEM_UTIL_MAX",
    "MEM_UTIL_MIN",
    "SPEC_MULTIPLIER_MAX",
    "SPEC_MULTIPLIER_MIN",
    "TP_MAX",
    "TP_MIN",
    "UNITS_MAX",
    "UNITS_MIN",
    "YAML_MAX_BYTES",
    "InputError",
    "check_depth",
    "check_float",
    "check_int",
    "check_workload",
    "concurrency_arg",
    "context_arg",
    "hours_arg",
    "mem_util_arg",
    "parse_float",
    "parse_int",
    "spec_multiplier_arg",
    "tp_arg",
    "units_arg",
    "units_list",
]
