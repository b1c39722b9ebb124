"""Benchmark: importing every kept config.json and its quantization map, loading the catalog
(which imports its models), and the cost of a fresh interpreter that imports `sizing.catalog`
and loads it (what every command and the app pay before doing anything).

Figures are medians of `--runs` runs: wall time and CPU time (``time.process_time``; on a
shared machine the CPU time moves less with the other users' load).

Run: python bench/bench_models.py [--runs 7] [--estimate]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sizing.catalog import (  # noqa: E402
    CONFIG_DIR,
    DEFAULT_CATALOG_PATH,
    checkpoint_precision,
    load_catalog,
    load_yaml_unique,
    parse_catalog,
)
from sizing.hfconfig import architecture_from_config  # noqa: E402
from sizing.quantmap import precision_map  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

#: a fresh interpreter: import the module, then load the catalog (CPU and wall, in seconds)
FRESH = """
import time
w0, c0 = time.perf_counter(), time.process_time()
import sizing.catalog as c
w1, c1 = time.perf_counter(), time.process_time()
c.load_catalog()
w2, c2 = time.perf_counter(), time.process_time()
print(w1 - w0, c1 - c0, w2 - w1, c2 - c1)
"""
ESTIMATE = [
    "-m",
    "sizing",
    "estimate",
    "--platform",
    "asus-gx10-1tb",
    "--units",
    "1",
    "--parallel",
    "tp",
    "--model",
    "openai/gpt-oss-120b",
    "--weights",
    "mxfp4",
    "--json",
]


def _median(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median wall s, median CPU s) of `fn`."""
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _fresh(runs: int) -> list[float]:
    rows = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FRESH], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        rows.append([float(x) for x in out.split()])
    return [statistics.median(col) for col in zip(*rows, strict=True)]


def _command(args: list[str], runs: int) -> tuple[float, float]:
    """(median wall s, median CPU s of the child) of ``python args``."""

    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
        wall.append(time.perf_counter() - w0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="also time `python -m sizing estimate ... --json` (gpt-oss-120b)",
    )
    runs = parser.parse_args().runs
    estimate = parser.parse_args().estimate

    configs = [
        json.loads(p.read_text())
        for p in sorted(CONFIG_DIR.glob("*_config.json"))
        if not p.name.endswith("_hf_quant_config.json")
    ]
    archs = [architecture_from_config(raw) for raw in configs]

    def arch_all() -> None:
        for raw in configs:
            architecture_from_config(raw)

    def maps_all() -> None:
        for raw, arch in zip(configs, archs, strict=True):
            precision_map(raw, arch)

    text = DEFAULT_CATALOG_PATH.read_text(encoding="utf-8")
    data = load_yaml_unique(text)
    catalog = load_catalog()
    checkpoints = [(repo, m.arch) for m in catalog.models for repo in m.checkpoints.values()]
    for repo, arch in checkpoints:  # read (and keep) the files once
        checkpoint_precision(repo, arch)

    def checkpoints_all() -> None:
        for repo, arch in checkpoints:
            checkpoint_precision(repo, arch)

    n = len(configs)
    print(
        f"{n} config.json files, {len(catalog.models)} catalog models, {len(checkpoints)} "
        f"kept checkpoints; medians of {runs} runs, wall / CPU"
    )
    for label, fn, per in (
        ("architecture_from_config, per config", arch_all, n),
        ("precision_map, per config", maps_all, n),
        ("checkpoint maps, all kept checkpoints", checkpoints_all, 1),
        ("catalog.yaml: YAML parse + checks", lambda: load_yaml_unique(text), 1),
        ("catalog.yaml: validation + model import", lambda: parse_catalog(data), 1),
        ("load_catalog (both)", load_catalog, 1),
    ):
        wall, cpu = _median(fn, runs)
        print(f"  {label:42s} {wall / per * 1e3:8.1f} ms / {cpu / per * 1e3:8.1f} ms")
    iw, ic, lw, lc = _fresh(runs)
    print(
        f"  {'fresh interpreter: import sizing.catalog':42s} {iw * 1e3:8.1f} ms / "
        f"{ic * 1e3:8.1f} ms"
    )
    print(f"  {'fresh interpreter: then load_catalog':42s} {lw * 1e3:8.1f} ms / {lc * 1e3:8.1f} ms")
    if estimate:
        wall, cpu = _command(ESTIMATE, runs)
        print(
            f"  {'python -m sizing estimate ... --json':42s} {wall * 1e3:8.1f} ms / "
            f"{cpu * 1e3:8.1f} ms (whole process)"
        )


if __name__ == "__main__":
    main()
