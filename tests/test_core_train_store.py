"""Trainer (determinism, hooks, cancel, modes, EMA), config validation, and the checkpoint store."""
import dataclasses
import json
import os
import pickle
import threading

import pytest
import torch
from safetensors.torch import save_file

from cmcore import config, nets, store, train, zoo
from cmcore.config import ConsistencyConfig, TeacherConfig
from cmcore.nets import MLP, ConsistencyModel

TINY_T = TeacherConfig(steps=30, batch=128, hidden=32)
TINY_C = ConsistencyConfig(steps=20, batch=128)
SAFETY = 120.0  # seconds; only a guard against a hung test, never part of an assertion


def state_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def tiny_teacher():
    return train.train_teacher(TINY_T)


# --- Trainer -----------------------------------------------------------------------

def test_same_config_gives_identical_weights_whatever_the_global_seed(tiny_teacher):
    torch.manual_seed(12345)
    again = train.train_teacher(TINY_T)
    assert state_equal(tiny_teacher.model, again.model)
    assert tiny_teacher.losses == again.losses and len(again.losses) == 30


def test_a_different_seed_gives_different_weights(tiny_teacher):
    other = train.train_teacher(dataclasses.replace(TINY_T, seed=1))
    assert not state_equal(tiny_teacher.model, other.model)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_multi_tensor_adam_trains_the_same_weights_as_the_per_tensor_one(tiny_teacher, monkeypatch, threads):
    """The trainer's faster Adam (one call per op for all parameters) must not move a bit: the shipped
    checkpoints and their stored tracks were trained with the per-tensor loop."""
    cfg = dataclasses.replace(TINY_C, threads=threads)
    fast = train.train_consistency(cfg, tiny_teacher.model)
    monkeypatch.setattr(train, "ADAM_FOREACH", False)
    slow = train.train_consistency(cfg, tiny_teacher.model)
    assert state_equal(fast.model, slow.model) and fast.losses == slow.losses


def test_training_does_not_touch_the_global_rng():
    state = torch.get_rng_state()
    train.train_teacher(dataclasses.replace(TINY_T, steps=2))
    assert torch.equal(torch.get_rng_state(), state)


def test_training_restores_the_calling_threads_torch_thread_count():
    before = torch.get_num_threads()
    train.train_teacher(dataclasses.replace(TINY_T, steps=2, threads=before + 1))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("build", [lambda: MLP(16), lambda: ConsistencyModel(24, config.SIGMA_MIN)])
def test_seeded_init_equals_pytorchs_default_init_after_a_global_seed(build):
    """Why the shipped checkpoints (made when the trainer seeded the global RNG) are still reproduced."""
    torch.manual_seed(7)
    default = build()
    state = torch.get_rng_state()
    assert state_equal(nets.seeded(build, torch.Generator().manual_seed(7)), default)
    assert torch.equal(torch.get_rng_state(), state)  # built without touching the global RNG


def test_seeded_refuses_a_layer_whose_init_it_does_not_know():
    with pytest.raises(TypeError, match="LayerNorm|0.weight"):
        nets.seeded(lambda: torch.nn.Sequential(torch.nn.LayerNorm(4), torch.nn.Linear(4, 2)), torch.Generator())


