"""Explore: touch the latent space of a trained GAN. Widgets here; computation beside it (compute.py, cache.py,
points.py, sample_view.py) and in gan_core. The page's state is one ExplorePage (state.py), passed to every
function that needs it; the generator runs in the browser (browser_view.py) unless it cannot or the link says
?render=server, and then this page's server path draws the sample and its sliders.
"""
import logging
import time

import streamlit as st

from app_pages.explore import browser_view as bv
from app_pages.explore import compute as ec
from app_pages.explore import projection_view as pv
from app_pages.explore import render_mode
from app_pages.explore import sample_view as sv
from app_pages.explore import widgets as ew
from app_pages.explore.cache import (
    NEIGHBOUR_DATASETS,
    direction_effect_for,
    directions_for,
    neighbour_index,
)
from app_pages.explore.points import mode_centres, points_chart
from app_pages.explore.state import ExplorePage, computed_view
from app_shared import models as shared_models
from gan_core import GAN
from gan_core.eval.neighbours import nearest
from gan_core.explore.directions import Directions, effect_summary
from gan_core.io.images import grid

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
    "directions": "**Directions** (GANSpace, Härkönen et al. 2020): we render 1000 random z, record one of the "
                  "generator's early layers (within each class, for a conditional model), and find its "
                  "principal components — the axes along which its features vary most. Each is mapped back to "
                  "a direction in z. Moving along the first few often changes one visible property "
                  "(thickness, slant, width). The line below measures how much each one changes the image.",
    "memorisation": "Does the GAN just copy training images? The nearest training images are found in the "
                    "feature space of the project's own digit/clothing classifier. A copy would sit at distance "
                    "≈ 0; a new image is about as far from its nearest training image as real images are from "
                    "each other.",
}
TABS = ["Latent z", "Directions (GANSpace)"]
SAMPLE_FRAGMENT = "ex_sample"  # the fragment a latent or direction slider reruns


def explain(label: str, topic: str) -> None:
    """A collapsed help expander whose text is sent only once it is opened (one message less per move)."""
    box = st.expander(label, key=f"ex_help_{topic}", on_change="rerun")
    if box.open:
        box.markdown(EXPLAIN[topic])


def draw_latent_controls(page: ExplorePage, gan: GAN) -> None:
    base = ew.base_latent(gan, page.view)
    dims = list(range(min(ew.SHOWN_DIMS, gan.z_dim)))
    if gan.z_dim > ew.SHOWN_DIMS:
        # the picker lives in a lazy tab: Streamlit drops its value while the tab is closed, page.dims keeps it
        ss.setdefault("ex_dims", page.dims or dims)
        dims = st.multiselect(f"Dimensions to show (z has {gan.z_dim})", list(range(gan.z_dim)),
                              max_selections=ew.SHOWN_DIMS, key="ex_dims", format_func=lambda i: f"z[{i}]")
        page.dims = list(dims)
    frozen = page.view.truncation == 0.0  # psi * z = 0 whatever z is
    if frozen:
        st.caption(ew.PSI_ZERO_HINT)
    cols = st.columns(2)
    for n, i in enumerate(dims):
        key = f"ex_z_{i}"
        start = ew.slider_value(key, page.view.z.get(i, float(base[i])))
        cols[n % 2].slider(f"z[{i}]", -ec.Z_LIMIT, ec.Z_LIMIT, start, step=0.01, key=key, disabled=frozen,
                           on_change=ew.on_latent_move, args=(SAMPLE_FRAGMENT,))


def draw_direction_controls(page: ExplorePage, gan: GAN, directions: Directions) -> None:
    st.caption(effect_summary(direction_effect_for(gan)))
    for k in range(len(directions)):
        key = f"ex_dir_{k}"
        start = ew.slider_value(key, page.view.dirs.get(k, 0.0))
        st.slider(f"PC{k + 1}", -ec.DIR_LIMIT, ec.DIR_LIMIT, start, step=0.1, key=key,
                  on_change=ew.on_latent_move, args=(SAMPLE_FRAGMENT,),
                  help=f"Principal component {k + 1}: {100 * float(directions.explained[k]):.1f}% of the "
                       f"(within-class) variance of the generator's layer {directions.layer}. Values are in "
                       "standard deviations.")


