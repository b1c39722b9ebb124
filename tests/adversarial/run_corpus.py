"""Count the adversarial cases that misbehave: ``python -m tests.adversarial.run_corpus``.

Runs each case in a fresh ``python -m sizing`` process and prints one line per case that
shows a traceback, exits with a status other than 2, or prints more than one stderr line;
then the totals. (The pytest suite, tests/adversarial/test_corpus.py, asserts the same.)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.adversarial.corpus import BAD_ARGS, ROOT, file_cases


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sizing", *argv],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        errors="replace",
    )


def main() -> int:
    tracebacks = bad = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for case in file_cases():
            folder = Path(tmp) / case.id
            folder.mkdir()
            path = folder / case.filename
            path.write_bytes(case.data)
            runs.append((case.id, case.argv(str(path))))
        runs += [(f"args-{name}", argv) for name, argv in BAD_ARGS]
        for name, argv in runs:
            total += 1
            try:
                p = _run(argv)
            except subprocess.TimeoutExpired:
                bad += 1
                print(f"{name}: TIMEOUT")
                continue
            lines = p.stderr.strip().splitlines()
            tb = "Traceback" in p.stderr
            tracebacks += tb
            if tb or p.returncode != 2 or len(lines) != 1:
                bad += 1
                last = lines[-1][:120] if lines else ""
                print(
                    f"{name}: exit {p.returncode}, {len(lines)} stderr line(s)"
                    f"{', TRACEBACK' if tb else ''}: {last}"
                )
    print(f"{total} cases: {tracebacks} traceback(s), {bad} not a one-line exit 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
