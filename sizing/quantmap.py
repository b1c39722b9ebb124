"""Which tensors a checkpoint quantizes, and to what: a precision per tensor class.

Read from ``config.json`` ``quantization_config`` (``quant_method`` fp8 / mxfp4 /
compressed-tensors / modelopt / awq / gptq / auto-round: bits, group size, ``ignore``,
``modules_to_not_convert``, ``config_groups`` targets, ``quantized_layers``) and from
ModelOpt's ``hf_quant_config.json`` (``quantization.exclude_modules``).

Module names differ by family (``model.layers.3.self_attn``, ``backbone.layers.3.mixer``,
``layers.3.attn``, ``language_model.model.layers.3...``); every (layer, tensor class) gets
the module paths its family uses, and a pattern excludes a class when it matches one of
them: ``re:`` patterns as regular expressions (compressed-tensors), ``*`` globs (ModelOpt,
gpt-oss), plain names as a module or any of its parents (transformers'
``modules_to_not_convert``). The share of each format is weighted by parameters.

Bits per weight include the scales: FP8 with 128x128 blocks 8.002, MXFP8 8.25 (E8M0 per
32), NVFP4 4.5 (FP8 per 16), MXFP4 4.25 (E8M0 per 32), INTn with group g: n + 16/g
(+ n/g for asymmetric zero points).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sizing.architecture import TENSOR_CLASSES, Architecture
from sizing.hfconfig import ConfigError, text_config

LAYER_CLASSES = ("attention", "linear_attention", "dense_mlp", "routed_experts", "shared_experts")


@dataclass(frozen=True, kw_only=True)
class Format:
    """A weight format: ``id`` names the kernel family (bf16, fp8, nvfp4, mxfp4, int4...)."""

    id: str
    bits_per_weight: float


BF16 = Format(id="bf16", bits_per_weight=16.0)
FP8_BLOCK = Format(id="fp8", bits_per_weight=8.0 + 32 / (128 * 128))
FP8 = Format(id="fp8", bits_per_weight=8.0)
MXFP8 = Format(id="mxfp8", bits_per_weight=8.25)
NVFP4 = Format(id="nvfp4", bits_per_weight=4.5)
MXFP4 = Format(id="mxfp4", bits_per_weight=4.25)


@dataclass(frozen=True, kw_only=True)
class PrecisionMap:
    """Per tensor class: ((format, share of the class's parameters), ...)."""

    by_class: Mapping[str, tuple[tuple[Format, float], ...]]
    method: str                     # e.g. "modelopt NVFP4", "fp8 (128x128 blocks)", "none"
    notes: tuple[str, ...] = ()

    def bits(self, tensor_class: str) -> float:
        """Mean bits per weight of one tensor class."""
        parts = self.by_class.get(tensor_class) or ((BF16, 1.0),)
        return sum(f.bits_per_weight * share for f, share in parts)

    def describe(self, tensor_class: str) -> str:
        parts = self.by_class.get(tensor_class) or ((BF16, 1.0),)
        if len(parts) == 1:
            return parts[0][0].id
        return " + ".join(f"{f.id} {share:.0%}" for f, share in parts)

    def main_format(self) -> str:
        """The format of the routed experts (MoE) or of the dense MLP: the bulk of the bytes."""
        for cls in ("routed_experts", "dense_mlp", "attention"):
            if self.by_class.get(cls):
                return max(self.by_class[cls], key=lambda p: p[1])[0].id
        return "bf16"


def uniform_map(formats: Mapping[str, Format], method: str) -> PrecisionMap:
    return PrecisionMap(by_class={c: ((formats.get(c, BF16), 1.0),) for c in TENSOR_CLASSES},
                        method=method)


# --------------------------------------------------------------------------- module naming
_FAMILY_PARENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "default": {"attention": ("self_attn",), "linear_attention": ("linear_attn",),
                "dense_mlp": ("mlp",), "routed_experts": ("mlp.experts",),
                "shared_experts": ("mlp.shared_expert", "mlp.shared_experts")},
    "gemma4_text": {"attention": ("self_attn",), "dense_mlp": ("mlp",),
                    "routed_experts": ("experts", "moe.experts"), "shared_experts": ()},
    "nemotron_h": {"attention": ("mixer",), "linear_attention": ("mixer",),
                   "dense_mlp": ("mixer",), "routed_experts": ("mixer.experts",),
                   "shared_experts": ("mixer.shared_experts",)},
    "deepseek_v4": {"attention": ("attn",), "dense_mlp": ("ffn",),
                    "routed_experts": ("ffn.experts",), "shared_experts": ("ffn.shared_experts",)},
    "mixtral": {"attention": ("self_attn",), "dense_mlp": ("mlp",),
                "routed_experts": ("block_sparse_moe.experts",),
                "shared_experts": ("block_sparse_moe.shared_experts",)},
    "llama4_text": {"attention": ("self_attn",), "dense_mlp": ("feed_forward",),
                    "routed_experts": ("feed_forward.experts",),
                    "shared_experts": ("feed_forward.shared_expert",)},
}
for _f in ("minimax_m2", "minimax_m3"):
    _FAMILY_PARENTS[_f] = _FAMILY_PARENTS["mixtral"]
_FAMILY_PARENTS["deepseek_ref"] = _FAMILY_PARENTS["deepseek_v4"]
_LEAVES = {
    "attention": ("q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj", "q_a_proj", "q_b_proj",
                  "kv_a_proj_with_mqa", "kv_b_proj", "wq_a", "wq_b", "wkv", "wo_a", "wo_b"),
    "linear_attention": ("in_proj_qkvz", "in_proj_qkv", "in_proj_z", "in_proj_ba", "in_proj",
                         "out_proj"),
    "dense_mlp": ("gate_proj", "up_proj", "down_proj", "gate_up_proj", "w1", "w2", "w3"),
    "routed_experts": ("0.gate_proj", "0.up_proj", "0.down_proj", "0.w1", "0.w2", "0.w3",
                       "gate_up_proj", "down_proj"),
    "shared_experts": ("gate_proj", "up_proj", "down_proj", "w1", "w2", "w3"),
}
_TOP = {"embedding": ("embed_tokens", "embed", "tok_embeddings", "wte"),
        "lm_head": ("lm_head", "head", "output"),
        "mtp": ("mtp", "model.mtp"),
        "vision": ("vision_tower", "visual", "vision_model", "embed_vision",
                   "multi_modal_projector", "mm_projector", "patch_merge_mlp")}
_WRAPPERS = re.compile(r"^(?:(?:model|language_model|backbone|transformer|text_model)\.)+")


_WRAPPER_NAMES = ("", "model.", "model.language_model.", "language_model.model.",
                  "language_model.", "backbone.")


def _normalize(name: str) -> str:
    """Drop wrapper prefixes (model., language_model.model., backbone.) from a module name."""
    if name.startswith(("re:", "*")):
        return name
    return _WRAPPERS.sub("", name)


class _Matcher:
    """Module-name patterns: ``re:`` regular expressions (matched at the start, as
    compressed-tensors does), ``*`` globs (ModelOpt, gpt-oss), plain names (a module, any of
    its parents, or a trailing name such as ``lm_head``). Compiled once; a name is tested
    in time linear in its length, whatever the number of patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        plain: set[str] = set()
        regexes: list[str] = []
        for p in patterns:
            if p.startswith("re:"):
                regexes.append(p[3:])
            elif any(ch in p for ch in "*?["):
                regexes.append(fnmatch.translate(p))          # anchored at both ends
            else:
                plain.add(p)
        self.plain = plain
        try:
            joined = "|".join(f"(?:{r})" for r in regexes)
            self.regexes = [re.compile(joined)] if regexes else []
        except re.error:          # inline flags, repeated group names: one pattern at a time
            self.regexes = []
            for r in regexes:
                try:
                    self.regexes.append(re.compile(r))
                except re.error:
                    raise ConfigError(f"quantization_config: invalid regular expression "
                                      f"{r[:40]!r}") from None

    def __call__(self, name: str) -> bool:
        if self.plain:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                if ".".join(parts[:i]) in self.plain or ".".join(parts[-i:]) in self.plain:
                    return True
        # patterns may name the full module path (model.layers.3..., backbone.layers.3...)
        return any(r.match(prefix + name) for r in self.regexes for prefix in _WRAPPER_NAMES)


def _parents(family: str, cls: str) -> tuple[str, ...]:
    return _FAMILY_PARENTS.get(family, _FAMILY_PARENTS["default"]).get(
        cls, _FAMILY_PARENTS["default"].get(cls, ()))


def _candidates(family: str, i: int, cls: str) -> list[str]:
    out = []
    for p in _parents(family, cls):
        out.append(f"layers.{i}.{p}")
        out.extend(f"layers.{i}.{p}.{leaf}" for leaf in _LEAVES[cls])
    return out


# --------------------------------------------------------------------------- formats
def _group_format(weights: Mapping[str, Any], where: str) -> Format:
    """A compressed-tensors / ModelOpt ``weights`` scheme as a Format."""
    bits = weights.get("num_bits")
    kind = weights.get("type")
    group = weights.get("group_size")
    if bits == 4 and kind == "float":
        if group in (16, None):
            return NVFP4
        if group == 32:
            return MXFP4
        raise ConfigError(f"{where}: 4-bit float weights with group {group} are neither NVFP4 "
                          "(16) nor MXFP4 (32)")
    if bits == 8 and kind == "float":
        return FP8
    if kind == "int" and bits in (4, 8) and (group is None or (isinstance(group, int)
                                                                and group > 0)):
        g = group or 0
        extra = (16 / g + (0 if weights.get("symmetric", True) else bits / g)) if g else 0.0
        return Format(id=f"int{bits}", bits_per_weight=bits + extra)
    raise ConfigError(f"{where}: weights scheme {bits}-bit {kind} group {group} is not a "
                      "supported format")


def _algo_format(algo: Any, where: str, group: Any = None) -> Format:
    text = str(algo).upper()
    if text in ("NVFP4", "W4A16_NVFP4", "NVFP4_AWQ", "W4A8_NVFP4_FP8"):
        return NVFP4
    if text in ("FP8", "FP8_BLOCK", "FP8_PER_CHANNEL_PER_TOKEN", "W8A8_FP8"):
        return FP8
    if text == "MXFP8":
        return MXFP8
    if text in ("MXFP4", "W4A8_MXFP4_FP8", "W4A16_MXFP4"):
        return MXFP4
    if text in ("W4A16_AWQ", "INT4_AWQ", "W4A8_AWQ"):
        g = group if isinstance(group, int) and group > 0 else 128
        return Format(id="int4", bits_per_weight=4 + 16 / g)
    raise ConfigError(f"{where}: quant_algo {str(algo)[:30]!r} is not a supported format")


# --------------------------------------------------------------------------- the map
QUANT_IN_NAME = re.compile(r"(?i)(?:^|[-_./])(fp8|nvfp4|mxfp4|fp4|int4|int8|awq|gptq|w4a16|"
                            r"w8a8|w4a8|autoround|bnb|4bit|8bit)(?:$|[-_.])")


def precision_map(raw: Mapping[str, Any], arch: Architecture, *,
                  hf_quant_config: Mapping[str, Any] | None = None,
                  name: str | None = None) -> PrecisionMap:
    """The checkpoint's format per tensor class (bf16 where nothing is quantized).

    A checkpoint whose name says it is quantized (``...-NVFP4``, ``...-FP8``) but whose
    config.json carries no ``quantization_config`` (ModelOpt keeps it in
    ``hf_quant_config.json``) is refused rather than counted as bf16.
    """
    cfg, _ = text_config(raw)
    if hf_quant_config is not None and not isinstance(hf_quant_config, Mapping):
        raise ConfigError("hf_quant_config.json: top level must be a JSON object")
    qc = raw.get("quantization_config") or cfg.get("quantization_config")
    hq = (hf_quant_config or {}).get("quantization") if hf_quant_config else None
    if hq is not None and not isinstance(hq, Mapping):
        raise ConfigError("hf_quant_config.json: 'quantization' must be an object")
    if not qc and not hq:
        said = QUANT_IN_NAME.search(name or "")
        if said:
            raise ConfigError(
                f"the name says {said.group(1).upper()} but config.json has no "
                "quantization_config: add the checkpoint's hf_quant_config.json")
        return uniform_map({}, "none (bf16 checkpoint)")
    if qc and not isinstance(qc, Mapping):
        raise ConfigError("field 'quantization_config': expected an object")
    qc = dict(qc or {})
    if hq:
        qc = {**qc, "quant_method": "modelopt", **hq,
              "ignore": list(hq.get("exclude_modules") or [])}
    method = str(qc.get("quant_method") or ("modelopt" if qc.get("quant_algo") else "")).lower()
    where = "quantization_config"
    base = BF16          # what excluded (or, in mixed precision, unlisted) modules keep
    if method == "fp8" and (qc.get("quantized_layers") or qc.get("quant_algo")):
        # ModelOpt re-quantized some modules of a block-FP8 checkpoint (DeepSeek-V4 NVFP4):
        # the modules it lists change format, the rest keep the checkpoint's FP8.
        method, base = "modelopt", FP8_BLOCK if qc.get("weight_block_size") else FP8

    excluded = _strings(qc.get("ignore"), f"{where}.ignore") + _strings(
        qc.get("modules_to_not_convert"), f"{where}.modules_to_not_convert") + _strings(
        qc.get("exclude_modules"), f"{where}.exclude_modules")
    excluded = [_normalize(p) for p in excluded]
    listed: dict[str, Format] = {}
    targeted: list[tuple[str, Format]] = []
    default: Format | None
    lm_head_default = False

    if method == "fp8":
        block = qc.get("weight_block_size")
        default = FP8_BLOCK if block else FP8
        label = "fp8 (128x128 blocks)" if block else "fp8"
    elif method == "mxfp4":
        default, label = MXFP4, "mxfp4 (MoE experts)"
    elif method in ("awq", "gptq", "auto-round", "autoround"):
        bits, group = qc.get("bits", 4), qc.get("group_size", 128)
        if bits not in (4, 8) or not isinstance(group, int) or isinstance(group, bool) or (
                group < -1 or group == 0):
            raise ConfigError(f"{where}: {method} with bits={bits!r} group_size={group!r} is "
                              "not supported")
        g = group if group > 0 else 0
        zero = bits / g if (g and (method == "awq" or not qc.get("sym", True))) else 0.0
        default = Format(id=f"int{bits}", bits_per_weight=bits + (16 / g if g else 0) + zero)
        label = f"{method} int{bits} group {group}"
    elif method in ("compressed-tensors", "modelopt"):
        default, label, lm_head_default = None, method, True
        algo = qc.get("quant_algo")
        groups = qc.get("config_groups") or {}
        if not isinstance(groups, Mapping):
            raise ConfigError(f"{where}.config_groups: expected an object")
        for gname, group in groups.items():
            if not isinstance(group, Mapping) or not isinstance(group.get("weights"), Mapping):
                raise ConfigError(f"{where}.config_groups.{gname}: missing 'weights'")
            fmt = _group_format(group["weights"], f"{where}.config_groups.{gname}")
            targets = _strings(group.get("targets") or ["Linear"],
                               f"{where}.config_groups.{gname}.targets")
            if "Linear" in targets:
                default = fmt
            targeted.extend((_normalize(t), fmt) for t in targets if t != "Linear")
        if algo and str(algo).upper() not in ("MIXED_PRECISION", "NONE"):
            default = default or _algo_format(algo, f"{where}.quant_algo", qc.get("group_size"))
            label = f"{method} {str(algo).upper()}"
        elif algo:
            label = f"{method} mixed precision"
        layers = qc.get("quantized_layers") or {}
        if not isinstance(layers, Mapping):
            raise ConfigError(f"{where}.quantized_layers: expected an object")
        for name, spec in layers.items():
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where}.quantized_layers.{str(name)[:40]}: expected an object")
            listed[_normalize(str(name))] = _algo_format(
                spec.get("quant_algo"), f"{where}.quantized_layers", spec.get("group_size"))
        if default is None and not listed and not targeted:
            raise ConfigError(f"{where}: no quantized format found (quant_algo or "
                              "config_groups)")
    else:
        raise ConfigError(f"{where}.quant_method: '{method[:30]}' is not supported "
                          "(fp8, mxfp4, compressed-tensors, modelopt, awq, gptq, auto-round)")

    family = arch.family
    notes: list[str] = []

    mixed = str(qc.get("quant_algo", "")).upper() == "MIXED_PRECISION"
    listed_groups = _group_listed(listed)
    is_excluded = _Matcher(excluded)
    target_matchers = [(_Matcher([pattern]), f) for pattern, f in targeted]
    expert_fp4 = str(cfg.get("expert_dtype", "")).lower() == "fp4"

    def fmt_for(names: Sequence[str], cls: str) -> Format:
        keep = BF16 if cls in ("lm_head", "embedding", "vision") else base
        if cls == "routed_experts" and expert_fp4 and method == "fp8":
            return MXFP4
        if any(is_excluded(n) for n in names):
            return keep
        if listed:
            hit = _listed_format(listed_groups, names)
            if hit is not None:
                return hit
        for match, f in target_matchers:
            if any(match(n) for n in names):
                return f
        if default is None or mixed:
            return keep
        if method == "mxfp4" and cls != "routed_experts":
            return BF16
        if cls == "lm_head" and not lm_head_default:
            return BF16
        return default

    by_class: dict[str, dict[Format, float]] = {c: {} for c in TENSOR_CLASSES}
    for i, layer in enumerate(arch.layers):
        for cls in LAYER_CLASSES:
            params = _layer_class_params(layer, cls)
            if not params:
                continue
            if cls == "attention" and layer.attention_parts:
                # per projection: checkpoints exclude some (MLA q/kv) and quantize others (o)
                parents = _parents(family, cls)
                for leaf, n in layer.attention_parts:
                    f = fmt_for([f"layers.{i}.{p}.{leaf}" for p in parents], cls)
                    by_class[cls][f] = by_class[cls].get(f, 0.0) + n
                continue
            f = fmt_for(_candidates(family, i, cls), cls)
            by_class[cls][f] = by_class[cls].get(f, 0.0) + params
    for cls in ("embedding", "lm_head", "mtp", "vision"):
        names = list(_TOP[cls])
        if cls == "mtp":
            n = arch.num_layers
            names += [f"layers.{n + j}" for j in range(len(arch.mtp_layers))]
            names += [f"mtp.layers.{j}" for j in range(len(arch.mtp_layers))]
            names += [f"mtp.{j}" for j in range(len(arch.mtp_layers))]
        f = BF16 if cls in ("embedding", "vision") else fmt_for(names, cls)
        if cls == "vision" and listed:
            f = _listed_format(listed_groups, names) or BF16
        by_class[cls][f] = 1.0
    result = {}
    for cls, shares in by_class.items():
        total = sum(shares.values())
        result[cls] = tuple((f, v / total) for f, v in sorted(
            shares.items(), key=lambda kv: -kv[1])) if total else ((BF16, 1.0),)
    if listed:
        notes.append("formats read per module from quantized_layers")
    if expert_fp4 and method == "fp8":
        label = "fp8 (128x128 blocks), FP4 experts"
        notes.append("expert_dtype fp4: routed experts counted as MXFP4 (4.25 bits)")
    return PrecisionMap(by_class=result, method=label, notes=tuple(notes))


def _layer_class_params(layer: Any, cls: str) -> int:
    return {"attention": layer.attention_params,
            "linear_attention": layer.linear_attention_params,
            "dense_mlp": layer.dense_mlp_params, "routed_experts": layer.routed_params,
            "shared_experts": layer.shared_params}[cls]


def _group_listed(listed: Mapping[str, Format]) -> dict[str, list[tuple[str, Format]]]:
    """Listed modules grouped by their first two name parts (``layers.12``)."""
    groups: dict[str, list[tuple[str, Format]]] = {}
    for key, f in listed.items():
        groups.setdefault(".".join(key.split(".")[:2]), []).append((key, f))
    return groups


def _listed_format(listed: Mapping[str, list[tuple[str, Format]]],
                   names: Sequence[str]) -> Format | None:
    """The most common format among listed modules at or below the first of `names`."""
    if not names:
        return None
    counts: dict[Format, int] = {}
    name = names[0]
    prefix = name + "."
    for key, f in listed.get(".".join(name.split(".")[:2]), ()):
        if key == name or key.startswith(prefix):
            counts[f] = counts.get(f, 0) + 1
    if counts:
        return max(counts, key=lambda f: counts[f])
    for other in names:
        for key, f in listed.get(".".join(other.split(".")[:2]), ()):
            if key == other or other.startswith(key + "."):     # the module or a parent
                return f
    return None


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of module names")
    return value


__all__ = ["BF16", "FP8", "MXFP4", "NVFP4", "Format", "PrecisionMap", "precision_map",
           "uniform_map"]