def test_two_runs_training_at_once_match_the_same_runs_trained_one_after_the_other(tiny_teacher):
    """A teacher (1 torch thread) and a distillation (2 threads) train in two threads at once.

    No timing is involved: a barrier makes every run of this test interleave the same
    adversarial way.  Both runs set their thread counts, then both build their models (each
    draws its initial weights), then they alternate optimiser steps; at each meeting the global
    RNG is reseeded with an unrelated seed.  A draw from torch's global RNG, or one run's thread count leaking into the
    other (both change these weights' last bits), would make them differ from the sequential runs.
    """
    teacher_cfg = TeacherConfig(steps=40, batch=256, hidden=128, threads=1)
    cm_cfg = ConsistencyConfig(steps=40, batch=256, init_from_teacher=False, threads=2)
    teacher = tiny_teacher.model
    sequential = [train.train_teacher(teacher_cfg), train.train_consistency(cm_cfg, teacher)]

    barrier = threading.Barrier(2, timeout=SAFETY)
    HOSTILE_SEED = 99

    def meet(*_):
        barrier.wait()
        torch.manual_seed(HOSTILE_SEED)  # anything drawing from the global RNG now differs from the sequential runs

    def meeting_first(make):
        def make_objective(init):
            meet()  # both runs have set their thread counts; neither has built its model yet
            objective = make(init)
            meet()
            return objective
        return make_objective

    runs = {
        "teacher": lambda: train.fit(meeting_first(lambda init: train.FlowMatchingObjective(teacher_cfg, init)),
                                     steps=teacher_cfg.steps, lr=teacher_cfg.lr, lr_schedule=teacher_cfg.lr_schedule,
                                     seed=teacher_cfg.seed, threads=teacher_cfg.threads, on_step=meet),
        "distillation": lambda: train.fit(
            meeting_first(lambda init: train.ConsistencyObjective(cm_cfg, "two_moons", teacher, init)),
            steps=cm_cfg.steps, lr=cm_cfg.lr, lr_schedule=cm_cfg.lr_schedule, seed=cm_cfg.seed,
            threads=cm_cfg.threads, on_step=meet),
    }
    results, errors = {}, []

    def work(name):
        try:
            results[name] = runs[name]()
        except Exception as exc:  # reported below; a dead thread must not leave the other at the barrier
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(name,), name=name) for name in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SAFETY)
    assert not errors and not any(t.is_alive() for t in threads), errors
    for name, alone in zip(runs, sequential):
        together = results[name]
        assert together.losses == alone.losses, name
        sa, sb = together.model.state_dict(), alone.model.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), name


def test_result_is_frozen_and_finite(tiny_teacher):
    model = tiny_teacher.model
    assert isinstance(model, MLP) and not model.training
    assert all(not p.requires_grad and bool(torch.isfinite(p).all()) for p in model.parameters())
    assert all(torch.isfinite(torch.tensor(tiny_teacher.losses)))


def test_on_step_sees_every_step_and_snapshots_on_schedule():
    seen = []
    res = train.train_teacher(dataclasses.replace(TINY_T, steps=25), on_step=seen.append, snapshot_every=10)
    assert [i.step for i in seen] == list(range(1, 26))
    assert all(i.total == 25 for i in seen)
    assert [i.loss for i in seen] == res.losses
    elapsed = [i.elapsed for i in seen]
    assert elapsed == sorted(elapsed)
    snap_steps = [i.step for i in seen if i.snapshot is not None]
    assert snap_steps == [10, 20, 25]  # every 10 steps, and the last step
    for i in seen:
        if i.snapshot is not None:
            assert not i.snapshot.training and all(not p.requires_grad for p in i.snapshot.parameters())
    assert state_equal(seen[-1].snapshot, res.model)
    assert not state_equal(seen[9].snapshot, res.model)
    # without snapshot_every, no snapshots are taken
    seen2 = []
    train.train_teacher(dataclasses.replace(TINY_T, steps=3), on_step=seen2.append)
    assert [i.snapshot for i in seen2] == [None, None, None]


def test_cancel_raises_cancelled_and_stops_before_the_next_step():
    seen, calls = [], []

    def cancel():
        calls.append(1)
        return len(calls) > 4

    with pytest.raises(train.Cancelled):
        train.train_teacher(TINY_T, on_step=seen.append, cancel=cancel)
    assert [i.step for i in seen] == [1, 2, 3, 4]

    seen.clear()
    with pytest.raises(train.Cancelled):
        train.train_consistency(TINY_C, train.train_teacher(dataclasses.replace(TINY_T, steps=2)).model,
                                on_step=seen.append, cancel=lambda: True)
    assert seen == []


def test_teacher_ema_weights_are_the_average_of_the_online_weights():
    cfg = TeacherConfig(steps=15, batch=64, hidden=16, ema=0.8)
    holder, ema = {}, {}

    def make(init):
        obj = train.FlowMatchingObjective(cfg, init)
        holder["obj"] = obj
        ema.update({k: v.detach().clone().double() for k, v in obj.model.state_dict().items()})
        return obj

    def on_step(_info):
        for k, v in holder["obj"].model.state_dict().items():
            ema[k] = 0.8 * ema[k] + 0.2 * v.detach().double()

    res = train.fit(make, steps=cfg.steps, lr=cfg.lr, lr_schedule=cfg.lr_schedule, seed=0, threads=cfg.threads,
                    on_step=on_step)
    got = res.model.state_dict()
    for k in ema:
        torch.testing.assert_close(got[k].double(), ema[k], rtol=1e-4, atol=1e-6)
    # and it is not just the online weights
    assert not state_equal(res.model, holder["obj"].model)


