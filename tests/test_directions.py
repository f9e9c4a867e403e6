"""GANSpace directions, class blending and the memorisation index, on small random-weight models (fast)."""
from __future__ import annotations

import torch

from gan_core.eval.classifier import SmallCNN
from gan_core.eval.neighbours import build_index, nearest, typical_distance
from gan_core.explore.class_blend import generate_blended
from gan_core.explore.directions import (
    apply_directions,
    capture_activations,
    effect_summary,
    find_directions,
    measure_directions,
)
from gan_core.explore.latent import sample_latents
from gan_core.io.checkpoint import GAN
from gan_core.nn.models import build_models


def make_gan(model: str = "cgan-mlp", z_dim: int = 16, classes: int | None = 10) -> GAN:
    torch.manual_seed(1)
    shape = None if model == "toy" else (1, 28, 28)
    g, d = build_models(model, z_dim, shape, classes if model.startswith("cgan") else None)
    meta = {"model": model, "z_dim": z_dim, "num_classes": classes if model.startswith("cgan") else None,
            "image_shape": list(shape) if shape else None}
    return GAN(g.eval(), d.eval(), meta)


def test_directions_shape_norm_order_and_determinism():
    gan = make_gan("cgan-mlp", z_dim=16)
    d1 = find_directions(gan, k=6, n_samples=400, seed=3)
    d2 = find_directions(gan, k=6, n_samples=400, seed=3)
    assert d1.vectors.shape == (6, 16) and len(d1) == 6
    assert torch.allclose(d1.vectors.norm(dim=1), torch.ones(6), atol=1e-5)
    assert torch.equal(d1.vectors, d2.vectors)
    ex = d1.explained
    assert (ex > 0).all() and ex.sum() <= 1.0 + 1e-6
    assert (ex[:-1] >= ex[1:] - 1e-6).all(), "components must come strongest first"
    assert d1.layer == "net.4"  # the second activation of the MLP generator (FEATURE_LAYER_INDEX)


def test_moving_along_a_direction_moves_its_principal_component():
    """z + s*u_k changes activation coordinate k far more than a random direction of the same length does."""
    gan = make_gan("cgan-mlp", z_dim=16)
    d = find_directions(gan, k=4, n_samples=600, seed=0)
    z = sample_latents(200, 16, seed=9)
    labels = torch.arange(200) % 10
    base, _ = capture_activations(gan, z, labels)
    rand = torch.nn.functional.normalize(torch.randn(1, 16, generator=torch.Generator().manual_seed(5)), dim=1)[0]
    for k in range(3):
        moved, _ = capture_activations(gan, z + 1.5 * d.vectors[k], labels)
        shifted, _ = capture_activations(gan, z + 1.5 * rand, labels)
        comp = d.components[k].double()
        along = ((moved - base) @ comp).abs().mean()
        random_along = ((shifted - base) @ comp).abs().mean()
        assert along > 2 * random_along, (k, float(along), float(random_along))


def test_directions_leave_the_shared_model_untouched_and_work_for_dcgan_and_toy():
    for model, z_dim, layer in (("dcgan", 8, "net.2"), ("toy", 4, "net.3")):
        gan = make_gan(model, z_dim=z_dim, classes=None)
        before = {k: v.clone() for k, v in gan.generator.state_dict().items()}
        d = find_directions(gan, k=8, n_samples=200)
        assert d.layer == layer and d.vectors.shape == (min(8, z_dim), z_dim)
        assert all(not m._forward_hooks for m in gan.generator.modules()), "no hook may stay on a shared model"
        after = gan.generator.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)


def test_apply_directions():
    gan = make_gan("toy", z_dim=4, classes=None)
    d = find_directions(gan, k=2, n_samples=100)
    z = torch.zeros(3, 4)
    assert torch.equal(apply_directions(z, d, [0.0, 0.0]), z)
    moved = apply_directions(z, d, [2.0], in_sigmas=False)
    assert torch.allclose(moved, 2.0 * d.vectors[0].expand(3, -1))


