"""Catalog loading, validation errors, models from config.json."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING

import pytest
import yaml

from sizing.catalog import (
    DEFAULT_CATALOG_PATH,
    ROOT,
    CatalogError,
    UnknownIdError,
    load_catalog,
    model_from_config_json,
)
from sizing.llm import param_counts

if TYPE_CHECKING:
    from pathlib import Path

# Every model of docs/sources/reference_models.yaml (hand-typed so this test stands alone).
REFERENCE_MODELS = [
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "Qwen/Qwen3-235B-A22B",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct",
    "Qwen/Qwen3-Next-80B-A3B",
    "Qwen/Qwen3.5-397B-A17B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-405B",
    "deepseek-ai/DeepSeek-V3",
    "moonshotai/Kimi-K2-Instruct",
    "zai-org/GLM-4.5",
    "zai-org/GLM-4.6",
    "zai-org/GLM-4.5-Air",
    "MiniMaxAI/MiniMax-M2",
    "mistralai/Mistral-Large-Instruct-2411",
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
    "mistralai/Devstral-2-123B-Instruct-2512",
    "google/gemma-3-27b-it",
]


def test_catalog_loads_with_every_reference_model(catalog):
    ids = {m.id for m in catalog.models}
    assert set(REFERENCE_MODELS) <= ids
    # cross-check against the source file (the repository's copy)
    ref = yaml.safe_load((ROOT / "docs" / "sources" / "reference_models.yaml").read_text())
    assert {m["id"] for m in ref["models"]} == set(REFERENCE_MODELS)
    assert {m["id"] for m in ref["models"]} <= ids


def test_model_lookup_by_variant_is_case_insensitive(catalog):
    assert catalog.model("deepseek-ai/deepseek-r1").id == "deepseek-ai/DeepSeek-V3"


def test_model_lookup_sees_models_added_by_a_copy(catalog):
    """The lookup index follows the section list: a copy with one more model (the app's
    session catalog) finds it, the original does not (the index is per list)."""
    extra = catalog.model("openai/gpt-oss-20b").model_copy(
        update={"id": "me/Custom-20B", "variants": []}
    )
    assert catalog.model("OPENAI/GPT-OSS-120B").id == "openai/gpt-oss-120b"  # index built
    copy = catalog.model_copy(update={"models": [*catalog.models, extra]})
    assert copy.model("me/custom-20b") is extra
    with pytest.raises(UnknownIdError):
        catalog.model("me/Custom-20B")


def test_unknown_ids_list_valid_choices(catalog):
    with pytest.raises(UnknownIdError) as exc:
        catalog.platform("gx10")
    assert "asus-gx10-1tb" in str(exc.value)
    assert "valid choices" in str(exc.value)


@pytest.mark.parametrize(
    ("model_id", "published_b"),
    [
        ("openai/gpt-oss-120b", 116.83),  # model card table
        ("meta-llama/Llama-3.1-8B", 8.03),  # HF model card / GGUF pages
        ("Qwen/Qwen3-235B-A22B", 235.09),  # Qwen3 model card (235B; 235.09 on GGUF pages)
        ("deepseek-ai/DeepSeek-V3", 671.0),  # main model, README_WEIGHTS
        ("Qwen/Qwen3-30B-A3B", 30.5),
        ("meta-llama/Llama-3.3-70B-Instruct", 70.6),
        ("zai-org/GLM-4.5-Air", 106.0),
    ],
)
def test_parameter_counts_match_published_totals(catalog, model_id, published_b):
    counted = param_counts(catalog.model(model_id)).total / 1e9
    assert counted == pytest.approx(published_b, rel=0.02)


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _platform(data: dict, pid: str) -> dict:
    return next(p for p in data["platforms"] if p["id"] == pid)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: _platform(d, "asus-gx10-1tb").pop("memory_bandwidth_gb_s"),
            "platforms[asus-gx10-1tb].memory_bandwidth_gb_s: Field required",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb").update(memory_bandwidth_gb_s="fast"),
            "platforms[asus-gx10-1tb].memory_bandwidth_gb_s",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb").update(colour="black"),
            "platforms[asus-gx10-1tb].colour: Extra inputs are not permitted",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb")["price"].update(chf=-5),
            "platforms[asus-gx10-1tb].price.chf: Input should be greater than or equal to 0",
        ),
        (
            lambda d: d["platforms"].append(dict(_platform(d, "asus-gx10-1tb"))),
            "platforms[asus-gx10-1tb].id: duplicate id",
        ),
        (
            lambda d: d["models"][0].update(num_hidden_layers=0),
            "models[openai/gpt-oss-120b].num_hidden_layers",
        ),
        # review defects: these used to load silently
        (
            lambda d: d["calibration"]["families"].append(dict(d["calibration"]["families"][0])),
            "calibration.families[gb10].family: duplicate family",
        ),
        (
            lambda d: d["calibration"]["engines"].append(dict(d["calibration"]["engines"][0])),
            "calibration.engines[vllm].engine: duplicate engine",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb")["price"].update(
                date=datetime.date.today() + datetime.timedelta(days=1)
            ),
            "platforms[asus-gx10-1tb].price.date: ",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb").update(source=[""]),
            "platforms[asus-gx10-1tb].source[0]: must not be empty or blank",
        ),
        (
            lambda d: _platform(d, "asus-gx10-1tb")["price"].update(source="  "),
            "platforms[asus-gx10-1tb].price.source: must not be empty or blank",
        ),
    ],
)
def test_broken_catalog_names_file_entry_and_field(tmp_path, mutate, expected):
    data = _raw()
    mutate(data)
    with pytest.raises(CatalogError) as exc:
        load_catalog(_write(tmp_path, data))
    message = str(exc.value)
    assert message.startswith("broken.yaml: ")
    assert expected in message


@pytest.mark.parametrize("value", ["yes", "true", 1, 0.0, None, [True]])
def test_borrowed_flag_must_be_a_boolean(tmp_path, value):
    """The rough-figure flags are booleans, never coerced: "yes", 1 or a list is refused
    with one line naming the entry and the field."""
    data = _raw()
    fam = next(f for f in data["calibration"]["families"] if f["family"] == "rtx-5090")
    fam["prefill_borrowed"] = value
    with pytest.raises(CatalogError) as exc:
        load_catalog(_write(tmp_path, data))
    message = str(exc.value)
    assert message == (
        "broken.yaml: calibration.families[rtx-5090].prefill_borrowed: "
        "Input should be a valid boolean"
    )
    data = _raw()
    data["calibration"]["engines"][0]["decode_borrowed"] = value
    with pytest.raises(
        CatalogError,
        match=r"^broken\.yaml: calibration\.engines\[vllm\]"
        r"\.decode_borrowed: Input should be a valid boolean$",
    ):
        load_catalog(_write(tmp_path, data))


def test_borrowed_flag_is_required(tmp_path):
    """A calibration entry without its flags would pass as measured: refused."""
    data = _raw()
    del data["calibration"]["families"][0]["decode_borrowed"]
    with pytest.raises(CatalogError) as exc:
        load_catalog(_write(tmp_path, data))
    assert str(exc.value) == (
        "broken.yaml: calibration.families[gb10].decode_borrowed: Field required"
    )


def test_future_price_date_says_it_is_in_the_future(tmp_path):
    data = _raw()
    _platform(data, "asus-gx10-1tb")["price"]["date"] = datetime.date(2999, 1, 1)
    with pytest.raises(CatalogError, match=r"2999-01-01 is in the future \(today is "):
        load_catalog(_write(tmp_path, data))
    _platform(data, "asus-gx10-1tb")["price"]["date"] = datetime.date.today()  # fine
    assert load_catalog(_write(tmp_path, data))


def test_duplicate_yaml_key_in_catalog_names_path_and_lines(tmp_path):
    text = DEFAULT_CATALOG_PATH.read_text()
    needle = "  - id: asus-gx10-1tb\n"
    assert needle in text
    broken = tmp_path / "dup.yaml"
    broken.write_text(text.replace(needle, needle + "    name: first\n", 1))
    with pytest.raises(CatalogError) as exc:
        load_catalog(broken)
    message = str(exc.value)
    assert message.startswith("dup.yaml: platforms[asus-gx10-1tb].name: duplicate key on line")
    assert "\n" not in message


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("platforms: [unclosed")
    with pytest.raises(CatalogError, match=r"bad\.yaml: not valid YAML"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "absent.yaml")


LLAMA_8B_CONFIG = {  # meta-llama/Llama-3.1-8B config.json (architecture keys)
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def test_model_from_config_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_8B_CONFIG))
    model = model_from_config_json(path)
    assert param_counts(model).total / 1e9 == pytest.approx(8.03, rel=0.01)
    assert model.max_context_tokens == 131072


def test_model_from_config_json_errors(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(CatalogError, match=r"config\.json: not valid JSON"):
        model_from_config_json(path)
    broken = dict(LLAMA_8B_CONFIG)
    broken.pop("vocab_size")
    path.write_text(json.dumps(broken))
    with pytest.raises(CatalogError, match=r"config\.json: missing field .vocab_size."):
        model_from_config_json(path)
