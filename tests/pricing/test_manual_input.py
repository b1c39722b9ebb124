"""Strict human price input (``parse_chf_input``) and ``python -m pricing set`` with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import prices as cli
from pricing.amounts import MAX_INPUT_RAPPEN, PriceInputError, parse_chf_input
from pricing.history import PriceHistory
from tests.pricing.support import FakeCatalog, make_item

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "rappen"),
    [
        ("2477", 247_700),
        ("2477.5", 247_750),
        ("2'477.00", 247_700),
        ("2’477.00", 247_700),
        ("CHF 2'477.00", 247_700),
        ("chf 2477", 247_700),
        ("2477 CHF", 247_700),
        ("Fr. 99", 9_900),
        ("SFr. 1\u00a0099.50", 109_950),
        ("CHF 2 477,50", 247_750),
        ("2\u202f477.00 CHF", 247_700),
        ("1,234.50", 123_450),
        ("1.234,50", 123_450),
        ("1.234.567", None),  # over the limit, but read as thousands (see below)
        ("12.–", 1_200),
        ("Fr. 12.-", 1_200),
        ("12.", 1_200),
        ("0.05", 5),
        ("  CHF 12  ", 1_200),
        ("1'000'000.00", 100_000_000),  # the limit itself is accepted
    ],
)
def test_accepted(text: str, rappen: int | None) -> None:
    if rappen is None:
        with pytest.raises(PriceInputError, match="1'000'000"):
            parse_chf_input(text)
    else:
        assert parse_chf_input(text) == rappen


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "negative"),
        ("CHF -12.00", "negative"),
        ("−12", "negative"),  # U+2212 minus sign
        ("– 12", "negative"),
        ("USD 2999", "in USD, not CHF"),
        ("EUR 4999", "in EUR, not CHF"),
        ("€ 4999", "in EUR, not CHF"),
        ("$5", "in USD, not CHF"),
        ("4999 GBP", "in GBP, not CHF"),
        ("1e3", "exponent"),
        ("2.5E+03", "exponent"),
        ("CHF 2'477.005", "more than two decimals"),
        ("2477.005", "more than two decimals"),
        ("0.505", "more than two decimals"),
        ("2.477", "ambiguous"),
        ("2,477", "ambiguous"),
        ("1.234.50", "both as thousands and decimal"),
        ("0", "zero"),
        ("0.00", "zero"),
        ("CHF 0.–", "zero"),
        ("1000000.01", "1'000'000"),
        ("2000000", "1'000'000"),
        ("99999999999", "1'000'000"),
        ("9" * 5000, "too long"),
        ("", "no amount"),
        ("   ", "no amount"),
        ("abc", "not a plain CHF amount"),
        ("cheap", "not a plain CHF amount"),
        ("gratis", "not a plain CHF amount"),
        ("ab CHF 12", "not a plain CHF amount"),
        ("12 13", "not a plain CHF amount"),
        ("2'477.00 – 2'899.00", "not a plain CHF amount"),
        ("CHF CHF 5", "not a plain CHF amount"),
        ("+5", "not a plain CHF amount"),
        ("12%", "not a plain CHF amount"),
    ],
)
def test_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(PriceInputError, match=reason) as info:
        parse_chf_input(text)
    assert "\n" not in str(info.value)


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(min_value=1, max_value=MAX_INPUT_RAPPEN))
def test_swiss_formatted_amounts_round_trip(rappen: int) -> None:
    francs, cents = divmod(rappen, 100)
    assert parse_chf_input(f"CHF {francs:,}.{cents:02d}".replace(",", "'")) == rappen
    assert parse_chf_input(f"{francs}.{cents:02d}") == rappen


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.text(max_size=40)
    | st.lists(st.sampled_from(list("0123456789.,'’ -–−€$eECHFr\u00a0")), max_size=20).map("".join)
)
def test_fuzz_never_returns_nonsense(text: str) -> None:
    try:
        value = parse_chf_input(text)
    except PriceInputError as exc:
        message = str(exc)
    else:
        assert type(value) is int
        assert 0 < value <= MAX_INPUT_RAPPEN
        return
    assert message
    assert "\n" not in message


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def fake_catalog(monkeypatch: pytest.MonkeyPatch) -> FakeCatalog:
    fake = FakeCatalog([make_item("gx10")])
    monkeypatch.setattr(cli, "_load_catalog", lambda _path: fake)
    return fake


@pytest.mark.usefixtures("fake_catalog")
@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("-5", "negative amounts are not prices"),
        ("USD 2999", "in USD, not CHF"),
        ("EUR 4999", "in EUR, not CHF"),
        ("1e3", "exponent notation"),
        ("CHF -12.00", "negative"),
        ("CHF 2'477.005", "more than two decimals"),
        ("0", "zero"),
        ("5000000", "1'000'000"),
    ],
)
def test_set_refuses_with_the_reason_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], price: str, reason: str
) -> None:
    db = tmp_path / "p.sqlite"
    code = cli.main(["set", "gx10", price, "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "invalid price" in err
    assert reason in err
    assert not db.exists() or PriceHistory(db).manual_prices() == []


@pytest.mark.usefixtures("fake_catalog")
def test_set_accepts_a_swiss_amount(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.sqlite"
    assert cli.main(["set", "gx10", "CHF 2'399.50", "--db", str(db), "--note", "quote"]) == 0
    assert "CHF 2'399.50" in capsys.readouterr().out
    assert PriceHistory(db).latest_manual("gx10").price_rappen == 239_950


def test_set_negative_in_a_subprocess_stores_nothing(tmp_path: Path) -> None:
    """The reported case: ``python3 -m pricing set asus-gx10-1tb -5`` stored CHF 5.00."""
    db = tmp_path / "x.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "pricing", "set", "asus-gx10-1tb", "-5", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: invalid price '-5': negative amounts are not prices"
    assert not db.exists() or PriceHistory(db).manual_prices() == []
