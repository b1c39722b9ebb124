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

import bisect
import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    method: str  # e.g. "modelopt NVFP4", "fp8 (128x128 blocks)", "none"
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
    return PrecisionMap(
        by_class={c: ((formats.get(c, BF16), 1.0),) for c in TENSOR_CLASSES}, method=method
    )


# --------------------------------------------------------------------------- module naming
_FAMILY_PARENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "default": {
        "attention": ("self_attn",),
        "linear_attention": ("linear_attn",),
        "dense_mlp": ("mlp",),
        "routed_experts": ("mlp.experts",),
        "shared_experts": ("mlp.shared_expert", "mlp.shared_experts"),
    },
    "gemma4_text": {
        "attention": ("self_attn",),
        "dense_mlp": ("mlp",),
        "routed_experts": ("experts", "moe.experts"),
        "shared_experts": (),
    },
    "nemotron_h": {
        "attention": ("mixer",),
        "linear_attention": ("mixer",),
        "dense_mlp": ("mixer",),
        "routed_experts": ("mixer.experts",),
        "shared_experts": ("mixer.shared_experts",),
    },
    "deepseek_v4": {
        "attention": ("attn",),
        "dense_mlp": ("ffn",),
        "routed_experts": ("ffn.experts",),
        "shared_experts": ("ffn.shared_experts",),
    },
    "mixtral": {
        "attention": ("self_attn",),
        "dense_mlp": ("mlp",),
        "routed_experts": ("block_sparse_moe.experts",),
        "shared_experts": ("block_sparse_moe.shared_experts",),
    },
    "llama4_text": {
        "attention": ("self_attn",),
        "dense_mlp": ("feed_forward",),
        "routed_experts": ("feed_forward.experts",),
        "shared_experts": ("feed_forward.shared_expert",),
    },
}
for _f in ("minimax_m2", "minimax_m3"):
    _FAMILY_PARENTS[_f] = _FAMILY_PARENTS["mixtral"]
_FAMILY_PARENTS["deepseek_ref"] = _FAMILY_PARENTS["deepseek_v4"]
_LEAVES = {
    "attention": (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "qkv_proj",
        "q_a_proj",
        "q_b_proj",
        "kv_a_proj_with_mqa",
        "kv_b_proj",
        "wq_a",
        "wq_b",
        "wkv",
        "wo_a",
        "wo_b",
    ),
    "linear_attention": (
        "in_proj_qkvz",
        "in_proj_qkv",
        "in_proj_z",
        "in_proj_ba",
        "in_proj",
        "out_proj",
    ),
    "dense_mlp": ("gate_proj", "up_proj", "down_proj", "gate_up_proj", "w1", "w2", "w3"),
    "routed_experts": (
        "0.gate_proj",
        "0.up_proj",
        "0.down_proj",
        "0.w1",
        "0.w2",
        "0.w3",
        "gate_up_proj",
        "down_proj",
    ),
    "shared_experts": ("gate_proj", "up_proj", "down_proj", "w1", "w2", "w3"),
}
_TOP = {
    "embedding": ("embed_tokens", "embed", "tok_embeddings", "wte"),
    "lm_head": ("lm_head", "head", "output"),
    "mtp": ("mtp", "model.mtp"),
    "vision": (
        "vision_tower",
        "visual",
        "vision_model",
        "embed_vision",
        "multi_modal_projector",
        "mm_projector",
        "patch_merge_mlp",
    ),
}
_WRAPPERS = re.compile(r"^(?:(?:model|language_model|backbone|transformer|text_model)\.)+")


_WRAPPER_NAMES = (
    "",
    "model.",
    "model.language_model.",
    "language_model.model.",
    "language_model.",
    "backbone.",
)


_WRAPPER_STARTS = ("model.", "language_model.", "backbone.", "transformer.", "text_model.")


