"""Saved-page import (``python -m pricing import``): the real toppreise page fixture, matching
by product id or part number, validation exactly like a scrape, nothing stored for a page that
is not imported; page identity by product id; HTML entities in JSON-LD; terminal escapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from cli import prices as cli
from pricing.effective import effective_price
from pricing.history import PriceHistory
from pricing.pages import parse_product_page, toppreise_product_id
from pricing.saved import SavedPage, import_saved_pages
from tests.pricing.support import DATA, FakeCatalog, make_item, product_page

if TYPE_CHECKING:
    from pathlib import Path

REAL = DATA / "toppreise_real_product_p818374.html"
REAL_URL = (
    "https://www.toppreise.ch/preisvergleich/Activity-Tracker-Smartwatches/"
    "GARMIN-fenix-8-Pro-AMOLED-Sapphire-Graphit-Schwarz-010-03199-11-p818374"
)
GX10_URL = (
    "https://www.toppreise.ch/price-comparison/Complete-systems/ASUS-Ascent-GX10-"
    "GG0003BN-NVIDIA-Grace-Blackwell-90MS0371-M00030-p824149"
)
SAVED = datetime(2026, 11, 30, 18, 5, tzinfo=UTC)


def garmin(**kw: object) -> object:
    options: dict[str, object] = {"url": REAL_URL, "part_number": "010-03199-11", "chf": 1049.0}
    options.update(kw)
    return make_item("garmin-fenix-8-pro", **options)  # type: ignore[arg-type]


def test_real_page_parses_to_the_published_figures() -> None:
    page = parse_product_page(REAL.read_bytes())
    assert (page.low_rappen, page.high_rappen) == (99_800, 153_440)
    assert (page.currency, page.offer_count, page.mpn) == ("CHF", 23, "010-03199-11")
    assert len(page.offers) == 23
    assert page.url == REAL_URL
    assert page.product_id == "818374"


def test_product_ids() -> None:
    assert toppreise_product_id(REAL_URL) == "818374"
    assert toppreise_product_id(REAL_URL + "?utm=x#offers") == "818374"
    assert toppreise_product_id(GX10_URL + "/") == "824149"
    assert (
        toppreise_product_id("https://www.toppreise.ch/produktserie/fenix_8_Pro-pc-s88033") is None
    )
    assert toppreise_product_id(None) is None


def test_import_real_page_by_product_id(history: PriceHistory) -> None:
    item = garmin()
    [r] = import_saved_pages(
        [SavedPage("fenix.html", REAL.read_bytes(), SAVED)], [item], history=history
    )
    assert r.ok
    assert r.item_id == item.id
    assert r.price_rappen == 99_800
    assert "product id p818374" in r.reason
    [a] = history.attempts(item.id)
    assert (a.outcome, a.origin, a.price_rappen, a.offer_count) == ("ok", "saved page", 99_800, 23)
    assert a.price_as_of == SAVED
    assert a.url == REAL_URL
    eff = effective_price(item, history)
    assert eff is not None
    assert (eff.rappen, eff.as_of, eff.kind) == (99_800, date(2026, 11, 30), "scraped")
    assert eff.source.startswith("saved page: ")


def test_import_by_part_number_for_an_item_without_a_toppreise_address(
    history: PriceHistory,
) -> None:
    item = garmin(url=None)
    [r] = import_saved_pages(
        [SavedPage("f.html", REAL.read_bytes(), SAVED)], [item], history=history
    )
    assert r.ok
    assert "part number 010-03199-11" in r.reason
    assert effective_price(item, history).rappen == 99_800  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("item", "content", "outcome", "reason"),
    [
        (
            garmin(url=GX10_URL.replace("824149", "111111")),
            REAL.read_bytes(),
            "invalid",
            "page is toppreise product p818374",
        ),
        (
            garmin(url=None, part_number="010-99999-00"),
            REAL.read_bytes(),
            "unmatched",
            "no catalog item matches",
        ),
        (garmin(chf=300.0), REAL.read_bytes(), "invalid", "×3.33 the catalog list price"),
        (
            garmin(),
            (DATA / "toppreise_blocked_reconstructed.html").read_bytes(),
            "invalid",
            "bot-block page",
        ),
        (
            garmin(),
            (DATA / "toppreise_search_reconstructed.html").read_bytes(),
            "invalid",
            "listing page",
        ),
        (make_item(url=GX10_URL), product_page(currency="EUR"), "invalid", "currency EUR"),
        (make_item(url=GX10_URL), b"\x00\xff" * 1000, "invalid", "no price"),
    ],
)
def test_pages_that_are_not_imported_store_nothing(
    history: PriceHistory, item, content, outcome, reason
) -> None:
    [r] = import_saved_pages([SavedPage("p.html", content, SAVED)], [item], history=history)
    assert r.outcome == outcome, r.reason
    assert reason in r.reason, r.reason
    assert history.attempts() == []
    assert not r.ok


def test_a_page_saved_in_the_future_is_refused(history: PriceHistory) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    [r] = import_saved_pages(
        [SavedPage("f.html", REAL.read_bytes(), later)], [garmin()], history=history
    )
    assert r.outcome == "invalid"
    assert "future" in r.reason
    assert history.attempts() == []


def test_page_without_part_number_is_identified_by_product_id(history: PriceHistory) -> None:
    """The DGX Spark FE page's name carries no part number: its product id identifies it."""
    html = product_page(mpn="").decode().replace('"mpn":"",', "")
    html = re.sub(r"\(\s*\)", "", html)
    page = parse_product_page(html)
    assert page.mpn in (None, "")
    assert page.product_id == "824149"
    item = make_item(url=GX10_URL, part_number="940-54242-0000-000")
    [r] = import_saved_pages(
        [SavedPage("spark.html", html.encode(), SAVED)], [item], history=history
    )
    assert r.ok, r.reason
    assert "identity by toppreise product id p824149" in history.attempts()[0].detail


