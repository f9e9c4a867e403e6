"""Short page computations take turns instead of sharing the interpreter.

All page runs are threads of one Python process, so no two of them compute at the same moment
anyway: the interpreter lock hands the CPU round and round, every 5 ms. When several students'
slider moves arrive together, sharing it that way makes all k of them finish after about k moves'
work (measured: benchmarks/RESULTS.md, the burst benchmark). Taking turns, the first finishes
after one move's work and the last after k: the same total time, a much shorter typical wait.

Only short, bounded work belongs inside a turn (a slider move's sample, sliders and class grid: tens
of milliseconds). Work that can take seconds (building an index, loading a model, training) stays outside,
so one student's slow request cannot hold up the rest of the class.

GAN_CPU_TURNS=0 turns it off (read at start-up; for measuring the difference, benchmarks/burst.py).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from gan_core.settings import settings

_turn = threading.Lock()
TURNS_ON = settings().cpu_turns  # GAN_CPU_TURNS, checked by app.py before any page imports this


@contextlib.contextmanager
def cpu_turn() -> Iterator[None]:
    """Hold the process-wide turn for a short computation (re-entering from the same thread is a bug)."""
    if not TURNS_ON:
        yield
        return
    with _turn:
        yield
