"""Cluster topology, bill of materials (CHF) and power for N units of one platform.

Topology rules (design.md "Cluster, cost and power"; facts = docs/sources/catalog_facts.md):

* 1 unit: no network parts.
* Systems with 200G ConnectX-7 ports (GB10: two QSFP112 cages per node, facts §2.1):
  - 2 units, design ``direct`` (default): one DAC between the two nodes.
  - 3+ units, design ``switch`` (default): one switch with enough 200G node ports. A
    400G QSFP-DD port takes either one 400G->2x200G breakout DAC (two nodes) or one
    straight 200G QSFP56 DAC (one node; QSFP-DD cages accept QSFP56 plugs, as the 4-node
    CRS804 owner runs it); a native 200G port takes one straight DAC. Among the catalog's
    switches and cables the cheapest combination by catalog list price wins (ties: fewer
    cables, then id) -- that is how the CRS812 is chosen where it suffices and the
    CRS804-4DDQ (8 nodes with 4 breakouts) above six nodes. Beyond one switch: two
    identical switches joined by one straight DAC uplink (each loses one port), else
    `TopologyError`.
  - 3 units, design ``direct``: a triangle, each node's two ports to the two others
    (3 DACs); 4 units ``direct``: a ring (4 DACs), with caveat notes; 5+ ``direct``: error.
* Mac Studio: a Thunderbolt 5 full mesh, one catalog cable of kind ``thunderbolt`` per pair
  of units (units x (units - 1) / 2).
* Strix Halo (Ethernet): direct links (and for 3+ units an Ethernet switch) that are not in
  the catalog (no sourced price found) -- listed in ``Topology.unpriced`` and the BOM's
  ``unpriced_items``, so ``price_complete`` is False and the total is a lower bound. The
  same holds for Thunderbolt when a catalog has no such cable.
* Cables are chosen known-good first (catalog ``known_good``), then by list price: a part
  with a reported failure is never picked by price alone; the BOM offers it as an
  alternative line (``BillOfMaterials.alternatives``, not in the total) with its caveat.

Every BOM line is orderable: part number (MPN), price date and an order link
(`order_link`: the toppreise.ch product page, else the vendor's shop page, else a labelled
toppreise.ch search for the MPN or name -- never an invented address).
* GPU cards: ``ceil(N / host.max_cards_per_host)`` hosts, each built from the platform's
  ``host.parts``. Cards in different hosts talk over the hosts' Ethernet, not PCIe.

Power: idle and load watts of every unit, host and switch (catalog figures). Cables are
passive DACs (<= 0.1 W, facts §2.11) and are ignored.

Prices: `prices` maps item id -> `sizing.money.PriceQuote` (an effective price from the
price history, handed in by the CLI/app); ids it lacks fall back to the catalog list price.
This module never imports `pricing` (design rule). Human-readable CHF are Swiss style
(`CHF 2'477`).

Upgrades (`upgrade_path`): the parts of the default design for the smaller count are
owned; among every switch design for the larger count (any catalog switch, one or two of
them) the one cheapest to complete from what is owned wins. The result is a shopping list:
the lines to buy, the owned lines left unused, the owned build at today's prices
(ASSUMPTION: what was paid is unknown) and the total spent.
"""

from __future__ import annotations

import datetime
import math
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sizing.catalog import Cable, Catalog, Item, Platform, Switch
from sizing.money import PriceQuote, catalog_quote, chf
from sizing.scenario import PARALLEL_CHOICES, ScenarioError

DESIGNS: tuple[str, ...] = ("direct", "switch")
NODE_LINK_GBIT_S = 200.0            # GB10 ConnectX-7 port speed (facts §2.1)
HOTPLUG_DISABLED_IDLE_W = 18.0      # extra idle W per GB10 node with CX-7 hot-plug off (§2.1)
DAYS_PER_YEAR = 365

# The reference build guide (SeverinAlexB/local-llm-research dgx-spark/build-guide.md,
# prices "verified against toppreise.ch" 2026-02-17): ASUS GX10 1 TB at CHF 2,477 and one
# QSFP cable at "~50" (unnamed, unsourced); its totals are 2 x 2,477 + 50 = ~5,004 for two
# units and 3 x 2,477 + 50 = 7,481 for three (one cable, no switch).
GUIDE_PLATFORM = "asus-gx10-1tb"
GUIDE_UNIT_CHF = 2477.0
GUIDE_CABLE_CHF = 50.0


class TopologyError(ScenarioError):
    """No valid network design for the requested units (one-line message)."""


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
    price_note: str | None = None   # converted foreign prices: the rate, VAT and import terms
    part_number: str | None = None  # manufacturer part number (MPN) from the catalog
    link: str | None = None         # where to order / compare: see `order_link`
    link_kind: str | None = None    # "toppreise.ch product page" | "shop page" | "… search …"
    caveat: str | None = None       # the part's known problem (catalog `caveat`)
    known_good: bool = True         # False: a reported failure with this exact part
    alternative_to: str | None = None   # alternative lines: the item id it could replace


@dataclass(frozen=True)
class Topology:
    """How N units are wired: design, switch and cable counts by catalog id, GPU hosts."""

    units: int
    design: str                     # "none" | "direct" | "switch" | "host"
    switches: dict[str, int]
    cables: dict[str, int]
    hosts: int
    notes: list[str]
    unpriced: list[str] = field(default_factory=list)   # needed, not in the catalog


