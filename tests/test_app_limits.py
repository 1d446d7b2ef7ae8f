"""Page 3 under the host's limits (issue 20): a link beyond them is refused with its reason, and an allowed
expensive link shows its estimate and place in the queue before anything is queued."""
from __future__ import annotations

import dataclasses

import pytest

from cmcore import costs, zoo
from cmcore.config import HostLimits
from tests.test_app_distillation import open_page, retrain_button, texts
from ui import retrain_costs, runs


@pytest.fixture
def host(monkeypatch):
    """Set this server's limits for one test (the process read them from the environment at start-up)."""
    def set_limits(**limits) -> HostLimits:
        limited = dataclasses.replace(HostLimits(), **limits)
        monkeypatch.setattr(retrain_costs, "HOST", limited)
        monkeypatch.setattr(retrain_costs, "BUDGET", costs.SessionBudget(limited.session_minutes * 60))
        return limited

    return set_limits


def test_a_link_beyond_the_step_and_batch_limits_is_corrected_with_the_servers_reason():
    at = open_page({"cd_steps": "50000", "cd_batch": "8000"})
    note = texts(at.warning).replace("\\", "")
    assert "“50000” is more than this server's limit per run (20,000)" in note
    assert "“8000” is more than this server's limit per run (4,096)" in note
    assert at.number_input(key="cd_steps").value == 1200


def test_a_link_past_the_time_limit_shows_its_estimate_and_is_refused_with_the_reason(host):
    host(max_run_minutes=1.0)
    at = open_page({"cd_steps": "20000", "cd_batch": "4096", "cd_seed": "77"})
    caption = texts(at.caption)
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=20_000, batch=4096, seed=77)
    est = retrain_costs.estimate("ours", cfg, "two_moons")
    assert f"Estimated time on this server: about {retrain_costs.duration(est.seconds)}" in caption
    refused = texts(at.error)
    assert "This server will not start this run." in refused
    assert f"It would train for about {retrain_costs.duration(est.seconds)} on this server, and a run may take at " \
           "most 1 min here" in refused
    retrain_button(at).click()
    at.run()
    assert "_retrain_job" not in at.session_state  # nothing was queued
    assert runs.manager().get(runs.model_id("ours", cfg)) is None


def test_a_session_past_its_budget_is_refused_with_when_it_fits_again(host):
    host(session_minutes=0.2)  # 12 s of training per session per hour: less than a default run's estimate
    at = open_page({"cd_seed": "78"})
    refused = texts(at.error)
    assert "a session may start 12 s per hour here" in refused and "It never fits" in refused


def test_an_allowed_expensive_link_shows_the_estimate_and_the_limits_as_time_before_anything_is_queued():
    at = open_page({"cd_steps": "20000", "cd_batch": "4096", "cd_seed": "79"})
    caption = texts(at.caption)
    assert "Estimated time on this server: about" in caption and "20,000 steps at" in caption
    assert "The trainer is free: it would start at once." in caption or "It would wait for" in caption \
        or "pauses for it" in caption
    assert "at most 24 h of training per run" in caption  # the tests' limit (tests/conftest.py)
    assert not at.error and "_retrain_job" not in at.session_state
