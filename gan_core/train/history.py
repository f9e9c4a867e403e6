"""A thread-safe record of a training run: the trainer writes, the UI reads copies.

A history can also be mirrored into another process (`delta` there, `apply_delta` here): the app's
training jobs run in worker processes and the page reads a mirror that is kept up to date.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_SNAPSHOTS = 240


@dataclass(frozen=True)
class StageSample:
    """A progressive run's small grid of the fixed noise at one stage, at that stage's own resolution.

    `samples` is uint8 (N, C, resolution, resolution); `nrow` images per grid row; `size` the full image
    size the run grows to; `final`: taken as the stage ended (else the latest one of the stage in progress)."""

    resolution: int
    step: int
    samples: np.ndarray
    nrow: int
    size: int
    final: bool = False


class MetricsHistory:
    """Metric rows, sample snapshots, quality evaluations, hyper-parameter change events and, for a
    progressive run, one sample grid per stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[dict[str, float]] = []
        self._snapshots: list[tuple[int, np.ndarray]] = []
        self._snapshot_ids: list[int] = []  # a serial per snapshot, so a mirror can follow the thinning
        self._next_snapshot_id = 0
        self._thinnings = 0
        self._evals: list[dict[str, Any]] = []
        self._events: list[tuple[int, str]] = []
        self._stages: dict[int, StageSample] = {}  # by resolution
        self._stage_versions: dict[int, int] = {}  # a serial per change, so a mirror gets only what changed
        self._next_stage_version = 0

    def append(self, row: dict[str, float]) -> None:
        with self._lock:
            self._rows.append(dict(row))

    def add_snapshot(self, step: int, samples: np.ndarray) -> None:
        """Keep at most MAX_SNAPSHOTS, thinning older ones evenly so the timeline still spans the run."""
        with self._lock:
            self._snapshots.append((step, samples))
            self._snapshot_ids.append(self._next_snapshot_id)
            self._next_snapshot_id += 1
            if len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots = self._snapshots[:-1:2] + [self._snapshots[-1]]
                self._snapshot_ids = self._snapshot_ids[:-1:2] + [self._snapshot_ids[-1]]
                self._thinnings += 1

    def add_eval(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._evals.append(dict(row))

    def add_event(self, step: int, text: str) -> None:
        with self._lock:
            self._events.append((step, text))

    def set_stage_sample(self, sample: StageSample) -> None:
        """Keep `sample` as its stage's grid (replacing the earlier one of that resolution)."""
        with self._lock:
            self._next_stage_version += 1
            self._stages[sample.resolution] = sample
            self._stage_versions[sample.resolution] = self._next_stage_version

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

    def stage_samples(self) -> list[StageSample]:
        """One grid per stage reached so far, smallest resolution first."""
        with self._lock:
            return [self._stages[r] for r in sorted(self._stages)]

    def last(self) -> dict[str, float] | None:
        with self._lock:
            return dict(self._rows[-1]) if self._rows else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    # ------------------------------------------------------------ mirroring

    def delta(self, cursor: dict[str, int] | None = None) -> tuple[dict[str, Any], dict[str, int]]:
        """What was recorded since `cursor` (None: everything) and the cursor for the next call."""
        c = cursor or {"rows": 0, "evals": 0, "events": 0, "snapshot": -1, "thinnings": 0, "stages": 0}
        with self._lock:
            new = [(s, a, i) for (s, a), i in zip(self._snapshots, self._snapshot_ids, strict=True)
                   if i > c["snapshot"]]
            delta = {"rows": [dict(r) for r in self._rows[c["rows"]:]],
                     "evals": [dict(r) for r in self._evals[c["evals"]:]],
                     "events": list(self._events[c["events"]:]),
                     "snapshots": new,
                     "keep": list(self._snapshot_ids) if self._thinnings != c["thinnings"] else None,
                     "stages": [self._stages[r] for r, v in sorted(self._stage_versions.items()) if v > c["stages"]]}
            cursor = {"rows": len(self._rows), "evals": len(self._evals), "events": len(self._events),
                      "snapshot": self._next_snapshot_id - 1, "thinnings": self._thinnings,
                      "stages": self._next_stage_version}
        return delta, cursor

    def apply_delta(self, delta: dict[str, Any]) -> None:
        """Bring a mirror up to date with another history's `delta`."""
        with self._lock:
            self._rows.extend(delta["rows"])
            self._evals.extend(delta["evals"])
            self._events.extend(delta["events"])
            if delta["keep"] is not None:
                keep = set(delta["keep"])
                kept = [(snap, i) for snap, i in zip(self._snapshots, self._snapshot_ids, strict=True) if i in keep]
                self._snapshots = [snap for snap, _ in kept]
                self._snapshot_ids = [i for _, i in kept]
            for step, samples, i in delta["snapshots"]:
                self._snapshots.append((step, samples))
                self._snapshot_ids.append(i)
            for sample in delta["stages"]:
                self._stages[sample.resolution] = sample
