"""This browser session's training job and the curves of its earlier runs.

One job per browser session: it lives in `st.session_state["job"]` and in the process-wide
registry (app_shared.jobs); ended or replaced runs are kept (a few) for overlaying on the charts.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from app_shared.jobs import browser_session_id, job_registry
from app_shared.session import session_id
from gan_core import TrainConfig, WorkerJob

JOB_KEY = "job"
RUNS_KEY = "past_runs"
MAX_PAST_RUNS = 6


def session_job() -> WorkerJob | None:
    return st.session_state.get(JOB_KEY)


def past_runs() -> list[dict[str, Any]]:
    return st.session_state.setdefault(RUNS_KEY, [])


def run_label(cfg: TrainConfig, n: int) -> str:
    return f"run {n}: {cfg.dataset.split('/')[-1]} · {cfg.loss} · lr {cfg.lr_g:g}/{cfg.lr_d:g}"


def archive_job(job: WorkerJob | None) -> None:
    """Keep an ended or replaced run's curves in the session for overlaying."""
    if job is None or job.history is None or not len(job.history):
        return
    runs = past_runs()
    if any(r.get("job_id") == id(job) for r in runs):
        return
    runs.append({"job_id": id(job), "label": run_label(job.trainer.config, len(runs) + 1),
                 "rows": job.history.rows(), "evals": job.history.evals()})
    del runs[:-MAX_PAST_RUNS]


def start_job(config: TrainConfig, init_from: str | None = None) -> WorkerJob:
    """Start this session's job through the registry (raises ServerBusyError at the cap)."""
    old = session_job()
    if old is not None:
        old.stop()
        archive_job(old)
    job = job_registry().start(session_id(), config=config, init_from=init_from,
                               browser_session=browser_session_id())
    st.session_state[JOB_KEY] = job
    return job
