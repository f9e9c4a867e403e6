"""Explore's in-browser view, server side: the file the browser runs, the data it is sent, the state it sends back.

The browser itself is driven in tests/test_browser_explore.py; here the ONNX file is checked with
onnxruntime (the same graph ONNX Runtime Web runs), and the page with AppTest.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import REPO
from streamlit.testing.v1 import AppTest

from app_pages.explore import browser_model as bm
from app_pages.explore import browser_view as bv
from app_pages.explore import compute as ec
from app_pages.explore.state import ExploreState, ModelInfo
from gan_core import save_checkpoint
from gan_core.explore.class_blend import generate_blended
from gan_core.explore.directions import find_directions
from gan_core.explore.latent import sample_latents
from gan_core.io.checkpoint import load_checkpoint
from gan_core.io.onnx_export import FLOAT16_TOLERANCE, onnx_session, run_onnx
from gan_core.nn.models import build_models

UID = "sess1"


def tiny(folder, name: str, model: str, z_dim: int, classes: int | None):
    torch.manual_seed(0)
    shape = None if model == "toy" else (1, 28, 28)
    g, d = build_models(model, z_dim, shape, classes)
    meta = {"model": model, "z_dim": z_dim, "num_classes": classes, "image_shape": list(shape) if shape else None,
            "dataset": "ring8" if model == "toy" else "mnist", "name": name,
            "class_names": [f"c{i}" for i in range(classes)] if classes else None}
    return load_checkpoint(save_checkpoint(folder / name, g.eval(), meta, d.eval()), "cpu")


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "static-models"
    monkeypatch.setattr(bm, "MODELS_DIR", folder)
    return folder


@pytest.mark.parametrize("model", ["cgan-mlp", "cgan-dcgan"])
def test_the_browser_file_gives_torchs_images_and_class_blends(tmp_path, models_dir, model):
    gan = tiny(tmp_path, f"tiny-{model}", model, 12, 4)
    made = bm.browser_model(gan)
    assert made.output == "images" and made.weights == "float16" and made.max_abs_diff <= FLOAT16_TOLERANCE
    session = onnx_session((models_dir / f"{made.sha256}.onnx").read_bytes())
    table = torch.from_numpy(made.embedding)
    assert torch.equal(table, gan.generator.embed.weight.detach()), "the page gets the generator's own table"
    z, labels = sample_latents(5, 12, seed=3), torch.tensor([0, 1, 2, 3, 1])
    got = run_onnx(session, {"z": torch.cat([z, table[labels]], 1).numpy()})
    assert np.abs(got - gan.generate(z, labels).numpy()).max() <= FLOAT16_TOLERANCE, "a class looked up in the table"
    t = torch.linspace(0, 1, 5)
    blend = (1 - t)[:, None] * table[1] + t[:, None] * table[3]
    got = run_onnx(session, {"z": torch.cat([z, blend], 1).numpy()})
    assert np.abs(got - generate_blended(gan, z, 1, 3, t).numpy()).max() <= FLOAT16_TOLERANCE, "a blend of classes"


def test_the_file_is_made_once_and_remembered_on_disk(tmp_path, models_dir, monkeypatch):
    gan = tiny(tmp_path, "tiny-toy", "toy", 2, None)
    first = bm.browser_model(gan)
    assert first.embedding is None and first.output == "points"
    assert (models_dir / f"{first.sha256}.onnx").stat().st_size == first.size
    assert first.url_path == f"app/static/models/{first.sha256}.onnx"

    def no_export(_gan):
        raise AssertionError("exported again")
    monkeypatch.setattr(bm, "export_generator", no_export)
    assert bm.browser_model(gan) == first, "a restarted server reuses the file it wrote"
    (models_dir / f"{first.sha256}.onnx").unlink()
    with pytest.raises(AssertionError, match="exported again"):
        bm.browser_model(gan)  # the record points at a file that is gone: export again


def test_a_conditional_model_without_an_embedding_table_is_refused(tmp_path, models_dir):
    gan = tiny(tmp_path, "tiny-cgan", "cgan-mlp", 8, 3)
    gan.generator.embed = None
    with pytest.raises(bm.ExportError, match="no class embedding table"):
        bm.browser_model(gan)


def test_the_data_carries_seeds_as_python_draws_them_and_no_weights(tmp_path, models_dir):
    gan = tiny(tmp_path, "tiny-cgan", "cgan-mlp", 20, 10)
    made = bm.browser_model(gan)
    directions = find_directions(gan, k=8)
    state = ExploreState("session: tiny-cgan", seed=7, cls=3, truncation=0.8, z={17: 1.5}, dirs={0: 1.0})
    interp = bv.Interpolation(seed_b=123)
    pool = bv.refill_pool([7, 9], 7)
    assert len(pool) == bv.POOL_SIZE and 7 not in pool and 9 in pool
    data = bv.explorer_data(gan, directions, made, state, interp, pool, ack=4)
    text = json.dumps(data)
    assert len(text) < 30_000 < made.size, "small, and never the weights"

    def decode(b64: str) -> np.ndarray:
        import base64
        return np.frombuffer(base64.b64decode(b64), dtype="<f4")
    for seed in (7, 8, 12, 4, 123, *pool):
        assert np.array_equal(decode(data["seeds"][str(seed)]), sample_latents(1, 20, seed=seed)[0].numpy()), seed
    assert np.array_equal(decode(data["directions"]["vectors"]).reshape(8, 20), directions.vectors.numpy())
    assert 17 in data["dims"] and len(data["dims"]) == 16, "an edited later dimension gets its slider"
    assert data["state"] == {"seed": 7, "cls": 3, "trunc": 0.8, "z": {"17": 1.5}, "dirs": {"0": 1.0},
                             "interp": {"mode": "seeds", "seedB": 123, "classB": None, "method": "slerp",
                                        "steps": 8}}
    assert data["ack"] == 4 and data["model"]["url"].endswith(f"{made.sha256}.onnx")
    assert data["runtime"]["wasmBytes"] > 1_000_000, "the vendored ONNX Runtime Web .wasm is in static/"
    assert data["limits"] == {"z": ec.Z_LIMIT, "dir": ec.DIR_LIMIT, "trunc": list(ec.TRUNC_RANGE),
                              "seedMax": ec.SEED_MAX, "randomSeeds": ec.RANDOM_SEEDS, "plot": 3.0,
                              "gridColumns": ec.GRID_COLUMNS, "steps": [3, 16]}, "every limit comes from Python"
    entry, _, version = data["entry"].partition("?v=")
    assert entry == "app/static/js/explore/main.js" and (REPO / "static" / "js" / "explore" / "main.js").is_file()
    assert len(version) == 12, "the entry's URL changes with the code, so no browser runs an old copy"


def test_the_browsers_state_is_checked_like_a_link():
    info = ModelInfo(z_dim=20, num_classes=10, n_directions=8)
    good = {"seed": 42, "cls": 3, "trunc": 0.75, "z": {"0": 1.25, "17": -2}, "dirs": {"1": 0.5}, "nonce": 3}
    state, notices = bv.view_state(good, "m", info)
    assert (state.seed, state.cls, state.truncation, state.z, state.dirs) == (42, 3, 0.75, {0: 1.25, 17: -2.0},
                                                                             {1: 0.5})
    assert notices == []
    bad = {"seed": -1, "cls": 12, "trunc": "nan", "z": {"0": 99, "x": 1}, "dirs": "rm -rf", "nonce": "x"}
    state, notices = bv.view_state(bad, "m", info)
    assert (state.seed, state.cls, state.truncation, state.z, state.dirs) == (0, 0, 1.0, {}, {})
    assert len(notices) == 5 and all("from the page" in n for n in notices), notices


def test_the_strip_settings_from_the_browser_fall_back_when_malformed():
    ok = bv.view_interpolation({"mode": "classes", "seedB": 5, "classB": 2, "method": "lerp", "steps": 16}, 10)
    assert ok == bv.Interpolation("classes", 5, 2, "lerp", 16)
    bad = bv.view_interpolation({"mode": "classes", "seedB": True, "classB": 10, "method": "x", "steps": 99}, None)
    assert bad == bv.Interpolation()
    assert bv.view_interpolation("nonsense", 10) == bv.Interpolation()


class FakeState(dict):
    """Session state as the callbacks use it (attribute and item access)."""

    __getattr__ = dict.get

    def __setattr__(self, key, value):
        self[key] = value


def test_a_move_the_browser_reports_becomes_the_pages_state(monkeypatch):
    from app_pages.explore import widgets as ew
    from app_pages.explore.state import ExplorePage
    fake = FakeState(ex_browser={"view": {"seed": 5, "cls": 2, "trunc": 0.5, "z": {"3": 1.5}, "dirs": {},
                                          "interp": {"mode": "seeds", "steps": 4}, "nonce": 9}})
    monkeypatch.setattr(bv, "ss", fake)
    monkeypatch.setattr(ew, "ss", fake)
    page = ExplorePage(ExploreState("m", seed=1, z={0: 2.0}))
    bv.on_view(page, ModelInfo(20, 10, 8))
    assert page.view == ExploreState("m", seed=5, cls=2, truncation=0.5, z={3: 1.5}, dirs={})
    assert page.ack == 9 and page.interp.steps == 4 and page.browser_notices == []
    assert (fake.ex_seed_text, fake.ex_class, fake.ex_trunc) == ("5", 2, 0.5), "the server path's widgets follow"


def test_server_strip_frames_are_the_browsers_path(tmp_path):
    from app_pages.explore import sample_view as sv
    from app_pages.explore.state import Interpolation, Sample
    gan = tiny(tmp_path, "tiny-cgan", "cgan-mlp", 20, 10)
    state = ExploreState("m", seed=3, cls=2, truncation=0.7)
    z_eff = ec.effective_latent(ec.current_latent(gan, 3, {}), 0.7)
    sample = Sample(z_eff, 2, ec.generate_one(gan, z_eff, 2), None)
    seeds = sv.strip_frames(gan, sample, state, Interpolation(steps=5))
    assert seeds.shape == (5, 1, 28, 28)
    assert torch.allclose(seeds[0], sample.x[0], atol=1e-6), "starts at this sample"
    z_b = sample_latents(1, 20, seed=4, truncation=0.7)[0]
    assert torch.allclose(seeds[-1], ec.generate_one(gan, z_b, 2)[0], atol=1e-5), "ends at seed B (seed + 1)"
    lerp = sv.strip_frames(gan, sample, state, Interpolation(steps=5, method="lerp"))
    assert torch.allclose(lerp[-1], seeds[-1], atol=1e-5) and not torch.allclose(lerp[2], seeds[2], atol=1e-3), \
        "lerp and slerp share their ends and differ in the middle"
    classes = sv.strip_frames(gan, sample, state, Interpolation(mode="classes", class_b=7, steps=3))
    assert torch.allclose(classes[-1], ec.generate_one(gan, z_eff, 7)[0], atol=1e-5)


def test_the_seed_parser_passes_its_node_tests():
    """static/js/explore/seed.js under `node --test` (tests/js/explore-seed.test.mjs)."""
    import shutil
    import subprocess
    node = shutil.which("node")
    assert node, "node is needed for the JS unit tests"
    done = subprocess.run([node, "--test", str(REPO / "tests" / "js" / "explore-seed.test.mjs")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "# pass 2" in done.stdout, done.stdout + done.stderr


def test_the_browser_code_is_es_modules_with_one_base64_decoder_and_limits_from_python():
    js = REPO / "static" / "js"
    explore = sorted(p.name for p in (js / "explore").glob("*.js"))
    assert {"main.js", "loader.js", "explorer.js", "latent.js", "runtime.js", "draw.js", "seed.js"} <= set(explore)
    texts = {p: p.read_text() for p in js.rglob("*.js")}
    assert sum("atob(" in t for t in texts.values()) == 1, "one base64 decoder (static/js/common/base64.js)"
    explorer = "".join(t for p, t in texts.items() if p.parent.name == "explore")
    assert "100000" not in explorer and "PLOT_LIMIT" not in explorer.replace("points.py PLOT_LIMIT", ""), \
        "the random-seed and plot limits come from Python"
    assert "this[`" not in explorer and "this[\"" not in explorer, "no method names built from strings"
    assert not (REPO / "app_pages" / "explore" / "browser" / "explorer.js").exists()


# ---------------------------------------------------------------- the page (AppTest)

@pytest.fixture
def explore_app(tmp_path, monkeypatch, models_dir):
    import app_shared.models
    import app_shared.session
    runs = tmp_path / "runs"
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", runs)
    monkeypatch.setattr(app_shared.models, "APP_RUNS_DIR", runs)
    (runs / UID).mkdir(parents=True)
    tiny(runs / UID, "tiny-cgan", "cgan-mlp", 20, 10)

    def make(query: dict) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.session_state["session_uid"] = UID
        at.query_params.update(query)
        return at
    return make


def components(at: AppTest) -> list:
    return [el for el in at.main if getattr(el, "type", "") == "bidi_component"]


def test_the_browser_view_is_the_default_and_python_follows_its_state(explore_app):
    at = explore_app({"model": "session: tiny-cgan", "seed": "5", "class": "3", "z": "17:1.5"}).run()
    assert not at.exception, [e.value for e in at.exception]
    assert components(at), "the in-browser explorer is on the page"
    assert not [i for i in at.main.image if any(c.startswith("sample") for c in i.captions)], "no server image"
    current = at.session_state["explore"].sample
    assert current.cls == 3 and float(current.z[17]) == pytest.approx(1.5), "D(x) and downloads see the link"
    assert [m for m in at.metric if m.label == "D(x)"]
    assert at.query_params["seed"] == "5" and "render" not in at.query_params


def test_a_model_the_browser_cannot_run_falls_back_to_the_server_with_one_line(explore_app, monkeypatch):
    def refuse(_gan):
        raise bm.ExportError("the exporter does not know this layer")
    monkeypatch.setattr(bv, "browser_model", refuse)
    at = explore_app({"model": "session: tiny-cgan"}).run()
    assert not at.exception, [e.value for e in at.exception]
    notices = [i.value for i in at.info if "cannot run in the browser" in i.value]
    assert len(notices) == 1 and "the exporter does not know this layer" in notices[0], [i.value for i in at.info]
    assert not components(at)
    assert [i for i in at.main.image if any(c.startswith("sample") for c in i.captions)], "the server's sample"



def test_the_browser_view_also_shows_how_much_each_direction_changes_the_image(explore_app):
    """The directions are drawn by the browser; the measurement that backs them is one lazy expander below."""
    from gan_core import load_checkpoint
    from gan_core.explore.directions import effect_summary, find_directions, measure_directions
    at = explore_app({"model": "session: tiny-cgan", "seed": "5"}).run()
    assert components(at) and not [c for c in at.caption if c.value.startswith("Measured on this model")]
    data = json.loads(components(at)[0].proto.json)
    from gan_core.io import palette
    assert data["palette"] == {"fake": palette.FAKE, "real": palette.REAL, "path": palette.PATH,
                               "highlight": palette.HIGHLIGHT}, "toy points use the one palette"
    draw = (REPO / "static" / "js" / "explore" / "draw.js").read_text()
    assert not any(c in draw for c in ("#1f77b4", "#ff7f0e", "#d62728")), "no colours of its own"
    at.session_state["ex_help_effect"] = True  # what opening the expander does (it is lazy)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    import app_shared.session
    gan = load_checkpoint(app_shared.session.APP_RUNS_DIR / UID / "tiny-cgan.safetensors")
    expected = effect_summary(measure_directions(gan, find_directions(gan, k=8)))
    assert [c.value for c in at.caption if c.value.startswith("Measured on this model")] == [expected]
