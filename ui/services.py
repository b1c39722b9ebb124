"""The app's composition layer and the only home of ``st.cache_data``/``st.cache_resource``.

Pages call these functions; each wraps pure code from ``sizing`` / ``pricing`` / ``ui``.
Cache keys are plain values (ids, numbers, tuples, bytes, frozen dataclasses). Effective
prices are keyed by a *version* string (price-database path + modification times), so a
refresh or a manual override invalidates every dependent result without a TTL.

Prices meet sizing only here (design.md "Who may import whom"): effective prices from the
history database are handed to ``sizing`` as ``prices=`` (``sizing.money.PriceQuote``, the
one price type). With no database yet, the catalog list prices are used. Price refreshes
run as background jobs defined in `ui.jobs`; their registry is cached here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from pricing import default_db_path
from pricing.effective import effective_prices as pricing_effective_prices
from pricing.history import HistoryError, PriceHistory
from pricing.sources import price_source
from sizing.bom import BillOfMaterials, bill_of_materials
from sizing.catalog import (
    DEFAULT_CATALOG_PATH,
    ROOT,
    Catalog,
    CatalogError,
    ModelArch,
    load_catalog,
    model_from_config,
    parse_config_bytes,
)
from sizing.compare import Floors, Workload, best_estimate, compare
from sizing.hub import HubError, model_from_hub
from sizing.money import PriceQuote, catalog_prices
from sizing.scenario import resolve
from sizing.upgrade import Upgrade, upgrade_cost, upgrade_path
from sizing.workload import offered_transport, scenario_for
from ui import charts, tables
from ui.jobs import RefreshJob, RefreshJobs

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime

BENCHMARKS_PATH = ROOT / "data" / "benchmarks.csv"


# --------------------------------------------------------------------------- catalog
@st.cache_resource(show_spinner=False, max_entries=4)
def _catalog_at(path: str, mtime_ns: int) -> Catalog:  # noqa: ARG001  (cache key)
    return load_catalog(path)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def catalog_version(path: Path = DEFAULT_CATALOG_PATH) -> str:
    """``path:mtime`` of the catalog file (part of every cache key that depends on it)."""
    return f"{path}:{_mtime_ns(path)}"


def catalog(path: Path = DEFAULT_CATALOG_PATH) -> Catalog:
    """The validated catalog (re-read when the file changes). Raises CatalogError."""
    return _catalog_at(str(path), _mtime_ns(path))


# --------------------------------------------------------------------------- prices
def prices_db_path() -> Path:
    """The price-history database (env ``LLM_PLANNER_PRICES_DB`` overrides)."""
    return default_db_path()


def prices_version() -> str:
    """A key that changes whenever the price database is written (or appears)."""
    db = prices_db_path()
    parts = [str(db)]
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        try:
            st_ = p.stat()
            parts.append(f"{st_.st_mtime_ns}:{st_.st_size}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


@st.cache_resource(show_spinner=False, max_entries=8)  # frozen quotes: shared, never copied
def _price_state(
    version: str,
    catalog_key: str,  # noqa: ARG001  (cache key)
) -> tuple[dict[str, PriceQuote] | None, str | None]:
    """(effective prices or None, one-line problem with the database or None)."""
    db = Path(version.split("|", 1)[0])
    if not db.exists():
        return None, None
    try:  # read-only: the app never waits for a refresh's write lock
        return (
            pricing_effective_prices(catalog().priced_items(), PriceHistory(db, read_only=True)),
            None,
        )
    except HistoryError as exc:
        return None, str(exc)


def _effective_prices(version: str, catalog_key: str) -> dict[str, PriceQuote] | None:
    """Effective prices, or None (= catalog list prices) without a usable database."""
    return _price_state(version, catalog_key)[0]


def effective_prices() -> dict[str, PriceQuote] | None:
    """Effective price per item id, or None (= catalog list prices) without a database."""
    return _effective_prices(prices_version(), catalog_version())


def prices_problem() -> str | None:
    """One line when the price database exists but cannot be used (the app then runs on
    the catalog list prices), else None."""
    return _price_state(prices_version(), catalog_version())[1]


@st.cache_data(show_spinner=False, max_entries=8)
def _price_source(version: str, catalog_key: str) -> str:  # noqa: ARG001  (cache key)
    _, source = price_source(catalog().priced_items(), db=prices_db_path())
    return source.line()


def price_source_text() -> str:
    """Which prices the figures use, in the CLI's words ("prices: effective — price history
    …: 2 scraped, 1 manual; …" or "prices: catalog — …"): the app and the CLI use the same
    effective prices by default (``pricing.sources.price_source``)."""
    if prices_problem():  # the page's warning names the database and the reason once
        return (
            "prices: catalog — catalog list prices (the price history cannot be used; "
            "see the warning at the top of the page)"
        )
    return _price_source(prices_version(), catalog_version())


def shown_prices() -> dict[str, PriceQuote]:
    """Effective prices for display: the database's, else the catalog's dated list prices."""
    eff = effective_prices()
    return eff if eff is not None else catalog_prices(catalog())


# --------------------------------------------------------------------------- models
def safe_filename(name: str) -> str:
    """Uploaded file name reduced to ``[A-Za-z0-9._-]`` (for messages only)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name or "config.json")[:60]
    return cleaned or "config.json"


