"""The planner estimates "twin" platforms once (issue 14): platforms that differ only in how
they are bought (`PURCHASE_FIELDS`: the GB10 boxes of several vendors) share one estimate
per instance. That holds only if twins really compute alike, and a twin's price, power and
errors must stay its own: both are checked here against the catalog and against each
platform planned alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sizing.planner import _twins, plan
from sizing.requirements import parse_requirements
from sizing.workload import Workload, best_estimates

if TYPE_CHECKING:
    from sizing.catalog import Catalog
    from sizing.estimate import Estimate


def _twin_groups(catalog: Catalog) -> list[list[str]]:
    first = _twins(catalog, [p.id for p in catalog.platforms])
    groups: dict[str, list[str]] = {}
    for pid, rep in first.items():
        groups.setdefault(rep, []).append(pid)
    return [g for g in groups.values() if len(g) > 1]


def test_the_gb10_boxes_of_several_vendors_are_twins(catalog: Catalog) -> None:
    groups = _twin_groups(catalog)
    assert ["asus-gx10-1tb", "hp-zgx-nano-g1n", "lenovo-thinkstation-pgx", "msi-edgexpert"] in (
        groups
    )
    assert all(len({catalog.platform(p).family for p in g}) == 1 for g in groups)
    # different memory or compute is never a twin
    assert not any(
        {"mac-studio-m3-ultra-256gb", "mac-studio-m3-ultra-512gb"} <= set(g) for g in groups
    )


def _computed(e: Estimate) -> tuple[object, ...]:
    """Everything of an estimate a plan reads (fit, speed, layout, engine)."""
    return (e.fits, e.fit, e.speed, e.resolved.engine.id, e.resolved.parallel, e.band)


@pytest.mark.parametrize(
    ("model", "weights"),
    [
        ("openai/gpt-oss-120b", "mxfp4"),
        ("Qwen/Qwen3-30B-A3B", "q4_k_m"),
        ("meta-llama/Llama-3.3-70B-Instruct", "int4"),
        ("Qwen/Qwen3-8B", "fp8_mlp"),  # an error on GB10
    ],
)
def test_twins_compute_alike_and_keep_their_own_errors(
    catalog: Catalog, model: str, weights: str
) -> None:
    for group in _twin_groups(catalog):
        requests = [
            (
                Workload(model=model, weights=weights, concurrency=c, context_tokens=ctx),
                pid,
                n,
                None,
            )
            for pid in group
            for n in (1, 2, 3, 4)
            for c in (1, 8)
            for ctx in (4096, 65536)
        ]
        results = best_estimates(requests, catalog)
        by_platform: dict[str, list[object]] = {}
        for (_w, pid, _n, _p), r in zip(requests, results, strict=True):
            if isinstance(r, Exception):
                by_platform.setdefault(pid, []).append(str(r).replace(pid, "<platform>"))
            else:
                by_platform.setdefault(pid, []).append(_computed(r))
        first, *others = group
        for pid in others:
            assert by_platform[pid] == by_platform[first], (first, pid)
    if weights == "fp8_mlp":  # the error names each platform (not shared between twins)
        assert all("cannot run on" in str(r) for r in results)


@pytest.mark.parametrize(
    "requirements",
    [
        {  # the guide buyer on twins in a shuffled order (the first named is estimated)
            "main_agent": {"model": "openai/gpt-oss-120b", "weights": "mxfp4", "min_tok_s": 20},
            "sub_agents": {
                "model": "Qwen/Qwen3-30B-A3B",
                "weights": "mxfp4",
                "count": 3,
                "min_tok_s": 10,
            },
            "budget_chf": {"max": 30000},
            "platforms": [
                "msi-edgexpert",
                "hp-zgx-nano-g1n",
                "asus-gx10-1tb",
                "rtx-3090",
                "acer-veriton-gn100",
                "asus-gx10-4tb",
                "dgx-spark-fe-4tb",
            ],
            "units": [1, 2, 3, 4],
        },
        {  # every estimate of a twin is an error naming it
            "main_agent": {"model": "Qwen/Qwen3-8B", "weights": "fp8_mlp", "min_tok_s": 5},
            "sub_agents": {"model": "Qwen/Qwen3-8B", "weights": "bf16", "count": 1, "min_tok_s": 5},
            "budget_chf": {"max": 20000},
            "platforms": ["msi-edgexpert", "asus-gx10-1tb", "hp-zgx-nano-g1n", "rtx-3090"],
            "units": [1, 2, 3],
        },
    ],
)
def test_each_configuration_is_judged_as_if_its_platform_were_planned_alone(
    catalog: Catalog, requirements: dict[str, object]
) -> None:
    req = parse_requirements(requirements)
    together = plan(req, catalog)
    outcomes = [*together.recommended, *together.rejected]
    assert req.platforms is not None
    for pid in req.platforms:
        alone = plan(req.model_copy(update={"platforms": [pid]}), catalog)
        mine = [o for o in outcomes if o.platform_id == pid]
        assert sorted(mine, key=lambda o: o.units) == sorted(
            [*alone.recommended, *alone.rejected], key=lambda o: o.units
        )
        assert all(pid in o.detail for o in alone.rejected if "cannot run" in o.detail)
