"""Price strings → integer Rappen: the 300-string corpus, Swiss formats, fuzzing."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.amounts import detect_currency, parse_price_rappen
from tests.pricing.support import DATA


def _corpus() -> list[tuple[str, int]]:
    with (DATA / "price_strings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(r["text"], int(Decimal(r["amount"]) * 100)) for r in rows]


CORPUS = _corpus()


def test_corpus_is_complete() -> None:
    assert len(CORPUS) == 300


@pytest.mark.parametrize(("text", "rappen"), CORPUS, ids=[f"{i:03d}" for i in range(len(CORPUS))])
def test_corpus(text: str, rappen: int) -> None:
    """tests/data/pricing/price_strings.csv (scrapinghub/price-parser test corpus, BSD-3)."""
    assert parse_price_rappen(text) == rappen


@pytest.mark.parametrize(
    ("text", "rappen"),
    [
        # Swiss (catalog_facts.md §1.4)
        ("CHF 2'477.00", 247_700),
        ("CHF 1'433.00", 143_300),
        ("CHF 12'999.95", 1_299_995),
        ("1’099.00", 109_900),  # U+2019
        ("1ʼ099.00", 109_900),  # U+02BC
        ("12.–", 1_200),  # en dash
        ("12.-", 1_200),
        ("99.—", 9_900),  # em dash
        ("Fr. 12.–", 1_200),
        ("CHF 1'299.–", 129_900),
        ("ab CHF 2'477.00", 247_700),
        ("from CHF 2'477.00", 247_700),
        ("CHF\u00a02'477.00", 247_700),
        ("2\u202f477.00 CHF", 247_700),  # narrow no-break space as thousands separator
        ("SFr. 1\u00a0099.50", 109_950),
        ("204.85", 20_485),
        (" 1800.00 ", 180_000),
        ("Gratis", 0),
        ("kostenlos", 0),
        ("CHF 0.–", 0),
        # European
        ("€ 1.299,00", 129_900),
        ("1.299,00 €", 129_900),
        ("EUR 1 299,00", 129_900),
        # several amounts: the first wins
        ("CHF 12.– 3 Angebote", 1_200),
        ("2'477.00 – 2'899.00", 247_700),
        # more than two decimals round half up (still integer); a lone 3-digit group after a
        # non-zero integer part is a thousands group (corpus: "73,460 €" -> 73460)
        ("0.505", 51),
        ("1.505", 150_500),
    ],
)
def test_swiss_and_european_formats(text: str, rappen: int) -> None:
    assert parse_price_rappen(text) == rappen


@pytest.mark.parametrize("text", ["", "   ", "CHF", "auf Anfrage", "n/a", "–"])
def test_no_amount(text: str) -> None:
    assert parse_price_rappen(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # exponent notation is never a shop price ("1e3" used to read as 1.00)
        "1e3",
        "1E3",
        "2.5e3",
        "CHF 1.5E+03",
        "1e-2 €",
        # a negative amount is not read as a positive one ("CHF -12.00" used to give 1200)
        "-5",
        "CHF -12.00",
        "CHF - 12.00",
        "−12",
        "–12",
        "-€ 5",
        "€ -1.299,00",
        "-35€ 99",
        # more than two decimals where the grouping says the last mark is decimal
        # ("CHF 2'477.005" used to give 247700500)
        "CHF 2'477.005",
        "2 477,005 €",
        "1.234,567",
        "1,234.567",
    ],
)
def test_no_silent_wrong_amounts(text: str) -> None:
    assert parse_price_rappen(text) is None


def test_absurd_lengths_are_not_prices() -> None:
    assert parse_price_rappen("9" * 5000) is None
    assert parse_price_rappen("1" * 14) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CHF 12.00", "CHF"),
        ("Fr. 12.–", "CHF"),
        ("SFr. 5", "CHF"),
        ("€ 5", "EUR"),
        ("5 EUR", "EUR"),
        ("$5", "USD"),
        ("12.00", None),
    ],
)
def test_detect_currency(text: str, code: str | None) -> None:
    assert detect_currency(text) == code


@settings(max_examples=400, deadline=None, database=None)
@given(st.text(max_size=60))
def test_fuzz_any_text(text: str) -> None:
    value = parse_price_rappen(text)
    assert value is None or (type(value) is int and value >= 0)


_price_alphabet = st.sampled_from(list("0123456789.,'’ʼ -–—€$CHFr\u00a0\u202fabEUR*()+%:"))


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(_price_alphabet, max_size=40).map("".join))
def test_fuzz_price_like_text(text: str) -> None:
    value = parse_price_rappen(text)
    assert value is None or (type(value) is int and value >= 0)


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=10**11))
def test_formatted_amounts_round_trip(rappen: int) -> None:
    francs, cents = divmod(rappen, 100)
    swiss = f"CHF {francs:,}.{cents:02d}".replace(",", "'")
    european = f"{francs:,}".replace(",", ".") + f",{cents:02d} €"
    assert parse_price_rappen(swiss) == rappen
    assert parse_price_rappen(european) == rappen