@st.cache_resource(show_spinner=False, max_entries=16)  # frozen: shared, never copied
def uploaded_model(data: bytes, filename: str = "config.json") -> ModelArch:
    """A ModelArch from an uploaded Hugging Face ``config.json`` (parsed as JSON only).

    Raises CatalogError with a readable message for anything it cannot use.
    """
    name = safe_filename(filename)
    raw = parse_config_bytes(data, filename=name)
    model_id = raw.get("_name_or_path") if isinstance(raw.get("_name_or_path"), str) else None
    return model_from_config(
        raw,
        model_id=model_id or name.removesuffix(".json"),
        source=f"uploaded {name}",
        filename=name,
    )


@st.cache_resource(show_spinner=False, max_entries=16, ttl=3600)
def hub_model(repo: str) -> ModelArch:
    """A model by Hugging Face repo id (config fetched from the Hub and cached on disk;
    raises HubError or CatalogError with a one-line message)."""
    return model_from_hub(repo)


def custom_model(config: bytes | None, config_name: str, repo: str = "") -> ModelArch | None:
    """The uploaded or Hub model of a page, or None for a catalog model."""
    if config:
        return uploaded_model(config, config_name)
    return hub_model(repo) if repo else None


#: A model the user brought this session: ("upload", file name, bytes) or ("repo", id, b"").
CustomRef = tuple[str, str, bytes]


@st.cache_resource(show_spinner=False, max_entries=16)
def _session_catalog(base_key: str, custom: tuple[CustomRef, ...]) -> Catalog:  # noqa: ARG001  (cache key)

    base = catalog()
    ids = {m.id.lower() for m in base.models}
    extra: list[ModelArch] = []
    for kind, name, data in custom:
        try:
            model = uploaded_model(data, name) if kind == "upload" else hub_model(name)
        except (CatalogError, HubError):
            continue  # the page that took it showed the error
        if model.id.lower() in ids:
            if kind == "repo":
                continue  # a catalog model by its own id
            model = model.model_copy(update={"id": f"{model.id}-uploaded"})
        ids.add(model.id.lower())
        extra.append(model)
    return base.model_copy(update={"models": [*base.models, *extra]}) if extra else base


def session_catalog(custom: tuple[CustomRef, ...] = ()) -> Catalog:
    """The catalog plus the models uploaded or named by repo id in this session, so that
    every page (Build, Plan, Fit) can size them like catalog models."""
    return _session_catalog(catalog_version(), custom) if custom else catalog()


# --------------------------------------------------------------------------- sizing
def with_memory_setting(cat: Catalog, memory_setting: str) -> Catalog:
    """`cat` with a platform memory setting in force on every platform that lists it
    ("" = each platform's default; the variant is cached on the catalog object)."""
    return cat.with_memory_settings([memory_setting] if memory_setting else [])


