"""HTML → price offer, for toppreise.ch product pages (and pages shaped like them).

Extraction order (catalog_facts.md §1.2, "Recommended extraction order"), first hit wins:

1. ``jsonld``    — a JSON-LD ``Product`` with ``offers`` (``AggregateOffer`` with
   ``lowPrice``/``highPrice``/``offerCount``, a single ``Offer`` or a list of them; found at
   the top level, in lists or inside ``@graph``).
2. ``microdata`` — schema.org microdata (``itemtype=…/Product`` → ``itemprop=offers``),
   the shape geizhals used (catalog_facts.md §1.10).
3. ``offers``    — toppreise per-shop blocks ``div.Plugin_Offer`` (item price in
   ``.productPrice .Plugin_Price``, price incl. shipping in ``.shippingPrice .Plugin_Price``,
   shop from ``.Plugin_ShopLogo img[alt]``, availability from
   ``.AbstractTooltip_AvailabilityInformationTooltip[title]``) — selectors from
   tazztone/userscripts RESEARCH_LOG §8, a public C#/Playwright importer and a
   requests/BS4 adapter (catalog_facts.md §1.2 table).
4. ``header``    — the page's "from" price: ``.productPrice .Plugin_Price`` →
   ``.product_price .Plugin_Price`` → ``.lowestPrice .Plugin_Price`` → ``.Plugin_Price``
   (tazztone/userscripts ``src/page/adapter.js``), then OpenGraph ``product:price:amount``,
   then any element whose class mentions "price".

The HTML layer is BeautifulSoup with the lxml parser (the project card's requests +
beautifulsoup4 stack). Selectors match single class tokens anywhere below a block, never
exact nesting, so renamed wrappers or re-ordered markup do not break them. Amounts are
integer Rappen (cents); no floats are used anywhere (JSON numbers are read as ``Decimal``).

Price strings (§1.4): Swiss ``CHF 2'477.00``, ``1’099.00``, ``12.–``, ``ab CHF …``,
non-breaking/narrow spaces; European ``€ 1.299,00``, ``1 298,00 €``, ``35€ 99`` (euro sign as
decimal separator). The corpus in tests/data/pricing/price_strings.csv (from
scrapinghub/price-parser's test suite) pins the behaviour.
"""

from __future__ import annotations

import codecs
import html as html_lib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

PARSER_VERSION = "1.0"

Method = Literal["jsonld", "microdata", "offers", "header"]

__all__ = [
    "MAX_INPUT_RAPPEN",
    "MAX_PRICE_TEXT_CHARS",
    "PARSER_VERSION",
    "Method",
    "PageOffer",
    "ParseError",
    "PriceInputError",
    "ShopOffer",
    "detect_currency",
    "is_block_page",
    "parse_chf_input",
    "parse_price_rappen",
    "parse_product_page",
    "toppreise_product_id",
]

_MAX_INT_DIGITS = 13  # 10^13 Rappen = 100 billion CHF: anything longer is not a price


class ParseError(ValueError):
    """The page holds no usable price (or is a block / listing page)."""


@dataclass(frozen=True)
class ShopOffer:
    """One shop's offer. Prices in Rappen; ``shipping_price_rappen`` includes shipping."""

    shop: str | None
    price_rappen: int | None
    shipping_price_rappen: int | None = None
    currency: str | None = None
    availability: str | None = None
    in_stock: bool | None = None
    offer_id: str | None = None
    title: str | None = None

    @property
    def best_rappen(self) -> int | None:
        """Item price, else the price incl. shipping."""
        return self.price_rappen if self.price_rappen is not None else self.shipping_price_rappen


