"""Command line: python -m cmcore {train,eval,bench}."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cmcore.__main__ as cli
from cmcore import zoo
from cmcore.evaluate import lesson_claims

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None, timeout=120):
    full_env = {k: v for k, v in os.environ.items() if k != zoo.CHECKPOINT_DIR_ENV}  # the repo's checkpoints
    full_env.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


@pytest.mark.parametrize("argv,expect", [
    ([], ["train", "eval", "bench"]),
    (["train"], ["--recipe", "--out"]),
    (["eval"], ["--recipe"]),
    (["bench"], ["--out", "--threads"]),
])
def test_help_exits_zero(argv, expect):
    res = run("-m", "cmcore", *argv, "--help")
    assert res.returncode == 0, res.stderr
    assert "usage:" in res.stdout
    for word in expect:
        assert word in res.stdout


def test_bad_arguments_exit_nonzero():
    assert run("-m", "cmcore").returncode == 2  # a subcommand is required
    res = run("-m", "cmcore", "eval", "--recipe", "nope")
    assert res.returncode == 2 and "nope" in res.stderr


def test_eval_with_missing_checkpoints_exits_2_naming_the_file(tmp_path):
    res = run("-m", "cmcore", "eval", "--recipe", "ours", env={zoo.CHECKPOINT_DIR_ENV: str(tmp_path)})
    assert res.returncode == 2
    assert str(zoo.teacher_path(zoo.DEFAULT.teacher, tmp_path)) in res.stderr


def test_eval_ours_prints_the_table_and_every_claim(shipped_ours, monkeypatch, capsys):
    """`eval --recipe ours` in process, reusing the session's default-spec table (same models, same numbers)."""
    calls = []

    def cached_table(teacher, cm, dataset, with_floor=False, **kwargs):
        calls.append((dataset, with_floor, kwargs))
        assert type(teacher) is type(shipped_ours["teacher"]) and type(cm) is type(shipped_ours["cm"])
        return shipped_ours["table"]

    monkeypatch.setattr(cli, "quality_table", cached_table)
    assert cli.main(["eval", "--recipe", "ours"]) == 0
    assert calls == [("two_moons", True, {})]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"[ours] W2 floor {shipped_ours['table'].floor:.3f}"
    assert sum("NFE" in line and "W2" in line for line in out) == 9
    claims = lesson_claims(shipped_ours["table"], shipped_ours["self_consistency"])
    claim_lines = [line for line in out if line.strip().startswith("[") and "NFE" not in line][1:]
    assert claim_lines == [f"  [holds] {cl.text} ({cl.evidence})" for cl in claims]


def test_python_m_cmcore_eval_ours_exits_zero_and_prints_claim_lines():
    """The real entry point end to end, with a smaller EvalSpec so the subprocess is quick."""
    code = (
        "import functools, runpy, sys\n"
        "import cmcore.evaluate as ev\n"
        "ev.quality_table = functools.partial(ev.quality_table, spec=ev.EvalSpec(n=300, seeds=(0,)))\n"
        "sys.argv = ['cmcore', 'eval', '--recipe', 'ours']\n"
        "runpy.run_module('cmcore', run_name='__main__', alter_sys=True)\n"
    )
    res = run("-c", code, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("[ours] W2 floor ")
    texts = ["Re-solving the ODE", "One Euler step from noise", "1-step samples beat the teacher",
             "One consistency step is better", "2 consistency steps come close", "Beyond 4 consistency steps"]
    for text in texts:
        matching = [line for line in lines if text in line]
        assert len(matching) == 1, (text, res.stdout)
        assert matching[0].lstrip().startswith(("[holds]", "[DOES NOT HOLD]"))
