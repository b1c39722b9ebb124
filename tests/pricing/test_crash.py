"""A refresh killed mid-run (SIGKILL) loses nothing already written and leaves a sound DB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pricing.history import PriceHistory
from tests.pricing.support import PRODUCT_HTML, Reply, Server

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from datetime import date
from pricing.fetch import Fetcher
from pricing.history import PriceHistory
from pricing.refresh import refresh
from sizing.catalog import Item, ListPrice

db, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
items = [Item(id=f"i{k}", name=f"I{k}", part_number="90MS0371-M00030",
              price=ListPrice(chf=2477, date=date(2026, 2, 17), source="t", url=f"{base}/p{k}"),
              source=["t"]) for k in range(n)]

def progress(done, total, result):
    print(f"done {done} {result.outcome}", flush=True)

refresh(items, history=PriceHistory(db), on_progress=progress,
        fetcher=Fetcher(min_interval_s=0, use_cache=False, timeout_s=5))
print("finished", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_refresh_keeps_committed_rows(server: Server, tmp_path: Path) -> None:
    n = 8
    for k in range(n):
        server.route(f"/p{k}", Reply(200, PRODUCT_HTML, delay_s=0.25))
    db = tmp_path / "prices.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), server.base, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            seen.append(line.strip())
            if line.startswith("done 3 "):
                os.kill(child.pid, signal.SIGKILL)  # mid-refresh: item 4 is being fetched
                break
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        err = child.stderr.read() if child.stderr else ""
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL, (seen, err)
    assert seen[:3] == ["done 1 ok", "done 2 ok", "done 3 ok"]

    history = PriceHistory(db)
    assert history.integrity_check() == "ok"
    rows = history.attempts()
    assert 3 <= len(rows) < n
    assert [r.item_id for r in rows[:3]] == ["i0", "i1", "i2"]
    assert all(r.outcome == "ok" and r.price_rappen == 247_700 for r in rows)
    history.append_attempt("i9", url=None, outcome="error", detail="after the crash")
    assert len(history.attempts()) == len(rows) + 1
