"""Optimizer steps in a server thread wait for an ONNX export in another thread (onnx_export.no_export_running).

torch's exporter raises a process-wide "exporting" flag; a projection's Adam steps in another session while it
is up edited the same global fx metadata and failed with KeyError 'custom'.
"""
from __future__ import annotations

import threading
import time

import torch

from gan_core.io import onnx_export
from gan_core.io.checkpoint import GAN
from gan_core.nn.models import build_models


def test_work_inside_no_export_running_starts_only_after_a_running_export_ends(monkeypatch):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        g, _ = build_models("mlp", 8, (1, 28, 28))
    gan = GAN(g.eval(), None, {"model": "mlp", "z_dim": 8, "num_classes": None, "image_shape": [1, 28, 28],
                               "dataset": "mnist", "name": "lock-test"})
    onnx_export.clear_export_cache()
    finished: list[float] = []
    real_export = onnx_export._export_and_check

    def export_and_note_the_end(*args, **kwargs):  # runs under the export lock: its end is before the release
        try:
            return real_export(*args, **kwargs)
        finally:
            finished.append(time.monotonic())

    monkeypatch.setattr(onnx_export, "_export_and_check", export_and_note_the_end)
    export = threading.Thread(target=onnx_export.export_generator, args=(gan,))
    export.start()
    deadline = time.monotonic() + 30
    while not onnx_export._lock.locked() and export.is_alive() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert onnx_export._lock.locked(), "the export holds the lock while it runs"
    with onnx_export.no_export_running():
        entered = time.monotonic()
        z = torch.zeros(1, 3, requires_grad=True)
        opt = torch.optim.Adam([z], lr=0.1)
        z.square().sum().backward()
        opt.step()  # a dynamo-disabled call: safe here, no export is running
    export.join(60)
    assert finished and entered >= finished[0], "the block waited for the export to finish"
    assert not torch.compiler.is_exporting()
