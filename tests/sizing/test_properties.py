"""Invariants of the sizing models, checked with hypothesis over catalog scenarios."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizing.catalog import default_catalog
from sizing.memory import memory_fit
from sizing.scenario import Scenario, ScenarioError, resolve
from sizing.throughput import decode_at, throughput

CAT = default_catalog()
COMBOS = [(p.id, e, q) for p in CAT.platforms for e in p.engines for q in p.quants
          if q in CAT.engine(e).quants]
MODELS = [m.id for m in CAT.models]
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn, *, parallel: str | None = None) -> Scenario:
    platform, engine, quant = draw(st.sampled_from(COMBOS))
    par = parallel or draw(st.sampled_from(CAT.engine(engine).parallel))
    units = draw(st.sampled_from([1, 2, 4, 8]))
    model = draw(st.sampled_from(MODELS))
    return Scenario(platform, units, par, model, quant, engine=engine,
                    kv_dtype=draw(st.sampled_from(["bf16", "fp8"])),
                    context_tokens=draw(st.integers(1, 131072)),
                    concurrency=draw(st.integers(1, 64)))


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
    speed = throughput(r, CAT, fit)
    for value in (*vars(fit).values(), *vars(speed).values()):
        if isinstance(value, float):
            assert math.isfinite(value)
    for value in (fit.usable_gib_per_unit, fit.weights_gib_per_unit, fit.kv_cache_gib_per_unit,
                  fit.kv_capacity_tokens, fit.max_concurrency, fit.max_context_tokens,
                  speed.decode_tok_s_per_request, speed.decode_tok_s_total,
                  speed.prefill_tok_s, speed.ttft_s):
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
@given(scenarios())
def test_fits_exactly_when_required_memory_within_capacity(s):
    r = _resolve(s)
    if r is None:
        return
    fit = memory_fit(r, CAT)
    required = fit.weights_gib_per_unit + fit.overhead_gib_per_unit + fit.kv_required_gib_per_unit
    assert fit.fits == (required <= fit.usable_gib_per_unit and
                        fit.weights_gib_per_unit + fit.overhead_gib_per_unit
                        < fit.usable_gib_per_unit)
