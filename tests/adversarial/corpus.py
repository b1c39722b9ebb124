"""Crafted bad inputs for every file the CLI reads (issue 13): config.json, requirements
YAML, catalog YAML and batch CSV, plus bad command-line numbers.

Each case is (case id, file name, bytes, argv builder). ``argv(path)`` gives the
`python -m sizing` arguments that read the file. Every case must end with exit status 2,
one line on stderr that names the file (for file cases), and no traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]
QWEN = ROOT / "tests" / "data" / "hf" / "Qwen--Qwen3-0.6B_config.json"
GUIDE = ROOT / "tests" / "data" / "requirements" / "guide_buyer.yaml"
CATALOG = ROOT / "catalog.yaml"


@dataclass(frozen=True)
class Case:
    """One crafted file and the command that reads it."""

    id: str
    filename: str
    data: bytes
    argv: Callable[[str], list[str]]
    names_file: bool = True  # the one-line error must name the file


def _estimate(path: str) -> list[str]:
    return [
        "estimate",
        "--platform",
        "asus-gx10-1tb",
        "--units",
        "1",
        "--parallel",
        "tp",
        "--model",
        path,
        "--weights",
        "bf16",
        "--json",
    ]


def _model(path: str) -> list[str]:
    return ["model", path, "--json"]


def _plan(path: str) -> list[str]:
    return ["plan", "--requirements", path]


def _catalog(path: str) -> list[str]:
    return ["--catalog", path, "catalog", "--json"]


def _qwen(**changes: object) -> bytes:
    raw = json.loads(QWEN.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is _DROP:
            raw.pop(key, None)
        else:
            raw[key] = value
    return json.dumps(raw).encode()


def _qwen_text(key: str, literal: str) -> bytes:
    """The Qwen config with ``key`` set to a raw JSON literal (1e400, NaN, a huge int)."""
    raw = json.loads(QWEN.read_text(encoding="utf-8"))
    raw[key] = "@@"
    return json.dumps(raw).replace('"@@"', literal).encode()


_DROP = object()
HUGE_INT = "9" * 5000  # over Python's 4,300-digit int-str limit
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJ = b'{"a":' * 5_000 + b"1" + b"}" * 5_000


def config_cases() -> list[Case]:
    out: list[tuple[str, bytes]] = [
        ("zero-heads", _qwen(num_attention_heads=0)),
        ("zero-layers", _qwen(num_hidden_layers=0)),
        ("negative-hidden", _qwen(hidden_size=-1024)),
        ("bool-layers", _qwen(num_hidden_layers=True)),
        ("string-heads", _qwen(num_attention_heads="16")),
        ("null-hidden", _qwen(hidden_size=None)),
        ("zero-kv-heads", _qwen(num_key_value_heads=0)),
        ("kv-heads-over-heads", _qwen(num_key_value_heads=64)),
        ("zero-head-dim", _qwen(head_dim=0)),
        ("zero-vocab", _qwen(vocab_size=0)),
        ("negative-intermediate", _qwen(intermediate_size=-1)),
        ("zero-max-pos", _qwen(max_position_embeddings=0)),
        ("float-layers", _qwen(num_hidden_layers=27.5)),
        ("list-model-type", _qwen(model_type=["qwen3"])),
        ("unknown-model-type", _qwen(model_type="no-such-model")),
        ("no-model-type", _qwen(model_type=_DROP)),
        ("string-tie", _qwen(tie_word_embeddings="yes")),
        ("string-quant-config", _qwen(quantization_config="fp8")),
        ("list-quant-method", _qwen(quantization_config={"quant_method": ["fp8"]})),
        ("quant-bits-huge", _qwen(quantization_config={"quant_method": "gptq", "bits": 10**30})),
        ("hidden-1e400", _qwen_text("hidden_size", "1e400")),
        ("layers-nan", _qwen_text("num_hidden_layers", "NaN")),
        ("heads-huge-int", _qwen_text("num_attention_heads", HUGE_INT)),
        ("name-huge-int", _qwen_text("_name_or_path", HUGE_INT)),
        ("vocab-neg-inf", _qwen_text("vocab_size", "-Infinity")),
        (
            "sliding-negative",
            _qwen(sliding_window=-5, use_sliding_window=True, max_window_layers=0),
        ),
        ("layer-types-wrong", _qwen(layer_types=["full_attention"])),
        ("non-utf8", b'{"model_type": "qwen3", "name": "\xff\xfe"}'),
        ("deep-array", DEEP_JSON),
        ("deep-object", DEEP_OBJ),
        ("empty", b""),
        ("top-level-array", b"[1, 2, 3]"),
        ("nul-bytes", b"\x00" * 4096),
        ("truncated", _qwen()[:100]),
    ]
    cases = [Case(f"config-{name}", "config.json", data, _estimate) for name, data in out]
    cases += [
        Case(f"model-{name}", "config.json", data, _model)
        for name, data in out
        if name
        in {
            "zero-heads",
            "hidden-1e400",
            "heads-huge-int",
            "non-utf8",
            "deep-array",
            "bool-layers",
            "zero-layers",
        }
    ]
    return cases


def _guide(**changes: str) -> bytes:
    text = GUIDE.read_text(encoding="utf-8")
    for key, literal in changes.items():
        lines = [
            f"{key}: {literal}" if line.startswith(f"{key}:") else line
            for line in text.splitlines()
        ]
        text = "\n".join(lines) + "\n"
    return text.encode()


BILLION_LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


# Odd but readable configs: an answer (exit 0) is right for them, never a traceback.
ACCEPTED_CONFIGS: list[tuple[str, bytes]] = [
    ("huge-hidden", _qwen(hidden_size=10**12)),  # does not fit anywhere: says so
    ("rope-theta-inf", _qwen_text("rope_theta", "Infinity")),  # unused field (Nemotron-H
    # writes Infinity in one)
    ("markdown-name", _qwen(_name_or_path="![i](http://evil.example/i.png)")),
]


def requirements_cases() -> list[Case]:
    out = [
        ("non-utf8", b"main_agent:\n  model: \xff\xfe\n"),
        ("deep-flow", b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"),
        ("deep-block", "".join("  " * i + f"k{i}:\n" for i in range(3000)).encode()),
        ("huge-int-context", _guide(context_tokens=HUGE_INT)),
        ("inf-context", _guide(context_tokens=".inf")),
        ("nan-memory", _guide(min_memory_gb=".nan")),
        ("1e308-memory", _guide(min_memory_gb="1.0e308")),
        ("1e400-memory", _guide(min_memory_gb="1.0e400")),
        ("huge-int-streams", _guide(concurrent_streams=HUGE_INT)),
        ("negative-context", _guide(context_tokens="-1")),
        ("zero-streams", _guide(concurrent_streams="0")),
        ("bool-context", _guide(context_tokens="true")),
        ("string-memory", _guide(min_memory_gb="lots")),
        ("python-tag", b"main_agent: !!python/object/apply:os.system ['true']\n"),
        ("billion-laughs", BILLION_LAUGHS),
        ("top-level-list", b"- 1\n- 2\n"),
        ("empty", b""),
        ("nul-bytes", b"\x00" * 64),
        (
            "markdown-model",
            _guide().replace(
                b"model: openai/gpt-oss-120b", b"model: '[x](http://evil.example)'", 1
            ),
        ),
        ("budget-inf", _guide().replace(b"max: 15000", b"max: .inf")),
        ("budget-huge", _guide().replace(b"max: 15000", b"max: " + HUGE_INT.encode())),
    ]
    return [Case(f"requirements-{n}", "requirements.yaml", d, _plan) for n, d in out]


def _catalog_sub(old: str, new: str) -> bytes:
    text = CATALOG.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1).encode()


def _first_value(key: str) -> str:
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith(f"{key}:"):
            return line
    raise AssertionError(key)


def _catalog_set(key: str, literal: str) -> bytes:
    line = _first_value(key)
    indent = line[: len(line) - len(line.lstrip())]
    return _catalog_sub(line, f"{indent}{key}: {literal}")


def catalog_cases() -> list[Case]:
    out = [
        ("non-utf8", b"platforms:\n  - id: \xff\xfe\n"),
        ("deep-flow", b"platforms: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"),
        ("memory-inf", _catalog_set("memory_gb", ".inf")),
        ("memory-nan", _catalog_set("memory_gb", ".nan")),
        ("memory-1e308", _catalog_set("memory_gb", "1.0e308")),
        ("memory-huge-int", _catalog_set("memory_gb", HUGE_INT)),
        ("memory-negative", _catalog_set("memory_gb", "-128")),
        ("memory-zero", _catalog_set("memory_gb", "0")),
        ("bandwidth-inf", _catalog_set("memory_bandwidth_gb_s", ".inf")),
        ("bandwidth-1e308", _catalog_set("memory_bandwidth_gb_s", "1e308")),
        ("bandwidth-zero", _catalog_set("memory_bandwidth_gb_s", "0")),
        ("chf-huge-int", _catalog_set("chf", HUGE_INT)),
        ("chf-inf", _catalog_set("chf", ".inf")),
        ("chf-1e308", _catalog_set("chf", "1.0e308")),
        ("load-w-nan", _catalog_set("load_w", ".nan")),
        ("load-w-1e308", _catalog_set("load_w", "1.0e308")),
        ("python-tag", b"platforms: !!python/object/apply:os.system ['true']\n"),
        ("billion-laughs", BILLION_LAUGHS),
        ("top-level-list", b"- 1\n"),
        ("empty", b""),
        ("nul-bytes", b"\x00" * 64),
    ]
    return [Case(f"catalog-{n}", "catalog.yaml", d, _catalog) for n, d in out]


BATCH_HEADER = "platform,units,parallel,model,weights,context,concurrency,mem_util\n"


def _batch_file(path: str) -> list[str]:
    return ["estimate", "--batch", path]


def batch_file_cases() -> list[Case]:
    """Batch files that cannot be read at all (exit 2, one line naming the file)."""
    out = [
        ("non-utf8", BATCH_HEADER.encode() + b"\xff\xfe,1,tp,x,y\n"),
        ("long-line", BATCH_HEADER.encode() + b"a" * 2_000_000 + b"\n"),
        ("unknown-column", b"platform,units,parallel,model,weights,evil\n"),
        ("missing-column", b"platform,units\n"),
        ("nul-bytes", b"\x00" * 1024),
        ("empty", b""),
    ]
    return [Case(f"batch-{n}", "batch.csv", d, _batch_file) for n, d in out]


BAD_BATCH_ROWS = [
    f"asus-gx10-1tb,{HUGE_INT},tp,openai/gpt-oss-120b,mxfp4,,,",
    "asus-gx10-1tb,1e400,tp,openai/gpt-oss-120b,mxfp4,,,",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,nan,,",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,,,inf",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,,,1e308",
    "asus-gx10-1tb,0,tp,openai/gpt-oss-120b,mxfp4,,,",
    "asus-gx10-1tb,65,replicas,openai/gpt-oss-120b,mxfp4,,,",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,0,,",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,,0,",
    "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,-5,,",
    f"asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,{HUGE_INT},,",
    "asus-gx10-1tb,1,tp,{zero_heads},bf16,,,",
    "asus-gx10-1tb,1,tp,{deep},bf16,,,",
    "asus-gx10-1tb,1,tp,{huge},bf16,,,",
    "asus-gx10-1tb,1,tp,/no/such/config.json,bf16,,,",
    "asus-gx10-1tb,1,tp,[x](http://evil.example),bf16,,,",
]
GOOD_BATCH_ROW = "asus-gx10-1tb,1,tp,openai/gpt-oss-120b,mxfp4,,,"


BAD_ARGS: list[tuple[str, list[str]]] = [
    (
        "compare-context-0",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--context",
            "0",
            "--units",
            "1",
            "--platforms",
            "asus-gx10-1tb",
        ],
    ),
    (
        "compare-context-neg",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--context",
            "-1",
            "--units",
            "1",
        ],
    ),
    (
        "compare-concurrency-0",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--concurrency",
            "0",
            "--units",
            "1",
        ],
    ),
    (
        "compare-units-65",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--units",
            "65",
            "--platforms",
            "asus-gx10-1tb",
        ],
    ),
    (
        "compare-units-huge",
        ["compare", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--units", HUGE_INT],
    ),
    (
        "compare-context-huge",
        ["compare", "--model", "openai/gpt-oss-120b", "--weights", "mxfp4", "--context", HUGE_INT],
    ),
    (
        "compare-hours-nan",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--hours-at-load",
            "nan",
        ],
    ),
    (
        "compare-hours-inf",
        [
            "compare",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--hours-at-load",
            "inf",
        ],
    ),
    (
        "estimate-spec-1e308",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--spec-multiplier",
            "1e308",
        ],
    ),
    (
        "estimate-spec-1e400",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--spec-multiplier",
            "1e400",
        ],
    ),
    (
        "estimate-mem-util-1e308",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--mem-util",
            "1e308",
        ],
    ),
    (
        "estimate-context-huge",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--context",
            HUGE_INT,
        ],
    ),
    (
        "estimate-units-huge",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "10000000000000000000",
            "--parallel",
            "replicas",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
        ],
    ),
    (
        "estimate-concurrency-huge",
        [
            "estimate",
            "--platform",
            "asus-gx10-1tb",
            "--units",
            "1",
            "--parallel",
            "tp",
            "--model",
            "openai/gpt-oss-120b",
            "--weights",
            "mxfp4",
            "--concurrency",
            "10" * 12,
        ],
    ),
    ("model-tp-0", ["model", "openai/gpt-oss-120b", "--tp", "0"]),
    ("model-tp-huge", ["model", "openai/gpt-oss-120b", "--tp", HUGE_INT]),
    ("bom-units-0", ["bom", "--platform", "asus-gx10-1tb", "--units", "0"]),
    ("bom-units-huge", ["bom", "--platform", "asus-gx10-1tb", "--units", "1000000000"]),
]


def file_cases() -> list[Case]:
    """Every crafted file case."""
    return config_cases() + requirements_cases() + catalog_cases() + batch_file_cases()
