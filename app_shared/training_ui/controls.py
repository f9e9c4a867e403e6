"""The job controls: Start / Pause / Resume / Step / Stop, the live learning rate and live hyper-parameters.

Button actions run as on_click callbacks, before the page's next run, so every button is drawn with
the state its action produced; a callback's outcome is shown through the scope's flash message.
"""
from __future__ import annotations

import math

import streamlit as st

from app_shared.jobs import job_registry
from app_shared.training_ui import job_link, queue_view
from app_shared.training_ui.form import read_form
from app_shared.training_ui.scope import FormScope
from app_shared.training_ui.session_job import archive_job, session_job, start_job
from gan_core import JobState, WorkerJob
from gan_core.train.trainer import LIVE_HPARAMS


def on_start(scope: FormScope) -> None:
    try:
        cfg = read_form(scope)
    except (ValueError, TypeError) as exc:
        scope.flash("error", f"Not started: {exc}")
        return
    try:
        start_job(cfg)  # never refused for load: it waits in the queue until there is room
    except ValueError as exc:
        scope.flash("error", f"Not started: {exc}")


def on_pause() -> None:
    if (job := session_job()) is not None:
        job.pause()


def on_resume() -> None:
    if (job := session_job()) is not None:
        job.resume()


def on_step(scope: FormScope) -> None:
    if (job := session_job()) is not None:
        job.step_once(int(scope.get("step_n", 1) or 1))


def on_leave_queue() -> None:
    job_registry().cancel(job_link.session_token(), "you left the queue")


def on_stop() -> None:
    job = session_job()
    if job is not None:
        job.stop()
        archive_job(job)


def lrs_in_use(job: WorkerJob) -> tuple[float, float]:
    """The learning rates the run uses now (its trainer's config; before it is built, the job's config with "auto"
    resolved), so the live boxes never show an empty "auto"."""
    cfg = job.trainer.config if job.trainer is not None else job.config.resolved()
    return cfg.lr_g, cfg.lr_d


def on_change_lr(scope: FormScope) -> None:
    job = session_job()
    if job is None or not job.state.active:
        scope.flash("warning", "No running job: the new learning rate will be used by the next Start.")
        return
    in_use = dict(zip(("lr_g", "lr_d"), lrs_in_use(job), strict=True))
    asked = {"lr_g": scope.get("live_lr_g"), "lr_d": scope.get("live_lr_d")}
    changes = {name: value for name, value in asked.items()
               if value is not None and not math.isclose(value, in_use[name], rel_tol=1e-9)}
    if not changes:
        scope.flash("info", f"Nothing changed: the run already uses lr G {in_use['lr_g']:g} and lr D "
                            f"{in_use['lr_d']:g}.")
        return
    try:
        job.set_lr(**changes)
    except ValueError as exc:
        scope.flash("error", f"Learning rate not changed: {exc}")
        return
    for name, value in changes.items():
        scope.set(name, value)  # the form follows
    said = " and ".join(f"lr {name[-1].upper()} {in_use[name]:g} → {value:g}" for name, value in changes.items())
    scope.flash("success", f"Changing {said}; the change is marked on the charts.")


def on_apply_live(scope: FormScope) -> None:
    """Send the form's live-changeable hyper-parameters (lr, betas, loss, penalties...) to the running job."""
    job = session_job()
    if job is None or job.trainer is None or not job.state.active:
        scope.flash("warning", "No running job to change.")
        return
    try:
        form = read_form(scope)
    except (ValueError, TypeError) as exc:
        scope.flash("error", f"Nothing changed: {exc}")
        return
    current = job.trainer.config
    changes = {n: getattr(form, n) for n in LIVE_HPARAMS
               if getattr(form, n) is not None and getattr(form, n) != getattr(current, n)}
    if not changes:
        scope.flash("info", "The form matches the running job: nothing to change.")
        return
    try:
        job.update_hparams(**changes)
    except ValueError as exc:
        scope.flash("error", f"Nothing changed: {exc}")
        return
    scope.flash("success", f"Changed {', '.join(changes)} (marked on the charts).")


def apply_live_button(scope: FormScope, help_text: str | None = None) -> None:
    st.button("Apply changed hyper-parameters to the running job", key=scope.key("apply_live"),
              on_click=on_apply_live, args=(scope,), help=help_text)


def job_controls(scope: FormScope) -> None:
    """Start / Pause / Resume / Step / Stop and the live learning rate."""
    k = scope.key
    job = session_job()
    job_link.show_link_notice()
    job_link.write_cookie()
    state = job.state if job is not None else None
    active = state is not None and state.active
    ticket = job_link.session_ticket()
    queue_view.place_area()
    if ticket is not None and ticket.queued:
        st.button("Leave the queue", key=k("leave_queue"), on_click=on_leave_queue,
                  help="Your run waits for room on the server; this takes it out of the queue")
    cols = st.columns([1, 1, 1, 1, 1, 1.2])
    cols[0].button("Start", type="primary", key=k("start"), on_click=on_start, args=(scope,),
                   disabled=active, width="stretch",
                   help="Starts at once when the server has room, else waits in a first-come queue")
    # only what applies: Pause while it runs, Resume while it is paused (the page reruns when the state changes)
    cols[1].button("Pause", key=k("pause"), on_click=on_pause, width="stretch",
                   disabled=state not in (JobState.STARTING, JobState.RUNNING))
    cols[2].button("Resume", key=k("resume"), on_click=on_resume, disabled=state != JobState.PAUSED,
                   width="stretch")
    cols[3].button("Step", key=k("step"), on_click=on_step, args=(scope,), disabled=not active,
                   width="stretch", help="Pause and do the number of steps set on the right")
    cols[4].button("Stop", key=k("stop"), on_click=on_stop, disabled=not active, width="stretch")
    cols[5].number_input("steps per Step", min_value=1, max_value=1000, value=1, step=1, key=k("step_n"))
    if active:
        in_use = lrs_in_use(job)
        if scope.get("live_lr_for") != (id(job), in_use):  # a new run, or its rates changed: the boxes show them
            scope.set("live_lr_g", in_use[0])
            scope.set("live_lr_d", in_use[1])
            scope.set("live_lr_for", (id(job), in_use))
        c1, c2, c3 = st.columns([1, 1, 1.2])
        c1.number_input("new lr G", step=1e-4, format="%.1e", key=k("live_lr_g"))
        c2.number_input("new lr D", step=1e-4, format="%.1e", key=k("live_lr_d"))
        c3.button("Change learning rate", key=k("set_lr"), on_click=on_change_lr, args=(scope,))
