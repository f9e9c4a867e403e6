"""TrainConfig's per-network optimiser and beta1 and the toy's size: validated, on the command line, live, and
recorded in (and rebuilt from) a toy checkpoint."""
import argparse

import pytest
import torch

from gan_core.cli.train import add_train_args, config_from_args
from gan_core.io.checkpoint import load_checkpoint
from gan_core.train.config import TrainConfig
from gan_core.train.trainer import Trainer


@pytest.mark.parametrize("changes, message", [
    ({"optimizer_d": "rmsprop"}, "optimizer_d must be one of adam, sgd"),
    ({"beta1_d": 1.0}, "beta1_d must be in"),
    ({"toy_hidden": 2}, "toy_hidden must be an integer in"),
    ({"toy_depth": 9}, "toy_depth must be an integer in"),
])
def test_bad_values_are_refused_in_one_line(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes).validate()


def test_flags_live_changes_and_checkpoint(tmp_path):
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    args = parser.parse_args(["--optimizer-d", "sgd", "--beta1-d", "0.3", "--toy-hidden", "12", "--toy-depth", "2",
                              "--batch-size", "16", "--out", str(tmp_path)])
    config = config_from_args(args)
    assert (config.optimizer_d, config.beta1_d, config.toy_hidden, config.toy_depth) == ("sgd", 0.3, 12, 2)
    trainer = Trainer(config, device="cpu")
    assert isinstance(trainer.opt_d, torch.optim.SGD) and isinstance(trainer.opt_g, torch.optim.Adam)
    assert trainer.G.net[0].out_features == 12 and len(trainer.D.net) == 5  # 2 hidden layers + output
    trainer.update_hparams(optimizer_d="adam", beta1_d=0.0, lr_d=1e-3)
    assert isinstance(trainer.opt_d, torch.optim.Adam) and trainer.opt_d.param_groups[0]["betas"][0] == 0.0
    assert trainer.opt_g.param_groups[0]["betas"][0] == trainer.config.beta1  # G keeps its own
    trainer.step()
    trainer.save(tmp_path / "toy")
    gan = load_checkpoint(tmp_path / "toy")
    assert gan.meta["toy_hidden"] == 12 and gan.generator.net[0].out_features == 12
    assert torch.equal(gan.generator.net[0].weight, trainer.G.net[0].weight)