@dataclass(frozen=True, kw_only=True)
class CompareInputs:
    """Everything `comparison` depends on: its cache key, passed whole to `comparison` and
    `compare_view`. Engine "auto" (None in ``workload``) = per platform the first engine
    that runs the quantization (``sizing.scenario.default_engine``, the rule of
    ``tables.auto_engine``). ``config``/``config_name``/``repo``: an uploaded config.json or
    a Hub repo id instead of a catalog model (`custom_model`). ``memory_setting``: a platform
    memory setting id ("" = defaults). ``today``: the day ``price_age_days`` counts to (a
    frame cached yesterday is not reused)."""

    workload: Workload
    platforms: tuple[str, ...]
    units: tuple[int, ...]
    parallel: str | None
    tariff: str
    hours_at_load_per_day: float
    prices_key: str
    catalog_key: str
    today: date
    config: bytes | None = None
    config_name: str = "config.json"
    repo: str = ""
    memory_setting: str = ""


@st.cache_data(show_spinner=False, max_entries=64)
def comparison(inputs: CompareInputs) -> pd.DataFrame:
    """``sizing.compare.compare`` -- one vectorized pass that also returns every figure the
    page shows (per-unit memory breakdown, rough-figure flags, assumptions, price dates) --
    + labels + display columns (cached); the ``memory_setting`` column names the setting in
    force per row."""
    cat = with_memory_setting(catalog(), inputs.memory_setting)
    df = compare(
        inputs.workload,
        cat,
        platforms=list(inputs.platforms),
        units=inputs.units,
        parallel=inputs.parallel,
        prices=_effective_prices(inputs.prices_key, inputs.catalog_key),
        tariff=inputs.tariff,
        hours_at_load_per_day=inputs.hours_at_load_per_day,
        model=custom_model(inputs.config, inputs.config_name, inputs.repo),
        today=inputs.today,
    )
    df = tables.add_labels(df)
    df["memory_setting"] = [
        getattr(cat.platform(pid).memory_setting, "label", None) for pid in df["platform"]
    ]
    return tables.with_display_columns(df)


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, read-only: never copied
def compare_view(
    inputs: CompareInputs, *, rule: str, floors: Floors, fit_only: bool, speed_column: str
) -> tables.CompareView:
    """The Compare page's view of `comparison` (``ui.tables.compare_view``: floors, rule
    order, best option, displayed table), built once per input set: a widget change that
    only repeats an input set costs a cache lookup, not a re-rank. Shared, not copied:
    callers only read it."""
    return tables.compare_view(
        comparison(inputs),
        rule,
        floors,
        fit_only=fit_only,
        speed_column=speed_column,
        stale_days=catalog().defaults.price_stale_days,
    )


@st.cache_data(show_spinner=False, max_entries=64)
def bom(
    platform: str, units: int, design: str | None, prices_key: str, catalog_key: str
) -> BillOfMaterials:
    """Bill of materials at effective prices (raises TopologyError/ScenarioError)."""
    return bill_of_materials(
        catalog(), platform, units, prices=_effective_prices(prices_key, catalog_key), design=design
    )


@st.cache_data(show_spinner=False, max_entries=64)
def upgrade_chf(
    platform: str, from_units: int, to_units: int, prices_key: str, catalog_key: str
) -> float:
    """Extra CHF from ``from_units`` to ``to_units`` (raises ValueError without prices)."""
    return upgrade_cost(
        catalog(), platform, from_units, to_units, prices=_effective_prices(prices_key, catalog_key)
    )


@st.cache_data(show_spinner=False, max_entries=64)
def upgrade(
    platform: str, from_units: int, to_units: int, prices_key: str, catalog_key: str
) -> Upgrade:
    """The upgrade shopping list ``from_units`` -> ``to_units`` at effective prices
    (``sizing.upgrade.upgrade_path``; raises TopologyError/ScenarioError)."""
    return upgrade_path(
        catalog(), platform, from_units, to_units, prices=_effective_prices(prices_key, catalog_key)
    )


@st.cache_data(show_spinner=False, max_entries=32)
def fit_grid(
    platform: str,
    units: tuple[int, ...],
    quants: tuple[str, ...],
    models: tuple[str, ...],
    kv_dtype: str,
    engine: str | None,
    streams: int,
    min_context_tokens: int,
    catalog_key: str,  # noqa: ARG001  (cache key)
    custom: tuple[CustomRef, ...] = (),
    memory_setting: str = "",
) -> pd.DataFrame:
    """Which model fits at which quant and unit count (``ui.tables.fit_grid``, cached);
    ``memory_setting`` as in `comparison`."""
    return tables.fit_grid(
        with_memory_setting(session_catalog(custom), memory_setting),
        platform,
        units,
        quants,
        models,
        kv_dtype=kv_dtype,
        engine=engine,
        streams=streams,
        min_context_tokens=min_context_tokens,
    )


