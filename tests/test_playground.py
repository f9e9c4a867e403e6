"""2-D playground page (AppTest): the in-browser element gets a link's set-up (bad values get a plain message),
the server path still trains and animates a server job, and the presets it teaches with (each listed once)
keep their promises: collapse vs all modes, checked on data."""
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from app_pages.playground import browser_element as be
from app_pages.playground import plot as pp
from app_shared import jobs as jobs_mod
from app_shared.training_ui.preset_pages import presets_for
from gan_core import Trainer
from gan_core.eval.metrics import toy_coverage
from gan_core.teach.presets import PRESETS
from tests import worker_probes as probes
from tools.harness.waiting import wait_for

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "playground" / "page.py")



@pytest.fixture
def pg_app(tmp_path, monkeypatch):
    import app_shared.session
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", tmp_path)
    jobs_mod.job_registry.clear()
    made = []

    def make(query=None):
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params.update(query or {})
        made.append(at)
        return at
    yield make
    for at in made:
        if "job" in at.session_state:
            at.session_state["job"].stop(timeout=20)
            assert not at.session_state["job"].is_alive()
    jobs_mod.job_registry().close()
    jobs_mod.job_registry.clear()


def test_browser_path_gets_the_links_setup(pg_app):
    at = pg_app({"preset": "ring8-minimax-collapse", "lr_d": "abc", "k": "3", "opt_g": "sgd", "z": "1"})
    at.run()
    assert not at.exception
    data = element_data(at, "gan_playground_trainer")
    assert data is not None and element_data(at, "gan_playground_player") is None, "the browser trains"
    setup = data["setup"]
    assert setup["preset"] is None and setup["loss"] == "minimax", "the preset's values, changed: custom"
    assert setup["lr_d"] == pytest.approx(1e-5), "a bad value keeps the preset's"
    assert setup["n_critic"] == 3 and setup["optimizer_g"] == "sgd" and setup["z_dim"] == 1
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "D's learning rate (lr_d='abc')" in warnings[0], warnings
    assert data["worker"].endswith("app/static/js/engine/train_worker.js") and data["spec"]["version"] >= 1
    assert data["warnings"]["onSeconds"] > 0 and data["palette"]["fake"].startswith("#")
    assert not at.get("vega_lite_chart"), "nothing trains on the server"
    plain = pg_app({"preset": "ring8-minimax-collapse"})
    plain.run()
    assert element_data(plain, "gan_playground_trainer")["setup"]["preset"] == "ring8-minimax-collapse"


