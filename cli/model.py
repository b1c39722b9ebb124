"""``python -m sizing model``: parameters, weights and KV bytes of a model.

python -m sizing model MODEL --weights Q [--tp N] [--kv-dtype D] [--engine E] --json
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.common import CliError, catalog_of, resolve_model, strict_json
from sizing import limits
from sizing.llm import (
    GIB,
    active_params,
    kv_bytes_per_sequence_fixed,
    kv_bytes_per_token,
    param_counts,
    precision_source,
    precision_table,
    quant_applies,
    quant_mismatch_message,
    quant_named_by,
)
from sizing.quantmap import QUANT_IN_NAME
from sizing.scenario import ENGINE_CHOICES, KV_DTYPES

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from sizing.catalog import Catalog, ModelArch, Quantization


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``model``."""
    p.add_argument("model", help="catalog model id, Hugging Face repo id, or path to a config.json")
    p.add_argument(
        "--weights",
        help="quantization id (default: the checkpoint's own precision per tensor class)",
    )
    p.add_argument("--tp", type=limits.tp_arg, default=1)
    p.add_argument("--kv-dtype", default="bf16")
    p.add_argument("--engine", choices=ENGINE_CHOICES)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print a model's parameters, weights and KV bytes."""
    catalog = catalog_of(args)
    model = resolve_model(catalog, args.model)
    quant = _quantization(catalog, model, args.model, args.weights)
    if args.kv_dtype not in KV_DTYPES:
        raise CliError(f"unknown kv dtype '{args.kv_dtype}'; valid choices: {', '.join(KV_DTYPES)}")
    if args.tp < 1:
        raise CliError(f"--tp must be at least 1 (got {args.tp})")
    heads = model.num_attention_heads
    if heads % args.tp:  # the rule estimate applies (sizing.scenario)
        raise CliError(
            f"--tp {args.tp} needs the {heads} attention heads of {model.id} to divide "
            f"evenly; valid choices: {', '.join(str(n) for n in range(1, 9) if heads % n == 0)}"
        )
    engine = catalog.engine(args.engine) if args.engine else None
    swa = engine.swa_aware if engine else True
    counts = param_counts(model)
    table = precision_table(model, quant, catalog, engine_id=engine.id if engine else None)
    by_class = {c: counts.by_class[c] * bits / 8 for c, (_, bits) in table.items()}
    total_w = sum(v for c, v in by_class.items() if c != "mtp")
    arch = model.arch
    d = {
        "model": model.id,
        "weights": quant.id if quant else "checkpoint",
        "precision_source": (
            precision_source(model, quant, engine.id if engine else None)
            if quant
            else f"the checkpoint's own ({model.native_precision.method})"
        ),
        "tp": args.tp,
        "kv_dtype": args.kv_dtype,
        "family": arch.family,
        "layer_kinds": arch.layer_kinds(),
        "total_params_b": counts.total / 1e9,
        "active_params_b": active_params(model) / 1e9,
        "mtp_params_b": counts.by_class["mtp"] / 1e9,
        "vision_params_b": counts.by_class["vision"] / 1e9,
        "params_b_by_class": {k: v / 1e9 for k, v in counts.by_class.items() if v},
        "precision_by_class": {c: label for c, (label, _) in table.items()},
        "bits_per_weight_by_class": {c: round(bits, 4) for c, (_, bits) in table.items()},
        "weights_gib": total_w / GIB,
        "weights_gib_per_unit": total_w / GIB / args.tp,
        "kv_bytes_per_token": kv_bytes_per_token(model, args.kv_dtype, swa_aware=swa),
        "kv_bytes_per_token_per_unit": kv_bytes_per_token(
            model, args.kv_dtype, tp=args.tp, swa_aware=swa
        ),
        "kv_bytes_per_sequence_fixed": kv_bytes_per_sequence_fixed(
            model, args.kv_dtype, context_tokens=model.max_context_tokens, swa_aware=swa
        ),
        "max_context_tokens": model.max_context_tokens,
        "published_total_params_b": model.published_total_params_b,
        "published_active_params_b": model.published_active_params_b,
        "released": model.released.isoformat() if model.released else None,
        "notes": list(arch.notes) + list(model.native_precision.notes),
        "source": model.source,
    }
    if args.json:
        print(strict_json(d))
        return 0
    _print_text(d, model, table, counts.by_class, by_class, args)
    return 0


def _quantization(
    catalog: Catalog, model: ModelArch, name: str, weights: str | None
) -> Quantization | None:
    """The quantization `--weights` names (a generic format or a kept checkpoint's repo
    id), or the one the model name names; None for the checkpoint's own precision. A name
    that says quantized without a kept map is an error, never read as bf16."""
    weights = weights or quant_named_by(model, name)
    if weights and "/" in weights:
        named = quant_named_by(model, weights, include_self=True)
        if named is None:
            raise CliError(
                f"weights '{weights}' is not a checkpoint of {model.id} kept in the "
                f"catalog; kept: {', '.join(model.checkpoints.values()) or 'none'}"
            )
        weights = named
    if weights is None and name.lower() != model.id.lower():
        said = QUANT_IN_NAME.search(name)
        if said:
            raise CliError(
                f"{name} is a {said.group(1).upper()} checkpoint of {model.id} "
                "whose quantization map is not kept: pass --weights (a generic "
                "format) or the checkpoint's config.json"
            )
    quant = catalog.quant(weights) if weights else None
    if quant is not None and not quant_applies(model, quant):
        raise CliError(quant_mismatch_message(model, quant, catalog))
    return quant


def _print_text(
    d: dict[str, Any],
    model: ModelArch,
    table: dict[str, tuple[str, float]],
    params_by_class: Mapping[str, float],
    bytes_by_class: Mapping[str, float],
    args: argparse.Namespace,
) -> None:
    """The human-readable form of `d` (`run`'s JSON), with the per-class table."""
    arch = model.arch
    kinds = ", ".join(f"{n} {k}" for k, n in arch.layer_kinds().items())
    published = (
        f" (card: {model.published_total_params_b:g} B total"
        + (
            f", {model.published_active_params_b:g} B active"
            if model.published_active_params_b
            else ""
        )
        + ")"
        if model.published_total_params_b
        else ""
    )
    print(f"{model.id} — {arch.family}, {arch.num_layers} layers: {kinds}")
    print(
        f"  parameters: {d['total_params_b']:.2f} B total, {d['active_params_b']:.2f} B active "
        f"per token{published}; MTP {d['mtp_params_b']:.2f} B, vision "
        f"{d['vision_params_b']:.2f} B"
    )
    print(f"  weights: {d['precision_source']}")
    width = max(len(c) for c in table)
    for c, (label, bits) in table.items():
        print(
            f"    {c:<{width}}  {params_by_class[c] / 1e9:8.2f} B  {label:<18} "
            f"{bits:6.3f} bits  {bytes_by_class[c] / GIB:8.2f} GiB"
        )
    print(
        f"  total {d['weights_gib']:.2f} GiB (MTP not loaded), {d['weights_gib_per_unit']:.2f} "
        f"GiB per unit at TP={args.tp}"
    )
    print(
        f"  KV: {d['kv_bytes_per_token'] / 1024:.2f} KiB/token "
        f"({d['kv_bytes_per_token_per_unit'] / 1024:.2f} KiB per unit), "
        f"{d['kv_bytes_per_sequence_fixed'] / 2**20:.1f} MiB fixed per sequence "
        f"({args.kv_dtype})"
    )
    for note in d["notes"]:
        print(f"  note: {note}")
