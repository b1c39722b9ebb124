"""Benchmark: the full comparison and the planner (``python bench/bench_compare.py``).

Times `sizing.compare.compare` over every catalog platform at the default cluster sizes
(1, 2, 3, 4, 8; up to three layouts each) and `sizing.planner.plan` for the reference build
guide's buyer (every platform, 1-8 units, every deployment split). Both feed interactive
pages, so the target is well under one second each. Prints median and max over ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sizing.catalog import default_catalog  # noqa: E402
from sizing.compare import Workload, compare  # noqa: E402
from sizing.planner import plan  # noqa: E402
from sizing.requirements import load_requirements  # noqa: E402

TARGET_S = 1.0
REQUIREMENTS = ROOT / "tests" / "data" / "requirements" / "guide_buyer.yaml"


def _time(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    catalog = default_catalog()
    workload = Workload("openai/gpt-oss-120b", "mxfp4", concurrency=8)
    req = load_requirements(REQUIREMENTS)
    ok = True
    for name, fn in (
        ("compare (all platforms x 1,2,3,4,8)", lambda: compare(workload, catalog)),
        ("plan (guide buyer, all platforms x 1-8)", lambda: plan(req, catalog)),
    ):
        times = _time(fn, args.runs)
        med, worst = statistics.median(times), max(times)
        ok &= worst < TARGET_S
        print(
            f"{name}: median {med * 1e3:.0f} ms, max {worst * 1e3:.0f} ms "
            f"(target < {TARGET_S * 1e3:.0f} ms)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
