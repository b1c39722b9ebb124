"""Cross-validated error of the calibration: a refit on every row (in sample), leave one
source out, leave one model family out (`sizing.calibrate.cross_validated_results`; the
same lines close `python -m sizing calibrate --report`).

Run: python bench/cv_calibration.py   (about 10-25 s on 2 cores)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sizing.calibrate import cross_validated_results, within  # noqa: E402
from sizing.catalog import default_catalog  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    results = cross_validated_results(default_catalog(), ROOT / "data" / "benchmarks.csv")
    for name, r in results.items():
        print(
            f"{name}: decode median {r.mape('decode'):.1f}%, {100 * within(r):.0f}% of "
            f"{len(r.evaluated)} rows within 25%; prefill median {r.mape('prefill'):.1f}%"
        )
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
