"""Who may import whom (docs/design.md, "Layers and who may import whom").

Every module's imports are read from its syntax tree, including imports inside functions,
so an arrow cannot hide in a function body.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"sizing.__main__", "pricing.__main__"}  # shims that run the command line
TABLE_BUILDERS = {"sizing.compare", "sizing.sweep"}  # core modules that return DataFrames


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in `path` (`from x import y` gives x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules(package: str) -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted((ROOT / package).rglob("*.py"))}


def _top(name: str) -> str:
    return name.split(".")[0]


CORE = {m: i for m, i in _modules("sizing").items() if m not in ENTRY_POINTS}
PRICES = {m: i for m, i in _modules("pricing").items() if m not in ENTRY_POINTS}
CLI = {
    **_modules("cli"),
    **{m: _imports(ROOT / (m.replace(".", "/") + ".py")) for m in ENTRY_POINTS},
}
APP = {**_modules("ui"), "app": _imports(ROOT / "app.py")}


def test_the_scan_sees_every_package():
    assert {"sizing.kernel", "sizing.bom", "sizing.estimate"} <= CORE.keys()
    assert {"pricing.pages", "pricing.history", "pricing.refresh"} <= PRICES.keys()
    assert {"cli.sizing_main", "cli.estimate", "cli.prices", "sizing.__main__"} <= CLI.keys()
    assert {"ui.services", "app"} <= APP.keys()


@pytest.mark.parametrize("module", sorted(CORE))
def test_core_imports_only_core(module):
    bad = sorted(
        name
        for name in CORE[module]
        if _top(name) in {"cli", "pricing", "ui", "streamlit", "plotly"}
    )
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(CORE))
def test_pandas_only_where_a_table_is_built(module):
    if module in TABLE_BUILDERS:
        return
    assert "pandas" not in {_top(n) for n in CORE[module]}, f"{module} imports pandas"


@pytest.mark.parametrize("module", sorted(PRICES))
def test_prices_import_only_prices_and_the_catalog_schema(module):
    bad = sorted(
        name
        for name in PRICES[module]
        if _top(name) in {"cli", "ui", "streamlit", "plotly"}
        or (_top(name) == "sizing" and not name.startswith(("sizing.catalog", "sizing.money")))
    )
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(APP))
def test_the_app_never_imports_a_command_line_module(module):
    bad = sorted(name for name in APP[module] if _top(name) == "cli")
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(CLI))
def test_the_command_line_never_imports_the_app(module):
    bad = sorted(name for name in CLI[module] if _top(name) in {"ui", "app", "streamlit", "plotly"})
    assert not bad, f"{module} imports {bad}"


def test_streamlit_only_in_the_app():
    outside = {**CORE, **PRICES, **CLI}
    bad = sorted(
        m for m, names in outside.items() if {"streamlit", "plotly"} & {_top(n) for n in names}
    )
    assert not bad


def test_the_scan_catches_an_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from pricing.history import PriceHistory\n")
    assert "pricing.history" in _imports(probe)


def test_estimating_one_scenario_loads_no_pricing_and_no_streamlit():
    code = (
        "import sys, sizing.estimate, sizing.bom, sizing.upgrade; "
        "print(sorted(m for m in ('pricing', 'streamlit', 'ui', 'plotly') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_the_estimate_and_plan_paths_load_no_pandas():
    """Pandas (with pyarrow, ~0.5 s to import) is only for the commands that build tables:
    the modules behind `estimate` and `plan` must not pull it in, not even indirectly."""
    code = (
        "import sys, cli.sizing_main, cli.common, cli.estimate, cli.plan, sizing.workload, "
        "sizing.planner, sizing.requirements, sizing.estimate, pricing.sources; "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'requests', 'bs4') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


_RUN_SIZING = (
    "import sys\n"
    "from cli.sizing_main import main\n"  # what `python -m sizing` runs
    "assert main(sys.argv[1:]) == 0\n"
    "print(sorted(m for m in ('pandas', 'pyarrow', 'requests', 'bs4', 'streamlit', "
    "'plotly') if m in sys.modules), file=sys.stderr)\n"
)


@pytest.mark.parametrize(
    "argv",
    [
        [
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
            "--json",
        ],
        ["plan", "--requirements", "tests/data/requirements/guide_buyer.yaml", "--json"],
    ],
    ids=["estimate", "plan"],
)
def test_estimate_and_plan_commands_import_no_table_or_web_library(argv, tmp_path):
    """`python -m sizing estimate` and `plan` run end to end without pandas, pyarrow,
    requests or BeautifulSoup (reading the price history needs none of them)."""
    env = {**os.environ, "LLM_PLANNER_PRICES_DB": str(tmp_path / "prices.sqlite")}
    run = subprocess.run(
        [sys.executable, "-c", _RUN_SIZING, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr[-2000:]
    assert not (tmp_path / "prices.sqlite").exists()
