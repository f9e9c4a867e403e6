"""The Apply page's plumbing: which generators qualify, cached real data, and this session's experiment job.

Experiments are background work like training jobs: they start through the one job registry
(app_shared.jobs), under its one cap (GAN_MAX_JOBS) shared with training runs.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_shared import models as shared_models
from app_shared.jobs import job_registry
from app_shared.session import session_id
from gan_core.io.checkpoint import CheckpointError, read_meta
from gan_core.teach.synthetic import (
    SUPPORTED_DATASETS,
    ExperimentConfig,
    ExperimentData,
    ExperimentJob,
    load_experiment_data,
)

JOB_KEY = "ap_job"
DEFAULT_DATASET = SUPPORTED_DATASETS[0]  # mnist: the dataset the other pages open on


def conditional_generators() -> dict[str, tuple[Path, str]]:
    """label -> (weights path, dataset) for every conditional generator of a built-in image dataset (MNIST,
    Fashion-MNIST, emoji) this session may use."""
    found = {}
    for label, path in shared_models.available_models().items():
        try:
            meta = read_meta(path.with_suffix(".json"))
        except CheckpointError:
            continue
        if meta.get("num_classes") and meta.get("dataset") in SUPPORTED_DATASETS and meta.get("model") != "toy":
            found[label] = (path, meta["dataset"])
    return found


def default_generator(generators: dict[str, tuple[Path, str]]) -> str:
    """The generator to preselect: one of the default dataset (the shipped mnist-cgan when present), not the
    alphabetically first (fashion-cgan), whose first run on other data then 'did not help'."""
    for label, (_, dataset) in generators.items():
        if dataset == DEFAULT_DATASET:
            return label
    return next(iter(generators))


@st.cache_resource(show_spinner="Loading the real images…", max_entries=2)
def experiment_data(dataset: str, test_size: int) -> ExperimentData:
    """Real pool + test set, loaded once per process (read-only afterwards, so threads may share it)."""
    return load_experiment_data(dataset, test_size)


def session_job() -> ExperimentJob | None:
    return st.session_state.get(JOB_KEY)


def start_job(path: Path, dataset: str, config: ExperimentConfig) -> ExperimentJob:
    """Start this session's experiment (one at a time per session) in a slot of the job registry.

    Raises ServerBusyError when the server's background work is at its cap, RuntimeError while this
    session's experiment still runs, ValueError for a bad config."""
    job = session_job()
    if job is not None and job.is_alive():
        raise RuntimeError("an experiment is already running in this session: stop it first")
    config.validate()
    gan = shared_models.load_model(path)
    data = experiment_data(dataset, config.test_size)
    job = job_registry().start_experiment(session_id(), ExperimentJob(gan, data, config))
    st.session_state[JOB_KEY] = job
    return job
