"""Shared Streamlit components: page start, workload and hardware inputs, downloads.

Every input widget is bound to a :data:`ui.links.PARAMS` entry through its key
(``state.widget_key(name)``) and seeded once by ``state.seed`` — widgets never get a
``value=``/``index=`` argument, so the session value (from a link, an earlier page or the
default) always wins.
"""

from __future__ import annotations

import datetime
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from sizing import limits
from sizing.catalog import CONFIG_MAX_BYTES, Catalog, CatalogError, ModelArch
from sizing.compare import Workload
from sizing.hub import HubError
from sizing.llm import quants_for
from sizing.money import PriceQuote, chf, price_age
from sizing.speculative import CONTENT_TYPES
from ui import export, fmt, links, services, state

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd

K = state.widget_key


def page_start(title: str, caption: str = "") -> Catalog:
    """Title, catalog (or a readable error and stop) and link warnings."""
    st.title(title)
    if caption:
        st.caption(caption)
    try:
        cat = services.catalog()
    except CatalogError as exc:
        st.error(f"The catalog cannot be loaded, so no figures can be shown: {fmt.md_escape(exc)}")
        st.stop()
    for warning in state.apply_query_once(cat):
        st.warning(f"Link: {fmt.md_escape(warning)}", icon="⚠️")  # link text shown as text
    problem = services.prices_problem()
    if problem:
        st.warning(
            "Prices: the price history cannot be used, so every figure uses the dated "
            f"catalog list prices. {fmt.md_escape(problem)}",
            icon="⚠️",
        )
    return cat


def price_age_of(cat: Catalog, dates: Sequence[Any]) -> Any:
    """PriceAge of the oldest of ``dates`` (dates or ISO strings; others ignored) today
    (UTC), stale past the catalog's ``defaults.price_stale_days``."""
    parsed = [
        datetime.date.fromisoformat(d) if isinstance(d, str) else d
        for d in dates
        if isinstance(d, str | datetime.date)
    ]
    return price_age(
        parsed,
        today=datetime.datetime.now(datetime.UTC).date(),
        stale_days=cat.defaults.price_stale_days,
    )


def price_age_notice(cat: Catalog, dates: Sequence[Any], *, age: Any = None) -> Any:
    """Show how old the oldest of ``dates`` is (or ``age``, a PriceAge already computed) —
    a warning past the catalog's ``defaults.price_stale_days`` — and return the PriceAge
    (its ``note()`` goes into the exports)."""
    age = price_age_of(cat, dates) if age is None else age
    text = age.note()
    source = fmt.md_escape(services.price_source_text())
    text = text[:1].upper() + text[1:] + ". " + source[:1].upper() + source[1:] + "."
    if age.stale:
        st.warning(text, icon="⏳")
    else:
        st.caption(text)
    return age


@dataclass(frozen=True)
class WorkloadInput:
    """The workload as chosen in the widgets, plus an uploaded model if any."""

    workload: Workload
    model: ModelArch
    config: bytes | None
    config_name: str
    repo: str = ""  # a Hub repo id not in the catalog (fetched, cached)


WORKLOAD_NAMES: tuple[str, ...] = (
    "model",
    "repo",
    "weights",
    "kv",
    "engine",
    "ctx",
    "streams",
    "spec",
    "spec_k",
    "content",
    "spec_draft",
    "spec_accept",
)
UPLOAD = "_uploaded_config"  # session key: (bytes, file name) of an uploaded config.json


def custom_refs() -> tuple[services.CustomRef, ...]:
    """The models this session brought (an uploaded config.json, a Hub repo id), for
    `services.session_catalog`."""
    refs: list[services.CustomRef] = []
    upload = st.session_state.get(UPLOAD)
    if upload:
        refs.append(("upload", upload[1], upload[0]))
    repo = str(
        st.session_state.get(K("repo")) or st.session_state.get(state.KEEP, {}).get("repo") or ""
    ).strip()
    if repo and links.REPO_RE.match(repo):
        refs.append(("repo", repo, b""))
    return tuple(refs)


