"""Deployment plans and the planner (sizing/requirements.py, sizing/planner.py).

The guide buyer (tests/data/requirements/guide_buyer.yaml) is the person behind the
reference build guide: main agent 60-80 tok/s target / 30 minimum, sub-agents 15-20 tok/s,
5-10 concurrent streams, >= 96 GB of model memory, CHF 4,000-15,000. The assertions are
properties that a wrong planner would break (fit, order, budget, reasons), plus hand
prices for the over-budget cases; speeds come from sizing.estimate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cli.sizing_main import main
from sizing.estimate import estimate
from sizing.planner import GroupSpec, evaluate_plan, plan
from sizing.requirements import (
    RequirementsError,
    Serve,
    check_requirements,
    load_requirements,
    parse_requirements,
)
from sizing.scenario import Scenario

if TYPE_CHECKING:
    from sizing.catalog import Catalog

DATA = Path(__file__).resolve().parent.parent / "data" / "requirements"
GX10 = "asus-gx10-1tb"
OSS, OSS20 = "openai/gpt-oss-120b", "openai/gpt-oss-20b"


@pytest.fixture(scope="module")
def guide(catalog: Catalog):
    req = load_requirements(DATA / "guide_buyer.yaml")
    return req, plan(req, catalog)


def test_guide_buyer_requirements_parse() -> None:
    req = load_requirements(DATA / "guide_buyer.yaml")
    assert req.main_agent.min_tok_s == 30
    assert req.main_agent.target_tok_s == 60
    assert req.sub_agents is not None
    assert req.sub_agents.min_tok_s == 15
    assert req.budget_chf.max == 15000
    assert req.budget_chf.min == 4000
    serves = req.serves()
    # 10 streams at peak: 1 main agent stream + 9 sub-agent streams
    assert [(s.role, s.streams) for s in serves] == [("main agent", 1), ("sub-agents", 9)]


def test_guide_buyer_ranked_cheapest_first(guide, catalog: Catalog) -> None:
    _, result = guide
    assert result.recommended, "expected at least one configuration"
    complete = [c.price_chf for c in result.recommended if c.price_complete]
    partial = [c.price_chf for c in result.recommended if not c.price_complete]
    assert complete == sorted(complete)
    assert partial == sorted(partial)
    # every incomplete price ranks after every complete one
    flags = [c.price_complete for c in result.recommended]
    assert flags == sorted(flags, reverse=True)
    seen = {(c.platform_id, c.units) for c in result.recommended} | {
        (r.platform_id, r.units) for r in result.rejected
    }
    assert len(seen) == len(result.recommended) + len(result.rejected) == len(catalog.platforms) * 8


def test_recommended_configurations_fit_and_meet_minimums(guide, catalog: Catalog) -> None:
    req, result = guide
    for c in result.recommended:
        assert c.price_chf <= 15000
        assert c.raw_memory_gb >= 96
        p = c.plan
        assert p.fits
        assert p.meets_minimums
        assert (
            sum(g.units for g in {(g.first_unit, g.units): g for g in p.groups}.values()) == c.units
        )
        roles = {r for g in p.groups for r in g.roles}
        assert roles == {"main agent", "sub-agents"}  # all loaded at once
        assert sum(g.streams for g in p.groups) == 10
        for g in p.groups:
            floor = max(30 if "main agent" in g.roles else 0, 15)
            assert g.decode_tok_s_per_stream >= floor
            assert g.memory_gib_per_unit <= g.usable_gib_per_unit
            if not g.shared_with:  # independent check with the estimator itself
                e = estimate(
                    Scenario(
                        c.platform_id,
                        g.units,
                        g.parallel,
                        g.model,
                        g.weights,
                        context_tokens=req.context_tokens,
                        concurrency=g.streams,
                    ),
                    catalog,
                )
                assert e.fits
                assert e.speed.decode_tok_s_per_request == pytest.approx(g.decode_tok_s_per_stream)


def test_one_gb10_is_rejected_for_speed_or_memory(guide) -> None:
    _, result = guide
    (r,) = [r for r in result.rejected if (r.platform_id, r.units) == (GX10, 1)]
    assert {"speed", "memory"} & set(r.reasons)
    assert "main agent" in r.detail
    assert (GX10, 1) not in {(c.platform_id, c.units) for c in result.recommended}


def test_over_budget_is_rejected_with_budget(guide) -> None:
    _, result = guide
    over = [r for r in result.rejected if r.price_chf is not None and r.price_chf > 15000]
    assert over
    assert all("budget" in r.reasons for r in over)
    # 8 GX10: 8 x 2,477 + CRS804 1,036 + 4 FS breakouts x 146 = 21,436 (catalog list
    # prices; the CHF 110 NADDOD breakout is known_good: false since issue 15)
    (eight,) = [r for r in result.rejected if (r.platform_id, r.units) == (GX10, 8)]
    assert eight.price_chf == pytest.approx(8 * 2477 + 1036 + 4 * 146)
    assert "budget" in eight.reasons
    assert "CHF 21'436 > budget CHF 15'000" in eight.detail


def test_incomplete_prices_never_count_as_within_budget(guide, catalog: Catalog) -> None:
    # review: "4 x framework-desktop… CHF 11,036" was recommended as if complete, though
    # its Ethernet switch and cables are not priced. Strix Halo's TTFT at 32k tokens
    # (~107 s) misses the default 60 s ceiling (issue 15), so this test of the price
    # mechanism switches the ceiling off (max_ttft_s: 0); the floors are tested below
    req, _ = guide
    result = plan(req.model_copy(update={"max_ttft_s": 0.0}), catalog)
    by_id = {(c.platform_id, c.units): c for c in result.recommended}
    fw4 = by_id[("framework-desktop-395-128gb", 4)]
    assert not fw4.price_complete
    assert fw4.unpriced_items == ["Ethernet switch (4 ports of >= 5 Gb/s)", "4 x Ethernet cable"]
    assert fw4.notes[0] == (
        "price incomplete: Ethernet switch (4 ports of >= 5 Gb/s), 4 x Ethernet cable not priced"
    )
    first_partial = next(i for i, c in enumerate(result.recommended) if not c.price_complete)
    assert all(c.price_complete for c in result.recommended[:first_partial])
    assert all(not c.price_complete for c in result.recommended[first_partial:])
    # a Mac cluster's Thunderbolt 5 cables are in the catalog since issue 15: complete
    macs = [c for c in result.recommended if c.family == "mac-m3-ultra"]
    assert macs
    assert all(c.price_complete for c in macs)
    # the known part above the budget: rejected for budget, the gap said
    tight = parse_requirements(
        {
            **json.loads(json.dumps(BASE)),
            "budget_chf": {"max": 11000},
            "platforms": ["framework-desktop-395-128gb"],
            "units": [4],
            "max_ttft_s": 0,
        }
    )
    (r,) = plan(tight, catalog).rejected
    assert r.reasons == ["budget"]
    assert not r.price_complete
    assert "CHF 11'036 + unpriced parts > budget CHF 11'000" in r.detail
    assert "price incomplete: Ethernet switch" in r.detail
    d = plan(
        tight.model_copy(
            update={"budget_chf": tight.budget_chf.model_copy(update={"max": 11100.0})}
        ),
        catalog,
    ).to_dict()
    assert d["recommended"][0]["price_complete"] is False
    assert d["recommended"][0]["unpriced_items"][0].startswith("Ethernet switch")


def test_rejected_families_say_why(guide) -> None:
    _, result = guide
    assert "rtx-3090" in result.families  # 24 GB cards, 2 per AM5 host
    assert "memory" in result.families["rtx-3090"]
    recommended = {c.family for c in result.recommended}
    assert not recommended & set(result.families)


def test_power_cap(catalog: Catalog) -> None:
    result = plan(load_requirements(DATA / "power_capped.yaml"), catalog)
    assert all(c.power_w_load <= 300 for c in result.recommended)
    # 3 GX10 + switch: 3 x 100 W + 134 W (CRS812 max) = 434 W > 300 W
    (three,) = [r for r in result.rejected if (r.platform_id, r.units) == (GX10, 3)]
    assert "power" in three.reasons
    assert "434 W" in three.detail


# ----------------------------------------------------------------------------- plans
def test_three_units_two_plus_one(catalog: Catalog) -> None:
    """The guide's deployment: units 1+2 TP=2 main agent, unit 3 standalone sub-agent."""
    p = evaluate_plan(
        catalog,
        GX10,
        [
            GroupSpec(2, (Serve("main agent", OSS, "mxfp4", 1, 30, 60),), parallel="tp"),
            GroupSpec(1, (Serve("sub-agent", OSS, "mxfp4", 1, 15),)),
        ],
    )
    assert p.units == 3
    assert len(p.groups) == 2
    tp, solo = p.groups
    assert (tp.first_unit, tp.units, tp.parallel, tp.roles) == (1, 2, "tp", ("main agent",))
    assert (solo.first_unit, solo.units, solo.roles) == (3, 1, ("sub-agent",))
    assert not tp.shared_with
    assert not solo.shared_with
    one = estimate(Scenario(GX10, 1, "tp", OSS, "mxfp4"), catalog)
    two = estimate(Scenario(GX10, 2, "tp", OSS, "mxfp4"), catalog)
    assert solo.decode_tok_s_per_stream == pytest.approx(one.speed.decode_tok_s_per_request)
    assert tp.decode_tok_s_per_stream == pytest.approx(two.speed.decode_tok_s_per_request)
    # design.md / guide: TP=2 over 200G gives more than one unit but well short of 2x
    assert 1.0 < tp.decode_tok_s_per_stream / solo.decode_tok_s_per_stream < 2.0
    text = p.describe()
    assert "units 1-2" in text
    assert "TP=2" in text
    assert "unit 3" in text


