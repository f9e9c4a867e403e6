"""The Trainer draws from its own generators: making one and stepping it leaves the process's RNG alone, and a
seed still gives the same run."""
import torch

from gan_core.train.config import TrainConfig
from gan_core.train.trainer import Trainer


def _run(config: TrainConfig) -> torch.Tensor:
    trainer = Trainer(config, device="cpu")
    for _ in range(2):
        trainer.step()
    return torch.cat([p.detach().flatten() for p in trainer.G.parameters()])


def test_trainer_leaves_the_process_rng_alone_and_is_reproducible():
    before = torch.get_rng_state()
    toy = TrainConfig(dataset="ring8", loss="wgan-gp", n_critic=2, batch_size=32, toy_hidden=16, seed=3)
    first = _run(toy)
    # an image model with dropout in D and DiffAugment: both draw from torch's global generator
    image = TrainConfig(dataset="mnist", model="mlp", batch_size=8, data_limit=64, augment=True, seed=3)
    _run(image)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(12345)  # whatever the process does, the run is the seed's
    assert torch.equal(_run(toy), first)
