"""Exercise 1: points of one ODE trajectory, re-solved to t = 0, land on its endpoint."""
import pandas as pd
import streamlit as st

from viz import charts
from cmcore.config import SOLVERS
from cmcore.evaluate import EXACT_DISTANCE, FINE_SOLVE_STEPS, SOLVER_ERROR_FACTOR
from ui import compute, later, models, params, show, teach
from ui.params import Param, Spec
from viz import glossary
from viz.trajectories import self_consistency_chart

T_CHOICES = (1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)
FIXED_STEPS = ("1", "2", "5", "10", "20", "50", "100")
RESOLVE = {"same": "same density as the trajectory",
           **{s: f"{s} step{'s' if s != '1' else ''} from every point" for s in FIXED_STEPS}}
OPTIONS = ["Exactly the same point (distance 0)", "Almost the same point (a small solver error)",
           "Clearly different points"]
spec = params.bind(Spec("self_consistency", [
    Param("sc_n_traj", 8, lo=2, hi=16), Param("sc_seed", 21, lo=0, hi=9999), Param("sc_steps", 200, lo=10, hi=400),
    Param("sc_solver", "euler", "choice", choices=SOLVERS), Param("sc_traj", 2, lo=0, hi=15),
    Param("sc_t", [0.9, 0.7, 0.5, 0.3, 0.1], "multi", choices=T_CHOICES),
    Param("sc_resolve", "same", "choice", choices=tuple(RESOLVE)), teach.reveal_param("sc")]))
if st.session_state["sc_traj"] >= st.session_state["sc_n_traj"]:  # fewer trajectories than the chosen index
    st.session_state["sc_traj"] = st.session_state["sc_n_traj"] - 1
params.restore_empty(spec)  # a deselected solver or an emptied list of levels falls back to its default

st.title("1. Self-consistency")
st.markdown("The teacher's probability-flow ODE is deterministic: a point on a trajectory has one future. Start "
            "the solver again from any point of a trajectory and it should arrive where the whole trajectory "
            "arrived. Consistency models are built on exactly this fact.")
with st.container(border=True):
    c = st.columns(4)
    params.slider(spec, "sc_n_traj", "Trajectories", c[0])
    params.number(spec, "sc_seed", "Noise seed", c[1])
    params.slider(spec, "sc_steps", "Solver steps (t = 1 → 0)", c[2], step=10, help=glossary.tip("ode"))
    params.segmented(spec, "sc_solver", "Solver", c[3], format_func=str.capitalize,
                     help=glossary.tips("euler", "heun"))
    c = st.columns([1, 2, 2])
    c[0].selectbox("Chosen trajectory", range(st.session_state["sc_n_traj"]), key="sc_traj")
    params.multiselect(spec, "sc_t", "Noise levels t to restart from", c[1])
    params.select(spec, "sc_resolve", "Re-solve each point with", c[2], format_func=RESOLVE.get)
teach.predict_first("sc", "You restart the ODE from the chosen points of one trajectory and solve each to t = 0. "
                    "Where do they land, compared with the trajectory's own endpoint?", OPTIONS, "sc_show")
t_values = tuple(sorted(st.session_state["sc_t"], reverse=True))
resolve = None if st.session_state["sc_resolve"] == "same" else int(st.session_state["sc_resolve"])
sel = models.current()
_ = models.teacher(sel.teacher_cfg)  # loaded before the question: a damaged file is reported at once
seed = st.session_state["sc_seed"]
trajectories = later.call(compute.self_consistency, sel.teacher_cfg, st.session_state["sc_n_traj"], seed,
                          st.session_state["sc_steps"], st.session_state["sc_solver"], st.session_state["sc_traj"],
                          t_values, resolve)
params.sync(spec)
if not teach.revealed("sc", "sc_show"):
    later.prefetch(trajectories)  # computed while the question is read
    teach.hidden_note()
    st.stop()


def pick_clicked_line() -> None:
    """A click on a line of the first chart chooses that trajectory (the whole page reruns with it)."""
    clicked = (st.session_state.get("sc_chart") or {}).get("selection", {}).get(charts.TRAJ_SELECTION) or []
    if clicked and clicked[0].get("traj") is not None:
        st.session_state["sc_traj"] = min(int(clicked[0]["traj"]), st.session_state["sc_n_traj"] - 1)
    later.rerun_page()


