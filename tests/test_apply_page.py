"""Apply page (AppTest): generator choice, a reduced experiment end to end, the results it shows, Stop."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import require
from streamlit.testing.v1 import AppTest

from app_shared import jobs as jobs_mod
from gan_core import PRETRAINED_DIR, TrainConfig, build_models, save_checkpoint
from tools.harness.waiting import wait_for

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "apply" / "page.py")
SHIPPED = Path(os.environ.get("GAN_TEST_PRETRAINED", PRETRAINED_DIR))


@pytest.fixture
def apply_app(tmp_path, monkeypatch, mnist_dir):
    """An AppTest of the Apply page over the shipped models and a temporary session folder."""
    import app_shared.models
    import app_shared.session
    import gan_core.io.checkpoint
    require((SHIPPED / "mnist-cgan.safetensors").is_file(), f"shipped mnist-cgan in {SHIPPED}")
    for module in (app_shared.models, gan_core.io.checkpoint):
        monkeypatch.setattr(module, "PRETRAINED_DIR", SHIPPED)
    monkeypatch.setattr(app_shared.models, "list_pretrained", lambda: gan_core.io.checkpoint.list_pretrained(SHIPPED))
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", tmp_path)
    monkeypatch.setattr(app_shared.models, "APP_RUNS_DIR", tmp_path)
    jobs_mod.job_registry.clear()  # experiments take slots of the server's one job registry
    tests = []

    def make():
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.session_state["session_uid"] = "h8test"
        tests.append(at)
        return at
    yield make
    for at in tests:  # never leave an experiment thread behind
        job = at.session_state["ap_job"] if "ap_job" in at.session_state else None
        if job is not None:
            assert job.cancel(timeout=60)
    jobs_mod.job_registry().close()
    jobs_mod.job_registry.clear()


def test_generator_list_has_conditional_models_only(apply_app, tmp_path):
    folder = tmp_path / "h8test"
    folder.mkdir()
    for name, model, classes in (("my-cgan", "cgan-mlp", 10), ("my-plain", "mlp", None)):
        g, d = build_models(model, 8, (1, 28, 28), classes)
        save_checkpoint(folder / name, g, {"model": model, "z_dim": 8, "num_classes": classes,
                                           "image_shape": [1, 28, 28], "dataset": "mnist"}, d)
    at = apply_app()
    at.run()
    assert not at.exception
    options = at.selectbox(key="ap_generator").options
    assert "mnist-cgan" in options and "session: my-cgan" in options
    assert "session: my-plain" not in options and not any("ring8" in o or "dcgan" in o for o in options)
    assert at.radio(key="ap_real").options == ["10", "50", "100"]
    assert at.selectbox(key="ap_generator").value == "mnist-cgan", \
        "the generator of the default dataset, not the alphabetically first (fashion-cgan)"
    steps = at.number_input(key="ap_steps")
    assert "20–2,000" in steps.label, "the box says its allowed range"
    assert any(c.value.startswith(f"In use: {steps.value} classifier steps (allowed 20–2,000).") for c in at.caption)
    assert any("Run experiment" in i.value for i in at.info)


def test_reduced_experiment_runs_in_background_and_shows_both_rows(apply_app):
    at = apply_app()
    at.run()
    at.selectbox(key="ap_generator").set_value("mnist-cgan")
    at.radio(key="ap_real").set_value(50)
    at.select_slider(key="ap_synthetic").set_value(25)
    at.slider(key="ap_truncation").set_value(0.8)
    at.checkbox(key="ap_augment").check()
    at.slider(key="ap_seeds").set_value(2)
    at.number_input(key="ap_steps").set_value(20)
    at.button(key="ap_run").click().run()
    assert not at.exception
    job = at.session_state["ap_job"]
    assert at.button(key="ap_run").disabled and not at.button(key="ap_stop").disabled
    assert job.join(timeout=180), "experiment thread did not end"
    at.run()
    assert not at.exception
    result = job.snapshot().result
    cfg = result.config
    assert (cfg.real_per_class, cfg.synthetic_per_class, cfg.seeds, cfg.steps) == (50, 25, 2, 20)
    assert cfg.truncation == pytest.approx(0.8) and cfg.augment
    table = at.dataframe[0].value
    assert list(table["training data"]) == ["(a) real only", "(b) real + synthetic"]
    for i, arm in enumerate(result.arms.values()):
        assert table["mean accuracy %"].iloc[i] == pytest.approx(100 * arm.mean, abs=0.01)
        assert table["± std %"].iloc[i] == pytest.approx(100 * arm.std, abs=0.01)
        assert len(arm.accuracies) == 2
    kind, sentence = result.verdict()
    shown = [e.value for e in (at.success if kind == "helped" else at.error if kind == "hurt" else at.warning)]
    assert sentence in shown
    captions = " ".join(c.value for c in at.caption)
    assert "10k test split" in captions and "1000 held-out real images" in captions
    assert ("50 real + 25 synthetic images per class (ψ = 0.80), 2 seeds, 20 training steps of batch 32 with "
            "random shifts,") in captions
    if result.generator_class_accuracy is not None:
        assert f"recognises {100 * result.generator_class_accuracy:.1f}%" in captions
    at.radio(key="ap_confusion_arm").set_value("real+synthetic").run()
    assert not at.exception and "summed over 2 seeds" in " ".join(c.value for c in at.caption)
    assert not job.is_alive() and not at.button(key="ap_run").disabled


def test_stop_ends_the_thread(apply_app):
    at = apply_app()
    at.run()
    at.selectbox(key="ap_generator").set_value("mnist-cgan")
    at.slider(key="ap_seeds").set_value(5)
    at.number_input(key="ap_steps").set_value(20)
    at.button(key="ap_run").click().run()
    job = at.session_state["ap_job"]
    at.button(key="ap_stop").click().run()  # stops after the classifier being trained now
    assert job.join(timeout=60), "the experiment did not stop"
    at.run()
    state = job.snapshot()
    assert state.message == "stopped" and state.result is None
    assert any("stopped" in w.value for w in at.warning) and not at.dataframe


def _long_experiment(at: AppTest) -> AppTest:
    """Set up an experiment long enough to still run at the next click."""
    at.run()
    at.selectbox(key="ap_generator").set_value("mnist-cgan")
    at.number_input(key="ap_steps").set_value(200)
    at.slider(key="ap_seeds").set_value(5)
    return at


def test_server_wide_cap_gives_a_clear_message(apply_app):
    jobs_mod.job_registry().max_jobs = 1
    first, second = _long_experiment(apply_app()), _long_experiment(apply_app())
    second.session_state["session_uid"] = "h8other"
    first.button(key="ap_run").click().run()
    job = first.session_state["ap_job"]
    assert job.is_alive() and jobs_mod.job_registry().busy_slots() == 1
    second.button(key="ap_run").click().run()
    assert "ap_job" not in second.session_state
    assert any("room is taken by 1 background job" in e.value and "do not queue" in e.value for e in second.error)
    assert job.cancel(timeout=60)  # stops after the classifier being trained now


def test_experiment_and_training_job_share_one_cap(apply_app):
    """A training job holds the only slot: no experiment starts; once it stops, the experiment holds the slot
    and a training job waits in the queue (never refused) until the experiment ends."""
    registry = jobs_mod.job_registry()
    registry.max_jobs = 1
    training = registry.submit("trainer", TrainConfig(dataset="ring8", batch_size=32, num_threads=1), paused=True)
    at = _long_experiment(apply_app())
    at.button(key="ap_run").click().run()
    assert "ap_job" not in at.session_state
    assert any("room is taken by 1 background job" in e.value for e in at.error)
    registry.stop(training.token)
    assert not training.job.is_alive()
    at.button(key="ap_run").click().run()
    job = at.session_state["ap_job"]
    assert job.is_alive() and registry.experiment("h8test") is job and not at.error
    waiting = registry.submit("trainer", TrainConfig(dataset="ring8", batch_size=32, num_threads=1), paused=True)
    assert waiting.queued and registry.place(waiting.token).place == 1
    assert job.cancel(timeout=60)
    assert wait_for(lambda: waiting.running, timeout=30)  # the ended experiment gave its slot back
