"""Bounded parsing: price text is length-capped before any regular expression, the patterns
run in linear time, and fuzzing uses inputs of realistic page size (the real toppreise page
is 586 KB), each case within a time budget. Before the cap, 100 KB of digits took over a
minute in two patterns (exponent and euro-decimal)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.amounts import (
    _EXPONENT,
    _NUMBER,
    MAX_PRICE_TEXT_CHARS,
    PriceInputError,
    _euro_decimal,
    parse_chf_input,
    parse_price_rappen,
)
from pricing.pages import ParseError, parse_product_page
from tests.pricing.support import DATA

REAL = (DATA / "toppreise_real_product_p818374.html").read_bytes()
N = 100_000
PATHOLOGICAL = {
    "digits": "1" * N,
    "spaced digits + euro": "1 " * (N // 2) + "€",
    "dotted": "1." * (N // 2) + "5e3",
    "exponents": "1e" * (N // 2),
    "apostrophes": "1'" * (N // 2),
    "dashes": "12." + "-" * N,
    "currency": "CHF " * (N // 4),
    "commas and spaces": "1, " * (N // 3),
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_price_strings_are_quick_and_refused(name: str) -> None:
    t0 = time.perf_counter()
    assert parse_price_rappen(PATHOLOGICAL[name]) is None
    with pytest.raises(PriceInputError):
        parse_chf_input(PATHOLOGICAL[name])
    assert time.perf_counter() - t0 < 0.5


def test_the_cap_is_generous_for_real_price_text() -> None:
    padded = "ab CHF 2'477.00 inkl. MwSt." + " " * 300  # whitespace collapses
    assert parse_price_rappen(padded) == 247_700
    long_text = "ab CHF 2'477.00 " + "x" * MAX_PRICE_TEXT_CHARS
    assert parse_price_rappen(long_text) is None  # refused, never a guess


def test_euro_decimal_cases() -> None:
    assert _euro_decimal("35€ 99") == (0, "35", "99")
    assert _euro_decimal("ab 1250€600 inkl.") == (3, "1250", "600")
    assert _euro_decimal("€ 12") is None
    assert _euro_decimal("12 € only") is None
    assert parse_price_rappen("35€ 99") == 3599


@pytest.mark.parametrize(
    ("search", "unit"),
    [
        (_EXPONENT.search, "1"),
        (_EXPONENT.search, "1."),
        (_NUMBER.search, "1, "),
        (_euro_decimal, "1 "),
        (_euro_decimal, "1'"),
    ],
)
def test_patterns_scale_linearly(search, unit: str) -> None:
    """Time for 10x the input stays within ~10x (quadratic would be 100x)."""

    def cost(n: int) -> float:
        text = unit * n + "€x"
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            search(text)
            best = min(best, time.perf_counter() - t0)
        return best

    small, large = cost(2_000), cost(20_000)
    assert large < max(small * 30, 0.02), (small, large)


def test_real_page_with_a_pathological_offer_price() -> None:
    """A 586 KB real page whose offer prices are 100 KB of digits: quick, and the JSON-LD
    figures still win."""
    html = REAL.decode("utf-8")
    html = re.sub(r'(class="Plugin_Price ">)([^<]*)', lambda m: m.group(1) + "1" * N, html, count=5)
    assert len(html) > 1_000_000
    t0 = time.perf_counter()
    page = parse_product_page(html)
    assert time.perf_counter() - t0 < 10.0
    assert (page.low_rappen, page.offer_count) == (99_800, 23)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(fragment=st.text(max_size=40), repeat=st.integers(1, 5_000))
def test_fuzz_price_text_of_page_size(fragment: str, repeat: int) -> None:
    text = fragment * repeat
    t0 = time.perf_counter()
    value = parse_price_rappen(text)
    assert value is None or (isinstance(value, int) and value >= 0)
    assert time.perf_counter() - t0 < 0.5


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cut=st.integers(0, len(REAL)), insert=st.binary(max_size=2_000), repeat=st.integers(1, 200))
def test_fuzz_real_page_sized_inputs(cut: int, insert: bytes, repeat: int) -> None:
    """The real page cut anywhere with junk spliced in: a PageOffer or a ParseError, in time."""
    data = REAL[:cut] + insert * repeat + REAL[cut:]
    t0 = time.perf_counter()
    try:
        page = parse_product_page(data)
    except ParseError:
        pass
    else:
        assert page.low_rappen >= 0
        assert page.high_rappen >= page.low_rappen
    assert time.perf_counter() - t0 < 10.0
