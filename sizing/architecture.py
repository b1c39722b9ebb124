"""A model's architecture as a list of decoder layers: parameters, KV cache, attention work.

`sizing.hfconfig` builds an `Architecture` from a Hugging Face ``config.json``; everything
that counts parameters, weight bytes, KV bytes or attention FLOPs reads it (one
implementation for ``model``, ``estimate``, ``compare`` and the sweep).

Units: parameter counts are plain counts, cache sizes are *elements* (multiply by the KV
dtype's bytes) unless the name says ``bytes``, FLOPs are floating-point operations.
Every figure is for tensor parallel 1; `kv_heads` / `state_shards` say how far tensor
parallelism can split the cache (vLLM replicates KV heads when tp > kv heads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

#: Tensor classes a checkpoint can quantize separately (design.md, "Decode throughput").
TENSOR_CLASSES: tuple[str, ...] = (
    "embedding",
    "lm_head",
    "attention",
    "linear_attention",
    "dense_mlp",
    "routed_experts",
    "shared_experts",
    "mtp",
    "vision",
)


@dataclass(frozen=True, kw_only=True)
class AttentionWork:
    """Attention FLOPs per generated (or prefilled) token per attended context token.

    ``cap_tokens``: the layer attends at most this many tokens (sliding window, sparse
    top-k); None = the whole context.
    """

    flops_per_ctx_token: float
    cap_tokens: int | None = None


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One decoder layer (or MTP module) at tensor parallel 1.

    Cache: ``kv_elems_per_token`` grows with the context; ``window_elems_per_token`` is
    kept for the last ``window_tokens`` tokens only; ``kv_extra_bytes_per_token`` grows with
    the context in a format fixed by the architecture (FP8/FP4 indexer keys), whatever the
    KV dtype; ``state_bytes`` is a constant per sequence (linear attention, Mamba-2).
    ``kv_read_cap_tokens``: sparse attention reads at most this many tokens of the growing
    cache per step (DeepSeek DSA, MiniMax MSA); the indexer keys are read in full.
    """

    kind: str
    attention_params: int = 0
    linear_attention_params: int = 0
    dense_mlp_params: int = 0
    routed_params: int = 0  # every routed expert, plus the router
    routed_active_params: int = 0  # the experts one token uses, plus the router
    router_params: int = 0  # of routed_params: router (+ latent projections),
    # read every step whatever experts are chosen
    shared_params: int = 0
    replicated_params: int = 0  # of attention_params: whole on every TP rank
    kv_elems_per_token: float = 0.0
    kv_heads: int = 1
    window_elems_per_token: float = 0.0
    window_tokens: int | None = None
    kv_extra_bytes_per_token: float = 0.0
    kv_read_cap_tokens: int | None = None
    state_bytes: float = 0.0
    state_shards: int = 1
    attention_work: tuple[AttentionWork, ...] = ()
    attention_parts: tuple[tuple[str, int], ...] = ()  # (projection, params), summing to
    # attention_params where known

    @property
    def params(self) -> int:
        return (
            self.attention_params
            + self.linear_attention_params
            + self.dense_mlp_params
            + self.routed_params
            + self.shared_params
        )


