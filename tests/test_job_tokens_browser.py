"""A run you can come back to, in Chromium: the job's token is in the link and a cookie; a reload and a new tab
of the same browser find the running job again; another browser with a wrong token reaches nothing."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
STEP_LINE = re.compile(r" · step ([\d,]+) · ")


def step_of(page) -> int:
    return int(STEP_LINE.search(page.get_by_text(STEP_LINE).first.inner_text()).group(1).replace(",", ""))


def wait_steps_past(page, step: int) -> None:
    page.wait_for_function("n => { const m = document.body.innerText.match(/ · step ([\\d,]+) · /); "
                           "return m && parseInt(m[1].replace(/,/g, '')) > n; }", arg=step, timeout=60_000)


def token_in(url: str) -> str | None:
    return (parse_qs(urlparse(url).query).get("job") or [None])[0]


def test_reload_and_new_tab_find_the_job_and_a_wrong_token_does_not(app_server, new_page):
    page = new_page()
    page.goto(f"{app_server.url}/train?preset=nonsaturating-ring8")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]job="), timeout=30_000)
    token = token_in(page.url)
    assert token and len(token) >= 32
    wait_steps_past(page, 0)
    before = step_of(page)

    page.reload()  # a new Streamlit session: the link's token finds the run, with its history
    wait_steps_past(page, before)
    assert token_in(page.url) == token
    assert page.get_by_role("button", name="Stop", exact=True).is_enabled()
    assert page.get_by_test_id("stVegaLiteChart").count() >= 1
    assert {c["name"]: c["value"] for c in page.context.cookies()}.get("gan_job") == token

    tab = page.context.new_page()  # same browser, a link without the token: the cookie finds it
    tab.goto(f"{app_server.url}/train")
    wait_steps_past(tab, before)
    tab.wait_for_url(re.compile(r"[?&]job="), timeout=30_000)
    assert token_in(tab.url) == token
    assert_no_exception(tab, "Train, found again by the cookie")

    stranger = new_page()  # another browser, someone else's token with one character changed
    stranger.goto(f"{app_server.url}/train?job={token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    stranger.get_by_text("names a training job that this server does not have").wait_for(timeout=60_000)
    assert stranger.get_by_text(STEP_LINE).count() == 0
    assert not stranger.get_by_role("button", name="Stop", exact=True).is_enabled()

    tab.get_by_role("button", name="Stop", exact=True).click()
    tab.get_by_text(re.compile(r"^stopped · ")).wait_for(timeout=30_000)
