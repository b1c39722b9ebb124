"""The documentation a user reads: every command and option is in the README, and every
link points at a file inside the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from cli.prices import build_parser as pricing_parser
from cli.sizing_main import build_parser as sizing_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "docs" / "sources" / "README.md",
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _commands() -> list[tuple[str, str, argparse.ArgumentParser]]:
    out = []
    for prog, parser in (("sizing", sizing_parser()), ("pricing", pricing_parser())):
        subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        out += [(prog, name, sub) for name, sub in subs.choices.items()]
    return out


COMMANDS = _commands()


def test_both_command_lines_are_seen():
    names = {(prog, name) for prog, name, _ in COMMANDS}
    assert {("sizing", "estimate"), ("sizing", "bom"), ("pricing", "refresh")} <= names


@pytest.mark.parametrize(
    ("prog", "name", "sub"), COMMANDS, ids=[f"{p}-{n}" for p, n, _ in COMMANDS]
)
def test_every_command_and_option_is_in_the_readme(prog, name, sub):
    assert re.search(rf"python3? -m {prog} {name}\b", README), f"{prog} {name} undocumented"
    missing = sorted(
        o
        for a in sub._actions
        for o in a.option_strings
        if o.startswith("--")
        and o != "--help"
        and not re.search(rf"{re.escape(o)}(?![\w-])", README)
    )
    assert not missing, f"python -m {prog} {name}: {missing} not in README.md"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing file: {target}"


def test_the_link_check_sees_links():
    assert "docs/design.md" in LINK.findall(README)
