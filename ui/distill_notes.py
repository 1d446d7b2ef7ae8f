"""Page 3's notes from the notebook: why one teacher step per update, the common mistakes in its four TODOs,
and the training curves of a shipped model (the loss and the one-step W2, replayed offline and stored)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cmcore import retrain_job, tracks
from cmcore.config import ConsistencyConfig
from cmcore.consistency import levels_for
from ui import compute
from ui.models import Selection
from viz import charts, compare_charts
from viz.words import compare as compare_words
from viz.words.loss import loss_story
from viz.charts import PALETTE


def why_one_teacher_step(cfg: ConsistencyConfig, label: str) -> None:
    """Why the teacher takes a single ODE step per update, with the gaps between the levels of ``cfg``."""
    levels = levels_for(cfg.schedule, cfg.n_levels, cfg.sigma_min, cfg.sigma_max, cfg.rho)
    gap = float((levels[1:] - levels[:-1]).max())
    with st.expander("Why does the teacher take only one ODE step per update?", icon=":material/help:"):
        st.markdown(
            "Solving the teacher's ODE all the way from $t_{n+1}$ to the data would cost tens of network calls for "
            "every training example (the notebook puts it at 10–50), at every update. Distillation never needs "
            "that. The teacher only carries $x_{t_{n+1}}$ across one gap, to the neighbouring level $t_n$, and over "
            "one short gap a single step stays close to the path. The rest of the way is the target network's job: "
            r"$f_{\theta^-}(\hat x_{t_n}, t_n)$ already stands for *where the path through $t_n$ ends*, so matching "
            "it passes that answer up one level. Other updates tie $t_n$ to $t_{n-1}$, and so on down to "
            r"$t_1 = \sigma_{\min}$, where $f(x, \sigma_{\min}) = x$ holds by construction. Self-consistency chains "
            "these one-gap links into the whole path.\n\n"
            f"For *{label}* ({cfg.n_levels} levels, {cfg.schedule} spacing) the chain has {cfg.n_levels - 1} links, "
            f"and the widest gap the teacher crosses in one step is {gap:.3f} in t.")


MISTAKES = (  # (what goes wrong, why it matters): the notebook's list for its exercise 3, in our words
    ("A level of shape (batch,) multiplied into points of shape (batch, 2).",
     "Each point's noise level must become a column, (batch, 1), before it scales the point; without that the "
     "product either fails or pairs levels with the wrong coordinates. Here `adjacent_levels` returns columns."),
    ("The target computed by the online network θ instead of its EMA copy θ⁻.",
     "The two sides of the loss then move together with every update, and the network can make them agree without "
     "learning the path. The target side is θ⁻, evaluated without gradients."),
    ("The EMA update of θ⁻ done where autograd is recording.",
     "The update is bookkeeping, not part of the loss: recorded, it ties θ⁻ into the next backward pass. Here "
     "`ema_update` runs under `torch.no_grad()`."),
    ("θ⁻ overwritten with θ instead of blended.",
     "A copy is the recipe μ = 0, not the notebook's μ = 0.999: a different method, not a faster one. What it does is "
     "measurable: set EMA μ to 0 in the settings below and retrain."),
)


def common_mistakes() -> None:
    with st.expander("Common mistakes in the notebook's four TODOs", icon=":material/report:"):
        st.markdown("\n".join(f"- **{what}** {why}" for what, why in MISTAKES))


def training_curves(sel: Selection) -> None:
    """The loss and the one-step W2 against training step for a shipped model (stored replays); nothing otherwise."""
    if not sel.shipped:
        return
    loss = tracks.load_loss(sel.teacher_cfg, sel.cm_cfg)
    track = tracks.load_track(sel.teacher_cfg, sel.cm_cfg)
    st.markdown("#### How this model trained")
    if loss is None or track is None or not track.points:
        st.caption(f"No training curves are stored for *{sel.label}* on this data.")
        return
    floor = compute.floor_score(sel.teacher_cfg.dataset, retrain_job.TRACK_SPEC)
    left, right = st.columns(2)
    left.vega_lite_chart(compute.chart_spec(charts.loss_curve, pd.DataFrame(loss, columns=["step", "loss"])),
                         width="stretch")
    w2 = pd.DataFrame([{"run": "one-step W2", "step": p.step, "w2": p.score.mean, "sem": p.score.sem}
                       for p in track.points])
    right.vega_lite_chart(compute.chart_spec(compare_charts.track_chart, w2, ["one-step W2"], [PALETTE["consistency"]],
                                             floor.mean, floor.sem), width="stretch")
    points = [(p.step, p.score) for p in track.points]
    st.markdown(f"- {loss_story(loss)}\n- {compare_words.track_story('This model', points, floor)}")
    st.caption("Left: the distillation loss, d between the online network's answer at $t_{n+1}$ and θ⁻'s at $t_n$, "
               "averaged over windows of steps. It is not a distance to the data: θ⁻ moves as training goes, so the "
               "loss can rise while samples improve, and two networks that both answer one constant point score a "
               "loss near zero. Right: the one-step W2, the score that says how close the samples are, on "
               f"{retrain_job.TRACK_SPEC.describe()} (a smaller sample than above, so values sit higher; dashes: two "
               "real samples of that size). Both curves come from replaying this model's training with the same "
               "settings and seed.")
    with st.expander("How this was measured", icon=":material/science:"):
        st.markdown("Replayed once for every shipped model, with `python -m cmcore.lab_cli track --dataset all`, "
                    "and stored with the model: the same settings and seed give the same training run.")
