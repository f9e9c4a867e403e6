"""The periodic-chore thread and the session lookup shared by the job reaper and the session janitor, and the heap
freeze app.py renews."""
import gc
import threading
import time
import weakref
from pathlib import Path

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


def test_heap_freeze_is_renewed_so_closed_sessions_are_freed(monkeypatch):
    """Frozen objects skip the collector's full passes; a renewal (every FREEZE_EVERY_S) frees dead ones."""
    monkeypatch.setattr(housekeeping, "_frozen_at", [])

    class Node:
        pass

    a = Node()
    a.me = a  # a cycle: only the cyclic collector can free it
    ref = weakref.ref(a)
    t0 = 1000.0
    try:
        assert housekeeping.keep_heap_frozen(now=t0) and gc.get_freeze_count() > 0
        del a
        gc.collect()
        assert ref() is not None, "frozen: a full collection does not walk it"
        assert not housekeeping.keep_heap_frozen(now=t0 + 10), "at most one renewal per period"
        assert housekeeping.keep_heap_frozen(now=t0 + housekeeping.FREEZE_EVERY_S)
        assert ref() is None, "the renewal collected what died while frozen"
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_app_renews_the_heap_freeze_after_every_page_run():
    """The freeze belongs to the app, not to one page: app.py calls it once the page has run, whatever page."""
    app = (Path(__file__).resolve().parent.parent / "app.py").read_text()
    assert "keep_heap_frozen()" in app.split("st.navigation(PAGES).run()", 1)[1]
    pages = Path(__file__).resolve().parent.parent / "app_pages"
    assert not [p for p in pages.rglob("*.py") if "gc.freeze" in p.read_text()], "one freeze, app.py's, not a page's"
