"""First full render of each main page in headless Chromium, on a warm server (issue 14:
Compare ≤ 2 s; Build, Plan, Fit ≤ 1 s).

Usage: ``python bench/bench_browser.py [--runs 5] [--pages compare,build,plan,fit]
[--reruns 10] [--floor]``

Starts ``streamlit run app.py`` on a free local port (a price database in a temporary
directory, ``LLM_PLANNER_PRICES_DB``, so nothing touches the user's data or the network),
warms it by opening every page once, then opens each page ``--runs`` times, each time in a
new tab of the same browser profile (a new Streamlit session: the page script runs from
the top; the server's caches and the browser's cache of the app's scripts are warm, as
for a returning visitor). Timed from ``page.goto`` until the page is
fully rendered: its title is there, the app is not running (no status widget), no
skeleton is left, every table and chart in the window (at least 100 px above the fold,
not in a closed expander) has drawn its canvas or SVG — and that state holds for
``QUIET_MS`` (the quiet period is not counted).

``--reruns N`` (default 10, 0 = off) then times a widget rerun on Compare in the browser
(issue 14: median ≤ 150 ms): "Concurrent streams" alternates between 1 and 2 (both cached
after the first two changes), timed from the Enter key until the headline's total tok/s
shows the new figure.

``--floor`` also serves a minimal Streamlit page (``st.title`` + ``st.write``, see
`FLOOR_APP`) and opens it once after every timed render, the same way: its median is
printed next to each page's, so a figure can be read against what Streamlit itself needs
on this machine under the same load (≈1.1 s on 2 idle cores: loading and starting the
frontend, the WebSocket, one script run; a target below it cannot be met by the app).

The machine's load average is printed before and after: on a shared machine the figures
move with it.

Debian's ``/usr/bin/chromium`` through Playwright's ``executable_path``; never a browser
download (no ``playwright install``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Page, sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the same server start as the end-to-end tests (tests/e2e/test_browser.py)
from tests.e2e.test_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    _healthy,
    run_app_server,
    streamlit_command,
)

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 1800}
PAGES = {"compare": "/", "build": "/build", "plan": "/plan", "fit": "/fit"}
TARGET_S = {"compare": 2.0, "build": 1.0, "plan": 1.0, "fit": 1.0}
QUIET_MS = 700
POLL_MS = 25
FLOOR_APP = '''"""Streamlit's floor: the least a page can cost (bench/bench_browser.py --floor)."""
import streamlit as st

st.title("Floor")
st.write("A minimal page: one title, one line of text.")
'''

# true when the page is fully drawn; the element count tells a later rerun apart
READY_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.querySelector('h1')) return null;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return null;
  if (main.querySelector('[data-testid="stSkeleton"]')) return null;
  const shown = el => {    // in the window: not in a closed expander or tab, and at least
    const r = el.getBoundingClientRect();       // 100 px above the fold (tables further
    const details = el.closest('details');      // down are drawn when scrolled to)
    return el.getClientRects().length > 0 && !(details && !details.open)
      && (!el.checkVisibility || el.checkVisibility({visibilityProperty: true}))
      && Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0) >= 100;
  };
  for (const t of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    const grid = t.querySelector('[data-testid="stDataFrameResizable"]') || t;  // not the
    if (shown(grid) && !t.querySelector('canvas')) return null;                 // toolbar
  }
  for (const c of main.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (shown(c) && !c.querySelector('.main-svg')) return null;
  return main.getElementsByTagName('*').length;
}"""


def render_s(page: Page, url: str, timeout_s: float = 60.0) -> float:
    """Seconds from navigation to a full render that then stays unchanged for QUIET_MS."""
    start = time.perf_counter()
    page.goto(url)
    ready_at, count = None, None
    while time.perf_counter() - start < timeout_s:
        now_count = page.evaluate(READY_JS)
        now = time.perf_counter()
        if now_count is None or now_count != count:
            ready_at = now if now_count is not None else None
            count = now_count
        elif ready_at is not None and (now - ready_at) * 1000 >= QUIET_MS:
            return ready_at - start
        page.wait_for_timeout(POLL_MS)
    raise TimeoutError(f"{url} did not finish rendering in {timeout_s:g} s")


@contextlib.contextmanager
def floor_server() -> Iterator[str]:
    """``streamlit run`` of `FLOOR_APP` (written to a temporary directory) on a free local
    port, with the same server flags as the app's; yields the base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    (tmp / "floor.py").write_text(FLOOR_APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        streamlit_command(tmp / "floor.py", port),
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the floor page's streamlit server did not start")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # only the process group started here
        proc.wait(timeout=10)


def rerun_s(page: Page, runs: int, timeout_s: float = 30.0) -> list[float]:
    """Seconds from committing a new "Concurrent streams" value (Enter) until the headline's
    total decode figure changes, ``runs`` times (the first two changes warm the cache)."""
    box = page.get_by_label("Concurrent streams", exact=True)
    total = page.locator('[data-testid="stMetricValue"]').nth(2)
    times = []
    for i in range(runs + 2):
        before = total.inner_text()
        box.fill("2" if i % 2 == 0 else "1")
        start = time.perf_counter()
        box.press("Enter")
        while total.inner_text() == before:
            if time.perf_counter() - start > timeout_s:
                raise TimeoutError("the rerun did not change the headline")
            page.wait_for_timeout(5)
        if i >= 2:
            times.append(time.perf_counter() - start)
        page.wait_for_timeout(QUIET_MS)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--reruns", type=int, default=10)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a minimal Streamlit page after every render (Streamlit's floor)",
    )
    args = parser.parse_args()
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(run_app_server(tmp))
        floor = stack.enter_context(floor_server()) if args.floor else None
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        print(
            f"first full render in headless Chromium, warm server, new tab (session) per "
            f"run ({args.runs} runs; python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs; load average {_load()})"
        )
        context = browser.new_context(viewport=VIEWPORT)  # one browser profile: its
        warm = [base + PAGES[name] for name in pages]  # HTTP and code caches hold the
        for url in [*warm, *([floor + "/"] if floor else [])]:  # app's scripts after this
            page = context.new_page()  # warm-up, as for a returning visitor
            render_s(page, url, timeout_s=180)
            page.close()
        for name in pages:
            times, floors = [], []
            for _ in range(args.runs):
                page = context.new_page()  # a new tab: a new Streamlit session
                times.append(render_s(page, base + PAGES[name]))
                page.close()
                if floor:  # right after, under the same load
                    page = context.new_page()
                    floors.append(render_s(page, floor + "/"))
                    page.close()
            median = statistics.median(times)
            verdict = "meets" if median <= TARGET_S[name] else "misses"
            floor_text = f"  floor median {statistics.median(floors):5.2f} s" if floors else ""
            print(
                f"{name:<8} median {median:5.2f} s  min {min(times):5.2f} s  max "
                f"{max(times):5.2f} s{floor_text}  ({verdict} the {TARGET_S[name]:g} s target; "
                f"load {os.getloadavg()[0]:.1f})"
            )
        if args.reruns:
            page = context.new_page()
            render_s(page, base + PAGES["compare"])
            times = rerun_s(page, args.reruns)
            median = statistics.median(times)
            print(
                f"compare widget rerun (streams 1 <-> 2, cached) median "
                f"{median * 1000:4.0f} ms  min {min(times) * 1000:4.0f} ms  max "
                f"{max(times) * 1000:4.0f} ms  ({'meets' if median <= 0.15 else 'misses'} "
                f"the 150 ms target)"
            )
            page.close()
        print(f"load average after: {_load()}")
        context.close()
        browser.close()


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
