"""Frames of a run, recorded many times a second for a browser to play back (the 2-D playground's animation).

A page refreshes about once a second, but a toy GAN takes hundreds of steps in that second: drawn once per
refresh, each picture would jump that far. So the job records small frames itself, by wall time (FRAME_RATE
per second of training) and on every single step (slow motion, step by step), into a bounded ring
buffer; the page fetches "the frames after seq N" once per refresh and sends them to the browser in one
batch, which plays them back evenly over the next second.

What a frame holds is not decided here: a job is given a `FrameMaker` (gan_core.teach.toy_frames.toy_frame
for toy runs), so this module, like the rest of the training package, knows nothing of the playground.
Frames cross the worker pipe and the page boundary, so a frame is a dataclass with an integer `seq`.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

FRAME_RATE = 20.0  # frames per second of (running) training, when frames are cheap
MIN_FRAME_RATE = 15.0  # ... and at least this many (the page's animation needs >= 10)
MAX_COST_SHARE = 0.08  # between the two, frames take at most this share of the training time
FRAME_CAPACITY = 128  # frames kept: > 3 s at FRAME_RATE, and one refresh of slow motion at 100 steps/s


class Frame(Protocol):
    seq: int  # 0, 1, 2, ... in recording order
    step: int  # the trainer's step count when it was recorded


FrameMaker = Callable[[Any, int, float], Frame]  # (trainer, seq, seconds since the recorder started) -> frame


class FrameBuffer:
    """The last `capacity` frames, oldest first; thread-safe (a training thread adds, a page reads)."""

    def __init__(self, capacity: int = FRAME_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a frame buffer holds at least one frame")
        self._frames: deque[Frame] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, frame: Frame) -> None:
        with self._lock:
            self._frames.append(frame)

    def extend(self, frames: list[Frame]) -> None:
        with self._lock:
            self._frames.extend(frames)

    def since(self, seq: int) -> list[Frame]:
        """The frames recorded after frame `seq` that are still held (-1: all of them)."""
        with self._lock:
            return [f for f in self._frames if f.seq > seq]

    def latest(self) -> Frame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)


class FrameRecorder:
    """Records a frame after a step when its interval has passed since the last one, or when told to.

    The interval is 1/rate, stretched (down to min_rate) when making a frame costs more than
    max_share of the time between two: training slows by at most about max_share on a slow or busy
    machine. Call it between steps, with the trainer held still (TrainingJob calls it under its
    lock). `seconds` adds up the time spent making frames.
    """

    def __init__(self, make: FrameMaker, rate: float = FRAME_RATE, capacity: int = FRAME_CAPACITY,
                 min_rate: float = MIN_FRAME_RATE, max_share: float = MAX_COST_SHARE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < min_rate <= rate:
            raise ValueError("the frame rates must be positive, min_rate <= rate")
        if not 0 < max_share <= 1:
            raise ValueError("max_share is a share of the time, in (0, 1]")
        self.make, self.clock = make, clock
        self.shortest, self.longest, self.max_share = 1.0 / rate, 1.0 / min_rate, max_share
        self.buffer = FrameBuffer(capacity)
        self.started = clock()
        self._due: float | None = None  # when the next frame is due (None: at once)
        self._seq = 0
        self._cost: float | None = None  # a moving average of one frame's cost, seconds
        self.seconds = 0.0  # spent in make()

    @property
    def interval(self) -> float:
        """Seconds between two frames while training runs."""
        if self._cost is None:
            return self.shortest
        return min(self.longest, max(self.shortest, self._cost / self.max_share))

    def after_step(self, trainer: Any, forced: bool = False) -> bool:
        """Record if a frame is due (or `forced`: a single step); True when one was recorded."""
        now = self.clock()
        if not forced and self._due is not None and now < self._due - 1e-6:
            return False
        self.record(trainer, now)
        return True

    def catch_up(self, trainer: Any) -> bool:
        """Record when the latest frame is older than the trainer (a pause right after some steps)."""
        latest = self.buffer.latest()
        if latest is not None and latest.step == trainer.step_count:
            return False
        self.record(trainer)
        return True

    def record(self, trainer: Any, now: float | None = None) -> Frame:
        now = self.clock() if now is None else now
        t0 = time.perf_counter()
        frame = self.make(trainer, self._seq, now - self.started)
        cost = time.perf_counter() - t0
        self.seconds += cost
        self._cost = cost if self._cost is None else 0.8 * self._cost + 0.2 * cost
        self._seq += 1
        # the next one is due an interval after this one was (so the rate holds whatever the step time),
        # or an interval from now after a pause or a long step
        due = (self._due if self._due is not None else now) + self.interval
        self._due = due if due > now else now + self.interval
        self.buffer.add(frame)
        return frame

    def since(self, seq: int) -> list[Frame]:
        return self.buffer.since(seq)
