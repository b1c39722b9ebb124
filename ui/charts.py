"""Plotly figure builders: pure functions of DataFrames, testable without Streamlit.

Every axis carries its unit; numbers use the Swiss thousands separator (``2'477``) via
``layout.separators``. Nothing here computes sizing results — inputs are the frames the
pages already show.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from ui import fmt

if TYPE_CHECKING:
    from collections.abc import Sequence

SEPARATORS = ".'"  # decimal point, apostrophe thousands (Swiss)
HEIGHT_PX = 420
FAMILY_COLORS = {
    "gb10": "#76b900",
    "rtx-pro-6000": "#1f77b4",
    "mac-m3-ultra": "#7f7f7f",
    "strix-halo": "#d62728",
    "rtx-3090": "#ff7f0e",
    "rtx-4090": "#9467bd",
    "rtx-5090": "#8c564b",
    "mac-m2-ultra": "#bcbd22",
}
MEMORY_COLORS = {
    "Weights": "#4c78a8",
    "KV cache (context x streams)": "#f58518",
    "Runtime overhead": "#b279a2",
    "Free": "#54a24b",
}


def _layout(
    fig: go.Figure, *, x_title: str, y_title: str, title: str = "", height: int = HEIGHT_PX
) -> go.Figure:
    fig.update_layout(
        title=title or None,
        separators=SEPARATORS,
        height=height,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return fig


def pareto_front(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated by another row (lower ``x`` is better, higher ``y`` is better),
    sorted by ``x``. Rows with NaN in either column are ignored."""
    data = df.dropna(subset=[x, y]).sort_values([x, y], ascending=[True, False])
    keep, best_y = [], -math.inf
    for idx, value in zip(data.index, data[y], strict=True):
        if value > best_y:
            keep.append(idx)
            best_y = value
    return data.loc[keep]


def priced_fitting(df: pd.DataFrame, y: str) -> pd.DataFrame:
    """The rows the price-vs-speed chart plots: fitting, with a price and a speed."""
    return df[df["fits"].fillna(False).astype(bool)].dropna(subset=["price_chf", y])


INCOMPLETE_NOTE = "price incomplete"


def _incomplete(df: pd.DataFrame) -> pd.Series:
    """True where the row's price leaves out unpriced parts (``price_complete`` False)."""
    if "price_complete" not in df.columns:
        return pd.Series(False, index=df.index)
    return ~df["price_complete"].fillna(False).astype(bool)


def _missing_text(df: pd.DataFrame) -> list[str]:
    """Hover line per row: "<br>price incomplete: <parts> not priced" or ""."""
    parts = (
        df["unpriced_parts"] if "unpriced_parts" in df.columns else pd.Series("", index=df.index)
    )
    return [
        f"<br>{INCOMPLETE_NOTE}: {p or 'parts'} not priced (lower bound)" if bad else ""
        for bad, p in zip(_incomplete(df), parts, strict=True)
    ]


