"""bench/STUDY.md: the study as a page for people, generated from the stored numbers."""
from __future__ import annotations

from pathlib import Path

from ..evaluate import FAILS, HOLDS, UNDECIDED
from .results import Run, Study

DEFAULT_MD = Path("bench/STUDY.md")


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


def markdown(study: Study) -> str:
    findings = study.findings()
    keys = [f.key for f in findings]
    fix, brk = study.group("fix"), study.group("break")
    lines = [
        "# Study: which change fixes which claim, and claim (f) measured", "",
        f"Written by `{study.command}` (do not edit by hand; the app reads `checkpoints/study.json`). "
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
        *[f"- **({chr(97 + i)}) {f.text}** {f.sentence}" for i, f in enumerate(findings)], "",
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
        study.collapse_statement(), "",
    ]
    return "\n".join(lines)
