"""Polite HTTP fetching of price pages (catalog_facts.md §1.6, §1.7, §1.9).

One :class:`Fetcher` = one requests session that

* names the tool and its version in its User-Agent — never a browser's — with a contact
  URL only when one is configured (``$LLM_PLANNER_USER_AGENT_URL``), and asks for Swiss
  German (``Accept-Language: de-CH,de;q=0.9,en;q=0.8``, as the Sage dashboard does, §1.9);
* fails fast: one overall deadline per request (``timeout_s``: connect, headers and the whole
  body, read in pieces as they arrive) and a body-size cap (``max_body_bytes``); connection
  errors (DNS, refused, unreachable) are never retried, and a host that could not be reached
  is remembered, so the fetcher's later requests to it return at once without waiting;
* retries 429/5xx only (``retries``; exponential backoff, ``Retry-After`` honoured up to
  ``retry_after_max_s``); 403 and 404 are never retried;
* obeys robots.txt (``urllib.robotparser``; a 401/403 on robots.txt means "disallow all");
* waits ``min_interval_s`` (±``jitter`` fraction) between requests to one host, measured from
  the end of the previous request of *any* Fetcher in the process (a CLI or app refresh and
  a URL check share one clock per host, and take turns);
* keeps an on-disk page cache (SQLite, ``http_pages.sqlite`` in the cache dir) for
  ``cache_ttl_s``; only 200 responses that are not block pages are cached;
* classifies every outcome as ``ok`` / ``blocked`` (403, 429 after retries, or the
  "massive, ongoing attacks" page) / ``not_found`` (404/410) / ``error`` — it never raises
  for network trouble;
* never fetches toppreise ``/ext_*`` click-out links (disallowed in their robots.txt per a
  public scraper, §1.1).

URLs typed by a user must pass :func:`check_url_allowed` first (host allowlist:
``$LLM_PLANNER_URL_ALLOWLIST``, comma-separated, default toppreise.ch; subdomains of an
allowed host are allowed); catalog URLs are trusted configuration.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
import os
import random
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests.adapters import HTTPAdapter

from pricing import ALLOWLIST_ENV_VAR, USER_AGENT_URL_ENV_VAR, __version__, default_cache_dir
from pricing.pages import is_block_page

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "DEFAULT_ALLOWLIST",
    "DEFAULT_HEADERS",
    "DEFAULT_USER_AGENT",
    "MAX_BODY_BYTES",
    "FetchOutcome",
    "FetchResult",
    "Fetcher",
    "URLNotAllowedError",
    "check_url_allowed",
    "default_user_agent",
    "url_allowlist",
]

# The User-Agent names the tool and its version, never a browser's: toppreise.ch turns tools
# away, and the honest routes around that are a page saved from the user's own browser
# (``python -m pricing import``) or a manual price. A contact URL is optional configuration
# ($LLM_PLANNER_USER_AGENT_URL); there is no placeholder.
_UA_BASE = f"llm-hardware-planner/{__version__}"
_UA_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%/\-+=&?#!*,:@]*)?")


def default_user_agent() -> str:
    """``llm-hardware-planner/VERSION (price research, low volume)``, with ``; +URL`` when
    ``$LLM_PLANNER_USER_AGENT_URL`` names a contact page.

    Raises ValueError when the variable is set but is not a plain http(s) URL.
    """
    url = os.environ.get(USER_AGENT_URL_ENV_VAR, "").strip()
    if not url:
        return DEFAULT_USER_AGENT
    if not _UA_URL.fullmatch(url):
        raise ValueError(
            f"${USER_AGENT_URL_ENV_VAR} must be a plain http(s) URL (a contact "
            f"page for site operators), not {url!r}"
        )
    return f"{_UA_BASE} (price research, low volume; +{url})"


DEFAULT_USER_AGENT = f"{_UA_BASE} (price research, low volume)"
DEFAULT_HEADERS = {
    "User-Agent": DEFAULT_USER_AGENT,
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "Accept-Language": "de-CH,de;q=0.9,en;q=0.8",
}
DEFAULT_ALLOWLIST: tuple[str, ...] = ("toppreise.ch",)
_MAX_REDIRECTS = 5
MAX_BODY_BYTES = 16 * 2**20  # a real toppreise product page is ~0.6 MB
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

FetchOutcome = Literal["ok", "blocked", "not_found", "error"]


class URLNotAllowedError(ValueError):
    """A URL is not on the host allowlist (or is malformed / a click-out link)."""


def _norm_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _check_shape(url: str) -> tuple[str, str]:
    """Scheme and normalised host of an http(s) URL; raise URLNotAllowedError otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise URLNotAllowedError("empty URL")
    if re.search(r"[\s\\\x00-\x1f\x7f]", url):
        raise URLNotAllowedError(f"URL contains whitespace, control characters or '\\': {url!r}")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise URLNotAllowedError(f"malformed URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise URLNotAllowedError(f"only http(s) URLs can be fetched, not {url!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise URLNotAllowedError(f"URLs with user info are refused: {url!r}")
    if not host:
        raise URLNotAllowedError(f"URL has no host: {url!r}")
    if re.match(r"/ext_", parts.path):
        raise URLNotAllowedError(f"toppreise click-out links (/ext_*) are never fetched: {url!r}")
    return parts.scheme, _norm_host(host)


def url_allowlist() -> tuple[str, ...]:
    """Hosts whose pages a user may ask for: ``$LLM_PLANNER_URL_ALLOWLIST`` (comma-separated,
    e.g. ``toppreise.ch,digitec.ch``; a full URL counts as its host), else toppreise.ch."""
    raw = os.environ.get(ALLOWLIST_ENV_VAR, "")
    hosts = []
    for entry in raw.split(","):
        entry = entry.strip()
        if "://" in entry:
            entry = urlsplit(entry).hostname or ""
        if entry:
            hosts.append(_norm_host(entry))
    return tuple(hosts) or DEFAULT_ALLOWLIST


def check_url_allowed(url: str, *, allowlist: Iterable[str] | None = None) -> str:
    """Return ``url`` if its host is an allowlisted domain or a subdomain of one.

    ``allowlist`` defaults to :func:`url_allowlist` (env var, else toppreise.ch).
    ``toppreise.ch`` allows ``toppreise.ch`` and ``www.toppreise.ch`` but not
    ``toppreise.ch.evil.com`` or ``eviltoppreise.ch``. Raises :class:`URLNotAllowedError`
    with the reason (also for non-http(s) schemes, user info, and ``/ext_*`` click-outs).
    """
    _, host = _check_shape(url)
    if allowlist is None:
        allowlist = url_allowlist()
    allowed = [_norm_host(a) for a in allowlist if a and a.strip()]
    if any(host == a or host.endswith("." + a) for a in allowed):
        return url
    raise URLNotAllowedError(
        f"host '{host}' is not on the allowlist ({', '.join(allowed) or 'empty'}); only "
        f"price pages from these sites are fetched (${ALLOWLIST_ENV_VAR} sets the list)"
    )


class _HostClock:
    """Process-wide per-host turn-taking: one lock per host (held while waiting and during
    the request) and the monotonic time the last request to it ended, shared by every
    Fetcher, so two fetchers never hit one host closer than ``min_interval_s``."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._ends: dict[str, float] = {}

    def lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())

    def last_end(self, host: str) -> float | None:
        with self._guard:
            return self._ends.get(host)

    def mark_end(self, host: str) -> None:
        with self._guard:
            self._ends[host] = time.monotonic()


_HOSTS = _HostClock()


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one page fetch. ``fetched_at`` is when the page left the server (UTC):
    for a cached response that is the original fetch, not now."""

    url: str
    outcome: FetchOutcome
    status: int | None
    content: bytes
    final_url: str
    from_cache: bool
    fetched_at: datetime
    elapsed_s: float
    retries: int
    detail: str
    unreachable: bool = False  # DNS/connection failure: the host could not be reached

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


class _Reply:
    """One HTTP answer, fully read: status, headers, body; from the cache or the network."""

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        content: bytes,
        *,
        from_cache: bool = False,
        fetched_at: datetime | None = None,
        retries: int = 0,
    ) -> None:
        self.status, self.headers, self.content = status, headers, content
        self.from_cache, self.fetched_at, self.retries = from_cache, fetched_at, retries

    @property
    def location(self) -> str | None:
        if 300 <= self.status < 400:
            return self.headers.get("location") or None
        return None


class _FetchError(Exception):
    """A request that produced no usable answer; ``unreachable`` for DNS/connect failures."""

    def __init__(self, detail: str, *, unreachable: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.unreachable = detail, unreachable


class _PageCache:
    """Pages by URL in one SQLite file (a cache, not history: entries expire and are replaced).
    Any problem with the file counts as a miss: the cache never stops a fetch."""

    def __init__(self, path: Path, ttl_s: float) -> None:
        self.path, self.ttl_s = path, ttl_s
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, "
                "fetched_at REAL NOT NULL, content BLOB NOT NULL)"
            )

    @contextlib.contextmanager
    def _connect(self) -> Any:
        con = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
        try:
            yield con
        finally:
            con.close()

    def get(self, url: str) -> tuple[bytes, datetime] | None:
        try:
            with self._connect() as con:
                row = con.execute(
                    "SELECT content, fetched_at FROM pages WHERE url = ?", (url,)
                ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or time.time() - row[1] > self.ttl_s:
            return None
        return bytes(row[0]), datetime.fromtimestamp(row[1], UTC)

    def put(self, url: str, content: bytes) -> None:
        with contextlib.suppress(sqlite3.Error), self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?)", (url, time.time(), content)
            )

    def delete(self, url: str) -> None:
        with contextlib.suppress(sqlite3.Error), self._connect() as con:
            con.execute("DELETE FROM pages WHERE url = ?", (url,))


