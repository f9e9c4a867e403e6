"""Train page (AppTest) and its helpers: lifecycle, divergence message, bad input, presets, save/fork, charts."""
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from app_shared import jobs as jobs_mod
from app_shared.training_ui import charts as charts
from app_shared.training_ui import live_panel
from app_shared.training_ui.preset_pages import PLAYGROUND, PLAYGROUND_PRESETS, TRAIN, is_toy, page_of, presets_for
from gan_core import JobState, TrainConfig
from gan_core.eval.diagnostics import diagnose
from gan_core.eval.metrics import toy_coverage
from gan_core.teach.presets import PRESETS, get_preset
from tests import worker_probes as probes
from tools.harness.waiting import wait_for

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "train" / "page.py")



def texts(elements):
    return " ".join(str(e.value) for e in elements)


def test_start_pause_step_change_lr_resume_stop(train_app):
    at = train_app()
    at.run()
    assert not at.exception
    assert [b.label for b in at.button][-5:] == ["Start", "Pause", "Resume", "Step", "Stop"]
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert job.wait_until(10, timeout=60)
    assert jobs_mod.job_registry().get(at.session_state["job_token"]) is job
    assert at.button(key="tr_start").disabled and not at.button(key="tr_pause").disabled
    assert at.button(key="tr_resume").disabled, "running: only Pause applies, not Resume"
    at.button(key="tr_pause").click().run()
    assert wait_for(lambda: job.state.value == "paused")
    at.run()  # what the page's rerun on a state change shows
    assert at.button(key="tr_pause").disabled and not at.button(key="tr_resume").disabled
    at.button(key="tr_resume").click().run()
    assert wait_for(lambda: job.state.value == "running")
    at.run()
    assert at.button(key="tr_resume").disabled and not at.button(key="tr_pause").disabled

    at.number_input(key="tr_step_n").set_value(5)
    at.button(key="tr_step").click().run()  # Step pauses the job and does exactly 5 more steps
    assert wait_for(lambda: job.state.value == "paused")
    at.run()
    assert at.button(key="tr_pause").disabled and not at.button(key="tr_resume").disabled
    before = live_panel.live_data(job)  # the live fragment's data function, called directly
    time.sleep(0.3)
    assert live_panel.live_data(job).status.step == before.status.step  # paused means paused
    assert before.rows[-1]["step"] == before.status.step  # single steps are recorded
    assert "paused" in texts(at.markdown) or "running" in texts(at.markdown)

    at.number_input(key="tr_live_lr_g").set_value(3e-3)  # not the rate in use (a no-change changes nothing)
    at.button(key="tr_set_lr").click().run()
    at.session_state["tr_label_smoothing"] = 0.1  # a form change sent to the running job
    at.run()
    at.button(key="tr_apply_live").click().run()
    assert "Changed label_smoothing (marked" in texts(at.success)  # lr_g was not reverted to the old form value
    at.button(key="tr_resume").click().run()
    assert wait_for(lambda: job.trainer.step_count > before.status.step + 20)
    assert job.trainer.config.label_smoothing == 0.1
    after = live_panel.live_data(job)
    assert len(after.rows) > len(before.rows) and after.status.state == JobState.RUNNING
    assert any("lr_g" in text for _, text in after.events)
    assert job.call(probes.generator_lr) == pytest.approx(3e-3)  # read in the worker process
    status = texts(at.markdown)
    assert "step" in status and "images/s" in status and "device cpu" in status
    assert len(at.get("vega_lite_chart")) >= 4  # losses, D outputs, grad norms, images/s
    assert any("Samples from fixed noise" in img.proto.imgs[0].caption for img in at.image)

    at.button(key="tr_stop").click().run()
    assert not job.is_alive() and job.state.value == "stopped"
    assert "Stopped at step" in texts(at.info)
    assert not at.button(key="tr_start").disabled


