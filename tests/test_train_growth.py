"""A progressive run on the Train page: the resolution / fade-in alpha chart and status, one sample grid per
stage (helpers, then the page with a real job in its worker), and the Learn page's link to the preset."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import altair as alt
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_shared.training_ui import charts, growth
from gan_core import TrainConfig, Trainer
from gan_core.data.datasets import load_dataset
from tools.harness.waiting import wait_for

PAGES = Path(__file__).resolve().parent.parent / "app_pages"


@pytest.fixture(scope="module")
def growing_run(mnist_dir):
    """20 real steps of cgan-progan: 7x7 for steps 1-3, 14x14 fades in at step 3, 28x28 at step 9."""
    config = TrainConfig(dataset="mnist", model="cgan-progan", steps=20, batch_size=8, data_limit=128, log_every=1,
                         snapshot_every=5, ema_decay=0.9, seed=0, device="cpu", data_dir=str(mnist_dir))
    trainer = Trainer(config, dataset=load_dataset("mnist", mnist_dir, limit=128))
    for _ in range(20):
        trainer.step()
    trainer.update_hparams(lr_g=1e-4)  # an event that is not a stage change
    return trainer


def datasets(spec):
    return {name: table.to_pylist() for name, table in spec["datasets"].items()}


def test_growth_chart_draws_resolution_and_alpha_and_marks_the_stage_changes(growing_run):
    rows, events = growing_run.history.rows(), growing_run.history.events()
    spec = charts.growth_spec(rows, events, size=28)
    alt.LayerChart.from_dict({**spec, "datasets": datasets(spec)})  # a valid Vega-Lite layer spec
    data = datasets(spec)
    series = {label: [(r["step"], r["raw"]) for r in data["lines"] if r["series"] == label]
              for label in ("resolution", "fade-in α")}
    assert series["resolution"] == [(r["step"], r["resolution"]) for r in rows]
    assert series["fade-in α"] == [(r["step"], pytest.approx(r["fade_alpha"])) for r in rows]
    assert {v for _, v in series["resolution"]} == {7, 14, 28}
    assert any(0 < v < 1 for _, v in series["fade-in α"]), "the chart shows a fade-in under way"
    assert data["events"] == [{"step": 3, "change": "growing: 14×14 fades in"},
                              {"step": 9, "change": "growing: 28×28 fades in"}], "stage changes only"
    assert any("lr_g" in text for _, text in events)
    plots, rules, labels = spec["layer"]
    resolution, alpha = plots["layer"]
    assert plots["resolve"] == {"scale": {"y": "independent"}}
    assert resolution["mark"]["interpolate"] == "step-after" and resolution["encoding"]["y"]["axis"]["values"] == \
        [7, 14, 28]
    assert alpha["encoding"]["y"]["axis"]["values"][-1] == 1 and alpha["encoding"]["y"]["axis"]["orient"] == "right"
    assert spec["title"] == "Resolution and fade-in α" and spec["height"] == 140


def test_status_names_the_resolution_and_alpha_of_the_latest_record(growing_run):
    rows = growing_run.history.rows()
    assert growth.growth_status(rows) == "resolution 28×28, α 1.00 (stable)"
    fading = next(r for r in rows if r["resolution"] == 14 and 0 < r["fade_alpha"] < 1)
    upto = rows[:rows.index(fading) + 1]
    assert growth.growth_status(upto) == f"resolution 14×14, α {fading['fade_alpha']:.2f} (fading in)"
    assert growth.growth_status(rows[:1]) == "resolution 7×7, α 1.00 (stable)"


def test_a_plain_run_gets_no_growth_chart_status_or_stage_grids(mnist_dir):
    config = TrainConfig(dataset="mnist", model="mlp", steps=3, batch_size=8, data_limit=64, log_every=1,
                         snapshot_every=1, seed=0, device="cpu", data_dir=str(mnist_dir))
    trainer = Trainer(config, dataset=load_dataset("mnist", mnist_dir, limit=64))
    for _ in range(3):
        trainer.step()
    trainer.update_hparams(lr_g=1e-4)
    rows = trainer.history.rows()
    assert charts.growth_spec(rows, trainer.history.events()) is None
    assert growth.growth_status(rows) is None and trainer.history.stage_samples() == []


def test_stage_grids_are_enlarged_to_full_size_and_captioned(growing_run):
    small, middle, full = growing_run.history.stage_samples()
    assert (small.resolution, small.step, small.final) == (7, 3, True)
    assert growth.stage_caption(small) == "7×7, step 3 (end of the stage)"
    assert growth.stage_caption(full) == "28×28, step 20 (latest)"
    for sample in (small, middle, full):
        image = growth.stage_image(sample)
        assert image.shape == (3 * 30 + 2, 10 * 30 + 2), "30 samples of 28x28, 10 a row, 2-px gaps"
        factor = 28 // sample.resolution
        assert np.array_equal(image[2:30, 2:30], sample.samples[0, 0].repeat(factor, 0).repeat(factor, 1))


def test_the_train_page_shows_a_growing_run_stage_by_stage(train_app, mnist_dir):
    """A real cgan-progan job in its worker process: the grids and records cross the pipe to the page."""
    at = train_app()
    for key, value in {"tr_dataset": "mnist", "tr_model": "cgan-progan", "tr_data_limit": 128, "tr_batch_size": 8,
                       "tr_steps": 20, "tr_snapshot_every": 5, "tr_eval_every": 0}.items():
        at.session_state[key] = value
    at.run()
    at.button(key="tr_start").click().run()
    job = at.session_state["job"]
    assert wait_for(lambda: not job.is_alive(), timeout=120) and job.state.value == "finished", job.message
    at.run()
    assert not at.exception
    status = next(m.value for m in at.markdown if "step 20" in m.value)
    assert status.endswith("· resolution 28×28, α 1.00 (stable)"), status
    titles = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert sum('"Resolution and fade-in \\u03b1"' in t or '"Resolution and fade-in α"' in t for t in titles) == 1
    captions = [img.proto.imgs[0].caption for img in at.image]
    stage_captions = [c for c in captions if re.fullmatch(r"\d+×\d+, step \d+ \(.*\)", c)]
    assert stage_captions == ["7×7, step 3 (end of the stage)", "14×14, step 9 (end of the stage)",
                              "28×28, step 20 (latest)"]


def test_learn_links_to_the_progressive_preset_and_the_link_selects_it(train_app):
    learn = AppTest.from_file(str(PAGES / "learn" / "page.py"), default_timeout=120)
    learn.run()
    assert not learn.exception
    text = " ".join(m.value for m in learn.markdown)
    links = re.findall(r"\[([^\]]+)\]\((train\?preset=progressive-mnist)\)", text)
    assert links and links[0][0] == "Progressive growing on MNIST", links
    url = urlparse(links[0][1])
    train = train_app(query={k: v[0] for k, v in parse_qs(url.query).items()})
    train.run()
    assert not train.exception
    assert train.selectbox(key="tr_preset_pick").value == "progressive-mnist"
    assert (train.session_state["tr_dataset"], train.session_state["tr_model"], train.session_state["tr_steps"]) == \
        ("mnist", "cgan-progan", 1500)
