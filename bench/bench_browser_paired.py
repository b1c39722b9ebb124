"""The browser bench of `bench_browser.py`, paired: this tree and another checkout (e.g. the
commit before a change) served side by side and their renders alternated, so both see the
same load on a shared machine.

Usage: ``git archive <commit> | tar -x -C /tmp/base`` then
``python bench/bench_browser_paired.py --base /tmp/base [--runs 5] [--floor]``

Per page (Compare, Build, Plan, Fit) the median first full render of each tree, then the
Compare widget rerun (`bench_browser.rerun_s`); the load average is printed with them.
``--floor``: also a minimal Streamlit page (`bench_browser.floor_server`) after every pair,
its median printed on each page's line.
Debian's ``/usr/bin/chromium`` through Playwright; never a browser download.
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

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_browser import (  # noqa: E402
    CHROMIUM,
    PAGES,
    VIEWPORT,
    floor_server,
    render_s,
    rerun_s,
)
from tests.e2e.test_browser import CHROMIUM_ARGS, streamlit_command  # noqa: E402


def _start(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` of `root` on a free port, with its own price database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="bench-paired-"))
    env = {
        **os.environ,
        "LLM_PLANNER_PRICES_DB": str(tmp / "prices.sqlite"),
        "LLM_PLANNER_CACHE_DIR": str(tmp / "http-cache"),
    }
    proc = subprocess.Popen(
        streamlit_command(root / "app.py", port),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", action="store_true", help="also time a minimal page")
    args = parser.parse_args()
    floor_cm = floor_server() if args.floor else contextlib.nullcontext(None)
    servers = {"base": _start(args.base.resolve()), "this": _start(ROOT)}
    try:
        time.sleep(10)  # both servers up (a page load waits for them too)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"paired first full render ({args.runs} runs each; load average {load})")
        with floor_cm as floor, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport=VIEWPORT)
            warm = [url + path for _, url in servers.values() for path in PAGES.values()]
            for target in [*warm, *([floor + "/"] if floor else [])]:  # caches and scripts
                page = context.new_page()
                render_s(page, target, timeout_s=240)
                page.close()
            for name, path in PAGES.items():
                times: dict[str, list[float]] = {k: [] for k in servers}
                floors: list[float] = []
                for _ in range(args.runs):
                    for key, (_, url) in servers.items():
                        page = context.new_page()
                        times[key].append(render_s(page, url + path))
                        page.close()
                    if floor:
                        page = context.new_page()
                        floors.append(render_s(page, floor + "/"))
                        page.close()
                floor_text = f"   floor median {statistics.median(floors):5.2f} s" if floors else ""
                print(
                    f"{name:<8} base median {statistics.median(times['base']):5.2f} s   "
                    f"this median {statistics.median(times['this']):5.2f} s{floor_text}   "
                    f"(load {os.getloadavg()[0]:.1f})"
                )
            for key, (_, url) in servers.items():
                page = context.new_page()
                render_s(page, url + PAGES["compare"])
                reruns = rerun_s(page, 10)
                page.close()
                print(
                    f"compare widget rerun, {key}: median {statistics.median(reruns) * 1000:.0f} ms"
                )
            browser.close()
    finally:
        for proc, _ in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)  # only the process groups started here


if __name__ == "__main__":
    main()
