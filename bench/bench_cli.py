"""Wall time of one command-line call, interpreter start included (issue 14: `estimate
--json` for one scenario and `plan` for the guide buyer at most 0.5 s each).

Run: python bench/bench_cli.py [--runs 9]

Each command runs once to warm the file cache and write the bytecode and the catalog
snapshot (``LLM_PLANNER_CACHE_DIR`` in a temporary directory), then ``--runs`` times; the
median and the maximum are printed. A last line times `estimate --json` with the snapshot
deleted before each run: the first command after catalog.yaml, a config.json or the code
changed. The price history is a path in a temporary
directory that does not exist (``LLM_PLANNER_PRICES_DB``): catalog list prices, no user data.
The line "pandas imported" says whether the command loaded pandas (it should not: pandas is
for the commands that build tables, `compare` and the sweep).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sizing.catalog import SNAPSHOT_FILE  # noqa: E402

COMMANDS: dict[str, list[str]] = {
    "estimate --json": [
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--kv-dtype",
        "fp8",
        "--engine",
        "vllm",
        "--context",
        "65536",
        "--concurrency",
        "4",
        "--mem-util",
        "0.85",
        "--json",
    ],
    "plan (guide buyer)": ["plan", "--requirements", "tests/data/requirements/guide_buyer.yaml"],
    "compare --format json": [
        "compare",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--format",
        "json",
    ],
}
PROBE = (
    "import sys\nfrom cli.sizing_main import main\n"  # what `python -m sizing` runs
    "main(sys.argv[1:])\n"
    "print('pandas' in sys.modules, file=sys.stderr)"
)


def _env(tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LLM_PLANNER_PRICES_DB"] = str(Path(tmp) / "absent" / "prices.sqlite")
    env["LLM_PLANNER_CACHE_DIR"] = str(Path(tmp) / "cache")  # the catalog snapshot
    return env


def bench(
    name: str, argv: list[str], runs: int, env: dict[str, str], *, snapshot: bool = True
) -> float:
    """Median wall time of ``python -m sizing argv``; with `snapshot` False each run
    starts without the catalog snapshot (the first command after catalog.yaml, a config
    or the code changed)."""
    cmd = [sys.executable, "-m", "sizing", *argv]
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)  # warm
    snap = Path(env["LLM_PLANNER_CACHE_DIR"]) / SNAPSHOT_FILE
    times = []
    for _ in range(runs):
        if not snapshot:
            snap.unlink(missing_ok=True)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    pandas = probe.stderr.strip().splitlines()[-1]
    median = statistics.median(times)
    print(
        f"{name:<24} median {median:5.2f} s  max {max(times):5.2f} s  over {runs} runs  "
        f"(pandas imported: {pandas})"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--only", choices=sorted(COMMANDS), action="append")
    args = parser.parse_args()
    print(
        f"python -m sizing, interpreter start included (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or COMMANDS:
            bench(name, COMMANDS[name], args.runs, _env(tmp))
        if not args.only:
            name = "estimate --json"
            bench(f"{name}, no snapshot", COMMANDS[name], args.runs, _env(tmp), snapshot=False)


if __name__ == "__main__":
    main()
