"""The app's vocabulary: one entry per term, read by every tooltip, the Glossary page and the floor's labels.

Each ``Term`` has the word as the pages write it, a one-line tooltip (a widget's or metric's
``help=``) and a longer explanation (the Glossary page).  Pages never phrase a definition
themselves: they call ``tip(key)``.  No Streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass

from cmcore.config import SIGMA_MAX, SIGMA_MIN


@dataclass(frozen=True)
class Term:
    term: str  # as the pages write it
    tip: str  # one line: a tooltip
    explanation: str  # a paragraph: the Glossary page

TERMS: dict[str, Term] = {t_key: t for t_key, t in (
    ("teacher", Term(
        "teacher",
        "The flow-matching model the consistency model learns from: it predicts a velocity and is sampled by "
        "solving an ODE in many small steps.",
        "A network v(x_t, t) trained by flow matching to give the direction from noise towards data at every point "
        "x_t and time t. Following that direction with an ODE solver, from pure noise at t = 1 to t = 0, turns noise "
        "into a sample; an accurate solve needs many steps, one network call each. The consistency model is "
        "distilled from the teacher's ODE paths.")),
    ("ode", Term(
        "ODE path (trajectory)",
        "The path a noise point follows when the teacher's velocity is integrated from t = 1 to t = 0; it is "
        "deterministic, so each path has one endpoint.",
        "The teacher defines an ordinary differential equation dx/dt = v(x, t). Starting from a noise point at t = 1 "
        "and integrating down to t = 0 traces a path that ends at a sample. The same start always gives the same "
        "path, so every point of one path shares its endpoint: the self-consistency property.")),
    ("self_consistency", Term(
        "self-consistency",
        "Every point of one ODE path has the same endpoint, so a function that maps any point to that endpoint "
        "gives the same answer all along the path.",
        "Because the ODE is deterministic, re-solving it from any point of a path lands where the whole path lands "
        "(up to the solver's own error). A consistency model is trained to have this property itself: f(x_t, t) "
        "returns the same point for every (x_t, t) on one path, which is the endpoint.")),
    ("euler", Term(
        "Euler step",
        "One straight step along the teacher's velocity: x ← x − Δt · v(x, t). One network call; exact only if the "
        "path is straight.",
        "The simplest ODE solver: read the velocity where you stand and move along it for the whole step. Many small "
        "Euler steps follow a curved path closely; one big step from noise to data misses by as much as the path "
        "curves. The lesson's teacher is sampled with Euler steps.")),
    ("heun", Term(
        "Heun step",
        "An Euler step corrected by the velocity at its end point (the average of both): two network calls, "
        "much smaller error on a curved path.",
        "A second-order ODE solver: take an Euler step, read the velocity where it lands, and redo the step with "
        "the average of the two velocities. It costs two network calls per step and its error shrinks with the "
        "square of the step size. Our recipe lets the teacher take its one step between neighbouring levels with "
        "Heun rather than Euler.")),
    ("nfe", Term(
        "NFE",
        "Number of function (network) evaluations: the cost of one sample. A k-step Euler solve is k NFE, a "
        "k-step consistency sample k NFE.",
        "How many times the network is called to make one sample: the fair measure of sampling cost. The teacher's "
        "50-step Euler ODE costs 50 NFE; one consistency step costs 1. Comparing samplers at equal NFE is what "
        "shows what consistency training buys.")),
    ("consistency_model", Term(
        "consistency model",
        "A network f_θ(x_t, t) trained to output the endpoint of the ODE path through x_t directly, so one call "
        "turns noise into a sample.",
        "Instead of a direction to step along, the consistency model returns where the path ends: "
        "f_θ(x_t, t) ≈ x̂₀. One call from pure noise gives a sample; a few calls (jump, re-noise, jump again) "
        "trade compute for quality. It has the same network size as the teacher; only the training objective "
        "differs.")),
    ("distillation", Term(
        "consistency distillation",
        "Training a consistency model from a teacher: the teacher takes one ODE step between neighbouring noise "
        "levels, and f_θ must give the same answer at both ends.",
        "Each update draws data x₀, noises it to level t_{n+1}, lets the teacher take one ODE step down to the "
        "neighbouring level t_n, and pulls f_θ(x_{t_{n+1}}, t_{n+1}) towards f_θ⁻(x̂_{t_n}, t_n). Matching neighbours "
        "everywhere chains into matching the endpoint from anywhere. (Consistency training does the same without a "
        "teacher, using the data's own noise.)")),
    ("theta", Term(
        "θ and θ⁻",
        "θ: the weights being trained (the online network). θ⁻: a slowly moving copy of θ that computes the answer "
        "θ must match.",
        "The distillation loss compares two outputs: f_θ at the noisier point, whose weights θ get the gradient, and "
        "f_θ⁻ at the teacher-stepped point, computed with the target weights θ⁻ and no gradient. θ⁻ follows θ by an "
        "exponential moving average with rate μ.")),
    ("ema_mu", Term(
        "EMA μ",
        "How slowly the target θ⁻ follows θ: after each update θ⁻ ← μ θ⁻ + (1 − μ) θ. μ = 0 makes θ⁻ = θ; "
        "μ = 0.999 makes it trail by about 1,000 updates.",
        "The rate of the exponential moving average (EMA) that turns θ into the target θ⁻. The lesson uses "
        "μ = 0.999 and says the slow target prevents collapse to a constant. A large μ also means the target "
        "lags far behind: in a run of about a thousand updates it barely moves from where it started. The lab pages "
        "measure both effects.")),
    ("levels", Term(
        "noise levels",
        f"The discrete times t_1 < … < t_N between σ_min = {SIGMA_MIN:g} and σ_max = {SIGMA_MAX:g} at which "
        "distillation compares neighbours, and multi-step sampling re-noises.",
        "Distillation does not use every t: it picks N levels and always compares a level with its lower neighbour. "
        "With few levels each teacher step is long (larger ODE error); with many levels the model needs more updates "
        "to chain them. Their spacing is a setting (uniform or Karras).")),
    ("karras", Term(
        "Karras levels",
        "Noise levels spaced by the rule of Karras et al. (exponent ρ): dense near the clean end, sparse near pure "
        "noise, instead of evenly spaced.",
        "The spacing from the EDM paper: the levels are evenly spaced in t^(1/ρ) and raised back to the power ρ, so "
        "with ρ = 7 most levels sit at small t where the data's detail is. The lesson uses evenly (uniformly) "
        "spaced levels and notes that in practice the spacing matters.")),
    ("c_skip", Term(
        "c_skip / c_out",
        "The weights in f_θ(x_t, t) = c_skip(t) x_t + c_out(t) F_θ(x_t, t): at the smallest level c_skip = 1 and "
        "c_out = 0, so f returns its input unchanged there.",
        "A consistency model must map a point at the smallest noise level to itself (its path already ends there). "
        "Writing f as a blend of the input and the network's output, with c_skip(t) = σ_min / t and "
        "c_out(t) = (t − σ_min) / t, builds that boundary condition in: no training is needed to satisfy it.")),
    ("pseudo_huber", Term(
        "pseudo-Huber distance",
        "√(‖a − b‖² + c²) − c: like the squared distance for small errors, like the plain distance for large ones, "
        "so a few far-off points do not dominate the loss.",
        "The distance between f_θ and the target f_θ⁻ that our recipe uses (the lesson uses the squared L2 "
        "distance). The constant c sets where it switches from quadratic to linear. Large errors pull less hard "
        "than with a squared distance, which makes training steadier.")),
    ("w2", Term(
        "W2",
        "2-Wasserstein distance between generated points and real points: the root-mean-square length of the best "
        "one-to-one pairing. Lower is better; 0 means the same points.",
        "Pair every generated point with one real point so that the average squared distance of the pairs is as "
        "small as possible; W2 is the square root of that average. It compares whole clouds of points: a model "
        "that puts all its samples on one spot scores badly even if the spot lies on the data. The lab page "
        "*What W2 means* draws the pairs.")),
    ("floor", Term(
        "floor",
        "The W2 between two independent real samples of the same size: what a perfect model would score. It "
        "depends on the sample size, so it is always given with its size.",
        "Two finite samples of the same data never coincide, so even a model that reproduces the data exactly scores "
        "above 0. That score, two real samples against each other at the same size and seeds, is the floor. Larger "
        "samples give a lower floor, so a W2 is read against the floor measured at its own size; the protocol's "
        "size is the default on every page.")),
    ("protocol", Term(
        "protocol",
        "How every W2 on these pages is measured: as many generated as real points, the same noise and real "
        "samples for every model, repeated over a few seeds, reported as mean ± standard error.",
        "One fixed measurement for every model: draw n noise points and n real points, compute W2, repeat with a "
        "few fixed seeds, report the mean ± its standard error. Every model sees the same noise and the same real "
        "samples, so scores compare. (The Glossary page and each caption say the size.) Two numbers are "
        "called different only when the difference is larger than that noise; otherwise the pages say "
        "\"indistinguishable at this sample size\".")),
    ("sem", Term(
        "± standard error",
        "How much the mean W2 would move if the measurement were repeated with other seeds; differences smaller "
        "than this noise are not findings.",
        "Each W2 is averaged over a few seeds; the standard error is the spread of those values divided by √(number "
        "of seeds). The pages compare two scores with one rule and call a difference inside the noise "
        "indistinguishable.")),
    ("collapse", Term(
        "collapse",
        "A consistency model that outputs (nearly) the same point for every input: both sides of its loss then agree "
        "trivially, and every sample lands on one spot.",
        "If the target were exactly the online network, outputting a constant would make the loss zero. The lesson "
        "says the slowly moving target θ⁻ prevents this. The app calls a run collapsed when its one-step samples are "
        "measurably narrower than the data and no better than the teacher's single step.")),
    ("estimate", Term(
        "estimated training time",
        "How long a retrain should take on this server, before it starts: its steps times the seconds a step took "
        "here at that batch, plus the time to start and score.",
        "The server times every run it trains, per kind of step and batch, leaving out any time a run spent paused. "
        "A new run's estimate is its steps times that measured cost, plus the measured time to start the training "
        "process and score the result. A batch this server has not trained yet is estimated from a cost model "
        "(a fixed cost per step plus a cost per point) scaled by how fast this server has been; before its first "
        "run, from the development machine's speed, and the page says which.")),
    ("queue", Term(
        "training queue",
        "Runs that wait for the trainer: the one estimated shortest goes first, and a long run pauses for much "
        "shorter ones, then resumes where it stopped.",
        "A server trains a few runs at a time (the host sets how many). Waiting runs are ordered by their estimated "
        "time left less the time they have already waited, so a class's short retrains never wait long behind one "
        "long run, and a long run that has waited as long as its own estimate goes before any new one. A long run "
        "is paused between two steps, keeping everything it learned, and its owner sees why and for how long.")),
    ("renoise", Term(
        "re-noise (multi-step sampling)",
        "After a jump to x̂₀, mix it with fresh noise at the next lower level and jump again: each extra jump costs "
        "one more NFE.",
        "Multi-step consistency sampling: jump from pure noise to x̂₀, re-noise it to a lower level "
        "x = (1 − t) x̂₀ + t ε with fresh noise ε, jump again, and return the last x̂₀ without re-noising. The "
        "jumps are not steps along one ODE path: each input is built from the previous x̂₀.")),
)}


def tip(key: str) -> str:
    """The tooltip of ``key`` (a KeyError names the known terms)."""
    if key not in TERMS:
        raise KeyError(f"No glossary term {key!r}; known: {', '.join(TERMS)}.")
    return TERMS[key].tip


def tips(*keys: str) -> str:
    """Several tooltips in one help text, each led by its term."""
    return "\n\n".join(f"**{TERMS[k].term}**: {tip(k)}" for k in keys)


def floor_words(n: int) -> str:
    """"the floor (two real samples of 2,000 points)": a floor always says its size."""
    return f"the floor (two real samples of {n:,} points)"
