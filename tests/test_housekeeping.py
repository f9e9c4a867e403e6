"""The periodic-chore thread and the session lookup shared by the job reaper and the session janitor."""
import threading
import time

from app_shared import housekeeping
from app_shared.housekeeping import Every, session_connected
from tools.harness.waiting import wait_for


def test_every_keeps_going_after_a_failing_pass_and_stops_on_close(caplog):
    calls = []

    def chore():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("a bad pass")

    every = Every(0.05, chore, name="TestChore")
    assert wait_for(lambda: len(calls) >= 3, timeout=5)  # the failure did not end the thread
    failed = [r for r in caplog.records if r.name == "app_shared.housekeeping" and r.levelname == "ERROR"]
    assert len(failed) == 1 and "TestChore: a pass failed" in failed[0].getMessage()
    assert "a bad pass" in str(failed[0].exc_info[1]), "the failure is logged with its exception, not dropped"
    every.close()
    assert wait_for(lambda: not any(t.name == "TestChore" for t in threading.enumerate()), timeout=5)
    stopped_at = len(calls)
    time.sleep(0.2)
    assert len(calls) == stopped_at


class FakeRuntime:
    def __init__(self, live=(), broken=False):
        self.live, self.broken = set(live), broken

    def is_active_session(self, sid):
        if self.broken:
            raise AttributeError("moved")
        return sid in self.live


def test_session_connected_is_unknown_without_an_id_a_runtime_or_a_working_api(caplog, monkeypatch):
    monkeypatch.setattr(housekeeping, "_moved_apis_told", set())  # as in a fresh server process
    assert session_connected("a", FakeRuntime(live={"a"})) is True
    assert session_connected("b", FakeRuntime(live={"a"})) is False
    assert session_connected(None, FakeRuntime(live={"a"})) is None
    assert session_connected("a") is None  # no Streamlit runtime in this process
    assert session_connected("a", FakeRuntime(broken=True)) is None
    assert session_connected("a", FakeRuntime(broken=True)) is None
    moved = [r for r in caplog.records if "is_active_session is not usable" in r.getMessage()]
    assert len(moved) == 1 and moved[0].levelname == "WARNING", "said once, not on every pass"
