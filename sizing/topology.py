"""Which switch and cables connect N units of one platform (and how many GPU hosts).

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
* GPU cards: ``ceil(N / host.max_cards_per_host)`` hosts, each built from the platform's
  ``host.parts``. Cards in different hosts talk over the hosts' Ethernet, not PCIe
  (`allowed_parallel`, `check_parallel`: only replicas across hosts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sizing.money import chf
from sizing.scenario import PARALLEL_CHOICES, ScenarioError

if TYPE_CHECKING:
    from sizing.catalog import Cable, Catalog, Item, Platform, Switch

DESIGNS: tuple[str, ...] = ("direct", "switch")
NODE_LINK_GBIT_S = 200.0  # GB10 ConnectX-7 port speed (facts §2.1)
HOTPLUG_DISABLED_IDLE_W = 18.0  # extra idle W per GB10 node with CX-7 hot-plug off (§2.1)


class TopologyError(ScenarioError):
    """No valid network design for the requested units (one-line message)."""


@dataclass(frozen=True)
class Topology:
    """How N units are wired: design, switch and cable counts by catalog id, GPU hosts."""

    units: int
    design: str  # "none" | "direct" | "switch" | "host"
    switches: dict[str, int]
    cables: dict[str, int]
    hosts: int
    notes: list[str]
    unpriced: list[str] = field(default_factory=list)  # needed, not in the catalog


def cost_text(amount: float) -> str:
    """CHF text of a design's list-price cost; infinite (a part without price) -> "price
    unknown"."""
    return "price unknown" if math.isinf(amount) else chf(amount, None)


def list_price_chf(item: Item) -> float:
    """Catalog list price used to *choose* between designs (unknown = infinitely dear)."""
    return item.price.chf if item.price is not None else math.inf


def is_200g_system(p: Platform) -> bool:
    """A networked system with 200G node ports (GB10 ConnectX-7)."""
    return p.form == "system" and any(n.speed_gbit_s >= NODE_LINK_GBIT_S for n in p.network)


def _node_ports(p: Platform) -> int:
    return sum(n.count for n in p.network if n.speed_gbit_s >= NODE_LINK_GBIT_S)


def _cheapest(cables: list[Cable]) -> Cable | None:
    """Known-good parts first (catalog ``known_good``), then the cheapest by list price,
    then the shorter, then the id: a part with a reported failure is never picked by price
    alone (the BOM offers it as an alternative line with its caveat)."""
    return min(
        cables, key=lambda c: (not c.known_good, list_price_chf(c), c.length_m, c.id), default=None
    )


def _straight_dac(catalog: Catalog) -> Cable | None:
    return _cheapest(
        [c for c in catalog.cables if c.kind == "dac" and c.speed_gbit_s >= NODE_LINK_GBIT_S]
    )


def _breakout_dac(catalog: Catalog) -> Cable | None:
    return _cheapest(
        [
            c
            for c in catalog.cables
            if c.kind == "breakout_dac" and c.speed_gbit_s >= NODE_LINK_GBIT_S
        ]
    )


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
    straight: int  # node DACs + uplink DACs
    uplinks: int
    cost: float  # catalog list price of switches + cables

    @property
    def key(self) -> tuple[Any, ...]:
        """Default choice: a known-good switch, cheapest, then fewer switches, fewer cables,
        id, fewer breakouts."""
        return (
            not self.switch.known_good,
            self.cost,
            self.count,
            self.breakouts + self.straight,
            self.switch.id,
            self.breakouts,
        )


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


@dataclass(frozen=True)
class _Cabling:
    """The catalog's straight and breakout DACs and their prices for choosing a design."""

    dac: Cable | None
    brk: Cable | None
    p_dac: float
    p_brk: float

    def usable(self, k: int, d: int) -> bool:
        """Whether `k` breakouts and `d` straight DACs exist in the catalog."""
        return not ((k and self.brk is None) or (d and self.dac is None))

    def chf(self, k: int, d: int) -> float:
        """Catalog list price of `k` breakouts and `d` straight DACs."""
        return (k * self.p_brk if k else 0.0) + (d * self.p_dac if d else 0.0)


