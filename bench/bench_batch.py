"""Benchmark: `python -m sizing estimate --batch` with 10,000 rows, interpreter start included
(issue 3: under 5 s on this machine; issue 14: 2 s).

Run: python bench/bench_batch.py [--runs N] [--against OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = [
    "asus-gx10-1tb",
    "dgx-spark-fe-4tb",
    "rtx-pro-6000-ws",
    "mac-studio-m3-ultra-512gb",
    "framework-desktop-395-128gb",
    "rtx-3090",
]
MODELS = [
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "Qwen/Qwen3-30B-A3B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "zai-org/GLM-4.5-Air",
    "Qwen/Qwen3.5-397B-A17B",
]


def write_rows(path: Path, n: int = 10_000) -> None:
    rng = random.Random(1)
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["platform", "units", "parallel", "model", "weights", "context", "concurrency"])
        for _ in range(n):
            w.writerow(
                [
                    rng.choice(PLATFORMS),
                    rng.choice([1, 2, 4, 8]),
                    rng.choice(["tp", "pp", "replicas"]),
                    rng.choice(MODELS),
                    rng.choice(["mxfp4", "q4_k_m", "int4", "bf16"]),
                    rng.choice([4096, 32768]),
                    rng.choice([1, 4, 16]),
                ]
            )


def _run_once(tree: Path, path: Path) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds (user + system) of one `estimate --batch` in `tree`
    (interpreter start included) and its output lines."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "sizing", "estimate", "--batch", str(path)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, out.stdout.splitlines()


def main(runs: int = 3, against: Path | None = None) -> None:
    """Median wall time over `runs`; with `against` (another checkout, e.g. main's), the
    two trees run alternately on the same file and their outputs are compared."""
    trees = {"this tree": ROOT} if against is None else {"base": against, "this tree": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_rows(path)
        times: dict[str, list[float]] = {name: [] for name in trees}
        cpus: dict[str, list[float]] = {name: [] for name in trees}
        outputs: dict[str, list[str]] = {}
        loads = []
        for _ in range(runs):
            for name, tree in trees.items():
                loads.append(os.getloadavg()[0])
                seconds, cpu, outputs[name] = _run_once(tree, path)
                times[name].append(seconds)
                cpus[name].append(cpu)
    for name, lines in outputs.items():
        errors = sum(1 for line in lines if line.startswith('{"error"'))
        print(
            f"{name}: estimate --batch: {len(lines):,} rows ({errors:,} error rows) in median "
            f"{statistics.median(times[name]):.2f} s, max {max(times[name]):.2f} s over "
            f"{runs} runs (interpreter start included); runs: "
            + ", ".join(f"{t:.2f}" for t in times[name])
            + f"; CPU median {statistics.median(cpus[name]):.2f} s"
        )
    print(f"1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f}")
    if against is not None:
        same = outputs["base"] == outputs["this tree"]
        print("outputs identical" if same else "OUTPUTS DIFFER")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to time alternately")
    args = parser.parse_args()
    main(args.runs, args.against)
