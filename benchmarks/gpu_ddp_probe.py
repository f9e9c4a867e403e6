"""One rank of `torchrun --nproc_per_node N -m benchmarks.gpu_ddp_probe`: the DDP trainer on a toy, for make gpu-check.

`Torchrun` (used by benchmarks/gpu_check.py) launches it with one process and checks what it wrote.

`gan train` under torchrun trains through DDP only when WORLD_SIZE > 1; with one GPU that leaves
NCCL unexercised. This probe calls the same rank function (gan_core.train.distributed.run_distributed)
whatever the world size, so `--nproc_per_node 1` still initialises NCCL (gloo on --device cpu),
wraps G and D in DDP, all-reduces every step and gathers the weight hashes. Engine packages only.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@dataclass
class Torchrun:
    """A `torchrun --standalone --nproc_per_node 1` launch of the DDP probe on ring8, started in the background
    (its two interpreters start while the worker job runs) and collected by `result`."""

    device_type: str
    steps: int
    folder: Path
    process: subprocess.Popen | None = None
    started: float = 0.0

    def start(self) -> Torchrun:
        self.command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
                        "-m", "benchmarks.gpu_ddp_probe", "--device", self.device_type, "--steps", str(self.steps),
                        "--out", str(self.folder)]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        return self

    def result(self, timeout: float = 300) -> dict[str, Any]:
        """NCCL on CUDA (gloo on the CPU), every step done, the same weights on every rank."""
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        out: dict[str, Any] = {"command": "torchrun " + " ".join(self.command[3:]),
                               "returncode": self.process.returncode,
                               "seconds_since_start": round(time.perf_counter() - self.started, 1)}
        if self.process.returncode != 0:
            out.update(ok=False, stderr=stderr[-3000:])
            return out
        return dict(out, **self._check())

    def _check(self) -> dict[str, Any]:
        folder, out = self.folder, {}
        meta = json.loads((folder / "generator.json").read_text())
        info = meta.get("distributed", {})
        expected = "nccl" if self.device_type == "cuda" else "gloo"
        out.update(backend=info.get("backend"), world_size=info.get("world_size"),
                   ranks_equal=info.get("ranks_equal"), steps=meta.get("steps"), hardware=meta.get("hardware"))
        out["ok"] = out["backend"] == expected and out["steps"] == self.steps and bool(out["ranks_equal"])
        return out


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
