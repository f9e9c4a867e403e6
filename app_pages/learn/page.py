"""Learn: a short, interactive lesson on GANs; every widget computes its numbers live from gan_core."""

import streamlit as st

from app_pages.learn import charts
from app_pages.learn import models as lm
from app_shared.training_ui.preset_pages import preset_link
from gan_core.explore.directions import effect_summary
from gan_core.teach import lesson
from gan_core.teach.presets import PRESETS

P = "ln_"


@st.cache_data(show_spinner=False, max_entries=64)
def toy_runs(lr: float, steps: int, loss: str, betas: tuple[float, ...]) -> dict[str, lesson.ToyRun]:
    return {f"β1 = {b}": lesson.train_toy_1d(steps=steps, lr=lr, beta1=b, loss=loss) for b in betas}


st.title("Learn: how GANs work")
st.caption("Six short sections. Every plot and number below is computed live as you move the controls.")

# ------------------------------------------------------------------ 1
st.header("1 · Two players and the optimal discriminator")
st.markdown("A **generator** G turns noise z into samples G(z); a **discriminator** D outputs the probability that "
            "its input is real. They play a minimax game (Goodfellow et al. 2014, *Generative Adversarial Nets*):")
st.latex(r"\min_G \max_D \; V(D,G) = \mathbb{E}_{x\sim p_\mathrm{data}}[\log D(x)] + "
         r"\mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))]")
st.markdown("For a fixed G, the best discriminator and the value it reaches are")
st.latex(r"D^*(x) = \frac{p_\mathrm{data}(x)}{p_\mathrm{data}(x) + p_g(x)}, \qquad "
         r"V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\mathrm{data} \,\|\, p_g)")
st.markdown("so G, facing the best D, minimises the Jensen–Shannon divergence; the minimum −log 4 ≈ −1.386 is "
            "reached only when p_g = p_data (then D* = ½ everywhere). Below, p_data = ½ N(−2, 0.6²) + ½ N(2, 0.6²) "
            "and p_g is a Gaussian you control; the integrals are computed on a fine grid.")
c1, c2, c3 = st.columns(3)
g_mean = c1.slider("Generator mean", -4.0, 4.0, 0.0, 0.1, key=P + "g_mean")
g_std = c2.slider("Generator std", 0.2, 3.0, 1.0, 0.05, key=P + "g_std")
at_x = c3.slider("Look at x =", -5.0, 5.0, 1.0, 0.1, key=P + "at_x")
report = lesson.optimum_report(g_mean, g_std, at_x)
m = st.columns(5)
m[0].metric("p_data(x)", f"{report.p_data_at_x:.4f}")
m[1].metric("p_g(x)", f"{report.p_g_at_x:.4f}")
m[2].metric("D*(x)", f"{report.d_star_at_x:.4f}")
m[3].metric("V(D*, G)", f"{report.value:.4f}")
m[4].metric("−log 4 + 2·JSD", f"{report.value_from_jsd:.4f}", help=f"JSD = {report.jsd:.4f} nats (at most log 2)")
st.altair_chart(charts.densities_chart(report), width="stretch")
drop, smear = lesson.optimum_report(2.0, 0.6).value, lesson.optimum_report(0.0, 2.05).value
st.caption(f"A single Gaussian cannot match two modes. Mean 2, std 0.6 drops a mode (V = {drop:.3f}); mean 0, "
           f"std 2.05 covers both thinly (V = {smear:.3f}, the best a Gaussian does here). Neither reaches −log 4.")

# ------------------------------------------------------------------ 2
st.header("2 · Why the non-saturating generator loss")
st.markdown("Early in training D easily rejects fakes, so D(G(z)) ≈ 0. The minimax generator loss log(1 − D(G(z))) "
            "is flat there: its gradient through D's logit is −D(G(z)) → 0, and G learns almost nothing. "
            "Goodfellow et al. (2014) therefore train G to minimise −log D(G(z)) instead — the same fixed point, "
            "but its gradient −(1 − D(G(z))) is largest exactly when G is worst.")
