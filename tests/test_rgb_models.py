"""Colour everywhere an image goes (issue 28, item 2): an RGB model trains, is saved and loaded, samples from the
command line, exports to ONNX, is checked for memorisation, is shown on the Train page and the Explore server path,
and is measured by metric classifiers of 3 channels. The data: a tiny colour folder made here (red and blue
squares on white, so colour is the only thing telling the classes apart) and, where named, the emoji dataset."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import TrainConfig
from gan_core.data.colour import folder_is_colour
from gan_core.io.checkpoint import load_checkpoint
from gan_core.train.run_files import write_run_files
from gan_core.train.trainer import Trainer
from tools.harness.waiting import wait_for

COLOURS = {"blue": (30, 40, 220), "red": (220, 30, 30)}  # ImageFolder's class order: sorted names
SQUARES_PER_CLASS = 12


def colour_square(rgb: tuple[int, int, int], offset: int, size: int = 40) -> Image.Image:
    """A coloured square on white, moved by `offset` pixels: each image of a class differs a little."""
    pixels = np.full((size, size, 3), 255, np.uint8)
    pixels[8 + offset: 24 + offset, 6 + offset: 22 + offset] = rgb
    return Image.fromarray(pixels)


def write_colour_folder(root: Path) -> Path:
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(SQUARES_PER_CLASS):
            colour_square(rgb, i).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory) -> Path:
    return write_colour_folder(tmp_path_factory.mktemp("colour") / "squares")


def rgb_config(folder: Path, model: str, **extra) -> TrainConfig:
    return TrainConfig(dataset=f"folder:{folder}", model=model, folder_rgb=True, batch_size=8, steps=3,
                       snapshot_every=1, device="cpu", **extra).validate()


@pytest.fixture(scope="module")
def rgb_runs(colour_folder, tmp_path_factory) -> dict[str, tuple[Trainer, list[torch.Tensor], Path]]:
    """dcgan and cgan-dcgan at 3 x 32 x 32, trained 3 steps on the colour squares and saved as a run saves them:
    model -> (trainer, G's weights before training, checkpoint path)."""
    out = tmp_path_factory.mktemp("runs")
    runs = {}
    for model in ("dcgan", "cgan-dcgan"):
        trainer = Trainer(rgb_config(colour_folder, model))
        before = [p.detach().clone() for p in trainer.G.parameters()]
        for _ in range(3):
            trainer.step()
        runs[model] = trainer, before, write_run_files(trainer, out, model, "test", 0.0, False)
    return runs


@pytest.fixture(scope="module")
def rgb_checkpoints(rgb_runs) -> dict[str, Path]:
    return {model: path for model, (_, _, path) in rgb_runs.items()}


def channels_differ(images: np.ndarray, axis: int, by: int = 2) -> bool:
    """Whether red, green and blue differ somewhere by at least `by` of 255: a grey picture copied into three
    channels has them equal everywhere. Floats are in [-1, 1]. (A generator after 3 steps is still near its
    random start, whose channels differ by a few levels; real colour data by far more.)"""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = (images + 1) * 127.5
    r, g, b = np.moveaxis(images, axis, 0)[:3].astype(int)
    return bool(np.abs(r - g).max() >= by or np.abs(g - b).max() >= by)


# ---------------------------------------------------------------- training, checkpoints, sampling, export

@pytest.mark.parametrize("model", ["dcgan", "cgan-dcgan"])
def test_an_rgb_model_trains_on_a_colour_folder(rgb_runs, model):
    trainer, before, _ = rgb_runs[model]
    assert trainer.data.shape == (3, 32, 32) and trainer.data.images.shape[1:] == (3, 32, 32)
    assert channels_differ(trainer.data.images.numpy(), axis=1, by=100), "the folder was read in colour"
    assert trainer.step_count == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True)), "G learned"
    step, snapshot = trainer.history.latest_snapshot()
    assert step == 3 and snapshot.dtype == np.uint8 and snapshot.shape[1:] == (3, 32, 32)
    if model == "cgan-dcgan":
        assert trainer.num_classes == 2 and len(snapshot) == 8 * 2
    assert channels_differ(snapshot, axis=1)


