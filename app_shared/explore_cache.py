"""Per-process caches for the Explore page's slower results: GANSpace directions and neighbour indexes."""
from __future__ import annotations

import streamlit as st

from gan_core import GAN
from gan_core.directions import Directions, find_directions
from gan_core.neighbours import NeighbourIndex, dataset_index, typical_distance

from .explore_state import N_DIRECTIONS

NEIGHBOUR_DATASETS = ("mnist", "fashion")


@st.cache_resource(max_entries=32, show_spinner=False)
def _directions(content_hash: str, _gan: GAN) -> Directions:
    return find_directions(_gan, k=N_DIRECTIONS)


def directions_for(gan: GAN) -> Directions:
    """The model's GANSpace directions, computed once per model content (well under a second)."""
    return _directions(gan.content_hash or str(id(gan)), gan)


@st.cache_resource(max_entries=2, show_spinner=False)
def neighbour_index(dataset: str) -> tuple[NeighbourIndex, float]:
    """(index over the dataset's training images, typical real-to-real nearest distance), once per process."""
    index = dataset_index(dataset)
    return index, typical_distance(index)
