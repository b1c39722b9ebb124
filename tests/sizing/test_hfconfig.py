"""Every config.json in data/hf_configs against model cards and hand-computed figures.

Expected values come from the model cards (URL per row) or are computed by hand from the
architecture in the comments — never from the importer's own output. Vendors count
"active" parameters differently; each row says how its card counts:

* ``plain``: the layers' active weights plus the output projection (our definition);
* ``+emb``: also the input embedding (Qwen, Meta);
* ``-head``: without the output projection (MiniMax);
* ``name``: the card only repeats the repo name (``A3B``): a rounded figure, checked to +-0.5 B.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sizing.catalog import CONFIG_DIR
from sizing.hfconfig import ConfigError, architecture_from_config
from sizing.quantmap import precision_map

HF = "https://huggingface.co/"
#: (config files, total B, active B, active convention, source)
CARDS: list[tuple[tuple[str, ...], float, float | None, str, str]] = [
    (
        (
            "zai-org--GLM-5",
            "zai-org--GLM-5-FP8",
            "nvidia--GLM-5-NVFP4",
            "zai-org--GLM-5.1",
            "zai-org--GLM-5.1-FP8",
            "nvidia--GLM-5.1-NVFP4",
            "zai-org--GLM-5.2",
            "zai-org--GLM-5.2-FP8",
            "nvidia--GLM-5.2-NVFP4",
        ),
        744,
        40,
        "plain",
        HF + "zai-org/GLM-5",
    ),
    (
        ("deepseek-ai--DeepSeek-V3", "deepseek-ai--DeepSeek-R1", "nvidia--DeepSeek-V3.1-NVFP4"),
        671,
        37,
        "+emb",
        HF + "deepseek-ai/DeepSeek-V3",
    ),
    # the V3.2 card's 685 B include the 14 B MTP module (checked below with MTP)
    (
        (
            "deepseek-ai--DeepSeek-V4-Flash",
            "nvidia--DeepSeek-V4-Flash-NVFP4",
            "sgl-project--DeepSeek-V4-Flash-FP8",
        ),
        284,
        13,
        "plain",
        HF + "deepseek-ai/DeepSeek-V4-Flash",
    ),
    (
        (
            "deepseek-ai--DeepSeek-V4-Pro",
            "nvidia--DeepSeek-V4-Pro-NVFP4",
            "sgl-project--DeepSeek-V4-Pro-FP8",
        ),
        1600,
        49,
        "plain",
        HF + "deepseek-ai/DeepSeek-V4-Pro",
    ),
    (
        (
            "moonshotai--Kimi-K2-Instruct",
            "moonshotai--Kimi-K2.5",
            "nvidia--Kimi-K2.5-NVFP4",
            "nvidia--Kimi-K2.6-NVFP4",
            "nvidia--Kimi-K2.7-Code-NVFP4",
        ),
        1000,
        32,
        "plain",
        HF + "moonshotai/Kimi-K2-Instruct",
    ),
    (
        (
            "MiniMaxAI--MiniMax-M2.5",
            "nvidia--MiniMax-M2.5-NVFP4",
            "MiniMaxAI--MiniMax-M2.7",
            "nvidia--MiniMax-M2.7-NVFP4",
        ),
        229.9,
        9.8,
        "-head",
        HF + "MiniMaxAI/MiniMax-M2.5",
    ),
    (
        ("MiniMaxAI--MiniMax-M3", "nvidia--MiniMax-M3-NVFP4"),
        428,
        23,
        "-head",
        HF + "MiniMaxAI/MiniMax-M3",
    ),
    (("Qwen--Qwen3-0.6B",), 0.6, None, "plain", HF + "Qwen/Qwen3-0.6B"),
    (
        ("Qwen--Qwen3-1.7B", "Qwen--Qwen3-VL-2B-Instruct"),
        1.7,
        None,
        "plain",
        HF + "Qwen/Qwen3-1.7B",
    ),  # Qwen3-VL-2B: the same text stack
    (("Qwen--Qwen3-VL-4B-Instruct",), 4.0, None, "plain", HF + "Qwen/Qwen3-4B"),
    (("Qwen--Qwen3-8B", "Qwen--Qwen3-VL-8B-Instruct"), 8.2, None, "plain", HF + "Qwen/Qwen3-8B"),
    (
        (
            "Qwen--Qwen3-32B",
            "Qwen--Qwen3-32B-FP8",
            "Qwen--Qwen3-32B-FP8-Static-PerTensor",
            "Qwen--Qwen3-VL-32B-Instruct",
            "Qwen--Qwen3-VL-32B-Thinking",
        ),
        32.8,
        None,
        "plain",
        HF + "Qwen/Qwen3-32B",
    ),
    (
        ("Qwen--Qwen3-30B-A3B", "Qwen--Qwen3-30B-A3B-FP8"),
        30.5,
        3.3,
        "+emb",
        HF + "Qwen/Qwen3-30B-A3B",
    ),
    (
        (
            "Qwen--Qwen3-235B-A22B",
            "Qwen--Qwen3-235B-A22B-FP8",
            "nvidia--Qwen3-235B-A22B-NVFP4",
            "Qwen--Qwen3-VL-235B-A22B-Instruct",
        ),
        235,
        22,
        "+emb",
        HF + "Qwen/Qwen3-235B-A22B",
    ),
    (
        ("Qwen--Qwen3-Coder-480B-A35B-Instruct",),
        480,
        35,
        "+emb",
        HF + "Qwen/Qwen3-Coder-480B-A35B-Instruct",
    ),
    (
        ("Qwen--Qwen3.5-397B-A17B", "nvidia--Qwen3.5-397B-A17B-NVFP4"),
        397,
        17,
        "+emb",
        HF + "Qwen/Qwen3.5-397B-A17B",
    ),
    (
        ("Qwen--Qwen3.5-122B-A10B", "nvidia--Qwen3.5-122B-A10B-NVFP4"),
        122,
        10,
        "+emb",
        HF + "Qwen/Qwen3.5-122B-A10B",
    ),
    (
        ("Qwen--Qwen3.5-35B-A3B", "nvidia--Qwen3.6-35B-A3B-NVFP4"),
        35,
        3,
        "name",
        HF + "Qwen/Qwen3.6-35B-A3B",
    ),
    (
        ("google--gemma-4-26B-A4B", "nvidia--Gemma-4-26B-A4B-NVFP4"),
        25.2,
        3.8,
        "plain",
        HF + "google/gemma-4-26B-A4B",
    ),
    (
        ("meta-llama--Llama-4-Maverick-17B-128E-Instruct",),
        400,
        17,
        "+emb",
        HF + "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
    ),
    (("meta-llama--Meta-Llama-3.1-405B",), 405, None, "plain", HF + "meta-llama/Llama-3.1-405B"),
    (
        ("meta-llama--Meta-Llama-3.1-70B", "nvidia--Llama-3.1-70B-Instruct-FP8"),
        70.6,
        None,
        "plain",
        HF + "meta-llama/Llama-3.1-70B",
    ),
    (("meta-llama--Meta-Llama-3.1-8B",), 8.03, None, "plain", HF + "meta-llama/Llama-3.1-8B"),
    (
        ("mistralai--Mixtral-8x7B-v0.1",),
        46.7,
        12.9,
        "plain",
        "https://mistral.ai/news/mixtral-of-experts",
    ),
    (("mistralai--Mixtral-8x22B-v0.1",), 141, 39, "plain", "https://mistral.ai/news/mixtral-8x22b"),
    (("openai--gpt-oss-120b",), 116.8, 5.1, "plain", HF + "openai/gpt-oss-120b"),
    (("openai--gpt-oss-20b",), 20.9, 3.6, "plain", HF + "openai/gpt-oss-20b"),
    (
        ("nvidia--Llama-3_3-Nemotron-Super-49B-v1",),
        49.9,
        None,
        "plain",
        HF + "nvidia/Llama-3_3-Nemotron-Super-49B-v1",
    ),
    (("nvidia--Nemotron-H-56B-Base-8K",), 56, None, "plain", HF + "nvidia/Nemotron-H-56B-Base-8K"),
    (
        (
            "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
            "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
        ),
        31.6,
        3.2,
        "plain",
        HF + "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    ),
    (
        (
            "nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16",
            "nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-FP8",
            "nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-NVFP4",
        ),
        550,
        55,
        "plain",
        HF + "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16",
    ),
    (("nvidia--Qwen3.6-27B-NVFP4",), 27, None, "plain", HF + "Qwen/Qwen3.6-27B"),
    (
        (
            "nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8",
            "nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4",
        ),
        120,
        12,
        "plain",
        "https://research.nvidia.com/labs/nemotron/Nemotron-3-Super",
    ),
]
# MiMo-7B: the card's "7B" is a name. By hand: 36 layers x (attention 4096*(4096+2*1024)
# + 4096*4096 + biases 6144, MLP 3*4096*11008) + 2 * 151680 * 4096 = 7.617 B.
HAND_TOTALS = {
    "XiaomiMiMo--MiMo-7B-Base": 36 * (4096 * 6144 + 4096 * 4096 + 6144 + 3 * 4096 * 11008)
    + 2 * 151680 * 4096,
    "deepseek-ai--DeepSeek-V3.2": None,
    "nvidia--DeepSeek-V3.2-NVFP4": None,
}


def _load(stem: str) -> dict:
    return json.loads((CONFIG_DIR / f"{stem}_config.json").read_text())


def _active(arch, convention: str) -> float:
    embedding = arch.vocab_size * arch.hidden_size
    return (
        arch.active_params
        + {"plain": 0, "name": 0, "+emb": embedding, "-head": -embedding}[convention]
    ) / 1e9


def test_every_config_file_is_covered():
    listed = {f for files, *_ in CARDS for f in files} | set(HAND_TOTALS)
    on_disk = {
        p.name.removesuffix("_config.json")
        for p in CONFIG_DIR.glob("*_config.json")
        if not p.name.endswith("_hf_quant_config.json")
    }
    assert on_disk == listed


@pytest.mark.parametrize(
    ("stem", "total", "active", "convention"),
    [(f, total, active, conv) for files, total, active, conv, _ in CARDS for f in files],
)
def test_parameters_match_the_model_card(stem, total, active, convention):
    arch = architecture_from_config(_load(stem))
    if convention == "name":
        assert abs(arch.total_params / 1e9 - total) < 0.5 + 0.01 * total
        assert abs(_active(arch, "plain") - active) < 0.5
        return
    assert arch.total_params / 1e9 == pytest.approx(total, rel=0.03)
    if active is not None:
        assert _active(arch, convention) == pytest.approx(active, rel=0.05)


def test_hand_computed_totals():
    assert (
        architecture_from_config(_load("XiaomiMiMo--MiMo-7B-Base")).total_params
        == HAND_TOTALS["XiaomiMiMo--MiMo-7B-Base"]
    )
    # DeepSeek-V3.2: 685 B on the card = 671 B main model + the MTP module
    for stem in ("deepseek-ai--DeepSeek-V3.2", "nvidia--DeepSeek-V3.2-NVFP4"):
        arch = architecture_from_config(_load(stem))
        with_mtp = (arch.total_params + arch.params_by_class["mtp"]) / 1e9
        assert with_mtp == pytest.approx(685, rel=0.03)


# --------------------------------------------------------------------------- cache, by hand
@pytest.mark.parametrize(
    ("stem", "kv_bytes_bf16", "note"),
    [
        # only the 8 '*' blocks of 88 carry KV: 8 x 2 x 2 heads x 128 x 2 B (issue: was 90,112)
        ("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8", 8 * 2 * 2 * 128 * 2, "mamba hybrid"),
        # 6 attention blocks of 52: 6 x 2 x 2 x 128 x 2 B
        ("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", 6 * 2 * 2 * 128 * 2, "mamba hybrid"),
        # 5 global layers of 30: 2 KV heads x 512 (global_head_dim) x K+V x 2 B
        ("google--gemma-4-26B-A4B", 5 * 2 * 2 * 512 * 2, "global layers own head size"),
        # DSV4-Flash: 21 CSA layers keep 512/4, 20 HCA layers 512/128 elements per token, plus
        # FP4 indexer keys 128 x 0.5 B / 4 in the CSA layers (issue: was 0)
        (
            "deepseek-ai--DeepSeek-V4-Flash",
            (21 * 512 / 4 + 20 * 512 / 128) * 2 + 21 * 128 * 0.5 / 4,
            "compressed attention",
        ),
        # MLA: 61 x (512 + 64) x 2 B
        ("deepseek-ai--DeepSeek-V3", 61 * 576 * 2, "mla"),
        # DSA: MLA latent + FP8 indexer key (128 B + one 4-byte scale) in each of 78 layers
        ("zai-org--GLM-5", 78 * 576 * 2 + 78 * (128 + 4), "sparse mla"),
        # Qwen3.5: 15 of 60 layers full attention, 2 KV heads x 256
        ("Qwen--Qwen3.5-397B-A17B", 15 * 2 * 2 * 256 * 2, "gated deltanet hybrid"),
        # Llama 4: every 4th layer global (12 of 48), 8 KV heads x 128
        ("meta-llama--Llama-4-Maverick-17B-128E-Instruct", 12 * 2 * 8 * 128 * 2, "chunked"),
        # MiniMax-M3: 60 GQA layers, 4 KV heads x 128, plus a 128-wide bf16 indexer key in the
        # 57 sparse layers
        ("MiniMaxAI--MiniMax-M3", 60 * 2 * 4 * 128 * 2 + 57 * 128 * 2, "sparse gqa"),
    ],
)
def test_kv_bytes_per_token_by_hand(stem, kv_bytes_bf16, note):
    arch = architecture_from_config(_load(stem))
    got = arch.kv_elems_per_token() * 2 + arch.kv_extra_bytes_per_token()
    assert got == pytest.approx(kv_bytes_bf16), note


def test_fixed_state_per_sequence_by_hand():
    # Nemotron-3-Super: 40 Mamba-2 blocks x (128 heads x 64 x 128 state x 4 B (float32 cache)
    # + conv (8192 + 2 x 8 x 128) x 3 x 2 B)
    arch = architecture_from_config(_load("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8"))
    assert arch.state_bytes() == 40 * (128 * 64 * 128 * 4 + (8192 + 2 * 8 * 128) * 3 * 2)
    # Qwen3.5-397B: 45 DeltaNet layers x (64 x 128 x 128 x 4 B + (2 x 2048 + 8192) x 3 x 2 B)
    arch = architecture_from_config(_load("Qwen--Qwen3.5-397B-A17B"))
    assert arch.state_bytes() == 45 * (64 * 128 * 128 * 4 + (2 * 2048 + 8192) * 3 * 2)
    # Gemma 4 sliding layers: 25 x 1024-token window x 8 heads x 256 x 2 x 2 B
    arch = architecture_from_config(_load("google--gemma-4-26B-A4B"))
    assert arch.window_elems(100_000) * 2 == 25 * 1024 * 8 * 256 * 2 * 2
    assert arch.window_elems(512) * 2 == 25 * 512 * 8 * 256 * 2 * 2
    # TP splits KV by head, never below one head per rank
    # 2 global KV heads: one per rank at TP 4 (5 layers x K+V x 512 x 1 head)
    assert arch.kv_elems_per_token(tp=4) == 5 * 2 * 512 * 1


def test_vision_tower_in_memory_not_in_active():
    arch = architecture_from_config(_load("Qwen--Qwen3-VL-8B-Instruct"))
    text = architecture_from_config(_load("Qwen--Qwen3-8B"))
    assert arch.active_params == text.active_params
    assert 0.3e9 < arch.params_by_class["vision"] < 0.7e9  # Qwen3-VL ViT: ~0.4-0.6 B


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.update(model_type="mamba_quantum"),
            "field 'model_type': 'mamba_quantum' is not a supported architecture",
        ),
        (lambda c: c.pop("vocab_size"), "missing field 'vocab_size'"),
        (
            lambda c: c.update(num_hidden_layers=1.5),
            "field 'num_hidden_layers': expected an integer",
        ),
        (lambda c: c.update(hidden_size=True), "field 'hidden_size': expected an integer"),
        (
            lambda c: c.update(num_attention_heads=0),
            "field 'num_attention_heads': 0 is out of range",
        ),
        (lambda c: c.update(num_key_value_heads=float("inf")), "field 'num_key_value_heads'"),
        (lambda c: c.update(num_experts_per_tok=9, num_local_experts=8), "exceeds the 8 experts"),
    ],
)
def test_refusals_name_the_field(change, message):
    cfg = _load("meta-llama--Meta-Llama-3.1-8B")
    change(cfg)
    with pytest.raises(ConfigError, match=message) as exc:
        architecture_from_config(cfg)
    assert "\n" not in str(exc.value)


def test_refusals_for_2026_structures():
    cfg = _load("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8")
    cfg["hybrid_override_pattern"] = cfg["hybrid_override_pattern"].replace("M", "X", 1)
    with pytest.raises(ConfigError, match="hybrid_override_pattern': unknown block type 'X'"):
        architecture_from_config(cfg)
    cfg = _load("deepseek-ai--DeepSeek-V4-Flash")
    cfg["compress_ratios"][3] = 64
    with pytest.raises(ConfigError, match=r"compress_ratios\[3\]': ratio 64 is not one of"):
        architecture_from_config(cfg)
    cfg = _load("google--gemma-4-26B-A4B")
    cfg["text_config"]["layer_types"][0] = "chunked_attention"
    with pytest.raises(ConfigError, match="unknown layer type 'chunked_attention'"):
        architecture_from_config(cfg)


# --------------------------------------------------------------------------- quantization maps
def _map(stem: str, name: str | None = None):
    raw = _load(stem)
    return precision_map(raw, architecture_from_config(raw), name=name)


def test_gpt_oss_quantizes_only_the_experts():
    pm = _map("openai--gpt-oss-120b")  # modules_to_not_convert: self_attn, router, embed, head
    assert pm.describe("routed_experts") == "mxfp4"
    assert {pm.describe(c) for c in ("attention", "lm_head", "embedding")} == {"bf16"}


def test_modelopt_ignore_lists_by_family():
    kimi = _map("nvidia--Kimi-K2.6-NVFP4")  # ignores self_attn, shared experts, layer 0
    assert (
        kimi.describe("routed_experts"),
        kimi.describe("attention"),
        kimi.describe("shared_experts"),
        kimi.describe("dense_mlp"),
    ) == ("nvfp4", "bf16", "bf16", "bf16")
    gemma = _map("nvidia--Gemma-4-26B-A4B-NVFP4")  # experts live outside `mlp` in Gemma 4
    assert (gemma.describe("routed_experts"), gemma.describe("dense_mlp")) == ("nvfp4", "bf16")
    qwen = _map("nvidia--Qwen3.5-397B-A17B-NVFP4")  # "mtp.layers.0*" must not hit layer 0
    assert qwen.describe("routed_experts") == "nvfp4"
    assert qwen.describe("linear_attention") == qwen.describe("mtp") == "bf16"


def test_compressed_tensors_int4_experts():
    pm = _map("moonshotai--Kimi-K2.5")  # int4, group 32, symmetric: 4 + 16/32 bits
    assert pm.bits("routed_experts") == 4.5
    assert pm.describe("attention") == pm.describe("shared_experts") == "bf16"


def test_per_module_formats_and_block_fp8_bases():
    m3 = _map("nvidia--MiniMax-M3-NVFP4")  # quantized_layers: MXFP8 attention, NVFP4 experts
    assert m3.describe("attention").startswith("mxfp8 9")  # the MSA indexer stays bf16
    assert m3.describe("routed_experts") == "nvfp4"
    q36 = _map("nvidia--Qwen3.6-35B-A3B-NVFP4")
    assert (q36.describe("attention"), q36.describe("linear_attention")) == ("fp8", "fp8")
    v4 = _map("nvidia--DeepSeek-V4-Flash-NVFP4")  # NVFP4 experts on a block-FP8 checkpoint
    assert (v4.describe("routed_experts"), v4.describe("attention")) == ("nvfp4", "fp8")
    flash = _map("deepseek-ai--DeepSeek-V4-Flash")  # expert_dtype fp4
    assert flash.describe("routed_experts") == "mxfp4"
    assert flash.bits("attention") == pytest.approx(8.002, abs=1e-3)


def test_checkpoint_bytes_against_published_sizes():
    raw = _load("openai--gpt-oss-120b")  # card: 60.8 GiB checkpoint
    arch = architecture_from_config(raw)
    pm = precision_map(raw, arch)
    gib = sum(n * pm.bits(c) / 8 for c, n in arch.params_by_class.items()) / 2**30
    assert gib == pytest.approx(60.8, rel=0.01)


def test_a_quantized_name_without_a_map_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"the name says NVFP4 but config\.json has no "
        r"quantization_config",
    ):
        _map(
            "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
            name="nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
        )
    assert _map("Qwen--Qwen3-8B", name="Qwen/Qwen3-8B").method.startswith("none")


def test_unknown_quant_method_is_refused():
    raw = _load("Qwen--Qwen3-8B")
    raw["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    with pytest.raises(ConfigError, match="quant_method: 'bitsandbytes' is not supported"):
        precision_map(raw, architecture_from_config(raw))


def test_catalog_checkpoints_resolve(catalog):
    for m in catalog.models:
        for q in m.checkpoints:
            assert m.checkpoint_precision(q).main_format() in (
                "bf16",
                "fp8",
                "mxfp4",
                "nvfp4",
                "int4",
            ), (m.id, q)


def test_config_files_are_verbatim_copies():
    """The files also in ../shared/data/hf_configs are byte-identical; the others (Qwen3.6-27B,
    Nemotron-3-Ultra, ModelOpt hf_quant_config.json maps) come from the same public source,
    ai-dynamo/aiconfigurator model_configs/, and are listed in data/hf_configs/README.md."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "hf_configs"
    if not shared.is_dir():
        pytest.skip("../shared not beside the repository")
    readme = (CONFIG_DIR / "README.md").read_text()
    for path in CONFIG_DIR.glob("*.json"):
        if (shared / path.name).exists():
            assert path.read_bytes() == (shared / path.name).read_bytes(), path.name
        else:
            assert path.name in readme, f"{path.name}: source not listed in the README"