@dataclass(frozen=True)
class BillOfMaterials:
    platform_id: str
    units: int
    topology: Topology
    lines: list[BomLine]
    total_chf: float | None         # None if any line has no known price
    missing_prices: list[str]
    notes: list[str]
    power_w_idle: float
    power_w_load: float
    unpriced_items: list[str] = field(default_factory=list)  # needed, not in the catalog
    price_complete: bool = True     # False: total_chf is None or leaves parts out
    alternatives: list[BomLine] = field(default_factory=list)  # cheaper, caveated; not in total

    @property
    def oldest_price_date(self) -> datetime.date | None:
        """Date of the oldest price in the total (None when no line is priced)."""
        dates = [ln.price_date for ln in self.lines
                 if ln.price_date is not None and ln.unit_price_chf is not None]
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
        rows = ["| # | Component | Specification | Price (CHF) | MPN | Price date | Order |",
                "|---|-----------|---------------|-------------|-----|------------|-------|"]
        n = 1
        for line in self.lines:
            num = str(n) if line.quantity == 1 else f"{n}-{n + line.quantity - 1}"
            n += line.quantity
            name = f"[{line.description}]({line.url})" if line.url else line.description
            comp = name if line.quantity == 1 else f"{line.quantity}x {name}"
            if line.unit_price_chf is None:
                price = "price unknown"
            elif line.quantity == 1:
                price = chf(line.unit_price_chf, None, unit=False)
            else:
                price = (f"{line.quantity} x {chf(line.unit_price_chf, None, unit=False)} = "
                         f"{chf(line.line_total_chf or 0.0, None, unit=False)}")
            rows.append(f"| {num} | {_md(comp)} | {_md(line.specification)} | {price} | "
                        f"{_order_cells(line)} |")
        total = "unknown" if self.total_chf is None else chf(self.total_chf, None)
        if self.total_chf is not None and self.unpriced_items:
            total += " + parts not priced"
        rows.append(f"| | **TOTAL** | | **{total}** | | | |")
        for alt in self.alternatives:
            price = "price unknown" if alt.unit_price_chf is None else (
                f"{alt.quantity} x {chf(alt.unit_price_chf, None, unit=False)} = "
                f"{chf(alt.line_total_chf or 0.0, None, unit=False)}")
            rows.append(f"| alt. | {_md(f'{alt.quantity}x {alt.description}')} instead of "
                        f"{_md(alt.alternative_to or '')} (not in the total; caveat: "
                        f"{_md(alt.caveat or 'none')}) | {_md(alt.specification)} | {price} | "
                        f"{_order_cells(alt)} |")
        out = ["\n".join(rows), "",
               f"Power: {self.power_w_idle:.0f} W idle, {self.power_w_load:.0f} W at "
               "inference load (whole cluster).", "", "Prices:"]
        for line in self.lines:
            when = line.price_date.isoformat() if line.price_date else "-"
            out.append(f"- {line.item_id}: {line.price_kind or 'none'} price, {when}, "
                       f"{line.price_source or 'no source'}"
                       + (f" — {line.price_note}" if line.price_note else ""))
        if self.missing_prices:
            out.append(f"- no price known for: {', '.join(self.missing_prices)}")
        if self.unpriced_items:
            out.append(f"- price incomplete: {', '.join(self.unpriced_items)} not priced (not "
                       "in the catalog, not in the total)")
        caveats = [ln for ln in self.lines if ln.caveat]
        if caveats:
            out += ["", "Known issues of the chosen parts:"]
            out += [f"- {ln.item_id}: {ln.caveat}" for ln in caveats]
        if self.notes:
            out += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"


@dataclass(frozen=True)
class PriceAge:
    """How old the oldest price of a configuration is, at the point of decision.

    ``price_age_days``: whole days from ``oldest_price_date`` to the day asked about;
    ``stale``: older than ``stale_days`` (catalog ``defaults.price_stale_days``, 30)."""

    oldest_price_date: datetime.date | None
    price_age_days: int | None
    stale_days: int

    @property
    def stale(self) -> bool:
        return self.price_age_days is not None and self.price_age_days > self.stale_days

    def note(self) -> str:
        """One line, e.g. "prices as of 2026-02-17 (288 days old) — older than 30 days:
        refresh or import saved pages (Prices page)"."""
        if self.oldest_price_date is None or self.price_age_days is None:
            return "no dated price in this configuration"
        days = self.price_age_days
        text = (f"prices as of {self.oldest_price_date.isoformat()} "
                f"({days} day{'' if days == 1 else 's'} old)")
        if self.stale:
            text += (f" — older than {self.stale_days} days: refresh, import saved pages or "
                     "set prices (Prices page)")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"oldest_price_date": None if self.oldest_price_date is None
                else self.oldest_price_date.isoformat(), "price_age_days": self.price_age_days}


def price_age(dates: Iterable[datetime.date | None], *, today: datetime.date,
              stale_days: int) -> PriceAge:
    """The :class:`PriceAge` of the oldest of ``dates`` (Nones ignored) on ``today``."""
    known = [d for d in dates if d is not None]
    if not known:
        return PriceAge(None, None, stale_days)
    oldest = min(known)
    return PriceAge(oldest, (today - oldest).days, stale_days)


def _cost(amount: float) -> str:
    return "price unknown" if math.isinf(amount) else chf(amount, None)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


TOPPREISE_SEARCH = "https://www.toppreise.ch/produktsuche?q="   # facts §1.1 (search URL)
_TOPPREISE_PRODUCT = re.compile(
    r"^https://www\.toppreise\.ch/(price-comparison|preisvergleich)/.+-p\d+/?$")


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
        return (TOPPREISE_SEARCH + urllib.parse.quote_plus(item.part_number),
                "toppreise.ch search for the MPN (not a product page)")
    return (TOPPREISE_SEARCH + urllib.parse.quote_plus(item.name),
            "toppreise.ch search for the name (not a product page)")


def _order_cells(line: BomLine) -> str:
    """Markdown cells "MPN | price date | order link" of one BOM line."""
    when = line.price_date.isoformat() if line.price_date else "-"
    link = f"[{_md(line.link_kind or 'link')}]({line.link})" if line.link else "-"
    return f"{_md(line.part_number or '-')} | {when} | {link}"


# ----------------------------------------------------------------------------- prices
def _quote(item: Item, prices: Mapping[str, PriceQuote] | None) -> PriceQuote | None:
    if prices is not None and item.id in prices:
        return prices[item.id]
    return catalog_quote(item)


def _list_chf(item: Item) -> float:
    """Catalog list price used to *choose* between designs (unknown = infinitely dear)."""
    return item.price.chf if item.price is not None else math.inf


# ----------------------------------------------------------------------------- topology
def _is_200g_system(p: Platform) -> bool:
    return p.form == "system" and any(n.speed_gbit_s >= NODE_LINK_GBIT_S for n in p.network)


def _node_ports(p: Platform) -> int:
    return sum(n.count for n in p.network if n.speed_gbit_s >= NODE_LINK_GBIT_S)


def _cheapest(cables: list[Cable]) -> Cable | None:
    """Known-good parts first (catalog ``known_good``), then the cheapest by list price,
    then the shorter, then the id: a part with a reported failure is never picked by price
    alone (the BOM offers it as an alternative line with its caveat)."""
    return min(cables, key=lambda c: (not c.known_good, _list_chf(c), c.length_m, c.id),
               default=None)