def test_consistency_distillation_trains_the_online_model_from_the_teacher(tiny_teacher):
    teacher = tiny_teacher.model
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    holder = {}
    seen = []
    res = train.fit(lambda init: holder.setdefault("obj", train.ConsistencyObjective(TINY_C, "two_moons", teacher, init)),
                    steps=TINY_C.steps, lr=TINY_C.lr, lr_schedule=TINY_C.lr_schedule, seed=0, threads=2,
                    on_step=seen.append)
    obj = holder["obj"]
    cm = res.model
    assert isinstance(cm, ConsistencyModel) and cm.backbone == "x0_from_velocity"
    assert cm.net.net[0].out_features == TINY_T.hidden
    assert state_equal(cm, obj.model)  # samples with the online weights, not the EMA target
    assert not state_equal(cm, obj.target)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())  # teacher untouched
    x = torch.randn(10, 2)
    assert torch.equal(cm(x, torch.full((10, 1), TINY_C.sigma_min)), x)
    # same config twice -> same consistency model
    again = train.train_consistency(TINY_C, teacher)
    assert state_equal(again.model, cm)


def test_consistency_training_mode_runs_without_a_teacher():
    cfg = ConsistencyConfig(mode="training", init_from_teacher=False, steps=15, batch=64, loss="l2")
    res = train.train_consistency(cfg, None)
    assert isinstance(res.model, ConsistencyModel) and res.model.backbone == "direct"
    assert len(res.losses) == 15 and all(l == l and l >= 0 for l in res.losses)
    x = torch.randn(10, 2)
    assert torch.equal(res.model(x, torch.full((10, 1), cfg.sigma_min)), x)


def test_distillation_without_a_teacher_is_refused():
    with pytest.raises(ValueError, match="teacher"):
        train.train_consistency(TINY_C, None)


def test_onecycle_schedule_warms_up_to_the_peak_then_anneals():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.01)
    sched = train.make_scheduler(opt, "onecycle", 0.01, 100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    peak = max(range(100), key=lambda i: lrs[i])
    assert lrs[peak] == pytest.approx(0.01, rel=1e-6)
    assert abs(peak - train.ONECYCLE_WARMUP * 100) <= 1
    assert lrs[0] < 0.01 / 10 and lrs[-1] < 0.01 / 100
    assert train.make_scheduler(opt, "constant", 0.01, 100) is None
    with pytest.raises(ValueError, match="cosine"):
        train.make_scheduler(opt, "cosine", 0.01, 100)


# --- Config validation -----------------------------------------------------------------

def test_defaults_and_the_lesson_recipe_validate():
    for cfg in (TeacherConfig(), ConsistencyConfig(), config.LESSON_TEACHER, config.LESSON_CONSISTENCY):
        assert cfg.validate() is cfg


@pytest.mark.parametrize("field,value", [
    ("dataset", "spirals"), ("lr_schedule", "cosine"), ("hidden", 4), ("hidden", 2048), ("steps", 0),
    ("batch", 4), ("lr", 1.0), ("lr", 0.0), ("ema", 1.0), ("ema", -0.1), ("seed", -1), ("seed", 2**31),
    ("threads", 0), ("threads", 65),
])
def test_teacher_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"TeacherConfig\.{field}="):
        dataclasses.replace(TeacherConfig(), **{field: value}).validate()
    with pytest.raises(ValueError, match=field):
        train.train_teacher(dataclasses.replace(TeacherConfig(), **{field: value}))


@pytest.mark.parametrize("field,value", [
    ("mode", "adversarial"), ("schedule", "cosine"), ("lr_schedule", "step"), ("teacher_solver", "rk4"),
    ("loss", "l1"), ("n_levels", 1), ("n_levels", 1001), ("rho", 0.5), ("ema_mu", 1.0), ("lr", 0.0),
    ("steps", 0), ("batch", 1), ("huber_c", 0.0), ("huber_c", 2.0), ("seed", -5), ("threads", 0),
])
def test_consistency_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"ConsistencyConfig\.{field}="):
        dataclasses.replace(ConsistencyConfig(), **{field: value}).validate()


@pytest.mark.parametrize("changes,field", [
    ({"sigma_min": 0.0}, "sigma_min"), ({"sigma_min": 0.5, "sigma_max": 0.5}, "sigma_max"),
    ({"sigma_max": 1.5}, "sigma_max"), ({"mode": "training"}, "init_from_teacher"),
])
def test_consistency_config_cross_field_checks(changes, field):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(ConsistencyConfig(), **changes).validate()


