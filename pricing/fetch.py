"""Polite HTTP fetching of price pages (catalog_facts.md §1.6, §1.7, §1.9).

One :class:`Fetcher` = one requests session that

* names the tool in its User-Agent with the project's public URL (:data:`PROJECT_URL`,
  ``$LLM_PLANNER_USER_AGENT_URL`` overrides it) and asks for Swiss German
  (``Accept-Language: de-CH,de;q=0.9,en;q=0.8``, as the Sage dashboard does, §1.9);
* times out (``timeout_s``) and retries 429/5xx with urllib3 ``Retry`` (exponential backoff,
  ``Retry-After`` honoured, capped by ``retry_after_max_s``); 403 and 404 are never retried;
* obeys robots.txt (``urllib.robotparser``; a 401/403 on robots.txt means "disallow all");
* waits ``min_interval_s`` (±``jitter`` fraction) between requests to one host, measured from
  the end of the previous request of *any* Fetcher in the process (a CLI or app refresh and
  a URL check share one clock per host, and take turns);
* keeps an on-disk HTTP cache (requests-cache, SQLite) for ``cache_ttl_s``; only 200 responses
  that are not block pages are cached;
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

import os
import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
import requests_cache
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pricing import ALLOWLIST_ENV_VAR, USER_AGENT_URL_ENV_VAR, default_cache_dir
from pricing.parse import is_block_page

__all__ = [
    "DEFAULT_ALLOWLIST",
    "DEFAULT_HEADERS",
    "DEFAULT_USER_AGENT",
    "PROJECT_URL",
    "FetchOutcome",
    "FetchResult",
    "Fetcher",
    "URLNotAllowedError",
    "check_url_allowed",
    "default_user_agent",
    "url_allowlist",
]

# The project's public URL, sent in every request's User-Agent so that a site operator can
# see who fetches and why, and reach us. It MUST be the project's real public page
# (repository or homepage): replace this placeholder when the project is published, or set
# $LLM_PLANNER_USER_AGENT_URL (read when a Fetcher is created).
PROJECT_URL = "https://github.com/llm-hardware-planner"
_UA_TEMPLATE = "llm-hardware-planner/0.1 (+{url}; price research, low volume)"
_UA_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%/\-+=&?#!*,:@]*)?")


def default_user_agent() -> str:
    """The User-Agent naming the tool and ``$LLM_PLANNER_USER_AGENT_URL`` or :data:`PROJECT_URL`.

    Raises ValueError when the variable is set but is not a plain http(s) URL.
    """
    url = os.environ.get(USER_AGENT_URL_ENV_VAR, "").strip() or PROJECT_URL
    if not _UA_URL.fullmatch(url):
        raise ValueError(f"${USER_AGENT_URL_ENV_VAR} must be a plain http(s) URL (the "
                         f"project's public page), not {url!r}")
    return _UA_TEMPLATE.format(url=url)


DEFAULT_USER_AGENT = _UA_TEMPLATE.format(url=PROJECT_URL)
DEFAULT_HEADERS = {
    "User-Agent": DEFAULT_USER_AGENT,
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "Accept-Language": "de-CH,de;q=0.9,en;q=0.8",
}
DEFAULT_ALLOWLIST: tuple[str, ...] = ("toppreise.ch",)
_MAX_REDIRECTS = 5

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
        f"price pages from these sites are fetched (${ALLOWLIST_ENV_VAR} sets the list)")


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

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class Fetcher:
    """A polite, caching, robots-obeying HTTP client for price pages. Thread-safe.

    Defaults follow catalog_facts.md §1.9: ``min_interval_s=8`` (±20 % jitter),
    ``timeout_s=20``, ``Retry(total=3, backoff_factor=2, status_forcelist=[429, 500, 502,
    503, 504])``, cache TTL 12 h in ``default_cache_dir()``. Tests pass tiny values.
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
        retry_after_max_s: int = 120,
        cache_dir: str | Path | None = None,
        cache_ttl_s: float = 12 * 3600,
        use_cache: bool = True,
        obey_robots: bool = True,
        user_agent: str | None = None,
        allowlist: Iterable[str] | None = None,
    ) -> None:
        if min_interval_s < 0 or not 0 <= jitter < 1 or timeout_s <= 0:
            raise ValueError("need min_interval_s >= 0, 0 <= jitter < 1 and timeout_s > 0")
        self.min_interval_s = min_interval_s
        self.jitter = jitter
        self.timeout_s = timeout_s
        self.obey_robots = obey_robots
        self.user_agent = user_agent if user_agent is not None else default_user_agent()
        self.allowlist = tuple(allowlist) if allowlist is not None else None
        self._lock = threading.RLock()
        self._robots: dict[str, RobotFileParser] = {}
        self.session: requests.Session
        if use_cache:
            directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self.session = requests_cache.CachedSession(
                str(directory / "http_cache.sqlite"),
                backend="sqlite",
                expire_after=cache_ttl_s,
                allowable_codes=(200,),
                allowable_methods=("GET",),
                cache_control=False,
                filter_fn=_cacheable,
            )
        else:
            self.session = requests.Session()
        self.session.headers.update({**DEFAULT_HEADERS, "User-Agent": self.user_agent})
        retry = Retry(
            total=retries,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max_s,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            retry_after_max=retry_after_max_s,
            raise_on_status=False,
            redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=1)
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
        """Drop ``url`` from the HTTP cache so the next fetch goes to the network."""
        cache = getattr(self.session, "cache", None)
        if cache is not None:
            with self._lock:
                cache.delete(urls=[url])

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
                refusal = self._robots_refusal(current, started)
                if refusal is not None:
                    return refusal
            try:
                response = self._get(current)
            except requests.RequestException as exc:
                return self._result(url, "error", None, started, final_url=current,
                                    detail=_describe_error(exc, self.timeout_s))
            retries += _retry_count(response)
            if response.is_redirect and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            return self._classify(url, current, response, started, retries)
        return self._result(url, "error", None, started, final_url=current,
                            detail=f"more than {_MAX_REDIRECTS} redirects")

    def _check_target(self, url: str) -> None:
        if self.allowlist is not None:
            check_url_allowed(url, allowlist=self.allowlist)
        else:
            _check_shape(url)

    def _get(self, url: str) -> requests.Response:
        """One GET: a fresh cache hit returns at once; a network request waits its turn."""
        if isinstance(self.session, requests_cache.CachedSession):
            cached = self.session.get(url, only_if_cached=True, allow_redirects=False,
                                      timeout=self.timeout_s)
            if getattr(cached, "from_cache", False) and cached.status_code != 504:
                return cached
        host = urlsplit(url).netloc.lower()
        with _HOSTS.lock(host):
            self._wait_turn(host)
            try:
                return self.session.get(url, timeout=self.timeout_s, allow_redirects=False)
            finally:
                _HOSTS.mark_end(host)

    def _wait_turn(self, host: str) -> None:
        last = _HOSTS.last_end(host)
        if last is None or self.min_interval_s <= 0:
            return
        interval = self.min_interval_s * random.uniform(1 - self.jitter, 1 + self.jitter)
        delay = last + interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _robots_refusal(self, url: str, started: float) -> FetchResult | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rp = self._robots.get(origin)
        if rp is None:
            robots_url = origin + "/robots.txt"
            try:
                response = self._get(robots_url)
            except requests.RequestException as exc:
                reason = _describe_error(exc, self.timeout_s)
                return self._result(url, "error", None, started,
                                    detail=f"robots.txt unavailable ({reason}); not fetched")
            status = response.status_code
            rp = RobotFileParser(robots_url)
            if status == 200 and not is_block_page(response.content):
                rp.parse(response.text.splitlines())
            elif status in (401, 403) or (status == 200 and is_block_page(response.content)):
                rp.disallow_all = True
                if status == 403 or is_block_page(response.content):
                    # a bot wall on robots.txt is a block, not a policy: retry next run
                    return self._result(url, "blocked", status, started,
                                        detail=f"robots.txt answered {status} (blocked)")
            elif 400 <= status < 500:
                rp.allow_all = True
            else:
                return self._result(url, "error", status, started,
                                    detail=f"robots.txt answered HTTP {status}; not fetched")
            self._robots[origin] = rp
        if not rp.can_fetch(self.user_agent, url):
            return self._result(url, "error", None, started,
                                detail="disallowed by robots.txt; not fetched")
        return None

    def _classify(self, url: str, final_url: str, response: requests.Response, started: float,
                  retries: int) -> FetchResult:
        status = response.status_code
        content = response.content or b""
        from_cache = bool(getattr(response, "from_cache", False))
        fetched_at = _created_at(response) if from_cache else None
        if status == 200 and not is_block_page(content):
            return self._result(url, "ok", status, started, content=content, final_url=final_url,
                                from_cache=from_cache, fetched_at=fetched_at, retries=retries,
                                detail="from cache" if from_cache else "")
        if status in (403, 429) or is_block_page(content):
            why = {403: "HTTP 403 (bot wall)", 429: f"HTTP 429 after {retries} retries"}.get(
                status, f"block page served with HTTP {status}")
            if is_block_page(content):
                why += ": 'massive, ongoing attacks' page"
            return self._result(url, "blocked", status, started, content=content,
                                final_url=final_url, retries=retries, detail=why)
        if status in (404, 410):
            return self._result(url, "not_found", status, started, content=content,
                                final_url=final_url, retries=retries, detail=f"HTTP {status}")
        suffix = f" after {retries} retries" if retries else ""
        return self._result(url, "error", status, started, content=content, final_url=final_url,
                            retries=retries, detail=f"HTTP {status}{suffix}")

    def _result(self, url: str, outcome: FetchOutcome, status: int | None, started: float, *,
                content: bytes = b"", final_url: str | None = None, from_cache: bool = False,
                fetched_at: datetime | None = None, retries: int = 0,
                detail: str = "") -> FetchResult:
        return FetchResult(
            url=url, outcome=outcome, status=status, content=content,
            final_url=final_url or url, from_cache=from_cache,
            fetched_at=fetched_at or datetime.now(UTC),
            elapsed_s=time.monotonic() - started, retries=retries, detail=detail,
        )


def _cacheable(response: requests.Response) -> bool:
    """requests-cache filter: never store block pages (even when served with 200)."""
    return response.status_code == 200 and not is_block_page(response.content or b"")


def _retry_count(response: requests.Response) -> int:
    retries: Any = getattr(getattr(response, "raw", None), "retries", None)
    history = getattr(retries, "history", None)
    return len(history) if history else 0


def _created_at(response: requests.Response) -> datetime | None:
    created = getattr(response, "created_at", None)
    if not isinstance(created, datetime):
        return None
    return created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)


def _describe_error(exc: requests.RequestException, timeout_s: float) -> str:
    text = str(exc)
    if isinstance(exc, requests.Timeout) or "timed out" in text.lower():
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        return "truncated body (connection closed before Content-Length bytes)"
    if isinstance(exc, requests.ConnectionError):
        lowered = text.lower()
        if "reset" in lowered or "aborted" in lowered or "remotedisconnected" in lowered:
            return "connection reset by server"
        if "refused" in lowered:
            return "connection refused"
        return f"connection failed: {text[:160]}"
    return f"{type(exc).__name__}: {text[:160]}"
