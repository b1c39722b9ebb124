"""Pure view-model helpers (no Streamlit): shape sizing/pricing results for display.

Nothing here computes hardware physics; it picks, labels, ranks and joins the outputs of
``sizing.compare``, ``sizing.estimate`` and ``sizing.bom``. Every display label
carries its unit.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sizing.compare import BestChoice, Floors, Workload, best_choice, with_floors
from sizing.compare import rank as rank_configurations
from sizing.money import PriceAge
from sizing.sweep import engine_for
from sizing.workload import BestRequest, best_estimates
from ui.fmt import context_text as fmt_context_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date

    from sizing.bom import BillOfMaterials
    from sizing.catalog import Catalog
    from sizing.estimate import Estimate
    from sizing.money import PriceQuote

BAND_HELP = (
    "likely range: the platform family's cross-validated error (80 % of "
    "predictions for sources held out of the fit fell inside; Assumptions page)"
)


@dataclass(frozen=True)
class Column:
    """A displayed column: source field, label (with unit), display kind, help text."""

    source: str
    label: str
    kind: str
    help: str = ""


def compare_columns(tco_col: str) -> list[Column]:
    """The comparison table's columns, in display order: the decision columns first
    (price, fits, speed, time to first token, context), then the details."""
    years = tco_col.removeprefix("tco_chf_").removesuffix("y")
    return [
        Column("config", "Configuration", "text", "units x platform (layout)"),
        Column(
            "price_chf",
            "Price (CHF)",
            "chf",
            "bill of materials total, effective prices "
            "(Prices page); – = a part has no known price",
        ),
        Column(
            "fits",
            "Fits",
            "bool",
            "weights + overhead + KV for the context and streams fit in usable memory",
        ),
        Column(
            "decode_tok_s_per_request",
            "Decode per stream (tok/s)",
            "float1",
            "generation speed one stream sees",
        ),
        Column("decode_tok_s_low", "Decode low (tok/s)", "float1", BAND_HELP),
        Column("decode_tok_s_high", "Decode high (tok/s)", "float1", BAND_HELP),
        Column(
            "decode_tok_s_total",
            "Decode total (tok/s)",
            "float1",
            "aggregate generation speed over all streams",
        ),
        Column(
            "ttft_s",
            "TTFT (s)",
            "sig2",
            "time to first token for the full context (two significant digits)",
        ),
        Column("ttft_s_low", "TTFT low (s)", "sig2", BAND_HELP),
        Column("ttft_s_high", "TTFT high (s)", "sig2", BAND_HELP),
        Column("rough", "Rough figures", "text", ROUGH_HELP),
        Column(
            "max_context_shown",
            "Max context (tokens)",
            "tokens",
            "longest context per stream at the chosen number of streams; – = the "
            "weights do not fit or unknown",
        ),
        Column(
            "speculative",
            "Speculative decoding",
            "text",
            "method, draft tokens k, "
            "content: accepted tokens per target step and speed-up over no speculation "
            "at this batch (decode figures include it; the low-high range includes the "
            "published acceptance range); empty = off",
        ),
        Column(
            "price_complete",
            "Price complete",
            "bool",
            "unticked: parts of this "
            "configuration have no price (named in Unpriced parts), so its CHF figures "
            "are lower bounds; ranked after every complete price",
        ),
        Column("unpriced_parts", "Unpriced parts", "text", "parts the total leaves out"),
        Column(
            "meets_floors",
            "Meets floors",
            "bool",
            "fits, and meets the speed floor "
            "per stream and the time-to-first-token ceiling (central estimate; sidebar)",
        ),
        Column(
            "floor_misses_text",
            "Misses",
            "text",
            "which floor a fitting configuration misses: speed (decode per stream) or TTFT",
        ),
        Column(
            "max_concurrency",
            "Max streams @ context",
            "int",
            "concurrent streams at the chosen context",
        ),
        Column(
            "oldest_price_date",
            "Prices as of",
            "text",
            "date of the oldest price in "
            "this configuration's total (refresh, import or set prices on the Prices "
            "page)",
        ),
        Column("units", "Units", "int", "number of boxes / cards"),
        Column(
            "layout",
            "Layout",
            "text",
            "single = one unit; tp = tensor parallel, pp = "
            "pipeline, replicas = independent copies (chosen per the rule below unless "
            "fixed)",
        ),
        Column(
            "engine",
            "Engine",
            "text",
            "inference engine assumed (auto: the platform's "
            "default engine if it runs the quantization, else one that does)",
        ),
        Column("family", "Family", "text", "platform family"),
        Column("raw_memory_gb", "Raw memory (GB)", "int", "nameplate memory of all units"),
        Column(
            "memory_setting",
            "Memory setting",
            "text",
            "the platform's memory setting "
            "in force (Mac GPU limit, Strix Halo GTT/BIOS split); – = not a user choice",
        ),
        Column(
            "usable_memory_gib",
            "Usable memory (GiB)",
            "float1",
            "accelerator memory x engine utilization, all units",
        ),
        Column("prefill_tok_s", "Prefill (tok/s)", "int", "prompt processing speed"),
        Column("power_w_idle", "Idle power (W)", "int", "whole cluster at the wall"),
        Column("power_w_load", "Load power (W)", "int", "whole cluster under inference load"),
        Column(
            "energy_chf_per_year",
            "Energy (CHF/year)",
            "chf",
            "hours at load per day at load power, the rest idle, at the tariff",
        ),
        Column(
            "chf_per_usable_gb",
            "CHF per usable GB (CHF/GB)",
            "chf2",
            "price / usable memory in GB (1e9 bytes)",
        ),
        Column("chf_per_tok_s", "CHF per tok/s (CHF/(tok/s))", "chf", "price / decode total tok/s"),
        Column(tco_col, f"TCO {years} years (CHF)", "chf", "price + energy over the years"),
        Column(
            "upgrade_chf_from_previous",
            "Upgrade from previous size (CHF)",
            "chf",
            "extra parts to buy to grow from the previous unit count",
        ),
        Column(
            "reason", "Reason", "text", "memory verdict or why the configuration cannot be built"
        ),
    ]


ROUGH_HELP = (
    "≈ = these figures rest on a borrowed calibration (no measurements for this "
    "platform family or engine yet, see Assumptions): treat them as rough. "
    "TTFT includes the prefill speed."
)


BOM_COLUMNS: list[Column] = [
    Column("item_id", "Item", "text"),
    Column("quantity", "Qty", "int"),
    Column("unit_price_chf", "Unit price (CHF)", "chf"),
    Column("line_total_chf", "Line total (CHF)", "chf"),
    Column("price_kind", "Price kind", "text", "scraped / manual / catalog"),
    Column("price_date", "Price date", "text"),
    Column("description", "Description", "text"),
    Column("specification", "Specification", "text"),
    Column("price_source", "Price source", "text"),
    Column(
        "price_note",
        "Converted price (rate, VAT, import)",
        "text",
        "for a foreign price converted to CHF: the rate, VAT and import assumptions; "
        "– = a CHF price",
    ),
    Column("url", "Link", "text"),
    Column("part_number", "MPN", "text", "manufacturer part number (catalog); – = none known"),
    Column(
        "link",
        "Order / compare",
        "text",
        "toppreise.ch product page, the vendor's shop page, or a toppreise.ch search "
        "(labelled in 'Order link kind')",
    ),
    Column("link_kind", "Order link kind", "text"),
    Column("caveat", "Known issue", "text", "a reported compatibility problem of this part"),
]

RANK_LABELS: dict[str, str] = {
    "cheapest": "cheapest configuration that fits (ties: faster per stream)",
    "fastest": "fastest decode per stream that fits (ties: cheaper)",
    "chf_per_tok_s": "lowest CHF per decode tok/s that fits",
    "tco": "lowest total cost of ownership that fits",
}


def tco_column(df: pd.DataFrame) -> str:
    """Name of the compare frame's TCO column (``tco_chf_3y`` for 3 years)."""
    return next((c for c in df.columns if c.startswith("tco_chf_")), "tco_chf_3y")


