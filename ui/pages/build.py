"""Build: bill of materials of one configuration, power, upgrade path, deployment plan."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sizing import limits
from sizing.power import energy_chf_per_year
from sizing.requirements import Serve
from sizing.scenario import ScenarioError
from sizing.topology import TopologyError
from ui import export, fmt, links, services, shopping, state, tables, widgets

K = state.widget_key
PLAN_KINDS = {
    "Streams": "int",
    "Fits": "bool",
    "Memory per unit (GiB)": "float1",
    "Usable per unit (GiB)": "float1",
    "Decode per stream (tok/s)": "float1",
    "Decode total (tok/s)": "float1",
}
NAMES = (
    "platform",
    "mem",
    "n",
    "design",
    "model",
    "weights",
    "kv",
    "ctx",
    "streams",
    "sub_model",
    "sub_weights",
    "sub_count",
    "plan",
    "tariff",
    "hours",
)

cat = widgets.page_start(
    "Build",
    "Everything to buy for one configuration, with prices, dates and sources; "
    "how it is wired, what it draws, what growing costs, and how to split the units.",
)
custom = widgets.custom_refs()
cat = services.session_catalog(custom)  # + the models uploaded or fetched this session
state.seed(NAMES, cat)
ss = st.session_state
prices = services.shown_prices()
labels = widgets.platform_label(cat, prices)

with st.sidebar:
    st.header("Configuration")
    st.selectbox(
        "Platform",
        [p.id for p in cat.platforms],
        key=K("platform"),
        format_func=lambda i: labels.get(i, i),
    )
    memory_setting = widgets.memory_setting_input(cat, ss[K("platform")])
    st.number_input(
        "Units", min_value=limits.UNITS_MIN, max_value=limits.UNITS_MAX, step=1, key=K("n")
    )
    st.selectbox(
        "Network design",
        list(links.PARAMS["design"].allowed(cat) or ()),
        key=K("design"),
        help="auto: one DAC for 2 GB10 units, a switch for 3+; "
        "direct: switchless (2-4 GB10 units); switch: always a switch",
    )
    st.header("Workload (deployment plan)")
    widgets.model_select(cat, "Main-agent model", "model")
    widgets.quant_select(cat, cat.model(ss[K("model")]), "Main-agent quantization", "weights")
    st.number_input("Main-agent streams", min_value=1, max_value=1024, key=K("streams"))
    widgets.model_select(cat, "Sub-agent model", "sub_model")
    widgets.quant_select(
        cat, cat.model(ss[K("sub_model")]), "Sub-agent quantization", "sub_weights"
    )
    st.number_input("Sub-agent streams (0 = none)", min_value=0, max_value=1024, key=K("sub_count"))
    st.number_input(
        "Context per stream (tokens)",
        min_value=limits.CONTEXT_TOKENS_MIN,
        max_value=limits.CONTEXT_TOKENS_MAX,
        step=1024,
        key=K("ctx"),
    )
    st.selectbox("KV cache dtype", list(links.PARAMS["kv"].allowed(cat) or ()), key=K("kv"))
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
energy = energy_chf_per_year(
    idle_w=bom.power_w_idle,
    load_w=bom.power_w_load,
    hours_at_load_per_day=float(ss[K("hours")]),
    rappen_per_kwh=tariff.rappen_per_kwh,
)
m = st.columns(5)
m[0].metric(
    "Total" + (" (incomplete)" if bom.unpriced_items else ""),
    fmt.chf(bom.total_chf),
    help="sum of the lines below; – = a part has no known price; (incomplete) = "
    "parts that are not priced are left out",
)
m[1].metric("Network design", bom.topology.design)
m[2].metric("Power idle", f"{fmt.swiss_number(bom.power_w_idle)} W")
m[3].metric("Power at load", f"{fmt.swiss_number(bom.power_w_load)} W")
m[4].metric(
    "Energy per year",
    fmt.chf(energy),
    help=f"{ss[K('hours')]:g} h/day at load, rest idle, {tariff.rappen_per_kwh:g} "
    f"Rp/kWh ({tariff.id})",
)
age = widgets.price_age_notice(cat, [bom.oldest_price_date])
if bom.missing_prices:
    st.warning(
        "No price known for: " + ", ".join(bom.missing_prices) + ". Set one on the "
        "Prices page (manual override); the total stays unknown until then."
    )
if bom.unpriced_items:
    st.warning(
        "Price incomplete — the total leaves out parts that are not priced (not in the "
        "catalog, no sourced price found): " + fmt.md_escape(", ".join(bom.unpriced_items))
    )

bom_df = tables.bom_frame(bom)
bom_kinds = tables.kinds_by_label(tables.BOM_COLUMNS)
widgets.show_table(
    bom_df, {**bom_kinds, "Link": "link", "Order / compare": "link"}, key="bom_table"
)
st.caption(
    "Price kind: scraped = toppreise.ch (Prices page), manual = override, catalog = "
    "dated list price in catalog.yaml. Dates are when the price was seen. Order / "
    "compare: the toppreise.ch product page where one is known, else the vendor's "
    "shop page, else a toppreise.ch search for the part number (MPN) or name — "
    "'Order link kind' says which."
)
for line in bom.lines:
    if line.caveat:
        st.warning(f"Known issue — {fmt.md_escape(line.item_id)}: {fmt.md_escape(line.caveat)}")
alt_df = shopping.alternatives_frame(bom)
if len(alt_df):
    st.markdown(
        "**Cheaper alternatives with a known problem** (not in the total: the bill "
        "uses the known-good part)"
    )
    widgets.show_table(
        alt_df, {**shopping.KINDS, "Order / compare": "link"}, key="bom_alternatives"
    )

if bom.notes:
    st.caption(bom.notes[0])
    with st.expander(f"Compatibility and wiring notes ({len(bom.notes)})"):
        st.markdown("\n".join(f"- {fmt.md_escape(note)}" for note in bom.notes))  # one element

# ----------------------------------------------------------------------- upgrade path
st.subheader("Upgrade path")
targets = sorted({n for n in (*cat.defaults.cluster_sizes, units + 1) if n > units})
rows = []
upgrades = {}
for to in targets:
    try:
        up = services.upgrade(platform_id, units, to, pv, cv)
        big = services.bom(platform_id, to, None, pv, cv)
    except (ValueError, TopologyError, ScenarioError) as exc:
        rows.append(
            {
                "from_units": units,
                "to_units": to,
                "extra_chf": None,
                "new_total_chf": None,
                "total_spent_chf": None,
                "design": "–",
                "unused": "–",
                "note": str(exc),
            }
        )
        continue
    upgrades[to] = up
    rows.append(shopping.upgrade_row(up, big.total_chf))
upgrade_df = shopping.upgrade_frame(rows)
upgrade_kinds = {"Extra parts (CHF)": "chf", "New total (CHF)": "chf", "Total spent (CHF)": "chf"}
buy_df = unused_df = shopping.lines_frame([])
up_alt_df = shopping.lines_frame([], shopping.ALTERNATIVE_COLUMNS)
chosen_up = None
if rows:
    widgets.show_table(
        upgrade_df,
        {**upgrade_kinds, "From (units)": "int", "To (units)": "int"},
        key="upgrade_table",
    )
    st.caption(
        "Extra parts: what must be bought on top of this build (parts already owned "
        "are reused, item by item; sizing.upgrade.upgrade_path). Total spent = this "
        "build at today's prices (ASSUMPTION: what was paid is not known) + the extra "
        "parts."
    )
if upgrades:
    to_sel = st.selectbox(
        "Shopping list for growing to",
        list(upgrades),
        key="upgrade_to",
        format_func=lambda n: f"{n} units",
    )
    chosen_up = upgrades[to_sel]
    c = st.columns(3)
    c[0].metric(
        "Cost now",
        fmt.chf(chosen_up.extra_chf),
        help="the parts to buy below; – = a part has no known price",
    )
    c[1].metric(f"Owned {units}-unit build (today's prices)", fmt.chf(chosen_up.owned_chf))
    c[2].metric(
        "Total spent",
        fmt.chf(chosen_up.total_spent_chf),
        help="owned build at today's prices + cost now",
    )
    buy_df = shopping.lines_frame(chosen_up.buy_lines)
    unused_df = shopping.lines_frame(chosen_up.unused_lines)
    st.markdown(f"**Buy now ({units} → {to_sel} units)**")
    widgets.show_table(
        buy_df, {**shopping.KINDS, "Order / compare": "link"}, key="upgrade_buy_table"
    )
    if chosen_up.alternatives:
        up_alt_df = shopping.lines_frame(chosen_up.alternatives, shopping.ALTERNATIVE_COLUMNS)
        st.caption(
            "Cheaper alternatives with a known problem (not in the cost): "
            + "; ".join(
                fmt.md_escape(
                    f"{a.quantity} x {a.item_id} instead of {a.alternative_to} — {a.caveat}"
                )
                for a in chosen_up.alternatives
            )
        )
    if chosen_up.unused_lines:
        st.markdown(
            "**Owned parts left unused by the new design** (today's prices, for resale or a spare)"
        )
        widgets.show_table(
            unused_df, {**shopping.KINDS, "Order / compare": "link"}, key="upgrade_unused_table"
        )
    else:
        st.caption("Every owned part is used by the new design.")
    if chosen_up.missing_prices:
        st.warning("No price known for: " + ", ".join(chosen_up.missing_prices))
    if chosen_up.unpriced_items:
        st.warning(
            "Price incomplete — not priced (not in the catalog): "
            + ", ".join(chosen_up.unpriced_items)
        )
    with st.expander("Upgrade notes"):
        st.markdown("\n".join(f"- {fmt.md_escape(note)}" for note in chosen_up.notes))

# ----------------------------------------------------------------------- deployment plan
st.subheader("Deployment plan")
main = Serve("main agent", ss[K("model")], ss[K("weights")], int(ss[K("streams")]))
sub_count = int(ss[K("sub_count")])
sub = (
    Serve("sub-agents", ss[K("sub_model")], ss[K("sub_weights")], sub_count) if sub_count else None
)
st.text_input(
    "Plan (empty = suggested)",
    key=K("plan"),
    max_chars=60,
    placeholder="e.g. 2m+1s",
    help="Groups of units separated by '+', each followed by m (main agent), "
    "s (sub-agents) or ms (both on the same units). 2m+1s = units 1-2 serve the "
    "main agent (TP=2), unit 3 the sub-agents.",
)
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
        plan = services.deployment_plan(
            platform_id, units, groups, main, sub, ctx, ss[K("kv")], cv, custom, memory_setting
        )
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
        st.info(
            f"Compare assumed the engine {compare_engine}; the deployment plan uses "
            "the default engine for each quantization (sizing.planner has no engine "
            "choice yet), so its speeds can differ from Compare's."
        )
    st.caption(
        "Co-located models share memory and time: when both decode at once each "
        "stream runs at 1/sum(1/v) of their solo speeds (worst case, sizing.planner)."
    )
else:
    plan_df = pd.DataFrame()

# ----------------------------------------------------------------------- exports
mem_notes = [
    f"memory setting: {ms.label} ({ms.how_to})"
    for ms in [
        services.with_memory_setting(cat, memory_setting).platform(platform_id).memory_setting
    ]
    if ms is not None
]
notes_df = pd.DataFrame({"Note": [f"total: {age.note()}", *mem_notes, *bom.notes]})
sheets = {"BOM": bom_df, "Upgrade path": upgrade_df, "Notes": notes_df}
if len(alt_df):
    sheets["BOM alternatives"] = alt_df
if chosen_up is not None:
    shop = f"{units} to {chosen_up.to_units}"
    sheets[f"Buy {shop}"] = buy_df
    sheets[f"Unused {shop}"] = unused_df
    if len(up_alt_df):
        sheets[f"Alternatives {shop}"] = up_alt_df
if len(plan_df):
    sheets["Deployment plan"] = plan_df


def build_markdown() -> str:
    """The BOM, upgrade path and plan as a Markdown document (built on download)."""
    sections = {"Bill of materials": export.markdown_table(bom_df, bom_kinds)}
    if len(alt_df):
        sections["Cheaper alternatives with a known problem (not in the total)"] = (
            export.markdown_table(alt_df, shopping.KINDS)
        )
    sections["Upgrade path"] = export.markdown_table(upgrade_df, upgrade_kinds)
    if chosen_up is not None:
        head = f"{units} -> {chosen_up.to_units} units"
        sections[f"Shopping list {head}: buy now"] = export.markdown_table(buy_df, shopping.KINDS)
        sections[f"Shopping list {head}: owned parts left unused"] = (
            export.markdown_table(unused_df, shopping.KINDS)
            if len(unused_df)
            else "None: every owned part is used.\n"
        )
        sections[f"Shopping list {head}: totals"] = (
            f"- Cost now: {fmt.chf(chosen_up.extra_chf)}\n"
            f"- Owned build at today's prices (assumption): {fmt.chf(chosen_up.owned_chf)}\n"
            f"- Total spent: {fmt.chf(chosen_up.total_spent_chf)}\n"
        )
    if len(plan_df):
        sections["Deployment plan"] = export.markdown_table(plan_df, PLAN_KINDS)
    return export.markdown_document(
        f"Build: {units} x {platform.name}",
        sections,
        notes=[f"total: {age.note()}", *mem_notes, power_note, *bom.notes],
    )


power_note = (
    f"power {bom.power_w_idle:.0f} W idle, {bom.power_w_load:.0f} W at load; "
    f"energy {fmt.chf(energy)} per year ({tariff.id}, {ss[K('hours')]:g} h/day)"
)
widgets.download_buttons(
    f"bom-{units}x-{platform_id}",
    sheets,
    markdown=build_markdown,
    key="bom",
    kinds={
        **bom_kinds,
        **shopping.KINDS,
        **upgrade_kinds,
        **PLAN_KINDS,
        "From (units)": "int",
        "To (units)": "int",
    },
)
