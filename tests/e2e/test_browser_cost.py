"""End to end: the Cost page of the real app (``streamlit run app.py``) in headless
Chromium: cost per million tokens, the break-even chart, the agent session, the SSD table
and the CSV / Excel / Markdown downloads."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import (  # noqa: F401  (fixtures: browser, page)
    ROOT,
    browser,
    download,
    no_exceptions,
    open_app,
    page,
    pytestmark,
    run_app_server,
    settle,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("e2e-cost")
    with run_app_server(tmp) as url:
        yield url


def test_cost_page_in_a_browser(served: str, page: Page) -> None:  # noqa: F811
    open_app(
        page,
        f"{served}/cost?platform=asus-gx10-1tb&n=1&model=openai%2Fgpt-oss-120b"
        "&weights=mxfp4&streams=4&hours=8",
    )
    no_exceptions(page)
    page.wait_for_selector(".js-plotly-plot")  # the cumulative cost chart
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    text = " ".join(metrics)
    assert "Local CHF / Mtok output" in text
    assert "Last turn, prefix caching" in text
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "sizing",
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
        ],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
    )
    d = json.loads(cli.stdout)
    shown = f"CHF {d['chf_per_mtok_output']:.2f}"
    assert shown in text, (shown, metrics)

    rows = list(csv.DictReader(io.StringIO(download(page, "Download CSV").decode("utf-8"))))
    quantities = {r["Quantity"]: r["Value"] for r in rows}
    assert float(quantities["Hardware (CHF)"]) == pytest.approx(d["hardware_chf"])
    assert float(quantities["Local CHF per Mtok output"]) == pytest.approx(
        d["chf_per_mtok_output"], abs=1e-3
    )
    assert download(page, "Download Excel")[:2] == b"PK"
    md = download(page, "Download Markdown").decode("utf-8")
    assert md.startswith("# Cost per million tokens")
    assert "## Cloud" in md
    assert "## SSD" in md
    settle(page)
    no_exceptions(page)
