"""Text from links, uploads, files and pages, made safe to show: the one route for
Markdown (`md_escape`) and for spreadsheet cells (`spreadsheet_cell`). Pure functions,
used by the app (ui.fmt, ui.export) and the command line (compare's CSV and Markdown).
"""

from __future__ import annotations

import re
from typing import Any

# Markdown/Streamlit syntax shown literally: backslash, code, emphasis, links and images
# ([ ] - the ! and ( ) are then plain), HTML and autolinks (<), tables (|), LaTeX ($),
# strikethrough (~), headings (#), Streamlit directives and emoji shortcodes (: before a
# non-space: :red[...], :material/x:, :smile:).
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<|$~#@]|:(?=\S)")
# GFM autolink literals (http://..., www.x, user@host) are found in the text *after*
# escapes are resolved (mdast-util-gfm-autolink-literal), so a backslash does not stop
# them: an invisible WORD JOINER (U+2060) before "://", the "." of "www." and "@" does.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(?<=[a-z0-9])(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


def md_escape(text: object) -> str:
    """``text`` for the middle of a Markdown line (``st.markdown``/``st.error``/exports),
    shown literally: no emphasis, code, link, image, HTML, table, LaTeX, directive,
    emoji shortcode or autolink (a WORD JOINER breaks ``http://``, ``www.`` and ``@``);
    newlines (and other line breaks) become spaces, so no line starts a list, quote or
    heading; control and bidi-override characters are dropped. Prose and numbers stay as
    written (``CHF 10'032 > budget CHF 10'000``; ``valid choices: bf16, fp8``)."""
    flat = strip_controls(" ".join(str(text).splitlines()))
    flat = _AUTOLINK_START.sub(WORD_JOINER, flat)
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), flat)


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Control characters (C0 except tab/newline, DEL, C1, bidi overrides) removed: no
    terminal escape sequence or reordered text reaches a screen."""
    return _CONTROLS.sub("", text)


# OWASP "CSV injection": a cell starting with one of these is a formula in Excel,
# LibreOffice or Google Sheets (tab and CR also start one after some imports).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` safe for a CSV or XLSX cell: text that a spreadsheet would read as a
    formula gets a leading apostrophe (``'=HYPERLINK(...)``, shown as text); numbers,
    booleans, dates and empty cells are returned unchanged (a negative number stays a
    number)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


__all__ = ["WORD_JOINER", "md_escape", "spreadsheet_cell", "strip_controls"]
