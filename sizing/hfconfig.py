"""Import a Hugging Face ``config.json`` into an `Architecture`, layer by layer.

Each family follows its modelling code (transformers, vLLM, the vendors' reference
implementations; aiconfigurator's model classes for the 2026 families):

* dense and MoE GQA transformers: Llama, Mistral/Mixtral, Qwen2/3 (+ MoE, VL), MiMo,
  Gemma 3, gpt-oss, GLM-4.x MoE, MiniMax-M2, Llama 4 (chunked local attention, interleaved
  MoE with a shared expert), Gemma 4 (global layers with their own head size and KV heads,
  dense MLP + MoE in every layer);
* MLA: DeepSeek-V2/V3/R1, Kimi K2.x, and the sparse-attention variants DeepSeek-V3.2 /
  GLM-5.x (DSA: FP8 indexer keys, top-k reads);
* DeepSeek-V4 compressed attention (``compress_ratios``: sliding window + 1/4 (CSA, with an
  FP4 indexer) or 1/128 (HCA) compressed KV);
* MiniMax-M3 (sparse MSA attention, dense first layers);
* hybrids: Qwen3-Next / Qwen3.5 / Qwen3.6 (Gated DeltaNet), Nemotron-H / Nemotron 3
  (Mamba-2, latent MoE, ``hybrid_override_pattern``), Nemotron-NAS (``block_configs``).

Anything this module cannot interpret raises `ConfigError` with one line naming the field:
an unknown ``model_type``, a missing or non-numeric key, a layer type it does not know.
It never guesses. Norms, biases of projections and hyper-connection mixers are ignored
(< 0.1 % of parameters) unless stated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sizing.architecture import Architecture, AttentionWork, Layer


class ConfigError(ValueError):
    """A config.json cannot be interpreted; the message is one line naming the field."""


Config = Mapping[str, Any]


# --------------------------------------------------------------------------- field access
def _int(cfg: Config, *keys: str, default: int | None = None, minimum: int = 1) -> int:
    """The first present key as an integer >= minimum; ConfigError naming it otherwise."""
    for key in keys:
        value = cfg.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and (not math.isfinite(value) or value != int(value)))
        ):
            raise ConfigError(f"field '{key}': expected an integer, got {_short(value)}")
        if int(value) < minimum or int(value) > 10**12:
            raise ConfigError(f"field '{key}': {int(value)} is out of range")
        return int(value)
    if default is not None:
        return default
    raise ConfigError(f"missing field '{keys[0]}'")


def _float(cfg: Config, key: str, default: float) -> float:
    value = cfg.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"field '{key}': expected a number, got {_short(value)}")
    return float(value)


def _list(cfg: Config, key: str, length: int) -> list[Any] | None:
    value = cfg.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != length:
        raise ConfigError(f"field '{key}': expected a list of {length} entries")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bool(cfg: Config, key: str, default: bool) -> bool:
    value = cfg.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"field '{key}': expected true or false, got {_short(value)}")
    return value


# --------------------------------------------------------------------------- layer parts
def gqa_layer(
    *,
    kind: str,
    h: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    window: int | None = None,
    output_gate: bool = False,
    k_eq_v: bool = False,
    bias: bool = False,
    kv_cache: bool = True,
) -> Layer:
    """Softmax attention with grouped KV heads (q, k, v, o projections).

    KV: ``2 * kv_heads * head_dim`` elements per token (K and V are both cached, also when
    V reuses K's projection: K is cached after RoPE). Decode work: ``4 * heads * head_dim``
    FLOPs per attended token (QK^T and PV).
    """
    q_out = heads * head_dim * (2 if output_gate else 1)
    k_out = kv_heads * head_dim
    b = 1 if bias else 0
    parts = [("q_proj", (h + b) * q_out), ("k_proj", (h + b) * k_out)]
    if not k_eq_v:
        parts.append(("v_proj", (h + b) * k_out))
    parts.append(("o_proj", heads * head_dim * h))
    params = sum(n for _, n in parts)
    elems = 2 * kv_heads * head_dim if kv_cache else 0
    work = AttentionWork(flops_per_ctx_token=4 * heads * head_dim, cap_tokens=window)
    if window:
        return Layer(
            kind=kind,
            attention_params=params,
            kv_heads=kv_heads,
            window_elems_per_token=elems,
            window_tokens=window,
            attention_work=(work,),
            attention_parts=tuple(parts),
        )
    return Layer(
        kind=kind,
        attention_params=params,
        kv_heads=kv_heads,
        kv_elems_per_token=elems,
        attention_work=(work,),
        attention_parts=tuple(parts),
    )


def mla_layer(cfg: Config, h: int, *, kind: str = "mla", indexer: bool = True) -> Layer:
    """DeepSeek multi-head latent attention; DSA indexer when ``index_topk`` is set.

    Cache: the latent ``kv_lora_rank + qk_rope_head_dim`` per token, one copy on every TP
    rank. DSA (DeepSeek-V3.2, GLM-5): an FP8 indexer key of ``index_head_dim`` bytes plus
    one 4-byte scale per 128 values per token (vLLM/SGLang), read in full every step, and
    attention over the ``index_topk`` selected tokens only. ``indexer=False`` (GLM-5.2
    ``indexer_types`` "shared"): the layer reuses another layer's top-k choice and has no
    indexer weights, keys or work of its own.
    """
    heads = _int(cfg, "num_attention_heads")
    kv_lora = _int(cfg, "kv_lora_rank")
    rope = _int(cfg, "qk_rope_head_dim")
    nope = _int(cfg, "qk_nope_head_dim")
    v_dim = _int(cfg, "v_head_dim")
    q_lora = _int(cfg, "q_lora_rank", default=0, minimum=0)
    q_parts = (
        [("q_a_proj", h * q_lora), ("q_b_proj", q_lora * heads * (nope + rope))]
        if q_lora
        else [("q_proj", h * heads * (nope + rope))]
    )
    parts = [
        *q_parts,
        ("kv_a_proj_with_mqa", h * (kv_lora + rope)),
        ("kv_b_proj", kv_lora * heads * (nope + v_dim)),
        ("o_proj", heads * v_dim * h),
    ]
    params = sum(n for _, n in parts)
    replicated = h * (q_lora + kv_lora + rope)
    work = [AttentionWork(flops_per_ctx_token=2 * heads * (nope + rope + v_dim))]
    extra_bytes = 0.0
    read_cap = None
    if cfg.get("index_topk") is not None:
        topk = _int(cfg, "index_topk")
        read_cap = topk
        work = [
            AttentionWork(flops_per_ctx_token=2 * heads * (nope + rope + v_dim), cap_tokens=topk)
        ]
        kind = "sparse-mla"
        if indexer:
            i_heads = _int(cfg, "index_n_heads")
            i_dim = _int(cfg, "index_head_dim")
            indexer_params = (q_lora or h) * i_heads * i_dim + h * i_dim + h * i_heads
            params += indexer_params
            parts.append(("indexer", indexer_params))
            extra_bytes = i_dim + math.ceil(i_dim / 128) * 4
            work.append(AttentionWork(flops_per_ctx_token=2 * i_heads * i_dim))
    return Layer(
        kind=kind,
        attention_params=params,
        replicated_params=replicated,
        attention_parts=tuple(parts),
        kv_elems_per_token=kv_lora + rope,
        kv_heads=1,
        kv_extra_bytes_per_token=extra_bytes,
        kv_read_cap_tokens=read_cap,
        attention_work=tuple(work),
    )


def gated_mlp_params(h: int, inter: int) -> int:
    """SwiGLU / GeGLU MLP: gate, up and down projections."""
    return 3 * h * inter


def moe_parts(
    *,
    h: int,
    experts: int,
    top_k: int,
    inter: int,
    shared_inter: int = 0,
    gated: bool = True,
    latent: int = 0,
    router_bias: bool = False,
) -> dict[str, Any]:
    """Routed experts (+ router), the active share, and the shared expert(s) of one layer.

    ``latent`` > 0: the experts work on a ``latent``-wide projection of the hidden state
    (Nemotron 3 latent MoE): two h x latent projections are added to the routed class.
    """
    width = latent or h
    per_expert = (3 if gated else 2) * width * inter
    router = h * experts + (experts if router_bias else 0)
    proj = 2 * h * latent if latent else 0
    shared = (3 if gated else 2) * h * shared_inter if shared_inter else 0
    return {
        "routed_params": experts * per_expert + router + proj,
        "routed_active_params": top_k * per_expert + router + proj,
        "router_params": router + proj,
        "shared_params": shared,
    }


# --------------------------------------------------------------------------- families
def _layer_types(cfg: Config, n: int) -> list[str] | None:
    types = _list(cfg, "layer_types", n)
    if types is None:
        return None
    if not all(isinstance(t, str) for t in types):
        raise ConfigError("field 'layer_types': expected a list of strings")
    return types


def _moe_flags(cfg: Config, n: int) -> list[bool]:
    """Which layers carry MoE: first_k_dense_replace, moe_layer_freq (int or list),
    mlp_only_layers, decoder_sparse_step."""
    freq = cfg.get("moe_layer_freq")
    if isinstance(freq, list):
        if len(freq) != n or not all(v in (0, 1) for v in freq):
            raise ConfigError(f"field 'moe_layer_freq': expected {n} entries of 0 or 1")
        return [bool(v) for v in freq]
    first_dense = _int(cfg, "first_k_dense_replace", default=0, minimum=0)
    if first_dense > n:
        raise ConfigError(f"field 'first_k_dense_replace': {first_dense} exceeds the {n} layers")
    only_mlp = cfg.get("mlp_only_layers") or []
    if not isinstance(only_mlp, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in only_mlp
    ):
        raise ConfigError("field 'mlp_only_layers': expected a list of layer indices")
    # DeepSeek (moe_layer_freq): layer_idx % freq == 0; Qwen-MoE (decoder_sparse_step):
    # (layer_idx + 1) % step == 0
    freq = _int(cfg, "moe_layer_freq", default=1)
    step = _int(cfg, "decoder_sparse_step", default=1)
    return [
        i >= first_dense and i % freq == 0 and (i + 1) % step == 0 and i not in only_mlp
        for i in range(n)
    ]


def _transformer(cfg: Config, family: str) -> Architecture:
    """Dense or MoE transformers with GQA or MLA attention (most families)."""
    n = _int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    h = _int(cfg, "hidden_size", "n_embd", "d_model")
    heads = _int(cfg, "num_attention_heads", "n_head")
    kv_heads = _int(cfg, "num_key_value_heads", default=heads)
    head_dim = _int(cfg, "head_dim", default=h // heads if h % heads == 0 else None)
    bias = _bool(cfg, "attention_bias", False) or family in ("qwen2", "mimo")
    output_gate = _bool(cfg, "attn_output_gate", False)
    notes: list[str] = []
    types, win = _attention_types(cfg, family, n, notes)
    n_experts, top_k, moe, flags = _moe(cfg, family, n, h)
    dense_inter = _dense_intermediate(cfg, family, flags)
    _refuse_unsupported(cfg, family)
    plan = _attention_plan(
        cfg,
        family,
        n=n,
        h=h,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        win=win,
        bias=bias,
        output_gate=output_gate,
    )
    layers = _transformer_layers(
        plan, types, flags, moe, family=family, h=h, dense_inter=dense_inter
    )
    if plan.shared_kv:
        notes.append(f"the last {plan.shared_kv} layers reuse earlier layers' KV cache")
    mtp = _mtp_layers(cfg, layers, flags)
    return Architecture(
        family=family,
        hidden_size=h,
        num_attention_heads=heads,
        vocab_size=_int(cfg, "vocab_size"),
        tie_word_embeddings=_bool(cfg, "tie_word_embeddings", family.startswith("gemma")),
        max_context_tokens=_int(cfg, "max_position_embeddings", "n_positions", "seq_length"),
        layers=tuple(layers),
        mtp_layers=mtp,
        extra_embedding_params=_per_layer_embeddings(cfg, n),
        num_experts=n_experts,
        experts_per_token=top_k,
        notes=tuple(notes),
    )


_ATTENTION_TYPES = ("full_attention", "sliding_attention")


def _attention_types(
    cfg: Config, family: str, n: int, notes: list[str]
) -> tuple[list[str], int | None]:
    """Which layers slide: each layer's type (full or sliding attention) and the window in
    tokens (None when no layer slides)."""
    types = _layer_types(cfg, n)
    window = cfg.get("sliding_window")
    if family == "llama4_text":
        types, window = _llama4_chunked_types(cfg, n, notes)
    elif types is None and window and _bool(cfg, "use_sliding_window", True):
        types = _sliding_pattern(cfg, family, n)
    if types is None or (window is None and family != "llama4_text"):
        types = ["full_attention"] * n
    bad = next((t for t in types if t not in _ATTENTION_TYPES), None)
    if bad is not None:
        raise ConfigError(f"field 'layer_types': unknown layer type {_short(bad)}")
    win = (
        _int(cfg, "sliding_window", "attention_chunk_size")
        if "sliding_attention" in types
        else None
    )
    return types, win


def _llama4_chunked_types(cfg: Config, n: int, notes: list[str]) -> tuple[list[str], int | None]:
    """Llama 4: RoPE layers use chunked local attention (at most `chunk` tokens; a window in
    memory), the others (``no_rope_layers`` 0, every fourth by default) full attention."""
    chunk = _int(cfg, "attention_chunk_size", default=0, minimum=0)
    nope = cfg.get("no_rope_layers") or [int((i + 1) % 4 != 0) for i in range(n)]
    if not isinstance(nope, list) or len(nope) != n or any(v not in (0, 1) for v in nope):
        raise ConfigError(f"field 'no_rope_layers': expected {n} entries of 0 or 1")
    types = ["sliding_attention" if (chunk and nope[i]) else "full_attention" for i in range(n)]
    notes.append(
        f"chunked local attention counted as a sliding window of {chunk} tokens (3 of 4 layers)"
    )
    return types, chunk or None


def _sliding_pattern(cfg: Config, family: str, n: int) -> list[str]:
    """The sliding layers of a config with a window but no ``layer_types``."""
    if cfg.get("sliding_window_pattern"):
        every = _int(cfg, "sliding_window_pattern")
        return ["full_attention" if (i + 1) % every == 0 else "sliding_attention" for i in range(n)]
    if family == "gemma2":  # Gemma2Config: even layers slide
        return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]
    if family in ("qwen2", "mimo", "qwen3", "qwen3_moe"):
        first = _int(cfg, "max_window_layers", default=n, minimum=0)
        return ["sliding_attention" if i >= first else "full_attention" for i in range(n)]
    return ["sliding_attention"] * n


def _moe(cfg: Config, family: str, n: int, h: int) -> tuple[int, int, dict[str, Any], list[bool]]:
    """(routed experts, experts per token, `moe_parts` of a MoE layer, which layers are
    MoE); no experts: (0, 0, {}, all False)."""
    n_experts = _int(
        cfg, "num_experts", "num_local_experts", "n_routed_experts", default=0, minimum=0
    )
    if not n_experts:
        return 0, 0, {}, [False] * n
    top_k = _int(
        cfg, "num_experts_per_tok", "experts_per_token", "top_k_experts", "num_experts_per_token"
    )
    if top_k > n_experts:
        raise ConfigError(f"field 'num_experts_per_tok': {top_k} exceeds the {n_experts} experts")
    inter = _int(cfg, "moe_intermediate_size", "intermediate_size")
    moe = moe_parts(
        h=h,
        experts=n_experts,
        top_k=top_k,
        inter=inter,
        shared_inter=_shared_intermediate(cfg, family, inter),
        router_bias=family == "gpt_oss",
    )
    flags = _llama4_moe_flags(cfg, n) if family == "llama4_text" else _moe_flags(cfg, n)
    mlp_types = _list(cfg, "mlp_layer_types", n)
    if mlp_types is not None:  # GLM-5.x: the explicit per-layer list wins
        if any(v not in ("dense", "sparse") for v in mlp_types):
            raise ConfigError("field 'mlp_layer_types': expected 'dense' or 'sparse'")
        flags = [v == "sparse" for v in mlp_types]
    if family == "gemma4_text" and not _bool(cfg, "enable_moe_block", True):
        flags = [False] * n
    return n_experts, top_k, moe, flags


def _shared_intermediate(cfg: Config, family: str, inter: int) -> int:
    """Total intermediate width of a MoE layer's shared expert(s)."""
    n_shared = _int(cfg, "n_shared_experts", "num_shared_experts", default=0, minimum=0)
    shared_inter = _int(
        cfg, "shared_expert_intermediate_size", "shared_intermediate_size", default=0, minimum=0
    )
    if family == "llama4_text":
        return inter  # one shared expert per MoE layer
    if n_shared and not shared_inter:
        return inter * n_shared
    if n_shared > 1 and family in ("minimax_m3",):
        return shared_inter * n_shared
    return shared_inter


def _llama4_moe_flags(cfg: Config, n: int) -> list[bool]:
    """Llama 4's MoE layers: ``moe_layers`` or every ``interleave_moe_layer_step``-th."""
    moe_layers = cfg.get("moe_layers")
    if moe_layers is None:
        step = _int(cfg, "interleave_moe_layer_step", default=1)
        return [(i + 1) % step == 0 for i in range(n)]
    if not isinstance(moe_layers, list) or not all(
        isinstance(i, int) and 0 <= i < n for i in moe_layers
    ):
        raise ConfigError("field 'moe_layers': expected a list of layer indices")
    return [i in moe_layers for i in range(n)]


def _dense_intermediate(cfg: Config, family: str, flags: list[bool]) -> int:
    """The dense MLP width (0 when every layer is MoE, except Gemma 4 which has both)."""
    if all(flags) and family != "gemma4_text":
        return 0
    key = {"llama4_text": "intermediate_size_mlp", "minimax_m3": "dense_intermediate_size"}.get(
        family, "intermediate_size"
    )
    return _int(cfg, key)


def _refuse_unsupported(cfg: Config, family: str) -> None:
    """Layer variants this module does not model: a one-line ConfigError naming the field."""
    if family == "gemma4_text" and _bool(cfg, "use_double_wide_mlp", False):
        raise ConfigError(
            "field 'use_double_wide_mlp': true (double-width MLPs of KV-sharing "
            "layers) is not supported"
        )
    attn_types = cfg.get("attn_type_list")
    if attn_types is not None and (
        not isinstance(attn_types, list) or any(v != 1 for v in attn_types)
    ):
        raise ConfigError(
            "field 'attn_type_list': lightning (linear) attention layers (0) are not supported"
        )


@dataclass(frozen=True, kw_only=True)
class _AttentionPlan:
    """What a transformer's attention layers are built from (see `_attention_plan`)."""

    cfg: Config
    n: int
    h: int
    heads: int
    kv_heads: int
    head_dim: int
    win: int | None
    bias: bool
    output_gate: bool
    k_eq_v: bool
    global_heads: int
    global_dim: int
    shared_kv: int
    use_mla: bool
    sparse_msa: list[bool] | None
    indexers: list[Any] | None

    def key(self, i: int, kind: str) -> tuple[Any, ...]:
        """Layer `i` depends on its index only through this key."""
        return (
            kind,
            i < self.n - self.shared_kv,
            self.indexers[i] if self.indexers is not None else None,
            bool(self.sparse_msa and self.sparse_msa[i]),
        )

    def layer(self, i: int, kind: str) -> Layer:
        """The attention of layer `i` (`kind`: full or sliding attention)."""
        kv_cache = i < self.n - self.shared_kv
        if self.use_mla:
            return mla_layer(
                self.cfg, self.h, indexer=self.indexers is None or self.indexers[i] == "full"
            )
        if kind == "sliding_attention":
            return gqa_layer(
                kind="sliding",
                h=self.h,
                heads=self.heads,
                kv_heads=self.kv_heads,
                head_dim=self.head_dim,
                window=self.win,
                output_gate=self.output_gate,
                bias=self.bias,
                kv_cache=kv_cache,
            )
        layer = gqa_layer(
            kind="full",
            h=self.h,
            heads=self.heads,
            kv_heads=self.global_heads,
            head_dim=self.global_dim,
            output_gate=self.output_gate,
            k_eq_v=self.k_eq_v,
            bias=self.bias,
            kv_cache=kv_cache,
        )
        if self.sparse_msa and self.sparse_msa[i]:
            layer = _msa(layer, self.cfg, self.h)
        return layer


def _attention_plan(
    cfg: Config,
    family: str,
    *,
    n: int,
    h: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    win: int | None,
    bias: bool,
    output_gate: bool,
) -> _AttentionPlan:
    """Global-layer KV heads and head size (Gemma 4), KV-sharing layers, MLA, MiniMax
    sparse attention and DSA indexers, each checked."""
    k_eq_v = family == "gemma4_text" and _bool(cfg, "attention_k_eq_v", False)
    # vLLM gemma4_layer_config: global KV heads only where V reuses K
    global_heads = _int(cfg, "num_global_key_value_heads", default=kv_heads) if k_eq_v else kv_heads
    global_dim = _int(cfg, "global_head_dim", default=head_dim)
    shared_kv = _int(cfg, "num_kv_shared_layers", default=0, minimum=0)
    if shared_kv >= n:
        raise ConfigError(
            f"field 'num_kv_shared_layers': {shared_kv} leaves no layer with "
            f"its own KV cache ({n} layers)"
        )
    if kv_heads > heads or heads % kv_heads:
        raise ConfigError(
            f"field 'num_key_value_heads': {kv_heads} does not divide the {heads} attention heads"
        )
    use_mla = cfg.get("kv_lora_rank") is not None
    sparse_msa = _sparse_msa(cfg, n) if family == "minimax_m3" else None
    indexers = _list(cfg, "indexer_types", n)
    if indexers is not None and any(v not in ("full", "shared") for v in indexers):
        raise ConfigError("field 'indexer_types': expected entries 'full' or 'shared'")
    return _AttentionPlan(
        cfg=cfg,
        n=n,
        h=h,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        win=win,
        bias=bias,
        output_gate=output_gate,
        k_eq_v=k_eq_v,
        global_heads=global_heads,
        global_dim=global_dim,
        shared_kv=shared_kv,
        use_mla=use_mla,
        sparse_msa=sparse_msa,
        indexers=indexers,
    )


def _transformer_layers(
    plan: _AttentionPlan,
    types: list[str],
    flags: list[bool],
    moe: dict[str, Any],
    *,
    family: str,
    h: int,
    dense_inter: int,
) -> list[Layer]:
    """Each layer: its attention, then MoE (`flags`) or a dense gated MLP (Gemma 4: both).

    Layers are frozen values and depend on the index only through their key: each distinct
    one is built once (in layer order, so the first error is the same) and shared."""
    built: dict[tuple[Any, ...], Layer] = {}
    layers: list[Layer] = []
    for i in range(plan.n):
        layer_key = (*plan.key(i, types[i]), flags[i])
        layer = built.get(layer_key)
        if layer is None:
            layer = plan.layer(i, types[i])
            if flags[i]:
                layer = replace(layer, **moe)
            if not flags[i] or family == "gemma4_text":
                layer = replace(layer, dense_mlp_params=gated_mlp_params(h, dense_inter))
            built[layer_key] = layer
        layers.append(layer)
    return layers


def _sparse_msa(cfg: Config, n: int) -> list[bool] | None:
    sac = cfg.get("sparse_attention_config")
    if not isinstance(sac, Mapping) or not sac.get("use_sparse_attention"):
        return None
    freq = _list(sac, "sparse_attention_freq", n)
    return [bool(v) for v in freq] if freq else [True] * n


def _msa(layer: Layer, cfg: Config, h: int) -> Layer:
    """MiniMax sparse attention: GQA plus a block indexer (top-k blocks are read).

    Indexer: ``sparse_num_index_heads`` query heads and one key head of
    ``sparse_index_dim``; its keys are cached for every token (counted in bf16, read in
    full every step), the attention reads the top-k blocks plus the local block.
    """
    sac = cfg["sparse_attention_config"]
    i_heads = _int(sac, "sparse_num_index_heads")
    i_dim = _int(sac, "sparse_index_dim")
    blocks = _int(sac, "sparse_topk_blocks")
    block = _int(sac, "sparse_block_size")
    local = _int(sac, "sparse_local_block", default=0, minimum=0)
    cap = (blocks + local) * block
    work = layer.attention_work[0]
    indexer = h * (i_heads + 1) * i_dim
    return replace(
        layer,
        kind="sparse",
        attention_params=layer.attention_params + indexer,
        attention_parts=(*layer.attention_parts, ("indexer", indexer)),
        kv_read_cap_tokens=cap,
        kv_extra_bytes_per_token=2.0 * i_dim,
        attention_work=(
            AttentionWork(flops_per_ctx_token=work.flops_per_ctx_token, cap_tokens=cap),
            AttentionWork(flops_per_ctx_token=2 * i_heads * i_dim),
        ),
    )


def _per_layer_embeddings(cfg: Config, n: int) -> int:
    per_layer = _int(cfg, "hidden_size_per_layer_input", default=0, minimum=0)
    if not per_layer:
        return 0
    vocab = _int(cfg, "vocab_size_per_layer_input", "vocab_size")
    return vocab * n * per_layer


def _mtp_layers(cfg: Config, layers: list[Layer], flags: list[bool]) -> tuple[Layer, ...]:
    """Multi-token-prediction modules: each one decoder layer like the model's last."""
    count = _int(cfg, "num_nextn_predict_layers", "mtp_num_hidden_layers", default=0, minimum=0)
    if not count and cfg.get("num_mtp_modules") is not None and _bool(cfg, "use_mtp", True):
        count = _int(cfg, "num_mtp_modules", minimum=0) * _int(
            cfg, "mtp_transformer_layers", default=1
        )
    if not count or not layers:
        return ()
    template = next(
        (x for x, f in zip(reversed(layers), reversed(flags), strict=True) if f), layers[-1]
    )
    return (template,) * count


# --------------------------------------------------------------------------- hybrids
def _gated_deltanet(cfg: Config, h: int) -> Layer:
    """Qwen3-Next / Qwen3.5 Gated DeltaNet: in_proj_qkvz + ba, depthwise conv, out_proj.

    State per sequence: ``v_heads * k_dim * v_dim`` recurrent values (``mamba_ssm_dtype``;
    vLLM's "auto" keeps the model's bf16 when the config does not say float32) plus the
    conv window ``(2 k + v) * (kernel - 1)`` in bf16.
    """
    nk = _int(cfg, "linear_num_key_heads")
    nv = _int(cfg, "linear_num_value_heads")
    dk = _int(cfg, "linear_key_head_dim")
    dv = _int(cfg, "linear_value_head_dim")
    kernel = _int(cfg, "linear_conv_kernel_dim", default=4)
    key_dim, value_dim = nk * dk, nv * dv
    params = (
        h * (2 * key_dim + 2 * value_dim)
        + h * 2 * nv
        + (2 * key_dim + value_dim) * kernel
        + value_dim * h
    )
    state_elem = 4 if cfg.get("mamba_ssm_dtype") == "float32" else 2
    state = nv * dk * dv * state_elem + (2 * key_dim + value_dim) * (kernel - 1) * 2
    return Layer(kind="linear", linear_attention_params=params, state_bytes=state, state_shards=nk)


def _qwen_next(cfg: Config, family: str) -> Architecture:
    """Qwen3-Next / Qwen3.5 / Qwen3.6: Gated DeltaNet + gated softmax attention."""
    n = _int(cfg, "num_hidden_layers")
    types = _layer_types(cfg, n)
    if types is None:
        every = _int(cfg, "full_attention_interval")
        types = ["full_attention" if (i + 1) % every == 0 else "linear_attention" for i in range(n)]
    for t in types:
        if t not in ("full_attention", "linear_attention"):
            raise ConfigError(f"field 'layer_types': unknown layer type {_short(t)}")
    base = _transformer(
        {
            **cfg,
            "layer_types": None,
            "sliding_window": None,
            "attn_output_gate": cfg.get("attn_output_gate", True),
        },
        family,
    )
    h = base.hidden_size
    delta = _gated_deltanet(cfg, h)
    layers = []
    linear: dict[Layer, Layer] = {}  # base layers are shared values: convert each once
    for layer, t in zip(base.layers, types, strict=True):
        if t == "linear_attention":
            done = linear.get(layer)
            if done is None:
                done = linear[layer] = replace(
                    layer,
                    kind="linear",
                    attention_params=0,
                    replicated_params=0,
                    kv_elems_per_token=0.0,
                    attention_work=(),
                    linear_attention_params=delta.linear_attention_params,
                    state_bytes=delta.state_bytes,
                    state_shards=delta.state_shards,
                )
            layer = done
        layers.append(layer)
    # MTP modules are full-attention layers (base.mtp_layers); the shared-expert gate
    # (h x 1) is below 0.01 % of parameters and not counted.
    return replace(base, layers=tuple(layers))


def _mamba2(cfg: Config, h: int) -> Layer:
    """Mamba-2 mixer (Nemotron-H): in_proj, depthwise conv, out_proj, A/D/dt per head.

    State per sequence: ``heads * head_dim * d_state`` SSM values
    (``mamba_ssm_cache_dtype``, default bf16) + conv window
    ``(d_inner + 2 * n_groups * d_state) * (kernel - 1)`` in bf16.
    """
    heads = _int(cfg, "mamba_num_heads")
    head_dim = _int(cfg, "mamba_head_dim")
    d_state = _int(cfg, "ssm_state_size")
    groups = _int(cfg, "n_groups")
    kernel = _int(cfg, "conv_kernel")
    d_inner = heads * head_dim
    conv_dim = d_inner + 2 * groups * d_state
    params = (
        h * (2 * d_inner + 2 * groups * d_state + heads)
        + conv_dim * kernel
        + 3 * heads
        + d_inner
        + d_inner * h
    )
    ssm_elem = 4 if cfg.get("mamba_ssm_cache_dtype") == "float32" else 2
    state = heads * head_dim * d_state * ssm_elem + conv_dim * (kernel - 1) * 2
    # TP splits the SSM state by head (vLLM MambaMixer2; groups are replicated when fewer)
    return Layer(
        kind="mamba", linear_attention_params=params, state_bytes=state, state_shards=heads
    )


_BLOCK_TYPES = {"mamba": "M", "moe": "E", "attention": "*", "mlp": "-"}


def _block_pattern(cfg: Config, pattern_key: str, list_key: str) -> str | None:
    """``hybrid_override_pattern`` (``"MEM*E"``) or ``layers_block_type`` (a list of
    ``mamba``/``moe``/``attention``/``mlp``, also seen as the text of such a list)."""
    pattern = cfg.get(pattern_key)
    if isinstance(pattern, str) and pattern:
        return pattern
    blocks = cfg.get(list_key)
    if isinstance(blocks, str):
        blocks = re.findall(r"[A-Za-z_]+", blocks)
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
        raise ConfigError(f"field '{list_key}': expected a list of block types")
    unknown = next((b for b in blocks if b not in _BLOCK_TYPES), None)
    if unknown is not None:
        raise ConfigError(f"field '{list_key}': unknown block type {_short(unknown)}")
    return "".join(_BLOCK_TYPES[b] for b in blocks)


def _nemotron_block(cfg: Config, h: int, ch: str) -> Layer:
    """One Nemotron-H block: ``M`` Mamba-2, ``*`` attention, ``-`` MLP, ``E`` MoE (ReLU^2
    MLPs, not gated)."""
    if ch == "M":
        return _mamba2(cfg, h)
    if ch == "*":
        return gqa_layer(
            kind="full",
            h=h,
            heads=_int(cfg, "num_attention_heads"),
            kv_heads=_int(cfg, "num_key_value_heads"),
            head_dim=_int(cfg, "head_dim", "attention_head_dim"),
        )
    if ch == "-":
        return Layer(kind="mlp", dense_mlp_params=2 * h * _int(cfg, "intermediate_size"))
    if ch == "E":
        parts = moe_parts(
            h=h,
            experts=_int(cfg, "n_routed_experts"),
            top_k=_int(cfg, "num_experts_per_tok"),
            inter=_int(cfg, "moe_intermediate_size"),
            shared_inter=_int(cfg, "moe_shared_expert_intermediate_size", default=0, minimum=0)
            * max(1, _int(cfg, "n_shared_experts", default=1, minimum=0)),
            gated=False,
            latent=_int(cfg, "moe_latent_size", default=0, minimum=0),
        )
        return Layer(kind="moe", **parts)
    raise ConfigError(f"field 'hybrid_override_pattern': unknown block type {ch!r}")


def _nemotron_h(cfg: Config, family: str) -> Architecture:
    """Nemotron-H / Nemotron 3: one block per character of ``hybrid_override_pattern``
    (or entry of ``layers_block_type``): ``M`` Mamba-2, ``*`` attention, ``-`` MLP, ``E``
    MoE (ReLU^2 MLPs, not gated)."""
    pattern = _block_pattern(cfg, "hybrid_override_pattern", "layers_block_type")
    if not pattern:
        raise ConfigError("missing field 'hybrid_override_pattern' (or 'layers_block_type')")
    n = _int(cfg, "num_hidden_layers", default=len(pattern))
    if len(pattern) != n:
        raise ConfigError(
            f"field 'hybrid_override_pattern': {len(pattern)} blocks for num_hidden_layers {n}"
        )
    h = _int(cfg, "hidden_size")
    blocks: dict[str, Layer] = {}  # one (shared, frozen) layer per block type
    layers = []
    for ch in pattern:
        if ch not in blocks:
            blocks[ch] = _nemotron_block(cfg, h, ch)
        layers.append(blocks[ch])
    mtp: tuple[Layer, ...] = ()
    count = _int(cfg, "num_nextn_predict_layers", default=0, minimum=0)
    if count:
        mtp_pattern = (
            _block_pattern(cfg, "mtp_hybrid_override_pattern", "mtp_layers_block_type") or "*E"
        )
        mtp = tuple(_nemotron_block(cfg, h, ch) for ch in mtp_pattern) * count
    n_exp = _int(cfg, "n_routed_experts", default=0, minimum=0)
    return Architecture(
        family=family,
        hidden_size=h,
        num_attention_heads=_int(cfg, "num_attention_heads"),
        vocab_size=_int(cfg, "vocab_size"),
        tie_word_embeddings=_bool(cfg, "tie_word_embeddings", False),
        max_context_tokens=_int(cfg, "max_position_embeddings"),
        layers=tuple(layers),
        mtp_layers=mtp,
        num_experts=n_exp,
        experts_per_token=_int(cfg, "num_experts_per_tok", default=0, minimum=0) if n_exp else 0,
    )


def _nemotron_nas(cfg: Config, family: str) -> Architecture:
    """Nemotron-NAS (DeciLM): per-block attention (GQA, linear or none) and MLP width.

    MLP width from ``ffn_mult`` as in modeling_decilm: ``int(2 * mult * h / 3)`` rounded up
    to a multiple of 256.
    """
    n = _int(cfg, "num_hidden_layers")
    h = _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    head_dim = _int(cfg, "head_dim", default=h // heads)
    blocks = _list(cfg, "block_configs", n)
    if blocks is None:
        raise ConfigError("missing field 'block_configs'")
    layers = []
    for i, b in enumerate(blocks):
        attn, ffn = (b.get("attention"), b.get("ffn")) if isinstance(b, Mapping) else (None, None)
        if not isinstance(attn, Mapping) or not isinstance(ffn, Mapping):
            raise ConfigError(f"field 'block_configs[{i}]': expected attention and ffn objects")
        layer = _nas_attention(attn, i, h=h, heads=heads, head_dim=head_dim)
        mlp = _nas_mlp_params(ffn, i, h)
        layers.append(replace(layer, dense_mlp_params=mlp))
    return Architecture(
        family=family,
        hidden_size=h,
        num_attention_heads=heads,
        vocab_size=_int(cfg, "vocab_size"),
        tie_word_embeddings=_bool(cfg, "tie_word_embeddings", False),
        max_context_tokens=_int(cfg, "max_position_embeddings"),
        layers=tuple(layers),
    )


def _nas_attention(attn: Config, i: int, *, h: int, heads: int, head_dim: int) -> Layer:
    """The attention of Nemotron-NAS block `i`: none, a linear replacement, or GQA."""
    if attn.get("no_op"):
        return Layer(kind="no-attention")
    if attn.get("replace_with_linear"):
        return Layer(kind="linear-replacement", attention_params=h * h)
    if attn.get("window_length") or attn.get("sparsify"):
        raise ConfigError(
            f"field 'block_configs[{i}].attention': windowed or sparsified "
            "attention blocks are not supported"
        )
    group = _int(attn, "n_heads_in_group")
    if group > heads or heads % group:
        raise ConfigError(
            f"field 'block_configs[{i}].attention.n_heads_in_group': "
            f"{group} does not divide the {heads} heads"
        )
    return gqa_layer(kind="full", h=h, heads=heads, kv_heads=heads // group, head_dim=head_dim)


def _nas_mlp_params(ffn: Config, i: int, h: int) -> int:
    """The MLP parameters of Nemotron-NAS block `i`: none, a linear replacement, or a gated
    MLP of width ``int(2 * ffn_mult * h / 3)`` rounded up to a multiple of 256."""
    if ffn.get("no_op"):
        return 0
    if ffn.get("replace_with_linear"):
        return h * h
    mult = _float(ffn, "ffn_mult", 0.0)
    if mult <= 0:
        raise ConfigError(f"field 'block_configs[{i}].ffn.ffn_mult': expected a positive number")
    inter = int(2 * mult * h / 3)
    inter = ((inter + 255) // 256) * 256
    return gated_mlp_params(h, inter)


def _deepseek_v4(cfg: Config, family: str) -> Architecture:
    """DeepSeek-V4: per-layer ``compress_ratios`` 0 (sliding window only), 4 (CSA: window +
    1/4 compressed KV + FP4 indexer keys, top-k), 128 (HCA: window + 1/128 compressed KV).

    Weights and cache as in aiconfigurator's DeepSeek-V4 model (weight_bytes,
    get_kvcache_bytes_per_sequence): one KV head of ``head_dim`` per entry; compressor decode
    state in FP32; q/o low-rank projections with ``o_groups`` grouped output.
    """
    n = _int(cfg, "num_hidden_layers")
    h = _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    hd = _int(cfg, "head_dim")
    q_lora = _int(cfg, "q_lora_rank")
    o_lora = _int(cfg, "o_lora_rank")
    o_groups = _int(cfg, "o_groups")
    i_heads = _int(cfg, "index_n_heads")
    i_dim = _int(cfg, "index_head_dim")
    topk = _int(cfg, "index_topk")
    window = _int(cfg, "sliding_window")
    count = _int(cfg, "num_nextn_predict_layers", default=0, minimum=0)
    ratios = cfg.get("compress_ratios")
    if not isinstance(ratios, list) or len(ratios) not in (n, n + count):
        raise ConfigError(
            f"field 'compress_ratios': expected a list of {n} entries (one per "
            "layer, optionally one more per MTP module)"
        )
    experts = _int(cfg, "n_routed_experts")
    moe = moe_parts(
        h=h,
        experts=experts,
        top_k=_int(cfg, "num_experts_per_tok"),
        inter=_int(cfg, "moe_intermediate_size"),
        shared_inter=_int(cfg, "moe_intermediate_size") * _int(cfg, "n_shared_experts", default=1),
    )
    base_parts = [
        ("wq_a", h * q_lora),
        ("wq_b", q_lora * heads * hd),
        ("wkv", h * hd),
        ("wo_a", heads * hd * o_lora),
        ("wo_b", o_groups * o_lora * h),
    ]
    layers = []
    for i, r in enumerate(ratios):
        if r not in (0, 4, 128):
            raise ConfigError(
                f"field 'compress_ratios[{i}]': ratio {_short(r)} is not one of 0, 4, 128"
            )
        parts = list(base_parts)
        extra = 0.0
        state = 0.0
        work = [AttentionWork(flops_per_ctx_token=4 * heads * hd, cap_tokens=window)]
        grow = 0.0
        if r:
            mult = 2 if r == 4 else 1
            parts.append(("compressor", 2 * h * mult * hd))
            state += 2 * r * mult * hd * 4
            grow = hd / r
            work.append(
                AttentionWork(
                    flops_per_ctx_token=4 * heads * hd / r, cap_tokens=topk * r if r == 4 else None
                )
            )
        if r == 4:
            parts.append(("indexer", q_lora * i_heads * i_dim + 2 * h * 2 * i_dim + h * i_heads))
            extra = i_dim * 0.5 / r
            state += 2 * r * 2 * i_dim * 4
            work.append(AttentionWork(flops_per_ctx_token=2 * i_heads * i_dim / r))
        kind = {0: "swa", 4: "csa", 128: "hca"}[r]
        layers.append(
            Layer(
                kind=kind,
                attention_params=sum(n for _, n in parts),
                attention_parts=tuple(parts),
                replicated_params=h * (q_lora + hd),
                kv_elems_per_token=grow,
                kv_heads=1,
                window_elems_per_token=hd,
                window_tokens=window,
                kv_extra_bytes_per_token=extra,
                state_bytes=state,
                kv_read_cap_tokens=topk * r if r == 4 else None,
                attention_work=tuple(work),
                **moe,
            )
        )
    mtp, layers = layers[n:], layers[:n]
    return Architecture(
        family=family,
        hidden_size=h,
        num_attention_heads=heads,
        vocab_size=_int(cfg, "vocab_size"),
        tie_word_embeddings=_bool(cfg, "tie_word_embeddings", False),
        max_context_tokens=_int(cfg, "max_position_embeddings"),
        layers=tuple(layers),
        mtp_layers=tuple(mtp) or (layers[-1],) * count,
        num_experts=experts,
        experts_per_token=_int(cfg, "num_experts_per_tok"),
        notes=("hyper-connection mixers (hc_mult) not counted: < 0.05 % of parameters",),
    )


# --------------------------------------------------------------------------- vision
def vision_params(vcfg: Config) -> int:
    """Parameters of a ViT vision tower and its projector, from ``vision_config``.

    Per layer ``4 h^2`` (attention) + ``2 h i`` (MLP) + biases; a patch embedding; a
    projector to the text width (patch-merger MLP where ``spatial_merge_size`` is given).
    Accurate to a few percent of the tower (0.2-1 B parameters in 2024-2026 models).
    """
    h = _int(vcfg, "hidden_size", "vt_hidden_size", "embed_dim", "width")
    n = _int(vcfg, "num_hidden_layers", "depth", "vt_num_hidden_layers", "layers")
    inter = _int(vcfg, "intermediate_size", "vt_intermediate_size", default=4 * h)
    patch = _int(vcfg, "patch_size", default=14)
    channels = _int(vcfg, "in_channels", "num_channels", default=3)
    temporal = _int(vcfg, "temporal_patch_size", default=1)
    merge = _int(vcfg, "spatial_merge_size", default=1)
    kernel = vcfg.get("merge_kernel_size")
    if isinstance(kernel, list) and len(kernel) == 2 and all(isinstance(k, int) for k in kernel):
        merge = max(merge, math.isqrt(kernel[0] * kernel[1]))
    out = _int(vcfg, "out_hidden_size", "projection_dim", "text_hidden_size", default=0, minimum=0)
    per_layer = 4 * h * h + 2 * h * inter + 6 * h + inter
    projector = (h * merge * merge) ** 2 + h * merge * merge * out if out else 0
    return n * per_layer + channels * temporal * patch * patch * h + projector


# --------------------------------------------------------------------------- entry point
_TRANSFORMERS = {
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "qwen3_moe",
    "mimo",
    "gemma3_text",
    "gemma2",
    "gemma4_text",
    "gpt_oss",
    "glm4_moe",
    "minimax_m2",
    "minimax_m3",
    "deepseek_v2",
    "deepseek_v3",
    "deepseek_v32",
    "kimi_k2",
    "glm_moe_dsa",
    "llama4_text",
    "qwen3_vl_text",
    "qwen3_vl_moe_text",
    "ministral",
    "mistral3",
    "olmo2",
    "granite",
    "phi3",
}
_BUILDERS: dict[str, Callable[[Config, str], Architecture]] = {
    **{t: _transformer for t in _TRANSFORMERS},
    "qwen3_next": _qwen_next,
    "qwen3_5_text": _qwen_next,
    "qwen3_5_moe_text": _qwen_next,
    "nemotron_h": _nemotron_h,
    "nemotron-nas": _nemotron_nas,
    "deepseek_v4": _deepseek_v4,
    "deepseek_ref": _deepseek_v4,
}
#: Wrapper model types whose text model sits in ``text_config`` and their text type.
_ALIASES = {
    "gemma3": "gemma3_text",
    "gemma4": "gemma4_text",
    "llama4": "llama4_text",
    "qwen3_vl": "qwen3_vl_text",
    "qwen3_vl_moe": "qwen3_vl_moe_text",
    "qwen3_5": "qwen3_5_text",
    "qwen3_5_moe": "qwen3_5_moe_text",
    "kimi_k25": "kimi_k2",
    "minimax_m3_vl": "minimax_m3",
    "mimo": "mimo",
}
SUPPORTED_MODEL_TYPES = tuple(sorted(set(_BUILDERS) | set(_ALIASES)))


def text_config(raw: Config) -> tuple[Config, str]:
    """(the text model's config, its model_type) of a possibly multimodal config.json."""
    sub = None
    for key in ("text_config", "llm_config", "language_config"):
        if isinstance(raw.get(key), Mapping):
            sub = raw[key]
            break
    outer = {k: v for k, v in raw.items() if not isinstance(v, Mapping)}
    cfg: dict[str, Any] = {**outer, **sub} if sub is not None else dict(raw)
    if sub is not None and "model_type" not in sub:
        cfg["model_type"] = raw.get("model_type")
    model_type = cfg.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ConfigError("missing field 'model_type'")
    if sub is not None and model_type == raw.get("model_type"):
        model_type = _ALIASES.get(model_type, model_type)
    return cfg, _ALIASES.get(model_type, model_type)


def architecture_from_config(raw: Config) -> Architecture:
    """The `Architecture` of a config.json mapping; ConfigError (one line) if unsupported."""
    if not isinstance(raw, Mapping):
        raise ConfigError("top level must be a JSON object")
    cfg, model_type = text_config(raw)
    builder = _BUILDERS.get(model_type)
    if builder is None:
        raise ConfigError(
            f"field 'model_type': '{_short(model_type)[1:-1]}' is not a supported "
            f"architecture (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    arch = builder(cfg, model_type)
    vcfg = raw.get("vision_config")
    if vcfg is not None and not isinstance(vcfg, Mapping):
        raise ConfigError("field 'vision_config': expected an object")
    if isinstance(vcfg, Mapping):
        try:
            vision = vision_params(vcfg)
        except ConfigError as exc:
            raise ConfigError(f"vision_config: {exc}") from None
        arch = replace(
            arch,
            vision_params=vision,
            notes=(
                *arch.notes,
                "vision tower counted from vision_config "
                "(in memory, not in the bytes read per generated token)",
            ),
        )
    return arch


__all__ = [
    "SUPPORTED_MODEL_TYPES",
    "ConfigError",
    "architecture_from_config",
    "text_config",
    "vision_params",
]
