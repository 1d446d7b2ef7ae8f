"""Exercise 2: one ODE step from pure noise against the 200-step endpoint."""
import streamlit as st

from cmcore import datasets
from viz.charts import Panel
from ui import compute, later, models, params, show, teach
from ui.params import Param, Spec
from viz import charts, glossary
from viz.words import lesson

CURVE_POINTS = 500  # the error-vs-steps curve runs ~1,000 network calls; fewer points keep it quick
CURVE_SEED = 0  # the curve describes the teacher, not one draw: one fixed noise set, computed once for every session
OPTIONS = ["The data's shape, clean, like the 200-step ODE", "The data's shape, somewhat blurred",
           "One blob near the centre of the data", "Points scattered as widely as the noise"]
CLEAN_ERROR, BLOB_SPREAD, SCATTER_SPREAD = 0.1, 0.5, 1.3  # where the four answers meet
MARGIN = 0.1  # within 10 % of a boundary both neighbouring answers count as right


def one_step_outcome(error: float, ratio: float) -> tuple[str, ...]:
    """The options the numbers support, best first (both neighbours near a boundary)."""
    def near(x, edge):
        return abs(x - edge) <= MARGIN * edge
    if error < CLEAN_ERROR:
        return (OPTIONS[0], OPTIONS[1]) if near(error, CLEAN_ERROR) else (OPTIONS[0],)
    best = OPTIONS[2] if ratio < BLOB_SPREAD else OPTIONS[3] if ratio > SCATTER_SPREAD else OPTIONS[1]
    also = [OPTIONS[1]] if best != OPTIONS[1] and (near(ratio, BLOB_SPREAD) or near(ratio, SCATTER_SPREAD)) else []
    also += [OPTIONS[2]] if best == OPTIONS[1] and near(ratio, BLOB_SPREAD) else []
    also += [OPTIONS[3]] if best == OPTIONS[1] and near(ratio, SCATTER_SPREAD) else []
    return (best, *also)


spec = params.bind(Spec("one_step", [
    Param("os_n", 1000, "choice", choices=(300, 500, 1000, 2000)), Param("os_seed", 0, lo=0, hi=9999),
    Param("os_k", 5, lo=2, hi=50), teach.reveal_param("os")]))

st.title("2. One-step ODE vs the endpoint")
st.markdown("Why not just take one huge solver step from noise to data? Here the same noise goes through the "
            "teacher four ways: the 200-step ODE (our stand-in for the exact endpoint), one Euler step, the "
            "DDIM-style x₀ prediction, and a k-step ODE.")
with st.container(border=True):
    c = st.columns(3)
    params.select_slider(spec, "os_n", "Points", c[0])
    params.number(spec, "os_seed", "Noise seed", c[1])
    params.slider(spec, "os_k", "k for the k-step ODE", c[2], help=glossary.tips("euler", "nfe"))
params.sync(spec)  # before anything that may stop the page (an upload with no model yet): the link keeps k
sel = models.current()
_ = models.teacher(sel.teacher_cfg)  # loaded before the question: a damaged file is reported at once
teach.predict_first("os", "One Euler step from pure noise (t = 1) straight to t = 0: what will the resulting "
                    f"points look like (the data: {datasets.noun(sel.dataset)})?", OPTIONS, "os_show")
n, seed, k = st.session_state["os_n"], st.session_state["os_seed"], st.session_state["os_k"]
solves = (later.call(compute.one_step, sel.teacher_cfg, n, seed), later.call(compute.k_step, sel.teacher_cfg, n, seed, k),
          later.call(compute.k_step, sel.teacher_cfg, CURVE_POINTS, CURVE_SEED, k))  # k on the curve's own noise
if not teach.revealed("os", "os_show"):
    later.prefetch(*solves)  # computed while the question is read
    teach.hidden_note()
    st.stop()


