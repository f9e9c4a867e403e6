"""Every environment setting is read in one place and a bad value is refused at start-up, naming it."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.settings import REPO_ROOT, Settings, SettingsError, load_settings, settings

APP = str(REPO_ROOT / "app.py")


def test_defaults():
    s = load_settings({})
    assert s == Settings()
    assert s.data_dir is None and s.ddp_debug_dir is None
    assert s.download_dir == Path.home() / ".cache" / "gan_core"
    assert s.app_runs_dir == REPO_ROOT / "runs" / "app"
    assert s.max_jobs is None  # no count cap: the job queue's measured room decides (app_shared/job_queue.py)
    assert (s.max_job_seconds, s.idle_timeout, s.job_nice, s.cpu_turns) == (1800.0, 120.0, 10, True)
    assert load_settings({"GAN_JOB_NICE": "", "GAN_MAX_JOBS": "  "}) == Settings()  # blank is unset


def test_good_values_are_parsed(tmp_path):
    s = load_settings({"GAN_DATA_DIR": str(tmp_path), "GAN_DOWNLOAD_DIR": str(tmp_path / "dl"),
                       "GAN_APP_RUNS_DIR": str(tmp_path / "runs"), "GAN_MAX_JOBS": " 3 ",
                       "GAN_MAX_JOB_SECONDS": "60", "GAN_IDLE_TIMEOUT": "0.5", "GAN_JOB_NICE": "0",
                       "GAN_CPU_TURNS": "off", "GAN_DDP_DEBUG_DIR": str(tmp_path / "ddp")})
    assert s == Settings(data_dir=tmp_path, download_dir=tmp_path / "dl", app_runs_dir=tmp_path / "runs",
                         max_jobs=3, max_job_seconds=60.0, idle_timeout=0.5, job_nice=0, cpu_turns=False,
                         ddp_debug_dir=tmp_path / "ddp")
    assert load_settings({"GAN_CPU_TURNS": "0"}).cpu_turns is False
    assert load_settings({"GAN_CPU_TURNS": "yes"}).cpu_turns is True
    assert load_settings({"GAN_JOB_NICE": "19"}).job_nice == 19
    assert load_settings({}).warm_up is True and load_settings({"GAN_WARM_UP": "0"}).warm_up is False


@pytest.mark.parametrize("name, value, allowed", [
    ("GAN_MAX_JOBS", "0", "a whole number of at least 1 (unset: no cap: the measured room decides)"),
    ("GAN_MAX_JOBS", "2.5", "a whole number of at least 1"),
    ("GAN_MAX_JOB_SECONDS", "-5", "a finite number of seconds above 0 (unset: 1800)"),
    ("GAN_MAX_JOB_SECONDS", "inf", "a finite number of seconds above 0"),
    ("GAN_IDLE_TIMEOUT", "nonsense", "a finite number of seconds above 0 (unset: 120)"),
    ("GAN_IDLE_TIMEOUT", "nan", "a finite number of seconds above 0"),
    ("GAN_JOB_NICE", "99", "a whole number from 0 to 19 (unset: 10)"),
    ("GAN_JOB_NICE", "-1", "a whole number from 0 to 19"),
    ("GAN_CPU_TURNS", "maybe", "1 or 0"),
    ("GAN_DATA_DIR", "/no/such/folder", "an existing folder"),
])
def test_a_bad_value_is_refused_naming_the_variable_the_value_and_what_is_allowed(name, value, allowed):
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r} is not allowed: it must be ")
    assert allowed in message and "\n" not in message


@pytest.mark.parametrize("name", ["GAN_APP_RUNS_DIR", "GAN_DOWNLOAD_DIR", "GAN_DATA_DIR", "GAN_DDP_DEBUG_DIR"])
def test_a_folder_setting_that_names_a_file_is_refused(tmp_path, name):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(SettingsError, match=f"^{name}=.* a folder, and this is a file"):
        load_settings({name: str(a_file)})
    assert load_settings({name: str(tmp_path)})  # the folder itself is fine


def test_settings_are_read_once_until_cleared(set_env):
    set_env(GAN_JOB_NICE="7")
    assert settings().job_nice == 7
    set_env(GAN_JOB_NICE="3")  # clears the cache, as a restart would
    assert settings() is settings() and settings().job_nice == 3


def test_the_app_refuses_to_start_with_a_bad_setting_and_says_why(set_env):
    set_env(GAN_JOB_NICE="99")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "GAN_JOB_NICE='99' is not allowed" in at.error[0].value
    assert "from 0 to 19" in at.error[0].value
    assert not at.title and not at.slider, "no page ran"


def test_the_command_line_refuses_a_bad_setting_in_one_line_with_exit_2(set_env, capsys, tmp_path):
    from gan_core.cli.main import main

    set_env(GAN_CPU_TURNS="maybe")
    out = tmp_path / "points.npz"
    with pytest.raises(SystemExit) as caught:
        main(["sample", "--model", "ring8", "--n", "4", "--out", str(out)])  # sample reads no setting itself
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "error: GAN_CPU_TURNS='maybe' is not allowed: it must be 1 or 0" in err
    assert not out.exists(), "the command did not run"
    set_env(GAN_CPU_TURNS="0")
    assert main(["sample", "--model", "ring8", "--n", "4", "--out", str(out)]) == 0 and out.is_file()
