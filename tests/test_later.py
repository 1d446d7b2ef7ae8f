"""ui/later.py's pool path (what production runs; the other AppTest tests set CONSISTENCY_FILL_IN=sync).

Each test runs ``fill_in`` in a real script run (AppTest) with the pool on, and stands in for the fragment's
later looks with script runs that call the fragment itself (AppTest never runs a fragment's timer).  The
computations are plain functions on a pool of one worker, held by events and a fake clock: ready, late, failed,
cancelled (a lapsed lease) and refused (a full queue).  The browser's timer is recorded, not sent.
"""
import concurrent.futures
import threading

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ui import later, shared, streamlit_internals
from tests.conftest import Clock

WAIT_S = 60
WHAT = "the test numbers of seed 4"


def script(scene):
    import streamlit as st

    from ui import later

    part = scene.get("look")
    if part is None:
        later.fill_in(scene["what"], scene["draw"], *scene["calls"])
    else:
        later._waiting_part(part)  # the fragment's later look
    st.caption("after the part")  # the page goes on below the part


def draw_value(value):
    st.markdown(f"value {value}")


class Scene:
    """A pool of one worker (``hold()`` keeps it busy), a memo on it, and the timer commands the part sent."""

    def __init__(self, monkeypatch, fn=lambda seed: seed * 10, **pool_kwargs):
        monkeypatch.setenv(later.SYNC_ENV, "")  # the pool path
        self.clock = Clock()
        self.pool = shared.Pool(1, hold_s=0, clock=self.clock, **pool_kwargs)
        self.express = shared.Pool(1, hold_s=0, nice=0, clock=self.clock, name="express")
        monkeypatch.setattr(shared, "POOL", self.pool)
        monkeypatch.setattr(shared, "EXPRESS", self.express)
        self.timer: list = []
        self.events: list = []  # timer commands and error messages, in the order the part sent them
        monkeypatch.setattr(streamlit_internals, "rerun_fragment_every",
                            lambda s: (self.timer.append(s), self.events.append(("timer", s))))
        error = st.error
        monkeypatch.setattr(st, "error", lambda *a, **k: (self.events.append(("error",)), error(*a, **k))[1])
        self.parts: list = []
        fragment = later._waiting_part
        monkeypatch.setattr(later, "_waiting_part", lambda part: (self.parts.append(part), fragment(part)))
        self.memo = shared.SharedCache(fn, max_entries=8, pool=self.pool)
        self.gate, self.started = threading.Event(), threading.Event()

    def hold(self):
        """Keep the only worker busy until ``release()``."""
        def block(_):
            self.started.set()
            return self.gate.wait(WAIT_S)
        self.held = shared.SharedCache(block, max_entries=1, pool=self.pool).start(0)
        assert self.started.wait(WAIT_S)

    def release(self):
        self.gate.set()
        assert self.held.result(WAIT_S)

    def run(self, draw=None, look=None, seed=4) -> AppTest:
        scene = {"what": WHAT, "draw": draw or draw_value,
                 "calls": [later.call(self.memo, seed)], "look": look}
        at = AppTest.from_function(script, args=(scene,), default_timeout=WAIT_S)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert [c.value for c in at.caption] == ["after the part"]  # the part never stops the page
        return at


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_ready_numbers_are_drawn_in_the_run_without_a_note(monkeypatch):
    scene = Scene(monkeypatch)
    scene.memo(4)  # held
    at = scene.run()
    assert markdown(at) == ["value 40"] and not at.info and not at.error
    assert scene.parts == [] and scene.timer == [None]  # no fragment was needed


def test_a_quiet_server_computes_at_once_and_draws_in_the_run_without_polling(monkeypatch):
    threads = []

    def fn(seed):
        threads.append(threading.current_thread().name)
        scene.started.set()
        return scene.gate.wait(WAIT_S) and seed * 10

    scene = Scene(monkeypatch, fn=fn)
    monkeypatch.setattr(later, "GRACE_S", 0.0)  # only the quiet server's wait can see the numbers in
    monkeypatch.setattr(later, "QUIET_WAIT_S", WAIT_S)
    threading.Thread(target=lambda: scene.started.wait(WAIT_S) and scene.gate.set(), daemon=True).start()
    at = scene.run()
    assert markdown(at) == ["value 40"] and not at.info and not at.error
    assert scene.parts == [] and scene.timer == [None]  # drawn in the run: no note, no fragment, no timer
    assert threads and threads[0].startswith("express")


def test_with_work_in_flight_the_numbers_queue_in_the_shared_pool(monkeypatch):
    threads = []
    scene = Scene(monkeypatch, fn=lambda seed: threads.append(threading.current_thread().name) or seed * 10)
    scene.hold()  # somebody else's computation is running
    scene.run()
    assert len(scene.parts) == 1 and scene.timer == [later.poll_interval(1)]  # the note, polling
    scene.release()
    assert scene.parts[0].futures[0].result(WAIT_S) == 40 and threads[0].startswith("fill-in")


def test_a_waiting_run_ends_when_the_student_asks_for_another(monkeypatch):
    class Asked(Exception):
        pass

    def asked():
        raise Asked

    monkeypatch.setattr(streamlit_internals, "end_run_if_asked", asked)
    never = concurrent.futures.Future()
    with pytest.raises(Asked):
        later.wait([never], WAIT_S)


