"""The command-line contract (design.md), run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.sizing_main import main
from tests.sizing.test_catalog import LLAMA_8B_CONFIG

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_FIELDS = {
    "fits",
    "weights_gib_per_unit",
    "kv_cache_gib_per_unit",
    "kv_bytes_per_token_per_unit",
    "kv_capacity_tokens",
    "max_concurrency",
    "max_context_tokens",
    "decode_tok_s_per_request",
    "decode_tok_s_total",
    "prefill_tok_s",
    "ttft_s",
    "power_w_load",
    "power_w_idle",
    "price_chf",
    "assumptions",
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sizing", *args],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_estimate_json_has_every_contract_field():
    out = cli(
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--kv-dtype",
        "fp8",
        "--engine",
        "vllm",
        "--context",
        "65536",
        "--concurrency",
        "4",
        "--mem-util",
        "0.85",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d.keys() >= CONTRACT_FIELDS
    assert d["fits"] is True
    assert d["units"] == 2
    assert d["kv_dtype"] == "fp8"
    assert d["kv_bytes_per_token_per_unit"] == 9216  # 36 KiB / 2 ranks / fp8
    # within -9 % / +11 % of the measured 75.96: the 2-unit all-reduce is now the transport
    # model's (RoCE: NCCL's 2.7 us step + a base solved from the 4-unit in-engine figure,
    # 45 us at 2 units) rather than a flat 55 us, which had been set on rows like this one
    assert 69 <= cli_single_stream() <= 84
    assert isinstance(d["assumptions"], list)
    assert d["assumptions"]


def cli_single_stream() -> float:
    # the leaderboard's recipe (--mxfp4-layers): measured 75.96 tok/s at TP=2 (row 40)
    out = cli(
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4_all",
        "--context",
        "1024",
        "--json",
    )
    return json.loads(out.stdout)["decode_tok_s_per_request"]


def test_estimate_readable_output_lists_assumptions():
    out = cli(
        "estimate",
        "--platform",
        "mac-studio-m3-ultra-256gb",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        "zai-org/GLM-4.5-Air",
        "--weights",
        "int4",
        "--engine",
        "mlx",
    )
    assert out.returncode == 0, out.stderr
    assert "FITS" in out.stdout
    assert "Assumptions:" in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--platform", "gx10"], "unknown platform 'gx10'; valid choices: acer-veriton-gn100"),
        (["--model", "gpt-5"], "unknown model 'gpt-5'; valid choices:"),
        (["--weights", "q2"], "unknown quant 'q2'; valid choices:"),
        (["--units", "0"], "--units: must be at least 1 (got 0)"),
        (["--concurrency", "-1"], "--concurrency: must be at least 1 (got -1)"),
        (["--context", "999999"], "exceeds openai/gpt-oss-120b's maximum of 131072"),
        (["--platform", "rtx-3090", "--weights", "nvfp4"], "quant 'nvfp4' cannot run on rtx-3090"),
        (["--units", "3"], "tensor parallel over 3 units needs the 64 attention heads"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    base = {
        "--platform": "asus-gx10-1tb",
        "--units": "1",
        "--parallel": "tp",
        "--model": "openai/gpt-oss-120b",
        "--weights": "mxfp4",
    }
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
        "rtx-pro-6000-ws,1,tp,openai/gpt-oss-20b,mxfp4,,\n"
    )
    out = cli("estimate", "--batch", str(batch))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["fits"]
    assert lines[0]["concurrency"] == 2
    assert "unknown platform 'nope'" in lines[1]["error"]
    assert lines[2]["context"] == 32768
    assert lines[2]["decode_tok_s_per_request"] > 100


def test_model_command_json():
    out = cli("model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--tp", "2", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["total_params_b"] == pytest.approx(116.8, rel=0.01)
    assert d["active_params_b"] == pytest.approx(5.1, rel=0.03)
    assert d["weights_gib"] == pytest.approx(60.8, rel=0.01)
    assert d["weights_gib_per_unit"] == pytest.approx(d["weights_gib"] / 2)
    assert d["kv_bytes_per_token"] == 36864
    assert d["kv_bytes_per_token_per_unit"] == 18432
    assert d["kv_bytes_per_sequence_fixed"] == 18 * 2 * 8 * 64 * 2 * 128  # 128-token window


def test_model_command_accepts_config_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_8B_CONFIG))
    out = cli("model", str(path), "--weights", "bf16", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kv_bytes_per_token"] == 131072


def test_catalog_command():
    out = cli("catalog", "--kind", "platforms", "--json")
    ids = {row["id"] for row in json.loads(out.stdout)}
    assert {
        "asus-gx10-1tb",
        "asus-gx10-2tb",
        "asus-gx10-4tb",
        "dgx-spark-fe-4tb",
        "rtx-pro-6000-ws",
        "rtx-pro-6000-maxq",
        "mac-studio-m3-ultra-96gb",
        "mac-studio-m3-ultra-256gb",
        "mac-studio-m3-ultra-512gb",
        "framework-desktop-395-128gb",
        "rtx-3090",
    } <= ids
    table = cli("catalog")
    assert table.returncode == 0
    assert "PLATFORMS" in table.stdout
    assert "MODELS" in table.stdout


# ----------------------------------------------------------------------------- review fixes
ESTIMATE = [
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
    "mxfp4",
]


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`python -m sizing ARGS` in process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--spec-multiplier", "nan"], "argument --spec-multiplier: must be a finite number"),
        (["--spec-multiplier", "inf"], "argument --spec-multiplier: must be a finite number"),
        (["--spec-multiplier", "0.5"], "argument --spec-multiplier: must be at least 1"),
        (["--spec-multiplier", "1e308"], "argument --spec-multiplier: must be at most 16"),
        (["--mem-util", "nan"], "argument --mem-util: must be a finite number"),
        (
            ["--parallel", "foo"],
            "error: argument --parallel: invalid choice 'foo' (choose from 'tp', 'pp', 'replicas', "
            "'tp+ep')",
        ),
        (["--engine", "foo"], "argument --engine: invalid choice 'foo'"),
        (["--kv-dtype", "fp4"], "argument --kv-dtype: invalid choice 'fp4'"),
        (["--units", "abc"], "argument --units: must be an integer (got 'abc')"),
    ],
)
def test_bad_options_are_one_line_exit_2(capsys, args, needle):
    code, out, err = run_main(capsys, *ESTIMATE, *args)
    assert code == 2
    assert out == ""
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "usage:" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--format", "xml"],
        ["bom", "--platform", "asus-gx10-1tb", "--units", "two"],
        ["plan"],  # --requirements missing
        ["model", "openai/gpt-oss-120b", "--tp", "two"],  # not an integer
        ["calibrate", "--nope"],
        ["frobnicate"],
        [],
    ],
)
def test_argparse_errors_of_every_subcommand_are_one_line(capsys, args):
    code, _, err = run_main(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")


def test_option_errors_as_a_real_process():
    out = cli(*ESTIMATE, "--parallel", "foo")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "error: argument --parallel: invalid choice 'foo' (choose from 'tp', 'pp', "
        "'replicas', 'tp+ep') (see python -m sizing estimate --help)"
    ]
    out = cli(*ESTIMATE, "--spec-multiplier", "nan", "--json")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_help_still_prints_usage(capsys):
    code, out, _ = run_main(capsys, "estimate", "--help")
    assert code == 0
    assert "usage:" in out


def test_batch_that_is_not_utf8_is_one_line_exit_2(tmp_path, capsys):
    batch = tmp_path / "latin1.csv"
    batch.write_bytes(
        "platform,units,parallel,model,weights\n"
        "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4 \u00e9\n".encode("latin-1")
    )
    code, out, err = run_main(capsys, "estimate", "--batch", str(batch))
    assert code == 2
    assert out == ""
    assert "latin1.csv: not UTF-8 text (byte 0xe9" in err
    assert len(err.strip().splitlines()) == 1


def test_batch_tolerates_a_utf8_byte_order_mark(tmp_path, capsys):
    batch = tmp_path / "excel.csv"
    batch.write_bytes(
        b"\xef\xbb\xbfplatform,units,parallel,model,weights\n"
        b"asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4\n"
    )
    code, out, err = run_main(capsys, "estimate", "--batch", str(batch))
    assert code == 0, err
    assert json.loads(out)["fits"] is True


def test_model_command_rejects_tp_that_does_not_divide_the_heads(capsys):
    code, out, err = run_main(
        capsys, "model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--tp", "3", "--json"
    )
    assert code == 2
    assert out == ""
    assert "--tp 3 needs the 64 attention heads of openai/gpt-oss-120b" in err
    assert "valid choices: 1, 2, 4, 8" in err
    # the same rule as estimate
    code, _, err = run_main(
        capsys,
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "3",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
    )
    assert code == 2
    assert "64 attention heads" in err


@pytest.mark.parametrize(
    ("platform", "units", "parallel", "hosts"),
    [
        ("rtx-3090", 8, "tp", 4),
        ("rtx-3090", 4, "pp", 2),
        ("rtx-pro-6000-ws", 2, "tp", 2),
    ],
)
def test_estimate_refuses_tp_pp_across_gpu_hosts_like_compare(
    capsys, platform, units, parallel, hosts
):
    # review: estimate modelled 8 x rtx-3090 TP as one PCIe host (321 tok/s) while the BOM
    # prices 4 hosts and compare refused the layout
    code, out, err = run_main(
        capsys,
        "estimate",
        "--platform",
        platform,
        "--units",
        str(units),
        "--parallel",
        parallel,
        "--model",
        "openai/gpt-oss-20b",
        "--weights",
        "mxfp4",
    )
    assert code == 2
    assert out == ""
    assert f"needs {hosts} hosts" in err
    assert "--parallel replicas" in err
    assert len(err.strip().splitlines()) == 1


def test_estimate_gpu_cards_within_one_host_or_as_replicas_still_work(tmp_path, capsys):
    code, _, err = run_main(
        capsys,
        "estimate",
        "--platform",
        "rtx-pro-6000-maxq",
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--json",
    )
    assert code == 0, err
    code, _, err = run_main(
        capsys,
        "estimate",
        "--platform",
        "rtx-3090",
        "--units",
        "8",
        "--parallel",
        "replicas",
        "--model",
        "openai/gpt-oss-20b",
        "--weights",
        "mxfp4",
        "--json",
    )
    assert code == 0, err
    batch = tmp_path / "b.csv"
    batch.write_text(
        "platform,units,parallel,model,weights\n"
        "rtx-3090,8,tp,openai/gpt-oss-20b,mxfp4\n"
        "rtx-3090,2,tp,openai/gpt-oss-20b,mxfp4\n"
    )
    code, out, _ = run_main(capsys, "estimate", "--batch", str(batch))
    lines = [json.loads(x) for x in out.splitlines()]
    assert "needs 4 hosts" in lines[0]["error"]
    assert lines[1]["units"] == 2


def test_estimate_says_when_the_price_is_incomplete(capsys, tmp_path):
    # (a Mac pair was the example until issue 15 priced the Thunderbolt 5 cable; Strix Halo
    # Ethernet parts are still unpriced: no sourced price found)
    code, out, _ = run_main(
        capsys,
        "estimate",
        "--platform",
        "framework-desktop-395-128gb",
        "--units",
        "2",
        "--parallel",
        "pp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--json",
    )
    d = json.loads(out)
    assert code == 0
    assert d["price_complete"] is False
    assert d["unpriced_items"] == ["1 x Ethernet cable (>= 5 Gb/s)"]
    code, out, _ = run_main(
        capsys,
        "estimate",
        "--platform",
        "framework-desktop-395-128gb",
        "--units",
        "2",
        "--parallel",
        "pp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
    )
    assert "CHF 5'518 + not priced: 1 x Ethernet cable (>= 5 Gb/s)" in out
    # the Mac pair: 2 x 5,096 + one Apple Thunderbolt 5 Pro cable 74.40 = 10,266.40
    code, out, _ = run_main(
        capsys,
        "estimate",
        "--platform",
        "mac-studio-m3-ultra-256gb",
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--json",
    )
    d = json.loads(out)
    assert d["price_complete"] is True
    assert d["unpriced_items"] == []
    assert d["price_chf"] == pytest.approx(2 * 5096 + 74.40)
    batch = tmp_path / "b.csv"
    batch.write_text(
        "platform,units,parallel,model,weights\nasus-gx10-1tb,2,tp,openai/gpt-oss-120b,mxfp4\n"
    )
    code, out, _ = run_main(capsys, "estimate", "--batch", str(batch))
    d = json.loads(out)
    assert d["price_complete"] is True
    assert d["unpriced_items"] == []
