"""A thread-safe record of a training run: the trainer writes, the UI reads copies."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

MAX_SNAPSHOTS = 240


class MetricsHistory:
    """Metric rows, sample snapshots, quality evaluations and hyper-parameter change events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[dict[str, float]] = []
        self._snapshots: list[tuple[int, np.ndarray]] = []
        self._evals: list[dict[str, Any]] = []
        self._events: list[tuple[int, str]] = []

    def append(self, row: dict[str, float]) -> None:
        with self._lock:
            self._rows.append(dict(row))

    def add_snapshot(self, step: int, samples: np.ndarray) -> None:
        """Keep at most MAX_SNAPSHOTS, thinning older ones evenly so the timeline still spans the run."""
        with self._lock:
            self._snapshots.append((step, samples))
            if len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots = self._snapshots[:-1:2] + [self._snapshots[-1]]

    def add_eval(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._evals.append(dict(row))

    def add_event(self, step: int, text: str) -> None:
        with self._lock:
            self._events.append((step, text))

    def rows(self, since: int = 0) -> list[dict[str, float]]:
        with self._lock:
            return [dict(r) for r in self._rows[since:]]

    def snapshots(self) -> list[tuple[int, np.ndarray]]:
        with self._lock:
            return list(self._snapshots)

    def latest_snapshot(self) -> tuple[int, np.ndarray] | None:
        with self._lock:
            return self._snapshots[-1] if self._snapshots else None

    def evals(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._evals]

    def events(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._events)

    def last(self) -> dict[str, float] | None:
        with self._lock:
            return dict(self._rows[-1]) if self._rows else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)
