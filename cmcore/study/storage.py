"""The stored study: ``checkpoints/study.json`` written atomically and read back by ``load`` (None if unusable)."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import ConsistencyConfig, from_dict, to_dict
from ..evaluate import EvalSpec, Score
from ..files import atomic_write
from .results import Run, Study, TeacherResult

FORMAT = "cmcore-study/1"
DEFAULT_JSON = Path("checkpoints/study.json")


def _scores(d: dict[int, Score]) -> dict[str, list[float]]:
    return {str(k): list(v.values) for k, v in d.items()}


def _unscores(d: dict, n: int) -> dict[int, Score]:
    return {int(k): Score(tuple(float(x) for x in v), n) for k, v in d.items()}


def to_json(study: Study) -> dict:
    return {
        "format": FORMAT, "command": study.command, "quick": study.quick, "machine": study.machine,
        "total_seconds": round(study.total_seconds, 1),
        "spec": {"n": study.spec.n, "seeds": list(study.spec.seeds)},
        "floor": list(study.floor.values), "data_spread": list(study.data_spread.values),
        "collapse_fraction": study.collapse_fraction, "claim_texts": study.claim_texts,
        "teachers": {k: {"w2": _scores(t.w2), "self_consistency": t.self_consistency,
                         "one_step_spread": list(t.one_step_spread.values)} for k, t in study.teachers.items()},
        "runs": {k: {"teacher": r.teacher, "config": to_dict(r.cfg), "change": r.change,
                     "detail": r.detail, "seconds": round(r.seconds, 2), "w2": _scores(r.w2),
                     "spread": list(r.spread.values), "claims": r.claims} for k, r in study.runs.items()},
        "groups": {g: [[k, label] for k, label in entries] for g, entries in study.groups.items()},
    }


def from_json(d: dict) -> Study:
    if d.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    spec = EvalSpec(int(d["spec"]["n"]), tuple(int(s) for s in d["spec"]["seeds"]))
    n = spec.n
    sc = lambda v: Score(tuple(float(x) for x in v), n)  # noqa: E731
    teachers = {k: TeacherResult(_unscores(t["w2"], n), float(t["self_consistency"]), sc(t["one_step_spread"]))
                for k, t in d["teachers"].items()}
    runs = {k: Run(k, str(r["teacher"]), from_dict(ConsistencyConfig, r["config"]), str(r["change"]),
                   str(r["detail"]), float(r["seconds"]), _unscores(r["w2"], n), sc(r["spread"]),
                   {str(a): str(b) for a, b in r["claims"].items()}) for k, r in d["runs"].items()}
    groups = {g: [(str(k), str(label)) for k, label in entries] for g, entries in d["groups"].items()}
    for g in ("fix", "break", "collapse"):
        if not groups.get(g) or any(k not in runs for k, _ in groups[g]):
            raise ValueError(f"group {g!r} is missing or names unknown runs")
    if any(r.teacher not in teachers or 1 not in r.w2 for r in runs.values()):
        raise ValueError("a run names an unknown teacher or lacks its 1-step W2")
    return Study(spec, bool(d["quick"]), str(d["command"]), str(d["machine"]), float(d["total_seconds"]),
                 sc(d["floor"]), sc(d["data_spread"]), float(d["collapse_fraction"]),
                 {str(k): str(v) for k, v in d["claim_texts"].items()}, teachers, runs, groups)


def load(path: str | Path = DEFAULT_JSON) -> Study | None:
    """The stored study, or None when the file is missing, damaged or of another format."""
    try:
        return from_json(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def save(study: Study, path: str | Path) -> Path:
    return atomic_write(path, json.dumps(to_json(study), indent=1, ensure_ascii=False) + "\n")
