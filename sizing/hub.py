"""Fetch a Hugging Face model's ``config.json`` (and ``hf_quant_config.json``) by repo id.

One GET per file from ``{endpoint}/{repo}/resolve/{revision}/{file}``: no retries, one
deadline for the whole fetch, at most 16 MiB per file, UTF-8 JSON objects only. Every fetch is
cached on disk; a later network failure (or offline mode) falls back to the cached copy. Every
failure is a one-line :class:`HubError` naming the repo and what the user can do instead.

Environment: ``HF_ENDPOINT`` (default https://huggingface.co), ``HF_TOKEN`` (sent as a Bearer
token, never shown), ``HF_HUB_OFFLINE=1`` (cache only), ``LLM_PLANNER_CACHE_DIR`` (the
planner's cache root; configs go to its ``hf_configs`` folder).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3

from sizing.catalog import APP_NAME, cache_root, model_from_config

__all__ = ["HubConfig", "HubError", "fetch_config", "is_repo_id", "model_from_hub"]

HUB_WEB = "https://huggingface.co"  # where users browse, download and cite
MAX_BYTES = 16 * 2**20  # the largest real config.json seen: 3 MB (a ModelOpt per-module map)
MAX_DEPTH = 64  # nesting levels of JSON objects and arrays
CONFIG_FILE = "config.json"
QUANT_FILE = "hf_quant_config.json"  # ModelOpt (NVFP4/FP8) checkpoints keep quantization here
_PART = re.compile(r"[A-Za-z0-9._-]{1,96}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")  # branch, tag, commit, refs/pr/N


class HubError(ValueError):
    """One-line message, suitable to print as-is (CLI exit 2 / app error box)."""


class _TransientError(HubError):
    """The Hub could not be reached or is overloaded (a cached copy may stand in)."""


@dataclass(frozen=True, kw_only=True)
class HubConfig:
    """A model's config files as served by the Hub, or as last cached."""

    repo_id: str
    revision: str  # "main" unless given
    config: dict[str, Any]  # parsed config.json
    hf_quant_config: dict[str, Any] | None  # parsed hf_quant_config.json; None when absent
    source_url: str  # huggingface.co blob URL of config.json, to cite
    from_cache: bool  # True when read from the disk cache


def is_repo_id(text: str) -> bool:
    """True for an ``org/name`` Hub repo id (1-96 of ``[A-Za-z0-9._-]`` per part, no ``--`` or
    ``..``, not starting or ending with ``-`` or ``.``) that is not an existing local path."""
    return _repo_shape_ok(text) and not Path(text).exists()


def fetch_config(
    repo_id: str,
    *,
    revision: str = "main",
    endpoint: str | None = None,
    cache_dir: Path | None = None,
    timeout_s: float = 10.0,
    offline: bool | None = None,
    token: str | None = None,
) -> HubConfig:
    """Download (or read from the cache) ``config.json`` and ``hf_quant_config.json``.

    ``endpoint`` defaults to ``$HF_ENDPOINT`` or https://huggingface.co; ``cache_dir`` to
    ``$LLM_PLANNER_CACHE_DIR/hf_configs`` or the user cache dir; ``timeout_s`` (seconds) bounds
    the whole fetch, connect and body of both files; ``offline`` defaults to
    ``$HF_HUB_OFFLINE``; ``token`` to ``$HF_TOKEN``. Raises :class:`HubError`.
    """
    repo = _clean(repo_id)
    _check_request(repo_id, revision, timeout_s)
    base = _endpoint(endpoint)
    token = _token(token)
    if offline is None:
        offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    rev = quote(revision, safe="")
    folder = _cache_root(cache_dir) / repo_id.replace("/", "--") / rev
    source = f"{HUB_WEB}/{repo_id}/blob/{rev}/{CONFIG_FILE}"

    if offline:
        cached = _read_cache(folder, repo_id, revision, source)
        if cached is None:
            raise HubError(
                f"{repo}: offline (HF_HUB_OFFLINE) and no cached config.json for "
                f"revision {revision}; {_upload_hint(repo)}"
            )
        return cached
    try:
        raw = _download(repo_id, revision, f"{base}/{repo_id}/resolve/{rev}/", token, timeout_s)
    except _TransientError:
        cached = _read_cache(folder, repo_id, revision, source)
        if cached is None:
            raise
        return cached
    config_bytes, quant_bytes = raw[CONFIG_FILE], raw[QUANT_FILE]
    if config_bytes is None:  # _download asks for it with optional=False
        raise HubError(f"{repo}: no {CONFIG_FILE} in the repository; {_upload_hint(repo)}")
    config = _parse(config_bytes, f"{repo}: {CONFIG_FILE}")
    quant = None if quant_bytes is None else _parse(quant_bytes, f"{repo}: {QUANT_FILE}")
    _write_cache(folder, raw)
    return HubConfig(
        repo_id=repo_id,
        revision=revision,
        config=config,
        hf_quant_config=quant,
        source_url=source,
        from_cache=False,
    )


