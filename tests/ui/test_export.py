"""Exports: CSV, Excel (one sheet per table) and Markdown built by pure functions."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from ui import export


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Configuration": ["1 x asus-gx10-1tb", "2 x asus-gx10-1tb (tp)"],
            "Price (CHF)": [2477.0, 5027.0],
            "Decode per stream (tok/s)": [43.64, None],
            "Fits": [True, False],
            "Notes": [["a", "b"], []],
        }
    )


def test_csv_roundtrip(frame):
    data = export.csv_bytes(frame)
    back = pd.read_csv(io.BytesIO(data))
    assert list(back.columns) == list(frame.columns)
    assert len(back) == 2
    assert back["Price (CHF)"].tolist() == [2477.0, 5027.0]  # raw numbers, not "CHF …"
    assert pd.isna(back.loc[1, "Decode per stream (tok/s)"])
    assert back.loc[0, "Notes"] == "a; b"
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM, plain UTF-8


def test_xlsx_one_sheet_per_table(frame):
    aware = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    other = pd.DataFrame({"When": [aware], "Day": [date(2026, 2, 17)], "Qty": [3]})
    data = export.xlsx_bytes({"Comparison": frame, "BOM/parts: 1": other})
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Comparison", "BOM-parts- 1"]
    ws = wb["Comparison"]
    assert [c.value for c in ws[1]] == list(frame.columns)
    assert ws["B2"].value == 2477
    assert ws["B2"].number_format == "#,##0"
    assert ws["C3"].value is None
    assert ws["E2"].value == "a; b"
    assert ws.freeze_panes == "A2"
    ws2 = wb["BOM-parts- 1"]
    assert ws2["A2"].value == datetime(2026, 11, 23, 10, 0)  # UTC, naive
    assert ws2["C2"].value == 3


def test_xlsx_needs_a_table():
    with pytest.raises(ValueError, match="need at least one table"):
        export.xlsx_bytes({})


@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=6))
def test_sheet_names_are_valid_and_unique(names):
    taken: list[str] = []
    for name in names:
        got = export.sheet_name(name, taken)
        assert 1 <= len(got) <= 31
        assert not set(got) & set("[]:*?/\\")
        assert got.lower() not in {t.lower() for t in taken}
        taken.append(got)


def test_markdown_table(frame):
    text = export.markdown_table(
        frame, {"Price (CHF)": "chf", "Decode per stream (tok/s)": "float1"}
    )
    lines = text.strip().splitlines()
    assert len(lines) == 2 + len(frame)
    assert lines[0].startswith("| Configuration | Price (CHF) |")
    assert lines[1].count("---") == len(frame.columns)
    assert "| CHF 2'477 |" in lines[2]
    assert "| 43.6 |" in lines[2]
    assert "| – |" in lines[3]


def test_markdown_escapes_pipes_and_newlines():
    text = export.markdown_table(pd.DataFrame({"a|b": ["x|y\nz"]}))
    assert "a\\|b" in text
    assert "x\\|y z" in text
    assert text.count("\n") == 3


def test_markdown_document():
    doc = export.markdown_document("Build", {"BOM": "| a |\n|---|\n| 1 |\n"}, notes=["n1"])
    assert doc.startswith("# Build\n")
    assert "## BOM\n\n| a |" in doc
    assert doc.rstrip().endswith("- n1")


def test_exports_round_to_the_displayed_precision():
    df = pd.DataFrame(
        {
            "Item": ["gx10", "TOTAL"],
            "Qty": pd.array([2, None], dtype="Int64").astype(float),
            "Line total (CHF)": [4953.999, 5027.4567],
            "Decode per stream (tok/s)": [43.61538461538461, None],
            "TTFT (s)": [210.98123, 0.351234],
            "Fits": [True, False],
        }
    )
    kinds = {
        "Qty": "int",
        "Line total (CHF)": "chf",
        "Decode per stream (tok/s)": "float1",
        "TTFT (s)": "sig2",
        "Fits": "bool",
    }
    out = export.rounded(df, kinds)
    assert df["Qty"].dtype.kind == "f"  # the input is left alone
    text = export.csv_bytes(out).decode()
    assert text.splitlines() == [
        "Item,Qty,Line total (CHF),Decode per stream (tok/s),TTFT (s),Fits",
        "gx10,2,4954.0,43.6,210.0,True",  # counts are integers, money keeps Rappen
        "TOTAL,,5027.46,,0.35,False",
    ]
    wb = load_workbook(io.BytesIO(export.xlsx_bytes({"BOM": out})))
    rows = list(wb["BOM"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:5] == ("gx10", 2, 4954.0, 43.6, 210.0)
    assert rows[1][1] is None
    assert rows[1][3] is None  # missing stays empty, never <NA>
    assert "<NA>" not in export.markdown_table(out, kinds)