def _normalize(name: str) -> str:
    """Drop wrapper prefixes (model., language_model.model., backbone.) from a module name."""
    if name.startswith(("re:", "*")) or not name.startswith(_WRAPPER_STARTS):
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
        globs: list[tuple[str, str]] = []
        for p in patterns:
            if p.startswith("re:"):
                regexes.append(p[3:])
            elif any(ch in p for ch in "*?["):
                regexes.append(fnmatch.translate(p))  # anchored at both ends
                # every name it matches starts with the text before its first wildcard
                globs.append((_GLOB_START.match(p).group(), regexes[-1]))  # type: ignore[union-attr]
            else:
                plain.add(p)
        self.plain = plain
        self._compile(regexes)
        # `for_layer` leaves out globs by their literal start; not done beside re: patterns
        # (a numbered backreference would see other groups once alternatives are dropped)
        self._globs = globs if len(globs) == len(regexes) else None
        self._restricted: dict[tuple[int, ...], _Matcher] = {}
        self._compiled: dict[int, re.Pattern[str]] = {}
        self._any_layer: list[int] = []  # globs that fit every layer index
        self._layer_is: dict[str, list[int]] = {}  # ... the index given only
        self._layer_starts: list[tuple[str, int]] = []  # ... indices starting with digits
        for j, (start, _) in enumerate(self._globs or ()):
            self._index_glob(j, start)
        # Layer-index blindness (see `index_blind`): the dot-separated parts of the plain
        # names, and whether every regular expression treats a digit like any other char.
        self._plain_parts = {part for p in plain for part in p.split(".")}
        self._blind = all(_digit_blind(r) for r in regexes) and not any(_BLIND in p for p in plain)

    def _compile(self, regexes: Sequence[str]) -> None:
        try:
            joined = "|".join(f"(?:{r})" for r in regexes)
            self.regexes = [re.compile(joined)] if regexes else []
        except re.error:  # inline flags, repeated group names: one pattern at a time
            self.regexes = []
            for r in regexes:
                try:
                    self.regexes.append(re.compile(r))
                except re.error:
                    raise ConfigError(
                        f"quantization_config: invalid regular expression {r[:40]!r}"
                    ) from None

    def _index_glob(self, j: int, start: str) -> None:
        """File glob `j` by the layer indices whose names it can match. Names of layer
        ``i`` start with ``w + "layers." + i + "."`` for a wrapper ``w``; a name matching
        the glob starts with its literal `start`, so one must begin the other."""
        for w in _WRAPPER_NAMES:
            head = f"{w}layers."
            if len(start) <= len(head):
                if head.startswith(start):
                    self._any_layer.append(j)
                    return
                continue
            if not start.startswith(head):
                continue
            tail = start[len(head) :]  # vs i + "." + rest of the name
            digits = _DIGITS.match(tail).group()  # type: ignore[union-attr]
            rest = tail[len(digits) :]
            if rest.startswith(".") and digits:  # "12.mlp...": layer 12 only
                self._layer_is.setdefault(digits, []).append(j)
            elif not rest:  # "1" (from "1*"): 1, 10-19, 100...
                self._layer_starts.append((digits, j))

    @property
    def has_globs(self) -> bool:
        """Whether `for_layer` can leave anything out."""
        return bool(self._globs)

    def for_layer(self, index: str) -> _Matcher:
        """A matcher that answers as this one for every name under ``layers.{index}.``
        (`index` in decimal digits): the globs whose literal start can begin no such name
        (behind any wrapper prefix) are left out. Built once per distinct set kept."""
        if not self._globs:
            return self
        keep = {
            *self._any_layer,
            *self._layer_is.get(index, ()),
            *(j for digits, j in self._layer_starts if index.startswith(digits)),
        }
        if len(keep) == len(self._globs):
            return self
        key = tuple(sorted(keep))
        sub = self._restricted.get(key)
        if sub is None:
            # globs alone: a joined pattern matches where one of them does
            sub = object.__new__(_Matcher)
            sub.plain, sub._plain_parts = self.plain, self._plain_parts
            sub._globs, sub._restricted = None, {}
            sub.regexes = [self._glob_pattern(j) for j in key]
            sub._blind = all(_digit_blind(self._globs[j][1]) for j in key) and not any(
                _BLIND in p for p in sub.plain
            )
            self._restricted[key] = sub
        return sub

    def _glob_pattern(self, j: int) -> re.Pattern[str]:
        if j not in self._compiled:
            self._compiled[j] = re.compile(self._globs[j][1])  # type: ignore[index]
        return self._compiled[j]

    def __call__(self, name: str) -> bool:
        plain = self.plain
        if plain:
            # the name itself, every dot-prefix (a parent) and every dot-suffix (a trailing
            # name): the same strings as joining the first / last k parts, k = 1..all
            if name in plain:
                return True
            dot = name.find(".")
            while dot != -1:
                if name[:dot] in plain or name[dot + 1 :] in plain:
                    return True
                dot = name.find(".", dot + 1)
        # patterns may name the full module path (model.layers.3..., backbone.layers.3...)
        for r in self.regexes:
            match = r.match
            for prefix in _WRAPPER_NAMES:
                if match(prefix + name):
                    return True
        return False

    def index_blind(self, index: str) -> bool:
        """True when no pattern can tell the layer index `index` (a dot-separated part of the
        names tested) from the same number of `_BLIND` characters: no plain name has it
        (or `_BLIND`) as a part, and every regular expression is digit-blind."""
        return self._blind and index not in self._plain_parts