def test_colocated_models_share_memory_and_time(catalog: Catalog) -> None:
    p = evaluate_plan(
        catalog, GX10, [GroupSpec(1, (Serve("main", OSS, "mxfp4"), Serve("sub", OSS20, "mxfp4")))]
    )
    big, small = p.groups
    v1 = estimate(Scenario(GX10, 1, "tp", OSS, "mxfp4"), catalog).speed
    v2 = estimate(Scenario(GX10, 1, "tp", OSS20, "mxfp4"), catalog).speed
    shared = 1 / (1 / v1.decode_tok_s_per_request + 1 / v2.decode_tok_s_per_request)
    assert big.decode_tok_s_per_stream == pytest.approx(shared)
    assert small.decode_tok_s_per_stream == pytest.approx(shared)
    assert big.shared_with == (OSS20,)
    assert small.shared_with == (OSS,)
    assert p.fits
    assert big.memory_gib_per_unit + small.memory_gib_per_unit <= (big.usable_gib_per_unit)
    # 120b (60.7 GiB) + Llama-3.3-70B fp8 (~66 GiB) do not fit one 96 GB card together
    q = evaluate_plan(
        catalog,
        "rtx-pro-6000-ws",
        [
            GroupSpec(
                1,
                (
                    Serve("main", OSS, "mxfp4"),
                    Serve("sub", "meta-llama/Llama-3.3-70B-Instruct", "fp8"),
                ),
            )
        ],
    )
    assert not q.fits
    assert "co-located" in q.groups[0].reason


