"""`estimate_many`'s memo (issue 14: `estimate --batch` shares the work of rows that
differ only in context and concurrency) changes no result and no error: every scenario
gives what it gives alone, and a row's own error comes first, whatever earlier rows put
in the memo."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pytest

from sizing.bom import bill_of_materials
from sizing.estimate import Estimate, estimate_many
from sizing.money import PriceQuote
from sizing.scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    from sizing.catalog import Catalog

GX10 = "asus-gx10-1tb"
MAC512 = "mac-studio-m3-ultra-512gb"
OSS120 = "openai/gpt-oss-120b"
Q397 = "Qwen/Qwen3.5-397B-A17B"


def _scenarios() -> list[Scenario]:
    """Layouts, engines, transports, speculation (MTP and a draft model whose step
    depends on the workload), a memory setting, and rows that fail at each stage."""
    base = [
        Scenario(GX10, 2, "tp", OSS120, "mxfp4", engine="vllm"),
        Scenario(GX10, 2, "tp", OSS120, "mxfp4", engine="vllm", transport="tcp"),
        Scenario(GX10, 4, "pp", OSS120, "mxfp4"),
        Scenario(GX10, 4, "replicas", OSS120, "mxfp4", kv_dtype="fp8"),
        Scenario(GX10, 4, "tp", Q397, "nvfp4", engine="vllm", speculative="mtp"),
        Scenario(
            GX10,
            2,
            "tp",
            "Qwen/Qwen3-235B-A22B",
            "int4",
            engine="vllm",
            speculative="draft",
            spec_draft_model="Qwen/Qwen3-30B-A3B",
            spec_accept=0.7,
        ),
        Scenario(
            MAC512,
            1,
            "tp",
            "deepseek-ai/DeepSeek-V3",
            "q4_k_m",
            memory_setting="wired-limit-raised",
        ),
        Scenario(MAC512, 1, "tp", OSS120, "mxfp4", engine="llamacpp", cuda_graphs=False),
        Scenario("no-such-platform", 1, "tp", OSS120, "mxfp4"),
        Scenario(GX10, 3, "tp", OSS120, "mxfp4"),  # 64 heads do not split over 3
        Scenario(GX10, 2, "tp", OSS120, "mxfp4", transport="bogus"),
    ]
    out = []
    for s in base:  # the same layouts at other workloads share the memo's entries
        for context, concurrency in ((4096, 1), (32768, 4), (131072, 16), (10**7, 1)):
            out.append(replace(s, context_tokens=context, concurrency=concurrency))
    return out


def _outcome(result: Estimate | ScenarioError) -> tuple[str, object]:
    if isinstance(result, ScenarioError):
        return type(result).__name__, str(result)
    return "estimate", result.to_dict()


def test_shared_memo_changes_no_result(catalog: Catalog) -> None:
    scenarios = _scenarios()
    alone = [_outcome(estimate_many([s], catalog)[0]) for s in scenarios]
    memo: dict[object, object] = {}
    shared = []
    for start in range(0, len(scenarios), 7):  # chunks, as the batch command passes them
        chunk = scenarios[start : start + 7]
        shared += [_outcome(r) for r in estimate_many(chunk, catalog, memo=memo)]
    assert shared == alone
    assert {kind for kind, _ in alone} >= {"estimate", "ScenarioError"}
    assert any("exceeds" in str(text) for _, text in alone)  # the context check, per row


def test_row_error_comes_before_a_memoised_later_one(catalog: Catalog) -> None:
    """A context beyond the model's maximum is checked before the transport: the same
    error with the transport's failure already in the memo."""
    bad_transport = Scenario(GX10, 2, "tp", OSS120, "mxfp4", transport="bogus")
    memo: dict[object, object] = {}
    first = estimate_many([bad_transport], catalog, memo=memo)[0]
    assert isinstance(first, ScenarioError)
    assert "transport 'bogus'" in str(first)
    both = estimate_many([replace(bad_transport, context_tokens=10**7)], catalog, memo=memo)[0]
    assert isinstance(both, ScenarioError)
    assert "exceeds" in str(both)
    assert "transport" not in str(both)


