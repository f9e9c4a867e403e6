"""The conv GAN against the MLP cGAN: mnist-dcgan's Fréchet distance as a multiple of mnist-cgan's, in the project
classifier's features and in the independent judge's, and what the conv architecture costs to train.

Target (issue 28): the unconditional mnist-dcgan's Fréchet distance within 2x of mnist-cgan's in both feature
spaces. Both are evaluated as `gan eval --n 2000 --seed 0 --labels balanced` does. The cost part times one
training step (one D and one G Adam step, non-saturating loss, batch 64, 1 torch thread) of each conv layout
(version 1, the layout before issue 28, and the current one) for grey 28x28 and RGB 32x32 with 9 classes.
Usage: python -m benchmarks.dcgan_vs_cgan [--n 2000] [--seconds 6]
"""
from __future__ import annotations

import argparse
import time

from benchmarks.common import hardware, write_result

TARGET_RATIO = 2.0
ROLES = (("classifier", "classifier_frechet_distance"), ("judge", "judge_frechet_distance"))
SHAPES = (("dcgan", (1, 28, 28), None), ("cgan-dcgan", (3, 32, 32), 9))


def steps_per_second(name: str, shape: tuple[int, int, int], classes: int | None, conv_arch: int,
                     seconds: float, batch: int = 64, z_dim: int = 64) -> dict[str, float]:
    """Training steps per second of one conv layout, after 3 warm-up steps; and its parameter counts."""
    import torch
    import torch.nn.functional as F

    from gan_core.nn.models import build_models

    g, d = build_models(name, z_dim, shape, classes, conv_arch=conv_arch)
    opt_g, opt_d = torch.optim.Adam(g.parameters(), 2e-4), torch.optim.Adam(d.parameters(), 2e-4)
    rng = torch.Generator().manual_seed(0)
    real = torch.rand(batch, *shape, generator=rng) * 2 - 1
    y = torch.randint(0, classes, (batch,), generator=rng) if classes else None
    steps, started = -3, 0.0
    while steps < 1 or time.perf_counter() - started < seconds:
        if steps == 0:
            started = time.perf_counter()
        fake = g(torch.randn(batch, z_dim, generator=rng), y)
        d_loss = F.softplus(-d(real, y)).mean() + F.softplus(d(fake.detach(), y)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-d(fake, y)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        steps += 1
    return {"steps_per_s": round(steps / (time.perf_counter() - started), 2),
            "generator_params": sum(p.numel() for p in g.parameters()),
            "discriminator_params": sum(p.numel() for p in d.parameters())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dcgan", default="mnist-dcgan")
    parser.add_argument("--cgan", default="mnist-cgan")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=6.0, help="timing per conv layout and shape")
    args = parser.parse_args(argv)

    import torch

    from gan_core.eval.metrics import evaluate
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint
    from gan_core.nn.models import CONV_ARCH

    models, metrics = {}, {}
    for role_name in (args.dcgan, args.cgan):
        gan = load_checkpoint(resolve_checkpoint(role_name), "cpu", with_discriminator=False)
        metrics[role_name] = evaluate(gan, n=args.n, seed=args.seed, labels="balanced", device="cpu")
        models[role_name] = {"architecture": gan.meta["model"], "conv_arch": gan.meta.get("conv_arch"),
                             "steps": gan.meta.get("steps"), "train_seconds": gan.meta.get("train_seconds"),
                             "generator_params": sum(p.numel() for p in gan.generator.parameters())}
    ratios = {}
    for role, key in ROLES:
        dc, c = float(metrics[args.dcgan][key]), float(metrics[args.cgan][key])
        ratios[role] = {"dcgan": round(dc, 3), "cgan": round(c, 3), "ratio": round(dc / c, 2)}

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cost = {f"{name} {'x'.join(map(str, shape))}": {
            f"v{arch}": steps_per_second(name, shape, classes, arch, args.seconds) for arch in (1, CONV_ARCH)}
            for name, shape, classes in SHAPES}
    finally:
        torch.set_num_threads(threads)
    write_result("dcgan_vs_cgan", {
        "n": args.n, "seed": args.seed, "models": models, "frechet_distance": ratios,
        "training_cost_batch64_1thread": cost,
        "target": f"{args.dcgan}'s Fréchet distance <= {TARGET_RATIO:g}x {args.cgan}'s in both feature spaces",
        "target_met": all(r["ratio"] <= TARGET_RATIO for r in ratios.values()),
        "hardware": hardware()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