_GLOB_START = re.compile(r"[^*?\[]*")
_DIGITS = re.compile(r"[0-9]*")
#: Stands for a layer index whose digits no pattern looks at (never in a pattern: checked).
_BLIND = "~"
#: A backslash escape that matches the same whatever the digits: an escaped punctuation
#: character, or the \A / \Z anchors.
_BLIND_ESCAPE = re.compile(r"\\(?:[^0-9A-Za-z]|[AZ])")


def _digit_blind(regex: str) -> bool:
    """Whether `regex` matches a name exactly as it matches the name with any of its digits
    replaced by `_BLIND`: it holds no digit, no `_BLIND`, no character class, no
    backreference or conditional and no escape other than punctuation, \\A and \\Z. Its
    atoms are then literals (neither a digit nor `_BLIND`, under any case folding) and
    ``.``, which accepts both alike, so the matcher takes the same path on both strings."""
    rest = _BLIND_ESCAPE.sub("", regex)
    return not (
        any(ch.isdigit() for ch in regex)
        or _BLIND in regex
        or "\\" in rest
        or "[" in rest
        or "(?P=" in rest
        or "(?(" in rest
    )


def _parents(family: str, cls: str) -> tuple[str, ...]:
    return _FAMILY_PARENTS.get(family, _FAMILY_PARENTS["default"]).get(
        cls, _FAMILY_PARENTS["default"].get(cls, ())
    )


def _candidates(family: str, index: str, cls: str) -> list[str]:
    out = []
    for p in _parents(family, cls):
        out.append(f"layers.{index}.{p}")
        out.extend(f"layers.{index}.{p}.{leaf}" for leaf in _LEAVES[cls])
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
        raise ConfigError(
            f"{where}: 4-bit float weights with group {group} are neither NVFP4 (16) nor MXFP4 (32)"
        )
    if bits == 8 and kind == "float":
        return FP8
    if (
        kind == "int"
        and bits in (4, 8)
        and (group is None or (isinstance(group, int) and group > 0))
    ):
        g = group or 0
        extra = (16 / g + (0 if weights.get("symmetric", True) else bits / g)) if g else 0.0
        return Format(id=f"int{bits}", bits_per_weight=bits + extra)
    raise ConfigError(
        f"{where}: weights scheme {bits}-bit {kind} group {group} is not a supported format"
    )


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
QUANT_IN_NAME = re.compile(
    r"(?i)(?:^|[-_./])(fp8|nvfp4|mxfp4|fp4|int4|int8|awq|gptq|w4a16|"
    r"w8a8|w4a8|autoround|bnb|4bit|8bit)(?:$|[-_.])"
)