def test_same_model_roles_are_one_server(catalog: Catalog) -> None:
    p = evaluate_plan(
        catalog,
        GX10,
        [
            GroupSpec(
                1, (Serve("main agent", OSS, "mxfp4", 1), Serve("sub-agents", OSS, "mxfp4", 4))
            )
        ],
    )
    (g,) = p.groups
    assert g.roles == ("main agent", "sub-agents")
    assert g.streams == 5
    e = estimate(Scenario(GX10, 1, "tp", OSS, "mxfp4", concurrency=5), catalog)
    assert g.decode_tok_s_per_stream == pytest.approx(e.speed.decode_tok_s_per_request)


# ----------------------------------------------------------------------------- bad input
BASE = {
    "main_agent": {"model": OSS, "weights": "mxfp4", "min_tok_s": 30},
    "budget_chf": {"max": 15000},
}


def _with(**changes: object) -> dict:
    data = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        data[key] = value
    return data


def test_bad_files_name_the_field() -> None:
    with pytest.raises(
        RequirementsError,
        match=r"bad_unknown_key\.yaml: main_agent\.speed: "
        "unknown field",
    ):
        load_requirements(DATA / "bad_unknown_key.yaml")
    with pytest.raises(RequirementsError, match="main_agent: target_tok_s"):
        load_requirements(DATA / "bad_target_below_min.yaml")
    with pytest.raises(RequirementsError, match="cannot read"):
        load_requirements(DATA / "missing.yaml")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_with(main_agent={**BASE["main_agent"], "min_tok_s": -5}), "main_agent.min_tok_s"),
        (_with(budget_chf={"max": 0}), "budget_chf.max"),
        (_with(budget_chf={"max": 100, "min": 200}), "budget_chf"),
        (_with(budget=5000), "budget"),
        (_with(units=[2, 0]), "units[1]"),
        (_with(context_tokens=0), "context_tokens"),
        (_with(hours_at_load_per_day=25), "hours_at_load_per_day"),
        (
            _with(
                sub_agents={"model": OSS, "weights": "mxfp4", "count": 4, "min_tok_s": 15},
                concurrent_streams=3,
            ),
            "concurrent_streams",
        ),
        (
            _with(sub_agents={"model": OSS, "weights": "mxfp4", "count": 0, "min_tok_s": 15}),
            "sub_agents.count",
        ),
        # review: booleans read as 1, infinities accepted
        (_with(main_agent={**BASE["main_agent"], "min_tok_s": True}), "main_agent.min_tok_s"),
        (
            _with(main_agent={**BASE["main_agent"], "target_tok_s": math.inf}),
            "main_agent.target_tok_s",
        ),
        (_with(main_agent={**BASE["main_agent"], "streams": True}), "main_agent.streams"),
        (_with(budget_chf={"max": math.nan}), "budget_chf.max"),
        (_with(budget_chf={"max": True}), "budget_chf.max"),
        (_with(units=[2, True]), "units[1]"),
        (_with(power_cap_w=math.inf), "power_cap_w"),
        (_with(hours_at_load_per_day=math.nan), "hours_at_load_per_day"),
        (_with(concurrent_streams=False), "concurrent_streams"),
    ],
)
def test_impossible_values_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(RequirementsError) as info:
        parse_requirements(data, filename="req.yaml")
    msg = str(info.value)
    assert msg.startswith(f"req.yaml: {field}")
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_with(main_agent={**BASE["main_agent"], "model": "gpt-oss"}), "main_agent.model"),
        (_with(main_agent={**BASE["main_agent"], "weights": "q3"}), "main_agent.weights"),
        (_with(platforms=[GX10, "gx10"]), "platforms[1]"),
        (_with(context_tokens=10_000_000), "context_tokens"),
        (_with(tariff="ch-2030"), "tariff"),
    ],
)
def test_unknown_ids_name_the_field(catalog: Catalog, data: dict, field: str) -> None:
    req = parse_requirements(data)
    with pytest.raises(RequirementsError, match=rf"^{field.replace('[', '.').replace(']', '.')}"):
        check_requirements(req, catalog)


