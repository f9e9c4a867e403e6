"""Draw -> latent on Explore (app_pages/explore/projection_view.py): a drawing or upload becomes the view.

The projected z is the view's base (state.LatentBase): the sample, the z sliders, the link and the browser's
data all start from it. A bad upload or drawing gets a plain message and changes nothing else. The page runs
through AppTest with the shipped mnist-cgan; the search runs with fewer steps than the page's (the real
gan_core.explore.projection, shortened) so the file stays quick on a shared machine.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from conftest import REPO, require
from PIL import Image
from streamlit.testing.v1 import AppTest

from app_pages.explore import browser_view as bv
from app_pages.explore import compute as ec
from app_pages.explore import projection_view as pv
from app_pages.explore.state import (
    ExplorePage,
    ExploreState,
    LatentBase,
    ModelInfo,
    computed_view,
    parse_query,
    to_query,
)
from gan_core import PRETRAINED_DIR, load_checkpoint
from gan_core.explore import projection

MODEL = "mnist-cgan"
UID = "sess1"
QUICK = projection.ProjectionConfig(steps=20, restarts=2, refine_top=1, refine_steps=10)  # the page's, shortened


@pytest.fixture(scope="module")
def gan():
    path = PRETRAINED_DIR / f"{MODEL}.safetensors"
    require(path.exists(), f"the shipped {MODEL} in pretrained/")
    return load_checkpoint(path, "cpu")


def digit_png(gan, cls: int, seed: int, scale: int = 8) -> bytes:
    """A picture of one of the model's own images (upscaled, as a student's file would be)."""
    x = gan.generate(torch.randn(1, gan.z_dim, generator=torch.Generator().manual_seed(seed)), torch.tensor([cls]))
    buf = io.BytesIO()
    Image.fromarray(ec.image_array(x, scale)).save(buf, format="PNG")
    return buf.getvalue()


class Calls(list):
    """The targets projected so far, and the search settings the next projection uses."""

    config = QUICK


@pytest.fixture
def calls(monkeypatch) -> Calls:
    """The targets the page projects (with the real search, shortened). The nearest training image comes from
    200 MNIST training images in pixel space (the page's index holds 10,000 in classifier features)."""
    from gan_core.data.datasets import load_dataset
    from gan_core.eval.neighbours import build_index
    seen = Calls()

    def quick(gan, targets, **kwargs):
        seen.append(targets)
        return projection.project_images(gan, targets, **{**kwargs, "config": seen.config})
    monkeypatch.setattr(pv, "project_images", quick)
    data = load_dataset("mnist", limit=200)
    index = build_index(data.images, data.labels, None, "mnist")
    monkeypatch.setattr(pv, "neighbour_index", lambda dataset: (index, 7.5))
    return seen


@pytest.fixture
def app(tmp_path, monkeypatch, calls):
    import app_shared.models
    import app_shared.session
    runs = tmp_path / "runs"
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", runs)
    monkeypatch.setattr(app_shared.models, "APP_RUNS_DIR", runs)
    (runs / UID).mkdir(parents=True)

    def make(query: dict) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        at.session_state["session_uid"] = UID
        at.query_params.update({"model": MODEL, **query})
        at.calls = calls
        return at
    return make


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_of(at: AppTest) -> ExplorePage:
    return at.session_state["explore"]


# ---------------------------------------------------------------- the base in the state and the link

def test_a_projected_z_travels_in_the_link_as_float16_and_bad_ones_fall_back():
    z = torch.randn(64, generator=torch.Generator().manual_seed(1)) * 2
    z[0] = 7.0  # beyond the sliders' range: clipped
    base = LatentBase.of(z)
    assert base.values[0] == 4.0 and len(base.values) == 64
    assert np.array_equal(np.float16(base.values), np.asarray(base.values)), "float16 values, kept exactly"
    assert torch.allclose(base.tensor(), z.clamp(-4, 4), atol=4e-3)
    token = base.token()
    assert len(token) == 171 and LatentBase.parse(token, 64) == base

    info = lambda _name: ModelInfo(64, 10)  # noqa: E731
    view = ExploreState(MODEL, seed=3, cls=7, z={2: 0.5}, base=base)
    query = to_query(view)
    assert query["base"] == token
    assert parse_query(query, [MODEL], MODEL, info) == (view, []), "the link reopens the same view"

    half = np.full(64, 1.0, dtype="<f2")
    for bad in (token[:-4], "!!not base64!!", base64.urlsafe_b64encode(np.full(64, np.nan, "<f2").tobytes()).decode(),
                base64.urlsafe_b64encode((half * 5).tobytes()).decode(), LatentBase.of(torch.zeros(20)).token()):
        state, notices = parse_query({**query, "base": bad}, [MODEL], MODEL, info)
        assert state.base is None and state.seed == 3 and state.z == {2: 0.5}, bad
        assert len(notices) == 1 and "Showing seed 3's own z" in notices[0], notices


def test_the_base_is_the_z_the_sample_is_made_from(gan):
    base = LatentBase.of(torch.randn(64, generator=torch.Generator().manual_seed(2)))
    view = computed_view(ExploreState(MODEL, seed=9, cls=4, z={5: 1.25}, base=base))
    z = ec.current_latent(gan, view.seed, view.z)
    expected = base.tensor()
    expected[5] = 1.25
    assert torch.equal(z, expected), "the base replaces the seed's z, the edits sit on top"
    assert computed_view(ExploreState(MODEL, seed=9)) == ExploreState(MODEL, seed=9)


# ---------------------------------------------------------------- the page: upload, then move around it

def test_an_uploaded_digit_becomes_the_view_and_the_sliders_move_around_it(app, gan):
    at = ok(app({"render": "server", "seed": "11", "class": "0"}).run())
    seed_image = ec.image_array(page_of(at).sample.x).astype(int)
    at.file_uploader(key=pv.UPLOAD_KEY).set_value(("my-three.png", digit_png(gan, 3, seed=5), "image/png")).run()
    ok(at)
    page = page_of(at)
    result = page.projection
    assert len(at.calls) == 1 and result is not None and not at.error
    assert page.view.base == result.base and page.view.cls == result.cls == 3, "the found class is selected"
    assert page.view.seed == 11 and page.view.z == {} and page.view.truncation == 1.0
    projected = ec.image_array(ec.generate_one(gan, result.base.tensor(), 3)).astype(int)
    assert np.array_equal(ec.image_array(page.sample.x), projected), "the sample is the projection"
    target = ((result.target[0, 0] + 1) * 127.5).numpy()
    assert np.abs(projected - target).mean() < np.abs(seed_image - target).mean() - 10, "closer to the upload"
    assert at.session_state["ex_z_0"] == pytest.approx(result.base.values[0]), "the sliders show the found z"
    assert at.query_params["base"] == result.base.token() and at.query_params["class"] == "3"
    captions = " ".join(c.value for c in at.caption)
    assert "Found: class 3, distance" in captions and "D(x)" in captions and "nearest training image" in captions
    shown = [c for el in at.main.image for c in el.captions]
    assert any(c.startswith("your picture 'my-three.png'") for c in shown), shown
    assert any(c.startswith("nearest training image — ") for c in shown), shown

    at.slider(key="ex_z_0").set_value(round(result.base.values[0] + 1.0, 2)).run()
    moved = ec.image_array(ok(at) and page_of(at).sample.x).astype(int)
    assert page_of(at).view.base == result.base and set(page_of(at).view.z) == {0}
    assert not np.array_equal(moved, projected), "the slider moves the image"
    assert np.abs(moved - projected).mean() < np.abs(moved - seed_image).mean(), "and it stays near the drawing"

    at.button(key="ex_reset").click().run()
    assert np.array_equal(ec.image_array(ok(at) and page_of(at).sample.x), projected), "Reset comes back to it"
    at.button(key="ex_random").click().run()
    assert page_of(ok(at)).view.base is None and page_of(at).projection is not None, "a new seed leaves it"
    assert "base" not in at.query_params and not [c for c in at.caption if c.value.startswith("Found:")]


def test_a_bad_upload_is_refused_with_a_plain_message_and_nothing_changes(app, gan, monkeypatch):
    from gan_core.io import safety
    at = ok(app({"render": "server", "seed": "4", "class": "2"}).run())
    before, query = page_of(at).view, dict(at.query_params)
    big = io.BytesIO()
    Image.new("L", (20, 20)).save(big, format="PNG")
    for name, data, why in [("notes.txt", b"just some text", "not an image"),
                            ("model.pt", b"\x80\x04\x95" + b"\x00" * 64, "not an image"),
                            ("cut.png", digit_png(gan, 1, seed=0)[:200], "could not be decoded"),
                            ("huge.png", big.getvalue(), "megapixels")]:
        if name == "huge.png":
            monkeypatch.setattr(safety, "MAX_IMAGE_PIXELS", 100)  # a 20 x 20 picture is then too large
        at.file_uploader(key=pv.UPLOAD_KEY).set_value((name, data, "application/octet-stream")).run()
        errors = [e.value for e in ok(at).error]
        assert len(errors) == 1 and name in errors[0] and why in errors[0], errors
        assert "Traceback" not in errors[0] and "Nothing else changed" in errors[0]
        page = page_of(at)
        assert page.view == before and page.projection is None and page.pending is None
        assert dict(at.query_params) == query
    assert at.calls == [], "nothing was projected"

    def broken(*_args, **_kwargs):
        raise RuntimeError("out of memory")
    monkeypatch.setattr(pv, "project_images", broken)  # a good picture, but the search fails on the server
    monkeypatch.setattr(safety, "MAX_IMAGE_PIXELS", 16_000_000)
    at.file_uploader(key=pv.UPLOAD_KEY).set_value(("ok.png", digit_png(gan, 1, seed=0), "image/png")).run()
    errors = [e.value for e in ok(at).error]
    assert len(errors) == 1 and "could not project your picture 'ok.png' (RuntimeError)" in errors[0], errors
    assert page_of(at).view == before and page_of(at).projection is None


def test_a_link_with_a_projected_z_reopens_its_image(app, gan):
    base = LatentBase.of(torch.randn(64, generator=torch.Generator().manual_seed(8)))
    at = ok(app({"render": "server", "seed": "2", "class": "6", "base": base.token()}).run())
    page = page_of(at)
    assert page.view.base == base and not page.notices
    assert np.array_equal(ec.image_array(page.sample.x), ec.image_array(ec.generate_one(gan, base.tensor(), 6)))
    assert any(c.startswith("sample — 6 (around your drawing") for el in at.main.image for c in el.captions)


# ---------------------------------------------------------------- the browser's path: data, drawing, state

def test_a_drawing_from_the_browser_is_checked_projected_and_sent_back(calls, gan):
    page = ExplorePage(ExploreState(MODEL, seed=7, cls=1))
    data = bv.explorer_data(gan, *_browser_bits(gan, page))
    assert data["base"] is None and "base" not in data["state"]
    assert data["sketch"]["background"] == "#000000" and data["sketch"]["palette"] is None
    assert data["sketch"]["width"] == 28 * pv.SKETCH_SCALE

    for bad, why in [({"png": "%%%", "nonce": 4}, "not valid base64"),
                     ({"png": base64.b64encode(b"GIF89a broken").decode(), "nonce": 5}, "not an image"),
                     ({"png": "", "nonce": 6}, "empty")]:
        pv.take_sketch(page, bad)
        assert page.pending is None and page.ack == bad["nonce"], page.sketch_reply
        assert why in page.sketch_reply["error"], page.sketch_reply
    before = page.view

    pv.take_sketch(page, {"png": base64.b64encode(digit_png(gan, 7, seed=3)).decode(), "nonce": 12})
    assert page.pending is not None and page.view == before
    pv.run_pending(page, gan)
    assert len(calls) == 1 and page.view.base is not None and page.view.cls == 7 and page.ack == 12
    assert page.sketch_reply["nonce"] == 12 and page.sketch_reply["error"] is None
    assert page.sketch_reply["text"].startswith("Found: class 7")
    data = bv.explorer_data(gan, *_browser_bits(gan, page), page.sketch_reply, pv.shown_projection(page))
    token = page.view.base.token()
    shown = data["sketch"]["result"]  # beside the drawing canvas: the drawing as the model sees it, the nearest
    target = np.frombuffer(base64.b64decode(shown["target"]), dtype="<f4")
    assert np.array_equal(target, page.projection.target.flatten().numpy()) and shown["nearest"]
    assert shown["nearestCaption"].startswith("nearest training image — ") and "typically 7.50" in shown["text"]
    assert data["state"]["base"] == token and data["base"]["token"] == token and data["ack"] == 12
    sent = np.frombuffer(base64.b64decode(data["base"]["z"]), dtype="<f4")
    assert np.array_equal(sent, np.asarray(page.view.base.values, dtype=np.float32)), "the browser's z is exact"
    assert data["sketch"]["reply"]["nonce"] == 12

    state, notices = bv.view_state({**data["state"], "z": {"3": 0.5}}, MODEL, ModelInfo(64, 10))
    assert state.base == page.view.base and state.z == {3: 0.5} and not notices, "the browser's state keeps it"
    state, notices = bv.view_state({**data["state"], "base": "AAAA"}, MODEL, ModelInfo(64, 10))
    assert state.base is None and len(notices) == 1 and "from the page" in notices[0]


def _browser_bits(gan, page: ExplorePage):
    """explorer_data's arguments after the GAN (a made-up model file: only its URL and hash are sent)."""
    from app_pages.explore.browser_model import BrowserModel
    from gan_core.explore.directions import find_directions
    model = BrowserModel("app/static/models/0.onnx", "0" * 64, 1, "images", None, 0.0)
    return find_directions(gan, k=8), model, page.view, page.interp, page.pool, page.ack


def test_a_colour_model_gets_a_white_canvas_with_a_palette_and_its_drawing_is_projected(calls, tmp_path):
    """The emoji model's format (3 x 32 x 32 on white, conditional), with a small random-weight model."""
    from gan_core import save_checkpoint
    from gan_core.nn.models import build_models
    torch.manual_seed(0)
    g, d = build_models("cgan-mlp", 16, (3, 32, 32), 9)
    meta = {"model": "cgan-mlp", "z_dim": 16, "num_classes": 9, "image_shape": [3, 32, 32],
            "dataset": "folder:shapes", "name": "tiny-rgb", "class_names": [f"g{i}" for i in range(9)]}
    gan = load_checkpoint(save_checkpoint(tmp_path / "tiny-rgb", g.eval(), meta, d.eval()), "cpu")
    calls.config = projection.ProjectionConfig(steps=4, restarts=1, refine_top=1, refine_steps=2)  # untrained
    spec = pv.sketch_spec(gan, None)
    assert spec["background"] == "#ffffff" and spec["width"] == 32 * pv.SKETCH_SCALE
    assert spec["palette"] and spec["pen"] in spec["palette"] and spec["conditional"]

    picture = Image.new("RGBA", (256, 256), (255, 255, 255, 255))
    picture.paste((253, 216, 53, 255), (64, 64, 192, 192))  # a yellow square, as the canvas would send it
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    page = ExplorePage(ExploreState("session: tiny-rgb", seed=4, cls=0))
    pv.take_sketch(page, {"png": base64.b64encode(buf.getvalue()).decode(), "nonce": 3})
    pv.run_pending(page, gan)
    target = calls[0]
    assert target.shape == (1, 3, 32, 32) and float(target[0, :, 0, 0].min()) == 1.0, "white ground, in colour"
    assert float(target[0, 2, 16, 16]) < -0.5 < float(target[0, 0, 16, 16]), "the square stays yellow"
    result = page.projection
    assert page.view.base == result.base and len(result.base.values) == 16 and 0 <= page.view.cls < 9
    assert result.image.shape == (1, 3, 32, 32) and result.neighbour is None
    assert "folder:shapes" in result.neighbour_note
    assert page.sketch_reply == {"nonce": 3, "error": None, "text": pv.summary(gan, result)}
