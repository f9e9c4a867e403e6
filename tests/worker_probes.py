"""Functions tests send to a WorkerJob (`job.call(fn, ...)`) to look inside its trainer.

They live in their own small module because the worker process imports them by name.
"""
import numpy as np
import torch


def generator_lr(trainer) -> float:
    return trainer.opt_g.param_groups[0]["lr"]


def generator_is_finite(trainer) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in trainer.G.parameters())


def data_class_names(trainer) -> tuple:
    return tuple(trainer.data.class_names)


def discriminator_probability(trainer, xy: list[list[float]]) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(trainer.D(torch.tensor(xy, dtype=torch.float32))).numpy()


def discriminator_input_gradient(trainer, xy: list[list[float]]) -> np.ndarray:
    x = torch.tensor(xy, dtype=torch.float32, requires_grad=True)
    (grad,) = torch.autograd.grad(trainer.D(x).sum(), [x])
    return grad.numpy()
