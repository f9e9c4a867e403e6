"""Per-process caches for the Explore page's slower results: GANSpace directions and neighbour indexes.

(The heap freeze that keeps garbage collection cheap is app.py's: app_shared/housekeeping.py.)
"""
from __future__ import annotations

import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore.state import N_DIRECTIONS
from gan_core import GAN
from gan_core.data.datasets import IMAGE_DATASETS
from gan_core.eval.neighbours import NeighbourIndex, dataset_index, typical_distance
from gan_core.explore.directions import DirectionEffect, Directions, find_directions, measure_directions

NEIGHBOUR_DATASETS = IMAGE_DATASETS  # every built-in image dataset (mnist, fashion, emoji): its training images


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
