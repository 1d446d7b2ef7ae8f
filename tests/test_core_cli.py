"""Command line: python -m cmcore {train,eval,bench}, and python -m viz.reports claims.

The subprocesses (each imports torch) are started together once and awaited by the tests that
read them, so their start-up costs overlap with each other and with the session's W2 table.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cmcore.__main__ as cli
from cmcore import zoo
from cmcore.evaluate import SHIPPED_EVAL_SEEDS, EvalSpec, lesson_claims
from viz import reports
from viz.words.claims import evidence

ROOT = Path(__file__).resolve().parents[1]

# The real entry point end to end for `eval --recipe ours --seeds 2`, with fewer points so it is quick.
EVAL_SMALL = (
    "import functools, runpy, sys\n"
    "import cmcore.evaluate as ev\n"
    "import cmcore.__main__ as cli\n"
    "cli.EvalSpec = functools.partial(ev.EvalSpec, 300)\n"
    "sys.argv = ['cmcore', 'eval', '--recipe', 'ours', '--seeds', '2']\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)
COMMANDS = {
    "help": ["-m", "cmcore", "--help"],
    "train": ["-m", "cmcore", "train", "--help"],
    "eval": ["-m", "cmcore", "eval", "--help"],
    "bench": ["-m", "cmcore", "bench", "--help"],
    "eval_small": ["-c", EVAL_SMALL],
}
CLAIM_TEXTS = ["Re-solving the ODE", "One Euler step from noise", "1-step samples beat the teacher",
               "One consistency step is better", "2 consistency steps are as good", "Beyond 4 consistency steps"]
STATUS_TAGS = ("[HOLDS]", "[DOES NOT HOLD]", "[UNDECIDED]", "[NOT APPLICABLE]")


class Runs:
    """The module's subprocesses, all started at once; ``[name]`` waits for one and returns (rc, out, err)."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if k != zoo.CHECKPOINT_DIR_ENV}  # the repo's checkpoints
        self.procs = {name: subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                      for name, args in COMMANDS.items()}
        self.results = {}

    def __getitem__(self, name):
        if name not in self.results:
            out, err = self.procs[name].communicate(timeout=300)
            self.results[name] = (self.procs[name].returncode, out, err)
        return self.results[name]

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="session")  # session, like shipped_ours, so it starts first and overlaps with it
def runs():
    r = Runs()
    yield r
    r.close()


def test_eval_ours_prints_the_table_and_every_claim(runs, shipped_ours, monkeypatch, capsys):
    """`eval --recipe ours` in process at the shipped tables' seeds (0..19), reusing the stored table."""
    calls = []

    def stored_table(teacher, cm, dataset, spec=None, **kwargs):
        calls.append((dataset, spec))
        return shipped_ours["table"]

    monkeypatch.delenv(zoo.CHECKPOINT_DIR_ENV, raising=False)
    monkeypatch.setattr(cli, "quality_table", stored_table)
    assert cli.main(["eval", "--recipe", "ours"]) == 0
    spec = EvalSpec(seeds=tuple(range(SHIPPED_EVAL_SEEDS)))
    assert calls == [("two_moons", spec)]
    printed = capsys.readouterr()
    assert "python -m viz.reports claims" in printed.err  # where the evidence is
    out = printed.out.splitlines()
    assert out[0] == (f"[ours] W2 over {spec.describe()}, mean ± standard error; "
                      f"floor {shipped_ours['table'].floor}")
    assert sum("NFE" in line and "W2" in line and "±" in line for line in out) == 9
    claims = lesson_claims(shipped_ours["table"], shipped_ours["self_consistency"])
    assert out[-len(claims):] == [f"  [{cl.status.upper()}] {cl.text}" for cl in claims]  # the engine: no evidence


def test_reports_claims_prints_every_claim_with_its_evidence(shipped_ours, monkeypatch, capsys):
    """`python -m viz.reports claims --recipe ours`: each claim judged on the stored table, with the sentence
    the pages show beside it (``viz.words.claims.evidence``)."""
    monkeypatch.delenv(zoo.CHECKPOINT_DIR_ENV, raising=False)
    monkeypatch.setattr(reports.zoo, "load_quality", lambda *a, **k: shipped_ours["table"])
    monkeypatch.setattr(reports.bench, "self_consistency_mean", lambda teacher: shipped_ours["self_consistency"])
    assert reports.main(["claims", "--recipe", "ours"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"[ours/two_moons] W2 over {EvalSpec(seeds=tuple(range(SHIPPED_EVAL_SEEDS))).describe()}; "
                      f"floor {shipped_ours['table'].floor}")
    claims = lesson_claims(shipped_ours["table"], shipped_ours["self_consistency"])
    assert out[1:] == [f"  [{cl.status.upper()}] {cl.text} ({evidence(cl)})" for cl in claims]
    assert all(str(m.score) in line for cl, line in zip(claims, out[1:]) for m in cl.measured)  # its numbers


@pytest.mark.parametrize("name,expect", [
    ("help", ["train", "eval", "bench"]),
    ("train", ["--recipe", "--out"]),
    ("eval", ["--recipe"]),
    ("bench", ["--out-json", "--threads"]),
])
def test_help_exits_zero(runs, name, expect):
    rc, out, err = runs[name]
    assert rc == 0, err
    assert "usage:" in out
    for word in expect:
        assert word in out


def test_python_m_cmcore_eval_ours_exits_zero_and_prints_claim_lines(runs):
    rc, out, err = runs["eval_small"]
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("[ours] W2 over 300 points, seeds 0-1")
    assert sum("NFE" in line and "W2" in line for line in lines) == 9
    for text in CLAIM_TEXTS:
        matching = [line for line in lines if text in line]
        assert len(matching) == 1, (text, out)
        assert matching[0].lstrip().startswith(STATUS_TAGS)


def test_bad_arguments_exit_with_usage_error(capsys):
    for argv in ([], ["eval", "--recipe", "nope"], ["train", "--recipe", "nope"], ["eval", "--seeds", "0"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err and "need at least one seed; got 0" in err


def test_eval_with_missing_checkpoints_returns_2_naming_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(zoo.CHECKPOINT_DIR_ENV, str(tmp_path))
    assert cli.main(["eval", "--recipe", "ours"]) == 2
    err = capsys.readouterr().err
    assert str(zoo.teacher_path(zoo.DEFAULT.teacher, tmp_path)) in err and "not found" in err
