"""Explore: touch the latent space of a trained GAN. Widgets here; computation beside it (compute.py, cache.py,
points.py) and in gan_core."""
import logging
import time
from functools import partial

import streamlit as st
import torch

from app_pages.explore import browser_view as bv
from app_pages.explore import compute as ec
from app_pages.explore import render_mode
from app_pages.explore import widgets as ew
from app_pages.explore.cache import (
    NEIGHBOUR_DATASETS,
    direction_effect_for,
    directions_for,
    grid_columns,
    keep_heap_frozen,
    neighbour_index,
)
from app_pages.explore.points import mode_centres, points_chart
from app_shared import models as shared_models
from app_shared.cpu_turns import cpu_turn
from gan_core.eval.neighbours import nearest
from gan_core.explore.directions import effect_summary
from gan_core.io.images import gif_bytes, grid, png_bytes

logger = logging.getLogger("app_pages.explore.page")  # a page script runs as __main__

ss = st.session_state

EXPLAIN = {
    "z": "A GAN's generator turns a vector **z** of random numbers (drawn from a normal distribution) into an "
         "image. The **seed** picks which random numbers. Every slider is one entry of z: move it and watch "
         "which features of the image change. Most single entries mean nothing you could name — the "
         "*directions* tab finds axes that usually do.",
    "truncation": "**Truncation ψ** multiplies z by ψ. Values below 1 pull z toward the centre of the "
                  "distribution, where the generator saw the most training examples: images get cleaner but "
                  "more alike. ψ = 0 gives the one 'average' image; ψ > 1 gives more variety and more errors.",
    "slerp": "**Linear** interpolation (lerp) walks the straight line between two z. In many dimensions almost "
             "all of a normal distribution's mass lies near a sphere, and the straight line cuts through the "
             "empty middle, so midpoints look washed out. **Spherical** interpolation (slerp) walks along the "
             "sphere and keeps every frame typical.",
    "directions": "**Directions** (GANSpace, Härkönen et al. 2020): we render 1000 random z, record one of the "
                  "generator's early layers (within each class, for a conditional model), and find its "
                  "principal components — the axes along which its features vary most. Each is mapped back to "
                  "a direction in z. Moving along the first few often changes one visible property "
                  "(thickness, slant, width). The line below measures how much each one changes the image.",
    "dx": "**D(x)** is the discriminator's probability that the image is real. During training it is the "
          "generator's opponent; at the end of a balanced run it says about 0.5 for everything, so read it as "
          "a curiosity, not a quality score.",
    "memorisation": "Does the GAN just copy training images? The nearest training images are found in the "
                    "feature space of the project's own digit/clothing classifier. A copy would sit at distance "
                    "≈ 0; a new image is about as far from its nearest training image as real images are from "
                    "each other.",
}

st.title("Explore a GAN's latent space")
models = shared_models.available_models()
if not models:
    st.info("No models yet: the shipped models are missing from `pretrained/`. Train one on the Train page, "
            "or upload a `.safetensors` + `.json` pair below.")
if models:
    ew.init_from_url(models)

top = st.columns([2, 3])
with top[1].expander("Upload a model (.safetensors + .json)"):
    # no type= filter: the browser would refuse other files with only an icon; on_upload says what is wrong
    st.file_uploader("Checkpoint files", accept_multiple_files=True, key="ex_upload", on_change=ew.on_upload,
                     help="Both files of a checkpoint written by gan_core (NAME.safetensors and NAME.json). "
                          "Pickle files (.pt, .pth, .ckpt) are refused: loading them can run code.")
    kind_msg = ss.get("ex_upload_msg")
    if kind_msg:
        (st.error if kind_msg[0] == "error" else st.success)(kind_msg[1])
if not models:
    st.stop()

top[0].selectbox("Model", list(models), key="ex_model", on_change=ew.on_model_change,
                 help="Shipped models first, then checkpoints saved or uploaded in this session.")
for notice in ss.get("ex_notices", []):
    st.warning(notice)

try:
    gan = shared_models.load_model(models[ss.ex_model])
except Exception as exc:  # a damaged session checkpoint: say so, keep the page alive
    logger.warning("could not load model %r from %s", ss.ex_model, models[ss.ex_model], exc_info=True)
    st.error(f"Could not load {ss.ex_model}: {exc}")
    st.stop()
directions = directions_for(gan)
ss.ex_full_run = True  # until interpolation() ends this run: the fragments inside need not rerun the page
keep_heap_frozen()  # after the heavy imports and the model: keeps Streamlit's per-run gc.collect cheap


TABS = ["Latent z", "Directions (GANSpace)"]


