"""Plan: requirements in, ranked recommendations and reasons for every rejection out."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from sizing import limits
from sizing.scenario import ScenarioError
from ui import export, fmt, links, services, state, widgets

K = state.widget_key
NAMES = (
    "req_model",
    "req_weights",
    "req_streams",
    "req_min",
    "req_target",
    "req_sub_count",
    "req_sub_model",
    "req_sub_weights",
    "req_sub_min",
    "req_ctx",
    "req_kv",
    "budget",
    "power_cap",
    "min_mem",
    "req_families",
    "req_units",
    "mem",
    "min_tok_s",
    "max_ttft_s",
    "tariff",
    "hours",
)

cat = widgets.page_start(
    "Plan",
    "State what you need; the planner tries every platform, unit count and split "
    "of the units between the agents, and ranks what meets every requirement, cheapest "
    "first. Everything else is listed with the reason it was rejected.",
)
custom = widgets.custom_refs()
cat = services.session_catalog(custom)  # + the models uploaded or fetched this session
state.seed(NAMES, cat)
ss = st.session_state
families = list(links.PARAMS["req_families"].allowed(cat) or ())

left, mid, right = st.columns(3)
with left:
    st.markdown("**Main agent**")
    widgets.model_select(cat, "Model", "req_model")
    widgets.quant_select(cat, cat.model(ss[K("req_model")]), "Quantization", "req_weights")
    st.number_input("Streams", min_value=1, max_value=1024, key=K("req_streams"))
    st.number_input(
        "Minimum decode per stream (tok/s)",
        min_value=0.1,
        max_value=100000.0,
        step=5.0,
        key=K("req_min"),
    )
    st.number_input(
        "Target decode per stream (tok/s, 0 = none)",
        min_value=0.0,
        max_value=100000.0,
        step=5.0,
        key=K("req_target"),
    )
with mid:
    st.markdown("**Sub-agents** (streams 0 = none)")
    st.number_input("Sub-agent streams", min_value=0, max_value=1024, key=K("req_sub_count"))
    widgets.model_select(cat, "Sub-agent model", "req_sub_model")
    widgets.quant_select(
        cat, cat.model(ss[K("req_sub_model")]), "Sub-agent quantization", "req_sub_weights"
    )
    st.number_input(
        "Sub-agent minimum per stream (tok/s)",
        min_value=0.1,
        max_value=100000.0,
        step=5.0,
        key=K("req_sub_min"),
    )
    st.number_input(
        "Context per stream (tokens)",
        min_value=limits.CONTEXT_TOKENS_MIN,
        max_value=limits.CONTEXT_TOKENS_MAX,
        step=1024,
        key=K("req_ctx"),
    )
    st.selectbox("KV cache dtype", list(links.PARAMS["req_kv"].allowed(cat) or ()), key=K("req_kv"))
with right:
    st.markdown("**Limits**")
    st.number_input("Budget (CHF)", min_value=1, max_value=10_000_000, step=500, key=K("budget"))
    st.number_input(
        "Power cap at load (W, 0 = none)",
        min_value=0,
        max_value=100_000,
        step=50,
        key=K("power_cap"),
    )
    st.number_input(
        "Minimum raw memory (GB, 0 = none)",
        min_value=0,
        max_value=100_000,
        step=64,
        key=K("min_mem"),
    )
    st.number_input(
        "Speed floor, every stream (tok/s, 0 = none)",
        min_value=0.0,
        max_value=100_000.0,
        step=1.0,
        key=K("min_tok_s"),
        help="every stream of every role decodes at least this fast (central "
        "estimate); a role's own minimum counts when it is higher",
    )
    st.number_input(
        "Max. time to first token (s, 0 = none)",
        min_value=0.0,
        max_value=1_000_000.0,
        step=10.0,
        key=K("max_ttft_s"),
        help="a full-context request gets its first token within this time (central estimate)",
    )
    state.coerce_choice("req_families", families)
    st.multiselect("Platform families", families, key=K("req_families"))
    current = list(ss.get(K("req_units"), []))
    st.multiselect("Unit counts", sorted({*range(1, 9), 12, 16, *current}), key=K("req_units"))
    memory_setting, memory_lines = widgets.memory_setting_any_input(cat)
    widgets.energy_inputs(cat)
state.commit(NAMES)
widgets.share_hint(["requirements"])

chosen = ss[K("req_families")]
if not chosen or not ss[K("req_units")]:
    st.warning("Choose at least one platform family and one unit count.")
    st.stop()

main: dict[str, Any] = {
    "model": ss[K("req_model")],
    "weights": ss[K("req_weights")],
    "min_tok_s": float(ss[K("req_min")]),
    "streams": int(ss[K("req_streams")]),
}
if ss[K("req_target")] > 0:
    main["target_tok_s"] = float(ss[K("req_target")])
requirements: dict[str, Any] = {
    "main_agent": main,
    "context_tokens": int(ss[K("req_ctx")]),
    "kv_dtype": ss[K("req_kv")],
    "budget_chf": {"max": float(ss[K("budget")])},
    "platforms": [p.id for p in cat.platforms if p.family in chosen],
    "units": sorted(ss[K("req_units")]),
    "tariff": ss[K("tariff")],
    "hours_at_load_per_day": float(ss[K("hours")]),
    "min_tok_s_per_stream": float(ss[K("min_tok_s")]),
    "max_ttft_s": float(ss[K("max_ttft_s")]),
}
if ss[K("req_sub_count")] > 0:
    requirements["sub_agents"] = {
        "model": ss[K("req_sub_model")],
        "weights": ss[K("req_sub_weights")],
        "count": int(ss[K("req_sub_count")]),
        "min_tok_s": float(ss[K("req_sub_min")]),
    }
if ss[K("power_cap")] > 0:
    requirements["power_cap_w"] = float(ss[K("power_cap")])
if ss[K("min_mem")] > 0:
    requirements["min_memory_gb"] = float(ss[K("min_mem")])

try:
    with st.spinner("Planning…"):
        result = services.planner(
            requirements,
            services.prices_version(),
            services.catalog_version(),
            custom,
            memory_setting,
        )
except ScenarioError as exc:  # RequirementsError included
    st.error(f"These requirements cannot be evaluated: {fmt.md_escape(exc)}")
    st.stop()

# ----------------------------------------------------------------------- recommendations
years = cat.defaults.years_tco
rec = pd.DataFrame(
    [
        {
            "Rank": i + 1,
            "Configuration": f"{c.units} x {c.platform_id}",
            "Family": c.family,
            "Price (CHF)": c.price_chf,
            "Prices as of": None
            if c.oldest_price_date is None
            else c.oldest_price_date.isoformat(),
            "Price complete": c.price_complete,  # False: a lower bound (Unpriced parts)
            "Unpriced parts": "; ".join(c.unpriced_items),
            "Main agent (tok/s per stream)": c.plan.speed_of("main agent"),
            "Slowest TTFT (s)": max((g.ttft_s for g in c.plan.groups), default=None),
            "Meets targets": c.meets_targets,
            "Deployment plan": c.plan.describe(),
            "Raw memory (GB)": c.raw_memory_gb,
            "Idle power (W)": c.power_w_idle,
            "Load power (W)": c.power_w_load,
            "Energy (CHF/year)": c.energy_chf_per_year,
            f"TCO {years:g} years (CHF)": c.tco_chf,
            "Notes": "; ".join(c.notes),
        }
        for i, c in enumerate(result.recommended)
    ]
)
rec_kinds = {
    "Price (CHF)": "chf",
    "Main agent (tok/s per stream)": "float1",
    "Slowest TTFT (s)": "sig2",
    "Raw memory (GB)": "int",
    "Idle power (W)": "int",
    "Load power (W)": "int",
    "Energy (CHF/year)": "chf",
    f"TCO {years:g} years (CHF)": "chf",
}
rej = pd.DataFrame(
    [
        {
            "Configuration": f"{r.units} x {r.platform_id}",
            "Family": r.family,
            "Price (CHF)": r.price_chf,
            "Price complete": r.price_complete,
            "Unpriced parts": "; ".join(r.unpriced_items),
            "Reasons": ", ".join(r.reasons),
            "Detail": r.detail,
        }
        for r in result.rejected
    ],
    columns=[
        "Configuration",
        "Family",
        "Price (CHF)",
        "Price complete",
        "Unpriced parts",
        "Reasons",
        "Detail",
    ],
)
rule = (
    "cheapest configuration that meets every requirement, including every stream "
    f"{result.floors.text()} (central estimate; complete prices before incomplete ones)"
)

if result.recommended:
    top = result.recommended[0]
    st.success(
        f"Cheapest configuration that meets every requirement: **{top.units} x "
        f"{top.platform_id}** for {fmt.chf(top.price_chf)}"
        + (
            ""
            if top.price_complete
            else f" + unpriced parts ({fmt.md_escape(', '.join(top.unpriced_items))}; "
            "price incomplete)"
        )
        + f" — {fmt.md_escape(top.plan.describe())}"
    )
    st.caption(f"Rule: {fmt.md_escape(rule)}.")
    widgets.price_age_notice(cat, [top.oldest_price_date])
    st.subheader(f"Recommendations ({len(rec)})")
    widgets.show_table(
        rec,
        {**rec_kinds, "Rank": "int", "Meets targets": "bool", "Price complete": "bool"},
        key="plan_rec",
        helps={
            "Price complete": "unticked: a part the catalog does not hold "
            "is not priced, so the price is a lower bound (see Unpriced "
            "parts); ranked after every complete price",
            "Slowest TTFT (s)": "time to first token of a full-context "
            "request, the slowest instance of the plan",
        },
    )
    partial = [c for c in result.recommended if not c.price_complete]
    if partial:
        st.markdown(
            "**Price incomplete** (ranked after every complete price; these parts "
            "are not priced):\n"
            + "\n".join(
                f"- {c.units} x {fmt.md_escape(c.platform_id)}: "
                f"{fmt.md_escape(', '.join(c.unpriced_items))}"
                for c in partial
            )
        )
else:
    st.error(
        "No configuration meets all of these requirements. The reasons per family are "
        "below: relax the binding limit (budget, speed, TTFT, power, memory) or allow "
        "more units or families."
    )
    if result.closest_text():
        st.warning(
            fmt.md_escape(result.closest_text()[:1].upper() + result.closest_text()[1:]) + ".",
            icon=":material/speed:",
        )
    st.caption(f"Rule: {fmt.md_escape(rule)}.")

if result.families:
    st.subheader("Why families were ruled out")
    for family, why in result.families.items():  # sizing's text, shown as written
        st.markdown(f"- **{fmt.md_escape(family)}**: {fmt.md_escape(why)}")

with st.expander(f"Every rejected configuration ({len(rej)})"):
    widgets.show_table(rej, {"Price (CHF)": "chf", "Price complete": "bool"}, key="plan_rej")

with st.expander("Assumptions"):  # one element, not one per line
    st.markdown(
        "\n".join(f"- {fmt.md_escape(line)}" for line in [*memory_lines, *result.assumptions])
    )

age_line = (
    "recommendations: "
    + widgets.price_age_of(cat, [c.oldest_price_date for c in result.recommended]).note()
)
result_notes = [*memory_lines, *result.assumptions]
sheets = {
    "Recommendations": rec if len(rec) else pd.DataFrame({"Result": ["none"]}),
    "Rejected": rej,
    "Assumptions": pd.DataFrame({"Assumption": [age_line, f"rule: {rule}", *result_notes]}),
}
widgets.download_buttons(
    "plan",
    sheets,
    markdown=lambda: export.markdown_document(
        "Plan",
        {
            "Recommendations": export.markdown_table(rec, rec_kinds)
            if len(rec)
            else "None meets every requirement.\n",
            "Rejected": export.markdown_table(rej, {"Price (CHF)": "chf"}),
        },
        notes=[
            age_line,
            f"rule: {rule}",
            *([result.closest_text()] if result.closest_text() else []),
            *result_notes,
            *(f"{k}: {v}" for k, v in result.families.items()),
        ],
    ),
    key="plan",
    kinds={**rec_kinds, "Rank": "int", "Price (CHF)": "chf"},
)