d_at = st.slider("D(G(z))", 0.001, 0.999, 0.05, 0.001, key=P + "d_at", format="%.3f")
g = lesson.generator_losses(d_at)
m = st.columns(4)
m[0].metric("minimax loss", f"{float(g['minimax']):.4f}")
m[1].metric("minimax gradient (logit)", f"{float(g['minimax_grad_logit']):.4f}")
m[2].metric("non-saturating loss", f"{float(g['nonsaturating']):.4f}")
m[3].metric("non-saturating gradient (logit)", f"{float(g['nonsaturating_grad_logit']):.4f}")
st.altair_chart(charts.losses_chart(d_at), width="content")
st.markdown(f"See it train: {preset_link('ring8-minimax-collapse')} vs {preset_link('ring8-nonsaturating')} in the "
            f"2-D playground, or {preset_link('show-mode-collapse')} vs {preset_link('nonsaturating-ring8')} on the "
            "Train page (the collapse presets also give G a 100× faster learning rate than D).")

# ------------------------------------------------------------------ 3
st.header("3 · Training dynamics: alternating updates and Adam")
st.markdown("Each training step alternates: **(1)** one step of D up the gradient of V on a real batch and a fake "
            "batch (G fixed), then **(2)** one step of G on its loss with D fixed. Neither player ever reaches its "
            "optimum; they chase each other. DCGAN (Radford et al. 2015) set the defaults most GANs still use: "
            "Adam (Kingma & Ba 2014) with **lr = 2e-4** (they found 1e-3 too high) and **β1 = 0.5** instead of 0.9 "
            "(0.9 made training oscillate and become unstable). A common explanation: the game's gradient field "
            "rotates, and heavy momentum keeps pushing in an outdated direction and overshoots. Later GANs often "
            "drop momentum altogether (β1 = 0 in WGAN-GP and StyleGAN2; Gidel et al. 2019 show that positive "
            "momentum can hurt in games): "
            f"{preset_link('ring8-nonsaturating')} and {preset_link('ring8-r1')} use β1 = 0, and with β1 = 0.5 "
            "the non-saturating ring left a mode empty on two of ten seeds.")
st.markdown("Live: a 1-D GAN — G(z) = μ + σz against D(x) = sigmoid(a x² + b x + c) — trained from μ = −2, σ = 1 "
            "toward data N(2, 0.5²) with alternating updates. This toy needs a larger learning rate than an image "
            "GAN; compare the momentum settings.")
c1, c2, c3 = st.columns(3)
toy_lr = c1.select_slider("Learning rate", [0.005, 0.01, 0.02, 0.05, 0.1], value=0.02, key=P + "toy_lr")
toy_steps = c2.slider("Steps", 50, 400, 200, 50, key=P + "toy_steps")
toy_loss = c3.radio("Generator loss", ["nonsaturating", "minimax"], horizontal=True, key=P + "toy_loss")
betas = tuple(st.multiselect("Adam β1 to compare", [0.0, 0.5, 0.9], default=[0.5, 0.9], key=P + "toy_betas"))
if betas:
    runs = toy_runs(toy_lr, toy_steps, toy_loss, betas)
    st.altair_chart(charts.toy_chart(runs), width="stretch")
    st.dataframe([{"run": label, "final μ": round(float(r.mu[-1]), 3), "final σ": round(float(r.sigma[-1]), 3),
                   "|μ − 2|": round(r.final_mean_error, 3), "|σ − 0.5|": round(r.final_std_error, 3),
                   "D(x) real": round(float(r.d_real[-1]), 3), "D(G(z)) fake": round(float(r.d_fake[-1]), 3)}
                  for label, r in runs.items()], hide_index=True)
    st.caption("At the equilibrium D(x) and D(G(z)) both approach 0.5.")
else:
    st.info("Pick at least one β1.")

# ------------------------------------------------------------------ 4
st.header("4 · Mode collapse and what fixes it")
st.markdown("When G finds a few outputs that fool the current D, it can put all its mass there (section 1's "
            "\"one mode\" setting); D then learns to reject them, G hops to another mode, and the cycle repeats. "
            "The 8-Gaussian ring makes this visible.")
