"""Command line for the offline studies: python -m cmcore.lab_cli {param,train-ot,ot-bench,track,samplers} --help."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from . import datasets, zoo
from .config import DEFAULT_DATASET
from .evaluate import EvalSpec
from .lab_train import (OT_CONSISTENCY, OT_SPEC, OT_TEACHER_BLOCKS, PARAM_SEEDS, PARAM_SIGMA_DATA, PARAM_STARTS,
                        PARAM_STEPS, dataset_flag, ot_study_path, ot_teacher_config,
                        param_study_path, param_variants, run_param_study, run_ot_study, save_json,
                        save_ot_consistency, save_ot_teacher, train_ot_teacher)
from .threads import use_one_thread
from .train import train_consistency


def cmd_param(args) -> int:
    torch.set_num_threads(args.threads)
    recipe = zoo.recipe(zoo.DEFAULT.name, args.dataset)  # the dataset's shipped teacher and distillation recipe
    teacher = zoo.load_teacher(recipe.teacher).model
    cfg = dataclasses.replace(recipe.consistency, threads=args.threads, init_from_teacher=args.start == "teacher")
    print(f"parameterisation study on {args.dataset} ({args.start} start): {args.steps} steps x seeds {args.seeds} "
          f"x sigma_data {args.sigma_data}")
    data = run_param_study(teacher, recipe.teacher, cfg, param_variants(tuple(args.sigma_data)), tuple(args.seeds),
                           args.steps)
    print(f"wrote {save_json(data, Path(args.out or param_study_path(args.start, args.dataset)))}")
    return 0


def cmd_train_ot(args) -> int:
    """Train the dataset's OT teachers (exact, and in blocks) and distil the shipped recipe's consistency model from
    the exact one; write their checkpoints beside the shipped ones."""
    blocks = (1, OT_TEACHER_BLOCKS.ot_blocks)[: 1 if args.exact_only else 2]
    for cfg in (ot_teacher_config(args.dataset, b) for b in blocks):
        print(f"OT teacher {cfg}")
        res, pairing = train_ot_teacher(cfg, on_step=_log("teacher"))
        print(f"  {res.seconds:.0f} s, of which pairing {pairing:.0f} s")
        print(f"  wrote {save_ot_teacher(cfg, res.model, {'seconds': res.seconds, 'pairing_seconds': pairing})}")
        if cfg.ot_blocks == 1:
            cm_cfg = OT_CONSISTENCY
            cm = train_consistency(cm_cfg, res.model, cfg.dataset, on_step=_log("consistency"))
            print(f"  wrote {save_ot_consistency(cfg, cm_cfg, cm.model, {'seconds': cm.seconds})}")
    return 0


def cmd_ot_bench(args) -> int:
    """Score both couplings with the protocol, time the pairing; write checkpoints/lab_ot[-<dataset>].json (read by
    the page; its page for people, bench/LAB_OT[-<dataset>].md, is ``python -m viz.reports lab-ot``'s)."""
    use_one_thread()
    out = Path(args.out or ot_study_path(args.dataset))
    data = run_ot_study(args.dataset, EvalSpec(OT_SPEC.n, tuple(range(args.eval_seeds))))
    print(f"wrote {save_json(data, out)}")
    print(f"bench/LAB_OT*.md, for people: python -m viz.reports lab-ot{dataset_flag(args.dataset)}"
          + (f" --json {out}" if args.out else ""))
    return 0


def cmd_track(args) -> int:
    """Replay the shipped pairs' distillation with the dashboard's Tracker; write checkpoints/track-*.json
    (the one-step W2 at each snapshot and the training loss)."""
    from . import tracks

    for name, dataset in _pairs(args):
        recipe = zoo.recipe(name, dataset)
        teacher = zoo.load_teacher(recipe.teacher).model
        print(f"[{name} on {dataset}] replaying {recipe.consistency.steps} steps of distillation with W2 snapshots ...")
        rep = tracks.replay(recipe.consistency, teacher, recipe.teacher.dataset, on_step=_log("consistency"))
        for p in rep.track.points:
            print(f"  step {p.step:>5}  W2 {p.score}")
        shipped = zoo.load_consistency(recipe.teacher, recipe.consistency).model
        check = tracks.check(rep, shipped, recipe.teacher.dataset)
        print(f"  replayed weights vs the shipped checkpoint's: largest difference {check.max_weight_diff:.2e}; "
              f"one-step W2 at step {recipe.consistency.steps}: replay {check.replay_last}, "
              f"shipped {check.shipped_last}")
        if not check.agrees and not args.force:
            print("  not written: the replay's last point is measurably different from the shipped model's "
                  "(--force writes it anyway)", file=sys.stderr)
            return 1
        loss = tracks.loss_curve(rep.result.losses)
        print(f"  loss: first window {loss[0][1]:.3e}, last {loss[-1][1]:.3e} ({len(loss)} windows)")
        path = tracks.save_track(recipe.teacher, recipe.consistency, rep.track, replay_check=check, loss=loss)
        print(f"  wrote {path}")
    return 0


def cmd_samplers(args) -> int:
    """Page 4's sampler experiments (fresh or same noise, level spacing) on the shipped pairs, by the protocol;
    write checkpoints/samplers-*.json."""
    from . import sampler_study

    use_one_thread()
    for name, dataset in _pairs(args):
        recipe = zoo.recipe(name, dataset)
        cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
        table = zoo.load_quality(recipe.teacher, recipe.consistency)  # the lesson's sampler is scored there already
        study = sampler_study.run(cm, dataset, known=table.consistency if table else None)
        print(f"[{name} on {dataset}] W2 at {study.spec.describe()}")
        for k in study.steps:
            print(f"  K={k}: fresh {study.lesson(k)}  same noise {study.same_noise(k)}  "
                  + "  ".join(f"{s} {study.spacing(k, s)}" for s in sampler_study.SPACINGS))
        print(f"  wrote {sampler_study.save(recipe.teacher, recipe.consistency, study)}")
    return 0


def _pairs(args) -> list[tuple[str, str]]:
    """(recipe, dataset) pairs the --recipe and --dataset options name."""
    return [(n, d) for d in (datasets.REGISTRY if args.dataset == "all" else [args.dataset])
            for n in (zoo.RECIPES if args.recipe == "all" else [args.recipe])]


def _log(label: str):
    def log(info) -> None:
        if info.step % max(info.total // 10, 1) == 0:
            print(f"  {label} step {info.step}/{info.total} loss {info.loss:.5f} ({info.elapsed:.0f} s)", flush=True)
    return log


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m cmcore.lab_cli", description="Offline studies for the lab pages.")
    sub = p.add_subparsers(dest="cmd", required=True)
    dataset = dict(choices=list(datasets.REGISTRY), default=DEFAULT_DATASET,
                   help=f"the data: its shipped pair is the study's teacher (default {DEFAULT_DATASET})")
    q = sub.add_parser("param", help="distil with each parameterisation (short runs); writes "
                       "checkpoints/lab_param[_random][-<dataset>].json")
    q.add_argument("--dataset", **dataset)
    q.add_argument("--steps", type=int, default=PARAM_STEPS)
    q.add_argument("--seeds", type=int, nargs="+", default=list(PARAM_SEEDS))
    q.add_argument("--sigma-data", type=float, nargs="+", default=list(PARAM_SIGMA_DATA))
    q.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for these tiny MLPs)")
    q.add_argument("--start", choices=list(PARAM_STARTS), default="teacher",
                   help="the network starts from the teacher (the shipped recipe) or at random")
    q.add_argument("--out", default=None, help="default: checkpoints/lab_param.json (teacher), lab_param_random.json, "
                   "with -<dataset> before .json for any dataset but the default")
    q.set_defaults(fn=cmd_param)
    o = sub.add_parser("train-ot", help="train the minibatch-OT teachers and a consistency model; write checkpoints")
    o.add_argument("--dataset", **dataset)
    o.add_argument("--exact-only", action="store_true", help="skip the cheaper 4-block teacher")
    o.set_defaults(fn=cmd_train_ot)
    b = sub.add_parser("ot-bench", help="W2 of both couplings + pairing cost; writes checkpoints/lab_ot[-<dataset>].json "
                       "(bench/LAB_OT[-<dataset>].md: python -m viz.reports lab-ot)")
    b.add_argument("--dataset", **dataset)
    b.add_argument("--eval-seeds", type=int, default=len(OT_SPEC.seeds),
                   help=f"evaluation seeds 0..k-1 of {OT_SPEC.n:,} points per W2 (default {len(OT_SPEC.seeds)})")
    b.add_argument("--out", default=None, help="default: checkpoints/lab_ot[-<dataset>].json")
    b.set_defaults(fn=cmd_ot_bench)
    t = sub.add_parser("track", help="replay the shipped distillations, recording one-step W2 at each snapshot; "
                       "writes checkpoints/track-*.json with the training loss (read by page 3 and 'Recipes compared')")
    t.add_argument("--recipe", choices=[*zoo.RECIPES, "all"], default="all")
    t.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default=datasets.DEFAULT,
                   help=f"whose shipped pairs to replay (default {datasets.DEFAULT})")
    t.add_argument("--force", action="store_true", help="write even if the replay's last point differs from the shipped model's")
    t.set_defaults(fn=cmd_track)
    m = sub.add_parser("samplers", help="page 4's experiments (fresh or same noise, level spacing) on the shipped "
                       "pairs, by the protocol; writes checkpoints/samplers-*.json")
    m.add_argument("--recipe", choices=[*zoo.RECIPES, "all"], default="all")
    m.add_argument("--dataset", choices=[*datasets.REGISTRY, "all"], default="all")
    m.set_defaults(fn=cmd_samplers)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
