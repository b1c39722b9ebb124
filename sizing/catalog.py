"""The hardware / model catalog: pydantic v2 schema, loading and validation.

`catalog.yaml` (project root) holds every purchasable item (platforms, network parts,
host-build parts), every LLM architecture, quantization, engine, electricity tariff and
calibrated model constant, each with its sources. Loading a broken file fails with one
message naming the file, the entry id and the field::

    catalog.yaml: platforms[asus-gx10-1tb].memory_bandwidth_gb_s: Input should be greater than 0

Units live in field names: ``_gb`` = 1e9 bytes, ``_gib`` = 2**30 bytes, ``_w`` = watts,
``_chf`` = Swiss francs, ``_gbit_s`` = 1e9 bit/s, ``_us`` = microseconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import pickle
import re
import sys
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import platformdirs
import pydantic
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sizing import limits
from sizing.hfconfig import ConfigError, architecture_from_config
from sizing.quantmap import precision_map, uniform_map

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG_PATH = ROOT / "catalog.yaml"
APP_NAME = "llm-hardware-planner"
CACHE_ENV_VAR = "LLM_PLANNER_CACHE_DIR"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty or blank")
    return text


Id = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Source = Annotated[str, AfterValidator(_not_blank)]
Sources = Annotated[list[Source], Field(min_length=1)]

TensorClass = Literal[
    "embedding",
    "lm_head",
    "attention",
    "dense_mlp",
    "routed_experts",
    "shared_experts",
    "linear_attention",
    "mtp",
]
TENSOR_CLASSES: tuple[str, ...] = TensorClass.__args__  # type: ignore[attr-defined]


class CatalogError(ValueError):
    """A catalog file is invalid; the message names the file, the entry and the field."""


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping gives the same key twice (PyYAML would silently keep the last)."""

    def __init__(self, path: str, line: int, first_line: int) -> None:
        self.path, self.line, self.first_line = path, line, first_line
        super().__init__(
            f"{path}: duplicate key on line {line} (first given on line "
            f"{first_line}; only one value is allowed)"
        )

    def __str__(self) -> str:
        return str(self.args[0])


_EXPONENT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


class NumberLimitError(yaml.YAMLError):
    """A YAML file nests too deeply or holds a number out of range (`sizing.limits`)."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it


class UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """`yaml.SafeLoader` that raises `DuplicateKeyError` on a mapping key given twice.

    The error names the key's path (``main_agent.min_tok_s``; list entries by their
    ``id`` / ``family`` / ``engine`` when they have one, else by index) and both lines.
    Merge keys (``<<: *anchor``) may be overridden, as YAML intends.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        self._check_unique(node, "", set())
        return super().construct_document(node)

    def _check_scalar(self, node: yaml.ScalarNode, path: str) -> None:
        """Numbers the project can compute with: finite, within `limits.MAX_ABS_NUMBER`,
        integers checked by length before conversion (Python's 4,300-digit limit)."""
        where = f"{path or 'top level'} (line {node.start_mark.line + 1})"
        if node.tag == "tag:yaml.org,2002:int":
            digits = sum(ch.isalnum() for ch in str(node.value))
            if digits > limits.MAX_INT_DIGITS:
                raise NumberLimitError(
                    f"{where}: a {digits}-digit integer is out of range "
                    f"(limit {limits.MAX_ABS_NUMBER:g})"
                )
            value: float = self.construct_yaml_int(node)
        elif node.tag == "tag:yaml.org,2002:float":
            value = self.construct_yaml_float(node)
        elif node.tag == "tag:yaml.org,2002:str" and _EXPONENT.match(str(node.value)):
            value = float(node.value)  # YAML 1.1 reads 1e308 as text; pydantic would not
        else:
            return
        if not math.isfinite(value):
            raise NumberLimitError(f"{where}: must be a finite number (got {node.value})")
        if abs(value) > limits.MAX_ABS_NUMBER:
            raise NumberLimitError(
                f"{where}: {node.value} is out of range (limit {limits.MAX_ABS_NUMBER:g})"
            )

    def _check_unique(
        self, node: yaml.Node, path: str, seen_nodes: set[int], depth: int = 1
    ) -> None:
        if id(node) in seen_nodes:  # aliases share nodes; recursive YAML is legal
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            self._check_scalar(node, path)
            return
        if depth > limits.MAX_DEPTH:
            raise NumberLimitError(
                f"{path or 'top level'} (line {node.start_mark.line + 1}): "
                f"nested deeper than {limits.MAX_DEPTH} levels"
            )
        if isinstance(node, yaml.MappingNode):
            self._check_mapping(node, path, seen_nodes, depth)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._check_unique(item, f"{path}[{_item_label(item) or i}]", seen_nodes, depth + 1)

    def _check_mapping(
        self, node: yaml.MappingNode, path: str, seen_nodes: set[int], depth: int
    ) -> None:
        """`_check_unique` for a mapping's keys (no key twice) and values."""
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._check_unique(value_node, path, seen_nodes, depth + 1)
                continue
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where = f"{path}.{name}" if path else name
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode):
                ident = (key_node.tag, name)
                if ident in first:
                    raise DuplicateKeyError(where, line, first[ident])
                first[ident] = line
            self._check_unique(value_node, where, seen_nodes, depth + 1)


