"""sizing.hub against a fake Hub: a real HTTP server on 127.0.0.1 serving tests/data/hf/."""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import socket
import time
from typing import TYPE_CHECKING

import pytest

from sizing.hub import MAX_BYTES, HubError, fetch_config, is_repo_id
from tests.fakehub import FakeHub, Reply, data_file, path_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from http.server import BaseHTTPRequestHandler
    from pathlib import Path

QWEN = "Qwen/Qwen3-0.6B"  # no hf_quant_config.json
NVFP4 = "nvidia/Qwen3-235B-A22B-NVFP4"  # ModelOpt NVFP4: has hf_quant_config.json
NEMOTRON = "nvidia/Nemotron-H-56B-Base-8K"  # time_step_limit holds a JSON Infinity
UPLOAD = "download config.json from https://huggingface.co/{} and upload it (or pass its path)"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "HF_TOKEN",
        "HF_ENDPOINT",
        "HF_HUB_OFFLINE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path / "planner-cache"))


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(hub: FakeHub, repo: str, tmp_path: Path, **options: object):
    return fetch_config(repo, endpoint=hub.endpoint, cache_dir=tmp_path / "cache", **options)


def hub_error(hub: FakeHub, repo: str, tmp_path: Path, **options: object) -> str:
    with pytest.raises(HubError) as info:
        fetch(hub, repo, tmp_path, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- success and the cache ---------------------------------------------------------------------


def test_fetches_config_and_quant_config(hub, tmp_path):
    hub.serve(NVFP4, quant=True)
    got = fetch(hub, NVFP4, tmp_path)
    assert got.config == json.loads(data_file(NVFP4))
    assert got.hf_quant_config["quantization"]["quant_algo"] == "NVFP4"
    assert (got.repo_id, got.revision, got.from_cache) == (NVFP4, "main", False)
    assert got.source_url == f"https://huggingface.co/{NVFP4}/blob/main/config.json"
    assert [path for path, _ in hub.seen] == [
        path_of(NVFP4),
        path_of(NVFP4, "hf_quant_config.json"),
    ]
    cached = tmp_path / "cache" / "nvidia--Qwen3-235B-A22B-NVFP4" / "main"
    assert (cached / "config.json").read_bytes() == data_file(NVFP4)
    assert (cached / "hf_quant_config.json").read_bytes() == data_file(
        NVFP4, "hf_quant_config.json"
    )


def test_missing_quant_config_is_none(hub, tmp_path):
    hub.serve(QWEN)
    got = fetch(hub, QWEN, tmp_path)
    assert got.hf_quant_config is None
    assert got.config["num_hidden_layers"] == 28
    assert path_of(QWEN, "hf_quant_config.json") in [path for path, _ in hub.seen]


def test_json_infinity_is_accepted(hub, tmp_path):
    hub.serve(NEMOTRON)
    limit = fetch(hub, NEMOTRON, tmp_path).config["time_step_limit"]
    assert limit[0] == 0.0
    assert math.isinf(limit[1])


def test_user_agent_names_the_tool(hub, tmp_path):
    hub.serve(QWEN)
    fetch(hub, QWEN, tmp_path)
    agent = hub.seen[0][1]["User-Agent"]
    assert agent.startswith("llm-hardware-planner/")
    assert agent.split("/")[1][0].isdigit()


def test_revision_goes_into_urls_and_cache_key(hub, tmp_path):
    hub.serve(QWEN, revision="refs%2Fpr%2F1")
    got = fetch(hub, QWEN, tmp_path, revision="refs/pr/1")
    assert got.revision == "refs/pr/1"
    assert got.source_url == f"https://huggingface.co/{QWEN}/blob/refs%2Fpr%2F1/config.json"
    assert (tmp_path / "cache" / "Qwen--Qwen3-0.6B" / "refs%2Fpr%2F1" / "config.json").exists()
    with pytest.raises(HubError, match=r"no cached config\.json for revision main"):
        fetch(hub, QWEN, tmp_path, offline=True)  # another revision's cache does not count


def test_redirect_is_followed(hub, tmp_path):
    hub.serve(QWEN)
    hub.routes[path_of("Qwen/old-name")] = Reply(307, headers={"Location": path_of(QWEN)})
    assert fetch(hub, "Qwen/old-name", tmp_path).config == json.loads(data_file(QWEN))


def test_gzip_body_is_decoded(hub, tmp_path):
    hub.routes[path_of(QWEN)] = Reply(
        body=gzip.compress(data_file(QWEN)), headers={"Content-Encoding": "gzip"}
    )
    assert fetch(hub, QWEN, tmp_path).config == json.loads(data_file(QWEN))


def test_quant_config_failure_fails_the_fetch(hub, tmp_path):
    hub.serve(NVFP4)  # config.json fine, hf_quant_config.json broken:
    hub.routes[path_of(NVFP4, "hf_quant_config.json")] = Reply(500)  # never guess "no quant"
    assert "the Hub answered HTTP 500" in hub_error(hub, NVFP4, tmp_path)
    assert not (tmp_path / "cache" / "nvidia--Qwen3-235B-A22B-NVFP4" / "main").exists()


def test_fresh_fetch_overwrites_cache(hub, tmp_path):
    hub.serve(NVFP4, quant=True)
    fetch(hub, NVFP4, tmp_path)
    hub.routes = {path_of(NVFP4): Reply(body=b'{"model_type": "v2"}')}  # quant file gone
    fresh = fetch(hub, NVFP4, tmp_path)
    assert (fresh.config, fresh.hf_quant_config) == ({"model_type": "v2"}, None)
    cached = fetch(hub, NVFP4, tmp_path, offline=True)
    assert (cached.config, cached.hf_quant_config, cached.from_cache) == (
        {"model_type": "v2"},
        None,
        True,
    )


def test_cache_is_used_when_hub_is_down(hub, tmp_path):
    hub.serve(NVFP4, quant=True)
    first = fetch(hub, NVFP4, tmp_path)
    hub.stop()
    again = fetch(hub, NVFP4, tmp_path)
    assert again.from_cache is True
    assert (again.config, again.hf_quant_config) == (first.config, first.hf_quant_config)
    assert again.source_url == first.source_url


@pytest.mark.parametrize("status", [429, 503])
def test_cache_is_used_when_hub_is_overloaded(hub, tmp_path, status):
    hub.serve(QWEN)
    fetch(hub, QWEN, tmp_path)
    hub.routes[path_of(QWEN)] = Reply(status)
    assert fetch(hub, QWEN, tmp_path).from_cache is True


def test_bad_body_is_not_cached_over_a_good_copy(hub, tmp_path):
    hub.serve(QWEN)
    fetch(hub, QWEN, tmp_path)
    hub.routes[path_of(QWEN)] = Reply(body=b"<html>")
    assert "not valid JSON" in hub_error(hub, QWEN, tmp_path)  # no silent fallback
    assert fetch(hub, QWEN, tmp_path, offline=True).config["model_type"] == "qwen3"


def test_offline_without_cache_fails_without_network(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.serve(QWEN)
    message = hub_error(hub, QWEN, tmp_path)
    assert message == (
        f"{QWEN}: offline (HF_HUB_OFFLINE) and no cached config.json for "
        f"revision main; {UPLOAD.format(QWEN)}"
    )
    assert hub.seen == []


def test_offline_reads_cache_and_argument_beats_env(hub, tmp_path, monkeypatch):
    hub.serve(QWEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert fetch(hub, QWEN, tmp_path, offline=False).from_cache is False
    requests_so_far = len(hub.seen)
    got = fetch(hub, QWEN, tmp_path)
    assert got.from_cache is True
    assert got.config["model_type"] == "qwen3"
    assert len(hub.seen) == requests_so_far


def test_env_endpoint_and_cache_dir(hub, tmp_path, monkeypatch):
    hub.serve(QWEN)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint + "/")
    assert fetch_config(QWEN).config["hidden_size"] == 1024
    assert (
        tmp_path / "planner-cache" / "hf_configs" / "Qwen--Qwen3-0.6B" / "main" / "config.json"
    ).read_bytes() == data_file(QWEN)


# --- tokens ------------------------------------------------------------------------------------


def test_token_from_env_is_sent_as_bearer(hub, tmp_path, monkeypatch):
    hub.serve(QWEN)
    monkeypatch.setenv("HF_TOKEN", "hf_envtoken")
    fetch(hub, QWEN, tmp_path)
    assert {headers.get("Authorization") for _, headers in hub.seen} == {"Bearer hf_envtoken"}
    fetch(hub, QWEN, tmp_path, token="hf_argument")
    assert hub.seen[-1][1]["Authorization"] == "Bearer hf_argument"


def test_no_token_no_authorization_header(hub, tmp_path):
    hub.serve(QWEN)
    fetch(hub, QWEN, tmp_path)
    assert all("Authorization" not in headers for _, headers in hub.seen)


# --- HTTP errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(401, "GatedRepo"), (403, "")])
def test_gated_or_private(hub, tmp_path, status, code):
    hub.routes[path_of(QWEN)] = Reply(status, headers={"X-Error-Code": code} if code else {})
    message = hub_error(hub, QWEN, tmp_path)
    assert message.startswith(f"{QWEN}: the repo is gated or private (HTTP {status}); ")
    assert "set HF_TOKEN" in message
    assert message.endswith(UPLOAD.format(QWEN))


def test_gated_with_token_says_so_and_hides_it(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_topsecret")
    hub.routes[path_of(QWEN)] = Reply(403, headers={"X-Error-Code": "GatedRepo"})
    message = hub_error(hub, QWEN, tmp_path)
    assert "HF_TOKEN was sent but has no access" in message
    assert "hf_topsecret" not in message


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "RepoNotFound", "repo not found on the Hub (HTTP 401)"),
        (404, "RepoNotFound", "repo not found on the Hub (HTTP 404)"),
        (404, "", "repo or revision 'main' not found on the Hub (HTTP 404)"),
        (404, "RevisionNotFound", "revision 'main' not found on the Hub (HTTP 404)"),
        (404, "EntryNotFound", "no config.json at revision 'main'"),
    ],
)
def test_not_found(hub, tmp_path, status, code, expected):
    hub.routes[path_of(QWEN)] = Reply(status, headers={"X-Error-Code": code} if code else {})
    assert hub_error(hub, QWEN, tmp_path).startswith(f"{QWEN}: {expected}")


