"""The estimate's JSON object (design.md command-line contract) for edge cases."""

from sizing.estimate import estimate, estimate_many
from sizing.scenario import Scenario, ScenarioError


def test_a_scenario_that_does_not_fit_has_no_prompt_phase(catalog):
    # 4 x 131072 tokens of Llama-3.3-70B KV (320 KiB/token) = 160 GiB: cannot fit one GX10
    d = estimate(
        Scenario(
            "asus-gx10-1tb",
            1,
            "tp",
            "meta-llama/Llama-3.3-70B-Instruct",
            "fp8",
            context_tokens=131072,
            concurrency=4,
        ),
        catalog,
    ).to_dict()
    assert d["fits"] is False
    assert d["ttft_s"] is None
    assert d["prefill_tok_s"] is None  # not an instant 0 s
    assert d["decode_tok_s_per_request"] == 0.0


def test_a_scenario_that_fits_has_a_positive_ttft(catalog):
    d = estimate(
        Scenario("asus-gx10-1tb", 1, "tp", "openai/gpt-oss-120b", "mxfp4", context_tokens=8192),
        catalog,
    ).to_dict()
    assert d["fits"]
    assert d["ttft_s"] > 0
    assert d["prefill_tok_s"] > 0


def test_library_estimate_refuses_tp_across_gpu_hosts(catalog):
    # an AM5 host takes at most 2 RTX 3090s: 8 cards are 4 hosts with no modelled fabric
    (result,) = estimate_many(
        [Scenario("rtx-3090", 8, "tp", "openai/gpt-oss-120b", "mxfp4")], catalog
    )
    assert isinstance(result, ScenarioError)
    assert "replicas" in str(result)
