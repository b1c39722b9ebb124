"""Fixtures for the app tests: a private price database per test (never the user's, never
the network) and an AppTest factory for the real entry point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
TIMEOUT_S = 60.0  # AppTest's default of 3 s is too short for a cold 2-core machine


@pytest.fixture(autouse=True)
def prices_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LLM_PLANNER_PRICES_DB in this test's temp dir (the file does not exist yet)."""
    db = tmp_path / "prices" / "prices.sqlite"
    monkeypatch.setenv("LLM_PLANNER_PRICES_DB", str(db))
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path / "http-cache"))
    return db


@pytest.fixture
def app() -> Callable[..., AppTest]:
    """``app(page=None, query=None)`` -> an AppTest that has run once (on ``page``)."""

    def make(page: str | None = None, query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        if query:
            at.query_params.update(query)
        at.run()
        if page is not None:
            at.switch_page(f"ui/pages/{page}.py").run()
        return at

    return make
