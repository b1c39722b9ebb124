"""Model and quantization pickers: families and release dates, only real checkpoints,
Hugging Face repo ids (a fake Hub on 127.0.0.1), uploads that stay for the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakehub import FakeHub

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
BASE = {"units": "1", "alt": "0"}


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def upload_llama(app, name: str, filename: str = "config.json"):
    """Compare with Llama-3.1-8B's real config.json uploaded under `name`."""
    config = json.loads(
        (ROOT / "data" / "hf_configs" / "meta-llama--Meta-Llama-3.1-8B_config.json").read_text()
    )
    config["_name_or_path"] = name
    at = app(query={**BASE, "weights": "bf16"})
    at.file_uploader(key="w_upload").upload(
        filename, json.dumps(config).encode(), "application/json"
    )
    return at.run()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.stop()


def test_model_picker_groups_by_family_with_release_dates(app):
    at = app(query=BASE)
    options = at.selectbox(key="w_model").options
    assert "Qwen3.5 · Qwen3.5-397B-A17B · 2026-02" in options
    assert "DeepSeek · DeepSeek-V4-Flash · 2026-04" in options
    families = [o.split(" · ")[0] for o in options]
    assert families == sorted(families, key=str.lower)  # grouped by family


def test_quantization_picker_offers_only_checkpoints_of_the_model(app):
    at = app(query={**BASE, "model": "meta-llama/Llama-3.3-70B-Instruct", "weights": "mxfp4"})
    assert not at.exception
    picker = at.selectbox(key="w_weights")
    assert picker.value == "bf16"  # the model's own format
    assert not any(o.startswith("mxfp4") for o in picker.options)
    assert any("mxfp4 is not a checkpoint of" in c.value for c in at.caption)
    at = app(query={**BASE, "model": "Qwen/Qwen3.5-397B-A17B", "weights": "nvfp4"})
    labels = at.selectbox(key="w_weights").options
    assert "nvfp4 — checkpoint" in labels
    assert "fp8 — generic" in labels
    assert any(
        c.value == "Checkpoint nvidia/Qwen3\\.5\\-397B\\-A17B\\-NVFP4" or "nvidia/Qwen3" in c.value
        for c in at.caption
    )


def test_repo_id_is_fetched_from_the_hub_and_sized(app, hub):
    hub.serve("Qwen/Qwen3-0.6B")
    at = app(query={**BASE, "repo": "Qwen/Qwen3-0.6B", "weights": "bf16"})
    assert not at.exception
    assert not errors(at)
    assert any("Qwen/Qwen3-0.6B from the Hugging Face Hub" in i.value for i in at.info)
    assert at.query_params["repo"] in ("Qwen/Qwen3-0.6B", ["Qwen/Qwen3-0.6B"])  # in the link
    df = next(d.value for d in at.dataframe if "TTFT (s)" in d.value.columns)
    assert bool(df.iloc[0]["Fits"])


def test_unreachable_hub_is_an_error_box_not_a_traceback(app, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    at = app(query={**BASE, "repo": "acme/Private-Model"})
    assert not at.exception
    # shown as text: the address the user's repo id made is not a live link
    assert any(
        "download config.json from https\u2060\\://huggingface.co/acme/Private-Model" in e
        for e in errors(at)
    )


def test_uploaded_config_stays_for_the_session(app):
    at = upload_llama(app, "my-org/my-8b")
    assert any("uploaded model my-8b" in i.value for i in at.info)
    at.file_uploader(key="w_upload").set_value(None)  # the widget was cleared
    at.run()
    assert any("uploaded model my-8b" in i.value for i in at.info)
    at.button(key="forget_upload").click().run()
    assert not any("uploaded model" in i.value for i in at.info)


def test_an_uploaded_model_is_sized_on_build_plan_and_fit(app):
    at = upload_llama(app, "my-org/my-8b")
    at.switch_page("ui/pages/build.py").run()
    assert not at.exception
    assert "Imported · my-8b" in at.selectbox(key="w_model").options
    at.selectbox(key="w_model").set_value("my-org/my-8b").run()
    assert not at.exception
    assert not errors(at)
    assert at.selectbox(key="w_weights").value == "bf16"
    at.switch_page("ui/pages/fit.py").run()
    assert not at.exception
    grid = next(d.value for d in at.dataframe if "Fits at minimum context" in d.value.columns)
    assert "my-org/my-8b" in set(grid["Model"])
    at.switch_page("ui/pages/plan.py").run()
    assert not at.exception
    assert "Imported · my-8b" in at.selectbox(key="w_req_model").options


def test_uploaded_names_are_shown_as_text(app):
    at = upload_llama(
        app, "x/![pwn](http://127.0.0.1:9/i.png)[link](http://evil)", filename="a_b*c.json"
    )
    assert not at.exception
    shown = " ".join(i.value for i in at.info)
    assert "](" not in shown
    assert "![" not in shown
    assert "http://evil" not in shown
