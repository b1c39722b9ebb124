"""``python -m sizing catalog``: the catalog's ids with key specs.

python -m sizing catalog [--kind platforms|models|network] [--json]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.common import catalog_of, strict_json
from sizing.llm import active_params, param_counts

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from sizing.catalog import Catalog


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``catalog``."""
    p.add_argument("--kind", choices=("platforms", "models", "network"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalog's platforms, models and network parts with key specs."""
    catalog = catalog_of(args)
    kinds = [args.kind] if args.kind else ["platforms", "models", "network"]
    rows = [row for kind in kinds for row in _ROWS[kind](catalog)]
    if args.json:
        print(strict_json(rows))
        return 0
    for kind in dict.fromkeys(r["kind"] for r in rows):
        group = [r for r in rows if r["kind"] == kind]
        cols = [k for k in group[0] if k != "kind"]
        widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in group)) for c in cols}
        print(f"\n{kind.upper()}S")
        print("  ".join(c.ljust(widths[c]) for c in cols))
        for r in group:
            print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))
    return 0


def _platform_rows(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        {
            "kind": "platform",
            "id": p.id,
            "name": p.name,
            "family": p.family,
            "memory_gb": p.memory_gb,
            "memory_bandwidth_gb_s": p.memory_bandwidth_gb_s,
            "power_w_load": p.power.load_w,
            "price_chf": p.price.chf if p.price else None,
            "price_date": str(p.price.date) if p.price else None,
            "memory_settings": ",".join(m.id for m in p.memory_settings) or None,
        }
        for p in catalog.platforms
    ]


def _model_rows(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        {
            "kind": "model",
            "id": m.id,
            "name": m.name,
            "family": m.family,
            "released": m.released.isoformat() if m.released else None,
            "checkpoints": ",".join(m.checkpoints) or None,
            "total_params_b": round(param_counts(m).total / 1e9, 2),
            "active_params_b": round(active_params(m) / 1e9, 2),
            "attention": m.attention,
            "moe": m.is_moe,
            "max_context_tokens": m.max_context_tokens,
        }
        for m in catalog.models
    ]


def _network_rows(catalog: Catalog) -> list[dict[str, Any]]:
    switches = [
        {
            "kind": "switch",
            "id": s.id,
            "name": s.name,
            "max_200g_nodes": s.max_200g_nodes,
            "power_max_w": s.power_max_w,
            "price_chf": s.price.chf if s.price else None,
        }
        for s in catalog.switches
    ]
    cables = [
        {
            "kind": c.kind,
            "id": c.id,
            "name": c.name,
            "speed_gbit_s": c.speed_gbit_s,
            "length_m": c.length_m,
            "price_chf": c.price.chf if c.price else None,
        }
        for c in catalog.cables
    ]
    return switches + cables


# --kind -> its rows, in the order listed when no kind is given
_ROWS: dict[str, Callable[[Catalog], list[dict[str, Any]]]] = {
    "platforms": _platform_rows,
    "models": _model_rows,
    "network": _network_rows,
}


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
