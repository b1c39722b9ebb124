"""AppTest of the Prices page: missing prices shown as "–" (numeric columns), a date axis
for the history chart, strict manual prices, and the "Check a price from a product URL"
form against a real HTTP server on 127.0.0.1 (allowed via $LLM_PLANNER_URL_ALLOWLIST)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from pricing.fetch import Fetcher
from pricing.history import PriceHistory
from sizing.catalog import default_catalog
from tests.pricing.support import PRODUCT_HTML, Reply, Server, product_page, serving
from ui import services

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SAVE = "FormSubmitter:manual_price-Save override"
CHECK = "FormSubmitter:check_url-Check price"


def shown(markdown: str) -> str:
    """A message as the browser shows it (Markdown backslash escapes removed)."""
    return markdown.replace("\\", "")


def prices_table(at) -> tuple[pd.DataFrame, object]:
    for df in at.dataframe:
        if "Last refresh" in df.value.columns:
            return df.value, df.proto
    raise AssertionError("no prices table on the page")


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serving()


class QuickFetcher(Fetcher):
    """The real polite Fetcher with test timings; remembers whether it was closed."""

    def __init__(self, cache_dir: Path) -> None:
        super().__init__(min_interval_s=0.0, timeout_s=2.0, cache_dir=cache_dir)
        self.closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture
def quick_fetchers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[QuickFetcher]:
    made: list[QuickFetcher] = []

    def make() -> QuickFetcher:
        made.append(QuickFetcher(tmp_path / "fetch-cache"))
        return made[-1]

    monkeypatch.setattr(services, "make_fetcher", make)
    return made


# ----------------------------------------------------------------------------- table
def test_unpriced_items_show_a_dash_in_numeric_columns(app) -> None:
    at = app("prices")
    assert not at.exception
    df, proto = prices_table(at)
    unpriced = {i.id for i in default_catalog().priced_items() if i.price is None}
    assert unpriced, "the catalog has no unpriced item to show"
    missing = df[df["Item"].isin(unpriced)]
    assert missing["Price (CHF)"].isna().all()
    assert missing["Age (days)"].isna().all()
    # still numbers (so the columns sort numerically); the browser shows "–" for the gaps
    assert pd.api.types.is_float_dtype(df["Price (CHF)"])
    assert pd.api.types.is_numeric_dtype(df["Age (days)"])
    assert proto.placeholder == "–"


# ----------------------------------------------------------------------------- chart
def chart_spec(at) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1, "expected one price history chart"
    return json.loads(charts[0].proto.spec)


def test_history_chart_of_a_single_point_has_a_date_axis(app, prices_db: Path) -> None:
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    PriceHistory(prices_db).set_manual("asus-gx10-1tb", 239_900, "one quote")
    at = app("prices")
    assert not at.exception
    axis = chart_spec(at)["layout"]["xaxis"]
    assert axis["type"] == "date"
    assert axis["tickformat"] == "%Y-%m-%d"
    lo, hi = (datetime.fromisoformat(v) for v in axis["range"])
    assert timedelta(days=6) <= hi - lo <= timedelta(days=8)
    assert axis["dtick"] == 86_400_000  # one tick per day, never sub-millisecond
    now = datetime.now(UTC).replace(tzinfo=None)
    assert lo < now < hi


def test_history_chart_over_months_keeps_its_span(app, prices_db: Path) -> None:
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    history = PriceHistory(prices_db)
    history.set_manual("asus-gx10-1tb", 239_900, "old", at=datetime.now(UTC) - timedelta(days=90))
    history.set_manual("asus-gx10-1tb", 249_900, "new")
    at = app("prices")
    axis = chart_spec(at)["layout"]["xaxis"]
    lo, hi = (datetime.fromisoformat(v) for v in axis["range"])
    assert timedelta(days=90) < hi - lo < timedelta(days=100)
    assert axis.get("dtick") is None  # plotly picks the ticks


# ----------------------------------------------------------------------------- manual override
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "negative amounts are not prices"),
        ("CHF -12.00", "negative amounts are not prices"),
        ("USD 2999", "in USD, not CHF"),
        ("EUR 4999", "in EUR, not CHF"),
        ("1e3", "exponent notation"),
        ("CHF 2'477.005", "more than two decimals"),
        ("0", "zero is not a price"),
        ("1500000", "over CHF 1'000'000"),
        ("", "no amount given"),
    ],
)
def test_manual_override_refuses_with_the_reason(
    app, prices_db: Path, text: str, reason: str
) -> None:
    at = app("prices")
    at.selectbox(key="manual_item").set_value("asus-gx10-1tb")
    at.text_input(key="manual_price_text").set_value(text)
    at.button(key=SAVE).click().run()
    assert not at.exception
    messages = [shown(e.value) for e in at.error]
    assert any("is not a price" in m and reason in m for m in messages), messages
    assert not prices_db.exists()


def test_manual_override_accepts_a_swiss_amount(app, prices_db: Path) -> None:
    at = app("prices")
    at.selectbox(key="manual_item").set_value("asus-gx10-1tb")
    at.text_input(key="manual_price_text").set_value("Fr. 2'399.50")
    at.button(key=SAVE).click().run()
    assert not at.exception
    assert not at.error
    assert PriceHistory(prices_db).latest_manual("asus-gx10-1tb").price_rappen == 239_950


# ----------------------------------------------------------------------------- URL check
def check(at, item_id: str, url: str):
    at.selectbox(key="check_item").set_value(item_id)
    at.text_input(key="check_url_text").set_value(url)
    return at.button(key=CHECK).click().run()


def test_url_check_refuses_a_host_off_the_allowlist(
    app,
    prices_db: Path,
    server: Server,
    quick_fetchers: list[QuickFetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LLM_PLANNER_URL_ALLOWLIST", raising=False)  # toppreise.ch only
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))
    at = check(app("prices"), "asus-gx10-1tb", url)
    assert not at.exception
    messages = [shown(e.value) for e in at.error]
    assert any(
        "Not fetched" in m and "not on the allowlist (toppreise.ch)" in m for m in messages
    ), messages
    assert server.hits == []
    assert not prices_db.exists()
    assert quick_fetchers == []  # no fetcher even made


def test_url_check_of_an_allowed_host_is_validated_and_recorded(
    app,
    prices_db: Path,
    server: Server,
    quick_fetchers: list[QuickFetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", "toppreise.ch, 127.0.0.1")
    url = server.route("/shop/gx10", Reply(200, product_page(low="2399.00")))
    at = app("prices")
    assert server.hits == []  # nothing fetched on load
    at = check(at, "asus-gx10-1tb", url)
    assert not at.exception
    assert not at.error
    success = [shown(s.value) for s in at.success]
    assert any("asus-gx10-1tb: ok CHF 2'399.00" in s and "manual override" in s for s in success), (
        success
    )
    assert server.count("/shop/gx10") == 1
    assert len(quick_fetchers) == 1
    assert quick_fetchers[0].closed
    [attempt] = PriceHistory(prices_db).attempts("asus-gx10-1tb")
    assert attempt.url == url
    assert attempt.outcome == "ok"
    assert attempt.price_rappen == 239_900
    # another page than the catalog's: recorded, the effective price stays the catalog's
    df, _ = prices_table(at)
    gx10 = df[df["Item"] == "asus-gx10-1tb"].iloc[0]
    assert gx10["Kind"] == "catalog"
    assert gx10["Last refresh"] == "ok"


@pytest.mark.usefixtures("quick_fetchers")
def test_url_check_shows_a_failed_validation(
    app, prices_db: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PLANNER_URL_ALLOWLIST", "127.0.0.1")
    url = server.route("/gx10", Reply(200, PRODUCT_HTML))  # the 1 TB page for the 2 TB box
    at = check(app("prices"), "asus-gx10-2tb", url)
    assert not at.exception
    warnings = [shown(w.value) for w in at.warning]
    # the page's product id (p824149, the 1 TB box) is not the catalog page's (p824150)
    assert any(
        "asus-gx10-2tb: mismatch" in w
        and "page is toppreise product p824149, the catalog's page for asus-gx10-2tb is p824150"
        in w
        for w in warnings
    ), warnings
    assert [a.outcome for a in PriceHistory(prices_db).attempts("asus-gx10-2tb")] == ["mismatch"]


def test_messages_show_user_input_literally(app) -> None:
    """Typed text is escaped: no Markdown, LaTeX or Streamlit directives from the input."""
    at = app("prices")
    at.text_input(key="manual_price_text").set_value(":red[**5**] $x$")
    at.button(key=SAVE).click().run()
    [message] = [e.value for e in at.error]
    assert r"\:red\[\*\*5\*\*\] \$x\$" in message


# ----------------------------------------------------------------------------- bad database
PAGES = ("compare", "build", "plan", "fit", "assumptions", "prices")


@pytest.mark.parametrize(
    "content", [b"not a database at all\n" * 100, b"SQLite format 3\x00" + b"\x00" * 50]
)
def test_a_damaged_price_database_falls_back_to_catalog_prices_on_every_page(
    app, prices_db: Path, content: bytes
) -> None:
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    prices_db.write_bytes(content)
    for page in PAGES:
        at = app(page)
        assert not at.exception, page
        warnings = [shown(w.value) for w in at.warning]
        said = [w for w in warnings if "catalog list prices" in w and str(prices_db) in w]
        assert len(said) == 1, (page, warnings)
        assert "\n" not in said[0]
    assert prices_db.read_bytes() == content  # nothing written or replaced


# ----------------------------------------------------------------------------- blocked
def test_a_blocked_refresh_shows_the_next_step_beside_the_button(app, prices_db: Path) -> None:
    at = app("prices")
    assert not any("Next step" in shown(w.value) for w in at.warning)
    prices_db.parent.mkdir(parents=True, exist_ok=True)
    PriceHistory(prices_db).append_attempt(
        "asus-gx10-1tb",
        url="https://www.toppreise.ch/x-p824149",
        outcome="blocked",
        http_status=403,
        detail="HTTP 403 (bot wall)",
    )
    at = app("prices")
    assert not at.exception
    [note] = [shown(w.value) for w in at.warning if "Next step" in shown(w.value)]
    assert "blocked for 1 item(s)" in note
    assert "python -m pricing import" in note
    assert "python -m pricing set" in note
