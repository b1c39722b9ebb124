"""Prices: effective price of every item with source and age, history, refresh, overrides,
and a one-off check of a product URL a person pastes.

Nothing is fetched when the page loads: a refresh runs only after a click, in a
background thread (the same ``pricing.refresh.refresh`` as ``python -m pricing refresh``),
and the page stays usable while it runs. A pasted URL is fetched only when its host is on
the allowlist (``$LLM_PLANNER_URL_ALLOWLIST``, default toppreise.ch), exactly as
``python -m pricing check`` does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pricing.amounts import PriceInputError, parse_chf_input
from pricing.fetch import URLNotAllowedError, check_url_allowed, url_allowlist
from pricing.history import HistoryError, PriceHistory
from ui import export, fmt, services, state, tables, widgets

K = state.widget_key
NAMES = ("item",)
FLASH = "_prices_flash"
CHECK_FLASH = "_prices_check_flash"
DAY = timedelta(days=1)
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|$~:#])")


def plain(text: object) -> str:
    """``text`` (user input, a fetched page's name) shown literally in a Markdown message."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("\n", " ")


def date_axis(fig: Any, when: pd.Series) -> go.Figure:
    """A copy of ``fig`` with a calendar x axis: whole days, at least a week wide, so one
    point (or several on one day) does not get a sub-millisecond time axis."""
    out = go.Figure(fig)
    times = pd.to_datetime(when, utc=True).dt.tz_localize(None)
    lo, hi = times.min(), times.max()
    span = hi - lo
    if span < 7 * DAY:
        mid = lo + span / 2
        lo, hi = mid - 3.5 * DAY, mid + 3.5 * DAY
    else:
        lo, hi = lo - span * 0.05, hi + span * 0.05
    out.update_xaxes(
        type="date",
        range=[lo.isoformat(), hi.isoformat()],
        tickformat="%Y-%m-%d",
        dtick=DAY.total_seconds() * 1000 if span < 14 * DAY else None,
    )
    return out


def check_price_url(item: Any, url: str, allowed: tuple[str, ...]) -> None:
    """Fetch ``url`` once for ``item`` if its host is on ``allowed`` (else an error and no
    request), validate and record it like a refresh, then rerun showing the outcome."""
    from pricing.refresh import check_url  # noqa: PLC0415  (fetcher stack only on a URL check)

    try:
        check_url_allowed(url, allowlist=allowed)
    except URLNotAllowedError as exc:
        st.error(f"Not fetched: {plain(exc)}.")
        return
    fetcher = services.make_fetcher()
    try:
        with st.spinner("Fetching (robots.txt first; waits its turn for the host)…"):
            result = check_url(
                item,
                url,
                history=PriceHistory(services.prices_db_path()),
                fetcher=fetcher,
                allowlist=allowed,
            )
    except (ValueError, HistoryError) as exc:  # a malformed UA URL, an unusable database
        st.error(f"Not fetched: {plain(exc)}")
        return
    finally:
        close = getattr(fetcher, "close", None)
        if callable(close):
            close()
    text = result.line() + (f" — {result.detail}" if result.ok and result.detail else "")
    if result.ok and url != (item.price.url if item.price else None):
        text += (
            ". Recorded in the history; the effective price follows the catalog URL "
            "only, so set a manual override to use this price."
        )
    st.session_state[CHECK_FLASH] = ("ok" if result.ok else "warn", plain(text))
    st.rerun()


cat = widgets.page_start(
    "Prices",
    "The price the planner uses for every item: newest of a good toppreise.ch "
    "scrape and a manual override, else the dated catalog list price.",
)
state.seed(NAMES, cat)
ss = st.session_state
items = list(cat.priced_items())
item_ids = [i.id for i in items]
stale_days = cat.defaults.price_stale_days
today = datetime.now(UTC).date()

if FLASH in ss:
    kind, message = ss.pop(FLASH)
    (st.success if kind == "ok" else st.error)(message)

db_path = services.prices_db_path()
if services.prices_problem():
    pass  # said once at the top by widgets.page_start
elif not db_path.exists():
    st.info(
        f"No price history yet at `{db_path}`: showing the catalog list prices. "
        "Refresh or set a manual price to start one."
    )

# ----------------------------------------------------------------------- refresh
job = services.current_refresh()
running = job is not None and job.running
st.subheader("Refresh")
targets = sum(1 for i in items if i.price is not None and i.price.url)
c1, c2 = st.columns([1, 3])
if c1.button(
    "Refresh prices",
    icon=":material/refresh:",
    disabled=running,
    help=f"fetch the {targets} items with a toppreise.ch URL, politely (several "
    "seconds between requests)",
):
    job = services.start_refresh()
    running = True
c2.caption(
    f"{targets} of {len(items)} items have a price URL. Requests are spaced by "
    "several seconds and obey robots.txt; a blocked host stops the run for that host, "
    "and so does one that cannot be reached."
)
blocked_now = sorted(
    i for i, p in services.shown_prices().items() if p.last_attempt_outcome == "blocked"
)
if blocked_now:
    from pricing.refresh import blocked_next_step

    c2.warning(
        f"The last refresh was blocked for {len(blocked_now)} item(s). "
        + plain(blocked_next_step("toppreise.ch"))
        + ".",
        icon="🚧",
    )


@st.fragment(run_every=1.0 if running else None)
def refresh_progress() -> None:
    """Progress of the background refresh; reruns the page once when it finishes."""
    current = services.current_refresh()
    if current is None:
        return
    snap = current.snapshot()
    total = max(1, snap["total"])
    st.progress(
        snap["done"] / total,
        text=f"{snap['done']} of {snap['total']} items"
        + (" — running…" if snap["running"] else " — finished"),
    )
    if snap["lines"]:
        st.code("\n".join(snap["lines"][-8:]), language=None)
    if snap["error"]:
        st.error(f"The refresh stopped: {snap['error']}")
    elif snap["summary"]:
        st.success(f"Refresh finished: {plain(snap['summary'])}")
    finished = snap["finished_at"]
    if finished is not None and ss.get("_refresh_seen") != finished:
        ss["_refresh_seen"] = finished
        if snap["running"] is False and running:
            st.rerun(scope="app")


refresh_progress()

# ----------------------------------------------------------------------- saved pages
IMPORTED = "_prices_imported"
st.subheader("Import product pages saved from your browser")
st.caption(
    "toppreise.ch turns tools away, and this one never pretends to be a browser. Open "
    "an item's toppreise.ch product page in your own browser, save it (File → Save "
    'page as…, "Webpage, HTML only") and drop the files here. Each page is matched '
    "to its item by toppreise product id or part number, checked like a refresh (CHF, "
    "same product, plausible price) and recorded as a *saved page* dated the day you "
    "saved it. Pages that do not match or do not pass are listed with the reason and "
    "nothing is stored for them. Same as `python -m pricing import FILE.html …`."
)
with st.form("import_saved", clear_on_submit=True):
    uploads = st.file_uploader(
        "Saved product pages (.html)",
        type=["html", "htm"],
        accept_multiple_files=True,
        key="saved_pages",
    )
    saved_on = st.date_input("Saved on", value=today, max_value=today, key="saved_on")
    if st.form_submit_button("Import pages"):
        from pricing.saved import MAX_SAVED_PAGE_BYTES

        too_big = [f for f in uploads or [] if f.size > MAX_SAVED_PAGE_BYTES]
        pages = [(f.name, f.getvalue()) for f in uploads or [] if f not in too_big]
        rows = [
            {
                "File": f.name,
                "Outcome": "invalid",
                "Item": "",
                "Price (CHF)": None,
                "Reason": f"{f.size:,} bytes; a saved product page is at most "
                f"{MAX_SAVED_PAGE_BYTES:,}",
            }
            for f in too_big
        ]
        when = datetime.combine(saved_on, datetime.now(UTC).time(), UTC)
        try:
            results = (
                services.import_saved_pages(pages, min(when, datetime.now(UTC))) if pages else []
            )
        except HistoryError as exc:
            st.error(f"Nothing imported: {plain(exc)}")
            results = []
        rows += [
            {
                "File": r.name,
                "Outcome": r.outcome,
                "Item": r.item_id or "",
                "Price (CHF)": None if r.price_rappen is None else r.price_rappen / 100,
                "Reason": r.reason,
            }
            for r in results
        ]
        if not uploads:
            st.warning("Choose one or more saved .html pages first.")
        ss[IMPORTED] = rows
if ss.get(IMPORTED):
    rows = ss[IMPORTED]
    imported = sum(r["Outcome"] == "imported" for r in rows)
    (st.success if imported == len(rows) else st.warning)(
        f"Imported {imported} of {len(rows)} saved page(s)."
    )
    widgets.show_table(pd.DataFrame(rows), {"Price (CHF)": "chf2"}, key="imported_table")

# ----------------------------------------------------------------------- table
prices = services.shown_prices()
df = tables.price_rows(items, prices, today, stale_days)
stale = int(df["Stale"].sum())
m = st.columns(3)
m[0].metric("Items with a price", f"{int(df['Price (CHF)'].notna().sum())} of {len(df)}")
m[1].metric(f"Stale (older than {stale_days} days)", str(stale))
last = df["Last refresh at (UTC)"].replace("", pd.NA).dropna()
m[2].metric("Last refresh attempt (UTC)", last.max() if len(last) else "never")

st.subheader("Effective prices")
kinds = {"Price (CHF)": "chf2", "Age (days)": "int", "Stale": "bool"}
# numbers stay numeric (sortable); a missing price or age shows "–", not "None"
widgets.show_table(
    df,
    {**kinds, "Link": "link"},
    key="prices_table",
    helps={
        "Stale": f"older than {stale_days} days",
        "Kind": "scraped (toppreise.ch), manual (override) or catalog (dated list price)",
    },
)
widgets.download_buttons(
    "prices",
    {"Prices": df},
    markdown=lambda: export.markdown_document(
        "Effective prices", {"Prices": export.markdown_table(df.drop(columns=["Link"]), kinds)}
    ),
    key="prices",
    kinds=kinds,
)

# ----------------------------------------------------------------------- history
st.subheader("Price history")
state.coerce_choice("item", item_ids, item_ids[0])
names = {i.id: i.name for i in items}
st.selectbox("Item", item_ids, key=K("item"), format_func=lambda i: f"{i} — {names[i]}")
state.commit(NAMES)
item = cat.item(ss[K("item")])
points = services.price_points(item.id, services.prices_version())
priced = points.dropna(subset=["chf"])
if priced.empty:
    st.info(f"No scraped or manual price recorded for {item.id} yet.")
else:
    chart = services.figure(
        "price_history",
        priced,
        list_price_chf=item.price.chf if item.price else None,
        title=item.name,
    )
    st.plotly_chart(date_axis(chart, priced["when"]), key="chart_history")
if len(points):
    with st.expander(f"Every attempt and override for {item.id} ({len(points)})"):
        widgets.show_table(
            points.rename(
                columns={
                    "when": "When (UTC)",
                    "chf": "Price (CHF)",
                    "kind": "Kind",
                    "outcome": "Outcome",
                    "detail": "Detail",
                }
            ),
            {"Price (CHF)": "chf2"},
            key="history_table",
        )

# ----------------------------------------------------------------------- manual override
st.subheader("Manual price override")
with st.form("manual_price", clear_on_submit=True):
    target = st.selectbox(
        "Item", item_ids, key="manual_item", format_func=lambda i: f"{i} — {names[i]}"
    )
    text = st.text_input("Price (CHF)", placeholder="2'477.00", key="manual_price_text")
    note = st.text_input("Note (where the price comes from)", key="manual_note", max_chars=200)
    if st.form_submit_button("Save override"):
        try:
            rappen = parse_chf_input(text)
        except PriceInputError as exc:
            st.error(f"{plain(repr(text.strip()[:40]))} is not a price: {plain(exc)}.")
        else:
            try:
                services.set_manual_price(target, rappen, note.strip())
            except HistoryError as exc:
                st.error(f"Not saved: {plain(exc)}")
            else:
                ss[FLASH] = (
                    "ok",
                    f"{target}: manual price {fmt.chf_rappen(rappen)} saved "
                    "(it wins until a newer good scrape).",
                )
                st.rerun()
st.caption(
    "Overrides are appended to the history (nothing is ever deleted) and win until "
    "a newer good scrape."
)

# ----------------------------------------------------------------------- URL check
st.subheader("Check a price from a product URL")
allowed = url_allowlist()
st.caption(
    f"Fetched once, politely (robots.txt, several seconds between requests to one "
    f"host, 12 h cache), and only from {', '.join(allowed)} and subdomains "
    "(`LLM_PLANNER_URL_ALLOWLIST` sets the list). The page is checked like a refresh "
    "(CHF, part number, plausible price) and the attempt is added to the history."
)
if CHECK_FLASH in ss:
    kind, message = ss.pop(CHECK_FLASH)
    {"ok": st.success, "warn": st.warning}.get(kind, st.error)(message)
with st.form("check_url"):
    check_id = st.selectbox(
        "Item", item_ids, key="check_item", format_func=lambda i: f"{i} — {names[i]}"
    )
    url = st.text_input(
        "Product URL",
        key="check_url_text",
        max_chars=500,
        placeholder="https://www.toppreise.ch/preisvergleich/…",
    )
    if st.form_submit_button("Check price"):
        check_price_url(cat.item(check_id), url.strip(), allowed)