def test_an_rgb_checkpoint_round_trips(rgb_checkpoints):
    for model, path in rgb_checkpoints.items():
        gan = load_checkpoint(path)
        assert gan.image_shape == (3, 32, 32) and gan.meta["model"] == model
        assert gan.meta["config"]["folder_rgb"] is True
        z = torch.randn(4, gan.z_dim, generator=torch.Generator().manual_seed(1))
        labels = torch.tensor([0, 1, 0, 1]) if gan.num_classes else None
        again = load_checkpoint(path)
        first, second = gan.generate(z, labels), again.generate(z, labels)
        assert first.shape == (4, 3, 32, 32) and torch.equal(first, second)
        sheet = Image.open(path.with_suffix(".png"))  # the run's sample sheet is in colour too
        assert sheet.mode == "RGB" and channels_differ(np.asarray(sheet), axis=-1)


def test_gan_sample_writes_an_rgb_png_and_npz(rgb_checkpoints, gan_in_process, tmp_path):
    path = rgb_checkpoints["cgan-dcgan"]
    png, npz = tmp_path / "grid.png", tmp_path / "samples.npz"
    done = gan_in_process("sample", "--model", path, "--n", 8, "--out", png)
    assert done.returncode == 0, done.stderr
    picture = Image.open(png)
    assert picture.mode == "RGB" and channels_differ(np.asarray(picture), axis=-1)
    assert picture.size == (2 * (3 * 34 + 2), 2 * (3 * 34 + 2))  # 8 samples: 3 x 3 tiles of 32 + 2, scale 2
    assert gan_in_process("sample", "--model", path, "--n", 6, "--labels", "1", "--out", npz).returncode == 0
    saved = np.load(npz)
    assert saved["images"].shape == (6, 3, 32, 32) and (saved["labels"] == 1).all()


def test_an_rgb_conditional_generator_exports_to_onnx_with_parity(rgb_checkpoints):
    from gan_core.io.onnx_export import export_generator, onnx_session, run_onnx

    gan = load_checkpoint(rgb_checkpoints["cgan-dcgan"])
    model = export_generator(gan)
    assert model.input_names == ("z", "labels") and model.max_abs_diff <= 1e-4
    session = onnx_session(model.data)
    rng = np.random.default_rng(3)
    feed = {"z": rng.standard_normal((5, gan.z_dim)).astype(np.float32), "labels": np.array([0, 1, 1, 0, 1])}
    got = run_onnx(session, feed)
    expected = gan.generate(torch.from_numpy(feed["z"]), torch.from_numpy(feed["labels"])).numpy()
    assert got.shape == (5, 3, 32, 32) and np.abs(got - expected).max() <= 1e-4
    assert not np.allclose(got[:, 0], got[:, 1]), "three channels, not one repeated"


# ---------------------------------------------------------------- pictures

def test_grids_pngs_and_gifs_keep_colour():
    from gan_core.io.images import gif_bytes, grid, png_bytes, to_uint8

    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1).expand(4, 3, 5, 5)
    tiles = to_uint8(red)
    assert tiles.shape == (4, 5, 5, 3) and (tiles[..., 0] == 255).all() and (tiles[..., 1] == 0).all()
    picture = grid(red, nrow=2, pad=1)
    assert picture.shape == (13, 13, 3) and tuple(picture[1, 1]) == (255, 0, 0) and tuple(picture[0, 0]) == (0, 0, 0)
    assert tuple(np.asarray(Image.open(io.BytesIO(png_bytes(picture))))[1, 1]) == (255, 0, 0)
    blue = np.zeros_like(picture)
    blue[..., 2] = 255
    gif = Image.open(io.BytesIO(gif_bytes([picture, blue], levels=64)))
    assert gif.n_frames == 2 and tuple(gif.convert("RGB").getpixel((1, 1))) == (255, 0, 0)
    gif.seek(1)
    assert tuple(gif.convert("RGB").getpixel((1, 1))) == (0, 0, 255)


def test_the_timeline_gif_of_a_colour_run_keeps_colour_under_budget():
    from app_pages.train import outputs

    gen = torch.Generator().manual_seed(0)
    noise = [(10 * i, (torch.rand(16, 3, 32, 32, generator=gen) * 2 - 1).numpy()) for i in range(20)]
    assert outputs.gif_levels(noise, "image") == outputs.GIF_LEVELS["colour"] > outputs.GIF_LEVELS["image"]
    data, note = outputs.timeline_gif(noise, "image", "folder:x", False)
    gif = Image.open(io.BytesIO(data))
    assert len(data) <= outputs.GIF_BUDGET and channels_differ(np.asarray(gif.convert("RGB")), axis=-1, by=50)


