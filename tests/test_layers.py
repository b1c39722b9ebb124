"""Who may import whom (docs/design.md, "Layers and who may import whom").

Every module's imports are read from its syntax tree, including imports inside functions,
so an arrow cannot hide in a function body.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI_MODULES = {f"{pkg}.{p.stem}" for pkg in ("sizing", "pricing")
               for p in (ROOT / pkg).glob("*.py") if p.stem.startswith("cli")
               or p.stem == "__main__"}
TABLE_BUILDERS = {"sizing.compare", "sizing.sweep"}     # core modules that return DataFrames


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


CORE = {m: i for m, i in _modules("sizing").items() if m not in CLI_MODULES}
PRICES = {m: i for m, i in _modules("pricing").items() if m not in CLI_MODULES}
APP = {**_modules("ui"), "app": _imports(ROOT / "app.py")}


def test_the_scan_sees_every_package():
    assert {"sizing.kernel", "sizing.cluster", "sizing.estimate"} <= CORE.keys()
    assert {"pricing.parse", "pricing.history", "pricing.refresh"} <= PRICES.keys()
    assert {"ui.services", "app"} <= APP.keys()


@pytest.mark.parametrize("module", sorted(CORE))
def test_core_imports_only_core(module):
    bad = sorted(name for name in CORE[module]
                 if _top(name) in {"pricing", "ui", "streamlit", "plotly"}
                 or name in CLI_MODULES)
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(CORE))
def test_pandas_only_where_a_table_is_built(module):
    if module in TABLE_BUILDERS:
        return
    assert "pandas" not in {_top(n) for n in CORE[module]}, f"{module} imports pandas"


@pytest.mark.parametrize("module", sorted(PRICES))
def test_prices_import_only_prices_and_the_catalog_schema(module):
    bad = sorted(name for name in PRICES[module]
                 if _top(name) in {"ui", "streamlit", "plotly"} or name in CLI_MODULES
                 or (_top(name) == "sizing" and not name.startswith("sizing.catalog")))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(APP))
def test_the_app_never_imports_a_command_line_module(module):
    bad = sorted(name for name in APP[module] if name in CLI_MODULES)
    assert not bad, f"{module} imports {bad}"


def test_streamlit_only_in_the_app():
    outside = {**CORE, **PRICES, **{m: _imports(ROOT / (m.replace(".", "/") + ".py"))
                                    for m in CLI_MODULES}}
    bad = sorted(m for m, names in outside.items()
                 if {"streamlit", "plotly"} & {_top(n) for n in names})
    assert not bad


def test_the_scan_catches_an_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from pricing.history import PriceHistory\n")
    assert "pricing.history" in _imports(probe)


def test_estimating_one_scenario_loads_no_pricing_and_no_streamlit():
    code = ("import sys, sizing.estimate, sizing.cluster; "
            "print(sorted(m for m in ('pricing', 'streamlit', 'ui', 'plotly') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"
