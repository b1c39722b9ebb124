"""The platform memory setting in the app: a selector on Compare shown only for platforms
whose usable memory is a user choice, carried in the link (``mem``), stated in the table
and the assumptions (the best option's estimate)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sizing.catalog import default_catalog
from ui import links as state

if TYPE_CHECKING:
    import pandas as pd

MAC512 = "mac-studio-m3-ultra-512gb"
LABEL = "Memory setting"
# DeepSeek-V3 Q4_K_M needs ~384 GiB with 8k context (382.0 GiB of weights, hand-computed
# in tests/sizing/test_memory_settings.py): above macOS's default 384 x 0.95 = 364.8 GiB,
# below the raised 496 x 0.95 = 471.2 GiB
QUERY = {
    "platform": MAC512,
    "model": "deepseek-ai/DeepSeek-V3",
    "weights": "q4_k_m",
    "ctx": "8192",
    "units": "1",
    "alt": "0",
    "engine": "llamacpp",
}


def test_link_round_trip() -> None:
    cat = default_catalog()
    values, warnings = state.parse_query({"mem": "wired-limit-raised"}, cat)
    assert values == {"mem": "wired-limit-raised"}
    assert warnings == []
    assert state.encode_query(values, ["mem"]) == {"mem": "wired-limit-raised"}
    again, _ = state.parse_query(state.encode_query(values, ["mem"]), cat)
    assert again == values
    values, warnings = state.parse_query({"mem": "turbo"}, cat)
    assert values == {}
    assert warnings == ["ignored link parameter 'mem': unknown value 'turbo'"]


def _selectbox(at, label: str):
    hits = [s for s in at.sidebar.selectbox if s.label == label]
    return hits[0] if hits else None


def _mac_row(at) -> pd.Series:
    for df in at.dataframe:
        if "TTFT (s)" in df.value.columns:
            rows = df.value[df.value["Configuration"].str.contains(MAC512, regex=False)]
            assert len(rows) == 1
            return rows.iloc[0]
    raise AssertionError("no comparison table")


def test_selector_changes_the_fit_and_the_link(app) -> None:
    at = app(query=QUERY)
    assert not at.exception, at.exception
    box = _selectbox(at, LABEL)
    assert box is not None
    assert box.value == "macos-default"
    assert box.options == [
        "macOS default GPU limit (384 GiB, ~75 % of RAM)",
        "Raised GPU limit (496 GiB, 16 GiB left to macOS)",
    ]
    row = _mac_row(at)
    assert not bool(row["Fits"])
    assert row[LABEL].startswith("macOS default")
    box.set_value("wired-limit-raised").run()
    assert not at.exception, at.exception
    row = _mac_row(at)
    assert bool(row["Fits"])
    assert row[LABEL].startswith("Raised GPU limit")
    assert row["Usable memory (GiB)"] == 496 * 0.95
    assert at.query_params["mem"] == "wired-limit-raised"
    # the command is shown next to the selector
    assert any("iogpu.wired_limit_mb=507904" in c.value for c in at.sidebar.caption)


def test_link_restores_the_setting(app) -> None:
    at = app(query={**QUERY, "mem": "wired-limit-raised"})
    assert not at.exception, at.exception
    assert _selectbox(at, LABEL).value == "wired-limit-raised"
    assert bool(_mac_row(at)["Fits"])


def test_no_selector_where_memory_is_not_a_choice(app) -> None:
    at = app(query={"platform": "asus-gx10-1tb", "units": "1", "alt": "0"})
    assert not at.exception, at.exception
    assert _selectbox(at, LABEL) is None


def test_build_plans_with_the_setting_compare_chose(app) -> None:
    query = {
        "platform": MAC512,
        "n": "1",
        "model": "deepseek-ai/DeepSeek-V3",
        "weights": "q4_k_m",
        "ctx": "8192",
        "streams": "1",
        "sub_count": "0",
    }
    at = app(page="build", query=query)
    assert not at.exception, at.exception
    assert _selectbox(at, LABEL).value == "macos-default"
    assert any("The plan does not fit" in e.value for e in at.error)
    at = app(page="build", query={**query, "mem": "wired-limit-raised"})
    assert not at.exception, at.exception
    assert _selectbox(at, LABEL).value == "wired-limit-raised"
    assert not any("does not fit" in e.value for e in at.error), [e.value for e in at.error]


def test_plan_ranks_the_mac_only_with_the_raised_limit(app) -> None:
    query = {
        "req_model": "deepseek-ai/DeepSeek-V3",
        "req_weights": "q4_k_m",
        "req_min": "5",
        "req_ctx": "4096",
        "req_families": "mac-m3-ultra",
        "req_units": "1",
        "budget": "20000",
        "req_sub_count": "0",
    }

    def recommended(at) -> list[str]:
        for df in at.dataframe:
            if "Rank" in df.value.columns:
                return [str(v) for v in df.value.iloc[:, 1]]
        return []

    at = app(page="plan", query=query)
    assert not at.exception, at.exception
    assert not any(MAC512 in r for r in recommended(at))
    box = next(s for s in at.selectbox if s.label.startswith(LABEL))
    assert box.value == ""
    box.set_value("wired-limit-raised").run()
    assert not at.exception, at.exception
    assert any(MAC512 in r for r in recommended(at)), recommended(at)
    assert at.query_params["mem"] == "wired-limit-raised"


def test_fit_page_uses_the_setting(app) -> None:
    query = {"platform": MAC512, "units": "1", "fit_quants": "q4_k_m", "min_ctx": "8192"}

    def deepseek_v3(at) -> pd.Series:
        for df in at.dataframe:
            if "Fits at minimum context" in df.value.columns:
                hits = df.value[
                    df.value.apply(
                        lambda r: any(
                            str(v).startswith("deepseek-ai/DeepSeek-V3 ")
                            or str(v) == "deepseek-ai/DeepSeek-V3"
                            for v in r
                        ),
                        axis=1,
                    )
                ]
                assert len(hits) == 1, df.value.head()
                return hits.iloc[0]
        raise AssertionError("no fit table")

    at = app(page="fit", query=query)
    assert not at.exception, at.exception
    assert not bool(deepseek_v3(at)["Fits at minimum context"])
    at = app(page="fit", query={**query, "mem": "wired-limit-raised"})
    assert not at.exception, at.exception
    assert _selectbox(at, LABEL).value == "wired-limit-raised"
    assert bool(deepseek_v3(at)["Fits at minimum context"])
