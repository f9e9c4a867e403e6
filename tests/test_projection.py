"""Draw -> latent (gan_core.explore.projection, `gan project`): recovers a generated image's own z and class,
works for every image model, converts drawings, and refuses bad uploads with a plain message."""
from __future__ import annotations

import io
import json
import pickle
import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gan_core.eval.classifier import shipped_classifier
from gan_core.explore.projection import (
    DEFAULT_CONFIG,
    Z_LIMIT,
    ProjectionConfig,
    image_to_target,
    project_images,
    verdicts,
)
from gan_core.io.checkpoint import GAN, load_checkpoint, resolve_checkpoint, save_checkpoint
from gan_core.io.safety import UnsafeInputError, load_uploaded_array, open_uploaded_image
from gan_core.nn.models import MODEL_NAMES, build_models

FAST = ProjectionConfig(steps=20, restarts=2, refine_top=1, refine_steps=10)


@pytest.fixture(scope="module")
def cgan() -> GAN:
    return load_checkpoint(resolve_checkpoint("mnist-cgan"))


@pytest.fixture(scope="module")
def generated(cgan) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x = G(z*, y*) for ten seeded z* and one of each class."""
    z = torch.randn(10, cgan.z_dim, generator=torch.Generator().manual_seed(7))
    y = torch.arange(10)
    return z, y, cgan.generate(z, y)


def tiny_gan(model: str, shape: tuple[int, int, int], classes: int | None = 3, dataset: str = "emoji") -> GAN:
    """An untrained model in eval mode, as load_checkpoint would hand it over (RGB: the emoji dataset's shape)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        g, d = build_models(model, 8, shape, classes)
    meta = {"model": model, "z_dim": 8, "num_classes": classes if g.num_classes else None,
            "image_shape": list(shape), "dataset": dataset}
    return GAN(g.eval(), d.eval(), meta)


def test_projection_recovers_a_generated_images_class_and_latent(cgan, generated):
    z_true, y_true, x = generated
    found = project_images(cgan, x, config=FAST, seed=0, classifier=shipped_classifier("mnist"))
    assert found.z.shape == (10, cgan.z_dim) and found.labels.dtype == torch.int64
    assert found.feature_space == "classifier features"
    assert int((found.labels == y_true).sum()) >= 8, found.labels  # chance: 1 in 10
    # z: many z draw nearly the same digit, so z* itself is not found exactly, but the direction is: the cosine
    # to its own z* is well above chance (about 0 +- 0.125 in 64 dimensions) and above that to the others' z*
    cos = torch.nn.functional.cosine_similarity(found.z.unsqueeze(1), z_true.unsqueeze(0), dim=2)  # found x true
    own, others = cos.diagonal(), cos[~torch.eye(10, dtype=torch.bool)]
    assert float(own.mean()) > 0.1 and float(own.mean()) > float(others.mean()) + 0.1, cos
    assert int((own > 0).sum()) >= 9, own
    random_gap = (torch.randn(10, cgan.z_dim, generator=torch.Generator().manual_seed(99)) - z_true).norm(dim=1)
    assert float((found.z - z_true).norm(dim=1).mean()) < float(random_gap.mean())
    # the re-generated image is the image returned, and close to x (far closer than a random z of the same class)
    assert torch.allclose(cgan.generate(found.z, found.labels), found.images, atol=1e-5)
    random_pixels = (cgan.generate(torch.randn(10, cgan.z_dim, generator=torch.Generator().manual_seed(5)), y_true)
                     - x).pow(2).flatten(1).mean(1)
    assert float(found.pixel_distance.median()) < 0.3 * float(random_pixels.median())
    assert torch.allclose(found.pixel_distance, (found.images - x).pow(2).flatten(1).mean(1), atol=1e-5)
    assert float(found.z.abs().max()) <= Z_LIMIT
    d_x = verdicts(cgan, found)
    assert d_x.shape == (10,) and bool(((d_x > 0) & (d_x < 1)).all())


def test_projection_is_deterministic_for_a_seed_and_leaves_the_global_rng_alone(cgan, generated):
    x = generated[2][:2]
    state = torch.get_rng_state()
    cfg = ProjectionConfig(steps=3, restarts=2, refine_top=1, refine_steps=2)
    a = project_images(cgan, x, config=cfg, seed=4, classes=[1, 2, 3])
    b = project_images(cgan, x, config=cfg, seed=4, classes=[1, 2, 3])
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a.z, b.z) and torch.equal(a.labels, b.labels)
    assert set(a.labels.tolist()) <= {1, 2, 3}  # only the classes asked for
    c = project_images(cgan, x, config=cfg, seed=5, classes=[1, 2, 3])
    assert not torch.equal(a.z, c.z)