def test_jsonld_strings_are_unescaped() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type":"Product",'
        '"name":"Sport &amp; Freizeit &quot;Pro&quot; &#8211; 51&nbsp;mm","mpn":"A&amp;B-1",'
        '"offers":{"@type":"AggregateOffer","lowPrice":"10.00","priceCurrency":"CHF"}}'
        "</script></head><body></body></html>"
    )
    page = parse_product_page(html)
    assert page.name == 'Sport & Freizeit "Pro" – 51 mm'
    assert page.mpn == "A&B-1"


# ----------------------------------------------------------------------------- CLI
def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_import(tmp_path: Path, capsys, monkeypatch) -> None:
    item = garmin()
    monkeypatch.setattr(cli, "_load_catalog", lambda _p: FakeCatalog([item]))
    db = tmp_path / "p.sqlite"
    other = tmp_path / "other.html"
    other.write_bytes((DATA / "toppreise_blocked_reconstructed.html").read_bytes())
    code, out, _ = run(
        capsys,
        "import",
        str(REAL),
        str(other),
        str(tmp_path / "missing.html"),
        "--db",
        str(db),
        "--saved-on",
        "2026-11-30",
    )
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "imported 1 of 3 saved page(s)"
    assert "garmin-fenix-8-pro CHF 998.00 imported, saved 2026-11-30" in lines[1]
    assert "other.html: not imported (invalid)" in lines[2]
    assert "bot-block" in lines[2]
    assert "missing.html: not imported (invalid) — cannot read" in lines[3]
    [a] = PriceHistory(db).attempts()
    assert a.origin == "saved page"
    assert a.price_as_of.date() == date(2026, 11, 30)
    code, out, _ = run(capsys, "show", "--db", str(db), "--json")
    [row] = json.loads(out)
    assert (row["chf"], row["as_of"]) == (998.0, "2026-11-30")
    code, out, _ = run(capsys, "import", str(REAL), "--db", str(db))
    assert code == 0
    assert "imported 1 of 1" in out


def test_cli_import_refuses_a_future_date(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(
            ["import", str(REAL), "--db", str(tmp_path / "p.sqlite"), "--saved-on", "2999-01-01"]
        )
    assert exc.value.code == 2
    assert not (tmp_path / "p.sqlite").exists()


def test_terminal_escapes_in_page_names_never_reach_the_terminal(tmp_path: Path, capsys) -> None:
    evil = "\x1b]8;;https://evil.example\x07Click\x1b]8;;\x07 \x1b[2J\x9b31m\u202eGX10\r"
    escaped = json.dumps(evil)[1:-1]
    html = (
        product_page()
        .decode()
        .replace('"name":"ASUS Ascent GX10', f'"name":"{escaped}ASUS Ascent GX10', 1)
    )
    page_file = tmp_path / "evil.html"
    page_file.write_text(html, encoding="utf-8")
    assert "\x1b" in (parse_product_page(html).name or "")
    for argv in (["parse", str(page_file)], ["parse", str(page_file), "--json"]):
        code, out, err = run(capsys, *argv)
        assert code == 0
        for ch in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
            assert ch not in out + err, (argv, ch)