def precision_map(
    raw: Mapping[str, Any],
    arch: Architecture,
    *,
    hf_quant_config: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> PrecisionMap:
    """The checkpoint's format per tensor class (bf16 where nothing is quantized).

    A checkpoint whose name says it is quantized (``...-NVFP4``, ``...-FP8``) but whose
    config.json carries no ``quantization_config`` (ModelOpt keeps it in
    ``hf_quant_config.json``) is refused rather than counted as bf16.
    """
    cfg, _ = text_config(raw)
    qc = _quantization_config(raw, cfg, hf_quant_config, name)
    if qc is None:
        return uniform_map({}, "none (bf16 checkpoint)")
    method = str(qc.get("quant_method") or ("modelopt" if qc.get("quant_algo") else "")).lower()
    base = BF16  # what excluded (or, in mixed precision, unlisted) modules keep
    if method == "fp8" and (qc.get("quantized_layers") or qc.get("quant_algo")):
        # ModelOpt re-quantized some modules of a block-FP8 checkpoint (DeepSeek-V4 NVFP4):
        # the modules it lists change format, the rest keep the checkpoint's FP8.
        method, base = "modelopt", FP8_BLOCK if qc.get("weight_block_size") else FP8
    excluded = _excluded_patterns(qc)
    scheme = _scheme(qc, method)
    expert_fp4 = str(cfg.get("expert_dtype", "")).lower() == "fp4"
    resolve = _FormatRule(
        scheme,
        method=method,
        base=base,
        expert_fp4=expert_fp4,
        mixed=str(qc.get("quant_algo", "")).upper() == "MIXED_PRECISION",
    )
    is_excluded = _Matcher(excluded)
    target_matchers = [(_Matcher([pattern]), f) for pattern, f in scheme.targeted]
    by_class: dict[str, dict[Format, float]] = {c: {} for c in TENSOR_CLASSES}
    _add_layers(by_class, arch, resolve, is_excluded, target_matchers)
    _add_top_level(by_class, arch, resolve, is_excluded, target_matchers)
    result = {cls: _shares(counts) for cls, counts in by_class.items()}
    label, notes = scheme.label, []
    if scheme.listed:
        notes.append("formats read per module from quantized_layers")
    if expert_fp4 and method == "fp8":
        label = "fp8 (128x128 blocks), FP4 experts"
        notes.append("expert_dtype fp4: routed experts counted as MXFP4 (4.25 bits)")
    return PrecisionMap(by_class=result, method=label, notes=tuple(notes))


_WHERE = "quantization_config"


def _quantization_config(
    raw: Mapping[str, Any],
    cfg: Mapping[str, Any],
    hf_quant_config: Mapping[str, Any] | None,
    name: str | None,
) -> dict[str, Any] | None:
    """config.json's ``quantization_config`` merged with ModelOpt's hf_quant_config.json
    ``quantization`` (its ``exclude_modules`` as ``ignore``); None for a bf16 checkpoint.
    Refuses a name that says quantized when neither file says how."""
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
                "quantization_config: add the checkpoint's hf_quant_config.json"
            )
        return None
    if qc and not isinstance(qc, Mapping):
        raise ConfigError("field 'quantization_config': expected an object")
    merged = dict(qc or {})
    if hq:
        merged = {
            **merged,
            "quant_method": "modelopt",
            **hq,
            "ignore": list(hq.get("exclude_modules") or []),
        }
    return merged


def _excluded_patterns(qc: Mapping[str, Any]) -> list[str]:
    """The module patterns a checkpoint leaves unquantized (``ignore``,
    ``modules_to_not_convert``, ``exclude_modules``), wrapper prefixes dropped."""
    excluded = (
        _strings(qc.get("ignore"), f"{_WHERE}.ignore")
        + _strings(qc.get("modules_to_not_convert"), f"{_WHERE}.modules_to_not_convert")
        + _strings(qc.get("exclude_modules"), f"{_WHERE}.exclude_modules")
    )
    return [_normalize(p) for p in excluded]


@dataclass(kw_only=True)
class _Scheme:
    """What a quantization_config says: the format of modules it names by pattern
    (``targeted``) or one by one (``listed``), of every other Linear (``default``, None when
    only named modules are quantized), and whether the default covers lm_head."""

    default: Format | None
    label: str
    lm_head_default: bool = False
    listed: dict[str, Format] = field(default_factory=dict)
    targeted: list[tuple[str, Format]] = field(default_factory=list)


def _scheme(qc: Mapping[str, Any], method: str) -> _Scheme:
    """The formats a ``quant_method`` declares."""
    if method == "fp8":
        block = qc.get("weight_block_size")
        return _Scheme(
            default=FP8_BLOCK if block else FP8, label="fp8 (128x128 blocks)" if block else "fp8"
        )
    if method == "mxfp4":
        return _Scheme(default=MXFP4, label="mxfp4 (MoE experts)")
    if method in ("awq", "gptq", "auto-round", "autoround"):
        return _integer_scheme(qc, method)
    if method in ("compressed-tensors", "modelopt"):
        return _grouped_scheme(qc, method)
    raise ConfigError(
        f"{_WHERE}.quant_method: '{method[:30]}' is not supported "
        "(fp8, mxfp4, compressed-tensors, modelopt, awq, gptq, auto-round)"
    )


