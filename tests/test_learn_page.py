"""Learn page (AppTest): every widget's numbers are checked against independent computations."""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
import torch
from conftest import require
from streamlit.testing.v1 import AppTest

from app_shared.training_ui.preset_pages import page_of
from gan_core import PRETRAINED_DIR
from gan_core.teach import lesson
from gan_core.teach.presets import PRESETS

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "learn" / "page.py")
# Shipped models come from pretrained/; GAN_TEST_PRETRAINED points the tests at another folder during development.
SHIPPED = Path(os.environ.get("GAN_TEST_PRETRAINED", PRETRAINED_DIR))


def normal_pdf(x, m, s):
    return math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def metrics(at):
    return {m.label: float(m.value) for m in at.metric}


@pytest.fixture
def learn_app(monkeypatch):
    import app_shared.models
    monkeypatch.setattr(app_shared.models, "PRETRAINED_DIR", SHIPPED)
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def test_d_star_and_value_follow_the_generator_sliders(learn_app):
    at = learn_app
    at.slider(key="ln_g_mean").set_value(1.5)
    at.slider(key="ln_g_std").set_value(0.8)
    at.slider(key="ln_at_x").set_value(2.0)
    at.run()
    m = metrics(at)
    p_data = 0.5 * normal_pdf(2.0, -2, 0.6) + 0.5 * normal_pdf(2.0, 2, 0.6)
    p_g = normal_pdf(2.0, 1.5, 0.8)
    assert m["p_data(x)"] == pytest.approx(p_data, abs=6e-5)
    assert m["p_g(x)"] == pytest.approx(p_g, abs=6e-5)
    assert m["D*(x)"] == pytest.approx(p_data / (p_data + p_g), abs=6e-5)
    assert m["V(D*, G)"] == pytest.approx(m["−log 4 + 2·JSD"], abs=2e-4)
    captions = " ".join(c.value for c in at.caption)  # the two compromises, computed live
    assert f"V = {lesson.optimum_report(2.0, 0.6).value:.3f}" in captions
    assert f"V = {lesson.optimum_report(0.0, 2.05).value:.3f}" in captions
    before = m["V(D*, G)"]
    at.slider(key="ln_g_mean").set_value(-3.0).run()  # G moves away from both modes: V rises toward 0
    assert metrics(at)["V(D*, G)"] > before + 0.05
    assert -math.log(4) <= metrics(at)["V(D*, G)"] <= 0


def test_generator_loss_numbers_at_the_chosen_d(learn_app):
    at = learn_app
    at.slider(key="ln_d_at").set_value(0.2).run()
    m = metrics(at)
    assert m["minimax loss"] == pytest.approx(math.log(0.8), abs=1e-4)
    assert m["non-saturating loss"] == pytest.approx(-math.log(0.2), abs=1e-4)
    assert m["minimax gradient (logit)"] == pytest.approx(-0.2, abs=1e-4)
    assert m["non-saturating gradient (logit)"] == pytest.approx(-0.8, abs=1e-4)


def test_toy_adam_table_matches_the_engine_and_follows_the_widgets(learn_app):
    at = learn_app
    at.select_slider(key="ln_toy_lr").set_value(0.05)
    at.slider(key="ln_toy_steps").set_value(100)
    at.multiselect(key="ln_toy_betas").set_value([0.0, 0.5, 0.9])
    at.radio(key="ln_toy_loss").set_value("minimax")
    at.run()
    table = at.dataframe[0].value
    assert list(table["run"]) == ["β1 = 0.0", "β1 = 0.5", "β1 = 0.9"]
    expected = lesson.train_toy_1d(steps=100, lr=0.05, beta1=0.9, loss="minimax")
    assert table["final μ"].iloc[2] == pytest.approx(expected.mu[-1], abs=1e-3)
    assert table["D(G(z)) fake"].iloc[2] == pytest.approx(expected.d_fake[-1], abs=1e-3)
    at.multiselect(key="ln_toy_betas").set_value([]).run()
    assert not at.dataframe and any("at least one" in i.value for i in at.info)


def test_every_preset_link_points_at_an_existing_preset_on_its_page(learn_app):
    at = learn_app
    links = set()
    for fix in at.selectbox(key="ln_fix").options:
        at.selectbox(key="ln_fix").set_value(fix).run()
        text = " ".join(m.value for m in at.markdown)
        links |= set(re.findall(r"\]\((train|playground)\?preset=([a-z0-9-]+)\)", text))
        caption = " ".join(c.value for c in at.caption)
        slug = re.findall(r"\((?:train|playground)\?preset=([a-z0-9-]+)\)", text)
        assert any(PRESETS[s].description in caption for s in slug)
    assert len(links) >= 8
    for page_name, slug in links:
        assert slug in PRESETS and page_of(PRESETS[slug]) == page_name
    assert {"ring8-wgan-gp", "ring8-minimax-collapse", "ring8-nonsaturating", "ring8-r1"} <= {s for _, s in links}


