"""Quantization maps: which layers a pattern reaches, counted by hand, and the shortcuts the
import takes (patterns restricted per layer, one answer for layers whose index no pattern
can see) checked against the plain definition of a match.

Expected shares are fractions of layers worked out from the patterns in each case; the
reference matcher below is the definition in `sizing.quantmap` written out naively (each
pattern on its own, every wrapper prefix, plain names by joining parts), not the code.
"""

from __future__ import annotations

import fnmatch
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.catalog import CONFIG_DIR
from sizing.hfconfig import architecture_from_config
from sizing.quantmap import (
    _BLIND,
    _FAMILY_PARENTS,
    _LEAVES,
    _WRAPPER_NAMES,
    _Matcher,
    _normalize,
    precision_map,
)

N_LAYERS = 24


def _tiny(quantization_config: dict) -> dict:
    """A 24-layer Llama: attention 4 x 64 x 64 and MLP 3 x 64 x 128 per layer."""
    return {
        "model_type": "llama",
        "num_hidden_layers": N_LAYERS,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "vocab_size": 100,
        "max_position_embeddings": 4096,
        "quantization_config": quantization_config,
    }


def _shares(raw: dict, cls: str) -> dict[str, float]:
    pm = precision_map(raw, architecture_from_config(raw))
    return {f.id: share for f, share in pm.by_class[cls]}


@pytest.mark.parametrize(
    ("ignore", "attention_fp8", "mlp_fp8"),
    [
        # a glob ending in a digit: layers 1 and 10-19 (11 of 24), attention and MLP
        (["model.layers.1*"], 13, 13),
        # layer 1 only
        (["model.layers.1.*"], 23, 23),
        # '?' stands for one character: the MLP of layers 0-9
        (["model.layers.?.mlp*"], 24, 14),
        # a regular expression reading digits: the MLP of the single-digit layers 0-9
        ([r"re:.*layers\.[0-9]\.mlp.*"], 24, 14),
        # \d\d: attention of layers 10-23 (14 of 24)
        ([r"re:.*layers\.\d\d\.self_attn.*"], 10, 24),
        # no digit anywhere: every layer alike (one answer serves them all)
        (["re:.*self_attn.*"], 0, 24),
        (["model.layers.*.mlp"], 24, 0),
        # plain names: a module and its children (layer 3's MLP), a layer (12), a trailing name
        (["model.layers.3.mlp", "model.layers.12", "lm_head"], 23, 22),
        # layer 2 by name, and a glob for 20-23
        (["model.layers.2", "model.layers.2?.self_attn*"], 19, 23),
    ],
)
def test_fp8_ignore_patterns_reach_the_layers_counted_by_hand(ignore, attention_fp8, mlp_fp8):
    raw = _tiny({"quant_method": "fp8", "ignore": ignore})
    attention, mlp = _shares(raw, "attention"), _shares(raw, "dense_mlp")
    assert attention.get("fp8", 0.0) == pytest.approx(attention_fp8 / N_LAYERS)
    assert attention.get("bf16", 0.0) == pytest.approx(1 - attention_fp8 / N_LAYERS)
    assert mlp.get("fp8", 0.0) == pytest.approx(mlp_fp8 / N_LAYERS)


