"""Code as it runs: cmcore's functions, read with ``inspect`` and highlighted by Pygments.

Two views: one distillation step (page 3), with the lines the notebook leaves to the
student as its four TODOs marked, and the multi-step sampler (page 4).  Which lines are
the notebook's TODOs is said in cmcore itself, by a trailing ``# [TODO N]`` comment on
the line; this module only finds those markers, so an edit to cmcore keeps the view
faithful (a test checks every TODO is marked).  "TODO", not "exercise": the app's
exercises are its pages 1-4, the TODOs are four lines inside the notebook's exercise 3.
"""
from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from cmcore import consistency, flow
from cmcore.train import ConsistencyObjective

MARKER = re.compile(r"\s*# \[TODO (\d)\]\s*$")
_TN1, _TN = "t<sub>n+1</sub>", "t<sub>n</sub>"
TODOS = {  # number -> what the notebook's TODO asks the learner to write (trusted HTML)
    1: f"Noise x₀ up to the higher level: x<sub>{_TN1}</sub> = (1 − {_TN1}) x₀ + {_TN1} ε",
    2: f"The teacher's ODE step from {_TN1} down to {_TN}: x̂<sub>{_TN}</sub>",
    3: f"The loss d( f<sub>θ</sub>(x<sub>{_TN1}</sub>, {_TN1}), f<sub>θ⁻</sub>(x̂<sub>{_TN}</sub>, {_TN}) )",
    4: "The EMA target update θ⁻ ← μ θ⁻ + (1 − μ) θ",
}
# One optimiser step of distillation, in the order it runs (train.fit calls loss, backward, Adam, after_step).
SAMPLER_FUNCTIONS = (consistency.sample_multistep, consistency.sampling_levels, consistency.default_sampling_levels,
                     consistency.karras_levels)  # page 4: the sampler, then where its levels come from
STEP_FUNCTIONS = (ConsistencyObjective.loss, consistency.distillation_pair, flow.interpolate, flow.ode_step,
                  consistency.consistency_loss, consistency.distance, ConsistencyObjective.after_step,
                  consistency.ema_update)


@dataclass(frozen=True)
class Source:
    name: str  # e.g. cmcore/consistency.py · distillation_pair
    lines: tuple[str, ...]  # markers removed
    marks: dict  # line index -> TODO number


def step_sources() -> list[Source]:
    return sources(STEP_FUNCTIONS)


def sources(functions) -> list[Source]:
    """Each function's source as it is in cmcore, with the TODO markers taken out and remembered."""
    out = []
    for fn in functions:
        raw = textwrap.dedent(inspect.getsource(fn)).rstrip("\n").split("\n")
        marks, lines = {}, []
        for i, line in enumerate(raw):
            m = MARKER.search(line)
            if m:
                marks[i] = int(m.group(1))
                line = line[:m.start()]
            lines.append(line)
        module = inspect.getmodule(fn).__name__.replace(".", "/") + ".py"
        out.append(Source(f"{module} · {fn.__qualname__}", tuple(lines), marks))
    return out


def unmarked_todos(sources: list[Source]) -> list[int]:
    """TODOs no line is marked with (empty when the view is faithful)."""
    seen = {n for s in sources for n in s.marks.values()}
    return sorted(set(TODOS) - seen)


_CSS = """
.cm-step { font-size: .92rem; }
.cm-step .legend { display: grid; grid-template-columns: auto 1fr; gap: .35rem .6rem; margin: 0 0 .9rem 0; }
.cm-step .badge { display: inline-flex; align-items: center; justify-content: center; width: 1.35em; height: 1.35em;
  border-radius: 50%; background: #a78bfa; color: #0e1117; font-weight: 700; font-size: .78em; }
.cm-step .src { color: #9ca3af; font-family: monospace; font-size: .8rem; margin: .9rem 0 .2rem 0; }
.cm-step .highlight pre { background: #161a24; border: 1px solid #2a2f3d; border-radius: .5rem; padding: .5rem .6rem;
  margin: 0; overflow-x: auto; line-height: 1.45; font-size: .82rem; color: #e5e7eb; }
.cm-step .highlight .hll { background: rgba(167, 139, 250, .20); display: block; }
.cm-step .marks { color: #a78bfa; font-size: .75rem; margin-top: .2rem; }
"""


def _code_html(srcs: list[Source], legend: dict[int, str]) -> str:
    style = HtmlFormatter(style="monokai").get_style_defs(".cm-step .highlight")
    parts = [f"<style>{_CSS}{style}</style>", '<div class="cm-step">']
    if legend:
        parts.append('<div class="legend">')
        for n, title in legend.items():
            parts.append(f'<span class="badge">{n}</span><span>TODO {n}: {title}</span>')
        parts.append("</div>")
    for src in srcs:
        formatter = HtmlFormatter(style="monokai", hl_lines=[i + 1 for i in src.marks], nowrap=False)
        parts.append(f'<div class="src">{src.name}</div>')
        parts.append(highlight("\n".join(src.lines), PythonLexer(), formatter))
        if src.marks:
            listed = ", ".join(f"line {i + 1}: TODO {n}" for i, n in sorted(src.marks.items()))
            parts.append(f'<div class="marks">Marked: {listed}</div>')
    parts.append("</div>")
    return "".join(parts)


@lru_cache(maxsize=1)
def step_code_html() -> str:
    """The functions of one distillation step, as they are in cmcore, with the notebook's four TODO lines marked."""
    return _code_html(step_sources(), TODOS)


@lru_cache(maxsize=1)
def sampler_code_html() -> str:
    """The multi-step sampler and its level spacings, as they are in cmcore (page 4)."""
    return _code_html(sources(SAMPLER_FUNCTIONS), {})