def draw_sample(page: ExplorePage, gan: GAN, directions: Directions) -> None:
    """The sample, D(x) and the downloads (sample_view.py, as on the browser path). Few elements on purpose:
    each one is a message on every move."""
    start = time.perf_counter()
    view = computed_view(page.view)  # a projected drawing's z is the base the edits apply to
    sample = page.sample = sv.compute_sample(gan, directions, view)
    note = f"Sample generated in {(time.perf_counter() - start) * 1000:.2f} ms on {gan.device.type.upper()}."
    x = sample.x
    if gan.kind == "points":
        cloud = ec.point_cloud(gan, seed=0, truncation=page.view.truncation)
        st.altair_chart(points_chart(cloud, x.numpy(), mode_centres(gan.meta.get("dataset"))))
        st.caption(f"sample: this z gives the point ({x[0, 0]:.2f}, {x[0, 1]:.2f})")
    else:
        name = f" — {gan.class_names[sample.cls]}" if sample.cls is not None and gan.class_names else ""
        around = " (around your drawing's z)" if page.view.base is not None else ""
        st.image(ec.image_array(x, ec.IMAGE_SCALE), caption=f"sample{name}{around}", output_format="PNG")  # exact
    sv.draw_verdict(sample, note)
    box = st.expander("Download the image, class grid, strip or animation", key="ex_dl_open", on_change="rerun")
    if box.open:  # lazy: four buttons less to send on every move while it is closed
        with box:
            sv.draw_downloads(gan, sample, view, page.interp)


def draw_memorisation(page: ExplorePage, gan: GAN) -> None:
    dataset = gan.meta.get("dataset")
    box = st.expander("Memorisation check: nearest training images", key="ex_mem_open", on_change="rerun")
    if not box.open:  # lazy: nothing inside is built or sent while it is closed
        return
    with box:
        st.caption(EXPLAIN["memorisation"])
        if gan.kind != "image" or dataset not in NEIGHBOUR_DATASETS:
            st.info(f"Available for models of the built-in image datasets ({', '.join(NEIGHBOUR_DATASETS)}); "
                    f"this one was trained on {dataset!r}.")
            return
        if not st.toggle("Show the nearest training images", key="ex_nn") or page.sample is None:
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
        idx, dist = nearest(index, page.sample.x, k=5)
        st.image(grid(index.images[idx[0]], nrow=5, scale=3), caption="nearest training images, closest first",
                 output_format="PNG")
        st.caption(f"Distances in {index.space}: " + ", ".join(f"{d:.2f}" for d in dist[0].tolist())
                   + f". For comparison, a real training image's nearest other training image is typically "
                     f"{typical:.2f} away." + (f" ({index.note})" if index.note else ""))


def below_the_sample(page: ExplorePage, gan: GAN) -> None:
    """On both paths, for the state last drawn: the memorisation check, and the link in the address bar."""
    draw_memorisation(page, gan)
    ew.sync_query(page, gan)


@st.fragment
def server_view(page: ExplorePage, gan: GAN, directions: Directions) -> None:
    """Seed, class and truncation: a change here reruns this area, the latent view inside it included.
    Above them, a projected picture's panel while the view starts from it (a new seed here removes it)."""
    pv.draw_result(page, gan)
    ew.show_view_in_widgets(page)
    top = st.columns([5, 3, 4], vertical_alignment="bottom")
    row = top[0].container(horizontal=True, vertical_alignment="bottom")
    row.text_input("Seed", key="ex_seed_text", on_change=ew.on_seed_text, args=(page,), help=ew.SEED_HELP,
                   width=150)
    row.button("Random", icon=":material/casino:", on_click=ew.on_random, args=(page,), key="ex_random")
    row.button("Reset", icon=":material/restart_alt:", on_click=ew.on_reset, args=(page,), key="ex_reset",
               help="Back to this seed's own sample: undo slider moves, directions and truncation.")
    if gan.num_classes:
        names = gan.class_names or [str(i) for i in range(gan.num_classes)]
        top[1].selectbox("Class", list(range(gan.num_classes)), key="ex_class", on_change=ew.on_class, args=(page,),
                         format_func=lambda i: f"{i}: {names[i]}" if names[i] != str(i) else names[i])
    top[2].slider("Truncation ψ", *ec.TRUNC_RANGE, step=0.05, key="ex_trunc", on_change=ew.on_trunc, args=(page,),
                  help=EXPLAIN["truncation"])
    latent_view(page, gan, directions)