def test_walk_lr_boxes_unchanged_lr_paused_clock_and_save_step(train_app):
    """Walk items: the live lr boxes show the rates in use ("auto" resolved), an unchanged rate says so and marks
    nothing, "elapsed" stops while paused, and Save's name, message and checkpoint give one step."""
    import re

    from gan_core.io.checkpoint import read_meta
    at = train_app()
    at.run()
    at.button(key="tr_start").click().run()  # lr "auto": the form's boxes are empty
    job = at.session_state["job"]
    assert at.session_state["tr_lr_g"] is None
    in_use = job.config.resolved()
    assert at.number_input(key="tr_live_lr_g").value == pytest.approx(in_use.lr_g)
    assert at.number_input(key="tr_live_lr_d").value == pytest.approx(in_use.lr_d)
    assert job.wait_until(10, timeout=60)
    at.button(key="tr_set_lr").click().run()  # the page reruns on the state change (starting -> running) too
    assert "Nothing changed" in texts(at.info) and not at.success
    time.sleep(0.5)
    assert not [text for _, text in job.history.events() if "lr" in text], "no marker for a change of nothing"

    at.button(key="tr_pause").click().run()
    assert wait_for(lambda: job.state.value == "paused")
    paused_at = job.status().elapsed
    time.sleep(1.0)
    assert job.status().elapsed == pytest.approx(paused_at, abs=0.05), "elapsed stops while paused"
    at.run()  # what the page's rerun on a state change shows: Resume enabled
    at.button(key="tr_resume").click().run()
    assert wait_for(lambda: job.status().elapsed > paused_at + 0.3)

    at.run()
    at.button(key="tr_save").click().run()  # running: the page's mirrored step lags the worker's
    message = texts(at.success)
    name, step = re.search(r"Saved checkpoint '([^']+)' at step (\d+)", message).groups()
    assert name.endswith(f"-step{step}"), message
    assert read_meta(Path(at.session_state["tr_saved_path"]).with_suffix(".json"))["steps"] == int(step)


def test_a_stopped_run_is_not_drawn_over_itself(train_app):
    """After Stop the run is archived for later comparisons, but the charts still show it as "this run":
    it must not also be overlaid as "run 1" (a doubled legend and every curve drawn twice)."""
    at = train_app()
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert job.wait_until(20, timeout=60)
    at.button(key="tr_stop").click().run()
    at.run()
    cfg = TrainConfig().resolved()
    assert not at.exception and [r["label"] for r in at.session_state["past_runs"]][:1] == [
        f"run 1: ring8 · nonsaturating · lr {cfg.lr_g:g}/{cfg.lr_d:g}"]
    assert not [m for m in at.multiselect if m.label == "Overlay earlier runs"], "nothing else to compare yet"
    runs_drawn = set().union(*(chart_runs(chart.proto.spec) for chart in at.get("vega_lite_chart")))
    assert runs_drawn == {"this run"}, runs_drawn


def test_quality_charts_stay_readable_with_one_point_and_earlier_runs():
    """One evaluation showed axis labels "500.000000" / "1,102.056134" and no visible point; overlaid runs'
    legends on the right squeezed half-width charts; an lr-change label ran over the legend."""
    evals = [{"step": 500, "classifier_frechet_distance": 1102.056134}]
    past = [{"label": "run 1: mnist · nonsaturating · lr 0.0002/0.0002",
             "evals": [{"step": 500, "classifier_frechet_distance": 900.0},
                       {"step": 1000, "classifier_frechet_distance": 800.0}]}]
    (key, spec), = charts.quality_specs(evals, [(900, "lr_g 0.0002 → 0.0001")], past)
    line, rules, labels = spec["layer"]
    enc = line["encoding"]
    assert enc["x"]["axis"]["format"] == ",.0f" and enc["x"]["axis"]["tickMinStep"] == 1, "whole steps"
    assert enc["y"]["axis"]["format"] == ".4~g", "four significant digits: 1102, 0.35"
    assert line["mark"]["point"] == {"filled": True, "size": 60}, "a single evaluation shows as a visible dot"
    assert enc["strokeDash"]["legend"]["orient"] == "bottom" and enc["color"]["legend"] is None
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}, "the height is the plot's own"
    assert spec["height"] == 160
    assert labels["mark"]["type"] == "text" and labels["mark"]["clip"] is True, "labels stay inside the plot"
    losses = charts.metric_spec("losses", [{"step": 1, "d_loss": 1.0, "g_loss": 1.0}], past_runs=past)
    assert losses["encoding"]["color"]["legend"]["orient"] == "bottom"