@st.cache_data(show_spinner=False, max_entries=4)
def calibration(catalog_key: str, data_key: str) -> tuple[pd.DataFrame, dict[str, float]]:  # noqa: ARG001  (cache key)
    """Predicted vs measured on data/benchmarks.csv: (rows, {decode_mape, prefill_mape,
    evaluated, skipped})."""
    from sizing.calibrate import run_calibration  # noqa: PLC0415  (Calibration page only)

    result = run_calibration(catalog(), BENCHMARKS_PATH)
    rows = pd.DataFrame(
        [
            {
                "row": r.row,
                "label": r.label,
                "family": r.family or "–",
                "engine": r.engine or "–",
                "measured_decode": r.measured_decode,
                "predicted_decode": r.predicted_decode,
                "decode_error_pct": None if r.decode_error is None else 100 * r.decode_error,
                "measured_prefill": r.measured_prefill,
                "predicted_prefill": r.predicted_prefill,
                "prefill_error_pct": None if r.prefill_error is None else 100 * r.prefill_error,
                "skip_reason": r.skip_reason or "",
                "source_url": r.source_url,
            }
            for r in result.rows
        ]
    )
    stats = {
        "decode_mape": result.mape("decode"),
        "prefill_mape": result.mape("prefill"),
        "evaluated": float(len(result.evaluated)),
        "skipped": float(len(result.skipped)),
    }
    return rows, stats


def benchmarks_version() -> str:
    return catalog_version(BENCHMARKS_PATH)


@st.cache_data(show_spinner=False, max_entries=64)
def price_points(item_id: str, prices_key: str) -> pd.DataFrame:
    """History of one item: scrape attempts with a price, and manual overrides."""
    db = Path(prices_key.split("|", 1)[0])
    cols = ["when", "chf", "kind", "outcome", "detail"]
    if not db.exists():
        return pd.DataFrame(columns=cols)
    try:
        history = PriceHistory(db, read_only=True)
        attempts, manual = history.attempts(item_id), history.manual_prices(item_id)
    except HistoryError:  # reported once per page by widgets.page_start
        return pd.DataFrame(columns=cols)
    rows = []
    for a in attempts:
        rows.append(
            {
                "when": a.price_as_of,
                "chf": None if a.price_rappen is None else a.price_rappen / 100,
                "kind": "scraped"
                if a.outcome == "ok"
                else ("suspect" if a.outcome == "suspect" else "failed"),
                "outcome": a.outcome,
                "detail": a.detail[:200],
            }
        )
    for m in manual:
        rows.append(
            {
                "when": m.set_at,
                "chf": m.price_rappen / 100,
                "kind": "manual",
                "outcome": "manual",
                "detail": m.note[:200],
            }
        )
    return pd.DataFrame(rows, columns=cols).sort_values("when").reset_index(drop=True)


def import_saved_pages(pages: list[tuple[str, bytes]], saved_at: datetime) -> list[Any]:
    """Import pages saved from the user's browser into the price history (pricing.saved):
    one ImportResult per page; raises pricing.history.HistoryError for an unusable DB."""
    from pricing.saved import SavedPage  # noqa: PLC0415  (Prices page import only)
    from pricing.saved import import_saved_pages as run_import  # noqa: PLC0415

    return run_import(
        [SavedPage(name, data, saved_at) for name, data in pages],
        catalog().priced_items(),
        history=PriceHistory(prices_db_path()),
    )


def set_manual_price(item_id: str, rappen: int, note: str) -> None:
    """Record a manual override in the price history (never deletes anything)."""
    PriceHistory(prices_db_path()).set_manual(item_id, rappen, note)


