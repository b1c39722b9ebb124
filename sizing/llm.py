"""LLM architecture math: parameters per tensor class, weight bytes, KV-cache bytes.

Parameter counts follow the Hugging Face modelling code for each architecture family
(Llama/Qwen/Mistral GQA blocks, gated MLPs, DeepSeek MLA, Qwen3-Next Gated DeltaNet).
KV formulas are those of ``../shared/data/reference_models.yaml`` (``kv_cache_formulas``):

* GQA: ``2 * n_full_layers * kv_heads * head_dim * bytes`` per token; under tensor
  parallelism each rank keeps ``max(1, kv_heads / tp)`` heads (vLLM replicates KV heads
  when tp > kv_heads).
* MLA: ``n_layers * (kv_lora_rank + qk_rope_head_dim) * bytes`` per token, replicated on
  every rank (the latent is not split by heads).
* Sliding-window layers hold ``min(context, window)`` tokens; linear-attention layers a
  constant recurrent + convolution state per sequence.

All byte figures are bytes (not GiB); parameter counts are plain counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.catalog import Catalog, ModelArch, Quantization

GIB = 2**30
KV_DTYPE_BYTES = {"bf16": 2, "fp8": 1}


@dataclass(frozen=True)
class ParamCounts:
    """Parameter count per tensor class (MTP layers separate from the main model)."""

    by_class: dict[str, int]

    @property
    def total(self) -> int:
        """Main-model parameters (what model cards quote; excludes MTP layers)."""
        return sum(v for k, v in self.by_class.items() if k != "mtp")

    @property
    def total_with_mtp(self) -> int:
        return sum(self.by_class.values())


def _attention_params(m: ModelArch) -> int:
    """Parameters of all softmax-attention layers (GQA or MLA), incl. qk-norm/bias."""
    h = m.hidden_size
    softmax_layers = m.n_full_attention_layers + m.sliding_window_layers
    if m.attention == "mla":
        assert m.mla is not None
        a = m.mla
        q_head = a.qk_nope_head_dim + a.qk_rope_head_dim
        q = (h * a.q_lora_rank + a.q_lora_rank * m.num_attention_heads * q_head
             if a.q_lora_rank else h * m.num_attention_heads * q_head)
        kv = h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * m.num_attention_heads * (
            a.qk_nope_head_dim + a.v_head_dim)
        o = m.num_attention_heads * a.v_head_dim * h
        per_layer = q + kv + o
    else:
        q_out = m.num_attention_heads * m.head_dim * (2 if m.attention_output_gate else 1)
        kv_out = 2 * m.num_key_value_heads * m.head_dim
        per_layer = h * (q_out + kv_out) + m.num_attention_heads * m.head_dim * h
        if m.attention_bias:
            per_layer += q_out + kv_out
    return per_layer * softmax_layers


def _linear_attention_params(m: ModelArch) -> int:
    """Gated DeltaNet layers: in_proj_qkvz, in_proj_ba, depthwise conv, out_proj."""
    la = m.linear_attention
    if la is None:
        return 0
    h = m.hidden_size
    key_dim = la.num_key_heads * la.key_head_dim
    value_dim = la.num_value_heads * la.value_head_dim
    in_proj = h * (2 * key_dim + 2 * value_dim) + h * 2 * la.num_value_heads
    conv = (2 * key_dim + value_dim) * la.conv_kernel_dim
    out_proj = value_dim * h
    return (in_proj + conv + out_proj) * la.layers


def _moe_layer_params(m: ModelArch) -> tuple[int, int]:
    """(routed experts incl. router, shared experts) parameters of ONE MoE layer."""
    assert m.moe is not None
    e = m.moe
    routed = e.num_experts * 3 * m.hidden_size * e.expert_intermediate_size
    router = m.hidden_size * e.num_experts
    shared_inter = e.shared_expert_intermediate_size or e.expert_intermediate_size
    shared = e.shared_experts * 3 * m.hidden_size * shared_inter
    return routed + router, shared


_MEMO: dict[tuple, tuple[object, object]] = {}


def _memo(key: tuple, keep: object, compute):  # noqa: ANN001
    """Cache pure results per (frozen) catalog object; `keep` pins the keyed objects."""
    hit = _MEMO.get(key)
    if hit is None:
        if len(_MEMO) > 50_000:
            _MEMO.clear()
        hit = _MEMO[key] = (keep, compute())
    return hit[1]


def param_counts(m: ModelArch) -> ParamCounts:
    """Count parameters per tensor class (cached per model object)."""
    return _memo(("params", id(m)), m, lambda: _param_counts(m))


def _param_counts(m: ModelArch) -> ParamCounts:
    """Count parameters per tensor class from the architecture (norms ignored: < 0.01 %)."""
    h = m.hidden_size
    counts: dict[str, int] = {
        "embedding": m.vocab_size * h,
        "lm_head": 0 if m.tie_word_embeddings else m.vocab_size * h,
        "attention": _attention_params(m),
        "linear_attention": _linear_attention_params(m),
        "dense_mlp": 3 * h * (m.intermediate_size or 0) * m.n_dense_mlp_layers,
        "routed_experts": 0,
        "shared_experts": 0,
        "mtp": 0,
    }
    if m.moe is not None:
        routed, shared = _moe_layer_params(m)
        counts["routed_experts"] = routed * m.n_moe_layers
        counts["shared_experts"] = shared * m.n_moe_layers
    if m.mtp_layers:
        # One full decoder layer (attention + MLP/MoE) plus the 2h -> h projection per module.
        layer_attn = counts["attention"] // max(1, m.n_full_attention_layers
                                                + m.sliding_window_layers)
        if m.moe is not None:
            routed, shared = _moe_layer_params(m)
            layer_mlp = routed + shared
        else:
            layer_mlp = 3 * h * (m.intermediate_size or 0)
        counts["mtp"] = m.mtp_layers * (layer_attn + layer_mlp + 2 * h * h)
    counts["vision"] = round(m.vision_params_b * 1e9)
    return ParamCounts(counts)


def expected_experts_touched(num_experts: int, experts_per_token: int, tokens: float) -> float:
    """Expected number of distinct experts one MoE layer reads for a batch of `tokens`.

    Uniform, independent routing: ``E * (1 - (1 - k/E) ** tokens)``. Real routers are
    skewed, so this is an upper bound on weight traffic at moderate batch sizes.
    """
    if tokens <= 0:
        return 0.0
    return num_experts * (1.0 - (1.0 - experts_per_token / num_experts) ** tokens)


def active_params(m: ModelArch) -> float:
    """Parameters used per generated token (excludes the embedding lookup and MTP)."""
    c = param_counts(m).by_class
    routed = c["routed_experts"]
    if m.moe is not None:
        routed *= m.moe.experts_per_token / m.moe.num_experts
    return (c["attention"] + c["linear_attention"] + c["dense_mlp"] + c["shared_experts"]
            + routed + (c["lm_head"] or c["embedding"]))


def class_bits(m: ModelArch, quant: Quantization, engine_id: str | None,
               catalog: Catalog) -> dict[str, float]:
    """Bits per weight for each tensor class under `quant` on `engine_id`.

    Classes the quant covers get its bits; the others keep the engine's storage for
    untouched tensors (e.g. Q8_0 in llama.cpp's MXFP4 GGUFs) or else the checkpoint's
    native dtype.
    """
    bits: dict[str, float] = {}
    for cls in ("embedding", "lm_head", "attention", "linear_attention", "dense_mlp",
                "routed_experts", "shared_experts", "mtp", "vision"):
        if cls in quant.applies_to:
            bits[cls] = quant.bits_per_weight
            continue
        other = quant.unquantized_dtype.get(engine_id or "") if engine_id else None
        native = catalog.quant(other or m.native("attention" if cls == "vision" else cls))
        bits[cls] = native.bits_per_weight
    return bits


def weight_bytes_by_class(m: ModelArch, quant: Quantization, catalog: Catalog, *,
                          engine_id: str | None = None) -> dict[str, float]:
    """Bytes of each tensor class for the whole model (MTP and vision included).

    Returns a fresh dict (callers may modify it); the computation is cached.
    """
    key = ("bytes", id(m), id(quant), engine_id, id(catalog))
    return dict(_memo(key, (m, quant, catalog),
                      lambda: _weight_bytes_by_class(m, quant, catalog, engine_id)))


def _weight_bytes_by_class(m: ModelArch, quant: Quantization, catalog: Catalog,
                           engine_id: str | None) -> dict[str, float]:
    counts = param_counts(m).by_class
    bits = class_bits(m, quant, engine_id, catalog)
    return {cls: counts[cls] * bits[cls] / 8 for cls in counts}


def weights_bytes(m: ModelArch, quant: Quantization, catalog: Catalog, *,
                  engine_id: str | None = None, include_mtp: bool = False) -> float:
    """Total weight bytes loaded by an engine (MTP only when speculative MTP is on)."""
    by_class = weight_bytes_by_class(m, quant, catalog, engine_id=engine_id)
    return sum(v for k, v in by_class.items() if include_mtp or k != "mtp")


def kv_heads_per_rank(m: ModelArch, tp: int) -> float:
    """KV heads each tensor-parallel rank stores (never below one)."""
    return max(1.0, m.num_key_value_heads / tp)


def kv_bytes_per_token(m: ModelArch, kv_dtype: str, *, tp: int = 1,
                       swa_aware: bool = True) -> float:
    """KV bytes per token of context that grow with context, per rank under `tp`.

    Without SWA-aware allocation the sliding-window layers are paid as full layers.
    """
    b = KV_DTYPE_BYTES[kv_dtype]
    if m.attention == "mla":
        assert m.mla is not None
        return m.num_hidden_layers * (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * b
    layers = m.n_full_attention_layers + (0 if swa_aware else m.sliding_window_layers)
    return 2 * layers * kv_heads_per_rank(m, tp) * m.head_dim * b


def kv_bytes_per_sequence_fixed(m: ModelArch, kv_dtype: str, *, context_tokens: int,
                                tp: int = 1, swa_aware: bool = True) -> float:
    """Per-sequence bytes that do not grow past a cap: sliding windows + linear state."""
    b = KV_DTYPE_BYTES[kv_dtype]
    total = 0.0
    if swa_aware and m.sliding_window_layers and m.sliding_window:
        window = min(context_tokens, m.sliding_window)
        total += 2 * m.sliding_window_layers * kv_heads_per_rank(m, tp) * m.head_dim * b * window
    la = m.linear_attention
    if la is not None:
        shard = 1.0 / min(tp, la.num_key_heads)
        recurrent = la.num_value_heads * la.key_head_dim * la.value_head_dim
        conv = (2 * la.num_key_heads * la.key_head_dim
                + la.num_value_heads * la.value_head_dim) * (la.conv_kernel_dim - 1)
        total += la.layers * (recurrent * la.state_bytes_per_elem + conv * 2) * shard
    return total


def round_up(tokens: int, block: int) -> int:
    """Round a token count up to the engine's KV block size."""
    return int(math.ceil(tokens / block) * block)
