"""Parameters, weight bytes and KV-cache bytes of a catalog model under a weight format.

The architecture (every layer's parameters and cache) comes from the model's config.json
through `sizing.hfconfig` (`ModelArch.arch`); this module applies a weight format to it:

* a quantization with a real checkpoint for the model (``checkpoints`` in catalog.yaml)
  takes that checkpoint's precision per tensor class (`sizing.quantmap`);
* otherwise the quantization's ``applies_to`` classes get its bits and the rest keep the
  engine's storage for untouched tensors (llama.cpp's Q8_0 in MXFP4 GGUFs) or the model's
  own checkpoint precision — stated as a generic format in the assumptions.

KV cache (reference_models.yaml ``kv_cache_formulas``): GQA ``2 * kv_heads * head_dim``
per full layer, split over TP ranks by KV head (never below one head per rank); MLA and
compressed latents replicated on every rank; sliding windows capped at the window; linear
attention and Mamba-2 a constant state per sequence. Bytes are bytes, counts are counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sizing.architecture import TENSOR_CLASSES

if TYPE_CHECKING:
    from collections.abc import Callable

    from sizing.catalog import Catalog, ModelArch, Quantization

GIB = 2**30
KV_DTYPE_BYTES = {"bf16": 2, "fp8": 1}


@dataclass(frozen=True)
class ParamCounts:
    """Parameter count per tensor class (MTP and vision separate from the main model)."""

    by_class: dict[str, int]

    @property
    def total(self) -> int:
        """Language-model parameters (what model cards quote; no MTP, no vision)."""
        return sum(v for k, v in self.by_class.items() if k not in ("mtp", "vision"))

    @property
    def total_with_mtp(self) -> int:
        return sum(self.by_class.values())


_MEMO: dict[tuple[Any, ...], tuple[object, object]] = {}


def _memo(key: tuple[Any, ...], keep: object, compute: Callable[[], Any]) -> Any:
    """Cache pure results per (frozen) catalog object; `keep` pins the keyed objects."""
    hit = _MEMO.get(key)
    if hit is None:
        if len(_MEMO) > 50_000:
            _MEMO.clear()
        hit = _MEMO[key] = (keep, compute())
    return hit[1]


def param_counts(m: ModelArch) -> ParamCounts:
    """Parameters per tensor class, from the imported architecture."""
    return ParamCounts(dict(m.arch.params_by_class))


def active_params(m: ModelArch) -> float:
    """Parameters used per generated token (no embedding lookup, no MTP, no vision)."""
    return float(m.arch.active_params)


def expected_experts_touched(num_experts: int, experts_per_token: int, tokens: float) -> float:
    """Expected number of distinct experts one MoE layer reads for a batch of `tokens`.

    Uniform, independent routing: ``E * (1 - (1 - k/E) ** tokens)``. Real routers are
    skewed, so this is an upper bound on weight traffic at moderate batch sizes.
    """
    if tokens <= 0:
        return 0.0
    return float(num_experts * (1.0 - (1.0 - experts_per_token / num_experts) ** tokens))


def precision_source(m: ModelArch, quant: Quantization, engine_id: str | None = None) -> str:
    """Where the bytes of (model, quant) come from on `engine_id`, in words (assumptions)."""
    repo = m.checkpoints.get(quant.id)
    if repo:
        cp = m.checkpoint_precision(quant.id)
        return f"{quant.id} = checkpoint {repo} ({cp.method})"
    if quant.on_checkpoint is not None and quant.on_checkpoint in m.checkpoints:
        return (
            f"{quant.id} = checkpoint {m.checkpoints[quant.on_checkpoint]} with "
            f"{', '.join(quant.applies_to)} re-quantized at load to "
            f"{quant.bits_per_weight:g} bits ({quant.name})"
        )
    classes = ", ".join(quant.applies_to)
    stored = quant.unquantized_dtype.get(engine_id or "")
    rest = (
        f"the rest stored as {stored} by {engine_id}"
        if stored is not None
        else f"the rest as in {m.native_precision.method}"
    )
    if quant.models is not None:
        return (
            f"{quant.id} = a file published for {m.name} only ({classes} at "
            f"{quant.bits_per_weight:g} bits, {rest})"
        )
    return (
        f"{quant.id} = generic format (no checkpoint of {m.name} in this format is kept: "
        f"{classes} at {quant.bits_per_weight:g} bits, {rest})"
    )


#: A generic format must change at least this share of a model's layer weights; below it
#: the label would describe a checkpoint that is mostly something else (mxfp4 on a dense
#: model quantizes nothing).
MIN_QUANTIZED_SHARE = 0.5


def quantized_share(m: ModelArch, quant: Quantization) -> float:
    """Share of the model's parameters (embedding, MTP and vision excluded) in the classes
    `quant` applies to; 1.0 when the catalog keeps a checkpoint of it in that format, 0.0
    for a format published for other models only."""
    if quant.models is not None and m.id not in quant.models:
        return 0.0
    if quant.id in m.checkpoints:
        return 1.0
    if quant.on_checkpoint is not None:  # a recipe on top of a kept checkpoint
        return 1.0 if quant.on_checkpoint in m.checkpoints else 0.0
    counts = m.arch.params_by_class
    body = {c: n for c, n in counts.items() if c not in ("embedding", "mtp", "vision")}
    total = sum(body.values())
    return sum(n for c, n in body.items() if c in quant.applies_to) / total if total else 0.0


def quant_applies(m: ModelArch, quant: Quantization) -> bool:
    """Whether `quant` describes a real checkpoint of `m` (see MIN_QUANTIZED_SHARE)."""
    return quantized_share(m, quant) >= MIN_QUANTIZED_SHARE


def quants_for(m: ModelArch, catalog: Catalog) -> list[str]:
    """Quantization ids that exist for the model (checkpoint kept) or apply to its bulk."""
    return [q.id for q in catalog.quantizations if quant_applies(m, q)]


def quant_named_by(m: ModelArch, name: str, *, include_self: bool = False) -> str | None:
    """The quantization a repo id stands for when it names one of `m`'s kept checkpoints
    (``nvidia/Qwen3.5-397B-A17B-NVFP4`` -> ``nvfp4``); the model's own id only with
    `include_self` (as ``--weights``: its release format)."""
    wanted = name.lower()
    for quant_id, repo in m.checkpoints.items():
        if repo.lower() == wanted and (include_self or wanted != m.id.lower()):
            return quant_id
    return None


def quant_mismatch_message(m: ModelArch, quant: Quantization, catalog: Catalog) -> str:
    if quant.models is not None and m.id not in quant.models:
        return (
            f"weights '{quant.id}' exists only for {', '.join(quant.models)}, not "
            f"{m.id}; valid choices: {', '.join(quants_for(m, catalog))}"
        )
    if quant.on_checkpoint is not None:
        return (
            f"weights '{quant.id}' re-quantizes a {quant.on_checkpoint} checkpoint at load "
            f"and {m.id} has none; valid choices: {', '.join(quants_for(m, catalog))}"
        )
    share = quantized_share(m, quant)
    return (
        f"weights '{quant.id}' quantizes only {', '.join(quant.applies_to)} "
        f"({share:.0%} of {m.id}'s parameters): not a checkpoint of this model; valid "
        f"choices: {', '.join(quants_for(m, catalog))}"
    )


def class_formats(
    m: ModelArch, quant: Quantization | None, catalog: Catalog, *, engine_id: str | None = None
) -> dict[str, tuple[str, float]]:
    """Per tensor class: (format in words, mean bits per weight) under `quant` on `engine_id`.

    `quant` None: the model's own checkpoint. A kept checkpoint of `quant` gives its map; a
    load-time recipe (``on_checkpoint``) re-quantizes its classes of that checkpoint; a
    generic format covers its classes and leaves the rest as the model's own checkpoint.
    An engine that stores untouched tensors in its own format (llama.cpp's Q8_0 in MXFP4
    GGUFs, ``unquantized_dtype``) takes the classes left in bf16.
    """
    native = m.native_precision
    if quant is None:
        return {c: (native.describe(c), native.bits(c)) for c in TENSOR_CLASSES}
    base = m.checkpoint_precision(quant.on_checkpoint or quant.id)
    if quant.on_checkpoint is not None and base is None:
        raise ValueError(quant_mismatch_message(m, quant, catalog))
    covered = () if base is not None and quant.on_checkpoint is None else quant.applies_to
    own = base or native
    at_load = f"{quant.on_checkpoint} (at load)" if quant.on_checkpoint else quant.id
    formats = {
        c: (at_load, quant.bits_per_weight) if c in covered else (own.describe(c), own.bits(c))
        for c in TENSOR_CLASSES
    }
    other = quant.unquantized_dtype.get(engine_id or "") if engine_id else None
    if other is not None:
        stored = catalog.quant(other)
        for c, (_, bits) in formats.items():
            if c not in covered and c != "vision" and (base is None or bits >= 16):
                formats[c] = (stored.id, stored.bits_per_weight)
    return formats


def precision_table(
    m: ModelArch, quant: Quantization | None, catalog: Catalog, *, engine_id: str | None = None
) -> dict[str, tuple[str, float]]:
    """`class_formats` of the tensor classes the model has."""
    counts = m.arch.params_by_class
    return {
        c: f for c, f in class_formats(m, quant, catalog, engine_id=engine_id).items() if counts[c]
    }


def class_bits(
    m: ModelArch, quant: Quantization, engine_id: str | None, catalog: Catalog
) -> dict[str, float]:
    """Mean bits per weight of each tensor class under `quant` on `engine_id`."""
    return {
        c: bits for c, (_, bits) in class_formats(m, quant, catalog, engine_id=engine_id).items()
    }


def weight_bytes_by_class(
    m: ModelArch, quant: Quantization, catalog: Catalog, *, engine_id: str | None = None
) -> dict[str, float]:
    """Bytes of each tensor class for the whole model (MTP and vision included).

    Returns a fresh dict (callers may modify it); the computation is cached.
    """
    key = ("bytes", id(m), id(quant), engine_id, id(catalog))
    return dict(
        _memo(
            key, (m, quant, catalog), lambda: _weight_bytes_by_class(m, quant, catalog, engine_id)
        )
    )


def _weight_bytes_by_class(
    m: ModelArch, quant: Quantization, catalog: Catalog, engine_id: str | None
) -> dict[str, float]:
    counts = m.arch.params_by_class
    bits = class_bits(m, quant, engine_id, catalog)
    return {cls: counts[cls] * bits[cls] / 8 for cls in counts}


def weights_bytes(
    m: ModelArch,
    quant: Quantization,
    catalog: Catalog,
    *,
    engine_id: str | None = None,
    include_mtp: bool = False,
) -> float:
    """Weight bytes an engine loads: every class incl. the vision tower; MTP only when
    speculative MTP is on."""
    by_class = weight_bytes_by_class(m, quant, catalog, engine_id=engine_id)
    return sum(v for k, v in by_class.items() if include_mtp or k != "mtp")


def kv_bytes_per_token(
    m: ModelArch, kv_dtype: str, *, tp: int = 1, swa_aware: bool = True
) -> float:
    """KV bytes per token of context that grow with context, per rank under `tp`.

    Without SWA-aware allocation the sliding-window layers are paid as full layers.
    """
    a = m.arch
    return float(
        a.kv_elems_per_token(tp=tp, swa_aware=swa_aware) * KV_DTYPE_BYTES[kv_dtype]
        + a.kv_extra_bytes_per_token()
    )


def kv_bytes_per_sequence_fixed(
    m: ModelArch, kv_dtype: str, *, context_tokens: int, tp: int = 1, swa_aware: bool = True
) -> float:
    """Per-sequence bytes that stop growing: sliding windows (at `context_tokens`) and the
    linear-attention / Mamba-2 / compressor state."""
    a = m.arch
    window = a.window_elems(context_tokens, tp=tp) * KV_DTYPE_BYTES[kv_dtype] if swa_aware else 0.0
    return float(window + a.state_bytes(tp=tp))


def round_up(tokens: int, block: int) -> int:
    """Round a token count up to the engine's KV block size."""
    return int(math.ceil(tokens / block) * block)
