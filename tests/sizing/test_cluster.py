"""Topology, bill of materials, power and energy (sizing/topology.py, bom.py, power.py, upgrade.py).

Expected values are hand-computed from published figures:
* reference build guide (docs/sources/gb10_cluster_build_guide_2026-02.md): ASUS GX10 1 TB
  CHF 2,477, "~50" DAC, 2 units "~CHF 5,004", 3 units "~CHF 7,481" (one cable, no switch);
  RTX PRO 6000 system CHF 9,485 = card 7,691 + AM5 host 1,794;
* catalog_facts.md §2.10-2.12: switch ports (CRS804: 4x 400G QSFP-DD, 2x200G breakout,
  8 nodes; CRS812: 2x QSFP-DD + 2x 200G QSFP56, 6 nodes), max power 123 / 134 W,
  cable prices, 27.7 Rp/kWh and "100 W 24/7 = 876 kWh".
Switch/cable count tests run on a catalog whose network parts and GB10 power are pinned to
those figures (so a price update in catalog.yaml cannot silently change what they test).
"""

from __future__ import annotations

import datetime
import json

import pytest

from cli.sizing_main import main
from sizing.bom import bill_of_materials
from sizing.catalog import Catalog, ListPrice, SwitchPort, UnknownIdError
from sizing.money import PriceQuote, catalog_prices
from sizing.power import cluster_power, energy_chf_per_year
from sizing.topology import TopologyError, topology
from sizing.upgrade import upgrade_cost, upgrade_path

GX10 = "asus-gx10-1tb"
CRS804, CRS812 = "mikrotik-crs804-4ddq", "mikrotik-crs812-ddq"
DAC, DAC_NV = "dac-qsfp56-200g-0m5", "dac-qsfp112-nvidia-0m4"
BRK_NADDOD, BRK_FS = "breakout-qsfpdd-2x200g-1m-naddod", "breakout-qsfpdd-2x200g-1m5"
GUIDE = "SeverinAlexB/local-llm-research dgx-spark/build-guide.md (2026-02-17)"
FEB17 = datetime.date(2026, 2, 17)


def _price(chf: float) -> ListPrice:
    return ListPrice(chf=chf, date=datetime.date(2026, 2, 15), source="test: facts §2.10-2.11")


def facts_catalog(base: Catalog, *, naddod_known_good: bool = True) -> Catalog:
    """`base` with switches, cables and GB10 power pinned to catalog_facts.md figures.

    Prices (CHF, catalog conversions of the facts): CRS804 1,036 ($1,295 x 0.80),
    CRS812 974 (EUR 1,047 x 0.93), FS 200G DAC 73 (EUR 79 x 0.93), NVIDIA DAC 144
    ($179.99 x 0.80), FS breakout 146 (EUR 157 x 0.93), NADDOD breakout 110 ($138 x 0.80).
    """
    sw = {s.id: s for s in base.switches}
    crs804 = sw[CRS804].model_copy(
        update={
            "ports": [
                SwitchPort(
                    count=4,
                    speed_gbit_s=400,
                    form_factor="QSFP56-DD",
                    breakout=["1x400G", "2x200G", "4x100G"],
                ),
                SwitchPort(count=2, speed_gbit_s=10, form_factor="RJ45"),
            ],
            "max_200g_nodes": 8,
            "power_idle_w": 60.0,
            "power_max_w": 123.0,
            "price": _price(1036),
        }
    )
    crs812 = sw[CRS812].model_copy(
        update={
            "ports": [
                SwitchPort(
                    count=2,
                    speed_gbit_s=400,
                    form_factor="QSFP56-DD",
                    breakout=["1x400G", "2x200G"],
                ),
                SwitchPort(count=2, speed_gbit_s=200, form_factor="QSFP56"),
                SwitchPort(count=8, speed_gbit_s=50, form_factor="SFP56"),
                SwitchPort(count=2, speed_gbit_s=10, form_factor="RJ45"),
            ],
            "max_200g_nodes": 6,
            "power_idle_w": 60.0,
            "power_max_w": 134.0,
            "price": _price(974),
        }
    )
    cb = {c.id: c for c in base.cables}
    cables = [
        cb[DAC_NV].model_copy(update={"price": _price(144), "speed_gbit_s": 200.0}),
        cb[DAC].model_copy(update={"price": _price(73), "speed_gbit_s": 200.0}),
        cb[BRK_FS].model_copy(update={"price": _price(146), "speed_gbit_s": 200.0}),
        # pinned known-good here, so these tests keep checking the price arithmetic
        # of the switch designs; the real catalog marks it known_good: false (cold-boot
        # failures), tested with `facts_catalog(..., naddod_known_good=False)` below
        cb[BRK_NADDOD].model_copy(
            update={"price": _price(110), "speed_gbit_s": 200.0, "known_good": naddod_known_good}
        ),
    ]
    platforms = []
    for p in base.platforms:
        if p.id == GX10:
            p = p.model_copy(
                update={
                    "power": p.power.model_copy(update={"idle_w": 30.0, "load_w": 100.0}),
                    "price": ListPrice(chf=2477, date=FEB17, source=GUIDE),
                }
            )
        platforms.append(p)
    return base.model_copy(
        update={"switches": [crs804, crs812], "cables": cables, "platforms": platforms}
    )


