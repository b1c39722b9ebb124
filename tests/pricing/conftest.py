"""Fixtures for the pricing tests: isolation of the default DB/cache locations, a real
HTTP server on 127.0.0.1, fast fetchers (tiny intervals/backoff) and a temp history DB."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pricing.fetch import Fetcher
from pricing.history import PriceHistory
from tests.pricing.support import Server, serving

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def _isolated_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real price DB or HTTP cache."""
    monkeypatch.setenv("LLM_PLANNER_PRICES_DB", str(tmp_path / "default-prices.sqlite"))
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serving()


@pytest.fixture
def make_fetcher(tmp_path: Path) -> Iterator[Callable[..., Fetcher]]:
    """Fetchers with tiny timings (tests must run in seconds) and a per-test cache dir."""
    made: list[Fetcher] = []

    def make(**kwargs: object) -> Fetcher:
        options: dict[str, object] = {
            "min_interval_s": 0.0,
            "timeout_s": 1.0,
            "backoff_factor": 0.01,
            "backoff_max_s": 0.05,
            "retry_after_max_s": 2,
            "cache_dir": tmp_path / "cache",
        }
        options.update(kwargs)
        fetcher = Fetcher(**options)  # type: ignore[arg-type]
        made.append(fetcher)
        return fetcher

    yield make
    for f in made:
        f.close()


@pytest.fixture
def history(tmp_path: Path) -> PriceHistory:
    return PriceHistory(tmp_path / "prices.sqlite")
