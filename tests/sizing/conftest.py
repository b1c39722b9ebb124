"""Shared fixtures for the sizing tests."""

from __future__ import annotations

import pytest

from sizing.catalog import Catalog, default_catalog
from sizing.memory import MemoryFit, memory_fit
from sizing.scenario import Resolved, Scenario, resolve
from sizing.throughput import Throughput, throughput


@pytest.fixture(autouse=True)
def _no_user_price_history(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reads the price history by default: never the user's (a missing file here,
    so catalog list prices unless a test names a database)."""
    missing = tmp_path_factory.mktemp("no-prices") / "prices.sqlite"
    monkeypatch.setenv("LLM_PLANNER_PRICES_DB", str(missing))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


def run(
    catalog: Catalog,
    platform: str,
    units: int,
    parallel: str,
    model: str,
    weights: str,
    *,
    engine: str | None = None,
    context: int = 1024,
    concurrency: int = 1,
    kv_dtype: str = "bf16",
    mem_util: float | None = None,
) -> tuple[Resolved, MemoryFit, Throughput]:
    """Resolve a scenario and compute its memory fit and throughput."""
    r = resolve(
        Scenario(
            platform,
            units,
            parallel,
            model,
            weights,
            kv_dtype=kv_dtype,
            engine=engine,
            context_tokens=context,
            concurrency=concurrency,
            mem_util=mem_util,
        ),
        catalog,
    )
    fit = memory_fit(r, catalog)
    return r, fit, throughput(r, catalog)