def test_a_growing_colour_run_shows_its_stages_in_colour():
    from app_shared.training_ui.growth import stage_image
    from gan_core.train.stages import stage_sample

    full = np.zeros((4, 3, 32, 32), np.uint8)
    full[:, 0] = 200  # red everywhere, at the 8 x 8 stage's blocks of 4 x 4 pixels
    full[:, 2, :16] = 120
    stage = stage_sample(50, full, resolution=8, nrow=2)
    assert stage.samples.shape == (4, 3, 8, 8)
    picture = stage_image(stage)
    assert picture.shape == (2 * 34 + 2, 2 * 34 + 2, 3)
    assert tuple(picture[2, 2]) == (200, 0, 120) and tuple(picture[2 + 31, 2]) == (200, 0, 0)


def test_explore_server_pictures_of_an_rgb_model(rgb_checkpoints):
    from app_pages.explore import compute as ec

    gan = load_checkpoint(rgb_checkpoints["cgan-dcgan"])
    z = ec.base_latent(gan, 5)
    x = ec.generate_one(gan, z, 1)
    image = ec.image_array(x, scale=2)
    assert image.shape == (64, 64, 3) and channels_differ(image, axis=-1)
    picture = ec.class_grid(gan, z, 5, 1.0, columns=3)
    assert picture.image.ndim == 3 and picture.image.shape[2] == 3 and picture.row_names == ["blue", "red"]
    assert (picture.image[:, :100] >= 30).all(), "the label margin is white with dark text, in RGB"
    frames = ec.seed_frames(gan, z, 6, 0, 1.0, 4, "lerp")
    assert ec.strip(frames).shape[2] == 3 and ec.gif_frames(frames)[0].shape[2] == 3


# ---------------------------------------------------------------- memorisation check

def test_the_memorisation_check_finds_colour_neighbours(colour_folder):
    from gan_core.data.datasets import load_dataset
    from gan_core.eval.classifier import train_classifier
    from gan_core.eval.neighbours import build_index, nearest, typical_distance

    data = load_dataset(f"folder:{colour_folder}", folder_rgb=True)
    pixels = build_index(data.images, data.labels)
    idx, dist = nearest(pixels, data.images[[3, 20]], k=3)
    assert idx[:, 0].tolist() == [3, 20] and float(dist[:, 0].max()) == 0.0
    recoloured = data.images[[3]].clone()  # a blue square painted red: its neighbours are red squares
    recoloured[:, 0], recoloured[:, 2] = data.images[[3], 2], data.images[[3], 0]
    idx, _ = nearest(pixels, recoloured, k=3)
    assert (data.labels[idx[0]] == 1).all() and data.labels[3] == 0
    assert typical_distance(pixels) > 0
    classifier = train_classifier(data.images, data.labels, 2, steps=5, batch_size=8)
    assert classifier.in_channels == 3
    features = build_index(data.images, data.labels, classifier)
    assert features.space == "classifier features" and features.feats.shape == (len(data.images), 128)
    idx, dist = nearest(features, data.images[[7]], k=1)
    assert idx[0, 0] == 7 and float(dist[0, 0]) < 1e-3


# ---------------------------------------------------------------- uploads

