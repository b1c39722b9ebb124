"""Append-only SQLite history: rows, triggers, WAL, concurrent writers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pricing.history import PriceHistory

ROOT = Path(__file__).resolve().parents[2]


def test_attempt_round_trip(history: PriceHistory) -> None:
    fetched = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    a = history.append_attempt(
        "x",
        url="https://www.toppreise.ch/p",
        outcome="ok",
        http_status=200,
        price_rappen=247_700,
        high_rappen=289_900,
        currency="CHF",
        offer_count=3,
        method="jsonld",
        parser_version="1.0",
        mpn="M",
        page_name="N",
        from_cache=True,
        detail="d",
        page_fetched_at=fetched,
    )
    [b] = history.attempts("x")
    assert b == a
    assert b.attempted_at.tzinfo is not None
    assert b.price_as_of == fetched
    assert history.latest_good("x") == a
    assert history.latest_good("x", url="https://other") is None
    assert history.latest_attempt("x") == a
    assert history.item_ids() == ["x"]


def test_latest_good_skips_failures(history: PriceHistory) -> None:
    good = history.append_attempt("x", url="u", outcome="ok", price_rappen=100)
    history.append_attempt("x", url="u", outcome="blocked", http_status=403)
    history.append_attempt("x", url="u", outcome="suspect", price_rappen=900)
    assert history.latest_good("x") == good
    assert history.latest_attempt("x").outcome == "suspect"  # type: ignore[union-attr]
    assert [a.outcome for a in history.attempts("x")] == ["ok", "blocked", "suspect"]
    assert [a.outcome for a in history.attempts("x", limit=2)] == ["blocked", "suspect"]


def test_manual_prices(history: PriceHistory) -> None:
    m1 = history.set_manual("x", 250_000, "shop quote")
    m2 = history.set_manual("x", 260_000, at=datetime.now(UTC) + timedelta(seconds=1))
    assert history.latest_manual("x") == m2
    assert history.manual_prices("x") == [m1, m2]
    assert m1.note == "shop quote"
    assert m2.note == ""
    with pytest.raises(ValueError, match="non-negative int of Rappen, not -1"):
        history.set_manual("x", -1)
    with pytest.raises(ValueError, match=r"non-negative int of Rappen, not 12\.5"):
        history.set_manual("x", 12.5)  # type: ignore[arg-type]


def test_unknown_outcome_is_refused(history: PriceHistory) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        history.append_attempt("x", url="u", outcome="great")  # type: ignore[arg-type]


def test_rows_cannot_be_updated_or_deleted(history: PriceHistory) -> None:
    history.append_attempt("x", url="u", outcome="ok", price_rappen=1)
    history.set_manual("x", 2)
    con = sqlite3.connect(history.db_path)
    try:
        for sql in (
            "UPDATE attempts SET price_rappen = 5",
            "DELETE FROM attempts",
            "UPDATE manual_prices SET price_rappen = 5",
            "DELETE FROM manual_prices",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    finally:
        con.close()
    assert history.attempts("x")[0].price_rappen == 1


def test_wal_mode_and_integrity(history: PriceHistory) -> None:
    con = sqlite3.connect(history.db_path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()
    assert history.integrity_check() == "ok"


def test_reopen_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "p.sqlite"
    PriceHistory(path).append_attempt("x", url="u", outcome="ok", price_rappen=1)
    assert len(PriceHistory(path).attempts("x")) == 1


def test_concurrent_writer_threads(history: PriceHistory) -> None:
    n_threads, n_rows = 8, 40
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(n_rows):
                if i % 10 == 0:
                    history.set_manual(f"t{k}", i + 1)
                history.append_attempt(f"t{k}", url="u", outcome="ok", price_rappen=i)
                history.latest_good(f"t{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(history.attempts()) == n_threads * n_rows
    for k in range(n_threads):
        assert [a.price_rappen for a in history.attempts(f"t{k}")] == list(range(n_rows))
    assert history.integrity_check() == "ok"


_WRITER = """
import sys
from pricing.history import PriceHistory
h = PriceHistory(sys.argv[1])
for i in range(int(sys.argv[3])):
    h.append_attempt(sys.argv[2], url="u", outcome="ok", price_rappen=i)
"""


def test_concurrent_writer_processes(history: PriceHistory) -> None:
    n_procs, n_rows = 4, 50
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(history.db_path), f"p{k}", str(n_rows)],
            env=env,
            cwd=ROOT,
        )
        for k in range(n_procs)
    ]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert len(history.attempts()) == n_procs * n_rows
    for k in range(n_procs):
        assert [a.price_rappen for a in history.attempts(f"p{k}")] == list(range(n_rows))
    assert history.integrity_check() == "ok"
