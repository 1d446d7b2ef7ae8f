"""English for the sentences: lists, plurals and ratios, written once."""
from __future__ import annotations

from typing import Iterable

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def join(items: Iterable[str], conj: str = "and") -> str:
    """"a", "a and b", "a, b and c" (or another conjunction)."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def plural(k: int, word: str = "step") -> str:
    """1 step, 2 steps, 1,200 steps."""
    return f"{k:,} {word}{'s' if k != 1 else ''}"


def verb_s(count: int) -> str:
    """The verb's -s after a subject of ``count`` things: "1 change makes", "2 changes make"."""
    return "s" if count == 1 else ""


def times(a: float, b: float) -> str:
    """a as a multiple of b: "2.5×" ("∞×" when b is zero)."""
    return f"{a / b:.1f}×" if b > 0 else "∞×"


def ratio(a: float, b: float) -> str:
    """a against b: "3.9× larger", "2.0× smaller" or "the same"."""
    if a == b or b == 0:
        return "the same" if a == b else "larger"
    return f"{a / b:.1f}× larger" if a > b else f"{b / a:.1f}× smaller"


def subscript(n: int) -> str:
    """An index written as a subscript: 6 -> ₆."""
    return str(n).translate(_SUB)
