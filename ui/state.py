"""Session glue: the link parameters of `ui.links` <-> ``st.session_state`` and the URL.

Flow (the "seed once" pattern):

1. first run of a session: :func:`apply_query_once` parses ``st.query_params`` and keeps
   the valid values in ``st.session_state[KEEP]``;
2. every page run: :func:`seed` sets each widget key the page uses that is not in session
   state yet (first run, or the widget was cleaned up after a page switch) from the kept
   value or the default — widgets are then created with ``key=`` only, never ``value=``;
3. after the widgets: :func:`commit` stores the widget values and writes the page's
   inputs back into the URL so the address bar is always a shareable link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.links import PARAMS, encode_query, parse_query

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sizing.catalog import Catalog

KEEP = "_kept_inputs"  # session-state key of the kept (validated) inputs
WARNINGS = "_query_warnings"
APPLIED = "_query_applied"


def widget_key(name: str) -> str:
    """Session-state key of the widget bound to param ``name``."""
    return f"w_{name}"


def apply_query_once(catalog: Catalog) -> list[str]:
    """On a session's first run, keep the valid link values; return the warnings."""
    ss = st.session_state
    if not ss.get(APPLIED):
        values, warnings = parse_query(st.query_params.to_dict(), catalog)
        ss[KEEP] = {**ss.get(KEEP, {}), **values}
        ss[WARNINGS] = warnings
        ss[APPLIED] = True
    return list(ss.get(WARNINGS, []))


def kept(name: str, catalog: Catalog) -> Any:
    """The current value of ``name``: widget value, else kept value, else default."""
    ss = st.session_state
    key = widget_key(name)
    if key in ss:
        return ss[key]
    if name in ss.get(KEEP, {}):
        return ss[KEEP][name]
    return PARAMS[name].default_value(catalog)


def seed(names: Iterable[str], catalog: Catalog) -> None:
    """Give every widget of ``names`` its session value before it is created: the current
    one, else the kept one (link / earlier page), else the default."""
    ss = st.session_state
    keep = ss.setdefault(KEEP, {})
    for name in names:
        key = widget_key(name)
        # Re-assigning an existing value moves it from widget state into user state, so
        # a widget with the same key on another page (a different widget id) keeps it.
        value = ss[key] if key in ss else keep.get(name, PARAMS[name].default_value(catalog))
        ss[key] = list(value) if isinstance(value, list) else value


def coerce_choice(name: str, options: Sequence[Any], fallback: Any = None) -> None:
    """Before a selectbox: if the seeded value is not among ``options``, use ``fallback``
    (or the first option). Multiselects keep only the values still offered."""
    ss = st.session_state
    key = widget_key(name)
    if not options:
        return
    value = ss.get(key)
    if isinstance(value, list):
        kept_values = [v for v in value if v in options]
        if kept_values != value:
            ss[key] = kept_values
    elif value not in options:
        ss[key] = fallback if fallback in options else options[0]


def commit(names: Sequence[str]) -> None:
    """Keep the widget values of ``names`` and write them into the URL (only if changed)."""
    ss = st.session_state
    keep = ss.setdefault(KEEP, {})
    for name in names:
        key = widget_key(name)
        if key in ss:
            value = ss[key]
            keep[name] = list(value) if isinstance(value, list) else value
    wanted = encode_query(keep, names)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


__all__ = [
    "APPLIED",
    "KEEP",
    "WARNINGS",
    "apply_query_once",
    "coerce_choice",
    "commit",
    "kept",
    "seed",
    "widget_key",
]