def _straight_dac(catalog: Catalog) -> Cable | None:
    return _cheapest([c for c in catalog.cables
                      if c.kind == "dac" and c.speed_gbit_s >= NODE_LINK_GBIT_S])


def _breakout_dac(catalog: Catalog) -> Cable | None:
    return _cheapest([c for c in catalog.cables
                      if c.kind == "breakout_dac" and c.speed_gbit_s >= NODE_LINK_GBIT_S])


def _switch_ports(sw: Switch) -> tuple[int, int]:
    """(native 200G ports, 400G ports that break out 2x200G) of a switch."""
    native = dd = 0
    for port in sw.ports:
        splits = {b.replace(" ", "").lower() for b in port.breakout}
        if port.speed_gbit_s >= 2 * NODE_LINK_GBIT_S and "2x200g" in splits:
            dd += port.count
        elif port.speed_gbit_s >= NODE_LINK_GBIT_S:
            native += port.count
    return native, dd


@dataclass(frozen=True)
class _SwitchPlan:
    switch: Switch
    count: int
    breakouts: int
    straight: int            # node DACs + uplink DACs
    uplinks: int
    cost: float              # catalog list price of switches + cables

    @property
    def key(self) -> tuple[Any, ...]:
        """Default choice: a known-good switch, cheapest, then fewer switches, fewer cables,
        id, fewer breakouts."""
        return (not self.switch.known_good, self.cost, self.count,
                self.breakouts + self.straight, self.switch.id, self.breakouts)


def _allocations(nodes: int, native: int, dd: int) -> list[tuple[int, int]]:
    """Every (breakouts, straight DACs) serving `nodes` 200G nodes on one switch.

    A free QSFP-DD cage takes a straight DAC too; a breakout leaves at most one leg unused.
    """
    out = []
    for k in range(0, dd + 1):
        if 2 * k >= nodes + 2:
            break
        d = max(0, nodes - 2 * k)
        if d <= native + (dd - k):
            out.append((k, d))
    return out


def _switch_plans(catalog: Catalog, nodes: int) -> list[_SwitchPlan]:
    """Every switch design for `nodes` nodes, cheapest (by catalog list price) first.

    One switch when it has the ports; otherwise two identical switches joined by one
    straight-DAC uplink (each loses one port), the nodes split as evenly as possible.
    """
    dac, brk = _straight_dac(catalog), _breakout_dac(catalog)
    p_dac = _list_chf(dac) if dac else math.inf
    p_brk = _list_chf(brk) if brk else math.inf
    # a cable type that exists but has no list price is still usable; price it 0 for the
    # choice only if it is the only kind (missing price is reported by the BOM)
    if dac is not None and math.isinf(p_dac) and brk is None:
        p_dac = 0.0
    if brk is not None and math.isinf(p_brk) and dac is None:
        p_brk = 0.0

    def usable(k: int, d: int) -> bool:
        return not ((k and brk is None) or (d and dac is None))

    def cables_chf(k: int, d: int) -> float:
        return (k * p_brk if k else 0.0) + (d * p_dac if d else 0.0)

    plans: list[_SwitchPlan] = []
    for sw in catalog.switches:
        native, dd = _switch_ports(sw)
        cap = min(sw.max_200g_nodes, native + 2 * dd)
        sw_price = _list_chf(sw)                      # unknown price: ranked last
        if nodes <= cap:
            plans += [_SwitchPlan(sw, 1, k, d, 0, sw_price + cables_chf(k, d))
                      for k, d in _allocations(nodes, native, dd) if usable(k, d)]
            continue
        # two identical switches, one straight-DAC uplink taking one port on each
        if dac is None:
            continue
        if native:
            n2, d2 = native - 1, dd
        elif dd:
            n2, d2 = native, dd - 1
        else:
            continue
        cap2 = min(sw.max_200g_nodes, n2 + 2 * d2)
        if nodes > 2 * cap2:
            continue
        a, b = (nodes + 1) // 2, nodes // 2
        for ka, da in _allocations(a, n2, d2):
            for kb, db in _allocations(b, n2, d2):
                if usable(ka + kb, da + db):
                    plans.append(_SwitchPlan(sw, 2, ka + kb, da + db + 1, 1,
                                             2 * sw_price + cables_chf(ka + kb, da + db + 1)))
    plans.sort(key=lambda s: s.key)
    return plans


def _best_per_switch(plans: list[_SwitchPlan]) -> list[_SwitchPlan]:
    """The cheapest plan of each (switch, count), in `plans` order."""
    seen: dict[tuple[str, int], _SwitchPlan] = {}
    for plan in plans:
        seen.setdefault((plan.switch.id, plan.count), plan)
    return list(seen.values())


def _cable_notes(catalog: Catalog, used: dict[str, int]) -> list[str]:
    notes = []
    for cid in used:
        c = catalog.cable(cid)
        notes += [f"{cid}: {text}" for text in c.compatibility]
        alts = [o for o in catalog.cables if o.kind == c.kind and o.id != cid]
        if alts:
            listed = ", ".join(
                f"{o.id} ({'no price' if o.price is None else chf(o.price.chf, None)}"
                f"{'' if o.known_good else ', known issue'})"
                for o in alts)
            notes.append(f"{cid} chosen as the cheapest known-good {c.kind} by catalog list "
                         f"price; alternatives: {listed}")
    return notes


def _gb10_common_notes(units: int) -> list[str]:
    return [
        f"If a third-party DAC needs ConnectX-7 hot-plug disabled, idle power rises by "
        f"~{HOTPLUG_DISABLED_IDLE_W:g} W per node (+{HOTPLUG_DISABLED_IDLE_W * units:g} W for "
        f"{units} nodes); not included in the power figures (facts §2.1).",
        "A second cable between the same two nodes adds little: one cable already carries "
        "both PCIe Gen5 x4 functions of a port (~196 Gb/s measured; facts §2.1).",
    ]


