"""Build: bill of materials of one configuration, power, upgrade path, deployment plan."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sizing import limits
from sizing.cluster import TopologyError, energy_chf_per_year
from sizing.plan import Serve
from sizing.scenario import ScenarioError
from ui import export, fmt, services, state, tables, widgets

K = state.widget_key
PLAN_KINDS = {"Streams": "int", "Fits": "bool", "Memory per unit (GiB)": "float1",
              "Usable per unit (GiB)": "float1", "Decode per stream (tok/s)": "float1",
              "Decode total (tok/s)": "float1"}
NAMES = ("platform", "mem", "n", "design", "model", "weights", "kv", "ctx", "streams", "sub_model",
         "sub_weights", "sub_count", "plan", "tariff", "hours")

cat = widgets.page_start(
    "Build", "Everything to buy for one configuration, with prices, dates and sources; "
    "how it is wired, what it draws, what growing costs, and how to split the units.")
custom = widgets.custom_refs()
cat = services.session_catalog(custom)      # + the models uploaded or fetched this session
state.seed(NAMES, cat)
ss = st.session_state
prices = services.shown_prices()
labels = widgets.platform_label(cat, prices)

with st.sidebar:
    st.header("Configuration")
    st.selectbox("Platform", [p.id for p in cat.platforms], key=K("platform"),
                 format_func=lambda i: labels.get(i, i))
    memory_setting = widgets.memory_setting_input(cat, ss[K("platform")])
    st.number_input("Units", min_value=limits.UNITS_MIN, max_value=limits.UNITS_MAX, step=1,
                    key=K("n"))
    st.selectbox("Network design", list(state.PARAMS["design"].allowed(cat) or ()),
                 key=K("design"), help="auto: one DAC for 2 GB10 units, a switch for 3+; "
                 "direct: switchless (2-4 GB10 units); switch: always a switch")
    st.header("Workload (deployment plan)")
    widgets.model_select(cat, "Main-agent model", "model")
    widgets.quant_select(cat, cat.model(ss[K("model")]), "Main-agent quantization", "weights")
    st.number_input("Main-agent streams", min_value=1, max_value=1024, key=K("streams"))
    widgets.model_select(cat, "Sub-agent model", "sub_model")
    widgets.quant_select(cat, cat.model(ss[K("sub_model")]), "Sub-agent quantization",
                         "sub_weights")
    st.number_input("Sub-agent streams (0 = none)", min_value=0, max_value=1024,
                    key=K("sub_count"))
    st.number_input("Context per stream (tokens)", min_value=limits.CONTEXT_TOKENS_MIN,
                    max_value=limits.CONTEXT_TOKENS_MAX,
                    step=1024, key=K("ctx"))
    st.selectbox("KV cache dtype", list(state.PARAMS["kv"].allowed(cat) or ()), key=K("kv"))
    widgets.energy_inputs(cat)

platform_id: str = ss[K("platform")]
units = int(ss[K("n")])
platform = cat.platform(platform_id)
widgets.sync_family(cat, platform_id)
design = None if ss[K("design")] == "auto" else ss[K("design")]
pv, cv = services.prices_version(), services.catalog_version()

# ----------------------------------------------------------------------- BOM
st.subheader(f"{units} x {platform.name}")
try:
    bom = services.bom(platform_id, units, design, pv, cv)
except (TopologyError, ScenarioError) as exc:
    state.commit(NAMES)
    st.error(f"This configuration cannot be built: {fmt.md_escape(exc)}")
    st.stop()

tariff = cat.tariff(ss[K("tariff")])
energy = energy_chf_per_year(idle_w=bom.power_w_idle, load_w=bom.power_w_load,
                             hours_at_load_per_day=float(ss[K("hours")]),
                             rappen_per_kwh=tariff.rappen_per_kwh)
m = st.columns(5)
m[0].metric("Total", fmt.chf(bom.total_chf), help="sum of the lines below; – = a part has "
            "no known price")
m[1].metric("Network design", bom.topology.design)
m[2].metric("Power idle", f"{fmt.swiss_number(bom.power_w_idle)} W")
m[3].metric("Power at load", f"{fmt.swiss_number(bom.power_w_load)} W")
m[4].metric("Energy per year", fmt.chf(energy),
            help=f"{ss[K('hours')]:g} h/day at load, rest idle, {tariff.rappen_per_kwh:g} "
            f"Rp/kWh ({tariff.id})")
age = widgets.price_age_notice(cat, [bom.oldest_price_date])
if bom.missing_prices:
    st.warning("No price known for: " + ", ".join(bom.missing_prices) + ". Set one on the "
               "Prices page (manual override); the total stays unknown until then.")

bom_df = tables.bom_frame(bom)
bom_kinds = tables.kinds_by_label(tables.BOM_COLUMNS)
widgets.show_table(bom_df, {**bom_kinds, "Link": "link"}, key="bom_table")
st.caption("Price kind: scraped = toppreise.ch (Prices page), manual = override, catalog = "
           "dated list price in catalog.yaml. Dates are when the price was seen.")

if bom.notes:
    st.caption(bom.notes[0])
    with st.expander(f"Compatibility and wiring notes ({len(bom.notes)})"):
        for note in bom.notes:
            st.markdown(f"- {fmt.md_escape(note)}")

# ----------------------------------------------------------------------- upgrade path
st.subheader("Upgrade path")
targets = sorted({n for n in (*cat.defaults.cluster_sizes, units + 1) if n > units})
rows = []
for to in targets:
    row: dict[str, object] = {"From (units)": units, "To (units)": to}
    try:
        row["Extra parts (CHF)"] = services.upgrade_chf(platform_id, units, to, pv, cv)
        big = services.bom(platform_id, to, None, pv, cv)
        row["New total (CHF)"] = big.total_chf
        row["Design"] = big.topology.design
        row["Note"] = ""
    except (ValueError, TopologyError) as exc:
        row.update({"Extra parts (CHF)": None, "New total (CHF)": None, "Design": "–",
                    "Note": str(exc)})
    rows.append(row)
upgrade_df = pd.DataFrame(rows, columns=["From (units)", "To (units)", "Extra parts (CHF)",
                                         "New total (CHF)", "Design", "Note"])
upgrade_kinds = {"Extra parts (CHF)": "chf", "New total (CHF)": "chf"}
if rows:
    widgets.show_table(upgrade_df, {**upgrade_kinds, "From (units)": "int",
                                    "To (units)": "int"}, key="upgrade_table")
    st.caption("Extra parts: what must be bought on top of this build (parts already owned "
               "are reused, item by item; sizing.cluster.upgrade_cost).")

# ----------------------------------------------------------------------- deployment plan
st.subheader("Deployment plan")
main = Serve("main agent", ss[K("model")], ss[K("weights")], int(ss[K("streams")]))
sub_count = int(ss[K("sub_count")])
sub = Serve("sub-agents", ss[K("sub_model")], ss[K("sub_weights")], sub_count) \
    if sub_count else None
st.text_input("Plan (empty = suggested)", key=K("plan"), max_chars=60,
              placeholder="e.g. 2m+1s",
              help="Groups of units separated by '+', each followed by m (main agent), "
              "s (sub-agents) or ms (both on the same units). 2m+1s = units 1-2 serve the "
              "main agent (TP=2), unit 3 the sub-agents.")
state.commit(NAMES)
widgets.share_hint(["platform", "units", "plan", "…"])

text = ss[K("plan")].strip()
groups: tuple[tuple[int, str], ...] | None = None
plan_error = None
if text:
    try:
        groups = tuple(tables.parse_plan(text, units, has_sub_agents=sub is not None))
    except ValueError as exc:
        plan_error = str(exc)
plan = None
if plan_error:
    st.error(f"Plan {fmt.md_escape(repr(text))}: {fmt.md_escape(plan_error)}")
else:
    ctx = int(ss[K("ctx")])
    try:
        plan = services.deployment_plan(platform_id, units, groups, main, sub, ctx,
                                        ss[K("kv")], cv, custom, memory_setting)
    except ScenarioError as exc:
        st.error(f"This plan cannot run: {fmt.md_escape(exc)}")
if plan is not None:
    label = "Suggested plan" if groups is None else "Your plan"
    st.markdown(f"**{label}: `{tables.plan_text(plan)}`** — {fmt.md_escape(plan.describe())}")
    plan_df = tables.plan_frame(plan)
    widgets.show_table(plan_df, PLAN_KINDS, key="plan_table")
    if not plan.fits:
        st.error("The plan does not fit: " + "; ".join(plan.shortfalls))
    compare_engine = ss.get(state.KEEP, {}).get("engine", "auto")
    if compare_engine != "auto" and any(g.engine != compare_engine for g in plan.groups):
        st.info(f"Compare assumed the engine {compare_engine}; the deployment plan uses "
                "the default engine for each quantization (sizing.plan has no engine "
                "choice yet), so its speeds can differ from Compare's.")
    st.caption("Co-located models share memory and time: when both decode at once each "
               "stream runs at 1/sum(1/v) of their solo speeds (worst case, sizing.plan).")
else:
    plan_df = pd.DataFrame()

# ----------------------------------------------------------------------- exports
mem_notes = [f"memory setting: {ms.label} ({ms.how_to})" for ms in
             [services.with_memory_setting(cat, memory_setting).platform(platform_id)
              .memory_setting] if ms is not None]
notes_df = pd.DataFrame({"Note": [f"total: {age.note()}", *mem_notes, *bom.notes]})
sheets = {"BOM": bom_df, "Upgrade path": upgrade_df, "Notes": notes_df}
if len(plan_df):
    sheets["Deployment plan"] = plan_df


def build_markdown() -> str:
    """The BOM, upgrade path and plan as a Markdown document (built on download)."""
    sections = {"Bill of materials": export.markdown_table(bom_df, bom_kinds),
                "Upgrade path": export.markdown_table(upgrade_df, upgrade_kinds)}
    if len(plan_df):
        sections["Deployment plan"] = export.markdown_table(plan_df, PLAN_KINDS)
    return export.markdown_document(f"Build: {units} x {platform.name}", sections,
                                    notes=[f"total: {age.note()}", *mem_notes, power_note,
                                           *bom.notes])


power_note = (f"power {bom.power_w_idle:.0f} W idle, {bom.power_w_load:.0f} W at load; "
              f"energy {fmt.chf(energy)} per year ({tariff.id}, {ss[K('hours')]:g} h/day)")
widgets.download_buttons(
    f"bom-{units}x-{platform_id}", sheets,
    markdown=build_markdown,
    key="bom", kinds={**bom_kinds, **upgrade_kinds, **PLAN_KINDS,
                      "From (units)": "int", "To (units)": "int"})
