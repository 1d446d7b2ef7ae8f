"""BENCHMARKS.md, for people: the lesson's recipe against ours, written from ``checkpoints/bench.json``.

``python -m cmcore bench`` measures (``cmcore.bench``: times, W2 tables, which targets are met) and stores the
numbers; ``python -m viz.reports bench`` writes this page from them.  The lesson's claims are judged by the engine
(``cmcore.evaluate.lesson_claims``) on the stored tables and narrated with ``viz.words.claims.evidence``, the
function the pages use.
"""
from __future__ import annotations

from cmcore import bench
from cmcore.evaluate import lesson_claims
from viz.words.claims import evidence

BENCH_MD = "BENCHMARKS.md"
MEASURE_COMMAND = "python -m cmcore bench"
WRITE_COMMAND = "python -m viz.reports bench"
SAMPLERS = (("teacher (Euler ODE)", "teacher"), ("consistency model", "consistency"))
DETERMINISM = {True: "identical to", False: "not bit for bit the same as", None: "not compared with (no file)"}


def determinism(r: dict) -> str:
    """Whether the teacher trained here is the shipped one, and by how much its weights differ if not."""
    said = f"- {r['recipe']}: the teacher trained here is {DETERMINISM[r['shipped_same']]} the shipped checkpoint"
    diff = r.get("shipped_max_diff")  # absent from files measured before it was stored
    return said + (f" (largest weight difference {diff:.1e})." if r["shipped_same"] is False and diff is not None
                   else ".")


def w2_table(results: list[dict]) -> list[str]:
    """W2 of both samplers of every recipe at every NFE measured."""
    tables = [bench.table(r) for r in results]
    nfes = sorted({k for t in tables for k in (*t.teacher, *t.consistency)})
    lines = ["| recipe | sampler | " + " | ".join(f"NFE {k}" for k in nfes) + " |", "|---|---|" + "---|" * len(nfes)]
    for r, t in zip(results, tables):
        for name, field in SAMPLERS:
            row = getattr(t, field)
            lines.append(f"| {r['recipe']} | {name} | " + " | ".join(f"{row[k]}" if k in row else "" for k in nfes) + " |")
    return lines


def claims_table(lesson: dict, ours: dict) -> list[str]:
    """Each claim of the lesson, judged on both recipes, with the numbers it rests on."""
    judged = [lesson_claims(bench.table(r), r["self_consistency"]) for r in (lesson, ours)]
    return ["| claim | lesson recipe | ours |", "|---|---|---|",
            *[f"| {a.text} | {a.status} ({evidence(a)}) | {b.status} ({evidence(b)}) |" for a, b in zip(*judged)]]


def markdown(result: dict) -> str:
    """BENCHMARKS.md from a stored benchmark (``cmcore.bench.run``'s result)."""
    lesson, ours = result["recipes"]
    gflops, shape = result["gflops"], result["matmul_shape"]
    ours_floor, lesson_floor = bench.step_floor_ms(ours, gflops), bench.step_floor_ms(lesson, gflops)
    n = result["n"]
    md = [
        "# Benchmarks", "",
        f"Measured by `{MEASURE_COMMAND}` into `{bench.DEFAULT_JSON}`; written from it by `{WRITE_COMMAND}` (do not "
        f"edit by hand). Machine: {result['machine']}, {result['cores']} cores, {result['threads']} torch threads, "
        f"torch {result['torch']}, load average {result['load_average']:.1f} at start (times are wall time on this "
        "machine: read them against the load). "
        f"W2 = exact 2-Wasserstein distance between {n} generated and {n} fresh real points, mean ± standard error "
        f"over seeds {result['seeds']}; the floor (two real samples) is {bench.table(ours).floor}. "
        "Comparisons use `cmcore.evaluate.compare`: a two-sided t-test at the 5% level, paired on shared seeds "
        "(Welch's otherwise); a difference inside its noise is indistinguishable.", "",
        "## Targets (our defaults)", "", "| target | measured | met |", "|---|---|---|",
        *[f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |" for t in result["targets"]], "",
        "## Time", "",
        "| recipe | teacher steps | teacher time | teacher step | distill steps | distill time | distill step | step floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, floor in ((lesson, lesson_floor), (ours, ours_floor)):
        t, c = r["teacher"], r["consistency"]
        md.append(f"| {r['recipe']} | {t['steps']} x {t['batch']} | {r['teacher_s']:.1f} s | {r['teacher_step_ms']:.2f} ms "
                  f"| {c['steps']} x {c['batch']} | {r['distill_s']:.1f} s | {r['distill_step_ms']:.2f} ms | {floor:.2f} ms |")
    md += [
        "",
        f"Ratios, ours / lesson: teacher time {ours['teacher_s'] / lesson['teacher_s']:.2f}x, "
        f"distillation time {ours['distill_s'] / lesson['distill_s']:.2f}x. "
        f"A {shape[0]}x{shape[1]}x{shape[2]} matmul runs at {gflops:.1f} GFLOP/s here; one distillation step of ours "
        f"is {ours['step_gflop']:.3f} GFLOP (floor {ours_floor:.2f} ms, measured {ours['distill_step_ms']:.2f} ms, "
        f"{ours['distill_step_ms'] / ours_floor:.2f}x).", "",
        "## W2 at every NFE", "", *w2_table([lesson, ours]), "",
        "## The lesson's claims", "", *claims_table(lesson, ours), "",
        "## Determinism", "",
        *[determinism(r) for r in (lesson, ours)], "",
        "## Configs", "",
    ]
    for r in (lesson, ours):
        md += [f"- {r['recipe']} teacher: `{r['teacher']}`", f"- {r['recipe']} consistency: `{r['consistency']}`"]
    return "\n".join(md) + "\n"
