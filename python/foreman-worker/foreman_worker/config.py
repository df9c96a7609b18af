"""A worker's settings: each with its default and its environment variable, in one place.

The variables are those of the TypeScript worker (``@foreman/worker``); the original
system's names (``WORKER_…``, ``KTRDR_…``) are read as deprecated aliases with a warning.
A bad value raises :class:`ValueError` naming the variable (or the field) and what it must be.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
from dataclasses import dataclass
from typing import Callable, TypeVar
from urllib.parse import urlsplit

__all__ = ["WorkerConfig"]

log = logging.getLogger("foreman_worker")

_ALIASES: dict[str, tuple[str, ...]] = {
    "FOREMAN_API_URL": ("KTRDR_API_URL",),
    "FOREMAN_WORKER_TYPE": ("WORKER_TYPE", "KTRDR_WORKER_TYPE"),
    "FOREMAN_WORKER_ID": ("WORKER_ID", "KTRDR_WORKER_ID"),
    "FOREMAN_WORKER_CAPACITY": ("WORKER_CAPACITY",),
}

_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_WORKER_TYPE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(nano|micro|milli|second|minute|hour|day|week)s?")
_UNIT_SECONDS = {
    "nano": 1e-9, "micro": 1e-6, "milli": 1e-3, "second": 1.0,
    "minute": 60.0, "hour": 3600.0, "day": 86400.0, "week": 604800.0,
}

T = TypeVar("T")


def _invalid(name: str, expected: str, value: object) -> ValueError:
    return ValueError(f"{name} must be {expected}, got {value!r}")


def _api_url(name: str, value: str) -> str:
    """An http(s) URL without trailing slashes or the ``/api/v1`` suffix the original system used."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(name, "an http(s) URL such as http://coordinator:8000", value)
    url = value.rstrip("/")
    return url[: -len("/api/v1")] if url.endswith("/api/v1") else url


def _worker_type(name: str, value: str) -> str:
    if not _WORKER_TYPE.fullmatch(value):
        raise _invalid(name, "a lowercase name such as training", value)
    return value


def _worker_id(name: str, value: str) -> str:
    if not _WORKER_ID.fullmatch(value):
        raise _invalid(name, "1-128 letters, digits or ._:- starting with a letter or digit", value)
    return value


def _integer(low: int, high: int | None = None) -> Callable[[str, str], int]:
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"

    def parse(name: str, value: str) -> int:
        try:
            number = float(value)
        except ValueError:
            raise _invalid(name, expected, value) from None
        if not number.is_integer() or number < low or (high is not None and number > high):
            raise _invalid(name, expected, value)
        return int(number)

    return parse


def _seconds(low: float, high: float | None = None, *, above: bool = False) -> Callable[[str, str], float]:
    """Seconds as a plain number (``2``, ``0.5``) or a duration (``500 millis``, ``2 minutes``)."""
    bound = f"> {low:g}" if above else f">= {low:g}"
    expected = (f"a number {bound}" if high is None else f"a number from {low:g} to {high:g}") + (
        ' (seconds, or a duration such as "500 millis")'
    )

    def parse(name: str, value: str) -> float:
        text = value.strip()
        duration = _DURATION.fullmatch(text)
        try:
            number = float(duration[1]) * _UNIT_SECONDS[duration[2]] if duration else float(text)
        except ValueError:
            raise _invalid(name, expected, value) from None
        too_low = number <= low if above else number < low
        if not math.isfinite(number) or too_low or (high is not None and number > high):
            raise _invalid(name, expected, value)
        return number

    return parse


def _check(name: str, value: T, parse: Callable[[str, str], T]) -> T:
    """Validates a value given in code with the rule its variable is read with."""
    return parse(name, str(value))


def _read(name: str) -> str | None:
    """The variable ``name``, else its first deprecated alias that is set (with a warning); empty is unset."""
    for key in (name, *_ALIASES.get(name, ())):
        value = os.environ.get(key, "")
        if value != "":
            if key != name:
                log.warning("%s is deprecated; set %s instead", key, name)
            return value
    return None


