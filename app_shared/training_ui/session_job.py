"""This browser session's training job and the curves of its earlier runs.

One job per browser session: the registry (app_shared.jobs) holds it by its token (job_link: the token
is in the link and a cookie, so a reload finds it again); once it runs it is also in
`st.session_state["job"]`. Ended or replaced runs are kept (a few) for overlaying on the charts.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from app_shared.jobs import JobTicket, browser_session_id, job_registry
from app_shared.session import session_id
from app_shared.training_ui import job_link
from gan_core import TrainConfig, WorkerJob

JOB_KEY = "job"
RUNS_KEY = "past_runs"
MAX_PAST_RUNS = 6


def session_job() -> WorkerJob | None:
    """This session's job once it runs (None while it waits in the queue); a reload finds it by its token."""
    ticket = job_link.find_again() or job_link.session_ticket()
    if ticket is not None and ticket.job is not None and st.session_state.get(JOB_KEY) is not ticket.job:
        archive_job(st.session_state.get(JOB_KEY))
        st.session_state[JOB_KEY] = ticket.job
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


def start_job(config: TrainConfig, init_from: str | None = None) -> JobTicket:
    """Queue this session's job in the registry (it starts at once when there is room); its token goes into the
    link and the cookie. This session's earlier run is stopped first and kept for comparison."""
    old = session_job()
    if old is not None:
        old.stop()
        archive_job(old)
    ticket = job_registry().submit(session_id(), config=config, init_from=init_from,
                                   browser_session=browser_session_id())
    job_link.remember(ticket.token)
    if ticket.job is not None:
        st.session_state[JOB_KEY] = ticket.job
    return ticket