def _integer_scheme(qc: Mapping[str, Any], method: str) -> _Scheme:
    """AWQ / GPTQ / AutoRound: INTn with group g, n + 16/g bits (+ n/g for zero points)."""
    bits, group = qc.get("bits", 4), qc.get("group_size", 128)
    if (
        bits not in (4, 8)
        or not isinstance(group, int)
        or isinstance(group, bool)
        or (group < -1 or group == 0)
    ):
        raise ConfigError(
            f"{_WHERE}: {method} with bits={bits!r} group_size={group!r} is not supported"
        )
    g = group if group > 0 else 0
    zero = bits / g if (g and (method == "awq" or not qc.get("sym", True))) else 0.0
    return _Scheme(
        default=Format(id=f"int{bits}", bits_per_weight=bits + (16 / g if g else 0) + zero),
        label=f"{method} int{bits} group {group}",
    )


def _grouped_scheme(qc: Mapping[str, Any], method: str) -> _Scheme:
    """compressed-tensors / ModelOpt: ``config_groups`` (targets), ``quant_algo`` and the
    per-module ``quantized_layers``."""
    scheme = _Scheme(default=None, label=method, lm_head_default=True)
    _add_config_groups(scheme, qc)
    algo = qc.get("quant_algo")
    if algo and str(algo).upper() not in ("MIXED_PRECISION", "NONE"):
        scheme.default = scheme.default or _algo_format(
            algo, f"{_WHERE}.quant_algo", qc.get("group_size")
        )
        scheme.label = f"{method} {str(algo).upper()}"
    elif algo:
        scheme.label = f"{method} mixed precision"
    scheme.listed = _quantized_layers(qc)
    if scheme.default is None and not scheme.listed and not scheme.targeted:
        raise ConfigError(f"{_WHERE}: no quantized format found (quant_algo or config_groups)")
    return scheme


def _add_config_groups(scheme: _Scheme, qc: Mapping[str, Any]) -> None:
    """compressed-tensors ``config_groups``: a group targeting ``Linear`` sets the default,
    any other target is a module pattern."""
    groups = qc.get("config_groups") or {}
    if not isinstance(groups, Mapping):
        raise ConfigError(f"{_WHERE}.config_groups: expected an object")
    for gname, group in groups.items():
        if not isinstance(group, Mapping) or not isinstance(group.get("weights"), Mapping):
            raise ConfigError(f"{_WHERE}.config_groups.{gname}: missing 'weights'")
        fmt = _group_format(group["weights"], f"{_WHERE}.config_groups.{gname}")
        names = _strings(
            group.get("targets") or ["Linear"], f"{_WHERE}.config_groups.{gname}.targets"
        )
        if "Linear" in names:
            scheme.default = fmt
        scheme.targeted.extend((_normalize(t), fmt) for t in names if t != "Linear")


def _quantized_layers(qc: Mapping[str, Any]) -> dict[str, Format]:
    """ModelOpt ``quantized_layers``: module name -> its format."""
    layers = qc.get("quantized_layers") or {}
    if not isinstance(layers, Mapping):
        raise ConfigError(f"{_WHERE}.quantized_layers: expected an object")
    # thousands of modules (MiniMax-M3: 22,000) share a few (quant_algo, group_size)
    # (exact str and int types only: True and 1.0 would share 1's entry)
    formats: dict[tuple[str, int | None], Format] = {}
    listed: dict[str, Format] = {}
    for name, spec in layers.items():
        if type(spec) is not dict and not isinstance(spec, Mapping):
            raise ConfigError(f"{_WHERE}.quantized_layers.{str(name)[:40]}: expected an object")
        algo, group = spec.get("quant_algo"), spec.get("group_size")
        fkey = (
            (algo, group) if type(algo) is str and (group is None or type(group) is int) else None
        )
        found = formats.get(fkey) if fkey is not None else None
        if found is None:
            found = _algo_format(algo, f"{_WHERE}.quantized_layers", group)
            if fkey is not None:
                formats[fkey] = found
        listed[_normalize(str(name))] = found
    return listed


