"""Issue 13: no crafted file or option gives a traceback; each gives exit 2 and one line
on stderr that names the file (tests/adversarial/corpus.py lists the cases;
``python -m tests.adversarial.run_corpus`` runs them as real processes and counts)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from cli.sizing_main import main
from sizing import limits
from tests.adversarial.corpus import (
    ACCEPTED_CONFIGS,
    BAD_ARGS,
    BAD_BATCH_ROWS,
    BATCH_HEADER,
    DEEP_JSON,
    GOOD_BATCH_ROW,
    HUGE_INT,
    ROOT,
    Case,
    _estimate,
    _qwen,
    _qwen_text,
    file_cases,
)


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)  # an exception escaping here is the traceback a user sees
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("case", file_cases(), ids=lambda c: c.id)
def test_crafted_file_is_one_line_exit_2(tmp_path, capsys, case: Case):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    code, out, err = run(capsys, case.argv(str(path)))
    assert code == 2, (out[:300], err[:300])
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:500]
    assert lines[0].startswith("error: ")
    assert case.filename in lines[0]
    assert "Traceback" not in err
    assert len(lines[0]) < 5000


@pytest.mark.parametrize("argv", [argv for _, argv in BAD_ARGS], ids=[n for n, _ in BAD_ARGS])
def test_bad_option_is_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:500]
    assert lines[0].startswith("error: "), err[:500]
    assert len(lines[0]) < 400


@pytest.mark.parametrize(
    "data", [data for _, data in ACCEPTED_CONFIGS], ids=[n for n, _ in ACCEPTED_CONFIGS]
)
def test_odd_but_readable_config_gets_an_answer(tmp_path, capsys, data):
    path = tmp_path / "config.json"
    path.write_bytes(data)
    code, out, err = run(capsys, _estimate(str(path)))
    assert code == 0, err
    d = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    assert isinstance(d["fits"], bool)


def test_compare_refuses_like_estimate(capsys):
    """Same rule, same message: context 0 for estimate and compare."""
    _, _, est = run(
        capsys,
        [
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
            "--context",
            "0",
        ],
    )
    _, _, cmp_ = run(
        capsys,
        ["compare", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--context", "0"],
    )
    assert "--context: must be at least 1 (got 0)" in est
    assert "--context: must be at least 1 (got 0)" in cmp_


def test_bad_batch_rows_are_reported_on_their_line_and_the_batch_goes_on(tmp_path, capsys):
    configs = {
        "zero_heads": _qwen(num_attention_heads=0),
        "deep": DEEP_JSON,
        "huge": _qwen_text("hidden_size", HUGE_INT),
    }
    paths = {}
    for key, data in configs.items():
        paths[key] = tmp_path / f"{key}.json"
        paths[key].write_bytes(data)
    rows = (
        [GOOD_BATCH_ROW]
        + [r.format(**{k: str(v) for k, v in paths.items()}) for r in BAD_BATCH_ROWS]
        + [GOOD_BATCH_ROW]
    )
    batch = tmp_path / "batch.csv"
    batch.write_text(BATCH_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run(capsys, ["estimate", "--batch", str(batch)])
    assert code == 0
    assert err == ""
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(rows)
    assert results[0]["fits"] is True
    assert results[-1]["fits"] is True
    for row, result in zip(BAD_BATCH_ROWS, results[1:-1], strict=True):
        assert set(result) == {"error"}, (row, result)
        assert "\n" not in result["error"]


@pytest.mark.parametrize(
    "argv",
    [
        ["estimate", "--batch", "/dev/zero"],
        ["plan", "--requirements", "/dev/zero"],
        ["--catalog", "/dev/zero", "catalog"],
    ],
    ids=["batch", "plan", "catalog"],
)
def test_endless_input_ends_with_one_line(capsys, argv):
    t0 = time.monotonic()
    code, _, err = run(capsys, argv)
    assert code == 2, err[:300]
    assert len(err.strip().splitlines()) == 1, err[:300]
    assert "zero" in err
    assert time.monotonic() - t0 < 30


def test_batch_streams_rows_before_the_input_ends():
    """The first results are printed while the input is still open (a pipe): rows are
    not all held before the first is evaluated."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sizing", "estimate", "--batch", "/dev/stdin"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(BATCH_HEADER + (GOOD_BATCH_ROW + "\n") * 300)
        proc.stdin.flush()
        first = proc.stdout.readline()  # before stdin is closed
        assert json.loads(first)["fits"] is True
        proc.stdin.close()
        rest = proc.stdout.read().splitlines()
        assert proc.wait(timeout=60) == 0
        assert len(rest) == 299
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_batch_row_cap(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "BATCH_MAX_ROWS", 3)
    batch = tmp_path / "big.csv"
    batch.write_text(BATCH_HEADER + (GOOD_BATCH_ROW + "\n") * 5, encoding="utf-8")
    code, out, err = run(capsys, ["estimate", "--batch", str(batch)])
    assert code == 2
    assert err.strip() == "error: big.csv: more than 3 rows; split the file"
    assert len(out.splitlines()) == 3  # rows before the cap are not lost


def test_terminal_escapes_never_reach_stderr(capsys):
    code, _, err = run(
        capsys,
        [
            "estimate",
            "--platform",
            "gx\x1b[31mRED\x07\u202e",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
        ],
    )
    assert code == 2
    assert "unknown platform 'gx[31mRED'" in err
    assert not any(ch in err for ch in "\x1b\x07\u202e")
