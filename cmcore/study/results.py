"""What the study measured: teachers, runs, findings per claim and the collapse rows (plain dataclasses)."""
from __future__ import annotations

from dataclasses import dataclass

from ..collapse import is_collapsed
from ..config import ConsistencyConfig
from ..evaluate import FAILS, HOLDS, UNDECIDED, EvalSpec, Score


@dataclass(frozen=True)
class TeacherResult:
    w2: dict[int, Score]  # Euler ODE, keyed by steps
    self_consistency: float  # mean re-solved endpoint distance (bench.self_consistency_mean)
    one_step_spread: Score  # spread of the single Euler step, for comparison with a collapsed CM


@dataclass(frozen=True)
class Run:
    key: str
    teacher: str
    cfg: ConsistencyConfig
    change: str
    detail: str
    seconds: float  # distillation wall time on the machine named in the study
    w2: dict[int, Score]  # consistency model at 1, 2, 4, 8 steps
    spread: Score  # spread of its one-step samples
    claims: dict[str, str]  # lesson_claims key -> status, judged against its own teacher


@dataclass(frozen=True)
class ClaimFinding:
    """What the one-change runs say about one claim that fails (or is undecided) on the lesson's recipe."""

    key: str
    text: str
    lesson_status: str
    ours_status: str
    fixed_by: tuple[str, ...]  # changes that alone make it hold on the lesson's recipe
    fix_undecided: tuple[str, ...]  # ... after which it is indistinguishable at this sample size
    broken_by: tuple[str, ...]  # reverts that alone make it fail on ours (only when it holds on ours)
    break_undecided: tuple[str, ...]


@dataclass(frozen=True)
class CollapseRow:
    label: str
    mu: float
    init: bool
    teacher: str
    w2_1: Score
    teacher_1: Score  # the teacher's single Euler step
    spread: Score
    spread_fraction: float  # spread.mean / data spread.mean
    collapsed: bool


@dataclass
class Study:
    spec: EvalSpec
    quick: bool
    command: str
    machine: str
    total_seconds: float
    floor: Score
    data_spread: Score
    collapse_fraction: float
    claim_texts: dict[str, str]
    teachers: dict[str, TeacherResult]
    runs: dict[str, Run]
    # 'fix' / 'break' / 'collapse' -> [(run key, label)]; the first of 'fix' and 'break' is the base recipe
    groups: dict[str, list[tuple[str, str]]]

    def group(self, name: str) -> list[tuple[str, Run]]:
        return [(label, self.runs[k]) for k, label in self.groups[name]]

    def findings(self) -> list[ClaimFinding]:
        fix, brk = [r for _, r in self.group("fix")], [r for _, r in self.group("break")]
        return claim_findings(self.claim_texts, fix[0].claims, [(r.change, r.claims) for r in fix[1:]],
                              brk[0].claims, [(r.change, r.claims) for r in brk[1:]])

    def collapse_rows(self) -> list[CollapseRow]:
        return [collapse_row(label, r, self.teachers[r.teacher].w2[1], self.data_spread, self.collapse_fraction)
                for label, r in self.group("collapse")]


def collapse_row(label: str, run: Run, teacher_1: Score, data_spread: Score, fraction: float) -> CollapseRow:
    return CollapseRow(label, run.cfg.ema_mu, run.cfg.init_from_teacher, run.teacher, run.w2[1], teacher_1,
                       run.spread, run.spread.mean / data_spread.mean,
                       is_collapsed(run.spread, data_spread, run.w2[1], teacher_1, fraction))


def claim_findings(texts: dict[str, str], lesson: dict[str, str], fixes: list[tuple[str, dict[str, str]]],
                   ours: dict[str, str], reverts: list[tuple[str, dict[str, str]]]) -> list[ClaimFinding]:
    """Per claim that fails or is undecided on the lesson's recipe: the single changes that make it hold there,
    and the single reverts that make it fail on ours.  Inside the noise counts as neither."""
    out = []
    for key, text in texts.items():
        if lesson.get(key) not in (FAILS, UNDECIDED):
            continue
        holds_on_ours = ours.get(key) == HOLDS
        out.append(ClaimFinding(
            key, text, lesson[key], ours.get(key, ""),
            tuple(c for c, st in fixes if st.get(key) == HOLDS),
            tuple(c for c, st in fixes if st.get(key) == UNDECIDED),
            tuple(c for c, st in reverts if st.get(key) == FAILS) if holds_on_ours else (),
            tuple(c for c, st in reverts if st.get(key) == UNDECIDED) if holds_on_ours else ()))
    return out