def test_timeline_gif_stays_under_1_mb():
    """The timeline GIF of a default MNIST run was 4 MB (48 frames of 8x8 samples at 2x). Worst case here:
    pure noise, as at the start of training, which hardly compresses."""
    import io

    from PIL import Image

    from app_pages.train import outputs
    gen = torch.Generator().manual_seed(0)
    noise = [(10 * i, (torch.rand(64, 1, 28, 28, generator=gen) * 2 - 1).numpy()) for i in range(60)]
    data, note = outputs.timeline_gif(noise, "image", "mnist", True)
    gif = Image.open(io.BytesIO(data))
    assert len(data) <= 1_000_000 and gif.n_frames >= 8, (len(data), gif.n_frames)
    assert note.endswith(f"{len(data) / 1e6:.2f} MB") and f"{gif.n_frames} frames" in note
    ramp = np.tile(np.linspace(-1, 1, 28, dtype=np.float32), (64, 1, 28, 1))
    smooth = [(10 * i, np.roll(ramp, i, axis=3)) for i in range(60)]  # a moving ramp: every frame differs
    data, note = outputs.timeline_gif(smooth, "image", "mnist", True)
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 48 and gif.size == (484, 484) and "full size" in note, "what fits keeps full size"


def chart_runs(spec_json: str) -> set[str]:
    """The runs a chart spec draws (its strokeDash scale's domain, wherever the layer puts it)."""
    import json
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            dash = node.get("strokeDash")
            if isinstance(dash, dict) and "scale" in dash:
                found.update(dash["scale"]["domain"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(json.loads(spec_json))
    return found


def test_nan_inducing_lr_shows_divergence(train_app, mnist_dir):
    at = train_app()
    for key, value in {"tr_dataset": "mnist", "tr_model": "mlp", "tr_loss": "wgan-gp", "tr_gp_weight": 0.0,
                       "tr_n_critic": 1, "tr_lr_g": 1.0, "tr_lr_d": 1.0, "tr_data_limit": 256,
                       "tr_batch_size": 32}.items():
        at.session_state[key] = value
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=60)
    at.run()
    assert job.state.value == "diverged"
    assert "diverged" in texts(at.error) and "last good weights" in texts(at.error)
    assert job.call(probes.generator_is_finite)


def test_image_samples_are_sent_as_png(train_app, mnist_dir):
    """The live sample grid goes out as the PNG made once per snapshot: st.image's "auto" format would
    decode it and re-encode it as a (lossy) JPEG on every one-second refresh."""
    at = train_app()
    for key, value in {"tr_dataset": "mnist", "tr_model": "mlp", "tr_data_limit": 256, "tr_batch_size": 32,
                       "tr_steps": 10, "tr_snapshot_every": 5}.items():
        at.session_state[key] = value
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=60) and job.state.value == "finished"
    at.run()
    sample = next(img.proto.imgs[0] for img in at.image if "Samples from fixed noise" in img.proto.imgs[0].caption)
    assert sample.url.endswith(".png"), sample.url
    import io

    from PIL import Image

    from gan_core.io.images import grid
    step, arr = job.trainer.history.latest_snapshot()
    key, png = at.session_state["_sample_png"]
    assert key[1] == step == 10  # lossless: exactly the grid of the last snapshot
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), grid(arr, scale=2))


