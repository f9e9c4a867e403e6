"""gan_core.eval.metrics and gan_core.eval.classifier: the numbers are right, separate good from bad, and are
deterministic."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import require

from gan_core.data.datasets import load_dataset, toy_modes
from gan_core.eval.classifier import (
    SmallCNN,
    VGGStyleCNN,
    accuracy,
    classifier_path,
    load_classifier,
    load_classifier_file,
    predict,
    save_classifier,
    train_classifier,
)
from gan_core.eval.metrics import (
    class_coverage,
    evaluate,
    feature_stats,
    frechet_distance,
    image_metrics,
    judged,
    toy_coverage,
    toy_mode_metrics,
    trainer_evaluator,
)
from gan_core.eval.splits import classifier_split
from gan_core.io.checkpoint import CheckpointError, list_pretrained

REPO = Path(__file__).resolve().parent.parent


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "gan_core", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


# ---------------------------------------------------------------- pure maths

def test_frechet_distance_matches_closed_forms():
    torch.manual_seed(0)
    a = torch.randn(4000, 6, dtype=torch.float64)
    mu, sigma = feature_stats(a)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    shift = torch.tensor([3.0, 0, 0, 0, 0, 4.0], dtype=torch.float64)
    assert frechet_distance(mu + shift, sigma, mu, sigma) == pytest.approx(25.0, rel=1e-6)
    # diagonal covariances: sum (sqrt(a_i) - sqrt(b_i))^2
    s1, s2 = torch.diag(torch.tensor([1.0, 4.0, 9.0])), torch.diag(torch.tensor([4.0, 4.0, 1.0]))
    zero = torch.zeros(3)
    assert frechet_distance(zero, s1, zero, s2) == pytest.approx(1.0 + 0.0 + 4.0, rel=1e-6)
    # symmetric in its arguments for a non-diagonal pair
    b = a @ torch.randn(6, 6, dtype=torch.float64)
    mu2, sigma2 = feature_stats(b)
    assert frechet_distance(mu, sigma, mu2, sigma2) == pytest.approx(frechet_distance(mu2, sigma2, mu, sigma), rel=1e-6)


def test_class_coverage_even_and_collapsed():
    even = class_coverage(torch.arange(1000) % 10, 10)
    assert even["class_entropy"] == pytest.approx(1.0) and even["max_class_share"] == pytest.approx(0.1)
    assert even["classes_present"] == 10 and sum(even["class_counts"]) == 1000
    collapsed = class_coverage(torch.full((1000,), 3), 10)
    assert collapsed["class_entropy"] == pytest.approx(0.0) and collapsed["max_class_share"] == 1.0
    assert collapsed["classes_present"] == 1
    two = class_coverage(torch.tensor([0, 1] * 50), 10)
    assert two["class_entropy"] == pytest.approx(math.log(2) / math.log(10))


def test_toy_metrics_exact_modes_versus_collapse():
    modes, std = toy_modes("ring8")
    gen = torch.Generator().manual_seed(0)
    exact = modes.repeat(100, 1) + std * torch.randn(800, 2, generator=gen)
    good = toy_mode_metrics(exact, modes, std)
    assert good["modes_covered"] == 8 and good["high_quality"] > 0.99
    assert all(80 <= c <= 100 for c in good["mode_counts"])
    collapsed = modes[[2]].repeat(800, 1) + std * torch.randn(800, 2, generator=gen)
    bad = toy_mode_metrics(collapsed, modes, std)
    assert bad["modes_covered"] == 1 and bad["mode_counts"][2] > 790
    between = toy_mode_metrics(torch.zeros(100, 2), modes, std)  # the ring's centre: far from every mode
    assert between["high_quality"] == 0.0 and between["modes_covered"] == 0


def test_modes_covered_has_one_definition_that_pages_and_warnings_share():
    """Train showed "Modes held 1/8" beside the playground's "Modes covered 0/8" for the same run: two rules.

    Now one rule (MODES_COVERED_RULE): >= 1/(4K) of the points within a quarter of the mode spacing. Blurry
    points on one mode cover it (the strict 4-std rule said 0); 2% stray points on another mode do not (it said 2).
    """
    from gan_core.eval.diagnostics import diagnose
    from gan_core.eval.metrics import MODES_COVERED_RULE
    modes, std = toy_modes("ring8")
    gen = torch.Generator().manual_seed(0)
    blurry = modes[2] + 0.15 * torch.randn(1000, 2, generator=gen)  # on mode 2, mostly beyond 4 std = 0.08
    blurry[:20] = modes[5]  # 2% exact points on mode 5: less than a quarter of a fair share (1/32)
    m = toy_mode_metrics(blurry, modes, std)
    assert m["modes_covered"] == 1 and m["mode_counts"][5] == 20 and m["high_quality"] < 0.5
    assert toy_coverage("ring8", blurry.numpy()) == m, "the pages' helper is the same rule"
    assert toy_coverage("spiral", blurry) is None
    warning = diagnose("running", "", [{"step": 500}], "minimax", spread=m)
    assert warning[0].kind == "mode_collapse" and "only 1 of the 8 modes" in warning[0].text
    assert "1/(4·K)" in MODES_COVERED_RULE and "a quarter of the distance between neighbouring modes" in \
        MODES_COVERED_RULE


def test_evaluate_toy_function_is_deterministic():
    modes, std = toy_modes("ring8")

    def half_ring(n, seed):  # covers modes 0..3 only
        g = torch.Generator().manual_seed(seed)
        pick = torch.randint(4, (n,), generator=g)
        return modes[pick] + std * torch.randn(n, 2, generator=g), None

    first = evaluate(half_ring, "ring8", n=1000, seed=5)
    assert first == evaluate(half_ring, "ring8", n=1000, seed=5)
    assert first["modes_covered"] == 4 and first["high_quality"] > 0.99
    spiral = evaluate(half_ring, "spiral", n=100)  # no modes: precision and recall (the ring's points are off it)
    assert "note" not in spiral and spiral["recall"] < 0.5, spiral
    assert "note" in evaluate(half_ring, "folder:/x", n=100)


# ---------------------------------------------------------------- classifier

def test_classifier_save_load_round_trip_and_rejects_bad_files(tmp_path):
    model = SmallCNN(10, 1).eval()
    save_classifier(model, tmp_path / "c", {"dataset": "mnist", "model": "cgan-mlp"})
    meta = json.loads((tmp_path / "c.json").read_text())
    assert meta["kind"] == "classifier" and "model" not in meta
    assert list_pretrained(tmp_path) == []  # never listed as a GAN
    loaded = load_classifier_file(tmp_path / "c")
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert torch.equal(model(x), loaded(x)) and loaded.features(x).shape == (5, 128)
    (tmp_path / "c.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="safetensors"):
        load_classifier_file(tmp_path / "c")
    save_classifier(SmallCNN(3, 1), tmp_path / "d", {})
    (tmp_path / "d.json").write_text((tmp_path / "c.json").read_text())  # JSON says 10 classes, file holds 3
    with pytest.raises(CheckpointError, match="shapes"):
        load_classifier_file(tmp_path / "d")
    with pytest.raises(ValueError):
        load_classifier("cifar")


def test_judge_architecture_round_trips_and_a_wrong_architecture_is_refused(tmp_path):
    judge = VGGStyleCNN(10, 1).eval()
    save_classifier(judge, tmp_path / "j", {"dataset": "mnist"})
    meta = json.loads((tmp_path / "j.json").read_text())
    assert meta["architecture"] == "VGGStyleCNN" and meta["feature_dim"] == 96
    loaded = load_classifier_file(tmp_path / "j")
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert isinstance(loaded, VGGStyleCNN) and torch.equal(judge(x), loaded(x))
    assert loaded.features(x).shape == (4, 96)
    (tmp_path / "j.json").write_text(json.dumps(dict(meta, architecture="SmallCNN")))  # VGG weights, SmallCNN JSON
    with pytest.raises(CheckpointError, match="SmallCNN"):
        load_classifier_file(tmp_path / "j")
    (tmp_path / "j.json").write_text(json.dumps(dict(meta, architecture="ResNet")))
    with pytest.raises(CheckpointError, match="unknown classifier architecture"):
        load_classifier_file(tmp_path / "j")


def test_train_classifier_learns_quickly(mnist_dir):
    data = load_dataset("mnist", mnist_dir)
    model = train_classifier(data.images[:2000], data.labels[:2000], 10, steps=40, batch_size=64, seed=0)
    assert not model.training
    assert accuracy(model, data.images[9000:9500], data.labels[9000:9500]) > 0.5
    assert predict(model, data.images[:7], batch=3).shape == (7,)


def test_train_classifier_leaves_the_process_rng_alone_and_is_reproducible():
    """It runs in a server thread (Apply): seeded weights and dropout, without reseeding or advancing torch's RNG."""
    gen = torch.Generator().manual_seed(1)
    x, y = torch.rand(64, 1, 28, 28, generator=gen) * 2 - 1, torch.randint(3, (64,), generator=gen)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = train_classifier(x, y, 3, steps=3, batch_size=16, seed=7, augment=True, photometric=True)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # whatever the process's RNG holds, the seed decides the classifier
    again = train_classifier(x, y, 3, steps=3, batch_size=16, seed=7, augment=True, photometric=True)
    other = train_classifier(x, y, 3, steps=3, batch_size=16, seed=8)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True))
    assert not torch.equal(first.head.weight, other.head.weight)


