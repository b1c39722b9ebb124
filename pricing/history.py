"""Append-only price history in SQLite (stdlib ``sqlite3``).

Two tables, both append-only (``UPDATE``/``DELETE`` are rejected by triggers, and so is an
``INSERT OR REPLACE`` / ``REPLACE INTO`` that names an existing row id — a ``BEFORE INSERT``
trigger checks existence, since REPLACE deletes without firing delete triggers):

* ``attempts`` — one row per scrape attempt: item id, URL, time (UTC), HTTP status, outcome
  (``ok`` / ``blocked`` / ``not_found`` / ``parse_error`` / ``mismatch`` / ``suspect`` /
  ``error``), low/high price in Rappen, currency, offer count, extraction method, parser
  version, page MPN/name, whether the page came from the HTTP cache, a reason, and its
  ``origin`` (``scrape`` — refresh or URL check — or ``saved page``, a page saved from the
  user's browser and imported).
* ``manual_prices`` — manual overrides (Rappen, CHF, note, time).

Durability: WAL journal, ``synchronous=FULL``, every write in its own ``BEGIN IMMEDIATE``
transaction on a short-lived connection, so concurrent writers (threads or processes)
serialise on SQLite's lock (``busy_timeout_s``) and a crash loses at most the row being
written. Design: catalog_facts.md §1.9 ("History storage" row).

Bad files never give a traceback: a corrupt, truncated, foreign, locked or newer-schema file
raises :class:`HistoryError`, whose text is one line naming the file and the way out.
Read-only users (``show``, ``history``, ``--live-prices``, the app's tables) open the file
with ``read_only=True``: SQLite URI ``mode=ro``, no schema writes, no wait for a write lock
(WAL readers never wait for writers); a missing file then reads as an empty history.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ORIGINS",
    "OUTCOMES",
    "Attempt",
    "HistoryError",
    "ManualPrice",
    "Origin",
    "Outcome",
    "PriceHistory",
]

Outcome = Literal["ok", "blocked", "not_found", "parse_error", "mismatch", "suspect", "error"]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
Origin = Literal["scrape", "saved page"]
ORIGINS: tuple[str, ...] = Origin.__args__  # type: ignore[attr-defined]
SCHEMA_VERSION = 2
_TABLES = {"attempts", "manual_prices"}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id         TEXT    NOT NULL,
    url             TEXT,
    attempted_at    TEXT    NOT NULL,   -- ISO 8601, UTC
    page_fetched_at TEXT,               -- when the page left the server (cached pages: earlier)
    http_status     INTEGER,
    outcome         TEXT    NOT NULL CHECK (outcome IN ({", ".join(f"'{o}'" for o in OUTCOMES)})),
    price_rappen    INTEGER CHECK (price_rappen IS NULL OR price_rappen >= 0),
    high_rappen     INTEGER CHECK (high_rappen IS NULL OR high_rappen >= 0),
    currency        TEXT,
    offer_count     INTEGER,
    method          TEXT,
    parser_version  TEXT,
    mpn             TEXT,
    page_name       TEXT,
    from_cache      INTEGER NOT NULL DEFAULT 0,
    detail          TEXT    NOT NULL DEFAULT '',
    origin          TEXT    NOT NULL DEFAULT 'scrape'
);
CREATE INDEX IF NOT EXISTS attempts_item ON attempts (item_id, id);
CREATE TABLE IF NOT EXISTS manual_prices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      TEXT    NOT NULL,
    set_at       TEXT    NOT NULL,      -- ISO 8601, UTC
    price_rappen INTEGER NOT NULL CHECK (price_rappen >= 0),
    currency     TEXT    NOT NULL DEFAULT 'CHF',
    note         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS manual_item ON manual_prices (item_id, id);
CREATE TRIGGER IF NOT EXISTS attempts_no_update BEFORE UPDATE ON attempts
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS attempts_no_delete BEFORE DELETE ON attempts
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS manual_no_update BEFORE UPDATE ON manual_prices
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS manual_no_delete BEFORE DELETE ON manual_prices
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
"""
# version 2: attempts.origin, and REPLACE cannot rewrite a row (REPLACE deletes the old row
# without firing DELETE triggers; a BEFORE INSERT trigger sees the row still there)
_SCHEMA_V2 = """
CREATE TRIGGER IF NOT EXISTS attempts_no_replace BEFORE INSERT ON attempts
    WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM attempts WHERE id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS manual_no_replace BEFORE INSERT ON manual_prices
    WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM manual_prices WHERE id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'price history is append-only'); END;
"""