def _topology_200g(catalog: Catalog, p: Platform, units: int, design: str) -> Topology:
    dac = _straight_dac(catalog)
    ports = _node_ports(p)
    if design == "direct":
        if dac is None:
            raise TopologyError("no direct-attach cable (kind dac, >= 200G) in the catalog")
        if units == 2:
            cables = {dac.id: 1}
            notes = ["2 nodes: one DAC between one ConnectX-7 port of each node; no switch "
                     "(NVIDIA DGX Spark clustering guide)."]
        elif units == 3 and ports >= 2:
            cables = {dac.id: 3}
            notes = [
                "3 nodes switchless (triangle): each node's two ConnectX-7 ports go to the two "
                "other nodes, 3 DACs. Reported working in practice: 3x DGX Spark TP=3 over "
                "'RoCE, no switch' (NVIDIA forum 373968, MiMo V2.5, 38.8 tok/s). Caveats: each "
                "link uses one port (~200G, two PCIe x4 functions); every node needs two "
                "point-to-point subnets and NCCL must use both interfaces; no spare port for "
                "a 4th node (adding one means buying a switch); vLLM TP=3 needs the "
                "attention heads divisible by 3 (that report patched in virtual heads).",
            ]
        elif units == 4 and ports >= 2:
            cables = {dac.id: 4}
            notes = [
                "4 nodes switchless (ring): each node links to its two neighbours, 4 DACs; "
                "opposite nodes have no direct link. NCCL's ring all-reduce only talks to "
                "neighbours, but anything else (Ray, tree all-reduce, weight staging, "
                "PP/EP traffic) must be routed through a node. One public TP=4 build runs "
                "this way (alexellis/glm-5.3-flash-4x-dgx-spark-switchless); less proven "
                "than a switch; no spare ports to grow.",
            ]
        else:
            raise TopologyError(
                f"design 'direct' supports 2-4 nodes of {p.id} (two 200G ports per node: "
                f"pair, triangle, ring); got {units}; use design 'switch'")
        return Topology(units, "direct", {}, cables, 0,
                        notes + _gb10_common_notes(units) + _cable_notes(catalog, cables))
    plans = _switch_plans(catalog, units)
    if not plans:
        caps = ", ".join(f"{s.id} {s.max_200g_nodes}" for s in catalog.switches) or "none"
        raise TopologyError(
            f"{units} nodes of {p.id} exceed the switch designs in the catalog (200G nodes "
            f"per switch: {caps}; two-switch designs need a straight DAC uplink)")
    return _switch_topology(catalog, p, units, plans[0], plans)


def _switch_topology(catalog: Catalog, p: Platform, units: int, best: _SwitchPlan,
                     plans: list[_SwitchPlan]) -> Topology:
    """The Topology of one switch plan (`plans`: every plan, for the alternatives note)."""
    ports = _node_ports(p)
    dac = _straight_dac(catalog)
    cables: dict[str, int] = {}
    brk = _breakout_dac(catalog)
    if best.breakouts and brk is not None:
        cables[brk.id] = best.breakouts
    if best.straight and dac is not None:
        cables[dac.id] = best.straight
    nodes_on_breakouts = min(units, 2 * best.breakouts)
    notes = [
        f"{units} nodes on {best.count}x {best.switch.id}: {best.breakouts} breakout DAC(s) "
        f"(2 nodes each) + {best.straight - best.uplinks} straight DAC(s) to the nodes; one "
        "200G port per node, the second ConnectX-7 port stays free.",
    ]
    if best.breakouts:
        notes.append(
            "Breakout sub-ports need auto-negotiation OFF and a fixed speed 200G-baseCR4 "
            "(RouterOS: sub-ports -1 and -5; auto-negotiation only reaches 50G) — catalog "
            f"switch notes. {nodes_on_breakouts} node(s) hang on breakout legs.")
        if 2 * best.breakouts > units - (best.straight - best.uplinks):
            notes.append("One breakout leg stays unused (odd node count).")
    if best.straight - best.uplinks:
        notes.append("Straight 200G QSFP56 DACs into 400G QSFP-DD cages run at 200G (a 4-node "
                     "GX10 owner wires a CRS804 this way); set the port speed explicitly if "
                     "it does not link at 200G (assumption, same RouterOS behaviour).")
    if best.count == 2:
        notes.append(
            "Two switches joined by one straight 200G DAC uplink: traffic between the two "
            "halves shares that link (oversubscribed); keep each TP group on one switch. An "
            "8-node Spark cluster on two CRS812 'pretty much just works' (catalog notes).")
    others = [f"{s.count}x {s.switch.id} + cables ({_cost(s.cost)})"
              for s in _best_per_switch(plans)
              if s.switch.id != best.switch.id or s.count != best.count]
    if others:
        notes.append(f"Chosen as the cheapest switch design by catalog list price "
                     f"({_cost(best.cost)} switch + cables); other options: "
                     + "; ".join(others))
    notes += [f"{best.switch.id}: {n}" for n in best.switch.notes]
    if units == 3 and ports >= 2:
        notes.append("Switchless alternative: design 'direct' (triangle, 3 DACs); see its "
                     "caveats.")
    return Topology(units, "switch", {best.switch.id: best.count}, cables, 0,
                    notes + _gb10_common_notes(units) + _cable_notes(catalog, cables))


def _thunderbolt_cable(catalog: Catalog, link_gbit_s: float) -> Cable | None:
    """The catalog's Thunderbolt cable for a link of `link_gbit_s` (known-good first)."""
    return _cheapest([c for c in catalog.cables
                      if c.kind == "thunderbolt" and c.speed_gbit_s >= link_gbit_s])


def _topology_other_system(catalog: Catalog, p: Platform, units: int) -> Topology:
    ic = p.interconnect
    if ic is None:
        raise TopologyError(f"{p.id} has no multi-unit interconnect in the catalog")
    kind = ic.kind.lower()
    if "thunderbolt" in kind:
        tb_ports = sum(n.count for n in p.network if "thunderbolt" in n.form_factor.lower())
        if units - 1 > tb_ports:
            raise TopologyError(
                f"{units} units of {p.id} cannot form a Thunderbolt full mesh ({tb_ports} "
                f"ports per unit, so at most {tb_ports + 1} units)")
        links = units * (units - 1) // 2
        tb = _thunderbolt_cable(catalog, ic.link_gbit_s)
        if tb is not None:
            notes = [f"{units} units over {ic.kind}: full mesh of {links} Thunderbolt 5 "
                     f"cable(s) ({tb.id}), one per pair of units, no switch."]
            notes += [f"{tb.id}: {text}" for text in tb.compatibility]
            notes.append(f"Interconnect: {ic.note}")
            return Topology(units, "direct", {}, {tb.id: links}, 0, notes)
        unpriced = [f"{links} x Thunderbolt 5 cable"]
        notes = [f"{units} units over {ic.kind}: full mesh of {links} Thunderbolt 5 cable(s), "
                 "no switch. Thunderbolt 5 cables are not in the catalog and not priced "
                 "(not included in the total)."]
    else:
        if units == 2:
            unpriced = [f"1 x Ethernet cable (>= {ic.link_gbit_s:g} Gb/s)"]
        else:
            unpriced = [f"Ethernet switch ({units} ports of >= {ic.link_gbit_s:g} Gb/s)",
                        f"{units} x Ethernet cable"]
        notes = [f"{units} units over {ic.kind}: "
                 + ("one Ethernet cable between the two units" if units == 2 else
                    f"an Ethernet switch with {units} ports of >= {ic.link_gbit_s:g} Gb/s")
                 + "; not in the catalog and not priced (not included in the total)."]
    notes.append(f"Interconnect: {ic.note}")
    return Topology(units, "direct", {}, {}, 0, notes, unpriced)


