"""HTML page parsing → price offer, for toppreise.ch product pages (and pages shaped like them).

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

Amounts (price strings → Rappen, currencies) are read by `pricing.amounts`.
"""

from __future__ import annotations

import codecs
import html as html_lib
import json
import re
import warnings
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from pricing.amounts import (
    FREE_WORDS,
    WHITESPACE,
    detect_currency,
    int_or_none,
    normalize_currency,
    parse_price_rappen,
    schema_amount,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

PARSER_VERSION = "1.0"
Method = Literal["jsonld", "microdata", "offers", "header"]


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
            d["shipping_price"] = (
                None if o.shipping_price_rappen is None else o.shipping_price_rappen / 100
            )
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


# =========================================================================== availability
_UNAVAILABLE = re.compile(
    r"nicht\s+lieferbar|nicht\s+verf[uü]gbar|nicht\s+an\s+lager|auf\s+anfrage|ausverkauft"
    r"|out\s*of\s*stock|sold\s*out|discontinued|not\s+available|unavailable"
    r"|non\s+disponible|[ée]puis[ée]|non\s+disponibile|esaurito",
    re.IGNORECASE,
)


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
    re.IGNORECASE,
)


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
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
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
    return WHITESPACE.sub(" ", el.get_text()).strip()


def _first_text(nodes: Iterable[Any]) -> str | None:
    for n in nodes:
        t = _text(n) if not isinstance(n, str) else WHITESPACE.sub(" ", n).strip()
        if t:
            return t
    return None


# =========================================================================== JSON-LD
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")


def _loads(raw: str) -> Any:
    """JSON with Decimal numbers; NaN/Infinity → None; tolerant of CDATA and trailing commas."""
    raw = _WRAPPERS.sub("", raw.strip())
    kwargs: dict[str, Any] = {
        "parse_float": Decimal,
        "parse_constant": lambda _c: None,
        "strict": False,
    }
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
        s = WHITESPACE.sub(" ", html_lib.unescape(str(value))).strip()
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
    price = schema_amount(o.get("price"))
    currency = normalize_currency(o.get("priceCurrency"))
    for spec in _as_list(o.get("priceSpecification")):
        if isinstance(spec, dict):
            if price is None:
                price = schema_amount(spec.get("price", spec.get("minPrice")))
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
            singles.extend(_from_aggregate_offer(o, found))
        elif not is_aggregate:
            singles.append(_schema_offer(o, None))
    found.offers = singles
    if found.low is None:
        _range_from_singles(singles, found)
    elif found.count is None and singles:
        found.count = len(singles)


def _from_aggregate_offer(o: dict[str, Any], found: _Found) -> list[ShopOffer]:
    """Fill low/high/count/currency from an AggregateOffer; its nested single offers."""
    low = schema_amount(o.get("lowPrice"))
    high = schema_amount(o.get("highPrice"))
    if low is None:
        low = schema_amount(o.get("price"))
    if low is None and high is not None:
        low = high
    found.currency = found.currency or normalize_currency(o.get("priceCurrency"))
    if low is not None:
        found.low, found.high = low, high if high is not None else low
        found.count = int_or_none(o.get("offerCount"))
    nested = [x for x in _as_list(o.get("offers")) if isinstance(x, dict)]
    return [_schema_offer(x, found.currency) for x in nested]


def _range_from_singles(singles: list[ShopOffer], found: _Found) -> None:
    """Without an aggregate: low/high/count/currency from the single offers' prices."""
    lh = _low_high(singles)
    if lh is not None:
        found.low, found.high, pool = lh
        found.count = len([s for s in singles if s.best_rappen is not None])
        cheapest = min(pool, key=lambda s: s.best_rappen or 0)
        found.currency = found.currency or cheapest.currency


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
                    next(
                        (
                            o.get("mpn")
                            for o in _as_list(node.get("offers"))
                            if isinstance(o, dict) and o.get("mpn")
                        ),
                        None,
                    )
                )
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
        return schema_amount(el.get("content"))
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
    currency = (
        normalize_currency(_md_value(p["priceCurrency"][0])) if p.get("priceCurrency") else None
    )
    return ShopOffer(
        shop=shop,
        price_rappen=price,
        currency=currency,
        availability=availability,
        in_stock=_in_stock(availability),
    )