def results(v) -> None:
    left, right = st.columns(2)
    chart_args = (v.xs, v.ts, v.chosen, v.points, v.t_used, v.endpoints, v.true_endpoint)
    left.vega_lite_chart(compute.chart_spec(self_consistency_chart, *chart_args, size=320, part="overview"),
                         on_select=pick_clicked_line, key="sc_chart", width="content",
                         selection_mode=charts.TRAJ_SELECTION)
    right.vega_lite_chart(show.on_canvas(compute.chart_spec(self_consistency_chart, *chart_args, size=320,
                                                          clickable=False, part="zoom")), width="content")
    show.legend(["chosen", "highlight", "teacher", "endpoint"])
    st.caption("First chart: every trajectory from noise (circle) to data (diamond); click a line to choose it. Second: "
               "the chosen trajectory up close; dashed arrows run from each restart point to where its re-solve lands "
               "(green dots); the red cross is the trajectory's own endpoint.")
    dmax, dmean, worst = float(v.distances.max()), float(v.distances.mean()), int(v.distances.argmax())
    m = st.columns(3)
    m[0].metric("Max distance to the endpoint", f"{dmax:.2e}")
    m[1].metric("Mean distance", f"{dmean:.2e}")
    m[2].metric("True endpoint", f"({v.true_endpoint[0]:.3f}, {v.true_endpoint[1]:.3f})")
    st.dataframe(pd.DataFrame({"restart t": v.t_used, "start x₁": v.points[:, 0], "start x₂": v.points[:, 1],
                               "re-solve steps": v.resolve_steps, "landed x₁": v.endpoints[:, 0],
                               "landed x₂": v.endpoints[:, 1], "distance": v.distances}),
                 hide_index=True, column_config={"distance": st.column_config.NumberColumn(format="%.2e")})

    exact = dmax < EXACT_DISTANCE
    accepted = ((OPTIONS[0], OPTIONS[1]) if exact else (OPTIONS[1], OPTIONS[0])) if v.explained_by_solver else (OPTIONS[2],)
    teach.verdict("sc", accepted, f"the farthest restart landed {dmax:.2e} from the endpoint, and this solver's own error "
                  f"on these points is {v.solver_error:.2e} (measured against a {FINE_SOLVE_STEPS}-step Heun solve). "
                  + ("A gap within twice that is the solver's doing, so the points are the same up to the solver."
                     if v.explained_by_solver else "The gap is larger than the solver's error explains."))
    how = ("on the trajectory's own time grid" if resolve is None else f"with a fresh grid of {resolve} "
           f"{st.session_state['sc_solver'].capitalize()} step{'s' if resolve > 1 else ''} from each point")
    if exact:
        why = ("That is zero up to float rounding: on the same grid the solver repeats exactly the steps it already "
               "took, so it cannot land anywhere else. Pick a fixed step count to see a solver's own error.")
    elif v.explained_by_solver:
        why = (f"Not zero, but within {SOLVER_ERROR_FACTOR:g}× the solver's own error ({v.solver_error:.2e}): a fresh grid "
               f"takes different steps, and each errs a little differently. The restart from t = {v.t_used[worst]:.2f} "
               "missed the most. Add steps and the gap shrinks toward zero, as it would for the exact ODE.")
    else:
        why = (f"That is more than {SOLVER_ERROR_FACTOR:g}× the solver's own error ({v.solver_error:.2e}) explains; "
               "the restarts disagree beyond the solver's error on this model.")
    teach.what_happened(f"You restarted the ODE from {len(v.t_used)} points of trajectory {v.chosen} {how}. "
                        f"The farthest landed {dmax:.2e} from the trajectory's endpoint, the mean was {dmean:.2e}. {why}")
    teach.takeaway("Every point of a deterministic ODE trajectory has the same destination. If a network learned "
                   "f(x_t, t) = that destination for every x_t and t, one evaluation would replace the whole solve: "
                   "that network is a consistency model.")


later.fill_in(f"the trajectories of noise seed {seed} and their restarts", results, trajectories)
