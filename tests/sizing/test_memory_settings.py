"""Platform memory settings: macOS's GPU wired-memory limit (default vs raised with
``sudo sysctl iogpu.wired_limit_mb``) and Strix Halo's GTT/BIOS split, as catalog data, a
scenario input and a CLI flag (``--memory-setting`` on estimate, compare and plan)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cli.sizing_main import main
from sizing.catalog import (
    DEFAULT_CATALOG_PATH,
    Catalog,
    CatalogError,
    UnknownIdError,
    parse_catalog,
    read_yaml_file,
)
from sizing.memory import memory_fit
from sizing.scenario import Scenario, ScenarioError, resolve

from .conftest import run as run_scenario

MAC512 = "mac-studio-m3-ultra-512gb"
DSV3 = "deepseek-ai/DeepSeek-V3"
GIB = 2**30


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- the physics
def test_deepseek_v3_q4_k_m_fits_a_512gb_m3_ultra_only_with_the_raised_limit(
    catalog: Catalog,
) -> None:
    # Hand computation (DeepSeek-V3 card: 671 B parameters without the 14 B MTP module,
    # which llama.cpp does not load). GGUF Q4_K_M averages 4.89 bits per weight
    # (llama.cpp quantize table, catalog.yaml):
    #   weights  671e9 x 4.89 / 8 = 410.2e9 bytes = 382.0 GiB
    #   + llama.cpp runtime overhead 1.5 GiB + KV 8,192 tokens x 68.6 KiB (MLA,
    #     61 x (512 + 64) x 2 bytes = 70,272 B/token) = 0.54 GiB  ->  ~384.0 GiB needed
    # macOS default GPU limit: 75 % of 512 GiB = 384 GiB, x llama.cpp's 0.95 = 364.8 GiB
    #   -> does not fit (the weights alone exceed it).
    # Raised: sudo sysctl iogpu.wired_limit_mb=507904 (496 GiB, 16 GiB left to macOS),
    #   x 0.95 = 471.2 GiB -> fits with ~87 GiB to spare.
    weights_gib = 671e9 * 4.89 / 8 / GIB
    assert weights_gib == pytest.approx(382.0, abs=0.1)
    kv_gib = 8192 * 61 * (512 + 64) * 2 / GIB
    assert kv_gib == pytest.approx(0.536, abs=0.001)

    _, default_fit, _ = run_scenario(catalog, MAC512, 1, "tp", DSV3, "q4_k_m", context=8192)
    assert not default_fit.fits
    assert default_fit.usable_gib_per_unit == pytest.approx(384 * 0.95)
    assert default_fit.weights_gib_per_unit == pytest.approx(weights_gib, rel=0.01)

    r = resolve(
        Scenario(
            MAC512,
            1,
            "tp",
            DSV3,
            "q4_k_m",
            context_tokens=8192,
            memory_setting="wired-limit-raised",
        ),
        catalog,
    )

    raised = memory_fit(r, catalog)
    assert raised.fits
    assert raised.usable_gib_per_unit == pytest.approx(496 * 0.95)
    assert raised.kv_required_gib_per_unit == pytest.approx(kv_gib, rel=0.05)
    assert raised.headroom_gib_per_unit == pytest.approx(
        496 * 0.95 - weights_gib - 1.5 - kv_gib, abs=1.0
    )
    # the setting is stated, with its command and source
    stated = [a for a in r.assumptions if a.startswith("memory setting")]
    assert len(stated) == 1
    assert "iogpu.wired_limit_mb=507904" in stated[0]
    assert "https://" in stated[0]


def test_the_default_setting_changes_nothing(catalog: Catalog) -> None:
    plain = resolve(Scenario(MAC512, 1, "tp", DSV3, "q4_k_m"), catalog)
    named = resolve(
        Scenario(MAC512, 1, "tp", DSV3, "q4_k_m", memory_setting="macos-default"), catalog
    )
    assert plain.platform is named.platform is catalog.platform(MAC512)
    assert plain.platform.accelerator_memory_gib == 384


def test_unknown_setting_names_the_platforms_choices(catalog: Catalog) -> None:
    with pytest.raises(
        ScenarioError,
        match="unknown memory setting 'turbo' for "
        f"{MAC512}; valid choices: macos-default, wired-limit-raised",
    ):
        resolve(Scenario(MAC512, 1, "tp", DSV3, "q4_k_m", memory_setting="turbo"), catalog)
    with pytest.raises(ScenarioError, match="asus-gx10-1tb has no memory settings"):
        resolve(
            Scenario(
                "asus-gx10-1tb",
                1,
                "tp",
                "openai/gpt-oss-120b",
                "mxfp4",
                memory_setting="wired-limit-raised",
            ),
            catalog,
        )


# --------------------------------------------------------------------------- the data
def test_every_platform_with_settings_is_consistent(catalog: Catalog) -> None:
    with_settings = [p for p in catalog.platforms if p.memory_settings]
    assert {p.id for p in with_settings} >= {
        "mac-studio-m3-ultra-96gb",
        "mac-studio-m3-ultra-256gb",
        MAC512,
        "mac-studio-m2-ultra-192gb",
        "framework-desktop-395-128gb",
    }
    for p in with_settings:
        assert p.memory_setting is not None
        assert p.memory_setting.default
        assert p.memory_setting.usable_gib == p.accelerator_memory_gib
        for m in p.memory_settings:
            assert m.usable_gib < p.memory_gb, (p.id, m.id)  # never all of the RAM
            assert m.how_to.strip()
            assert m.source[0].startswith("https://")
    for p in with_settings:
        if p.family.startswith("mac-"):
            raised = p.with_memory_setting("wired-limit-raised")
            # 16 GiB left to macOS, and the command sets exactly that many MiB
            assert raised.accelerator_memory_gib == p.memory_gb - 16
            assert (
                f"iogpu.wired_limit_mb={int(raised.accelerator_memory_gib * 1024)} "
                in raised.memory_setting.how_to
            )
            assert p.accelerator_memory_gib == 0.75 * p.memory_gb  # macOS default


def _raw_catalog() -> dict:
    return copy.deepcopy(read_yaml_file(DEFAULT_CATALOG_PATH, CatalogError))


def _platform(data: dict, pid: str) -> dict:
    return next(p for p in data["platforms"] if p["id"] == pid)


def test_schema_refuses_two_defaults_and_a_default_off_the_memory() -> None:
    data = _raw_catalog()
    for m in _platform(data, MAC512)["memory_settings"]:
        m["default"] = True
    with pytest.raises(
        CatalogError,
        match=f"platforms\\[{MAC512}\\].memory_settings: exactly one setting must be the default",
    ):
        parse_catalog(data)
    data = _raw_catalog()
    _platform(data, MAC512)["memory_settings"][0]["usable_gib"] = 400
    with pytest.raises(CatalogError, match="must equal accelerator_memory_gib 384"):
        parse_catalog(data)


def test_catalog_variant_applies_an_id_to_every_platform_listing_it(catalog: Catalog) -> None:
    raised = catalog.with_memory_settings(["wired-limit-raised"])
    assert raised is catalog.with_memory_settings(["wired-limit-raised"])  # cached
    assert raised.platform(MAC512).accelerator_memory_gib == 496
    assert raised.platform("mac-studio-m3-ultra-96gb").accelerator_memory_gib == 80
    assert raised.platform("framework-desktop-395-128gb").accelerator_memory_gib == 120
    assert catalog.platform(MAC512).accelerator_memory_gib == 384  # unchanged
    with pytest.raises(UnknownIdError, match="unknown memory setting 'x'; valid choices: "):
        catalog.with_memory_settings(["x"])
    with pytest.raises(ValueError, match="both apply to framework-desktop-395-128gb"):
        catalog.with_memory_settings(["gtt-120", "bios-vram-96"])


# --------------------------------------------------------------------------- the CLI
ESTIMATE = [
    "estimate",
    "--platform",
    MAC512,
    "--units",
    "1",
    "--parallel",
    "tp",
    "--model",
    DSV3,
    "--weights",
    "q4_k_m",
    "--context",
    "8192",
]


def test_cli_estimate_json_states_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, *ESTIMATE, "--json")
    d = json.loads(out)
    assert code == 0
    assert d["fits"] is False
    assert d["memory_setting"] == "macos-default"
    code, out, _ = cli(capsys, *ESTIMATE, "--memory-setting", "wired-limit-raised", "--json")
    d = json.loads(out)
    assert code == 0
    assert d["fits"] is True
    assert d["memory_setting"] == "wired-limit-raised"
    assert d["usable_gib_per_unit"] == pytest.approx(496 * 0.95)
    assert any("iogpu.wired_limit_mb=507904" in a for a in d["assumptions"])
    code, out, _ = cli(
        capsys,
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
        "--json",
    )
    assert json.loads(out)["memory_setting"] is None  # not a user choice on GB10


@pytest.mark.parametrize(
    "args",
    [
        [*ESTIMATE, "--memory-setting", "turbo"],
        [
            "compare",
            "--model",
            DSV3,
            "--weights",
            "q4_k_m",
            "--units",
            "1",
            "--memory-setting",
            "turbo",
        ],
        ["plan", "--requirements", "REQ", "--memory-setting", "turbo"],
    ],
)
def test_cli_unknown_setting_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    req = Path(__file__).resolve().parents[1] / "data" / "requirements" / "guide_buyer.yaml"
    code, out, err = cli(capsys, *[str(req) if a == "REQ" else a for a in args])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: unknown memory setting 'turbo'")
    assert "valid choices:" in err
    assert "wired-limit-raised" in err
    assert "macos-default" in err


def test_cli_compare_uses_the_setting_on_every_mac(capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "compare",
        "--model",
        DSV3,
        "--weights",
        "q4_k_m",
        "--units",
        "1",
        "--platforms",
        f"{MAC512},asus-gx10-1tb",
        "--context",
        "8192",
        "--format",
        "json",
    ]
    code, out, _ = cli(capsys, *base)
    rows = {r["platform"]: r for r in json.loads(out)}
    assert code == 0
    assert rows[MAC512]["fits"] is False
    assert rows[MAC512]["memory_setting"] == "macos-default"
    assert rows["asus-gx10-1tb"]["memory_setting"] is None
    code, out, _ = cli(capsys, *base, "--memory-setting", "wired-limit-raised")
    rows = {r["platform"]: r for r in json.loads(out)}
    assert rows[MAC512]["fits"] is True
    assert rows[MAC512]["memory_setting"] == "wired-limit-raised"
    assert rows[MAC512]["usable_memory_gib"] == pytest.approx(496 * 0.95)
    code, out, _ = cli(capsys, *base[:-2], "--memory-setting", "wired-limit-raised")
    assert "| Memory setting |" in out
    assert f"memory setting of {MAC512}: wired-limit-raised" in out
    assert "iogpu.wired_limit_mb=507904" in out


def test_cli_two_settings_for_one_platform_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        capsys,
        "compare",
        "--model",
        DSV3,
        "--weights",
        "q4_k_m",
        "--units",
        "1",
        "--memory-setting",
        "gtt-120,bios-vram-96",
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "both apply to framework" in err


def test_batch_column_and_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "b.csv"
    batch.write_text(
        "platform,units,parallel,model,weights,context,memory_setting\n"
        f"{MAC512},1,tp,{DSV3},q4_k_m,8192,\n"
        f"{MAC512},1,tp,{DSV3},q4_k_m,8192,wired-limit-raised\n"
        f"{MAC512},1,tp,{DSV3},q4_k_m,8192,turbo\n"
    )
    code, out, _ = cli(capsys, "estimate", "--batch", str(batch))
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0
    assert [x.get("fits") for x in lines[:2]] == [False, True]
    assert "unknown memory setting 'turbo'" in lines[2]["error"]
    code, out, _ = cli(
        capsys, "estimate", "--batch", str(batch), "--memory-setting", "wired-limit-raised"
    )
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x.get("memory_setting") for x in lines[:2]] == ["wired-limit-raised"] * 2
