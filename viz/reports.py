"""Command line: ``python -m viz.reports {study,lab-ot,bench,claims}``: the pages for people, from stored results.

The engine measures and stores (``python -m cmcore study`` -> checkpoints/study.json, ``python -m cmcore.lab_cli
ot-bench`` -> checkpoints/lab_ot*.json, ``python -m cmcore bench`` -> checkpoints/bench.json, ``python -m cmcore
eval --write`` -> checkpoints/quality-*.json); this writes bench/STUDY.md, bench/LAB_OT*.md and BENCHMARKS.md from
those files, and prints the lesson's claims with their evidence, in the words of the pages (``viz.words``), in
seconds and without training anything.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmcore import bench, datasets, evaluate, study, zoo
from cmcore.config import DEFAULT_DATASET
from cmcore.files import atomic_write
from cmcore.lab_train import OTStudy, ot_study_path
from viz.words import bench as bench_words
from viz.words.claims import evidence
from viz.words.reports import STUDY_MD, ot_markdown, ot_table_path, study_markdown


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
    print(f"wrote {path}")
    return 0


def _report(stored, args, measure: str, markdown) -> int:
    """Write ``markdown(stored)`` to ``args.md``; a missing or unreadable store says which command makes it."""
    if stored is None:
        print(f"{args.json} is missing or unreadable; run `{measure}` first.", file=sys.stderr)
        return 2
    return _write(Path(args.md), markdown(stored))


def cmd_study(args) -> int:
    return _report(study.load(args.json), args, "python -m cmcore study", study_markdown)


def cmd_lab_ot(args) -> int:
    sets = list(datasets.REGISTRY) if args.dataset == "all" else [args.dataset]
    if len(sets) > 1 and (args.json or args.md):
        print("--json and --md name one dataset's files; leave them out with --dataset all.", file=sys.stderr)
        return 2
    for dataset in sets:
        path = Path(args.json or ot_study_path(dataset))
        if not path.exists():
            print(f"{path} is missing: no straight-paths study on {dataset}; skipped.", file=sys.stderr)
            continue
        _write(Path(args.md or ot_table_path(dataset)), ot_markdown(OTStudy.load(path)))
    return 0


def cmd_bench(args) -> int:
    return _report(bench.load(args.json), args, bench_words.MEASURE_COMMAND, bench_words.markdown)


def cmd_claims(args) -> int:
    """The lesson's claims on the shipped pairs, judged on their stored tables (``eval --write``'s seeds)."""
    names = list(zoo.RECIPES) if args.recipe == "all" else [args.recipe]
    sets = list(datasets.REGISTRY) if args.dataset == "all" else [args.dataset]
    spec = evaluate.EvalSpec(seeds=tuple(range(evaluate.SHIPPED_EVAL_SEEDS)))
    for recipe in (zoo.recipe(r, d) for d in sets for r in names):
        table = zoo.load_quality(recipe.teacher, recipe.consistency, spec)
        if table is None:
            print(f"[{recipe.name}/{recipe.teacher.dataset}] no stored table; run `python -m cmcore eval --write "
                  f"--dataset {recipe.teacher.dataset}`.", file=sys.stderr)
            return 2
        teacher = zoo.load_teacher(recipe.teacher).model
        print(f"[{recipe.name}/{recipe.teacher.dataset}] W2 over {spec.describe()}; floor {table.floor}")
        for cl in evaluate.lesson_claims(table, bench.self_consistency_mean(teacher)):
            print(f"  [{cl.status.upper()}] {cl.text} ({evidence(cl)})")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m viz.reports", description="Pages for people from the stored results.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("study", help="bench/STUDY.md from checkpoints/study.json")
    s.add_argument("--json", default=str(study.DEFAULT_JSON), help=f"default {study.DEFAULT_JSON}")
    s.add_argument("--md", default=str(STUDY_MD), help="default bench/STUDY.md")
    s.set_defaults(fn=cmd_study)
    o = sub.add_parser("lab-ot", help="bench/LAB_OT[-<dataset>].md from checkpoints/lab_ot[-<dataset>].json")
    o.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default=DEFAULT_DATASET)
    o.add_argument("--json", default=None, help="default checkpoints/lab_ot[-<dataset>].json")
    o.add_argument("--md", default=None, help="default bench/LAB_OT[-<dataset>].md")
    o.set_defaults(fn=cmd_lab_ot)
    b = sub.add_parser("bench", help="BENCHMARKS.md from checkpoints/bench.json")
    b.add_argument("--json", default=str(bench.DEFAULT_JSON), help=f"default {bench.DEFAULT_JSON}")
    b.add_argument("--md", default=bench_words.BENCH_MD, help=f"default {bench_words.BENCH_MD}")
    b.set_defaults(fn=cmd_bench)
    c = sub.add_parser("claims", help="the lesson's claims on the shipped pairs, with the numbers each rests on")
    c.add_argument("--recipe", choices=[*zoo.RECIPES, "all"], default="all")
    c.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default=DEFAULT_DATASET)
    c.set_defaults(fn=cmd_claims)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