def _item_label(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for key in ("id", "family", "engine"):
            for k, v in node.value:
                if (
                    isinstance(k, yaml.ScalarNode)
                    and k.value == key
                    and isinstance(v, yaml.ScalarNode)
                ):
                    return str(v.value)
    return None


def load_yaml_unique(text: str) -> Any:
    """Parse YAML like `yaml.safe_load`, but a duplicated mapping key is an error."""
    return yaml.load(text, Loader=UniqueKeyLoader)


class UnknownIdError(KeyError):
    """An id is not in the catalog; the message lists the valid choices."""

    def __init__(self, kind: str, value: str, choices: Iterable[str]) -> None:
        self.kind, self.value, self.choices = kind, value, sorted(choices)
        super().__init__(f"unknown {kind} '{value}'; valid choices: {', '.join(self.choices)}")

    def __str__(self) -> str:
        return str(self.args[0])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


def _private(model: BaseModel) -> dict[str, Any]:
    """A model's private attributes as a plain dict. Reading ``model._x`` goes through
    pydantic's ``__getattr__`` (a failing ``hasattr`` per read, ~3 us); the lookups below
    run ~10^5 times in a 10,000-row batch."""
    return cast("dict[str, Any]", model.__pydantic_private__)


# --------------------------------------------------------------------------- prices
class ListPrice(Strict):
    """A dated catalog price. `url` is a toppreise.ch product page the scraper may refresh."""

    chf: NonNeg
    date: dt.date
    source: Source
    url: str | None = None
    note: str | None = None

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        today = dt.date.today()
        if value > today:
            raise ValueError(f"{value.isoformat()} is in the future (today is {today.isoformat()})")
        return value

    @property
    def rappen(self) -> int:
        return round(self.chf * 100)


class Item(Strict):
    """Anything that can be bought and therefore priced."""

    id: Id
    name: str
    part_number: str | None = None
    price: ListPrice | None = None
    source: Sources
    shop_url: str | None = Field(
        None, description="the vendor's shop / product page (a URL from the sources)"
    )
    known_good: bool = Field(
        True,
        description="False: a reported failure with this exact part; a BOM does not "
        "pick it by price alone (it is offered as an alternative with its caveat)",
    )
    caveat: str | None = Field(None, description="the known problem, one line")

    @field_validator("shop_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"shop_url must be an https:// address (got {value[:60]!r})")
        return value


# --------------------------------------------------------------------------- platforms
class FlashAttention(Strict):
    """Rate of the prefill attention kernel (flash attention, bf16 Q/K/V), TFLOPS: what
    `sizing.kernel.prefill` charges the causal attention FLOPs at (GEMMs run at the fitted
    rate of the compute path). `measured` False = an ASSUMPTION, said so in `note`."""

    tflops: Pos
    measured: bool
    date: dt.date
    note: str
    source: Sources


class DenseCompute(Strict):
    """Dense (non-sparse) tensor throughput, TFLOPS. None = dtype not supported natively."""

    bf16_tflops: Pos
    fp8_tflops: Pos | None = None
    fp4_tflops: Pos | None = None
    int8_tops: Pos | None = None
    derived_from_sparse: bool
    note: str | None = None
    flash_attention: FlashAttention | None = Field(
        None,
        description="prefill attention kernel rate; None: ASSUMED_FLASH_ATTENTION_FRACTION"
        " of bf16_tflops (sizing.kernel), stated in the estimate's assumptions",
    )


class NetworkPorts(Strict):
    count: int = Field(ge=1)
    speed_gbit_s: Pos
    form_factor: str
    note: str | None = None


class Power(Strict):
    idle_w: NonNeg
    load_w: Pos
    peak_w: Pos
    note: str | None = None
    source: Sources

    @model_validator(mode="after")
    def _ordered(self) -> Power:
        if not self.idle_w <= self.load_w <= self.peak_w:
            raise ValueError("need idle_w <= load_w <= peak_w")
        return self


class Noise(Strict):
    dba: NonNeg | None = None
    description: str
    source: Sources


class Interconnect(Strict):
    """How units of this platform talk to each other for tensor/pipeline parallelism:
    the link and the transports (catalog `transports` ids) collectives can run over, the
    first being the default."""

    kind: str
    link_gbit_s: Pos
    transports: list[Id] = Field(min_length=1, description="usable transports, default first")
    note: str
    source: Sources


class Transport(Strict):
    """How a collective moves between units (NCCL-style cost model, `sizing.kernel`
    ``allreduce_s``): a fixed cost per collective, a latency per ring step (the
    small-message LL protocol), the bus bandwidth as a fraction of the link, whether
    NCCL's tree is available (across hosts) and a fixed cost per decode step when the
    units sit in different hosts."""

    id: Id
    name: str
    across_hosts: bool = Field(description="the units are separate hosts on a network")
    base_latency_us: NonNeg = Field(
        description="per collective, independent of the rank count (launch, in-engine sync)"
    )
    hop_latency_us: Pos = Field(description="per ring step (2 (N-1) steps per all-reduce)")
    bus_bandwidth_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        description="measured bus bandwidth / link rate"
    )
    link_gbit_s: Pos | None = Field(
        None, description="the transport's own link (an NVLink bridge); None: the platform's"
    )
    tree: bool = Field(False, description="NCCL may pick the tree (log2 N steps) across hosts")
    step_fixed_us: NonNeg = Field(
        0.0, description="per decode step with tensor or pipeline parallel across hosts"
    )
    date: dt.date
    note: str
    source: Sources


class HostPart(Strict):
    item: Id
    quantity: int = Field(ge=1)


class HostBuild(Strict):
    """A GPU card's host: parts (catalog `host_parts` ids) and how many cards one host takes."""

    parts: list[HostPart] = Field(min_length=1)
    max_cards_per_host: int = Field(ge=1)
    power_idle_w: NonNeg
    power_load_w: Pos
    note: str
    source: Sources


class MemorySetting(Strict):
    """One named choice of how much memory the accelerator may use, where the owner
    decides it (macOS's GPU wired-memory limit, Strix Halo's BIOS/GTT split).

    ``usable_gib`` becomes the platform's ``accelerator_memory_gib`` when the setting is
    chosen; exactly one setting of a platform is the ``default`` and equals it.
    """

    id: Id
    label: str
    usable_gib: Pos
    how_to: str = Field(description="the command or firmware step that sets it")
    note: str | None = None
    date: dt.date
    default: bool = False
    source: Sources


class Platform(Item):
    """A purchasable compute unit: one box (GB10, Mac, mini PC) or one GPU card."""

    family: Literal[
        "gb10",
        "rtx-pro-6000",
        "mac-m3-ultra",
        "mac-m2-ultra",
        "strix-halo",
        "rtx-3090",
        "rtx-4090",
        "rtx-5090",
    ]
    vendor: str
    form: Literal["system", "gpu_card"]
    memory_gb: Pos
    memory_type: str
    unified_memory: bool
    accelerator_memory_gib: Pos = Field(
        description="memory the accelerator runtime reports as total (CUDA/Metal/ROCm view)"
    )
    memory_bandwidth_gb_s: Pos
    compute: DenseCompute
    network: list[NetworkPorts] = []
    interconnect: Interconnect | None = None
    power: Power
    noise: Noise
    storage_tb: NonNeg | None = None
    storage_note: str | None = None
    quants: list[Id] = Field(min_length=1)
    engines: list[Id] = Field(min_length=1)
    host: HostBuild | None = None
    availability: str | None = None
    memory_settings: list[MemorySetting] = []
    _base: Any = PrivateAttr(default=None)  # the catalog's own entry
    _variants: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _card_has_host(self) -> Platform:
        if self.form == "gpu_card" and self.host is None:
            raise ValueError("a gpu_card platform needs a host build (field 'host')")
        return self

    @model_validator(mode="after")
    def _one_default_setting(self) -> Platform:
        if not self.memory_settings:
            return self
        ids = [m.id for m in self.memory_settings]
        if len(set(ids)) != len(ids):
            raise ValueError(f"platforms[{self.id}].memory_settings: duplicate id")
        defaults = [m for m in self.memory_settings if m.default]
        if len(defaults) != 1:
            raise ValueError(
                f"platforms[{self.id}].memory_settings: exactly one setting "
                f"must be the default (found {len(defaults)})"
            )
        if not math.isclose(defaults[0].usable_gib, self.accelerator_memory_gib):
            raise ValueError(
                f"platforms[{self.id}].memory_settings[{defaults[0].id}]: the "
                f"default's usable_gib {defaults[0].usable_gib:g} must equal "
                f"accelerator_memory_gib {self.accelerator_memory_gib:g}"
            )
        return self

    @property
    def memory_setting(self) -> MemorySetting | None:
        """The memory setting in force (the default unless `with_memory_setting` chose
        another); None for platforms whose usable memory is not a user choice."""
        return next((m for m in self.memory_settings if m.default), None)

    def with_memory_setting(self, setting_id: str | None) -> Platform:
        """This platform with `setting_id` in force: ``accelerator_memory_gib`` becomes the
        setting's ``usable_gib`` (None: unchanged). Raises UnknownIdError naming the valid
        choices. The same object is returned for the same setting (cached)."""
        if setting_id is None:
            return self
        base = self._base or self
        index = {m.id: m for m in base.memory_settings}
        if setting_id not in index:
            err = UnknownIdError("memory setting", setting_id, index)
            err.args = (
                (
                    f"unknown memory setting '{setting_id}' for {base.id}; valid "
                    f"choices: {', '.join(err.choices)}"
                )
                if index
                else f"{base.id} has no memory settings (its usable memory is fixed); "
                f"got '{setting_id}'",
            )
            raise err
        if index[setting_id].default:
            return base
        variant = base._variants.get(setting_id)
        if variant is None:
            variant = base.model_copy(
                update={
                    "accelerator_memory_gib": index[setting_id].usable_gib,
                    "memory_settings": [
                        m.model_copy(update={"default": m.id == setting_id})
                        for m in base.memory_settings
                    ],
                }
            )
            variant._base, variant._variants = base, {}
            base._variants[setting_id] = variant
        return variant


# --------------------------------------------------------------------------- network parts
class SwitchPort(Strict):
    count: int = Field(ge=1)
    speed_gbit_s: Pos
    form_factor: str
    breakout: list[str] = []


class Switch(Item):
    kind: Literal["switch"] = "switch"
    ports: list[SwitchPort] = Field(min_length=1)
    max_200g_nodes: int = Field(ge=0, description="200G node ports incl. 2x200G breakouts")
    power_idle_w: NonNeg
    power_max_w: Pos
    notes: list[str] = []


class Cable(Item):
    kind: Literal["dac", "breakout_dac", "thunderbolt"]
    speed_gbit_s: Pos
    ends: str
    length_m: Pos
    compatibility: list[str] = []


class HostPartItem(Item):
    kind: Literal["cpu", "motherboard", "memory", "psu", "case", "cooler", "ssd", "misc"]


# --------------------------------------------------------------------------- models
CONFIG_DIR = ROOT / "data" / "hf_configs"


def config_path_for(repo_id: str) -> Path:
    """Where the repository keeps a checkpoint's config.json (``ORG--NAME_config.json``)."""
    return CONFIG_DIR / f"{repo_id.replace('/', '--')}_config.json"


class ModelArch(Strict):
    """A catalog model: its config.json (file or inline keys), card figures and checkpoints.

    The architecture (`arch`) and the checkpoint's own precision per tensor class
    (`native_precision`) are imported from the config by `sizing.hfconfig` and
    `sizing.quantmap` when the catalog loads. ``checkpoints`` maps a quantization id to the
    Hugging Face repo of a real checkpoint in that format; its config.json is kept in
    ``data/hf_configs/`` and decides which tensor classes it quantizes.
    """

    id: Id
    name: str
    family: str = Field(description="display group, e.g. 'Qwen3.5', 'DeepSeek'")
    released: date | None = None
    variants: list[str] = []
    published_total_params_b: Pos | None = None
    published_active_params_b: Pos | None = None
    published_checkpoint_gb: Pos | None = None
    config: str | dict[str, Any] = Field(
        description="repo-relative path of the model's config.json, or its keys inline"
    )
    max_context_tokens_override: int | None = Field(
        None,
        ge=1,
        alias="max_context_tokens",
        description="context the catalog allows when it differs from max_position_embeddings",
    )
    checkpoints: dict[Id, Id] = {}
    routing_concentration: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0,
        description="share of the routed experts a batch's tokens spread over, as if "
        "uniform (1 = uniform routing, the upper bound on experts touched); a value below 1 "
        "needs routing_source",
    )
    routing_source: str | None = Field(
        None,
        description="URL (and date) of the measured expert-load distribution behind "
        "routing_concentration",
    )
    native_from_config: bool = Field(
        True, description="false: the config is another checkpoint's; the release is bf16"
    )
    notes: str | None = None
    source: Sources
    _arch: Any = PrivateAttr(default=None)
    _native: Any = PrivateAttr(default=None)
    _raw: Any = PrivateAttr(default=None)
    _checkpoint_maps: dict[str, Any] = PrivateAttr(default_factory=dict)

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False, defer_build=True
    )

    @model_validator(mode="after")
    def _import_config(self) -> ModelArch:
        raw = (
            self.config
            if isinstance(self.config, dict)
            else _read_json(ROOT / self.config, "config")
        )
        try:
            arch = architecture_from_config(raw)
            native = (
                precision_map(raw, arch)
                if self.native_from_config
                else uniform_map({}, "none (bf16 release)")
            )
        except ConfigError as exc:
            raise ValueError(f"config: {exc}") from None
        self._raw, self._arch, self._native = raw, arch, native
        if self.routing_concentration < 1.0 and not self.routing_source:
            raise ValueError(
                "routing_concentration below 1 (uniform routing) needs "
                "routing_source: the measured expert-load distribution"
            )
        if self.routing_concentration < 1.0 and not arch.num_experts:
            raise ValueError(
                "routing_concentration is for MoE models; this config has no routed experts"
            )
        return self

    @property
    def arch(self) -> Any:
        """The imported `sizing.architecture.Architecture`."""
        return _private(self)["_arch"]

    @property
    def native_precision(self) -> Any:
        """The checkpoint's own `sizing.quantmap.PrecisionMap` (bf16 where unquantized)."""
        return _private(self)["_native"]

    @property
    def max_context_tokens(self) -> int:
        return self.max_context_tokens_override or int(self.arch.max_context_tokens)

    @property
    def num_attention_heads(self) -> int:
        return int(self.arch.num_attention_heads)

    @property
    def is_moe(self) -> bool:
        return bool(self.arch.num_experts)

    @property
    def attention(self) -> str:
        """Layer kinds in words, e.g. 'linear 45 + full 15'."""
        kinds = self.arch.layer_kinds()
        return " + ".join(f"{k} {n}" for k, n in kinds.items())

    def checkpoint_precision(self, quant_id: str) -> Any:
        """The PrecisionMap of the catalog's checkpoint for `quant_id`, or None."""
        repo = self.checkpoints.get(quant_id)
        if repo is None:
            return None
        maps = _private(self)["_checkpoint_maps"]
        if repo not in maps:
            maps[repo] = checkpoint_precision(repo, self.arch)
        return maps[repo]