def test_config_dict_round_trip_hash_and_unknown_keys():
    cfg = ConsistencyConfig(n_levels=7, schedule="karras")
    assert config.from_dict(ConsistencyConfig, config.to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match="bogus"):
        config.from_dict(TeacherConfig, {**config.to_dict(TeacherConfig()), "bogus": 1})
    h = config.config_hash(TeacherConfig())
    assert h == config.config_hash(TeacherConfig()) and len(h) == 12
    assert h != config.config_hash(TeacherConfig(seed=1))
    assert config.config_hash(TeacherConfig(), ConsistencyConfig()) != config.config_hash(TeacherConfig())
    assert hash(TeacherConfig()) == hash(TeacherConfig())  # frozen: usable as a cache key


# --- Store --------------------------------------------------------------------------------

def make_teacher(hidden=32, seed=0):
    torch.manual_seed(seed)
    return MLP(hidden).eval()


def make_cm(backbone, hidden=32, seed=0, sigma_min=config.SIGMA_MIN):
    torch.manual_seed(seed)
    return ConsistencyModel(hidden, sigma_min, backbone).eval()


T_CFG = TeacherConfig(hidden=32, steps=10)
C_CFG = ConsistencyConfig(steps=10)


def test_teacher_round_trip(tmp_path):
    model = make_teacher()
    metrics = {"w2": {"1": 1.5, "50": 0.14}, "seconds": 2.5, "claims": {"x": True}}
    path = store.save(tmp_path / "t.safetensors", "teacher", model, T_CFG, metrics=metrics)
    ck = store.load(path, kind="teacher", expect_config=T_CFG)
    assert ck.kind == "teacher" and ck.config == T_CFG and ck.teacher_config is None and ck.metrics == metrics
    assert isinstance(ck.model, MLP) and state_equal(ck.model, model)
    assert not ck.model.training and all(not p.requires_grad for p in ck.model.parameters())
    x, t = torch.randn(20, 2), torch.rand(20, 1)
    with torch.no_grad():
        assert torch.equal(ck.model(x, t), model(x, t))
    assert store.load(path).config == T_CFG  # kind and config are optional


@pytest.mark.parametrize("backbone", ConsistencyModel.BACKBONES)
def test_consistency_round_trip_both_backbones(tmp_path, backbone):
    cfg = dataclasses.replace(C_CFG, sigma_min=0.01)
    model = make_cm(backbone, hidden=24, sigma_min=0.01)
    path = store.save(tmp_path / "c.safetensors", "consistency", model, cfg, T_CFG, metrics={"w2": {"1": 0.2}})
    ck = store.load(path, kind="consistency", expect_config=cfg)
    assert ck.config == cfg and ck.teacher_config == T_CFG and ck.metrics == {"w2": {"1": 0.2}}
    assert isinstance(ck.model, ConsistencyModel)
    assert ck.model.backbone == backbone and ck.model.sigma_min == 0.01
    assert state_equal(ck.model, model)
    x, t = torch.randn(20, 2), 0.01 + 0.99 * torch.rand(20, 1)
    with torch.no_grad():
        assert torch.equal(ck.model(x, t), model(x, t))


def test_metrics_keys_survive_as_json(tmp_path):
    # JSON has only string keys: an int-keyed W2 table comes back keyed by strings (documented here).
    path = store.save(tmp_path / "t.safetensors", "teacher", make_teacher(), T_CFG, metrics={"w2": {1: 0.5}})
    assert store.load(path).metrics == {"w2": {"1": 0.5}}


def test_unknown_kind_is_refused_at_save(tmp_path):
    with pytest.raises(ValueError, match="student"):
        store.save(tmp_path / "x.safetensors", "student", make_teacher(), T_CFG)


def _saved_teacher(tmp_path, name="t.safetensors"):
    return store.save(tmp_path / name, "teacher", make_teacher(), T_CFG)


def _assert_checkpoint_error(path, **kwargs):
    with pytest.raises(store.CheckpointError) as exc:
        store.load(path, **kwargs)
    assert str(path) in str(exc.value)
    assert exc.value.path == str(path)
    return str(exc.value)


def test_missing_file(tmp_path):
    msg = _assert_checkpoint_error(tmp_path / "nope.safetensors")
    assert "not found" in msg
    _assert_checkpoint_error(tmp_path)  # a folder is not a checkpoint either