IMAGE_MODELS = [m for m in MODEL_NAMES if m != "toy"]


@pytest.mark.parametrize(("model", "shape"), [(m, (1, 28, 28)) for m in IMAGE_MODELS]
                         + [(m, (3, 32, 32)) for m in ("mlp", "cgan-dcgan", "progan")])
def test_every_image_model_projects_and_searching_only_gets_closer(model, shape):
    gan = tiny_gan(model, shape, dataset="mnist" if shape[0] == 1 else "folder:mine")  # folder: no classifier
    target = torch.rand(2, *shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    cfg = ProjectionConfig(steps=3, restarts=2, refine_top=1, refine_steps=2)
    start = project_images(gan, target, config=replace(cfg, steps=0, refine_steps=0), features="pixels")
    found = project_images(gan, target, config=cfg, features="pixels")
    assert found.images.shape == (2, *shape) and found.z.shape == (2, 8)
    assert bool((found.distance <= start.distance + 1e-6).all())  # the best z seen is kept, starts included
    assert (found.labels is None) == (gan.num_classes is None)
    featured = project_images(gan, target, config=cfg,  # with the classifier's or the discriminator's features
                              classifier=shipped_classifier(gan.meta["dataset"]))
    assert featured.feature_space == ("classifier features" if shape[0] == 1 else "discriminator features")
    assert bool(torch.isfinite(featured.distance).all())
    assert bool((featured.distance >= featured.pixel_distance - 1e-6).all())


def test_bad_projection_arguments_are_refused_plainly(cgan, generated):
    x = generated[2][:1]
    with pytest.raises(ValueError, match="N x 1 x 28 x 28"):
        project_images(cgan, torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="out of range"):
        project_images(cgan, x, classes=[10])
    with pytest.raises(ValueError, match="NaN"):
        project_images(cgan, torch.full((1, 1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match="unconditional"):
        project_images(tiny_gan("dcgan", (1, 28, 28), None), x, classes=[1])
    with pytest.raises(ValueError, match="restarts"):
        project_images(cgan, x, restarts=0)


# ---------------------------------------------------------------- drawings -> targets

def drawn_seven(mode: str = "RGB", size: int = 280) -> Image.Image:
    """A thick dark 7 on a white canvas (or on a transparent one, for RGBA)."""
    ground = (255, 255, 255, 0) if mode == "RGBA" else "white"
    image = Image.new(mode, (size, size), ground)
    pen = ImageDraw.Draw(image)
    ink = (0, 0, 0, 255) if mode == "RGBA" else "black"
    pen.line([(60, 50), (220, 50), (120, 240)], fill=ink, width=24)
    return image


def test_a_dark_drawing_on_white_becomes_light_strokes_on_black_centred_like_mnist():
    target = image_to_target(drawn_seven(), (1, 28, 28))
    assert target.shape == (1, 1, 28, 28) and float(target.min()) >= -1 and float(target.max()) <= 1
    assert float(target[0, 0, 0].mean()) == -1.0 and float(target.max()) > 0.9  # black ground, white ink
    ink = (target[0, 0] + 1) / 2
    rows, cols = torch.nonzero(ink > 0.1, as_tuple=True)
    assert 18 <= int(rows.max() - rows.min()) + 1 <= 21  # the glyph's long side fits MNIST's 20-pixel box
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centre = ((ys * ink).sum() / ink.sum(), (xs * ink).sum() / ink.sum())
    assert all(abs(float(c) - 13.5) <= 1.0 for c in centre)  # centre of mass in the middle
    transparent = image_to_target(drawn_seven("RGBA"), (1, 28, 28))
    assert float((transparent - target).abs().max()) < 0.05  # a transparent canvas reads the same


def test_an_mnist_digit_saved_as_png_comes_back_as_itself(mnist_dir):
    """Already in MNIST's framing, it is re-framed the same way: equal up to a one-pixel shift of the centre."""
    from gan_core.data.datasets import load_dataset
    for x in load_dataset("mnist", mnist_dir, split="test", limit=12).images:
        png = Image.fromarray(((x[0].numpy() + 1) * 127.5).round().astype(np.uint8))
        target = image_to_target(png, (1, 28, 28))[0]
        shifted = [torch.roll(target, (dy, dx), dims=(1, 2)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        assert min(float((t - x).abs().mean()) for t in shifted) < 0.1


def test_colour_pictures_are_fitted_on_the_white_background():
    image = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([100, 25, 200, 125], fill=(255, 0, 0, 255))
    target = image_to_target(image, (3, 32, 32))
    assert target.shape == (1, 3, 32, 32)
    assert torch.allclose(target[0, :, 0, 0], torch.ones(3))  # the emoji dataset's white, padding included
    centre = target[0, :, 16, 16]
    assert centre[0] > 0.9 and centre[1] < -0.9 and centre[2] < -0.9  # red stays red


# ---------------------------------------------------------------- uploads are checked

def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def claimed_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's header), with a valid CRC."""
    data = bytearray(png_bytes(Image.new("L", (8, 8))))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_uploaded_images_are_checked_before_decoding():
    image = open_uploaded_image(png_bytes(drawn_seven(size=64)))
    assert image.size == (64, 64)
    for bad, needle in [(b"just some text, not a picture", "not an image"),
                        (pickle.dumps({"a": 1}), "not an image"),
                        (b"", "empty"),
                        (claimed_size_png(20000, 20000), "megapixels"),  # PIL's own bomb limit
                        (claimed_size_png(5000, 4000), "5000x4000 pixels; the limit is 16 megapixels"),
                        (png_bytes(drawn_seven(size=64))[:60], "could not be decoded")]:
        with pytest.raises(UnsafeInputError, match=needle):
            open_uploaded_image(bad)
    with pytest.raises(UnsafeInputError, match="MiB"):
        open_uploaded_image(png_bytes(drawn_seven(size=64)), max_bytes=100)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_uploaded_arrays_never_unpickle_and_must_be_numeric():
    assert load_uploaded_array(npy_bytes(np.zeros((2, 28, 28), np.uint8))).shape == (2, 28, 28)
    for bad, needle in [(npy_bytes(np.array([{"x": 1}], dtype=object), allow_pickle=True), "Python objects"),
                        (pickle.dumps(np.zeros(3)), "a pickle"),
                        (b"PK\x03\x04rest", "npz or zip"),
                        (npy_bytes(np.array(["a", "b"])), "dtype"),
                        (npy_bytes(np.array([1.0, np.nan])), "NaN"),
                        (npy_bytes(np.zeros((100, 100)))[:100], "could not be read|truncated")]:
        with pytest.raises(UnsafeInputError, match=needle):
            load_uploaded_array(bad)


# ---------------------------------------------------------------- the command line

def assert_one_line_error(result, needle: str) -> None:
    assert result.returncode == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_gan_project_on_a_png_reports_class_distance_d_and_the_nearest_image(gan_in_process, cgan, generated,
                                                                             tmp_path, mnist_dir, monkeypatch):
    from gan_core.eval import neighbours
    index_of = neighbours.dataset_index
    monkeypatch.setattr(neighbours, "dataset_index", lambda name: index_of(name, limit=2000))  # fewer to embed
    x = generated[2][7:8]  # a generated 7
    picture = tmp_path / "seven.png"
    picture.write_bytes(png_bytes(Image.fromarray(((x[0, 0].numpy() + 1) * 127.5).round().astype(np.uint8))))
    sheet = tmp_path / "sheet.png"
    result = gan_in_process("project", "--model", "mnist-cgan", "--image", picture, "--out", sheet, "--json",
                            "--steps", 20, "--restarts", 1)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    row = report["images"][0]
    assert report["model"] == "mnist-cgan" and row["image"] == "seven.png" and row["class"] == 7
    assert row["class_name"] == "7" and len(row["z"]) == cgan.z_dim and 0 < row["d_x"] < 1
    assert row["pixel_distance"] < 0.1 and row["distance"] >= row["pixel_distance"]
    assert row["nearest"]["class"] == 7 and row["nearest"]["distance"] > 0
    assert report["nearest_space"] == "classifier features"
    with Image.open(sheet) as im:
        assert im.size == (3 * 28 * 4 + 4 * 2 * 4, 28 * 4 + 2 * 2 * 4)  # target | projection | nearest, scale 4


def test_gan_project_on_an_npy_batch(gan_in_process, generated, tmp_path):
    x = generated[2][:3]
    batch = tmp_path / "x.npy"
    np.save(batch, ((x[:, 0].numpy() + 1) * 127.5).round().astype(np.uint8))  # N x H x W uint8
    result = gan_in_process("project", "--model", "mnist-cgan", "--images", batch, "--steps", 20, "--restarts", 1,
                            "--no-nearest")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["x.npy[0]", "x.npy[1]", "x.npy[2]"]
    assert [line.split("class ")[1][0] for line in lines[:3]] == ["0", "1", "2"] and "D(x)" in lines[0]
    floats = tmp_path / "f.npy"
    np.save(floats, x.numpy())  # N x 1 x H x W float in [-1, 1]
    result = gan_in_process("project", "--model", "mnist-cgan", "--images", floats, "--steps", 2, "--restarts", 1,
                            "--no-nearest", "--json", "--classes", "4")
    assert result.returncode == 0, result.stderr
    assert [row["class"] for row in json.loads(result.stdout)["images"]] == [4, 4, 4]


def test_gan_project_refuses_bad_files_with_one_line_and_exit_2(gan_in_process, tmp_path):
    cases = {
        "text.png": (b"hello, not an image", "--image", "not an image"),
        "wrong.npy": (npy_bytes(np.zeros((2, 5, 5), np.uint8)), "--images", "this model needs N x 28 x 28"),
        "rgb.npy": (npy_bytes(np.zeros((2, 3, 28, 28), np.float32)), "--images", "N x 1 x 28 x 28"),
        "objects.npy": (npy_bytes(np.array([None, 1], dtype=object), allow_pickle=True), "--images", "never loaded"),
        "range.npy": (npy_bytes(np.full((1, 28, 28), 7.0)), "--images", "must lie in [-1, 1]"),
        "bomb.png": (claimed_size_png(5000, 4000), "--image", "megapixels"),
    }
    for name, (data, flag, needle) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert_one_line_error(gan_in_process("project", "--model", "mnist-cgan", flag, path), needle)
    assert_one_line_error(gan_in_process("project", "--model", "mnist-cgan", "--image", tmp_path / "none.png"),
                          "no such file")
    assert_one_line_error(gan_in_process("project", "--model", "mnist-cgan", "--image", tmp_path / "text.png",
                                         "--out", tmp_path / "o.jpg"), "--out must end in .png")


def test_a_saved_rgb_checkpoint_projects_from_the_command_line(gan_in_process, tmp_path):
    gan = tiny_gan("cgan-dcgan", (3, 32, 32))
    save_checkpoint(tmp_path / "tiny", gan.generator, gan.meta, gan.discriminator)
    image = tmp_path / "red.png"
    image.write_bytes(png_bytes(Image.new("RGB", (40, 40), (200, 30, 30))))
    result = gan_in_process("project", "--model", tmp_path / "tiny.safetensors", "--image", image, "--steps", 2,
                            "--restarts", 1, "--no-nearest", "--json", "--out", tmp_path / "o.png")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["images"][0]
    assert row["class"] in (0, 1, 2) and len(row["z"]) == 8
    with Image.open(tmp_path / "o.png") as im:
        assert im.mode == "RGB"


def test_the_default_settings_are_valid():
    assert DEFAULT_CONFIG.validate() is DEFAULT_CONFIG
