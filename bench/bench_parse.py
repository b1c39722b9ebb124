"""Benchmark: parse toppreise product pages (``python bench/bench_parse.py``).

Two pages: the REAL toppreise page in tests/data/pricing/toppreise_real_product_p818374.html
(586 KB, 23 offers, as served on 2025-11-26), and the reconstructed sample inflated to
``--size-kb`` with more offer blocks, spec rows and inline script. For each: median and p95
(wall clock and CPU time) of ``parse_product_page`` over ``--runs``; also the time
BeautifulSoup alone takes to build its tree with the lxml parser
(``BeautifulSoup(page, "lxml")``), for comparison. Parse time does not decide anything at
one request per 8 s per host: this reports, it has no pass/fail target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pricing.pages import parse_product_page  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "pricing" / "toppreise_product_reconstructed.html"
REAL = ROOT / "tests" / "data" / "pricing" / "toppreise_real_product_p818374.html"


def build_page(target_bytes: int = 300_000, *, offers: int = 30) -> str:
    """The reconstructed product page padded to about ``target_bytes`` bytes.

    ``offers`` offer blocks in total (a live page renders only the first page of offers
    statically, the rest come by AJAX, §1.2); the remaining bulk is spec rows, navigation
    links and inline script, alternating, as on real pages.
    """
    html = SAMPLE.read_text(encoding="utf-8")
    offer_start = html.index('<div class="Plugin_Offer')
    offer_end = html.index("<button", offer_start)
    offer = html[offer_start:offer_end]
    per_block = max(1, offer.count('class="Plugin_Offer'))
    extra_offers = [
        offer.replace('data-entity-id="9000000', f'data-entity-id="8{n:05d}')
        for n in range(max(0, offers - per_block) // per_block)
    ]
    html = html.replace("<button", "".join(extra_offers) + "<button", 1)
    feature = (
        '<div id="Plugin_ProductNgfFeature_{n}" class="Plugin_ProductNgfFeature">'
        '<div class="name">Feature {n}</div><div class="value">Value {n} '
        "lorem ipsum dolor sit amet</div></div>\n"
    )
    nav = (
        '<li class="navItem"><a href="/produktsuche/Computer-Zubehoer/Sub-c{n}">'
        "Kategorie {n}</a></li>\n"
    )
    script = (
        "<script>window.tpData = window.tpData || [];"
        + "tpData.push({k: 'x', v: 'lorem ipsum dolor sit amet'});" * 40
        + "</script>\n"
    )
    features, navs, scripts = [], [], []
    size = len(html.encode("utf-8"))
    n = 0
    while size < target_bytes:
        n += 1
        if n % 3 == 0:
            chunk = "".join(feature.format(n=n * 10 + i) for i in range(10))
            features.append(chunk)
        elif n % 3 == 1:
            chunk = "".join(nav.format(n=n * 10 + i) for i in range(10))
            navs.append(chunk)
        else:
            chunk = script
            scripts.append(chunk)
        size += len(chunk.encode("utf-8"))
    html = html.replace(
        '<div class="featureCatName">General</div>',
        '<div class="featureCatName">General</div>' + "".join(features),
        1,
    )
    html = html.replace(
        '<div id="FrameContent"',
        '<ul class="mainNav">' + "".join(navs) + '</ul><div id="FrameContent"',
        1,
    )
    return html.replace("</body>", "".join(scripts) + "</body>", 1)


def _time(fn: object, runs: int) -> tuple[list[float], list[float]]:
    wall_ms, cpu_ms = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()  # type: ignore[operator]
        wall_ms.append((time.perf_counter() - t0) * 1000)
        cpu_ms.append((time.thread_time() - c0) * 1000)
    return wall_ms, cpu_ms


def _report(label: str, wall_ms: list[float], cpu_ms: list[float]) -> None:
    wall_median, wall_p95 = _median_p95(wall_ms)
    cpu_median, cpu_p95 = _median_p95(cpu_ms)
    print(
        f"{label}: {len(wall_ms)} runs: median {wall_median:.1f} ms, p95 {wall_p95:.1f} ms "
        f"(CPU time: median {cpu_median:.1f} ms, p95 {cpu_p95:.1f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--size-kb", type=int, default=300)
    parser.add_argument("--offers", type=int, default=30, help="offer blocks on the page")
    args = parser.parse_args(argv)
    real = REAL.read_bytes()
    result = parse_product_page(real)  # warm-up + sanity check
    assert (result.low_rappen, result.offer_count, result.mpn) == (99_800, 23, "010-03199-11")
    pages = [
        (f"real toppreise page ({len(real) / 1000:.0f} KB, {len(result.offers)} offers)", real)
    ]
    page = build_page(args.size_kb * 1000, offers=args.offers).encode("utf-8")
    result = parse_product_page(page)
    assert result.method == "jsonld", result
    assert result.low_rappen == 247_700, result
    pages.append(
        (f"reconstructed page ({len(page) / 1000:.0f} KB, {len(result.offers)} offers)", page)
    )
    for label, data in pages:
        _report(
            f"parse_product_page, {label}",
            *_time(lambda data=data: parse_product_page(data), args.runs),
        )
        _report(
            f"BeautifulSoup(page, 'lxml') tree only, {label}",
            *_time(lambda data=data: BeautifulSoup(data, "lxml"), max(3, args.runs // 3)),
        )
    # wall-clock p95 suffers from other processes on a shared machine; the CPU-time figures
    # are what the parser itself costs
    return 0


def _median_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[
        min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    ]


if __name__ == "__main__":
    sys.exit(main())