def config_label(platform: str, units: int, parallel: str | None) -> str:
    """``"2 x asus-gx10-1tb (tp)"``."""
    layout = f" ({parallel})" if parallel and units > 1 else ""
    return f"{units} x {platform}{layout}"


def add_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Add the ``config`` column (one human label per row)."""
    out = df.copy()
    out["config"] = [
        config_label(p, int(u), par if isinstance(par, str) else None)
        for p, u, par in zip(out["platform"], out["units"], out["parallel"], strict=True)
    ]
    return out


def rank(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Rows ordered by ``rule`` (RANK_LABELS): ``sizing.compare.rank`` -- fitting rows that
    meet the floors first (``meets_floors``), complete prices before incomplete ones for
    the cost rules, rows without a price after the priced ones."""
    if rule not in RANK_LABELS:
        raise ValueError(f"unknown rank rule {rule!r}; valid: {', '.join(RANK_LABELS)}")
    return rank_configurations(df, rule)


def best_row(ranked: pd.DataFrame, rule: str) -> pd.Series | None:
    """The first row of a ranked frame if it fits, meets the floors (``meets_floors``, when
    present) and has a price for cost rules."""
    if ranked.empty:
        return None
    first = ranked.iloc[0]
    if not bool(first["fits"]) or not bool(first.get("meets_floors", True)):
        return None
    if rule != "fastest" and pd.isna(first["price_chf"]):
        return None
    return first


