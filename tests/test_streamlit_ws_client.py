"""The websocket client the load test uses, driven against the real app: it must see what a browser sees.

One server for the module (started under `nice`, always stopped). The server caches every
ForwardMsg (global.minCachedMessageSize=0) so the client's cached_message_hashes / ref_hash handling
is exercised on every rerun instead of only for messages over 10 kB.
"""
from __future__ import annotations

import asyncio
import io
import re
import statistics
import tempfile

import numpy as np
import pytest
from PIL import Image

from tools.harness.streamlit_server import running_server
from tools.harness.streamlit_ws_client import ProtocolError, StreamlitSession, http_get
from tools.harness.waiting import run_async

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="ws-client-runs-") as runs:
        env = {"GAN_APP_RUNS_DIR": runs, "STREAMLIT_GLOBAL_MIN_CACHED_MESSAGE_SIZE": "0"}
        with running_server("app.py", env=env, nice=10) as srv:
            yield srv


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.int16)


def run(coro):
    return run_async(coro, 90)


def test_explore_page_sample_and_slider(server):
    async def go():
        async with StreamlitSession(timeout=30) as s:
            await s.open(server.url, "/", "render=server")
            assert s.page_script_hash, "new_session named the page that ran"
            url0 = s.image("sample")
            z0 = s.widget("z[0]")
            assert z0.kind == "slider" and z0.fragment_id, "z[0] is drawn inside the explorer fragment"
            assert s.widget("Model").fragment_id is None, "the model box is outside the fragment"
            start = s.value("z[0]")
            assert isinstance(start, float) and -4.0 <= start <= 4.0
            png0 = await s.fetch(url0)
            finished_before = len(s.finished)

            new = start + 1.5 if start < 2.0 else start - 1.5
            seconds = await s.set_widget("z[0]", new)
            assert 0 < seconds < 30
            assert s.finished[finished_before:][-1] == 3, "only the fragment reran (FINISHED_FRAGMENT_RUN_SUCCESSFULLY)"
            assert abs(s.value("z[0]") - new) < 1e-6
            assert "z=0%3A" in s.query, "the page wrote the moved slider into the URL (page_info_changed)"
            url1 = s.image("sample")
            png1 = await s.fetch(url1)
            assert url1 != url0
            assert png1 != png0 and np.abs(pixels(png1) - pixels(png0)).max() > 10

            await s.set_widget("z[0]", start)
            png2 = await s.fetch(s.image("sample"))
            assert np.array_equal(pixels(png2), pixels(png0)), "same z gives the same picture"

            await s.set_widget("Seed", "7")  # text_input, inside the fragment; on_change resets the sliders
            assert s.value("Seed") == "7" and s.value("z[0]") != start
            await s.click("Reset")
            assert s.value("Seed") == "7"
            assert s.widget("Class").kind == "selectbox"
            await s.set_widget("Class", 3)  # by index, sent as the option's text
            assert s.image("sample").startswith(server.url + "/media/")
            assert [c for c, _ in s.images() if c.startswith("sample")] == ["sample — 3"]
            assert s.exceptions() == []
            assert s.cache.ref_hits > 0, "unchanged elements came back as ref_hash and were resolved"
            assert any("latent space" in t for t in s.texts())
    run(go())
    assert "Traceback" not in server.log()


def test_two_sessions_are_independent(server):
    async def go():
        a, b = StreamlitSession(timeout=30), StreamlitSession(timeout=30)
        try:
            await asyncio.gather(a.open(server.url, "/", "render=server"), b.open(server.url, "/", "render=server"))
            assert a.session_id != b.session_id
            b_url, b_png = b.image("sample"), await b.fetch(b.image("sample"))
            start = a.value("z[0]")
            await asyncio.gather(a.set_widget("z[0]", start + 1.0), b.rerun())
            assert b.finished[-1] == 0, "b's rerun was a full run (FINISHED_SUCCESSFULLY)"
            assert b.image("sample") == b_url or np.array_equal(
                pixels(await b.fetch(b.image("sample"))), pixels(b_png)), "moving a did not change b"
            assert abs(b.value("z[0]") - start) < 1e-6 and abs(a.value("z[0]") - (start + 1.0)) < 1e-6
            assert a.image("sample") != b.image("sample")
            assert a.exceptions() == [] and b.exceptions() == []
        finally:
            await asyncio.gather(a.close(), b.close())
    run(go())
    assert "Traceback" not in server.log()


