"""End to end: the real app (``streamlit run app.py``) driven in headless Chromium.

Debian's ``/usr/bin/chromium`` through Playwright's ``executable_path`` — never a browser
download. The server gets a price database in a temp dir (``LLM_PLANNER_PRICES_DB``) and a
private HTTP cache, so nothing touches the user's data; no test clicks Refresh, so nothing
goes to the network. Screenshots of each main page go to a temp dir, or to the directory
named by ``LLM_PLANNER_SCREENSHOTS`` (``LLM_PLANNER_SCREENSHOTS=docs/screenshots`` refreshes
the README's pictures), so a plain test run never dirties the working tree.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlparse

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 1800}
TIMEOUT_MS = 60_000

# CI sets LLM_PLANNER_REQUIRE_E2E=1: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("LLM_PLANNER_REQUIRE_E2E") == "1"
MISSING = (
    "end-to-end tests need Debian's chromium at /usr/bin/chromium (apt-get install "
    "chromium) and the playwright package; no browser is ever downloaded"
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED, reason=MISSING),
]
try:
    from playwright import sync_api as playwright_api
except ImportError:  # pragma: no cover - depends on the machine
    if REQUIRED:
        raise
    pytest.skip(MISSING, allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port; yields the base URL."""
    tmp = tmp_path_factory.mktemp("e2e")
    with run_app_server(tmp) as url:
        yield url
    assert not (tmp / "prices.sqlite").exists(), "loading pages created the price DB"


