"""First full render of each main page in headless Chromium, on a warm server (issue 14:
Compare ≤ 2 s; Build, Plan, Fit ≤ 1 s).

Usage: ``python bench/bench_browser.py [--runs 5] [--pages compare,build,plan,fit]
[--reruns 10] [--tab reuse,new] [--floor] [--a11y]``

Starts ``streamlit run app.py`` on a free local port (a price database in a temporary
directory, ``LLM_PLANNER_PRICES_DB``, so nothing touches the user's data or the network),
warms it by opening every page once, then opens each page ``--runs`` times as a returning
visitor does (the server's caches and the browser's cache of the app's scripts are warm;
every opening is a new Streamlit session, so the page script runs from the top), in one
or both of two ways (``--tab``):

* ``reuse`` — in the tab the visitor has open: the tab goes to ``about:blank``, then to the
  page (the tab itself was opened and used once before the timing);
* ``new`` — in a new tab. On this machine's headless Chromium (Debian's 156) every new tab
  also starts the browser's own omnibox WebUI (``chrome://omnibox-popup.top-chrome``, a
  second renderer process seen in a DevTools trace) that takes ~1.8 s of CPU while the page
  loads: on 2 cores this adds ~0.7 s to the minimal page (1.1 s instead of 0.33 s) and
  ~1 s to Compare. That cost is the browser's, not the app's; both are printed.

Timed from ``page.goto`` until the page is fully rendered: its title is there, the app is
not running (no status widget), no skeleton is left, every table and chart in the window
(at least 100 px above the fold, not in a closed expander) has drawn its canvas or SVG —
and that state holds for ``QUIET_MS`` (the quiet period is not counted). Each
``st.dataframe`` (glide-data-grid) adds a hidden accessibility mirror of its visible cells
(a ``<table>`` for screen readers) ~0.3 s after drawing, after an idle wait: it changes
nothing on screen and is not counted, unless ``--a11y`` is given (then the page is done
when the mirror is there too).

``--reruns N`` (default 10, 0 = off) then times a widget rerun on Compare in the browser
(issue 14: median ≤ 150 ms): "Concurrent streams" alternates between 1 and 2 (both cached
after the first two changes), timed from the Enter key until the headline's total tok/s
shows the new figure.

``--floor`` also serves a minimal Streamlit page (``st.title`` + ``st.write``, see
`FLOOR_APP`) and opens it once after every timed render, the same way: its median is
printed next to each page's, so a figure can be read against what Streamlit itself needs
on this machine under the same load (on 2 idle cores ≈0.35 s in a reused tab, ≈1.1 s in a
new one: starting the frontend, the WebSocket, one script run; a target below it cannot be
met by the app).

The machine's load average is printed before and after: on a shared machine the figures
move with it.

Debian's ``/usr/bin/chromium`` through Playwright's ``executable_path``; never a browser
download (no ``playwright install``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import BrowserContext, Page, sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the same server start as the end-to-end tests (tests/e2e/test_browser.py)
from tests.e2e.test_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    run_app_server,
    streamlit_server,
)

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 1800}
PAGES = {"compare": "/", "build": "/build", "plan": "/plan", "fit": "/fit"}
TARGET_S = {"compare": 2.0, "build": 1.0, "plan": 1.0, "fit": 1.0}
TABS = ("reuse", "new")
QUIET_MS = 700
POLL_MS = 25
FLOOR_APP = '''"""Streamlit's floor: the least a page can cost (bench/bench_browser.py --floor)."""
import streamlit as st