FIXES = {
    "Non-saturating loss (Goodfellow et al. 2014)": ("ring8-nonsaturating", "Strong gradients while D wins."),
    "Wasserstein loss + gradient penalty (Arjovsky et al. 2017; Gulrajani et al. 2017)":
        ("ring8-wgan-gp", "A critic with useful gradients everywhere, not just near the data."),
    "Least-squares loss (Mao et al. 2017)": ("spiral-lsgan", "Penalises fakes by their distance from the boundary."),
    "R1 gradient penalty (Mescheder et al. 2018)": ("ring8-r1", "Keeps D smooth around real data."),
    "One-sided label smoothing (Salimans et al. 2016)": ("ring8-label-smoothing", "A less over-confident D."),
}
fix = st.selectbox("A fix to try", list(FIXES), key=P + "fix")
slug, why = FIXES[fix]
st.markdown(f"{why} Open **{preset_link(slug)}** and compare with the collapse: "
            f"**{preset_link('ring8-minimax-collapse')}**.")
st.caption(f"Preset: {PRESETS[slug].description}")
st.markdown("Also in the literature, not as presets here: minibatch discrimination (Salimans et al. 2016, "
            "*Improved Techniques for Training GANs*) lets D compare samples within a batch, so a batch of "
            "identical fakes is easy to spot; unrolled GANs (Metz et al. 2016) let G anticipate D's next steps; "
            "DiffAugment (Zhao et al. 2020) augments real and fake images alike so D cannot memorise a small "
            "dataset — it acts on images, so try it on the Train page (augmentation option), not on 2-D points.")
ring, collapsed = lm.shipped_model("ring8"), lm.shipped_model("ring8-collapsed")
if ring is not None and collapsed is not None:
    import torch

    from gan_core.data.datasets import sample_toy, toy_modes
    from gan_core.eval.metrics import MODES_COVERED_RULE, toy_mode_metrics
    from gan_core.io.images import points_png

    modes, std = toy_modes("ring8")
    real_pts = sample_toy("ring8", 500, generator=torch.Generator().manual_seed(1))
    cols = st.columns(2)
    for col, model, title in ((cols[0], ring, "shipped ring8"), (cols[1], collapsed, "shipped ring8-collapsed")):
        pts = model.generate(torch.randn(1000, model.z_dim, generator=torch.Generator().manual_seed(0)))
        stats = toy_mode_metrics(pts, modes, std)
        col.image(points_png(pts, real=real_pts, limit=3.0), output_format="PNG",
                  caption=f"{title}: {stats['modes_covered']} of 8 modes covered, "
                          f"{100 * stats['high_quality']:.0f}% of points within 4 std of a mode")
    st.caption(MODES_COVERED_RULE + " The same rule counts modes on the Train page and in the 2-D playground.")

# ------------------------------------------------------------------ 5
st.header("5 · Conditional GANs")
st.markdown("Mirza & Osindero (2014, *Conditional Generative Adversarial Nets*) give both players the class label "
            "y: G(z, y) must produce a sample of class y, and D(x, y) judges whether x is a real example *of class y*. "
            "Below, each row is a class and each column one z: the label picks *what*, z picks *how* "
            "(slant, thickness, style).")
cgan = lm.shipped_model("mnist-cgan")
if cgan is not None:
    st.markdown(lm.conditioning_text("mnist-cgan", cgan.meta["model"]))
if cgan is None:
    st.info(f"The shipped model mnist-cgan is not in pretrained/. Train one with `{lm.RETRAIN}`.")
else:
    c1, c2, c3 = st.columns(3)
    columns = c1.slider("z columns", 2, 10, 6, key=P + "cz_cols")
    cz_seed = int(c2.number_input("Seed", 0, 10_000, 0, key=P + "cz_seed"))
    cz_trunc = c3.slider("Truncation ψ", 0.1, 1.5, 1.0, 0.05, key=P + "cz_trunc",
                         help="Scale z toward 0: less variety, more typical samples")
    images, names = lm.class_z_grid(cgan, columns, cz_seed, cz_trunc)
    st.image(lm.grid_image(images, columns, scale=2),
             caption=f"mnist-cgan: {len(names)} classes (rows 0–9) × {columns} latents (columns), seed {cz_seed}, "
                     f"ψ = {cz_trunc:.2f}")

