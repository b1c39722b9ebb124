"""A fake Hugging Face Hub for tests: a real HTTP server on 127.0.0.1 serving the saved
configs in tests/data/hf/ (and replies or handlers a test injects). Never the network."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).resolve().parent / "data" / "hf"


def data_file(repo: str, name: str = "config.json") -> bytes:
    """A saved file of tests/data/hf, else a config kept in the repository's data/hf_configs."""
    stem = repo.replace("/", "--")
    local = DATA / f"{stem}_{name}"
    if local.exists():
        return local.read_bytes()
    kept = Path(__file__).resolve().parents[1] / "data" / "hf_configs" / f"{stem}_{name}"
    return kept.read_bytes()


def path_of(repo: str, name: str = "config.json", revision: str = "main") -> str:
    return f"/{repo}/resolve/{revision}/{name}"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        hub: FakeHub = self.server.hub  # type: ignore[attr-defined]
        hub.seen.append((self.path, dict(self.headers)))
        reply = hub.routes.get(
            self.path, Reply(404, b"Entry not found", {"X-Error-Code": "EntryNotFound"})
        )
        if callable(reply):
            reply(self)
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, *args: object) -> None:
        pass


class FakeHub:
    """Routes map a URL path to a Reply (or a handler function); every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[BaseHTTPRequestHandler], None]] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.server.hub = self  # type: ignore[attr-defined]
        self.server.handle_error = lambda *_args: None  # type: ignore[method-assign]
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def serve(self, repo: str, *, quant: bool = False, revision: str = "main") -> None:
        self.routes[path_of(repo, revision=revision)] = Reply(body=data_file(repo))
        if quant:
            self.routes[path_of(repo, "hf_quant_config.json", revision)] = Reply(
                body=data_file(repo, "hf_quant_config.json")
            )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
