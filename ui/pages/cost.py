"""Cost: CHF per million tokens (energy + depreciation) against cloud API prices, the
break-even, seconds per agent turn and how many checkpoints fit on each SSD.

Thin: every figure comes from ``sizing.economics`` (through ``ui.services``); the page only
collects inputs and formats the reports.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from sizing import limits
from sizing.compare import Workload, layouts
from sizing.economics import (
    CloudPriceError,
    cloud_prices_with,
    cost_report,
    cumulative_table,
    final_context_tokens,
    parse_checkpoints,
)
from sizing.scenario import PARALLEL_CHOICES, ScenarioError
from ui import export, fmt, services, state, widgets

K = state.widget_key
NAMES = (
    "platform",
    "n",
    "parallel",
    "graphs",
    "model",
    "weights",
    "kv",
    "engine",
    "ctx",
    "streams",
    "tariff",
    "hours",
)
PRICE_COLUMNS = [
    "model",
    "provider",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "date",
    "page_date",
    "url",
    "source",
    "note",
]

cat = widgets.page_start(
    "Cost",
    "Is running it here cheaper than an API? CHF per million tokens with energy and "
    "depreciation, against dated cloud prices of comparable open models; the break-even; "
    "seconds per agent turn; and how many checkpoints each SSD holds.",
)
state.seed(NAMES, cat)
ss = st.session_state
prices_shown = services.shown_prices()
labels = widgets.platform_label(cat, prices_shown)

try:
    cloud = services.cloud_prices()
except CloudPriceError as exc:
    st.error(f"The cloud price table cannot be used: {fmt.md_escape(exc)}")
    st.stop()

with st.sidebar:
    st.header("Configuration")
    st.selectbox(
        "Platform",
        [p.id for p in cat.platforms],
        key=K("platform"),
        format_func=lambda i: labels.get(i, i),
    )
    st.number_input(
        "Units", min_value=limits.UNITS_MIN, max_value=limits.UNITS_MAX, step=1, key=K("n")
    )
    st.selectbox(
        "Layout",
        ["auto", *PARALLEL_CHOICES],
        key=K("parallel"),
        help="auto = the best layout that fits (as Compare ranks them); tp+ep = "
        "expert parallel (MoE models only)",
    )
    graphs = widgets.cuda_graphs_input()
    wi = widgets.workload_inputs(cat, upload=False)
    st.header("Usage profile")
    widgets.energy_inputs(cat)
    st.slider(
        "Share of input (prompt) tokens",
        min_value=0.0,
        max_value=0.95,
        step=0.05,
        value=0.75,
        key="cost_input_share",
        help="of all tokens processed; 0.75 = 3 input tokens per generated token "
        "(agents re-send long contexts: often 0.9 and more)",
    )
    st.number_input(
        "Life for depreciation (years)",
        min_value=0.25,
        max_value=20.0,
        step=0.5,
        value=float(cat.defaults.years_tco),
        key="cost_life",
    )
    st.number_input(
        "CHF per USD",
        min_value=0.01,
        max_value=100.0,
        step=0.01,
        value=float(cloud.usd_chf.rate),
        key="cost_usd_chf",
        help=f"default: {cloud.usd_chf.rate:g} ({cloud.usd_chf.date}), "
        f"{cloud.usd_chf.note.strip()}",
    )
state.commit(NAMES)
widgets.share_hint(["platform", "units", "model", "…"])
if wi is None:
    st.stop()

platform_id: str = ss[K("platform")]
units = int(ss[K("n")])
widgets.sync_family(cat, platform_id)
layout = ss[K("parallel")]
if layout != "auto" and units > 1 and layout not in layouts(cat, platform_id, units):
    st.error(
        f"Layout {fmt.md_escape(layout)} is not possible for {units} x {platform_id}; "
        "choose auto or another layout."
    )
    st.stop()
workload: Workload = replace(wi.workload, cuda_graphs=graphs)
engine = workload.engine
pv, cv = services.prices_version(), services.catalog_version()

try:
    est = services.cost_estimate(
        workload, platform_id, units, None if layout == "auto" or units == 1 else layout, pv, cv
    )
except ScenarioError as exc:
    st.error(f"This configuration cannot be evaluated: {fmt.md_escape(exc)}")
    st.stop()

# ----------------------------------------------------------------------- cloud price table
st.subheader("Cloud API prices")
st.caption(
    "From data/cloud_prices.yaml: USD per million tokens, each with the date it was "
    "read, the page's own date when it states one, and its source. Edit a price or "
    "add a row for this session; the file stays as it is."
)
table = pd.DataFrame([p.model_dump(mode="json") for p in cloud.prices], columns=PRICE_COLUMNS)
edited = st.data_editor(
    table,
    key="cost_prices_editor",
    num_rows="dynamic",
    hide_index=True,
    column_config={
        "input_usd_per_mtok": st.column_config.NumberColumn(
            "Input (USD/Mtok)", min_value=0.0, format="%.3f"
        ),
        "output_usd_per_mtok": st.column_config.NumberColumn(
            "Output (USD/Mtok)", min_value=0.0, format="%.3f"
        ),
        "cached_input_usd_per_mtok": st.column_config.NumberColumn(
            "Cached input (USD/Mtok)", min_value=0.0, format="%.3f"
        ),
        "date": st.column_config.TextColumn("Read on (date)"),
        "page_date": st.column_config.TextColumn("Page date"),
        "url": st.column_config.TextColumn("Price page"),
        "source": st.column_config.TextColumn("Source"),
    },
)
try:
    cloud = cloud_prices_with(cloud, edited.to_dict(orient="records"))
except CloudPriceError as exc:
    st.error(f"Your edit cannot be used (the file's prices apply): {fmt.md_escape(exc)}")

priced_models = sorted({p.model for p in cloud.prices})
own = [m for m in priced_models if m.lower() == est["model"].lower()]
st.multiselect(
    "Compare with the cloud prices of",
    priced_models,
    default=own,
    key="cost_cloud_models",
    help="default: the model you run, when the table has a price for it; "
    "otherwise pick a comparable model",
)
compare_models = list(ss["cost_cloud_models"]) or own

# ----------------------------------------------------------------------- cost per Mtok
st.subheader(f"{units} x {cat.platform(platform_id).name}: cost per million tokens")
tariff = cat.tariff(ss[K("tariff")])
try:
    report = cost_report(
        est,
        cloud,
        rappen_per_kwh=tariff.rappen_per_kwh,
        tariff_id=tariff.id,
        hours_per_day=float(ss[K("hours")]),
        input_share=float(ss["cost_input_share"]),
        life_years=float(ss["cost_life"]),
        chf_per_usd=float(ss["cost_usd_chf"]),
        compare_models=compare_models or None,
    )
except ValueError as exc:
    st.error(f"No cost can be computed: {fmt.md_escape(exc)}")
    st.stop()
if not report["price_complete"]:
    st.warning(
        "The hardware price is incomplete (not priced: "
        f"{fmt.md_escape(', '.join(report['unpriced_items']))}): the local cost is "
        "too low by those parts."
    )
m = st.columns(4)
m[0].metric(
    "Local CHF / Mtok output",
    fmt.chf(report["chf_per_mtok_output"], 2),
    help="the day's cost (energy + depreciation) times the share of load time spent "
    "decoding, per million output tokens",
)
m[1].metric(
    "Local CHF / Mtok input",
    fmt.chf(report["chf_per_mtok_input"], 3),
    help="the same for the share of time spent on prefill, per million input tokens",
)
m[2].metric(
    "Hardware",
    fmt.chf(report["hardware_chf"]),
    help=f"bill of materials, depreciated over {report['life_years']:g} years",
)
m[3].metric(
    "Energy per month",
    fmt.chf(report["energy_chf_per_month"], 2),
    help=f"{report['hours_per_day']:g} h/day at load, the rest idle, "
    f"{tariff.rappen_per_kwh:g} Rp/kWh ({tariff.id})",
)
st.caption(
    f"{fmt.tokens(report['output_tokens_per_day'])} output and "
    f"{fmt.tokens(report['input_tokens_per_day'])} input tokens per day at this "
    f"profile; all-in {fmt.chf(report['chf_per_mtok_output_all_in'], 2)} per million "
    "output tokens (the whole day's cost over the output tokens)."
)

frames_base = export.cost_frames(report)
cloud_df = frames_base["Cloud"]
if len(cloud_df):
    best = report["cloud"][0]
    months = best["break_even_months"]
    if months is None:
        st.info(
            f"Against {fmt.md_escape(best['provider'])}: **never** breaks even — the cloud "
            "bill for the same tokens does not exceed the local energy bill."
        )
    else:
        within = "within" if best["pays_back_within_life"] else "after"
        st.info(
            f"Against {fmt.md_escape(best['provider'])}: breaks even after "
            f"**{fmt.swiss_number(months, 1)} months** ({within} the "
            f"{report['life_years']:g}-year life)."
        )
    widgets.show_table(cloud_df, {**export.COST_KINDS, "Source": "link"}, key="cost_cloud")
    cumulative = cumulative_table(report)
    first = next(
        (r["break_even_months"] for r in report["cloud"] if r["break_even_months"] is not None),
        None,
    )
    st.plotly_chart(
        services.figure("cost_over_time", pd.DataFrame(cumulative), break_even_months=first),
        key="chart_cost",
    )
else:
    cumulative = []
    st.warning("No cloud price to compare with: pick a model above or add a price row.")
with st.expander("Assumptions"):
    for note in report["assumptions"]:
        st.markdown(f"- {fmt.md_escape(note)}")

# ----------------------------------------------------------------------- agent session
st.subheader("Agent session")
c = st.columns(4)
c[0].number_input(
    "Start context (tokens)",
    min_value=1,
    max_value=limits.CONTEXT_TOKENS_MAX,
    value=20000,
    step=1000,
    key="cost_agent_start",
)
c[1].number_input(
    "New tokens per turn",
    min_value=0,
    max_value=limits.CONTEXT_TOKENS_MAX,
    value=2000,
    step=500,
    key="cost_agent_per_turn",
    help="user message and tool output added each turn",
)
c[2].number_input(
    "Output tokens per turn",
    min_value=1,
    max_value=100_000,
    value=500,
    step=100,
    key="cost_agent_output",
)
c[3].number_input("Turns", min_value=1, max_value=1000, value=30, step=5, key="cost_agent_turns")
final = final_context_tokens(
    start_tokens=int(ss["cost_agent_start"]),
    tokens_per_turn=int(ss["cost_agent_per_turn"]),
    output_tokens_per_turn=int(ss["cost_agent_output"]),
    turns=int(ss["cost_agent_turns"]),
)
agent = None
try:
    session_est = services.cost_estimate(
        replace(workload, context_tokens=final), platform_id, units, est["parallel"], pv, cv
    )
    if not session_est["fits"]:
        st.error(
            f"The session's final context of {fmt.tokens(final)} tokens x "
            f"{workload.concurrency} streams does not fit: "
            f"{fmt.md_escape(session_est['reason'])}"
        )
    else:
        agent = services.agent_session(
            replace(workload, context_tokens=final),
            platform_id,
            units,
            est["parallel"],
            est["engine"],
            int(ss["cost_agent_start"]),
            int(ss["cost_agent_per_turn"]),
            int(ss["cost_agent_output"]),
            int(ss["cost_agent_turns"]),
            cv,
        )
except (ScenarioError, ValueError) as exc:
    st.error(f"The agent session cannot be evaluated: {fmt.md_escape(exc)}")
if agent is not None:
    last = agent["turns"][-1]
    a = st.columns(4)
    a[0].metric("Last turn, prefix caching", f"{fmt.swiss_number(last['seconds_cached'], 1)} s")
    a[1].metric("Last turn, no caching", f"{fmt.swiss_number(last['seconds_uncached'], 1)} s")
    a[2].metric(
        "Session, prefix caching", f"{fmt.swiss_number(agent['total_s_cached'] / 60, 1)} min"
    )
    a[3].metric("Session, no caching", f"{fmt.swiss_number(agent['total_s_uncached'] / 60, 1)} min")
    with st.expander("Every turn"):
        widgets.show_table(
            export.cost_frames(report, agent=agent)["Agent turns"],
            export.COST_KINDS,
            key="cost_agent_table",
        )
    for note in agent["assumptions"]:
        st.caption(fmt.md_escape(note))

# ----------------------------------------------------------------------- storage
st.subheader("Checkpoints on each SSD")
st.text_input(
    "Checkpoints (MODEL:QUANT, comma-separated; empty = the model above)",
    key="cost_library",
    max_chars=2000,
    placeholder="openai/gpt-oss-120b:mxfp4,deepseek-ai/DeepSeek-V3:q4_k_m",
)
st.number_input(
    "Kept for the OS and containers (GB)",
    min_value=0.0,
    max_value=10_000.0,
    value=100.0,
    step=50.0,
    key="cost_reserve",
)
text = str(ss.get("cost_library") or "").strip()
store = None
try:
    library = parse_checkpoints(text) if text else [(est["model"], est["weights"])]
    for model_id, quant_id in library:
        cat.model(model_id)
        cat.quant(quant_id)
    store = services.storage(tuple(library), float(ss["cost_reserve"]), cv)
except (ValueError, KeyError) as exc:
    st.error(f"Checkpoints: {fmt.md_escape(exc)}")
if store is not None:
    frames_store = export.cost_frames(report, storage=store)
    widgets.show_table(frames_store["Checkpoints"], export.COST_KINDS, key="cost_ckpt")
    widgets.show_table(frames_store["SSD"], export.COST_KINDS, key="cost_ssd")
    for note in store["assumptions"]:
        st.caption(fmt.md_escape(note))

# ----------------------------------------------------------------------- exports
frames = export.cost_frames(report, cumulative=cumulative, agent=agent, storage=store)
widgets.download_buttons(
    f"cost-{units}x-{platform_id}",
    frames,
    markdown=lambda: export.cost_markdown(report, frames),
    key="cost",
    kinds=export.COST_KINDS,
)
