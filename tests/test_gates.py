"""Gates that keep the code as docs/design.md describes it: mypy --strict on the core
(`sizing`, `pricing`; settings in pyproject.toml) and ruff on everything. They run in the
README's test command, so CI runs them before anything lands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=280, check=False)


def test_mypy_strict_on_sizing_and_pricing():
    pytest.importorskip("mypy", reason="mypy is in requirements-dev.txt")
    done = _run("mypy")                     # files and strictness from pyproject.toml
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_ruff_check_is_clean():
    pytest.importorskip("ruff", reason="ruff is in requirements-dev.txt")
    done = _run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout[-3000:]
