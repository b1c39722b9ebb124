"""Price refreshes as background jobs: one thread per refresh, at most one running per
price database (`RefreshJobs`), progress read by the Prices page (`RefreshJob.snapshot`).

No Streamlit here: `ui.services.refresh_jobs` keeps the one process-wide registry
(``st.cache_resource``) and `ui.services.start_refresh` starts a job with its fetcher.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pricing.history import PriceHistory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


@dataclass
class RefreshJob:
    """A price refresh running in a background thread; progress read by the page."""

    db_path: str
    total: int
    done: int = 0
    lines: list[str] = field(default_factory=list)
    summary: str | None = None
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def progress(self, done: int, total: int, result: Any) -> None:
        with self.lock:
            self.done, self.total = done, total
            self.lines.append(result.line() if hasattr(result, "line") else str(result))

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "done": self.done,
                "total": self.total,
                "lines": list(self.lines),
                "summary": self.summary,
                "error": self.error,
                "running": self.running,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            }


class RefreshJobs:
    """Process-wide registry: at most one running refresh per price database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, RefreshJob] = {}

    def get(self, db_path: str) -> RefreshJob | None:
        with self._lock:
            return self._jobs.get(db_path)

    def start(
        self, items: Iterable[Any], db_path: str, fetcher_factory: Callable[[], Any]
    ) -> RefreshJob:
        """Start a refresh unless one is running on ``db_path`` (then return that one)."""
        targets = [i for i in items if i.price is not None and i.price.url]
        with self._lock:
            current = self._jobs.get(db_path)
            if current is not None and current.running:
                return current
            job = RefreshJob(db_path=db_path, total=len(targets))
            self._jobs[db_path] = job

        def run() -> None:
            from pricing.refresh import refresh  # noqa: PLC0415  (fetcher stack only when a refresh runs)

            fetcher = fetcher_factory()
            try:
                summary = refresh(
                    targets,
                    history=PriceHistory(db_path),
                    fetcher=fetcher,
                    on_progress=job.progress,
                )
                with job.lock:  # the summary, then one line per blocked/unreachable host
                    job.summary = " ".join([summary.describe() + ".", *summary.host_lines()])
            except Exception as exc:  # shown in the page, never a traceback
                with job.lock:
                    job.error = f"{type(exc).__name__}: {exc}"
            finally:
                close = getattr(fetcher, "close", None)
                if callable(close):
                    close()
                with job.lock:
                    job.finished_at = datetime.now(UTC)

        threading.Thread(target=run, name="price-refresh", daemon=True).start()
        return job


__all__ = ["RefreshJob", "RefreshJobs"]