def price_vs_speed(
    df: pd.DataFrame,
    *,
    y: str,
    y_label: str,
    best_config: str | None = None,
    floor_tok_s: float | None = None,
) -> go.Figure:
    """Price (CHF) vs decode speed of the fitting, priced configurations with the Pareto
    frontier (nothing is both cheaper and faster than a frontier point). Pages check
    :func:`priced_fitting` first and show a message instead of an empty chart.

    A configuration whose price is incomplete (``price_complete`` False) is an open marker
    (legend entry "price incomplete") with the missing parts on hover; ``floor_tok_s`` > 0
    draws the speed floor as a dotted line."""
    data = priced_fitting(df, y)
    fig = go.Figure()
    for family, part in data.groupby("family", sort=False):
        bad = _incomplete(part)
        fig.add_trace(
            go.Scatter(
                x=part["price_chf"],
                y=part[y],
                mode="markers",
                name=str(family),
                text=part["config"],
                customdata=_missing_text(part),
                marker={
                    "size": 10,
                    "opacity": 0.85,
                    "color": FAMILY_COLORS.get(str(family)),
                    "symbol": ["circle-open" if b else "circle" for b in bad],
                    "line": {"width": 2},
                },
                hovertemplate="%{text}<br>CHF %{x:,.0f}<br>%{y:.1f} tok/s%{customdata}"
                "<extra></extra>",
            )
        )
    if _incomplete(data).any():
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"open marker: {INCOMPLETE_NOTE}",
                marker={"size": 10, "symbol": "circle-open", "color": "#444", "line": {"width": 2}},
                hoverinfo="skip",
            )
        )
    front = pareto_front(data, "price_chf", y)
    if len(front):
        fig.add_trace(
            go.Scatter(
                x=front["price_chf"],
                y=front[y],
                mode="lines",
                name="Pareto frontier",
                line={"shape": "hv", "dash": "dot", "color": "#444"},
                hoverinfo="skip",
            )
        )
    if best_config is not None:
        best = data[data["config"] == best_config]
        if len(best):
            fig.add_trace(
                go.Scatter(
                    x=best["price_chf"],
                    y=best[y],
                    mode="markers",
                    name="best option",
                    marker={"size": 18, "symbol": "star", "color": "#e45756"},
                    text=best["config"],
                    hovertemplate="best: %{text}<br>CHF %{x:,.0f}<br>%{y:.1f} tok/s<extra></extra>",
                )
            )
    if floor_tok_s:
        fig.add_hline(
            y=floor_tok_s,
            line_dash="dot",
            line_color="#e45756",
            annotation_text=f"floor {floor_tok_s:g} tok/s",
            annotation_position="bottom right",
        )
    fig.update_xaxes(tickprefix="CHF ", tickformat=",.0f", rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, x_title="Price (CHF)", y_title=y_label)


def memory_bars(df: pd.DataFrame, parts: Sequence[tuple[str, str]]) -> go.Figure:
    """Stacked bar per configuration: weights / KV / overhead / free memory per unit (GiB),
    with each configuration's usable memory as a marker."""
    fig = go.Figure()
    labels = [
        f"{c} ({INCOMPLETE_NOTE})" if bad else str(c)
        for c, bad in zip(df["config"], _incomplete(df), strict=True)
    ]
    for col, name in parts:
        fig.add_trace(
            go.Bar(
                x=labels,
                y=df[col],
                name=name,
                marker_color=MEMORY_COLORS.get(name),
                hovertemplate="%{x}<br>" + name + ": %{y:.1f} GiB<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=df["usable_gib_per_unit"],
            mode="markers",
            name="usable per unit",
            marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": "#222"}},
            hovertemplate="%{x}<br>usable: %{y:.1f} GiB<extra></extra>",
        )
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickangle=-30)
    return _layout(fig, x_title="Configuration", y_title="Memory per unit (GiB)")


def ideal_scaling(units: Sequence[int], values: Sequence[float]) -> list[float]:
    """Linear scaling from the smallest unit count with a value (the smallest size that
    fits): v0 * n / n0 for n >= n0, NaN (no line) below it."""
    pairs = [
        (u, v)
        for u, v in zip(units, values, strict=True)
        if v is not None and not math.isnan(v) and v > 0
    ]
    if not pairs:
        return [math.nan] * len(units)
    n0, v0 = min(pairs)
    return [v0 * n / n0 if n >= n0 else math.nan for n in units]


