"""The one-change study: registry invariants, its words (viz.words.study) from synthetic numbers, the loader, a
quick run end to end (the engine stores it, ``viz.reports`` writes its Markdown)."""
import dataclasses
import json

import pytest

from cmcore import study
from cmcore.config import LESSON_CONSISTENCY
from cmcore.evaluate import CM_STEPS, FAILS, HOLDS, UNDECIDED, Score
from cmcore.presets import OURS, PRESETS
from viz.reports import main as reports_main
from viz.words.study import collapse_statement, finding_text

CLAIM = "cm_beats_teacher_one_step"
TEXTS = {CLAIM: "The consistency model's 1-step samples beat the teacher's 1-step ODE."}


# --- The registry of changes -----------------------------------------------------

def test_changes_cover_every_difference_between_the_recipes():
    differ = {f.name for f in dataclasses.fields(OURS) if getattr(OURS, f.name) != getattr(LESSON_CONSISTENCY, f.name)}
    covered = {f for ch in study.CHANGES for f in ch.fields} | set(study.KEPT_WITH_BASE)
    assert covered == differ
    assert sum(ch.teacher for ch in study.CHANGES) == 1


def test_each_variant_moves_exactly_its_change():
    groups = study.plans()
    for group, base_name in (("fix", "lesson"), ("break", "ours")):
        base, variants = groups[group][0], groups[group][1:]
        assert [v.change for v in variants] == [ch.name for ch in study.CHANGES]
        for ch, v in zip(study.CHANGES, variants):
            moved = {f.name for f in dataclasses.fields(v.cfg) if getattr(v.cfg, f.name) != getattr(base.cfg, f.name)}
            assert moved == set(ch.fields)
            assert (v.teacher != base.teacher) == ch.teacher
            assert v.detail  # says what moved


def test_plans_reuse_preset_keys_and_threads_are_recorded():
    groups = study.plans(threads=3)
    keys = {p.key for ps in groups.values() for p in ps}
    assert {"ours", "lesson", "ours_mu0999", "ours_noinit", "ours_mu0", "ours_mu0999_noinit", "ours_euler",
            "ours_l2", "ours_20levels", "ours_constant_lr"} <= keys
    assert all(p.cfg.threads == 3 for ps in groups.values() for p in ps)
    for ps in groups.values():  # one key per setting
        by_key = {}
        for p in ps:
            assert by_key.setdefault(p.key, (p.teacher, dataclasses.replace(p.cfg, threads=2))) == \
                (p.teacher, dataclasses.replace(p.cfg, threads=2))
    collapse = groups["collapse"]
    assert {(p.cfg.ema_mu, p.cfg.init_from_teacher) for p in collapse if p.teacher == "ours"} == \
        {(mu, init) for mu in study.COLLAPSE_MUS for init in (True, False)}
    lesson = [p for p in collapse if p.teacher == "lesson"]
    assert len(lesson) == 1 and dataclasses.replace(lesson[0].cfg, threads=LESSON_CONSISTENCY.threads) == \
        LESSON_CONSISTENCY and lesson[0].key == PRESETS["lesson"].key


# --- Words, from synthetic statuses and scores --------------------------------------

def _find(lesson, fixes, ours=HOLDS, reverts=()):
    (f,) = study.claim_findings(TEXTS, {CLAIM: lesson}, [(c, {CLAIM: s}) for c, s in fixes],
                                {CLAIM: ours}, [(c, {CLAIM: s}) for c, s in reverts])
    return f


def test_a_change_that_flips_the_claim_to_holds_is_named():
    f = _find(FAILS, [("init from the teacher", HOLDS), ("12 levels", FAILS)],
              reverts=[("init from the teacher", FAILS), ("12 levels", HOLDS)])
    assert f.fixed_by == ("init from the teacher",) and f.broken_by == ("init from the teacher",)
    assert "Adding init from the teacher alone makes it hold" in finding_text(f)
    assert "reverting init from the teacher alone breaks it" in finding_text(f)
    assert "both enough on the lesson's recipe and needed in ours" in finding_text(f)
    assert "12 levels" not in finding_text(f)


def test_undecided_outcomes_are_called_indistinguishable_not_fixes():
    f = _find(FAILS, [("EMA μ 0.95", UNDECIDED), ("12 levels", FAILS)], reverts=[("EMA μ 0.95", UNDECIDED)])
    assert f.fixed_by == () and f.broken_by == ()
    assert f.fix_undecided == ("EMA μ 0.95",) and f.break_undecided == ("EMA μ 0.95",)
    assert "No single one of our changes makes it hold" in finding_text(f)
    assert finding_text(f).count("indistinguishable at this sample size") == 2
    assert "no single revert breaks it" in finding_text(f)


