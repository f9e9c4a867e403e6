"""Shared bits of the benchmarks: hardware description, percentiles, and writing one JSON result."""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def hardware() -> dict[str, Any]:
    """What the figures ran on, including how busy the shared machine was."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "loadavg_1m": round(os.getloadavg()[0], 2), "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50 / p95 / mean / max of a list of durations, in milliseconds."""
    ms = [1000.0 * s for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(sum(ms) / len(ms), 2) if ms else float("nan"),
            "max_ms": round(max(ms), 2) if ms else float("nan")}


def write_result(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Print the result as one JSON line and write benchmarks/results/<name>.json."""
    result = {"benchmark": name, **result, "hardware": result.get("hardware") or hardware()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)
    return result