def price_age_of_rows(rows: pd.DataFrame, stale_days: int) -> PriceAge:
    """The PriceAge of the oldest price among compare `rows`, from the
    ``oldest_price_date`` and ``price_age_days`` `sizing.compare` computed (rows without a
    date ignored): pages format it, never count the days again."""
    dated = rows[rows["price_age_days"].notna()]
    if dated.empty:
        return PriceAge(None, None, stale_days)
    oldest = dated.iloc[int(np.argmax(dated["price_age_days"].to_numpy(dtype=float)))]
    return PriceAge(
        dt.date.fromisoformat(str(oldest["oldest_price_date"])),
        int(oldest["price_age_days"]),
        stale_days,
    )


def display_frame(df: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """Only the listed columns, renamed to their labels (values unchanged, numeric)."""
    present = [c for c in columns if c.source in df.columns]
    out = df[[c.source for c in present]].copy()
    out.columns = [c.label for c in present]
    return out


def kinds_by_label(columns: Sequence[Column]) -> dict[str, str]:
    return {c.label: c.kind for c in columns}


# --------------------------------------------------------------------------- memory
MEMORY_PARTS: tuple[tuple[str, str], ...] = (
    ("weights_gib_per_unit", "Weights"),
    ("kv_required_gib_per_unit", "KV cache (context x streams)"),
    ("overhead_gib_per_unit", "Runtime overhead"),
    ("free_gib_per_unit", "Free"),
)


def rough_label(decode: bool, prefill: bool) -> str:
    """``"≈ decode, TTFT"`` for the Rough figures column (TTFT stands for the prefill speed
    too; empty when both rest on this family's own measurements)."""
    parts = (["decode"] if decode else []) + (["TTFT"] if prefill else [])
    return "≈ " + ", ".join(parts) if parts else ""


def with_display_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Columns only for display: ``layout`` ("single" for one unit, like Build),
    ``max_context_shown`` (NaN = "–" where not even the weights fit) and ``rough``
    (which figures rest on a borrowed calibration; only for rows that fit)."""
    out = df.copy()
    out["layout"] = [
        ("single" if int(u) == 1 else par) if isinstance(par, str) else None
        for u, par in zip(out["units"], out["parallel"], strict=True)
    ]
    ctx = pd.to_numeric(out["max_context_tokens"], errors="coerce")
    out["max_context_shown"] = ctx.where(ctx > 0)
    fits = out["fits"].fillna(False).astype(bool)
    decode = out.get("rough_decode", pd.Series(False, index=out.index)).fillna(False)
    prefill = out.get("rough_prefill", pd.Series(False, index=out.index)).fillna(False)
    out["rough"] = [
        rough_label(bool(d), bool(p)) if ok else ""
        for ok, d, p in zip(fits, decode, prefill, strict=True)
    ]
    return out


def with_decision_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Display text of the decision flags: ``unpriced_parts`` ("; "-joined
    ``missing_parts``), ``floor_misses_text`` ("speed, TTFT" from ``floor_misses``) and
    ``config_marked`` (the label, "· price incomplete" appended where the price is)."""
    out = df.copy()
    names = {"speed": "speed", "ttft": "TTFT"}
    out["unpriced_parts"] = [
        ("; ".join(m) if isinstance(m, list | tuple) else "")
        for m in out.get("missing_parts", pd.Series([[]] * len(out), index=out.index))
    ]
    if "config" in out.columns and "price_complete" in out.columns:
        out["config_marked"] = [
            f"{c} · price incomplete" if not bool(ok) else c
            for c, ok in zip(out["config"], out["price_complete"], strict=True)
        ]
    out["floor_misses_text"] = [
        (", ".join(names[x] for x in m) if isinstance(m, list | tuple) else "")
        for m in out.get("floor_misses", pd.Series([[]] * len(out), index=out.index))
    ]
    return out


def memory_rows(
    ranked: pd.DataFrame, primary: str, *, limit: int = 14
) -> tuple[pd.DataFrame, list[str]]:
    """Rows for the memory chart and the labels of what is left out for lack of data.

    Every row of the primary platform by unit count, then the best-ranked row of each
    other platform by unit count (at most ``limit`` rows). Rows without a valid layout
    (no memory breakdown: quantization or engine not supported) are left out and named
    (``"2 x a"``, or ``"b (every size)"`` for another platform)."""
    has_data = ranked["weights_gib_per_unit"].notna().to_numpy()
    is_own = (ranked["platform"] == primary).to_numpy()
    units = ranked["units"].to_numpy()
    own = [i for i in np.argsort(units, kind="stable") if is_own[i]]
    seen: set[str] = set()
    best_others = []
    for i, pid in enumerate(ranked["platform"]):
        if not is_own[i] and has_data[i] and pid not in seen:
            seen.add(pid)
            best_others.append(i)
    others = sorted(best_others, key=lambda i: units[i])  # sorted() is stable
    shown = [i for i in [*own, *others] if has_data[i]][:limit]
    configs = ranked["config"].to_numpy()
    omitted = [str(configs[i]) for i in own if not has_data[i]]
    omitted += [
        f"{pid} (every size)"
        for pid in dict.fromkeys(ranked["platform"])
        if pid != primary and pid not in seen
    ]
    return ranked.iloc[shown], omitted


@dataclass(frozen=True)
class CompareView:
    """Everything the Compare page shows for one comparison, rule, floors and fit filter
    (built once per input set by ``ui.services.compare_view``; shared, read-only).

    ``ranked``: the comparison with the floors (``meets_floors``) and the decision columns,
    in rule order; ``best``: its best row or None; ``shown``: the table as displayed
    (labels, only the fitting rows when ``fit_only``); ``incomplete``: "config: parts not
    priced" per shown row whose price is a lower bound; ``price_age``: the age of the oldest
    price among the priced rows; ``has_tradeoff``: some row both fits and has a price and a
    speed (the price-vs-speed chart has something to plot)."""

    ranked: pd.DataFrame
    choice: BestChoice
    best: pd.Series | None
    columns: tuple[Column, ...]
    shown: pd.DataFrame
    incomplete: tuple[str, ...]
    price_age: PriceAge
    has_tradeoff: bool


def compare_view(
    df: pd.DataFrame,
    rule: str,
    floors: Floors,
    *,
    fit_only: bool,
    speed_column: str,
    stale_days: int,
) -> CompareView:
    """The Compare page's view of a `compare` frame: floors, rule order, best option,
    displayed table and the lines next to it (``speed_column``: the charted speed;
    ``stale_days``: the age past which a price is stale)."""
    floored = with_floors(df, floors)
    choice = best_choice(floored, rule, floors)
    ranked = with_decision_columns(rank(floored, rule))
    columns = tuple(compare_columns(tco_column(ranked)))
    view = ranked[ranked["fits"].astype(bool)] if fit_only else ranked
    partial = view[~view["price_complete"].astype(bool) & view["price_chf"].notna()]
    fitting = ranked[ranked["fits"].fillna(False).astype(bool)]
    return CompareView(
        ranked=ranked,
        choice=choice,
        best=best_row(ranked, rule),
        columns=columns,
        shown=display_frame(view.assign(config=view["config_marked"]), columns),
        incomplete=tuple(
            f"{c}: {p} not priced"
            for c, p in zip(partial["config"], partial["unpriced_parts"], strict=True)
        ),
        price_age=price_age_of_rows(ranked[ranked["price_chf"].notna()], stale_days),
        has_tradeoff=not fitting.dropna(subset=["price_chf", speed_column]).empty,
    )


# --------------------------------------------------------------------------- BOM
def bom_frame(bom: BillOfMaterials) -> pd.DataFrame:
    """BOM lines as a frame (display labels), plus a TOTAL row."""
    rows = [
        {
            "item_id": ln.item_id,
            "description": ln.description,
            "specification": ln.specification,
            "quantity": ln.quantity,
            "unit_price_chf": ln.unit_price_chf,
            "line_total_chf": ln.line_total_chf,
            "price_kind": ln.price_kind or "none",
            "price_date": ln.price_date.isoformat() if ln.price_date else "",
            "price_source": ln.price_source or "no price known",
            "url": ln.url or "",
            "price_note": ln.price_note,
            "part_number": ln.part_number,
            "link": ln.link or "",
            "link_kind": ln.link_kind,
            "caveat": ln.caveat,
        }
        for ln in bom.lines
    ]
    rows.append(
        {
            "item_id": "TOTAL",
            "description": "",
            "specification": "",
            "quantity": None,
            "unit_price_chf": None,
            "line_total_chf": bom.total_chf,
            "price_kind": "",
            "price_date": "",
            "price_source": ("missing: " + ", ".join(bom.missing_prices))
            if bom.missing_prices
            else "",
            "url": "",
            "price_note": None,
            "part_number": None,
            "link": "",
            "link_kind": None,
            "caveat": None,
        }
    )
    frame = pd.DataFrame(rows)
    frame["quantity"] = frame["quantity"].astype("Int64")  # whole parts; TOTAL row: –
    return display_frame(frame, BOM_COLUMNS)


# --------------------------------------------------------------------------- engines
def auto_engine(catalog: Catalog, platform: str, quant: str) -> str | None:
    """Engine "auto": the platform's default engine (vLLM where supported) if it runs
    ``quant``, else the first of the platform's engines that does; None if none does
    (``sizing.sweep``'s rule, so the sweep and the app agree)."""
    engine = engine_for(catalog.platform(platform), quant, catalog)
    return None if engine is None else engine.id


# --------------------------------------------------------------------------- fit grid
def fit_grid(
    catalog: Catalog,
    platform: str,
    units: Iterable[int],
    quants: Iterable[str],
    models: Iterable[str],
    *,
    kv_dtype: str,
    engine: str | None,
    streams: int,
    min_context_tokens: int,
) -> pd.DataFrame:
    """Long frame: one row per (model, quant, units) with fits, max context and reason.

    ``sizing.workload.best_estimates`` (best layout) of every cell in one vectorized pass, at
    ``min_context_tokens`` (capped at each model's maximum) and ``streams`` concurrent
    streams. ``engine`` None = per quantization the engine :func:`auto_engine` picks.
    """
    quants, units = list(quants), list(units)
    engines = {q: engine or auto_engine(catalog, platform, q) for q in quants}
    cells: list[tuple[str, str, int]] = []
    requests: list[BestRequest] = []
    for mid in models:
        ctx = min(min_context_tokens, catalog.model(mid).max_context_tokens)
        for q in quants:
            w = Workload(
                model=mid,
                weights=q,
                context_tokens=ctx,
                concurrency=streams,
                kv_dtype=kv_dtype,
                engine=engines[q],
            )
            for n in units:
                cells.append((mid, q, n))
                requests.append((w, platform, n, None))
    results: list[Estimate | Exception]
    try:
        results = list(best_estimates(requests, catalog))
    except KeyError:  # an unknown id: cell by cell, each reporting its own error
        results = [_best_or_error(r, catalog) for r in requests]
    rows: list[dict[str, Any]] = []
    for (mid, q, n), e in zip(cells, results, strict=True):
        row: dict[str, Any] = {
            "model": mid,
            "quant": q,
            "units": n,
            "fits": False,
            "max_context_tokens": 0,
            "parallel": None,
            "engine": engines[q],
            "reason": "",
        }
        if isinstance(e, Exception):
            row.update(reason=str(e), max_context_tokens=math.nan)
        else:
            row.update(
                fits=e.fits,
                max_context_tokens=e.fit.max_context_tokens,
                parallel=e.resolved.parallel,
                reason=e.fit.reason,
            )
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "model",
            "quant",
            "units",
            "fits",
            "max_context_tokens",
            "parallel",
            "engine",
            "reason",
        ],
    )