class _FormatRule:
    """The format of one module given its candidate names: excluded modules keep the base
    (bf16 for lm_head, embedding, vision), then a listed module's own format, then the first
    matching target, then the default."""

    def __init__(
        self, scheme: _Scheme, *, method: str, base: Format, expert_fp4: bool, mixed: bool
    ) -> None:
        self.scheme, self.method, self.base, self.mixed = scheme, method, base, mixed
        self.fp4_experts = expert_fp4 and method == "fp8"
        self.listed_groups = _group_listed(scheme.listed)

    def __call__(
        self,
        names: Sequence[str],
        cls: str,
        excluded: _Matcher,
        targets: Sequence[tuple[_Matcher, Format]],
    ) -> Format:
        keep = BF16 if cls in ("lm_head", "embedding", "vision") else self.base
        if cls == "routed_experts" and self.fp4_experts:
            return MXFP4
        if any(excluded(n) for n in names):
            return keep
        if self.scheme.listed:
            hit = _listed_format(self.listed_groups, names)
            if hit is not None:
                return hit
        for match, f in targets:
            if any(match(n) for n in names):
                return f
        return self._unnamed(cls, keep)

    def _unnamed(self, cls: str, keep: Format) -> Format:
        """The format of a module no pattern or list names."""
        default = self.scheme.default
        if default is None or self.mixed:
            return keep
        if self.method == "mxfp4" and cls != "routed_experts":
            return BF16
        if cls == "lm_head" and not self.scheme.lm_head_default:
            return BF16
        return default


def _add_layers(
    by_class: dict[str, dict[Format, float]],
    arch: Architecture,
    resolve: _FormatRule,
    is_excluded: _Matcher,
    target_matchers: list[tuple[_Matcher, Format]],
) -> None:
    """Add each decoder layer's parameters per tensor class to `by_class` under its format.

    Every name of layer i starts with ``layers.{i}.``: its matchers drop the globs that
    cannot match such names (`_Matcher.for_layer`). A layer's formats then depend on its
    index only through the names; where neither those matchers nor a listed module can
    tell the index from `_BLIND` characters of the same length (`_Matcher.index_blind`),
    the names are built with those instead, and one answer (in `memo`) serves every such
    layer with the same matchers and index width, exactly as if computed anew."""
    memo: dict[tuple[Any, ...], Format] = {}
    variants: dict[tuple[_Matcher, ...], int] = {}  # per-layer matcher sets, numbered
    per_layer = any(m.has_globs for m in (is_excluded, *(m for m, _ in target_matchers)))
    excl, targets = is_excluded, target_matchers
    for i, layer in enumerate(arch.layers):
        index = str(i)
        if per_layer:
            excl = is_excluded.for_layer(index)
            targets = [(m.for_layer(index), f) for m, f in target_matchers]
        matchers = (excl, *(m for m, _ in targets))
        index = _index_or_blind(index, matchers, resolve.listed_groups)
        key = (variants.setdefault(matchers, len(variants)), index)
        for cls, leaf, params in _layer_parts(layer):
            memo_key = (*key, cls, "" if leaf is None else leaf)
            f = memo.get(memo_key)
            if f is None:
                f = memo[memo_key] = resolve(
                    _module_names(arch.family, index, cls, leaf), cls, excl, targets
                )
            by_class[cls][f] = by_class[cls].get(f, 0.0) + params


def _index_or_blind(
    index: str, matchers: Sequence[_Matcher], listed_groups: Mapping[str, _ListedGroup]
) -> str:
    """`index`, or as many `_BLIND` characters when nothing can tell them apart."""
    blind = _BLIND * len(index)
    if (
        f"layers.{index}" not in listed_groups
        and f"layers.{blind}" not in listed_groups
        and all(m.index_blind(index) for m in matchers)
    ):
        return blind
    return index


def _layer_parts(layer: Any) -> Iterator[tuple[str, str | None, float]]:
    """(tensor class, attention projection or None for the whole class, parameters) of one
    decoder layer: attention per projection where the layer has them, since checkpoints
    exclude some (MLA q/kv) and quantize others (o)."""
    for cls in LAYER_CLASSES:
        params = _layer_class_params(layer, cls)
        if not params:
            continue
        if cls == "attention" and layer.attention_parts:
            for leaf, n in layer.attention_parts:
                yield cls, leaf, n
            continue
        yield cls, None, params


def _module_names(family: str, index: str, cls: str, leaf: str | None) -> list[str]:
    """The module names the family uses for one class (or attention projection `leaf`) of
    layer `index`."""
    if leaf is None:
        return _candidates(family, index, cls)
    return [f"layers.{index}.{p}.{leaf}" for p in _parents(family, cls)]