# --------------------------------------------------------------------------- figures
FIGURES: dict[str, Callable[..., Any]] = {
    "price_vs_speed": charts.price_vs_speed,
    "memory_bars": charts.memory_bars,
    "scaling": charts.scaling,
    "fit_heatmap": charts.fit_heatmap,
    "calibration_scatter": charts.calibration_scatter,
    "price_history": charts.price_history,
    "cost_over_time": charts.cost_over_time,
}


# the columns each builder reads (besides ``y`` and the memory ``parts``): only these are
# hashed for the cache key, which keeps a warm rerun cheap
FIGURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "price_vs_speed": ("config", "family", "fits", "price_chf", "price_complete", "unpriced_parts"),
    "memory_bars": ("config", "usable_gib_per_unit", "price_complete"),
    "scaling": ("platform", "units", "parallel", "price_complete", "unpriced_parts"),
}


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(builder: str, data: pd.DataFrame, /, **kwargs: Any) -> Any:
    return FIGURES[builder](data, **kwargs)


def figure(builder: str, data: pd.DataFrame, /, **kwargs: Any) -> Any:
    """A plotly figure from ``ui.charts`` (cached and shared, read-only: building figures
    is the slowest part of a rerun, and a cached figure is not copied)."""
    needed = FIGURE_COLUMNS.get(builder)
    if needed is not None:
        wanted = [
            *needed,
            *([kwargs["y"]] if "y" in kwargs else []),
            *(col for col, _ in kwargs.get("parts", ())),
        ]
        data = data[[c for c in dict.fromkeys(wanted) if c in data.columns]]
    return _figure(builder, data, **kwargs)


# --------------------------------------------------------------------------- cost page
@st.cache_data(show_spinner=False, max_entries=8)
def _cloud_prices(path: str, mtime_ns: int) -> Any:  # noqa: ARG001  (cache key)
    from sizing.economics import load_cloud_prices  # noqa: PLC0415  (Cost page only)

    return load_cloud_prices(path)


def cloud_prices() -> Any:
    """data/cloud_prices.yaml, validated (raises CloudPriceError with one line)."""
    from sizing.economics import DEFAULT_CLOUD_PRICES_PATH  # noqa: PLC0415  (Cost page only)

    return _cloud_prices(str(DEFAULT_CLOUD_PRICES_PATH), _mtime_ns(DEFAULT_CLOUD_PRICES_PATH))


@st.cache_data(show_spinner=False, max_entries=64)
def cost_estimate(
    workload: Workload,
    platform: str,
    units: int,
    parallel: str | None,
    prices_key: str,
    catalog_key: str,
) -> dict[str, Any]:
    """The estimate (CLI JSON) of `parallel` (None = the best layout,
    ``sizing.compare.best_estimate``) at effective prices, with the bill of materials'
    completeness (``price_complete``, ``unpriced_items``) as ``sizing cost`` reports it."""
    cat = catalog()
    prices = _effective_prices(prices_key, catalog_key)
    d = best_estimate(
        workload, cat, platform, units, parallel=parallel, prices=prices, engine=workload.engine
    ).to_dict()
    b = bill_of_materials(cat, platform, units, prices=prices)
    d["price_complete"] = b.price_complete
    d["unpriced_items"] = [*b.missing_prices, *b.unpriced_items]
    return d


