"""Bill of materials (CHF) for N units of one platform: lines, order links, Markdown.

The parts come from `sizing.topology` (switch, cables, GPU hosts), the power from
`sizing.power`. Every BOM line is orderable: part number (MPN), price date and an order
link (`order_link`: the toppreise.ch product page, else the vendor's shop page, else a
labelled toppreise.ch search for the MPN or name -- never an invented address).

Prices: `prices` maps item id -> `sizing.money.PriceQuote` (an effective price from the
price history, handed in by the CLI/app); ids it lacks fall back to the catalog list price.
This module never imports `pricing` (design rule). Human-readable CHF are Swiss style
(`CHF 2'477`, `sizing.money.chf`).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sizing.catalog import Cable, Catalog, Item, Platform, Switch
from sizing.money import PriceQuote, catalog_quote, chf
from sizing.power import power_w
from sizing.topology import Topology, is_200g_system, list_price_chf, topology

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

# The reference build guide (SeverinAlexB/local-llm-research dgx-spark/build-guide.md,
# prices "verified against toppreise.ch" 2026-02-17): ASUS GX10 1 TB at CHF 2,477 and one
# QSFP cable at "~50" (unnamed, unsourced); its totals are 2 x 2,477 + 50 = ~5,004 for two
# units and 3 x 2,477 + 50 = 7,481 for three (one cable, no switch).
GUIDE_PLATFORM = "asus-gx10-1tb"
GUIDE_UNIT_CHF = 2477.0
GUIDE_CABLE_CHF = 50.0


@dataclass(frozen=True)
class BomLine:
    item_id: str
    description: str
    specification: str
    quantity: int
    unit_price_chf: float | None
    line_total_chf: float | None
    price_source: str | None
    price_date: datetime.date | None
    price_kind: str | None
    url: str | None
    price_note: str | None = None  # converted foreign prices: the rate, VAT and import terms
    part_number: str | None = None  # manufacturer part number (MPN) from the catalog
    link: str | None = None  # where to order / compare: see `order_link`
    link_kind: str | None = None  # "toppreise.ch product page" | "shop page" | "… search …"
    caveat: str | None = None  # the part's known problem (catalog `caveat`)
    known_good: bool = True  # False: a reported failure with this exact part
    alternative_to: str | None = None  # alternative lines: the item id it could replace


@dataclass(frozen=True)
class BillOfMaterials:
    platform_id: str
    units: int
    topology: Topology
    lines: list[BomLine]
    total_chf: float | None  # None if any line has no known price
    missing_prices: list[str]
    notes: list[str]
    power_w_idle: float
    power_w_load: float
    unpriced_items: list[str] = field(default_factory=list)  # needed, not in the catalog
    price_complete: bool = True  # False: total_chf is None or leaves parts out
    alternatives: list[BomLine] = field(default_factory=list)  # cheaper, caveated; not in total

    @property
    def oldest_price_date(self) -> datetime.date | None:
        """Date of the oldest price in the total (None when no line is priced)."""
        dates = [
            ln.price_date
            for ln in self.lines
            if ln.price_date is not None and ln.unit_price_chf is not None
        ]
        return min(dates) if dates else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        d = asdict(self)
        for line in [*d["lines"], *d["alternatives"]]:
            if line["price_date"] is not None:
                line["price_date"] = line["price_date"].isoformat()
        return d

    def to_markdown(self) -> str:
        """The build-guide table ``| # | Component | Specification | Price (CHF) |`` + TOTAL."""
        out = [
            "\n".join(self._table_rows()),
            "",
            f"Power: {self.power_w_idle:.0f} W idle, {self.power_w_load:.0f} W at "
            "inference load (whole cluster).",
            "",
            "Prices:",
        ]
        out += self._price_notes()
        caveats = [ln for ln in self.lines if ln.caveat]
        if caveats:
            out += ["", "Known issues of the chosen parts:"]
            out += [f"- {ln.item_id}: {ln.caveat}" for ln in caveats]
        if self.notes:
            out += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"

    def _table_rows(self) -> list[str]:
        """The Markdown table: one row per line (numbered by unit), TOTAL, alternatives."""
        rows = [
            "| # | Component | Specification | Price (CHF) | MPN | Price date | Order |",
            "|---|-----------|---------------|-------------|-----|------------|-------|",
        ]
        n = 1
        for line in self.lines:
            num = str(n) if line.quantity == 1 else f"{n}-{n + line.quantity - 1}"
            n += line.quantity
            name = f"[{line.description}]({line.url})" if line.url else line.description
            comp = name if line.quantity == 1 else f"{line.quantity}x {name}"
            price = (
                chf(line.unit_price_chf, None, unit=False)
                if line.quantity == 1 and line.unit_price_chf is not None
                else _line_price(line)
            )
            rows.append(
                f"| {num} | {md_cell(comp)} | {md_cell(line.specification)} | {price} | "
                f"{order_cells(line)} |"
            )
        total = "unknown" if self.total_chf is None else chf(self.total_chf, None)
        if self.total_chf is not None and self.unpriced_items:
            total += " + parts not priced"
        rows.append(f"| | **TOTAL** | | **{total}** | | | |")
        for alt in self.alternatives:
            rows.append(
                f"| alt. | {md_cell(f'{alt.quantity}x {alt.description}')} instead of "
                f"{md_cell(alt.alternative_to or '')} (not in the total; caveat: "
                f"{md_cell(alt.caveat or 'none')}) | {md_cell(alt.specification)} | "
                f"{_line_price(alt)} | {order_cells(alt)} |"
            )
        return rows

    def _price_notes(self) -> list[str]:
        """Per line: kind, date and source of its price; then what is missing."""
        out = []
        for line in self.lines:
            when = line.price_date.isoformat() if line.price_date else "-"
            out.append(
                f"- {line.item_id}: {line.price_kind or 'none'} price, {when}, "
                f"{line.price_source or 'no source'}"
                + (f" — {line.price_note}" if line.price_note else "")
            )
        if self.missing_prices:
            out.append(f"- no price known for: {', '.join(self.missing_prices)}")
        if self.unpriced_items:
            out.append(
                f"- price incomplete: {', '.join(self.unpriced_items)} not priced (not "
                "in the catalog, not in the total)"
            )
        return out


