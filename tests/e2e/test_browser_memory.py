"""End to end: the Mac GPU memory setting in the real app (``streamlit run app.py``) in
headless Chromium. DeepSeek-V3 at Q4_K_M (~382 GiB of weights) does not fit a 512 GB
M3 Ultra at macOS's default GPU limit (384 GiB x 0.95) and fits with the raised one (496
GiB x 0.95): choosing "Raised GPU limit" in Compare's sidebar turns "nothing runs" into a
best option, writes ``mem=`` into the link and names the setting in the CSV export."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import (  # noqa: F401  (fixtures: browser, page)
    browser,
    download,
    no_exceptions,
    open_app,
    page,
    pytestmark,
    run_app_server,
    select,
    settle,
    wait_rows,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

MAC512 = "mac-studio-m3-ultra-512gb"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("e2e-memory")
    with run_app_server(tmp) as url:
        yield url


def test_raised_mac_gpu_limit_makes_deepseek_fit(server: str, page: Page) -> None:  # noqa: F811
    # 4k context: at 8k the prefill (MLA attention at llama.cpp's fitted attention rate)
    # takes ~72 s, past the default 60 s TTFT ceiling, and no "Best option" is named
    open_app(
        page,
        f"{server}/?platform={MAC512}&model=deepseek-ai%2FDeepSeek-V3"
        "&weights=q4_k_m&ctx=4096&units=1&alt=0&engine=llamacpp",
    )
    no_exceptions(page)
    wait_rows(page, [f"1 x {MAC512}"])
    main = page.locator('[data-testid="stMain"]')
    assert "Nothing in this comparison runs" in main.inner_text()
    select(page, "Memory setting", "Raised", "Raised GPU limit (496 GiB")
    page.get_by_text(f"Best option: 1 x {MAC512}").wait_for()
    settle(page)
    no_exceptions(page)
    assert "mem=wired-limit-raised" in page.url
    assert "iogpu.wired_limit_mb=507904" in page.locator('[data-testid="stSidebar"]').inner_text()
    rows = list(csv.DictReader(io.StringIO(download(page, "Download CSV").decode("utf-8"))))
    assert [r["Memory setting"] for r in rows] == [
        "Raised GPU limit (496 GiB, 16 GiB left to macOS)"
    ]
    assert rows[0]["Fits"] == "True"