# ---------------------------------------------------------------- the two shipped classifiers per dataset

def _shipped(dataset: str, role: str):
    require(classifier_path(dataset, role).with_suffix(".safetensors").is_file(), f"pretrained/{dataset}-{role}")
    return load_classifier(dataset, role=role)


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_classifier_and_judge_differ_in_architecture_seed_and_split(dataset, mnist_dir, fashion_dir):
    classifier, judge = _shipped(dataset, "classifier"), _shipped(dataset, "judge")
    assert type(classifier) is SmallCNN and type(judge) is VGGStyleCNN
    assert classifier.meta["architecture"] == "SmallCNN" and judge.meta["architecture"] == "VGGStyleCNN"
    assert classifier.meta["seed"] != judge.meta["seed"]
    def kernels(model):
        return {tuple(m.kernel_size) for m in model.modules() if isinstance(m, torch.nn.Conv2d)}
    assert kernels(judge) == {(3, 3)} and kernels(classifier) == {(5, 5)}
    first, second = classifier_split(dataset, "classifier"), classifier_split(dataset, "judge")
    assert judge.meta["train_images"] == len(second.train_index) and judge.meta["data"] == second.description
    for split in (first, second):  # each classifier's test images lie outside its own training images
        if split.train_split == split.test_split:
            assert not set(split.train_index.tolist()) & set(split.test_index.tolist())
    assert not torch.equal(first.train_index, second.train_index)
    if first.test_split == "train":  # MNIST: both test sets cut from the one split, and they share no image
        assert not set(first.test_index.tolist()) & set(second.test_index.tolist())
    else:  # Fashion: the judge trains on a different (smaller) part of the train split
        assert len(second.train_index) < len(first.train_index)