def generate_id(type: str) -> str:
    """``<type>-worker-<8 hex>``: the id of a worker that was given none."""
    return f"{type}-worker-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class WorkerConfig:
    """Settings of a worker. Durations are in seconds.

    Build one in code (``WorkerConfig(api_url="http://coordinator:8000", type="training")``)
    or from the environment with :meth:`from_env`. An empty ``type`` takes the
    :class:`~foreman_worker.Worker`'s type; an empty ``id`` is generated as
    ``<type>-worker-<8 hex>`` (keep a fixed id across restarts in production).

    The last four fields are timings with no variable of their own; tests make them short.
    """

    api_url: str
    """The coordinator's base URL, without ``/api/v1`` (``FOREMAN_API_URL``)."""
    type: str = ""
    """The job type this worker runs (``FOREMAN_WORKER_TYPE``)."""
    id: str = ""
    """The worker's id (``FOREMAN_WORKER_ID``)."""
    capacity: int = 1
    """Jobs run at once, 1-1024 (``FOREMAN_WORKER_CAPACITY``)."""
    token: str | None = None
    """Bearer token for the coordinator (``FOREMAN_WORKER_TOKEN``); ``None``: no authentication."""
    heartbeat_interval_seconds: float = 10.0
    """Heartbeat period while a job is held (``FOREMAN_HEARTBEAT_INTERVAL_SECONDS``)."""
    drain_seconds: float = 30.0
    """On stop, how long running jobs may take to finish before they are cancelled (``FOREMAN_WORKER_DRAIN_SECONDS``)."""
    max_retries: int = 2
    """Re-runs of a failed job before it is reported Failed (``FOREMAN_WORKER_MAX_RETRIES``)."""
    poll_wait_seconds: float = 20.0
    """How long a poll may wait for a job, 0-60 (``FOREMAN_POLL_WAIT_SECONDS``)."""
    request_timeout_seconds: float = 10.0
    """HTTP timeout of every call but polls, which get ``poll_wait_seconds + 10``."""
    backoff_initial_seconds: float = 1.0
    """First pause before trying an unreachable coordinator again; doubles after each failure."""
    backoff_max_seconds: float = 30.0
    """Longest pause between attempts; the coordinator's ``retryWithinSeconds`` lowers it."""
    poll_timeout_margin_seconds: float = 10.0
    """How much longer than ``poll_wait_seconds`` a poll's HTTP timeout is."""
    parent_pid: int | None = None
    """A process whose end stops the worker (``FOREMAN_PARENT_PID``, set by ``foreman server --local-workers``)."""

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "api_url", _api_url("api_url", self.api_url))
        if self.type:
            _worker_type("type", self.type)
        if self.id:
            _worker_id("id", self.id)
        elif self.type:
            set_field(self, "id", generate_id(self.type))
        if self.token == "":
            set_field(self, "token", None)
        _check("capacity", self.capacity, _integer(1, 1024))
        _check("max_retries", self.max_retries, _integer(0))
        _check("heartbeat_interval_seconds", self.heartbeat_interval_seconds, _seconds(0, above=True))
        _check("drain_seconds", self.drain_seconds, _seconds(0))
        _check("poll_wait_seconds", self.poll_wait_seconds, _seconds(0, 60))
        _check("request_timeout_seconds", self.request_timeout_seconds, _seconds(0, above=True))
        _check("backoff_initial_seconds", self.backoff_initial_seconds, _seconds(0, above=True))
        _check("backoff_max_seconds", self.backoff_max_seconds, _seconds(0, above=True))
        _check("poll_timeout_margin_seconds", self.poll_timeout_margin_seconds, _seconds(0, above=True))

    @classmethod
    def from_env(cls, type: str | None = None) -> WorkerConfig:
        """Reads the ``FOREMAN_*`` variables; ``type`` is the worker type when ``FOREMAN_WORKER_TYPE`` is unset.

        Raises :class:`ValueError` naming the variable when one is missing or invalid.
        """
        api_url = _read("FOREMAN_API_URL")
        if api_url is None:
            raise ValueError("FOREMAN_API_URL is required: the coordinator's URL, e.g. http://coordinator:8000")
        worker_type = _read("FOREMAN_WORKER_TYPE") or type
        if not worker_type:
            raise ValueError(
                "FOREMAN_WORKER_TYPE is required: the kind of jobs this worker runs, e.g. training"
            )

        def setting(name: str, parse: Callable[[str, str], T], default: T) -> T:
            value = _read(name)
            return default if value is None else parse(name, value)

        return cls(
            api_url=_api_url("FOREMAN_API_URL", api_url),
            type=_worker_type("FOREMAN_WORKER_TYPE", worker_type),
            id=setting("FOREMAN_WORKER_ID", _worker_id, ""),
            capacity=setting("FOREMAN_WORKER_CAPACITY", _integer(1, 1024), 1),
            token=_read("FOREMAN_WORKER_TOKEN"),
            heartbeat_interval_seconds=setting("FOREMAN_HEARTBEAT_INTERVAL_SECONDS", _seconds(0, above=True), 10.0),
            drain_seconds=setting("FOREMAN_WORKER_DRAIN_SECONDS", _seconds(0), 30.0),
            max_retries=setting("FOREMAN_WORKER_MAX_RETRIES", _integer(0), 2),
            poll_wait_seconds=setting("FOREMAN_POLL_WAIT_SECONDS", _seconds(0, 60), 20.0),
            parent_pid=setting("FOREMAN_PARENT_PID", _integer(1), None),
        )
