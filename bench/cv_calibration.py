"""Cross-validated decode error of the calibration: leave one source out, leave one model
family out. For each held-out group the constants are refitted on the other rows
(`sizing.calibrate.fit`) and the group's rows are predicted.

Run: python bench/cv_calibration.py   (about 7 minutes on 2 cores)
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sizing.calibrate import _with, evaluate_row, fit, load_rows  # noqa: E402
from sizing.catalog import Catalog, UnknownIdError, default_catalog  # noqa: E402


def held_out_errors(catalog: Catalog, rows: list[dict[str, str]],
                    key: Callable[[dict[str, str]], str]) -> list[float]:
    """|predicted / measured - 1| of every evaluated row, predicted without its group."""
    evaluated = [r for r in rows if r["evaluate"] == "yes"]
    errors = []
    for group in sorted({key(r) for r in evaluated}):
        train = [r for r in rows if not (r["evaluate"] == "yes" and key(r) == group)]
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(train)
        refit = _with(catalog, fit(catalog, Path(f.name))[0])
        Path(f.name).unlink()
        for r in evaluated:
            if key(r) == group:
                error = evaluate_row(r, refit).decode_error
                if error is not None:
                    errors.append(abs(error))
    return errors


def main() -> None:
    catalog = default_catalog()
    rows = load_rows(ROOT / "data" / "benchmarks.csv")

    def family(r: dict[str, str]) -> str:
        try:
            return catalog.model(r["model_id"]).family
        except UnknownIdError:
            return r["model_id"]

    t0 = time.perf_counter()
    for name, key in (("source", lambda r: r["source_url"]), ("model family", family)):
        errors = held_out_errors(catalog, rows, key)
        within = sum(e <= 0.25 for e in errors) / len(errors)
        print(f"leave one {name} out: median {100 * statistics.median(errors):.1f}%, "
              f"{100 * within:.0f}% of {len(errors)} rows within 25% "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