def _topology_cards(p: Platform, units: int) -> Topology:
    assert p.host is not None
    per_host = p.host.max_cards_per_host
    hosts = math.ceil(units / per_host)
    notes = [f"{units} card(s), at most {per_host} per host: {hosts} host build(s) "
             f"({p.host.note})"]
    if units > 1 and hosts == 1:
        kind = p.interconnect.kind if p.interconnect else "PCIe"
        notes.append(f"Cards talk over {kind} inside one host"
                     + ("." if "nvlink" in kind.lower() else " (no NVLink)."))
    if hosts > 1:
        notes.append(
            f"{hosts} hosts: cards in different hosts talk over the hosts' onboard Ethernet "
            "(a few Gb/s; network gear not in the BOM), not PCIe — only independent replicas "
            "(or a slow pipeline) are realistic across hosts; tensor-parallel estimates "
            "assume PCIe and do not apply.")
    return Topology(units, "host", {}, {}, hosts, notes)


def allowed_parallel(catalog: Catalog, platform_id: str, units: int) -> tuple[str, ...]:
    """Layouts the bill of materials supports for `units` units of a platform.

    GPU cards spread over several hosts (more than `host.max_cards_per_host`) only run
    independent replicas: the hosts talk over their onboard Ethernet, which the BOM does
    not equip as a cluster network, so tensor or pipeline parallel across them is not
    modelled. Everything else: tp, pp, replicas.
    """
    p = catalog.platform(platform_id)
    if p.form == "gpu_card" and p.host is not None and units > p.host.max_cards_per_host:
        return ("replicas",)
    return PARALLEL_CHOICES


def check_parallel(catalog: Catalog, platform_id: str, units: int, parallel: str) -> None:
    """Raise TopologyError (one line, naming the allowed layouts) when `parallel` over
    `units` units needs a link the BOM does not have (see `allowed_parallel`)."""
    allowed = allowed_parallel(catalog, platform_id, units)
    if units > 1 and parallel in PARALLEL_CHOICES and parallel not in allowed:
        p = catalog.platform(platform_id)
        per = p.host.max_cards_per_host if p.host is not None else units
        hosts = math.ceil(units / per)
        bigger = larger_hosts(catalog, platform_id, units)
        raise TopologyError(
            f"parallel '{parallel}' over {units} x {platform_id} needs {hosts} hosts (at most "
            f"{per} card(s) per host) linked only by Ethernet, which is not modelled; valid "
            f"choices: --parallel {' or '.join(allowed)}, or --units {per} or fewer"
            + (f", or a platform whose host takes {units} cards: --platform "
               + " or ".join(bigger) if bigger else ""))


def larger_hosts(catalog: Catalog, platform_id: str, units: int) -> list[str]:
    """Other GPU-card platforms of the same family whose one host takes `units` cards
    (e.g. the 4-card WRX90 workstation for an RTX PRO 6000 that its AM5 host limits to
    one or two), in catalog order."""
    p = catalog.platform(platform_id)
    return [q.id for q in catalog.platforms
            if q.id != p.id and q.form == "gpu_card" and q.family == p.family
            and q.host is not None and q.host.max_cards_per_host >= units]


def topology(catalog: Catalog, platform_id: str, units: int, *,
             design: str | None = None) -> Topology:
    """Network / host layout for `units` units of a platform (see module docstring).

    design: None (default per count), "direct" or "switch" (200G systems only).
    Raises UnknownIdError for an unknown platform, TopologyError for impossible layouts.
    """
    p = catalog.platform(platform_id)
    if units < 1:
        raise TopologyError(f"units must be at least 1 (got {units})")
    if design is not None and design not in DESIGNS:
        raise TopologyError(f"unknown design '{design}'; valid choices: {', '.join(DESIGNS)}")
    if p.form == "gpu_card":
        if design is not None:
            raise TopologyError(f"design applies to networked systems, not to {p.id} "
                                "(GPU cards go into hosts)")
        return _topology_cards(p, units)
    if units == 1:
        if design is not None:
            raise TopologyError("design needs at least 2 units")
        return Topology(1, "none", {}, {}, 0, [])
    if _is_200g_system(p):
        return _topology_200g(catalog, p, units,
                              design or ("direct" if units == 2 else "switch"))
    if design == "switch":
        raise TopologyError(f"no switch design for {p.id} in the catalog; valid choices: direct")
    return _topology_other_system(catalog, p, units)


# ----------------------------------------------------------------------------- power
def _power(catalog: Catalog, p: Platform, topo: Topology) -> tuple[float, float]:
    idle = topo.units * p.power.idle_w
    load = topo.units * p.power.load_w
    if p.host is not None:
        idle += topo.hosts * p.host.power_idle_w
        load += topo.hosts * p.host.power_load_w
    for sid, n in topo.switches.items():
        sw = catalog.switch(sid)
        idle += n * sw.power_idle_w
        load += n * sw.power_max_w
    return idle, load


def cluster_power(catalog: Catalog, platform_id: str, units: int, *,
                  design: str | None = None) -> tuple[float, float]:
    """(idle W, inference-load W) at the wall for the whole cluster.

    Units use the catalog's `power.idle_w` / `power.load_w`; GPU hosts add
    `host.power_idle_w` / `host.power_load_w` each; switches add `power_idle_w` at idle
    and their rated `power_max_w` under load (an upper bound: passive DACs draw <= 0.1 W
    and decode traffic is light). Passive cables are ignored.
    """
    p = catalog.platform(platform_id)
    return _power(catalog, p, topology(catalog, platform_id, units, design=design))


