"""Ollama's own engine (gpt-oss) and the fixed decode cost per platform class.

Published figures: ollama.com/library/gpt-oss lists gpt-oss:20b at 14 GB and gpt-oss:120b at
65 GB (MXFP4 experts, the checkpoint's bf16 for the rest); ggml-org's llama.cpp GGUF of
gpt-oss-20b (Q8_0 for the non-expert tensors) is 12.1 GB (11.27 GiB in llama-bench).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.sizing_main import main
from sizing import kernel
from sizing.calibrate import evaluate_row
from sizing.catalog import Catalog, CatalogError, default_catalog, load_catalog
from sizing.estimate import estimate
from sizing.llm import weight_bytes_by_class
from sizing.memory import table_for
from sizing.scenario import ENGINE_CHOICES, Scenario, ScenarioError, resolve
from sizing.throughput import Throughput, speed_band
from ui.links import PARAMS


def _rows() -> dict[str, dict[str, str]]:
    with (Path(__file__).resolve().parents[2] / "data" / "benchmarks.csv").open() as handle:
        return {r["row"]: r for r in csv.DictReader(handle)}


def _weights_gb(catalog: Catalog, model: str, engine: str) -> float:
    by_class = weight_bytes_by_class(
        catalog.model(model), catalog.quant("mxfp4"), catalog, engine_id=engine
    )
    return sum(by_class.values()) / 1e9


@pytest.mark.parametrize(
    ("model", "published_gb"), [("openai/gpt-oss-20b", 14.0), ("openai/gpt-oss-120b", 65.0)]
)
def test_ollama_gpt_oss_bytes_match_the_library_sizes(catalog, model, published_gb):
    """Ollama keeps the checkpoint's bf16 attention / embeddings / lm_head: its published
    sizes (rounded to 1 GB), not llama.cpp's Q8_0-rest GGUF."""
    assert abs(_weights_gb(catalog, model, "ollama") - published_gb) <= 0.5


def test_ollama_reads_more_than_llamacpp_for_gpt_oss_20b(catalog):
    ollama, llamacpp = (
        _weights_gb(catalog, "openai/gpt-oss-20b", e) for e in ("ollama", "llamacpp")
    )
    assert abs(llamacpp - 12.1) <= 0.25  # ggml-org GGUF, 11.27 GiB
    assert ollama > llamacpp + 1.0


def test_ollama_is_a_cli_and_app_choice():
    assert "ollama" in ENGINE_CHOICES
    # the CLI and app choices are exactly the catalog's engines
    assert set(ENGINE_CHOICES) == {e.id for e in default_catalog().engines}
    assert "ollama" in (PARAMS["engine"].allowed(default_catalog()) or ())


def _scenario(model: str, weights: str, platform: str = "dgx-spark-fe-4tb") -> Scenario:
    return Scenario(
        platform=platform,
        units=1,
        parallel="tp",
        model=model,
        weights=weights,
        engine="ollama",
        context_tokens=4096,
    )


def test_ollama_runs_gpt_oss(catalog):
    r = resolve(_scenario("openai/gpt-oss-20b", "mxfp4"), catalog)
    assert r.engine.id == "ollama"


def test_ollama_refuses_a_model_its_own_engine_does_not_run(catalog):
    with pytest.raises(ScenarioError) as err:
        resolve(_scenario("Qwen/Qwen3-8B", "q4_k_m"), catalog)
    text = str(err.value)
    assert "\n" not in text
    assert "ollama" in text
    assert "Qwen/Qwen3-8B" in text
    assert "llamacpp" in text