@pytest.mark.parametrize("dataset, floor", [("mnist", 0.985), ("fashion", 0.88)])
def test_shipped_judge_is_accurate_on_its_held_out_images(dataset, floor, mnist_dir, fashion_dir):
    judge = _shipped(dataset, "judge")
    split = classifier_split(dataset, "judge")
    measured = accuracy(judge, split.test_images, split.test_labels)
    assert measured > floor and measured == pytest.approx(judge.meta["test_accuracy"], abs=1e-3)


def test_a_raised_background_does_not_fool_the_mnist_judge(mnist_dir):
    """A first judge (no brightness augmentation) read real digits with a background raised by 0.2 at 17%."""
    judge = _shipped("mnist", "judge")
    split = classifier_split("mnist", "judge")
    x, y = split.test_images[:1000], split.test_labels[:1000]
    for lift in (0.2, 0.4):
        assert accuracy(judge, (x + lift).clamp(-1, 1), y) > 0.97


def test_photometric_augmentation_changes_brightness_and_contrast_only():
    from gan_core.eval.classifier import _photometric
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, 28, 28, generator=gen) * 2 - 1
    out = _photometric(x, gen)
    changed = (out != x).flatten(1).any(1)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert 0.35 < changed.float().mean() < 0.65  # about half the images
    for i in torch.nonzero(changed).flatten()[:20]:  # each changed image is (x + 1) * c - 1 + b: no pixel noise
        keep = out[i] < 1  # pixels not clipped
        c, b = torch.linalg.lstsq(torch.stack([x[i][keep] + 1, torch.ones(int(keep.sum()))], 1),
                                  (out[i][keep] + 1).unsqueeze(1)).solution.flatten()
        assert 0.69 < c <= 1 and 0 <= b <= 0.51
        assert torch.allclose((x[i][keep] + 1) * c + b - 1, out[i][keep], atol=1e-5)


