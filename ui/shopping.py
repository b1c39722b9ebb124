"""Frames for the orderable bill of materials and the upgrade shopping list (Build page,
exports). Pure pandas, no Streamlit: the data come from ``sizing.bom`` and
``sizing.upgrade``; these only choose columns and labels (units in the labels, numbers stay
numbers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ui.tables import Column, display_frame, kinds_by_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sizing.bom import BillOfMaterials, BomLine
    from sizing.upgrade import Upgrade

LINE_COLUMNS: list[Column] = [
    Column("item_id", "Item", "text"),
    Column("quantity", "Qty", "int"),
    Column("unit_price_chf", "Unit price (CHF)", "chf"),
    Column("line_total_chf", "Line total (CHF)", "chf"),
    Column("price_date", "Price date", "text"),
    Column("price_kind", "Price kind", "text"),
    Column("part_number", "MPN", "text"),
    Column("description", "Description", "text"),
    Column("link", "Order / compare", "text"),
    Column("link_kind", "Order link kind", "text"),
    Column("caveat", "Known issue", "text"),
]
ALTERNATIVE_COLUMNS: list[Column] = [
    Column("alternative_to", "Instead of", "text"),
    *LINE_COLUMNS[:4],
    Column("saving_chf", "Saving (CHF)", "chf"),
    *LINE_COLUMNS[4:],
]
UPGRADE_COLUMNS: list[Column] = [
    Column("from_units", "From (units)", "int"),
    Column("to_units", "To (units)", "int"),
    Column("extra_chf", "Extra parts (CHF)", "chf"),
    Column("new_total_chf", "New total (CHF)", "chf"),
    Column("total_spent_chf", "Total spent (CHF)", "chf"),
    Column("design", "Design", "text"),
    Column("unused", "Owned parts left unused", "text"),
    Column("note", "Note", "text"),
]
KINDS: dict[str, str] = {
    **kinds_by_label(LINE_COLUMNS),
    **kinds_by_label(ALTERNATIVE_COLUMNS),
    **kinds_by_label(UPGRADE_COLUMNS),
}


def _row(ln: BomLine) -> dict[str, object]:
    return {
        "item_id": ln.item_id,
        "quantity": ln.quantity,
        "unit_price_chf": ln.unit_price_chf,
        "line_total_chf": ln.line_total_chf,
        "price_date": ln.price_date.isoformat() if ln.price_date else "",
        "price_kind": ln.price_kind or "none",
        "part_number": ln.part_number,
        "description": ln.description,
        "link": ln.link or "",
        "link_kind": ln.link_kind,
        "caveat": ln.caveat,
        "alternative_to": ln.alternative_to,
    }


def lines_frame(lines: Sequence[BomLine], columns: Sequence[Column] = LINE_COLUMNS) -> pd.DataFrame:
    """BOM lines (to buy, owned, unused) as a display frame; empty frame with the labels
    when there are none."""
    frame = pd.DataFrame(
        [_row(ln) for ln in lines], columns=[c.source for c in LINE_COLUMNS] + ["alternative_to"]
    )
    frame["quantity"] = frame["quantity"].astype("Int64")
    return display_frame(frame, columns)


def alternatives_frame(bom: BillOfMaterials) -> pd.DataFrame:
    """The cheaper parts with a reported problem that the BOM passed over, each with the
    line it could replace and what it would save (CHF, same quantity)."""
    chosen = {ln.item_id: ln for ln in bom.lines}
    rows = []
    for alt in bom.alternatives:
        row = _row(alt)
        base = chosen.get(alt.alternative_to or "")
        row["saving_chf"] = (
            None
            if base is None or base.line_total_chf is None or alt.line_total_chf is None
            else round(base.line_total_chf - alt.line_total_chf, 2)
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[c.source for c in ALTERNATIVE_COLUMNS])
    frame["quantity"] = frame["quantity"].astype("Int64")
    return display_frame(frame, ALTERNATIVE_COLUMNS)


def upgrade_row(up: Upgrade, new_total_chf: float | None) -> dict[str, object]:
    """One row of the upgrade-path summary (sources of ``UPGRADE_COLUMNS``)."""
    unused = ", ".join(f"{n} x {i}" for i, n in up.unused.items()) or "none"
    buy = ", ".join(f"{n} x {i}" for i, n in up.buy.items()) or "nothing"
    note = f"buy {buy}"
    if up.missing_prices:
        note += f"; no price known for {', '.join(up.missing_prices)}"
    if up.unpriced_items:
        note += f"; not priced: {', '.join(up.unpriced_items)}"
    return {
        "from_units": up.from_units,
        "to_units": up.to_units,
        "extra_chf": up.extra_chf,
        "new_total_chf": new_total_chf,
        "total_spent_chf": up.total_spent_chf,
        "design": up.design
        + (
            " (" + ", ".join(f"{n} x {i}" for i, n in up.switches.items()) + ")"
            if up.switches
            else ""
        ),
        "unused": unused,
        "note": note,
    }


def upgrade_frame(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """The upgrade-path summary (one row per target unit count)."""
    frame = pd.DataFrame(list(rows), columns=[c.source for c in UPGRADE_COLUMNS])
    for col in ("from_units", "to_units"):
        frame[col] = frame[col].astype("Int64")
    return display_frame(frame, UPGRADE_COLUMNS)


__all__ = [
    "ALTERNATIVE_COLUMNS",
    "KINDS",
    "LINE_COLUMNS",
    "UPGRADE_COLUMNS",
    "alternatives_frame",
    "lines_frame",
    "upgrade_frame",
    "upgrade_row",
]