@dataclass(frozen=True, kw_only=True)
class Architecture:
    """A decoder-only LLM: embeddings, decoder layers, MTP modules, a vision tower.

    ``family`` names the importer path (e.g. ``"nemotron_h"``); ``notes`` are the
    assumptions the import made (shown wherever the model's figures are).
    """

    family: str
    hidden_size: int
    num_attention_heads: int  # query heads (tensor parallel must divide them)
    vocab_size: int
    tie_word_embeddings: bool
    max_context_tokens: int
    layers: tuple[Layer, ...]
    mtp_layers: tuple[Layer, ...] = ()
    extra_embedding_params: int = 0  # per-layer input embeddings (Gemma 3n/4 small)
    vision_params: int = 0
    num_experts: int = 0
    experts_per_token: int = 0
    notes: tuple[str, ...] = field(default=())

    # ---- parameters ----------------------------------------------------------------
    @cached_property
    def params_by_class(self) -> dict[str, int]:
        """Parameters per tensor class (MTP and vision included, each in its own class)."""
        h, v = self.hidden_size, self.vocab_size
        return {
            "embedding": v * h + self.extra_embedding_params,
            "lm_head": 0 if self.tie_word_embeddings else v * h,
            "attention": sum(x.attention_params for x in self.layers),
            "linear_attention": sum(x.linear_attention_params for x in self.layers),
            "dense_mlp": sum(x.dense_mlp_params for x in self.layers),
            "routed_experts": sum(x.routed_params for x in self.layers),
            "shared_experts": sum(x.shared_params for x in self.layers),
            "mtp": sum(x.params for x in self.mtp_layers) + 2 * h * h * len(self.mtp_layers),
            "vision": self.vision_params,
        }

    @property
    def total_params(self) -> int:
        """Language-model parameters as model cards count them (no MTP, no vision)."""
        c = self.params_by_class
        return sum(c.values()) - c["mtp"] - c["vision"]

    @property
    def router_params(self) -> int:
        return sum(x.router_params for x in self.layers)

    @property
    def routed_active_params(self) -> int:
        return sum(x.routed_active_params for x in self.layers)

    @property
    def active_params(self) -> int:
        """Parameters one generated token uses: every layer's mixer, dense and shared MLP,
        its experts, and the output projection (the embedding lookup is not a matmul)."""
        c = self.params_by_class
        head = c["lm_head"] or self.vocab_size * self.hidden_size
        return (
            c["attention"]
            + c["linear_attention"]
            + c["dense_mlp"]
            + c["shared_experts"]
            + self.routed_active_params
            + head
        )

    @property
    def replicated_attention_params(self) -> int:
        return sum(x.replicated_params for x in self.layers)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    # ---- cache ----------------------------------------------------------------------
    def kv_elems_per_token(self, *, tp: int = 1, swa_aware: bool = True) -> float:
        """Cache elements per context token per TP rank that grow with the context.

        Without SWA-aware allocation, windowed layers are paid as full layers.
        """
        total = 0.0
        for x in self.layers:
            total += x.kv_elems_per_token / min(tp, x.kv_heads)
            if not swa_aware:
                total += x.window_elems_per_token / min(tp, x.kv_heads)
        return total

    def kv_extra_bytes_per_token(self) -> float:
        return sum(x.kv_extra_bytes_per_token for x in self.layers)

    def window_elems(self, context_tokens: float, *, tp: int = 1) -> float:
        """Cache elements per sequence per TP rank held by windowed layers."""
        return sum(
            x.window_elems_per_token
            / min(tp, x.kv_heads)
            * min(context_tokens, x.window_tokens or context_tokens)
            for x in self.layers
        )

    def state_bytes(self, *, tp: int = 1) -> float:
        """Constant per-sequence state bytes per TP rank (linear attention, Mamba-2)."""
        return sum(x.state_bytes / min(tp, x.state_shards) for x in self.layers)

    def kv_sparse_share(self) -> tuple[float, int]:
        """(share of the growing cache elements in sparse-read layers, their read cap)."""
        total = sum(x.kv_elems_per_token for x in self.layers)
        sparse = [x for x in self.layers if x.kv_read_cap_tokens]
        if not total or not sparse:
            return 0.0, 0
        cap = max(x.kv_read_cap_tokens or 0 for x in sparse)
        return sum(x.kv_elems_per_token for x in sparse) / total, cap

    def attention_work(self) -> tuple[float, list[tuple[float, int]]]:
        """(uncapped FLOPs per context token, [(capped FLOPs per token, cap), ...]).

        Capped terms are grouped by cap; at most two groups are kept (a third is merged into
        the larger cap, which overstates its work, never understates it).
        """
        full = 0.0
        capped: dict[int, float] = {}
        for x in self.layers:
            for w in x.attention_work:
                if w.cap_tokens is None:
                    full += w.flops_per_ctx_token
                else:
                    capped[w.cap_tokens] = capped.get(w.cap_tokens, 0.0) + w.flops_per_ctx_token
        groups = sorted(capped.items())
        while len(groups) > 2:
            (_, f1), (c2, f2) = groups[-3], groups[-2]
            groups[-2] = (c2, f1 + f2)
            del groups[-3]
        return full, [(f, c) for c, f in groups]

    def layer_kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for x in self.layers:
            counts[x.kind] = counts.get(x.kind, 0) + 1
        return counts


__all__ = ["TENSOR_CLASSES", "Architecture", "AttentionWork", "Layer"]