def test_judged_takes_the_lower_accuracy_and_the_worse_relative_distance():
    verdict = judged({"classifier": {"class_accuracy": 0.95, "relative_frechet_distance": 0.02},
                      "judge": {"class_accuracy": 0.90, "relative_frechet_distance": 0.01}})
    assert verdict["judged_class_accuracy"] == 0.90 and verdict["judged_by"]["class_accuracy"] == "judge"
    assert verdict["judged_relative_frechet_distance"] == 0.02
    assert verdict["judged_by"]["frechet_distance"] == "classifier"
    unconditional = judged({"classifier": {"relative_frechet_distance": 0.1},
                            "judge": {"relative_frechet_distance": 0.3}})
    assert "judged_class_accuracy" not in unconditional and unconditional["judged_by"] == {"frechet_distance": "judge"}


# ---------------------------------------------------------------- metrics with the shipped classifier

@pytest.fixture(scope="module")
def mnist_real(mnist_dir):
    require(classifier_path("mnist").with_suffix(".safetensors").is_file(), "pretrained/mnist-classifier")
    return load_dataset("mnist", mnist_dir).images


def test_shipped_mnist_classifier_is_accurate_on_held_out_images(mnist_dir):
    require(classifier_path("mnist").with_suffix(".safetensors").is_file(), "pretrained/mnist-classifier")
    model = load_classifier("mnist")
    data = load_dataset("mnist", mnist_dir)
    assert model.meta["test_images"] == 1000
    assert accuracy(model, data.images[9000:], data.labels[9000:]) > 0.97


def test_real_feature_stats_are_kept_on_disk_for_the_next_process(mnist_real, set_env, tmp_path, monkeypatch, caplog):
    """A new process (here: the per-process cache cleared) reads the statistics back instead of running the
    classifier over the real images again; other images get another key; an unreadable file is recomputed."""
    from gan_core.eval import classifier as classifier_mod
    from gan_core.eval import metrics
    set_env(GAN_DOWNLOAD_DIR=tmp_path)
    monkeypatch.setattr(metrics, "REAL_REFERENCE_MAX", 300)
    metrics.real_feature_stats.cache_clear()
    real_features = classifier_mod.features
    try:
        mu, sigma, n = metrics.real_feature_stats("mnist")
        (kept,) = (tmp_path / "feature_stats").iterdir()
        assert n == 300 and kept.name.startswith("mnist-classifier-") and kept.suffix == ".safetensors"
        metrics.real_feature_stats.cache_clear()
        monkeypatch.setattr(classifier_mod, "features", lambda *a, **k: pytest.fail("recomputed"))
        again = metrics.real_feature_stats("mnist")
        assert torch.equal(again[0], mu) and torch.equal(again[1], sigma) and again[2] == 300
        monkeypatch.setattr(classifier_mod, "features", real_features)
        monkeypatch.setattr(metrics, "REAL_REFERENCE_MAX", 200)  # other images: another key, computed afresh
        metrics.real_feature_stats.cache_clear()
        assert metrics.real_feature_stats("mnist")[2] == 200 and len(list((tmp_path / "feature_stats").iterdir())) == 2
        monkeypatch.setattr(metrics, "REAL_REFERENCE_MAX", 300)
        kept.write_bytes(b"not safetensors")
        metrics.real_feature_stats.cache_clear()
        assert torch.allclose(metrics.real_feature_stats("mnist")[0], mu)
        assert any("unreadable" in r.getMessage() for r in caplog.records)
    finally:
        metrics.real_feature_stats.cache_clear()  # the other tests use the full 10k reference


def test_image_metrics_separate_real_from_blur_and_noise(mnist_real):
    real = mnist_real[9000:10000]
    blurred = F.avg_pool2d(F.pad(real, [1, 1, 1, 1], value=-1.0), 3, stride=1)
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fd = {name: image_metrics(x, "mnist")["classifier_frechet_distance"]
          for name, x in (("real", real), ("blurred", blurred), ("noise", noise))}
    assert fd["blurred"] > 5 * fd["real"], fd
    assert fd["noise"] > 20 * fd["real"], fd
    assert fd["noise"] > fd["blurred"], fd
    cover = image_metrics(real, "mnist")
    assert cover["class_entropy"] > 0.97 and cover["classes_present"] == 10
    one_digit = image_metrics(mnist_real[:2000][load_dataset("mnist").labels[:2000] == 7], "mnist")
    assert one_digit["max_class_share"] > 0.9 and one_digit["class_entropy"] < 0.2


