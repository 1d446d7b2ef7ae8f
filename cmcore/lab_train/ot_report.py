"""bench/LAB_OT*.md: the straight-paths study as a table for people (the pages read the JSON, not this)."""
from __future__ import annotations

from .. import datasets
from .ot import PAIRING_REPEATS, OTStudy
from .stored import dataset_flag


def ot_markdown(study: OTStudy, findings: list[str]) -> str:
    """bench/LAB_OT.md: the measured W2 table, the pairing cost and the computed findings."""
    nfes = sorted({k for c in study.couplings.values() for k in (*c.table.teacher, *c.table.consistency)})
    flag = dataset_flag(study.dataset)
    lines = [f"# Straight paths on {datasets.noun(study.dataset)}: minibatch-OT teacher vs the shipped (independent) "
             "teacher", "",
             f"Written by `python -m cmcore.lab_cli ot-bench{flag}` (checkpoints from "
             f"`python -m cmcore.lab_cli train-ot{flag}`).",
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