@pytest.mark.parametrize("size", [0, 7, 4096])
def test_random_bytes(tmp_path, size):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(os.urandom(size) if size != 7 else b"\xff" * 7)
    _assert_checkpoint_error(path)


@pytest.mark.parametrize("keep", [0.5, 0.99, 10])
def test_truncated_file(tmp_path, keep):
    path = _saved_teacher(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] if keep < 1 else data[:keep])
    _assert_checkpoint_error(path)


def test_foreign_safetensors_files(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(3)}, str(plain))
    assert "Consistency Explorer" in _assert_checkpoint_error(plain)
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other), metadata={"format": "someone-else/2", "kind": "teacher"})
    _assert_checkpoint_error(other)
    # our metadata, but tensors of some other model
    ours_meta = tmp_path / "meta.safetensors"
    meta = {"format": store.FORMAT, "kind": "teacher", "config": json.dumps(config.to_dict(T_CFG)),
            "teacher_config": "", "metrics": "{}", "backbone": ""}
    save_file({"w": torch.zeros(3)}, str(ours_meta), metadata=meta)
    _assert_checkpoint_error(ours_meta)


@pytest.mark.parametrize("bad_config", ["not json", json.dumps({"hidden": 32, "bogus": 1}),
                                        json.dumps({**config.to_dict(T_CFG), "hidden": 4}), "[]"])
def test_unreadable_or_invalid_config(tmp_path, bad_config):
    path = tmp_path / "bad.safetensors"
    tensors = {k: v.contiguous() for k, v in make_teacher().state_dict().items()}
    meta = {"format": store.FORMAT, "kind": "teacher", "config": bad_config, "teacher_config": "",
            "metrics": "{}", "backbone": ""}
    save_file(tensors, str(path), metadata=meta)
    _assert_checkpoint_error(path)


def _write_with_meta(path, model, kind, config_dict, backbone=""):
    meta = {"format": store.FORMAT, "kind": kind, "config": json.dumps(config_dict),
            "teacher_config": json.dumps(config.to_dict(T_CFG)) if kind == "consistency" else "",
            "metrics": "{}", "backbone": backbone}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=meta)
    return path


def test_unknown_backbone_in_a_checkpoint_is_a_checkpoint_error(tmp_path):
    # BUG (cmcore/store.py:103): ConsistencyModel(...) is built outside any try, so its ValueError escapes load().
    path = _write_with_meta(tmp_path / "c.safetensors", make_cm("direct"), "consistency",
                            config.to_dict(C_CFG), backbone="bogus")
    _assert_checkpoint_error(path)


def test_scalar_first_layer_in_a_checkpoint_is_a_checkpoint_error(tmp_path):
    # BUG (cmcore/store.py:102): .shape[0] of a 0-d "net.net.0.weight" raises IndexError outside any try.
    path = tmp_path / "c.safetensors"
    meta = {"format": store.FORMAT, "kind": "consistency", "config": json.dumps(config.to_dict(C_CFG)),
            "teacher_config": "", "metrics": "{}", "backbone": "direct"}
    save_file({"net.net.0.weight": torch.tensor(1.0)}, str(path), metadata=meta)
    _assert_checkpoint_error(path)


def test_non_integer_hidden_in_a_checkpoint_is_a_checkpoint_error(tmp_path):
    # BUG (cmcore/store.py:100 via config.py:49): hidden=32.5 passes validate(), then MLP(32.5) raises TypeError.
    path = _write_with_meta(tmp_path / "t.safetensors", make_teacher(), "teacher",
                            {**config.to_dict(T_CFG), "hidden": 32.5})
    _assert_checkpoint_error(path)


def test_integer_fields_reject_non_integers():
    # BUG (cmcore/config.py:46-50): _check_range only compares with the bounds, so e.g. 64.5 hidden units pass.
    cases = [(TeacherConfig, "hidden", 64.5), (TeacherConfig, "steps", 30.5), (TeacherConfig, "batch", 100.5),
             (TeacherConfig, "seed", 1.5), (TeacherConfig, "threads", 1.5), (ConsistencyConfig, "n_levels", 12.5),
             (ConsistencyConfig, "steps", 10.5), (ConsistencyConfig, "batch", 64.5)]
    accepted = []
    for cls, field, value in cases:
        try:
            dataclasses.replace(cls(), **{field: value}).validate()
            accepted.append(f"{cls.__name__}.{field}={value}")
        except ValueError as exc:
            assert f"{cls.__name__}.{field}=" in str(exc)
    assert accepted == [], "validate() accepted non-integer values: " + ", ".join(accepted)