def colour_zip(grey: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, rgb in COLOURS.items():
            for i in range(4):
                image = colour_square(rgb, i)
                png = io.BytesIO()
                (image.convert("L").convert("RGB") if grey else image).save(png, format="PNG")
                zf.writestr(f"{name}/{i}.png", png.getvalue())
    return buf.getvalue()


def test_colour_is_detected_in_a_folder(tmp_path):
    assert folder_is_colour(write_colour_folder(tmp_path / "colour"))
    (tmp_path / "grey").mkdir()
    for i in range(3):  # grey pictures stored as RGB JPEGs still count as grey
        colour_square((90, 90, 90), i).save(tmp_path / "grey" / f"{i}.jpg", quality=70)
    assert not folder_is_colour(tmp_path / "grey")
    assert not folder_is_colour(tmp_path / "empty-does-not-exist")


def test_gan_train_reads_a_colour_folder_in_colour_unless_told(colour_folder):
    import argparse

    from gan_core.cli.train import add_train_args, config_from_args

    parser = argparse.ArgumentParser()
    add_train_args(parser)
    base = ["--dataset", f"folder:{colour_folder}", "--out", "x", "--steps", "1"]
    assert config_from_args(parser.parse_args(base)).folder_rgb is True
    assert config_from_args(parser.parse_args([*base, "--no-folder-rgb"])).folder_rgb is False
    assert config_from_args(parser.parse_args(["--dataset", "mnist", "--out", "x"])).folder_rgb is False


def test_the_train_page_trains_an_uploaded_colour_zip_in_colour(train_app):
    at = train_app()
    at.session_state["tr_steps"] = 3
    at.session_state["tr_snapshot_every"] = 1
    at.run()
    at.file_uploader(key="tr_zip").upload("squares.zip", colour_zip(), "application/zip").run()
    assert not at.exception
    messages = " ".join(str(w.value) for w in at.warning)
    assert "Extracted 8 images (colour)" in messages and "32×32 RGB" in messages
    assert at.session_state["tr_folder_rgb"] is True and at.checkbox(key="tr_folder_rgb").value is True
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=120) and job.state.value == "finished", job.message
    at.run()
    step, snapshot = job.trainer.history.latest_snapshot()
    assert snapshot.shape[1:] == (3, 32, 32)
    key, png = at.session_state["_sample_png"]
    shown = Image.open(io.BytesIO(png))
    assert key[1] == step and shown.mode == "RGB" and channels_differ(np.asarray(shown), axis=-1)
    assert any("Samples from fixed noise" in img.proto.imgs[0].caption for img in at.image)

    grey = train_app()
    grey.run()
    grey.file_uploader(key="tr_zip").upload("grey.zip", colour_zip(grey=True), "application/zip").run()
    assert "(greyscale)" in " ".join(str(w.value) for w in grey.warning)
    assert grey.session_state["tr_folder_rgb"] is False


# ---------------------------------------------------------------- emoji: metrics, `gan eval`, the Apply experiment

@pytest.fixture(scope="module")
def emoji_train():
    from gan_core.data.datasets import DataNotFoundError, load_dataset
    from tests.conftest import require

    try:
        return load_dataset("emoji")
    except DataNotFoundError as exc:
        require(False, f"the emoji dataset: {exc}")


@pytest.fixture(scope="module")
def tiny_emoji_classifiers(emoji_train, tmp_path_factory) -> Path:
    """A classifier and a judge for emoji, 40 steps each: weak, but far better than chance on emoji."""
    from gan_core.eval.classifier import image_background, save_classifier, train_classifier

    folder = tmp_path_factory.mktemp("pretrained")
    x, y = emoji_train.images, emoji_train.labels
    for role, architecture in (("classifier", "SmallCNN"), ("judge", "VGGStyleCNN")):
        model = train_classifier(x, y, 9, steps=40, batch_size=32, architecture=architecture, augment=True,
                                 background=image_background(x))
        assert model.in_channels == 3 and model.image_size == 32
        save_classifier(model, folder / f"emoji-{role}", {"dataset": "emoji", "role": role})
    return folder


@pytest.fixture
def emoji_metrics(tiny_emoji_classifiers, monkeypatch):
    """The metrics module reading the tiny emoji classifiers instead of pretrained/ (caches cleared both ways)."""
    from gan_core.eval import classifier as classifier_mod
    from gan_core.eval import metrics

    monkeypatch.setattr(classifier_mod, "PRETRAINED_DIR", tiny_emoji_classifiers)
    metrics._classifier.cache_clear()
    metrics.real_feature_stats.cache_clear()
    yield metrics
    metrics._classifier.cache_clear()
    metrics.real_feature_stats.cache_clear()


@pytest.fixture(scope="module")
def emoji_cgan(emoji_train, tmp_path_factory) -> Path:
    """A cgan-dcgan on emoji after 2 steps, saved as a run saves it."""
    trainer = Trainer(TrainConfig(dataset="emoji", model="cgan-dcgan", batch_size=8, steps=2, device="cpu"))
    for _ in range(2):
        trainer.step()
    return write_run_files(trainer, tmp_path_factory.mktemp("emoji-run"), "emoji-cgan", "test", 0.0, False)