def test_cli_engine_ollama_wrong_model_is_one_line_exit_2(capsys):
    code = main(
        [
            "estimate",
            "--platform",
            "dgx-spark-fe-4tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "Qwen/Qwen3-8B",
            "--weights",
            "q4_k_m",
            "--engine",
            "ollama",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "runs only gpt-oss" in err


def test_cli_engine_ollama_for_gpt_oss_works(capsys):
    code = main(
        [
            "estimate",
            "--platform",
            "rtx-4090",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-20b",
            "--weights",
            "mxfp4",
            "--engine",
            "ollama",
            "--context",
            "4096",
        ]
    )
    assert code == 0
    assert "tok/s" in capsys.readouterr().out


def test_engine_models_must_name_a_catalog_model_family(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "catalog.yaml").read_text()
    broken = text.replace("    models: [gpt-oss]\n", "    models: [no-such-family]\n", 1)
    assert broken != text
    path = tmp_path / "catalog.yaml"
    path.write_text(broken)
    with pytest.raises(CatalogError, match="no-such-family"):
        load_catalog(path)


def test_ollama_rows_use_the_ollama_engine():
    """The launch-review rows of gpt-oss on Ollama (its own engine) are evaluated as
    `ollama`; Ollama rows of llama / qwen2 architectures stay on llama.cpp (Ollama's llama.cpp
    runner), and so do the two gpt-oss rows that Ollama's own bytes cannot explain (below)."""
    rows = _rows()
    assert {rows[n]["engine_id"] for n in ("9", "10", "11")} == {"ollama"}
    assert {rows[n]["engine_id"] for n in ("46", "47", "48", "51", "53")} == {"llamacpp"}


def _bytes_per_token(catalog: Catalog, platform: str, engine: str) -> float:
    r = resolve(
        Scenario(
            platform=platform,
            units=1,
            parallel="tp",
            model="openai/gpt-oss-20b",
            weights="mxfp4",
            engine=engine,
            context_tokens=1024,
        ),
        catalog,
    )
    return float(kernel._step_weight_bytes(table_for(r, catalog), np.array([1.0]))[0])


@pytest.mark.parametrize(
    ("row", "platform", "measured"),
    [("46", "dell-pro-max-gb10", 87.97), ("47", "rtx-4090", 279.65)],
)
def test_rows_faster_than_ollamas_bytes_allow_are_not_ollama_rows(catalog, row, platform, measured):
    """geerlingguy/ai-benchmarks: at Ollama's own gpt-oss bytes (bf16 attention and lm_head)
    the measured speed needs more than the platform's nameplate bandwidth; at llama.cpp's
    (Q8_0 rest) it stays under the measured read ceiling (GB10: 234 GB/s) or the assumed
    one (0.9 x nameplate)."""
    plat = catalog.platform(platform)
    nameplate = plat.memory_bandwidth_gb_s * 1e9
    ceiling = nameplate * catalog.calibration_for(plat.family, "llamacpp")[0].read_ceiling
    assert measured * _bytes_per_token(catalog, platform, "ollama") > nameplate
    assert measured * _bytes_per_token(catalog, platform, "llamacpp") < ceiling
    assert _rows()[row]["engine_id"] == "llamacpp"


@pytest.mark.parametrize("row", ["9", "10", "11"])
def test_ollama_rows_are_physically_possible_with_ollamas_bytes(catalog, row):
    """LMSYS's launch-review rows under Ollama's own bytes stay under the read ceiling."""
    r = _rows()[row]
    plat = catalog.platform(r["platform_id"])
    ceiling = (
        plat.memory_bandwidth_gb_s
        * 1e9
        * catalog.calibration_for(plat.family, "ollama")[0].read_ceiling
    )
    assert float(r["decode_tok_s"]) * _bytes_per_token(catalog, plat.id, "ollama") < ceiling


# ----------------------------------------------------------------------------- fixed costs
def _table(catalog: Catalog, platform: str, model: str, weights: str, engine: str) -> kernel.Table:
    r = resolve(
        Scenario(
            platform=platform,
            units=1,
            parallel="tp",
            model=model,
            weights=weights,
            engine=engine,
            context_tokens=1024,
        ),
        catalog,
    )
    return table_for(r, catalog)


def test_apple_families_pay_a_fixed_cost_per_step_not_per_layer(catalog):
    for family in ("mac-m3-ultra", "mac-m2-ultra"):
        fam, eng = catalog.calibration_for(family, "llamacpp")
        assert fam.fixed_cost == "per_step"
        cols = kernel.calibration_columns(fam, eng, catalog.calibration.layer_overhead_us)
        assert cols["layer_overhead_s"] == 0.0
        assert cols["step_overhead_s"] == pytest.approx(fam.step_overhead_us * 1e-6)
    fam, eng = catalog.calibration_for("gb10", "llamacpp")
    assert fam.fixed_cost == "per_layer"
    cols = kernel.calibration_columns(fam, eng, catalog.calibration.layer_overhead_us)
    assert cols["step_overhead_s"] == 0.0
    assert cols["layer_overhead_s"] == pytest.approx(
        eng.layer_overhead_us_on("gb10", catalog.calibration.layer_overhead_us) * 1e-6
    )


def _step_s(t: kernel.Table, step_s: float, layer_s: float, layers: float) -> float:
    t = {
        **t,
        "step_overhead_s": np.array([step_s]),
        "layer_overhead_s": np.array([layer_s]),
        "recurrent_layer_overhead_s": np.array([0.0]),
        "layers_count": np.array([layers]),
    }
    return float(kernel.decode(t, kernel.memory(t), batch=np.array([1.0]))["step_s"][0])


def test_a_per_step_cost_adds_once_per_token_whatever_the_layer_count(catalog):
    """Hand-computed: one memory-bound stream; a 6 ms step cost adds exactly 6 ms to a
    token, with 40 or 80 layers; a 60 µs per-layer cost adds 2.4 ms or 4.8 ms."""
    t = _table(
        catalog, "mac-studio-m3-ultra-512gb", "meta-llama/Llama-3.1-8B", "q4_k_m", "llamacpp"
    )
    for layers in (40.0, 80.0):
        base = _step_s(t, 0.0, 0.0, layers)
        assert _step_s(t, 0.006, 0.0, layers) - base == pytest.approx(0.006, abs=1e-9)
        assert _step_s(t, 0.0, 60e-6, layers) - base == pytest.approx(60e-6 * layers, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(step_us=st.floats(0.0, 20_000.0), layers=st.integers(1, 200))
def test_decode_slows_monotonically_with_the_step_cost(catalog, step_us, layers):
    t = _table(
        catalog, "mac-studio-m3-ultra-512gb", "meta-llama/Llama-3.1-8B", "q4_k_m", "llamacpp"
    )
    fast = _step_s(t, 0.0, 0.0, float(layers))
    slow = _step_s(t, step_us * 1e-6, 0.0, float(layers))
    assert math.isclose(slow - fast, step_us * 1e-6, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize(("row", "measured"), [("50", 19.89), ("51", 1.96)])
def test_m3_ultra_published_llamacpp_rows_within_the_family_band(catalog, row, measured):
    """geerlingguy/ai-benchmarks (Ollama's llama.cpp runner, M3 Ultra 512 GB): DeepSeek R1
    671B Q4_K_M 19.89 tok/s and Llama 3.1 405B Q4_K_M 1.96 tok/s, predicted within the
    family's decode band with the per-step fixed cost."""
    result = evaluate_row(_rows()[row], catalog)
    assert result.measured_decode == pytest.approx(measured)
    fam, _ = catalog.calibration_for("mac-m3-ultra", "llamacpp")
    band = 1 + fam.decode_band_pct / 100
    assert result.predicted_decode is not None
    assert measured / band <= result.predicted_decode <= measured * band


@pytest.mark.parametrize(
    ("platform", "engine", "weights", "needle"),
    [
        ("mac-studio-m3-ultra-512gb", "mlx", "int4", "ms per decode step"),
        ("dgx-spark-fe-4tb", "llamacpp", "q4_k_m", "µs per decoder layer"),
    ],
)
def test_estimate_states_the_fixed_cost_of_the_platform_class(
    capsys, platform, engine, weights, needle
):
    code = main(
        [
            "estimate",
            "--platform",
            platform,
            "--units",
            "1",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--weights",
            weights,
            "--engine",
            engine,
            "--context",
            "4096",
        ]
    )
    assert code == 0
    assert needle in capsys.readouterr().out


def test_an_assumed_step_cost_widens_the_decode_band_by_hand(catalog):
    """100 tok/s per request at a 10 ms step, family band ±42 %, an assumed 3 ms per-step
    cost taken from 0 to 6 ms: low = 100 / 1.42 x 10 / 13 = 54.2, high = 100 x 1.42 x 10 / 7
    = 202.9; with a 6 ms cost the fast end stops at half the step (x 2): 284."""
    fam = catalog.calibration_for("mac-m3-ultra", "llamacpp")[0].model_copy(
        update={"decode_band_pct": 42.0}
    )
    speed = Throughput(
        decode_tok_s_per_request=100.0,
        decode_tok_s_total=100.0,
        batch_per_group=1,
        bound="memory",
        step_ms=10.0,
        allreduce_ms_per_step=0.0,
        prefill_tok_s=1000.0,
        ttft_s=1.0,
    )
    plain = speed_band(speed, 1000, fam)
    assert plain.decode_tok_s_low == pytest.approx(100 / 1.42)
    wide = speed_band(speed, 1000, fam, assumed_fixed_s=0.003)
    assert wide.decode_tok_s_low == pytest.approx(100 / 1.42 * 10 / 13)
    assert wide.decode_tok_s_high == pytest.approx(100 * 1.42 * 10 / 7)
    capped = speed_band(speed, 1000, fam, assumed_fixed_s=0.006)
    assert capped.decode_tok_s_high == pytest.approx(100 * 1.42 * 2)


def test_mlx_on_a_mac_gets_the_wider_band_llamacpp_does_not(catalog):
    fam = catalog.calibration_for("mac-m3-ultra", "llamacpp")[0]
    assert "llamacpp" in fam.step_overhead_engines
    assert "mlx" not in fam.step_overhead_engines
    bands = {}
    for engine, weights in (("mlx", "int4"), ("llamacpp", "q4_k_m")):
        e = estimate(
            Scenario(
                platform="mac-studio-m3-ultra-512gb",
                units=1,
                parallel="tp",
                model="meta-llama/Llama-3.1-8B",
                weights=weights,
                engine=engine,
                context_tokens=4096,
            ),
            catalog,
        )
        bands[engine] = e.band.decode_tok_s_high / e.band.decode_tok_s_low
    d = 1 + fam.decode_band_pct / 100
    assert bands["llamacpp"] == pytest.approx(d * d)
    assert bands["mlx"] > d * d * 1.2