@pytest.fixture(scope="module")
def facts(catalog: Catalog) -> Catalog:
    return facts_catalog(catalog)


# ----------------------------------------------------------------------------- counts
# Hand derivation (one 200G port per node; a QSFP-DD cage takes a 2x200G breakout for two
# nodes or one straight 200G DAC; cheapest switch + cables wins):
#  3: CRS812 974 + 1 breakout 110 + 1 DAC 73 = 1,157 < CRS812 + 3 DACs 1,193
#     < CRS812 + 2 breakouts 1,194 < CRS804 + breakout + DAC 1,219
#  4: CRS812 + 2 breakouts = 1,194 < CRS812 + 1 breakout + 2 DACs 1,230 < CRS804 1,256
#  5: CRS812 + 2 breakouts + 1 DAC (native 200G port) = 1,267 < CRS804 ... 1,329
#  6: CRS812 + 2 breakouts + 2 DACs = 1,340 < CRS804 + 3 breakouts 1,366
#  7: CRS812 is full at 6 -> CRS804 + 3 breakouts + 1 DAC = 1,439 < 4 breakouts 1,476
#  8: CRS804 + 4 breakouts (the 8-node design of the issue)
COUNTS = {
    1: ("none", {}, {}),
    2: ("direct", {}, {DAC: 1}),
    3: ("switch", {CRS812: 1}, {BRK_NADDOD: 1, DAC: 1}),
    4: ("switch", {CRS812: 1}, {BRK_NADDOD: 2}),
    5: ("switch", {CRS812: 1}, {BRK_NADDOD: 2, DAC: 1}),
    6: ("switch", {CRS812: 1}, {BRK_NADDOD: 2, DAC: 2}),
    7: ("switch", {CRS804: 1}, {BRK_NADDOD: 3, DAC: 1}),
    8: ("switch", {CRS804: 1}, {BRK_NADDOD: 4}),
}
# idle = N x 30 W (+ switch 60 W idle); load = N x 100 W (+ switch max 123/134 W)
POWER = {
    1: (30, 100),
    2: (60, 200),
    3: (150, 434),
    4: (180, 534),
    5: (210, 634),
    6: (240, 734),
    7: (270, 823),
    8: (300, 923),
}


@pytest.mark.parametrize("units", range(1, 9))
def test_switch_and_cable_counts(facts: Catalog, units: int) -> None:
    design, switches, cables = COUNTS[units]
    t = topology(facts, GX10, units)
    assert (t.design, t.switches, t.cables, t.hosts) == (design, switches, cables, 0)
    # every node has a 200G port on the switch / a link
    if design == "switch":
        legs = 2 * sum(n for c, n in t.cables.items() if c.startswith("breakout")) + sum(
            n for c, n in t.cables.items() if c.startswith("dac")
        )
        assert legs >= units


@pytest.mark.parametrize("units", range(1, 9))
def test_cluster_power_includes_switch(facts: Catalog, units: int) -> None:
    assert cluster_power(facts, GX10, units) == pytest.approx(POWER[units])
    bom = bill_of_materials(facts, GX10, units)
    assert (bom.power_w_idle, bom.power_w_load) == pytest.approx(POWER[units])


def test_eight_nodes_on_the_real_catalog(catalog: Catalog) -> None:
    # issue: "CRS804-4DDQ serves up to 8 GB10 nodes with 4 breakout cables"
    t = topology(catalog, GX10, 8)
    assert t.switches == {CRS804: 1}
    assert sum(n for c, n in t.cables.items() if catalog.cable(c).kind == "breakout_dac") == 4