def _microdata(tree: Any) -> _Found | None:
    scopes = [
        el
        for el in tree.tags
        if el.get("itemscope") is not None and el.get("itemtype") is not None
        if any(
            t.rstrip("/").rsplit("/", 1)[-1] in _PRODUCT_TYPES
            for t in el.get("itemtype", "").split()
        )
    ]
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
                low = next(
                    (a for a in map(_md_amount, op.get("lowPrice", [])) if a is not None), None
                )
                high = next(
                    (a for a in map(_md_amount, op.get("highPrice", [])) if a is not None), None
                )
                if low is None:
                    low = next(
                        (a for a in map(_md_amount, op.get("price", [])) if a is not None), None
                    )
                if low is not None and found.low is None:
                    found.low, found.high = low, high if high is not None else low
                    found.count = (
                        int_or_none(_md_value(op["offerCount"][0]))
                        if op.get("offerCount")
                        else None
                    )
                    found.currency = (
                        normalize_currency(_md_value(op["priceCurrency"][0]))
                        if op.get("priceCurrency")
                        else None
                    )
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
    return (
        "Plugin_Offer" in tokens
        or "productDetailsOfferList" in tokens
        or (el.get("id") or "").startswith("Plugin_Offer_")
    )


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
        return [
            el
            for el, cls in zip(self.elements, self.lower_class, strict=True)
            if cls and any(f in cls for f in fragments)
        ]

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
    logos = [
        i for i in imgs if "/logo/" in (i.get("src") or "") or b.inside_fragment(i, "shoplogo")
    ]
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
        item = _price_of(c for c in candidates if not FREE_WORDS.search(_text(c)))
    currency = detect_currency(_first_text(b.tagged("currency")))
    if currency is None:
        currency = detect_currency(_text(block))
    availability = _availability(b)
    titles = [a for a in b.tagged("offer-name") if a.name == "a"]
    return ShopOffer(
        shop=_shop_name(b),
        price_rappen=item,
        shipping_price_rappen=shipping,
        currency=currency,
        availability=availability,
        in_stock=_in_stock(availability),
        offer_id=block.get("data-entity-id"),
        title=_first_text(titles),
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
    return any(
        _cls_has(a, "pricechart")
        or _has_cls(a, "Plugin_Offer")
        or _has_cls(a, "productDetailsOfferList")
        or _cls_has(a, "history")
        for a in _ancestors(el)
    )


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
    """The page's own price when it has no structured data: the shop's price box, then
    ``product:price:amount`` / ``og:price:amount`` meta tags, then the innermost element
    whose class names a price, with a currency next to it."""
    return _price_box(tree) or _price_meta(tree) or _price_element(tree)


def _price_box(tree: Any) -> _Found | None:
    """The first parsable ``Plugin_Price`` element, by header container in order."""
    prices = tree.with_class("Plugin_Price")
    for container in _HEADER_CONTAINERS:
        for el in prices:
            if container is not None and not any(_has_cls(a, container) for a in _ancestors(el)):
                continue
            if _excluded(el):
                continue
            value = parse_price_rappen(_text(el))
            if value is not None:
                return _Found(low=value, high=value, currency=_currency_near(el))
    return None


def _price_meta(tree: Any) -> _Found | None:
    """The first ``product:price:amount`` / ``og:price:amount`` meta tag and its currency."""
    metas = tree.named("meta")
    amount = [
        m.get("content")
        for m in metas
        if m.get("content") is not None
        and m.get("property") in ("product:price:amount", "og:price:amount")
    ]
    if not amount:
        return None
    value = schema_amount(amount[0])
    if value is None:
        return None
    cur = [
        m.get("content")
        for m in metas
        if m.get("content") is not None
        and m.get("property") in ("product:price:currency", "og:price:currency")
    ]
    return _Found(low=value, high=value, currency=normalize_currency(cur[0]) if cur else None)


def _price_element(tree: Any) -> _Found | None:
    """The first innermost element of the body with ``price`` in its class that holds a
    short parsable amount with a currency near it."""
    bodies = tree.named("body")
    in_body = [el for b in bodies[:1] for el in b.find_all(True) if _cls_has(el, "price")]
    for el in _leafmost(in_body):
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
    re.IGNORECASE,
)


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
        h1s,
        [
            m.get("content")
            for m in tree.named("meta")
            if m.get("property") == "og:title" and m.get("content") is not None
        ],
        tree.named("title"),
    ]
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
    links = [
        el.get("href")
        for el in tree.named("link")
        if "canonical" in (el.get("rel") or "").lower().split()
    ]
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
        raise ParseError(
            "no price found (no JSON-LD offer, microdata, offer block or header price)"
            + (f"; {'; '.join(notes)}" if notes else "")
        )
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


__all__ = [
    "PARSER_VERSION",
    "Method",
    "PageOffer",
    "ParseError",
    "ShopOffer",
    "is_block_page",
    "parse_product_page",
    "toppreise_product_id",
]