def test_slider_move_latency_idle(server):
    """~20 slider moves (move_slider), each timed from sending the value to having the new picture's bytes."""
    async def go():
        async with StreamlitSession(timeout=30) as s:
            await s.open(server.url, "/", "render=server")
            step = 0.1 if s.value("z[1]") < 0 else -0.1
            times = []
            for _ in range(20):
                before = s.value("z[1]")
                times.append(await s.move_slider("z[1]", step, "sample"))
                assert abs(s.value("z[1]") - (before + step)) < 1e-6
                assert len(await s.fetch(s.image("sample"))) > 100
            with pytest.raises(AssertionError, match="did not change"):
                await s.move_slider("z[1]", 0.0, "sample")  # the same value: the same image
            return times
    times = sorted(run(go()))
    p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    print(f"\nslider move via websocket client, idle server: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    assert 0 < p50 <= p95 < 10


def test_other_page_stays_selected_and_select_slider_sends_option_text(server):
    """Reruns stay on /train (st.navigation's page hash), and the timeline's st.select_slider is sent
    as option text, as the browser does (numbers there make the server raise)."""
    async def go():
        async with StreamlitSession(timeout=60) as s:
            await s.open(server.url, "/train", "preset=nonsaturating-ring8")
            await s.click("Start")
            assert any("Train a GAN" in t for t in s.texts()), "the click's rerun stayed on the Train page"
            for _ in range(40):  # the timeline appears once the run has a few snapshots
                await asyncio.sleep(0.5)
                await s.rerun()
                if any(w.label == "Snapshot at step" for w in s.widgets()):
                    break
            timeline = s.widget("Snapshot at step")
            assert timeline.kind == "slider" and len(timeline.proto.options) >= 2
            await s.set_widget("Snapshot at step", 0)
            first = timeline.proto.options[0]
            assert [c for c, _ in s.images() if c.startswith("fixed noise")] == [f"fixed noise at step {first}"]
            assert s.exceptions() == []
            await s.click("Stop")
    run(go())
    assert "Traceback" not in server.log()


def step_of(status_line: str) -> int:
    """The step count in the Train page's status line ("… · step 1,234 · …")."""
    return int(re.search(r"step ([\d,]+)", status_line).group(1).replace(",", ""))


def test_follows_run_every_like_the_browser_and_stops_when_the_job_does(server):
    """With follow_auto_reruns the Train page's live panel (st.fragment(run_every=1)) redraws on its own:
    the step climbs and each new sample image is fetched once; the job's end is a full run, which
    cancels the timer, and no auto-rerun is sent after it."""
    async def go():
        async with StreamlitSession(timeout=60, follow_auto_reruns=True, fetch_images=True) as s:
            await s.open(server.url, "/train", "preset=nonsaturating-ring8")
            assert not s._timers, "no job yet: the live panel has no run_every"
            await s.click("Start")
            first = await s.wait_for_text(r"^\*\*running\*\* · .* · step [1-9]", timeout=60)
            # the job's start reruns the page in full (its buttons change): that run's new_session cancels
            # the first timer, and its own auto_rerun message comes after the panel's text
            for _ in range(100):
                if s._timers:
                    break
                await asyncio.sleep(0.1)
            assert s.auto_reruns and s.auto_reruns[-1][0] == 1.0 and s.auto_reruns[-1][1] in s._timers
            sent_at_first = s.auto_reruns_sent
            step = step_of(first)
            later = await s.wait_for_text(r"^\*\*running\*\*", timeout=5)
            deadline = asyncio.get_running_loop().time() + 30
            while step_of(later) <= step:
                assert asyncio.get_running_loop().time() < deadline, "the step never climbed: no auto-rerun ran"
                await asyncio.sleep(0.5)
                later = await s.wait_for_text(r"^\*\*running\*\*", timeout=5)
            await asyncio.sleep(2.5)
            assert s.auto_reruns_sent >= sent_at_first + 2, "the timer keeps sending about once a second"
            assert s._sent > s.auto_reruns_sent, "auto-reruns are counted apart from the clicks"
            assert len(s.images_fetched) >= 2 and not s.image_errors, (s.images_fetched, s.image_errors)
            assert len(set(s.images_fetched)) == len(s.images_fetched), "an image is fetched once"
            await s.click("Stop")
            await s.wait_for_text(r"^\*\*stopped\*\*", timeout=30)
            await asyncio.sleep(0.5)
            assert not s._timers, "the job's end reran the page in full, which cancels the timers"
            sent = s.auto_reruns_sent
            await asyncio.sleep(2.5)
            assert s.auto_reruns_sent == sent
            assert s.exceptions() == []
    run(go())
    assert "Traceback" not in server.log()


def test_refuses_non_local_addresses_and_bounds_waits(server):
    with pytest.raises(ValueError):
        run(StreamlitSession().open("http://example.com:80"))
    with pytest.raises(ValueError):
        run(http_get("http://10.0.0.1/"))

    async def go():
        async with StreamlitSession(timeout=30) as s:
            await s.open(server.url, "/", "render=server")
            with pytest.raises(KeyError):
                s.image("no such caption")
            with pytest.raises(KeyError):
                s.widget("no such widget")
            await s._ws.close()  # the connection drops: the next move fails fast instead of hanging
            await asyncio.sleep(0.2)
            with pytest.raises(ProtocolError):
                await s.set_widget("z[0]", 0.0)
    run(go())