def test_metrics_on_emoji_separate_real_colour_images_from_noise(emoji_metrics, emoji_train):
    from gan_core.eval.classifier import load_classifier

    assert load_classifier("emoji").in_channels == 3 and emoji_metrics.has_image_metrics("emoji", "judge")
    real_x, real_y = emoji_train.images[::5][:300], emoji_train.labels[::5][:300]  # every group
    noise = torch.rand(300, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    real = emoji_metrics.evaluate(lambda n, seed: (real_x, real_y), dataset="emoji", n=300)
    wrong = emoji_metrics.evaluate(lambda n, seed: (real_x, (real_y + 1) % 9), dataset="emoji", n=300)
    fake = emoji_metrics.evaluate(lambda n, seed: (noise, real_y), dataset="emoji", n=300)
    accuracies = [(r["class_accuracy"], r["judge_class_accuracy"]) for r in (real, wrong)]
    _, _, reference = emoji_metrics.real_feature_stats("emoji")
    assert reference > 1000, "emoji's small test split is joined by the train split"
    for key in ("classifier_frechet_distance", "judge_frechet_distance"):
        assert 0 <= real[key] < fake[key] / 3, (key, real[key], fake[key], accuracies)
    assert real["class_accuracy"] > max(0.25, 2 * wrong["class_accuracy"]), accuracies  # chance: 1/9
    assert real["judge_class_accuracy"] > wrong["judge_class_accuracy"], accuracies
    assert len(real["class_counts"]) == 9 and real["judged_by"]


def test_gan_eval_and_the_live_metrics_of_an_emoji_model(emoji_metrics, emoji_cgan, gan_in_process):
    import json

    done = gan_in_process("eval", "--model", emoji_cgan, "--n", 60, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["dataset"] == "emoji" and result["n"] == 60 and len(result["class_counts"]) == 9
    assert result["classifier_frechet_distance"] > 0 and 0 <= result["class_accuracy"] <= 1
    assert "judge_class_accuracy" in result and "judged_class_accuracy" in result
    trainer = Trainer(TrainConfig(dataset="emoji", model="cgan-dcgan", batch_size=8, steps=1, device="cpu"))
    live = emoji_metrics.trainer_evaluator(trainer, n=90)(trainer)
    assert live["classifier_frechet_distance"] > 0 and 0 <= live["class_accuracy"] <= 1


def test_the_apply_experiment_runs_on_emoji(emoji_cgan):
    from gan_core.teach import synthetic as syn

    data = syn.load_experiment_data("emoji", test_size=40)
    assert data.pool_x.shape[1:] == (3, 32, 32) and data.num_classes == 9 and "emoji's train split" in data.note
    config = syn.ExperimentConfig(real_per_class=2, synthetic_per_class=2, seeds=1, steps=3, batch_size=8,
                                  test_size=40, augment=True)
    result = syn.run_experiment(load_checkpoint(emoji_cgan), data, config)
    for arm in result.arms.values():
        assert len(arm.accuracies) == 1 and 0 <= arm.accuracies[0] <= 1
        assert arm.confusion.shape == (9, 9) and arm.confusion.sum() == 40


def test_gan_train_classifier_makes_an_emoji_judge_of_3_channels(emoji_train, gan_in_process, tmp_path):
    import json

    from gan_core.eval.classifier import load_classifier_file

    done = gan_in_process("train-classifier", "--dataset", "emoji", "--role", "judge", "--steps", 3,
                          "--batch-size", 16, "--out", tmp_path / "judge")
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "judge.json").read_text())
    assert (meta["in_channels"], meta["image_size"], meta["num_classes"]) == (3, 32, 9)
    assert meta["architecture"] == "VGGStyleCNN" and meta["test_images"] < meta["train_images"] < len(emoji_train)
    judge = load_classifier_file(tmp_path / "judge")
    assert judge(emoji_train.images[:5]).shape == (5, 9)


def test_the_memorisation_check_on_emoji_uses_the_emoji_classifier(emoji_metrics, emoji_train):
    from gan_core.eval.neighbours import dataset_index, nearest

    index = dataset_index("emoji", limit=300)
    assert index.space == "classifier features" and index.images.shape == (300, 3, 32, 32)
    idx, dist = nearest(index, emoji_train.images[[42, 7]], k=2)
    assert idx[:, 0].tolist() == [42, 7] and float(dist[:, 0].max()) < 1e-3