def _best_or_error(request: BestRequest, catalog: Catalog) -> Estimate | Exception:
    try:
        (e,) = best_estimates([request], catalog)
    except KeyError as exc:
        return exc
    return e


def fit_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The fit grid for display: labels with units, max context 0 (weights do not fit)
    as unknown ("–"), and "single" as the layout of one unit."""
    out = grid.copy()
    ctx = pd.to_numeric(out["max_context_tokens"], errors="coerce")
    out["max_context_tokens"] = ctx.where(ctx > 0)
    out["parallel"] = [
        ("single" if int(u) == 1 else par) if isinstance(par, str) else None
        for u, par in zip(out["units"], out["parallel"], strict=True)
    ]
    return out.rename(
        columns={
            "model": "Model",
            "quant": "Quantization",
            "units": "Units",
            "engine": "Engine",
            "fits": "Fits at minimum context",
            "parallel": "Layout",
            "max_context_tokens": "Max context (tokens)",
            "reason": "Reason",
        }
    )


FIT_CELL_STATES: dict[str, str] = {
    "fits": "fits: max context per stream (k = 1024 tokens)",
    "below": "* fits, below the minimum context",
    "no_fit": "✗ the weights do not fit",
    "unsupported": "n/a not supported (engine / quantization / layout)",
}


def fit_pivot(grid: pd.DataFrame, min_context_tokens: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fit grid as models (rows) x "quant · N u" (columns): (cell texts, cell states).

    Text: max context ("128k", "24k*" below ``min_context_tokens``, "✗" the weights do not
    fit, "n/a" not supported; ``ui.fmt.context_text``, the heatmap's rule); state: a key of
    `FIT_CELL_STATES`."""
    data = grid.assign(column=grid["quant"] + " · " + grid["units"].astype(str) + " u")
    columns = list(dict.fromkeys(data["column"]))
    pivot = data.pivot(index="model", columns="column", values="max_context_tokens")
    pivot = pivot.reindex(index=list(dict.fromkeys(data["model"])), columns=columns)
    pivot = pivot.astype(float)

    def state(t: float) -> str:
        if math.isnan(t):
            return "unsupported"
        if t <= 0:
            return "no_fit"
        return "below" if t < min_context_tokens else "fits"

    states = pivot.map(state)
    text = pivot.map(fmt_context_text)
    text = text.where(states != "below", text + "*")
    text.index.name = states.index.name = "Model"
    text.columns.name = states.columns.name = None
    return text, states


