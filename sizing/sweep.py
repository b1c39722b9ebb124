"""Sweep the whole design space in one vectorized pass: a DataFrame, one row per scenario.

Platforms x units x models x quants x contexts x concurrencies, evaluated by the same
formulas as a single estimate (`sizing.kernel`). Per (platform, quant) the engine is the
platform's default when it runs that quant, else the first of its engines that does;
combinations no engine supports are left out. Per unit count the layout is tensor
parallel where the engine supports it and the attention heads divide evenly, else
pipeline parallel (`parallel` column). Rows whose context exceeds the model's maximum
are kept with ``context_ok`` False and ``fits`` False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sizing import kernel
from sizing.llm import GIB, quant_applies
from sizing.scenario import default_engine, default_mem_util

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sizing.catalog import Catalog, Engine, Platform

DEFAULT_QUANTS = ("bf16", "fp8", "int4", "mxfp4")
DEFAULT_CONTEXTS = (4096, 16384, 32768, 65536, 131072)
DEFAULT_CONCURRENCIES = (1, 4, 16, 64)


def engine_for(platform: Platform, quant: str, catalog: Catalog) -> Engine | None:
    """The engine assumed for `quant` on `platform` (see `default_engine`), or None when no
    engine of the platform runs it."""
    if quant not in platform.quants:
        return None
    engine = catalog.engine(default_engine(platform, catalog, quant))
    return engine if quant in engine.quants else None


def sweep(
    catalog: Catalog,
    *,
    platforms: Sequence[str] | None = None,
    units: Sequence[int] = range(1, 9),
    models: Sequence[str] | None = None,
    quants: Sequence[str] = DEFAULT_QUANTS,
    contexts: Sequence[int] = DEFAULT_CONTEXTS,
    concurrencies: Sequence[int] = DEFAULT_CONCURRENCIES,
    kv_dtype: str = "bf16",
) -> pd.DataFrame:
    """Evaluate every combination; numeric columns carry their unit in the name."""
    plats = [catalog.platform(p) for p in platforms] if platforms else list(catalog.platforms)
    archs = [catalog.model(m) for m in models] if models else list(catalog.models)
    statics, labels = [], []
    for p in plats:
        for q in quants:
            engine = engine_for(p, q, catalog)
            if engine is None:
                continue
            quant = catalog.quant(q)
            mem_util = default_mem_util(catalog, p, engine)
            for m in archs:
                if not quant_applies(m, quant):  # not a checkpoint of this model
                    continue
                row = dict(kernel.static_row(p, m, quant, engine, catalog))
                row["memory_utilization_fraction"] = mem_util
                row["supports_tp_flag"] = float("tp" in engine.parallel)
                statics.append(row)
                labels.append((p.id, m.id, q, engine.id))
    if not statics:
        return pd.DataFrame()
    grid_u, grid_c, grid_k = (
        a.ravel()
        for a in np.meshgrid(
            np.asarray(units, float),
            np.asarray(contexts, float),
            np.asarray(concurrencies, float),
            indexing="ij",
        )
    )
    n_static, n_grid = len(statics), grid_u.size
    table = {k: np.repeat(np.array([s[k] for s in statics], float), n_grid) for k in statics[0]}
    u = np.tile(grid_u, n_static)
    context_ok = np.tile(grid_c, n_static) <= table["model_max_context_tokens"]
    heads_divide = np.mod(table["attention_heads_count"], u) == 0
    parallel = np.where((table["supports_tp_flag"] > 0) & heads_divide, kernel.TP, kernel.PP)
    table.update(
        units_count=u,
        parallel_code=parallel.astype(float),
        context_tokens=np.tile(grid_c, n_static),
        concurrency_count=np.tile(grid_k, n_static),
        spec_speed_multiplier=np.ones(u.size),
        kv_bytes_per_elem=np.full(u.size, 1.0 if kv_dtype == "fp8" else 2.0),
    )
    mem = kernel.memory(table)
    dec = kernel.decode(table, mem)
    t_prefill = kernel.prefill(table, table["context_tokens"])
    t_first = kernel.ttft_s(table, table["context_tokens"])
    fits = mem["fits_flag"] & context_ok
    codes = np.repeat(np.arange(n_static), n_grid)
    label = np.array(labels, dtype=object)
    return pd.DataFrame(
        {
            "platform": label[codes, 0],
            "model": label[codes, 1],
            "weights": label[codes, 2],
            "engine": label[codes, 3],
            "units": u.astype(np.int64),
            "parallel": np.where(parallel == kernel.TP, "tp", "pp"),
            "context_tokens": table["context_tokens"].astype(np.int64),
            "concurrency": table["concurrency_count"].astype(np.int64),
            "context_ok": context_ok,
            "fits": fits,
            "usable_gib_per_unit": mem["usable_bytes"] / GIB,
            "weights_gib_per_unit": mem["weights_bytes"] / GIB,
            "kv_cache_gib_per_unit": mem["kv_pool_bytes"] / GIB,
            "max_concurrency": mem["max_concurrency_count"].astype(np.int64),
            "max_context_tokens": mem["max_context_tokens"].astype(np.int64),
            "decode_tok_s_per_request": np.where(fits, dec["tok_s_per_request"], 0.0),
            "decode_tok_s_total": np.where(fits, dec["tok_s_total"], 0.0),
            "prefill_tok_s": np.where(fits, table["context_tokens"] / t_prefill, 0.0),
            "ttft_s": np.where(fits, t_first, 0.0),
        }
    )