st.title("Floor")
st.write("A minimal page: one title, one line of text.")
'''

# true when the page is fully drawn; the element count tells a later rerun apart. Not
# counted unless `a11y`: the accessibility mirror glide-data-grid (st.dataframe) adds inside
# each table ~0.3 s after drawing its canvas (a hidden <table> of the visible cells; the
# main thread is idle in between, a debounce: seen in a DevTools trace).
READY_JS = """(a11y) => {
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
  let mirror = 0;
  for (const t of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    const grid = t.querySelector('[data-testid="stDataFrameResizable"]') || t;  // not the
    if (shown(grid) && !t.querySelector('canvas')) return null;                 // toolbar
    if (!a11y) for (const m of t.querySelectorAll('table'))
      mirror += 1 + m.getElementsByTagName('*').length;
  }
  for (const c of main.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (shown(c) && !c.querySelector('.main-svg')) return null;
  return main.getElementsByTagName('*').length - mirror;
}"""


def render_s(page: Page, url: str, timeout_s: float = 60.0, *, a11y: bool = False) -> float:
    """Seconds from navigation to a full render that then stays unchanged for QUIET_MS
    (``a11y``: also the tables' accessibility mirror, see `READY_JS`)."""
    start = time.perf_counter()
    page.goto(url)
    ready_at, count = None, None
    while time.perf_counter() - start < timeout_s:
        now_count = page.evaluate(READY_JS, a11y)
        now = time.perf_counter()
        if now_count is None or now_count != count:
            ready_at = now if now_count is not None else None
            count = now_count
        elif ready_at is not None and (now - ready_at) * 1000 >= QUIET_MS:
            return ready_at - start
        page.wait_for_timeout(POLL_MS)
    raise TimeoutError(f"{url} did not finish rendering in {timeout_s:g} s")


def visit_s(context: BrowserContext, tab: Page, url: str, how: str, *, a11y: bool = False) -> float:
    """`render_s` of ``url`` opened as a returning visitor does: in the open ``tab`` (``how``
    = "reuse"; it goes to ``about:blank`` first, so the page starts a new Streamlit session)
    or in a new tab of ``context`` ("new"; closed after)."""
    if how == "reuse":
        tab.goto("about:blank")
        return render_s(tab, url, a11y=a11y)
    page = context.new_page()
    try:
        return render_s(page, url, a11y=a11y)
    finally:
        page.close()


@contextlib.contextmanager
def floor_server() -> Iterator[str]:
    """``streamlit run`` of `FLOOR_APP` (written to a temporary directory) on a free local
    port, started as the app's server is (`streamlit_server`); yields the base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    (tmp / "floor.py").write_text(FLOOR_APP)
    with streamlit_server(tmp / "floor.py", tmp) as url:
        yield url


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
        "--tab",
        default=",".join(TABS),
        help="how each page is opened: reuse (the open tab), new (a new tab), or both",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a minimal Streamlit page after every render (Streamlit's floor)",
    )
    parser.add_argument(
        "--a11y",
        action="store_true",
        help="wait for the tables' accessibility mirror too (drawn ~0.3 s after the table)",
    )
    args = parser.parse_args()
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    tabs = [t.strip() for t in args.tab.split(",") if t.strip() in TABS]
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(run_app_server(tmp))
        floor = stack.enter_context(floor_server()) if args.floor else None
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        print(
            f"first full render in headless Chromium, warm server, a new Streamlit session "
            f"per run ({args.runs} runs; python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs; load average {_load()})"
        )
        context = browser.new_context(viewport=VIEWPORT)  # one browser profile: its
        tab = context.new_page()  # HTTP and code caches hold the app's scripts after
        warm = [base + PAGES[name] for name in pages]  # this warm-up, as for a returning
        for url in [*warm, *([floor + "/"] if floor else [])]:  # visitor; the reused tab
            visit_s(context, tab, url, "reuse")  # has started
            visit_s(context, tab, url, "new")
        for name in pages:
            for how in tabs:
                times, floors = [], []
                for _ in range(args.runs):
                    times.append(visit_s(context, tab, base + PAGES[name], how, a11y=args.a11y))
                    if floor:  # right after, under the same load
                        floors.append(visit_s(context, tab, floor + "/", how))
                median = statistics.median(times)
                verdict = "meets" if median <= TARGET_S[name] else "misses"
                floor_text = f"  floor median {statistics.median(floors):5.2f} s" if floors else ""
                print(
                    f"{name:<8} {how + ' tab':<9} median {median:5.2f} s  min {min(times):5.2f} s"
                    f"  max {max(times):5.2f} s{floor_text}  ({verdict} the "
                    f"{TARGET_S[name]:g} s target; load {os.getloadavg()[0]:.1f})"
                )
        if args.reruns:
            visit_s(context, tab, base + PAGES["compare"], "reuse")
            times = rerun_s(tab, args.reruns)
            median = statistics.median(times)
            print(
                f"compare widget rerun (streams 1 <-> 2, cached) median "
                f"{median * 1000:4.0f} ms  min {min(times) * 1000:4.0f} ms  max "
                f"{max(times) * 1000:4.0f} ms  ({'meets' if median <= 0.15 else 'misses'} "
                f"the 150 ms target)"
            )
        print(f"load average after: {_load()}")
        context.close()
        browser.close()


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
