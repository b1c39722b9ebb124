"""`python -m sizing model` / `estimate` with checkpoints, config files and Hub repo ids.

The Hub is a real HTTP server on 127.0.0.1 (tests/fakehub.py); never the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cli.sizing_main import main
from tests.fakehub import FakeHub, Reply, data_file, path_of

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
GIB = 2**30


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in (
        "HF_TOKEN",
        "HF_HUB_OFFLINE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def model_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = run(capsys, "model", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_model_prints_the_checkpoint_map(capsys):
    d = model_json(capsys, "Qwen/Qwen3.5-397B-A17B", "--weights", "nvfp4")
    assert d["precision_source"].startswith("nvfp4 = checkpoint nvidia/Qwen3.5-397B-A17B-NVFP4")
    by_class = d["precision_by_class"]
    # the NVFP4 checkpoint's ignore list keeps these in bf16 (config.json of the checkpoint)
    assert by_class["routed_experts"] == "nvfp4"
    assert by_class["attention"] == by_class["linear_attention"] == "bf16"
    assert by_class["shared_experts"] == "bf16"
    # by hand: routed experts 60 layers x 512 x 3 x 4096 x 1024 (+router) at 4.5 bits
    routed_gib = 60 * (512 * 3 * 4096 * 1024 + 4096 * 512) * 4.5 / 8 / GIB
    assert d["bits_per_weight_by_class"]["routed_experts"] == 4.5
    assert d["weights_gib"] > routed_gib
    code, out, _ = run(capsys, "model", "Qwen/Qwen3.5-397B-A17B", "--weights", "nvfp4")
    assert code == 0
    assert "routed_experts" in out
    assert "nvfp4" in out


def test_model_without_weights_uses_the_checkpoints_own_formats(capsys):
    d = model_json(capsys, "deepseek-ai/DeepSeek-V4-Flash")
    assert d["weights"] == "checkpoint"
    assert d["precision_by_class"]["routed_experts"] == "mxfp4"  # expert_dtype fp4
    assert d["precision_by_class"]["attention"] == "fp8"
    assert d["layer_kinds"] == {"swa": 2, "csa": 21, "hca": 20}


def test_a_quantization_that_is_no_checkpoint_is_refused(capsys):
    code, out, err = run(capsys, "model", "meta-llama/Llama-3.3-70B-Instruct", "--weights", "mxfp4")
    assert code == 2
    assert out == ""
    assert err.startswith("error: weights 'mxfp4' quantizes only routed_experts")
    assert "valid choices: bf16, fp8" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(
        capsys,
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        "meta-llama/Llama-3.3-70B-Instruct",
        "--weights",
        "mxfp4",
        "--json",
    )
    assert code == 2
    assert "not a checkpoint of this model" in err


def test_model_and_estimate_agree_on_weights(capsys):
    # the gemma-3 disagreement of issue 10 (51.05 vs 50.31 GiB): one implementation now
    d = model_json(capsys, "google/gemma-3-27b-it", "--weights", "bf16")
    code, out, err = run(
        capsys,
        "estimate",
        "--platform",
        "rtx-pro-6000-ws",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        "google/gemma-3-27b-it",
        "--weights",
        "bf16",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["weights_gib_total"] == pytest.approx(d["weights_gib"], abs=1e-3)
    # by hand: 27.0 B text + ~0.4 B SigLIP at 2 bytes
    assert 27.0e9 * 2 / GIB < d["weights_gib"] < 27.6e9 * 2 / GIB


def test_repo_id_not_in_the_catalog_is_fetched_and_cached(capsys, hub):
    hub.serve("Qwen/Qwen3-0.6B")
    d = model_json(capsys, "Qwen/Qwen3-0.6B")
    assert d["total_params_b"] == pytest.approx(0.6, abs=0.05)  # model card: 0.6 B
    assert d["source"][0] == "https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json"
    hub.stop()  # the Hub goes away
    assert model_json(capsys, "Qwen/Qwen3-0.6B")["total_params_b"] == d["total_params_b"]


def test_repo_with_hf_quant_config(capsys, hub):
    hub.serve("nvidia/Qwen3-235B-A22B-NVFP4", quant=True)
    d = model_json(capsys, "nvidia/Qwen3-235B-A22B-NVFP4")
    assert d["precision_by_class"]["routed_experts"] == "nvfp4"
    assert d["precision_by_class"]["lm_head"] == "bf16"  # exclude_modules


def test_repo_named_nvfp4_without_a_map_is_refused(capsys, hub):
    # a repo not in the catalog whose config.json carries no map (ModelOpt keeps it apart)
    hub.routes[path_of("acme/Nano-30B-NVFP4")] = Reply(
        body=data_file("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4")
    )
    code, _, err = run(capsys, "model", "acme/Nano-30B-NVFP4")
    assert code == 2
    assert "the name says NVFP4 but config.json has no quantization_config" in err
    # a catalog variant whose map is not kept (Nemotron-3-Super NVFP4): no silent bf16 either
    code, _, err = run(capsys, "model", "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4")
    assert code == 2
    assert "quantization map is not kept: pass --weights" in err
    # ...while the Nano's NVFP4 map is kept (hf_quant_config.json): its own format
    d = model_json(capsys, "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4")
    assert d["weights"] == "nvfp4"
    assert d["precision_by_class"]["attention"] == "bf16"


def test_a_kept_checkpoint_named_as_the_model_selects_its_format(capsys):
    d = model_json(capsys, "nvidia/Qwen3.5-397B-A17B-NVFP4")
    assert d["model"] == "Qwen/Qwen3.5-397B-A17B"
    assert d["weights"] == "nvfp4"


def test_unreachable_hub_is_one_line_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("LLM_PLANNER_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code, out, err = run(capsys, "model", "some-org/Some-Model")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "download config.json from https://huggingface.co/some-org/Some-Model" in err


def test_config_file_with_hf_quant_config_beside_it(capsys, tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    data = ROOT / "data" / "hf_configs"
    shutil.copy(data / "nvidia--Qwen3-235B-A22B-NVFP4_config.json", folder / "config.json")
    shutil.copy(
        data / "nvidia--Qwen3-235B-A22B-NVFP4_hf_quant_config.json", folder / "hf_quant_config.json"
    )
    d = model_json(capsys, str(folder / "config.json"))
    assert d["precision_by_class"]["routed_experts"] == "nvfp4"
    # 235 B at ~4.5 bits (experts) is far below the bf16 470 GB
    assert d["weights_gib"] < 160


def test_load_time_recipe_changes_the_bytes_of_the_checkpoint(capsys):
    plain = model_json(capsys, "openai/gpt-oss-120b", "--weights", "mxfp4")
    recipe = model_json(capsys, "openai/gpt-oss-120b", "--weights", "mxfp4_all")
    assert recipe["precision_by_class"]["attention"] == "mxfp4 (at load)"
    assert recipe["precision_by_class"]["embedding"] == "bf16"
    # attention and lm_head go from 16 to 4.25 bits: (16 - 4.25) / 8 bytes per parameter
    params = plain["params_b_by_class"]
    saved_gib = (params["attention"] + params["lm_head"]) * 1e9 * (16 - 4.25) / 8 / GIB
    assert plain["weights_gib"] - recipe["weights_gib"] == pytest.approx(saved_gib, rel=1e-6)
    # only for gpt-oss (the recipe's public use); an option of vLLM builds only
    code, _, err = run(capsys, "model", "Qwen/Qwen3-30B-A3B", "--weights", "mxfp4_all")
    assert code == 2
    assert "exists only for openai/gpt-oss-120b" in err
    base = [
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4_all",
        "--context",
        "1024",
    ]
    code, _, err = run(capsys, *base, "--engine", "llamacpp")
    assert code == 2
    assert "not supported by llamacpp" in err
    code, out, err = run(capsys, *base, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["engine"] == "vllm"
    assert any("re-quantized at load" in a for a in d["assumptions"])
    # the recipe rows measured 59.0 and 59.5 tok/s (data/benchmarks.csv rows 18, 41)
    assert d["decode_tok_s_low"] <= 59.0 <= d["decode_tok_s_high"]
    assert d["decode_tok_s_per_request"] == pytest.approx(59.25, rel=0.08)


def test_weights_can_name_a_kept_checkpoint(capsys):
    base = [
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "4",
        "--parallel",
        "tp",
        "--model",
        "Qwen/Qwen3.5-397B-A17B",
        "--json",
        "--weights",
    ]
    code, by_repo, err = run(capsys, *base, "nvidia/Qwen3.5-397B-A17B-NVFP4")
    assert code == 0, err
    code, by_id, _ = run(capsys, *base, "nvfp4")
    assert json.loads(by_repo)["weights_gib_per_unit"] == json.loads(by_id)["weights_gib_per_unit"]
    code, _, err = run(capsys, *base, "acme/Qwen3.5-397B-A17B-INT4")
    assert code == 2
    assert "is not a checkpoint of Qwen/Qwen3.5-397B-A17B kept in the catalog" in err


def test_engine_file_is_refused_for_another_model_and_split(capsys):
    """ds4's GGUFs exist for DeepSeek-V4-Flash only, and ds4 runs on one machine."""
    base = ["estimate", "--platform", "asus-gx10-1tb", "--engine", "ds4"]
    code, out, err = run(
        capsys,
        *base,
        "--units",
        "1",
        "--parallel",
        "replicas",
        "--model",
        "Qwen/Qwen3-30B-A3B",
        "--weights",
        "ds4_q2",
    )
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "exists only for deepseek-ai/DeepSeek-V4-Flash" in err
    code, _, err = run(
        capsys,
        *base,
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "deepseek-ai/DeepSeek-V4-Flash",
        "--weights",
        "ds4_q2",
    )
    assert code == 2
    assert "parallel 'tp' is not supported by ds4" in err
    code, out, err = run(
        capsys,
        *base,
        "--units",
        "1",
        "--parallel",
        "replicas",
        "--json",
        "--model",
        "deepseek-ai/DeepSeek-V4-Flash",
        "--weights",
        "ds4_q2",
    )
    assert code == 0, err
    d = json.loads(out)
    # routed experts at 2.25 bits, everything else Q8_0 (8.5 bits), MTP not loaded:
    # by hand from the catalog counts printed by `model`: 79.7 GiB
    assert d["fits"]
    assert 79 < d["weights_gib_per_unit"] < 80.5
