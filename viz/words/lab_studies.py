"""The stored lab studies in words (Parameterisations, Straight paths): the pages and bench/LAB_OT*.md state
each finding with the same function, computed from the study's numbers (pure: testable without Streamlit).

Every comparison goes through ``evaluate.compare``: a difference inside the noise is called
indistinguishable, never better or worse.
"""
from __future__ import annotations

from cmcore import datasets
from cmcore.evaluate import Score, compare
from cmcore.parameterisation import LESSON, Parameterisation
from viz.words.compare import says
from viz.words.english import plural

BOUNDARY_T = 1.0  # pure noise: where the two forms differ most on this flow


def coefficients_at_noise(param: Parameterisation, sigma_min: float, t: float = BOUNDARY_T) -> str:
    """How much of the noisy input each form keeps at t = 1, against the lesson's."""
    skip, out = float(param.c_skip(t, sigma_min)), float(param.c_out(t, sigma_min))
    skip_l, out_l = float(LESSON.c_skip(t, sigma_min)), float(LESSON.c_out(t, sigma_min))
    return (f"At t = {t:g} (pure noise) {param.name} passes c_skip = {skip:.3f} of the noisy input "
            f"straight through and scales the network by c_out = {out:.3f}; the lesson's form passes "
            f"{skip_l:.3f} and scales by {out_l:.3f}.")


def param_findings(scores: dict[Parameterisation, Score], floor: Score, init_w2: dict[Parameterisation, float],
                   steps: int, chosen: Parameterisation) -> list[str]:
    """What the short distillation runs show: the chosen form against the lesson's, the range over
    sigma_data, the distance to the floor and where each form started."""
    lesson = scores[LESSON]
    songs = {p: s for p, s in scores.items() if p.form == "song"}
    out = []
    if chosen != LESSON:
        c = compare(scores[chosen], lesson)
        out.append(f"After {steps} steps, {says(c, chosen.name, LESSON.name)}: "
                   f"one-step W2 {scores[chosen]} against {lesson}.")
    if songs:
        best = min(songs, key=lambda p: songs[p].mean)
        worst = max(songs, key=lambda p: songs[p].mean)
        spread = compare(songs[worst], songs[best])
        if best != worst:
            lo, hi = min(p.sigma_data for p in songs), max(p.sigma_data for p in songs)
            out.append(f"Across σ_data from {lo:g} to {hi:g}, the best setting was {best.sigma_data:g} "
                       f"(W2 {songs[best]}) and the worst {worst.sigma_data:g} (W2 {songs[worst]}): "
                       + ("σ_data matters here." if not spread.same else
                          "inside the noise, so σ_data made no measurable difference on runs this short."))
        vs = compare(songs[best], lesson)
        out.append(f"Best σ_data against the lesson: {says(vs, best.name, LESSON.name)}.")
    best_all = min(scores, key=lambda p: scores[p].mean)
    above = compare(scores[best_all], floor)
    out.append(f"The lowest mean (W2 {scores[best_all]}, {best_all.name}) is "
               + (f"{scores[best_all].mean - floor.mean:.3f} above the floor of {floor} (two real samples), so "
                  f"{steps} steps leave room to improve." if above.higher else
                  f"indistinguishable from the floor of {floor}: as good as a real sample."))
    if LESSON in init_w2 and chosen in init_w2 and chosen != LESSON:
        out.append(f"Before any training {LESSON.name} scored W2 {init_w2[LESSON]:.3f} and {chosen.name} "
                   f"{init_w2[chosen]:.3f}, from the same starting weights.")
    return out


