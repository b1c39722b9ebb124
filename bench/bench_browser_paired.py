"""The browser bench of `bench_browser.py`, paired: this tree and another checkout (e.g. the
commit before a change) served side by side and their renders alternated, so both see the
same load on a shared machine.

Usage: ``git archive <commit> | tar -x -C /tmp/base`` then
``python bench/bench_browser_paired.py --base /tmp/base [--runs 5] [--tab reuse] [--floor]
[--a11y]``

Per page (Compare, Build, Plan, Fit) the median first full render of each tree, then the
Compare widget rerun (`bench_browser.rerun_s`); the load average is printed with them.
``--tab reuse`` (default) opens every page in the one open tab, ``--tab new`` in a new tab
each time (`bench_browser.visit_s`; the new-tab figure includes the browser's own omnibox
WebUI start, see `bench_browser`).
``--floor``: also a minimal Streamlit page (`bench_browser.floor_server`) after every pair,
its median printed on each page's line.
Debian's ``/usr/bin/chromium`` through Playwright; never a browser download.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_browser import (  # noqa: E402
    CHROMIUM,
    PAGES,
    TABS,
    VIEWPORT,
    floor_server,
    render_s,
    rerun_s,
    visit_s,
)
from tests.e2e.test_browser import CHROMIUM_ARGS, streamlit_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--tab", choices=TABS, default="reuse", help="open pages in the open tab or a new one"
    )
    parser.add_argument("--floor", action="store_true", help="also time a minimal page")
    parser.add_argument("--a11y", action="store_true", help="wait for the tables' a11y mirror")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        servers = {  # each with its own price database and cache
            key: stack.enter_context(
                streamlit_server(root / "app.py", Path(tempfile.mkdtemp(prefix="bench-paired-")))
            )
            for key, root in (("base", args.base.resolve()), ("this", ROOT))
        }
        floor = stack.enter_context(floor_server()) if args.floor else None
        pw = stack.enter_context(sync_playwright())
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"paired first full render ({args.runs} runs each, {args.tab} tab; load average {load})"
        )
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        tab = context.new_page()
        warm = [url + path for url in servers.values() for path in PAGES.values()]
        for target in [*warm, *([floor + "/"] if floor else [])]:  # caches and scripts
            tab.goto("about:blank")
            render_s(tab, target, timeout_s=240)
        for name, path in PAGES.items():
            times: dict[str, list[float]] = {k: [] for k in servers}
            floors: list[float] = []
            for _ in range(args.runs):
                for key, url in servers.items():
                    times[key].append(visit_s(context, tab, url + path, args.tab, a11y=args.a11y))
                if floor:
                    floors.append(visit_s(context, tab, floor + "/", args.tab))
            floor_text = f"   floor median {statistics.median(floors):5.2f} s" if floors else ""
            print(
                f"{name:<8} base median {statistics.median(times['base']):5.2f} s   "
                f"this median {statistics.median(times['this']):5.2f} s{floor_text}   "
                f"(load {os.getloadavg()[0]:.1f})"
            )
        for key, url in servers.items():
            visit_s(context, tab, url + PAGES["compare"], "reuse")
            reruns = rerun_s(tab, 10)
            print(f"compare widget rerun, {key}: median {statistics.median(reruns) * 1000:.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