FIT_KINDS: dict[str, str] = {
    "Max context (tokens)": "tokens",
    "Units": "int",
    "Fits at minimum context": "bool",
}


# --------------------------------------------------------------------------- prices
def price_rows(
    items: Iterable[Any], effective: Mapping[str, PriceQuote], today: date, stale_after_days: int
) -> pd.DataFrame:
    """One row per priced catalog item: effective price, kind, source, date, age, stale,
    last refresh outcome. ``effective`` maps item id -> PriceQuote."""
    rows = []
    for item in items:
        eff = effective.get(item.id)
        as_of = eff.as_of if eff is not None else None
        age = (today - as_of).days if as_of is not None else None
        last_at = eff.last_attempt_at if eff is not None else None
        rows.append(
            {
                "Item": item.id,
                "Name": item.name,
                "Price (CHF)": float(eff.chf) if eff is not None else None,
                "Kind": eff.kind if eff is not None else "none",
                "Price date": as_of.isoformat() if as_of else "",
                "Age (days)": age,
                "Stale": bool(age is not None and age > stale_after_days),
                "Source": (eff.source if eff is not None else "") or "",
                "Link": (
                    (eff.url if eff is not None else None)
                    or (item.price.url if item.price is not None else None)
                    or ""
                ),
                "Last refresh": (eff.last_attempt_outcome if eff is not None else None) or "never",
                "Last refresh at (UTC)": last_at.strftime("%Y-%m-%d %H:%M") if last_at else "",
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "BOM_COLUMNS",
    "FIT_CELL_STATES",
    "FIT_KINDS",
    "MEMORY_PARTS",
    "RANK_LABELS",
    "ROUGH_HELP",
    "Column",
    "CompareView",
    "add_labels",
    "auto_engine",
    "best_row",
    "bom_frame",
    "compare_columns",
    "compare_view",
    "config_label",
    "display_frame",
    "fit_grid",
    "fit_pivot",
    "fit_table",
    "kinds_by_label",
    "memory_rows",
    "price_rows",
    "rank",
    "rough_label",
    "tco_column",
    "with_decision_columns",
    "with_display_columns",
]


# --------------------------------------------------------------------------- deployment plans
MAIN_ROLE, SUB_ROLE = "main agent", "sub-agents"
_PLAN_GROUP_RE = r"^([1-9][0-9]?)(m|s|ms|sm)$"


def parse_plan(text: str, units: int, *, has_sub_agents: bool) -> list[tuple[int, str]]:
    """``"2m+1s"`` -> ``[(2, "m"), (1, "s")]``: groups of units, each serving the main
    agent (m), the sub-agents (s) or both (ms). Raises ValueError with a readable message."""
    groups: list[tuple[int, str]] = []
    for part in text.replace(" ", "").split("+"):
        match = re.match(_PLAN_GROUP_RE, part)
        if not match:
            raise ValueError(
                f"plan group {part!r} is not like 2m, 1s or 1ms (units followed "
                "by m = main agent, s = sub-agents)"
            )
        roles = "ms" if set(match.group(2)) == {"m", "s"} else match.group(2)
        groups.append((int(match.group(1)), roles))
    total = sum(n for n, _ in groups)
    if total != units:
        raise ValueError(f"the plan uses {total} unit(s) but the build has {units}")
    served = "".join(r for _, r in groups)
    if "m" not in served:
        raise ValueError("no group serves the main agent (m)")
    if has_sub_agents and "s" not in served:
        raise ValueError(
            "no group serves the sub-agents (s); add one or set sub-agent streams to 0"
        )
    if not has_sub_agents and "s" in served:
        raise ValueError("the plan has a sub-agent group (s) but sub-agent streams are 0")
    return groups


def plan_text(plan: Any) -> str:
    """The ``"2m+1s"`` text of a ``sizing.planner.DeploymentPlan``."""
    parts: dict[int, tuple[int, set[str]]] = {}
    for g in plan.groups:
        units, roles = parts.get(g.first_unit, (g.units, set()))
        roles |= {"m" if r == MAIN_ROLE else "s" for r in g.roles}
        parts[g.first_unit] = (units, roles)
    return "+".join(f"{u}{''.join(sorted(r))}" for _, (u, r) in sorted(parts.items()))


def plan_frame(plan: Any) -> pd.DataFrame:
    """One row per model instance of a DeploymentPlan (labels with units)."""
    return pd.DataFrame(
        [
            {
                "Units": g.unit_label,
                "Roles": " + ".join(g.roles),
                "Model": g.model,
                "Quantization": g.weights,
                "Layout": g.parallel if g.units > 1 else "single",
                "Engine": g.engine or "",
                "Streams": g.streams,
                "Fits": g.fits,
                "Memory per unit (GiB)": g.memory_gib_per_unit,
                "Usable per unit (GiB)": g.usable_gib_per_unit,
                "Decode per stream (tok/s)": g.decode_tok_s_per_stream,
                "Decode total (tok/s)": g.decode_tok_s_total,
                "Shares units with": ", ".join(g.shared_with),
                "Reason": g.reason,
            }
            for g in plan.groups
        ]
    )


# --------------------------------------------------------------------------- code constants
def code_constants(paths: Iterable[Any]) -> pd.DataFrame:
    """Module-level UPPER_CASE numeric constants of Python files, read from the source
    with ``ast`` (never imported or evaluated): name, value as written, file, and the
    comment on its line (its stated source/assumption)."""
    rows = []
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (OSError, SyntaxError):
            continue
        lines = text.splitlines()
        for node in tree.body:
            target, value = None, None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            if (
                not isinstance(target, ast.Name)
                or not target.id.isupper()
                or target.id.startswith("_")
            ):
                continue
            numbers = [n for n in ast.walk(value) if isinstance(n, ast.Constant)]
            if not numbers or not all(
                isinstance(n.value, int | float) and not isinstance(n.value, bool) for n in numbers
            ):
                continue
            if not all(
                isinstance(
                    n,
                    ast.Constant
                    | ast.BinOp
                    | ast.UnaryOp
                    | ast.Tuple
                    | ast.operator
                    | ast.unaryop
                    | ast.Load,
                )
                for n in ast.walk(value)
            ):
                continue
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            rows.append(
                {
                    "Constant": target.id,
                    "Value": ast.get_source_segment(text, value) or "",
                    "File": f"{path.parent.name}/{path.name}",
                    "Comment": comment,
                }
            )
    return pd.DataFrame(rows, columns=["Constant", "Value", "File", "Comment"])
