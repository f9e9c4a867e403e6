"""The browser training engine's Web Worker in headless Chromium (tools/harness/engine_page.py): it starts on
the WASM backend, trains, answers frames from the current weights, computes the gradient penalty's gradient of
a gradient there, steps D alone and G alone, hands back weights under gan_core's names, and falls back to the
cpu backend (saying why) when the WASM files cannot load. Under CI=true a missing Chromium fails."""
from __future__ import annotations

import pytest

from gan_core.nn.models import ToyGenerator
from gan_core.teach.browser_spec import browser_spec
from tests.browser_fixtures import *  # noqa: F403 (chromium: the one Playwright instance of the session)
from tools.harness.engine_page import engine_server


@pytest.fixture(scope="module")
def engine_page(chromium):
    """One page of the bare engine harness; the browser is the module's shared Chromium (a second sync Playwright
    in the same process fails once pytest-playwright's instance is running)."""
    with engine_server(browser_spec()) as url:
        page = chromium.new_page()
        page.goto(f"{url}/engine.html")
        page.wait_for_function("window.engineLoaded === true")
        yield page
        page.close()


def test_worker_trains_on_wasm_and_answers_frames(engine_page):
    page = engine_page
    ready = page.evaluate("engineStart({config: {toy_hidden: 16, batch_size: 64}, seed: 3})")
    assert ready["backend"] == "wasm" and ready["fallbackReason"] is None
    spec = browser_spec()
    first = page.evaluate("engineFrame()")
    n, grid, manifold = spec["frame"]["points"], spec["frame"]["grid"], spec["frame"]["manifold"]
    assert first["lengths"] == [2 * n, 2 * n, grid * grid, 2 * manifold * manifold] and first["finite"]
    assert first["step"] == 0 and first["losses"] == {"d": None, "g": None}

    page.evaluate("engineSend({type: 'step', which: 'd'})")
    after_d = page.evaluate("engineFrame()")
    assert (after_d["dSteps"], after_d["gSteps"]) == (1, 0)
    assert after_d["fakeSum"] == first["fakeSum"] and after_d["surfaceSum"] != first["surfaceSum"]  # only D moved
    page.evaluate("engineSend({type: 'step', which: 'g'})")
    after_g = page.evaluate("engineFrame()")
    assert after_g["fakeSum"] != after_d["fakeSum"] and after_g["surfaceSum"] == after_d["surfaceSum"]

    # WGAN-GP needs a gradient of a gradient: it must train on WASM, not error
    config = page.evaluate("engineSend({type: 'set', changes: {loss: 'wgan-gp', gp_weight: 0.1}}, 'config')")
    assert config["config"]["n_critic"] == 5
    run = page.evaluate("engineMeasure({seconds: 1.5})")
    assert run["steps"] > 0 and run["frames"] > 3
    frame = page.evaluate("engineFrame()")
    assert frame["finite"] and frame["losses"]["d"] is not None
    assert page.evaluate("window.engineErrors") == []

    weights = page.evaluate("""engineSend({type: 'weights'}, 'weights').then((w) => Object.fromEntries(
        Object.entries(w.tensors).map(([k, t]) => [k, [t.shape, t.data.length]])))""")
    expected = ToyGenerator(2, hidden=16, depth=spec["defaults"]["toy_depth"]).state_dict()
    assert {k: [list(v.shape), v.numel()] for k, v in expected.items()} == weights

    # drawn points become the data: no modes to count, the view the page gave
    page.evaluate("engineSend({type: 'data', points: new Float32Array([1, 1, -1, -1, 0.5, -1]), extent: 2})")
    page.evaluate("engineSend({type: 'step', which: 'both'})")
    drawn = page.evaluate("engineFrame()")
    assert drawn["coverage"] is None and drawn["extent"] == 2 and drawn["finite"]


def test_blocked_wasm_falls_back_to_cpu_and_says_why(engine_page):
    page = engine_page
    page.route("**/*.wasm", lambda route: route.abort())
    try:
        page.reload()
        page.wait_for_function("window.engineLoaded === true")
        ready = page.evaluate("engineStart({config: {toy_hidden: 8, batch_size: 32}, seed: 0})")
        assert ready["backend"] == "cpu" and "WASM" in ready["fallbackReason"]
        page.evaluate("engineSend({type: 'step', which: 'both'})")
        assert page.evaluate("engineFrame()")["step"] == 1
    finally:
        page.unroute("**/*.wasm")