def test_late_numbers_show_the_note_then_fill_in_and_the_timer_stops(monkeypatch):
    scene = Scene(monkeypatch, fn=lambda seed: scene.gate.wait(WAIT_S) and seed * 10)
    monkeypatch.setattr(later, "QUIET_WAIT_S", later.GRACE_S)
    at = scene.run()  # the computation runs but waits: the grace period passes, the note stays
    assert [i.value for i in at.info] == [later.waiting_text(WHAT, 0)] and markdown(at) == []
    assert scene.timer == [later.POLL_S] and len(scene.parts) == 1
    part = scene.parts[0]
    at = scene.run(look=part)  # a look while still computing: the note again, the timer kept
    assert [i.value for i in at.info] == [later.waiting_text(WHAT, 0)] and scene.timer[-1] == later.POLL_S
    scene.gate.set()
    part.futures[0].result(WAIT_S)
    at = scene.run(look=part)
    assert markdown(at) == ["value 40"] and not at.info and scene.timer[-1] is None


def test_a_note_behind_a_queue_says_how_much_is_ahead_and_polls_less_often(monkeypatch):
    scene = Scene(monkeypatch)
    scene.hold()
    others = [scene.memo.start(seed) for seed in range(10, 15)]
    scene.run()
    ahead = 1 + len(others)  # the running job and five queued ones
    assert scene.timer == [later.poll_interval(ahead)] and later.poll_interval(ahead) > later.POLL_S
    scene.release()


def test_a_failed_computation_shows_a_message_in_its_place_and_stops_the_timer(monkeypatch):
    def fails(seed):
        assert scene.gate.wait(WAIT_S)
        raise LookupError("the run is no longer held by this server")

    scene = Scene(monkeypatch, fn=fails)
    scene.run()
    part = scene.parts[0]
    scene.gate.set()
    with pytest.raises(LookupError):
        part.futures[0].result(WAIT_S)
    at = scene.run(look=part)
    gone = LookupError("the run is no longer held by this server")
    assert [e.value for e in at.error] == [later.failed_text(WHAT, gone)]
    assert "the run is no longer held by this server" in at.error[0].value and "reload" in at.error[0].value
    assert "Traceback" not in at.error[0].value and not at.info and scene.timer[-1] is None
    assert scene.events[-2:] == [("error",), ("timer", None)]  # the message first, as the numbers: then the stop
    at = scene.run(look=part)  # (were the timer still on) the next tick says the same, calmly
    assert len(at.error) == 1 and not at.exception


def test_a_computation_that_fails_at_once_shows_the_message_in_the_run(monkeypatch):
    scene = Scene(monkeypatch, fn=lambda seed: 1 / 0)
    at = scene.run()
    assert len(at.error) == 1 and at.error[0].value.startswith(f"Could not compute {WHAT} (division by zero)")
    assert scene.timer == [None]


def test_a_drawing_that_fails_shows_the_message_too(monkeypatch):
    def draw(value):
        raise ValueError(f"cannot draw {value}")

    scene = Scene(monkeypatch)
    scene.memo(4)
    at = scene.run(draw=draw)
    assert [e.value for e in at.error] == [later.failed_text(WHAT, ValueError("cannot draw 40"))]


def test_work_cancelled_while_nobody_looked_is_asked_for_again_at_the_next_look(monkeypatch):
    scene = Scene(monkeypatch, lease_s=15)
    scene.hold()
    scene.run()
    part = scene.parts[0]
    first = part.futures[0]
    scene.clock.now = 100.0  # the tab was hidden: nobody looked for longer than the lease
    assert scene.pool.drop_lapsed() == 1 and first.cancelled()
    at = scene.run(look=part)
    assert part.futures[0] is not first and not part.futures[0].done()  # asked for again, queued again
    assert [i.value for i in at.info] == [later.waiting_text(WHAT, 1)] and not at.error
    scene.release()
    assert part.futures[0].result(WAIT_S) == 40
    at = scene.run(look=part)
    assert markdown(at) == ["value 40"] and scene.timer[-1] is None and scene.memo.computed == 1


def test_every_look_renews_the_lease(monkeypatch):
    scene = Scene(monkeypatch, lease_s=15)
    scene.hold()
    scene.run()
    part = scene.parts[0]
    for now in (10.0, 20.0, 30.0):
        scene.clock.now = now
        scene.run(look=part)
        assert scene.pool.drop_lapsed() == 0 and not part.futures[0].cancelled()
    scene.release()


def test_a_full_queue_says_so_instead_of_queueing(monkeypatch):
    scene = Scene(monkeypatch, max_queued=1)
    scene.hold()
    scene.memo.start(99)  # somebody's awaited work fills the queue
    at = scene.run()
    assert [w.value for w in at.warning] == [later.busy_text(WHAT, 1)] and not at.info and not at.error
    assert "move a widget or reload the page" in at.warning[0].value and scene.parts == []
    assert not scene.memo.holds(4) and scene.memo.claim(4)[1]  # nothing of it was left in flight
    scene.release()


def test_prefetch_gives_way_when_the_queue_is_full(monkeypatch):
    scene = Scene(monkeypatch, max_queued=1)
    scene.hold()
    later.prefetch(later.call(scene.memo, 1))
    prefetched = scene.memo.claim(1)[0]
    scene.memo.start(2)  # a page that waits: the prefetch goes
    assert prefetched.cancelled()
    later.prefetch(later.call(scene.memo, 3))  # refused quietly: nobody waits for it
    assert scene.pool.queued() == 1
    scene.release()
