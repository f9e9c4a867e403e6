"""Bad input, tried on purpose: every case gets a one-line reason (exit status 2 on the command line)
and changes nothing — no output written, no code run, no file touched outside its folder."""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.cli.main import main
from gan_core.io.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.io.safety import UnsafeInputError, extract_image_zip, is_inside, load_uploaded_checkpoint, resolve_inside
from gan_core.nn.models import build_models

META = {"model": "cgan-mlp", "z_dim": 4, "num_classes": 3, "image_shape": [1, 28, 28]}


# ---------------------------------------------------------------- helpers

def run_cli(capsys, *args) -> tuple[int, str]:
    """Run `python -m gan_core ARGS` in-process; returns (exit status, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return exc.value.code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert lines and "error:" in lines[-1], err
    for needle in needles:
        assert needle.lower() in lines[-1].lower(), (needle, err)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small real conditional checkpoint (3 classes, z_dim 4): cg.safetensors + cg.json."""
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    G, D = build_models("cgan-mlp", 4, (1, 28, 28), 3)
    save_checkpoint(folder / "cg", G, dict(META), D)
    return folder / "cg.safetensors"


def copy_checkpoint(src: Path, dest_dir: Path, weights: bytes | None = None, meta: dict | str | None = None) -> Path:
    """A copy of `src` with its weights bytes and/or JSON replaced."""
    dest = dest_dir / "x.safetensors"
    dest.write_bytes(weights if weights is not None else src.read_bytes())
    json_text = src.with_suffix(".json").read_text() if meta is None else (
        meta if isinstance(meta, str) else json.dumps(meta))
    dest.with_suffix(".json").write_text(json_text)
    return dest


