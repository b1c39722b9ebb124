"""The command-line contract (design.md), run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_FIELDS = {
    "fits", "weights_gib_per_unit", "kv_cache_gib_per_unit", "kv_bytes_per_token_per_unit",
    "kv_capacity_tokens", "max_concurrency", "max_context_tokens", "decode_tok_s_per_request",
    "decode_tok_s_total", "prefill_tok_s", "ttft_s", "power_w_load", "power_w_idle",
    "price_chf", "assumptions",
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sizing", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)


def test_estimate_json_has_every_contract_field():
    out = cli("estimate", "--platform", "asus-gx10-1tb", "--units", "2", "--parallel", "tp",
              "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--kv-dtype", "fp8",
              "--engine", "vllm", "--context", "65536", "--concurrency", "4", "--mem-util",
              "0.85", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d.keys() >= CONTRACT_FIELDS
    assert d["fits"] is True and d["units"] == 2 and d["kv_dtype"] == "fp8"
    assert d["kv_bytes_per_token_per_unit"] == 9216          # 36 KiB / 2 ranks / fp8
    assert 69 <= cli_single_stream() <= 80
    assert isinstance(d["assumptions"], list) and d["assumptions"]


def cli_single_stream() -> float:
    out = cli("estimate", "--platform", "asus-gx10-1tb", "--units", "2", "--parallel", "tp",
              "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--context", "1024",
              "--json")
    return json.loads(out.stdout)["decode_tok_s_per_request"]


def test_estimate_readable_output_lists_assumptions():
    out = cli("estimate", "--platform", "mac-studio-m3-ultra-256gb", "--units", "1",
              "--parallel", "tp", "--model", "zai-org/GLM-4.5-Air", "--weights", "int4",
              "--engine", "mlx")
    assert out.returncode == 0, out.stderr
    assert "FITS" in out.stdout and "Assumptions:" in out.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--platform", "gx10"], "unknown platform 'gx10'; valid choices: acer-veriton-gn100"),
    (["--model", "gpt-5"], "unknown model 'gpt-5'; valid choices:"),
    (["--weights", "q2"], "unknown quant 'q2'; valid choices:"),
    (["--units", "0"], "units must be at least 1"),
    (["--concurrency", "-1"], "concurrency must be at least 1"),
    (["--context", "999999"], "exceeds openai/gpt-oss-120b's maximum of 131072"),
    (["--platform", "rtx-3090", "--weights", "nvfp4"], "quant 'nvfp4' cannot run on rtx-3090"),
    (["--units", "3"], "tensor parallel over 3 units needs the 64 attention heads"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    base = {"--platform": "asus-gx10-1tb", "--units": "1", "--parallel": "tp",
            "--model": "openai/gpt-oss-120b", "--weights": "mxfp4"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    out = cli("estimate", *[x for kv in base.items() for x in kv], "--json")
    assert out.returncode == 2
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_batch_one_line_per_row_errors_inline(tmp_path):
    batch = tmp_path / "b.csv"
    batch.write_text(
        "platform,units,parallel,model,weights,context,concurrency\n"
        "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,8192,2\n"
        "nope,1,tp,openai/gpt-oss-120b,mxfp4,8192,1\n"
        "rtx-pro-6000-ws,1,tp,openai/gpt-oss-20b,mxfp4,,\n")
    out = cli("estimate", "--batch", str(batch))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["fits"] and lines[0]["concurrency"] == 2
    assert "unknown platform 'nope'" in lines[1]["error"]
    assert lines[2]["context"] == 32768 and lines[2]["decode_tok_s_per_request"] > 100


def test_model_command_json():
    out = cli("model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--tp", "2", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["total_params_b"] == pytest.approx(116.8, rel=0.01)
    assert d["active_params_b"] == pytest.approx(5.1, rel=0.03)
    assert d["weights_gib"] == pytest.approx(60.8, rel=0.01)
    assert d["weights_gib_per_unit"] == pytest.approx(d["weights_gib"] / 2)
    assert d["kv_bytes_per_token"] == 36864 and d["kv_bytes_per_token_per_unit"] == 18432
    assert d["kv_bytes_per_sequence_fixed"] == 18 * 2 * 8 * 64 * 2 * 128   # 128-token window


def test_model_command_accepts_config_json(tmp_path):
    from tests.sizing.test_catalog import LLAMA_8B_CONFIG

    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_8B_CONFIG))
    out = cli("model", str(path), "--weights", "bf16", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kv_bytes_per_token"] == 131072


def test_catalog_command():
    out = cli("catalog", "--kind", "platforms", "--json")
    ids = {row["id"] for row in json.loads(out.stdout)}
    assert {"asus-gx10-1tb", "asus-gx10-2tb", "asus-gx10-4tb", "dgx-spark-fe-4tb",
            "rtx-pro-6000-ws", "rtx-pro-6000-maxq", "mac-studio-m3-ultra-96gb",
            "mac-studio-m3-ultra-256gb", "mac-studio-m3-ultra-512gb",
            "framework-desktop-395-128gb", "rtx-3090"} <= ids
    table = cli("catalog")
    assert table.returncode == 0 and "PLATFORMS" in table.stdout and "MODELS" in table.stdout