def explain(label: str, topic: str) -> None:
    """A collapsed help expander whose text is sent only once it is opened (one message less per move)."""
    box = st.expander(label, key=f"ex_help_{topic}", on_change="rerun")
    if box.open:
        box.markdown(EXPLAIN[topic])


def draw_latent_controls() -> None:
    z_dim = gan.z_dim
    base = ec.base_latent(gan, ss.ex_seed)
    dims = list(range(min(16, z_dim)))
    if z_dim > 16:
        # the picker lives in a lazy tab: Streamlit drops its value while the tab is closed, ex_dims_kept keeps it
        ss.setdefault("ex_dims", ss.get("ex_dims_kept", dims))
        dims = st.multiselect(f"Dimensions to show (z has {z_dim})", list(range(z_dim)), max_selections=16,
                              key="ex_dims", format_func=lambda i: f"z[{i}]")
        ss.ex_dims_kept = list(dims)
    frozen = float(ss.ex_trunc) == 0.0  # psi * z = 0 whatever z is
    if frozen:
        st.caption(ew.PSI_ZERO_HINT)
    cols = st.columns(2)
    for n, i in enumerate(dims):
        key = f"ex_z_{i}"
        start = ew.slider_value(key, ss.ex_over.get(i, float(base[i])))
        value = cols[n % 2].slider(f"z[{i}]", -ec.Z_LIMIT, ec.Z_LIMIT, start, step=0.01, key=key, disabled=frozen)
        if abs(value - float(base[i])) > 1e-6:
            ss.ex_over[i] = float(value)
        else:
            ss.ex_over.pop(i, None)


def draw_direction_controls() -> None:
    st.caption(effect_summary(direction_effect_for(gan)))
    for k in range(len(directions)):
        key = f"ex_dir_{k}"
        start = ew.slider_value(key, ss.ex_dirs.get(k, 0.0))
        ss.ex_dirs[k] = st.slider(
            f"PC{k + 1}", -ec.DIR_LIMIT, ec.DIR_LIMIT, start, step=0.1, key=key,
            help=f"Principal component {k + 1}: {100 * float(directions.explained[k]):.1f}% of the (within-class) "
                 f"variance of the generator's layer {directions.layer}. Values are in standard deviations.")


# Download buttons get callables: PNGs and GIFs are encoded when clicked, not on every slider move.
def draw_sample(z_eff: torch.Tensor, cls: int | None) -> None:
    """The sample, D(x) and its download. Few elements on purpose: each one is a message on every move."""
    start = time.perf_counter()
    x = ec.generate_one(gan, z_eff, cls)
    ms = (time.perf_counter() - start) * 1000
    if gan.kind == "points":
        cloud = ec.point_cloud(gan, seed=0, truncation=float(ss.ex_trunc))
        st.altair_chart(points_chart(cloud, x.numpy(), mode_centres(gan.meta.get("dataset"))))
        st.caption(f"sample: this z gives the point ({x[0, 0]:.2f}, {x[0, 1]:.2f})")
        picture = None
    else:
        picture = ec.image_array(x, ec.IMAGE_SCALE)
        name = f" — {gan.class_names[cls]}" if cls is not None and gan.class_names else ""
        st.image(picture, caption=f"sample{name}")
    ss.ex_current = {"z": z_eff, "cls": cls, "x": x}
    p = ec.verdict(gan, x, cls)
    timing = f"generated in {ms:.2f} ms on {gan.device.type.upper()}"
    if p is not None:
        st.metric("D(x)", f"{p:.2f}", help=EXPLAIN["dx"])
    words = "" if p is None else ec.verdict_words(p)
    st.caption(timing if p is None else f"{words[:1].upper()}{words[1:]}. Sample {timing}.")
    if picture is not None:
        st.download_button("Download image (PNG)", partial(png_bytes, picture),
                           file_name=f"{gan.name}-seed{ss.ex_seed}.png", mime="image/png", on_click="ignore",
                           key="ex_dl_image")


def draw_class_grid(z_eff: torch.Tensor) -> None:
    box = st.expander("Class × sample grid: the same z for every class", expanded=True, key="ex_grid_open",
                      on_change="rerun")
    if not box.open:  # lazy: a collapsed grid is neither generated nor sent
        return
    with box:
        cg = ec.class_grid(gan, z_eff, ss.ex_seed, float(ss.ex_trunc),
                           others=grid_columns(gan, int(ss.ex_seed), float(ss.ex_trunc)))
        st.image(cg.image, caption="class × sample grid. Rows are classes; each column keeps one z (the first is the "
                                   "sample above, the others the next seeds): along a column the content changes "
                                   "and the style stays.")
        st.download_button("Download grid (PNG)", partial(png_bytes, cg.image), file_name=f"{gan.name}-grid.png",
                           mime="image/png", on_click="ignore", key="ex_dl_grid")