def _line_price(line: BomLine) -> str:
    """``quantity x unit = total`` in CHF, or "price unknown"."""
    if line.unit_price_chf is None:
        return "price unknown"
    return (
        f"{line.quantity} x {chf(line.unit_price_chf, None, unit=False)} = "
        f"{chf(line.line_total_chf or 0.0, None, unit=False)}"
    )


def md_cell(text: str) -> str:
    """`text` safe inside a Markdown table cell (``|`` escaped)."""
    return text.replace("|", "\\|")


TOPPREISE_SEARCH = "https://www.toppreise.ch/produktsuche?q="  # facts §1.1 (search URL)
_TOPPREISE_PRODUCT = re.compile(
    r"^https://www\.toppreise\.ch/(price-comparison|preisvergleich)/.+-p\d+/?$"
)


def order_link(item: Item, quote_url: str | None = None) -> tuple[str | None, str | None]:
    """(URL, kind) where a buyer orders or compares `item`, no address invented.

    1. the price's toppreise.ch product page (scraped, or the catalog's ``price.url``);
    2. the catalog's ``shop_url`` (the vendor's shop page, from the item's sources);
    3. a toppreise.ch search for the part number (MPN), else for the name -- labelled as a
       search, not a product page. Host-build allowances (kind "misc") have no link.
    """
    for url in (quote_url, item.price.url if item.price is not None else None):
        if url and _TOPPREISE_PRODUCT.match(url):
            return url, "toppreise.ch product page"
    if item.shop_url:
        return item.shop_url, "shop page"
    if getattr(item, "kind", None) == "misc":
        return None, None
    if item.part_number:
        return (
            TOPPREISE_SEARCH + urllib.parse.quote_plus(item.part_number),
            "toppreise.ch search for the MPN (not a product page)",
        )
    return (
        TOPPREISE_SEARCH + urllib.parse.quote_plus(item.name),
        "toppreise.ch search for the name (not a product page)",
    )


def order_cells(line: BomLine) -> str:
    """Markdown cells "MPN | price date | order link" of one BOM line."""
    when = line.price_date.isoformat() if line.price_date else "-"
    link = f"[{md_cell(line.link_kind or 'link')}]({line.link})" if line.link else "-"
    return f"{md_cell(line.part_number or '-')} | {when} | {link}"