def _cabling(catalog: Catalog) -> _Cabling:
    dac, brk = _straight_dac(catalog), _breakout_dac(catalog)
    p_dac = list_price_chf(dac) if dac else math.inf
    p_brk = list_price_chf(brk) if brk else math.inf
    # a cable type that exists but has no list price is still usable; price it 0 for the
    # choice only if it is the only kind (missing price is reported by the BOM)
    if dac is not None and math.isinf(p_dac) and brk is None:
        p_dac = 0.0
    if brk is not None and math.isinf(p_brk) and dac is None:
        p_brk = 0.0
    return _Cabling(dac, brk, p_dac, p_brk)


def switch_plans(catalog: Catalog, nodes: int) -> list[_SwitchPlan]:
    """Every switch design for `nodes` nodes, cheapest (by catalog list price) first.

    One switch when it has the ports; otherwise two identical switches joined by one
    straight-DAC uplink (each loses one port), the nodes split as evenly as possible.
    """
    cabling = _cabling(catalog)
    plans: list[_SwitchPlan] = []
    for sw in catalog.switches:
        native, dd = _switch_ports(sw)
        if nodes <= min(sw.max_200g_nodes, native + 2 * dd):
            plans += _one_switch_plans(sw, nodes, native, dd, cabling)
        else:
            plans += _two_switch_plans(sw, nodes, native, dd, cabling)
    plans.sort(key=lambda s: s.key)
    return plans


def _one_switch_plans(
    sw: Switch, nodes: int, native: int, dd: int, cabling: _Cabling
) -> list[_SwitchPlan]:
    sw_price = list_price_chf(sw)  # unknown price: ranked last
    return [
        _SwitchPlan(sw, 1, k, d, 0, sw_price + cabling.chf(k, d))
        for k, d in _allocations(nodes, native, dd)
        if cabling.usable(k, d)
    ]


def _two_switch_plans(
    sw: Switch, nodes: int, native: int, dd: int, cabling: _Cabling
) -> list[_SwitchPlan]:
    """Two identical switches, one straight-DAC uplink taking one port on each."""
    if cabling.dac is None:
        return []
    if native:
        n2, d2 = native - 1, dd
    elif dd:
        n2, d2 = native, dd - 1
    else:
        return []
    if nodes > 2 * min(sw.max_200g_nodes, n2 + 2 * d2):
        return []
    sw_price = list_price_chf(sw)
    a, b = (nodes + 1) // 2, nodes // 2
    return [
        _SwitchPlan(
            sw, 2, ka + kb, da + db + 1, 1, 2 * sw_price + cabling.chf(ka + kb, da + db + 1)
        )
        for ka, da in _allocations(a, n2, d2)
        for kb, db in _allocations(b, n2, d2)
        if cabling.usable(ka + kb, da + db)
    ]


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
                for o in alts
            )
            notes.append(
                f"{cid} chosen as the cheapest known-good {c.kind} by catalog list "
                f"price; alternatives: {listed}"
            )
    return notes


def _gb10_common_notes(units: int) -> list[str]:
    return [
        f"If a third-party DAC needs ConnectX-7 hot-plug disabled, idle power rises by "
        f"~{HOTPLUG_DISABLED_IDLE_W:g} W per node (+{HOTPLUG_DISABLED_IDLE_W * units:g} W for "
        f"{units} nodes); not included in the power figures (facts §2.1).",
        "A second cable between the same two nodes adds little: one cable already carries "
        "both PCIe Gen5 x4 functions of a port (~196 Gb/s measured; facts §2.1).",
    ]


_DIRECT_DESIGNS: dict[int, tuple[int, str]] = {  # nodes: (DACs, note)
    2: (
        1,
        "2 nodes: one DAC between one ConnectX-7 port of each node; no switch "
        "(NVIDIA DGX Spark clustering guide).",
    ),
    3: (
        3,
        "3 nodes switchless (triangle): each node's two ConnectX-7 ports go to the two "
        "other nodes, 3 DACs. Reported working in practice: 3x DGX Spark TP=3 over "
        "'RoCE, no switch' (NVIDIA forum 373968, MiMo V2.5, 38.8 tok/s). Caveats: each "
        "link uses one port (~200G, two PCIe x4 functions); every node needs two "
        "point-to-point subnets and NCCL must use both interfaces; no spare port for "
        "a 4th node (adding one means buying a switch); vLLM TP=3 needs the "
        "attention heads divisible by 3 (that report patched in virtual heads).",
    ),
    4: (
        4,
        "4 nodes switchless (ring): each node links to its two neighbours, 4 DACs; "
        "opposite nodes have no direct link. NCCL's ring all-reduce only talks to "
        "neighbours, but anything else (Ray, tree all-reduce, weight staging, "
        "PP/EP traffic) must be routed through a node. One public TP=4 build runs "
        "this way (alexellis/glm-5.3-flash-4x-dgx-spark-switchless); less proven "
        "than a switch; no spare ports to grow.",
    ),
}


