"""sizing.economics: cost per million tokens, break-even, agent turns, cloud price file.

Expected values are computed by hand in the comments, never taken from the code."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.economics import (
    DAYS_PER_MONTH,
    CloudPriceError,
    agent_report,
    agent_session,
    break_even_months,
    cloud_chf_per_month,
    cloud_prices_with,
    compare_with_cloud,
    cost_report,
    cumulative_table,
    final_context_tokens,
    input_tokens_per_output_token,
    load_cloud_prices,
    local_cost,
    parse_checkpoints,
    parse_cloud_prices,
    storage_report,
)
from sizing.scenario import Scenario, resolve
from sizing.throughput import prefill_s

if TYPE_CHECKING:
    from pathlib import Path

# The simple scenario of the hand computation:
#   hardware CHF 3'650 over 1 year = 3650 / 365 = CHF 10.00 per day
#   500 W for 10 h + 100 W for 14 h = 5000 + 1400 Wh = 6.4 kWh x 25 Rp = CHF 1.60 per day
#   day = CHF 11.60
#   decode 100 tok/s in total, prefill 1000 tok/s, input share 0.5 -> 1 input per output
#   one output token = 1/100 s decode + 1/1000 s prefill = 0.011 s
#   output tokens per day = 10 x 3600 / 0.011 = 3'272'727.27 (input the same)
#   output: 11.60 x (0.010 / 0.011) / 3'272'727.27 x 1e6 = 11.60 x 0.010 / 36000 x 1e6
#           = CHF 3.2222 per Mtok
#   input:  11.60 x 0.001 / 36000 x 1e6 = CHF 0.32222 per Mtok
#   all-in: 11.60 x 0.011 / 36000 x 1e6 = CHF 3.5444 per Mtok output
SIMPLE = {
    "hardware_chf": 3650.0,
    "life_years": 1.0,
    "power_w_load": 500.0,
    "power_w_idle": 100.0,
    "rappen_per_kwh": 25.0,
    "hours_per_day": 10.0,
    "decode_tok_s_total": 100.0,
    "prefill_tok_s": 1000.0,
    "input_share": 0.5,
}


def _price(**over: object) -> dict[str, object]:
    return {
        "model": "openai/gpt-oss-120b",
        "provider": "Test API",
        "input_usd_per_mtok": 1.0,
        "output_usd_per_mtok": 3.0,
        "date": "2026-11-30",
        "url": "https://example.com/p",
        "source": "https://example.com/p",
        **over,
    }


def _prices(*entries: dict[str, object], rate: float = 0.8):
    return parse_cloud_prices(
        {
            "schema_version": 1,
            "usd_chf": {"rate": rate, "date": "2026-11-23", "note": "test", "source": "test"},
            "prices": list(entries) or [_price()],
        }
    )


def test_cost_per_mtok_by_hand():
    c = local_cost(**SIMPLE)
    assert c.depreciation_chf_per_day == pytest.approx(10.0)
    assert c.energy_chf_per_day == pytest.approx(1.60)
    assert c.output_tokens_per_day == pytest.approx(3_272_727.27, rel=1e-6)
    assert c.input_tokens_per_day == pytest.approx(3_272_727.27, rel=1e-6)
    assert c.prefill_time_share == pytest.approx(1 / 11)
    assert c.chf_per_mtok_output == pytest.approx(3.2222, abs=1e-4)
    assert c.chf_per_mtok_input == pytest.approx(0.32222, abs=1e-5)
    assert c.chf_per_mtok_output_all_in == pytest.approx(3.5444, abs=1e-4)


def test_break_even_by_hand():
    # cloud: 3'272'727.27 x (1 + 3) USD / 1e6 = USD 13.0909 per day x 0.8 = CHF 10.4727
    #   per month (365 / 12 = 30.4167 days): CHF 318.545
    # energy per month: 1.60 x 30.4167 = CHF 48.667; saving CHF 269.879 per month
    # break-even: 3650 / 269.879 = 13.525 months (within a 1-year life? no: 12 months)
    c = local_cost(**SIMPLE)
    cmp = compare_with_cloud(
        c, _prices().prices[0], hardware_chf=3650, life_years=1, chf_per_usd=0.8
    )
    assert abs(DAYS_PER_MONTH - 30.4167) < 1e-4
    assert cmp.cloud_chf_per_month == pytest.approx(318.545, abs=1e-3)
    assert cmp.local_energy_chf_per_month == pytest.approx(48.667, abs=1e-3)
    assert cmp.break_even_months == pytest.approx(13.525, abs=1e-3)
    assert cmp.pays_back_within_life is False
    assert cmp.cloud_chf_per_mtok_output == pytest.approx(2.4)  # 3 USD x 0.8
    assert cmp.cloud_chf_per_mtok_input == pytest.approx(0.8)


def test_never_breaks_even_when_cloud_is_cheaper_than_power():
    # 10 CHF/month of cloud against 20 CHF/month of energy: never
    assert (
        break_even_months(hardware_chf=3000, cloud_chf_per_month=10, energy_chf_per_month=20)
        is None
    )
    assert (
        break_even_months(hardware_chf=3000, cloud_chf_per_month=20, energy_chf_per_month=20)
        is None
    )
    # 3000 / (520 - 20) = 6 months
    assert break_even_months(
        hardware_chf=3000, cloud_chf_per_month=520, energy_chf_per_month=20
    ) == pytest.approx(6.0)


def test_input_share_ratio():
    assert input_tokens_per_output_token(0.75) == pytest.approx(3.0)
    assert input_tokens_per_output_token(0.0) == 0.0
    with pytest.raises(ValueError, match="input share"):
        input_tokens_per_output_token(1.0)


def test_free_power_and_free_hardware_cost_nothing():
    c = local_cost(**{**SIMPLE, "hardware_chf": 0.0, "rappen_per_kwh": 0.0})
    assert c.chf_per_mtok_output == 0.0
    assert c.chf_per_mtok_input == 0.0
    cmp = compare_with_cloud(c, _prices().prices[0], hardware_chf=0, life_years=3, chf_per_usd=0.8)
    assert cmp.break_even_months == 0.0
    assert cmp.pays_back_within_life


def test_zero_cloud_price_never_pays_back():
    c = local_cost(**SIMPLE)
    free = _prices(_price(input_usd_per_mtok=0, output_usd_per_mtok=0)).prices[0]
    assert (
        compare_with_cloud(
            c, free, hardware_chf=3650, life_years=3, chf_per_usd=0.8
        ).break_even_months
        is None
    )


def test_no_use_is_refused_not_divided_by_zero():
    with pytest.raises(ValueError, match="hours of use"):
        local_cost(**{**SIMPLE, "hours_per_day": 0.0})


# ----------------------------------------------------------------------------- invariants
profiles = st.fixed_dictionaries(
    {
        "hardware_chf": st.floats(0, 100_000),
        "life_years": st.floats(0.25, 10),
        "power_w_load": st.floats(1, 5000),
        "power_w_idle": st.floats(0, 500),
        "rappen_per_kwh": st.floats(0, 100),
        "decode_tok_s_total": st.floats(0.1, 10_000),
        "prefill_tok_s": st.floats(1, 100_000),
        "input_share": st.floats(0, 0.99),
    }
)


@settings(max_examples=200, deadline=None)
@given(profiles, st.floats(0.1, 24), st.floats(0.1, 24))
def test_cost_per_mtok_falls_as_hours_rise(profile, h1, h2):
    lo, hi = sorted((h1, h2))
    a = local_cost(**profile, hours_per_day=lo)
    b = local_cost(**profile, hours_per_day=hi)
    assert b.chf_per_mtok_output <= a.chf_per_mtok_output * (1 + 1e-9) + 1e-12
    assert b.chf_per_mtok_output_all_in <= a.chf_per_mtok_output_all_in * (1 + 1e-9) + 1e-12


@settings(max_examples=200, deadline=None)
@given(profiles, st.floats(0.1, 24), st.floats(0, 50), st.floats(0, 50))
def test_break_even_is_never_negative(profile, hours, usd_in, usd_out):
    c = local_cost(**profile, hours_per_day=hours)
    price = _prices(_price(input_usd_per_mtok=usd_in, output_usd_per_mtok=usd_out)).prices[0]
    cmp = compare_with_cloud(
        c,
        price,
        hardware_chf=profile["hardware_chf"],
        life_years=profile["life_years"],
        chf_per_usd=0.8,
    )
    months = cmp.break_even_months
    assert months is None or (months >= 0 and math.isfinite(months))
    # never <=> the cloud bill does not exceed the energy bill (or the saving is so small
    # that hardware / saving overflows)
    saving = cmp.cloud_chf_per_month - cmp.local_energy_chf_per_month
    expected_never = saving <= 0 or not math.isfinite(profile["hardware_chf"] / saving)
    assert (months is None) == expected_never
    assert c.chf_per_mtok_output >= 0
    assert c.chf_per_mtok_output_all_in >= c.chf_per_mtok_output - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 1e9), st.floats(0, 1e9), st.floats(0, 100), st.floats(0, 100))
def test_cloud_bill_is_linear_in_tokens(out_day, in_day, usd_in, usd_out):
    one = cloud_chf_per_month(
        output_tokens_per_day=out_day,
        input_tokens_per_day=in_day,
        input_usd_per_mtok=usd_in,
        output_usd_per_mtok=usd_out,
        chf_per_usd=0.8,
    )
    two = cloud_chf_per_month(
        output_tokens_per_day=2 * out_day,
        input_tokens_per_day=2 * in_day,
        input_usd_per_mtok=usd_in,
        output_usd_per_mtok=usd_out,
        chf_per_usd=0.8,
    )
    assert two == pytest.approx(2 * one, rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------------- report
ESTIMATE = {
    "fits": True,
    "reason": "fits",
    "price_chf": 3650.0,
    "power_w_load": 500.0,
    "power_w_idle": 100.0,
    "decode_tok_s_total": 100.0,
    "prefill_tok_s": 1000.0,
    "platform": "asus-gx10-1tb",
    "units": 1,
    "parallel": "tp",
    "model": "openai/gpt-oss-120b",
    "weights": "mxfp4",
    "engine": "vllm",
    "context": 32768,
    "concurrency": 4,
    "price_complete": True,
    "unpriced_items": [],
}


def test_report_and_cumulative_chart_agree_with_the_hand_computation():
    report = cost_report(
        ESTIMATE,
        _prices(),
        rappen_per_kwh=25,
        tariff_id="t",
        hours_per_day=10,
        input_share=0.5,
        life_years=1,
    )
    assert report["chf_per_mtok_output"] == pytest.approx(3.2222, abs=1e-4)
    assert report["cloud"][0]["break_even_months"] == pytest.approx(13.525, abs=1e-3)
    rows = cumulative_table(report)
    local = {r["month"]: r["cumulative_chf"] for r in rows if r["series"].startswith("local")}
    cloud = {r["month"]: r["cumulative_chf"] for r in rows if r["series"].startswith("cloud")}
    assert local[0] == 3650
    assert cloud[0] == 0
    # month 12: 3650 + 12 x 48.667 = 4234.0 local; 12 x 318.545 = 3822.5 cloud
    assert local[12] == pytest.approx(4234.0, abs=0.1)
    assert cloud[12] == pytest.approx(3822.5, abs=0.1)
    assert local[14] < cloud[14]  # after 13.5 months the cloud costs more
    assert max(local) >= 13.525 * 1.25 - 1  # the chart reaches past the break-even


def test_report_refuses_what_it_cannot_price():
    with pytest.raises(ValueError, match="does not fit"):
        cost_report(
            {**ESTIMATE, "fits": False, "reason": "too big"},
            _prices(),
            rappen_per_kwh=25,
            tariff_id="t",
            hours_per_day=8,
            input_share=0.75,
        )
    with pytest.raises(ValueError, match="no price known for switch"):
        cost_report(
            {**ESTIMATE, "price_chf": None, "unpriced_items": ["switch"]},
            _prices(),
            rappen_per_kwh=25,
            tariff_id="t",
            hours_per_day=8,
            input_share=0.75,
        )


# ----------------------------------------------------------------------------- price file
def test_the_shipped_price_file_is_valid_dated_and_sourced(catalog):
    prices = load_cloud_prices()
    assert prices.prices, "no cloud prices"
    models = {m.id for m in catalog.models}
    for p in prices.prices:
        assert p.model in models, p.id
        assert p.url.startswith("https://")
        assert p.source.startswith("https://")
    # DeepSeek's own page (archived 2026-04-26): V4-Flash $0.14 in / $0.28 out
    flash = prices.for_model("deepseek-ai/DeepSeek-V4-Flash")[0]
    assert (flash.input_usd_per_mtok, flash.output_usd_per_mtok) == (0.14, 0.28)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "schema_version: 1\nusd_chf: {rate: 0.8, date: 2026-11-23, note: n, source: s}\n"
            "prices:\n  - {model: m/x, provider: p, input_usd_per_mtok: -1, output_usd_per_mtok: 1,"
            " date: 2026-11-01, url: 'https://a.b', source: 'https://a.b'}\n",
            "prices[m/x].input_usd_per_mtok",
        ),
        (
            "schema_version: 1\nusd_chf: {rate: 0.8, date: 2026-11-23, note: n, source: s}\n"
            "prices:\n  - {model: m/x, provider: p, input_usd_per_mtok: 1, output_usd_per_mtok: 1,"
            " date: 2026-11-01, url: 'no url', source: 'https://a.b'}\n",
            "prices[m/x].url",
        ),
        (
            "schema_version: 1\nusd_chf: {rate: 0.8, date: 2026-11-23, note: n, source: s}\n"
            "prices:\n  - {model: m/x, provider: p, input_usd_per_mtok: 1, output_usd_per_mtok: 1,"
            " url: 'https://a.b', source: 'https://a.b'}\n",
            "prices[m/x].date",
        ),
        (
            "schema_version: 1\nusd_chf: {rate: 0.8, date: 2999-01-01, note: n, source: s}\n"
            "prices: []\n",
            "usd_chf.date",
        ),
        ("schema_version: 1\nprices: [\n", "not valid YAML"),
        ("- just a list\n", "top level must be a mapping"),
    ],
)
def test_a_bad_price_file_is_one_line_naming_the_field(tmp_path: Path, text: str, where: str):
    path = tmp_path / "cloud_prices.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CloudPriceError) as err:
        load_cloud_prices(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("cloud_prices.yaml: ")
    assert where in message


def test_an_edited_table_is_validated_like_the_file():
    base = _prices()
    edited = cloud_prices_with(base, [_price(output_usd_per_mtok=9.0)])
    assert edited.prices[0].output_usd_per_mtok == 9.0
    with pytest.raises(CloudPriceError, match=r"prices\[openai/gpt-oss-120b\].url"):
        cloud_prices_with(base, [_price(url="")])


# ----------------------------------------------------------------------------- agent
def test_agent_turns_by_hand():
    # prefill 1000 tok/s whatever the depth, decode 50 tok/s; start 1000, +200, 100 out
    # contexts 1000, 1300, 1600; cached: prefill 1000, 200, 200 tokens = 1.0, 0.2, 0.2 s
    # uncached: 1.0, 1.3, 1.6 s; decode 100 / 50 = 2 s each turn
    kwargs = {
        "start_tokens": 1000,
        "tokens_per_turn": 200,
        "output_tokens_per_turn": 100,
        "turns": 3,
        "prefill_s": lambda new, _depth: new / 1000,
        "decode_tok_s_at": lambda _context: 50.0,
    }
    cached = agent_session(prefix_caching=True, **kwargs)
    plain = agent_session(prefix_caching=False, **kwargs)
    assert [t.context_tokens for t in cached] == [1000, 1300, 1600]
    assert [t.prefilled_tokens for t in cached] == [1000, 200, 200]
    assert [t.seconds for t in cached] == pytest.approx([3.0, 2.2, 2.2])
    assert [t.seconds for t in plain] == pytest.approx([3.0, 3.3, 3.6])
    assert (
        final_context_tokens(
            start_tokens=1000, tokens_per_turn=200, output_tokens_per_turn=100, turns=3
        )
        == 1700
    )


def test_prefix_caching_is_never_slower_on_the_real_model(catalog):
    r = resolve(
        Scenario("asus-gx10-1tb", 1, "tp", "openai/gpt-oss-120b", "mxfp4", context_tokens=65536),
        catalog,
    )
    rep = agent_report(
        r, catalog, start_tokens=20000, tokens_per_turn=2000, output_tokens_per_turn=500, turns=10
    )
    for t in rep["turns"]:
        assert t["seconds_cached"] <= t["seconds_uncached"] + 1e-9
    # turn 1 prefills the whole start context either way: the planner's own prefill time
    assert rep["turns"][0]["prefill_s_cached"] == pytest.approx(prefill_s(r, catalog, 20000))
    # later turns grow: without caching the prompt phase grows with the context
    uncached = [t["prefill_s_uncached"] for t in rep["turns"]]
    assert uncached == sorted(uncached)
    assert rep["total_s_uncached"] > rep["total_s_cached"]


# ----------------------------------------------------------------------------- storage
def test_storage_arithmetic(catalog):
    # GX10 1 TB: 1000 - 100 GB reserve = 900 GB usable; 4 TB: 3900 GB
    rep = storage_report(
        catalog, [("openai/gpt-oss-120b", "mxfp4")], platform_ids=["asus-gx10-1tb", "asus-gx10-4tb"]
    )
    size = rep["checkpoints"][0]["size_gb"]
    # gpt-oss-120b: ~117 B parameters, experts in MXFP4 (4.25 bits): 60-70 GB on disk
    assert 60 <= size <= 70
    by_id = {r["platform"]: r for r in rep["platforms"]}
    assert by_id["asus-gx10-1tb"]["usable_gb"] == 900
    assert by_id["asus-gx10-4tb"]["usable_gb"] == 3900
    assert by_id["asus-gx10-1tb"]["free_gb_after_library"] == pytest.approx(900 - size)


def test_every_platform_has_a_known_ssd(catalog):
    rep = storage_report(catalog, [("openai/gpt-oss-20b", "mxfp4")])
    assert all(r["storage_tb"] is not None for r in rep["platforms"])


def test_checkpoint_list_parsing():
    assert parse_checkpoints("a/b:mxfp4, c/d:q4_k_m") == [("a/b", "mxfp4"), ("c/d", "q4_k_m")]
    for bad, message in (
        ("a/b", "must be MODEL:QUANT"),
        (":mxfp4", "must be MODEL:QUANT"),
        (" , ", "no checkpoint given"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_checkpoints(bad)