def scaling(df: pd.DataFrame, *, y: str, y_label: str) -> go.Figure:
    """Decode tok/s vs unit count per platform, against the ideal (linear) scaling line
    of the first platform in ``df``."""
    fig = go.Figure()
    platforms = list(dict.fromkeys(df["platform"]))
    for i, pid in enumerate(platforms):
        part = df[df["platform"] == pid].sort_values("units")
        fig.add_trace(
            go.Scatter(
                x=part["units"],
                y=part[y],
                mode="lines+markers",
                name=pid,
                text=part["parallel"].fillna("–"),
                customdata=_missing_text(part),
                marker={
                    "symbol": ["circle-open" if b else "circle" for b in _incomplete(part)],
                    "size": 9,
                },
                hovertemplate="%{x} units (%{text})<br>%{y:.1f} tok/s%{customdata}<extra></extra>",
                line={"width": 3 if i == 0 else 1.5},
            )
        )
        if i == 0:
            ideal = ideal_scaling(list(part["units"]), list(part[y]))
            fig.add_trace(
                go.Scatter(
                    x=part["units"],
                    y=ideal,
                    mode="lines",
                    name=f"ideal scaling ({pid})",
                    line={"dash": "dash", "color": "#888"},
                    hovertemplate="%{x} units<br>ideal %{y:.1f} tok/s<extra></extra>",
                )
            )
    fig.update_xaxes(dtick=1, rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, x_title="Units", y_title=y_label)


_ctx_text = fmt.context_text  # the Fit table's cell text too


HEATMAP_TEXT_PX = 12  # cell labels: readable, or none at all
HEATMAP_DENSE_TEXT_PX = 11  # above HEATMAP_COMPACT_COLUMNS: compact labels ("128", not "128k")
HEATMAP_COMPACT_COLUMNS = 20
HEATMAP_MAX_TEXT_COLUMNS = 32  # more columns than this: cells too narrow, hover only
NO_FIT_COLOR = "#f4a6a6"  # light red: the weights do not fit
UNSUPPORTED_COLOR = "#c8c8c8"  # grey: the combination is not supported
FIT_STATES: tuple[str, ...] = (
    "fits (colour = max context)",
    "✗ weights do not fit",
    "n/a not supported (engine / quantization / layout)",
    "* below the minimum context",
)


