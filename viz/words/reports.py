"""The Markdown pages for people, written from the stored studies (``python -m viz.reports``; no page reads them).

bench/STUDY.md and bench/LAB_OT*.md state their findings with the functions the pages call (``viz.words.study``,
``viz.words.lab_studies``), so a file and a page never word the same finding differently.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cmcore import datasets
from cmcore.evaluate import FAILS, HOLDS, UNDECIDED
from cmcore.lab_train import PAIRING_REPEATS, OTStudy, dataset_flag, dataset_suffix, ot_study_path
from viz.words.lab_studies import ot_findings, pairing_findings
from viz.words.study import collapse_statement, finding_text

if TYPE_CHECKING:  # read here, never built (cmcore.study's package loads its runner)
    from cmcore.study import Run, Study

REPORT_DIR = Path(__file__).resolve().parents[2] / "bench"  # Markdown reports for people (no page reads them)
STUDY_MD = REPORT_DIR / "STUDY.md"
STUDY_COMMAND = "python -m viz.reports study"
OT_COMMAND = "python -m viz.reports lab-ot"


def ot_table_path(dataset: str) -> Path:
    """bench/LAB_OT[-<dataset>].md"""
    return REPORT_DIR / f"LAB_OT{dataset_suffix(dataset)}.md"


# --- bench/STUDY.md ---------------------------------------------------------------------------------

def _short(status: str) -> str:
    return {HOLDS: "holds", FAILS: "**fails**", UNDECIDED: "undecided"}.get(status, status)


def _run_table(entries: list[tuple[str, Run]], keys: list[str], verb: str) -> list[str]:
    head = ["| variant | teacher | distill s | W2 1 step | W2 2 steps | " + " | ".join(f"({chr(97 + i)})" for i in range(len(keys))) + " |",
            "|---|---|---|---|---|" + "---|" * len(keys)]
    rows = []
    for i, (label, r) in enumerate(entries):
        name = f"{label} (base)" if i == 0 else f"{verb} {r.change}"
        rows.append(f"| {name} | {r.teacher} | {r.seconds:.1f} | {r.w2[1]} | {r.w2[2]} | "
                    + " | ".join(_short(r.claims.get(k, "")) for k in keys) + " |")
    return head + rows


def _threads(study: Study) -> str:
    return "/".join(sorted({str(r.cfg.threads) for r in study.runs.values()}))


def study_markdown(study: Study) -> str:
    """bench/STUDY.md: the teachers, the one-change runs, each finding and the collapse runs."""
    findings = study.findings()
    keys = [f.key for f in findings]
    fix, brk = study.group("fix"), study.group("break")
    lines = [
        "# Study: which change fixes which claim, and claim (f) measured", "",
        f"Measured by `{study.command}` into `checkpoints/study.json` (which the app reads); written from it by "
        f"`{STUDY_COMMAND}` (do not edit by hand). "
        f"W2 = exact 2-Wasserstein distance, mean ± standard error over {study.spec.describe()}; "
        f"floor (two real samples) {study.floor}. Machine: {study.machine}; the whole study took "
        f"{study.total_seconds / 60:.1f} min. Distillation times are wall time on a shared machine: read ratios, "
        "not absolutes." + (" **Quick mode: a smoke run with tiny training and evaluation, not a measurement.**"
                            if study.quick else ""), "",
        "Each variant is distilled once (seeded, deterministic) and its claims are judged with `lesson_claims` "
        "against the teacher it was distilled from. A variant keeps its base recipe's seed. Every run uses "
        f"{_threads(study)} torch thread(s) (recorded in its config; why one: `python bench/one_thread.py`; the count "
        "changes weights only by float rounding).", "",
        "## Teachers", "",
        "| teacher | W2 1 Euler step | W2 5 steps | W2 50 steps | self-consistency | 1-step spread |",
        "|---|---|---|---|---|---|",
        *[f"| {k} | {t.w2[1]} | {t.w2[5]} | {t.w2[50]} | {t.self_consistency:.4f} | {t.one_step_spread} |"
          for k, t in study.teachers.items()], "",
        "## Which of our changes fixes each failing claim", "",
        *[f"- **({chr(97 + i)}) {f.text}** {finding_text(f)}" for i, f in enumerate(findings)], "",
        "### The lesson's recipe with one of our changes", "",
        *_run_table(fix, keys, "+"), "",
        "### Our recipe with one change reverted to the lesson's", "",
        *_run_table(brk, keys, "−"), "",
        "What each change moves (lesson → ours):", "",
        *[f"- {r.change}: {r.detail}" for _, r in fix[1:]], "",
        "## Claim (f): \"the EMA target prevents collapse\"", "",
        f"Collapsed = the one-step samples' spread (RMS distance from their mean) is measurably below "
        f"{study.collapse_fraction:g} × the data's spread ({study.data_spread}) AND the one-step W2 is not "
        "measurably better than the teacher's single Euler step (both with `compare`).", "",
        "| setting | teacher | W2 1 step | teacher 1 step | spread | spread / data | collapsed |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r.label} | {r.teacher} | {r.w2_1} | {r.teacher_1} | {r.spread} | {r.spread_fraction:.2f} | "
          f"{'**yes**' if r.collapsed else 'no'} |" for r in study.collapse_rows()], "",
        collapse_statement(study.collapse_rows()), "",
    ]
    return "\n".join(lines)


# --- bench/LAB_OT*.md -------------------------------------------------------------------------------

def ot_markdown(study: OTStudy) -> str:
    """bench/LAB_OT.md: the measured W2 table, the pairing cost and the findings, in the words of the page."""
    findings = ot_findings(study) + pairing_findings(study)
    nfes = sorted({k for c in study.couplings.values() for k in (*c.table.teacher, *c.table.consistency)})
    flag = dataset_flag(study.dataset)
    lines = [f"# Straight paths on {datasets.noun(study.dataset)}: minibatch-OT teacher vs the shipped (independent) "
             "teacher", "",
             f"Measured by `python -m cmcore.lab_cli ot-bench{flag}` (checkpoints from "
             f"`python -m cmcore.lab_cli train-ot{flag}`); written from "
             f"`checkpoints/{ot_study_path(study.dataset).name}` by `{OT_COMMAND}{flag}` (do not edit by hand).",
             f"W2 by the evaluation protocol: {study.spec.describe()}, mean ± standard error over seeds. "
             f"Floor (two real samples): {study.floor}.", "",
             "| model | " + " | ".join(f"NFE {k}" for k in nfes) + " |", "|---|" + "---|" * len(nfes)]
    for c in study.couplings.values():
        for role, scores in (("teacher, Euler", c.table.teacher), ("consistency model", c.table.consistency)):
            if scores:
                lines.append(f"| {role} ({c.label}) | "
                             + " | ".join(str(scores[k]) if k in scores else "" for k in nfes) + " |")
    lines += ["", "Training time and straightness (mean distance of the 1-step Euler endpoint from the 200-step one, "
              "2,000 points):", "", "| teacher | training s | of which pairing s | 1-step endpoint error |",
              "|---|---|---|---|"]
    for c in study.couplings.values():
        secs = f"{c.train_seconds:.0f}" if c.train_seconds else "?"
        lines.append(f"| {c.label} | {secs} | {c.pairing_seconds:.0f} | {c.straightness:.3f} |")
    lines += ["", f"Pairing cost per training step (median of {PAIRING_REPEATS} runs, milliseconds, a batch of "
              f"{datasets.noun(study.dataset)} vs Gaussian noise). Wall-clock times on a 2-core machine shared with "
              "other jobs: they move by a factor of several with the load; the ratios between rows are the robust "
              "part.", "",
              "| batch | solver | exact assignments per step | ms |", "|---|---|---|---|"]
    lines += [f"| {r['batch']} | {r['solver']} | {r['blocks']} of {r['batch'] // r['blocks']} | {r['ms']:.1f} |"
              for r in study.pairing]
    lines += ["", "## What the numbers say", ""] + [f"- {f}" for f in findings] + [""]
    return "\n".join(lines)