def test_class_accuracy_counts_requested_labels(mnist_real):
    labels = load_dataset("mnist").labels[9000:9500]
    right = image_metrics(mnist_real[9000:9500], "mnist", labels)
    wrong = image_metrics(mnist_real[9000:9500], "mnist", (labels + 1) % 10)
    assert right["class_accuracy"] > 0.97 and wrong["class_accuracy"] < 0.05


def test_trainer_evaluator_is_deterministic_and_scalar(mnist_real, mnist_dir):
    from gan_core import TrainConfig, Trainer
    trainer = Trainer(TrainConfig(dataset="mnist", model="cgan-mlp", data_limit=512, batch_size=32, seed=0,
                                  device="cpu"))
    for _ in range(3):
        trainer.step()
    evaluator = trainer_evaluator(trainer, n=200)
    first, second = evaluator(trainer), evaluator(trainer)
    assert first == second
    assert set(first) >= {"classifier_frechet_distance", "class_accuracy", "class_entropy", "max_class_share"}
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in first.values())
    toy = Trainer(TrainConfig(dataset="ring8", steps=1, seed=0, device="cpu"))
    toy_eval = trainer_evaluator(toy, n=256)
    assert set(toy_eval(toy)) == {"modes_covered", "high_quality"}


# ---------------------------------------------------------------- command line

def test_eval_cli_json_and_table(mnist_real):
    require("ring8" in list_pretrained(), "pretrained/ring8")
    out = cli("eval", "--model", "ring8", "--n", 500, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # exactly one JSON object on stdout
    assert result["model"] == "ring8" and result["n"] == 500 and result["modes_covered"] == 8
    table = cli("eval", "--model", "ring8", "--n", 500)
    assert table.returncode == 0 and "modes covered" in table.stdout and "8 / 8" in table.stdout


def test_eval_cli_json_reports_both_classifiers_and_is_judged_by_the_worse(mnist_real, gan_in_process):
    """In this process, so the real images' reference features (cached per process) are not recomputed; the CLI
    in a process of its own: test_eval_cli_json_and_table."""
    from gan_core.cli.evaluate import format_table

    _shipped("mnist", "judge")
    out = gan_in_process("eval", "--model", "mnist-cgan", "--n", 300, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    judge = result["judge"]
    assert {"classifier_frechet_distance", "class_accuracy", "relative_frechet_distance"} <= set(judge)
    assert result["judge_class_accuracy"] == judge["class_accuracy"]
    assert result["judge_frechet_distance"] == judge["classifier_frechet_distance"] > 0
    assert result["judge_frechet_distance"] != result["classifier_frechet_distance"]  # two feature spaces
    assert result["judged_class_accuracy"] == min(result["class_accuracy"], judge["class_accuracy"])
    worse = max(("classifier", result["relative_frechet_distance"]), ("judge", judge["relative_frechet_distance"]),
                key=lambda pair: pair[1])
    assert result["judged_by"]["frechet_distance"] == worse[0]
    assert result["judged_relative_frechet_distance"] == worse[1]
    assert result["judged_by"]["class_accuracy"] == ("judge" if judge["class_accuracy"] < result["class_accuracy"]
                                                    else "classifier")
    assert result["judged_class_accuracy"] > 0.9  # the shipped mnist-cgan: both recognise its digits
    table = format_table(result)  # the CLI's table of this result (its printing path: test_eval_cli_json_and_table)
    assert "judge class accuracy" in table and "(by the " in table


@pytest.mark.parametrize("args, message", [
    (("--model", "no-such-model"), "no pretrained model"),
    (("--model", "ring8", "--n", "1"), "--n must be"),
    (("--model", "ring8", "--labels", "some"), "--labels"),
])
def test_eval_cli_bad_input_exits_2(args, message, gan_in_process):
    out = gan_in_process("eval", *args)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_train_classifier_cli(tmp_path, mnist_dir, gan_in_process):
    out = cli("train-classifier", "--dataset", "mnist", "--data-dir", mnist_dir, "--steps", 3,
              "--out", tmp_path / "clf")
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "clf.json").read_text())
    assert meta["kind"] == "classifier" and meta["train_images"] == 9000 and meta["test_images"] == 1000
    assert "held out" in meta["data"] and 0 <= meta["test_accuracy"] <= 1
    load_classifier_file(tmp_path / "clf")
    bad = gan_in_process("train-classifier", "--dataset", "ring8", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "--dataset" in bad.stderr