def fit_heatmap(grid: pd.DataFrame, min_context_tokens: int) -> go.Figure:
    """Models (rows) x quantization/units (columns); colour = max context (log2 tokens),
    text = max context ('✗' = weights do not fit, 'n/a' = combination not valid).

    Three cell states, each with its own colour and legend entry (`FIT_STATES`): fits
    (Viridis by max context), does not fit (light red), not supported (grey). Columns are
    grouped by quantization (the quantization is named once over its group, the units
    over every column, horizontally). Labels at 12 px up to 20 columns, compact ("128")
    at 11 px up to 32 columns (readable at 30), none (hover only) beyond."""
    data = grid.copy()
    data["column"] = data["quant"] + " · " + data["units"].astype(str) + "u"
    columns = list(dict.fromkeys(data["column"]))
    rows = list(dict.fromkeys(data["model"]))
    pivot = data.pivot(index="model", columns="column", values="max_context_tokens")
    pivot = pivot.reindex(index=rows, columns=columns)
    z = pivot.map(lambda t: math.log2(t) if t and t > 0 and not math.isnan(t) else math.nan)
    compact = len(columns) > HEATMAP_COMPACT_COLUMNS
    text = pivot.map(lambda t: _ctx_text(t, compact=compact))
    below = pivot.map(lambda t: bool(t == t and 0 < t < min_context_tokens))
    text = text.where(~below, text + "*")
    dense = len(columns) > HEATMAP_MAX_TEXT_COLUMNS
    size = HEATMAP_DENSE_TEXT_PX if compact else HEATMAP_TEXT_PX
    hover = "%{y}<br>%{x}<br>max context %{text} (%{customdata:,.0f} tokens)<extra></extra>"
    fig = go.Figure(
        go.Heatmap(
            z=z.values,
            x=columns,
            y=rows,
            text=text.values,
            name=FIT_STATES[0],
            texttemplate="" if dense else "%{text}",
            textfont={"size": size},
            customdata=pivot.values,
            colorscale="Viridis",
            zmin=10,
            zmax=20,
            xgap=1,
            ygap=1,
            hovertemplate=hover,
            colorbar={
                "title": {
                    "text": "max context<br>(k tokens)" if compact else "max context<br>(tokens)"
                },
                "thickness": 12,
                "tickvals": [10, 12, 14, 16, 18, 20],
                "ticktext": ["1k", "4k", "16k", "64k", "256k", "1M"],
                "orientation": "h",
                "x": 1,
                "xanchor": "right",
                "yanchor": "top",
                "len": 0.45,
            },
        )
    )
    for mask, color, name, hover_text in (
        (
            pivot.map(lambda t: bool(t == t and t <= 0)),
            NO_FIT_COLOR,
            FIT_STATES[1],
            "the weights do not fit",
        ),
        (pivot.isna(), UNSUPPORTED_COLOR, FIT_STATES[2], "not supported"),
    ):
        cells = mask.map(lambda b: 1.0 if b else math.nan)
        fig.add_trace(
            go.Heatmap(
                z=cells.values,
                x=columns,
                y=rows,
                text=text.values,
                name=name,
                texttemplate="" if dense else "%{text}",
                textfont={"size": size, "color": "#222"},
                colorscale=[[0, color], [1, color]],
                showscale=False,
                xgap=1,
                ygap=1,
                hovertemplate="%{y}<br>%{x}<br>" + hover_text + "<extra></extra>",
            )
        )
    for name, color in zip(
        FIT_STATES, ("#21918c", NO_FIT_COLOR, UNSUPPORTED_COLOR, None), strict=True
    ):  # legend entries (heatmaps have none)
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                hoverinfo="skip",
                marker={
                    "symbol": "square" if color else "asterisk-open",
                    "size": 12,
                    "color": color or "#222",
                },
            )
        )
    quants = [c.split(" · ")[0] for c in columns]
    ticktext = [
        (f"<b>{q}</b><br>" if i == 0 or quants[i - 1] != q else "<br>") + c.split(" · ")[1]
        for i, (q, c) in enumerate(zip(quants, columns, strict=True))
    ]
    fig.update_xaxes(
        side="top",
        tickangle=0,
        tickmode="array",
        tickvals=columns,
        ticktext=ticktext,
        tickfont={"size": 11},
    )
    for i in range(1, len(columns)):  # a line between quantization groups
        if quants[i] != quants[i - 1]:
            fig.add_vline(x=i - 0.5, line_width=2, line_color="#fff")
    short = [r.split("/", 1)[-1] for r in rows]  # "gpt-oss-120b": the cells get the width
    if len(set(short)) < len(short):
        short = rows
    fig.update_yaxes(autorange="reversed", tickmode="array", tickvals=rows, ticktext=short)
    height = max(HEIGHT_PX, 26 * len(rows) + 260)
    fig = _layout(fig, x_title="", y_title="", height=height)
    # below the cells: the legend (two rows, ~50 px), then the colour bar with its title
    fig.update_traces(
        selector={"type": "heatmap", "showscale": None}, colorbar_y=-75 / (height - 70 - 130)
    )
    fig.update_layout(
        margin={"l": 20, "r": 20, "t": 70, "b": 130},
        plot_bgcolor="#fff",
        legend={"orientation": "h", "yanchor": "top", "y": 0, "x": 0, "xanchor": "left"},
    )
    return fig


