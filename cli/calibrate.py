"""``python -m sizing calibrate``: predicted vs measured on data/benchmarks.csv.

python -m sizing calibrate --report [--fit] [--no-cv] [--data FILE.csv]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import catalog_of
from sizing.calibrate import (
    cross_validated_results,
    fit_constants,
    format_report,
    run_calibration,
)

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``calibrate``."""
    p.add_argument("--report", action="store_true", help="print the calibration report")
    p.add_argument("--fit", action="store_true", help="fit the constants, print YAML")
    p.add_argument(
        "--no-cv", action="store_true", help="skip the cross-validation (about 10 s) in the report"
    )
    p.add_argument(
        "--data", default=str(Path(__file__).resolve().parent.parent / "data" / "benchmarks.csv")
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the calibration report, or the fitted constants as YAML (``--fit``)."""
    catalog = catalog_of(args)
    if args.fit:
        print(fit_constants(catalog, Path(args.data)))
        return 0
    result = run_calibration(catalog, Path(args.data))
    cv = None if args.no_cv else cross_validated_results(catalog, Path(args.data))
    print(format_report(result, cv))
    return 0
