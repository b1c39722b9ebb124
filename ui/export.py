"""Exports as bytes/text, pure functions (no Streamlit): CSV, Excel (one sheet per table)
and Markdown. The app hands the results to ``st.download_button``.

Numbers are written as numbers (CSV/XLSX) so spreadsheets can compute with them, rounded
by :func:`rounded` to the precision the table shows (money keeps its Rappen; counts are
integers); the column labels carry the units. Markdown is for reading, so it uses the
display formats of :mod:`ui.fmt` (``CHF 2'477``).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from sizing.safe_text import md_escape, spreadsheet_cell
from ui.fmt import EXPORT_DECIMALS, INTEGER_KINDS, display_strings, round_significant

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
MARKDOWN_MIME = "text/markdown"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31


def rounded(df: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``df`` with the numeric columns of ``kinds`` rounded to the precision
    shown (``ui.fmt.EXPORT_DECIMALS``; ``sig2`` to two significant digits) and the
    integer kinds as integers (missing stays missing), so an export never carries
    ``43.61538461538461`` or ``2.0``."""
    out = df.copy()
    for col, kind in kinds.items():
        if (
            col not in out.columns
            or not pd.api.types.is_numeric_dtype(out[col])
            or pd.api.types.is_bool_dtype(out[col])
        ):
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        if kind in INTEGER_KINDS:
            out[col] = values.round().astype("Int64")
        elif kind == "sig2":
            out[col] = values.map(lambda v: round_significant(float(v), 2))
        elif kind in EXPORT_DECIMALS:
            out[col] = values.round(EXPORT_DECIMALS[kind])
    return out