def test_bad_input_and_presets(train_app):
    at = train_app(query={"preset": "show-mode-collapse"})
    at.run()
    assert at.session_state["tr_loss"] == "minimax" and at.session_state["tr_lr_g"] == pytest.approx(1e-3)
    assert at.session_state["tr_lr_d"] == pytest.approx(1e-5) and at.session_state["tr_dataset"] == "ring8"
    at.session_state["tr_lr_g"] = -1.0
    at.run()
    at.button(key="tr_start").click().run()
    assert "job" not in at.session_state
    assert "Not started: lr_g must be a number in (0, 1]" in texts(at.error)
    at.sidebar.toggle(key="presenter").set_value(True).run()  # presenter mode hides the set-up form
    assert not [b for b in at.button if b.label == "Load preset"] and at.button(key="tr_start")
    at.run()
    assert at.session_state["tr_loss"] == "minimax"  # the hidden form keeps its values
    bad = train_app(query={"preset": "../../etc/passwd"})
    bad.run()
    assert "Unknown preset" in texts(bad.warning) and bad.session_state["tr_loss"] == "nonsaturating"


def test_the_preset_box_always_names_what_the_form_holds(train_app):
    """First visit: the box said "Classic CGAN on MNIST" over a ring8 form; a pick did nothing until Load preset;
    a Learn link filled the form but left the box on the first preset. Now the box follows the form."""
    at = train_app()
    at.run()
    box = at.selectbox(key="tr_preset_pick")
    assert box.value == "defaults" and "Defaults: ring8 · nonsaturating" in box.options, box.options
    assert at.session_state["tr_dataset"] == "ring8" and not [b for b in at.button if b.label == "Load preset"]
    at.selectbox(key="tr_preset_pick").set_value("classic-cgan-mnist").run()  # applied at once, no second click
    assert (at.session_state["tr_dataset"], at.session_state["tr_model"]) == ("mnist", "cgan-mlp-proj")
    assert at.selectbox(key="tr_preset_pick").value == "classic-cgan-mnist"
    assert PRESETS["classic-cgan-mnist"].description in texts(at.caption)
    at.selectbox(key="tr_preset_pick").set_value("nonsaturating-ring8").run()
    at.number_input(key="tr_lr_g").set_value(5e-4).run()  # an edit: the box says so
    box = at.selectbox(key="tr_preset_pick")
    assert box.value == "custom" and "custom (from Non-saturating on ring8)" in box.options
    assert "You changed lr_g since loading Non-saturating on ring8" in texts(at.caption)
    at.button(key="tr_start").click().run()  # Start trains what the screen shows: the edited form
    job = at.session_state["job"]
    assert (job.config.dataset, job.config.loss, job.config.lr_g, job.config.lr_d) == ("ring8", "nonsaturating",
                                                                                        5e-4, 1e-3)
    at.selectbox(key="tr_preset_pick").set_value("nonsaturating-ring8").run()  # back to the preset
    assert at.session_state["tr_lr_g"] == pytest.approx(1e-3) and at.selectbox(key="tr_preset_pick").value == \
        "nonsaturating-ring8"

    linked = train_app(query={"preset": "show-mode-collapse"})  # a Learn link selects its preset in the box
    linked.run()
    assert linked.selectbox(key="tr_preset_pick").value == "show-mode-collapse"
    playground = train_app(page=str(Path(PAGE).parent.parent / "playground" / "page.py"),
                     query={"preset": "ring8-nonsaturating", "engine": "server"})
    playground.run()
    assert playground.selectbox(key="pg_preset_pick").value == "ring8-nonsaturating"
    assert playground.session_state["pg_loss"] == "nonsaturating"


