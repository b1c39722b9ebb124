"""Assumptions: every constant the planner uses, with its source; calibration error."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sizing.catalog import ROOT
from ui import services, tables, widgets

cat = widgets.page_start(
    "Assumptions",
    "Every constant behind the numbers, where it comes from, and how well the "
    "throughput model reproduces measured benchmarks.",
)


def sources(values: list[str]) -> str:
    return " · ".join(values)


def table(
    rows: list[dict[str, object]], kinds: dict[str, str] | None = None, key: str = ""
) -> None:
    widgets.show_table(pd.DataFrame(rows), kinds or {}, key=key)


# ----------------------------------------------------------------------- calibration
rows, stats = services.calibration(services.catalog_version(), services.benchmarks_version())
st.subheader("Predicted vs measured")
m = st.columns(4)
m[0].metric("Decode: median abs. error", f"{stats['decode_mape']:.1f} %")
m[1].metric("Prefill: median abs. error", f"{stats['prefill_mape']:.1f} %")
m[2].metric("Benchmark rows evaluated", f"{stats['evaluated']:.0f}")
m[3].metric("Rows skipped (with reason)", f"{stats['skipped']:.0f}")
cal = cat.calibration
cv = st.columns(4)
for col, (label, key) in zip(
    cv,
    (
        ("Decode, source held out", "leave one source out decode"),
        ("Decode, model family held out", "leave one model family out decode"),
        ("Prefill, source held out", "leave one source out prefill"),
        ("Prefill, model family held out", "leave one model family out prefill"),
    ),
    strict=True,
):
    value = cal.cross_validated.get(key)
    col.metric(
        label,
        "–" if value is None else f"{value:.1f} %",
        help="median abs. error of rows predicted by constants refitted without "
        "them (cross-validated; python -m sizing calibrate --report)",
    )
st.caption(
    f"Data: data/benchmarks.csv (each row with its source URL). Constants fitted on "
    f"{cal.fitted_on}; catalog states a decode median abs. error of "
    f"{cal.median_abs_pct_error if cal.median_abs_pct_error is not None else '–'} % "
    "in sample. The second row is the honest error: each source (or model family) "
    "left out of the fit and predicted."
)
tab_dec, tab_pf = st.tabs(["Decode", "Prefill"])
with tab_dec:
    st.plotly_chart(
        services.figure("calibration_scatter", rows, kind="decode"), key="chart_cal_decode"
    )
with tab_pf:
    st.plotly_chart(
        services.figure("calibration_scatter", rows, kind="prefill"), key="chart_cal_prefill"
    )
shown = rows.rename(
    columns={
        "row": "Row",
        "label": "Benchmark",
        "family": "Family",
        "engine": "Engine",
        "measured_decode": "Measured decode (tok/s)",
        "predicted_decode": "Predicted decode (tok/s)",
        "decode_error_pct": "Decode error (%)",
        "measured_prefill": "Measured prefill (tok/s)",
        "predicted_prefill": "Predicted prefill (tok/s)",
        "prefill_error_pct": "Prefill error (%)",
        "skip_reason": "Skipped because",
        "source_url": "Source",
    }
)
with st.expander(f"Every benchmark row ({len(shown)})"):
    widgets.show_table(
        shown,
        {
            "Measured decode (tok/s)": "float1",
            "Predicted decode (tok/s)": "float1",
            "Decode error (%)": "pct",
            "Measured prefill (tok/s)": "int",
            "Predicted prefill (tok/s)": "int",
            "Prefill error (%)": "pct",
            "Source": "link",
        },
        key="cal_rows",
    )

# ----------------------------------------------------------------------- calibrated constants
st.subheader("Calibrated constants")
st.markdown(
    f"Per-layer overhead per forward pass: **{cal.layer_overhead_us:g} µs** "
    f"(fitted on {cal.fitted_on}); on families whose fixed cost is per decode step "
    "(Apple, Metal) a fixed cost per token instead (column below)."
)
table(
    [
        {
            "Family": f.family,
            "Bandwidth efficiency": f.bandwidth_efficiency,
            "Prefill compute efficiency": f.prefill_compute_efficiency,
            "Decode compute efficiency": f.decode_compute_efficiency,
            "Decode band (±%)": f.decode_band_pct,
            "Prefill/TTFT band (±%)": f.prefill_band_pct,
            "Fixed cost": (
                f"{f.step_overhead_us:g} µs per decode step"
                if f.fixed_cost == "per_step"
                else "per layer (paths below)"
            ),
            "Note": f.note,
            "Source": sources(f.source),
        }
        for f in cal.families
    ],
    {
        "Bandwidth efficiency": "float3",
        "Prefill compute efficiency": "float3",
        "Decode compute efficiency": "float3",
        "Decode band (±%)": "int",
        "Prefill/TTFT band (±%)": "int",
    },
    key="cal_families",
)
st.caption(
    "Bands: the ±% that held 80 % of the family's predictions when each source was "
    "left out of the fit (at least the pooled band for a family with fewer than 5 "
    "rows); every speed and TTFT on Compare and Build shows its low and high. "
    "`python -m sizing calibrate --report` prints the in-sample and cross-validated "
    "error (leave one source out, leave one model family out)."
)
table(
    [
        {
            "Engine": e.engine,
            "Decode factor": e.decode_factor,
            "Prefill factor": e.prefill_factor,
            "Note": e.note,
        }
        for e in cal.engines
    ],
    {"Decode factor": "float3", "Prefill factor": "float3"},
    key="cal_engines",
)
table(
    [
        {
            "Engine": e.engine,
            "Kernel path": f"{fam}/{fmt}" if fmt else f"{fam} (other formats)",
            "Decode factor": e.decode_factor_on(fam, fmt or None),
            "Per-layer overhead (µs)": e.layer_overhead_us_on(fam, cal.layer_overhead_us),
            "Recurrent-layer extra (µs)": e.family_recurrent_overhead_us.get(fam, 0.0),
        }
        for e in cal.engines
        for fam, fmt in sorted(
            {(f, "") for f in (*e.family_decode_factors, *e.family_layer_overhead_us)}
            | {tuple(k.split("/", 1)) for k in e.path_decode_factors}
        )
    ],
    {
        "Decode factor": "float3",
        "Per-layer overhead (µs)": "int",
        "Recurrent-layer extra (µs)": "int",
    },
    key="cal_paths",
)
st.caption(
    "Kernel paths with their own constants: a decode factor per platform family and "
    "per weight format where the path has 3+ rows from 2+ publications, a per-layer "
    "overhead where its rows span several model sizes; every other path uses the "
    "engine-wide factor and the global per-layer overhead above."
)

# ----------------------------------------------------------------------- defaults
st.subheader("Defaults and tariffs")
d = cat.defaults
tariff = cat.tariff(d.tariff)
table(
    [
        {
            "Constant": "electricity tariff",
            "Value": f"{tariff.rappen_per_kwh:g} Rp/kWh ({tariff.id})",
            "Source": sources(tariff.source),
        },
        {
            "Constant": "GB10 vLLM/SGLang memory utilization",
            "Value": f"{d.mem_util_gb10_vllm:g}",
            "Source": "catalog.yaml defaults (owners run 0.80-0.88; design.md)",
        },
        {
            "Constant": "hours at load per day",
            "Value": f"{d.hours_at_load_per_day:g} h",
            "Source": "catalog.yaml defaults (assumption, user-settable on Compare)",
        },
        {
            "Constant": "years for TCO",
            "Value": f"{d.years_tco:g}",
            "Source": "catalog.yaml defaults (assumption)",
        },
        {
            "Constant": "cluster sizes compared",
            "Value": ", ".join(map(str, d.cluster_sizes)),
            "Source": "catalog.yaml defaults",
        },
        {
            "Constant": "price considered stale after",
            "Value": f"{d.price_stale_days} days",
            "Source": "catalog.yaml defaults",
        },
    ],
    key="defaults",
)
st.markdown(
    "**Constants in the code** (read from the source; the comment states the "
    "source or marks an assumption)"
)
consts = tables.code_constants(
    [*sorted((ROOT / "sizing").glob("*.py")), ROOT / "pricing" / "refresh.py"]
)
widgets.show_table(consts, {}, key="code_constants")
table(
    [
        {
            "Tariff": t.id,
            "Name": t.name,
            "Rp/kWh": t.rappen_per_kwh,
            "Year": t.year,
            "Note": t.note or "",
            "Source": sources(t.source),
        }
        for t in cat.tariffs
    ],
    {"Rp/kWh": "float2"},
    key="tariffs",
)

# ----------------------------------------------------------------------- engines, quants
st.subheader("Engines")
table(
    [
        {
            "Engine": e.id,
            "Name": e.name,
            "Memory policy": e.memory_policy,
            "Default memory utilization": e.default_mem_util,
            "Runtime overhead (GiB/unit)": e.runtime_overhead_gib,
            "KV block (tokens)": e.kv_block_tokens,
            "Sliding-window aware": e.swa_aware,
            "Layouts": ", ".join(e.parallel),
            "Note": e.note,
            "Source": sources(e.source),
        }
        for e in cat.engines
    ],
    {"Default memory utilization": "float2", "Runtime overhead (GiB/unit)": "float1"},
    key="engines",
)
st.subheader("Quantizations")
table(
    [
        {
            "Quantization": q.id,
            "Name": q.name,
            "Bits per weight": q.bits_per_weight,
            "Applies to": ", ".join(q.applies_to),
            "Compute dtype": q.compute_dtype,
            "Note": q.note,
            "Source": sources(q.source),
        }
        for q in cat.quantizations
    ],
    {"Bits per weight": "float2"},
    key="quants",
)

# ----------------------------------------------------------------------- platforms
st.subheader("Platforms")
table(
    [
        {
            "Platform": p.id,
            "Family": p.family,
            "Memory (GB)": p.memory_gb,
            "Accelerator memory (GiB)": p.accelerator_memory_gib,
            "Bandwidth (GB/s)": p.memory_bandwidth_gb_s,
            "BF16 dense (TFLOPS)": p.compute.bf16_tflops,
            "Idle (W)": p.power.idle_w,
            "Load (W)": p.power.load_w,
            "Interconnect": p.interconnect.kind if p.interconnect else "–",
            "Transports (default first)": ", ".join(p.interconnect.transports)
            if p.interconnect
            else "–",
            "Source": sources(p.source),
            "Power source": sources(p.power.source),
        }
        for p in cat.platforms
    ],
    {
        "Memory (GB)": "int",
        "Accelerator memory (GiB)": "float1",
        "Bandwidth (GB/s)": "int",
        "BF16 dense (TFLOPS)": "float1",
        "Idle (W)": "int",
        "Load (W)": "int",
    },
    key="platforms",
)
st.subheader("Transports")
st.caption(
    "One all-reduce of M bytes on N units: base + 2 (N-1) x step latency + "
    "M 2 (N-1)/N / bus bandwidth (ring), or NCCL's tree (log2 N levels) where "
    "offered and faster; a pipeline hand-off is one step (sizing/kernel.py "
    "`allreduce_s`, `hop_s`)."
)
table(
    [
        {
            "Transport": t.id,
            "Name": t.name,
            "Across hosts": t.across_hosts,
            "Base (µs)": t.base_latency_us,
            "Per step (µs)": t.hop_latency_us,
            "Bus bandwidth (fraction of link)": t.bus_bandwidth_fraction,
            "Tree": t.tree,
            "Per decode step across hosts (µs)": t.step_fixed_us,
            "Date": t.date.isoformat(),
            "Note": t.note,
            "Source": sources(t.source),
        }
        for t in cat.transports
    ],
    {
        "Base (µs)": "float1",
        "Per step (µs)": "float1",
        "Bus bandwidth (fraction of link)": "float2",
        "Per decode step across hosts (µs)": "float1",
    },
    key="transports",
)
st.subheader("Models")
table(
    [
        {
            "Model": m.id,
            "Name": m.name,
            "Layers": m.arch.num_layers,
            "Attention": m.attention,
            "MoE": m.is_moe,
            "Max context (tokens)": m.max_context_tokens,
            "Source": sources(m.source),
        }
        for m in cat.models
    ],
    {"Layers": "int", "Max context (tokens)": "tokens"},
    key="models",
)