@st.fragment
def latent_view(page: ExplorePage, gan: GAN, directions: Directions) -> None:
    """The sliders (left) and the sample (right). A tab, a help text or the dimension picker reruns this; a
    slider move reruns only the sample: the slider's on_change names the sample's fragment, so the sliders,
    which the browser already shows at their new values, are not sent again."""
    left, right = st.columns([3, 2])
    with right:
        sample_area(page, gan, directions)
    with left:
        # Lazy tabs and help expanders: only what is open is built and sent
        tab_z, tab_dir = st.tabs(TABS, key="ex_tab", on_change="rerun")
        with tab_z:
            if tab_z.open:
                explain("What is z?", "z")
                draw_latent_controls(page, gan)
        with tab_dir:
            if tab_dir.open:
                explain("What are these directions?", "directions")
                draw_direction_controls(page, gan, directions)


@st.fragment(key=SAMPLE_FRAGMENT)
def sample_area(page: ExplorePage, gan: GAN, directions: Directions) -> None:
    """What a slider move redraws: the sample, D(x), the downloads, the memorisation check and the link."""
    ew.take_slider_values(page, ew.base_latent(gan, page.view).tolist(), len(directions))
    message = ew.seed_error(page)  # a refused seed's message lasts until the student moves something
    if message:
        st.error(message)
    draw_sample(page, gan, directions)
    below_the_sample(page, gan)


st.title("Explore a GAN's latent space")
models = shared_models.available_models()
if not models:
    st.info("No models yet: the shipped models are missing from `pretrained/`. Train one on the Train page, "
            "or upload a `.safetensors` + `.json` pair below.")
page = ew.init_from_url(models)

top = st.columns([2, 3])
with top[1].expander("Upload a model (.safetensors + .json)"):
    # no type= filter: the browser would refuse other files with only an icon; on_upload says what is wrong
    st.file_uploader("Checkpoint files", accept_multiple_files=True, key="ex_upload", on_change=ew.on_upload,
                     args=(page,), help="Both files of a checkpoint written by gan_core (NAME.safetensors and "
                                        "NAME.json). Pickle files (.pt, .pth, .ckpt) are refused: loading them "
                                        "can run code.")
    if page.upload_message:
        kind, text = page.upload_message
        (st.error if kind == "error" else st.success)(text)
if not models:
    st.stop()

ss.ex_model = page.view.model
top[0].selectbox("Model", list(models), key="ex_model", on_change=ew.on_model_change, args=(page,),
                 help="Shipped models first, then checkpoints saved or uploaded in this session.")
for notice in page.notices:
    st.warning(notice)

try:
    gan = shared_models.load_model(models[page.view.model])
except Exception as exc:  # a damaged session checkpoint: say so, keep the page alive
    logger.warning("could not load model %r from %s", page.view.model, models[page.view.model], exc_info=True)
    st.error(f"Could not load {page.view.model}: {exc}")
    st.stop()
directions = directions_for(gan)
if pv.can_project(gan):
    drawing = " (or draw one in the explorer below)" if page.render == render_mode.BROWSER else ""
    with st.expander(f"Start from your own picture{drawing}"):
        pv.upload_box(page, gan)  # and projects what was drawn or uploaded: the views below then start from it

# The generator runs in the browser unless the link says ?render=server or it cannot (explore/render_mode.py)
browser_file = bv.prepare(page, gan) if page.render == render_mode.BROWSER else None
if browser_file is not None:
    bv.show(page, gan, directions, browser_file, extras=below_the_sample)
    box = st.expander("How much do the directions change the image?", key="ex_help_effect", on_change="rerun")
    if box.open:  # lazy: measuring a DCGAN's directions takes about a second, once per model
        box.caption(effect_summary(direction_effect_for(gan)))
else:
    if page.render_notice:
        st.info(page.render_notice)
    server_view(page, gan, directions)
st.caption(ew.share_caption(page.view.model))