def draw_memorisation() -> None:
    dataset = gan.meta.get("dataset")
    box = st.expander("Memorisation check: nearest training images", key="ex_mem_open", on_change="rerun")
    if not box.open:  # lazy: nothing inside is built or sent while it is closed
        return
    with box:
        st.caption(EXPLAIN["memorisation"])
        if gan.kind != "image" or dataset not in NEIGHBOUR_DATASETS:
            st.info(f"Available for MNIST and Fashion-MNIST models; this one was trained on {dataset!r}.")
            return
        if not st.toggle("Show the nearest training images", key="ex_nn"):
            return
        try:
            with st.spinner(f"Indexing the {dataset} training images (once per server)…"):
                index, typical = neighbour_index(dataset)
        except Exception as exc:  # data or classifier missing: say so
            logger.warning("memorisation check for %s unavailable", dataset, exc_info=True)
            st.error(f"Cannot run the memorisation check: the {dataset} training images or the project's "
                     f"classifier could not be read on this server ({type(exc).__name__}). The server log has "
                     "the details; the rest of the page works without it.")
            return
        idx, dist = nearest(index, ss.ex_current["x"], k=5)
        st.image(grid(index.images[idx[0]], nrow=5, scale=3), caption="nearest training images, closest first")
        st.caption(f"Distances in {index.space}: " + ", ".join(f"{d:.2f}" for d in dist[0].tolist())
                   + f". For comparison, a real training image's nearest other training image is typically "
                     f"{typical:.2f} away." + (f" ({index.note})" if index.note else ""))


@st.fragment
def explorer() -> None:
    """Seed, class and truncation: a change here reruns this area, the latent view inside it included."""
    top = st.columns([5, 3, 4], vertical_alignment="bottom")
    row = top[0].container(horizontal=True, vertical_alignment="bottom")
    if ss.get("ex_seed_text") != str(ss.ex_seed):  # the box shows the seed in use (also after another page's run)
        ss.ex_seed_text = str(ss.ex_seed)
    row.text_input("Seed", key="ex_seed_text", on_change=ew.on_seed_text, help=ew.SEED_HELP, width=150)
    row.button("Random", icon=":material/casino:", on_click=ew.on_random, key="ex_random")
    row.button("Reset", icon=":material/restart_alt:", on_click=ew.on_reset, key="ex_reset",
               help="Back to this seed's own sample: undo slider moves, directions and truncation.")
    if gan.num_classes:
        names = gan.class_names or [str(i) for i in range(gan.num_classes)]
        top[1].selectbox("Class", list(range(gan.num_classes)), key="ex_class",
                         format_func=lambda i: f"{i}: {names[i]}" if names[i] != str(i) else names[i])
    top[2].slider("Truncation ψ", *ec.TRUNC_RANGE, step=0.05, key="ex_trunc", help=EXPLAIN["truncation"])
    if ss.get("ex_seed_msg"):
        st.error(ss.ex_seed_msg)
    latent_view()


@st.fragment
def latent_view() -> None:
    """Sliders, sample, D(x), class grid: a latent or direction move reruns only this (fewer messages per move)."""
    cls = int(ss.ex_class) if gan.num_classes else None
    left, right = st.columns([3, 2])
    with cpu_turn():  # a move's ~20 ms of work: simultaneous moves take turns (app_shared/cpu_turns.py)
        ew.take_slider_values(ec.base_latent(gan, ss.ex_seed).tolist(), len(directions))
        z = ec.current_latent(gan, ss.ex_seed, ss.ex_over)
        z_eff = ec.effective_latent(z, float(ss.ex_trunc), directions, ss.ex_dirs)
        with right:  # the sample first: its message leaves before the sliders' (the browser fetches it sooner)
            draw_sample(z_eff, cls)
        with left:
            # Lazy tabs and help expanders: only what is open is built, so a move re-sends 16 sliders, not 24
            tab_z, tab_dir = st.tabs(TABS, key="ex_tab", on_change="rerun")
            with tab_z:
                if tab_z.open:
                    explain("What is z?", "z")
                    draw_latent_controls()
            with tab_dir:
                if tab_dir.open:
                    explain("What are these directions?", "directions")
                    draw_direction_controls()
        if gan.num_classes:
            draw_class_grid(z_eff)
    draw_memorisation()  # outside the turn: building its index can take seconds
    ew.sync_query(gan)
    if not ss.get("ex_full_run") and ss.get("ex_strip_inputs") not in (None, strip_inputs()):
        st.rerun(scope="app")  # a fragment run: the interpolation strip (another fragment) shows old inputs