def energy_chf_per_year(*, idle_w: float, load_w: float, hours_at_load_per_day: float,
                        rappen_per_kwh: float) -> float:
    """CHF per year: (load_w x h + idle_w x (24 - h)) x 365 / 1000 kWh x Rp/kWh / 100.

    Example (facts §2.12): 100 W around the clock at 27.7 Rp/kWh = 876 kWh = CHF 242.65.
    """
    if not 0 <= hours_at_load_per_day <= 24:
        raise ValueError(f"hours at load per day must be within 0-24 (got "
                         f"{hours_at_load_per_day})")
    if idle_w < 0 or load_w < 0 or rappen_per_kwh < 0:
        raise ValueError("power and tariff must be non-negative")
    wh_per_day = load_w * hours_at_load_per_day + idle_w * (24 - hours_at_load_per_day)
    return wh_per_day * DAYS_PER_YEAR / 1000 * rappen_per_kwh / 100


# ----------------------------------------------------------------------------- BOM
def _spec(item: Item, catalog: Catalog) -> str:
    if isinstance(item, Platform):
        parts = [f"{item.memory_gb:g} GB {item.memory_type}",
                 f"{item.memory_bandwidth_gb_s:g} GB/s"]
        if item.form == "system" and item.storage_tb:
            parts.append(f"{item.storage_tb:g} TB SSD")
        if item.part_number:
            parts.append(f"P/N {item.part_number}")
        return ", ".join(parts)
    if isinstance(item, Switch):
        ports = ", ".join(f"{sp.count}x {sp.speed_gbit_s:g}G {sp.form_factor}"
                          for sp in item.ports)
        return f"{ports}; up to {item.max_200g_nodes} nodes at 200G"
    if isinstance(item, Cable):
        return f"{item.ends}, {item.length_m:g} m, {item.speed_gbit_s:g}G"
    return str(item.part_number or getattr(item, "kind", ""))


def _line(item: Item, qty: int, catalog: Catalog,
          prices: Mapping[str, PriceQuote] | None) -> BomLine:
    q = _quote(item, prices)
    link, link_kind = order_link(item, q.url if q is not None else None)
    order: dict[str, Any] = {"part_number": item.part_number, "link": link, "link_kind": link_kind,
             "caveat": " ".join(item.caveat.split()) if item.caveat else None,
             "known_good": item.known_good}
    if q is None:
        return BomLine(item.id, item.name, _spec(item, catalog), qty, None, None, None, None,
                       None, None, **order)
    unit = q.chf
    note = " ".join(q.note.split())
    return BomLine(item.id, item.name, _spec(item, catalog), qty, unit, round(unit * qty, 2),
                   q.source, q.as_of, q.kind, q.url, note if "CONVERTED" in note else None,
                   **order)


def _alternatives(catalog: Catalog, topo: Topology, lines: list[BomLine],
                  prices: Mapping[str, PriceQuote] | None) -> list[BomLine]:
    """For each cable line: the cheapest part of the same kind and speed that the
    known-good-first rule passed over because of a reported failure (``known_good:
    false``), when it is cheaper -- offered with its caveat, not in the total."""
    out = []
    for ln in lines:
        if ln.item_id not in topo.cables or ln.unit_price_chf is None:
            continue
        chosen = catalog.cable(ln.item_id)
        for other in sorted((c for c in catalog.cables if c.kind == chosen.kind
                             and not c.known_good and c.speed_gbit_s >= chosen.speed_gbit_s),
                            key=lambda c: (_list_chf(c), c.id)):
            alt = _line(other, ln.quantity, catalog, prices)
            if alt.unit_price_chf is not None and alt.unit_price_chf < ln.unit_price_chf:
                out.append(replace(alt, alternative_to=ln.item_id))
                break
    return out


def _lines(catalog: Catalog, p: Platform, topo: Topology,
           prices: Mapping[str, PriceQuote] | None) -> list[BomLine]:
    lines = [_line(p, topo.units, catalog, prices)]
    if p.host is not None and topo.hosts:
        for part in p.host.parts:
            lines.append(_line(catalog.host_part(part.item), part.quantity * topo.hosts,
                               catalog, prices))
    for sid, n in topo.switches.items():
        lines.append(_line(catalog.switch(sid), n, catalog, prices))
    for cid, n in topo.cables.items():
        lines.append(_line(catalog.cable(cid), n, catalog, prices))
    return lines


def _guide_notes(catalog: Catalog, p: Platform, topo: Topology, lines: list[BomLine],
                 total: float | None) -> list[str]:
    """How this BOM relates to the reference build guide's 2- and 3-unit totals."""
    units = topo.units
    if units == 3 and _is_200g_system(p):
        return [
            "One cable connects only two nodes: 3 nodes need a switch (plus a cable per node "
            "or breakout pair) or three direct cables (triangle). The reference build guide's "
            f"3-unit budget of 3 units + one cable and no switch (CHF "
            f"{chf(3 * GUIDE_UNIT_CHF + GUIDE_CABLE_CHF, None, unit=False)}) cannot connect "
            "the third node."]
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
    why_cable = (f"the guide counts the DAC at '~{chf(GUIDE_CABLE_CHF, None, unit=False)}' "
                 "(unnamed, unsourced), "
                 f"this BOM's cheapest sourced 200G DAC costs {chf(cable.unit_price_chf, None)} "
                 f"({cable.item_id}, {cable.price_kind or 'catalog'} price "
                 f"{cable.price_date.isoformat() if cable.price_date else 'undated'}: "
                 f"{cable.price_source or 'no source'})")
    more = "more" if diff > 0 else "less"
    head = (f"Total {chf(total, None)} vs the reference build guide's ~{chf(guide_total, None)} "
            f"(2 x {chf(GUIDE_UNIT_CHF, None, unit=False)} + "
            f"~{chf(GUIDE_CABLE_CHF, None, unit=False)}): {chf(abs(diff), None)} "
            f"{more}")
    if abs(d_units) < 0.005:
        return [f"{head}, all on the cable: {why_cable}."]
    return [f"{head}: {chf(d_cable, None)} on the cable ({why_cable}) and {chf(d_units, None)} on "
            f"the units ({chf(unit.unit_price_chf, None)} each vs the guide's "
            f"{chf(GUIDE_UNIT_CHF, None, unit=False)})."]