def test_save_appears_for_explore_then_fork_and_compare(train_app, tmp_path):
    at = train_app()
    at.session_state["tr_steps"] = 30
    at.session_state["tr_snapshot_every"] = 10
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive())
    assert job.state.value == "finished"
    at.run()
    box = at.text_input(key="tr_save_name")
    assert box.placeholder == "ring8-toy-nonsaturating-step<step at Save>", "no step number that goes stale"
    at.button(key="tr_save").click().run()  # an empty box saves under the step at the moment of saving
    assert (tmp_path / at.session_state["session_uid"] / "ring8-toy-nonsaturating-step30.safetensors").is_file()
    at.text_input(key="tr_save_name").input("my ring")
    at.button(key="tr_save").click().run()
    saved = tmp_path / at.session_state["session_uid"] / "my-ring.safetensors"
    assert saved.is_file() and saved.with_suffix(".json").is_file()
    assert "Explore" in texts(at.success)
    assert any(b.label.startswith("Download my-ring") for b in at.get("download_button"))

    assert at.select_slider(key="tr_timeline").options == ["1", "10", "20", "30"]
    at.select_slider(key="tr_timeline").set_value(10)
    at.button(key="tr_gif").click().run()
    assert any("fixed noise at step 10" in img.proto.imgs[0].caption for img in at.image)
    assert at.session_state["tr_gif_bytes"][:4] == b"GIF8"
    import io

    from PIL import Image
    assert Image.open(io.BytesIO(at.session_state["tr_gif_bytes"])).n_frames == 4

    at.session_state["tr_lr_g"] = 5e-4
    at.selectbox(key="tr_fork_from").set_value("session: my-ring")
    at.button(key="tr_fork").click().run()
    assert not at.exception, texts(at.exception)
    fork = at.session_state["job"]
    assert fork is not job and fork.wait_until(35, timeout=30)  # the 30-step budget counts from step 30
    assert fork.trainer.config.lr_g == 5e-4 and any("forked" in t for _, t in fork.history.events())
    runs = at.session_state["past_runs"]
    assert len(runs) == 1 and runs[0]["rows"][-1]["step"] == 30  # the first run kept for comparison


# ---------------------------------------------------------------- helpers without the page

