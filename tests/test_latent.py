import math

import pytest
import torch

from gan_core import class_labels, interpolate, lerp, sample_latents, slerp


def test_seeded_sampling_is_reproducible_and_truncation_scales():
    a = sample_latents(4, 16, seed=3)
    assert torch.equal(a, sample_latents(4, 16, seed=3))
    assert not torch.equal(a, sample_latents(4, 16, seed=4))
    assert torch.allclose(sample_latents(4, 16, seed=3, truncation=0.5), 0.5 * a)
    with pytest.raises(ValueError):
        sample_latents(1, 4, seed=0, truncation=-1)


def test_slerp_keeps_norm_and_hits_endpoints():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = slerp(z0, z1, 0.5)
    assert torch.allclose(mid, torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)
    assert lerp(z0, z1, 0.5).norm() < mid.norm()  # lerp cuts through the centre
    path = interpolate(z0, z1, 5, "slerp")
    assert path.shape == (5, 2)
    assert torch.allclose(path[0], z0, atol=1e-6) and torch.allclose(path[-1], z1, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.ones(5), atol=1e-5)
    lin = interpolate(z0, z1, 3, "lerp")
    assert torch.allclose(lin[1], torch.tensor([0.5, 0.5]))
    same = slerp(z0, z0.clone(), 0.3)  # parallel vectors fall back to lerp, no NaN
    assert torch.isfinite(same).all()


def test_class_labels():
    assert class_labels(20, 10, "balanced").tolist() == [i // 2 for i in range(20)]
    assert class_labels(3, 10, 7).tolist() == [7, 7, 7]
    with pytest.raises(ValueError, match="out of range"):
        class_labels(3, 10, 10)
    r = class_labels(100, 10, "random", seed=1)
    assert torch.equal(r, class_labels(100, 10, "random", seed=1)) and r.max() < 10