def _cell(value: Any) -> Any:
    """A value openpyxl can store (no tz-aware datetimes, no lists, no NaN/NA)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):  # Excel has no time zones: store UTC, naive
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if isinstance(value, list | tuple | set):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (AttributeError, ValueError):
            return str(value)
    return value


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Lists/dicts in cells become '; '-joined text (CSV friendly)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple | set) else v
            )
    return out


def neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and labels cannot start a spreadsheet formula
    (``sizing.safe_text.spreadsheet_cell``: OWASP CSV injection); numbers stay numbers."""
    out = df.copy()
    out.columns = [spreadsheet_cell(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_cell)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row and no index column; text that a spreadsheet would run
    as a formula is neutralised (`neutralised`)."""
    return neutralised(_flat(df)).to_csv(index=False, lineterminator="\n").encode("utf-8")


def sheet_name(name: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique Excel sheet name (<= 31 chars, none of ``[]:*?/\\``)."""
    base = _SHEET_BAD.sub("-", name).strip("'") or "Sheet"
    base = base[:_MAX_SHEET]
    candidate, n = base, 2
    lowered = {t.lower() for t in taken}
    while candidate.lower() in lowered:
        suffix = f" ({n})"
        candidate = base[: _MAX_SHEET - len(suffix)] + suffix
        n += 1
    return candidate


def _as_text(ws: Any) -> None:
    """Every text cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``,
    ``@``, tab, CR at the start: ``sizing.safe_text``) is stored as text with Excel's quote
    prefix -- the XLSX form of the CSV apostrophe: shown as typed, never evaluated, and it
    stays text when edited. Numbers are never touched."""
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and spreadsheet_cell(value) != value:
                cell.data_type = "s"  # openpyxl made '=...' a formula
                cell.quotePrefix = True


def xlsx_bytes(
    tables: Mapping[str, pd.DataFrame], *, number_formats: Mapping[str, str] | None = None
) -> bytes:
    """An .xlsx workbook with one sheet per table (sheet = mapping key), header in bold,
    first row frozen, column widths fitted, formula-like text kept as text (`_as_text`).
    ``number_formats`` maps a column label to an
    Excel number format (default: ``#,##0`` for labels containing ``(CHF``)."""
    if not tables:
        raise ValueError("need at least one table")
    wb = Workbook()
    wb.remove(wb.active)
    names: list[str] = []
    for title, df in tables.items():
        name = sheet_name(title, names)
        names.append(name)
        ws = wb.create_sheet(name)
        columns = [str(c) for c in df.columns]
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in df.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        _as_text(ws)
        ws.freeze_panes = "A2"
        for idx, col in enumerate(columns, start=1):
            fmt = (number_formats or {}).get(col)
            if fmt is None and "(CHF" in col:
                fmt = "#,##0"
            values = [str(col)] + [str(v) for v in df.iloc[:, idx - 1].head(200)]
            width = min(60, max(8, *(len(v) for v in values)) + 2)
            ws.column_dimensions[get_column_letter(idx)].width = width
            if fmt:
                for cell in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                    if isinstance(cell[0].value, int | float):
                        cell[0].number_format = fmt
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def markdown_table(df: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``kinds`` (see :mod:`ui.fmt`) formats columns."""
    shown = display_strings(_flat(df), kinds or {})
    header = "| " + " | ".join(md_escape(c) for c in shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    lines = [header, rule]
    for row in shown.itertuples(index=False, name=None):
        cells = ["" if _cell(v) is None else md_escape(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_document(title: str, sections: Mapping[str, str], *, notes: Sequence[str] = ()) -> str:
    """``# title``, then ``## heading`` + body for each section, then a notes list."""
    out = [f"# {title}", ""]
    for heading, body in sections.items():
        out += [f"## {heading}", "", body.rstrip("\n"), ""]
    if notes:
        out += ["## Notes", ""] + [f"- {md_escape(n)}" for n in notes] + [""]
    return "\n".join(out)


# --------------------------------------------------------------------------- cost page
COST_KINDS: dict[str, str] = {
    "Value": "text",
    "Local CHF/Mtok output": "chf2",
    "Local CHF/Mtok input": "chf2",
    "Cloud CHF/Mtok output": "chf2",
    "Cloud CHF/Mtok input": "chf2",
    "Cloud input (USD/Mtok)": "float3",
    "Cloud output (USD/Mtok)": "float3",
    "Cloud per month (CHF)": "chf2",
    "Local energy per month (CHF)": "chf2",
    "Break-even (months)": "float1",
    "Pays back within life": "bool",
    "Month": "int",
    "Cumulative cost (CHF)": "chf",
    "Turn": "int",
    "Context (tokens)": "tokens",
    "Prefilled with caching (tokens)": "tokens",
    "Seconds per turn, prefix caching (s)": "float1",
    "Seconds per turn, no caching (s)": "float1",
    "Decode (s)": "float1",
    "SSD (TB)": "float1",
    "Usable (GB)": "int",
    "Chosen checkpoints (GB)": "int",
    "Checkpoints that fit": "int",
    "Checkpoints chosen": "int",
    "All fit": "bool",
    "Free after all (GB)": "int",
    "Size (GB)": "float1",
}


def cost_frames(
    report: Mapping[str, Any],
    *,
    cumulative: Sequence[Mapping[str, Any]] = (),
    agent: Mapping[str, Any] | None = None,
    storage: Mapping[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """The Cost page's tables (``sizing.economics`` reports) with unit-bearing labels:
    Summary, Cloud, Cumulative, and (when given) Agent turns, Checkpoints, SSD, Notes."""
    summary = pd.DataFrame(
        [
            (
                "Configuration",
                f"{report['units']} x {report['platform']} ({report['parallel']}), "
                f"{report['model']} {report['weights']}, {report['engine']}",
            ),
            ("Context per stream (tokens)", report["context"]),
            ("Concurrent streams", report["concurrency"]),
            ("Hours of use per day (h)", report["hours_per_day"]),
            ("Input share of all tokens", report["input_share"]),
            ("Life (years)", report["life_years"]),
            ("Tariff (Rp/kWh)", report["rappen_per_kwh"]),
            ("USD to CHF (CHF per USD)", report["chf_per_usd"]),
            ("Hardware (CHF)", report["hardware_chf"]),
            ("Price complete", report["price_complete"]),
            ("Not priced", ", ".join(report["unpriced_items"])),
            ("Output tokens per day", round(report["output_tokens_per_day"])),
            ("Input tokens per day", round(report["input_tokens_per_day"])),
            ("Energy per month (CHF)", report["energy_chf_per_month"]),
            ("Depreciation per month (CHF)", report["depreciation_chf_per_month"]),
            ("Local CHF per Mtok output", report["chf_per_mtok_output"]),
            ("Local CHF per Mtok input", report["chf_per_mtok_input"]),
            ("All-in CHF per Mtok output", report["chf_per_mtok_output_all_in"]),
        ],
        columns=["Quantity", "Value"],
    )
    summary["Value"] = (
        summary["Value"].map(lambda v: round(v, 4) if isinstance(v, float) else v).astype(object)
    )
    cloud = pd.DataFrame(
        [
            {
                "Provider": r["provider"],
                "Model": r["model"],
                "Cloud input (USD/Mtok)": r["input_usd_per_mtok"],
                "Cloud output (USD/Mtok)": r["output_usd_per_mtok"],
                "Cloud CHF/Mtok input": r["cloud_chf_per_mtok_input"],
                "Cloud CHF/Mtok output": r["cloud_chf_per_mtok_output"],
                "Local CHF/Mtok input": report["chf_per_mtok_input"],
                "Local CHF/Mtok output": report["chf_per_mtok_output"],
                "Cloud per month (CHF)": r["cloud_chf_per_month"],
                "Local energy per month (CHF)": report["energy_chf_per_month"],
                "Break-even (months)": r["break_even_months"],
                "Pays back within life": r["pays_back_within_life"],
                "Price date": r["price_date"],
                "Page date": r["page_date"] or "",
                "Source": r["source"],
                "Note": r["note"],
            }
            for r in report["cloud"]
        ],
        columns=[
            "Provider",
            "Model",
            "Cloud input (USD/Mtok)",
            "Cloud output (USD/Mtok)",
            "Cloud CHF/Mtok input",
            "Cloud CHF/Mtok output",
            "Local CHF/Mtok input",
            "Local CHF/Mtok output",
            "Cloud per month (CHF)",
            "Local energy per month (CHF)",
            "Break-even (months)",
            "Pays back within life",
            "Price date",
            "Page date",
            "Source",
            "Note",
        ],
    )
    out = {"Summary": summary, "Cloud": cloud}
    if cumulative:
        out["Cumulative"] = pd.DataFrame(
            [
                {
                    "Month": c["month"],
                    "Series": c["series"],
                    "Cumulative cost (CHF)": c["cumulative_chf"],
                }
                for c in cumulative
            ]
        )
    if agent is not None:
        out["Agent turns"] = pd.DataFrame(
            [
                {
                    "Turn": t["turn"],
                    "Context (tokens)": t["context_tokens"],
                    "Prefilled with caching (tokens)": t["prefilled_tokens_cached"],
                    "Seconds per turn, prefix caching (s)": t["seconds_cached"],
                    "Seconds per turn, no caching (s)": t["seconds_uncached"],
                    "Decode (s)": t["decode_s"],
                }
                for t in agent["turns"]
            ]
        )
    if storage is not None:
        out["Checkpoints"] = pd.DataFrame(
            [
                {"Model": c["model"], "Weights": c["weights"], "Size (GB)": c["size_gb"]}
                for c in storage["checkpoints"]
            ]
        )
        out["SSD"] = pd.DataFrame(
            [
                {
                    "Platform": r["platform"],
                    "SSD (TB)": r["storage_tb"],
                    "Usable (GB)": r["usable_gb"],
                    "Chosen checkpoints (GB)": r["library_gb"],
                    "Checkpoints that fit": r["models_fit"],
                    "Checkpoints chosen": r["models_in_library"],
                    "All fit": r["all_fit"],
                    "Free after all (GB)": r["free_gb_after_library"],
                    "SSD note": r["storage_note"] or "",
                }
                for r in storage["platforms"]
            ]
        )
    notes = [
        *report["assumptions"],
        *(agent or {}).get("assumptions", []),
        *(storage or {}).get("assumptions", []),
    ]
    out["Notes"] = pd.DataFrame({"Note": notes})
    return out


def cost_markdown(report: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]) -> str:
    """The Cost page as a Markdown document (every text cell escaped)."""
    sections = {
        name: markdown_table(df, COST_KINDS)
        for name, df in frames.items()
        if name not in ("Notes", "Cumulative")
    }
    title = (
        f"Cost per million tokens: {report['units']} x {report['platform']}, "
        f"{report['model']} {report['weights']}"
    )
    notes = list(frames["Notes"]["Note"]) if "Notes" in frames else []
    return markdown_document(md_escape(title), sections, notes=notes)


__all__ = [
    "COST_KINDS",
    "CSV_MIME",
    "MARKDOWN_MIME",
    "XLSX_MIME",
    "cost_frames",
    "cost_markdown",
    "csv_bytes",
    "markdown_document",
    "markdown_table",
    "neutralised",
    "rounded",
    "sheet_name",
    "xlsx_bytes",
]