def _check_request(repo_id: str, revision: str, timeout_s: float) -> None:
    """HubError (one line) for a malformed repo id or revision or a non-positive timeout."""
    repo = _clean(repo_id)
    if not _repo_shape_ok(repo_id):
        raise HubError(f"'{repo}' is not a Hugging Face repo id ('org/name', e.g. Qwen/Qwen3-8B)")
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise HubError(f"{repo}: '{_clean(revision)}' is not a branch, tag or commit hash")
    if not timeout_s > 0:
        raise HubError(f"{repo}: timeout must be a positive number of seconds")


def _endpoint(endpoint: str | None) -> str:
    """The Hub's base URL: `endpoint`, ``$HF_ENDPOINT`` or https://huggingface.co."""
    base = (endpoint or os.environ.get("HF_ENDPOINT", "").strip() or HUB_WEB).rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
        raise HubError(f"HF_ENDPOINT must be an http(s) URL, not '{_clean(base)}'")
    return base


def _token(token: str | None) -> str:
    """The access token: `token` or ``$HF_TOKEN`` ("" for none)."""
    token = (token if token is not None else os.environ.get("HF_TOKEN", "")).strip()
    if token and not (token.isascii() and token.isprintable()):
        raise HubError("HF_TOKEN contains characters a token cannot have")
    return token


def _repo_shape_ok(text: object) -> bool:
    parts = text.split("/") if isinstance(text, str) else []
    return len(parts) == 2 and all(
        _PART.fullmatch(p)
        and "--" not in p
        and ".." not in p
        and p[0] not in "-."
        and p[-1] not in "-."
        for p in parts
    )


def _clean(text: object, limit: int = 200) -> str:
    """``text`` without control characters (one printable line), at most ``limit`` chars."""
    return "".join(ch for ch in str(text) if ch.isprintable())[:limit]


def _upload_hint(repo: str) -> str:
    return f"download config.json from {HUB_WEB}/{repo} and upload it (or pass its path)"


def _user_agent() -> str:
    try:
        version = metadata.version(APP_NAME)
    except metadata.PackageNotFoundError:
        version = "0.1.0"  # pyproject.toml, when run from a checkout
    return f"{APP_NAME}/{version}"


def _download(
    repo: str, revision: str, base_url: str, token: str, timeout_s: float
) -> dict[str, bytes | None]:
    """Both files' bytes (``None``: no hf_quant_config.json), within ``timeout_s`` in total."""
    deadline = time.monotonic() + timeout_s
    headers = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}  # exact size cap
    if token:
        headers["Authorization"] = f"Bearer {token}"  # requests drops it on cross-host redirects
    host = _clean(urlsplit(base_url).netloc)
    with requests.Session() as session:  # the default adapter never retries
        session.max_redirects = 5
        files: dict[str, bytes | None] = {}
        for name in (CONFIG_FILE, QUANT_FILE):
            try:
                files[name] = _get(
                    session,
                    base_url + name,
                    headers,
                    deadline,
                    repo,
                    revision,
                    optional=name == QUANT_FILE,
                    token_sent=bool(token),
                )
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                OSError,
                http.client.HTTPException,
            ) as exc:
                raise _TransientError(
                    f"{repo}: cannot reach {host} ({_reason(exc, timeout_s)}); {_upload_hint(repo)}"
                ) from None
    return files


