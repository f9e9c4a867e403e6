"""The queue and job tokens on the Train page (AppTest): Start never refused, the place shown, leaving the queue,
the next job starting when a run ends, a link re-attaching its job, and a wrong token refused plainly."""
from app_shared import jobs as jobs_mod
from tools.harness.waiting import wait_for


def texts(elements):
    return " ".join(str(e.value) for e in elements)


def test_start_queues_shows_the_place_and_leaves_the_queue(train_app):
    sessions = [train_app() for _ in range(3)]
    for at in sessions:
        at.run()
    registry = jobs_mod.job_registry()
    registry.max_jobs = 1
    for at in sessions:
        at.button(key="tr_start").click().run()
        assert not at.exception and not at.error, texts(at.error)  # never "Server busy"
    first, second, third = sessions
    second.run()  # what its live fragment shows a second later
    assert "job" in first.session_state and "job" not in second.session_state and "job" not in third.session_state
    assert "Queued: place 1 of 2" in texts(second.info) and "Queued: place 2 of 2" in texts(third.info)
    assert "estimated start in about" in texts(third.info)
    tokens = [at.session_state["job_token"] for at in sessions]
    assert len(set(tokens)) == 3
    assert all(at.query_params["job"] == tok for at, tok in zip(sessions, tokens, strict=True))  # in the link

    teacher = train_app()
    teacher.session_state["presenter"] = True
    teacher.run()  # presenter mode: the whole queue, anonymous
    assert "**Server queue** · 1 running · 2 waiting" in texts(teacher.markdown)
    table = teacher.dataframe[0].value
    assert list(table["place"]) == ["running", "1", "2"] and set(table["kind"]) == {"2-D toy"}
    assert not any(tok in str(table.to_dict()) for tok in tokens)

    second.button(key="tr_leave_queue").click().run()
    assert "Queued" not in texts(second.info) and registry.ticket(tokens[1]).left_queue == "you left the queue"
    third.run()
    assert "Queued: place 1 of 1" in texts(third.info)

    first.button(key="tr_stop").click().run()
    assert wait_for(lambda: registry.ticket(tokens[2]).running, timeout=30)  # the admission pass started it
    third.run()
    assert third.session_state["job"] is registry.get(tokens[2]) and "Queued" not in texts(third.info)
    assert third.session_state["job"].wait_until(2, timeout=60)


def test_a_link_reattaches_its_job_and_a_wrong_token_reaches_nothing(train_app):
    owner = train_app()
    owner.run()
    owner.button(key="tr_start").click().run()
    job, token = owner.session_state["job"], owner.session_state["job_token"]
    reloaded = train_app(query={"job": token})  # a reload or a new tab: a new session with the page's link
    reloaded.run()
    assert reloaded.session_state["job"] is job and reloaded.session_state["job_token"] == token
    assert jobs_mod.job_registry().ticket(token).owner == reloaded.session_state["session_uid"]
    assert job.wait_until(2, timeout=60)
    assert any(" · step " in m.value for m in reloaded.markdown)  # its status line, history and samples

    stranger = train_app(query={"job": token[:-2] + "xx"})
    stranger.run()
    assert "job" not in stranger.session_state and "job_token" not in stranger.session_state
    assert "names a training job that this server does not have" in texts(stranger.warning)
    assert not stranger.exception