def test_nine_nodes_use_two_switches_with_an_uplink(facts: Catalog) -> None:
    # two CRS812 joined by one DAC lose one native 200G port each -> 5 nodes per switch;
    # 5 + 4 nodes: (2 breakouts + 1 DAC) + (2 breakouts) + 1 uplink DAC
    # = 2 x 974 + 4 x 110 + 2 x 73 = 2,534 < two CRS804 (2,658)
    t = topology(facts, GX10, 9)
    assert t.switches == {CRS812: 2}
    assert t.cables == {BRK_NADDOD: 4, DAC: 2}
    assert any("uplink" in n for n in t.notes)
    bom = bill_of_materials(facts, GX10, 9)
    assert bom.total_chf == pytest.approx(9 * 2477 + 2534)


def test_thirteen_nodes_is_a_clear_error(facts: Catalog) -> None:
    # two CRS804 with one uplink serve 2 x 6 = 12 nodes at most
    topology(facts, GX10, 12)
    with pytest.raises(TopologyError, match="13 nodes"):
        topology(facts, GX10, 13)


# ----------------------------------------------------------------------------- guide
def _guide_prices(dac_id: str) -> dict[str, PriceQuote]:
    return {
        GX10: PriceQuote(
            rappen=247_700,
            as_of=FEB17,
            source=GUIDE,
            url="https://www.toppreise.ch/p824149",
            kind="manual",
        ),
        dac_id: PriceQuote(
            rappen=5_000, as_of=FEB17, source=GUIDE + " ('~50', cable unnamed)", kind="manual"
        ),
    }


def test_two_units_reproduce_the_guide_total(catalog: Catalog) -> None:
    # The guide prices the DAC at "~50" without naming it, so this test hands in the
    # guide's figures as the price mapping: 2 x 2,477 + 50 = 5,004 ("~CHF 5,004").
    t = topology(catalog, GX10, 2)
    assert t.switches == {}
    assert list(t.cables.values()) == [1]
    (dac_id,) = t.cables
    bom = bill_of_materials(catalog, GX10, 2, prices=_guide_prices(dac_id))
    assert bom.total_chf == pytest.approx(5004)
    assert [(ln.item_id, ln.quantity, ln.line_total_chf) for ln in bom.lines] == [
        (GX10, 2, 4954),
        (dac_id, 1, 50),
    ]
    assert bom.lines[0].price_kind == "manual"
    assert bom.lines[0].price_date == FEB17
    md = bom.to_markdown()
    assert md.startswith("| # | Component | Specification | Price (CHF) |")
    assert "| | **TOTAL** | | **CHF 5'004** |" in md  # Swiss style
    assert "2 x 2'477 = 4'954" in md
    assert "Total equals the reference build guide's ~CHF 5'004." in bom.notes


def test_two_units_at_catalog_list_prices(catalog: Catalog) -> None:
    # catalog list prices: GX10 CHF 2,477 (toppreise 2026-02-17); FS 200G QSFP56 DAC
    # CHF 73 (EUR 79 x 0.93) -> 2 x 2,477 + 73 = 5,027
    assert catalog.platform(GX10).price.chf == 2477
    assert catalog.cable(DAC).price.chf == 73
    bom = bill_of_materials(catalog, GX10, 2)
    assert bom.topology.cables == {DAC: 1}
    assert bom.total_chf == pytest.approx(5027)
    assert bom.missing_prices == []
    assert all(ln.price_kind == "catalog" and ln.price_source for ln in bom.lines)
    assert bom.price_complete
    assert bom.unpriced_items == []


def test_two_unit_gx10_bom_explains_the_difference_to_the_guide(catalog: Catalog) -> None:
    # guide: 2 x 2,477 + "~50" = 5,004; catalog: the cheapest sourced 200G DAC is 73
    # (FS.com EUR 79 x 0.93), so the BOM is CHF 23 dearer -- all of it on the cable
    bom = bill_of_materials(catalog, GX10, 2)
    (note,) = [n for n in bom.notes if "reference build guide" in n]
    dac = catalog.cable(DAC).price
    diff = bom.total_chf - 5004
    assert diff == pytest.approx(dac.chf - 50) == pytest.approx(23)
    assert "Total CHF 5'027 vs the reference build guide's ~CHF 5'004" in note
    assert "CHF 23 more, all on the cable" in note
    assert "'~50'" in note
    assert f"CHF {dac.chf:g}" in note
    assert dac.date.isoformat() in note
    # computed, not hard-coded: a dearer live GX10 price shows up as a unit difference
    live = {
        GX10: PriceQuote(
            rappen=260_000, as_of=datetime.date(2026, 11, 1), source="toppreise.ch", kind="catalog"
        )
    }
    (note,) = [
        n
        for n in bill_of_materials(catalog, GX10, 2, prices=live).notes
        if "reference build guide" in n
    ]
    assert "CHF 269 more: CHF 23 on the cable" in note
    assert "CHF 246 on the units" in note
    # only the guide's 2-unit GX10 build carries it
    assert not [
        n
        for n in bill_of_materials(catalog, "asus-gx10-2tb", 2).notes
        if "reference build guide" in n
    ]
    assert not [
        n
        for n in bill_of_materials(catalog, GX10, 2, design="switch").notes
        if "reference build guide" in n
    ]