def test_listed_modules_majority_and_ties_in_listing_order():
    # ModelOpt mixed precision: even layers' MLP NVFP4, odd layers' FP8. Layer 5 lists
    # w3 (FP8), gate_proj and up_proj (NVFP4), down_proj (FP8): a 2-2 tie goes to the format
    # listed first (FP8, by w3), though down_proj (FP8) sorts first and is listed last.
    # Layer 7 lists nothing for its MLP: bf16.
    layers = {}
    for i in range(N_LAYERS):
        if i in (5, 7):
            continue
        algo = "NVFP4" if i % 2 == 0 else "FP8"
        for leaf in ("gate_proj", "up_proj", "down_proj"):
            layers[f"model.layers.{i}.mlp.{leaf}"] = {"quant_algo": algo}
    for leaf, algo in (
        ("w3", "FP8"),
        ("gate_proj", "NVFP4"),
        ("up_proj", "NVFP4"),
        ("down_proj", "FP8"),
    ):
        layers[f"model.layers.5.mlp.{leaf}"] = {"quant_algo": algo}
    raw = _tiny(
        {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION", "quantized_layers": layers}
    )
    mlp = _shares(raw, "dense_mlp")
    # NVFP4: 12 even layers; FP8: odd layers except 7 (11, with layer 5); bf16: layer 7
    assert mlp == pytest.approx({"nvfp4": 12 / 24, "fp8": 11 / 24, "bf16": 1 / 24})
    # a parent listed (layer 9's whole MLP, as FP8) decides the layer's MLP
    layers = {f"model.layers.{i}.mlp.down_proj": {"quant_algo": "NVFP4"} for i in range(9)}
    layers["model.layers.9.mlp"] = {"quant_algo": "FP8"}
    raw = _tiny(
        {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION", "quantized_layers": layers}
    )
    assert _shares(raw, "dense_mlp") == pytest.approx(
        {"nvfp4": 9 / 24, "fp8": 1 / 24, "bf16": 14 / 24}
    )


# --------------------------------------------------------------------------- the shortcuts
class _Reference:
    """A match by definition: a plain name is the module, a parent or a trailing name; a
    glob or ``re:`` pattern matches from the start behind any wrapper prefix (all of them
    as one alternation, as the import compiles them)."""

    def __init__(self, patterns: list[str]) -> None:
        self.plain = {
            p for p in patterns if not p.startswith("re:") and not any(ch in p for ch in "*?[")
        }
        regexes = [
            p[3:] if p.startswith("re:") else fnmatch.translate(p)
            for p in patterns
            if p not in self.plain
        ]
        try:
            self.regexes = [re.compile("|".join(f"(?:{r})" for r in regexes))] if regexes else []
        except re.error:  # e.g. (?i) inside: one at a time
            self.regexes = [re.compile(r) for r in regexes]

    def __call__(self, name: str) -> bool:
        parts = name.split(".")
        if any(
            ".".join(parts[:k]) in self.plain or ".".join(parts[-k:]) in self.plain
            for k in range(1, len(parts) + 1)
        ):
            return True
        return any(r.match(w + name) for r in self.regexes for w in _WRAPPER_NAMES)


def _layer_names(index: str, family: str | None = None) -> list[str]:
    """The module names the import tests for layer `index` (of `family`, or of all)."""
    out = []
    for fam, parents in _FAMILY_PARENTS.items():
        if (
            family is not None
            and fam != family
            and not (family not in _FAMILY_PARENTS and fam == "default")
        ):
            continue
        for cls, prefixes in parents.items():
            for p in prefixes:
                out.append(f"layers.{index}.{p}")
                out.extend(f"layers.{index}.{p}.{leaf}" for leaf in _LEAVES[cls])
    return out


def _check(patterns: list[str], indices: list[int], family: str | None = None) -> None:
    full, reference = _Matcher(patterns), _Reference(patterns)
    for i in indices:
        index = str(i)
        sub = full.for_layer(index)
        blind = sub.index_blind(index)
        for name in _layer_names(index, family):
            expected = reference(name)
            assert full(name) == expected, (patterns, name)
            assert sub(name) == expected, (patterns, name)
            if blind:
                hidden = name.replace(f"layers.{index}.", f"layers.{_BLIND * len(index)}.", 1)
                assert sub(hidden) == expected, (patterns, name)


_PIECES = st.sampled_from(
    [
        "model.",
        "language_model.",
        "layers.",
        "1",
        "2",
        "12",
        "0",
        "*",
        "?",
        ".",
        "mlp",
        "self_attn",
        "experts",
        "[0-9]",
        "[!1]",
    ]
)
_GLOB = st.lists(_PIECES, min_size=1, max_size=6).map("".join)
_REGEX = st.sampled_from(
    [
        r"re:.*layers\.1\d*\..*",
        r"re:.*self_attn.*",
        r"re:layers\.\d\.mlp",
        r"re:.*\.1[0-9]\.",
        r"re:(?i).*MLP.*",
        r"re:model\.layers\.2.*",
        r"re:.*layers\..\.mlp.*",
        r"re:.*experts\..*",
    ]
)
_PLAIN = st.sampled_from(
    [
        "layers.1",
        "layers.12.mlp",
        "mlp",
        "lm_head",
        "self_attn.q_proj",
        "1.mlp",
        "layers",
        "experts.0.w1",
        "mixer",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    patterns=st.lists(st.one_of(_GLOB, _REGEX, _PLAIN), min_size=1, max_size=5),
    indices=st.lists(st.integers(0, 130), min_size=1, max_size=4),
)
def test_per_layer_matchers_answer_as_the_definition(patterns, indices):
    _check([_normalize(p) for p in patterns], indices)


def test_per_layer_matchers_on_every_kept_checkpoint():
    """The ignore / exclude lists and targets of every kept config.json (and ModelOpt
    hf_quant_config.json), over every layer index of its model."""
    for path in sorted(CONFIG_DIR.glob("*.json")):
        raw = json.loads(path.read_text())
        qc = (
            raw.get("quantization_config")
            or raw.get("quantization")
            or (raw.get("text_config") or {}).get("quantization_config")
            or {}
        )
        patterns = [
            *(qc.get("ignore") or []),
            *(qc.get("modules_to_not_convert") or []),
            *(qc.get("exclude_modules") or []),
        ]
        for group in (qc.get("config_groups") or {}).values():
            patterns += [t for t in group.get("targets") or [] if t != "Linear"]
        if not patterns:
            continue
        stem = path.name.replace("_hf_quant_config.json", "_config.json")
        arch = architecture_from_config(json.loads((CONFIG_DIR / stem).read_text()))
        _check([_normalize(p) for p in patterns], list(range(arch.num_layers + 2)), arch.family)