def test_hf_quant_config_maps_of_modelopt_checkpoints():
    # config.json of these checkpoints has no quantization_config; the map is beside it
    raw = _load("nvidia--Qwen3-235B-A22B-NVFP4")
    hq = json.loads((CONFIG_DIR / "nvidia--Qwen3-235B-A22B-NVFP4_hf_quant_config.json").read_text())
    pm = precision_map(
        raw, architecture_from_config(raw), hf_quant_config=hq, name="nvidia/Qwen3-235B-A22B-NVFP4"
    )
    assert (pm.describe("routed_experts"), pm.describe("attention")) == ("nvfp4", "nvfp4")
    raw = _load("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4")
    hq = json.loads(
        (
            CONFIG_DIR / "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4_hf_quant_config.json"
        ).read_text()
    )
    pm = precision_map(raw, architecture_from_config(raw), hf_quant_config=hq)
    assert pm.describe("attention") == "bf16"  # its 6 attention blocks excluded
    assert pm.describe("routed_experts") == "nvfp4"


def test_layers_block_type_lists():
    raw = _load("nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16")  # no hybrid_override_pattern
    arch = architecture_from_config(raw)
    assert arch.layer_kinds() == {"mamba": 48, "moe": 48, "full": 12}
    # 12 attention blocks x 2 KV heads x 128 x K+V: the only KV of 108 blocks
    assert arch.kv_elems_per_token() == 12 * 2 * 128 * 2