def model_labels(cat: Catalog) -> dict[str, str]:
    """Catalog model ids grouped by family, newest first: ``id -> "Qwen3.5 · name · 2026-02"``."""
    ordered = sorted(
        cat.models,
        key=lambda m: (m.family.lower(), -(m.released.toordinal() if m.released else 0), m.name),
    )
    return {
        m.id: f"{m.family} · {m.name}" + (f" · {m.released:%Y-%m}" if m.released else "")
        for m in ordered
    }


def model_select(cat: Catalog, label: str, name: str, **kwargs: Any) -> None:
    """A catalog-model selectbox bound to PARAMS[name] (grouped by family, release dates)."""
    labels = model_labels(cat)
    st.selectbox(label, list(labels), key=K(name), format_func=lambda i: labels.get(i, i), **kwargs)


def quant_select(cat: Catalog, model: ModelArch, label: str, name: str) -> None:
    """Only the quantizations that are a real checkpoint of `model` (kept in the catalog) or
    that change the bulk of its weights; a value that is not (from a link or another model)
    is replaced by the model's own format, and the page says so."""
    runnable = {q for e in cat.engines for q in e.quants}
    allowed = [q for q in quants_for(model, cat) if q in runnable]
    key = K(name)
    current = st.session_state.get(key)
    if current not in allowed:
        native = model.native_precision.main_format()
        st.session_state[key] = (
            native
            if native in allowed
            else next(
                (q for q in model.checkpoints if q in allowed),
                "bf16" if "bf16" in allowed else allowed[0],
            )
        )
        if current:
            st.caption(
                f"{fmt.md_escape(current)} is not a checkpoint of "
                f"{fmt.md_escape(model.name)}; using {st.session_state[key]}."
            )

    native = model.native_precision.main_format()
    own = {**({native: model.id} if native in allowed else {}), **model.checkpoints}

    def kind(q: str) -> str:
        quant = cat.quant(q)
        return (
            "checkpoint"
            if q in own
            else "recipe"
            if quant.on_checkpoint is not None
            else "engine file"
            if quant.models is not None
            else "generic"
        )

    def fmt_quant(q: str) -> str:
        return f"{q} — {kind(q)}"

    st.selectbox(
        label,
        allowed,
        key=key,
        format_func=fmt_quant,
        help="checkpoint: a real checkpoint kept in the catalog decides which tensors "
        "are quantized; generic: the format applied to the tensor classes it covers; "
        "recipe: an engine re-quantizes a kept checkpoint at load (vLLM "
        "--mxfp4-layers); engine file: a file one engine publishes for this model",
    )
    chosen = st.session_state.get(key)
    repo = own.get(chosen) if chosen else None
    st.caption(
        f"Checkpoint {fmt.md_escape(repo)}"
        if repo
        else f"{fmt.md_escape(cat.quant(chosen).name if chosen else '')} "
        f"({kind(chosen) if chosen else 'generic'})"
    )


