"""AppTest: the speculative-decoding selector of the workload inputs (Compare page)."""

from __future__ import annotations

from ui.state import widget_key as K  # noqa: N812

SPEC_COL = "Speculative decoding"
PER_STREAM = "Decode per stream (tok/s)"


def _table(at):
    for df in at.dataframe:
        if "TTFT (s)" in df.value.columns:
            return df.value
    raise AssertionError("no compare table")


def test_selector_turns_mtp_on_and_changes_the_table(app):
    query = {"model": "Qwen/Qwen3.6-27B", "weights": "fp8", "units": "1", "alt": "0", "ctx": "4096"}
    at = app(query=query)
    assert not at.exception
    off = _table(at)
    assert SPEC_COL not in off.columns  # off by default: no column
    at.selectbox(key=K("spec")).set_value("mtp").run()
    at.selectbox(key=K("content")).set_value("code").run()
    assert not at.exception
    assert not at.error
    on = _table(at)
    label = str(on[SPEC_COL].iloc[0])
    assert label.startswith("MTP k=3, code")
    assert on[PER_STREAM].iloc[0] > off[PER_STREAM].iloc[0]
    assert at.query_params.get("spec") in ("mtp", ["mtp"])  # carried in the link


def test_link_restores_speculation_and_refuses_a_model_without_head(app):
    at = app(
        query={
            "model": "openai/gpt-oss-120b",
            "weights": "mxfp4",
            "units": "1",
            "alt": "0",
            "spec": "mtp",
            "spec_k": "2",
            "content": "structured",
        }
    )
    assert not at.exception
    assert at.selectbox(key=K("spec")).value == "mtp"
    assert at.number_input(key=K("spec_k")).value == 2
    df = _table(at)
    reason = " ".join(str(x) for x in df["Reason"])
    assert "has no MTP head" in reason


def test_draft_model_with_the_users_rate(app):
    at = app(
        query={
            "model": "Qwen/Qwen3-235B-A22B",
            "weights": "int4",
            "units": "2",
            "alt": "0",
            "ctx": "4096",
            "spec": "draft",
            "spec_draft": "Qwen/Qwen3-30B-A3B",
            "spec_accept": "0.7",
        }
    )
    assert not at.exception
    assert not at.error
    assert at.selectbox(key=K("spec_draft")).value == "Qwen/Qwen3-30B-A3B"
    df = _table(at)
    labels = [str(x) for x in df[SPEC_COL] if str(x).strip()]
    assert labels
    assert all(x.startswith("draft model k=3, prose") for x in labels)
