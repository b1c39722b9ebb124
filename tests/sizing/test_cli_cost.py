"""`python -m sizing cost` and `python -m sizing agent`: output, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.sizing_main import main

ROOT = Path(__file__).resolve().parents[2]
GX10 = ["--platform", "asus-gx10-1tb", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cost_json(capsys):
    code, out, err = run(
        capsys,
        "cost",
        *GX10,
        "--concurrency",
        "4",
        "--hours",
        "8",
        "--input-share",
        "0.75",
        "--life-years",
        "3",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["hardware_chf"] > 0
    assert d["life_years"] == 3
    assert d["hours_per_day"] == 8
    assert d["chf_per_mtok_output"] > 0
    assert d["chf_per_mtok_input"] > 0
    # 8 h/day x 3600 s x the decode rate bounds the output tokens (prefill takes time too)
    est = json.loads(_estimate_json(capsys))
    assert d["output_tokens_per_day"] < 8 * 3600 * est["decode_tok_s_total"]
    assert d["input_tokens_per_day"] == pytest.approx(3 * d["output_tokens_per_day"])
    assert d["cloud"]
    assert d["cloud"][0]["model"] == "openai/gpt-oss-120b"
    assert d["cloud"][0]["price_date"]
    assert d["cloud"][0]["source"].startswith("https://")
    assert d["cumulative"][0] == {
        "month": 0,
        "series": "local (hardware + energy)",
        "cumulative_chf": d["hardware_chf"],
    }
    assert any("depreciation" in a for a in d["assumptions"])


def _estimate_json(capsys) -> str:
    code, out, err = run(
        capsys,
        "estimate",
        *GX10,
        "--units",
        "1",
        "--parallel",
        "tp",
        "--concurrency",
        "4",
        "--json",
    )
    assert code == 0, err
    return out


def test_cost_with_free_power_and_a_given_rate(capsys):
    code, out, err = run(
        capsys,
        "cost",
        *GX10,
        "--rappen-per-kwh",
        "0",
        "--usd-chf",
        "1",
        "--cloud-model",
        "deepseek-ai/DeepSeek-V4-Flash",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["energy_chf_per_month"] == 0
    assert d["chf_per_usd"] == 1
    row = d["cloud"][0]
    assert row["cloud_chf_per_mtok_output"] == pytest.approx(0.28)  # USD 0.28 x 1.0
    # free power: any cloud bill pays the hardware back: hardware / cloud per month
    assert row["break_even_months"] == pytest.approx(d["hardware_chf"] / row["cloud_chf_per_month"])


def test_cost_text_csv_and_markdown(capsys):
    code, out, _ = run(capsys, "cost", *GX10)
    assert code == 0
    assert "local CHF / Mtok output" in out
    assert "break-even" in out
    code, out, _ = run(capsys, "cost", *GX10, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert rows
    assert rows[0]["provider"].startswith("OpenRouter")
    code, out, _ = run(capsys, "cost", *GX10, "--format", "markdown")
    assert code == 0
    assert out.startswith("# Cost per million tokens")
    assert "| Provider |" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--input-share", "1"], "input-share"),
        (["--hours", "25"], "argument --hours: must be at most 24"),
        (["--hours", "0"], "hours of use"),
        (["--life-years", "0"], "life-years"),
        (["--cloud-model", "nobody/none"], "--cloud-model 'nobody/none'"),
        (["--units", "2"], "--parallel is needed"),
        (["--tariff", "nope"], "unknown tariff 'nope'"),
    ],
)
def test_cost_bad_input_is_one_line_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "cost", *GX10, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert needle in err


def test_cost_of_a_configuration_that_does_not_fit(capsys):
    code, _, err = run(
        capsys,
        "cost",
        "--platform",
        "asus-gx10-1tb",
        "--model",
        "deepseek-ai/DeepSeek-V3",
        "--weights",
        "q4_k_m",
        "--engine",
        "llamacpp",
    )
    assert code == 2
    assert "does not fit" in err
    assert err.count("\n") == 1


def test_a_bad_cloud_price_file_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "prices.yaml"
    bad.write_text(
        "schema_version: 1\nusd_chf: {rate: -1, date: 2026-11-23, note: n, "
        "source: s}\nprices: []\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "cost", *GX10, "--cloud-prices", str(bad))
    assert code == 2
    assert err.count("\n") == 1
    assert "prices.yaml: usd_chf.rate" in err


def test_agent_json(capsys):
    code, out, err = run(
        capsys,
        "agent",
        *GX10,
        "--start-tokens",
        "20000",
        "--tokens-per-turn",
        "2000",
        "--output-tokens",
        "500",
        "--turns",
        "10",
        "--library",
        "openai/gpt-oss-120b:mxfp4,deepseek-ai/DeepSeek-V3:q4_k_m",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert len(d["turns"]) == 10
    # context of turn 10 = 20000 + 9 x 2500; the final context adds the last answer
    assert d["turns"][-1]["context_tokens"] == 42500
    assert d["final_context_tokens"] == 43000
    assert [t["prefilled_tokens_cached"] for t in d["turns"]] == [20000] + [2000] * 9
    assert d["total_s_cached"] < d["total_s_uncached"]
    ssd = {r["platform"]: r for r in d["storage"]["platforms"]}
    assert ssd["asus-gx10-1tb"]["storage_tb"] == 1
    assert ssd["asus-gx10-4tb"]["storage_tb"] == 4
    assert ssd["dgx-spark-fe-4tb"]["usable_gb"] == 3900
    # DeepSeek-V3 at q4_k_m (~4.8 bits x 671 B, ~400 GB) + gpt-oss-120b (~65 GB) fit 1 TB
    assert ssd["asus-gx10-1tb"]["models_fit"] == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--turns", "0"], "turns"),
        (["--library", "openai/gpt-oss-120b"], "MODEL:QUANT"),
        (["--library", "nobody/none:mxfp4"], "unknown model"),
        (["--storage-platforms", "nope"], "unknown platform 'nope'"),
        (["--context", "1000"], "shorter than the session's final context"),
        (["--start-tokens", "200000", "--turns", "2"], "exceeds"),
    ],
)
def test_agent_bad_input_is_one_line_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "agent", *GX10, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert needle in err


def test_cost_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "sizing", "cost", *GX10, "--json"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["model"] == "openai/gpt-oss-120b"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sizing",
            "cost",
            "--platform",
            "nope",
            "--model",
            "x",
            "--weights",
            "y",
        ],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error: unknown platform 'nope'")


def test_readme_documents_the_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("-m sizing cost", "-m sizing agent", "**Cost**"):
        assert command in readme