def workload_inputs(cat: Catalog, *, upload: bool = True) -> WorkloadInput | None:
    """Model (catalog or uploaded config.json), quantization, KV dtype, engine, context and
    streams. Returns None after showing a readable error for unusable input."""
    model_select(
        cat,
        "Model",
        "model",
        help="catalog models by family, newest first; or name any Hugging Face "
        "repo id, or upload a config.json, below",
    )
    config: bytes | None = None
    config_name = "config.json"
    repo = ""
    if upload:
        st.text_input(
            "…or a Hugging Face repo id (e.g. Qwen/Qwen3-8B)",
            key=K("repo"),
            help="its config.json is fetched from the Hub and cached; offline, "
            "upload the file instead",
        )
        uploaded = st.file_uploader(
            "…or upload a Hugging Face config.json",
            type=["json"],
            key="w_upload",
            max_upload_size=CONFIG_MAX_BYTES // 2**20,  # the hint shows this limit
            help="parsed as JSON only; kept for this session on every page, not in links",
        )
        if uploaded is not None:
            name = services.safe_filename(uploaded.name)
            if uploaded.size > CONFIG_MAX_BYTES:  # checked before the bytes are copied
                st.error(
                    f"{name}: {uploaded.size / 2**20:.1f} MiB is larger than the "
                    f"{CONFIG_MAX_BYTES // 2**20} MiB a config.json may have"
                )
                st.session_state[UPLOAD] = None
                return None
            st.session_state[UPLOAD] = (uploaded.getvalue(), name)
        if st.session_state.get(UPLOAD):
            config, config_name = st.session_state[UPLOAD]
            if st.button("Forget the uploaded config.json", key="forget_upload"):
                st.session_state[UPLOAD] = None
                st.rerun()
        repo = str(st.session_state.get(K("repo")) or "").strip()
    model = _chosen_model(cat, config, config_name, repo)
    if model is None:
        return None
    quant_select(cat, model, "Quantization (weights)", "weights")
    st.selectbox("KV cache dtype", list(links.PARAMS["kv"].allowed(cat) or ()), key=K("kv"))
    st.selectbox(
        "Engine",
        list(links.PARAMS["engine"].allowed(cat) or ()),
        key=K("engine"),
        help="auto = per platform its default engine (vLLM where supported) if it "
        "runs the quantization, else one of its engines that does (e.g. llama.cpp "
        "for GGUF q4_k_m)",
    )
    st.number_input(
        "Context per stream (tokens)",
        min_value=limits.CONTEXT_TOKENS_MIN,
        max_value=limits.CONTEXT_TOKENS_MAX,
        step=1024,
        key=K("ctx"),
    )
    st.number_input(
        "Concurrent streams",
        min_value=limits.CONCURRENCY_MIN,
        max_value=limits.CONCURRENCY_MAX,
        step=1,
        key=K("streams"),
    )
    ctx = int(st.session_state[K("ctx")])
    if ctx > model.max_context_tokens:
        st.error(
            f"Context {fmt.tokens(ctx)} tokens exceeds {fmt.md_escape(model.name)}'s "
            "maximum of "
            f"{fmt.tokens(model.max_context_tokens)} tokens; lower the context."
        )
        return None
    spec = speculative_inputs(cat, model)
    engine = st.session_state[K("engine")]
    w = Workload(
        model=model.id,
        weights=st.session_state[K("weights")],
        context_tokens=ctx,
        concurrency=int(st.session_state[K("streams")]),
        kv_dtype=st.session_state[K("kv")],
        engine=None if engine == "auto" else engine,
        **spec,
    )
    return WorkloadInput(w, model, config, config_name, repo if config is None else "")


GRAPH_LABELS = {"auto": "engine default", "on": "on (captured graphs)", "off": "off (eager)"}


def cuda_graphs_input() -> bool | None:
    """CUDA graphs on / off next to the layout (None: each engine's default, on for vLLM,
    SGLang and TensorRT-LLM); an engine without the switch refuses on / off."""
    st.selectbox(
        "CUDA graphs",
        list(GRAPH_LABELS),
        key=K("graphs"),
        format_func=lambda g: GRAPH_LABELS.get(g, g),
        help="eager mode (off) adds the per-layer launch cost to every decode step "
        "(vLLM on GB10: ~0.6 ms per layer); with graphs on, batches are padded to "
        "the engine's capture sizes. Only vLLM, SGLang and TensorRT-LLM have the "
        "switch: other engines refuse on / off",
    )
    choice = st.session_state[K("graphs")]
    return None if choice == "auto" else choice == "on"


def transport_input(cat: Catalog) -> str | None:
    """The transport collectives between units run over (None: each platform's default,
    RoCE on GB10); applied to the platforms that offer it."""
    names = {t.id: t.name for t in cat.transports}
    st.selectbox(
        "Transport between units",
        ["auto", *names],
        key=K("transport"),
        format_func=lambda t: "platform default" if t == "auto" else names.get(t, t),
        help="how tensor- and pipeline-parallel units exchange all-reduces and "
        "hand-offs: RoCE (GB10 default), TCP sockets, PCIe with or without "
        "peer-to-peer, NVLink, Thunderbolt. Applied to the platforms that offer "
        "it; the others keep their default (catalog transports)",
    )
    choice = st.session_state[K("transport")]
    return None if choice == "auto" else str(choice)


