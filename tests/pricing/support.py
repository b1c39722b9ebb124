"""Helpers for the pricing tests: a REAL HTTP server on 127.0.0.1 (ThreadingHTTPServer on
port 0, programmable per path), catalog items built directly (no catalog.yaml) and product
pages with chosen prices."""

from __future__ import annotations

import contextlib
import http.server
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sizing.catalog import Item, ListPrice, UnknownIdError

if TYPE_CHECKING:
    from collections.abc import Iterator

DATA = Path(__file__).resolve().parent.parent / "data" / "pricing"
PRODUCT_HTML = (DATA / "toppreise_product_reconstructed.html").read_bytes()
BLOCKED_HTML = (DATA / "toppreise_blocked_reconstructed.html").read_bytes()
GX10_PART = "90MS0371-M00030"


# --------------------------------------------------------------------------- HTTP server
@dataclass
class Reply:
    """One scripted response. ``action``: "normal", "reset" (TCP RST, no response),
    "truncate" (Content-Length larger than the body sent), "hang" (sleep ``delay_s`` first),
    "drip" (headers at once, then the body one byte every ``drip_s``), "nolength" (no
    Content-Length: the body until the connection closes)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    action: str = "normal"
    drip_s: float = 0.05


@dataclass
class Hit:
    path: str
    t: float
    headers: dict[str, str]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next Reply of its path (`Server.take`)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner: Server = self.server.owner  # type: ignore[attr-defined]
        reply = owner.take(self.path, dict(self.headers))
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self._send_headers(reply)
        with contextlib.suppress(OSError):  # the client may hang up mid-body
            self._send_body(reply)
        if reply.action == "truncate":
            self.close_connection = True

    def _send_headers(self, reply: Reply) -> None:
        self.send_response(reply.status)
        length = len(reply.body) + (1000 if reply.action == "truncate" else 0)
        if reply.action == "nolength":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()

    def _send_body(self, reply: Reply) -> None:
        if reply.action == "drip":
            self.wfile.flush()
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i : i + 1])
                self.wfile.flush()
                time.sleep(reply.drip_s)
        else:
            self.wfile.write(reply.body)
            self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


class Server:
    """Routes: path -> list of Replies, consumed in order; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def take(self, path: str, headers: dict[str, str]) -> Reply:
        """Record a hit on `path` and return its next Reply (404 for an unknown path)."""
        with self.lock:
            self.hits.append(Hit(path, time.monotonic(), headers))
            queue = self.routes.get(path)
            if queue is None:
                return Reply(404, b"<html><body>not found</body></html>")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def route(self, path: str, *replies: Reply) -> str:
        with self.lock:
            self.routes[path] = list(replies)
        return self.base + path

    def count(self, path: str) -> int:
        return sum(1 for h in self.hits if h.path == path)

    def times(self) -> list[float]:
        return [h.t for h in self.hits]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_item(
    item_id: str = "asus-gx10-1tb",
    *,
    url: str | None = None,
    part_number: str | None = GX10_PART,
    chf: float = 2477.0,
    price_date: date = date(2026, 2, 17),
    priced: bool = True,
) -> Item:
    """A catalog Item built directly (tests never read catalog.yaml)."""
    price = (
        ListPrice(chf=chf, date=price_date, source="test list price", url=url) if priced else None
    )
    return Item(
        id=item_id,
        name=f"Test {item_id}",
        part_number=part_number,
        price=price,
        source=["tests/pricing"],
    )


def product_page(
    *, low: str = "2477.00", high: str = "2899.00", currency: str = "CHF", mpn: str = GX10_PART
) -> bytes:
    """The reconstructed product page with another JSON-LD price / currency / MPN."""
    html = PRODUCT_HTML.decode("utf-8")
    html = html.replace('"lowPrice":"2477.00"', f'"lowPrice":"{low}"')
    html = html.replace('"highPrice":"2899.00"', f'"highPrice":"{high}"')
    html = html.replace('"priceCurrency":"CHF"}', f'"priceCurrency":"{currency}"}}')
    html = html.replace(f'"mpn":"{GX10_PART}"', f'"mpn":"{mpn}"')
    if mpn != GX10_PART:
        html = html.replace(GX10_PART, mpn)
    return html.encode("utf-8")


class FakeCatalog:
    """Just the catalog surface the pricing CLI uses: priced items and lookup by id."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    def priced_items(self) -> Iterator[Item]:
        yield from self.items

    def item(self, id_: str) -> Item:
        for i in self.items:
            if i.id == id_:
                return i
        raise UnknownIdError("item", id_, (i.id for i in self.items))


def serving() -> Iterator[Server]:
    """A local HTTP server with no robots.txt (404), closed after use; for fixtures."""
    srv = Server()
    srv.route("/robots.txt", Reply(404, b"no robots"))
    yield srv
    srv.close()
