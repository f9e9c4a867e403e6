"""The live panel's data, computed from a job without touching its trainer (safe while it runs)."""
from __future__ import annotations

from typing import Any

from gan_core.eval.diagnostics import diagnose
from gan_core.eval.metrics import toy_coverage
from gan_core.train.records import LivePanelData

SPREAD_HISTORY = 60  # snapshots looked back on to tell a collapse that hops between modes


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