def _direct_topology(catalog: Catalog, p: Platform, units: int) -> Topology:
    """Switchless 200G designs: a pair (one DAC), a triangle (3) or a ring (4); the last
    two need two ports per node."""
    dac = _straight_dac(catalog)
    if dac is None:
        raise TopologyError("no direct-attach cable (kind dac, >= 200G) in the catalog")
    if units not in _DIRECT_DESIGNS or (units > 2 and _node_ports(p) < 2):
        raise TopologyError(
            f"design 'direct' supports 2-4 nodes of {p.id} (two 200G ports per node: "
            f"pair, triangle, ring); got {units}; use design 'switch'"
        )
    count, note = _DIRECT_DESIGNS[units]
    cables = {dac.id: count}
    return Topology(
        units,
        "direct",
        {},
        cables,
        0,
        [note, *_gb10_common_notes(units), *_cable_notes(catalog, cables)],
    )


def _topology_200g(catalog: Catalog, p: Platform, units: int, design: str) -> Topology:
    if design == "direct":
        return _direct_topology(catalog, p, units)
    plans = switch_plans(catalog, units)
    if not plans:
        caps = ", ".join(f"{s.id} {s.max_200g_nodes}" for s in catalog.switches) or "none"
        raise TopologyError(
            f"{units} nodes of {p.id} exceed the switch designs in the catalog (200G nodes "
            f"per switch: {caps}; two-switch designs need a straight DAC uplink)"
        )
    return switch_topology(catalog, p, units, plans[0], plans)


def switch_topology(
    catalog: Catalog, p: Platform, units: int, best: _SwitchPlan, plans: list[_SwitchPlan]
) -> Topology:
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
            f"switch notes. {nodes_on_breakouts} node(s) hang on breakout legs."
        )
        if 2 * best.breakouts > units - (best.straight - best.uplinks):
            notes.append("One breakout leg stays unused (odd node count).")
    if best.straight - best.uplinks:
        notes.append(
            "Straight 200G QSFP56 DACs into 400G QSFP-DD cages run at 200G (a 4-node "
            "GX10 owner wires a CRS804 this way); set the port speed explicitly if "
            "it does not link at 200G (assumption, same RouterOS behaviour)."
        )
    if best.count == 2:
        notes.append(
            "Two switches joined by one straight 200G DAC uplink: traffic between the two "
            "halves shares that link (oversubscribed); keep each TP group on one switch. An "
            "8-node Spark cluster on two CRS812 'pretty much just works' (catalog notes)."
        )
    others = [
        f"{s.count}x {s.switch.id} + cables ({cost_text(s.cost)})"
        for s in _best_per_switch(plans)
        if s.switch.id != best.switch.id or s.count != best.count
    ]
    if others:
        notes.append(
            f"Chosen as the cheapest switch design by catalog list price "
            f"({cost_text(best.cost)} switch + cables); other options: " + "; ".join(others)
        )
    notes += [f"{best.switch.id}: {n}" for n in best.switch.notes]
    if units == 3 and ports >= 2:
        notes.append("Switchless alternative: design 'direct' (triangle, 3 DACs); see its caveats.")
    return Topology(
        units,
        "switch",
        {best.switch.id: best.count},
        cables,
        0,
        notes + _gb10_common_notes(units) + _cable_notes(catalog, cables),
    )