def test_several_fixes_and_a_claim_that_holds_nowhere():
    f = _find(FAILS, [("a", HOLDS), ("b", HOLDS), ("c", HOLDS)])
    assert "Each of a, b and c alone makes it hold" in finding_text(f)
    g = _find(FAILS, [("a", FAILS)], ours=FAILS, reverts=[("a", FAILS)])
    assert g.broken_by == () and "On our recipe it does not hold either" in finding_text(g)


def test_claims_that_hold_on_the_lesson_recipe_are_not_reported():
    assert study.claim_findings(TEXTS, {CLAIM: HOLDS}, [], {CLAIM: HOLDS}, []) == []


def _s(*values):
    return Score(tuple(values), 2000)


def test_collapse_needs_both_a_small_spread_and_no_gain_over_one_euler_step():
    data, teacher_1 = _s(2.0, 2.01, 1.99), _s(1.95, 1.96, 1.94)
    assert study.is_collapsed(_s(0.01, 0.011, 0.012), data, _s(2.0, 2.01, 1.99), teacher_1)
    assert not study.is_collapsed(_s(0.01, 0.011, 0.012), data, _s(0.5, 0.51, 0.49), teacher_1)  # small but good
    assert not study.is_collapsed(_s(1.5, 1.5, 1.51), data, _s(2.5, 2.5, 2.51), teacher_1)  # bad but spread out


def _row(mu, init, collapsed):
    return study.CollapseRow(study.mu_label(mu, init), mu, init, "ours", _s(1.0), _s(1.0), _s(1.0), 0.5, collapsed)


def test_collapse_statement_follows_the_measurements():
    measured = [_row(0.0, True, False), _row(0.0, False, False), _row(0.999, True, False), _row(0.999, False, True)]
    text = collapse_statement(measured)
    assert "Without any target, μ = 0 with teacher init and μ = 0 with random init did not collapse" in text
    assert "With a target, μ = 0.999 with random init collapsed" in text and "does not hold in general" in text
    assert "Initialised from the teacher, no run collapsed" in text
    assert "From random weights, μ = 0.999 with random init collapsed and μ = 0 with random init did not" in text
    assert "no run initialised from the teacher collapsed" in text and "can help" not in text
    agrees = collapse_statement([_row(0.0, True, True), _row(0.0, False, True), _row(0.95, True, False)])
    assert "agree with the claim" in agrees and "does not hold" not in agrees
    assert "a target avoided it (μ = 0.95 with teacher init): the target can help" in agrees
    assert "do not test the claim" in collapse_statement([_row(0.95, True, False)])


# --- The loader ----------------------------------------------------------------------

@pytest.mark.parametrize("content", [None, "", "{not json", "[]", '{"format": "other"}',
                                     '{"format": "cmcore-study/1", "spec": {"n": 10}}'])
def test_load_returns_none_for_a_missing_or_damaged_file(tmp_path, content):
    path = tmp_path / "study.json"
    if content is not None:
        path.write_text(content)
    assert study.load(path) is None


# --- End to end: --quick on a tiny spec ----------------------------------------------

@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    from cmcore.__main__ import main
    assert main(["study", "--quick", "--out-json", str(out / "s.json")]) == 0
    assert reports_main(["study", "--json", str(out / "s.json"), "--md", str(out / "S.md")]) == 0
    return out


def test_quick_run_writes_a_study_the_loader_reads(quick):
    s = study.load(quick / "s.json")
    assert s is not None and s.quick and s.spec == study.QUICK_SPEC
    assert len(s.group("fix")) == len(s.group("break")) == len(study.CHANGES) + 1
    assert len(s.group("collapse")) == 2 * len(study.COLLAPSE_MUS) + 1
    for _, r in s.group("fix") + s.group("break") + s.group("collapse"):
        assert set(r.w2) == set(CM_STEPS) and len(r.spread.values) == len(s.spec.seeds)
        assert r.seconds > 0 and r.cfg.steps <= 12 and r.claims
    assert [r.change for _, r in s.group("fix")[1:]] == [ch.name for ch in study.CHANGES]
    assert set(s.teachers) == {"ours", "lesson"}
    assert len(s.collapse_rows()) == len(s.group("collapse")) and collapse_statement(s.collapse_rows())
    assert all(f.lesson_status in (FAILS, UNDECIDED) for f in s.findings())
    # The stored numbers survive a round trip unchanged.
    assert study.to_json(study.from_json(json.loads((quick / "s.json").read_text()))) == \
        json.loads((quick / "s.json").read_text())


def test_quick_run_writes_the_generated_markdown(quick):
    md = (quick / "S.md").read_text()
    assert "do not edit by hand" in md and "`python -m cmcore study --quick`" in md
    assert "Quick mode" in md and "## Claim (f)" in md and "`python -m viz.reports study`" in md
    s = study.load(quick / "s.json")  # each finding in the words of the page (viz.words.study), not its own
    assert all(f"**({chr(97 + i)}) {f.text}** {finding_text(f)}" in md for i, f in enumerate(s.findings()))
    assert collapse_statement(s.collapse_rows()) in md
