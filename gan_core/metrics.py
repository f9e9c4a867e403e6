"""Quality metrics measured inside the project."""
from __future__ import annotations

import torch


def toy_mode_metrics(points: torch.Tensor, modes: torch.Tensor, std: float, n_std: float = 4.0) -> dict[str, float]:
    """Modes covered and share of high-quality points (Srivastava et al. 2017, VEEGAN; Metz et al. 2017).

    A point is high quality when it lies within n_std standard deviations of its nearest mode;
    a mode is covered when it holds at least one high-quality point.
    """
    points, modes = points.float().cpu(), modes.float().cpu()
    dist = torch.cdist(points, modes)
    nearest = dist.min(1)
    good = nearest.values <= n_std * std
    counts = torch.bincount(nearest.indices[good], minlength=len(modes))
    return {"modes_covered": int((counts > 0).sum()), "num_modes": len(modes),
            "high_quality": float(good.float().mean()),
            "mode_counts": counts.tolist()}
