"""Growing a cluster from N to M units: the upgrade path and its shopping list.

Upgrades (`upgrade_path`): the parts of the default design for the smaller count are
owned; among every switch design for the larger count (any catalog switch, one or two of
them) the one cheapest to complete from what is owned wins. The result is a shopping list:
the lines to buy, the owned lines left unused, the owned build at today's prices
(ASSUMPTION: what was paid is unknown) and the total spent.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sizing.bom import BomLine, alternative_lines, bom_lines, md_cell, order_cells
from sizing.money import PriceQuote, chf
from sizing.topology import Topology, cost_text, switch_plans, switch_topology, topology

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from sizing.catalog import Catalog, Platform


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
    buy_lines: list[BomLine] = field(default_factory=list)  # the shopping list
    unused_lines: list[BomLine] = field(default_factory=list)  # owned, idle afterwards
    owned_lines: list[BomLine] = field(default_factory=list)  # the N-unit default build
    alternatives: list[BomLine] = field(default_factory=list)  # cheaper, caveated parts
    owned_chf: float | None = None  # owned parts at today's prices (ASSUMPTION)
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
        dates = [
            ln.price_date
            for ln in (*self.buy_lines, *self.owned_lines)
            if ln.price_date is not None and ln.unit_price_chf is not None
        ]
        return min(dates) if dates else None

    def to_markdown(self) -> str:
        """The shopping list: parts to buy (orderable), owned parts left unused, totals."""
        out = [
            f"# Upgrade: {self.from_units} -> {self.to_units} x {self.platform_id}",
            "",
            f"Design after the upgrade: {self.design}"
            + (f" ({_describe(self.switches)})" if self.switches else ""),
            "",
            "## Buy now",
            "",
            "| Component | Qty | Unit price (CHF) | Line total (CHF) | MPN | Price date | Order |",
            "|---|---|---|---|---|---|---|",
        ]
        for ln in self.buy_lines:
            out.append(_shopping_row(ln))
        cost = "unknown" if self.extra_chf is None else chf(self.extra_chf, None)
        if self.extra_chf is not None and self.unpriced_items:
            cost += " + parts not priced"
        out.append(f"| **COST NOW** | | | **{cost}** | | | |")
        for alt in self.alternatives:
            out.append(
                _shopping_row(
                    alt,
                    prefix=f"alt. instead of {alt.alternative_to} (not "
                    f"in the cost; caveat: {alt.caveat}): ",
                )
            )
        out += ["", "## Owned parts left unused by the new design", ""]
        if self.unused_lines:
            out += [
                "| Component | Qty | Unit price today (CHF) | Line total today (CHF) | MPN "
                "| Price date | Order |",
                "|---|---|---|---|---|---|---|",
            ]
            out += [_shopping_row(ln) for ln in self.unused_lines]
        else:
            out.append("None: every owned part is used.")
        spent = "unknown" if self.total_spent_chf is None else chf(self.total_spent_chf, None)
        if self.total_spent_chf is not None and self.unpriced_items:
            spent += " + parts not priced"
        owned = "unknown" if self.owned_chf is None else chf(self.owned_chf, None)
        out += [
            "",
            "## Totals",
            "",
            f"- Cost now (parts to buy): {cost}",
            f"- Owned {self.from_units}-unit build at today's prices: {owned} (ASSUMPTION: "
            "what was paid is not known; today's effective prices stand in)",
            f"- Total spent (owned + new): {spent}",
        ]
        if self.missing_prices:
            out.append(f"- no price known for: {', '.join(self.missing_prices)}")
        if self.unpriced_items:
            out.append(
                f"- price incomplete: {', '.join(self.unpriced_items)} not priced (not "
                "in the catalog, not in the totals)"
            )
        out += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def _target_designs(catalog: Catalog, p: Platform, units: int) -> list[Topology]:
    """Candidate topologies for `units` units: the default, plus for a switch design every
    other switch plan of the catalog (other switch, two switches, other cabling)."""
    default = topology(catalog, p.id, units)
    if default.design != "switch":
        return [default]
    out = [default]
    for plan in switch_plans(catalog, units)[1:]:
        out.append(switch_topology(catalog, p, units, plan, []))
    return out


def _describe(items: Mapping[str, int]) -> str:
    return ", ".join(f"{n} x {i}" for i, n in items.items()) or "nothing"


def _shopping_row(ln: BomLine, prefix: str = "") -> str:
    unit = (
        "price unknown" if ln.unit_price_chf is None else chf(ln.unit_price_chf, None, unit=False)
    )
    total = "-" if ln.line_total_chf is None else chf(ln.line_total_chf, None, unit=False)
    return (
        f"| {md_cell(prefix + ln.description)} ({md_cell(ln.item_id)}) | {ln.quantity} | "
        f"{unit} | {total} | {order_cells(ln)} |"
    )


def _with_quantity(ln: BomLine, qty: int) -> BomLine:
    total = None if ln.unit_price_chf is None else round(ln.unit_price_chf * qty, 2)
    return replace(ln, quantity=qty, line_total_chf=total)


def upgrade_path(
    catalog: Catalog,
    platform_id: str,
    from_units: int,
    to_units: int,
    *,
    prices: Mapping[str, PriceQuote] | None = None,
) -> Upgrade:
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
    have = {ln.item_id: ln.quantity for ln in bom_lines(catalog, p, owned_topo, prices)}
    priced: list[tuple[float, int, Topology, dict[str, int], list[str], float]] = []
    for rank, topo in enumerate(_target_designs(catalog, p, to_units)):
        buy: dict[str, int] = {}
        missing: list[str] = []
        extra = 0.0
        for ln in bom_lines(catalog, p, topo, prices):
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
    target_lines = bom_lines(catalog, p, topo, prices)
    needed = {ln.item_id: ln.quantity for ln in target_lines}
    unused = {i: n - needed.get(i, 0) for i, n in have.items() if n > needed.get(i, 0)}
    owned_lines = bom_lines(catalog, p, owned_topo, prices)
    buy_lines = [_with_quantity(ln, buy[ln.item_id]) for ln in target_lines if ln.item_id in buy]
    unused_lines = [
        _with_quantity(ln, unused[ln.item_id]) for ln in owned_lines if ln.item_id in unused
    ]
    owned_chf = (
        None
        if any(ln.unit_price_chf is None for ln in owned_lines)
        else round(sum(ln.line_total_chf or 0.0 for ln in owned_lines), 2)
    )
    alternatives = alternative_lines(catalog, topo, buy_lines, prices)
    sw = _describe(topo.switches) if topo.switches else topo.design
    notes = [
        f"{from_units} -> {to_units} x {platform_id}: buy {_describe(buy)}"
        + (
            f" ({cost_text(extra)})"
            if not missing
            else f" (no price known for {', '.join(missing)})"
        )
        + f"; design: {sw}."
    ]
    if unused:
        notes.append(f"Owned but unused by the new design: {_describe(unused)}.")
    for other in priced[1:]:
        if other[2].switches != topo.switches:
            o_extra = (
                "price unknown"
                if other[4]
                else (
                    f"{cost_text(other[5])}, {chf(other[5] - extra, None)} more"
                    if not missing
                    else cost_text(other[5])
                )
            )
            notes.append(
                f"Alternative: {_describe(other[2].switches)} — buy "
                f"{_describe(other[3])} ({o_extra})."
            )
            break
    if topo.unpriced:
        notes.append(f"Not priced (not in the catalog): {', '.join(topo.unpriced)}.")
    extra_chf = None if missing else extra
    total_spent = (
        None if extra_chf is None or owned_chf is None else round(owned_chf + extra_chf, 2)
    )
    return Upgrade(
        p.id,
        from_units,
        to_units,
        topo.design,
        dict(topo.switches),
        buy,
        unused,
        extra_chf,
        missing,
        list(topo.unpriced),
        notes,
        buy_lines,
        unused_lines,
        owned_lines,
        alternatives,
        owned_chf,
        total_spent,
    )


def upgrade_cost(
    catalog: Catalog,
    platform_id: str,
    from_units: int,
    to_units: int,
    *,
    prices: Mapping[str, PriceQuote] | None = None,
) -> float:
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


__all__ = ["Upgrade", "upgrade_cost", "upgrade_path"]
