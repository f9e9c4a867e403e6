"""The live panel's data (Train page, 2-D playground), copied from a job without touching its trainer (safe while it
runs): one record a panel draws from, so it lives with the UI, not in gan_core."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gan_core.eval.diagnostics import Diagnosis, diagnose
from gan_core.eval.metrics import toy_coverage
from gan_core.train.history import StageSample
from gan_core.train.records import JobStatus

SPREAD_HISTORY = 60  # snapshots looked back on to tell a collapse that hops between modes


@dataclass(frozen=True)
class LivePanelData:
    """Copies of everything the live panel (Train page, 2-D playground) shows at one moment."""

    status: JobStatus
    dataset: str
    diagnoses: list[Diagnosis]
    rows: list[dict[str, float]] = field(default_factory=list)  # metric records, oldest first
    evals: list[dict[str, Any]] = field(default_factory=list)  # quality-metric records
    events: list[tuple[int, str]] = field(default_factory=list)  # (step, text): live changes, forks
    snapshot: tuple[int, np.ndarray] | None = None  # (step, samples of the fixed noise)
    kind: str | None = None  # "image" or "points"; None until the trainer is built
    spread: dict[str, Any] | None = None  # toy runs: modes covered and how the points spread (toy_coverage)
    conditional: bool = False
    num_classes: int | None = None
    stages: list[StageSample] = field(default_factory=list)  # progressive runs: one sample grid per stage reached


def live_panel_data(job: Any) -> LivePanelData:
    """Status, metric copies, the latest snapshot, the toy spread, a growing run's stage grids and the warnings of
    a TrainingJob or WorkerJob."""
    status = job.status()
    trainer = job.trainer
    if trainer is None:
        return LivePanelData(status=status, dataset=job.config.dataset,
                             diagnoses=diagnose(status.state, status.message, [], job.config.loss))
    history = trainer.history
    rows, evals, events = history.rows(), history.evals(), history.events()
    snapshot = history.latest_snapshot()
    cfg = trainer.config
    spread, spread_history = None, None
    if trainer.kind == "points" and snapshot is not None:
        spread = toy_coverage(cfg.dataset, snapshot[1])
        if spread is not None:
            spread_history = [toy_coverage(cfg.dataset, pts)["modes_covered"]
                              for _, pts in history.snapshots()[-SPREAD_HISTORY:]]
    diagnoses = diagnose(status.state, status.message, rows, cfg.loss, evals, spread, spread_history)
    return LivePanelData(status=status, dataset=cfg.dataset, diagnoses=diagnoses, rows=rows, evals=evals,
                         events=events, snapshot=snapshot, kind=trainer.kind, spread=spread,
                         conditional=trainer.conditional, num_classes=trainer.num_classes,
                         stages=history.stage_samples())