class Fetcher:
    """A polite, fail-fast, caching, robots-obeying HTTP client for price pages. Thread-safe.

    Defaults follow catalog_facts.md §1.9: ``min_interval_s=8`` (±20 % jitter), an overall
    deadline ``timeout_s=20`` per request (connect + whole body), at most ``max_body_bytes``
    (16 MiB), ``retries=3`` on 429/500/502/503/504 only with backoff ``backoff_factor=2``
    (× 2^n, at most ``backoff_max_s``) or the server's ``Retry-After`` (at most
    ``retry_after_max_s``), no retry on connection errors, cache TTL 12 h in
    ``default_cache_dir()``. Tests pass tiny values.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = 8.0,
        jitter: float = 0.2,
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_factor: float = 2.0,
        backoff_max_s: float = 60.0,
        retry_after_max_s: float = 120.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        cache_dir: str | Path | None = None,
        cache_ttl_s: float = 12 * 3600,
        use_cache: bool = True,
        obey_robots: bool = True,
        user_agent: str | None = None,
        allowlist: Iterable[str] | None = None,
    ) -> None:
        numbers = {
            "min_interval_s": min_interval_s,
            "jitter": jitter,
            "timeout_s": timeout_s,
            "backoff_factor": backoff_factor,
            "backoff_max_s": backoff_max_s,
            "retry_after_max_s": retry_after_max_s,
            "cache_ttl_s": cache_ttl_s,
        }
        for name, value in numbers.items():
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        if min_interval_s < 0 or not 0 <= jitter < 1 or timeout_s <= 0:
            raise ValueError("need min_interval_s >= 0, 0 <= jitter < 1 and timeout_s > 0")
        if retries < 0 or max_body_bytes <= 0:
            raise ValueError("need retries >= 0 and max_body_bytes > 0")
        self.min_interval_s = min_interval_s
        self.jitter = jitter
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.max_body_bytes = max_body_bytes
        self.cache_ttl_s = cache_ttl_s
        self.obey_robots = obey_robots
        self.user_agent = user_agent if user_agent is not None else default_user_agent()
        self.allowlist = tuple(allowlist) if allowlist is not None else None
        self._lock = threading.RLock()
        self._robots: dict[str, RobotFileParser] = {}
        self._down: dict[str, str] = {}  # host -> why it could not be reached
        self.cache: _PageCache | None = None
        if use_cache:
            directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self.cache = _PageCache(directory / "http_pages.sqlite", cache_ttl_s)
        self.session = requests.Session()
        self.session.headers.update({**DEFAULT_HEADERS, "User-Agent": self.user_agent})
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=1)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def forget(self, url: str) -> None:
        """Drop ``url`` from the page cache so the next fetch goes to the network."""
        if self.cache is not None:
            self.cache.delete(url)

    def unreachable_hosts(self) -> dict[str, str]:
        """Hosts this fetcher could not reach, with the reason (requests to them are skipped)."""
        with self._lock:
            return dict(self._down)

    # ------------------------------------------------------------------ fetching
    def fetch(self, url: str, *, allowlist: Iterable[str] | None = None) -> FetchResult:
        """GET ``url`` politely; never raises for network or HTTP errors (see ``outcome``).

        ``allowlist`` (for URLs a user typed) restricts this fetch and every redirect hop to
        those hosts, on top of the fetcher's own ``allowlist``.
        """
        started = time.monotonic()
        with self._lock:
            try:
                return self._fetch(url, started, allowlist)
            except URLNotAllowedError as exc:
                return self._result(url, "error", None, started, detail=str(exc))

    def _fetch(self, url: str, started: float, allowlist: Iterable[str] | None) -> FetchResult:
        current = url
        retries = 0
        extra = tuple(allowlist) if allowlist is not None else None
        for _hop in range(_MAX_REDIRECTS + 1):
            self._check_target(current)
            if extra is not None:
                check_url_allowed(current, allowlist=extra)
            if self.obey_robots:
                refusal = self._robots_refusal(current, url, started)
                if refusal is not None:
                    return refusal
            try:
                reply = self._get(current)
            except _FetchError as exc:
                return self._result(
                    url,
                    "error",
                    None,
                    started,
                    final_url=current,
                    detail=exc.detail,
                    unreachable=exc.unreachable,
                )
            retries += reply.retries
            if reply.location:
                current = urljoin(current, reply.location)
                continue
            return self._classify(url, current, reply, started, retries)
        return self._result(
            url,
            "error",
            None,
            started,
            final_url=current,
            detail=f"more than {_MAX_REDIRECTS} redirects",
        )

    def _check_target(self, url: str) -> None:
        if self.allowlist is not None:
            check_url_allowed(url, allowlist=self.allowlist)
        else:
            _check_shape(url)

    def _get(self, url: str) -> _Reply:
        """One GET: a fresh cache hit returns at once; else the network (after waiting the
        host's turn), retrying 429/5xx. Raises _FetchError when there is no answer."""
        host = urlsplit(url).netloc.lower()
        hostname = (urlsplit(url).hostname or "").lower()
        if hostname in self._down:
            raise _FetchError(
                f"not fetched: {hostname} could not be reached earlier in "
                f"this run ({self._down[hostname]})",
                unreachable=True,
            )
        if self.cache is not None:
            hit = self.cache.get(url)
            if hit is not None:
                return _Reply(200, {}, hit[0], from_cache=True, fetched_at=hit[1])
        retries = 0
        while True:
            with _HOSTS.lock(host):
                self._wait_turn(host)
                try:
                    reply = self._download(url)
                except _FetchError as exc:
                    if exc.unreachable:
                        self._down[hostname] = exc.detail
                    raise
                finally:
                    _HOSTS.mark_end(host)
            if reply.status not in _RETRY_STATUSES or retries >= self.retries:
                break
            time.sleep(self._retry_wait(reply, retries))
            retries += 1
        reply.retries = retries
        if self.cache is not None and reply.status == 200 and not is_block_page(reply.content):
            self.cache.put(url, reply.content)
        return reply

    def _retry_wait(self, reply: _Reply, attempt: int) -> float:
        """Seconds before retry ``attempt`` + 1: ``Retry-After`` (seconds or HTTP date) when
        given, else exponential backoff; capped."""
        value = reply.headers.get("retry-after", "").strip()
        if value:
            seconds: float | None = None
            if value.isdigit():
                seconds = float(value)
            else:
                when = email.utils.parsedate_to_datetime(value) if value else None
                if when is not None:
                    when = when if when.tzinfo else when.replace(tzinfo=UTC)
                    seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
            if seconds is not None:
                return min(seconds, self.retry_after_max_s)
        return min(self.backoff_factor * 2.0**attempt, self.backoff_max_s)

    def _download(self, url: str) -> _Reply:
        """One request under one deadline (connect + headers + whole body) and the size cap."""
        deadline = time.monotonic() + self.timeout_s
        try:
            with self.session.get(
                url, timeout=(self.timeout_s, self.timeout_s), allow_redirects=False, stream=True
            ) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                if 300 <= response.status_code < 400:
                    return _Reply(response.status_code, headers, b"")
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise _FetchError(self._too_big())
                body = bytearray()
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _FetchError(
                            f"timed out: no complete answer within "
                            f"{self.timeout_s:g} s (connect + whole body)"
                        )
                    _set_socket_timeout(response, left)
                    chunk = response.raw.read1(65536, decode_content=True)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > self.max_body_bytes:
                        raise _FetchError(self._too_big())
                _set_socket_timeout(response, self.timeout_s)  # the connection is reused
                return _Reply(response.status_code, headers, bytes(body))
        except _FetchError:
            raise
        except (requests.RequestException, OSError, ValueError) as exc:
            detail, unreachable = _describe_error(exc, self.timeout_s)
            raise _FetchError(detail, unreachable=unreachable) from None
        except Exception as exc:  # urllib3 errors raised from read1 (ProtocolError, ...)
            detail, unreachable = _describe_error(exc, self.timeout_s)
            raise _FetchError(detail, unreachable=unreachable) from None

    def _too_big(self) -> str:
        return f"body larger than {self.max_body_bytes / 2**20:g} MiB; not a product page"

    def _wait_turn(self, host: str) -> None:
        last = _HOSTS.last_end(host)
        if last is None or self.min_interval_s <= 0:
            return
        interval = self.min_interval_s * random.uniform(1 - self.jitter, 1 + self.jitter)
        delay = last + interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _robots_refusal(self, url: str, asked: str, started: float) -> FetchResult | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rp = self._robots.get(origin)
        if rp is None:
            robots_url = origin + "/robots.txt"
            try:
                reply = self._get(robots_url)
            except _FetchError as exc:
                return self._result(
                    asked,
                    "error",
                    None,
                    started,
                    final_url=url,
                    detail=f"robots.txt unavailable ({exc.detail}); not fetched",
                    unreachable=exc.unreachable,
                )
            status, blocked = reply.status, is_block_page(reply.content)
            rp = RobotFileParser(robots_url)
            if status == 200 and not blocked:
                rp.parse(reply.content.decode("utf-8", "replace").splitlines())
            elif status in (401, 403) or (status == 200 and blocked):
                rp.disallow_all = True  # type: ignore[attr-defined]  # set by parse()
                if status == 403 or blocked:
                    # a bot wall on robots.txt is a block, not a policy: retry next run
                    return self._result(
                        asked,
                        "blocked",
                        status,
                        started,
                        final_url=url,
                        detail=f"robots.txt answered {status} (blocked)",
                    )
            elif 300 <= status < 500:
                rp.allow_all = True  # type: ignore[attr-defined]  # set by parse()
            else:
                return self._result(
                    asked,
                    "error",
                    status,
                    started,
                    final_url=url,
                    detail=f"robots.txt answered HTTP {status}; not fetched",
                )
            self._robots[origin] = rp
        if not rp.can_fetch(self.user_agent, url):
            return self._result(
                asked,
                "error",
                None,
                started,
                final_url=url,
                detail="disallowed by robots.txt; not fetched",
            )
        return None

    def _classify(
        self, url: str, final_url: str, reply: _Reply, started: float, retries: int
    ) -> FetchResult:
        status, content = reply.status, reply.content
        if status == 200 and not is_block_page(content):
            return self._result(
                url,
                "ok",
                status,
                started,
                content=content,
                final_url=final_url,
                from_cache=reply.from_cache,
                fetched_at=reply.fetched_at,
                retries=retries,
                detail="from cache" if reply.from_cache else "",
            )
        if status in (403, 429) or is_block_page(content):
            why = {403: "HTTP 403 (bot wall)", 429: f"HTTP 429 after {retries} retries"}.get(
                status, f"block page served with HTTP {status}"
            )
            if is_block_page(content):
                why += ": 'massive, ongoing attacks' page"
            return self._result(
                url,
                "blocked",
                status,
                started,
                content=content,
                final_url=final_url,
                retries=retries,
                detail=why,
            )
        if status in (404, 410):
            return self._result(
                url,
                "not_found",
                status,
                started,
                content=content,
                final_url=final_url,
                retries=retries,
                detail=f"HTTP {status}",
            )
        suffix = f" after {retries} retries" if retries else ""
        return self._result(
            url,
            "error",
            status,
            started,
            content=content,
            final_url=final_url,
            retries=retries,
            detail=f"HTTP {status}{suffix}",
        )

    def _result(
        self,
        url: str,
        outcome: FetchOutcome,
        status: int | None,
        started: float,
        *,
        content: bytes = b"",
        final_url: str | None = None,
        from_cache: bool = False,
        fetched_at: datetime | None = None,
        retries: int = 0,
        detail: str = "",
        unreachable: bool = False,
    ) -> FetchResult:
        return FetchResult(
            url=url,
            outcome=outcome,
            status=status,
            content=content,
            final_url=final_url or url,
            from_cache=from_cache,
            fetched_at=fetched_at or datetime.now(UTC),
            elapsed_s=time.monotonic() - started,
            retries=retries,
            detail=detail,
            unreachable=unreachable,
        )


def _set_socket_timeout(response: requests.Response, seconds: float) -> None:
    """Bound the next socket read by what is left of the deadline (best effort)."""
    with contextlib.suppress(AttributeError, OSError, TypeError):
        response.raw.connection.sock.settimeout(max(seconds, 0.01))  # type: ignore[union-attr]


def _describe_error(exc: BaseException, timeout_s: float) -> tuple[str, bool]:
    """(one-line reason, host unreachable?) for an exception of a request."""
    text = str(exc)
    lowered = text.lower()
    chain = f"{text} {exc.__cause__!s} {exc.__context__!s}".lower()
    if (
        "nameresolution" in chain
        or "name or service not known" in chain
        or "getaddrinfo" in chain
        or "temporary failure in name resolution" in chain
        or "no address associated" in chain
        or "nodename nor servname" in chain
    ):
        return "DNS lookup failed: offline or no such host", True
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"timed out: could not connect within {timeout_s:g} s", True
    if isinstance(exc, requests.Timeout) or "timed out" in lowered:
        return (
            f"timed out: no complete answer within {timeout_s:g} s (connect + whole body)",
            False,
        )
    if (
        isinstance(exc, requests.exceptions.ChunkedEncodingError)
        or "incompleteread" in lowered
        or "incomplete" in lowered
    ):
        return "truncated body (connection closed before Content-Length bytes)", False
    if "refused" in chain:
        return "connection refused", True
    if "network is unreachable" in chain or "no route to host" in chain:
        return "network unreachable: offline?", True
    if "reset" in chain or "aborted" in chain or "remotedisconnected" in chain:
        return "connection reset by server", False
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed: {text[:160]}", False
    return f"{type(exc).__name__}: {text[:160]}", False