def results(v, vk, curve_k) -> None:
    (e1, m1), (ex, mx), (ek, mk) = v.errors["euler_one"], v.errors["x0_prediction"], vk.error
    show.panel_grid([
        Panel("Real data", v.real, "real", f"{n} fresh samples"),
        Panel("ODE, 200 steps", v.true_endpoints, "teacher", "the reference endpoint"),
        Panel("One Euler step", v.euler_one, "teacher_one", f"error mean {e1:.3f} · max {m1:.3f}"),
        Panel("x₀ prediction", v.x0_prediction, "teacher_one", f"error mean {ex:.3f} · max {mx:.3f}"),
        Panel(f"ODE, {k} steps", vk.points, "teacher", f"error mean {ek:.3f} · max {mk:.3f}")], per_row=5, size=170)
    show.legend(["real", "teacher", "teacher_one"])
    c = st.columns(4)
    c[0].metric("One Euler step: mean error", f"{e1:.3f}")
    c[1].metric(f"{k}-step ODE: mean error", f"{ek:.3f}")
    c[2].metric("Max |Euler step − x₀ prediction|", f"{v.euler_vs_x0_max:.1e}")
    spread_one, spread_true = v.spread(v.euler_one), v.spread(v.true_endpoints)
    c[3].metric("Spread of one-step points / endpoints", f"{spread_one / spread_true:.2f}")

    ratio = spread_one / spread_true
    teach.verdict("os", one_step_outcome(e1, ratio), f"the one-step points miss their endpoints by {e1:.2f} on average, "
                  f"and their spread is {ratio:.0%} of the endpoints' spread.")

    st.markdown("#### Why one Euler step and the x₀ prediction are the same here")
    st.markdown(
        "The flow mixes data and noise linearly, $x_t = (1-t)\\,x_0 + t\\,\\varepsilon$, and the teacher learns the "
        "velocity $v = \\varepsilon - x_0$. Solve the first equation for $x_0$ and you get $x_0 = x_t - t\\,v$. "
        "At $t = 1$ that is $x_1 - v(x_1, 1)$. An Euler step from $t = 1$ to $t = 0$ moves by "
        "$(0 - 1)\\cdot v(x_1, 1)$, which is the very same expression: for this flow the DDIM-style prediction *is* "
        f"one Euler step. Measured on these {n} points, the two differ by at most {v.euler_vs_x0_max:.1e}"
        f"{' (identical to the last bit)' if v.euler_vs_x0_max == 0 else ''}.")
    st.markdown("#### Where the error comes from")
    st.markdown(
        "Each training pair moves along a straight line, but the network cannot see which pair it is on: it learns "
        "the average, $v(x_t, t) = \\mathbb{E}[\\varepsilon - x_0 \\mid x_t]$. At $t = 1$ the input is pure noise and "
        "says nothing about $x_0$, so the best guess of $x_0$ is the data mean, and one step pulls every point "
        f"toward it: the one-step cloud is {ratio:.0%} as wide as the endpoints. As $t$ falls, $x_t$ reveals more "
        "about its $x_0$, the average changes, and the velocity turns. Paths bend, and a straight line drawn from "
        "$t = 1$ misses where they end.")

    curve = compute.error_curve(sel.teacher_cfg, CURVE_POINTS, CURVE_SEED)
    st.markdown("#### Endpoint error against the number of ODE steps")
    st.vega_lite_chart(compute.chart_spec(charts.error_vs_steps, curve, highlight_steps=k), width="stretch")
    st.caption(f"Mean distance to the 200-step endpoint on {CURVE_POINTS} points of evaluation noise seed {CURVE_SEED}, the "
               "same for every seed you pick (the curve is a property of the teacher, so one computation serves everyone); "
               "Heun spends two "
               f"network calls per step. Dashed line: k = {k}.")
    eu, he = curve[curve.solver == "euler"], curve[curve.solver == "heun"]
    best_heun = he.loc[he.mean_error.idxmin()]
    teach.what_happened(
        f"One step from noise missed the 200-step endpoint by {e1:.2f} on average (worst {m1:.2f}); on your "
        f"{n:,} points {k} steps cut that to {ek:.3f}. "
        + lesson.ode_steps_story(k, curve_k.error[0], eu.steps, eu.mean_error, CLEAN_ERROR, CURVE_POINTS, CURVE_SEED)
        + " Heun, "
        f"which spends two network calls per step, reached {best_heun.mean_error:.3f} with {int(best_heun.nfe)} calls"
        + ("; beyond that its curve stops falling, because the reference itself is a 200-step Euler solve with its "
           "own error of about that size." if best_heun.steps < he.steps.max() else ".")
        + " Every extra step is one more network evaluation: accuracy costs compute.")
    teach.takeaway("A solver needs many small steps because the averaged velocity field bends. A consistency model "
                   "skips the solver: it is trained to output the endpoint itself, so one evaluation can be accurate.")


later.fill_in(f"the 200-step reference and the {k}-step ODE for noise seed {seed}", results, *solves)
