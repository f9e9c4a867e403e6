"""Where each preset opens: the Train page or the 2-D playground.

Which page teaches with a preset is the app's choice, not the engine's, so it lives here and not on
gan_core's `Preset`. A link to a preset is `<page>?preset=<slug>` (the Learn page writes them); each page's
preset box lists the presets that open on it, and the playground also lists the Train page's toy presets,
which run there too.
"""
from __future__ import annotations

from gan_core import TOY_DATASETS
from gan_core.teach.presets import PRESETS, Preset

TRAIN, PLAYGROUND = "train", "playground"  # the pages' url paths (app.py)
PAGES = (TRAIN, PLAYGROUND)
# The 2-D lessons that open on the playground; every other preset opens on the Train page
PLAYGROUND_PRESETS = frozenset({"ring8-minimax-collapse", "ring8-nonsaturating", "ring8-wgan-gp", "ring8-r1",
                                "ring8-label-smoothing", "grid25-nonsaturating", "spiral-lsgan"})


def page_of(preset: Preset) -> str:
    """The page a preset opens on (its links point there)."""
    return PLAYGROUND if preset.slug in PLAYGROUND_PRESETS else TRAIN


def is_toy(preset: Preset) -> bool:
    return preset.config().dataset in TOY_DATASETS


def presets_for(page: str) -> list[Preset]:
    """The presets a page's box lists, in PRESETS' order: the ones that open on it, and on the playground also the
    Train page's toy presets."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; choose from {', '.join(PAGES)}")
    own = [p for p in PRESETS.values() if page_of(p) == page]
    if page == PLAYGROUND:
        own += [p for p in PRESETS.values() if page_of(p) == TRAIN and is_toy(p)]
    return own


def preset_link(slug: str, label: str | None = None) -> str:
    """A markdown link to a preset on its page; relative, so it works under any base path."""
    preset = PRESETS[slug]
    return f"[{label or preset.title}]({page_of(preset)}?preset={slug})"
