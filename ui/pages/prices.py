"""Prices: effective price of every item with source and age, history, refresh, overrides.

Nothing is fetched when the page loads: a refresh runs only after a click, in a
background thread (the same ``pricing.refresh.refresh`` as ``python -m pricing refresh``),
and the page stays usable while it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from pricing.parse import parse_price_rappen
from ui import export, fmt, services, state, tables, widgets

K = state.widget_key
NAMES = ("item",)
FLASH = "_prices_flash"

cat = widgets.page_start(
    "Prices", "The price the planner uses for every item: newest of a good toppreise.ch "
    "scrape and a manual override, else the dated catalog list price.")
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
if not db_path.exists():
    st.info(f"No price history yet at `{db_path}`: showing the catalog list prices. "
            "Refresh or set a manual price to start one.")

# ----------------------------------------------------------------------- refresh
job = services.current_refresh()
running = job is not None and job.running
st.subheader("Refresh")
targets = sum(1 for i in items if i.price is not None and i.price.url)
c1, c2 = st.columns([1, 3])
if c1.button("Refresh prices", icon=":material/refresh:", disabled=running,
             help=f"fetch the {targets} items with a toppreise.ch URL, politely (several "
             "seconds between requests)"):
    job = services.start_refresh()
    running = True
c2.caption(f"{targets} of {len(items)} items have a price URL. Requests are spaced by "
           "several seconds and obey robots.txt; a blocked host stops the run for that host.")


@st.fragment(run_every=1.0 if running else None)
def refresh_progress() -> None:
    """Progress of the background refresh; reruns the page once when it finishes."""
    current = services.current_refresh()
    if current is None:
        return
    snap = current.snapshot()
    total = max(1, snap["total"])
    st.progress(snap["done"] / total,
                text=f"{snap['done']} of {snap['total']} items"
                + (" — running…" if snap["running"] else " — finished"))
    if snap["lines"]:
        st.code("\n".join(snap["lines"][-8:]), language=None)
    if snap["error"]:
        st.error(f"The refresh stopped: {snap['error']}")
    elif snap["summary"]:
        st.success(f"Refresh finished: {snap['summary']}")
    finished = snap["finished_at"]
    if finished is not None and ss.get("_refresh_seen") != finished:
        ss["_refresh_seen"] = finished
        if snap["running"] is False and running:
            st.rerun(scope="app")


refresh_progress()

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
widgets.show_table(df, {**kinds, "Link": "link"}, key="prices_table",
                   helps={"Stale": f"older than {stale_days} days",
                          "Kind": "scraped (toppreise.ch), manual (override) or catalog "
                          "(dated list price)"})
widgets.download_buttons(
    "prices", {"Prices": df},
    markdown=lambda: export.markdown_document("Effective prices", {
        "Prices": export.markdown_table(df.drop(columns=["Link"]), kinds)}),
    key="prices")

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
    st.plotly_chart(services.figure(
        "price_history", priced, list_price_chf=item.price.chf if item.price else None,
        title=item.name), key="chart_history")
if len(points):
    with st.expander(f"Every attempt and override for {item.id} ({len(points)})"):
        st.dataframe(points.rename(columns={"when": "When (UTC)", "chf": "Price (CHF)",
                                            "kind": "Kind", "outcome": "Outcome",
                                            "detail": "Detail"}),
                     hide_index=True, key="history_table")

# ----------------------------------------------------------------------- manual override
st.subheader("Manual price override")
with st.form("manual_price", clear_on_submit=True):
    target = st.selectbox("Item", item_ids, key="manual_item",
                          format_func=lambda i: f"{i} — {names[i]}")
    text = st.text_input("Price (CHF)", placeholder="2'477.00", key="manual_price_text")
    note = st.text_input("Note (where the price comes from)", key="manual_note",
                         max_chars=200)
    if st.form_submit_button("Save override"):
        rappen = parse_price_rappen(text) if text else None
        if rappen is None or rappen <= 0:
            st.error(f"{text!r} is not a price: give a positive CHF amount like 2'477.00.")
        else:
            services.set_manual_price(target, rappen, note.strip())
            ss[FLASH] = ("ok", f"{target}: manual price {fmt.chf_rappen(rappen)} saved "
                         "(it wins until a newer good scrape).")
            st.rerun()
st.caption("Overrides are appended to the history (nothing is ever deleted) and win until "
           "a newer good scrape.")
