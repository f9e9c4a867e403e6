"""Plain-language warnings a teacher can point at: divergence, discriminator winning, mode collapse.

Pure functions over the job's state and history copies (no Streamlit), so they are unit-tested
and the pages only display what they return.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RECENT = 5  # metric records looked at for "lately"
D_WINNING_REAL, D_WINNING_FAKE = 0.9, 0.1  # D(x) above and D(G(z)) below these: D tells them apart
G_GRAD_SHRUNK = 0.1  # G's gradient below this share of its peak: it barely learns
COLLAPSE_MIN_STEP = 200  # no collapse warning before this step (every run starts as one blob)
COLLAPSE_NEAR_SHARE = 0.5  # the share of points near some mode for "sitting on few modes"
# Hysteresis for a live page that checks every frame (the 2-D playground in the browser): a warning shows once
# its condition has held this long, and hides once it has been false this long, so it never flickers.
WARNING_ON_SECONDS, WARNING_OFF_SECONDS = 1.0, 3.0


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # "diverged", "failed", "d_winning", "mode_collapse", "finished", "stopped"
    level: str  # "error", "warning", "info"
    text: str


def _recent(rows: list[dict[str, float]], key: str) -> float | None:
    values = [r[key] for r in rows[-RECENT:] if key in r]
    return float(np.mean(values)) if values else None


def diagnose(state: str, message: str, rows: list[dict[str, float]], loss: str,
             evals: list[dict[str, Any]] | None = None, spread: dict[str, Any] | None = None,
             spread_history: list[int] | None = None) -> list[Diagnosis]:
    """Warnings for the current moment of a run, most serious first."""
    out: list[Diagnosis] = []
    if state == "diverged":
        out.append(Diagnosis("diverged", "error",
                             f"Training diverged: {message}. The job stopped and kept the last good weights. "
                             "Lower the learning rate (or use WGAN-GP) and start again, or fork from a saved "
                             "checkpoint."))
    elif state == "failed":
        out.append(Diagnosis("failed", "error", f"Training failed: {message}"))
    elif state == "finished":
        out.append(Diagnosis("finished", "info", message.capitalize()))
    elif state == "stopped" and message:
        out.append(Diagnosis("stopped", "info", message[:1].upper() + message[1:]))

    if loss in ("minimax", "nonsaturating") and len(rows) >= RECENT:
        d_real, d_fake = _recent(rows, "d_real"), _recent(rows, "d_fake")
        if d_real is not None and d_fake is not None and d_real > D_WINNING_REAL and d_fake < D_WINNING_FAKE:
            text = (f"The discriminator is winning: D(x) ≈ {d_real:.2f} on real data and D(G(z)) ≈ {d_fake:.2f} "
                    "on fakes, so it tells them apart almost perfectly.")
            g_now = _recent(rows, "g_grad_norm")
            g_peak = max((r.get("g_grad_norm", 0.0) for r in rows), default=0.0)
            if g_now is not None and g_peak > 0 and g_now < G_GRAD_SHRUNK * g_peak:
                hint = " (the saturating minimax loss; try non-saturating)." if loss == "minimax" else "."
                text += (f" The generator's gradient has shrunk to {100 * g_now / g_peak:.0f}% of its peak: "
                         "it barely learns" + hint)
            out.append(Diagnosis("d_winning", "warning", text))

    if spread is not None and rows and rows[-1].get("step", 0) >= COLLAPSE_MIN_STEP:  # spread: metrics.toy_coverage
        held, k = spread["modes_covered"], spread["num_modes"]
        best = max(spread_history or [held])
        if held <= k // 2 and spread["near_share"] >= COLLAPSE_NEAR_SHARE:
            out.append(Diagnosis("mode_collapse", "warning",
                                 f"Mode collapse: the generator's points sit on only {held} of the {k} modes."))
        elif best - held >= max(2, k // 4):
            out.append(Diagnosis("mode_collapse", "warning",
                                 f"Mode coverage is falling: {held} of {k} modes now, {best} earlier."))
    names = {"class_entropy": "class entropy", "classes_present": "classes present", "modes_covered": "modes covered"}
    for key, name in names.items():
        series = [e[key] for e in (evals or []) if isinstance(e.get(key), (int, float))]
        # a drop that lasts two evaluations, not one noisy reading early in training
        if len(series) >= 3 and max(series[-2:]) < 0.8 * max(series[:-2]) and \
                not any(d.kind == "mode_collapse" for d in out):
            out.append(Diagnosis("mode_collapse", "warning",
                                 f"Possible mode collapse: {name} fell from {max(series[:-2]):.3g} "
                                 f"to {series[-1]:.3g}."))
    return out