def test_three_units_the_guide_figure_is_too_low(catalog: Catalog) -> None:
    # Guide: 3 x 2,477 + one ~50 cable = 7,481, no switch: one cable joins two nodes only.
    prices = _guide_prices(DAC)
    direct = bill_of_materials(catalog, GX10, 3, prices=prices, design="direct")
    assert direct.topology.cables == {DAC: 3}  # triangle: 3 links
    assert direct.total_chf == pytest.approx(3 * 2477 + 3 * 50)  # 7,581 = guide + 100
    switched = bill_of_materials(catalog, GX10, 3, prices=prices)
    assert switched.topology.design == "switch"
    assert sum(switched.topology.switches.values())
    assert switched.total_chf > direct.total_chf > 7481
    text = " ".join(switched.notes)
    assert "CHF 7'481" in text
    assert "triangle" in text
    assert any("RoCE, no switch" in n for n in direct.notes)


@pytest.mark.parametrize("units", [2, 4, 5, 8])
def test_guide_three_unit_note_only_on_three_units(catalog: Catalog, units: int) -> None:
    notes = " ".join(bill_of_materials(catalog, GX10, units).notes)
    assert "7'481" not in notes
    assert "3-unit budget" not in notes


def test_direct_designs(facts: Catalog) -> None:
    assert topology(facts, GX10, 4, design="direct").cables == {DAC: 4}  # ring
    assert any("ring" in n for n in topology(facts, GX10, 4, design="direct").notes)
    assert topology(facts, GX10, 2, design="switch").switches == {CRS812: 1}
    with pytest.raises(TopologyError, match="2-4 nodes"):
        topology(facts, GX10, 5, design="direct")
    with pytest.raises(TopologyError, match="valid choices"):
        topology(facts, GX10, 3, design="mesh")
    with pytest.raises(TopologyError):
        topology(facts, GX10, 1, design="switch")
    with pytest.raises(TopologyError, match="at least 1"):
        topology(facts, GX10, 0)


def test_compatibility_notes_travel_with_the_bom(facts: Catalog) -> None:
    notes = " ".join(bill_of_materials(facts, GX10, 3).notes)
    assert "auto-negotiation" in notes.lower()
    assert "hot-plug" in notes
    assert "+54 W" in notes  # 18 W x 3 nodes
    assert "adds little" in notes


# ----------------------------------------------------------------------------- GPU cards
HOST_FEB17 = 439 + 189 + 629 + 91 + 137 + 76 + 183 + 50  # facts §2.6 Feb-17 = 1,794


def test_rtx_pro_6000_host_build(catalog: Catalog) -> None:
    assert HOST_FEB17 == 1794
    bom = bill_of_materials(catalog, "rtx-pro-6000-ws", 1)
    assert bom.topology.hosts == 1
    assert bom.total_chf == pytest.approx(6443 + HOST_FEB17)  # card 2026-02-16
    # the guide's figure: card 7,691 (2026-02-17) + host 1,794 = 9,485
    guide = {
        "rtx-pro-6000-ws": PriceQuote(rappen=769_100, as_of=FEB17, source=GUIDE, kind="catalog")
    }
    assert bill_of_materials(
        catalog, "rtx-pro-6000-ws", 1, prices=guide
    ).total_chf == pytest.approx(9485)
    # card 30/400 W + host 60/150 W (catalog assumptions)
    assert (bom.power_w_idle, bom.power_w_load) == pytest.approx((90, 550))


