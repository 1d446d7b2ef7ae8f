"""Every widget's value lives in the URL, so a copied link reproduces the view.

A page declares its widgets once as ``Param`` specs.  ``bind(spec)`` reads the
URL on the first run of a page visit, validates each value (type, range,
choices), drops unknown names, and shows one note listing what it corrected.
A visit whose URL carries none of the page's settings (the sidebar's links carry
none) restores the values ``sync`` kept when the session last showed the page.
Widgets are created with ``key=param.key``; ``sync(spec)`` writes the current
values back to the URL (defaults are left out to keep links short).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import streamlit as st

from ui import router

_VISIT_KEY = "_params_visit"  # page id whose URL was last read
_NOTES_KEY = "_params_notes"
_SAVED_KEY = "_params_saved"  # {page id: {param key: value}}: each page's settings as last shown, for coming back


SHOWN_CHARS = 24  # a link's value is echoed in a note at most this long
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def shown(text: str) -> str:
    """A value from a link, safe to echo in a note: shortened, every Markdown character escaped (no links,
    no formatting a stranger could inject into someone else's page)."""
    text = str(text)
    short = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    return "“" + _MARKDOWN.sub(r"\\\1", short) + "”"


@dataclass(frozen=True)
class Param:
    key: str  # widget key and URL name
    default: Any
    kind: str = "int"  # int | float | choice | bool | multi (list of choices) | ints (list of ints)
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    label: str = ""
    limit: str = ""  # why ``hi`` is where it is, said when a link asks for more ("this server's limit per run")

    def parse(self, raw: list[str]) -> Any:
        """URL strings -> a valid value; ValueError says what was wrong."""
        if self.kind in ("multi", "ints"):
            items = [p for r in raw for p in r.split(",") if p != ""]
            if self.kind == "ints":
                values = sorted({self._number(p, int) for p in items})
            else:
                values = [self._choice(p) for p in items]
            if not values:
                raise ValueError("needs at least one value")
            return values
        value = raw[-1]
        if self.kind == "int":
            return self._number(value, int)
        if self.kind == "float":
            return self._number(value, float)
        if self.kind == "bool":
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{shown(value)} is not true/false")
        if self.kind == "choice":
            return self._choice(value)
        raise ValueError(f"unknown kind {self.kind}")

    def _number(self, text: str, typ):
        try:
            value = typ(float(text)) if typ is int and float(text).is_integer() else typ(text)
        except (TypeError, ValueError):
            raise ValueError(f"{shown(text)} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{shown(text)} is not a finite number")
        if self.limit and self.hi is not None and value > self.hi:
            raise ValueError(f"{shown(text)} is more than {self.limit} ({self.hi:,})")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ValueError(f"{shown(text)} is outside {self.lo}-{self.hi}")
        return value

    def _choice(self, text: str):
        for c in self.choices:
            if str(c) == text:
                return c
        raise ValueError(f"{shown(text)} is not one of {', '.join(map(str, self.choices))}")

    def encode(self, value: Any) -> str:
        if self.kind in ("multi", "ints"):
            return ",".join(str(v) for v in value)
        if self.kind == "bool":
            return "1" if value else "0"
        return str(value)


@dataclass
class Spec:
    page: str  # unique page id, e.g. "self_consistency"
    params: Sequence[Param]
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Param:
        for p in self.params:
            if p.key == key:
                return p
        raise KeyError(key)


# Query parameters any page may carry (owned by app.py, not by one page).
GLOBAL_KEYS = ("model", "data")


def read_url(spec: Spec, url: dict[str, list[str]], extra_known: Sequence[str] = GLOBAL_KEYS) -> tuple[dict, list[str]]:
    """Pure: validated values found in ``url`` and notes for what was corrected or dropped."""
    values, notes = {}, []
    known = {p.key for p in spec.params} | set(extra_known)
    for p in spec.params:
        if p.key in url:
            try:
                values[p.key] = p.parse(url[p.key])
            except ValueError as exc:
                values[p.key] = p.default
                notes.append(f"`{p.key}`: {exc}; using {p.encode(p.default)} instead.")
    for name in sorted(set(url) - known):
        notes.append(f"{shown(name)} is not a setting of this page and was ignored.")
    return values, notes


def bind(spec: Spec) -> Spec:
    """Seed widget state from the URL once per page visit; show a note for corrected values."""
    router.ensure_routed()
    state = st.session_state
    if state.get(_VISIT_KEY) != spec.page:
        url = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        values, notes = read_url(spec, url)
        if not any(p.key in url for p in spec.params):  # back through the sidebar: the page as it was left
            values = {**saved(spec.page), **values}
        for p in spec.params:
            state[p.key] = values.get(p.key, p.default)
        state[_VISIT_KEY] = spec.page
        state[_NOTES_KEY] = notes
    else:
        for p in spec.params:
            if p.key not in state:  # widget state was dropped while it was hidden
                state[p.key] = p.default
    spec.notes = list(state.get(_NOTES_KEY, []))
    if spec.notes:
        st.warning("This link had settings that could not be used, so they were corrected:\n\n"
                   + "\n".join(f"- {n}" for n in spec.notes), icon=":material/link_off:")
    return spec


def restore_empty(spec: Spec) -> None:
    """A choice deselected in its widget (None) or an emptied list falls back to its default, before widgets run."""
    for p in spec.params:
        if p.kind in ("choice", "multi", "ints") and st.session_state.get(p.key) in (None, []):
            st.session_state[p.key] = list(p.default) if isinstance(p.default, list) else p.default


def value(spec: Spec, key: str) -> Any:
    return st.session_state.get(key, spec[key].default)


def saved(page: str) -> dict:
    """The settings ``page`` had when this session last showed it (empty if never)."""
    return dict(st.session_state.get(_SAVED_KEY, {}).get(page, {}))


def sync(spec: Spec) -> None:
    """Write every widget value that differs from its default back to the URL; drop stray names.

    The values are also kept for the session, so a page left through the sidebar (whose links carry no
    settings) comes back as it was left, in the widgets and in the URL.
    """
    wanted, keep = {}, {}
    for p in spec.params:
        v = st.session_state.get(p.key, p.default)
        keep[p.key] = list(v) if isinstance(v, list) else v
        if v != p.default:
            wanted[p.key] = p.encode(v)
    st.session_state.setdefault(_SAVED_KEY, {})[spec.page] = keep
    for k in GLOBAL_KEYS:
        if k in st.query_params:
            wanted[k] = st.query_params[k]
    current = {k: st.query_params[k] for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def leave_page() -> None:
    """Forget which page's URL was read, so the next page reads its own (called by app.py on page change)."""
    st.session_state.pop(_VISIT_KEY, None)


# --- Widgets built from their Param: the range and choices are written once, in the Param ------------

def slider(spec: Spec, key: str, label: str, col=st, **kwargs):
    p = spec[key]
    cast = float if p.kind == "float" else int
    return col.slider(label, cast(p.lo), cast(p.hi), key=key, **kwargs)


def number(spec: Spec, key: str, label: str, col=st, **kwargs):
    p = spec[key]
    cast = float if p.kind == "float" else int
    return col.number_input(label, cast(p.lo), cast(p.hi), key=key, **kwargs)


def select(spec: Spec, key: str, label: str, col=st, **kwargs):
    return col.selectbox(label, spec[key].choices, key=key, **kwargs)


def segmented(spec: Spec, key: str, label: str, col=st, **kwargs):
    return col.segmented_control(label, spec[key].choices, key=key, **kwargs)


def select_slider(spec: Spec, key: str, label: str, col=st, **kwargs):
    return col.select_slider(label, spec[key].choices, key=key, **kwargs)


def multiselect(spec: Spec, key: str, label: str, col=st, **kwargs):
    return col.multiselect(label, spec[key].choices, key=key, **kwargs)
