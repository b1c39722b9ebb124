"""Benchmark: the full design-space sweep (issue 3: under 1 s on this machine).

Run: python bench/bench_sweep.py
Every platform x units 1..8 x every catalog model x 4 quants x 5 contexts x 4 concurrencies.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sizing.catalog import load_catalog
from sizing.sweep import sweep


def main(runs: int = 7) -> None:
    catalog = load_catalog()
    t0 = time.perf_counter()
    df = sweep(catalog)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sweep(catalog)
        times.append(time.perf_counter() - t0)
    print(
        f"sweep: {len(df):,} scenarios ({df['fits'].sum():,} fit); "
        f"cold {cold:.3f} s, warm median {statistics.median(times):.3f} s, "
        f"max {max(times):.3f} s over {runs} runs"
    )


if __name__ == "__main__":
    main()
