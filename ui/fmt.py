"""Display formatting: Swiss francs (``CHF 2'477``), numbers, ages, and table styling.

Tables keep numeric columns numeric (so they sort as numbers in ``st.dataframe``); only the
display is formatted, by ``st.column_config.NumberColumn(format=...)`` (:func:`column_config`).
Markdown exports use the same formats in Python (:func:`display_strings`).
Every column label carries its unit (``Price (CHF)``, ``Decode per stream (tok/s)``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from sizing.money import DASH, chf, chf_rappen  # the one CHF formatter (re-exported)
from sizing.safe_text import md_escape  # the one escaping route (re-exported)

if TYPE_CHECKING:
    from collections.abc import Mapping


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def swiss_number(value: float | int | None, decimals: int = 0) -> str:
    """``2477.4`` -> ``"2'477"``; apostrophe thousands separator; ``None``/NaN -> ``"–"``."""
    if _is_missing(value):
        return DASH
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return DASH
    text = f"{number:,.{decimals}f}".replace(",", "'")
    return "0" if text in ("-0", "-0.0") and decimals == 0 else text


def significant(value: float | int | None, digits: int = 2) -> str:
    """``210.98`` -> ``"210"``, ``5.34`` -> ``"5.3"``, ``0.351`` -> ``"0.35"``: ``digits``
    significant digits, like the browser's ``%.2g`` (:data:`PRINTF` ``sig2``);
    unknown -> ``"–"``."""
    if _is_missing(value):
        return DASH
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return DASH
    rounded = float(f"{number:.{digits}g}")
    return f"{rounded:.0f}" if rounded.is_integer() else f"{rounded:g}"


def round_significant(value: float, digits: int = 2) -> float:
    """The number :func:`significant` shows (NaN stays NaN)."""
    return float(f"{value:.{digits}g}") if math.isfinite(value) else value


def tokens(value: float | int | None) -> str:
    """Token counts with Swiss thousands separator: ``131072`` -> ``"131'072"``."""
    return swiss_number(value, 0)


def context_text(tokens: float | None, *, compact: bool = False) -> str:
    """A Fit cell: "128k" (``compact``: "128", the heading says k tokens), "✗" (the weights
    do not fit: 0 tokens), "n/a" (not supported: unknown)."""
    if tokens is None or math.isnan(tokens):
        return "n/a"
    if tokens <= 0:
        return "✗"
    if compact and tokens >= 2**20:
        return f"{tokens / 2**20:.0f}M"
    if tokens >= 1024:
        return f"{tokens / 1024:.0f}" + ("" if compact else "k")
    return f"{tokens:.0f}" if not compact else f"{tokens / 1024:.1f}".lstrip("0")


def age_days(as_of: date | datetime | None, today: date) -> int | None:
    """Whole days between ``as_of`` and ``today`` (``None`` when unknown)."""
    if as_of is None:
        return None
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    return (today - day).days


def age_label(days: int | None, stale_after_days: int) -> str:
    """``"12 d"`` or ``"240 d (stale)"`` — stale beyond the catalog's ``price_stale_days``."""
    if days is None:
        return DASH
    return f"{days} d (stale)" if days > stale_after_days else f"{days} d"


# --------------------------------------------------------------------------- tables
def _formatter(kind: str) -> Any:
    """Display formatter for a column kind: chf, int, float1, float2, pct, tokens, text."""
    match kind:
        case "chf":
            return lambda v: chf(v)
        case "chf2":
            return lambda v: chf(v, 2)
        case "int" | "tokens":
            return lambda v: swiss_number(v, 0)
        case "float1":
            return lambda v: swiss_number(v, 1)
        case "float2":
            return lambda v: swiss_number(v, 2)
        case "float3":
            return lambda v: swiss_number(v, 3)
        case "sig2":
            return lambda v: significant(v, 2)
        case "pct":
            return lambda v: DASH if _is_missing(v) else f"{float(v):+.0f}%"
        case "bool":
            return lambda v: DASH if _is_missing(v) else ("yes" if bool(v) else "no")
        case _:
            return lambda v: DASH if _is_missing(v) else str(v)


def display_strings(df: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``df`` with every column in ``kinds`` rendered as display text (Markdown)."""
    out = df.copy()
    for col, kind in kinds.items():
        if col in out.columns:
            out[col] = out[col].map(_formatter(kind)).astype(object)
    return out


# Streamlit's sprintf accepts a custom thousands separator: pad char ``'X`` + ``,`` flag.
# ``%'',.0f`` renders 2477 as ``2'477`` in the browser while the cell stays a number.
PRINTF: dict[str, str] = {
    "chf": "CHF %'',.0f",
    "chf2": "CHF %'',.2f",
    "int": "%'',d",
    "tokens": "%'',d",
    "float1": "%'',.1f",
    "float2": "%'',.2f",
    "float3": "%.3f",
    "sig2": "%.2g",  # two significant digits: 210, 5.3, 0.35 (rough figures)
    "pct": "%+.0f %%",
}

# Decimals a number keeps in CSV/Excel exports per display kind: what the table shows,
# except money, which keeps its Rappen (a spreadsheet should add up exactly).
EXPORT_DECIMALS: dict[str, int] = {
    "chf": 2,
    "chf2": 2,
    "float1": 1,
    "float2": 2,
    "float3": 3,
    "pct": 0,
}
INTEGER_KINDS = frozenset({"int", "tokens"})


def column_config(
    kinds: Mapping[str, str], helps: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``st.dataframe`` column configs: Swiss number formats (display only; the data stay
    numeric so columns sort as numbers), checkboxes for booleans, help texts."""
    helps = helps or {}
    out: dict[str, Any] = {}
    for label, kind in kinds.items():
        help_text = helps.get(label) or None
        if kind in PRINTF:
            out[label] = st.column_config.NumberColumn(label, format=PRINTF[kind], help=help_text)
        elif kind == "bool":
            out[label] = st.column_config.CheckboxColumn(label, help=help_text)
        elif kind == "link":
            out[label] = st.column_config.LinkColumn(  # show the host, link the page
                label, help=help_text, display_text=r"https?://(?:www\.)?([^/]+)"
            )
        else:
            out[label] = st.column_config.TextColumn(label, help=help_text)
    return out


__all__ = [
    "DASH",
    "EXPORT_DECIMALS",
    "INTEGER_KINDS",
    "PRINTF",
    "age_days",
    "age_label",
    "chf",
    "chf_rappen",
    "column_config",
    "display_strings",
    "md_escape",
    "round_significant",
    "significant",
    "swiss_number",
    "tokens",
]