def test_gpu_cards_beyond_one_host(catalog: Catalog) -> None:
    ws2 = bill_of_materials(catalog, "rtx-pro-6000-ws", 2)  # one WS card per host
    assert ws2.topology.hosts == 2
    assert {ln.item_id: ln.quantity for ln in ws2.lines}["am5-ryzen9-9950x"] == 2
    assert any("Ethernet" in n for n in ws2.topology.notes)
    assert topology(catalog, "rtx-pro-6000-maxq", 2).hosts == 1  # two Max-Q per host
    assert topology(catalog, "rtx-pro-6000-maxq", 3).hosts == 2
    assert topology(catalog, "rtx-3090", 8).hosts == 4
    with pytest.raises(TopologyError):
        topology(catalog, "rtx-3090", 2, design="switch")


def test_mac_and_strix_cables_are_not_priced(catalog: Catalog, facts: Catalog) -> None:
    # `facts` holds only the GB10 network parts: a catalog without a Thunderbolt 5 cable
    # (the real catalog prices one since issue 15: test_mac_cluster_buys_thunderbolt_cables)
    mac = bill_of_materials(facts, "mac-studio-m3-ultra-256gb", 2)
    assert mac.topology.switches == {}
    assert mac.topology.cables == {}
    assert mac.total_chf == pytest.approx(2 * 5096)
    assert any("not in the catalog" in n for n in mac.notes)
    with pytest.raises(TopologyError, match="full mesh"):
        topology(catalog, "mac-studio-m3-ultra-256gb", 8)  # 6 TB5 ports per Mac
    fw = bill_of_materials(catalog, "framework-desktop-395-128gb", 3)
    assert any("switch" in n and "not priced" in n for n in fw.notes)


def test_unpriced_parts_make_the_price_incomplete(catalog: Catalog) -> None:
    # review: the BOM said "not priced" in a note while the data claimed a complete total
    # (Mac: on a catalog without a Thunderbolt 5 cable, see above)
    mac = bill_of_materials(facts_catalog(catalog), "mac-studio-m3-ultra-256gb", 3)
    assert not mac.price_complete
    assert mac.total_chf is not None
    assert mac.unpriced_items == ["3 x Thunderbolt 5 cable"]  # full mesh of 3
    fw = bill_of_materials(catalog, "framework-desktop-395-128gb", 4)
    assert not fw.price_complete
    assert fw.unpriced_items[0].startswith("Ethernet switch (4 ports")
    assert not bill_of_materials(catalog, "framework-desktop-395-128gb", 2).price_complete
    d = fw.to_dict()
    assert d["price_complete"] is False
    assert d["unpriced_items"] == fw.unpriced_items
    md = fw.to_markdown()
    assert "**CHF 11'036 + parts not priced**" in md
    assert "price incomplete: Ethernet switch" in md
    for units in (1, 2, 3):  # catalog parts only: complete
        assert bill_of_materials(catalog, GX10, units).price_complete
    assert bill_of_materials(catalog, "mac-studio-m3-ultra-256gb", 1).price_complete
    dell = bill_of_materials(catalog, "dell-pro-max-gb10", 2)  # no list price
    assert dell.total_chf is None
    assert not dell.price_complete


# ----------------------------------------------------------------------------- prices
def test_missing_price_makes_the_total_unknown(catalog: Catalog) -> None:
    assert catalog.platform("dell-pro-max-gb10").price is None
    bom = bill_of_materials(catalog, "dell-pro-max-gb10", 2)
    assert bom.total_chf is None
    assert bom.missing_prices == ["dell-pro-max-gb10"]
    assert "price unknown" in bom.to_markdown()


def test_price_mapping_overrides_and_falls_back(catalog: Catalog) -> None:
    scraped = {
        GX10: PriceQuote(
            rappen=260_000,
            as_of=datetime.date(2026, 11, 1),
            source="toppreise.ch",
            url="https://www.toppreise.ch/p824149",
            kind="scraped",
        )
    }
    bom = bill_of_materials(catalog, GX10, 2, prices=scraped)
    assert bom.total_chf == pytest.approx(2 * 2600 + 73)
    kinds = {ln.item_id: ln.price_kind for ln in bom.lines}
    assert kinds == {GX10: "scraped", DAC: "catalog"}


def test_catalog_prices(catalog: Catalog) -> None:
    prices = catalog_prices(catalog)
    assert prices[GX10].chf == 2477
    assert prices[GX10].kind == "catalog"
    assert prices[GX10].as_of == FEB17
    assert "dell-pro-max-gb10" not in prices


def test_unknown_platform_lists_choices(catalog: Catalog) -> None:
    with pytest.raises(UnknownIdError, match=r"valid choices: .*asus-gx10-1tb"):
        bill_of_materials(catalog, "gx10", 2)