@dataclass(frozen=True)
class PageOffer:
    """What a product page says about its price.

    ``low_rappen``/``high_rappen``: cheapest / dearest offer in Rappen (1/100 of ``currency``);
    ``method``: which extraction path produced low/high; ``offers``: per-shop offers when the
    page lists them (toppreise ``div.Plugin_Offer`` blocks, else structured-data offers).
    ``notes``: non-fatal problems met on the way (e.g. an unreadable JSON-LD block).
    """

    low_rappen: int
    high_rappen: int
    currency: str | None
    offer_count: int | None
    mpn: str | None
    name: str | None
    method: Method
    offers: list[ShopOffer] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    parser_version: str = PARSER_VERSION
    url: str | None = None
    product_id: str | None = None

    @property
    def low_chf(self) -> float:
        return self.low_rappen / 100

    @property
    def high_chf(self) -> float:
        return self.high_rappen / 100

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the ``python -m pricing parse --json`` contract)."""
        offers = []
        for o in self.offers:
            d = asdict(o)
            d["price"] = None if o.price_rappen is None else o.price_rappen / 100
            d["shipping_price"] = (None if o.shipping_price_rappen is None
                                   else o.shipping_price_rappen / 100)
            offers.append(d)
        return {
            "low": self.low_chf,
            "high": self.high_chf,
            "currency": self.currency,
            "offer_count": self.offer_count,
            "mpn": self.mpn,
            "name": self.name,
            "method": self.method,
            "low_rappen": self.low_rappen,
            "high_rappen": self.high_rappen,
            "offers": offers,
            "notes": list(self.notes),
            "parser_version": self.parser_version,
            "url": self.url,
            "product_id": self.product_id,
        }


# =========================================================================== price strings
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_WS = re.compile(r"\s+")
_APOS = "'’ʼ‘′´`"
# "12.–", "12.-", "1'299.—", "12,--" → whole francs (§1.4)
_WHOLE_FRANCS = re.compile(r"([0-9])([.,]) ?[-–—‒―]+(?![0-9])")
_NUMBER = re.compile(
    r"(?<![\w.,])[.,][0-9]+"                                   # ".75"
    r"|[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]{1,2})?(?![0-9])"   # "1 298,00", "3 250 000"
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
    r"(?<![A-Za-z0-9.,])(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)[eE][+-]?[0-9]+(?![A-Za-z0-9])")
# Price text is capped before any regular expression sees it: a price in a cell is short
# (the 300-string corpus: at most 24 characters; toppreise cells: 12), and a cap keeps every
# pattern's time bounded whatever a page holds.
MAX_PRICE_TEXT_CHARS = 100
# a minus sign right before the amount ("-12", "CHF −12.00", "- 12", "-€ 5"): negative
_NEGATIVE = re.compile(
    r"(?:[-\u2212] ?(?:(?:CHF|SFr\.?|Fr\.|EUR|USD|GBP|€|\$|£) ?)?|[\u2012\u2013\u2014])$",
    re.IGNORECASE)
# the amount continues past what the grammar accepts ("2 477,005": "2 477" then ",005")
_CUT_SHORT = re.compile(r"[.,][0-9]")
_FREE = re.compile(r"\b(?:gratis|kostenlos|free|gratuit|gratuito|umsonst)\b", re.IGNORECASE)
_CURRENCY = re.compile(
    r"(?<![A-Za-z])(CHF|SFr\.?|Fr\.|EUR|USD|GBP)(?![A-Za-z])|(€)|(US\$|\$)|(£)|\b(Euro)\b",
    re.IGNORECASE)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _WS.sub(" ", text).strip()


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
    tail = t[last + 1:]
    kinds = {t[i] for i in seps}
    if (grouped or len(kinds) == 2) and len(tail) > 2:
        # "2'477.005", "1.234,567": the last mark must be decimal, but 3+ decimals in a
        # grouped amount are a typo or a mixed grouping, not a price we can trust
        return None
    # "0.505" cannot be thousands: a leading zero group means a decimal part
    decimal = grouped or len(kinds) == 2 or len(tail) != 3 or t[:seps[0]].strip("0") == ""
    digits = t[:last].replace(".", "").replace(",", "")
    if not decimal:
        value = _digits_to_rappen(digits + tail, "")
        return None if value is None else (value, False)
    value = _digits_to_rappen(digits, tail)
    return None if value is None else (value, True)


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
        euro = _euro_decimal(s)
        if euro and _NEGATIVE.search(s[:euro[0]]):
            return None
        if euro:
            before = _NUMBER.fullmatch(euro[1].strip())
            parsed = _token_to_rappen(before.group(0)) if before else None
            if parsed is not None and not parsed[1]:
                frac = euro[2]
                extra = _digits_to_rappen("0", frac)
                if extra is not None:
                    return parsed[0] + extra
    m = _NUMBER.search(s)
    if m is None:
        return 0 if _FREE.search(s) else None
    if _NEGATIVE.search(s[:m.start()]) or _CUT_SHORT.match(s, m.end()):
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
    r"(?:(?P<d>[.,])(?P<frac>[0-9]*))?")


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
    body = _WHOLE_FRANCS.sub(r"\g<1>\g<2>00", body)
    m = _INPUT_NUMBER.fullmatch(body)
    if m is None:
        raise PriceInputError("not a plain CHF amount: write digits like 2477 or 2'477.00 "
                              "(optionally with CHF)")
    group, dec, frac = m.group("g"), m.group("d"), m.group("frac") or ""
    if dec is not None and dec == group:
        raise PriceInputError(f"'{dec}' is used both as thousands and decimal separator")
    if dec is None and group in (".", ",") and m.group("int").count(group) == 1:
        if m.group("int").split(group)[0].strip("0") == "":     # "0.505"
            raise PriceInputError("more than two decimals: Rappen have two (like 2477.05)")
        raise PriceInputError(f"'{body}' is ambiguous (thousands separator or three "
                              "decimals?): write 2477 or 2'477.00")
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
    aliases = {"FR": "CHF", "SFR": "CHF", "€": "EUR", "EURO": "EUR", "$": "USD", "US$": "USD",
               "£": "GBP"}
    v = aliases.get(v, v)
    return v if re.fullmatch(r"[A-Z]{3}", v) else None


def _decimal_to_rappen(value: Decimal) -> int | None:
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** _MAX_INT_DIGITS:
        return None
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


_SCHEMA_NUMBER = re.compile(r"\s*([0-9]+)(?:\.([0-9]+))?\s*")


def _schema_amount(value: Any) -> int | None:
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


def _int_or_none(value: Any) -> int | None:
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


# =========================================================================== availability
_UNAVAILABLE = re.compile(
    r"nicht\s+lieferbar|nicht\s+verf[uü]gbar|nicht\s+an\s+lager|auf\s+anfrage|ausverkauft"
    r"|out\s*of\s*stock|sold\s*out|discontinued|not\s+available|unavailable"
    r"|non\s+disponible|[ée]puis[ée]|non\s+disponibile|esaurito",
    re.IGNORECASE)
_SCHEMA_UNAVAILABLE = {"outofstock", "soldout", "discontinued"}


def _in_stock(availability: str | None) -> bool | None:
    if not availability:
        return None
    tail = availability.rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip().lower()
    if tail in _SCHEMA_UNAVAILABLE:
        return False
    return not _UNAVAILABLE.search(availability)


def _low_high(offers: Iterable[ShopOffer]) -> tuple[int, int, list[ShopOffer]] | None:
    """Low/high over offers in stock (all offers when none is in stock)."""
    priced = [o for o in offers if o.best_rappen is not None]
    if not priced:
        return None
    pool = [o for o in priced if o.in_stock is not False] or priced
    values = [o.best_rappen for o in pool if o.best_rappen is not None]
    return min(values), max(values), pool


# =========================================================================== block pages
_BLOCK_TEXT = re.compile(
    r"massive,?\s+ongoing\s+attacks|massiver,?\s+anhaltender\s+angriffe"
    r"|<title>[^<]{0,80}\berror\s*403\b",
    re.IGNORECASE)


def is_block_page(page: str | bytes) -> bool:
    """True for toppreise's bot-block page ("massive, ongoing attacks", "Error 403" title).

    Phrases from a public C#/Playwright importer (catalog_facts.md §1.7). Only the first
    256 KiB are searched (the block page is ~14 KB).
    """
    if isinstance(page, bytes):
        page = page[:262_144].decode("utf-8", errors="ignore")
    else:
        page = page[:262_144]
    return bool(_BLOCK_TEXT.search(page))


# =========================================================================== HTML helpers
# BeautifulSoup with the lxml parser (the project card's stack); ``class`` and ``rel`` kept as
# plain strings (multi_valued_attributes=None), so selectors match class tokens themselves.
# A short page is markup, never a file name: bs4's hint about that is noise here.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def _decode(data: bytes) -> str:
    """Bytes → text: BOM, then ``<meta charset>``, then UTF-8, then Windows-1252."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _Doc:
    """A parsed page: the soup and every element in document order (walked once)."""

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.tags: list[Tag] = soup.find_all(True)

    def named(self, *names: str) -> list[Tag]:
        return [el for el in self.tags if el.name in names]

    def with_class(self, token: str) -> list[Tag]:
        return [el for el in self.tags if _has_cls(el, token)]