def test_excluded_projections_are_weighted_by_their_parameters():
    # nvidia/DeepSeek-V3.1-NVFP4 keeps q_a/q_b/kv_a/kv_b in bf16 but quantizes o_proj, which
    # is 128 heads x 128 x 7168 = 117.4 M of the 187.1 M attention parameters per layer
    raw = _load("nvidia--DeepSeek-V3.1-NVFP4")
    hq = json.loads((CONFIG_DIR / "nvidia--DeepSeek-V3.1-NVFP4_hf_quant_config.json").read_text())
    pm = precision_map(raw, architecture_from_config(raw), hf_quant_config=hq)
    o_proj = 128 * 128 * 7168
    per_layer = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + o_proj
    shares = dict((f.id, s) for f, s in pm.by_class["attention"])
    assert shares["nvfp4"] == pytest.approx(o_proj / per_layer, rel=1e-3)


def test_layer_selection_rules_of_the_modelling_code():
    # Gemma2Config: even layers slide, odd layers are global (google/gemma-2-9b fields)
    gemma2 = {
        "model_type": "gemma2",
        "num_hidden_layers": 42,
        "hidden_size": 3584,
        "intermediate_size": 14336,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 256,
        "sliding_window": 4096,
        "vocab_size": 256000,
        "max_position_embeddings": 8192,
    }
    assert architecture_from_config(gemma2).kv_elems_per_token() == 21 * 2 * 8 * 256
    # DeepSeek-V3: MoE where layer_idx >= first_k_dense_replace and layer_idx % freq == 0
    ds = _load("deepseek-ai--DeepSeek-V3")
    ds.update(num_hidden_layers=10, first_k_dense_replace=1, moe_layer_freq=2)
    kinds = [bool(x.routed_params) for x in architecture_from_config(ds).layers]
    assert [i for i, moe in enumerate(kinds) if moe] == [2, 4, 6, 8]
    # Gemma 4: the global KV heads apply only where V reuses K (vLLM gemma4_layer_config)
    g4 = _load("google--gemma-4-26B-A4B")
    g4["text_config"]["attention_k_eq_v"] = False
    assert architecture_from_config(g4).kv_elems_per_token() == 5 * 2 * 8 * 512
    # GLM-5.2 indexer_types: 'shared' layers keep no indexer keys of their own
    glm = architecture_from_config(_load("zai-org--GLM-5.2"))
    shared = _load("zai-org--GLM-5.2")["indexer_types"].count("shared")
    assert glm.kv_extra_bytes_per_token() == (78 - shared) * (128 + 4)
