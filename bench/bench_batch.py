"""Benchmark: `python -m sizing estimate --batch` with 10,000 rows, interpreter start included
(issue 3: under 5 s on this machine; issue 14: 2 s).

Run: python bench/bench_batch.py
"""

from __future__ import annotations

import csv
import random
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


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_rows(path)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "sizing", "estimate", "--batch", str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(time.perf_counter() - t0)
        lines = out.stdout.splitlines()
        errors = sum(1 for line in lines if line.startswith('{"error"'))
    print(
        f"estimate --batch: {len(lines):,} rows ({errors:,} error rows) in median "
        f"{statistics.median(times):.2f} s, max {max(times):.2f} s over {runs} runs "
        "(interpreter start included)"
    )


if __name__ == "__main__":
    main()
