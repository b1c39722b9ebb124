"""The price history survives bad files: corrupt, truncated, foreign, newer-schema and locked
databases give one line naming the file and the way out; REPLACE cannot rewrite a row; the
read-only mode never creates a file nor waits for a writer; a version-1 file is migrated
without losing a row."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

import pytest

from pricing.history import HistoryError, PriceHistory

if TYPE_CHECKING:
    from pathlib import Path


def _one_line(exc: pytest.ExceptionInfo[HistoryError], path: Path) -> str:
    text = str(exc.value)
    assert "\n" not in text
    assert str(path) in text
    return text


def test_replace_cannot_rewrite_a_row(history: PriceHistory) -> None:
    a = history.append_attempt("x", url="u", outcome="ok", price_rappen=100)
    m = history.set_manual("x", 200)
    con = sqlite3.connect(history.db_path)
    try:
        for sql, params in (
            (
                "INSERT OR REPLACE INTO attempts (id, item_id, attempted_at, outcome, "
                "price_rappen) VALUES (?, 'x', '2026-01-01', 'ok', 1)",
                (a.id,),
            ),
            (
                "REPLACE INTO attempts (id, item_id, attempted_at, outcome, price_rappen) "
                "VALUES (?, 'x', '2026-01-01', 'ok', 1)",
                (a.id,),
            ),
            (
                "REPLACE INTO manual_prices (id, item_id, set_at, price_rappen) "
                "VALUES (?, 'x', '2026-01-01', 1)",
                (m.id,),
            ),
            (
                "INSERT OR REPLACE INTO manual_prices (id, item_id, set_at, price_rappen) "
                "VALUES (?, 'x', '2026-01-01', 1)",
                (m.id,),
            ),
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql, params)
            con.rollback()
        # a REPLACE of a new id is an ordinary append
        con.execute(
            "REPLACE INTO manual_prices (item_id, set_at, price_rappen) "
            "VALUES ('x', '2026-01-02T00:00:00+00:00', 300)"
        )
        con.commit()
    finally:
        con.close()
    assert [r.price_rappen for r in history.attempts("x")] == [100]
    assert [r.price_rappen for r in history.manual_prices("x")] == [200, 300]


def test_version_1_file_is_migrated_keeping_every_row(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL,
            url TEXT, attempted_at TEXT NOT NULL, page_fetched_at TEXT, http_status INTEGER,
            outcome TEXT NOT NULL, price_rappen INTEGER, high_rappen INTEGER, currency TEXT,
            offer_count INTEGER, method TEXT, parser_version TEXT, mpn TEXT, page_name TEXT,
            from_cache INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '');
        CREATE TABLE manual_prices (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL,
            set_at TEXT NOT NULL, price_rappen INTEGER NOT NULL, currency TEXT NOT NULL
            DEFAULT 'CHF', note TEXT NOT NULL DEFAULT '');
        INSERT INTO attempts (item_id, url, attempted_at, outcome, price_rappen)
            VALUES ('x', 'u', '2026-02-17T10:00:00.000000+00:00', 'ok', 247700);
        PRAGMA user_version = 1;""")
    con.close()
    history = PriceHistory(db)
    [old] = history.attempts("x")
    assert old.price_rappen == 247_700
    assert old.origin == "scrape"
    new = history.append_attempt("x", url="v", outcome="ok", price_rappen=1, origin="saved page")
    assert history.attempts("x")[-1] == new
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2


def test_corrupt_file(tmp_path: Path) -> None:
    db = tmp_path / "prices.sqlite"
    db.write_bytes(b"this is not a database, just some text\n" * 200)
    for read_only in (False, True):
        with pytest.raises(HistoryError) as exc:
            PriceHistory(db, read_only=read_only)
        text = _one_line(exc, db)
        assert "move it away" in text
    assert db.read_bytes().startswith(b"this is not a database")  # nothing overwritten


def test_truncated_file(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite"
    history = PriceHistory(good)
    for i in range(300):
        history.append_attempt(f"item-{i}", url="u" * 200, outcome="ok", price_rappen=i)
    with sqlite3.connect(good) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = good.read_bytes()
    assert len(data) > 20_000
    bad = tmp_path / "truncated.sqlite"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(HistoryError) as exc:
        PriceHistory(bad, read_only=True).attempts()
    _one_line(exc, bad)
    with pytest.raises(HistoryError) as exc:
        PriceHistory(bad).attempts()
    _one_line(exc, bad)


def test_foreign_database(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        con.execute("INSERT INTO invoices VALUES (1, 99.5)")
    for read_only in (False, True):
        with pytest.raises(HistoryError) as exc:
            PriceHistory(db, read_only=read_only)
        assert "not a price history" in _one_line(exc, db)
    with sqlite3.connect(db) as con:  # untouched: no tables of ours were added
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert names == {"invoices"}


def test_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite"
    PriceHistory(db).set_manual("x", 100)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA user_version = 7")
    for read_only in (False, True):
        with pytest.raises(HistoryError) as exc:
            PriceHistory(db, read_only=read_only)
        assert "newer" in _one_line(exc, db)


def test_locked_for_writing_but_readers_do_not_wait(tmp_path: Path) -> None:
    db = tmp_path / "prices.sqlite"
    PriceHistory(db).set_manual("x", 100)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute(
        "INSERT INTO manual_prices (item_id, set_at, price_rappen) "
        "VALUES ('x', '2026-01-01T00:00:00+00:00', 5)"
    )
    try:
        writer = PriceHistory(db, busy_timeout_s=0.2)
        with pytest.raises(HistoryError) as exc:
            writer.set_manual("x", 200)
        assert "locked" in _one_line(exc, db)
        started = time.monotonic()
        reader = PriceHistory(db, read_only=True, busy_timeout_s=30)
        assert [m.price_rappen for m in reader.manual_prices("x")] == [100]
        assert time.monotonic() - started < 0.5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [m.price_rappen for m in PriceHistory(db).manual_prices("x")] == [100]


def test_read_only_never_creates_or_writes(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "none.sqlite"
    history = PriceHistory(db, read_only=True)
    assert history.attempts() == []
    assert history.latest_manual("x") is None
    assert not db.exists()
    assert not db.parent.exists()
    with pytest.raises(HistoryError, match="read-only"):
        history.set_manual("x", 100)
    assert not db.exists()
    PriceHistory(db).set_manual("x", 100)  # created later by a writer: now visible
    assert history.latest_manual("x").price_rappen == 100  # type: ignore[union-attr]