def calibration_scatter(rows: pd.DataFrame, *, kind: str = "decode") -> go.Figure:
    """Predicted vs measured tok/s per benchmark row (log axes) with the y = x line and
    a ±25 % band. ``rows`` needs measured_*, predicted_*, family, label columns."""
    m, p = f"measured_{kind}", f"predicted_{kind}"
    data = rows.dropna(subset=[m, p])
    fig = go.Figure()
    for family, part in data.groupby("family", sort=True):
        fig.add_trace(
            go.Scatter(
                x=part[m],
                y=part[p],
                mode="markers",
                name=str(family),
                text=part["label"],
                marker={"size": 9, "opacity": 0.85, "color": FAMILY_COLORS.get(str(family))},
                hovertemplate="%{text}<br>measured %{x:.1f}<br>predicted %{y:.1f}<extra></extra>",
            )
        )
    if len(data):
        lo = max(0.5, float(min(data[m].min(), data[p].min())) * 0.8)
        hi = float(max(data[m].max(), data[p].max())) * 1.25
        xs = [lo, hi]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=xs,
                mode="lines",
                name="predicted = measured",
                line={"color": "#444"},
                hoverinfo="skip",
            )
        )
        for factor, name in ((1.25, "+25 %"), (0.75, "−25 %")):
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[v * factor for v in xs],
                    mode="lines",
                    name=name,
                    line={"dash": "dot", "color": "#aaa"},
                    hoverinfo="skip",
                )
            )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    unit = "tok/s"
    return _layout(fig, x_title=f"Measured {kind} ({unit})", y_title=f"Predicted {kind} ({unit})")


def price_history(
    points: pd.DataFrame, *, list_price_chf: float | None = None, title: str = ""
) -> go.Figure:
    """Price over time: scraped (ok / suspect) and manual points, the catalog list price as
    a reference line. ``points`` columns: when (datetime), chf, kind, detail."""
    fig = go.Figure()
    symbols = {"scraped": "circle", "manual": "diamond", "suspect": "x"}
    for kind, part in points.groupby("kind", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["when"],
                y=part["chf"],
                mode="lines+markers" if kind == "scraped" else "markers",
                name=str(kind),
                text=part["detail"],
                marker={"symbol": symbols.get(str(kind), "circle"), "size": 9},
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>CHF %{y:,.2f}<br>%{text}<extra></extra>",
            )
        )
    if list_price_chf is not None:
        fig.add_hline(
            y=list_price_chf,
            line_dash="dash",
            line_color="#888",
            annotation_text="catalog list price",
            annotation_position="top left",
        )
    fig.update_yaxes(tickprefix="CHF ", tickformat=",.0f")
    return _layout(fig, x_title="Date (UTC)", y_title="Price (CHF)", title=title)


__all__ = [
    "FIT_STATES",
    "HEATMAP_MAX_TEXT_COLUMNS",
    "SEPARATORS",
    "calibration_scatter",
    "fit_heatmap",
    "ideal_scaling",
    "memory_bars",
    "pareto_front",
    "price_history",
    "price_vs_speed",
    "priced_fitting",
    "scaling",
]


def cost_over_time(
    cumulative: pd.DataFrame, *, break_even_months: float | None = None
) -> go.Figure:
    """Cumulative cost (CHF) by month, one line per series (local hardware + energy, each
    cloud API): the rows of ``sizing.economics.cumulative_table``. A dotted vertical line
    marks the first break-even when it falls within the months shown."""
    fig = go.Figure()
    for series, rows in cumulative.groupby("series", sort=False):
        local = str(series).startswith("local")
        fig.add_trace(
            go.Scatter(
                x=rows["month"],
                y=rows["cumulative_chf"],
                mode="lines",
                name=str(series),
                line={"width": 3 if local else 2, "dash": "solid" if local else "dash"},
                hovertemplate="month %{x}: CHF %{y:,.0f}<extra>%{fullData.name}</extra>",
            )
        )
    if (
        break_even_months is not None
        and len(cumulative)
        and break_even_months <= float(cumulative["month"].max())
    ):
        fig.add_vline(
            x=break_even_months,
            line_dash="dot",
            line_color="#555",
            annotation_text=f"break-even ≈ {break_even_months:.0f} months",
        )
    return _layout(fig, x_title="Months from purchase", y_title="Cumulative cost (CHF)")