def test_kind_mismatch(tmp_path):
    t_path = _saved_teacher(tmp_path)
    _assert_checkpoint_error(t_path, kind="consistency")
    c_path = store.save(tmp_path / "c.safetensors", "consistency", make_cm("direct"), C_CFG, T_CFG)
    _assert_checkpoint_error(c_path, kind="teacher")


def test_config_mismatch(tmp_path):
    path = _saved_teacher(tmp_path)
    msg = _assert_checkpoint_error(path, expect_config=dataclasses.replace(T_CFG, seed=1))
    assert "different config" in msg


def test_weights_that_do_not_fit_the_config(tmp_path):
    path = store.save(tmp_path / "t.safetensors", "teacher", make_teacher(hidden=16), T_CFG)  # T_CFG says 32
    _assert_checkpoint_error(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights(tmp_path, bad):
    model = make_teacher()
    with torch.no_grad():
        model.net[2].weight[3, 4] = bad
    path = store.save(tmp_path / "t.safetensors", "teacher", model, T_CFG)
    msg = _assert_checkpoint_error(path)
    assert "NaN" in msg


def test_save_leaves_no_temp_files_and_replaces_an_existing_file_whole(tmp_path):
    folder = tmp_path / "ck"
    path = store.save(folder / "t.safetensors", "teacher", make_teacher(hidden=64),
                      dataclasses.replace(T_CFG, hidden=64), metrics={"big": list(range(1000))})
    assert sorted(os.listdir(folder)) == ["t.safetensors"]
    inode = path.stat().st_ino
    small = make_teacher(hidden=8, seed=3)
    store.save(path, "teacher", small, dataclasses.replace(T_CFG, hidden=8))
    assert sorted(os.listdir(folder)) == ["t.safetensors"]
    assert path.stat().st_ino != inode  # a new file renamed into place, not an in-place rewrite
    assert (path.stat().st_mode & 0o777) == 0o644
    fresh = store.save(tmp_path / "fresh" / "t.safetensors", "teacher", small, dataclasses.replace(T_CFG, hidden=8))
    # nothing of the old, bigger file is left (the header's key order may vary, its size does not)
    assert path.stat().st_size == fresh.stat().st_size
    ck = store.load(path)
    assert ck.config.hidden == 8 and ck.metrics == {} and state_equal(ck.model, small)


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = _saved_teacher(tmp_path)
    original = path.read_bytes()

    def broken_save_file(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(store, "save_file", broken_save_file)
    with pytest.raises(OSError, match="disk full"):
        store.save(path, "teacher", make_teacher(seed=5), T_CFG)
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_bytes() == original
    assert state_equal(store.load(path).model, make_teacher())


def test_loading_never_unpickles(tmp_path, monkeypatch):
    t_path = _saved_teacher(tmp_path)
    c_path = store.save(tmp_path / "c.safetensors", "consistency", make_cm("x0_from_velocity"), C_CFG, T_CFG)

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle/torch.load used while loading a checkpoint")

    class ForbiddenUnpickler:
        def __init__(self, *args, **kwargs):
            forbidden()

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", ForbiddenUnpickler)
    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(torch.serialization, "load", forbidden)
    assert state_equal(store.load(t_path, kind="teacher").model, make_teacher())
    assert state_equal(store.load(c_path, kind="consistency").model, make_cm("x0_from_velocity"))
    recipe = zoo.DEFAULT
    assert isinstance(zoo.load_teacher(recipe.teacher).model, MLP)
    assert isinstance(zoo.load_consistency(recipe.teacher, recipe.consistency).model, ConsistencyModel)


def test_zoo_refuses_a_consistency_model_of_another_teacher(tmp_path):
    other_teacher = dataclasses.replace(T_CFG, seed=9)
    path = zoo.consistency_path(T_CFG, C_CFG, tmp_path)
    store.save(path, "consistency", make_cm("direct"), C_CFG, other_teacher)
    with pytest.raises(store.CheckpointError, match="another teacher") as exc:
        zoo.load_consistency(T_CFG, C_CFG, tmp_path)
    assert str(path) in str(exc.value)
    with pytest.raises(store.CheckpointError, match="not found"):
        zoo.load_teacher(T_CFG, tmp_path)
