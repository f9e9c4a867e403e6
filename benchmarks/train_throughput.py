"""Training images/s: the gan_core Trainer vs a tutorial-style PyTorch loop, same model, same run.

The reference is the loop most GAN tutorials teach: a torchvision-style Dataset that turns each
uint8 image into a PIL image and applies ToTensor + Normalize per item, a DataLoader (batch B,
shuffle, num_workers=0), separate D passes for real and fake, a fresh generator forward for the
G step, default Adam, and `.item()` on both losses every step. Both sides use the same
`cgan-mlp` generator and discriminator classes (gan_core.nn.models) and the same torch threads.
Rounds alternate between the two so that noise from the shared machine hits both alike.

Run: python -m benchmarks.train_throughput [--seconds 4] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from benchmarks.common import hardware, write_result
from gan_core import TrainConfig, Trainer, load_dataset
from gan_core.data.datasets import locate_idx
from gan_core.nn.models import MLPDiscriminator, MLPGenerator

Z_DIM, NUM_CLASSES, SHAPE = 64, 10, (1, 28, 28)


class MnistArrays(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: uint8 array -> PIL 'L' image -> transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        img = Image.fromarray(self.images[i], mode="L")
        return self.transform(img), int(self.labels[i])


def read_idx(path) -> np.ndarray:
    import gzip
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def reference_dataset() -> MnistArrays:
    images_path, labels_path, _note = locate_idx("mnist")  # the same files gan_core trains on
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    return MnistArrays(read_idx(images_path), read_idx(labels_path), tf)


class ReferenceLoop:
    """The tutorial cGAN loop, run for a wall-clock budget; counts real images consumed."""

    def __init__(self, dataset: MnistArrays, batch_size: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.G = MLPGenerator(Z_DIM, SHAPE, NUM_CLASSES)
        self.D = MLPDiscriminator(SHAPE, NUM_CLASSES)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)
        self.g_losses: list[float] = []
        self.d_losses: list[float] = []
        self._it = iter(self.loader)

    def _batch(self):
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self.loader)
            return next(self._it)

    def step(self) -> int:
        real, labels = self._batch()
        bs = real.size(0)
        valid, fake_t = torch.ones(bs), torch.zeros(bs)
        # generator
        self.opt_g.zero_grad()
        z = torch.randn(bs, Z_DIM)
        gen_labels = torch.randint(0, NUM_CLASSES, (bs,))
        gen = self.G(z, gen_labels)
        g_loss = self.criterion(self.D(gen, gen_labels), valid)
        g_loss.backward()
        self.opt_g.step()
        # discriminator
        self.opt_d.zero_grad()
        d_real = self.criterion(self.D(real, labels), valid)
        d_fake = self.criterion(self.D(gen.detach(), gen_labels), fake_t)
        d_loss = (d_real + d_fake) / 2
        d_loss.backward()
        self.opt_d.step()
        self.g_losses.append(g_loss.item())
        self.d_losses.append(d_loss.item())
        return bs


class CoreLoop:
    def __init__(self, dataset, batch_size: int, seed: int = 0) -> None:
        cfg = TrainConfig(dataset="mnist", model="cgan-mlp", batch_size=batch_size, device="cpu", seed=seed,
                          z_dim=Z_DIM)
        self.trainer = Trainer(cfg, dataset)
        self.batch_size = batch_size

    def step(self) -> int:
        self.trainer.step()
        return self.batch_size


def timed(loop, seconds: float, warmup: int = 5) -> tuple[float, float]:
    """(images per wall-clock second, images per CPU second) of `loop.step()`, after a few warm-up steps.

    On a shared, oversubscribed machine the CPU-time rate is the steadier measure of the work done.
    """
    for _ in range(warmup):
        loop.step()
    images, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        images += loop.step()
    return images / (time.perf_counter() - start), images / max(time.process_time() - cpu_start, 1e-9)


def compare(batch_size: int, seconds: float, rounds: int, core_data, ref_data) -> dict:
    ref, core = ReferenceLoop(ref_data, batch_size), CoreLoop(core_data, batch_size)
    ref_rates, core_rates = [], []
    for _ in range(rounds):  # alternate so that load on the shared machine affects both
        ref_rates.append(timed(ref, seconds))
        core_rates.append(timed(core, seconds))
    ref_wall, core_wall = (statistics.median(r[0] for r in rates) for rates in (ref_rates, core_rates))
    ref_cpu, core_cpu = (statistics.median(r[1] for r in rates) for rates in (ref_rates, core_rates))
    return {"batch_size": batch_size,
            "reference_images_per_s": round(ref_wall, 1), "gan_core_images_per_s": round(core_wall, 1),
            "speedup": round(core_wall / ref_wall, 3),
            "reference_images_per_cpu_s": round(ref_cpu, 1), "gan_core_images_per_cpu_s": round(core_cpu, 1),
            "speedup_cpu_time": round(core_cpu / ref_cpu, 3),
            "reference_rounds": [round(r[0], 1) for r in ref_rates],
            "gan_core_rounds": [round(r[0], 1) for r in core_rates]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both loops (default 1: what a TrainingJob uses on 2 cores; "
                             "0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    core_data = load_dataset("mnist")
    ref_data = reference_dataset()
    results = [compare(b, args.seconds, args.rounds, core_data, ref_data) for b in args.batch_sizes]
    target = 1.5
    return write_result("train_throughput", {
        "model": "cgan-mlp", "dataset": f"mnist ({len(ref_data)} images: {core_data.note or core_data.source})",
        "device": "cpu", "target_speedup": target, "results": results,
        "torch_threads": torch.get_num_threads(),
        "target_met": results[0]["speedup"] >= target, "hardware": hardware()})


if __name__ == "__main__":
    main()
