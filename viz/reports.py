"""Command line: ``python -m viz.reports {study,lab-ot}``: the Markdown pages for people, from the stored studies.

The engine measures and stores (``python -m cmcore study`` -> checkpoints/study.json, ``python -m cmcore.lab_cli
ot-bench`` -> checkpoints/lab_ot*.json); this writes bench/STUDY.md and bench/LAB_OT*.md from those files in the
words of the pages (``viz.words.reports``), in seconds and without training anything.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmcore import datasets, study
from cmcore.config import DEFAULT_DATASET
from cmcore.lab_train import OTStudy, ot_study_path
from viz.words.reports import STUDY_MD, ot_markdown, ot_table_path, study_markdown


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def cmd_study(args) -> int:
    stored = study.load(args.json)
    if stored is None:
        print(f"{args.json} is missing or unreadable; run `python -m cmcore study` first.", file=sys.stderr)
        return 2
    return _write(Path(args.md), study_markdown(stored))


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m viz.reports", description="Markdown pages from the stored studies.")
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
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