def test_playground_draws_heatmap_and_arrows_and_steps_slowly(pg_app):
    at = pg_app({"preset": "ring8-nonsaturating", "engine": "server"})
    at.run()
    assert not at.exception
    assert any(c.value == "Training on the server." for c in at.caption)
    assert at.session_state["pg_loss"] == "nonsaturating" and at.session_state["pg_lr_g"] == pytest.approx(1e-3)
    assert at.session_state["pg_beta1"] == 0.0 and at.session_state["pg_batch_size"] == 1024, "no momentum, big batch"
    assert at.selectbox(key="pg_dataset").options == ["ring8", "grid25", "spiral", "moons"]  # toys only
    at.button(key="pg_start").click().run()
    job = at.session_state["job"]
    assert job.wait_until(30, timeout=60)
    at.run()
    assert not at.exception
    sent = player_data(at)
    assert sent is not None and not at.image, "while it trains, the canvas plays frames (no static plot)"
    assert sent["state"] == "running" and sent["frames"] and sent["frames"][-1]["step"] > 0
    assert set(sent["palette"]) >= {"real", "fake", "fakeOutline"} and len(sent["lut"]) == 1024  # 768 bytes
    last = sent["frames"][-1]["seq"]
    time.sleep(1.0)
    at.run()
    again = player_data(at)["frames"]
    assert len(again) >= 10 and again[0]["seq"] > last, "one batch per refresh: the frames since the last one"
    assert len(at.get("vega_lite_chart")) >= 3
    labels = [m.label for m in at.metric]
    assert labels.count("Modes covered") == 1 and "Modes held" not in labels, "one mode count, one definition"
    assert any(c.value.startswith("A mode counts as covered when") for c in at.caption), "it says how it is computed"
    assert "step" in " ".join(m.value for m in at.markdown)

    at.radio(key="pg_mode").set_value("Slow motion").run()  # the job is held paused and stepped per tick
    assert wait_for(lambda: job.state.value == "paused")
    at.run()
    status = [m.value for m in at.markdown if " · device " in m.value]
    assert len(status) == 1 and status[0].startswith("**slow motion (5 steps/s)** · "), status  # not "paused"
    before = settled_steps(job)  # each page run in slow motion queued 5 steps (each with its frame)
    assert pp.playground_tick(job, "Slow motion", 5) == 5  # what the fragment does each second
    assert wait_for(lambda: job.trainer.step_count == before + 5)
    time.sleep(0.2)
    assert job.trainer.step_count == before + 5

    field = pp.current_field(job, n_points=128, resolution=50)  # paused: the models hold still
    fig = pp.field_figure(field)
    heat = pp.heatmap_of(fig)
    assert heat.shape == (50, 50) and 0 <= heat.min() < heat.max() <= 1
    i, j = 10, 40  # the drawn value at row i (y), column j (x) is D there
    point = [[float(field.xs[j]), float(field.ys[i])]]
    d_there = float(job.call(probes.discriminator_probability, point).reshape(-1)[0])
    assert heat[i, j] == pytest.approx(d_there, rel=1e-4)
    arrows = pp.arrows_of(fig)
    assert arrows.shape == (min(pp.MAX_ARROWS, 128), 2) and np.allclose(arrows, field.grads[:len(arrows)])
    assert np.isfinite(arrows).all() and np.linalg.norm(arrows, axis=1).max() > 0
    # each arrow is -d(-log D(x))/dx at its fake point: it points up D's slope
    up = job.call(probes.discriminator_input_gradient, field.fake[:1].tolist())
    assert float(up[0] @ arrows[0]) > 0
    import matplotlib.pyplot as plt
    plt.close(fig)
    at.button(key="pg_stop").click().run()
    assert not job.is_alive() and job.state.value == "stopped"
    at.run()
    assert not at.exception and len(at.image) >= 1 and player_data(at) is None, "ended: the static plot"


def settled_steps(job, quiet: float = 0.6) -> int:
    """The step count once the job's queued single steps are done (the count holds still for `quiet` s)."""
    assert wait_for(lambda: job.state.value == "paused")
    while True:
        steps = job.trainer.step_count
        time.sleep(quiet)
        if job.trainer.step_count == steps:
            return steps


def element_data(at: AppTest, name: str) -> dict | None:
    """What the page sent a components-v2 element in its last run (None: no such element)."""
    found = [el for el in at.main if getattr(el, "type", "") == "bidi_component"
             and el.proto.component_name.endswith(name)]
    return json.loads(found[0].proto.json) if found else None


def player_data(at: AppTest) -> dict | None:
    """What the page sent the server path's canvas element (the frames player) in its last run."""
    return element_data(at, "gan_playground_player")


def _spread_after(slug, steps, seed=0):
    torch.set_num_threads(1)
    t = Trainer(PRESETS[slug].config(seed=seed))
    for _ in range(steps):
        t.step()
    pts = t.generate(torch.randn(1000, t.config.z_dim, generator=torch.Generator().manual_seed(3)))
    return toy_coverage("ring8", pts)


def test_collapse_preset_collapses_and_nonsaturating_covers():
    collapsed = _spread_after("ring8-minimax-collapse", 1000)
    covered = _spread_after("ring8-nonsaturating", 1000)
    assert collapsed["modes_covered"] <= 2, collapsed
    assert covered["modes_covered"] >= 7, covered


def test_playground_presets_are_toys_each_listed_once():
    slugs = {p.slug for p in presets_for("playground")}
    assert {"ring8-minimax-collapse", "ring8-nonsaturating", "ring8-wgan-gp", "show-mode-collapse"} <= slugs
    shown = [p.slug for p in be.browser_presets()]
    assert {"ring8-minimax-collapse", "ring8-nonsaturating", "ring8-wgan-gp"} <= set(shown)
    assert "show-mode-collapse" not in shown and "nonsaturating-ring8" not in shown, "the Train copies, once"
    setups = [be.preset_setup(p) for p in be.browser_presets()]
    assert all(a != b for i, a in enumerate(setups) for b in setups[i + 1:])
    assert all(PRESETS[s].config().dataset in ("ring8", "grid25", "spiral", "moons") for s in slugs)