def bill_of_materials(catalog: Catalog, platform_id: str, units: int, *,
                      prices: Mapping[str, PriceQuote] | None = None,
                      design: str | None = None) -> BillOfMaterials:
    """Every part to buy for `units` units, with quantity, CHF price, source and date.

    `prices`: item id -> PriceQuote; ids it lacks (or None) use the catalog list price.
    `total_chf` is None when any line has no known price (listed in `missing_prices`).
    `unpriced_items` names parts the design needs that the catalog does not hold (Mac
    Thunderbolt 5 cables, Strix Halo Ethernet cable/switch); they are not in the total.
    `price_complete` is True only when neither list has an entry.
    """
    p = catalog.platform(platform_id)
    topo = topology(catalog, platform_id, units, design=design)
    lines = _lines(catalog, p, topo, prices)
    missing = [ln.item_id for ln in lines if ln.unit_price_chf is None]
    total = None if missing else round(sum(ln.line_total_chf or 0.0 for ln in lines), 2)
    notes = list(topo.notes) + _guide_notes(catalog, p, topo, lines, total)
    idle, load = _power(catalog, p, topo)
    alternatives = _alternatives(catalog, topo, lines, prices)
    for alt in alternatives:
        saving = (next(ln for ln in lines if ln.item_id == alt.alternative_to).line_total_chf
                  or 0.0) - (alt.line_total_chf or 0.0)
        notes.append(f"Alternative: {alt.quantity} x {alt.item_id} instead of "
                     f"{alt.alternative_to} saves {chf(saving, None)}, but: "
                     f"{alt.caveat or 'it has a reported problem'} The BOM lists the "
                     "known-good part.")
    return BillOfMaterials(p.id, units, topo, lines, total, missing, notes, idle, load,
                           list(topo.unpriced), not missing and not topo.unpriced,
                           alternatives)


# ----------------------------------------------------------------------------- upgrades
@dataclass(frozen=True)
class Upgrade:
    """What growing from `from_units` to `to_units` costs, item by item.

    `buy`: item id -> quantity to buy; `unused`: owned items the new design leaves idle;
    `extra_chf`: CHF of `buy` (None if a bought item has no price, see `missing_prices`);
    `unpriced_items`: parts outside the catalog the new design needs (not in extra_chf).
    """

    platform_id: str
    from_units: int
    to_units: int
    design: str
    switches: dict[str, int]
    buy: dict[str, int]
    unused: dict[str, int]
    extra_chf: float | None
    missing_prices: list[str]
    unpriced_items: list[str]
    notes: list[str]
    buy_lines: list[BomLine] = field(default_factory=list)     # the shopping list
    unused_lines: list[BomLine] = field(default_factory=list)  # owned, idle afterwards
    owned_lines: list[BomLine] = field(default_factory=list)   # the N-unit default build
    alternatives: list[BomLine] = field(default_factory=list)  # cheaper, caveated parts
    owned_chf: float | None = None        # owned parts at today's prices (ASSUMPTION)
    total_spent_chf: float | None = None  # owned_chf + extra_chf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        d = asdict(self)
        for key in ("buy_lines", "unused_lines", "owned_lines", "alternatives"):
            for line in d[key]:
                if line["price_date"] is not None:
                    line["price_date"] = line["price_date"].isoformat()
        return d

    @property
    def oldest_price_date(self) -> datetime.date | None:
        """Oldest price date among the parts to buy and the owned parts (the totals)."""
        dates = [ln.price_date for ln in (*self.buy_lines, *self.owned_lines)
                 if ln.price_date is not None and ln.unit_price_chf is not None]
        return min(dates) if dates else None

    def to_markdown(self) -> str:
        """The shopping list: parts to buy (orderable), owned parts left unused, totals."""
        out = [f"# Upgrade: {self.from_units} -> {self.to_units} x {self.platform_id}", "",
               f"Design after the upgrade: {self.design}"
               + (f" ({_describe(self.switches)})" if self.switches else ""), "",
               "## Buy now", "",
               "| Component | Qty | Unit price (CHF) | Line total (CHF) | MPN | Price date "
               "| Order |", "|---|---|---|---|---|---|---|"]
        for ln in self.buy_lines:
            out.append(_shopping_row(ln))
        cost = "unknown" if self.extra_chf is None else chf(self.extra_chf, None)
        if self.extra_chf is not None and self.unpriced_items:
            cost += " + parts not priced"
        out.append(f"| **COST NOW** | | | **{cost}** | | | |")
        for alt in self.alternatives:
            out.append(_shopping_row(alt, prefix=f"alt. instead of {alt.alternative_to} (not "
                                                 f"in the cost; caveat: {alt.caveat}): "))
        out += ["", "## Owned parts left unused by the new design", ""]
        if self.unused_lines:
            out += ["| Component | Qty | Unit price today (CHF) | Line total today (CHF) | MPN "
                    "| Price date | Order |", "|---|---|---|---|---|---|---|"]
            out += [_shopping_row(ln) for ln in self.unused_lines]
        else:
            out.append("None: every owned part is used.")
        spent = "unknown" if self.total_spent_chf is None else chf(self.total_spent_chf, None)
        if self.total_spent_chf is not None and self.unpriced_items:
            spent += " + parts not priced"
        owned = "unknown" if self.owned_chf is None else chf(self.owned_chf, None)
        out += ["", "## Totals", "", f"- Cost now (parts to buy): {cost}",
                f"- Owned {self.from_units}-unit build at today's prices: {owned} (ASSUMPTION: "
                "what was paid is not known; today's effective prices stand in)",
                f"- Total spent (owned + new): {spent}"]
        if self.missing_prices:
            out.append(f"- no price known for: {', '.join(self.missing_prices)}")
        if self.unpriced_items:
            out.append(f"- price incomplete: {', '.join(self.unpriced_items)} not priced (not "
                       "in the catalog, not in the totals)")
        out += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def _target_designs(catalog: Catalog, p: Platform, units: int) -> list[Topology]:
    """Candidate topologies for `units` units: the default, plus for a switch design every
    other switch plan of the catalog (other switch, two switches, other cabling)."""
    default = topology(catalog, p.id, units)
    if default.design != "switch":
        return [default]
    out = [default]
    for plan in _switch_plans(catalog, units)[1:]:
        out.append(_switch_topology(catalog, p, units, plan, []))
    return out


