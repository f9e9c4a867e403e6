"""The queue as the pages show it: this session's place and estimated start, and (presenter mode) the whole
queue, anonymous. Drawn inside the live fragments, so it follows the queue every second."""
from __future__ import annotations

import time

import streamlit as st

from app_shared.jobs import QueuePlace, job_registry
from app_shared.training_ui import job_link

WAS_QUEUED_KEY = "_job_was_queued"
LEFT_NOTE_KEY = "_job_left_queue_note"
FAMILY_NAMES = {"toy": "2-D toy", "mlp": "MLP (images)", "dcgan": "DCGAN (images)", "progan": "growing GAN (images)"}


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def place_line(place: QueuePlace) -> str:
    """One line: the place, the kind, how long it waited, and when it should start."""
    if place.estimated_wait_s is None:
        eta = "the cluster starts it as soon as it has room"
    else:
        start = time.strftime("%H:%M:%S", time.localtime(time.time() + place.estimated_wait_s))
        eta = f"estimated start in about {clock(place.estimated_wait_s)} (at {start})"
    of = f" of {place.of}" if place.of else ""
    return (f"**Queued: place {place.place}{of}** · {FAMILY_NAMES.get(place.family, place.family)} · waiting "
            f"{clock(place.waited_s)} · {eta}. It starts by itself; keep this tab open (or come back by its link).")


def waiting() -> bool:
    """Whether this session's job waits for room (in this server's queue or Ray's)."""
    return job_registry().place(job_link.session_token()) is not None


def _draw_place() -> None:
    """This session's place while its job waits. When the wait ends the whole page reruns, so the buttons and
    the live panel follow (and a job that left the queue without running says why, once)."""
    ticket = job_link.session_ticket()  # reading it marks it watched: a watched job keeps its place
    place = job_registry().place(job_link.session_token())
    was_queued = st.session_state.get(WAS_QUEUED_KEY, False)
    st.session_state[WAS_QUEUED_KEY] = place is not None
    if place is not None:
        st.info(place_line(place))
        return
    if was_queued and ticket is not None:
        if ticket.left_queue:
            st.session_state[LEFT_NOTE_KEY] = ticket.left_queue
        st.rerun(scope="app")
    note = st.session_state.pop(LEFT_NOTE_KEY, None)
    if note:
        st.warning(f"Your queued run did not start: {note}.")


def place_area() -> None:
    """The place line in a fragment that follows the queue every second while this session's job waits."""
    st.fragment(_draw_place, run_every=1.0 if waiting() else None)()


def whole_queue() -> None:
    """Presenter mode: every running and waiting job, anonymous (no names, no tokens)."""
    registry = job_registry()
    rows = registry.queue_view()
    running = registry.running_view()
    if not rows and not running:
        return
    table = [{"place": "running", "kind": FAMILY_NAMES.get(family, family), "waited": "—",
              "starts in": f"ends in ~{clock(left)}"} for family, left in running]
    table += [{"place": str(r.place), "kind": FAMILY_NAMES.get(r.family, r.family), "waited": clock(r.waited_s),
               "starts in": "—" if r.estimated_wait_s is None else f"~{clock(r.estimated_wait_s)}"} for r in rows]
    st.markdown(f"**Server queue** · {len(running)} running · {len(rows)} waiting")
    st.dataframe(table, hide_index=True, width="stretch")


def anything() -> bool:
    """Whether any job runs or waits on this server (presenter mode then follows the queue live)."""
    registry = job_registry()
    return bool(registry.active_jobs()) or registry.pending_count() > 0