def test_booleans_and_infinities_say_what_is_wrong() -> None:
    with pytest.raises(
        RequirementsError,
        match=r"^r\.yaml: main_agent\.min_tok_s: must be a "
        r"number, not a boolean \(got true\)$",
    ):
        parse_requirements(
            _with(main_agent={**BASE["main_agent"], "min_tok_s": True}), filename="r.yaml"
        )
    with pytest.raises(RequirementsError, match=r"target_tok_s: must be a finite number"):
        parse_requirements(_with(main_agent={**BASE["main_agent"], "target_tok_s": math.inf}))


def test_duplicate_keys_are_an_error_naming_key_and_line(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    # review: YAML keeps the last of two keys silently (and a later error named the wrong one)
    path = tmp_path / "dup.yaml"
    path.write_text(
        "main_agent:\n  model: openai/gpt-oss-120b\n  weights: mxfp4\n"
        "  min_tok_s: 30\n  min_tok_s: true\nbudget_chf: {max: 10000}\n"
    )
    with pytest.raises(RequirementsError) as info:
        load_requirements(path)
    assert str(info.value) == (
        "dup.yaml: main_agent.min_tok_s: duplicate key on line 5 "
        "(first given on line 4; only one value is allowed)"
    )
    assert main(["plan", "--requirements", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "main_agent.min_tok_s: duplicate key" in err


def test_cli_plan_lists_incomplete_prices_apart(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fw.yaml"
    path.write_text(
        f"main_agent: {{model: {OSS}, weights: mxfp4, min_tok_s: 10}}\n"
        "budget_chf: {max: 12000}\nplatforms: [framework-desktop-395-128gb]\n"
        "units: [1, 4, 5]\nmax_ttft_s: 0  # Strix Halo: ~107 s at 32k\n"
    )
    assert main(["plan", "--requirements", str(path), "--all"]) == 0
    out = capsys.readouterr().out
    assert "1 configuration(s) meet the requirements (cheapest first):" in out
    assert "1 x framework-desktop-395-128gb: CHF 2'759," in out
    assert "1 more meet them only if their unpriced parts fit" in out
    assert "4 x framework-desktop-395-128gb: CHF 11'036 + unpriced parts" in out
    assert "note: price incomplete: Ethernet switch (4 ports" in out
    assert (
        "- 5 x framework-desktop-395-128gb: budget — CHF 13'795 + unpriced parts > "
        "budget CHF 12'000; price incomplete:" in out
    )


def test_cli_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--requirements", str(DATA / "guide_buyer.yaml"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["recommended"]
    assert all(c["plan"]["fits"] for c in d["recommended"])
    assert "description" in d["recommended"][0]["plan"]
    assert main(["plan", "--requirements", str(DATA / "guide_buyer.yaml")]) == 0
    out = capsys.readouterr().out
    assert "cheapest first" in out
    assert "Rejected platform families" in out
    assert main(["plan", "--requirements", str(DATA / "bad_unknown_key.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "main_agent.speed" in err