# ----------------------------------------------------------------------------- energy
def test_energy_per_year() -> None:
    # facts §2.12: one GB10 averaging 100 W 24/7 = 876 kWh/yr ~ CHF 243 at 27.7 Rp/kWh
    assert energy_chf_per_year(
        idle_w=100, load_w=100, hours_at_load_per_day=24, rappen_per_kwh=27.7
    ) == pytest.approx(876 * 0.277)
    # 2 GB10: 200 W x 8 h + 60 W x 16 h = 2,560 Wh/day = 934.4 kWh/yr -> CHF 258.83
    assert energy_chf_per_year(
        idle_w=60, load_w=200, hours_at_load_per_day=8, rappen_per_kwh=27.7
    ) == pytest.approx(258.8288)
    with pytest.raises(ValueError, match="0-24"):
        energy_chf_per_year(idle_w=1, load_w=1, hours_at_load_per_day=25, rappen_per_kwh=1)


# ----------------------------------------------------------------------------- upgrade
def test_upgrade_path(facts: Catalog) -> None:
    assert upgrade_cost(facts, GX10, 1, 2) == pytest.approx(2477 + 73)
    # the switch appears at 3: + unit + CRS812 + one breakout; the 2-node DAC is reused
    assert upgrade_cost(facts, GX10, 2, 3) == pytest.approx(2477 + 974 + 110)
    # 3 (CRS812, 1 breakout + 1 DAC) -> 4: one more DAC (73) is cheaper than the second
    # breakout (110) of the 4-node default design
    assert upgrade_cost(facts, GX10, 3, 4) == pytest.approx(2477 + 73)
    # 4 -> 8: four units, a CRS804 and two more breakouts (1,256) beat a second CRS812 +
    # uplink DAC + two breakouts (974 + 73 + 220 = 1,267)
    assert upgrade_cost(facts, GX10, 4, 8) == pytest.approx(4 * 2477 + 1036 + 2 * 110)
    assert upgrade_cost(facts, GX10, 3, 3) == 0
    with pytest.raises(ValueError, match=r"to_units \(2\) must be >= from_units \(3\)"):
        upgrade_cost(facts, GX10, 3, 2)


def test_upgrade_reuses_the_owned_switch_when_cheaper(facts: Catalog) -> None:
    # review: 4 -> 8 always bought a new CRS804. The note names the runner-up and leftovers.
    up = upgrade_path(facts, GX10, 4, 8)
    assert up.switches == {CRS804: 1}
    assert up.unused == {CRS812: 1}
    assert up.buy == {GX10: 4, CRS804: 1, BRK_NADDOD: 2}
    text = " ".join(up.notes)
    assert "Alternative: 2 x mikrotik-crs812-ddq" in text
    assert "(CHF 11'175, CHF 11 more)" in text
    assert "Owned but unused by the new design: 1 x mikrotik-crs812-ddq" in text
    # with the CRS804 at CHF 1,100 the second CRS812 + uplink (1,267 < 1,320) wins
    dear = facts.model_copy(
        update={
            "switches": [
                s.model_copy(update={"price": _price(1100)}) if s.id == CRS804 else s
                for s in facts.switches
            ]
        }
    )
    up = upgrade_path(dear, GX10, 4, 8)
    assert up.switches == {CRS812: 2}
    assert up.unused == {}
    assert up.buy == {GX10: 4, CRS812: 1, BRK_NADDOD: 2, DAC: 1}  # DAC = uplink
    assert up.extra_chf == pytest.approx(4 * 2477 + 974 + 2 * 110 + 73)
    assert upgrade_cost(dear, GX10, 4, 8) == up.extra_chf
    assert topology(dear, GX10, 8).switches == {CRS804: 1}  # a fresh 8-node build still


# ----------------------------------------------------------------------------- CLI
def test_cli_bom_markdown_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bom", "--platform", GX10, "--units", "2", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| # | Component | Specification | Price (CHF) |")
    assert "**TOTAL**" in out
    assert main(["bom", "--platform", GX10, "--units", "3", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["units"] == 3
    assert d["topology"]["design"] == "switch"
    assert d["total_chf"] == pytest.approx(sum(ln["line_total_chf"] for ln in d["lines"]))


def test_cli_bom_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bom", "--platform", "nope", "--units", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "valid choices" in err
    assert main(["bom", "--platform", GX10, "--units", "6", "--design", "direct"]) == 2
    assert "2-4 nodes" in capsys.readouterr().err
