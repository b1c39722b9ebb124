"""Compare: one workload across cluster sizes, layouts and platforms."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from sizing.catalog import UnknownIdError
from sizing.compare import Floors
from sizing.scenario import ScenarioError
from ui import export, fmt, links, services, state, tables, widgets

K = state.widget_key
NAMES = (
    *widgets.WORKLOAD_NAMES,
    "family",
    "platform",
    "mem",
    "units",
    "parallel",
    "graphs",
    "transport",
    "alt",
    "fitonly",
    "rank",
    "metric",
    "min_tok_s",
    "max_ttft_s",
    "tariff",
    "hours",
)
RANK_SHORT = {
    "cheapest": "Cheapest",
    "fastest": "Fastest per stream",
    "chf_per_tok_s": "Lowest CHF per tok/s",
    "tco": "Lowest TCO",
}
METRICS = {
    "per_stream": ("decode_tok_s_per_request", "Decode per stream (tok/s)"),
    "total": ("decode_tok_s_total", "Decode total (tok/s)"),
}

cat = widgets.page_start(
    "Compare",
    "One workload on every cluster size of a platform, with the alternatives. "
    "Every figure comes from the catalog (sources on the Assumptions page) and the "
    "effective prices (Prices page).",
)
state.seed(NAMES, cat)

with st.sidebar:
    st.header("Workload")
    wl = widgets.workload_inputs(cat)
    st.header("Hardware")
    platform = widgets.family_platform_inputs(cat)
    memory_setting = widgets.memory_setting_input(cat, platform)
    units = widgets.units_input()
    st.selectbox(
        "Layout",
        list(links.PARAMS["parallel"].allowed(cat) or ()),
        key=K("parallel"),
        help="auto = per unit count the fastest layout that "
        "fits (tp for one stream, replicas for many); tp+ep = expert parallel "
        "(MoE models only)",
    )
    graphs = widgets.cuda_graphs_input()
    transport = widgets.transport_input(cat)
    st.toggle(
        "Alternatives (other platform families)",
        key=K("alt"),
        help="adds every priced platform of the other families (unpriced ones cannot "
        "be compared on cost)",
    )
    st.toggle("Only configurations that fit", key=K("fitonly"))
    st.header("Ranking and costs")
    st.selectbox(
        "Best option",
        list(tables.RANK_LABELS),
        key=K("rank"),
        format_func=lambda r: RANK_SHORT[r],
        help="; ".join(f"{RANK_SHORT[r]}: {tables.RANK_LABELS[r]}" for r in tables.RANK_LABELS),
    )
    st.number_input(
        "Min. speed per stream (tok/s)",
        min_value=0.0,
        max_value=100_000.0,
        step=1.0,
        key=K("min_tok_s"),
        help="the best option must decode at least this fast per stream "
        "(central estimate); 0 = no floor",
    )
    st.number_input(
        "Max. time to first token (s)",
        min_value=0.0,
        max_value=1_000_000.0,
        step=10.0,
        key=K("max_ttft_s"),
        help="the best option must start answering a full-context request "
        "within this time (central estimate); 0 = no ceiling",
    )
    widgets.energy_inputs(cat)
state.commit(NAMES)
widgets.share_hint(["model", "quantization", "units", "…"])

if wl is None:
    st.stop()
if not units:
    st.warning("Choose at least one cluster size in the sidebar.")
    st.stop()

ss = st.session_state
family = ss[K("family")]
shown_prices = services.shown_prices()
platforms = [platform]
if ss[K("alt")]:
    platforms += [p.id for p in cat.platforms if p.family != family and p.id in shown_prices]
parallel = None if ss[K("parallel")] == "auto" else ss[K("parallel")]
wl = replace(wl, workload=replace(wl.workload, cuda_graphs=graphs, transport=transport))
rule = ss[K("rank")]
y_col, y_label = METRICS[ss[K("metric")]]

floors = Floors(
    min_tok_s_per_stream=float(ss[K("min_tok_s")]), max_ttft_s=float(ss[K("max_ttft_s")])
)
try:
    with st.spinner("Estimating…"):
        cv = services.compare_view(
            services.CompareInputs(
                workload=wl.workload,
                platforms=tuple(platforms),
                units=tuple(units),
                parallel=parallel,
                tariff=ss[K("tariff")],
                hours_at_load_per_day=float(ss[K("hours")]),
                prices_key=services.prices_version(),
                catalog_key=services.catalog_version(),
                today=datetime.now(UTC).date(),
                config=wl.config,
                config_name=wl.config_name,
                repo=wl.repo,
                memory_setting=memory_setting,
            ),
            rule=rule,
            floors=floors,
            fit_only=bool(ss[K("fitonly")]),
            speed_column=y_col,
        )
except (ScenarioError, UnknownIdError, ValueError) as exc:
    st.error(f"Cannot compare these inputs: {fmt.md_escape(exc)}")
    st.stop()

choice, ranked, best, columns = cv.choice, cv.ranked, cv.best, list(cv.columns)
rule_line = f"Rule: {choice.rule_text()}."

# ----------------------------------------------------------------------- headline
if best is None and choice.closest is not None:
    st.subheader("No configuration meets the floors")
    st.warning(
        fmt.md_escape(choice.miss_text()[:1].upper() + choice.miss_text()[1:]) + ". "
        "Lower the context or the streams, add unit counts or alternatives, or "
        "relax the floors in the sidebar.",
        icon=":material/speed:",
    )
    st.caption(fmt.md_escape(rule_line))
elif best is None:
    own = ranked[ranked["platform"] == platform]
    reason = own["reason"].iloc[0] if len(own) else "no configuration"
    st.error(
        f"Nothing in this comparison runs {fmt.md_escape(wl.model.name)} at "
        f"{wl.workload.weights} "
        f"with {fmt.tokens(wl.workload.context_tokens)} tokens x "
        f"{wl.workload.concurrency} stream(s). {platform}: {fmt.md_escape(reason)}"
    )
else:
    rough_decode, rough_prefill = bool(best["rough_decode"]), bool(best["rough_prefill"])
    approx = {True: "≈", False: ""}
    st.subheader(f"Best option: {best['config']}")
    if not bool(best["price_complete"]):
        st.warning(
            f"Price incomplete: {fmt.md_escape(best['unpriced_parts'])} not priced, so "
            "the price below is a lower bound (no configuration with a complete "
            "price meets the rule).",
            icon=":material/warning:",
        )
    st.caption(
        f"{fmt.md_escape(rule_line)} Model {fmt.md_escape(wl.model.name)}, "
        f"{wl.workload.weights}, KV {wl.workload.kv_dtype}, "
        f"{fmt.tokens(wl.workload.context_tokens)} tokens x "
        f"{wl.workload.concurrency} stream(s), engine {best['engine']}, layout "
        f"{best['layout']}."
        + (
            " ≈ = rough figure: calibration borrowed from other platform families "
            "(no measurements for this one; see the assumptions below)."
            if rough_decode or rough_prefill
            else ""
        )
    )
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric(
        "Price" if bool(best["price_complete"]) else "Price (incomplete)",
        fmt.chf(best["price_chf"]) + ("" if bool(best["price_complete"]) else " +"),
        help="bill of materials "
        "at effective prices; every line with its source and date on the Build "
        "page",
    )
    top[1].metric(
        "Per stream (tok/s)",
        approx[rough_decode]
        + fmt.swiss_number(best["decode_tok_s_per_request"], 1)
        + f" ({fmt.swiss_number(best['decode_tok_s_low'], 0)}-"
        f"{fmt.swiss_number(best['decode_tok_s_high'], 0)})",
        help="decode speed one stream sees; in brackets the likely range (the "
        "platform family's cross-validated error, Assumptions page)",
    )
    top[2].metric(
        "Total (tok/s)",
        approx[rough_decode] + fmt.swiss_number(best["decode_tok_s_total"], 1),
        help="aggregate decode over all streams",
    )
    bottom[0].metric(
        "TTFT (s)",
        approx[rough_prefill]
        + fmt.significant(best["ttft_s"], 2)
        + f" ({fmt.significant(best['ttft_s_low'], 2)}-"
        f"{fmt.significant(best['ttft_s_high'], 2)})",
        help="prefill of the full context + one decode step; in brackets the "
        "likely range"
        + (" (≈: prefill calibration borrowed from other families)" if rough_prefill else ""),
    )
    bottom[1].metric(
        "Max context (tokens)",
        fmt.tokens(best["max_context_shown"]),
        help="per stream at the chosen number of streams",
    )
    bottom[2].metric(
        "Power at load (W)",
        fmt.swiss_number(best["power_w_load"]),
        help=f"idle {fmt.swiss_number(best['power_w_idle'])} W; energy "
        f"{fmt.chf(best['energy_chf_per_year'])} per year",
    )
    best_age = widgets.price_age_notice(
        cat, [], age=tables.price_age_of_rows(best.to_frame().T, cat.defaults.price_stale_days)
    )
    if st.button(
        "Open this configuration in Build",
        icon=":material/construction:",
        key="open_in_build",
        help="the same workload (model, quantization, KV, "
        "context, streams; no sub-agents) on the Build page",
    ):
        keep = ss.setdefault(state.KEEP, {})
        # Build shares model/weights/kv/ctx/streams with Compare; no sub-agents, so its
        # deployment plan serves exactly this workload and shows the same speed
        keep.update(platform=best["platform"], n=int(best["units"]), plan="", sub_count=0)
        for name in ("platform", "n", "plan", "sub_count"):
            ss.pop(K(name), None)
        st.switch_page("ui/pages/build.py")

# ----------------------------------------------------------------------- table
shown = cv.shown
kinds = tables.kinds_by_label(columns)
st.subheader("Comparison")
st.caption(
    f"{len(shown)} configuration(s), ordered by: {fmt.md_escape(choice.rule_text())}; "
    "then the configurations that fit but miss the floors, then those that do not "
    "fit. Click a column header to sort; numbers stay numeric. – = unknown or does "
    "not fit."
)
widgets.show_table(shown, kinds, key="compare_table", helps={c.label: c.help for c in columns})
incomplete_lines = list(cv.incomplete)
if incomplete_lines:
    st.markdown(
        "**Price incomplete** (these parts are not priced, so the CHF figures of "
        "the row are lower bounds):\n"
        + "\n".join(f"- {fmt.md_escape(line)}" for line in incomplete_lines)
    )

# the best row's estimate assumptions, as the comparison computed them (no second estimate)
assumption_lines: list[str] = [] if best is None else list(best["assumptions"])
assumption_lines.insert(0, "comparison " + cv.price_age.note())
assumption_lines += [
    f"best option: {choice.rule_text()}"
    + (f"; {choice.miss_text()}" if best is None and choice.closest is not None else ""),
    *(f"price incomplete: {line}" for line in incomplete_lines),
    f"tariff {ss[K('tariff')]} ({cat.tariff(ss[K('tariff')]).rappen_per_kwh:g} Rp/kWh), "
    f"{ss[K('hours')]:g} h/day at load, the rest idle",
    f"TCO = price + {cat.defaults.years_tco:g} years of energy",
    "layout 'auto': per unit count the fastest layout that fits (sizing.compare)",
]
export_frame = shown.copy()
widgets.download_buttons(
    "comparison",
    {"Comparison": export_frame, "Assumptions": pd.DataFrame({"Assumption": assumption_lines})},
    markdown=lambda: export.markdown_document(
        f"Comparison: {wl.model.name} {wl.workload.weights}",
        {"Comparison": export.markdown_table(export_frame, kinds)},
        notes=assumption_lines,
    ),
    key="compare",
    kinds=kinds,
)

# ----------------------------------------------------------------------- charts
# On demand: the first render is the decision and the table; a chart (and the browser's
# 4.7 MB plotly bundle) loads only when one is chosen here.
st.subheader("Charts")
CHARTS = ("Price vs speed", "Memory per unit", "Scaling with units")
no_tradeoff = not cv.has_tradeoff
if no_tradeoff:
    st.info(
        "Nothing in this comparison both fits and has a known price, so there is "
        "no price/speed trade-off to chart. Add unit counts or alternatives, or "
        "lower the context or streams."
    )
chart = st.segmented_control(
    "Show a chart",
    CHARTS,
    default=None,
    key="compare_chart",
    help="charts are drawn on demand: the page opens faster",
)
if chart is not None and chart != "Memory per unit":  # only where a speed is charted
    st.radio(
        "Speed shown in charts",
        list(METRICS),
        key=K("metric"),
        horizontal=True,
        format_func=lambda m: METRICS[m][1],
    )
if chart == "Price vs speed" and not no_tradeoff:
    st.plotly_chart(
        services.figure(
            "price_vs_speed",
            ranked,
            y=y_col,
            y_label=y_label,
            best_config=None if best is None else best["config"],
            floor_tok_s=floors.min_tok_s_per_stream if ss[K("metric")] == "per_stream" else None,
        ),
        key="chart_price",
    )
    st.caption(
        "Fitting, priced configurations. Pareto frontier: no other "
        "configuration is both cheaper and faster. Open markers: price "
        "incomplete (a lower bound; the missing parts show on hover). The dotted "
        "line is the speed floor (per-stream metric)."
    )
elif chart == "Memory per unit":
    mem, omitted = tables.memory_rows(ranked, platform)
    if mem.empty:
        st.info(
            f"No memory breakdown: {wl.workload.weights} cannot run on any of these "
            "configurations (see Reason in the table)."
        )
    else:
        st.plotly_chart(
            services.figure("memory_bars", mem, parts=tables.MEMORY_PARTS), key="chart_memory"
        )
    st.caption(
        "Per unit (GiB): weights, KV cache for the context x streams, runtime "
        "overhead and what is left free; the dash marks the usable memory, so a bar "
        f"above it does not fit. {platform} by unit count, then the best size of "
        "each alternative."
        + (f" Not shown (no valid layout, see Reason): {', '.join(omitted)}." if omitted else "")
    )
elif chart == "Scaling with units":
    own = ranked[ranked["platform"] == platform]
    if own["decode_tok_s_per_request"].notna().any():
        st.plotly_chart(
            services.figure("scaling", own, y=y_col, y_label=y_label), key="chart_scaling"
        )
        st.caption(
            "Dashed: ideal linear scaling from the smallest size that fits. Tensor "
            "parallel pays all-reduce latency per layer, so real scaling is below "
            "it."
        )
    else:
        st.info(f"No size of {platform} fits this workload, so there is no scaling to chart.")

with st.expander("Assumptions behind the best option"):
    # one element, not one per line: every element costs the browser a render
    st.markdown("\n".join(f"- {fmt.md_escape(line)}" for line in assumption_lines))