SPEC_LABELS = {
    "none": "off",
    "mtp": "MTP (the model's own head)",
    "eagle": "EAGLE-3 head",
    "draft": "a smaller draft model",
}


def speculative_inputs(cat: Catalog, model: ModelArch) -> dict[str, Any]:
    """Speculative decoding (off by default): method, draft tokens k, generated content;
    for a draft model, the model and the user's acceptance rate (no published figure).
    Returns the Workload fields; a refused combination (MTP on a model without an MTP
    head, an engine without the method) is each row's reason."""
    st.selectbox(
        "Speculative decoding",
        list(SPEC_LABELS),
        key=K("spec"),
        format_func=lambda m: SPEC_LABELS.get(m, m),
        help="each step verifies k drafted tokens + 1; accepted tokens per step "
        "from published acceptance figures (data/speculative.yaml); the decode "
        "range includes their spread",
    )
    method = st.session_state[K("spec")]
    if method == "none":
        return {}
    if method == "mtp" and not model.arch.mtp_layers:
        st.caption(f"{fmt.md_escape(model.name)} has no MTP head: its rows are refused.")
    st.number_input("Draft tokens per step (k)", min_value=1, max_value=16, step=1, key=K("spec_k"))
    st.selectbox(
        "Generated content",
        list(CONTENT_TYPES),
        key=K("content"),
        help="code and structured text (JSON, extraction) accept far more drafted "
        "tokens than prose",
    )
    out: dict[str, Any] = {
        "speculative": method,
        "spec_draft_tokens": int(st.session_state[K("spec_k")]),
        "spec_content": st.session_state[K("content")],
    }
    if method == "draft":
        model_select(
            cat,
            "Draft model",
            "spec_draft",
            help="same family (tokenizer) as the model, and smaller",
        )
        st.number_input(
            "Draft acceptance per token (your assumption)",
            min_value=0.0,
            max_value=0.999,
            step=0.05,
            key=K("spec_accept"),
            help="no published acceptance figure for draft models is kept: "
            "the rate is yours, stated as such in the assumptions",
        )
        out.update(
            spec_draft_model=st.session_state[K("spec_draft")],
            spec_accept=float(st.session_state[K("spec_accept")]),
        )
    return out


def _chosen_model(
    cat: Catalog, config: bytes | None, config_name: str, repo: str
) -> ModelArch | None:
    """The uploaded config, else the repo id, else the catalog selection; None after an
    error box (shown as plain text) for anything that cannot be used."""
    if config is not None:
        try:
            model = services.uploaded_model(config, config_name)
        except CatalogError as exc:
            st.error(f"The uploaded file cannot be used as a model config: {fmt.md_escape(exc)}")
            return None
        st.info(
            f"Using the uploaded model {fmt.md_escape(model.name)} "
            f"({fmt.md_escape(config_name)}) on every page of this session; it is not "
            "stored in the link."
        )
        return model
    if repo:
        if repo in {m.id for m in cat.models}:
            return cat.model(repo)
        try:
            model = services.hub_model(repo)
        except (HubError, CatalogError) as exc:
            st.error(fmt.md_escape(exc))
            return None
        st.info(
            f"Using {fmt.md_escape(model.id)} from the Hugging Face Hub "
            f"({fmt.md_escape(model.native_precision.method)})."
        )
        return model
    return cat.model(st.session_state[K("model")])


def platform_label(cat: Catalog, prices: Mapping[str, PriceQuote]) -> dict[str, str]:
    """``id -> "asus-gx10-1tb · CHF 2'477"`` for selectboxes (effective prices). The id,
    not the product name (up to 68 characters), so the value fits the sidebar; the name is
    in the select's help."""
    out = {}
    for p in cat.platforms:
        quote = prices.get(p.id)
        price = chf(quote.chf) if quote is not None else "no price"
        out[p.id] = f"{p.id} · {price}"
    return out


