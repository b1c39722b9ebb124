"""Benchmark: importing every kept config.json and its quantization map, and loading the
catalog (which imports its 42 models).

Run: python bench/bench_models.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sizing.catalog import CONFIG_DIR, load_catalog
from sizing.hfconfig import architecture_from_config
from sizing.quantmap import precision_map


def _median_s(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(runs: int = 5) -> None:
    configs = [json.loads(p.read_text()) for p in sorted(CONFIG_DIR.glob("*_config.json"))
               if not p.name.endswith("_hf_quant_config.json")]

    def import_all() -> None:
        for raw in configs:
            precision_map(raw, architecture_from_config(raw))

    per_config = _median_s(import_all, runs) / len(configs)
    catalog = _median_s(load_catalog, runs)
    print(f"import: {len(configs)} configs, median {per_config * 1e3:.1f} ms per config "
          f"(architecture + quantization map); catalog.yaml load {catalog:.3f} s "
          f"(median of {runs})")


if __name__ == "__main__":
    main()
