"""Issue 15 on the Build page: orderable BOM columns, the caveated alternative, the upgrade
shopping list (AppTest), and formula-safe exports of those tables.

Hand-computed from catalog.yaml list prices: 4 x GX10 (2,477) + CRS812 (974) + 2 FS
breakouts (146) = 11,174 owned; going to 8 buys 4 x GX10 + CRS804 (1,036) + 2 breakouts =
11,236 and leaves the CRS812 unused; total spent 22,410.
"""

from __future__ import annotations

import datetime
import io
from typing import TYPE_CHECKING

from openpyxl import load_workbook

from sizing.bom import BomLine, bill_of_materials
from sizing.catalog import default_catalog
from ui import export, shopping

if TYPE_CHECKING:
    import pandas as pd


def _tables_with(at, column: str) -> list[pd.DataFrame]:
    return [df.value for df in at.dataframe if column in df.value.columns]


def test_build_page_bom_is_orderable_and_offers_the_caveated_alternative(app):
    at = app("build", query={"platform": "asus-gx10-1tb", "n": "4"})
    assert not at.exception
    assert not [e.value for e in at.error]
    (bom,) = [df for df in _tables_with(at, "Qty") if "Specification" in df.columns]
    parts = bom[bom["Item"] != "TOTAL"]
    assert list(parts["Item"]) == [
        "asus-gx10-1tb",
        "mikrotik-crs812-ddq",
        "breakout-qsfpdd-2x200g-1m5",
    ]
    assert parts["Order / compare"].str.startswith("https://www.toppreise.ch/").all()
    assert list(parts["MPN"].fillna("-")) == ["90MS0371-M00030", "CRS812-8DS-2DQ-2DDQ-RM", "-"]
    assert parts["Price date"].str.match(r"\d{4}-\d\d-\d\d").all()
    assert bom[bom["Item"] == "TOTAL"]["Line total (CHF)"].iloc[0] == 11174
    (alt,) = _tables_with(at, "Instead of")
    assert list(alt["Item"]) == ["breakout-qsfpdd-2x200g-1m-naddod"]
    assert alt["Saving (CHF)"].iloc[0] == 2 * (146 - 110)
    assert "reseated" in alt["Known issue"].iloc[0]


def test_build_page_upgrade_shopping_list_names_the_unused_switch(app):
    at = app("build", query={"platform": "asus-gx10-1tb", "n": "4"})
    (summary,) = _tables_with(at, "Total spent (CHF)")
    eight = summary[summary["To (units)"] == 8].iloc[0]
    assert eight["Extra parts (CHF)"] == 11236
    assert eight["Total spent (CHF)"] == 22410
    assert eight["Owned parts left unused"] == "1 x mikrotik-crs812-ddq"
    assert "buy 4 x asus-gx10-1tb, 1 x mikrotik-crs804-4ddq" in eight["Note"]
    at.selectbox(key="upgrade_to").set_value(8).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost now"] == "CHF 11'236"
    assert metrics["Owned 4-unit build (today's prices)"] == "CHF 11'174"
    assert metrics["Total spent"] == "CHF 22'410"
    lists = [
        df
        for df in _tables_with(at, "Order / compare")
        if "Specification" not in df.columns and "Instead of" not in df.columns
    ]
    buy, unused = lists
    assert dict(zip(buy["Item"], buy["Qty"], strict=True)) == {
        "asus-gx10-1tb": 4,
        "mikrotik-crs804-4ddq": 1,
        "breakout-qsfpdd-2x200g-1m5": 2,
    }
    assert list(unused["Item"]) == ["mikrotik-crs812-ddq"]
    assert buy["Order / compare"].str.startswith("https://www.toppreise.ch/").all()


def test_build_page_mac_cluster_is_complete(app):
    at = app("build", query={"platform": "mac-studio-m3-ultra-256gb", "n": "3"})
    assert not at.exception
    (bom,) = [df for df in _tables_with(at, "Qty") if "Specification" in df.columns]
    items = dict(zip(bom["Item"], bom["Qty"], strict=True))
    assert items["thunderbolt5-apple-pro-1m"] == 3  # full mesh of 3
    assert not [w.value for w in at.warning if "incomplete" in w.value.lower()]


def _hostile_line() -> BomLine:
    return BomLine(
        "x",
        '=HYPERLINK("http://evil")',
        "spec",
        1,
        10.0,
        10.0,
        "src",
        datetime.date(2026, 1, 1),
        "manual",
        None,
        part_number="+1-2",
        link="https://www.toppreise.ch/produktsuche?q=%3D1",
        link_kind="search",
        caveat="@SUM(A1) | pipe",
    )


def test_shopping_exports_are_formula_safe():
    frame = shopping.lines_frame([_hostile_line()])
    csv = export.csv_bytes(frame).decode()
    assert "'=HYPERLINK" in csv
    assert "'+1-2" in csv
    assert "'@SUM(A1)" in csv
    wb = load_workbook(io.BytesIO(export.xlsx_bytes({"Buy": frame})))
    cells = {c.value: c for row in wb["Buy"].iter_rows(min_row=2) for c in row}
    formula = cells['=HYPERLINK("http://evil")']
    assert formula.data_type == "s"
    assert formula.quotePrefix
    header = [c.value for c in wb["Buy"][1]]
    price = wb["Buy"].cell(row=2, column=header.index("Unit price (CHF)") + 1)
    assert price.value == 10
    assert price.data_type == "n"  # numbers stay numbers
    md = export.markdown_table(frame, shopping.KINDS)
    assert "@SUM(A1) \\| pipe" in md


def test_alternatives_frame_is_empty_with_labels_when_nothing_is_passed_over():
    frame = shopping.alternatives_frame(bill_of_materials(default_catalog(), "asus-gx10-1tb", 2))
    assert len(frame) == 0
    assert "Instead of" in frame.columns
