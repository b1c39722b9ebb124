"""Translate a Hugging Face `config.json` (text part) into catalog `ModelArch` fields.

Key names follow transformers' configuration classes: LlamaConfig / MistralConfig /
Qwen2Config / Qwen3(Moe)Config (num_experts, moe_intermediate_size), GptOssConfig
(num_local_experts, layer_types, sliding_window), DeepseekV3Config (kv_lora_rank,
n_routed_experts, first_k_dense_replace, num_nextn_predict_layers), Glm4MoeConfig,
Qwen3NextConfig (full_attention_interval, linear_*), Gemma3TextConfig
(sliding_window_pattern). A missing required key raises KeyError naming it.
"""

from __future__ import annotations

from typing import Any

_QUANT_METHODS = {"mxfp4": "mxfp4", "fp8": "fp8", "modelopt": "nvfp4", "nvfp4": "nvfp4",
                  "awq": "int4", "gptq": "int4", "auto-round": "int4"}


def _get(cfg: dict[str, Any], *keys: str, default: Any = KeyError) -> Any:
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    if default is KeyError:
        raise KeyError(keys[0])
    return default


def arch_dict_from_config(cfg: dict[str, Any], *, name: str, source: str) -> dict[str, Any]:
    """Catalog-shaped dict for `ModelArch.model_validate` from a config.json mapping."""
    layers = int(_get(cfg, "num_hidden_layers", "n_layer", "num_layers"))
    hidden = int(_get(cfg, "hidden_size", "n_embd", "d_model"))
    heads = int(_get(cfg, "num_attention_heads", "n_head"))
    kv_heads = int(_get(cfg, "num_key_value_heads", default=heads))
    head_dim = int(_get(cfg, "head_dim", default=hidden // heads))
    d: dict[str, Any] = {
        "id": str(name).strip("/") or "config.json",
        "name": str(name).split("/")[-1] or "config.json",
        "num_hidden_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "attention": "gqa",
        "vocab_size": int(_get(cfg, "vocab_size")),
        "tie_word_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "max_context_tokens": int(_get(cfg, "max_position_embeddings", "n_positions",
                                       "seq_length")),
        "attention_bias": bool(cfg.get("attention_bias", False)),
        "native_dtype": {"default": "bf16"},
        "source": [source],
        "notes": "loaded from a user-supplied config.json",
    }
    inter = cfg.get("intermediate_size")
    if inter:
        d["intermediate_size"] = int(inter)

    # ---- MoE
    n_experts = _get(cfg, "num_experts", "num_local_experts", "n_routed_experts", default=None)
    if n_experts:
        moe: dict[str, Any] = {
            "num_experts": int(n_experts),
            "experts_per_token": int(_get(cfg, "num_experts_per_tok", "experts_per_token",
                                          "num_experts_per_token")),
            "expert_intermediate_size": int(_get(cfg, "moe_intermediate_size",
                                                 "intermediate_size")),
        }
        shared = cfg.get("n_shared_experts") or (1 if cfg.get("shared_expert_intermediate_size")
                                                 else 0)
        if shared:
            moe["shared_experts"] = int(shared)
            moe["shared_expert_intermediate_size"] = int(
                cfg.get("shared_expert_intermediate_size") or moe["expert_intermediate_size"])
        first_dense = int(cfg.get("first_k_dense_replace", 0) or 0)
        if first_dense:
            moe["first_k_dense_replace"] = first_dense
        d["moe"] = moe
        if cfg.get("model_type") == "gpt_oss":
            d["native_dtype"] = {"default": "bf16", "routed_experts": "mxfp4"}
            d["attention_bias"] = True

    # ---- MLA
    if cfg.get("kv_lora_rank"):
        d["attention"] = "mla"
        d["mla"] = {
            "kv_lora_rank": int(cfg["kv_lora_rank"]),
            "qk_rope_head_dim": int(_get(cfg, "qk_rope_head_dim")),
            "qk_nope_head_dim": int(_get(cfg, "qk_nope_head_dim")),
            "v_head_dim": int(_get(cfg, "v_head_dim")),
            "q_lora_rank": int(cfg["q_lora_rank"]) if cfg.get("q_lora_rank") else None,
        }
        d["head_dim"] = d["mla"]["qk_rope_head_dim"] + d["mla"]["qk_nope_head_dim"]

    # ---- linear attention (Qwen3-Next / Qwen3.5 Gated DeltaNet)
    layer_types = cfg.get("layer_types")
    interval = cfg.get("full_attention_interval")
    if cfg.get("linear_num_value_heads"):
        if layer_types:
            n_linear = sum(1 for t in layer_types if "linear" in str(t))
        else:
            n_linear = layers - layers // int(interval or 4)
        d["linear_attention"] = {
            "layers": n_linear,
            "num_key_heads": int(_get(cfg, "linear_num_key_heads")),
            "num_value_heads": int(_get(cfg, "linear_num_value_heads")),
            "key_head_dim": int(_get(cfg, "linear_key_head_dim")),
            "value_head_dim": int(_get(cfg, "linear_value_head_dim")),
            "conv_kernel_dim": int(_get(cfg, "linear_conv_kernel_dim", default=4)),
            "state_bytes_per_elem": 4 if cfg.get("mamba_ssm_dtype") == "float32" else 2,
        }
        d["attention_output_gate"] = bool(cfg.get("attn_output_gate", True))
        d["full_attention_layers"] = layers - n_linear

    # ---- sliding window
    window = cfg.get("sliding_window")
    if window and cfg.get("use_sliding_window", True) is not False:
        if layer_types:
            n_swa = sum(1 for t in layer_types if "sliding" in str(t))
        elif cfg.get("sliding_window_pattern"):
            n_swa = layers - layers // int(cfg["sliding_window_pattern"])
        else:
            n_swa = layers        # every layer sliding (Mistral-7B-v0.1 style)
        if n_swa:
            d["sliding_window"] = int(window)
            d["sliding_window_layers"] = n_swa
            softmax = layers - (d["linear_attention"]["layers"] if "linear_attention" in d else 0)
            d["full_attention_layers"] = softmax - n_swa

    mtp = cfg.get("num_nextn_predict_layers") or cfg.get("mtp_num_hidden_layers")
    if mtp:
        d["mtp_layers"] = int(mtp)
    quant_cfg = cfg.get("quantization_config") or {}
    method = _QUANT_METHODS.get(str(quant_cfg.get("quant_method", "")).lower())
    if method and method != "mxfp4":
        d["native_dtype"] = {"default": method, "embedding": "bf16", "lm_head": "bf16"}
    return d
