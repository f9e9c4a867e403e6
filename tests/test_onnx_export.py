"""ONNX export of generators: parity with torch for every model type and the shipped models, a dynamic
batch, class labels as an input, refusal when parity fails, the in-process cache, and `gan export`."""
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_core.io.onnx_export as onnx_export
from gan_core.cli.main import main as cli_main
from gan_core.io.checkpoint import GAN, PRETRAINED_DIR, list_pretrained, load_checkpoint, save_checkpoint
from gan_core.io.images import to_uint8
from gan_core.io.onnx_export import (
    FLOAT16_TOLERANCE,
    ExportError,
    export_generator,
    float16_weights,
    onnx_session,
    run_onnx,
    write_onnx,
)
from gan_core.io.safety import load_uploaded_checkpoint
from gan_core.nn.models import CONDITIONAL_MODELS, MODEL_NAMES, build_models

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ("mnist-cgan", "mnist-dcgan", "fashion-cgan", "ring8", "ring8-collapsed")
# tiny shapes keep each export to a second or two; dcgan gets RGB so both channel counts are covered
TINY_SHAPES = {"mlp": (1, 8, 8), "cgan-mlp": (1, 8, 8), "cgan-mlp-proj": (1, 8, 8), "dcgan": (3, 8, 8),
               "cgan-dcgan": (1, 12, 12), "progan": (3, 8, 8), "cgan-progan": (1, 12, 12), "toy": None}


@pytest.fixture
def fresh_cache():
    """For tests that count exports or patch the exporter: nothing cached before, nothing patched left after.
    The other tests share the cache, as the app does (the conftest seed makes their tiny models identical)."""
    onnx_export.clear_export_cache()
    yield
    onnx_export.clear_export_cache()


def tiny_gan(name: str, folder: Path, z_dim: int = 6, classes: int = 4):
    """A random-init model saved as a checkpoint and loaded back, as the app gets it after training."""
    shape = TINY_SHAPES[name]
    num_classes = classes if name in CONDITIONAL_MODELS else None
    g, d = build_models(name, z_dim, shape, num_classes)
    with torch.no_grad():  # BatchNorm statistics that are not 0/1, so exporting in train mode would show
        for m in g.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    meta = {"model": name, "z_dim": z_dim, "image_shape": list(shape) if shape else None, "num_classes": num_classes}
    return load_checkpoint(save_checkpoint(folder / name, g, meta, d))


