"""Rerun time of the app after a widget change, measured with AppTest.

Usage: ``python bench/bench_app.py [--runs 20]``

For each scenario the app is warmed up (every input value used below is computed once, so
the cache is warm), then a widget is changed back and forth ``--runs`` times; each rerun is
timed. One scenario ("cold cache") uses a new context length on every run, so the whole
comparison (every platform x unit count, with alternatives) is computed afresh. Two figures
per scenario:

* ``rerun``  — wall time of ``AppTest.run()`` (script + AppTest's own overhead: it re-compiles
  the page script on every run and polls for completion);
* ``script`` — time spent executing the page script alone (what a user waits for on the
  server, minus network and browser rendering).

A price database in a temporary directory is used (``LLM_PLANNER_PRICES_DB``), so nothing
touches the user's data or the network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "LLM_PLANNER_PRICES_DB", str(Path(tempfile.mkdtemp(prefix="bench-prices-")) / "prices.sqlite")
)

import streamlit.runtime.scriptrunner.exec_code as exec_code  # noqa: E402
import streamlit.runtime.scriptrunner.script_runner as script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

_script_s: list[float] = []
_original = exec_code.exec_func_with_error_handling


def _timed(func, ctx):
    start = time.perf_counter()
    try:
        return _original(func, ctx)
    finally:
        _script_s.append(time.perf_counter() - start)


script_runner.exec_func_with_error_handling = _timed


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(
    name: str, page: str | None, change: Callable[[AppTest, int], None], runs: int
) -> dict[str, float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    for i in range(4):  # warm: every value used below is cached
        change(at, i)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    walls, scripts = [], []
    for i in range(runs):
        change(at, i)
        _script_s.clear()
        start = time.perf_counter()
        at.run()
        walls.append(time.perf_counter() - start)
        scripts.append(sum(_script_s))
        assert not at.exception, [e.value for e in at.exception]
    out = {
        "rerun_median_s": statistics.median(walls),
        "rerun_p95_s": _p95(walls),
        "script_median_s": statistics.median(scripts),
        "script_p95_s": _p95(scripts),
    }
    print(
        f"{name:<38} rerun median {out['rerun_median_s'] * 1000:6.0f} ms  p95 "
        f"{out['rerun_p95_s'] * 1000:6.0f} ms   script median "
        f"{out['script_median_s'] * 1000:6.0f} ms  p95 {out['script_p95_s'] * 1000:6.0f} ms"
    )
    return out


def _units(at: AppTest, i: int) -> None:
    at.multiselect(key="w_units").set_value([1, 2, 3, 4, 8] if i % 2 else [1, 2, 4, 8])


def _streams(at: AppTest, i: int) -> None:
    at.number_input(key="w_streams").set_value(1 + i % 2)


def _model(at: AppTest, i: int) -> None:
    at.selectbox(key="w_model").set_value(
        "openai/gpt-oss-120b" if i % 2 else "meta-llama/Llama-3.3-70B-Instruct"
    )


def _context_cold(at: AppTest, _i: int) -> None:
    """A context length never used before: the comparison is computed, not cached."""
    _context_cold.calls += 1  # type: ignore[attr-defined]
    at.number_input(key="w_ctx").set_value(16_384 + 1_000 * _context_cold.calls)  # type: ignore[attr-defined]


_context_cold.calls = 0  # type: ignore[attr-defined]


def _build_units(at: AppTest, i: int) -> None:
    at.number_input(key="w_n").set_value(2 + i % 2)


def _fit_streams(at: AppTest, i: int) -> None:
    at.number_input(key="w_streams").set_value(1 + i % 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(
        f"AppTest reruns after a widget change, {args.runs} runs each "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    bench("Compare: cluster sizes", None, _units, args.runs)
    bench("Compare: concurrent streams", None, _streams, args.runs)
    bench("Compare: model", None, _model, args.runs)
    bench("Compare: context (cold cache)", None, _context_cold, args.runs)
    bench("Build: units", "ui/pages/build.py", _build_units, args.runs)
    bench("Fit: streams", "ui/pages/fit.py", _fit_streams, args.runs)


if __name__ == "__main__":
    main()
