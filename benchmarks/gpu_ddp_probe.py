"""One rank of `torchrun --nproc_per_node N -m benchmarks.gpu_ddp_probe`: the DDP trainer on a toy, for make gpu-check.

`gan train` under torchrun trains through DDP only when WORLD_SIZE > 1; with one GPU that leaves
NCCL unexercised. This probe calls the same rank function (gan_core.train.distributed.run_distributed)
whatever the world size, so `--nproc_per_node 1` still initialises NCCL (gloo on --device cpu),
wraps G and D in DDP, all-reduces every step and gathers the weight hashes. Engine packages only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    from gan_core.train.config import TrainConfig
    from gan_core.train.distributed import Launch, run_distributed

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda", help="cuda (nccl) or cpu (gloo)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    launch = Launch(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")),
                    int(os.environ.get("LOCAL_WORLD_SIZE", str(world))))
    config = TrainConfig(dataset="ring8", steps=args.steps, device=args.device, seed=0, num_threads=1).validate()
    end = run_distributed(config, launch, Path(args.out), show_progress=False)
    return 3 if end.diverged else 0


if __name__ == "__main__":
    sys.exit(main())