@pytest.mark.parametrize("status", [429, 500, 502])
def test_busy_or_broken_hub_without_cache(hub, tmp_path, status):
    hub.routes[path_of(QWEN)] = Reply(status, b"<html>\x1b[31m</html>")
    assert hub_error(hub, QWEN, tmp_path) == (
        f"{QWEN}: the Hub answered HTTP {status}; try again later, or {UPLOAD.format(QWEN)}"
    )


def test_connection_refused(tmp_path, closed_port):
    start = time.monotonic()
    with pytest.raises(HubError) as info:
        fetch_config(QWEN, endpoint=f"http://127.0.0.1:{closed_port}", cache_dir=tmp_path)
    assert str(info.value) == (
        f"{QWEN}: cannot reach 127.0.0.1:{closed_port} (connection refused); {UPLOAD.format(QWEN)}"
    )
    assert time.monotonic() - start < 2


# --- deadline and size -------------------------------------------------------------------------


def drip(handler: BaseHTTPRequestHandler) -> None:
    """A 1000-byte body sent one space per 0.5 s."""
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(20):
        try:
            handler.wfile.write(b" ")
        except OSError:
            return
        time.sleep(0.5)


def stall(_handler: BaseHTTPRequestHandler) -> None:
    time.sleep(4)


@pytest.mark.parametrize("reply", [drip, stall])
def test_deadline_covers_slow_bodies(hub, tmp_path, reply):
    hub.routes[path_of(QWEN)] = reply
    start = time.monotonic()
    message = hub_error(hub, QWEN, tmp_path, timeout_s=1)
    assert time.monotonic() - start < 2
    assert message == (
        f"{QWEN}: cannot reach {hub.endpoint[7:]} (no complete answer within "
        f"1 s); {UPLOAD.format(QWEN)}"
    )