def test_metric_chart_smooths_marks_changes_and_overlays_runs():
    rows = [{"step": s, "d_loss": float(s // 10 % 2), "g_loss": 1.0} for s in range(10, 110, 10)]
    past = [{"label": "run 1: ring8 · minimax", "rows": [{"step": 10, "d_loss": 5.0, "g_loss": 5.0}]}]
    spec = charts.metric_spec("losses", rows, smoothing=2, events=[(50, "lr_g 0.0002 → 0.001")], past_runs=past)
    import altair as alt
    datasets = {name: table.to_pylist() for name, table in spec["datasets"].items()}  # Arrow tables
    alt.LayerChart.from_dict({**spec, "datasets": datasets})  # a valid Vega-Lite layer spec
    assert {layer["data"]["name"] for layer in spec["layer"]} == {"lines", "events"}
    data = list(datasets.values())
    lines = next(d for d in data if d and "series" in d[0])
    d_loss = [r for r in lines if r["series"] == "D loss" and r["run"] == charts.CURRENT_RUN]
    assert [r["raw"] for r in d_loss[:3]] == [1.0, 0.0, 1.0] and [r["value"] for r in d_loss[:3]] == [1.0, 0.5, 0.5]
    assert any(r["run"].startswith("run 1") for r in lines)
    events = next(d for d in data if d and "change" in d[0])
    assert events == [{"step": 50, "change": "lr_g 0.0002 → 0.001"}]
    assert charts.quality_keys([{"step": 100, "class_accuracy": 0.9, "class_counts": [1, 2], "ok": True}]) == \
        ["class_accuracy"]


def test_diagnoses():
    winning = [{"step": s, "d_real": 0.99, "d_fake": 0.01, "g_grad_norm": 10.0 if s == 1 else 0.1}
               for s in range(1, 10)]
    kinds = [d.kind for d in diagnose("running", "", winning, "minimax")]
    assert kinds == ["d_winning"]
    text = diagnose("running", "", winning, "minimax")[0].text
    assert "gradient has shrunk to 1%" in text and "non-saturating" in text
    assert diagnose("running", "", winning, "wgan-gp") == []
    div = diagnose("diverged", "training diverged at step 7 (loss NaN)", [], "nonsaturating")
    assert div[0].level == "error" and "diverged" in div[0].text
    collapsed = toy_coverage("ring8", torch.tensor([[2.0, 0.0]]).repeat(100, 1) + 0.01 * torch.randn(100, 2))
    assert collapsed["modes_covered"] == 1
    d = diagnose("running", "", [{"step": 500}], "minimax", spread=collapsed)
    assert d[0].kind == "mode_collapse" and "1 of the 8" in d[0].text
    evals = [{"step": 100 * i, "classes_present": c} for i, c in enumerate([10, 10, 9, 5], 1)]
    assert diagnose("running", "", [], "nonsaturating", evals) == []  # one low reading is not a trend
    evals.append({"step": 500, "classes_present": 4})
    assert "classes present fell from 10 to 4" in diagnose("running", "", [], "nonsaturating", evals)[0].text


def test_presets_have_stable_slugs_and_valid_configs():
    assert {"classic-cgan-mnist", "dcgan-mnist", "wgan-gp-mnist", "show-mode-collapse", "nonsaturating-ring8",
            "ring8-minimax-collapse", "ring8-nonsaturating", "ring8-wgan-gp"} <= set(PRESETS)
    for p in PRESETS.values():
        assert p.config().dataset and p.slug == p.slug.lower()
    assert get_preset("SHOW-MODE-COLLAPSE") is PRESETS["show-mode-collapse"]
    assert get_preset("nope") is None and get_preset(None) is None
    assert all(page_of(p) == TRAIN for p in presets_for(TRAIN))


def test_each_preset_opens_on_one_page_and_the_playground_lists_only_toys():
    assert PLAYGROUND_PRESETS <= set(PRESETS) and all(is_toy(PRESETS[s]) for s in PLAYGROUND_PRESETS)
    train, playground = presets_for(TRAIN), presets_for(PLAYGROUND)
    assert {p.slug for p in train} == set(PRESETS) - PLAYGROUND_PRESETS
    assert {p.slug for p in playground} == PLAYGROUND_PRESETS | {p.slug for p in train if is_toy(p)}
    assert "classic-cgan-mnist" not in {p.slug for p in playground}
    with pytest.raises(ValueError, match="unknown page"):
        presets_for("explore")


def _zip(entries):
    import io
    import zipfile

    from PIL import Image
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, shade in entries:
            png = io.BytesIO()
            Image.new("L", (28, 28), shade).save(png, format="PNG")
            zf.writestr(name, png.getvalue())
    return buf.getvalue()


def test_uploaded_zip_becomes_a_dataset_and_bad_zip_changes_nothing(train_app, tmp_path):
    at = train_app()
    at.run()
    evil = _zip([("../evil.png", 0)])
    at.file_uploader(key="tr_zip").upload("evil.zip", evil, "application/zip").run()
    assert "That zip was not used" in texts(at.error) and "outside" in texts(at.error)
    assert at.session_state["tr_dataset"] == "ring8" and not (tmp_path.parent / "evil.png").exists()

    good = _zip([(f"{cls}/{i}.png", 40 * i) for cls in ("cats", "dogs") for i in range(4)])
    at2 = train_app()
    at2.session_state["tr_steps"] = 3
    at2.session_state["tr_batch_size"] = 4
    at2.run()
    at2.file_uploader(key="tr_zip").upload("pets.zip", good, "application/zip").run()
    dataset = at2.session_state["tr_dataset"]
    assert dataset.startswith("folder:") and "Extracted 8 images" in texts(at2.warning)
    assert Path(dataset[len("folder:"):]).is_relative_to(tmp_path)
    at2.button(key="tr_start").click().run()
    job = at2.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=60)
    assert job.state.value == "finished", job.message
    assert job.call(probes.data_class_names) == ("cats", "dogs") and job.trainer.step_count == 3


def test_the_form_has_a_widget_for_each_config_field_but_the_excluded(train_app):
    """The form is derived from TrainConfig's fields with an explicit exclude list, as the command line is; a bad
    value gets TrainConfig.validate's own message."""
    from dataclasses import fields

    from app_shared.training_ui.form import FORM_EXCLUDED, FORM_FIELDS
    from gan_core import TrainConfig
    names = {f.name for f in fields(TrainConfig)}
    assert set(FORM_EXCLUDED) <= names and set(FORM_FIELDS) == names - set(FORM_EXCLUDED)
    assert {"lr_decay", "folder_rgb", "optimizer_g", "optimizer_d", "beta1_d", "toy_hidden", "toy_depth"} <= \
        set(FORM_FIELDS)
    at = train_app()
    at.run()
    drawn = {w.key[len("tr_"):] for kind in ("number_input", "selectbox", "checkbox", "text_input")
             for w in at.get(kind) if w.key and w.key.startswith("tr_")}
    assert set(FORM_FIELDS) <= drawn and not set(FORM_EXCLUDED) & drawn
    at.session_state["tr_data_limit"] = 0
    at.run()
    at.button(key="tr_start").click().run()
    assert "Not started: data_limit must be a positive integer, got 0" in texts(at.error)
    at.session_state["tr_data_limit"] = 100_000
    at.session_state["tr_lr_decay"] = 0.5
    at.session_state["tr_steps"] = 20
    at.session_state["tr_optimizer_d"] = "sgd"
    at.run()
    at.button(key="tr_start").click().run()
    assert not at.error, texts(at.error)
    job = at.session_state["job"]
    assert job.config.lr_decay == 0.5 and job.config.optimizer_d == "sgd" and job.config.steps == 20


def test_a_zip_smaller_than_one_batch_gets_a_plain_warning(train_app):
    """Walk item: a zip of 3 images trained without a word (the warning came only below 2 images)."""
    at = train_app()
    at.run()
    at.file_uploader(key="tr_zip").upload("three.zip", _zip([(f"{i}.png", 60 * i) for i in range(3)]),
                                          "application/zip").run()
    assert at.session_state["tr_dataset"].startswith("folder:"), "it is used"
    assert "Extracted 3 images" in texts(at.warning) and "fewer images than one batch of 64" in texts(at.warning)
    assert not at.success
    at.file_uploader(key="tr_zip").upload("many.zip", _zip([(f"{i}.png", i % 250) for i in range(64)]),
                                          "application/zip").run()
    assert "Extracted 64 images" in texts(at.success) and not at.warning


def test_a_small_zip_adapts_the_batch_and_a_zip_error_keeps_the_uploader_open(train_app):
    """A 6-image zip was accepted, then Start failed with "batch size 64 is larger than the dataset (6 images)"
    above four empty charts; after a zip error the panel holding the uploader collapsed."""
    at = train_app()
    at.session_state["tr_steps"] = 2
    at.run()
    at.file_uploader(key="tr_zip").upload("bad.zip", b"not a zip", "application/zip").run()
    assert "That zip was not used" in texts(at.error)
    assert at.session_state["tr_setup_open"] is True and at.session_state["tr_data_open"] is True, \
        "the panels that hold the uploader stay open"
    at.file_uploader(key="tr_zip").upload("six.zip", _zip([(f"{i}.png", 40 * i) for i in range(6)]),
                                          "application/zip").run()
    assert "Extracted 6 images" in texts(at.warning) and "the batch size is now 6 (was 64)" in texts(at.warning)
    assert at.session_state["tr_batch_size"] == 6 and at.session_state["tr_data_open"] is True
    at.session_state["tr_batch_size"] = 64  # set back by hand: refused at Start, in plain words
    at.run()
    at.button(key="tr_start").click().run()
    assert "job" not in at.session_state
    assert "Not started: the uploaded dataset has 6 images, fewer than the batch size 64" in texts(at.error)
    assert not at.get("vega_lite_chart"), "no empty chart frames"
    at.session_state["tr_batch_size"] = 6
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=60)
    assert job.state.value == "finished", job.message
