"""Hardware part of the catalog: platforms, network parts, host parts, tariffs, defaults.

Expected values are typed in by hand from docs/sources/catalog_facts.md (compiled
2026-11-23) and the design's command-line contract, never read back from the catalog, so
every assertion can fail when the data drifts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sizing.catalog import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "catalog.yaml"

TODAY = date(2026, 11, 23)  # the date the facts were compiled; no price may be newer

# design.md "Command-line contract": platform ids plus "the other GB10 OEM boxes".
CLI_PLATFORM_IDS = {
    "asus-gx10-1tb",
    "asus-gx10-2tb",
    "asus-gx10-4tb",
    "dgx-spark-fe-4tb",
    "dell-pro-max-gb10",
    "hp-zgx-nano-g1n",
    "lenovo-thinkstation-pgx",
    "msi-edgexpert",
    "gigabyte-ai-top-atom",
    "acer-veriton-gn100",
    "rtx-pro-6000-ws",
    "rtx-pro-6000-maxq",
    "mac-studio-m3-ultra-96gb",
    "mac-studio-m3-ultra-256gb",
    "mac-studio-m3-ultra-512gb",
    "framework-desktop-395-128gb",
    "rtx-3090",
}
GB10_IDS = {
    "asus-gx10-1tb",
    "asus-gx10-2tb",
    "asus-gx10-4tb",
    "dgx-spark-fe-4tb",
    "dell-pro-max-gb10",
    "hp-zgx-nano-g1n",
    "lenovo-thinkstation-pgx",
    "msi-edgexpert",
    "gigabyte-ai-top-atom",
    "acer-veriton-gn100",
}
# facts §2.2 / seed build guide (2026-02-17)
ASUS = {
    "asus-gx10-1tb": (
        "90MS0371-M00030",
        2477,
        "https://www.toppreise.ch/price-comparison/Complete-systems/"
        "ASUS-Ascent-GX10-GG0003BN-NVIDIA-Grace-Blackwell-90MS0371-M00030-p824149",
    ),
    "asus-gx10-2tb": (
        "90MS0371-M000U0",
        2908,
        "https://www.toppreise.ch/price-comparison/Complete-systems/"
        "ASUS-Ascent-GX10-GG0026BN-NVIDIA-Grace-Blackwell-90MS0371-M000U0-p824150",
    ),
    "asus-gx10-4tb": (
        "90MS0371-M000V0",
        3285,
        "https://www.toppreise.ch/price-comparison/Complete-systems/"
        "ASUS-Ascent-GX10-GG0026BN-NVIDIA-Grace-Blackwell-90MS0371-M000V0-p824154",
    ),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def _has_url(sources: list[str]) -> bool:
    return any(s.startswith(("https://", "http://")) for s in sources)


def test_every_cli_platform_id_is_present(catalog: Catalog) -> None:
    ids = {p.id for p in catalog.platforms}
    assert ids >= CLI_PLATFORM_IDS, f"missing: {sorted(CLI_PLATFORM_IDS - ids)}"


def test_families(catalog: Catalog) -> None:
    fam = {p.id: p.family for p in catalog.platforms}
    for pid in GB10_IDS:
        assert fam[pid] == "gb10"
    assert fam["rtx-pro-6000-ws"] == fam["rtx-pro-6000-maxq"] == "rtx-pro-6000"
    assert {fam[f"mac-studio-m3-ultra-{m}gb"] for m in (96, 256, 512)} == {"mac-m3-ultra"}
    assert fam["framework-desktop-395-128gb"] == "strix-halo"
    assert fam["rtx-3090"] == "rtx-3090"


def test_every_purchasable_item_has_a_source_url(catalog: Catalog) -> None:
    missing = [i.id for i in catalog.priced_items() if not _has_url(i.source)]
    assert not missing, f"items without a source URL: {missing}"


def test_platform_sub_blocks_have_source_urls(catalog: Catalog) -> None:
    for p in catalog.platforms:
        assert _has_url(p.power.source), p.id
        assert _has_url(p.noise.source), p.id
        if p.interconnect is not None:
            assert _has_url(p.interconnect.source), p.id
        if p.host is not None:
            assert _has_url(p.host.source), p.id


def test_tariffs_have_source_urls(catalog: Catalog) -> None:
    for t in catalog.tariffs:
        assert _has_url(t.source), t.id


# ---------------------------------------------------------------------------- prices
def test_prices_are_dated_not_in_the_future_and_non_negative(catalog: Catalog) -> None:
    for item in catalog.priced_items():
        if item.price is None:
            continue
        assert item.price.date <= TODAY, f"{item.id}: price dated {item.price.date}"
        assert item.price.chf >= 0, item.id
        assert item.price.source.strip(), item.id


def test_toppreise_urls_are_product_pages(catalog: Catalog) -> None:
    for item in catalog.priced_items():
        url = item.price.url if item.price else None
        if url is None:
            continue
        assert url.startswith("https://www.toppreise.ch/price-comparison/"), item.id
        assert url.rsplit("-p", 1)[-1].isdigit(), f"{item.id}: no product id in {url}"


def test_asus_gx10_part_numbers_urls_and_prices(catalog: Catalog) -> None:
    for pid, (pn, chf, url) in ASUS.items():
        p = catalog.platform(pid)
        assert p.part_number == pn
        assert p.price is not None
        assert p.price.url == url
        assert p.price.chf == chf
        assert p.price.date == date(2026, 2, 17)


def test_other_toppreise_snapshot_prices(catalog: Catalog) -> None:
    spark = catalog.platform("dgx-spark-fe-4tb").price
    assert spark is not None
    assert spark.chf == 3503
    assert spark.url is not None
    assert spark.url.endswith("-p825126")
    ws = catalog.platform("rtx-pro-6000-ws").price
    assert ws is not None
    assert ws.chf == 6443
    assert ws.date == date(2026, 2, 16)
    assert ws.url is not None
    assert ws.url.endswith("-p833823")
    assert catalog.platform("mac-studio-m3-ultra-96gb").price.chf == 3622
    assert catalog.platform("mac-studio-m3-ultra-256gb").price.chf == 5096
    assert catalog.platform("mac-studio-m3-ultra-512gb").price.chf == 8630


def test_converted_prices_state_the_assumption(catalog: Catalog) -> None:
    # items whose only price is a USD/EUR figure (no CHF price exists, facts §2.4-2.11)
    converted = [
        "lenovo-thinkstation-pgx",
        "gigabyte-ai-top-atom",
        "rtx-pro-6000-maxq",
        "framework-desktop-395-128gb",
        "rtx-3090",
        "mikrotik-crs804-4ddq",
        "mikrotik-crs812-ddq",
        "dac-qsfp112-nvidia-0m4",
        "dac-qsfp56-200g-0m5",
    ]
    for iid in converted:
        price = catalog.item(iid).price
        if price is None:
            continue
        note = (price.note or "").upper()
        assert "ASSUMPTION" in note, iid
        assert "CHF/EUR" in note or "CHF/USD" in note, f"{iid}: conversion rate not stated"


def test_no_chf_price_invented_for_undated_gb10_oem_boxes(catalog: Catalog) -> None:
    # facts §2.4: only undated or third-party US figures exist for these
    for pid in ("dell-pro-max-gb10", "hp-zgx-nano-g1n", "msi-edgexpert", "acer-veriton-gn100"):
        assert catalog.platform(pid).price is None, pid


def test_am5_host_parts_feb17_snapshot(catalog: Catalog) -> None:
    # facts §2.6, Feb-17 column: 439 + 189 + 629 + 91 + 137 + 76 + 183 + 50 = 1,794
    host = catalog.platform("rtx-pro-6000-ws").host
    assert host is not None
    total = sum(catalog.host_part(hp.item).price.chf * hp.quantity for hp in host.parts)
    assert total == pytest.approx(1794)
    kinds = {catalog.host_part(hp.item).kind for hp in host.parts}
    assert kinds == {"cpu", "motherboard", "memory", "psu", "case", "cooler", "ssd", "misc"}
    assert catalog.host_part("am5-ryzen9-9950x").part_number == "100-100001277WOF"
    assert catalog.host_part("ddr5-64gb-5600").part_number == "KF556C40BBK2-64"


# ---------------------------------------------------------------------------- specs
def test_gb10_skus_share_memory_and_bandwidth(catalog: Catalog) -> None:
    for pid in GB10_IDS:
        p = catalog.platform(pid)
        assert p.memory_gb == 128, pid
        assert p.memory_bandwidth_gb_s == 273, pid
        assert p.unified_memory, pid
        # vLLM log "Free memory on device (114.54/121.69 GiB)"
        assert p.accelerator_memory_gib == pytest.approx(121.69, abs=0.05), pid
        assert p.compute.derived_from_sparse, pid
        assert p.compute.fp4_tflops == pytest.approx(500), pid  # 1 PF sparse / 2
        assert p.interconnect is not None, pid
        assert p.interconnect.link_gbit_s == 200, pid
        assert any(n.count == 2 and n.speed_gbit_s == 200 for n in p.network), pid


def test_memory_and_bandwidth_of_other_platforms(catalog: Catalog) -> None:
    expected = {  # id: (nameplate GB, GB/s) — facts §2.5, 2.7, 2.8, 2.9
        "rtx-pro-6000-ws": (96, 1792),
        "rtx-pro-6000-maxq": (96, 1792),
        "mac-studio-m3-ultra-96gb": (96, 819),
        "mac-studio-m3-ultra-256gb": (256, 819),
        "mac-studio-m3-ultra-512gb": (512, 819),
        "framework-desktop-395-128gb": (128, 256),
        "rtx-3090": (24, 936),
    }
    for pid, (gb, bw) in expected.items():
        p = catalog.platform(pid)
        assert (p.memory_gb, p.memory_bandwidth_gb_s) == (gb, bw), pid


def test_runtime_memory_is_below_nameplate(catalog: Catalog) -> None:
    # DRAM nameplates ("128 GB") are binary capacities, i.e. GiB: the runtime must see less
    for p in catalog.platforms:
        assert p.accelerator_memory_gib < p.memory_gb, p.id
    # discrete cards: CUDA reports a little less than nvidia-smi's 97,887 / 24,576 MiB
    assert 94.0 < catalog.platform("rtx-pro-6000-ws").accelerator_memory_gib <= 95.6
    assert 23.0 < catalog.platform("rtx-3090").accelerator_memory_gib <= 24.0


def test_gpu_cards_have_hosts(catalog: Catalog) -> None:
    for pid in ("rtx-pro-6000-ws", "rtx-pro-6000-maxq", "rtx-3090"):
        p = catalog.platform(pid)
        assert p.form == "gpu_card"
        assert p.host is not None
        assert p.host.max_cards_per_host >= 1
        assert p.host.power_idle_w <= p.host.power_load_w
    # a 600 W WS card on a 1,000 W PSU: one card per AM5 host; AM5 never takes more than 2
    assert catalog.platform("rtx-pro-6000-ws").host.max_cards_per_host == 1
    assert catalog.platform("rtx-3090").host.max_cards_per_host <= 2


def test_power_ordering_and_published_limits(catalog: Catalog) -> None:
    for p in catalog.platforms:
        assert p.power.idle_w <= p.power.load_w <= p.power.peak_w, p.id
    for pid in ("asus-gx10-1tb", "dgx-spark-fe-4tb"):
        pw = catalog.platform(pid).power
        assert pw.peak_w == 240  # USB-C PD adapter
        assert 20 <= pw.idle_w <= 45  # 22-45 W measured
        assert 60 <= pw.load_w <= 150  # inference 60-150 W at the wall
    # facts §4: the Workstation Edition is 600 W, 300 W is the Max-Q
    assert catalog.platform("rtx-pro-6000-ws").power.peak_w == 600
    assert catalog.platform("rtx-pro-6000-maxq").power.peak_w == 300
    assert catalog.platform("rtx-3090").power.peak_w == 350
    mac = catalog.platform("mac-studio-m3-ultra-512gb").power
    assert (mac.idle_w, mac.peak_w) == (9, 270)  # Apple support 102027


def test_compute_dtype_support(catalog: Catalog) -> None:
    for p in catalog.platforms:
        if p.family == "mac-m3-ultra":
            assert p.compute.fp8_tflops is None, p.id
            assert p.compute.fp4_tflops is None, p.id
        if p.family in ("rtx-3090", "strix-halo"):
            assert p.compute.fp8_tflops is None, p.id
            assert p.compute.fp4_tflops is None, p.id
        if p.family in ("gb10", "rtx-pro-6000"):
            assert p.compute.fp8_tflops is not None, p.id
            assert p.compute.fp4_tflops is not None, p.id
    # RTX PRO 6000: 4,000 TOPS FP4 sparse -> 2,000 dense -> 500 BF16
    assert catalog.platform("rtx-pro-6000-ws").compute.bf16_tflops == pytest.approx(500)


def test_no_nvlink_on_rtx_pro_6000(catalog: Catalog) -> None:
    for pid in ("rtx-pro-6000-ws", "rtx-pro-6000-maxq"):
        ic = catalog.platform(pid).interconnect
        assert ic is not None
        assert "no nvlink" in ic.kind.lower(), pid


def test_quant_and_engine_rules(catalog: Catalog) -> None:
    """FP4 tensor cores on Blackwell only, FP8 on Ada and Blackwell (weight-only Marlin on the
    3090), MLX on Apple only, ds4 where its CUDA and Metal builds run, Ollama (CUDA, Metal,
    ROCm/Vulkan builds) wherever llama.cpp runs."""
    blackwell = {"gb10", "rtx-pro-6000", "rtx-5090"}
    fp8_cores = blackwell | {"rtx-4090"}
    apple = {"mac-m3-ultra", "mac-m2-ultra"}
    for p in catalog.platforms:
        assert ("nvfp4" in p.quants) == (p.family in blackwell), p.id
        assert ("trtllm" in p.engines) == (p.family in fp8_cores), p.id
        assert ("mlx" in p.engines) == (p.family in apple), p.id
        assert ("ollama" in p.engines) == ("llamacpp" in p.engines), p.id
        assert ("ds4" in p.engines) == (p.family in apple | {"gb10", "rtx-pro-6000"}), p.id
        if p.family != "rtx-3090":
            assert ("fp8" in p.quants) == (p.family in fp8_cores), p.id
    assert "fp8" in catalog.platform("rtx-3090").quants  # weight-only Marlin in vLLM
    mac = catalog.platform("mac-studio-m3-ultra-96gb")
    assert set(mac.quants) == {
        "bf16",
        "int8",
        "int4",
        "q8_0",
        "q4_k_m",
        "iq4_xs",
        "q3_k_m",
        "mxfp4",
        "ds4_q2",
        "ds4_q4",
    }  # no fp8/nvfp4 on Apple silicon
    assert set(mac.engines) == {"mlx", "llamacpp", "ds4", "ollama"}
    strix = catalog.platform("framework-desktop-395-128gb")
    assert {"bf16", "q8_0", "q4_k_m", "mxfp4", "int4"} <= set(strix.quants)
    assert "llamacpp" in strix.engines


def test_geforce_and_m2_ultra_figures(catalog: Catalog) -> None:
    """Whitepaper / Apple figures (dense, FP32 accumulate), typed in by hand."""
    rtx5090, rtx4090 = catalog.platform("rtx-5090"), catalog.platform("rtx-4090")
    assert (
        rtx5090.memory_bandwidth_gb_s,
        rtx5090.compute.bf16_tflops,
        rtx5090.compute.fp4_tflops,
        rtx5090.power.peak_w,
    ) == (1792, 209.5, 1676, 575)
    assert (
        rtx4090.memory_bandwidth_gb_s,
        rtx4090.compute.bf16_tflops,
        rtx4090.compute.fp8_tflops,
        rtx4090.power.peak_w,
    ) == (1008, 165.2, 330.3, 450)
    assert rtx4090.compute.fp4_tflops is None  # Ada has no FP4
    m2u = catalog.platform("mac-studio-m2-ultra-192gb")
    assert (m2u.memory_bandwidth_gb_s, m2u.power.idle_w, m2u.power.peak_w) == (800, 10, 295)
    assert m2u.price is None  # no dated used price found
    assert m2u.interconnect is not None
    assert "no rdma" in m2u.interconnect.kind.lower()


# ---------------------------------------------------------------------------- network parts
def test_switches(catalog: Catalog) -> None:
    crs804 = catalog.switch("mikrotik-crs804-4ddq")
    assert crs804.max_200g_nodes == 8
    assert crs804.power_max_w == 123
    assert any(p.count == 4 and p.speed_gbit_s == 400 for p in crs804.ports)
    assert any(
        "auto-negotiation" in n.lower() and "200g-basecr4" in n.lower() for n in crs804.notes
    )
    crs812 = catalog.switch("mikrotik-crs812-ddq")
    assert crs812.max_200g_nodes == 6
    assert crs812.power_max_w == 134
    for sw in (crs804, crs812):
        assert sw.power_idle_w <= sw.power_max_w
        assert sw.price is not None


def test_cables(catalog: Catalog) -> None:
    approved = catalog.cable("dac-qsfp112-nvidia-0m4")
    assert approved.length_m == pytest.approx(0.4)
    assert approved.speed_gbit_s == 200
    third = catalog.cable("dac-qsfp56-200g-0m5")
    assert any("hot-plug" in c.lower() for c in third.compatibility)
    breakout = catalog.cable("breakout-qsfpdd-2x200g-1m5")
    assert breakout.kind == "breakout_dac"
    assert breakout.length_m == pytest.approx(1.5)
    all_notes = " ".join(c for cab in catalog.cables for c in cab.compatibility).lower()
    assert "sfp28" in all_notes  # QSFP -> 4x SFP28 breakouts don't work on Spark
    assert "reseat" in all_notes  # owner's NADDOD DACs after cold boot


# ---------------------------------------------------------------------------- tariffs, defaults
def test_tariffs(catalog: Catalog) -> None:
    assert catalog.tariff("ch-household-2026").rappen_per_kwh == pytest.approx(27.7)
    assert catalog.tariff("ch-household-2025").rappen_per_kwh == pytest.approx(29.0)
    assert catalog.tariff("ch-household-2024").rappen_per_kwh == pytest.approx(32.14)
    business = catalog.tariff("ch-business-assumed")
    assert business.rappen_per_kwh == pytest.approx(24.0)
    assert "ASSUMPTION" in (business.note or "").upper()


def test_defaults(catalog: Catalog) -> None:
    d = catalog.defaults
    assert d.tariff == "ch-household-2026"
    assert 0.80 <= d.mem_util_gb10_vllm <= 0.88
    assert d.mem_util_gb10_vllm == pytest.approx(0.85)
    assert d.hours_at_load_per_day == 8
    assert d.years_tco == 3
    assert d.cluster_sizes == [1, 2, 3, 4, 8]
    assert d.price_stale_days == 30