def test_bills_of_materials_given_by_the_caller_are_used_not_rebuilt(catalog: Catalog) -> None:
    """`boms` (the planner's, built with the same prices) spares the second build: a given
    bill is the one the estimate prices, and a given error is the row's error."""
    s = Scenario(GX10, 2, "tp", OSS120, "mxfp4", engine="vllm")
    alone = estimate_many([s], catalog)[0]
    assert isinstance(alone, Estimate)
    # a bill built with another unit price (CHF 1,000 per GX10): its total must show
    quote = PriceQuote(
        rappen=100_000, as_of=date(2026, 12, 1), kind="manual", source="manual override: test"
    )
    cheap = bill_of_materials(catalog, GX10, 2, prices={GX10: quote})
    given = estimate_many([s], catalog, boms={(GX10, 2): cheap})[0]
    assert isinstance(given, Estimate)
    assert given.price_chf == cheap.total_chf != alone.price_chf
    assert given.speed == alone.speed
    err = ScenarioError("no topology (given)")
    assert estimate_many([s], catalog, boms={(GX10, 2): err})[0] is err


def test_power_comes_from_the_units_and_the_switch_whether_or_not_a_bill_is_given(
    catalog: Catalog,
) -> None:
    """The estimate's power is read off the bill of materials (one topology, one power
    formula): two GX10 on a direct cable draw twice one unit's catalog watts, four add the
    switch's idle and rated watts (sizing.power.cluster_power's rule)."""
    p = catalog.platform(GX10)
    two = Scenario(GX10, 2, "tp", OSS120, "mxfp4", engine="vllm")
    for boms in ({}, {(GX10, 2): bill_of_materials(catalog, GX10, 2)}):
        e = estimate_many([two], catalog, boms=boms)[0]
        assert isinstance(e, Estimate)
        assert (e.power_w_idle, e.power_w_load) == (2 * p.power.idle_w, 2 * p.power.load_w)
    four = estimate_many([Scenario(GX10, 4, "pp", OSS120, "mxfp4")], catalog)[0]
    assert isinstance(four, Estimate)
    bom = bill_of_materials(catalog, GX10, 4)
    (sid, n), *_ = bom.topology.switches.items()
    sw = catalog.switch(sid)
    assert four.power_w_idle == 4 * p.power.idle_w + n * sw.power_idle_w
    assert four.power_w_load == 4 * p.power.load_w + n * sw.power_max_w


def test_to_dict_names_a_non_finite_figure_and_rounds_the_others(catalog: Catalog) -> None:
    """No NaN or infinity reaches the JSON (a one-line error naming the field, whether or
    not the value was met before); finite figures are rounded to 4 decimals, negatives to
    0."""
    e = estimate_many([Scenario(GX10, 2, "tp", OSS120, "mxfp4", engine="vllm")], catalog)[0]
    assert isinstance(e, Estimate)
    assert replace(e, power_w_load=123.456789).to_dict()["power_w_load"] == 123.4568
    assert replace(e, power_w_load=123.456789).to_dict()["power_w_load"] == 123.4568
    assert replace(e, power_w_load=-0.5).to_dict()["power_w_load"] == 0.0
    # zeros pass as they are (-0.0 too: max(-0.0, 0.0) is -0.0, as it always was)
    zero = replace(e, power_w_load=0.0, power_w_idle=-0.0).to_dict()
    assert math.copysign(1.0, zero["power_w_load"]) == 1.0
    assert math.copysign(1.0, zero["power_w_idle"]) == -1.0
    # a float subclass (numpy's) is rounded as well
    assert replace(e, power_w_load=np.float64(2.123456)).to_dict()["power_w_load"] == 2.1235
    for bad in (math.inf, -math.inf, math.nan):
        for _ in range(2):
            with pytest.raises(ValueError, match=f"internal error: power_w_load is {bad}"):
                replace(e, power_w_load=bad).to_dict()