def _describe(items: Mapping[str, int]) -> str:
    return ", ".join(f"{n} x {i}" for i, n in items.items()) or "nothing"


def _shopping_row(ln: BomLine, prefix: str = "") -> str:
    unit = ("price unknown" if ln.unit_price_chf is None
            else chf(ln.unit_price_chf, None, unit=False))
    total = "-" if ln.line_total_chf is None else chf(ln.line_total_chf, None, unit=False)
    return (f"| {_md(prefix + ln.description)} ({_md(ln.item_id)}) | {ln.quantity} | {unit} | "
            f"{total} | {_order_cells(ln)} |")


def _with_quantity(ln: BomLine, qty: int) -> BomLine:
    total = None if ln.unit_price_chf is None else round(ln.unit_price_chf * qty, 2)
    return replace(ln, quantity=qty, line_total_chf=total)


def upgrade_path(catalog: Catalog, platform_id: str, from_units: int, to_units: int, *,
                 prices: Mapping[str, PriceQuote] | None = None) -> Upgrade:
    """The cheapest way to grow from `from_units` to `to_units` units.

    Owned: every part of the default design for `from_units`. Candidates: the default
    design for `to_units` and, where that is a switch design, every other switch design
    (e.g. 4 -> 8 GB10: a new CRS804, or a second CRS812 + uplink DAC next to the owned
    one). Each is priced as what must be bought on top of what is owned (max(0, needed -
    owned) x unit price); the cheapest wins (ties: the default design). The notes name the
    design, the leftovers and the runner-up. Switchless designs ('direct' for 3-4 nodes)
    are not considered: they are opt-in (see `topology`).
    """
    if to_units < from_units:
        raise ValueError(f"to_units ({to_units}) must be >= from_units ({from_units})")
    p = catalog.platform(platform_id)
    owned_topo = topology(catalog, platform_id, from_units)
    have = {ln.item_id: ln.quantity for ln in _lines(catalog, p, owned_topo, prices)}
    priced: list[tuple[float, int, Topology, dict[str, int], list[str], float]] = []
    for rank, topo in enumerate(_target_designs(catalog, p, to_units)):
        buy: dict[str, int] = {}
        missing: list[str] = []
        extra = 0.0
        for ln in _lines(catalog, p, topo, prices):
            n = max(0, ln.quantity - have.get(ln.item_id, 0))
            if not n:
                continue
            buy[ln.item_id] = n
            if ln.unit_price_chf is None:
                missing.append(ln.item_id)
            else:
                extra += n * ln.unit_price_chf
        key = math.inf if missing else round(extra, 2)
        priced.append((key, rank, topo, buy, missing, round(extra, 2)))
    priced.sort(key=lambda t: (t[0], t[1]))
    _key, _rank, topo, buy, missing, extra = priced[0]
    target_lines = _lines(catalog, p, topo, prices)
    needed = {ln.item_id: ln.quantity for ln in target_lines}
    unused = {i: n - needed.get(i, 0) for i, n in have.items() if n > needed.get(i, 0)}
    owned_lines = _lines(catalog, p, owned_topo, prices)
    buy_lines = [_with_quantity(ln, buy[ln.item_id]) for ln in target_lines
                 if ln.item_id in buy]
    unused_lines = [_with_quantity(ln, unused[ln.item_id]) for ln in owned_lines
                    if ln.item_id in unused]
    owned_chf = None if any(ln.unit_price_chf is None for ln in owned_lines) else round(
        sum(ln.line_total_chf or 0.0 for ln in owned_lines), 2)
    alternatives = _alternatives(catalog, topo, buy_lines, prices)
    sw = _describe(topo.switches) if topo.switches else topo.design
    notes = [f"{from_units} -> {to_units} x {platform_id}: buy {_describe(buy)}"
             + (f" ({_cost(extra)})" if not missing else f" (no price known for "
                                                          f"{', '.join(missing)})")
             + f"; design: {sw}."]
    if unused:
        notes.append(f"Owned but unused by the new design: {_describe(unused)}.")
    for other in priced[1:]:
        if other[2].switches != topo.switches:
            o_extra = "price unknown" if other[4] else (
                f"{_cost(other[5])}, {chf(other[5] - extra, None)} more"
                if not missing else _cost(other[5]))
            notes.append(f"Alternative: {_describe(other[2].switches)} — buy "
                         f"{_describe(other[3])} ({o_extra}).")
            break
    if topo.unpriced:
        notes.append(f"Not priced (not in the catalog): {', '.join(topo.unpriced)}.")
    extra_chf = None if missing else extra
    total_spent = (None if extra_chf is None or owned_chf is None
                   else round(owned_chf + extra_chf, 2))
    return Upgrade(p.id, from_units, to_units, topo.design, dict(topo.switches), buy, unused,
                   extra_chf, missing, list(topo.unpriced), notes, buy_lines, unused_lines,
                   owned_lines, alternatives, owned_chf, total_spent)


def upgrade_cost(catalog: Catalog, platform_id: str, from_units: int, to_units: int, *,
                 prices: Mapping[str, PriceQuote] | None = None) -> float:
    """Extra CHF to grow from `from_units` to `to_units` (`upgrade_path`'s `extra_chf`).

    Counts what must be bought on top of the parts already owned, item by item, for the
    cheapest reachable design: going 2 -> 3 GB10 adds a unit, the switch and the missing
    cables (the 2-node DAC is reused); 4 -> 8 weighs a new 8-port switch against a second
    switch of the owned kind + uplink. Parts outside the catalog (`unpriced_items`) are
    not counted. Raises ValueError when a needed item has no price.
    """
    up = upgrade_path(catalog, platform_id, from_units, to_units, prices=prices)
    if up.extra_chf is None:
        raise ValueError(f"no price known for: {', '.join(up.missing_prices)}")
    return up.extra_chf


__all__ = [
    "DESIGNS", "GUIDE_CABLE_CHF", "GUIDE_PLATFORM", "GUIDE_UNIT_CHF", "BillOfMaterials",
    "BomLine", "PriceAge", "Topology", "TopologyError", "Upgrade",
    "allowed_parallel", "bill_of_materials", "check_parallel",
    "cluster_power", "energy_chf_per_year", "larger_hosts", "price_age", "topology",
    "upgrade_cost", "upgrade_path",
]
