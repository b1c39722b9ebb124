"""Swiss formatting: CHF 2'477, numbers, ages; column configs keep data numeric."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui import fmt


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (2477, 0, "CHF 2'477"),
        (2477.4, 0, "CHF 2'477"),
        (2477.5, 0, "CHF 2'478"),
        (999, 0, "CHF 999"),
        (1_000, 0, "CHF 1'000"),
        (1_234_567.891, 2, "CHF 1'234'567.89"),
        (0.4, 0, "CHF 0"),
        (-1500, 0, "CHF -1'500"),
        (None, 0, "–"),
        (math.nan, 0, "–"),
        (math.inf, 0, "–"),
        (pd.NA, 0, "–"),
    ],
)
def test_chf(value, decimals, text):
    assert fmt.chf(value, decimals) == text


def test_rappen_and_tokens():
    assert fmt.chf_rappen(247700) == "CHF 2'477.00"
    assert fmt.chf_rappen(None) == "–"
    assert fmt.tokens(131072) == "131'072"
    assert fmt.swiss_number(43.637, 1) == "43.6"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_swiss_number_roundtrips(n):
    text = fmt.swiss_number(n)
    assert re.fullmatch(r"-?\d{1,3}('\d{3})*", text)
    assert int(text.replace("'", "")) == n


def test_age():
    today = date(2026, 11, 23)
    assert fmt.age_days(date(2026, 11, 1), today) == 22
    assert fmt.age_days(datetime(2026, 11, 22, 23, 59), today) == 1
    assert fmt.age_days(None, today) is None
    assert fmt.age_label(22, 30) == "22 d"
    assert fmt.age_label(31, 30) == "31 d (stale)"


def test_display_strings_leave_the_source_numeric():
    df = pd.DataFrame(
        {"Price (CHF)": [2477.0, None], "Decode (tok/s)": [43.64, 1.0], "Fits": [True, False]}
    )
    shown = fmt.display_strings(
        df, {"Price (CHF)": "chf", "Decode (tok/s)": "float1", "Fits": "bool"}
    )
    assert list(shown["Price (CHF)"]) == ["CHF 2'477", "–"]
    assert list(shown["Decode (tok/s)"]) == ["43.6", "1.0"]
    assert list(shown["Fits"]) == ["yes", "no"]
    assert df["Price (CHF)"].dtype.kind == "f"  # unchanged


def test_column_config_uses_swiss_printf_formats():
    cfg = fmt.column_config(
        {
            "Price (CHF)": "chf",
            "Fits": "bool",
            "Link": "link",
            "Max context (tokens)": "tokens",
            "Name": "text",
        },
        {"Price (CHF)": "bill of materials"},
    )
    price = cfg["Price (CHF)"]
    assert price["type_config"]["type"] == "number"
    assert price["type_config"]["format"] == "CHF %'',.0f"
    assert price["help"] == "bill of materials"
    assert cfg["Max context (tokens)"]["type_config"]["format"] == "%'',d"
    assert cfg["Fits"]["type_config"]["type"] == "checkbox"
    assert cfg["Link"]["type_config"]["type"] == "link"


def sprintf_thousands(fmt_string: str, value: float) -> str:
    """Python model of Streamlit's sprintf-js for ``%'X,.Nf``: pad char X is the
    thousands separator when the ',' flag is set (static/js/sprintfjs)."""
    m = re.fullmatch(r"(.*?)%'(.),(?:\.(\d+))?([df])(.*)", fmt_string)
    assert m, fmt_string
    prefix, sep, precision, kind, suffix = m.groups()
    digits = 0 if kind == "d" else int(precision or 6)
    number = f"{int(value) if kind == 'd' else value:,.{digits}f}".replace(",", sep)
    return prefix + number + suffix


@pytest.mark.parametrize("kind", ["chf", "chf2", "int", "tokens", "float1", "float2"])
def test_printf_formats_render_like_python(kind):
    for value in (2477.0, 1234567.891, 12.0):
        shown = sprintf_thousands(fmt.PRINTF[kind], value)
        decimals = {"chf2": 2, "float1": 1, "float2": 2}.get(kind, 0)
        integer = fmt.PRINTF[kind].endswith("d")  # %d truncates, %.0f rounds
        expected = fmt.swiss_number(int(value) if integer else value, decimals)
        assert shown.removeprefix("CHF ") == expected


def js_sprintf_g(fmt_string: str, value: float) -> str:
    """Python model of sprintf-js ``%.Ng``: ``String(Number(x.toPrecision(N)))``."""
    m = re.fullmatch(r"%\.(\d+)g", fmt_string)
    assert m, fmt_string
    number = float(f"{value:.{int(m.group(1)) - 1}e}")  # N significant digits
    return str(int(number)) if number.is_integer() else repr(number)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (210.98, "210"),
        (5.34, "5.3"),
        (0.351, "0.35"),
        (12.0, "12"),
        (99.96, "100"),
        (1234.5, "1200"),
        (None, "–"),
        (math.nan, "–"),
    ],
)
def test_significant_digits_match_the_browser(value, text):
    assert fmt.significant(value, 2) == text
    if text != "–":
        assert js_sprintf_g(fmt.PRINTF["sig2"], value) == text
        assert fmt.round_significant(value, 2) == float(text)


def test_md_escape_keeps_prose_and_numbers():
    for text in (
        "CHF 10'032 > budget CHF 10'000",
        "CHF 10,032 > budget CHF 10,000",
        "quant 'fp8' cannot run; valid choices: bf16, fp8, int8",
        "2 x asus-gx10-1tb (tp): 30.3 tok/s per stream",
    ):
        assert fmt.md_escape(text) == text
    assert fmt.md_escape("q4_k_m costs $5 *now*") == r"q4\_k\_m costs \$5 \*now\*"
    assert fmt.md_escape(":red[x] <b>\nnext") == r"\:red\[x\] \<b> next"