def _tree(html: str | bytes) -> _Doc:
    text = _decode(html) if isinstance(html, bytes) else html
    text = _XML_DECL.sub("", text.replace("\x00", ""))
    try:
        soup = BeautifulSoup(text, "lxml", multi_valued_attributes=None)
    except Exception as exc:  # bs4/lxml refuse only pathological input
        raise ParseError(f"not parseable as HTML: {str(exc)[:120]}") from None
    doc = _Doc(soup)
    if not doc.tags:
        raise ParseError("empty page")
    return doc


def _classes(el: Any) -> str:
    cls = el.get("class") if isinstance(el, Tag) else None
    return cls if isinstance(cls, str) else " ".join(cls) if cls else ""


def _has_cls(el: Any, token: str) -> bool:
    """``el`` carries the class token ``token``."""
    return token in _classes(el).split()


def _cls_has(el: Any, fragment: str) -> bool:
    """``el``'s class attribute contains ``fragment`` (case-insensitive; lower-case given)."""
    return fragment in _classes(el).lower()


def _parent(el: Any) -> Tag | None:
    parent = el.parent
    return parent if isinstance(parent, Tag) and not isinstance(parent, BeautifulSoup) else None


def _ancestors(el: Any) -> list[Tag]:
    out = []
    node = _parent(el)
    while node is not None:
        out.append(node)
        node = _parent(node)
    return out


