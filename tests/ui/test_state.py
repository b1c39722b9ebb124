"""Query-string parsing: whitelisted keys, catalog ids, bounded numbers; never evaluates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizing.catalog import default_catalog
from ui import links as state

CAT = default_catalog()


def test_valid_query():
    values, warnings = state.parse_query(
        {
            "model": "openai/gpt-oss-120b",
            "weights": "mxfp4",
            "units": "8,1,2,2",
            "ctx": "65536",
            "alt": "0",
            "hours": "7.5",
            "plan": "2m+1s",
        },
        CAT,
    )
    assert warnings == []
    assert values == {
        "model": "openai/gpt-oss-120b",
        "weights": "mxfp4",
        "units": [1, 2, 8],
        "ctx": 65536,
        "alt": False,
        "hours": 7.5,
        "plan": "2m+1s",
    }


@pytest.mark.parametrize(
    ("key", "raw", "fragment"),
    [
        ("units", "1,abc", "not a valid int"),
        ("units", "0,2", "outside"),
        ("units", ",".join(["1"] * 9), "more than 8"),
        ("ctx", "-5", "outside"),
        ("ctx", "1e9", "not a valid int"),
        ("hours", "nan", "not a number"),
        ("hours", "25", "outside"),
        ("model", "__import__('os').system('id')", "unknown value"),
        (
            "model",
            "gASVKAAAAAAAAACMCGJ1aWx0aW5zlIwEZXZhbJSTlIwGcHJpbnQoMSmUhZRSlC4=",
            "unknown value",
        ),
        ("platform", "asus-gx10-1tb; rm -rf /", "unknown value"),
        ("alt", "maybe", "yes/no"),
        ("plan", "2x+1", "expected form"),
        ("engine", "x" * 500, "too long"),
    ],
)
def test_bad_values_are_ignored_with_a_warning(key, raw, fragment):
    values, warnings = state.parse_query({key: raw}, CAT)
    assert key not in values
    assert len(warnings) == 1
    assert f"'{key}'" in warnings[0]
    assert fragment in warnings[0]


def test_unknown_keys_are_reported():
    values, warnings = state.parse_query({"evil": "1", "model": "openai/gpt-oss-20b"}, CAT)
    assert values == {"model": "openai/gpt-oss-20b"}
    assert warnings == ["ignored unknown link parameter 'evil'"]


def test_ids_are_matched_case_insensitively_and_variants_resolve():
    values, _ = state.parse_query(
        {"model": "qwen/qwen3-coder-30b-a3b-instruct", "platform": "ASUS-GX10-1TB"}, CAT
    )
    assert values == {"model": "Qwen/Qwen3-30B-A3B", "platform": "asus-gx10-1tb", "family": "gb10"}


def test_platform_sets_its_family():
    values, warnings = state.parse_query(
        {"platform": "mac-studio-m3-ultra-96gb", "family": "gb10"}, CAT
    )
    assert values["family"] == "mac-m3-ultra"
    assert not warnings


def test_repeated_keys_use_the_last_value():
    values, _ = state.parse_query({"streams": ["2", "4"]}, CAT)
    assert values["streams"] == 4


def test_plan_with_spaces_from_a_pasted_url():
    values, warnings = state.parse_query({"plan": "2m 1s"}, CAT)
    assert values["plan"] == "2m+1s"
    assert not warnings


@pytest.mark.parametrize("name", sorted(state.PARAMS))
def test_every_default_roundtrips(name):
    param = state.PARAMS[name]
    default = param.default_value(CAT)
    if default in ("", []):
        return
    text = state.encode_value(param, default)
    assert state.parse_value(param, text, CAT) == default


@given(st.lists(st.integers(1, 64), min_size=1, max_size=8))
def test_unit_lists_roundtrip(units):
    param = state.PARAMS["units"]
    assert state.parse_value(param, state.encode_value(param, units), CAT) == sorted(set(units))


@given(st.text(max_size=60))
def test_parse_never_raises(text):
    for name in ("model", "units", "ctx", "hours", "alt", "plan", "req_families"):
        values, warnings = state.parse_query({name: text}, CAT)
        assert (name in values) != bool(warnings)


def test_encode_query_skips_empty_values():
    assert state.encode_query(
        {"plan": "", "units": [1, 2], "alt": True}, ["plan", "units", "alt", "model"]
    ) == {"units": "1,2", "alt": "1"}


def test_default_platform_is_the_cheapest_priced_of_the_family():
    assert state.default_platform(CAT, "gb10") == "asus-gx10-1tb"
    assert state.default_platform(CAT, "mac-m3-ultra") == "mac-studio-m3-ultra-96gb"