class HistoryError(RuntimeError):
    """The price database cannot be used; ``str(exc)`` is one line naming the file and the
    way out (the price tools then fall back to catalog list prices)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class Attempt:
    """One stored scrape attempt. Prices in Rappen; times timezone-aware UTC."""

    id: int
    item_id: str
    url: str | None
    attempted_at: datetime
    outcome: Outcome
    http_status: int | None = None
    price_rappen: int | None = None
    high_rappen: int | None = None
    currency: str | None = None
    offer_count: int | None = None
    method: str | None = None
    parser_version: str | None = None
    mpn: str | None = None
    page_name: str | None = None
    from_cache: bool = False
    detail: str = ""
    page_fetched_at: datetime | None = None
    origin: Origin = "scrape"

    @property
    def price_as_of(self) -> datetime:
        """When the price was true: the page's fetch time (cached pages are older)."""
        return self.page_fetched_at or self.attempted_at

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["attempted_at"] = _iso(self.attempted_at)
        d["page_fetched_at"] = _iso(self.page_fetched_at)
        d["price_chf"] = None if self.price_rappen is None else self.price_rappen / 100
        return d


@dataclass(frozen=True)
class ManualPrice:
    """A manual price override (Rappen, CHF) with its time (UTC) and note."""

    id: int
    item_id: str
    set_at: datetime
    price_rappen: int
    currency: str = "CHF"
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["set_at"] = _iso(self.set_at)
        d["price_chf"] = self.price_rappen / 100
        return d


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(
        id=row["id"],
        item_id=row["item_id"],
        url=row["url"],
        attempted_at=_dt(row["attempted_at"]) or _now(),
        outcome=row["outcome"],
        http_status=row["http_status"],
        price_rappen=row["price_rappen"],
        high_rappen=row["high_rappen"],
        currency=row["currency"],
        offer_count=row["offer_count"],
        method=row["method"],
        parser_version=row["parser_version"],
        mpn=row["mpn"],
        page_name=row["page_name"],
        from_cache=bool(row["from_cache"]),
        detail=row["detail"],
        page_fetched_at=_dt(row["page_fetched_at"]),
        origin=row["origin"],
    )


def _manual(row: sqlite3.Row) -> ManualPrice:
    return ManualPrice(
        id=row["id"],
        item_id=row["item_id"],
        set_at=_dt(row["set_at"]) or _now(),
        price_rappen=row["price_rappen"],
        currency=row["currency"],
        note=row["note"],
    )


