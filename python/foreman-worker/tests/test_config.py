"""WorkerConfig: the FOREMAN_* variables, their aliases, defaults and errors."""

from __future__ import annotations

import logging
import re

import pytest

from foreman_worker import Worker, WorkerConfig

VARIABLES = [
    "FOREMAN_API_URL", "KTRDR_API_URL",
    "FOREMAN_WORKER_TYPE", "WORKER_TYPE", "KTRDR_WORKER_TYPE",
    "FOREMAN_WORKER_ID", "WORKER_ID", "KTRDR_WORKER_ID",
    "FOREMAN_WORKER_CAPACITY", "WORKER_CAPACITY",
    "FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "FOREMAN_WORKER_DRAIN_SECONDS", "FOREMAN_WORKER_TOKEN",
    "FOREMAN_WORKER_MAX_RETRIES", "FOREMAN_POLL_WAIT_SECONDS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_coordinator_url_is_required() -> None:
    with pytest.raises(ValueError) as error:
        WorkerConfig.from_env(type="training")
    assert str(error.value) == "FOREMAN_API_URL is required: the coordinator's URL, e.g. http://coordinator:8000"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREMAN_API_URL", "http://coordinator:8000/api/v1/")
    config = WorkerConfig.from_env(type="training")
    assert config.api_url == "http://coordinator:8000"
    assert config.type == "training"
    assert re.fullmatch(r"training-worker-[0-9a-f]{8}", config.id)
    assert (config.capacity, config.token, config.max_retries) == (1, None, 2)
    assert (config.heartbeat_interval_seconds, config.drain_seconds, config.poll_wait_seconds) == (10, 30, 20)


def test_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "FOREMAN_API_URL": "https://foreman.example/base",
        "FOREMAN_WORKER_TYPE": "backtest",
        "FOREMAN_WORKER_ID": "gpu-box-1",
        "FOREMAN_WORKER_CAPACITY": "4",
        "FOREMAN_HEARTBEAT_INTERVAL_SECONDS": "500 millis",
        "FOREMAN_WORKER_DRAIN_SECONDS": "2 minutes",
        "FOREMAN_WORKER_TOKEN": "t0ken",
        "FOREMAN_WORKER_MAX_RETRIES": "0",
        "FOREMAN_POLL_WAIT_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    config = WorkerConfig.from_env(type="training")
    assert config == WorkerConfig(
        api_url="https://foreman.example/base", type="backtest", id="gpu-box-1", capacity=4,
        heartbeat_interval_seconds=0.5, drain_seconds=120, token="t0ken", max_retries=0, poll_wait_seconds=0,
    )


def test_deprecated_names_are_read_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KTRDR_API_URL", "http://old:8000")
    monkeypatch.setenv("WORKER_CAPACITY", "3")
    monkeypatch.setenv("KTRDR_WORKER_ID", "old-id")
    monkeypatch.setenv("WORKER_ID", "newer-id")
    monkeypatch.setenv("FOREMAN_WORKER_TOKEN", "")
    with caplog.at_level(logging.WARNING, logger="foreman_worker"):
        config = WorkerConfig.from_env(type="training")
    assert (config.api_url, config.capacity, config.id, config.token) == ("http://old:8000", 3, "newer-id", None)
    assert "KTRDR_API_URL is deprecated; set FOREMAN_API_URL instead" in caplog.messages
    assert "WORKER_ID is deprecated; set FOREMAN_WORKER_ID instead" in caplog.messages

    monkeypatch.setenv("FOREMAN_WORKER_CAPACITY", "5")
    assert WorkerConfig.from_env(type="training").capacity == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FOREMAN_API_URL", "coordinator:8000", "FOREMAN_API_URL must be an http(s) URL such as http://coordinator:8000"),
        ("FOREMAN_WORKER_TYPE", "Training", "FOREMAN_WORKER_TYPE must be a lowercase name such as training"),
        ("FOREMAN_WORKER_ID", "-box", "FOREMAN_WORKER_ID must be 1-128 letters, digits or ._:- starting with"),
        ("FOREMAN_WORKER_CAPACITY", "0", "FOREMAN_WORKER_CAPACITY must be an integer from 1 to 1024, got '0'"),
        ("WORKER_CAPACITY", "two", "WORKER_CAPACITY must be an integer from 1 to 1024, got 'two'"),
        ("FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "0", "FOREMAN_HEARTBEAT_INTERVAL_SECONDS must be a number > 0"),
        ("FOREMAN_WORKER_DRAIN_SECONDS", "-1", "FOREMAN_WORKER_DRAIN_SECONDS must be a number >= 0"),
        ("FOREMAN_WORKER_MAX_RETRIES", "1.5", "FOREMAN_WORKER_MAX_RETRIES must be an integer >= 0, got '1.5'"),
        ("FOREMAN_POLL_WAIT_SECONDS", "61", "FOREMAN_POLL_WAIT_SECONDS must be a number from 0 to 60"),
        ("FOREMAN_POLL_WAIT_SECONDS", "soon", "FOREMAN_POLL_WAIT_SECONDS must be a number from 0 to 60"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv("FOREMAN_API_URL", "http://coordinator:8000")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        WorkerConfig.from_env(type="training")


def test_the_type_comes_from_the_code_unless_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREMAN_API_URL", "http://coordinator:8000")
    with pytest.raises(ValueError, match="FOREMAN_WORKER_TYPE is required"):
        WorkerConfig.from_env()
    assert Worker(type="training").config.type == "training"
    monkeypatch.setenv("WORKER_TYPE", "backtest")
    assert Worker(type="training").config.type == "backtest"


def test_settings_given_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match="capacity must be an integer from 1 to 1024, got '0'"):
        WorkerConfig(api_url="http://coordinator:8000", capacity=0)
    config = WorkerConfig(api_url="http://coordinator:8000/", token="")
    assert (config.api_url, config.token, config.id) == ("http://coordinator:8000", None, "")