def family_platform_inputs(cat: Catalog) -> str:
    """Family then platform (SKU) of that family; returns the platform id."""
    families = list(links.PARAMS["family"].allowed(cat) or ())
    st.selectbox("Platform family", families, key=K("family"))
    family = st.session_state[K("family")]
    own = [p.id for p in cat.platforms if p.family == family]
    state.coerce_choice("platform", own, links.default_platform(cat, family))
    labels = platform_label(cat, services.shown_prices())
    st.selectbox(
        "Platform",
        own,
        key=K("platform"),
        format_func=lambda i: labels.get(i, i),
        help="catalog id · effective price; "
        + fmt.md_escape(cat.platform(st.session_state[K("platform")]).name),
    )
    return st.session_state[K("platform")]


def memory_setting_input(cat: Catalog, platform_id: str) -> str:
    """The platform's memory settings (Mac GPU limit, Strix Halo GTT/BIOS split) as a
    selectbox bound to PARAMS["mem"], shown only for platforms that have them; returns the
    chosen id ("" = none: the platform's memory is not a user choice)."""
    p = cat.platform(platform_id)
    if not p.memory_settings:
        return ""
    labels = {m.id: m.label for m in p.memory_settings}
    state.coerce_choice("mem", list(labels), p.memory_setting.id if p.memory_setting else None)
    st.selectbox(
        "Memory setting",
        list(labels),
        key=K("mem"),
        format_func=lambda i: labels.get(i, i),
        help="how much memory the GPU may use is the owner's choice on this "
        "platform; the same setting applies to every compared platform that has it",
    )
    chosen = p.with_memory_setting(st.session_state[K("mem")]).memory_setting
    if chosen is None:
        return ""
    st.caption(
        f"How: `{chosen.how_to.replace('`', '')}` — source: "
        f"{fmt.md_escape(chosen.source[0])} ({chosen.date.isoformat()})"
    )
    return chosen.id


def memory_setting_any_input(cat: Catalog) -> tuple[str, list[str]]:
    """For pages over many platforms (Plan): one memory setting id applied to every
    platform that lists it ("" = each platform's default), bound to PARAMS["mem"]; returns
    (id, one line per platform it changes, with the command)."""
    ids = cat.memory_setting_ids()
    if not ids:
        return "", []
    first = {
        sid: next(m for p in cat.platforms for m in p.memory_settings if m.id == sid) for sid in ids
    }
    state.coerce_choice("mem", ["", *ids], "")
    st.selectbox(
        "Memory setting (platforms that have it)",
        ["", *ids],
        key=K("mem"),
        format_func=lambda i: (
            "each platform's default" if not i else f"{i} — {first[i].label.split(' (')[0]}"
        ),
        help="Mac GPU limit, Strix Halo GTT/BIOS split: applied to every platform "
        "that lists the setting, the others keep their default",
    )
    sid = st.session_state[K("mem")]
    lines = [
        f"memory setting of {p.id}: {p.memory_setting.label} ({p.memory_setting.how_to})"
        for p in services.with_memory_setting(cat, sid).platforms
        if sid and p.memory_setting is not None and p.memory_setting.id == sid
    ]
    return sid, lines


def sync_family(cat: Catalog, platform_id: str) -> None:
    """Keep Compare's family in step with a platform chosen on another page."""
    st.session_state.setdefault(state.KEEP, {})["family"] = cat.platform(platform_id).family
    st.session_state.pop(K("family"), None)


def energy_inputs(cat: Catalog) -> None:
    """Electricity tariff (catalog, with source) and hours at load per day."""
    tariffs = {t.id: f"{t.id} · {t.rappen_per_kwh:g} Rp/kWh" for t in cat.tariffs}  # fits
    st.selectbox(
        "Electricity tariff",
        list(tariffs),
        key=K("tariff"),
        format_func=lambda t: tariffs.get(t, t),
        help="; ".join(f"{t.id}: {fmt.md_escape(t.name)}" for t in cat.tariffs),
    )
    st.number_input(
        "Hours at load per day (h)", min_value=0.0, max_value=24.0, step=1.0, key=K("hours")
    )


