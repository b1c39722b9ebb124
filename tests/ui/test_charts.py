"""Plotly builders: pure functions of frames; units on every axis, Swiss separators."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui import charts, tables


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "config": ["1 x a", "2 x a (tp)", "4 x a (tp)", "1 x b", "1 x c", "1 x d"],
            "platform": ["a", "a", "a", "b", "c", "d"],
            "family": ["gb10", "gb10", "gb10", "mac", "rtx", "rtx"],
            "units": [1, 2, 4, 1, 1, 1],
            "parallel": ["tp", "tp", "tp", "tp", "tp", None],
            "fits": [True, True, True, True, False, True],
            "price_chf": [2477.0, 5027.0, 11102.0, 3622.0, 930.0, math.nan],
            "decode_tok_s_per_request": [44.0, 65.0, 101.0, 75.0, math.nan, 300.0],
        }
    )


def test_pareto_front_known_points():
    front = charts.pareto_front(frame(), "price_chf", "decode_tok_s_per_request")
    # 1 x b (3622, 75) dominates 2 x a (5027, 65); NaN price / speed rows are ignored
    assert list(front["config"]) == ["1 x a", "1 x b", "4 x a (tp)"]


points = st.lists(st.tuples(st.integers(1, 50), st.integers(1, 50)), min_size=1, max_size=25)


@given(points)
def test_pareto_front_properties(pts):
    df = pd.DataFrame(pts, columns=["x", "y"])
    front = charts.pareto_front(df, "x", "y")
    fx = list(zip(front["x"], front["y"], strict=True))
    for x, y in fx:  # nothing strictly dominates a frontier point
        assert not any(a <= x and b >= y and (a < x or b > y) for a, b in pts)
    for x, y in pts:  # every point is matched or dominated by the frontier
        assert any(a <= x and b >= y for a, b in fx)
    assert list(front["x"]) == sorted(front["x"])


def test_price_vs_speed():
    fig = charts.price_vs_speed(
        frame(),
        y="decode_tok_s_per_request",
        y_label="Decode per stream (tok/s)",
        best_config="1 x a",
    )
    names = [t.name for t in fig.data]
    assert "Pareto frontier" in names
    assert "best option" in names
    plotted = {
        c for t in fig.data if t.mode == "markers" and t.name != "best option" for c in t.text
    }
    assert "1 x c" not in plotted
    assert "1 x d" not in plotted  # does not fit / no price
    assert fig.layout.xaxis.title.text == "Price (CHF)"
    assert fig.layout.yaxis.title.text == "Decode per stream (tok/s)"
    assert fig.layout.separators == ".'"
    assert fig.layout.xaxis.tickprefix == "CHF "


def test_memory_bars_stack_to_the_totals():
    df = pd.DataFrame(
        {
            "config": ["1 x a", "2 x a (tp)"],
            "weights_gib_per_unit": [61.0, 31.0],
            "kv_required_gib_per_unit": [2.0, 1.0],
            "overhead_gib_per_unit": [2.5, 2.5],
            "free_gib_per_unit": [38.0, 69.0],
            "usable_gib_per_unit": [103.5, 103.5],
        }
    )
    fig = charts.memory_bars(df, tables.MEMORY_PARTS)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.name for b in bars] == [name for _, name in tables.MEMORY_PARTS]
    assert fig.layout.barmode == "stack"
    assert fig.layout.yaxis.title.text == "Memory per unit (GiB)"
    totals = [sum(b.y[i] for b in bars) for i in range(2)]
    assert totals == pytest.approx([103.5, 103.5])


def test_ideal_scaling_starts_at_the_smallest_fitting_size():
    assert charts.ideal_scaling([1, 2, 4], [40.0, 60.0, 90.0]) == [40.0, 80.0, 160.0]
    # only 2+ units fit: the ideal line starts there, nothing is drawn at 1 unit
    ideal = charts.ideal_scaling([1, 2, 4], [math.nan, 60.0, 90.0])
    assert math.isnan(ideal[0])
    assert ideal[1:] == [60.0, 120.0]
    ideal = charts.ideal_scaling([1, 2, 3, 4, 8], [math.nan] * 3 + [20.0, 30.0])
    assert all(math.isnan(v) for v in ideal[:3])
    assert ideal[3:] == [20.0, 40.0]
    assert all(math.isnan(v) for v in charts.ideal_scaling([1, 2], [math.nan, math.nan]))


def test_scaling_chart():
    fig = charts.scaling(
        frame()[frame()["platform"] == "a"],
        y="decode_tok_s_per_request",
        y_label="Decode per stream (tok/s)",
    )
    ideal = next(t for t in fig.data if t.name.startswith("ideal"))
    assert list(ideal.y) == [44.0, 88.0, 176.0]
    assert fig.layout.xaxis.title.text == "Units"


def test_fit_heatmap_marks_what_does_not_fit():
    grid = pd.DataFrame(
        {
            "model": ["m1", "m1", "m2", "m2"],
            "quant": ["bf16"] * 4,
            "units": [1, 2, 1, 2],
            "max_context_tokens": [0, 131072, 8192, math.nan],
        }
    )
    fig = charts.fit_heatmap(grid, min_context_tokens=32768)
    heat = fig.data[0]
    assert list(heat.x) == ["bf16 · 1u", "bf16 · 2u"]
    assert [list(r) for r in heat.text] == [["✗", "128k"], ["8k*", "n/a"]]
    assert heat.z[0][1] == pytest.approx(17.0)
    assert math.isnan(heat.z[0][0])


def test_fit_heatmap_legend_tells_no_fit_from_not_supported():
    """issue 15: white meant both "does not fit" and "not supported"."""
    grid = pd.DataFrame(
        {
            "model": ["m1", "m1", "m1"],
            "quant": ["bf16"] * 3,
            "units": [1, 2, 4],
            "max_context_tokens": [0, 131072, math.nan],
        }
    )
    fig = charts.fit_heatmap(grid, min_context_tokens=32768)
    no_fit = next(t for t in fig.data if t.name == charts.FIT_STATES[1])
    unsupported = next(t for t in fig.data if t.name == charts.FIT_STATES[2])
    assert [v == v for v in no_fit.z[0]] == [True, False, False]  # only the ✗ cell
    assert [v == v for v in unsupported.z[0]] == [False, False, True]  # only the n/a cell
    assert no_fit.colorscale[0][1] != unsupported.colorscale[0][1]
    legend = {t.name for t in fig.data if t.type == "scatter" and t.showlegend is not False}
    assert set(charts.FIT_STATES) <= legend


def test_price_vs_speed_marks_incomplete_prices():
    df = frame().assign(
        price_complete=[True, True, False, True, True, False],
        unpriced_parts=["", "", "Ethernet switch", "", "", "x"],
    )
    fig = charts.price_vs_speed(df, y="decode_tok_s_per_request", y_label="tok/s", floor_tok_s=10)
    gb10 = next(t for t in fig.data if t.name == "gb10")
    assert list(gb10.marker.symbol) == ["circle", "circle", "circle-open"]
    assert "Ethernet switch not priced" in gb10.customdata[2]
    assert gb10.customdata[0] == ""
    assert any(t.name == "open marker: price incomplete" for t in fig.data)
    assert any(s.y0 == 10 for s in fig.layout.shapes)  # the speed floor
    bars = charts.memory_bars(df.assign(usable_gib_per_unit=100.0, w=1.0), [("w", "W")])
    assert list(bars.data[0].x)[2] == "4 x a (tp) (price incomplete)"


def test_calibration_scatter_log_axes_with_identity_line():
    rows = pd.DataFrame(
        {
            "label": ["r1", "r2"],
            "family": ["gb10", "mac"],
            "measured_decode": [50.0, 20.0],
            "predicted_decode": [45.0, 24.0],
        }
    )
    fig = charts.calibration_scatter(rows, kind="decode")
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.yaxis.type == "log"
    assert any(t.name == "predicted = measured" for t in fig.data)
    assert fig.layout.xaxis.title.text == "Measured decode (tok/s)"


def test_price_history():
    pts = pd.DataFrame(
        {
            "when": pd.to_datetime(["2026-11-01", "2026-11-20"]),
            "chf": [2477.0, 2399.0],
            "kind": ["scraped", "manual"],
            "detail": ["", "quote"],
        }
    )
    fig = charts.price_history(pts, list_price_chf=2477.0, title="GX10")
    assert {t.name for t in fig.data} == {"scraped", "manual"}
    assert fig.layout.yaxis.title.text == "Price (CHF)"
    assert len(fig.layout.shapes) == 1  # the list-price line


def test_price_vs_speed_has_nothing_to_plot_when_nothing_fits():
    nothing = frame().assign(fits=False)
    assert charts.priced_fitting(nothing, "decode_tok_s_per_request").empty
    assert len(charts.priced_fitting(frame(), "decode_tok_s_per_request")) == 4


def test_fit_heatmap_labels_are_readable_or_absent():
    def grid(quants: int, units: int) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"model": m, "quant": f"q{q}", "units": u, "max_context_tokens": 65536.0}
                for m in ("m1", "m2")
                for q in range(quants)
                for u in range(1, units + 1)
            ]
        )

    small = charts.fit_heatmap(grid(6, 3), min_context_tokens=32768).data[0]
    assert small.texttemplate == "%{text}"
    assert small.textfont.size >= 11
    # issue 15: readable at 30 columns (6 quantizations x 5 unit counts): compact labels
    thirty = charts.fit_heatmap(grid(6, 5), min_context_tokens=32768)
    assert thirty.data[0].texttemplate == "%{text}"
    assert thirty.data[0].textfont.size >= 11
    assert {t for r in thirty.data[0].text for t in r} == {"64"}  # k tokens, colour bar
    assert "k tokens" in thirty.data[0].colorbar.title.text
    assert thirty.layout.xaxis.tickangle == 0  # horizontal column labels
    assert list(thirty.layout.xaxis.ticktext[:2]) == ["<b>q0</b><br>1u", "<br>2u"]
    dense = charts.fit_heatmap(grid(8, 5), min_context_tokens=32768).data[0]
    assert len(dense.x) > charts.HEATMAP_MAX_TEXT_COLUMNS
    assert dense.texttemplate == ""  # no 7 px labels; hover keeps the value
    assert "%{text}" in dense.hovertemplate
