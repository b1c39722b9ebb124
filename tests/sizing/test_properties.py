"""Invariants of the sizing models, checked with hypothesis over catalog scenarios."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizing.catalog import default_catalog
from sizing.memory import memory_fit
from sizing.scenario import Scenario, ScenarioError, resolve
from sizing.throughput import decode_at, throughput

CAT = default_catalog()
COMBOS = [
    (p.id, e, q)
    for p in CAT.platforms
    for e in p.engines
    for q in p.quants
    if q in CAT.engine(e).quants
]
MODELS = [m.id for m in CAT.models]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn, *, parallel: str | None = None) -> Scenario:
    platform, engine, quant = draw(st.sampled_from(COMBOS))
    par = parallel or draw(st.sampled_from(CAT.engine(engine).parallel))
    units = draw(st.sampled_from([1, 2, 4, 8]))
    model = draw(st.sampled_from(MODELS))
    return Scenario(
        platform,
        units,
        par,
        model,
        quant,
        engine=engine,
        kv_dtype=draw(st.sampled_from(["bf16", "fp8"])),
        context_tokens=draw(st.integers(1, 131072)),
        concurrency=draw(st.integers(1, 64)),
    )


def _resolve(s: Scenario):
    try:
        return resolve(s, CAT)
    except ScenarioError:
        return None


@SETTINGS
@given(scenarios())
def test_results_are_finite_and_non_negative(s):
    r = _resolve(s)
    if r is None:
        return
    fit = memory_fit(r, CAT)
    speed = throughput(r, CAT)
    for value in (*vars(fit).values(), *vars(speed).values()):
        if isinstance(value, float):
            assert math.isfinite(value)
    for value in (
        fit.usable_gib_per_unit,
        fit.weights_gib_per_unit,
        fit.kv_cache_gib_per_unit,
        fit.kv_capacity_tokens,
        fit.max_concurrency,
        fit.max_context_tokens,
        speed.decode_tok_s_per_request,
        speed.decode_tok_s_total,
        speed.prefill_tok_s,
        speed.ttft_s,
    ):
        assert value >= 0


@SETTINGS
@given(scenarios(), st.sampled_from([2, 4, 8]))
def test_more_units_never_reduce_total_usable_memory(s, factor):
    small = _resolve(Scenario(**{**vars(s), "units": 1}))
    big = _resolve(Scenario(**{**vars(s), "units": factor}))
    if small is None or big is None:
        return
    a, b = memory_fit(small, CAT), memory_fit(big, CAT)
    assert b.usable_gib_per_unit * factor >= a.usable_gib_per_unit
    assert b.kv_cache_gib_per_unit * factor >= a.kv_cache_gib_per_unit - 1e-9


@SETTINGS
@given(scenarios(), st.integers(1, 131072), st.integers(1, 131072))
def test_longer_context_never_raises_per_request_decode(s, c1, c2):
    r = _resolve(s)
    if r is None:
        return
    lo, hi = sorted((c1, c2))
    fast = decode_at(r, CAT, s.concurrency, context_tokens=lo)[0]
    slow = decode_at(r, CAT, s.concurrency, context_tokens=hi)[0]
    assert slow <= fast * (1 + 1e-12)


@SETTINGS
@given(scenarios())
def test_concurrency_never_lowers_total_below_single_until_memory_runs_out(s):
    r = _resolve(s)
    if r is None:
        return
    fit = memory_fit(r, CAT)
    single = decode_at(r, CAT, 1)[1] / r.replicas
    batch = max(1, min(fit.sequences_per_group, max(1, fit.max_concurrency // r.replicas)))
    total = decode_at(r, CAT, batch)[1]
    assert total >= single * (1 - 1e-9)


@SETTINGS
@given(scenarios(), st.integers(1, 4), st.integers(1, 4))
def test_fits_is_monotone_in_context_and_concurrency(s, shrink_ctx, shrink_conc):
    """Less context or fewer streams never turn a fit into a miss, and more never turn a
    miss into a fit (independent of how the fit is computed)."""
    r = _resolve(s)
    if r is None:
        return
    fits = memory_fit(r, CAT).fits
    smaller = _resolve(
        replace(
            s,
            context_tokens=max(1, s.context_tokens // shrink_ctx),
            concurrency=max(1, s.concurrency // shrink_conc),
        )
    )
    if smaller is not None and fits:
        assert memory_fit(smaller, CAT).fits
    if smaller is not None and not memory_fit(smaller, CAT).fits:
        assert not fits


# Hand-computed fits (weights = published parameters x bytes per weight; GX10 shows
# 121.69 GiB, x 0.85 for vLLM = 103.4 GiB; an RTX 3090 24 GB): (platform, units,
# parallel, model, weights, context, streams, fits, why)
HAND_FITS = [
    (
        "asus-gx10-1tb",
        1,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "bf16",
        4096,
        1,
        False,
        "70.55e9 x 2 B = 131.4 GiB > 103.4 GiB",
    ),
    (
        "asus-gx10-1tb",
        2,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "bf16",
        32768,
        1,
        True,
        "65.7 GiB + 2.5 + 32768 x 160 KiB = 5 GiB per unit < 103.4",
    ),
    (
        "asus-gx10-1tb",
        2,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "bf16",
        131072,
        4,
        False,
        "KV 4 x 131072 x 160 KiB = 80 GiB per unit > the 35.2 left",
    ),
    (
        "asus-gx10-1tb",
        1,
        "tp",
        "openai/gpt-oss-120b",
        "mxfp4",
        131072,
        1,
        True,
        "60.8 GiB checkpoint + 2.5 + 131072 x 36 KiB = 4.5 GiB < 103.4",
    ),
    ("rtx-3090", 1, "tp", "openai/gpt-oss-120b", "mxfp4", 4096, 1, False, "60.8 GiB > 24 GB"),
    (
        "rtx-3090",
        1,
        "tp",
        "openai/gpt-oss-20b",
        "mxfp4",
        32768,
        1,
        True,
        "12.8 GiB checkpoint + KV 24 layers / 2 x 2 x 8 x 64 x 2 B x 32768 = 0.75 GiB < ~22",
    ),
]


@pytest.mark.parametrize(
    ("platform", "units", "parallel", "model", "weights", "context", "streams", "fits", "why"),
    HAND_FITS,
    ids=[f"{h[3]}-{h[0]}x{h[1]}-{h[5]}x{h[6]}" for h in HAND_FITS],
)
def test_fits_matches_hand_computed_cases(
    platform, units, parallel, model, weights, context, streams, fits, why
):
    r = resolve(
        Scenario(
            platform, units, parallel, model, weights, context_tokens=context, concurrency=streams
        ),
        CAT,
    )
    assert memory_fit(r, CAT).fits is fits, why
