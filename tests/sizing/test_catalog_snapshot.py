"""The validated catalog kept on disk between processes (`sizing.catalog.cached_catalog`):
used only while its sources are unchanged, rebuilt when it is stale or broken, and never a
reason to fail."""

from __future__ import annotations

import os
import pickle
import shutil
from typing import TYPE_CHECKING

import pytest

from sizing import llm
from sizing.catalog import (
    DEFAULT_CATALOG_PATH,
    ROOT,
    CatalogError,
    cached_catalog,
    load_catalog,
    snapshot_key,
)

if TYPE_CHECKING:
    from pathlib import Path


def _fingerprint(catalog: object) -> tuple[object, ...]:
    """Every entry's fields, and what is derived from each model's config.json."""
    models = catalog.models  # type: ignore[attr-defined]
    return (
        catalog.model_dump(),  # type: ignore[attr-defined]
        [(m.id, llm.param_counts(m).by_class, m.attention, m.max_context_tokens) for m in models],
        [repr(m.native_precision) for m in models],
    )


def test_the_snapshot_holds_the_catalog_the_sources_give(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.pickle"
    first = cached_catalog(DEFAULT_CATALOG_PATH, snapshot)  # parsed, then written
    assert snapshot.stat().st_size > 100_000  # 44 models with their architectures
    second = cached_catalog(DEFAULT_CATALOG_PATH, snapshot)  # read back
    assert second is not first
    assert _fingerprint(second) == _fingerprint(load_catalog(DEFAULT_CATALOG_PATH))


def test_a_changed_catalog_is_parsed_again_not_read_from_the_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    shutil.copy(DEFAULT_CATALOG_PATH, path)
    snapshot = tmp_path / "snap.pickle"
    old = cached_catalog(path, snapshot)
    text = path.read_text(encoding="utf-8")
    # the year of service life behind the TCO column, an entry every comparison uses
    years = old.defaults.years_tco
    changed = text.replace(f"years_tco: {years:g}", f"years_tco: {years + 2:g}", 1)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    assert cached_catalog(path, snapshot).defaults.years_tco == years + 2


def test_a_snapshot_made_from_other_sources_is_not_used(tmp_path: Path) -> None:
    """A snapshot whose key differs (another catalog, other code) is never returned, even
    if it holds a valid catalog."""
    snapshot = tmp_path / "snap.pickle"
    wrong = load_catalog(DEFAULT_CATALOG_PATH).model_copy(update={"platforms": []})
    snapshot.write_bytes(b"0" * 64 + pickle.dumps(wrong))
    assert cached_catalog(DEFAULT_CATALOG_PATH, snapshot).platforms  # not the empty copy
    # and the stale file was replaced by the right one
    assert snapshot.read_bytes()[:64].decode() == snapshot_key(DEFAULT_CATALOG_PATH)


@pytest.mark.parametrize("content", [b"", b"not a snapshot", b"\xff" * 200])
def test_a_broken_snapshot_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    snapshot = tmp_path / "snap.pickle"
    snapshot.write_bytes(content)
    assert cached_catalog(DEFAULT_CATALOG_PATH, snapshot).platforms
    assert snapshot.read_bytes()[:64].decode() == snapshot_key(DEFAULT_CATALOG_PATH)


def test_a_truncated_snapshot_with_the_right_key_is_rebuilt(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.pickle"
    cached_catalog(DEFAULT_CATALOG_PATH, snapshot)
    whole = snapshot.read_bytes()
    snapshot.write_bytes(whole[: len(whole) // 2])
    assert len(cached_catalog(DEFAULT_CATALOG_PATH, snapshot).models) > 40
    assert snapshot.read_bytes() == whole or len(snapshot.read_bytes()) == len(whole)


def test_a_snapshot_path_under_a_file_costs_only_the_parse(tmp_path: Path) -> None:
    """The cache folder cannot be created (a file is in the way): the catalog still loads."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    assert cached_catalog(DEFAULT_CATALOG_PATH, blocker / "sub" / "snap.pickle").platforms


def test_a_missing_catalog_is_the_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^nope\.yaml: cannot read"):
        cached_catalog(tmp_path / "nope.yaml", tmp_path / "snap.pickle")


def test_a_broken_catalog_is_reported_and_no_snapshot_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("platforms: 3\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^catalog\.yaml: "):
        cached_catalog(path, tmp_path / "snap.pickle")
    assert not (tmp_path / "snap.pickle").exists()


def test_the_key_follows_the_config_files_and_the_code() -> None:
    """Touching a config.json under data/ or a module under sizing/ changes the key (their
    modification time is part of it); the same sources give the same key."""
    key = snapshot_key(DEFAULT_CATALOG_PATH)
    assert snapshot_key(DEFAULT_CATALOG_PATH) == key
    config = next((ROOT / "data" / "hf_configs").glob("*.json"))
    code = ROOT / "sizing" / "llm.py"
    for source in (config, code):
        stat = source.stat()
        try:
            os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
            assert snapshot_key(DEFAULT_CATALOG_PATH) != key, source.name
        finally:
            os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert snapshot_key(DEFAULT_CATALOG_PATH) == key