class PriceHistory:
    """Append-only price history at ``db_path`` (created on first use, parents included).

    Safe to share between threads and processes: each call opens its own connection.
    ``read_only=True`` never creates or changes the file (a missing file reads as empty).
    Raises :class:`HistoryError` (one line) for a file that is not a usable price history.
    """

    def __init__(
        self, db_path: str | Path, *, busy_timeout_s: float = 30.0, read_only: bool = False
    ) -> None:
        self.db_path = Path(db_path).expanduser()
        self.busy_timeout_s = busy_timeout_s
        self.read_only = read_only
        if read_only:
            self._missing = not self.db_path.exists()
            if not self._missing:
                with self._guard("read"), self._connect() as con:
                    self._check_file(con)
            return
        self._missing = False
        with self._guard("open"):
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                self._check_file(con)
                con.execute("PRAGMA journal_mode=WAL")
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version < SCHEMA_VERSION:
                    migrate = (
                        "ALTER TABLE attempts ADD COLUMN origin TEXT NOT NULL DEFAULT 'scrape';"
                        if version == 1
                        else ""
                    )
                    con.executescript(
                        f"BEGIN IMMEDIATE; {_SCHEMA} {migrate} {_SCHEMA_V2}"
                        f" PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                    )

    def __repr__(self) -> str:
        return f"PriceHistory({str(self.db_path)!r})"

    # ------------------------------------------------------------------ plumbing
    def _check_file(self, con: sqlite3.Connection) -> None:
        """Raise HistoryError for a newer-schema or foreign database."""
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.db_path}: price history schema version {version} is newer than this "
                f"program's {SCHEMA_VERSION}; update the program, or point "
                "LLM_PLANNER_PRICES_DB (--db) at another file"
            )
        tables = {
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if (version == 0 and tables) or (version > 0 and not tables >= _TABLES):
            raise HistoryError(
                f"{self.db_path}: not a price history (other tables: "
                f"{', '.join(sorted(tables - _TABLES)[:5]) or 'missing ours'}); point "
                "LLM_PLANNER_PRICES_DB (--db) at another file, or move this one away"
            )

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn sqlite3/OS errors into one-line HistoryErrors naming the file and the way out."""
        try:
            yield
        except HistoryError:
            raise
        except sqlite3.Error as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                why = (
                    f"locked by another program (waited {self.busy_timeout_s:g} s); close "
                    "the other refresh or app and try again"
                )
            elif (
                "not a database" in text
                or "malformed" in text
                or "corrupt" in text
                or "disk i/o" in text
                or "no such table" in text
                or "no such column" in text
            ):
                why = (
                    f"damaged or not a price history ({exc}); move it away (it is kept, "
                    "nothing is deleted) and a new one starts, or point "
                    "LLM_PLANNER_PRICES_DB (--db) at another file"
                )
            elif "readonly" in text or "read-only" in text or "unable to open" in text:
                why = (
                    f"cannot be opened for {'reading' if self.read_only else 'writing'} "
                    f"({exc}); check the file's permissions or point "
                    "LLM_PLANNER_PRICES_DB (--db) at another file"
                )
            else:
                why = (
                    f"{type(exc).__name__}: {exc}; point LLM_PLANNER_PRICES_DB (--db) at "
                    "another file"
                )
            raise HistoryError(f"{self.db_path}: price history {why}") from None
        except OSError as exc:
            raise HistoryError(
                f"{self.db_path}: price history cannot be {doing} "
                f"({exc.strerror or exc}); check the path and its "
                "permissions"
            ) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
            con = sqlite3.connect(
                uri, uri=True, timeout=min(self.busy_timeout_s, 1.0), isolation_level=None
            )
        else:
            con = sqlite3.connect(self.db_path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            if not self.read_only:
                con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            yield con
        finally:
            con.close()

    @staticmethod
    @contextmanager
    def _transaction(con: sqlite3.Connection) -> Iterator[None]:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        if self.read_only:
            raise HistoryError(
                f"{self.db_path}: price history opened read-only; nothing was written"
            )
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._guard("written"), self._connect() as con, self._transaction(con):
            cur = con.execute(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values())
            )
            return int(cur.lastrowid or 0)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if self._missing:
            if not self.db_path.exists():
                return []
            self._missing = False
        with self._guard("read"), self._connect() as con:
            return con.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ writing
    def append_attempt(
        self,
        item_id: str,
        *,
        url: str | None,
        outcome: Outcome,
        http_status: int | None = None,
        price_rappen: int | None = None,
        high_rappen: int | None = None,
        currency: str | None = None,
        offer_count: int | None = None,
        method: str | None = None,
        parser_version: str | None = None,
        mpn: str | None = None,
        page_name: str | None = None,
        from_cache: bool = False,
        detail: str = "",
        attempted_at: datetime | None = None,
        page_fetched_at: datetime | None = None,
        origin: Origin = "scrape",
    ) -> Attempt:
        """Append one attempt (committed before returning) and return it with its id."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome '{outcome}'; valid: {', '.join(OUTCOMES)}")
        if origin not in ORIGINS:
            raise ValueError(f"unknown origin '{origin}'; valid: {', '.join(ORIGINS)}")
        when = attempted_at or _now()
        values = {
            "item_id": item_id,
            "url": url,
            "attempted_at": _iso(when),
            "page_fetched_at": _iso(page_fetched_at),
            "http_status": http_status,
            "outcome": outcome,
            "price_rappen": price_rappen,
            "high_rappen": high_rappen,
            "currency": currency,
            "offer_count": offer_count,
            "method": method,
            "parser_version": parser_version,
            "mpn": mpn,
            "page_name": page_name,
            "from_cache": int(from_cache),
            "detail": detail,
            "origin": origin,
        }
        row_id = self._insert("attempts", values)
        return Attempt(
            id=row_id,
            item_id=item_id,
            url=url,
            attempted_at=_dt(_iso(when)) or when,
            outcome=outcome,
            http_status=http_status,
            price_rappen=price_rappen,
            high_rappen=high_rappen,
            currency=currency,
            offer_count=offer_count,
            method=method,
            parser_version=parser_version,
            mpn=mpn,
            page_name=page_name,
            from_cache=from_cache,
            detail=detail,
            page_fetched_at=_dt(_iso(page_fetched_at)),
            origin=origin,
        )

    def set_manual(
        self, item_id: str, rappen: int, note: str | None = None, *, at: datetime | None = None
    ) -> ManualPrice:
        """Record a manual price override of ``rappen`` (CHF Rappen, >= 0)."""
        if isinstance(rappen, bool) or not isinstance(rappen, int) or rappen < 0:
            raise ValueError(f"manual price must be a non-negative int of Rappen, not {rappen!r}")
        when = at or _now()
        row_id = self._insert(
            "manual_prices",
            {
                "item_id": item_id,
                "set_at": _iso(when),
                "price_rappen": rappen,
                "currency": "CHF",
                "note": note or "",
            },
        )
        return ManualPrice(
            id=row_id,
            item_id=item_id,
            set_at=_dt(_iso(when)) or when,
            price_rappen=rappen,
            note=note or "",
        )

    # ------------------------------------------------------------------ reading
    def attempts(self, item_id: str | None = None, *, limit: int | None = None) -> list[Attempt]:
        """Attempts for one item (or all), oldest first; ``limit`` keeps the newest N."""
        where, params = ("WHERE item_id = ?", (item_id,)) if item_id is not None else ("", ())
        sql = f"SELECT * FROM attempts {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_attempt(r) for r in reversed(self._query(sql, params))]

    def manual_prices(self, item_id: str | None = None) -> list[ManualPrice]:
        """Manual overrides for one item (or all), oldest first."""
        where, params = ("WHERE item_id = ?", (item_id,)) if item_id is not None else ("", ())
        return [
            _manual(r)
            for r in self._query(f"SELECT * FROM manual_prices {where} ORDER BY id", params)
        ]

    def latest_attempt(self, item_id: str) -> Attempt | None:
        rows = self._query(
            "SELECT * FROM attempts WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item_id,)
        )
        return _attempt(rows[0]) if rows else None

    def latest_good(
        self, item_id: str, *, url: str | None = None, saved_pages: bool = False
    ) -> Attempt | None:
        """Newest ``ok`` attempt for the item (optionally only from ``url``; with
        ``saved_pages`` an ok imported saved page of the item counts whatever its URL).

        "Newest" is by the date the price was true (a saved page carries the day it was
        saved), then by insertion order."""
        sql = "SELECT * FROM attempts WHERE item_id = ? AND outcome = 'ok'"
        params: tuple[Any, ...] = (item_id,)
        if url is not None and saved_pages:
            sql += " AND (url = ? OR origin = 'saved page')"
            params += (url,)
        elif url is not None:
            sql += " AND url = ?"
            params += (url,)
        elif saved_pages:
            sql += " AND origin = 'saved page'"
        order = " ORDER BY COALESCE(page_fetched_at, attempted_at) DESC, id DESC LIMIT 1"
        rows = self._query(sql + (order if saved_pages else " ORDER BY id DESC LIMIT 1"), params)
        return _attempt(rows[0]) if rows else None

    def latest_manual(self, item_id: str) -> ManualPrice | None:
        rows = self._query(
            "SELECT * FROM manual_prices WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item_id,)
        )
        return _manual(rows[0]) if rows else None

    def suspects_since(
        self, item_id: str, since: datetime | None, *, url: str | None = None
    ) -> list[Attempt]:
        """``suspect`` attempts made after ``since`` (all when None), newest first."""
        sql = "SELECT * FROM attempts WHERE item_id = ? AND outcome = 'suspect'"
        params: tuple[Any, ...] = (item_id,)
        if url is not None:
            sql += " AND url = ?"
            params += (url,)
        found = [_attempt(r) for r in self._query(sql + " ORDER BY id DESC", params)]
        return [a for a in found if since is None or a.attempted_at > since]

    def item_ids(self) -> list[str]:
        """Every item id with at least one attempt or manual price, sorted."""
        rows = self._query("SELECT item_id FROM attempts UNION SELECT item_id FROM manual_prices")
        return sorted(r[0] for r in rows)

    def integrity_check(self) -> str:
        """SQLite ``PRAGMA integrity_check`` result (``"ok"`` when healthy)."""
        return str(self._query("PRAGMA integrity_check")[0][0])
