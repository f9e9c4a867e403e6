"""Explore page (app_pages/explore/page.py) through Streamlit's AppTest, plus its computation and model cache.

Shipped models are covered when present (required under CI); tiny random-weight checkpoints are
written into a temporary session folder so every control is tested whatever is shipped.
"""
from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
import torch
from conftest import REPO, require
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from app_pages.explore import compute as ec
from gan_core import list_pretrained, load_checkpoint, save_checkpoint
from gan_core.io.checkpoint import read_meta
from gan_core.nn.models import build_models
from tools.harness.waiting import run_async

APP = str(REPO / "app.py")
UID = "sess1"
TINY_CGAN = "session: tiny-cgan"
TINY_TOY = "session: tiny-toy"


def write_tiny(folder: Path, name: str, model: str, z_dim: int, classes: int | None, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    shape = None if model == "toy" else (1, 28, 28)
    g, d = build_models(model, z_dim, shape, classes)
    meta = {"model": model, "z_dim": z_dim, "num_classes": classes, "image_shape": list(shape) if shape else None,
            "dataset": "ring8" if model == "toy" else "mnist", "name": name,
            "class_names": [f"c{i}" for i in range(classes)] if classes else None}
    return save_checkpoint(folder / name, g.eval(), meta, d.eval())


@pytest.fixture
def sent(monkeypatch) -> dict[str, bytes]:
    """Every media file the page sends (st.image's encoded bytes), by the URL a browser would fetch."""
    files: dict[str, bytes] = {}
    real = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = real(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)
        if isinstance(path_or_data, bytes):
            files[url] = path_or_data
        return url
    monkeypatch.setattr(MediaFileManager, "add", add)
    return files


@pytest.fixture
def env(tmp_path, monkeypatch, sent):
    """A temporary runs folder whose session `sess1` holds tiny-cgan (z_dim 20 > 16) and tiny-toy."""
    import app_shared.models
    import app_shared.session
    runs = tmp_path / "runs"
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", runs)
    monkeypatch.setattr(app_shared.models, "APP_RUNS_DIR", runs)
    own = runs / UID
    own.mkdir(parents=True)
    write_tiny(own, "tiny-cgan", "cgan-mlp", 20, 10)
    write_tiny(own, "tiny-toy", "toy", 2, None)

    def make(query: dict | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["session_uid"] = UID
        at.query_params.update({"render": "server", **(query or {})})  # the server path (the browser's: below)
        at.sent = sent  # what the page sends, for shown_image
        return at

    make.own = own
    make.tmp = tmp_path
    return make


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_image(at: AppTest, caption_prefix: str) -> np.ndarray:
    """The picture the page sent for its one image whose caption starts with `caption_prefix`, decoded."""
    urls = [img.url for el in at.main.image for img in el.proto.imgs if img.caption.startswith(caption_prefix)]
    assert len(urls) == 1, (caption_prefix, [c for el in at.main.image for c in el.captions])
    return np.asarray(Image.open(io.BytesIO(at.sent[urls[0]])))


def page_state(at: AppTest):
    """The page's one state (app_pages/explore/state.py ExplorePage)."""
    return at.session_state["explore"]


def computed_sample(at: AppTest) -> np.ndarray:
    """The sample the page generated (it keeps it for the memorisation check and the downloads)."""
    return ec.image_array(page_state(at).sample.x)


def image(at: AppTest) -> np.ndarray:
    """The sample as the browser gets it, back at 1x (it is sent IMAGE_SCALE times larger, in crisp pixels)."""
    s = ec.IMAGE_SCALE
    shown = shown_image(at, "sample")[s // 2::s, s // 2::s].copy()
    assert np.abs(shown.astype(int) - computed_sample(at)).max() <= 1, "the page shows the sample it generated"
    return shown


def close(shown: np.ndarray, picture: np.ndarray) -> bool:
    """An image as sent (st.image's JPEG at quality 100: each pixel within 1) is the picture computed for it."""
    return shown.shape == picture.shape and np.abs(shown.astype(int) - picture).max() <= 1


LATENT_TAB, DIRECTIONS_TAB = "Latent z", "Directions (GANSpace)"


def show_tab(at: AppTest, label: str) -> AppTest:
    """Select a tab of the lazy (on_change="rerun") st.tabs, as a click does; AppTest has no tab click."""
    at.session_state["ex_tab"] = label
    return ok(at.run())


def sample_captions(at: AppTest) -> list[str]:
    return [c for el in at.main.image for c in el.captions if c.startswith("sample")]


# ---------------------------------------------------------------- rendering

def test_default_and_every_model_render(env):
    """mnist-cgan by default with a sample at once; every shipped model and the session's tiny ones render."""
    shipped = list_pretrained()
    require("mnist-cgan" in shipped, "shipped pretrained/mnist-cgan")
    at = ok(env().run())
    assert at.session_state["ex_model"] == "mnist-cgan", "the default model is mnist-cgan"
    assert sample_captions(at), "a sample is shown at once"
    assert [s.label for s in at.selectbox if s.label == "Class"], "conditional models get a Class selector"
    assert not at.warning
    for label in shipped + [TINY_CGAN, TINY_TOY]:
        at.selectbox(key="ex_model").set_value(label).run()
        ok(at)
        assert not at.error, [e.value for e in at.error]
        z_dim = int(page_state(at).sample.z.shape[0])
        folder = env.own if label.startswith("session: ") else REPO / "pretrained"
        is_toy = read_meta(folder / (label.removeprefix("session: ") + ".json"))["model"] == "toy"
        if is_toy:
            point = [c.value for c in at.caption if c.value.startswith("sample: this z gives the point")]
            x = page_state(at).sample.x.numpy()
            assert x.shape == (1, 2) and np.isfinite(x).all()
            assert point == [f"sample: this z gives the point ({x[0, 0]:.2f}, {x[0, 1]:.2f})"]
            assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"), "toy models show a scatter plot"
        else:
            x = image(at)
            assert x.dtype == np.uint8 and x.ndim in (2, 3)
            assert sample_captions(at)
        z_labels = {s.label for s in at.slider if s.label.startswith("z[")}
        assert z_labels == {f"z[{i}]" for i in range(min(16, z_dim))}
        if label == TINY_CGAN:  # z_dim 20: 16 sliders and a picker for the others
            assert at.multiselect(key="ex_dims").value == list(range(16))
        assert at.query_params["model"] == label and page_state(at).view.model == label


# ---------------------------------------------------------------- controls change the image; links reopen it


def test_an_explore_move_waits_for_its_turn(env):
    """While another run holds the turn, a slider move does not compute; it does as soon as the turn is free."""
    from app_shared.cpu_turns import cpu_turn
    at = ok(env({"model": TINY_CGAN, "seed": "7"}).run())
    before = image(at)
    at.slider(key="ex_z_0").set_value(-3.0)
    done = threading.Event()
    with cpu_turn():  # another student's move is computing
        mover = threading.Thread(target=lambda: (at.run(), done.set()), daemon=True)
        mover.start()
        assert not done.wait(1.0), "the move computed while another held the turn"
    assert done.wait(60), "the move finished once the turn was free"
    assert not np.array_equal(image(ok(at)), before)


def test_controls_change_the_image_and_the_link_reopens_it(env):
    at = ok(env({"model": TINY_CGAN}).run())
    seen = [image(at)]

    def step(action) -> np.ndarray:
        action()
        ok(at.run())
        x = image(at)
        assert not np.array_equal(x, seen[-1]), "the image must change"
        seen.append(x)
        return x

    step(lambda: at.text_input(key="ex_seed_text").input("5"))
    plain_seed5 = step(lambda: at.selectbox(key="ex_class").set_value(3))
    step(lambda: at.slider(key="ex_z_0").set_value(3.5))
    step(lambda: at.slider(key="ex_trunc").set_value(0.5))
    assert not [s for s in at.slider if s.label.startswith("PC")], "the closed Directions tab is not built"
    show_tab(at, DIRECTIONS_TAB)
    assert not [s for s in at.slider if s.label.startswith("z[")], "the closed Latent tab is not built"
    step(lambda: at.slider(key="ex_dir_0").set_value(2.0))
    show_tab(at, LATENT_TAB)
    assert at.slider(key="ex_z_0").value == 3.5, "a slider keeps its value while its tab is closed"
    ok(at.multiselect(key="ex_dims").set_value([0, 18]).run())
    step(lambda: at.slider(key="ex_z_18").set_value(-3.0))
    assert at.slider(key="ex_z_0").value == 3.5, "a slider keeps its value when others are shown"
    show_tab(at, DIRECTIONS_TAB)
    assert at.slider(key="ex_dir_0").value == 2.0
    show_tab(at, LATENT_TAB)
    assert at.multiselect(key="ex_dims").value == [0, 18], "the picked dimensions survive a closed tab"
    assert at.slider(key="ex_z_18").value == -3.0
    edited, query = image(at), dict(at.query_params)
    assert query["seed"] == "5" and query["class"] == "3" and query["trunc"] == "0.5"
    assert query["z"] == "0:3.5,18:-3" and query["dir"] == "0:2"

    reopened = ok(env(query).run())
    assert not reopened.warning, [w.value for w in reopened.warning]
    assert np.array_equal(image(reopened), edited), "the link reopens exactly the same image"
    assert reopened.slider(key="ex_z_18").value == -3.0 and reopened.selectbox(key="ex_class").value == 3

    at.button(key="ex_reset").click().run()
    assert np.array_equal(image(ok(at)), plain_seed5), "reset returns to the seed's own sample"
    assert "z" not in at.query_params and "trunc" not in at.query_params
    at.button(key="ex_random").click().run()
    assert at.text_input(key="ex_seed_text").value != "5" and not np.array_equal(image(ok(at)), plain_seed5)


def grid_tile(grid_img: np.ndarray, row: int, col: int, size: int = 28, pad: int = 2, scale: int = 2,
              margin: int = 110) -> np.ndarray:
    """One image of the class grid picture, back at 1x (gray channel)."""
    y, x = (pad + row * (size + pad)) * scale, margin + (pad + col * (size + pad)) * scale
    gray = grid_img if grid_img.ndim == 2 else grid_img[..., 0]
    return gray[y:y + size * scale:scale, x:x + size * scale:scale]


def test_the_fallback_is_the_sample_and_its_sliders_and_its_grid_download_follows_z(env, monkeypatch):
    """The server path draws the sample, its sliders, D(x) and the downloads (no grid or strip on screen);
    the grid download has the sample's z in column 0, its other columns generated once per seed/truncation."""
    from app_pages.explore import compute
    from app_pages.explore import sample_view as sv
    calls = []
    real = compute.other_columns
    monkeypatch.setattr(compute, "other_columns", lambda *a, **k: calls.append(a[1:3]) or real(*a, **k))
    at = ok(env({"model": TINY_CGAN, "seed": "4242", "class": "2"}).run())
    assert sample_captions(at) == ["sample — c2"], "one image: the sample"
    assert not at.download_button, "the closed downloads expander sends no buttons"
    at.session_state["ex_dl_open"] = True  # what expanding it does (a lazy st.expander)
    ok(at.run())
    assert {b.label for b in at.download_button} == {"Download image (PNG)", "Download grid (PNG)",
                                                      "Download strip (PNG)", "Download animation (GIF)"}
    assert [m.value for m in at.metric if m.label == "D(x)"], "D(x) is shown"
    assert calls == [], "nothing of the grid is generated until its download is clicked"

    def grid_download() -> np.ndarray:
        page = page_state(at)
        return np.asarray(Image.open(io.BytesIO(sv._grid_png(load_checkpoint(env.own / "tiny-cgan.safetensors"),
                                                             page.sample, page.view))))

    before, sample = grid_download(), computed_sample(at)
    assert np.abs(grid_tile(before, 2, 0).astype(int) - sample).max() <= 1, "column 0, row 2 is the sample"
    at.slider(key="ex_z_0").set_value(-3.5).run()
    after, moved = grid_download(), computed_sample(ok(at))
    assert not np.array_equal(moved, sample) and not np.array_equal(image(at), sample)
    assert np.abs(grid_tile(after, 2, 0).astype(int) - moved).max() <= 1, "the grid shows the moved z"
    assert np.array_equal(after[:, 176:], before[:, 176:]), "the other columns are the same seeds'"
    assert calls == [(4242, 1.0)], "a latent move reuses the cached columns"
    ok(at.slider(key="ex_trunc").set_value(0.5).run())
    grid_download()
    assert calls[1:] == [(4242, 0.5)], "truncation changes the other columns"


# ---------------------------------------------------------------- untrusted query strings

@pytest.fixture
def opened_files():
    """Every path the process opens while the test runs (an audit hook; hooks cannot be removed, so it is gated)."""
    record: list[str] = []
    state = {"on": True}

    def hook(event: str, args: tuple) -> None:
        if state["on"] and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
            record.append(str(args[0]))

    sys.addaudithook(hook)
    yield record
    state["on"] = False


def test_bad_query_strings_fall_back_with_a_notice_and_read_nothing_outside(env, opened_files):
    outside = env.tmp / "outside"
    secret = write_tiny(outside, "secret", "cgan-mlp", 20, 10)
    assert any(str(outside) in p for p in opened_files), "the audit hook sees file opens"
    opened_files.clear()
    for bad in ("../../etc/passwd", str(secret), "../outside/secret", "session: ../../outside/secret", "nope"):
        at = ok(env({"model": bad, "seed": "7"}).run())
        warnings = " ".join(w.value for w in at.warning)
        assert "Unknown model" in warnings and at.session_state["ex_model"] == "mnist-cgan" \
            if "mnist-cgan" in list_pretrained() else "Unknown model" in warnings
        assert page_state(at).view.seed == 7, "the good parts of a link are kept"
    touched = [p for p in opened_files if "passwd" in p or str(outside) in str(Path(p).resolve())]
    assert not touched, touched

    at = ok(env({"model": TINY_CGAN, "seed": "-3", "class": "99", "trunc": "nan", "z": "0:99,999:1,x",
                 "dir": "0:50"}).run())
    text = " ".join(w.value for w in at.warning)
    for expected in ("Seed", "Class '99'", "Truncation", "latent dimension 0", "latent dimension 999",
                     "'x'", "direction 0"):
        assert expected in text, (expected, text)
    view = page_state(at).view
    assert (view.seed, view.cls, view.truncation, view.z, view.dirs) == (0, 0, 1.0, {}, {})
    default = ok(env({"model": TINY_CGAN}).run())
    assert np.array_equal(image(at), image(default)), "bad values fall back to exactly the defaults"


# ---------------------------------------------------------------- uploads

def test_upload_is_validated_then_saved_and_selected(env, tmp_path):
    src = write_tiny(tmp_path / "up", "mine", "cgan-mlp", 8, 10, seed=4)
    weights, meta = src.read_bytes(), src.with_suffix(".json").read_bytes()
    at = ok(env({"model": TINY_CGAN}).run())
    before = sorted(p.name for p in env.own.iterdir())
    lying = meta.replace(b'"z_dim": 8', b'"z_dim": 9')
    pickle_bytes = b"\x80\x04\x95" + b"\x00" * 64
    octet, js = "application/octet-stream", "application/json"
    bad_uploads = [
        ([("a.json", meta, js), ("m.json", meta, js)], "two files"),
        ([("m.safetensors", pickle_bytes, octet), ("m.json", meta, js)], "pickle"),
        ([("m.safetensors", weights, octet), ("m.json", lying, js)], "do not match"),
        ([("m.safetensors", weights[:100], octet), ("m.json", meta, js)], "not a valid safetensors"),
    ]
    for files, why in bad_uploads:
        at.file_uploader(key="ex_upload").set_value(files).run()
        ok(at)
        errors = " ".join(e.value for e in at.error)
        assert why in errors, (why, errors)
        assert sorted(p.name for p in env.own.iterdir()) == before, "nothing is saved from a bad upload"
        assert at.session_state["ex_model"] == TINY_CGAN
    at.file_uploader(key="ex_upload").set_value([("mine.safetensors", weights, "application/octet-stream"),
                                                  ("mine.json", meta, "application/json")]).run()
    ok(at)
    assert not at.error and at.success
    assert at.session_state["ex_model"] == "session: upload-mine"
    assert (env.own / "upload-mine.safetensors").read_bytes() == weights
    assert sample_captions(at) and at.query_params["model"] == "session: upload-mine"


# ---------------------------------------------------------------- interpolation, downloads, memorisation

def test_memorisation_finds_the_sample(env, monkeypatch):
    from app_pages.explore import cache
    from gan_core.eval.neighbours import build_index, nearest
    from gan_core.io.images import grid

    at = ok(env({"model": TINY_CGAN, "seed": "3", "class": "2"}).run())
    # an index that holds the current sample among noise must find it at distance 0
    sample = page_state(at).sample.x
    noise = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    index = build_index(torch.cat([noise[:12], sample, noise[12:]]), None, None, "mnist")
    monkeypatch.setattr(cache, "neighbour_index", lambda dataset: (index, 1.0))
    assert not [t for t in at.toggle if t.key == "ex_nn"], "the closed memorisation expander builds nothing"
    at.session_state["ex_mem_open"] = True  # what expanding it does (a lazy st.expander; AppTest cannot click it)
    ok(at.run())
    at.toggle(key="ex_nn").set_value(True).run()
    shown = [c.value for c in ok(at).caption if c.value.startswith(f"Distances in {index.space}: ")]
    assert len(shown) == 1, [c.value for c in at.caption]
    shown_dist = shown[0].removeprefix(f"Distances in {index.space}: ").split(". For comparison")[0].split(", ")
    _, dist = nearest(index, sample, k=5)  # what the page computes for them
    dist = dist[0].tolist()
    assert dist[0] < 1e-3 and dist == sorted(dist) and len(dist) == 5
    assert shown_dist == [f"{d:.2f}" for d in dist], "the page shows the five distances"
    nearest_shown = shown_image(at, "nearest training images")
    assert close(nearest_shown, grid(index.images[nearest(index, sample, k=5)[0][0]], nrow=5, scale=3))


# ---------------------------------------------------------------- speed and the model cache

def test_one_image_generates_well_under_10_ms(env):
    from app_pages.explore.compute import base_latent, generate_one
    from gan_core import load_checkpoint
    paths = [REPO / "pretrained" / f"{n}.safetensors" for n in list_pretrained()] + [env.own / "tiny-cgan.safetensors"]
    for path in paths:
        gan = load_checkpoint(path)
        z = base_latent(gan, 1)
        cls = 1 if gan.num_classes else None
        generate_one(gan, z, cls)
        times = []
        for _ in range(30):
            t = time.perf_counter()
            generate_one(gan, z, cls)
            times.append(time.perf_counter() - t)
        median_ms = 1000 * sorted(times)[15]
        print(f"{path.stem}: one image in {median_ms:.2f} ms (median of 30, CPU, 1 thread)")
        assert median_ms < 10, (path.stem, median_ms)


def test_models_are_cached_by_path_and_content_hash(env, monkeypatch):
    from app_shared import models
    monkeypatch.setattr(models, "session_dir", lambda: env.own)  # outside a script run: pin the session folder
    path = env.own / "tiny-cgan.safetensors"
    a, b = models.load_model(path), models.load_model(path)
    assert a is b, "loaded once per process"
    write_tiny(env.own, "tiny-cgan", "cgan-mlp", 20, 10, seed=9)  # same path, new content
    c = models.load_model(path)
    assert c is not a and c.content_hash != a.content_hash
    assert not torch.equal(next(c.generator.parameters()), next(a.generator.parameters()))
    outside = write_tiny(env.tmp / "elsewhere", "x", "toy", 2, None)
    with pytest.raises(PermissionError):
        models.load_model(outside)
    with pytest.raises(PermissionError):
        models.load_model(env.own / ".." / ".." / "elsewhere" / "x.safetensors")


# ---------------------------------------------------------------- what one latent move costs the server

MOVE_MESSAGES = 16  # what a latent move may send: the sample's few elements and two runs' bookkeeping


def test_a_latent_move_reruns_only_the_sample(tmp_path):
    """On the real server (websocket client): a z move reruns only the sample's fragment, so a handful of
    messages leave per move (the interaction's own run starts and yields to it).

    The slider's on_change names the sample's fragment (st.rerun with its key): the sliders' own fragment,
    with its 16 sliders, tabs and columns, is not run or sent again. Before, every move re-sent all of it, and
    before the lazy tabs and nested fragments also the seed row and 8 hidden direction sliders: each element
    is work for the server and the browser on every move of every student.
    """
    from tools.harness.streamlit_server import running_server
    from tools.harness.streamlit_ws_client import StreamlitSession

    require("mnist-cgan" in list_pretrained(), "shipped pretrained/mnist-cgan")

    async def go(url: str) -> None:
        async with StreamlitSession(timeout=60) as s:
            await s.open(url, "/", query="render=server")
            z0, seed = s.widget("z[0]"), s.widget("Seed")
            assert z0.fragment_id and seed.fragment_id and z0.fragment_id != seed.fragment_id, \
                "z sliders live in their own (nested) fragment"
            assert not [w for w in s.widgets() if w.label.startswith("PC")], "the closed Directions tab is not sent"
            before, url0, widgets = s.messages_received, s.image("sample"), len(s.widgets())
            start = s.value("z[0]")
            moved = start + 1.0 if start < 2 else start - 1.0
            await s.set_widget("z[0]", moved)
            sent = s.messages_received - before
            assert s.finished[-1] == 3, "a fragment run, not a full run"
            assert sent <= MOVE_MESSAGES, f"{sent} messages for one latent move"
            assert s.image("sample") != url0 and s.exceptions() == []
            assert s.value("z[0]") == moved and len(s.widgets()) == widgets, "the sliders stay, not re-sent"
            assert s.value("Seed") == "0" and "z=0%3A" in s.query, "outer widgets kept; the URL follows the move"
            other = s.value("z[1]")
            await s.set_widget("z[1]", other + 0.5 if other < 2 else other - 0.5)
            edited = [part.split(":")[0] for part in parse_qs(s.query)["z"][0].split(",")]
            assert edited == ["0", "1"], f"the second move keeps the first one's edit: {s.query}"

    with running_server("app.py", env={"GAN_APP_RUNS_DIR": str(tmp_path / "runs")}, nice=10) as srv:
        run_async(go(srv.url), 90)  # own thread: no clash with an event loop left by browser tests


def test_seed_box_says_the_allowed_range_and_the_seed_in_use(env):
    """A seed out of range or not a number gets a message with the range and the seed still shown; Random
    puts the seed it picked into the box (the browser's number box kept a refused entry and ignored it)."""
    at = ok(env({"model": TINY_CGAN, "seed": "5", "render": "server"}).run())
    before = image(at)
    for bad in ("99999999999999999999", "-3", "seven", "1.5"):
        at.text_input(key="ex_seed_text").input(bad).run()
        errors = [e.value for e in ok(at).error]
        assert len(errors) == 1 and "whole number from 0 to 2,147,483,647" in errors[0], (bad, errors)
        assert "Still showing seed 5." in errors[0]
        assert at.text_input(key="ex_seed_text").value == "5", "the box shows the seed in use"
        assert page_state(at).view.seed == 5 and np.array_equal(image(at), before)
    at.text_input(key="ex_seed_text").input("2147483647").run()
    assert not ok(at).error and page_state(at).view.seed == 2**31 - 1
    at.text_input(key="ex_seed_text").input("nope").run()
    assert ok(at).error
    at.button(key="ex_random").click().run()
    seed = page_state(ok(at)).view.seed
    assert at.text_input(key="ex_seed_text").value == str(seed) and seed != 2**31 - 1
    assert not at.error, "Random clears the message: the box and the image agree again"
    box = at.text_input(key="ex_seed_text")
    assert box.label == "Seed" and "2,147,483,647" in box.help


def test_psi_zero_switches_the_z_sliders_off_and_says_why(env):
    at = ok(env({"model": TINY_CGAN, "seed": "5", "render": "server"}).run())
    hint = "At ψ = 0 the generator gets ψ · z = 0"
    assert not any(s.disabled for s in at.slider if s.label.startswith("z["))
    assert not [c for c in at.caption if c.value.startswith(hint)]
    at.slider(key="ex_trunc").set_value(0.0).run()
    z_sliders = [s for s in ok(at).slider if s.label.startswith("z[")]
    assert z_sliders and all(s.disabled for s in z_sliders), "at ψ = 0 moving z changes nothing: sliders are off"
    assert [c for c in at.caption if c.value.startswith(hint)], "and the page says why"
    at.slider(key="ex_trunc").set_value(0.5).run()
    assert not any(s.disabled for s in ok(at).slider if s.label.startswith("z["))


def test_directions_tab_shows_how_much_each_direction_changes_the_image(env):
    from gan_core.explore.directions import effect_summary, find_directions, measure_directions
    at = ok(env({"model": TINY_CGAN, "seed": "5", "render": "server"}).run())
    show_tab(at, DIRECTIONS_TAB)
    gan = load_checkpoint(env.own / "tiny-cgan.safetensors")
    expected = effect_summary(measure_directions(gan, find_directions(gan, k=8)))
    measured = [c.value for c in at.caption if c.value.startswith("Measured on this model")]
    assert measured == [expected], measured
    assert "PC1" in expected and "as much as a random direction of the same length" in expected


def test_a_session_models_link_says_it_stays_in_this_session(env):
    note = "only on this server, in this browser session"
    at = ok(env({"model": TINY_CGAN, "render": "server"}).run())
    share = [c.value for c in at.caption if c.value.startswith("Share:")]
    assert len(share) == 1 and note in share[0] and "gets mnist-cgan instead" in share[0], share
    require("mnist-cgan" in list_pretrained(), "shipped pretrained/mnist-cgan")
    at.selectbox(key="ex_model").set_value("mnist-cgan").run()
    share = [c.value for c in ok(at).caption if c.value.startswith("Share:")]
    assert len(share) == 1 and note not in share[0], "a shipped model's link works for everyone"


def test_a_file_that_is_not_a_checkpoint_gets_a_message(env):
    """The uploader takes any file (a type filter made the browser show only an icon) and says what is wrong."""
    at = ok(env({"model": TINY_CGAN, "render": "server"}).run())
    assert not list(at.file_uploader(key="ex_upload").proto.type), "no browser-side type filter"
    at.file_uploader(key="ex_upload").set_value([("notes.txt", b"hello", "text/plain")]).run()
    errors = " ".join(e.value for e in ok(at).error)
    assert "'notes.txt' is not a checkpoint file" in errors and "NAME.safetensors" in errors, errors
    pickled = b"\x80\x04\x95" + b"\0" * 20
    at.file_uploader(key="ex_upload").set_value([("model.pt", pickled, "application/octet-stream")]).run()
    errors = " ".join(e.value for e in ok(at).error)
    assert "'model.pt' is not a checkpoint file" in errors and "never loaded" in errors, errors
    assert at.session_state["ex_model"] == TINY_CGAN


def test_memorisation_errors_show_no_server_paths(env, monkeypatch):
    from app_pages.explore import cache
    from gan_core.data.datasets import DataNotFoundError

    def missing(dataset):
        raise DataNotFoundError(f"{dataset}: no data on disk. Put the files in one of: /srv/secret/data/{dataset}")
    monkeypatch.setattr(cache, "neighbour_index", missing)
    at = ok(env({"model": TINY_CGAN, "render": "server"}).run())
    at.session_state["ex_mem_open"] = True
    ok(at.run())
    at.toggle(key="ex_nn").set_value(True).run()
    errors = [e.value for e in ok(at).error]
    assert len(errors) == 1 and "memorisation check" in errors[0] and "/srv" not in errors[0], errors


def test_interpolation_gif_is_at_least_256_pixels():
    from gan_core.io.images import gif_bytes
    frames = torch.rand(4, 1, 28, 28) * 2 - 1
    gif = Image.open(io.BytesIO(gif_bytes(ec.gif_frames(frames), fps=8)))
    assert gif.size == (280, 280) and gif.n_frames == 6, (gif.size, gif.n_frames)  # 28 x 10, forward and back
    assert ec.gif_frames(torch.rand(2, 3, 64, 64))[0].shape == (256, 256, 3)


def test_a_refused_seed_names_what_was_typed_and_goes_once_the_student_moves_on(env):
    """Walk item (issue 26): "abc" as a seed gave `"" is not a seed`, and the message stayed up after the student
    moved on. The message names "abc"; any later change (a slider, the class, ψ) takes it away."""
    at = ok(env({"model": TINY_CGAN, "seed": "5"}).run())
    for move in (lambda: at.slider(key="ex_z_0").set_value(1.5), lambda: at.selectbox(key="ex_class").set_value(4),
                 lambda: at.slider(key="ex_trunc").set_value(0.7)):
        at.text_input(key="ex_seed_text").input("abc").run()
        errors = [e.value for e in ok(at).error]
        assert len(errors) == 1 and errors[0].startswith("Seed 'abc' cannot be used"), errors
        at.run()
        assert [e.value for e in ok(at).error] == errors, "a rerun with nothing changed keeps the message"
        move()
        at.run()
        assert not ok(at).error, "the message went once the student moved on"
        assert page_state(at).view.seed == 5
    at.text_input(key="ex_seed_text").input("").run()
    assert [e.value for e in ok(at).error][0].startswith("The seed box is empty")


def test_row_labels_keep_the_pictures_mode():
    """Gray grids stay gray (a third of the bytes per move); colour grids get the same labels in colour."""
    from app_pages.explore.compute import row_labels
    gray, rgb = np.zeros((60, 40), np.uint8), np.zeros((60, 40, 3), np.uint8)
    g, c = row_labels(gray, ["zero", "one"], pitch=30, top=0), row_labels(rgb, ["zero", "one"], pitch=30, top=0)
    assert g.shape == (60, 150) and c.shape == (60, 150, 3)
    assert (g[:, :110] < 128).any() and (g[:, :110] == 255).any()  # dark labels on a white margin
    assert all(np.array_equal(c[..., k], g) for k in range(3))
