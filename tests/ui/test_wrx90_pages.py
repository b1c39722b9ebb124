"""The 4-card RTX PRO 6000 Max-Q workstation (`rtx-pro-6000-maxq-wrx90`) on the Compare and
Build pages: the 4-card tensor-parallel build is listed (not refused) and its BOM has one
WRX90 host with four cards; the unpriced RDIMMs leave the total open."""

from __future__ import annotations

from tests.ui.test_pages import errors, table

WRX = "rtx-pro-6000-maxq-wrx90"


def test_compare_lists_four_card_tp(app):
    at = app(
        query={
            "model": "Qwen/Qwen3.5-397B-A17B",
            "weights": "nvfp4",
            "engine": "vllm",
            "ctx": "4096",
            "family": "rtx-pro-6000",
            "platform": WRX,
            "units": "4",
            "alt": "0",
        }
    )
    assert not at.exception
    assert not errors(at)
    df = table(at, "compare_table")
    # listed as tensor parallel over one host; the RDIMMs have no price
    assert list(df["Configuration"]) == [f"4 x {WRX} (tp) · price incomplete"]


def test_build_page_one_wrx90_host(app):
    at = app("build", query={"platform": WRX, "n": "4"})
    assert not at.exception
    assert not errors(at)
    bom = table(at, "bom_table")
    items = dict(zip(bom["Item"], bom["Qty"], strict=True))
    assert items[WRX] == 4
    assert items["tr-pro-9955wx"] == 1
    assert items["wrx90e-sage-se-board"] == 1
    assert items["ddr5-rdimm-16gb-6400"] == 8
    assert not any(str(i).startswith(("am5-", "mikrotik-")) for i in items)
