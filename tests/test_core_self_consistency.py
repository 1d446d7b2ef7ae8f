"""Exercise 1's batched re-solve equals solving from each restart point on its own."""
import pytest
import torch

from cmcore import evaluate, zoo
from cmcore.flow import ode_endpoint


@pytest.mark.parametrize("resolve_steps", [None, 7])
@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_batched_resolve_matches_one_solve_per_point(resolve_steps, solver):
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    z, _ = evaluate.eval_noise(5, 4)
    sc = evaluate.self_consistency(teacher, z, 1, (0.9, 0.55, 0.2), n_steps=40, solver=solver,
                                   resolve_steps=resolve_steps)
    for point, t, steps, end in zip(sc.points, sc.t_values, sc.resolve_steps, sc.endpoints):
        alone = ode_endpoint(teacher, point[None], t, 0.0, steps, solver)[0]
        assert torch.allclose(end, alone, atol=1e-5)
    if resolve_steps is None:
        assert sc.resolve_steps == [round(t * 40) for t in sc.t_values]
        assert float(sc.distances.max()) < 1e-5  # the trajectory's own grid retraces its steps
    else:
        assert sc.resolve_steps == [7, 7, 7]
        assert float(sc.distances.max()) > 1e-4  # a coarse fresh grid shows the solver's error


def test_resolve_rejects_no_steps():
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    z, _ = evaluate.eval_noise(5, 3)
    with pytest.raises(ValueError, match="re-solve step"):
        evaluate.self_consistency(teacher, z, 0, (0.5,), n_steps=20, resolve_steps=0)


def test_endpoint_error_curve_covers_every_solver_and_counts_nfe():
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    z, _ = evaluate.eval_noise(2, 50)
    rows = evaluate.endpoint_error_curve(teacher, z, steps=(1, 10), solvers=("euler", "heun"))
    assert [(r["solver"], r["steps"], r["nfe"]) for r in rows] == [("euler", 1, 1), ("euler", 10, 10),
                                                                   ("heun", 1, 2), ("heun", 10, 20)]
    errors = {(r["solver"], r["steps"]): r["mean_error"] for r in rows}
    assert errors[("euler", 10)] < errors[("euler", 1)] and errors[("heun", 10)] < errors[("euler", 10)]
