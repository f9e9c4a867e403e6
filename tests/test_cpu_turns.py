"""Short page computations take turns (app_shared/cpu_turns.py); the Explore move's turn is tested in
test_explore_page.py."""
import itertools
import threading
import time

import pytest

from app_shared import cpu_turns
from app_shared.cpu_turns import cpu_turn


def test_turns_do_not_overlap_and_an_exception_gives_the_turn_back():
    spans, lock = [], threading.Lock()

    def work():
        with cpu_turn():
            start = time.perf_counter()
            time.sleep(0.02)
            with lock:
                spans.append((start, time.perf_counter()))

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    spans.sort()
    assert len(spans) == 5 and all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans
    with pytest.raises(ValueError):
        with cpu_turn():
            raise ValueError("a failing page run")
    assert cpu_turns._turn.acquire(blocking=False), "the failed run gave its turn back"
    cpu_turns._turn.release()


def test_turns_can_be_switched_off(monkeypatch):
    """GAN_CPU_TURNS=0 (read at start-up) lets runs share the interpreter again, for benchmarks/burst.py."""
    monkeypatch.setattr(cpu_turns, "TURNS_ON", False)
    with cpu_turn():
        assert cpu_turns._turn.acquire(blocking=False), "no turn is held when turns are off"
        cpu_turns._turn.release()
    monkeypatch.setattr(cpu_turns, "TURNS_ON", True)
    with cpu_turn():
        assert not cpu_turns._turn.acquire(blocking=False)
