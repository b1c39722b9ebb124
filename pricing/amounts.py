"""Price strings → amounts in integer Rappen: page texts, typed prices, schema.org values.

`parse_price_rappen` reads a price as a shop page writes it, `parse_chf_input` a price a
user types (CHF only, bounded), `schema_amount` a JSON-LD/microdata number; currencies are
recognised by `detect_currency` / `normalize_currency`. No floats anywhere (``Decimal``).

Price strings (§1.4): Swiss ``CHF 2'477.00``, ``1’099.00``, ``12.–``, ``ab CHF …``,
non-breaking/narrow spaces; European ``€ 1.299,00``, ``1 298,00 €``, ``35€ 99`` (euro sign as
decimal separator). The corpus in tests/data/pricing/price_strings.csv (from
scrapinghub/price-parser's test suite) pins the behaviour.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_MAX_INT_DIGITS = 13  # 10^13 Rappen = 100 billion CHF: anything longer is not a price


# =========================================================================== price strings
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
WHITESPACE = re.compile(r"\s+")
_APOS = "'’ʼ‘′´`"


# "12.–", "12.-", "1'299.—", "12,--" → whole francs (§1.4)
_WHOLE_FRANCS = re.compile(r"([0-9])([.,]) ?[-–—‒―]+(?![0-9])")
_NUMBER = re.compile(
    r"(?<![\w.,])[.,][0-9]+"  # ".75"
    r"|[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]{1,2})?(?![0-9])"  # "1 298,00", "3 250 000"
    rf"|[0-9]+(?:(?:[.,{_APOS}]|, (?=[0-9]{{2}}(?![0-9])))[0-9]+)*"  # "1'049,95", "1.837, 32"
)


# "35€ 99", "1250€600": the euro sign as decimal separator (price-parser corpus). Found by
# a scan back from the one "€" (linear), not a lazy regex tried at every digit (quadratic).
_EURO_NUMBER_CHARS = frozenset("0123456789 .," + _APOS)
_EURO_CENTS = re.compile(r"([0-9]+)|\s([0-9]{2})(?![0-9])")


def _euro_decimal(s: str) -> tuple[int, str, str] | None:
    """(start, number before "€", digits after it) when the one "€" in ``s`` sits between
    an amount and its cents ("35€ 99", "1250€600"), else None."""
    euro = s.find("€")
    after = _EURO_CENTS.match(s, euro + 1)
    if euro <= 0 or after is None:
        return None
    start = euro
    while start > 0 and s[start - 1] in _EURO_NUMBER_CHARS:
        start -= 1
    # the leftmost digit that does not continue a number ("12.5" is one number)
    for i in range(start, euro):
        if s[i] in "0123456789" and (i == 0 or s[i - 1] not in "0123456789.,"):
            return i, s[i:euro], after.group(1) or after.group(2) or ""
    return None


# "1e3", "2.5E+03", ".5e3": exponent notation is never a shop price (and "1e3" must not read
# as 1). Linear: one digit run, then an optional fraction (no nested quantifiers).
_EXPONENT = re.compile(
    r"(?<![A-Za-z0-9.,])(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)[eE][+-]?[0-9]+(?![A-Za-z0-9])"
)


# Price text is capped before any regular expression sees it: a price in a cell is short
# (the 300-string corpus: at most 24 characters; toppreise cells: 12), and a cap keeps every
# pattern's time bounded whatever a page holds.
MAX_PRICE_TEXT_CHARS = 100


# a minus sign right before the amount ("-12", "CHF −12.00", "- 12", "-€ 5"): negative
_NEGATIVE = re.compile(
    r"(?:[-\u2212] ?(?:(?:CHF|SFr\.?|Fr\.|EUR|USD|GBP|€|\$|£) ?)?|[\u2012\u2013\u2014])$",
    re.IGNORECASE,
)


# the amount continues past what the grammar accepts ("2 477,005": "2 477" then ",005")
_CUT_SHORT = re.compile(r"[.,][0-9]")
FREE_WORDS = re.compile(r"\b(?:gratis|kostenlos|free|gratuit|gratuito|umsonst)\b", re.IGNORECASE)
_CURRENCY = re.compile(
    r"(?<![A-Za-z])(CHF|SFr\.?|Fr\.|EUR|USD|GBP)(?![A-Za-z])|(€)|(US\$|\$)|(£)|\b(Euro)\b",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return WHITESPACE.sub(" ", text).strip()


def _digits_to_rappen(int_digits: str, frac_digits: str) -> int | None:
    """Integer part and decimal digits → Rappen, rounding half up past two decimals."""
    int_digits = int_digits.lstrip("0") or "0"
    if len(int_digits) > _MAX_INT_DIGITS:
        return None
    rappen = int(int_digits) * 100 + int((frac_digits + "00")[:2])
    if len(frac_digits) > 2 and frac_digits[2] >= "5":
        rappen += 1
    return rappen


def _token_to_rappen(token: str) -> tuple[int, bool] | None:
    """One number token → (Rappen, had a decimal part), guessing the separators.

    Both ``.`` and ``,`` present, or thousands grouped by apostrophes/spaces: the last
    ``.``/``,`` is the decimal separator, and more than two decimals after it give None
    (``2'477.005``, ``1.234,567``: ambiguous). One kind only, ungrouped: a group of exactly
    three digits after it means thousands (``73,460`` → 73460, ``12.999`` → 12999), anything
    else is decimal (``19,1`` → 19.10; ``0.505`` rounds half up to 51 Rappen).
    """
    grouped = any(ch in token for ch in _APOS) or re.search(r"(?<!,) ", token) is not None
    t = token.replace(" ", "")
    for ch in _APOS:
        t = t.replace(ch, "")
    if not t:
        return None
    if t[0] in ".,":
        value = _digits_to_rappen("0", t[1:])
        return None if value is None else (value, True)
    seps = [i for i, ch in enumerate(t) if ch in ".,"]
    if not seps:
        value = _digits_to_rappen(t, "")
        return None if value is None else (value, False)
    last = seps[-1]
    tail = t[last + 1 :]
    kinds = {t[i] for i in seps}
    if (grouped or len(kinds) == 2) and len(tail) > 2:
        # "2'477.005", "1.234,567": the last mark must be decimal, but 3+ decimals in a
        # grouped amount are a typo or a mixed grouping, not a price we can trust
        return None
    # "0.505" cannot be thousands: a leading zero group means a decimal part
    decimal = grouped or len(kinds) == 2 or len(tail) != 3 or t[: seps[0]].strip("0") == ""
    digits = t[:last].replace(".", "").replace(",", "")
    if not decimal:
        value = _digits_to_rappen(digits + tail, "")
        return None if value is None else (value, False)
    value = _digits_to_rappen(digits, tail)
    return None if value is None else (value, True)


def _euro_split_amount(s: str) -> tuple[bool, int | None]:
    """An amount with its cents after the euro sign (``35€ 99``): (True, cents), or (True,
    None) when negative; (False, None) when `s` is not written that way."""
    euro = _euro_decimal(s)
    if not euro:
        return False, None
    if _NEGATIVE.search(s[: euro[0]]):
        return True, None
    before = _NUMBER.fullmatch(euro[1].strip())
    parsed = _token_to_rappen(before.group(0)) if before else None
    if parsed is None or parsed[1]:
        return False, None
    extra = _digits_to_rappen("0", euro[2])
    if extra is None:
        return False, None
    return True, parsed[0] + extra


def parse_price_rappen(text: str) -> int | None:
    """Parse a price string to integer Rappen/cents; ``None`` when it holds no amount.

    The first amount in the text wins (``"From 26 to 50 €"`` → 2600). Handles Swiss
    (``CHF 2'477.00``, ``1’099.00``, ``12.–``, ``ab CHF``, U+00A0/U+202F spaces) and European
    (``€ 1.299,00``, ``1 298,00 €``, ``35€ 99``) formats (catalog_facts.md §1.4); "gratis"/
    "kostenlos"/"free" → 0. Never negative, never a float, never a guess: a negative amount
    (``CHF -12.00``), exponent notation (``1e3``) and more than two decimals in a grouped
    amount (``2'477.005``) give ``None``, and so does text longer than
    :data:`MAX_PRICE_TEXT_CHARS` (100) once whitespace is collapsed: no price cell is that long.
    """
    if not isinstance(text, str) or not text or len(text) > 10 * MAX_PRICE_TEXT_CHARS:
        return None
    s = _clean(text)
    if len(s) > MAX_PRICE_TEXT_CHARS:
        return None
    if _EXPONENT.search(s):
        return None
    s = _WHOLE_FRANCS.sub(r"\g<1>\g<2>00", s)
    if s.count("€") == 1:
        decided, cents = _euro_split_amount(s)
        if decided:
            return cents
    m = _NUMBER.search(s)
    if m is None:
        return 0 if FREE_WORDS.search(s) else None
    if _NEGATIVE.search(s[: m.start()]) or _CUT_SHORT.match(s, m.end()):
        return None
    parsed = _token_to_rappen(m.group(0))
    return None if parsed is None else parsed[0]


# =========================================================================== human input
MAX_INPUT_RAPPEN = 100_000_000  # CHF 1'000'000: no single hardware item costs more
_INPUT_CHF_BEFORE = re.compile(r"^(?:CHF|SFr\.?|Fr\.?)\s*", re.IGNORECASE)
_INPUT_CHF_AFTER = re.compile(r"\s*(?:CHF|SFr\.?|Fr\.?)$", re.IGNORECASE)


# digits, optionally grouped by one mark ("2'477", "2 477", "1.234.567", "1,234"), then an
# optional decimal part after "." or ","
_INPUT_NUMBER = re.compile(
    rf"(?P<int>[0-9]{{1,3}}(?P<g>[{_APOS} .,])[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*|[0-9]+)"
    r"(?:(?P<d>[.,])(?P<frac>[0-9]*))?"
)


class PriceInputError(ValueError):
    """A price typed by a person is refused; ``str(exc)`` is the one-line reason."""


def parse_chf_input(text: str) -> int:
    """A CHF amount typed by a person (``pricing set``, the app's override form) → Rappen.

    Strict, unlike :func:`parse_price_rappen`: accepts only a positive CHF amount up to
    CHF 1'000'000 with at most two decimals — ``2477``, ``2'477.00``, ``CHF 2 477,50``,
    ``1,234.50``, ``1.234,50``, ``12.–``, ``Fr. 99`` — and raises :class:`PriceInputError`
    with the reason for anything else: empty, negative, zero, another currency (``USD 2999``,
    ``€ 4999``), exponent notation (``1e3``), more than two decimals (``2'477.005``), an
    ambiguous single ``.``/``,`` before three digits (``2.477``), words, several amounts.
    """
    body = _chf_input_body(text)
    m = _INPUT_NUMBER.fullmatch(body)
    if m is None:
        raise PriceInputError(
            "not a plain CHF amount: write digits like 2477 or 2'477.00 (optionally with CHF)"
        )
    return _input_rappen(m, body)


def _chf_input_body(text: str) -> str:
    """The number of a typed CHF amount, its currency mark removed; PriceInputError for
    empty or over-long text, exponent notation, another currency, a negative amount."""
    if not isinstance(text, str) or not text.strip():
        raise PriceInputError("no amount given: enter a CHF amount like 2'477.00")
    if len(text) > 400:
        raise PriceInputError("too long for a price: enter a CHF amount like 2'477.00")
    s = _clean(text)
    if len(s) > 40:
        raise PriceInputError("too long for a price: enter a CHF amount like 2'477.00")
    if _EXPONENT.search(s):
        raise PriceInputError("exponent notation (like 1e3) is not accepted: write 1000.00")
    currency = detect_currency(s)
    if currency not in (None, "CHF"):
        raise PriceInputError(f"the amount is in {currency}, not CHF: convert it to CHF first")
    body = _INPUT_CHF_BEFORE.sub("", s, count=1)
    if body == s:
        body = _INPUT_CHF_AFTER.sub("", s, count=1)
    if body[:1] in ("-", "\u2212", "\u2012", "\u2013", "\u2014"):
        raise PriceInputError("negative amounts are not prices")
    return _WHOLE_FRANCS.sub(r"\g<1>\g<2>00", body)


def _input_rappen(m: re.Match[str], body: str) -> int:
    """Rappen of a typed amount matched by `_INPUT_NUMBER`; PriceInputError for mixed or
    ambiguous separators, more than two decimals, zero, or over CHF 1'000'000."""
    group, dec, frac = m.group("g"), m.group("d"), m.group("frac") or ""
    if dec is not None and dec == group:
        raise PriceInputError(f"'{dec}' is used both as thousands and decimal separator")
    if dec is None and group in (".", ",") and m.group("int").count(group) == 1:
        if m.group("int").split(group)[0].strip("0") == "":  # "0.505"
            raise PriceInputError("more than two decimals: Rappen have two (like 2477.05)")
        raise PriceInputError(
            f"'{body}' is ambiguous (thousands separator or three "
            "decimals?): write 2477 or 2'477.00"
        )
    if len(frac) > 2:
        raise PriceInputError("more than two decimals: Rappen have two (like 2477.05)")
    digits = m.group("int").replace(group or "", "").lstrip("0") or "0"
    if len(digits) > 7:
        raise PriceInputError("over CHF 1'000'000: not a plausible hardware price")
    rappen = int(digits) * 100 + int((frac + "00")[:2])
    if rappen <= 0:
        raise PriceInputError("zero is not a price: give a positive CHF amount")
    if rappen > MAX_INPUT_RAPPEN:
        raise PriceInputError("over CHF 1'000'000: not a plausible hardware price")
    return rappen


def detect_currency(text: str | None) -> str | None:
    """ISO code of the first currency mark in ``text`` (``CHF``, ``Fr.`` → CHF; ``€`` → EUR)."""
    if not text:
        return None
    m = _CURRENCY.search(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    return normalize_currency(m.group(0))


def normalize_currency(value: Any) -> str | None:
    """Map a currency mark or code to an upper-case ISO 4217 code (``Fr.`` → ``CHF``)."""
    if not isinstance(value, str):
        return None
    v = value.strip().upper().rstrip(".")
    if not v:
        return None
    aliases = {
        "FR": "CHF",
        "SFR": "CHF",
        "€": "EUR",
        "EURO": "EUR",
        "$": "USD",
        "US$": "USD",
        "£": "GBP",
    }
    v = aliases.get(v, v)
    return v if re.fullmatch(r"[A-Z]{3}", v) else None


def _decimal_to_rappen(value: Decimal) -> int | None:
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** _MAX_INT_DIGITS:
        return None
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


_SCHEMA_NUMBER = re.compile(r"\s*([0-9]+)(?:\.([0-9]+))?\s*")


def schema_amount(value: Any) -> int | None:
    """A schema.org price value (number, or string with ``.`` as decimal mark) → Rappen."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return _decimal_to_rappen(Decimal(value))
    if isinstance(value, Decimal):
        return _decimal_to_rappen(value)
    if isinstance(value, str):
        m = _SCHEMA_NUMBER.fullmatch(value)
        if m:
            return _digits_to_rappen(m.group(1), m.group(2) or "")
        return parse_price_rappen(value)
    return None


def int_or_none(value: Any) -> int | None:
    """An integer from a schema.org count (``offerCount``); booleans and junk -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**9 else None
    if isinstance(value, Decimal) and value.is_finite() and 0 <= value < 10**9:
        return int(value)
    if isinstance(value, str):
        m = re.search(r"[0-9]{1,9}", value)
        return int(m.group(0)) if m else None
    return None


__all__ = [
    "FREE_WORDS",
    "MAX_INPUT_RAPPEN",
    "MAX_PRICE_TEXT_CHARS",
    "WHITESPACE",
    "PriceInputError",
    "detect_currency",
    "int_or_none",
    "normalize_currency",
    "parse_chf_input",
    "parse_price_rappen",
    "schema_amount",
]