def inputs_for(gan, n: int, seed: int = 0, label: int | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feed = {"z": rng.standard_normal((n, gan.z_dim)).astype(np.float32)}
    if gan.num_classes:
        labels = np.arange(n) % gan.num_classes if label is None else np.full(n, label)
        feed["labels"] = labels.astype(np.int64)
    return feed


def torch_output(gan, feed: dict[str, np.ndarray]) -> np.ndarray:
    labels = torch.from_numpy(feed["labels"]) if "labels" in feed else None
    return gan.generate(torch.from_numpy(feed["z"]), labels).numpy()


def assert_matches_torch(gan, model, batches=(5, 2), tolerance: float = 1e-4) -> None:
    session = onnx_session(model.data)
    assert [i.name for i in session.get_inputs()] == list(model.input_names)
    assert isinstance(session.get_inputs()[0].shape[0], str), "the batch dimension must be dynamic"
    for n in batches:
        feed = inputs_for(gan, n, seed=n)
        got, expected = run_onnx(session, feed), torch_output(gan, feed)
        assert got.shape == expected.shape and got.shape[0] == n
        assert np.abs(got - expected).max() <= tolerance
        assert got.std() > 0, "a constant output would match nothing"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_type_exports_with_parity_and_a_dynamic_batch(name, tmp_path):
    gan = tiny_gan(name, tmp_path)
    model = export_generator(gan)
    assert model.input_names == (("z", "labels") if name in CONDITIONAL_MODELS else ("z",))
    assert model.output_name == ("points" if name == "toy" else "images")
    assert model.sha256 == hashlib.sha256(model.data).hexdigest()
    assert 0 <= model.max_abs_diff <= 1e-4
    assert model.exporter == "dynamo"
    assert_matches_torch(gan, model)
    session = onnx_session(model.data)
    assert session.get_outputs()[0].name == model.output_name
    if name == "toy":
        assert run_onnx(session, inputs_for(gan, 3)).shape == (3, 2)
    else:
        assert run_onnx(session, inputs_for(gan, 3)).shape == (3, *gan.image_shape)


@pytest.mark.parametrize("name", CONDITIONAL_MODELS)
def test_class_labels_change_the_output(name, tmp_path):
    gan = tiny_gan(name, tmp_path)
    session = onnx_session(export_generator(gan).data)
    as_0, as_1 = inputs_for(gan, 4, seed=7, label=0), inputs_for(gan, 4, seed=7, label=1)
    assert np.array_equal(as_0["z"], as_1["z"])
    out_0, out_1 = run_onnx(session, as_0), run_onnx(session, as_1)
    assert np.abs(out_0 - out_1).max() > 1e-3
    assert np.abs(out_1 - torch_output(gan, as_1)).max() <= 1e-4


def test_an_uploaded_checkpoint_exports(tmp_path):
    saved = tiny_gan("cgan-dcgan", tmp_path)
    weights, meta = saved.path, saved.path.with_suffix(".json")
    gan = load_uploaded_checkpoint(weights.read_bytes(), meta.read_bytes())
    assert gan.path is None
    assert_matches_torch(gan, export_generator(gan))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_export_within_tolerance(name):
    assert name in list_pretrained(), f"{name} is not shipped in {PRETRAINED_DIR}"
    gan = load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors")
    model = export_generator(gan)
    assert model.max_abs_diff <= 1e-4
    assert_matches_torch(gan, model, batches=(16, 1))
    print(f"{name}: {len(model.data)} bytes, max abs diff {model.max_abs_diff:.3g}, "
          f"{model.export_seconds:.2f} s ({model.exporter})")


def max_pixel_diff(gan, model, n: int = 16) -> int:
    """The largest difference, on 0..255, between the export's pictures and torch's for n random inputs."""
    feed = inputs_for(gan, n, seed=99)
    got, expected = run_onnx(onnx_session(model.data), feed), torch_output(gan, feed)
    return int(np.abs(to_uint8(got).astype(int) - to_uint8(expected).astype(int)).max())


def test_float16_tolerance_keeps_pixels_within_one_grey_level():
    """The limit's reasoning: outputs within it of torch's round to at most one grey level away."""
    x = np.linspace(-1, 1, 20_001, dtype=np.float32)[None, None, None, :]
    for shift in (FLOAT16_TOLERANCE, -FLOAT16_TOLERANCE):
        moved = np.clip(x + np.float32(shift * 0.999), -1, 1)
        assert np.abs(to_uint8(moved).astype(int) - to_uint8(x).astype(int)).max() == 1


@pytest.mark.parametrize("name", ["dcgan", "cgan-mlp"])
def test_float16_weights_halve_the_file_and_keep_the_pictures(name, tmp_path):
    import onnx
    gan = tiny_gan(name, tmp_path, z_dim=16)
    full = export_generator(gan)
    half = float16_weights(gan, full)
    assert half.weights == "float16" and full.weights == "float32"
    assert half.sha256 == hashlib.sha256(half.data).hexdigest() != full.sha256
    assert len(half.data) < 0.65 * len(full.data), (len(half.data), len(full.data))
    graph = onnx.load_from_string(half.data).graph
    stored = {t.name: t.data_type for t in graph.initializer}
    assert sum(t == onnx.TensorProto.FLOAT16 for t in stored.values()) >= 2
    casts = [node for node in graph.node if node.op_type == "Cast"]
    assert all(node.input[0] in stored and stored[node.input[0]] == onnx.TensorProto.FLOAT16 for node in casts)
    assert 0 < half.max_abs_diff <= FLOAT16_TOLERANCE, "float16 weights round, but within the limit"
    assert_matches_torch(gan, half, tolerance=FLOAT16_TOLERANCE)
    assert max_pixel_diff(gan, half) <= 1, "at most one grey level from torch's pictures"


def test_float16_weights_beyond_the_tolerance_are_refused(tmp_path):
    gan = tiny_gan("dcgan", tmp_path, z_dim=16)
    with pytest.raises(ExportError, match="float16 export of .* differs from torch"):
        float16_weights(gan, export_generator(gan), tolerance=1e-7)


@pytest.mark.parametrize("name", [n for n in SHIPPED if not n.startswith("ring8")])
def test_shipped_image_models_keep_their_pixels_with_float16_weights(name):
    """The browser gets these files (app_pages/explore/browser_model.py): half the bytes, within a grey level."""
    gan = load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors")
    full = export_generator(gan)
    half = float16_weights(gan, full)
    assert len(half.data) <= 0.51 * len(full.data)
    assert half.max_abs_diff <= FLOAT16_TOLERANCE
    assert max_pixel_diff(gan, half, n=64) <= 1


def test_a_model_whose_parity_fails_is_refused(fresh_cache, tmp_path, monkeypatch):
    gan = tiny_gan("dcgan", tmp_path)
    real_run = onnx_export.run_onnx
    monkeypatch.setattr(onnx_export, "run_onnx", lambda session, feed: real_run(session, feed) + 1e-3)
    with pytest.raises(ExportError, match=r"differs from torch by up to 0\.001.*limit is 0\.0001"):
        export_generator(gan)
    with pytest.raises(ExportError, match="differs from torch"):  # a cached export is refused the same way
        export_generator(gan)
    assert export_generator(gan, tolerance=1e-2).max_abs_diff == pytest.approx(1e-3, rel=1e-2)


def test_zero_tolerance_refuses_any_difference(tmp_path):
    gan = tiny_gan("mlp", tmp_path)
    assert export_generator(gan).max_abs_diff > 0  # float32 rounding differs between the two runtimes
    with pytest.raises(ExportError, match="limit is 0"):
        export_generator(gan, tolerance=0)
    with pytest.raises(ExportError, match="tolerance"):
        export_generator(gan, tolerance=float("nan"))


def test_exports_are_cached_by_weights(fresh_cache, tmp_path, monkeypatch):
    gan = tiny_gan("toy", tmp_path)
    calls = []
    real_export = onnx_export._export_dynamo
    monkeypatch.setattr(onnx_export, "_export_dynamo", lambda *a: calls.append(1) or real_export(*a))
    first = export_generator(gan)
    again = load_checkpoint(gan.path)  # the same file loaded again: the same identity
    assert export_generator(gan) is first and export_generator(again) is first
    assert len(calls) == 1
    # a GAN built in memory has no file hash: it is keyed on its weights, so changed weights re-export
    in_memory = GAN(gan.generator, None, gan.meta)
    assert export_generator(in_memory).sha256 == first.sha256 and len(calls) == 2
    changed = GAN(build_models("toy", gan.z_dim)[0].eval(), None, gan.meta)
    assert export_generator(changed).sha256 != first.sha256 and len(calls) == 3
    # the bytes are deterministic, so the browser's copy (kept by sha256) stays valid after a server restart
    onnx_export.clear_export_cache()
    assert export_generator(gan).data == first.data and len(calls) == 4


def test_torchscript_fallback_when_dynamo_fails(fresh_cache, tmp_path, monkeypatch, caplog):
    gan = tiny_gan("cgan-mlp", tmp_path)

    def fail(*_args):
        raise RuntimeError("unsupported op")
    monkeypatch.setattr(onnx_export, "_export_dynamo", fail)
    with caplog.at_level(logging.WARNING, logger="gan_core.io.onnx_export"):
        model = export_generator(gan)
    assert model.exporter == "torchscript"
    assert any("falling back to the TorchScript exporter" in r.message for r in caplog.records)
    assert_matches_torch(gan, model)


def test_write_onnx_is_atomic_and_stays_in_its_folder(tmp_path):
    gan = tiny_gan("toy", tmp_path / "ckpt")
    model = export_generator(gan)
    out = tmp_path / "out"
    path = write_onnx(model, out, "ring")
    assert path == out / "ring.onnx" and path.read_bytes() == model.data
    assert [p.name for p in out.iterdir()] == ["ring.onnx"]
    for bad in ("../escape", "a/b", "", ".hidden", ".."):
        with pytest.raises(ExportError, match="plain file name"):
            write_onnx(model, out, bad)
    assert [p.name for p in out.iterdir()] == ["ring.onnx"] and not (tmp_path / "escape.onnx").exists()


def test_cli_writes_a_file_that_onnxruntime_loads(tmp_path):
    out = tmp_path / "exports"
    result = subprocess.run([sys.executable, "-m", "gan_core", "export", "--model", "ring8", "--format", "onnx",
                             "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    path = out / "ring8.onnx"
    data = path.read_bytes()
    assert f"wrote {path}" in result.stdout
    assert f"bytes: {len(data)}" in result.stdout and f"sha256: {hashlib.sha256(data).hexdigest()}" in result.stdout
    assert "max abs diff vs torch: " in result.stdout
    gan = load_checkpoint(PRETRAINED_DIR / "ring8.safetensors")
    feed = inputs_for(gan, 4)
    assert np.abs(run_onnx(onnx_session(data), feed) - torch_output(gan, feed)).max() <= 1e-4


def test_cli_exports_a_checkpoint_path(tmp_path, capsys):
    gan = tiny_gan("mlp", tmp_path / "run")
    assert cli_main(["export", "--model", str(gan.path), "--out", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "mlp.onnx").read_bytes() == export_generator(gan).data
    assert "max abs diff vs torch" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "out_is_a_file", "message"), [
    (["--model", "no-such-model"], False, "no pretrained model named 'no-such-model'"),
    (["--model", "ring8", "--format", "tflite"], False, "--format must be one of onnx, got 'tflite'"),
    (["--model", "ring8", "--tolerance", "-1"], False, "--tolerance must be >= 0"),
    (["--model", "ring8"], True, "--out must be a folder"),
])
def test_cli_bad_input_exits_2_with_one_line(args, out_is_a_file, message, tmp_path, capsys):
    target = tmp_path / "out"
    if out_is_a_file:
        target.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", *args, "--out", str(target)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not list(tmp_path.glob("**/*.onnx"))


def test_cli_bad_checkpoint_exits_2(tmp_path, capsys):
    (tmp_path / "broken.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "broken.json").write_text(json.dumps({"model": "toy", "z_dim": 2}))
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", "--model", str(tmp_path / "broken.safetensors"), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "not a valid safetensors file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_docs_snippet_runs_on_an_export(tmp_path, monkeypatch, capsys):
    readme = (REPO / "docs" / "cli.md").read_text()
    section = readme.split("## Using an exported generator outside the app", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    gan = load_checkpoint(PRETRAINED_DIR / "mnist-cgan.safetensors")
    write_onnx(export_generator(gan), tmp_path / "exports", "mnist-cgan")
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README snippet", "exec"), {})
    assert capsys.readouterr().out.strip() == "(10, 1, 28, 28) 0 255"