@st.cache_data(show_spinner=False, max_entries=32)
def agent_session(
    workload: Workload,
    platform: str,
    units: int,
    parallel: str,
    engine: str,
    start_tokens: int,
    tokens_per_turn: int,
    output_tokens_per_turn: int,
    turns: int,
    catalog_key: str,  # noqa: ARG001  (cache key)
) -> dict[str, Any]:
    """``sizing.economics.agent_report`` of one configuration (raises ScenarioError)."""
    from sizing.economics import agent_report  # noqa: PLC0415  (Cost page only)

    cat = catalog()
    r = resolve(
        scenario_for(
            workload, platform, units, parallel, engine, offered_transport(workload, cat, platform)
        ),
        cat,
    )
    return agent_report(
        r,
        cat,
        start_tokens=start_tokens,
        tokens_per_turn=tokens_per_turn,
        output_tokens_per_turn=output_tokens_per_turn,
        turns=turns,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def storage(
    checkpoints: tuple[tuple[str, str], ...],
    os_reserve_gb: float,
    catalog_key: str,  # noqa: ARG001  (cache key)
) -> dict[str, Any]:
    """``sizing.economics.storage_report`` over every catalog platform."""
    from sizing.economics import storage_report  # noqa: PLC0415  (Cost page only)

    return storage_report(catalog(), list(checkpoints), os_reserve_gb=os_reserve_gb)


# --------------------------------------------------------------------------- refresh
def make_fetcher() -> Any:
    """The fetcher of a refresh or a URL check (closed after use): None = ``pricing``'s
    default polite Fetcher, exactly as ``python -m pricing refresh``/``check`` use (robots.txt,
    User-Agent, per-host interval shared by every fetcher in the process, 12 h cache).
    Tests monkeypatch this."""
    return None


@st.cache_resource(show_spinner=False)
def refresh_jobs() -> RefreshJobs:
    """The process-wide refresh registry (survives reruns and page switches)."""
    return RefreshJobs()


def start_refresh() -> RefreshJob:
    """Refresh every catalog item with a price URL into the price database (background)."""
    return refresh_jobs().start(list(catalog().priced_items()), str(prices_db_path()), make_fetcher)


def current_refresh() -> RefreshJob | None:
    return refresh_jobs().get(str(prices_db_path()))


__all__ = [
    "BENCHMARKS_PATH",
    "CompareInputs",
    "benchmarks_version",
    "bom",
    "calibration",
    "catalog",
    "catalog_version",
    "compare_view",
    "comparison",
    "current_refresh",
    "effective_prices",
    "fit_grid",
    "import_saved_pages",
    "make_fetcher",
    "price_points",
    "prices_db_path",
    "prices_problem",
    "prices_version",
    "refresh_jobs",
    "safe_filename",
    "set_manual_price",
    "shown_prices",
    "start_refresh",
    "upgrade_chf",
    "uploaded_model",
]


# --------------------------------------------------------------------------- plans
@st.cache_data(show_spinner=False, max_entries=64)
def deployment_plan(
    platform: str,
    units: int,
    groups: tuple[tuple[int, str], ...] | None,
    main: Any,
    sub: Any,
    context_tokens: int,
    kv_dtype: str,
    catalog_key: str,  # noqa: ARG001  (cache key)
    custom: tuple[CustomRef, ...] = (),
    memory_setting: str = "",
) -> Any:
    """Evaluate a deployment plan (``groups`` = ((units, "m"|"s"|"ms"), ...)) or, when
    ``groups`` is None, the planner's best plan (``sizing.planner``). ``main``/``sub`` are
    ``sizing.requirements.Serve``; ``sub`` may be None; ``memory_setting`` as in `comparison`."""
    from sizing.planner import GroupSpec, best_plan, evaluate_plan  # noqa: PLC0415  (Plan page only)

    serves = [main] + ([sub] if sub is not None else [])
    cat = with_memory_setting(session_catalog(custom), memory_setting)
    if groups is None:
        return best_plan(
            cat, platform, units, serves, context_tokens=context_tokens, kv_dtype=kv_dtype
        )
    specs = [
        GroupSpec(
            n,
            tuple(
                s for s, letter in ((main, "m"), (sub, "s")) if s is not None and letter in roles
            ),
        )
        for n, roles in groups
    ]
    return evaluate_plan(cat, platform, specs, context_tokens=context_tokens, kv_dtype=kv_dtype)


@st.cache_data(show_spinner=False, max_entries=32)
def planner(
    requirements: dict[str, Any],
    prices_key: str,
    catalog_key: str,
    custom: tuple[CustomRef, ...] = (),
    memory_setting: str = "",
) -> Any:
    """``sizing.planner.plan`` on a requirements mapping (validated by sizing.requirements).

    Raises RequirementsError with a readable one-line message for invalid input.
    """
    from sizing.planner import plan  # noqa: PLC0415  (Plan page only)
    from sizing.requirements import (  # noqa: PLC0415  (Plan page only)
        check_requirements,
        parse_requirements,
    )

    req = parse_requirements(requirements, filename="requirements")
    cat = with_memory_setting(session_catalog(custom), memory_setting)
    check_requirements(req, cat)
    return plan(req, cat, prices=_effective_prices(prices_key, catalog_key))