def _read_json(path: Path, field: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{field}: cannot read {path.name}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{field}: {path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{field}: {path.name} must hold a JSON object")
    return data


@lru_cache(maxsize=256)
def _checkpoint_raw(repo: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    path = config_path_for(repo)
    raw = _read_json(path, f"checkpoint {repo}")
    quant_path = path.with_name(path.name.replace("_config.json", "_hf_quant_config.json"))
    return raw, (_read_json(quant_path, f"checkpoint {repo}") if quant_path.exists() else None)


def checkpoint_precision(repo: str, arch: Any) -> Any:
    """A kept checkpoint's precision map over the catalog model's architecture."""
    raw, hf_quant = _checkpoint_raw(repo)
    return precision_map(raw, arch, hf_quant_config=hf_quant, name=repo)


# --------------------------------------------------------------------------- quants, engines
class Quantization(Strict):
    """Weight format. `bits_per_weight` includes block/group scale overhead."""

    id: Id
    name: str
    bits_per_weight: Pos
    applies_to: list[TensorClass] = Field(min_length=1)
    compute_dtype: Literal["bf16", "fp8", "fp4", "int8"]
    on_checkpoint: Id | None = Field(
        None,
        description="a load-time recipe: re-quantizes `applies_to` of the model's "
        "checkpoint in this quantization (only for models that have one)",
    )
    unquantized_dtype: dict[str, Id] = Field(
        default_factory=dict,
        description="per engine: dtype of tensor classes the quant leaves alone (default: native)",
    )
    models: list[str] | None = Field(
        None,
        description="only these model ids: a file format published for one model "
        "(ds4's DeepSeek-V4-Flash GGUFs), not a recipe for any checkpoint",
    )
    note: str
    source: Sources


class EngineMemoryModel(Strict):
    """How a pre-allocating engine splits ``gpu_memory_utilization x total memory``
    (vLLM's gpu_worker: KV = requested - weights - torch peak activation of the profile run
    at max_num_batched_tokens - non-torch memory, and since v0.21 - the estimated
    CUDA-graph memory). Used by `sizing.kernel.engine_overhead_bytes`."""

    non_torch_gib_discrete: NonNeg = Field(
        description="CUDA context, cuBLAS workspaces on a discrete GPU, GiB"
    )
    non_torch_gib_unified: NonNeg = Field(description="the same on unified memory (GB10)")
    non_torch_multi_unit_gib: NonNeg = Field(
        description="extra per unit with tensor or pipeline parallel (NCCL buffers), GiB"
    )
    activation_hidden_buffers: Pos = Field(
        description="hidden-size bf16 buffers per batched token alive at the activation peak"
    )
    logits_rows: int = Field(ge=0, description="rows of fp32 logits in the profile run")
    graph_bytes_per_layer_graph_hidden: tuple[Pos, Pos, Pos] = Field(
        description="CUDA-graph memory per layer per captured graph per hidden unit, bytes "
        "(low, central, high)"
    )
    capture_graphs: int = Field(ge=0, description="graphs captured by default")
    graph_reserved_since: str = Field(
        description="version from which CUDA-graph memory is reserved before the KV cache"
    )
    default_version: str
    default_max_num_batched_tokens: int = Field(
        ge=1, description="on GPUs with at least large_gpu_gib (the OpenAI server default)"
    )
    default_max_num_batched_tokens_small: int = Field(ge=1)
    large_gpu_gib: Pos
    unified_spread_gib: NonNeg = Field(
        description="± GiB the unified-memory accounting varies between boots (shown as a range)"
    )
    note: str
    source: Sources


class Engine(Strict):
    id: Id
    name: str
    memory_policy: Literal["preallocate", "on_demand"]
    default_mem_util: Annotated[float, Field(gt=0, le=1)]
    runtime_overhead_gib: NonNeg = Field(
        description="activations, CUDA graphs, comm buffers per unit"
    )
    kv_block_tokens: int = Field(ge=1)
    swa_aware: bool = Field(description="sliding-window layers only keep the window in cache")
    quants: list[Id] = Field(min_length=1)
    parallel: list[Literal["tp", "pp", "replicas", "tp+ep"]] = Field(min_length=1)
    quantized_compute_dtype: Literal["bf16", "fp8", "fp4", "int8"] | None = Field(
        None, description="dtype of the matmuls for quantized weights, if the engine fixes it"
    )
    pipelines_prefill: bool = Field(
        False, description="pipeline parallel overlaps the prompt chunks of one request"
    )
    cuda_graphs: bool = Field(
        False,
        description="decode runs captured CUDA graphs by default; only an engine with "
        "this switch takes --cuda-graphs",
    )
    cuda_graph_align_tokens: int = Field(
        0,
        ge=0,
        description="batches are padded to 1, 2, 4, ... below this size and to "
        "multiples of it above (vLLM: 8); 0 = no padding modelled",
    )
    cuda_graph_max_batch: int = Field(
        0, ge=0, description="largest captured batch (vLLM: 512); larger batches are not padded"
    )
    eager_layer_overhead_us: NonNeg = Field(
        0.0,
        description="extra µs per decoder layer per decode step in eager mode (CUDA "
        "graphs off): kernel launches and Python work a captured graph replays for free",
    )
    transports: list[Id] = Field(
        [],
        description="transports the engine's multi-unit split can use (llama.cpp RPC: "
        "TCP or the host's own bus); empty: any the platform offers",
    )
    memory_model: EngineMemoryModel | None = Field(
        None,
        description="components of the runtime overhead (replaces "
        "runtime_overhead_gib where given)",
    )
    models: list[str] = Field(
        default_factory=list,
        description="model families the engine runs in its own code "
        "(catalog `family`); empty = any model its quantizations apply to",
    )
    note: str
    source: Sources

    def runs(self, model: ModelArch) -> bool:
        """Whether the engine runs `model` (its family is listed, or no list is given)."""
        return not self.models or model.family in self.models


class Tariff(Strict):
    id: Id
    name: str
    rappen_per_kwh: Pos
    year: int
    note: str | None = None
    source: Sources


class FamilyCalibration(Strict):
    """Model constants for one platform family (see sizing/throughput.py)."""

    family: Id
    bandwidth_efficiency: Annotated[float, Field(gt=0, le=1)]
    prefill_compute_efficiency: Annotated[float, Field(gt=0, le=1)]
    decode_compute_efficiency: Annotated[float, Field(gt=0, le=1)]
    read_ceiling: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0, description="measured saturating-read bandwidth / nameplate: no engine streams faster"
    )
    decode_band_pct: NonNeg = Field(
        description="±% around a decode prediction that held 80 % of leave-one-source-out "
        "predictions (multiplicative: low = x / (1 + b), high = x * (1 + b))"
    )
    prefill_band_pct: NonNeg = Field(description="the same for prefill and time to first token")
    fixed_cost: Literal["per_layer", "per_step"] = Field(
        "per_layer",
        description="platform class of the fixed decode cost: 'per_layer' (fast "
        "discrete GPUs and GB10: kernel launches per decoder layer, `layer_overhead_us`) or "
        "'per_step' (Apple unified memory, Metal: a fixed cost per decode step, i.e. per token "
        "of one stream, `step_overhead_us`, whatever the layer count)",
    )
    step_overhead_us: NonNeg = Field(
        0.0,
        description="fixed µs per decode step (and per prefill chunk) of a 'per_step' "
        "family, every engine on it (fitted on the class's rows, see `note`)",
    )
    step_overhead_engines: list[str] = Field(
        default_factory=list,
        description="engines whose rows fitted `step_overhead_us`; for "
        "any other engine on a 'per_step' family the per-step cost is an assumption and its "
        "decode band is widened by it",
    )
    decode_borrowed: bool = Field(
        strict=True,
        description="true: fewer than `sizing.calibrate.MIN_FAMILY_ROWS` (2) measured "
        "decode rows, so `bandwidth_efficiency` is the median of the other families' (decode "
        "figures are rough; written by `python -m sizing calibrate --fit`)",
    )
    prefill_borrowed: bool = Field(
        strict=True,
        description="true: no long-prompt prefill rows, so the compute efficiencies are "
        "the median of the other families' (prefill and TTFT are rough)",
    )
    note: str
    source: Sources


class EngineCalibration(Strict):
    engine: Id
    decode_factor: Pos
    prefill_factor: Pos
    family_decode_factors: dict[str, Pos] = Field(
        default_factory=dict,
        description="per platform family (a kernel path with its own "
        "rows): overrides decode_factor there",
    )
    path_decode_factors: dict[str, Pos] = Field(
        default_factory=dict,
        description="per kernel path 'family/weights' (a platform "
        "family and a weight format whose rows come from at least two sources): overrides "
        "the family's factor there",
    )
    family_layer_overhead_us: dict[str, NonNeg] = Field(
        default_factory=dict,
        description="fixed latency per decoder layer per forward pass "
        "of this engine on a platform family (a kernel path whose rows span models of "
        "different sizes), µs: overrides the global layer_overhead_us there",
    )
    family_recurrent_overhead_us: dict[str, NonNeg] = Field(
        default_factory=dict,
        description="extra fixed latency per recurrent-state layer "
        "(linear attention, Mamba-2) per forward pass of this engine on a platform family, "
        "µs (fitted where the path's rows hold both hybrid and attention-only models)",
    )
    family_sequence_overhead_us: dict[str, NonNeg] = Field(
        default_factory=dict,
        description="fixed µs per sequence per decode step of this "
        "engine on a platform family (scheduling, sampling, per-request kernels; at the "
        "CUDA-graph padded batch): replicas divide it, tensor parallel does not (fitted where "
        "the path's rows hold several concurrencies)",
    )
    path_prefill_factors: dict[str, Pos] = Field(
        default_factory=dict,
        description="per kernel path 'family/weights': the prefill "
        "GEMM rate relative to the family's prefill efficiency (fitted where the path has "
        "MIN_PATH_ROWS long-prompt rows of MIN_PREFILL_PATH_MODELS models)",
    )
    attention_efficiency: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0,
        description="the engine's prefill attention kernels relative to the platform's "
        "flash-attention rate (fitted on long-prompt and deep-context rows, where the engine "
        "has MIN_PATH_ROWS of them; else 1)",
    )
    ttft_fixed_s: NonNeg = Field(
        0.0,
        description="fixed time-to-first-token cost of a request, s (HTTP, tokenizer, "
        "scheduler, first-step launch): fitted on measured TTFTs of short prompts "
        "(data/ttft.csv) where the engine has MIN_TTFT_ROWS of them, else an assumption "
        "stated in `ttft_fixed_note`",
    )
    ttft_fixed_note: str = Field("", description="how ttft_fixed_s was obtained")
    decode_borrowed: bool = Field(
        strict=True,
        description="true: no measured decode rows, so the speed factors are assumed "
        "equal to the reference engine's, llama.cpp (decode figures are rough; written by "
        "`python -m sizing calibrate --fit`)",
    )
    note: str

    def sequence_overhead_us_on(self, family: str) -> float:
        """Per-sequence µs per decode step of this engine on `family` (0 where not fitted)."""
        return self.family_sequence_overhead_us.get(family, 0.0)

    def decode_factor_on(self, family: str, weights: str | None = None) -> float:
        """The engine's decode factor on `family` with weight format `weights`: the kernel
        path's own if fitted, else the family's, else engine-wide."""
        own = self.path_decode_factors.get(f"{family}/{weights}") if weights else None
        return (
            own if own is not None else self.family_decode_factors.get(family, self.decode_factor)
        )

    def prefill_factor_on(self, family: str, weights: str | None = None) -> float:
        """The engine's prefill GEMM factor on `family` with weight format `weights`: the
        kernel path's own if fitted, else engine-wide."""
        own = self.path_prefill_factors.get(f"{family}/{weights}") if weights else None
        return own if own is not None else self.prefill_factor

    def layer_overhead_us_on(self, family: str, default_us: float) -> float:
        """Per-layer fixed latency (µs) of this engine on `family`: the path's own if fitted,
        else `default_us` (the global one)."""
        return self.family_layer_overhead_us.get(family, default_us)


class Calibration(Strict):
    layer_overhead_us: NonNeg = Field(
        description="fixed latency per decoder layer per forward pass (kernel launches, syncs)"
    )
    families: list[FamilyCalibration]
    engines: list[EngineCalibration]
    fitted_on: str
    median_abs_pct_error: NonNeg | None = None
    cross_validated: dict[str, NonNeg] = Field(
        default_factory=dict,
        description="median absolute % error of held-out rows, e.g. "
        "'leave one source out decode' (sizing.calibrate.cross_validated_results)",
    )


class Defaults(Strict):
    tariff: Id
    mem_util_gb10_vllm: Annotated[float, Field(gt=0, le=1)]
    hours_at_load_per_day: Annotated[float, Field(ge=0, le=24)]
    years_tco: Annotated[float, Field(gt=0)]
    cluster_sizes: list[int]
    price_stale_days: int = Field(ge=1)


# --------------------------------------------------------------------------- the catalog
class Catalog(Strict):
    schema_version: Literal[1]
    defaults: Defaults
    platforms: list[Platform]
    switches: list[Switch]
    cables: list[Cable]
    host_parts: list[HostPartItem]
    models: list[ModelArch]
    quantizations: list[Quantization]
    engines: list[Engine]
    tariffs: list[Tariff]
    transports: list[Transport]
    calibration: Calibration
    _index: dict[str, tuple[list[Any], dict[str, Any]]] = PrivateAttr(default_factory=dict)
    _memory_variants: dict[tuple[str, ...], Catalog] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_refs(self) -> Catalog:
        """Every id unique across sections and every reference to an id known; the first
        problem found raises ValueError naming the entry and field."""
        self._check_unique_ids()
        quants = {q.id for q in self.quantizations}
        self._check_platform_refs(quants)
        self._check_quantization_refs(quants)
        self._check_transport_refs()
        self._check_engine_refs(quants)
        for m in self.models:
            for q in m.checkpoints:
                if q not in quants:
                    raise ValueError(f"models[{m.id}].checkpoints.{q}: unknown quantization '{q}'")
        self._check_calibration_once()
        if self.defaults.tariff not in {t.id for t in self.tariffs}:
            raise ValueError(f"defaults.tariff: unknown tariff '{self.defaults.tariff}'")
        return self

    def _check_unique_ids(self) -> None:
        all_ids: dict[str, str] = {}
        for section in (
            "platforms",
            "switches",
            "cables",
            "host_parts",
            "models",
            "quantizations",
            "engines",
            "tariffs",
            "transports",
        ):
            for entry in getattr(self, section):
                if entry.id in all_ids:
                    raise ValueError(
                        f"{section}[{entry.id}].id: duplicate id (also in {all_ids[entry.id]})"
                    )
                all_ids[entry.id] = section

    def _check_platform_refs(self, quants: set[str]) -> None:
        engines = {e.id for e in self.engines}
        parts = {p.id for p in self.host_parts}
        for p in self.platforms:
            for q in p.quants:
                if q not in quants:
                    raise ValueError(f"platforms[{p.id}].quants: unknown quantization '{q}'")
            for e in p.engines:
                if e not in engines:
                    raise ValueError(f"platforms[{p.id}].engines: unknown engine '{e}'")
            for hp in p.host.parts if p.host else []:
                if hp.item not in parts:
                    raise ValueError(f"platforms[{p.id}].host.parts: unknown host part '{hp.item}'")

    def _check_quantization_refs(self, quants: set[str]) -> None:
        for quant in self.quantizations:
            if quant.on_checkpoint is not None and quant.on_checkpoint not in quants:
                raise ValueError(
                    f"quantizations[{quant.id}].on_checkpoint: unknown "
                    f"quantization '{quant.on_checkpoint}'"
                )
            for model_id in quant.models or []:
                if model_id not in {m.id for m in self.models}:
                    raise ValueError(
                        f"quantizations[{quant.id}].models: unknown model '{model_id}'"
                    )

    def _check_transport_refs(self) -> None:
        transports = {t.id for t in self.transports}
        for p in self.platforms:
            for tid in p.interconnect.transports if p.interconnect else []:
                if tid not in transports:
                    raise ValueError(
                        f"platforms[{p.id}].interconnect.transports: unknown transport '{tid}'"
                    )
        for engine in self.engines:
            for tid in engine.transports:
                if tid not in transports:
                    raise ValueError(f"engines[{engine.id}].transports: unknown transport '{tid}'")

    def _check_engine_refs(self, quants: set[str]) -> None:
        for engine in self.engines:
            for q in engine.quants:
                if q not in quants:
                    raise ValueError(f"engines[{engine.id}].quants: unknown quantization '{q}'")
            for fam in engine.models:
                if fam not in {m.family for m in self.models}:
                    raise ValueError(f"engines[{engine.id}].models: unknown model family '{fam}'")

    def _check_calibration_once(self) -> None:
        for section, key in (("families", "family"), ("engines", "engine")):
            listed: set[str] = set()
            for entry in getattr(self.calibration, section):
                name = getattr(entry, key)
                if name in listed:
                    raise ValueError(
                        f"calibration.{section}[{name}].{key}: duplicate {key} "
                        "(each may be calibrated once)"
                    )
                listed.add(name)

    # ---- memory settings ------------------------------------------------------------
    def memory_setting_ids(self) -> list[str]:
        """Every memory-setting id of any platform, in catalog order."""
        return list(dict.fromkeys(m.id for p in self.platforms for m in p.memory_settings))

    def with_memory_settings(self, setting_ids: Iterable[str]) -> Catalog:
        """This catalog with each of `setting_ids` in force on every platform that lists
        it (others keep their default). An id no platform lists raises UnknownIdError;
        two ids listed by one platform raise ValueError. Cached per id tuple."""
        wanted = tuple(dict.fromkeys(setting_ids))
        if not wanted:
            return self
        known = self.memory_setting_ids()
        for sid in wanted:
            if sid not in known:
                raise UnknownIdError("memory setting", sid, known)
        cached = self._memory_variants.get(wanted)
        if cached is not None:
            return cached
        platforms = []
        for p in self.platforms:
            own = [sid for sid in wanted if sid in {m.id for m in p.memory_settings}]
            if len(own) > 1:
                raise ValueError(
                    f"memory settings {' and '.join(own)} both apply to {p.id}; give one"
                )
            platforms.append(p.with_memory_setting(own[0]) if own else p)
        variant = self.model_copy(update={"platforms": platforms})
        variant._index, variant._memory_variants = {}, {}
        self._memory_variants[wanted] = variant
        return variant

    # ---- lookups ------------------------------------------------------------------
    def _index_of(self, section: str) -> dict[str, Any]:
        """Entries of `section` by id (models: by lowercase id and variant ids), built once
        per section list (model_copy may swap a section)."""
        entries = getattr(self, section)
        indexes = _private(self)["_index"]
        cached = indexes.get(section)
        if cached is None or cached[0] is not entries:
            if section == "models":
                by_id = {v.lower(): m for m in reversed(entries) for v in (*m.variants, m.id)}
            else:
                by_id = {e.id: e for e in entries}
            cached = indexes[section] = (entries, by_id)
        return cast("dict[str, Any]", cached[1])

    def _get(self, section: str, kind: str, id_: str) -> Any:
        index = self._index_of(section)
        try:
            return index[id_]
        except KeyError:
            raise UnknownIdError(kind, id_, index) from None

    def platform(self, id_: str) -> Platform:
        return cast("Platform", self._get("platforms", "platform", id_))

    def quant(self, id_: str) -> Quantization:
        return cast("Quantization", self._get("quantizations", "quant", id_))

    def engine(self, id_: str) -> Engine:
        return cast("Engine", self._get("engines", "engine", id_))

    def transport(self, id_: str) -> Transport:
        return cast("Transport", self._get("transports", "transport", id_))

    def transport_choices(self, platform: Platform, engine: Engine) -> list[Transport]:
        """Transports `engine` can use between units of `platform`, the default first:
        the platform's list in its order, kept to the engine's own where it has one."""
        if platform.interconnect is None:
            return []
        ids = platform.interconnect.transports
        if engine.transports:
            ids = [t for t in ids if t in engine.transports]
        return [self.transport(t) for t in ids]

    def default_transport(self, platform: Platform, engine: Engine) -> Transport | None:
        """The transport a multi-unit split of `platform` under `engine` uses unless told
        otherwise (GB10 under vLLM: RoCE; under llama.cpp RPC: TCP); None without one."""
        choices = self.transport_choices(platform, engine)
        return choices[0] if choices else None

    def tariff(self, id_: str) -> Tariff:
        return cast("Tariff", self._get("tariffs", "tariff", id_))

    def switch(self, id_: str) -> Switch:
        return cast("Switch", self._get("switches", "switch", id_))

    def cable(self, id_: str) -> Cable:
        return cast("Cable", self._get("cables", "cable", id_))

    def host_part(self, id_: str) -> HostPartItem:
        return cast("HostPartItem", self._get("host_parts", "host part", id_))

    def model(self, id_: str) -> ModelArch:
        """A model by repo id or by one of its variants' ids (case-insensitive)."""
        found = self._index_of("models").get(id_.lower())
        if found is None:
            raise UnknownIdError("model", id_, (m.id for m in self.models))
        return cast("ModelArch", found)

    def item(self, id_: str) -> Item:
        """Any purchasable item (platform, switch, cable, host part) by id."""
        for entry in self.priced_items():
            if entry.id == id_:
                return entry
        raise UnknownIdError("item", id_, (e.id for e in self.priced_items()))

    def priced_items(self) -> Iterator[Item]:
        """Every purchasable item, in catalog order (platforms, switches, cables, host parts)."""
        for section in ("platforms", "switches", "cables", "host_parts"):
            yield from getattr(self, section)

    def calibration_for(
        self, family: str, engine: str
    ) -> tuple[FamilyCalibration, EngineCalibration]:
        fam = next((f for f in self.calibration.families if f.family == family), None)
        eng = next((e for e in self.calibration.engines if e.engine == engine), None)
        if fam is None:
            raise UnknownIdError(
                "calibrated family", family, (f.family for f in self.calibration.families)
            )
        if eng is None:
            raise UnknownIdError(
                "calibrated engine", engine, (e.engine for e in self.calibration.engines)
            )
        return fam, eng


# --------------------------------------------------------------------------- loading
def _entry_label(data: Any, loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location as `section[id].field.sub`."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            entry = node[key] if key < len(node) else None
            label = entry.get("id") if isinstance(entry, dict) else None
            label = label or (
                entry.get("family") or entry.get("engine") if isinstance(entry, dict) else None
            )
            parts[-1] = f"{parts[-1]}[{label if label else key}]" if parts else f"[{key}]"
            node = entry
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_catalog(data: Any, *, filename: str = "catalog.yaml") -> Catalog:
    """Validate already-loaded YAML data; raise CatalogError naming file, entry and field."""
    if not isinstance(data, dict):
        raise CatalogError(f"{filename}: top level must be a mapping")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            where = _entry_label(data, tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if msg.startswith(("platforms[", "models[", "engines[", "defaults.")) or (
                "[" in msg.split(":")[0] and ":" in msg
            ):
                messages.append(f"{filename}: {msg}")
            else:
                messages.append(f"{filename}: {where}: {msg}" if where else f"{filename}: {msg}")
        raise CatalogError("; ".join(messages)) from None  # one line, every problem


def read_capped(
    path: Path, cap_bytes: int, what: str, error: type[Exception], *, check_read: bool = True
) -> bytes:
    """The bytes of `path`, refused with one line (raising `error`) above `cap_bytes`:
    checked on the size before reading and, with `check_read`, on what was read (pipes and
    devices report no size). At most ``cap_bytes + 1`` bytes are ever held."""
    try:
        size = path.stat().st_size
        if size > cap_bytes:
            raise error(
                f"{path.name}: {size / 2**20:.1f} MiB is larger than the "
                f"{cap_bytes // 2**20} MiB {what} may have"
            )
        with path.open("rb") as fh:
            data = fh.read(cap_bytes + 1)
    except OSError as exc:
        raise error(f"{path.name}: cannot read: {exc.strerror}") from None
    if check_read and len(data) > cap_bytes:
        raise error(f"{path.name}: larger than the {cap_bytes // 2**20} MiB {what} may have")
    return data


def read_yaml_file(path: Path, error: type[Exception]) -> Any:
    """Read a UTF-8 YAML file (duplicate keys rejected); failures raise ``error`` with a
    one-line message that starts with the file name.

    The limits of `sizing.limits` apply: at most ``YAML_MAX_BYTES`` (checked before reading,
    and while reading for pipes and devices), nesting at most ``MAX_DEPTH`` levels, every
    number finite and within ``MAX_ABS_NUMBER``."""
    data = read_capped(path, limits.YAML_MAX_BYTES, "a YAML file", error)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{path.name}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
            f"{line}); save the file as UTF-8"
        ) from None
    try:
        return load_yaml_unique(text)
    except RecursionError:
        raise error(f"{path.name}: nested deeper than {limits.MAX_DEPTH} levels") from None
    except (DuplicateKeyError, NumberLimitError) as exc:
        raise error(f"{path.name}: {exc}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise error(f"{path.name}: not valid YAML: {first}") from None


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog YAML file (default: the project's catalog.yaml)."""
    path = Path(path) if path is not None else DEFAULT_CATALOG_PATH
    return parse_catalog(read_yaml_file(path, CatalogError), filename=path.name)


@lru_cache(maxsize=4)
def default_catalog() -> Catalog:
    """The project's catalog.yaml, parsed once per process (and kept validated on disk
    between processes: `cached_catalog`)."""
    return cached_catalog(DEFAULT_CATALOG_PATH, snapshot_path())


SNAPSHOT_FILE = "catalog-snapshot.pickle"


def cached_catalog(path: Path, snapshot: Path) -> Catalog:
    """`load_catalog(path)`, through a validated copy kept in the file `snapshot`.

    The copy is used only while everything it was made from is unchanged (`snapshot_key`):
    parsing and validating the YAML and the 70-odd config.json files costs ~0.1-0.2 s,
    more than one `python -m sizing estimate` computes. A snapshot that is missing, stale
    or unreadable is rebuilt from the sources."""
    try:
        key = snapshot_key(path)
    except OSError:  # e.g. no such file: load_catalog says so in one line
        return load_catalog(path)
    cached = _read_snapshot(snapshot, key)
    if cached is not None:
        return cached
    catalog = load_catalog(path)
    _write_snapshot(snapshot, key, catalog)
    return catalog


def snapshot_path() -> Path:
    """Where the validated default catalog is kept: ``$LLM_PLANNER_CACHE_DIR`` or the
    user cache folder (platformdirs), file `SNAPSHOT_FILE`."""
    return cache_root() / SNAPSHOT_FILE


def cache_root() -> Path:
    """The planner's cache folder: ``$LLM_PLANNER_CACHE_DIR`` or the platformdirs user
    cache folder (e.g. ``~/.cache/llm-hardware-planner`` on Linux)."""
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def snapshot_key(path: Path) -> str:
    """What a catalog loaded from `path` is made of: the bytes of the file, and the size
    and modification time of every file under ``data/`` (the config.json files) and of the
    code that validates and derives it (``sizing/*.py``), with the Python and pydantic
    versions. A change to any of them makes a new key, so a snapshot is never stale."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(f"{sys.version}|{pydantic.VERSION}".encode())
    for folder, pattern in ((ROOT / "sizing", "*.py"), (ROOT / "data", "**/*")):
        for file in sorted(folder.glob(pattern)):
            stat = file.stat()
            digest.update(f"{file.relative_to(ROOT)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _read_snapshot(path: Path, key: str) -> Catalog | None:
    """The snapshot's catalog when it was made from `key`; None when there is none, it is
    from other inputs, or it cannot be read (it is then rebuilt)."""
    try:
        with path.open("rb") as handle:
            if handle.read(len(key)).decode("ascii") != key:
                return None
            catalog = pickle.load(handle)  # the user's own cache folder, as trusted as the code
    except Exception:  # any unreadable snapshot is rebuilt from the sources
        return None
    return catalog if isinstance(catalog, Catalog) else None


def _write_snapshot(path: Path, key: str, catalog: Catalog) -> None:
    """Keep `catalog` for the next process. A folder that cannot be written only costs the
    next process the parse: nothing is lost, so the failure is not reported."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{SNAPSHOT_FILE}.")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.encode("ascii"))
            pickle.dump(catalog, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a reader sees the old file or the new one
    except (OSError, pickle.PicklingError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


CONFIG_MAX_BYTES = 16 * 2**20  # the largest real config.json seen is 3 MB (ModelOpt maps)


def read_config_json(path: str | Path) -> dict[str, Any]:
    """A config.json as a mapping: size-capped before reading, UTF-8, a JSON object.

    Raises CatalogError with one line naming the file.
    """
    path = Path(path)
    return parse_config_bytes(
        read_capped(path, CONFIG_MAX_BYTES, "a config.json", CatalogError, check_read=False),
        filename=path.name,
    )


def parse_config_bytes(data: bytes, *, filename: str) -> dict[str, Any]:
    """Decode an uploaded or downloaded config.json (same rules as `read_config_json`)."""
    if len(data) > CONFIG_MAX_BYTES:
        raise CatalogError(
            f"{filename}: larger than the {CONFIG_MAX_BYTES // 2**20} MiB a config.json may have"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError(f"{filename}: not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except RecursionError:
        raise CatalogError(f"{filename}: nested deeper than {limits.MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{filename}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:  # an integer over Python's 4,300-digit limit
        has = re.search(r"has (\d+) digits", str(exc))
        raise CatalogError(
            f"{filename}: not valid JSON (an integer is too long to read"
            + (f": {has.group(1)} digits" if has else "")
            + ")"
        ) from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{filename}: top level must be a JSON object")
    try:
        limits.check_depth(raw)
    except limits.InputError as exc:
        raise CatalogError(f"{filename}: {exc}") from None
    return raw


def model_from_config(
    raw: dict[str, Any],
    *,
    model_id: str,
    source: str,
    hf_quant_config: dict[str, Any] | None = None,
    filename: str = "config.json",
) -> ModelArch:
    """A catalog-like ModelArch for a config.json that is not in the catalog.

    Its own quantization (``quantization_config`` or `hf_quant_config`) is its native
    precision. Raises CatalogError naming the file and the field it cannot interpret.
    """
    safe = _safe_id(model_id)
    name = safe.split("/")[-1] or "config.json"
    try:
        model = ModelArch(id=safe, name=name, family="Imported", config=raw, source=[source])
        if hf_quant_config is not None or model.native_precision.method.startswith("none"):
            native = precision_map(raw, model.arch, hf_quant_config=hf_quant_config, name=model_id)
            model._native = native
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ").removeprefix("config: ")
        raise CatalogError(f"{filename}: {msg}") from None
    except ConfigError as exc:
        raise CatalogError(f"{filename}: {exc}") from None
    except RecursionError:
        raise CatalogError(f"{filename}: nested too deeply") from None
    return model


def _safe_id(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._/-" else "-" for ch in text).strip("-/.")
    return cleaned[:200] or "config"


def model_from_config_json(path: str | Path) -> ModelArch:
    """Build a ModelArch from a Hugging Face ``config.json`` file (and an
    ``hf_quant_config.json`` beside it, if there is one)."""
    path = Path(path)
    raw = read_config_json(path)
    quant_path = path.with_name("hf_quant_config.json")
    hf_quant = read_config_json(quant_path) if quant_path.exists() else None
    name = raw.get("_name_or_path") if isinstance(raw.get("_name_or_path"), str) else None
    return model_from_config(
        raw,
        model_id=name or path.stem,
        source=str(path),
        hf_quant_config=hf_quant,
        filename=path.name,
    )


__all__ = [
    "DEFAULT_CATALOG_PATH",
    "TENSOR_CLASSES",
    "Cable",
    "Catalog",
    "CatalogError",
    "DuplicateKeyError",
    "Engine",
    "HostPartItem",
    "Item",
    "ListPrice",
    "ModelArch",
    "Platform",
    "Quantization",
    "Switch",
    "Tariff",
    "UniqueKeyLoader",
    "UnknownIdError",
    "config_path_for",
    "default_catalog",
    "load_catalog",
    "load_yaml_unique",
    "model_from_config",
    "model_from_config_json",
    "parse_catalog",
    "parse_config_bytes",
    "read_config_json",
]
