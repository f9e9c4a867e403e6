"""The session janitor: a closed tab's session is shut down (state and media released) after the TTL."""
import tempfile

from app_shared.session_janitor import SessionJanitor, limit_malloc_arenas, release_free_memory
from tools.harness.streamlit_server import running_server
from tools.harness.streamlit_ws_client import StreamlitSession, http_get
from tools.harness.waiting import run_async, wait_for


class FakeRuntime:
    def __init__(self) -> None:
        self.active: set[str] = set()
        self.closed: list[str] = []

    def is_active_session(self, sid: str) -> bool:
        return sid in self.active

    def close_session(self, sid: str) -> None:
        self.closed.append(sid)


def test_sweep_closes_only_sessions_disconnected_long_enough():
    janitor = SessionJanitor(release_after=10.0, pass_every=3600)
    try:
        rt = FakeRuntime()
        rt.active = {"a", "b"}
        for sid in ("a", "b", None):
            janitor.seen(sid)
        assert janitor.tracked() == 2
        assert janitor.sweep(now=0.0, runtime=rt) == []
        rt.active = {"b"}  # a's tab closes
        assert janitor.sweep(now=1.0, runtime=rt) == []  # noted as disconnected at t=1
        assert janitor.sweep(now=10.5, runtime=rt) == []  # 9.5 s: not yet
        rt.active = set()  # b closes at t=10.5...
        assert janitor.sweep(now=10.6, runtime=rt) == []
        rt.active = {"b"}  # ...and reconnects (a network blip): its clock starts again
        assert janitor.sweep(now=11.0, runtime=rt) == ["a"]
        assert rt.closed == ["a"] and janitor.tracked() == 1 and janitor.released == 1
        rt.active = set()
        assert janitor.sweep(now=12.0, runtime=rt) == []
        assert janitor.sweep(now=22.0, runtime=rt) == ["b"] and janitor.tracked() == 0
        janitor.seen("c")

        def moved(sid):  # Streamlit's internal API changed: whether c is connected cannot be known
            raise AttributeError("is_active_session")
        rt.is_active_session = moved
        assert janitor.sweep(now=30.0, runtime=rt) == [] and janitor.sweep(now=100.0, runtime=rt) == []
        assert "c" not in rt.closed and janitor.tracked() == 1  # never close what may be a live tab
    finally:
        janitor.close()


def test_allocator_calls_work_on_glibc():
    import ctypes
    try:
        assert callable(ctypes.CDLL("libc.so.6").mallopt)
    except OSError:  # not glibc: both are no-ops that say so
        assert limit_malloc_arenas() is False and release_free_memory() is False
        return
    assert limit_malloc_arenas(2) is True  # mallopt accepted M_ARENA_MAX (it answers 0 to an unknown option)
    assert isinstance(release_free_memory(), bool)  # True when glibc trimmed something


async def open_and_leave(url: str) -> str:
    session = StreamlitSession(timeout=60)
    await session.open(url, "/", "render=server")
    image = session.image("sample")
    assert (await http_get(image, timeout=30))[0] == 200
    await session.close()
    return image


def test_closed_tab_session_is_shut_down_and_its_media_released():
    """With a 12 s TTL the janitor closes the left session after ~2 s: its image URL stops being served."""
    env = {"GAN_APP_RUNS_DIR": tempfile.mkdtemp(prefix="gan-janitor-")}
    with running_server("app.py", env=env, timeout=120,
                        extra_args=["--server.disconnectedSessionTTL", "12"]) as server:
        image = run_async(open_and_leave(server.url))
        assert run_async(http_get(image, timeout=30))[0] == 200  # kept for a reconnect at first

        def released() -> bool:
            return run_async(http_get(image, timeout=30))[0] == 404
        assert wait_for(released, timeout=40), "the closed session's media was never released"
        assert "Traceback" not in server.log()