def ot_findings(study) -> list[str]:
    """What the two couplings' W2 tables say about when consistency distillation pays off (``lab_train.OTStudy``)."""
    ind, ot = study.couplings["independent"].table, study.couplings["minibatch_ot"].table
    out = []
    c = compare(ot.teacher[1], ind.teacher[1])
    out.append(f"One Euler step of the OT teacher scores W2 {ot.teacher[1]} against {ind.teacher[1]} for the "
               f"independent teacher: {says(c, 'the OT teacher', 'the independent teacher')}.")
    s_ind, s_ot = study.couplings["independent"].straightness, study.couplings["minibatch_ot"].straightness
    out.append(f"Its paths are {'straighter' if s_ot < s_ind else 'no straighter'}: one Euler step lands on "
               f"average {s_ot:.3f} from the 200-step endpoint, against {s_ind:.3f} for the independent teacher.")
    c = compare(ind.consistency[1], ot.teacher[1])
    out.append(f"At one network call, the consistency model distilled from the independent teacher scores "
               f"{ind.consistency[1]}; the OT teacher's plain Euler step scores {ot.teacher[1]}: "
               f"{says(c, 'the distilled model', 'the OT teacher')}.")
    gain = compare(ot.consistency[1], ot.teacher[1])
    out.append("Distilling the OT teacher " + ("still pays off at one step" if gain.lower else
                                               "does not pay off at one step" if gain.higher else
                                               "makes no measurable difference at one step")
               + f": its consistency model scores {ot.consistency[1]} against the teacher's {ot.teacher[1]} "
               f"({says(gain, 'the consistency model', 'the OT teacher')}).")
    match = next((k for k in sorted(ot.teacher) if not compare(ot.teacher[k], ot.consistency[1]).higher), None)
    if match is None:
        out.append(f"None of the OT teacher's step counts up to {max(ot.teacher)} reached its consistency model's "
                   f"one-step W2 {ot.consistency[1]}.")
    elif match == 1:
        out.append("The OT teacher's single Euler step is already as good as its consistency model's single step, "
                   "so distillation saves no network calls here.")
    else:
        out.append(f"The OT teacher needs {plural(match, 'Euler step')} (W2 {ot.teacher[match]}) to match its "
                   f"consistency model's single step ({ot.consistency[1]}): distillation saves "
                   f"{plural(match - 1, 'network call')} per sample.")
    ind_match = next((k for k in sorted(ind.teacher) if not compare(ind.teacher[k], ind.consistency[1]).higher), None)
    out.append("For the independent teacher the same saving is "
               + (f"{ind_match - 1} calls (it needs {plural(ind_match, 'Euler step')}, W2 {ind.teacher[ind_match]})."
                  if ind_match and ind_match > 1 else
                  f"more than {max(ind.teacher) - 1} calls (even {plural(max(ind.teacher), 'Euler step')} score "
                  f"{ind.teacher[max(ind.teacher)]})." if ind_match is None else "none."))
    more = max(k for k in ot.consistency)
    if more > 1:
        m = compare(ot.consistency[more], ot.consistency[1])
        ref = compare(ind.consistency[more], ind.consistency[1])
        out.append(f"With {more} consistency steps instead of 1, the OT teacher's consistency model scores "
                   f"{ot.consistency[more]} against {ot.consistency[1]} ("
                   + ("better" if m.lower else "worse" if m.higher else "no measurable change")
                   + f"); the independent teacher's goes from {ind.consistency[1]} to {ind.consistency[more]} ("
                   + ("better" if ref.lower else "worse" if ref.higher else "no measurable change") + ")."
                   + (" Multi-step sampling re-noises with fresh, independent noise, x_τ = (1 − τ) x̂₀ + τ z, "
                      "and "
                      "distillation also builds its inputs from independent noise; an OT-coupled teacher was "
                      "trained on paired points, whose in-between distributions are not the ones these inputs "
                      "come from." if m.higher and not ref.higher else ""))
    best_name, best = min(((f"{k}-step OT teacher", s) for k, s in ot.teacher.items()), key=lambda p: p[1].mean)
    above = compare(best, study.floor)
    out.append(f"The best OT score, the {best_name} ({best}), is "
               + (f"{best.mean - study.floor.mean:.3f} above the floor of {study.floor} (two real samples)."
                  if above.higher else f"indistinguishable from the floor of {study.floor}."))
    return out


def pairing_findings(study) -> list[str]:
    """The engineering side: what the exact pairing costs and what the cheaper blocks give up."""
    ot = study.couplings["minibatch_ot"]
    out = []
    if ot.train_seconds:
        out.append(f"Training the OT teacher took {ot.train_seconds:.0f} s, of which the exact pairing took "
                   f"{ot.pairing_seconds:.0f} s ({ot.pairing_seconds / ot.train_seconds:.0%}).")
    exact = {s: study.pairing_ms(512, s) for s in ("scipy", "pot")}
    if all(exact.values()):
        fast = min(exact, key=exact.get)
        out.append(f"One exact 512 × 512 assignment takes {exact['scipy']:.1f} ms with scipy's linear_sum_assignment "
                   f"and {exact['pot']:.1f} ms with POT's network simplex; {fast} is the faster here.")
    blocks = study.pairing_ms(512, min(exact, key=exact.get) if all(exact.values()) else "pot", 4)
    if blocks and all(exact.values()):
        out.append(f"Four exact 128 × 128 assignments instead take {blocks:.1f} ms "
                   f"({min(exact.values()) / blocks:.0f}× cheaper).")
    if "minibatch_ot_blocks" in study.couplings:
        bl = study.couplings["minibatch_ot_blocks"].table.teacher
        c = compare(bl[1], ot.table.teacher[1])
        out.append(f"A teacher trained with the 4-block pairing scores {bl[1]} at one Euler step against "
                   f"{ot.table.teacher[1]} for the exact pairing: {says(c, 'the 4-block teacher', 'the exact one')}.")
    out.append(f"Pairing shrinks the mean squared distance between a data point and its noise to "
               f"{study.pairing_gain:.0%} of what independent draws give (one batch of 512).")
    return out


def start_finding(param: Parameterisation, from_teacher: Score, at_random: Score, steps: int) -> str:
    """Where the network starts, for one form: the shipped recipe's teacher start against a random one."""
    c = compare(from_teacher, at_random)
    return (f"For {param.name}, {steps} steps from the teacher's weights give W2 {from_teacher} and {steps} steps "
            f"from random weights {at_random}: {says(c, 'starting from the teacher', 'starting at random')}.")


def study_fallback(current: str, shown: str, command: str) -> str:
    """Why a lab page shows the stored study of ``shown`` while the sidebar has chosen ``current``
    (``command``: what writes a study for a registry dataset)."""
    if datasets.is_upload(current):
        why = "studies are measured offline (minutes of training per study) on the built-in datasets, and an upload has none"
    else:
        why = f"no study is stored for {datasets.noun(current)} yet"
    return (f"This page shows the stored study on **{datasets.noun(shown)}**, not on {datasets.noun(current)}, the "
            f"data chosen in the sidebar: {why}. Its numbers and sentences are about {datasets.noun(shown)}.")
