"""The 4-card RTX PRO 6000 Max-Q workstation (issue 11, item 10): `rtx-pro-6000-maxq-wrx90`.

The same Max-Q card as `rtx-pro-6000-maxq` in a Threadripper PRO 9955WX / ASUS Pro WS
WRX90E-SAGE SE host that takes four cards at PCIe 5.0 x16 each, so a 4-card tensor-parallel
build is estimated, priced and compared instead of refused. Expected figures by hand from
catalog.yaml (card CHF 9,891; host parts below; card power 15/250 W, host 100/200 W).
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING

import pytest

from cli.sizing_main import main
from sizing.bom import bill_of_materials
from sizing.compare import Workload, compare
from sizing.money import PriceQuote
from sizing.power import cluster_power
from sizing.topology import TopologyError, allowed_parallel, check_parallel, larger_hosts, topology

if TYPE_CHECKING:
    from sizing.catalog import Catalog

WRX = "rtx-pro-6000-maxq-wrx90"
MAXQ = "rtx-pro-6000-maxq"
QWEN = Workload("Qwen/Qwen3.5-397B-A17B", "nvfp4", context_tokens=4096, engine="vllm")

# host parts with their catalog prices (CHF): CPU and board converted from USD at 0.80,
# PSU / case / cooler toppreise 2026-02-17, NVMe and misc shared with the AM5 host
HOST_PRICED = {
    "tr-pro-9955wx": 1200,
    "wrx90e-sage-se-board": 998,
    "psu-1600w-pg1600g": 205,
    "case-fractal-define7-xl": 196,
    "cooler-nh-u14s-tr5-sp6": 104,
    "nvme-2tb": 183,
    "host-misc": 50,
}
RDIMM = "ddr5-rdimm-16gb-6400"


def test_same_card_as_the_max_q(catalog: Catalog) -> None:
    wrx, maxq = catalog.platform(WRX), catalog.platform(MAXQ)
    for field in (
        "family",
        "form",
        "part_number",
        "memory_gb",
        "accelerator_memory_gib",
        "memory_bandwidth_gb_s",
        "compute",
        "power",
        "price",
        "quants",
        "engines",
    ):
        assert getattr(wrx, field) == getattr(maxq, field), field
    assert wrx.power.peak_w == 300  # only the 300 W card in this host
    assert wrx.host.max_cards_per_host == 4
    assert maxq.host.max_cards_per_host == 2
    # PCIe 5.0 x16: 32 GT/s x 16 lanes x 128/130 encoding = 504 Gbit/s per direction
    assert wrx.interconnect.link_gbit_s == pytest.approx(32 * 16 * 128 / 130, abs=0.2)
    assert "ASSUMPTION" in wrx.interconnect.note  # the all-reduce latency
    assert "ASSUMPTION" in wrx.host.note  # host power and PSU budget


def test_wrx90_host_parts_are_sourced(catalog: Catalog) -> None:
    for pid, chf in HOST_PRICED.items():
        part = catalog.host_part(pid)
        assert part.price is not None, pid
        assert part.price.chf == chf, pid
        assert part.source
    for pid in ("tr-pro-9955wx", "wrx90e-sage-se-board"):  # converted, stated rate
        note = catalog.host_part(pid).price.note
        assert "CONVERTED, ASSUMPTION" in note
        assert "0.80 CHF/USD" in note
    assert catalog.host_part("tr-pro-9955wx").price.chf == pytest.approx(1500 * 0.80)
    assert catalog.host_part("wrx90e-sage-se-board").price.chf == pytest.approx(
        1247 * 0.80, abs=0.5
    )
    assert catalog.host_part(RDIMM).price is None  # no sourced RDIMM price


def test_four_cards_one_host_bom(catalog: Catalog) -> None:
    bom = bill_of_materials(catalog, WRX, 4)
    assert bom.topology.hosts == 1
    assert bom.topology.switches == {}
    assert bom.topology.cables == {}
    qty = {ln.item_id: ln.quantity for ln in bom.lines}
    assert qty == {WRX: 4, **{p: 1 for p in HOST_PRICED}, RDIMM: 8}
    assert not any(i.startswith("am5-") for i in qty)
    # RDIMM unpriced: no total, and the missing part is named
    assert bom.total_chf is None
    assert bom.missing_prices == [RDIMM]
    assert not bom.price_complete
    priced = sum(ln.line_total_chf for ln in bom.lines if ln.line_total_chf is not None)
    assert priced == pytest.approx(4 * 9891 + 2936)  # 39,564 + host 2,936 = 42,500
    # power: 4 cards x 15/250 W + one host 100/200 W
    assert (bom.power_w_idle, bom.power_w_load) == pytest.approx((160, 1200))
    assert cluster_power(catalog, WRX, 4) == pytest.approx((4 * 15 + 100, 4 * 250 + 200))


def test_a_set_rdimm_price_completes_the_total(catalog: Catalog) -> None:
    # e.g. `python -m pricing set ddr5-rdimm-16gb-6400 400`: 42,500 + 8 x 400 = 45,700
    quote = {
        RDIMM: PriceQuote(
            rappen=40_000, as_of=datetime.date(2026, 12, 3), source="manual", kind="manual"
        )
    }
    bom = bill_of_materials(catalog, WRX, 4, prices=quote)
    assert bom.price_complete
    assert bom.total_chf == pytest.approx(45700)


def test_more_than_four_cards_need_a_second_host(catalog: Catalog) -> None:
    assert topology(catalog, WRX, 5).hosts == 2
    assert topology(catalog, WRX, 8).hosts == 2
    assert allowed_parallel(catalog, WRX, 4) == ("tp", "pp", "replicas", "tp+ep")
    assert allowed_parallel(catalog, WRX, 8) == ("replicas",)
    assert cluster_power(catalog, WRX, 8) == pytest.approx((8 * 15 + 2 * 100, 8 * 250 + 2 * 200))


def test_refusal_names_the_four_card_host(catalog: Catalog) -> None:
    assert larger_hosts(catalog, "rtx-pro-6000-ws", 4) == [WRX]
    assert larger_hosts(catalog, MAXQ, 4) == [WRX]
    assert larger_hosts(catalog, MAXQ, 5) == []
    assert larger_hosts(catalog, "rtx-3090", 4) == []
    with pytest.raises(TopologyError, match=f"--platform {WRX}"):
        check_parallel(catalog, "rtx-pro-6000-ws", 4, "tp")
    check_parallel(catalog, WRX, 4, "tp")  # no error


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_estimate_four_card_tp_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(
        capsys,
        "estimate",
        "--platform",
        WRX,
        "--units",
        "4",
        "--parallel",
        "tp",
        "--model",
        "Qwen/Qwen3.5-397B-A17B",
        "--weights",
        "nvfp4",
        "--engine",
        "vllm",
        "--context",
        "4096",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["parallel"] == "tp"
    assert d["units"] == 4
    assert d["fits"]
    # 221.4 GiB of NVFP4 weights over 4 cards
    assert d["weights_gib_per_unit"] == pytest.approx(d["weights_gib_total"] / 4, rel=1e-3)
    assert d["decode_tok_s_per_request"] > 0
    assert (d["power_w_idle"], d["power_w_load"]) == (160, 1200)
    assert d["price_chf"] is None
    assert d["price_complete"] is False
    assert d["unpriced_items"] == [RDIMM]
    assert any("over PCIe 5.0 x16" in a for a in d["assumptions"])
    # the same cards on the AM5 host stay refused, pointing at the WRX90 build
    code, out, err = run_main(
        capsys,
        "estimate",
        "--platform",
        "rtx-pro-6000-ws",
        "--units",
        "4",
        "--parallel",
        "tp",
        "--model",
        "Qwen/Qwen3.5-397B-A17B",
        "--weights",
        "nvfp4",
        "--engine",
        "vllm",
        "--context",
        "4096",
    )
    assert code == 2
    assert out == ""
    assert "needs 4 hosts" in err
    assert WRX in err


def test_compare_lists_the_four_card_build(catalog: Catalog) -> None:
    df = compare(QWEN, catalog, units=[4])
    rows = {r["platform"]: r for r in df.to_dict("records")}
    assert WRX in rows
    wrx = rows[WRX]
    assert wrx["parallel"] == "tp"
    assert wrx["fits"]
    assert wrx["power_w_load"] == 1200
    assert not wrx["price_complete"]
    assert RDIMM in wrx["missing_parts"]
    # 4 Max-Q on AM5 hosts (2 per host): replicas only, each copy 221 GiB > 85.5 GiB
    assert rows[MAXQ]["parallel"] == "replicas"
    assert not rows[MAXQ]["fits"]
