"""Live CHF prices for catalog items: parse (HTML → offer), fetch (polite HTTP),
history (append-only SQLite), refresh (orchestration + validation) and a CLI
(``python -m pricing``).

Design: docs/design.md; selectors and politeness settings:
docs/sources/catalog_facts.md §1.2-§1.9. All amounts are integer Rappen (1 CHF = 100 Rappen).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__version__ = "0.1.0"  # keep equal to pyproject.toml [project] version (a test checks)
APP_NAME = "llm-hardware-planner"
DB_ENV_VAR = "LLM_PLANNER_PRICES_DB"
CACHE_ENV_VAR = "LLM_PLANNER_CACHE_DIR"
ALLOWLIST_ENV_VAR = "LLM_PLANNER_URL_ALLOWLIST"  # hosts a user-typed URL may point at
USER_AGENT_URL_ENV_VAR = "LLM_PLANNER_USER_AGENT_URL"  # optional contact URL in the User-Agent

__all__ = [
    "ALLOWLIST_ENV_VAR",
    "APP_NAME",
    "CACHE_ENV_VAR",
    "DB_ENV_VAR",
    "USER_AGENT_URL_ENV_VAR",
    "__version__",
    "default_cache_dir",
    "default_db_path",
]


def default_db_path() -> Path:
    """Price-history database: ``$LLM_PLANNER_PRICES_DB`` or ``<user data dir>/prices.sqlite``.

    The user data dir comes from platformdirs (e.g. ``~/.local/share/llm-hardware-planner``
    on Linux, ``~/Library/Application Support/llm-hardware-planner`` on macOS).
    """
    env = os.environ.get(DB_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "prices.sqlite"


def default_cache_dir() -> Path:
    """HTTP cache directory: ``$LLM_PLANNER_CACHE_DIR`` or the platformdirs user cache dir."""
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
