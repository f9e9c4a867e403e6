"""Per-process caches for the Explore page's slower results: GANSpace directions and neighbour indexes.

Also the once-per-process heap freeze: Streamlit runs a full `gc.collect(2)` after every script or
fragment run (config `runner.postScriptGC`). With torch, pandas and altair imported that walks about
300k objects, ~110 ms on this 2-core VM, which was most of a slider move's server time. Moving the
objects alive after startup into the permanent generation (`gc.freeze`) leaves that collection only
the objects created since; garbage made later is collected as before (see keep_heap_frozen).
"""
from __future__ import annotations

import gc
import threading
import time

import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore.state import N_DIRECTIONS
from gan_core import GAN
from gan_core.eval.neighbours import NeighbourIndex, dataset_index, typical_distance
from gan_core.explore.directions import DirectionEffect, Directions, find_directions, measure_directions

NEIGHBOUR_DATASETS = ("mnist", "fashion")


@st.cache_resource(max_entries=32, show_spinner=False)
def _directions(content_hash: str, _gan: GAN) -> Directions:
    return find_directions(_gan, k=N_DIRECTIONS)


def directions_for(gan: GAN) -> Directions:
    """The model's GANSpace directions, computed once per model content (0.1 s for an MLP, ~3 s for a DCGAN)."""
    return _directions(gan.content_hash or str(id(gan)), gan)


@st.cache_resource(max_entries=32, show_spinner=False)
def _direction_effect(content_hash: str, _gan: GAN) -> DirectionEffect:
    return measure_directions(_gan, directions_for(_gan))


def direction_effect_for(gan: GAN) -> DirectionEffect:
    """How much PC1..PC5 change this model's output at ±2σ against random directions, once per model content."""
    return _direction_effect(gan.content_hash or str(id(gan)), gan)


@st.cache_resource(max_entries=64, show_spinner=False)
def _grid_columns(content_hash: str, seed: int, truncation: float, _gan: GAN) -> torch.Tensor:
    return ec.other_columns(_gan, seed, truncation)


def grid_columns(gan: GAN, seed: int, truncation: float) -> torch.Tensor:
    """The class grid's columns that the sliders do not change, generated once per (model, seed, truncation).

    Shared between sessions and never modified (class_grid only reads it); a latent move then generates
    only the grid's first column.
    """
    return _grid_columns(gan.content_hash or str(id(gan)), int(seed), float(truncation), gan)


@st.cache_resource(max_entries=2, show_spinner=False)
def neighbour_index(dataset: str) -> tuple[NeighbourIndex, float]:
    """(index over the dataset's training images, typical real-to-real nearest distance), once per process."""
    index = dataset_index(dataset)
    return index, typical_distance(index)


FREEZE_EVERY_S = 600.0
_freeze_lock = threading.Lock()
_frozen_at: list[float] = []  # monotonic time of the last freeze in this process


def keep_heap_frozen(now: float | None = None) -> bool:
    """Freeze what is alive (modules, torch, models) at most every FREEZE_EVERY_S; True when it froze now.

    Objects frozen while a session was open are not collected when that session ends, so the freeze is
    renewed: unfreeze, one full collection (~0.1 s, once per period) frees what died since, then
    freeze again. Leftovers of closed sessions therefore live at most one period longer.
    """
    now = time.monotonic() if now is None else now
    with _freeze_lock:
        if _frozen_at and now - _frozen_at[-1] < FREEZE_EVERY_S:
            return False
        _frozen_at[:] = [now]
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return True