def huge(handler: BaseHTTPRequestHandler) -> None:
    """MAX_BYTES + 1 bytes with no Content-Length (the end is the connection closing)."""
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.wfile.write(b" " * (MAX_BYTES + 1))


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    return b'{"pad": "' + b"x" * (size - 11) + b'"}'


@pytest.mark.parametrize("reply", [Reply(body=padded(MAX_BYTES + 1)), huge])
def test_oversized_body(hub, tmp_path, reply):
    hub.routes[path_of(QWEN)] = reply
    assert hub_error(hub, QWEN, tmp_path) == (
        f"{QWEN}: config.json is larger than {MAX_BYTES // 2**20} MiB; not a model config"
    )


def test_body_at_the_size_cap_is_accepted(hub, tmp_path):
    hub.routes[path_of(QWEN)] = Reply(body=padded(MAX_BYTES))
    assert len(fetch(hub, QWEN, tmp_path).config["pad"]) == MAX_BYTES - 11


# --- body validation ---------------------------------------------------------------------------


def nested(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"hidden_size": 1024,',
            "config.json is not valid JSON (Expecting property name "
            "enclosed in double quotes at line 1 column 22)",
        ),
        (b"", "config.json is not valid JSON (Expecting value at line 1 column 1)"),
        (b'[{"hidden_size": 1024}]', "config.json is an array, not a JSON object"),
        (b'"config"', "config.json is a string, not a JSON object"),
        (b"42", "config.json is a number, not a JSON object"),
        (b"null", "config.json is null, not a JSON object"),
        ('{"name": "Qwen"}'.encode("utf-16"), "config.json is not valid UTF-8 (byte 0)"),
        (b'{"name": "\xff"}', "config.json is not valid UTF-8 (byte 10)"),
        (nested(65), "config.json is nested deeper than 64 levels"),
        (b"[" * 200_000, "config.json is nested deeper than 64 levels"),
    ],
)
def test_bad_config_body(hub, tmp_path, body, expected):
    hub.routes[path_of(QWEN)] = Reply(body=body)
    assert hub_error(hub, QWEN, tmp_path).startswith(f"{QWEN}: {expected}")