# ------------------------------------------------------------------ 6
st.header("6 · Where the field went")
st.markdown("- **Progressive growing** (Karras et al. 2017, *Progressive Growing of GANs*): train at 4×4, then add "
            "layers up to 1024×1024 — stable high-resolution training. Watch it on MNIST: "
            f"{preset_link('progressive-mnist')} on the Train page grows 7×7 → 14×14 → 28×28, charts the resolution "
            "and fade-in α, and keeps a sample grid of each stage.\n"
            "- **Controllability**: StyleGAN (Karras et al. 2019, *A Style-Based Generator Architecture for GANs*) "
            "maps z to an intermediate w that modulates every layer, separating coarse (pose) from fine (texture) "
            "attributes.\n"
            "- **Interpretability**: GANSpace (Härkönen et al. 2020) finds meaningful edit directions as the "
            "principal components of the latent space.\n\n"
            "Live: move the conditional model's z along one of its GANSpace directions and watch the digit change.")
if cgan is not None:
    directions = lm.ganspace_directions(cgan, cgan.content_hash)
    c1, c2, c3 = st.columns(3)
    k = c1.selectbox("GANSpace direction", list(range(len(directions))), key=P + "dir_k",
                     format_func=lambda i: f"#{i + 1} ({100 * float(directions.explained[i]):.1f}% of variance)")
    digit = c2.selectbox("Class", list(range(cgan.num_classes or 1)), key=P + "dir_class",
                         format_func=lambda i: (cgan.class_names or [str(i)])[i])
    amount = c3.slider("Move along it (σ)", -3.0, 3.0, 0.0, 0.25, key=P + "dir_amount")
    values = [-3.0, -1.5, 0.0, 1.5, 3.0]
    strip = lm.direction_sweep(cgan, directions, k, values + [amount], seed=7, label=digit)
    class_name = (cgan.class_names or [str(digit)])[digit]
    st.image(lm.grid_image(strip[-1:], 1, scale=5),
             caption=f"class {class_name}, direction #{k + 1} at {amount:+.2f} σ")
    st.image(lm.grid_image(strip[:-1], len(values), scale=3),
             caption=f"direction #{k + 1} at {', '.join(f'{v:+.1f}' for v in values)} σ")
    st.caption("Directions are the principal components of one of the generator's early layers over 1000 samples "
               "(within each class), mapped back to z (gan_core.explore.directions) — found without any labels, "
               "named only by looking. " + effect_summary(lm.ganspace_effect(cgan, cgan.content_hash), "#"))
else:
    st.info("The live example needs the shipped mnist-cgan model.")

# ------------------------------------------------------------------ refs
with st.expander("References (original papers)"):
    st.markdown("""
- Goodfellow et al. 2014, *Generative Adversarial Nets* — the minimax game, D*, the non-saturating loss.
- Mirza & Osindero 2014, *Conditional Generative Adversarial Nets*.
- Kingma & Ba 2014, *Adam: A Method for Stochastic Optimization*.
- Radford et al. 2015, *Unsupervised Representation Learning with Deep Convolutional GANs* (DCGAN).
- Salimans et al. 2016, *Improved Techniques for Training GANs* (minibatch discrimination, label smoothing).
- Metz et al. 2016, *Unrolled Generative Adversarial Networks*.
- Arjovsky et al. 2017, *Wasserstein GAN*.
- Gulrajani et al. 2017, *Improved Training of Wasserstein GANs* (WGAN-GP).
- Mao et al. 2017, *Least Squares Generative Adversarial Networks* (LSGAN).
- Karras et al. 2017, *Progressive Growing of GANs for Improved Quality, Stability, and Variation*.
- Mescheder et al. 2018, *Which Training Methods for GANs do actually Converge?* (R1).
- Karras et al. 2019, *A Style-Based Generator Architecture for Generative Adversarial Networks* (StyleGAN).
- Härkönen et al. 2020, *GANSpace: Discovering Interpretable GAN Controls*.
- Zhao et al. 2020, *Differentiable Augmentation for Data-Efficient GAN Training* (DiffAugment).
""")