def _add_top_level(
    by_class: dict[str, dict[Format, float]],
    arch: Architecture,
    resolve: _FormatRule,
    is_excluded: _Matcher,
    target_matchers: list[tuple[_Matcher, Format]],
) -> None:
    """The format of the embedding, lm_head, MTP modules and vision tower (one each)."""
    for cls in ("embedding", "lm_head", "mtp", "vision"):
        names = list(_TOP[cls])
        if cls == "mtp":
            n = arch.num_layers
            names += [f"layers.{n + j}" for j in range(len(arch.mtp_layers))]
            names += [f"mtp.layers.{j}" for j in range(len(arch.mtp_layers))]
            names += [f"mtp.{j}" for j in range(len(arch.mtp_layers))]
        f = (
            BF16
            if cls in ("embedding", "vision")
            else resolve(names, cls, is_excluded, target_matchers)
        )
        if cls == "vision" and resolve.scheme.listed:
            f = _listed_format(resolve.listed_groups, names) or BF16
        by_class[cls][f] = 1.0


def _shares(counts: Mapping[Format, float]) -> tuple[tuple[Format, float], ...]:
    """Parameter counts per format -> shares, largest first (bf16 when none)."""
    total = sum(counts.values())
    return (
        tuple((f, v / total) for f, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        if total
        else ((BF16, 1.0),)
    )


def _layer_class_params(layer: Any, cls: str) -> int:
    return int(
        {
            "attention": layer.attention_params,
            "linear_attention": layer.linear_attention_params,
            "dense_mlp": layer.dense_mlp_params,
            "routed_experts": layer.routed_params,
            "shared_experts": layer.shared_params,
        }[cls]
    )


class _ListedGroup:
    """The listed modules of one group (``layers.12``): their names in sorted order (a
    module and everything below it are one run) with each one's format and its position in
    ``quantized_layers``, and each name's (position, format)."""

    def __init__(self, entries: list[tuple[str, int, Format]]) -> None:
        entries.sort()
        self.keys = [key for key, _, _ in entries]
        self.entries = entries
        self._by_key: dict[str, tuple[int, Format]] | None = None

    @property
    def by_key(self) -> dict[str, tuple[int, Format]]:
        if self._by_key is None:
            self._by_key = {key: (order, f) for key, order, f in self.entries}
        return self._by_key


def _group_listed(listed: Mapping[str, Format]) -> dict[str, _ListedGroup]:
    """Listed modules grouped by their first two name parts (``layers.12``)."""
    groups: dict[str, list[tuple[str, int, Format]]] = {}
    for order, (key, f) in enumerate(listed.items()):
        groups.setdefault(_group_key(key), []).append((key, order, f))
    return {g: _ListedGroup(entries) for g, entries in groups.items()}


def _group_key(name: str) -> str:
    """The first two dot-separated parts of `name` (all of it when it has fewer)."""
    second = name.find(".", name.find(".") + 1) if "." in name else -1
    return name if second < 0 else name[:second]


def _listed_format(listed: Mapping[str, _ListedGroup], names: Sequence[str]) -> Format | None:
    """The most common format among listed modules at or below the first of `names` (on a
    tie, the one listed first); else the format of the first of `names` listed itself or
    by a parent (the parent listed first)."""
    if not names:
        return None
    name = names[0]
    group = listed.get(_group_key(name))
    if group is not None:
        # `name` and the names starting with `name.`: ('/' follows '.')
        lo = bisect.bisect_left(group.keys, name)
        hi = bisect.bisect_left(group.keys, name + "/", lo)
        counts: dict[Format, list[int]] = {}  # format: [count, first position]
        for key, order, f in group.entries[lo:hi]:
            if key == name or key.startswith(name + "."):
                seen = counts.get(f)
                if seen is None:
                    counts[f] = [1, order]
                else:
                    seen[0] += 1
                    seen[1] = min(seen[1], order)
        if counts:
            return min(counts, key=lambda f: (-counts[f][0], counts[f][1]))
    for other in names:
        gkey = _group_key(other)
        group = listed.get(gkey)
        if group is None:
            continue
        # the module or a parent in the same group, the one listed first
        by_key = group.by_key
        hits = [by_key[p] for p in _dot_prefixes(other) if p in by_key and _group_key(p) == gkey]
        if hits:
            return min(hits, key=lambda hit: hit[0])[1]
    return None


def _dot_prefixes(name: str) -> list[str]:
    """`name` and every parent: ``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``."""
    out = [name[:i] for i, ch in enumerate(name) if ch == "."]
    out.append(name)
    return out


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of module names")
    return value


__all__ = [
    "BF16",
    "FP8",
    "MXFP4",
    "NVFP4",
    "Format",
    "PrecisionMap",
    "precision_map",
    "uniform_map",
]