def test_nesting_at_the_limit_is_accepted(hub, tmp_path):
    hub.routes[path_of(QWEN)] = Reply(body=nested(64))
    assert "a" in fetch(hub, QWEN, tmp_path).config


def test_bad_quant_config_is_named(hub, tmp_path):
    hub.serve(QWEN)
    hub.routes[path_of(QWEN, "hf_quant_config.json")] = Reply(body=b"[]")
    assert hub_error(hub, QWEN, tmp_path) == (
        f"{QWEN}: hf_quant_config.json is an array, not a JSON object"
    )


# --- repo ids and arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Qwen/Qwen3-8B", True),
        ("nvidia/Qwen3-235B-A22B-NVFP4", True),
        ("meta-llama/Llama-3.3-70B-Instruct", True),
        ("a/b", True),
        ("x_y/z.z", True),
        ("org/" + "n" * 96, True),
        ("org/" + "n" * 97, False),
        ("gpt2", False),
        ("", False),
        ("/", False),
        ("org/", False),
        ("/name", False),
        ("a/b/c", False),
        ("org/na--me", False),
        ("org/na..me", False),
        ("org/-name", False),
        ("org/name-", False),
        ("org/.name", False),
        ("org/name.", False),
        ("or g/name", False),
        ("org/name\n", False),
        ("org/näme", False),
        ("https://huggingface.co/a/b", False),
        ("../config.json", False),
        ("org\\name", False),
    ],
)
def test_is_repo_id(text, ok):
    assert is_repo_id(text) is ok


def test_existing_local_path_is_not_a_repo_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_repo_id("models/config.json") is True
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "config.json").write_text("{}")
    assert is_repo_id("models/config.json") is False


def test_bad_repo_id_or_revision_is_refused_cleanly(hub, tmp_path):
    message = hub_error(hub, "evil\x1b[31m/x\ny", tmp_path)
    assert message == "'evil[31m/xy' is not a Hugging Face repo id ('org/name', e.g. Qwen/Qwen3-8B)"
    assert "is not a branch, tag or commit hash" in hub_error(hub, QWEN, tmp_path, revision="../x")
    assert hub.seen == []