def test_papers_are_cited_by_title_and_year(learn_app):
    text = " ".join(m.value for m in learn_app.markdown)
    for cite in ("Goodfellow et al. 2014", "Radford et al. 2015", "Mirza & Osindero 2014", "Arjovsky et al. 2017",
                 "Gulrajani et al. 2017", "Mao et al. 2017", "Karras et al. 2017", "Karras et al. 2019",
                 "Härkönen et al. 2020", "Zhao et al. 2020", "Salimans et al. 2016", "Metz et al. 2016",
                 "Kingma & Ba 2014"):
        assert cite in text, cite
    assert len(learn_app.latex) == 2


def test_class_by_z_grid_and_latent_slider_follow_the_widgets(learn_app):
    require((SHIPPED / "mnist-cgan.safetensors").is_file(), f"shipped mnist-cgan in {SHIPPED}")
    at = learn_app
    at.slider(key="ln_cz_cols").set_value(4)
    at.number_input(key="ln_cz_seed").set_value(3)
    at.slider(key="ln_cz_trunc").set_value(0.7)
    at.run()
    captions = [c for img in at.get("image") for c in img.captions]
    assert any("10 classes" in c and "× 4 latents" in c and "seed 3, ψ = 0.70" in c for c in captions)
    options = at.selectbox(key="ln_dir_k").options
    assert len(options) == 5 and all("% of variance" in o for o in options)
    at.selectbox(key="ln_dir_k").set_value(1)
    at.slider(key="ln_dir_amount").set_value(1.5)
    at.selectbox(key="ln_dir_class").set_value(3)
    at.run()
    captions = [c for img in at.get("image") for c in img.captions]
    assert "class 3, direction #2 at +1.50 σ" in captions
    from gan_core import load_checkpoint
    from gan_core.explore.directions import effect_summary, find_directions, measure_directions
    gan = load_checkpoint(SHIPPED / "mnist-cgan")
    effect = measure_directions(gan, find_directions(gan, k=5, n_samples=1000, seed=0))
    text = " ".join(c.value for c in at.caption)
    assert effect_summary(effect, "#") in text, "the page shows what it measured for 'watch the digit change'"
    assert effect.along[0] > 0.07 and effect.ratios[0] > 2.5, "and the first direction visibly changes the digit"


def test_conditional_section_names_the_model_on_the_page(learn_app):
    """§5 names the shipped mnist-cgan's architecture as its checkpoint records it (cgan-mlp-proj: a projection
    discriminator), not another model's."""
    require((SHIPPED / "mnist-cgan.safetensors").is_file(), f"shipped mnist-cgan in {SHIPPED}")
    from gan_core.io.checkpoint import read_meta
    model = read_meta(SHIPPED / "mnist-cgan.json")["model"]
    text = " ".join(m.value for m in learn_app.markdown)
    assert f"is `{model}`" in text
    assert ("projection discriminator" in text) == model.endswith("-proj")
    assert not re.search(r"`cgan-mlp`", text) or model == "cgan-mlp"


def test_class_z_grid_shares_z_down_columns():
    require((SHIPPED / "mnist-cgan.safetensors").is_file(), f"shipped mnist-cgan in {SHIPPED}")
    from app_pages.learn import models as lm
    from gan_core import load_checkpoint, sample_latents

    gan = load_checkpoint(SHIPPED / "mnist-cgan")
    images, names = lm.class_z_grid(gan, 3, seed=5)
    assert images.shape == (30, 1, 28, 28) and names == [str(i) for i in range(10)]
    z = sample_latents(3, gan.z_dim, seed=5)
    assert torch.allclose(images[7 * 3 + 1], gan.generate(z[1:2], torch.tensor([7]))[0], atol=1e-5)
    assert not torch.allclose(images[1], images[3 + 1])  # another class, same z: another image
    from gan_core.explore.directions import find_directions
    directions = find_directions(gan, k=3, n_samples=200)
    sweep = lm.direction_sweep(gan, directions, 1, [-2.0, 0.0, 2.0], seed=0, label=4)
    assert sweep.shape == (3, 1, 28, 28) and not torch.allclose(sweep[0], sweep[2])
    z = sample_latents(1, gan.z_dim, seed=0)
    assert torch.allclose(sweep[1], gan.generate(z, torch.tensor([4]))[0], atol=1e-5)  # amount 0 = the start z


def test_mode_collapse_example_counts_modes_of_the_shipped_toys(learn_app):
    require((SHIPPED / "ring8-collapsed.safetensors").is_file(), f"shipped ring8 models in {SHIPPED}")
    from gan_core import load_checkpoint
    from gan_core.data.datasets import toy_modes
    from gan_core.eval.metrics import toy_mode_metrics

    captions = [c for img in learn_app.get("image") for c in img.captions]
    modes, std = toy_modes("ring8")
    for name in ("ring8", "ring8-collapsed"):
        gan = load_checkpoint(SHIPPED / name)
        pts = gan.generate(torch.randn(1000, gan.z_dim, generator=torch.Generator().manual_seed(0)))
        stats = toy_mode_metrics(pts, modes, std)
        assert f"shipped {name}: {stats['modes_covered']} of 8 modes covered, " \
               f"{100 * stats['high_quality']:.0f}% of points" in " ".join(captions)
    assert any("shipped ring8: 8 of 8" in c for c in captions)
    from gan_core.eval.metrics import MODES_COVERED_RULE
    assert any(c.value.startswith(MODES_COVERED_RULE) for c in learn_app.caption), "it says how modes are counted"