def streamlit_command(app: Path, port: int) -> list[str]:
    """``streamlit run app`` headless on 127.0.0.1:`port`: no usage statistics, no file
    watcher (the tests' and the benches' server)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]


@contextlib.contextmanager
def streamlit_server(app: Path, tmp: Path, *, cwd: Path | None = None) -> Iterator[str]:
    """``streamlit run app`` (`streamlit_command`) on a free local port with its price
    database and HTTP cache in `tmp` and its log in ``tmp / "server.log"``; waits until it
    answers its health check (at most 60 s, else fails with the log's end); yields the base
    URL; stops its process group on exit. The tests' and the benches' one server start."""
    port = _free_port()
    env = {
        **os.environ,
        "LLM_PLANNER_PRICES_DB": str(tmp / "prices.sqlite"),
        "LLM_PLANNER_CACHE_DIR": str(tmp / "http-cache"),
        "PYTHONUNBUFFERED": "1",
    }
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        streamlit_command(app, port),
        cwd=cwd or app.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"streamlit run {app.name} did not become healthy:\n"
                    + (tmp / "server.log").read_text()[-3000:]
                )
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # only the process group started above
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def run_app_server(tmp: Path) -> contextlib.AbstractContextManager[str]:
    """The real app (``streamlit run app.py``) on a free local port with its price database
    and HTTP cache in `tmp` (`streamlit_server`); yields the base URL."""
    return streamlit_server(ROOT / "app.py", tmp, cwd=ROOT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"LLM_PLANNER_REQUIRE_E2E=1 but {MISSING}")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    context.close()


# ----------------------------------------------------------------------------- helpers
def settle(pg: Page, *, quiet_ms: int = 600) -> None:
    """Wait until the app has finished running (no status widget for ``quiet_ms``)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        running = pg.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        pg.wait_for_timeout(100)
    raise AssertionError("the app kept running")


def open_app(pg: Page, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector('[data-testid="stMain"] h1')
    settle(pg)


def first_column(pg: Page, table_index: int = 0) -> list[str]:
    """First-column texts of a dataframe, read from glide's (hidden) accessibility table."""
    grid = pg.locator('[data-testid="stDataFrame"]').nth(table_index)
    grid.locator("table").wait_for(state="attached")
    return grid.locator("table").evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map("
        "r => r.querySelector('td[aria-colindex=\"1\"]')?.textContent ?? '')"
    )


def wait_rows(
    pg: Page, expected: list[str] | None = None, *, first: str | None = None
) -> list[str]:
    """Poll the first table until it shows ``expected`` rows (or starts with ``first``);
    a widget change reruns the app asynchronously."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    rows: list[str] = []
    while time.monotonic() < deadline:
        rows = first_column(pg)
        if (expected is None or rows == expected) and (first is None or rows[:1] == [first]):
            settle(pg)
            return first_column(pg)
        pg.wait_for_timeout(200)
    raise AssertionError(f"table rows {rows} never became {expected or first}")


def no_exceptions(pg: Page) -> None:
    exc = pg.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def select(pg: Page, label: str, typed: str, option_text: str) -> None:
    """Pick an option of a selectbox (a react-aria combobox) by typing and clicking."""
    box = pg.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(typed)
    pg.get_by_role("option").filter(has_text=option_text).first.click()


def add_to_multiselect(pg: Page, label: str, option_text: str) -> None:
    box = pg.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option_text)
    pg.get_by_role("option").filter(has_text=option_text).first.click()
    pg.keyboard.press("Escape")


def download(pg: Page, label: str) -> bytes:
    with pg.expect_download() as info:
        pg.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$LLM_PLANNER_SCREENSHOTS`` (relative to the repo) or a temp dir."""
    target = os.environ.get("LLM_PLANNER_SCREENSHOTS")
    path = ROOT / target if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(pg: Page, folder: Path, name: str) -> None:
    pg.wait_for_timeout(800)  # let the charts finish drawing
    pg.screenshot(path=str(folder / f"{name}.png"))


# ----------------------------------------------------------------------------- tests
def test_compare_drive_download_and_share(server: str, page: Page) -> None:
    open_app(page, f"{server}/?alt=0&units=1,2")
    no_exceptions(page)
    wait_rows(page, ["1 x asus-gx10-1tb", "2 x asus-gx10-1tb (tp)"])
    headline = page.locator('[data-testid="stMetric"]').first.inner_text()
    assert "CHF 2'477" in headline

    # change the unit counts: a 4-unit row appears
    add_to_multiselect(page, "Cluster sizes (units)", "4")
    wait_rows(page, ["1 x asus-gx10-1tb", "2 x asus-gx10-1tb (tp)", "4 x asus-gx10-1tb (tp)"])
    # change the model: a dense 70B in bf16 does not fit on one unit any more, so the
    # cheapest configuration that fits is two units
    select(page, "Model", "Llama-3.3", "Llama-3.3-70B")
    select(page, "Quantization (weights)", "bf16", "bf16 — checkpoint")
    rows = wait_rows(page, first="2 x asus-gx10-1tb (tp)")
    no_exceptions(page)
    assert rows[-1] == "1 x asus-gx10-1tb"
    assert len(rows) == 3
    assert "model=meta-llama%2FLlama-3.3-70B-Instruct" in page.url
    assert "units=1%2C2%2C4" in page.url

    # the CSV download parses and matches the table
    data = download(page, "Download CSV")
    rows_csv = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["Configuration"] for r in rows_csv] == rows
    assert {
        "Price (CHF)",
        "Decode per stream (tok/s)",
        "Max context (tokens)",
        "Fits",
        "Energy (CHF/year)",
        "CHF per tok/s (CHF/(tok/s))",
    } <= set(rows_csv[0])
    one = next(r for r in rows_csv if r["Configuration"] == "1 x asus-gx10-1tb")
    two = next(r for r in rows_csv if r["Configuration"] == "2 x asus-gx10-1tb (tp)")
    assert one["Fits"] == "False"
    assert two["Fits"] == "True"
    assert float(two["Price (CHF)"]) > 2 * 2477
    assert float(two["Decode per stream (tok/s)"]) > 0
    xlsx = download(page, "Download Excel")
    assert xlsx[:2] == b"PK"

    # the shared link restores the view in a fresh browser context
    shared = page.url
    other = page.context.browser.new_context(viewport=VIEWPORT)
    try:
        pg2 = other.new_page()
        pg2.set_default_timeout(TIMEOUT_MS)
        open_app(pg2, shared)
        no_exceptions(pg2)
        assert wait_rows(pg2, rows) == rows
        model = pg2.get_by_role("combobox", name="Model", exact=True).input_value()
        assert model == "Llama 3 · Llama-3.3-70B · 2024-12"  # family · name · release
    finally:
        other.close()


def overflowing_metrics(pg: Page) -> list[str]:
    """Headline metric values cut off by their column (``CHF 21'…``)."""
    return pg.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .filter(m => [m, ...m.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth))
        .map(m => m.innerText)""")


def test_big_cluster_headline_and_open_in_build(server: str, page: Page) -> None:
    """8 x GX10 for DeepSeek-V3 fp8: the five-digit price is shown whole, and Build
    predicts the same speed for the same workload (no sub-agents added)."""
    open_app(page, f"{server}/?model=deepseek-ai%2FDeepSeek-V3&weights=fp8&units=1,8&alt=1")
    no_exceptions(page)
    wait_rows(page, first="8 x asus-gx10-1tb (tp)")
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert metrics[0].startswith("CHF ")
    assert "…" not in metrics[0]
    assert overflowing_metrics(page) == []
    per_stream, _, band = metrics[1].partition(" (")  # "30.2 (20-45)": the likely range
    assert band.endswith(")")
    page.get_by_role("button", name="Open this configuration in Build").click()
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Build")')
    settle(page)
    no_exceptions(page)
    plan = page.get_by_text("Suggested plan").first.locator("xpath=..").inner_text()
    assert f"{per_stream} tok/s per stream" in plan
    assert "sub-agents" not in plan
    assert "sub_count=0" in page.url


def test_screenshots_of_every_main_page(server: str, page: Page, shots: Path) -> None:
    open_app(page, f"{server}/?units=1,2,3,4,8&alt=1")
    no_exceptions(page)
    assert page.locator(".js-plotly-plot").count() == 0  # charts are drawn on demand
    page.locator('[data-testid="stButtonGroup"] button').filter(has_text="Price vs speed").click()
    page.wait_for_selector(".js-plotly-plot")
    screenshot(page, shots, "compare")
    for name, query in [
        ("build", "?platform=asus-gx10-1tb&n=3&plan=2m%2B1s"),
        ("plan", "?req_min=30&budget=12000&req_sub_count=2"),
        ("fit", "?platform=asus-gx10-1tb&units=1,2,4"),
        ("prices", ""),
        ("assumptions", ""),
    ]:
        open_app(page, f"{server}/{name}{query}")
        no_exceptions(page)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().lower() == name
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        screenshot(page, shots, name)
    for name in ("compare", "build", "plan", "fit", "prices", "assumptions"):
        assert (shots / f"{name}.png").stat().st_size > 10_000


def test_uploaded_config_is_a_model_on_every_page(server: str, page: Page, tmp_path: Path) -> None:
    """A config.json uploaded on Compare keeps its name, is sized there, and is offered by
    Build's model picker in the same session (issue 10, item 9)."""
    config = ROOT / "data" / "hf_configs" / "meta-llama--Meta-Llama-3.1-8B_config.json"
    text = config.read_text().replace(
        '"architectures"', '"_name_or_path": "my-org/my-8b",\n  "architectures"', 1
    )
    upload = tmp_path / "config.json"
    upload.write_text(text)
    open_app(page, f"{server}/?units=1&alt=0&weights=bf16")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    page.get_by_text("Using the uploaded model my-8b").wait_for()
    settle(page)
    no_exceptions(page)
    assert wait_rows(page, first="1 x asus-gx10-1tb")[:1] == ["1 x asus-gx10-1tb"]
    page.get_by_role("link", name="Build").first.click()
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Build")')
    settle(page)
    no_exceptions(page)
    box = page.get_by_role("combobox", name="Main-agent model", exact=True)
    box.click()
    box.fill("my-8b")
    assert page.get_by_role("option").filter(has_text="Imported · my-8b").count() == 1


def test_crafted_link_shows_text_not_a_link_or_image(server: str, page: Page) -> None:
    """A shared link whose parameters hold Markdown (a link, an image, a bare address)
    shows them as text: no <a> to, and no <img> (or request) from, the sender's host
    (issue 13)."""

    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    query = urlencode(
        {
            "model": "[x](http://evil.example/a)",
            "weights": "![i](http://evil.example/i.png)",
            "plan": "see http://evil.example/b, www.evil.example or a@evil.example",
        }
    )
    open_app(page, f"{server}/?{query}")
    no_exceptions(page)
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="Link:")
    assert warning.count() >= 1
    # what a reader sees: the WORD JOINER that stops autolinking is invisible
    text = " ".join(warning.all_inner_texts()).replace("\u2060", "")
    assert "[x](http://evil.example/a)" in text  # the literal text is shown
    assert "![i](http://evil.example/i.png)" in text
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="evil.example"]').count() == 0
    assert not [u for u in requested if "evil.example" in (urlparse(u).hostname or "")]
