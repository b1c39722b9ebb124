"""The README's quick start: two commands, and CI runs the second one exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_two_commands_each_in_a_virtual_environment():
    app, tests = quick_start_commands()
    for command in (app, tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -r ")
    assert app.endswith(".venv/bin/streamlit run app.py")
    assert tests.endswith(".venv/bin/python -m pytest")


def test_ci_runs_the_readme_test_command_exactly():
    _, tests = quick_start_commands()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests in lines