def _thunderbolt_cable(catalog: Catalog, link_gbit_s: float) -> Cable | None:
    """The catalog's Thunderbolt cable for a link of `link_gbit_s` (known-good first)."""
    return _cheapest(
        [c for c in catalog.cables if c.kind == "thunderbolt" and c.speed_gbit_s >= link_gbit_s]
    )


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
                f"ports per unit, so at most {tb_ports + 1} units)"
            )
        links = units * (units - 1) // 2
        tb = _thunderbolt_cable(catalog, ic.link_gbit_s)
        if tb is not None:
            notes = [
                f"{units} units over {ic.kind}: full mesh of {links} Thunderbolt 5 "
                f"cable(s) ({tb.id}), one per pair of units, no switch."
            ]
            notes += [f"{tb.id}: {text}" for text in tb.compatibility]
            notes.append(f"Interconnect: {ic.note}")
            return Topology(units, "direct", {}, {tb.id: links}, 0, notes)
        unpriced = [f"{links} x Thunderbolt 5 cable"]
        notes = [
            f"{units} units over {ic.kind}: full mesh of {links} Thunderbolt 5 cable(s), "
            "no switch. Thunderbolt 5 cables are not in the catalog and not priced "
            "(not included in the total)."
        ]
    else:
        if units == 2:
            unpriced = [f"1 x Ethernet cable (>= {ic.link_gbit_s:g} Gb/s)"]
        else:
            unpriced = [
                f"Ethernet switch ({units} ports of >= {ic.link_gbit_s:g} Gb/s)",
                f"{units} x Ethernet cable",
            ]
        notes = [
            f"{units} units over {ic.kind}: "
            + (
                "one Ethernet cable between the two units"
                if units == 2
                else f"an Ethernet switch with {units} ports of >= {ic.link_gbit_s:g} Gb/s"
            )
            + "; not in the catalog and not priced (not included in the total)."
        ]
    notes.append(f"Interconnect: {ic.note}")
    return Topology(units, "direct", {}, {}, 0, notes, unpriced)


def _topology_cards(p: Platform, units: int) -> Topology:
    assert p.host is not None
    per_host = p.host.max_cards_per_host
    hosts = math.ceil(units / per_host)
    notes = [f"{units} card(s), at most {per_host} per host: {hosts} host build(s) ({p.host.note})"]
    if units > 1 and hosts == 1:
        kind = p.interconnect.kind if p.interconnect else "PCIe"
        notes.append(
            f"Cards talk over {kind} inside one host"
            + ("." if "nvlink" in kind.lower() else " (no NVLink).")
        )
    if hosts > 1:
        notes.append(
            f"{hosts} hosts: cards in different hosts talk over the hosts' onboard Ethernet "
            "(a few Gb/s; network gear not in the BOM), not PCIe — only independent replicas "
            "(or a slow pipeline) are realistic across hosts; tensor-parallel estimates "
            "assume PCIe and do not apply."
        )
    return Topology(units, "host", {}, {}, hosts, notes)


def allowed_parallel(catalog: Catalog, platform_id: str, units: int) -> tuple[str, ...]:
    """Layouts the bill of materials supports for `units` units of a platform.

    GPU cards spread over several hosts (more than `host.max_cards_per_host`) only run
    independent replicas: the hosts talk over their onboard Ethernet, which the BOM does
    not equip as a cluster network, so tensor or pipeline parallel across them is not
    modelled. Everything else: tp, pp, replicas, tp+ep.
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
            + (
                f", or a platform whose host takes {units} cards: --platform " + " or ".join(bigger)
                if bigger
                else ""
            )
        )


def larger_hosts(catalog: Catalog, platform_id: str, units: int) -> list[str]:
    """Other GPU-card platforms of the same family whose one host takes `units` cards
    (e.g. the 4-card WRX90 workstation for an RTX PRO 6000 that its AM5 host limits to
    one or two), in catalog order."""
    p = catalog.platform(platform_id)
    return [
        q.id
        for q in catalog.platforms
        if q.id != p.id
        and q.form == "gpu_card"
        and q.family == p.family
        and q.host is not None
        and q.host.max_cards_per_host >= units
    ]


def topology(
    catalog: Catalog, platform_id: str, units: int, *, design: str | None = None
) -> Topology:
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
            raise TopologyError(
                f"design applies to networked systems, not to {p.id} (GPU cards go into hosts)"
            )
        return _topology_cards(p, units)
    if units == 1:
        if design is not None:
            raise TopologyError("design needs at least 2 units")
        return Topology(1, "none", {}, {}, 0, [])
    if is_200g_system(p):
        return _topology_200g(catalog, p, units, design or ("direct" if units == 2 else "switch"))
    if design == "switch":
        raise TopologyError(f"no switch design for {p.id} in the catalog; valid choices: direct")
    return _topology_other_system(catalog, p, units)


__all__ = [
    "DESIGNS",
    "HOTPLUG_DISABLED_IDLE_W",
    "NODE_LINK_GBIT_S",
    "Topology",
    "TopologyError",
    "allowed_parallel",
    "check_parallel",
    "cost_text",
    "is_200g_system",
    "larger_hosts",
    "list_price_chf",
    "switch_plans",
    "switch_topology",
    "topology",
]
