"""`python -m cmcore study`: which of our changes fixes the lesson's failing claims, and claim (f) measured.

Two measurements, both with the evaluation protocol (``cmcore.evaluate``: W2 mean ± standard
error over seeds, ``compare`` as the only rule, ``lesson_claims`` for the claims):

1. **One change at a time.**  The lesson's recipe with ONE of our changes applied, and our
   recipe with ONE change reverted to the lesson's.  Each variant is distilled, scored and its
   claims are judged against the teacher it was distilled from.
2. **Claim (f), "the EMA target prevents collapse".**  Our teacher, target rate
   μ ∈ {0, 0.95, 0.999} × init from the teacher on/off, plus the lesson's exact recipe.  A run
   has *collapsed* by ``cmcore.collapse.is_collapsed``, the definition every page uses.

The results go to a small JSON file that the app reads through ``load`` (plain dataclasses,
``None`` for a missing or damaged file).  The engine computes the findings (``claim_findings``,
``Study.collapse_rows``) and writes none of their sentences: ``viz.words.study`` narrates them for the
page and for bench/STUDY.md, which ``python -m viz.reports study`` writes from the JSON file.

The package, one concern a module: ``changes`` (the registry and the plans), ``runner`` (distil,
score, judge; the CLI's ``main``), ``results`` (the dataclasses and the findings) and ``storage``
(the JSON file).
"""
from .changes import BASES, CHANGES, COLLAPSE_MUS, KEPT_WITH_BASE, LOSS_NAMES, QUICK_STEP_DIVISOR, Change, Plan, mu_label, plans
from .results import ClaimFinding, CollapseRow, Run, Study, TeacherResult, claim_findings, collapse_row
from .runner import QUICK_SPEC, machine, main, measure_run, measure_teacher, run
from .storage import DEFAULT_JSON, FORMAT, from_json, load, save, to_json
from ..collapse import COLLAPSE_SPREAD_FRACTION, is_collapsed

__all__ = ["BASES", "CHANGES", "COLLAPSE_MUS", "COLLAPSE_SPREAD_FRACTION", "DEFAULT_JSON", "FORMAT",
           "KEPT_WITH_BASE", "LOSS_NAMES", "QUICK_SPEC", "QUICK_STEP_DIVISOR", "Change", "ClaimFinding", "CollapseRow",
           "Plan", "Run", "Study", "TeacherResult", "mu_label", "claim_findings", "collapse_row",
           "from_json", "is_collapsed", "load", "machine", "main", "measure_run",
           "measure_teacher", "plans", "run", "save", "to_json"]
