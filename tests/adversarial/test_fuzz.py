"""Property tests (hypothesis) of the file and option entry points: any input gives a
result or the module's own one-line error, never another exception (issue 13)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.sizing_main import main
from sizing import limits
from sizing.catalog import (
    CONFIG_MAX_BYTES,
    CatalogError,
    ModelArch,
    load_yaml_unique,
    model_from_config,
    parse_config_bytes,
    read_yaml_file,
)
from sizing.requirements import RequirementsError, parse_requirements
from sizing.safe_text import md_escape, spreadsheet_cell
from tests.adversarial.corpus import QWEN

FUZZ = settings(
    max_examples=60, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
QWEN_RAW = json.loads(QWEN.read_text(encoding="utf-8"))
NUMERIC_KEYS = [
    k for k, v in QWEN_RAW.items() if isinstance(v, int | float) and not isinstance(v, bool)
]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _config(raw: bytes) -> ModelArch | None:
    """A ModelArch or None for a CatalogError; anything else propagates (and fails)."""
    try:
        data = parse_config_bytes(raw, filename="config.json")
        return model_from_config(data, model_id="fuzz", source="fuzz")
    except CatalogError as exc:
        message = str(exc)
    assert "\n" not in message
    assert message.startswith("config.json: ")
    return None


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_into_the_config_parser(raw):
    _config(raw)


@FUZZ
@given(st.sampled_from(NUMERIC_KEYS), json_value)
def test_any_value_in_a_numeric_field_of_a_real_config(key, value):
    raw = dict(QWEN_RAW, **{key: value})
    model = _config(json.dumps(raw, allow_nan=True).encode())
    if model is not None:  # accepted: every count it derives is a real number
        assert model.arch.num_layers >= 1
        assert model.num_attention_heads >= 1


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            ["context_tokens", "concurrent_streams", "min_memory_gb", "power_cap_w", "units"]
        ),
        json_value,
        max_size=3,
    )
)
def test_any_requirements_values(changes):
    data = {
        "main_agent": {"model": "openai/gpt-oss-120b", "weights": "mxfp4", "min_tok_s": 10},
        "budget_chf": {"max": 10000},
        **changes,
    }
    message = ""
    try:
        parse_requirements(data, filename="r.yaml")
    except RequirementsError as exc:
        message = str(exc)
    assert "\n" not in message


@FUZZ
@given(st.text(max_size=300))
def test_any_yaml_text_loads_or_gives_a_yaml_error(text):
    with contextlib.suppress(yaml.YAMLError):
        load_yaml_unique(text)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_as_a_yaml_file(tmp_path_factory, raw):
    path = Path(tmp_path_factory.mktemp("y")) / "f.yaml"
    path.write_bytes(raw)
    try:
        read_yaml_file(path, CatalogError)
    except CatalogError as exc:
        message = str(exc)
    else:
        return
    assert "\n" not in message
    assert message.startswith("f.yaml")


numeric_text = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789e.-+naifINF", max_size=12),
)


@settings(
    max_examples=25,
    deadline=10_000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(["--units", "--context", "--concurrency", "--mem-util", "--spec-multiplier"]),
    numeric_text,
)
def test_any_number_for_an_estimate_option(capsys, flag, text):
    args = {
        "--platform": "asus-gx10-1tb",
        "--units": "1",
        "--parallel": "replicas",
        "--model": "openai/gpt-oss-20b",
        "--weights": "mxfp4",
        flag: text,
    }
    code = main(["estimate", *[x for kv in args.items() for x in kv], "--json"])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert len(err.strip().splitlines()) == 1


@FUZZ
@given(st.text(max_size=200))
def test_md_escape_output_has_no_markup(text):
    out = md_escape(text)
    assert "\n" not in out
    assert "\r" not in out
    for token in ("](", "<", "`", "*", "_", "$", "|", "[", "~", "#", "@"):
        # every such character is escaped (preceded by a backslash)
        i = out.find(token[0])
        while i != -1:
            assert out[i - 1] == "\\", (text, out)
            i = out.find(token[0], i + 1)
    for i, ch in enumerate(out):  # a directive, emoji or scheme colon is escaped
        if ch == ":" and i + 1 < len(out) and not out[i + 1].isspace():
            assert out[i - 1] == "\\", (text, out)


@FUZZ
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False)))
def test_spreadsheet_cell_never_starts_a_formula(value):
    cell = spreadsheet_cell(value)
    if isinstance(value, str):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell.removeprefix("'") == value or cell == value
    else:
        assert cell == value


def test_limits_are_what_the_readme_says():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for figure in (
        f"{CONFIG_MAX_BYTES // 2**20} MiB",
        f"{limits.YAML_MAX_BYTES // 2**20} MiB",
        f"{limits.MAX_DEPTH} levels",
        f"{limits.BATCH_MAX_LINE_CHARS // 1024} KiB",
        "1'000'000 rows",
    ):
        assert figure in readme, figure