def test_class_blend_endpoints_match_plain_generation():
    gan = make_gan("cgan-mlp", z_dim=16)
    z = sample_latents(3, 16, seed=2)
    out = generate_blended(gan, z, 2, 7, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(out[0], gan.generate(z[:1], torch.tensor([2]))[0], atol=1e-5)
    assert torch.allclose(out[2], gan.generate(z[2:], torch.tensor([7]))[0], atol=1e-5)
    assert not torch.allclose(out[1], gan.generate(z[1:2], torch.tensor([2]))[0], atol=1e-3)
    assert type(gan.generator.embed) is torch.nn.Embedding  # the shared model keeps its own embedding
    import pytest
    with pytest.raises(ValueError, match="out of range"):
        generate_blended(gan, z, 0, 10, torch.zeros(3))
    with pytest.raises(ValueError, match="conditional"):
        generate_blended(make_gan("dcgan", 8, None), torch.zeros(1, 8), 0, 1, torch.zeros(1))


def test_nearest_training_image_of_a_training_image_is_itself():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(60, 1, 28, 28, generator=gen) * 2 - 1
    for classifier in (None, SmallCNN().eval()):
        index = build_index(images, torch.arange(60) % 10, classifier, "test")
        idx, dist = nearest(index, images[[4, 17]], k=3)
        assert idx[:, 0].tolist() == [4, 17]
        assert torch.allclose(dist[:, 0], torch.zeros(2), atol=1e-3)
        assert (dist[:, 1:] > 1e-3).all() and (dist[:, 1:] >= dist[:, :-1]).all()
        assert typical_distance(index, n=20) > 0  # real-to-other-real distance excludes the image itself
    assert index.space == "classifier features" and index.feats.shape == (60, 128)


def test_conditional_directions_ignore_the_class_embedding():
    """With a strong class embedding the top components are class differences, which z cannot move.

    Analysed within each class, every direction's 1-sigma move is a full unit of z (scale near 1); before
    class means were removed, PC1 here got a z-length of ~0.1 and moved the image almost not at all.
    """
    gan = make_gan("cgan-mlp", z_dim=16)
    with torch.no_grad():
        gan.generator.embed.weight.mul_(30)  # the class sets most of the first layers' variance
    d = find_directions(gan, k=4, n_samples=600, seed=0)
    assert (d.scales > 0.7).all(), d.scales


def test_measure_directions_compares_with_random_directions_of_the_same_length():
    gan = make_gan("cgan-mlp", z_dim=16)
    d = find_directions(gan, k=5, n_samples=400, seed=0)
    e1, e2 = measure_directions(gan, d, amount=2.0), measure_directions(gan, d, amount=2.0)
    assert e1 == e2 and len(e1.along) == len(e1.random) == 5 and e1.unit == "of the pixel range"
    assert all(0 < a < 1 for a in e1.along + e1.random)
    assert e1.ratios == [a / r for a, r in zip(e1.along, e1.random, strict=True)]
    zero = measure_directions(gan, d, amount=0.0)
    assert max(zero.along) < 1e-6, "no move, no change (up to float noise of a batched pass)"
    text = effect_summary(e1)
    assert text.startswith("Measured on this model: a ±2σ move along PC1 changes the pixels by") and "PC5" in text
    toy = make_gan("toy", z_dim=4, classes=None)
    assert measure_directions(toy, find_directions(toy, k=2, n_samples=100)).unit == "in the plane"


def test_shipped_models_directions_change_the_image_more_than_random_ones():
    """What Explore's Directions tab and Learn section 6 promise: a ±2σ move visibly changes the sample.

    Measured on the shipped models (mean pixel change at ±2σ, vs random directions of the same length):
    before the fix mnist-cgan's PC1 changed 2% of the pixel range, and fashion-cgan's PC1 0.8x a random
    direction. With the models shipped now, PC1 changes 10.5% / 9.8% / 12.6% (3.5x random each), PC2 at least 2.5x.
    """
    from conftest import require

    from gan_core import PRETRAINED_DIR, list_pretrained, load_checkpoint
    shipped = list_pretrained()
    require({"mnist-cgan", "fashion-cgan", "mnist-dcgan"} <= set(shipped), "the shipped image models")
    torch.set_num_threads(1)
    for name in ("mnist-cgan", "fashion-cgan", "mnist-dcgan"):
        gan = load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors")
        effect = measure_directions(gan, find_directions(gan, k=8), amount=2.0, k=5)
        print(name, effect_summary(effect))
        assert effect.along[0] > 0.07 and effect.ratios[0] > 2.5, (name, effect)
        assert effect.ratios[1] > 1.5, (name, effect)