def _quote(item: Item, prices: Mapping[str, PriceQuote] | None) -> PriceQuote | None:
    if prices is not None and item.id in prices:
        return prices[item.id]
    return catalog_quote(item)


def _spec(item: Item) -> str:
    if isinstance(item, Platform):
        parts = [
            f"{item.memory_gb:g} GB {item.memory_type}",
            f"{item.memory_bandwidth_gb_s:g} GB/s",
        ]
        if item.form == "system" and item.storage_tb:
            parts.append(f"{item.storage_tb:g} TB SSD")
        if item.part_number:
            parts.append(f"P/N {item.part_number}")
        return ", ".join(parts)
    if isinstance(item, Switch):
        ports = ", ".join(f"{sp.count}x {sp.speed_gbit_s:g}G {sp.form_factor}" for sp in item.ports)
        return f"{ports}; up to {item.max_200g_nodes} nodes at 200G"
    if isinstance(item, Cable):
        return f"{item.ends}, {item.length_m:g} m, {item.speed_gbit_s:g}G"
    return str(item.part_number or getattr(item, "kind", ""))


def _line(item: Item, qty: int, prices: Mapping[str, PriceQuote] | None) -> BomLine:
    q = _quote(item, prices)
    link, link_kind = order_link(item, q.url if q is not None else None)
    order: dict[str, Any] = {
        "part_number": item.part_number,
        "link": link,
        "link_kind": link_kind,
        "caveat": " ".join(item.caveat.split()) if item.caveat else None,
        "known_good": item.known_good,
    }
    if q is None:
        return BomLine(
            item.id, item.name, _spec(item), qty, None, None, None, None, None, None, **order
        )
    unit = q.chf
    note = " ".join(q.note.split())
    return BomLine(
        item.id,
        item.name,
        _spec(item),
        qty,
        unit,
        round(unit * qty, 2),
        q.source,
        q.as_of,
        q.kind,
        q.url,
        note if "CONVERTED" in note else None,
        **order,
    )


def alternative_lines(
    catalog: Catalog, topo: Topology, lines: list[BomLine], prices: Mapping[str, PriceQuote] | None
) -> list[BomLine]:
    """For each cable line: the cheapest part of the same kind and speed that the
    known-good-first rule passed over because of a reported failure (``known_good:
    false``), when it is cheaper -- offered with its caveat, not in the total."""
    out = []
    for ln in lines:
        if ln.item_id not in topo.cables or ln.unit_price_chf is None:
            continue
        chosen = catalog.cable(ln.item_id)
        for other in sorted(
            (
                c
                for c in catalog.cables
                if c.kind == chosen.kind
                and not c.known_good
                and c.speed_gbit_s >= chosen.speed_gbit_s
            ),
            key=lambda c: (list_price_chf(c), c.id),
        ):
            alt = _line(other, ln.quantity, prices)
            if alt.unit_price_chf is not None and alt.unit_price_chf < ln.unit_price_chf:
                out.append(replace(alt, alternative_to=ln.item_id))
                break
    return out


def bom_lines(
    catalog: Catalog, p: Platform, topo: Topology, prices: Mapping[str, PriceQuote] | None
) -> list[BomLine]:
    """The priced lines of `topo`: units, GPU-host parts, switches, cables."""
    lines = [_line(p, topo.units, prices)]
    if p.host is not None and topo.hosts:
        for part in p.host.parts:
            lines.append(_line(catalog.host_part(part.item), part.quantity * topo.hosts, prices))
    for sid, n in topo.switches.items():
        lines.append(_line(catalog.switch(sid), n, prices))
    for cid, n in topo.cables.items():
        lines.append(_line(catalog.cable(cid), n, prices))
    return lines