def _get(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    deadline: float,
    repo: str,
    revision: str,
    *,
    optional: bool,
    token_sent: bool,
) -> bytes | None:
    """The body of ``url``, read in pieces and abandoned at ``deadline`` (monotonic seconds)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise requests.Timeout
    name = url.rsplit("/", 1)[-1]
    with session.get(url, headers=headers, timeout=(left, left), stream=True) as resp:
        if resp.status_code == 404 and optional:
            return None
        if resp.status_code != 200:
            raise _status_error(resp, repo, revision, token_sent)
        too_big = HubError(
            f"{repo}: {name} is larger than {MAX_BYTES // 2**20} MiB; not a model config"
        )
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            raise too_big
        body = bytearray()
        while chunk := resp.raw.read1(65536, decode_content=True):  # whatever has arrived
            body += chunk
            if len(body) > MAX_BYTES:
                raise too_big
            if time.monotonic() > deadline:
                raise requests.Timeout
        return bytes(body)


def _status_error(resp: requests.Response, repo: str, revision: str, token_sent: bool) -> HubError:
    code, kind = resp.status_code, resp.headers.get("X-Error-Code", "")  # the Hub's error kind
    if code in (401, 403) and kind != "RepoNotFound":
        who = "HF_TOKEN was sent but has no access" if token_sent else "set HF_TOKEN"
        return HubError(
            f"{repo}: the repo is gated or private (HTTP {code}); accept its terms on "
            f"{HUB_WEB}/{repo} and {who}, or {_upload_hint(repo)}"
        )
    if code in (401, 403, 404) and kind != "EntryNotFound":
        what = {"RepoNotFound": "repo", "RevisionNotFound": f"revision '{revision}'"}.get(
            kind, f"repo or revision '{revision}'"
        )
        return HubError(
            f"{repo}: {what} not found on the Hub (HTTP {code}); check the spelling "
            "(a private repo needs HF_TOKEN)"
        )
    if code == 404:
        return HubError(
            f"{repo}: no config.json at revision '{revision}' (GGUF-only repos have "
            "none); upload the original model's config.json"
        )
    error = _TransientError if code == 429 or code >= 500 else HubError
    return error(f"{repo}: the Hub answered HTTP {code}; try again later, or {_upload_hint(repo)}")


def _reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        return f"no complete answer within {timeout_s:g} s"
    text = str(exc)
    if "NameResolution" in text or "Name or service not known" in text:
        return "DNS lookup failed"
    return "connection refused" if "refused" in text.lower() else "connection failed"


def _parse(raw: bytes, what: str) -> dict[str, Any]:
    """A JSON object from UTF-8 ``raw``; ``what`` names it in errors. Infinity/NaN are accepted
    (Nemotron-H's ``time_step_limit`` uses Infinity)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HubError(
            f"{what} is not valid UTF-8 (byte {exc.start}); not a model config"
        ) from None
    too_deep = HubError(f"{what} is nested deeper than {MAX_DEPTH} levels; not a model config")
    try:
        data = json.loads(text)
    except RecursionError:  # far deeper than MAX_DEPTH
        raise too_deep from None
    except ValueError as exc:  # JSONDecodeError, over-long integers
        detail = (
            f"{exc.msg} at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else _clean(exc, 80)
        )
        raise HubError(f"{what} is not valid JSON ({detail})") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        raise HubError(f"{what} is {kind.get(type(data), 'a number')}, not a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def _depth(value: Any) -> int:
    """Nesting levels of objects and arrays in ``value`` (stops counting past MAX_DEPTH)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_DEPTH:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _cache_root(cache_dir: Path | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else cache_root() / "hf_configs"


def _read_cache(folder: Path, repo: str, revision: str, source: str) -> HubConfig | None:
    """The cached copy, or None when there is none (or it is unreadable)."""
    try:
        config = _parse((folder / CONFIG_FILE).read_bytes(), f"{repo}: cached {CONFIG_FILE}")
        quant_path = folder / QUANT_FILE
        quant = (
            _parse(quant_path.read_bytes(), f"{repo}: cached {QUANT_FILE}")
            if quant_path.exists()
            else None
        )
    except (OSError, HubError):
        return None
    return HubConfig(
        repo_id=repo,
        revision=revision,
        config=config,
        hf_quant_config=quant,
        source_url=source,
        from_cache=True,
    )


def _write_cache(folder: Path, files: dict[str, bytes | None]) -> None:
    """Replace the cached files atomically; config.json last (it marks a complete entry)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in (QUANT_FILE, CONFIG_FILE):
            data = files[name]
            if data is None:
                (folder / name).unlink(missing_ok=True)
                continue
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, folder / name)
            finally:
                Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass  # a full or read-only disk costs the cache only


def model_from_hub(repo_id: str, **options: Any) -> Any:
    """A `sizing.catalog.ModelArch` for a Hub repo id (config fetched or cached).

    Raises HubError (cannot fetch) or CatalogError (cannot interpret), each one line.
    """
    got = fetch_config(repo_id, **options)
    return model_from_config(
        got.config,
        model_id=got.repo_id,
        source=got.source_url,
        hf_quant_config=got.hf_quant_config,
        filename=f"{got.repo_id} config.json",
    )