class RunsCode:
    """Unpickling this writes a marker file: the proof that a loader unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def pickle_payload(kind: str, marker: Path) -> bytes:
    evil = RunsCode(marker)
    if kind == "torch.save":
        buf = io.BytesIO()
        torch.save({"generator.net.0.weight": evil}, buf)
        return buf.getvalue()
    protocol = int(kind.removeprefix("pickle-protocol-"))
    return pickle.dumps({"state_dict": evil}, protocol=protocol)


PICKLE_KINDS = ["pickle-protocol-0", "pickle-protocol-2", "pickle-protocol-5", "torch.save"]


def image_png(seed: int = 0, size: int = 28) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------- train: parameters

BAD_TRAIN_ARGS = [
    (["--dataset", "cifar10"], "unknown dataset"),
    (["--model", "stylegan9"], "unknown model"),
    (["--loss", "wasserstein"], "unknown loss"),
    (["--model", "mlp"], "does not fit"),  # an image model on 2-D points
    (["--lr", "0"], "lr_g"),
    (["--lr", "-0.001"], "lr_g"),
    (["--lr", "10"], "lr_g"),  # absurd
    (["--lr-d", "1e9"], "lr_d"),
    (["--lr", "nan"], "nan"),
    (["--lr", "inf"], "inf"),
    (["--batch-size", "0"], "batch size"),
    (["--batch-size", "-4"], "batch size"),
    (["--batch-size", "1000000"], "batch size"),
    (["--batch-size", "abc"], "invalid int"),
    (["--z-dim", "0"], "z_dim"),
    (["--z-dim", "-2"], "z_dim"),
    (["--steps", "0"], "steps"),
    (["--seconds", "nan"], "seconds"),
    (["--seconds", "-1"], "seconds"),
    (["--beta1", "nan"], "beta1"),
    (["--label-smoothing", "inf"], "label_smoothing"),
    (["--gp-weight", "-1"], "gp_weight"),
    (["--n-critic", "0"], "n_critic"),
    (["--ema-decay", "1.5"], "ema_decay"),
    (["--data-limit", "0"], "data_limit"),
    (["--num-threads", "-1"], "num_threads"),
    (["--device", "tpu"], "device"),
    (["--dataset", "folder:/definitely/not/here"], "does not exist"),
]


@pytest.mark.parametrize("extra, needle", BAD_TRAIN_ARGS, ids=[" ".join(a) for a, _ in BAD_TRAIN_ARGS])
def test_train_rejects_bad_parameters_with_exit_2_and_writes_nothing(capsys, tmp_path, extra, needle):
    out = tmp_path / "out"
    args = ["train", "--dataset", "ring8", "--steps", "3", "--out", out, "--no-progress"]
    # later flags win with argparse, so the bad value overrides the good default above
    code, err = run_cli(capsys, *args, *extra)
    assert_one_line_error(code, err, needle)
    assert not out.exists()


def test_train_without_budget_is_rejected(capsys, tmp_path):
    code, err = run_cli(capsys, "train", "--dataset", "ring8", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "budget")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("imgs")
    for c in ("cats", "dogs"):
        (root / c).mkdir()
        for i in range(3):
            (root / c / f"{i}.png").write_bytes(image_png(i))
    return root


def test_batch_larger_than_folder_dataset(capsys, tmp_path, tiny_folder):
    out = tmp_path / "out"
    code, err = run_cli(capsys, "train", "--dataset", f"folder:{tiny_folder}", "--batch-size", 16, "--steps", 2,
                        "--out", out, "--no-progress")
    assert_one_line_error(code, err, "larger than the dataset (6 images)")
    assert not out.exists()


def test_batch_larger_than_mnist_slice(capsys, tmp_path, mnist_dir):
    code, err = run_cli(capsys, "train", "--dataset", "mnist", "--data-dir", mnist_dir, "--data-limit", 10,
                        "--batch-size", 64, "--steps", 2, "--out", tmp_path / "o", "--no-progress")
    assert_one_line_error(code, err, "larger than the dataset (10 images)")


def test_corrupt_image_in_folder_dataset(capsys, tmp_path, tiny_folder):
    bad = tmp_path / "bad"
    (bad / "a").mkdir(parents=True)
    (bad / "a" / "0.png").write_bytes(image_png(0))
    (bad / "a" / "1.png").write_bytes(b"\x89PNG not really")
    code, err = run_cli(capsys, "train", "--dataset", f"folder:{bad}", "--steps", 1, "--out", tmp_path / "o")
    assert_one_line_error(code, err, "could not be read")


# ---------------------------------------------------------------- sample: parameters and checkpoints

def test_good_checkpoint_samples(capsys, tmp_path, checkpoint):
    """The positive control for the cases below: the same command with good input works."""
    out = tmp_path / "s.npz"
    assert main(["sample", "--model", str(checkpoint), "--n", "6", "--labels", "2", "--out", str(out)]) == 0
    data = np.load(out)
    assert data["images"].shape == (6, 1, 28, 28) and set(data["labels"].tolist()) == {2}


BAD_SAMPLE_ARGS = [
    (["--labels", "3"], "out of range"),
    (["--labels", "-1"], "out of range"),
    (["--labels", "cats"], "--labels"),
    (["--truncation", "nan"], "truncation"),
    (["--truncation", "inf"], "truncation"),
    (["--truncation", "-1"], "truncation"),
    (["--n", "0"], "--n"),
    (["--n", "1000000000"], "--n"),
    (["--device", "tpu"], "device"),
]


@pytest.mark.parametrize("extra, needle", BAD_SAMPLE_ARGS, ids=[" ".join(a) for a, _ in BAD_SAMPLE_ARGS])
def test_sample_rejects_bad_parameters(capsys, tmp_path, checkpoint, extra, needle):
    out = tmp_path / "s.npz"
    code, err = run_cli(capsys, "sample", "--model", checkpoint, "--n", 6, "--out", out, *extra)
    assert_one_line_error(code, err, needle)
    assert not out.exists()


def test_sample_rejects_unknown_output_type(capsys, tmp_path, checkpoint):
    code, err = run_cli(capsys, "sample", "--model", checkpoint, "--out", tmp_path / "s.txt")
    assert_one_line_error(code, err, ".npz or .png")


def test_missing_checkpoint_and_unknown_name(capsys, tmp_path):
    code, err = run_cli(capsys, "sample", "--model", tmp_path / "nope.safetensors", "--out", tmp_path / "s.npz")
    assert_one_line_error(code, err, "does not exist")
    code, err = run_cli(capsys, "sample", "--model", "no-such-pretrained-model", "--out", tmp_path / "s.npz")
    assert_one_line_error(code, err, "no pretrained model named")
    code, err = run_cli(capsys, "sample", "--model", "../../etc/passwd", "--out", tmp_path / "s.npz")
    assert_one_line_error(code, err, "does not exist")


def _corrupt_variants(good: bytes) -> dict[str, bytes]:
    header_len = struct.unpack("<Q", good[:8])[0]
    flipped = bytearray(good)
    flipped[8 + header_len // 2] ^= 0xFF  # garble the JSON header
    return {
        "empty": b"",
        "random bytes": os.urandom(4096),
        "truncated half": good[: len(good) // 2],
        "truncated header": good[:12],
        "header length lies": struct.pack("<Q", 10**12) + good[8:],
        "garbled header": bytes(flipped),
        "text file": b"hello, I am a text file\n" * 50,
    }


@pytest.mark.parametrize("variant", ["empty", "random bytes", "truncated half", "truncated header",
                                     "header length lies", "garbled header", "text file"])
def test_corrupt_safetensors_is_rejected_everywhere(capsys, tmp_path, checkpoint, variant):
    data = _corrupt_variants(checkpoint.read_bytes())[variant]
    bad = copy_checkpoint(checkpoint, tmp_path, weights=data)
    code, err = run_cli(capsys, "sample", "--model", bad, "--out", tmp_path / "s.npz")
    assert_one_line_error(code, err)
    assert not (tmp_path / "s.npz").exists()
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError):
        load_uploaded_checkpoint(data, json.dumps(META).encode())


def test_nan_weights_are_rejected(tmp_path):
    G, D = build_models("cgan-mlp", 4, (1, 28, 28), 3)
    with torch.no_grad():
        next(G.parameters()).fill_(float("nan"))
    save_checkpoint(tmp_path / "nan", G, dict(META), D)
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(tmp_path / "nan.safetensors")


LYING_META = {
    "z_dim": (dict(META, z_dim=8), "shapes do not match"),
    "num_classes": (dict(META, num_classes=5), "shapes do not match"),
    "image_shape": (dict(META, image_shape=[3, 32, 32]), "shapes do not match"),
    "model": (dict(META, model="dcgan"), "shapes do not match"),
    "unknown model": (dict(META, model="os.system"), "unknown model"),
    "z_dim not a number": (dict(META, z_dim="4; rm -rf /"), "z_dim"),
    "absurd z_dim": (dict(META, z_dim=10**9), "z_dim"),
    "absurd image": (dict(META, image_shape=[1, 100000, 100000]), "image_shape"),
    "not an object": ([1, 2, 3], "JSON object"),
}


@pytest.mark.parametrize("case", list(LYING_META))
def test_json_that_lies_about_shapes(capsys, tmp_path, checkpoint, case):
    meta, needle = LYING_META[case]
    bad = copy_checkpoint(checkpoint, tmp_path, meta=meta)
    code, err = run_cli(capsys, "sample", "--model", bad, "--out", tmp_path / "s.npz")
    assert_one_line_error(code, err, needle)
    with pytest.raises(CheckpointError, match=needle):
        load_uploaded_checkpoint(checkpoint.read_bytes(), json.dumps(meta).encode())


def test_json_missing_invalid_or_huge(capsys, tmp_path, checkpoint):
    bad = copy_checkpoint(checkpoint, tmp_path, meta="{not json")
    assert_one_line_error(*run_cli(capsys, "sample", "--model", bad, "--out", tmp_path / "s.npz"), "not valid JSON")
    bad.with_suffix(".json").write_text(json.dumps(dict(META, pad="x" * (2 * 2**20))))
    assert_one_line_error(*run_cli(capsys, "sample", "--model", bad, "--out", tmp_path / "s.npz"), "larger than")
    bad.with_suffix(".json").unlink()
    assert_one_line_error(*run_cli(capsys, "sample", "--model", bad, "--out", tmp_path / "s.npz"), "missing")
    with pytest.raises(CheckpointError, match="too large"):
        load_uploaded_checkpoint(checkpoint.read_bytes(), b" " * (2 * 2**20))
    with pytest.raises(CheckpointError, match="not a text file") as binary:
        load_uploaded_checkpoint(checkpoint.read_bytes(), b"\xff\x9a garbage")
    with pytest.raises(CheckpointError, match="does not say which model") as no_model:
        load_uploaded_checkpoint(checkpoint.read_bytes(), json.dumps({k: v for k, v in META.items()
                                                                      if k != "model"}).encode())
    for exc in (binary, no_model):  # plain words that say what to do, not a Python error
        text = str(exc.value)
        assert "codec" not in text and "0x9a" not in text and "None" not in text, text
        assert "Use the NAME.json that was saved next to NAME.safetensors" in text, text


def test_huge_files_are_refused_before_reading(capsys, tmp_path, checkpoint, monkeypatch):
    """A weights file over the cap is refused by its size (a sparse file: no disk or memory used)."""
    from gan_core.io import checkpoint as ckpt_module
    from gan_core.io import safety
    huge = copy_checkpoint(checkpoint, tmp_path)
    with open(huge, "r+b") as f:
        f.truncate(ckpt_module.MAX_CHECKPOINT_BYTES + 1)
    assert_one_line_error(*run_cli(capsys, "sample", "--model", huge, "--out", tmp_path / "s.npz"), "limit")
    # uploads arrive as bytes: shrink the cap instead of allocating 200 MiB
    monkeypatch.setattr(safety, "MAX_CHECKPOINT_BYTES", 1000)
    with pytest.raises(CheckpointError, match="limit"):
        load_uploaded_checkpoint(checkpoint.read_bytes(), json.dumps(META).encode())
    monkeypatch.setattr(ckpt_module, "MAX_CHECKPOINT_BYTES", 1000)
    with pytest.raises(CheckpointError, match="larger than"):
        ckpt_module.load_checkpoint_bytes(checkpoint.read_bytes(), dict(META))


# ---------------------------------------------------------------- pickles: never unpickled

@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_pickle_payload_really_runs_code_when_unpickled(tmp_path, kind):
    """Guard for the test below: the payload is live, so "no marker" there means "not unpickled"."""
    marker = tmp_path / "marker"
    data = pickle_payload(kind, marker)
    if kind == "torch.save":
        torch.load(io.BytesIO(data), weights_only=False)
    else:
        pickle.loads(data)
    assert marker.read_text() == "unpickled"


@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_pickle_uploads_are_rejected_and_never_unpickled(capsys, tmp_path, checkpoint, tiny_folder, kind):
    marker = tmp_path / "marker"
    data = pickle_payload(kind, marker)
    with pytest.raises(CheckpointError):
        load_uploaded_checkpoint(data, json.dumps(META).encode())
    bad = copy_checkpoint(checkpoint, tmp_path, weights=data)
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    pt = tmp_path / "model.pt"
    pt.write_bytes(data)
    for model_arg in (bad, pt):
        assert_one_line_error(*run_cli(capsys, "sample", "--model", model_arg, "--out", tmp_path / "s.npz"))
    code, err = run_cli(capsys, "train", "--dataset", f"folder:{tiny_folder}", "--model", "cgan-mlp",
                        "--batch-size", 4, "--init-from", bad, "--steps", 1, "--out", tmp_path / "o", "--no-progress")
    assert_one_line_error(code, err, "not a valid safetensors")
    assert not marker.exists(), "a pickle was unpickled"


def test_upload_with_pickle_magic_gets_a_clear_reason(checkpoint):
    data = pickle.dumps({"a": 1}, protocol=4)
    with pytest.raises(CheckpointError, match="pickle"):
        load_uploaded_checkpoint(data, json.dumps(META).encode())


def test_good_upload_loads(checkpoint):
    gan = load_uploaded_checkpoint(checkpoint.read_bytes(), checkpoint.with_suffix(".json").read_bytes())
    assert gan.num_classes == 3 and gan.generate(torch.zeros(2, 4), torch.tensor([0, 2])).shape == (2, 1, 28, 28)


# ---------------------------------------------------------------- zips for the image-folder dataset

def test_good_zip_extracts_inside_dest(tmp_path):
    dest = tmp_path / "dest"
    data = make_zip([("cats/0.png", image_png(0)), ("dogs/1.png", image_png(1)), ("readme.txt", b"hi"),
                     ("__MACOSX/._x.png", b"junk")])
    assert extract_image_zip(data, dest) == 2
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.png")) == ["cats/0.png", "dogs/1.png"]


def _symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link.png")
    info.external_attr = (0o120777 << 16)
    return info


BAD_ZIPS = {
    "dot-dot": ([("../evil.png", image_png())], "outside"),
    "nested dot-dot": ([("a/../../evil.png", image_png())], "outside"),
    "absolute": ([("/tmp/evil.png", image_png())], "absolute"),
    "drive letter": ([("C:/evil.png", image_png())], "absolute"),
    "backslashes": ([("..\\evil.png", image_png())], "backslash"),
    "symlink": ([(_symlink_entry(), b"/etc/passwd"), ("ok.png", image_png())], "symbolic link"),
    "no images": ([("a.txt", b"text")], "no images"),
    "not an image": ([("a.png", b"not a png at all")], "not a readable image"),
    "clashing names": ([("a.png", image_png()), ("a.png/b.png", image_png())], "could not be unpacked"),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS))
def test_unsafe_zip_is_rejected_and_writes_nothing(tmp_path, case):
    entries, needle = BAD_ZIPS[case]
    data = make_zip(entries)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names, "the test zip must hold its entries"
    dest = tmp_path / "a" / "dest"
    with pytest.raises(UnsafeInputError, match=needle):
        extract_image_zip(data, dest)
    assert not any(dest.rglob("*")) if dest.exists() else True
    assert not (tmp_path / "a" / "evil.png").exists() and not (tmp_path / "evil.png").exists()
    assert not Path("/tmp/evil.png").exists()


def test_zip_caps_on_count_size_and_pixels(tmp_path, monkeypatch):
    from gan_core.io import safety
    many = make_zip([(f"{i}.png", image_png(i)) for i in range(6)])
    with pytest.raises(UnsafeInputError, match="6 entries; the limit is 5"):
        extract_image_zip(many, tmp_path / "d1", max_files=5)
    bomb = make_zip([("big.png", b"\0" * 100_000)])  # compresses to ~100 bytes, unpacks to 100 kB
    assert len(bomb) < 2000
    with pytest.raises(UnsafeInputError, match="unpacks to"):
        extract_image_zip(bomb, tmp_path / "d2", max_bytes=50_000)
    monkeypatch.setattr(safety, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(UnsafeInputError, match="megapixels"):
        extract_image_zip(make_zip([("a.png", image_png(0, size=28))]), tmp_path / "d3")
    assert not any((tmp_path / "d3").rglob("*.png"))
    with pytest.raises(UnsafeInputError, match="not a valid zip"):
        extract_image_zip(b"PK\x03\x04 not really a zip", tmp_path / "d4")
    assert not (tmp_path / "d1").exists() and not (tmp_path / "d2").exists() and not (tmp_path / "d4").exists()


# ---------------------------------------------------------------- paths

@pytest.mark.parametrize("user_path", ["../secret", "a/../../secret", "/etc/passwd", "a/\x00b", "link/secret"])
def test_resolve_inside_refuses_escapes(tmp_path, user_path):
    root = tmp_path / "allowed"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)  # a symlink inside that points outside
    with pytest.raises(UnsafeInputError):
        resolve_inside(root, user_path)


def test_resolve_inside_allows_what_is_inside(tmp_path):
    root = tmp_path / "allowed"
    (root / "runs").mkdir(parents=True)
    assert resolve_inside(root, "runs/a.safetensors") == (root / "runs" / "a.safetensors").resolve()
    assert resolve_inside(root, "runs/../b.json") == (root / "b.json").resolve()


def test_is_inside_is_not_fooled_by_prefixes_or_links(tmp_path):
    allowed, sibling = tmp_path / "pre", tmp_path / "pretrained-evil"
    allowed.mkdir()
    sibling.mkdir()
    (allowed / "out").symlink_to(sibling)
    assert is_inside(allowed / "x.safetensors", [allowed])
    assert not is_inside(sibling / "x.safetensors", [allowed])  # shares a name prefix only
    assert not is_inside(allowed / "out" / "x.safetensors", [allowed])  # through a link to outside
    assert not is_inside(allowed / ".." / "pretrained-evil", [allowed])
    assert is_inside(sibling / "x", [allowed, sibling])
