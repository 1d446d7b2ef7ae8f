"""Command line: python -m cmcore {train,eval,bench,study} --help.

The engine's commands print and store numbers; the pages for people that narrate them (BENCHMARKS.md,
bench/STUDY.md, the claims with their evidence) are ``python -m viz.reports``'s.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import datasets, store, study, zoo
from .config import DEFAULT_DATASET
from .threads import ONE_THREAD
from .evaluate import SHIPPED_EVAL_SEEDS, EvalSpec, lesson_claims, quality_table
from .bench import DEFAULT_JSON as BENCH_JSON, self_consistency_mean


def _recipes(name: str, dataset: str = DEFAULT_DATASET) -> list[zoo.Recipe]:
    """The recipes named (or all) on ``dataset`` (or on every registered dataset with ``all``)."""
    names = list(zoo.RECIPES) if name == "all" else [name]
    sets = list(datasets.REGISTRY) if dataset == "all" else [dataset]
    return [zoo.recipe(r, d) for d in sets for r in names]


def _tag(recipe: zoo.Recipe) -> str:
    """How output lines name a recipe: ``[ours]`` on the lesson's dataset, ``[ours/circles]`` on another."""
    data = recipe.teacher.dataset
    return f"[{recipe.name}]" if data == DEFAULT_DATASET else f"[{recipe.name}/{data}]"


def cmd_train(args) -> int:
    for recipe in _recipes(args.recipe, args.dataset):
        root = Path(args.out)
        def log(info, label=""):
            if info.step % max(info.total // 10, 1) == 0:
                print(f"  {label} step {info.step}/{info.total} loss {info.loss:.5f} ({info.elapsed:.1f} s)", flush=True)
        print(f"{_tag(recipe)} teacher {recipe.teacher}")
        from .train import train_consistency, train_teacher
        t = train_teacher(recipe.teacher, on_step=lambda i: log(i, "teacher"))
        print(f"{_tag(recipe)} consistency {recipe.consistency}")
        c = train_consistency(recipe.consistency, t.model, recipe.teacher.dataset, on_step=lambda i: log(i, "consistency"))
        spec = EvalSpec(seeds=tuple(range(SHIPPED_EVAL_SEEDS)))  # the shipped tables' seeds, as `eval --write`
        table = quality_table(t.model, c.model, recipe.teacher.dataset, spec=spec)
        claims = {cl.key: cl.status for cl in lesson_claims(table, self_consistency_mean(t.model))}
        store.save(zoo.teacher_path(recipe.teacher, root), "teacher", t.model, recipe.teacher,
                   metrics={"seconds": t.seconds})
        store.save(zoo.consistency_path(recipe.teacher, recipe.consistency, root), "consistency", c.model,
                   recipe.consistency, recipe.teacher, metrics={"seconds": c.seconds})
        zoo.save_quality(recipe.teacher, recipe.consistency, table, spec, root)
        print(json.dumps({**table.to_json(), "claims": claims}, indent=1))
    return 0


def cmd_eval(args) -> int:
    for recipe in _recipes(args.recipe, args.dataset):
        try:
            teacher = zoo.load_teacher(recipe.teacher).model
            cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
        except store.CheckpointError as exc:
            print(exc, file=sys.stderr)
            return 2
        spec = EvalSpec(seeds=tuple(range(args.seeds)))
        table = quality_table(teacher, cm, recipe.teacher.dataset, spec=spec)
        if args.write:
            print(f"{_tag(recipe)} wrote {zoo.save_quality(recipe.teacher, recipe.consistency, table, spec)}")
        print(f"{_tag(recipe)} W2 over {spec.describe()}, mean ± standard error; floor {table.floor}")
        for row in table.as_rows():
            print(f"  {row['model']:<22} NFE {row['nfe']:>3}  W2 {row['w2']:.3f} ± {row['sem']:.3f}")
        for cl in lesson_claims(table, self_consistency_mean(teacher)):
            print(f"  [{cl.status.upper()}] {cl.text}")
    print("Each claim with the numbers it rests on: python -m viz.reports claims (from the stored tables)",
          file=sys.stderr)
    return 0


def _seed_count(text: str) -> int:
    k = int(text)
    if k < 1:
        raise argparse.ArgumentTypeError(f"need at least one seed; got {k}")
    return k


def cmd_bench(args) -> int:
    from . import bench
    result = bench.run(threads=args.threads, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"wrote {bench.save(result, args.out_json)}")
    for t in result["targets"]:
        print(f"  [{'MET' if t['met'] else 'NOT MET'}] {t['target']}: {t['measured']}")
    print(f"BENCHMARKS.md, for people: python -m viz.reports bench --json {args.out_json}", file=sys.stderr)
    return 0


def cmd_study(args) -> int:
    out_json = args.out_json or (None if args.quick else str(study.DEFAULT_JSON))
    result = study.main(out_json, args.quick, args.threads, log=lambda m: print(m, file=sys.stderr, flush=True))
    if out_json:
        print(f"bench/STUDY.md, for people: python -m viz.reports study --json {out_json}", file=sys.stderr)
    else:
        print(json.dumps(study.to_json(result), indent=1))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m cmcore", description="Consistency Explorer engine.")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a recipe and write its checkpoints")
    t.add_argument("--recipe", choices=[*zoo.RECIPES, "all"], default="all")
    t.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default=DEFAULT_DATASET,
                   help="which dataset the teacher learns (all: every registered one)")
    t.add_argument("--out", default=str(zoo.checkpoint_dir()), help="checkpoint folder")
    t.set_defaults(fn=cmd_train)
    e = sub.add_parser("eval", help="W2 table and the lesson's claims for the shipped checkpoints")
    e.add_argument("--recipe", choices=[*zoo.RECIPES, "all"], default="all")
    e.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default=DEFAULT_DATASET,
                   help="which dataset the teacher learns (all: every registered one)")
    e.add_argument("--seeds", type=_seed_count, default=SHIPPED_EVAL_SEEDS,
                   help=f"evaluation seeds 0..N-1 (default {SHIPPED_EVAL_SEEDS}: the shipped tables; a live run "
                   f"uses {len(EvalSpec().seeds)})")
    e.add_argument("--write", action="store_true", help="store the table beside the checkpoints (read by the app)")
    e.set_defaults(fn=cmd_eval)
    b = sub.add_parser("bench", help="lesson recipe vs ours, side by side; writes checkpoints/bench.json "
                       "(BENCHMARKS.md: python -m viz.reports bench)")
    b.add_argument("--out-json", default=str(BENCH_JSON), help=f"default {BENCH_JSON}")
    b.add_argument("--threads", type=int, default=2)
    b.set_defaults(fn=cmd_bench)
    s = sub.add_parser("study", help="which of our changes fixes each failing claim; claim (f) measured; "
                       "writes checkpoints/study.json (bench/STUDY.md: python -m viz.reports study)")
    s.add_argument("--out-json", default=None, help="default checkpoints/study.json (none with --quick)")
    s.add_argument("--quick", action="store_true", help="a smoke run: tiny training and evaluation; "
                   "writes only the path given (else prints the JSON), so the committed results are never "
                   "overwritten by it")
    s.add_argument("--threads", type=int, default=ONE_THREAD,
                   help="torch threads of every run (recorded in each config)")
    s.set_defaults(fn=cmd_study)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
