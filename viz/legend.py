"""Colour legends: what each palette role means, shown wherever colour carries meaning."""
from __future__ import annotations

from typing import Sequence

from viz.charts import MUTED_TEXT, PALETTE

ROLE_NAMES = {
    "real": "real data", "teacher": "teacher, Euler ODE (several steps)", "teacher_one": "teacher, one Euler step",
    "consistency": "consistency model", "heun": "Heun solver", "chosen": "chosen trajectory",
    "endpoint": "true endpoint", "highlight": "restart points",
}


def legend_html(roles: Sequence[str]) -> str:
    """A one-line colour legend for ``roles`` (HTML; every page that uses colour to mean something shows one)."""
    items = "".join(f'<span style="white-space:nowrap;margin-right:1rem"><span style="display:inline-block;'
                    f'width:.7rem;height:.7rem;border-radius:50%;background:{PALETTE[r]};margin-right:.35rem">'
                    f'</span>{ROLE_NAMES[r]}</span>' for r in roles)
    return f'<div style="font-size:.85rem;color:{MUTED_TEXT};line-height:1.8">{items}</div>'