def units_input(label: str = "Cluster sizes (units)") -> list[int]:
    """Multiselect of unit counts (1-8, 12, 16 and any count from a link)."""
    current = list(st.session_state.get(K("units"), []))
    options = sorted({*range(1, 9), 12, 16, *current})
    st.multiselect(label, options, key=K("units"))
    return sorted(st.session_state[K("units")])


_PLACEHOLDER = "placeholder" in inspect.signature(st.dataframe).parameters  # streamlit>=1.50


def show_table(
    df: pd.DataFrame, kinds: Mapping[str, str], *, key: str, helps: Mapping[str, str] | None = None
) -> None:
    """``st.dataframe`` with Swiss number formats and unit-bearing labels (sortable).

    Missing values (None/NaN: unknown, not applicable) show as "–", never "None"; the
    columns stay numeric so they sort as numbers."""
    present = {label: kind for label, kind in kinds.items() if label in df.columns}
    extra: dict[str, Any] = {"placeholder": fmt.DASH} if _PLACEHOLDER else {}
    st.dataframe(
        df, hide_index=True, key=key, column_config=fmt.column_config(present, helps), **extra
    )


def show_cells(text: pd.DataFrame, *, key: str) -> None:
    """A grid of display texts with its row labels (the index), e.g. the Fit page's models x
    quantization/units. Plain text: a pandas Styler (cell colours) costs ~0.3 s per rerun
    for ~1,300 cells (bench/bench_app.py), so the states are in the text itself."""
    extra: dict[str, Any] = {"placeholder": fmt.DASH} if _PLACEHOLDER else {}
    st.dataframe(text, key=key, height=min(35 * (len(text) + 1) + 3, 900), **extra)


def download_buttons(
    base: str,
    tables: Mapping[str, pd.DataFrame],
    *,
    markdown: Callable[[], str],
    key: str,
    kinds: Mapping[str, str] | None = None,
) -> None:
    """CSV (first table), Excel (one sheet per table) and Markdown downloads.

    ``kinds`` (column label -> display kind, :mod:`ui.fmt`) rounds the exported numbers
    to the precision shown (``ui.export.rounded``). The bytes are built by ``ui.export``
    only when a button is clicked (deferred data), so reruns stay fast.
    """
    frozen, shown = dict(tables), dict(kinds or {})

    def csv() -> bytes:
        return export.csv_bytes(export.rounded(next(iter(frozen.values())), shown))

    def xlsx() -> bytes:
        return export.xlsx_bytes({name: export.rounded(df, shown) for name, df in frozen.items()})

    cols = st.columns(3)
    cols[0].download_button(
        "Download CSV",
        csv,
        f"{base}.csv",
        mime=export.CSV_MIME,
        key=f"dl_csv_{key}",
        on_click="ignore",
        icon=":material/download:",
    )
    cols[1].download_button(
        "Download Excel",
        xlsx,
        f"{base}.xlsx",
        mime=export.XLSX_MIME,
        key=f"dl_xlsx_{key}",
        on_click="ignore",
        icon=":material/download:",
    )
    cols[2].download_button(
        "Download Markdown",
        lambda: markdown().encode("utf-8"),
        f"{base}.md",
        mime=export.MARKDOWN_MIME,
        key=f"dl_md_{key}",
        on_click="ignore",
        icon=":material/download:",
    )


def share_hint(names: Sequence[str]) -> None:
    """A caption telling the user the address bar is a shareable link."""
    st.caption(
        f"The address bar holds these inputs: copy it to share this view ({', '.join(names)})."
    )


__all__ = [
    "WORKLOAD_NAMES",
    "WorkloadInput",
    "download_buttons",
    "family_platform_inputs",
    "memory_setting_any_input",
    "memory_setting_input",
    "page_start",
    "platform_label",
    "price_age_notice",
    "price_age_of",
    "share_hint",
    "show_table",
    "sync_family",
    "units_input",
    "workload_inputs",
]