def _guide_notes(
    p: Platform, topo: Topology, lines: list[BomLine], total: float | None
) -> list[str]:
    """How this BOM relates to the reference build guide's 2- and 3-unit totals."""
    units = topo.units
    if units == 3 and is_200g_system(p):
        return [
            "One cable connects only two nodes: 3 nodes need a switch (plus a cable per node "
            "or breakout pair) or three direct cables (triangle). The reference build guide's "
            f"3-unit budget of 3 units + one cable and no switch (CHF "
            f"{chf(3 * GUIDE_UNIT_CHF + GUIDE_CABLE_CHF, None, unit=False)}) cannot connect "
            "the third node."
        ]
    if units != 2 or p.id != GUIDE_PLATFORM or topo.design != "direct" or total is None:
        return []
    cable = next((ln for ln in lines if ln.item_id in topo.cables), None)
    unit = lines[0]
    if cable is None or cable.unit_price_chf is None or unit.unit_price_chf is None:
        return []
    guide_total = 2 * GUIDE_UNIT_CHF + GUIDE_CABLE_CHF
    diff = total - guide_total
    if abs(diff) < 0.005:
        return [f"Total equals the reference build guide's ~{chf(guide_total, None)}."]
    d_cable = cable.unit_price_chf - GUIDE_CABLE_CHF
    d_units = 2 * (unit.unit_price_chf - GUIDE_UNIT_CHF)
    why_cable = (
        f"the guide counts the DAC at '~{chf(GUIDE_CABLE_CHF, None, unit=False)}' "
        "(unnamed, unsourced), "
        f"this BOM's cheapest sourced 200G DAC costs {chf(cable.unit_price_chf, None)} "
        f"({cable.item_id}, {cable.price_kind or 'catalog'} price "
        f"{cable.price_date.isoformat() if cable.price_date else 'undated'}: "
        f"{cable.price_source or 'no source'})"
    )
    more = "more" if diff > 0 else "less"
    head = (
        f"Total {chf(total, None)} vs the reference build guide's ~{chf(guide_total, None)} "
        f"(2 x {chf(GUIDE_UNIT_CHF, None, unit=False)} + "
        f"~{chf(GUIDE_CABLE_CHF, None, unit=False)}): {chf(abs(diff), None)} "
        f"{more}"
    )
    if abs(d_units) < 0.005:
        return [f"{head}, all on the cable: {why_cable}."]
    return [
        f"{head}: {chf(d_cable, None)} on the cable ({why_cable}) and {chf(d_units, None)} on "
        f"the units ({chf(unit.unit_price_chf, None)} each vs the guide's "
        f"{chf(GUIDE_UNIT_CHF, None, unit=False)})."
    ]


def bill_of_materials(
    catalog: Catalog,
    platform_id: str,
    units: int,
    *,
    prices: Mapping[str, PriceQuote] | None = None,
    design: str | None = None,
) -> BillOfMaterials:
    """Every part to buy for `units` units, with quantity, CHF price, source and date.

    `prices`: item id -> PriceQuote; ids it lacks (or None) use the catalog list price.
    `total_chf` is None when any line has no known price (listed in `missing_prices`).
    `unpriced_items` names parts the design needs that the catalog does not hold (Mac
    Thunderbolt 5 cables, Strix Halo Ethernet cable/switch); they are not in the total.
    `price_complete` is True only when neither list has an entry.
    """
    p = catalog.platform(platform_id)
    topo = topology(catalog, platform_id, units, design=design)
    lines = bom_lines(catalog, p, topo, prices)
    missing = [ln.item_id for ln in lines if ln.unit_price_chf is None]
    total = None if missing else round(sum(ln.line_total_chf or 0.0 for ln in lines), 2)
    notes = list(topo.notes) + _guide_notes(p, topo, lines, total)
    idle, load = power_w(catalog, p, topo)
    alternatives = alternative_lines(catalog, topo, lines, prices)
    for alt in alternatives:
        saving = (
            next(ln for ln in lines if ln.item_id == alt.alternative_to).line_total_chf or 0.0
        ) - (alt.line_total_chf or 0.0)
        notes.append(
            f"Alternative: {alt.quantity} x {alt.item_id} instead of "
            f"{alt.alternative_to} saves {chf(saving, None)}, but: "
            f"{alt.caveat or 'it has a reported problem'} The BOM lists the "
            "known-good part."
        )
    return BillOfMaterials(
        p.id,
        units,
        topo,
        lines,
        total,
        missing,
        notes,
        idle,
        load,
        list(topo.unpriced),
        not missing and not topo.unpriced,
        alternatives,
    )


__all__ = [
    "GUIDE_CABLE_CHF",
    "GUIDE_PLATFORM",
    "GUIDE_UNIT_CHF",
    "TOPPREISE_SEARCH",
    "BillOfMaterials",
    "BomLine",
    "alternative_lines",
    "bill_of_materials",
    "bom_lines",
    "md_cell",
    "order_cells",
    "order_link",
]