def _text(el: Any) -> str:
    return _WS.sub(" ", el.get_text()).strip()


def _first_text(nodes: Iterable[Any]) -> str | None:
    for n in nodes:
        t = _text(n) if not isinstance(n, str) else _WS.sub(" ", n).strip()
        if t:
            return t
    return None


# =========================================================================== JSON-LD
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")


def _loads(raw: str) -> Any:
    """JSON with Decimal numbers; NaN/Infinity → None; tolerant of CDATA and trailing commas."""
    raw = _WRAPPERS.sub("", raw.strip())
    kwargs: dict[str, Any] = {"parse_float": Decimal, "parse_constant": lambda _c: None,
                              "strict": False}
    try:
        return json.loads(raw, **kwargs)
    except ValueError:
        return json.loads(_TRAILING_COMMA.sub(r"\1", raw), **kwargs)


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type", ())
    values = t if isinstance(t, list) else [t]
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


_PRODUCT_TYPES = {"Product", "ProductGroup", "IndividualProduct", "ProductModel", "SomeProducts"}


def _walk(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict inside ``node`` in document order (``@graph``, lists, nesting)."""
    if depth > 40:
        return
    if isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _walk(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, depth + 1)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | int | dict)), None)
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str | int) and not isinstance(value, bool):
        # JSON-LD strings often carry HTML entities ("Sport &amp; Freizeit"): unescape once
        s = _WS.sub(" ", html_lib.unescape(str(value))).strip()
        return s or None
    return None


@dataclass
class _Found:
    """Partial result of one extraction method."""

    low: int | None = None
    high: int | None = None
    currency: str | None = None
    count: int | None = None
    mpn: str | None = None
    name: str | None = None
    offers: list[ShopOffer] = field(default_factory=list)


def _schema_offer(o: dict[str, Any], currency_default: str | None) -> ShopOffer:
    price = _schema_amount(o.get("price"))
    currency = normalize_currency(o.get("priceCurrency"))
    for spec in _as_list(o.get("priceSpecification")):
        if isinstance(spec, dict):
            if price is None:
                price = _schema_amount(spec.get("price", spec.get("minPrice")))
            currency = currency or normalize_currency(spec.get("priceCurrency"))
    availability = _str_or_none(o.get("availability"))
    return ShopOffer(
        shop=_str_or_none(o.get("seller")) or _str_or_none(o.get("offeredBy")),
        price_rappen=price,
        currency=currency or currency_default,
        availability=availability,
        in_stock=_in_stock(availability),
        offer_id=_str_or_none(o.get("sku")) or _str_or_none(o.get("@id")),
        title=_str_or_none(o.get("name")),
    )


def _from_schema_offers(offers: list[Any], found: _Found) -> None:
    """Fill low/high/count/currency/offers from a schema.org ``offers`` value."""
    singles: list[ShopOffer] = []
    for o in offers:
        if not isinstance(o, dict):
            continue
        is_aggregate = "AggregateOffer" in _types(o) or "lowPrice" in o or "highPrice" in o
        if is_aggregate and found.low is None:
            low = _schema_amount(o.get("lowPrice"))
            high = _schema_amount(o.get("highPrice"))
            if low is None:
                low = _schema_amount(o.get("price"))
            if low is None and high is not None:
                low = high
            found.currency = found.currency or normalize_currency(o.get("priceCurrency"))
            if low is not None:
                found.low, found.high = low, high if high is not None else low
                found.count = _int_or_none(o.get("offerCount"))
            nested = [x for x in _as_list(o.get("offers")) if isinstance(x, dict)]
            singles.extend(_schema_offer(x, found.currency) for x in nested)
        elif not is_aggregate:
            singles.append(_schema_offer(o, None))
    found.offers = singles
    if found.low is None:
        lh = _low_high(singles)
        if lh is not None:
            found.low, found.high, pool = lh
            found.count = len([s for s in singles if s.best_rappen is not None])
            cheapest = min(pool, key=lambda s: s.best_rappen or 0)
            found.currency = found.currency or cheapest.currency
    elif found.count is None and singles:
        found.count = len(singles)


def _jsonld(tree: Any, notes: list[str]) -> tuple[_Found | None, _Found]:
    """(first Product with a price, identity hints from the first Product seen)."""
    hints = _Found()
    scripts = [el for el in tree.named("script") if "ld+json" in (el.get("type") or "").lower()]
    for index, script in enumerate(scripts, 1):
        raw = script.string or script.get_text() or ""
        if not raw.strip():
            continue
        try:
            data = _loads(raw)
        except (ValueError, RecursionError) as exc:
            notes.append(f"JSON-LD block {index}: not valid JSON ({str(exc)[:80]})")
            continue
        for node in _walk(data):
            if not _types(node) & _PRODUCT_TYPES:
                continue
            name = _str_or_none(node.get("name"))
            mpn = _str_or_none(node.get("mpn"))
            hints.name = hints.name or name
            hints.mpn = hints.mpn or mpn
            found = _Found(name=name, mpn=mpn)
            _from_schema_offers(_as_list(node.get("offers")), found)
            if found.low is not None:
                found.mpn = found.mpn or _str_or_none(
                    next((o.get("mpn") for o in _as_list(node.get("offers"))
                          if isinstance(o, dict) and o.get("mpn")), None))
                return found, hints
    return None, hints


# =========================================================================== microdata
def _md_props(scope: Any) -> dict[str, list[Any]]:
    """Microdata properties of one ``itemscope`` (not descending into nested scopes)."""
    props: dict[str, list[Any]] = {}
    stack = [c for c in reversed(scope.contents) if isinstance(c, Tag)]
    while stack:
        el = stack.pop()
        for prop in str(el.get("itemprop") or "").split():
            props.setdefault(prop, []).append(el)
        if el.get("itemscope") is None:
            stack.extend(c for c in reversed(el.contents) if isinstance(c, Tag))
    return props


def _md_value(el: Any) -> str | None:
    for attr in ("content", "value", "datetime"):
        if el.get(attr) is not None:
            return str(el.get(attr)).strip()
    if el.name in ("a", "link") and el.get("href"):
        return str(el.get("href")).strip()
    t = _text(el)
    return t or None


def _md_amount(el: Any) -> int | None:
    if el.get("content") is not None:
        return _schema_amount(el.get("content"))
    value = _md_value(el)
    return parse_price_rappen(value) if value else None


def _md_offer(el: Any) -> ShopOffer:
    p = _md_props(el) if el.get("itemscope") is not None else {}
    price = next((a for a in map(_md_amount, p.get("price", [])) if a is not None), None)
    seller = p.get("seller", [])
    shop = None
    if seller:
        sub = _md_props(seller[0]) if seller[0].get("itemscope") is not None else {}
        shop = _md_value(sub["name"][0]) if sub.get("name") else _md_value(seller[0])
    availability = _md_value(p["availability"][0]) if p.get("availability") else None
    currency = normalize_currency(_md_value(p["priceCurrency"][0])) if p.get(
        "priceCurrency") else None
    return ShopOffer(shop=shop, price_rappen=price, currency=currency,
                     availability=availability, in_stock=_in_stock(availability))


def _microdata(tree: Any) -> _Found | None:
    scopes = [el for el in tree.tags
              if el.get("itemscope") is not None and el.get("itemtype") is not None
              if any(t.rstrip("/").rsplit("/", 1)[-1] in _PRODUCT_TYPES
                     for t in el.get("itemtype", "").split())]
    for scope in scopes:
        p = _md_props(scope)
        found = _Found(
            name=_md_value(p["name"][0]) if p.get("name") else None,
            mpn=_md_value(p["mpn"][0]) if p.get("mpn") else None,
        )
        singles: list[ShopOffer] = []
        for offer_el in p.get("offers", []):
            if offer_el.get("itemscope") is None:
                continue
            op = _md_props(offer_el)
            kind = offer_el.get("itemtype", "")
            if kind.endswith("AggregateOffer") or "lowPrice" in op:
                low = next((a for a in map(_md_amount, op.get("lowPrice", [])) if a is not None),
                           None)
                high = next((a for a in map(_md_amount, op.get("highPrice", []))
                             if a is not None), None)
                if low is None:
                    low = next((a for a in map(_md_amount, op.get("price", []))
                                if a is not None), None)
                if low is not None and found.low is None:
                    found.low, found.high = low, high if high is not None else low
                    found.count = _int_or_none(
                        _md_value(op["offerCount"][0])) if op.get("offerCount") else None
                    found.currency = normalize_currency(
                        _md_value(op["priceCurrency"][0])) if op.get("priceCurrency") else None
                singles.extend(_md_offer(x) for x in op.get("offers", []))
            else:
                singles.append(_md_offer(offer_el))
        found.offers = singles
        if found.low is None:
            lh = _low_high(singles)
            if lh is not None:
                found.low, found.high, pool = lh
                found.count = len([s for s in singles if s.best_rappen is not None])
                found.currency = min(pool, key=lambda s: s.best_rappen or 0).currency
        if found.low is not None:
            return found
    return None


# =========================================================================== toppreise offer blocks
_SHOPS_HREF = re.compile(r"/shops/([^/?#]+?)-s\d+")


def _tokens(el: Any) -> list[str]:
    return _classes(el).split()


def _is_offer_block(el: Any) -> bool:
    tokens = _tokens(el)
    return ("Plugin_Offer" in tokens or "productDetailsOfferList" in tokens
            or (el.get("id") or "").startswith("Plugin_Offer_"))


def _price_of(nodes: Iterable[Any]) -> int | None:
    for n in nodes:
        value = parse_price_rappen(_text(n))
        if value is not None:
            return value
    return None


def _leafmost(nodes: list[Any]) -> list[Any]:
    """Drop nodes that contain another node of the list (keep the innermost)."""
    chosen = {id(n) for n in nodes}
    return [n for n in nodes if not any(id(d) in chosen for d in n.find_all(True))]


def _outermost(nodes: list[Any]) -> list[Any]:
    chosen = {id(n) for n in nodes}
    return [n for n in nodes if not any(id(a) in chosen for a in _ancestors(n))]


class _Block:
    """One offer block, indexed by class token in a single pass (markup-order lists)."""

    def __init__(self, block: Any) -> None:
        self.block = block
        self.by_token: dict[str, list[Any]] = {}
        self.elements: list[Any] = []
        self.lower_class: list[str] = []
        for el in [block, *block.find_all(True)]:
            cls = _classes(el)
            self.elements.append(el)
            self.lower_class.append(cls.lower())
            for token in cls.split():
                self.by_token.setdefault(token, []).append(el)

    def tagged(self, token: str) -> list[Any]:
        return self.by_token.get(token, [])

    def class_contains(self, *fragments: str) -> list[Any]:
        """Elements whose class attribute contains one of ``fragments`` (lower-case)."""
        return [el for el, cls in zip(self.elements, self.lower_class, strict=True)
                if cls and any(f in cls for f in fragments)]

    def inside_fragment(self, el: Any, fragment: str) -> bool:
        """``el`` or an ancestor within the block has a class containing ``fragment``."""
        node = el
        while node is not None:
            if fragment in _classes(node).lower():
                return True
            if node is self.block:
                return False
            node = _parent(node)
        return False

    def inside(self, el: Any, token: str) -> bool:
        """``el`` or one of its ancestors within the block carries class ``token``."""
        node = el
        while node is not None:
            if token in _tokens(node):
                return True
            if node is self.block:
                return False
            node = _parent(node)
        return False


def _shop_name(b: _Block) -> str | None:
    """Shop: logo ``img[alt]`` (fallback ``title``), else the ``/shops/<Name>-s<id>`` link."""
    imgs = [el for el in b.elements if el.name == "img"]
    logos = [i for i in imgs
             if "/logo/" in (i.get("src") or "") or b.inside_fragment(i, "shoplogo")]
    for img in logos:
        name = (img.get("alt") or img.get("title") or "").strip()
        if name:
            return name
    for a in (el for el in b.elements if el.name == "a" and "/shops/" in (el.get("href") or "")):
        name = _text(a)
        if name:
            return name
        m = _SHOPS_HREF.search(a.get("href", ""))
        if m:
            return m.group(1).replace("-", " ")
    for img in imgs:
        if (img.get("alt") or "").strip():
            return str(img.get("alt")).strip()
    return None


def _availability(b: _Block) -> str | None:
    """``.AbstractTooltip_AvailabilityInformationTooltip[title]``, else any availability-ish
    class (availab/deliver/liefer/stock)."""
    first = b.class_contains("availabilityinformation")
    rest = b.class_contains("availab", "deliver", "liefer", "stock")
    for el in first + rest:
        value = (el.get("title") or el.get("data-original-title") or _text(el)).strip()
        if value:
            return value
    return None


def _offer_block(block: Any) -> ShopOffer:
    b = _Block(block)
    prices = b.tagged("Plugin_Price")
    item = _price_of(p for p in prices if b.inside(p, "productPrice"))
    shipping = _price_of(p for p in prices if b.inside(p, "shippingPrice"))
    if item is None and shipping is None:
        item = _price_of(prices)
    if item is None and shipping is None:
        # drift: price class renamed — take the innermost elements whose class mentions price
        candidates = _leafmost(b.class_contains("price"))
        item = _price_of(c for c in candidates if not _FREE.search(_text(c)))
    currency = detect_currency(_first_text(b.tagged("currency")))
    if currency is None:
        currency = detect_currency(_text(block))
    availability = _availability(b)
    titles = [a for a in b.tagged("offer-name") if a.name == "a"]
    return ShopOffer(
        shop=_shop_name(b), price_rappen=item, shipping_price_rappen=shipping,
        currency=currency, availability=availability, in_stock=_in_stock(availability),
        offer_id=block.get("data-entity-id"), title=_first_text(titles),
    )


def _offers(tree: Any) -> tuple[_Found | None, list[ShopOffer]]:
    blocks = _outermost([el for el in tree.tags if _is_offer_block(el)])
    offers = [o for o in map(_offer_block, blocks) if o.best_rappen is not None]
    lh = _low_high(offers)
    if lh is None:
        return None, offers
    low, high, pool = lh
    currency = min(pool, key=lambda o: o.best_rappen or 0).currency
    return _Found(low=low, high=high, currency=currency, count=len(offers), offers=offers), offers


# =========================================================================== header / identity
_HEADER_CONTAINERS = ("productPrice", "product_price", "lowestPrice", None)


def _excluded(el: Any) -> bool:
    """Inside a price chart, an offer block or a price history: not the page's own price."""
    return any(_cls_has(a, "pricechart") or _has_cls(a, "Plugin_Offer")
               or _has_cls(a, "productDetailsOfferList") or _cls_has(a, "history")
               for a in _ancestors(el))


def _currency_near(el: Any) -> str | None:
    node = el
    for _ in range(3):
        cur = _first_text(el2 for el2 in node.find_all(True) if _has_cls(el2, "currency"))
        found = detect_currency(cur) or detect_currency(_text(node)[:200])
        if found:
            return found
        node = _parent(node)
        if node is None:
            break
    return None


def _header(tree: Any) -> _Found | None:
    prices = tree.with_class("Plugin_Price")
    for container in _HEADER_CONTAINERS:
        for el in prices:
            if container is not None and not any(_has_cls(a, container)
                                                 for a in _ancestors(el)):
                continue
            if _excluded(el):
                continue
            value = parse_price_rappen(_text(el))
            if value is not None:
                return _Found(low=value, high=value, currency=_currency_near(el))
    metas = tree.named("meta")
    amount = [m.get("content") for m in metas if m.get("content") is not None
              and m.get("property") in ("product:price:amount", "og:price:amount")]
    if amount:
        value = _schema_amount(amount[0])
        if value is not None:
            cur = [m.get("content") for m in metas if m.get("content") is not None
                   and m.get("property") in ("product:price:currency", "og:price:currency")]
            return _Found(low=value, high=value,
                          currency=normalize_currency(cur[0]) if cur else None)
    bodies = tree.named("body")
    in_body = [el for b in bodies[:1] for el in b.find_all(True) if _cls_has(el, "price")]
    candidates = _leafmost(in_body)
    for el in candidates:
        if _excluded(el):
            continue
        text = _text(el)
        value = parse_price_rappen(text) if len(text) < 80 else None
        currency = _currency_near(el) if value is not None else None
        if value is not None and currency is not None:
            return _Found(low=value, high=value, currency=currency)
    return None


_MPN_LABEL = re.compile(
    r"^(?:manufacturer\s*part\s*(?:number|no\.?)|hersteller\s*-?\s*(?:artikel)?\s*-?\s*(?:nummer|nr\.?)"
    r"|herstellerartikelnummer|mpn|num[ée]ro\s+(?:de\s+)?(?:r[ée]f[ée]rence\s+)?fabricant"
    r"|codice\s+produttore)\s*:?$",
    re.IGNORECASE)
_MPN_IN_TITLE = re.compile(r"\(([A-Za-z0-9][A-Za-z0-9\-_/.#]{3,40})\)\s*$")


def _page_mpn(tree: Any) -> str | None:
    for label in (el for el in tree.tags if el.name in ("dt", "th") or _has_cls(el, "name")):
        if not _MPN_LABEL.match(_text(label)):
            continue
        sibling = label.find_next_sibling()
        while sibling is not None and not _text(sibling):
            sibling = sibling.find_next_sibling()
        if sibling is not None:
            return _text(sibling)
    for h1 in tree.named("h1"):
        m = _MPN_IN_TITLE.search(_text(h1))
        if m and re.search(r"[0-9]", m.group(1)):
            return m.group(1)
    return None


def _page_name(tree: Any) -> str | None:
    h1s = tree.named("h1")
    for heading in ("Plugin_ProductHeading", "productHeading"):
        name = _first_text(h for h in h1s if any(_has_cls(a, heading) for a in _ancestors(h)))
        if name:
            return name
    candidates: list[Any] = [
        h1s, [m.get("content") for m in tree.named("meta")
              if m.get("property") == "og:title" and m.get("content") is not None],
        tree.named("title")]
    for nodes in candidates:
        name = _first_text(nodes)
        if name:
            return name
    return None


def _is_listing(tree: Any) -> bool:
    """A search/browse page: body class ``Page_ProductSearch``/``Page_Browse``, or (without
    the product-page body class) several ``.Plugin_Product`` result cards (§1.3)."""
    body = set(" ".join(_classes(b) for b in tree.named("body")).split())
    if "Page_Product" in body:
        return False
    if body & {"Page_ProductSearch", "Page_Browse", "Page_Search", "Page_Category"}:
        return True
    cards = [el for el in tree.tags if "Plugin_Product" in _tokens(el)]
    return len(cards) >= 2


_PRODUCT_ID = re.compile(r"-p([0-9]{1,12})(?=$|[/?#])")
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\([0-9]+\)(\S+?)\s*-->", re.IGNORECASE)


def toppreise_product_id(url: str | None) -> str | None:
    """The toppreise product id of a product-page URL (``…-p818374`` → ``"818374"``)."""
    if not url or not isinstance(url, str):
        return None
    path = url[:2048].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    m = _PRODUCT_ID.search(path)
    return m.group(1) if m else None


def _page_url(tree: Any, text_head: str) -> str | None:
    """The page's own address: ``link[rel=canonical]``, ``og:url``, then the browser's
    "saved from url" comment."""
    links = [el.get("href") for el in tree.named("link")
             if "canonical" in (el.get("rel") or "").lower().split()]
    metas = [el.get("content") for el in tree.named("meta") if el.get("property") == "og:url"]
    for value in (*links, *metas):
        value = str(value or "").strip()
        if value:
            return value[:2048]
    m = _SAVED_FROM.search(text_head)
    return m.group(1)[:2048] if m else None


# =========================================================================== entry point
def parse_product_page(html: str | bytes) -> PageOffer:
    """Parse a product page into a :class:`PageOffer` (amounts in Rappen).

    Raises :class:`ParseError` when no price is found, for block pages and for
    search/listing pages (whose "from" prices belong to several products).
    """
    tree = _tree(html)
    notes: list[str] = []
    found, hints = _jsonld(tree, notes)
    method: Method = "jsonld"
    if found is None:
        found, method = _microdata(tree), "microdata"
    if found is None and _is_listing(tree):
        raise ParseError("a search/listing page, not a product page")
    block_result, shop_offers = _offers(tree)
    if found is None:
        found, method = block_result, "offers"
    if found is None:
        found, method = _header(tree), "header"
    if found is None or found.low is None:
        source = html if isinstance(html, str) else html[:262_144]
        if is_block_page(source):
            raise ParseError("a bot-block page ('massive, ongoing attacks' / Error 403)")
        raise ParseError("no price found (no JSON-LD offer, microdata, offer block or header price)"
                         + (f"; {'; '.join(notes)}" if notes else ""))
    low, high = found.low, found.high if found.high is not None else found.low
    if high < low:
        low, high = high, low
    head = html[:4096] if isinstance(html, str) else html[:4096].decode("utf-8", "ignore")
    url = _page_url(tree, head)
    return PageOffer(
        low_rappen=low,
        high_rappen=high,
        currency=found.currency,
        offer_count=found.count,
        mpn=found.mpn or hints.mpn or _page_mpn(tree),
        name=found.name or hints.name or _page_name(tree),
        method=method,
        offers=shop_offers or found.offers,
        notes=tuple(notes),
        url=url,
        product_id=toppreise_product_id(url),
    )