def strip_inputs() -> tuple:
    """What the interpolation strip depends on outside its own widgets: class and ψ, or the sample's z."""
    if ss.get("ex_int_mode") == "two classes" and "ex_current" in ss:
        return ("classes", tuple(ss.ex_current["z"].tolist()))
    return ("seeds", int(ss.get("ex_class", 0) or 0), float(ss.ex_trunc))


@st.fragment
def interpolation() -> None:
    """Frames between two seeds or two classes, as a strip and an animated GIF."""
    st.subheader("Interpolation")
    with st.expander("Why slerp?"):
        st.markdown(EXPLAIN["slerp"])
    modes = ["two seeds"] + (["two classes"] if gan.num_classes else [])
    cols = st.columns(4)
    mode = cols[0].radio("Between", modes, key="ex_int_mode", horizontal=True)
    steps = cols[3].slider("Frames", 3, 16, 8, key="ex_int_steps")
    cls = int(ss.get("ex_class", 0)) if gan.num_classes else None
    if mode == "two seeds":
        ss.setdefault("ex_int_a", int(ss.ex_seed))
        ss.setdefault("ex_int_b", min(int(ss.ex_seed) + 1, ec.SEED_MAX))
        a = cols[1].number_input("Seed A", 0, ec.SEED_MAX, step=1, key="ex_int_a")
        b = cols[2].number_input("Seed B", 0, ec.SEED_MAX, step=1, key="ex_int_b")
        method = st.radio("Method", ["slerp", "lerp"], key="ex_int_method", horizontal=True)
        frames = ec.seed_frames(gan, int(a), int(b), cls, float(ss.ex_trunc), steps, method)
        in_class = f", class {gan.class_names[cls] if gan.class_names else cls}" if cls is not None else ""
        label = (f"seed {int(a)} → seed {int(b)} ({method}){in_class}, ψ = {float(ss.ex_trunc):.2f}. The z sliders "
                 "and directions edit only the sample above, not these two seeds.")
    else:
        names, k = gan.class_names, gan.num_classes
        ss.setdefault("ex_int_ca", cls)  # from the current class to the next one
        ss.setdefault("ex_int_cb", (cls + 1) % k)
        a = cols[1].selectbox("Class A", list(range(k)), key="ex_int_ca", format_func=names.__getitem__)
        b = cols[2].selectbox("Class B", list(range(k)), key="ex_int_cb", format_func=names.__getitem__)
        st.caption("The class embedding is blended linearly while z stays the current sample's.")
        frames = ec.class_frames(gan, ss.ex_current["z"], int(a), int(b), steps)
        label = (f"{names[int(a)]} → {names[int(b)]}, with the sample's z (seed {int(ss.ex_seed)}, "
                 f"ψ = {float(ss.ex_trunc):.2f}, slider and direction moves included)")
    ss.ex_strip_inputs, ss.ex_full_run = strip_inputs(), False
    if gan.kind == "points":
        cloud = ec.point_cloud(gan, seed=0, truncation=float(ss.ex_trunc))
        st.altair_chart(points_chart(cloud, modes=mode_centres(gan.meta.get("dataset")), path=frames.numpy()))
        return
    picture = ec.strip(frames)
    st.image(picture, caption=f"interpolation: {label}")
    gif = partial(gif_bytes, ec.gif_frames(frames), fps=8)  # encoded on click, not on every slider move
    dl = st.columns(3)
    dl[0].download_button("Download GIF", gif, file_name=f"{gan.name}-interpolation.gif", mime="image/gif",
                          on_click="ignore", key="ex_dl_gif")
    dl[1].download_button("Download strip (PNG)", partial(png_bytes, picture), file_name=f"{gan.name}-strip.png",
                          mime="image/png", on_click="ignore", key="ex_dl_strip")
    if dl[2].toggle("Play as animation", key="ex_int_play"):
        st.image(gif(), caption="animated interpolation")


def after_browser_move() -> None:
    """Below the in-browser view, for the state it last sent: the memorisation check and the link."""
    draw_memorisation()
    ew.sync_query(gan)


# The generator runs in the browser unless the link says ?render=server or it cannot (explore/render_mode.py)
browser_file = bv.prepare(gan) if render_mode.mode() == render_mode.BROWSER else None
if browser_file is not None:
    bv.show(gan, directions, browser_file, extras=after_browser_move)
    box = st.expander("How much do the directions change the image?", key="ex_help_effect", on_change="rerun")
    if box.open:  # lazy: measuring a DCGAN's directions takes about a second, once per model
        box.caption(effect_summary(direction_effect_for(gan)))
else:
    if render_mode.notice():
        st.info(render_mode.notice())
    explorer()
    st.divider()
    interpolation()
st.caption(ew.share_caption(ss.ex_model))
