"""AppTest: the Cost page renders the figures of `sizing cost` / `sizing agent`, reacts to
its inputs, and shows messages (never a traceback) for input it cannot use."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli.sizing_main import main
from ui import charts, export


def metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def chf_value(text: str) -> float:
    return float(text.removeprefix("CHF ").replace("'", ""))


def frame(at, column: str):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with {column!r}")


@pytest.fixture
def cost_page(app):
    at = app(
        query={
            "platform": "asus-gx10-1tb",
            "n": "1",
            "model": "openai/gpt-oss-120b",
            "weights": "mxfp4",
            "streams": "4",
            "hours": "8",
        }
    )
    at.switch_page("ui/pages/cost.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_shows_what_the_cli_computes(cost_page, capsys):
    at = cost_page
    assert not at.error, [e.value for e in at.error]
    assert (
        main(
            [
                "cost",
                "--platform",
                "asus-gx10-1tb",
                "--model",
                "openai/gpt-oss-120b",
                "--weights",
                "mxfp4",
                "--concurrency",
                "4",
                "--hours",
                "8",
                "--json",
            ]
        )
        == 0
    )
    cli = json.loads(capsys.readouterr().out)
    assert chf_value(metric(at, "Local CHF / Mtok output")) == pytest.approx(
        cli["chf_per_mtok_output"], abs=0.006
    )
    assert chf_value(metric(at, "Hardware")) == pytest.approx(cli["hardware_chf"], abs=0.5)
    cloud = frame(at, "Break-even (months)")
    assert list(cloud["Provider"]) == [r["provider"] for r in cli["cloud"]]
    assert at.info
    assert "break" in at.info[0].value
    # the agent session and the SSD table are there
    assert "s" in metric(at, "Last turn, prefix caching")
    ssd = frame(at, "Checkpoints that fit")
    assert set(ssd["Platform"]) >= {
        "asus-gx10-1tb",
        "asus-gx10-2tb",
        "asus-gx10-4tb",
        "dgx-spark-fe-4tb",
    }
    assert ssd.set_index("Platform").loc["asus-gx10-4tb", "Usable (GB)"] == 3900


def test_more_hours_lower_the_cost_per_token(cost_page):
    at = cost_page
    before = chf_value(metric(at, "Local CHF / Mtok output"))
    at.number_input(key="w_hours").set_value(20).run()
    after = chf_value(metric(at, "Local CHF / Mtok output"))
    assert not at.exception
    assert after < before


def test_a_checkpoint_without_quant_is_a_message(cost_page):
    at = cost_page
    at.text_input(key="cost_library").set_value("openai/gpt-oss-120b").run()
    assert not at.exception
    assert any("checkpoints must be MODEL" in e.value for e in at.error)


def test_an_unknown_checkpoint_is_a_message(cost_page):
    at = cost_page
    at.text_input(key="cost_library").set_value("nobody/none:mxfp4").run()
    assert not at.exception
    assert any("unknown model" in e.value for e in at.error)


def test_export_frames_are_formula_safe():
    report = {
        "units": 1,
        "platform": "p",
        "parallel": "tp",
        "model": "m",
        "weights": "q",
        "engine": "e",
        "context": 1,
        "concurrency": 1,
        "hours_per_day": 8,
        "input_share": 0.5,
        "life_years": 3,
        "rappen_per_kwh": 27.7,
        "chf_per_usd": 0.8,
        "hardware_chf": 100.0,
        "price_complete": True,
        "unpriced_items": [],
        "output_tokens_per_day": 1.0,
        "input_tokens_per_day": 1.0,
        "energy_chf_per_month": 1.0,
        "depreciation_chf_per_month": 1.0,
        "chf_per_mtok_output": 1.0,
        "chf_per_mtok_input": 1.0,
        "chf_per_mtok_output_all_in": 2.0,
        "cloud": [
            {
                "provider": '=HYPERLINK("x")',
                "model": "m",
                "input_usd_per_mtok": 1,
                "output_usd_per_mtok": 1,
                "cloud_chf_per_mtok_input": 0.8,
                "cloud_chf_per_mtok_output": 0.8,
                "cloud_chf_per_month": 5,
                "break_even_months": None,
                "pays_back_within_life": False,
                "price_date": "2026-12-01",
                "page_date": None,
                "url": "https://a",
                "source": "https://a",
                "note": "@SUM(1) [click](https://evil.example)",
            }
        ],
        "assumptions": ["a"],
    }
    frames = export.cost_frames(report)
    text = export.csv_bytes(frames["Cloud"]).decode()
    assert "'=HYPERLINK" in text
    assert "'@SUM" in text
    md = export.cost_markdown(report, frames)
    assert "[click](https://evil.example)" not in md  # Markdown: escaped, not a link


def test_chart_marks_a_break_even_only_within_the_months_shown():
    rows = pd.DataFrame(
        {
            "month": [0, 1, 2, 0, 1, 2],
            "series": ["local (hardware + energy)"] * 3 + ["cloud: X"] * 3,
            "cumulative_chf": [100.0, 110, 120, 0, 60, 120],
        }
    )
    fig = charts.cost_over_time(rows, break_even_months=2.0)
    assert len(fig.data) == 2
    assert len(fig.layout.shapes) == 1
    assert list(fig.data[0].y) == [100.0, 110, 120]
    assert len(charts.cost_over_time(rows, break_even_months=800.0).layout.shapes) == 0
