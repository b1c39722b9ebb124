"""Fit: which catalog models fit at which unit count and quantization, with max context."""

from __future__ import annotations

import streamlit as st

from sizing import limits
from ui import charts, export, links, services, state, tables, widgets

K = state.widget_key
NAMES = ("platform", "mem", "units", "fit_quants", "kv", "engine", "streams", "min_ctx")

cat = widgets.page_start(
    "Fit",
    "Every catalog model against one platform: the longest context per stream that "
    "fits at each quantization and unit count (best layout per cell).",
)
custom = widgets.custom_refs()
cat = services.session_catalog(custom)  # + the models uploaded or fetched this session
state.seed(NAMES, cat)
ss = st.session_state
labels = widgets.platform_label(cat, services.shown_prices())
quants = [q.id for q in cat.quantizations]

with st.sidebar:
    st.header("Hardware")
    st.selectbox(
        "Platform",
        [p.id for p in cat.platforms],
        key=K("platform"),
        format_func=lambda i: labels.get(i, i),
    )
    memory_setting = widgets.memory_setting_input(cat, ss[K("platform")])
    units = widgets.units_input("Unit counts")
    st.header("Workload")
    state.coerce_choice("fit_quants", quants)
    st.multiselect("Quantizations", quants, key=K("fit_quants"))
    st.selectbox("KV cache dtype", list(links.PARAMS["kv"].allowed(cat) or ()), key=K("kv"))
    st.selectbox(
        "Engine",
        list(links.PARAMS["engine"].allowed(cat) or ()),
        key=K("engine"),
        help="auto = per quantization the platform's default engine if it runs it, "
        "else one of its engines that does (e.g. llama.cpp for q4_k_m)",
    )
    st.number_input(
        "Concurrent streams",
        min_value=limits.CONCURRENCY_MIN,
        max_value=limits.CONCURRENCY_MAX,
        key=K("streams"),
    )
    st.number_input(
        "Minimum useful context (tokens)",
        min_value=limits.CONTEXT_TOKENS_MIN,
        max_value=limits.CONTEXT_TOKENS_MAX,
        step=1024,
        key=K("min_ctx"),
        help="cells below it are marked *; capped at each model's maximum",
    )
state.commit(NAMES)
widgets.share_hint(["platform", "units", "quantizations", "…"])

platform_id = ss[K("platform")]
widgets.sync_family(cat, platform_id)
chosen_quants = [q for q in quants if q in ss[K("fit_quants")]]
if not units or not chosen_quants:
    st.warning("Choose at least one unit count and one quantization in the sidebar.")
    st.stop()
engine = None if ss[K("engine")] == "auto" else ss[K("engine")]
min_ctx = int(ss[K("min_ctx")])
with st.spinner("Sizing every model…"):
    grid = services.fit_grid(
        platform_id,
        tuple(units),
        tuple(chosen_quants),
        tuple(m.id for m in cat.models),
        ss[K("kv")],
        engine,
        int(ss[K("streams")]),
        min_ctx,
        services.catalog_version(),
        custom,
        memory_setting,
    )

wanted = {m.id: min(min_ctx, m.max_context_tokens) for m in cat.models}
fits = grid[grid["max_context_tokens"].fillna(0) >= grid["model"].map(wanted)]
st.caption(
    f"{cat.platform(platform_id).name}: {fits['model'].nunique()} of "
    f"{len(cat.models)} models reach the minimum context in at least one cell. "
    "Cells: " + "; ".join(tables.FIT_CELL_STATES.values()) + "."
)
text, _states = tables.fit_pivot(grid, min_ctx)
widgets.show_cells(text, key="fit_grid_view")

# the heatmap on demand: its ~4,000 SVG labels and the 4.7 MB chart library load only here
if st.toggle(
    "Show as a heatmap",
    key="fit_heatmap",
    help="the same cells coloured by max context (drawn on demand)",
):
    st.plotly_chart(
        services.figure("fit_heatmap", grid, min_context_tokens=min_ctx), key="chart_fit"
    )
    if (
        len({(q, n) for q, n in zip(grid["quant"], grid["units"], strict=True)})
        > charts.HEATMAP_MAX_TEXT_COLUMNS
    ):
        st.caption(
            "Too many columns to label each cell legibly: hover a cell for its "
            "value, or read the table above."
        )

table = tables.fit_table(grid)
kinds = tables.FIT_KINDS
with st.expander("As a table"):
    widgets.show_table(table, kinds, key="fit_table")
    st.caption(
        "Max context – = the weights do not fit, or the combination is not supported (see Reason)."
    )
widgets.download_buttons(
    f"fit-{platform_id}",
    {"Fit": table},
    markdown=lambda: export.markdown_document(
        f"Fit on {platform_id}", {"Fit": export.markdown_table(table, kinds)}
    ),
    key="fit",
    kinds=kinds,
)
