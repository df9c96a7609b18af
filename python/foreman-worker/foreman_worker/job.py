"""A job as a handler sees it: its input, progress reports, cooperative cancellation, a logger."""

from __future__ import annotations

import logging
import math
import threading
from typing import Any, Callable

__all__ = ["Job", "JobCancelled"]

_job_loggers = logging.getLogger("foreman_worker.job")


class JobCancelled(Exception):
    """Raised in a handler when its job was cancelled: let it propagate (no report is sent)."""


class Job:
    """One job given to a handler.

    ``cancelled`` turns true when the coordinator stops the job (an operator cancelled it,
    or it was given to another worker) or when the worker's drain deadline passes. Python
    cannot stop a thread, so cancellation is cooperative: check it between steps with
    :meth:`check_cancelled` or :meth:`progress`, both of which raise :class:`JobCancelled`.
    """

    def __init__(
        self,
        *,
        id: str,
        research_id: str,
        kind: str,
        attempt: int,
        input: Any,
        on_progress: Callable[[str, float, str | None], None],
    ) -> None:
        self.id = id
        """The job's id (``job_…``)."""
        self.research_id = research_id
        """The research the job belongs to (``op_…``)."""
        self.kind = kind
        """The job's kind: the handler that runs it (``training``, ``backtest``, …)."""
        self.attempt = attempt
        """1 for the first attempt; the coordinator counts up when it retries the phase elsewhere."""
        self.input = input
        """The job's input, decoded from JSON."""
        # Not registered with logging's manager, so a long-running worker does not keep one logger per job.
        self.log = logging.Logger(f"{_job_loggers.name}.{id}")
        """A logger for the job, named ``foreman_worker.job.<id>`` (its records go to ``foreman_worker.job``)."""
        self.log.parent = _job_loggers
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._reason = ""

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled; a handler that sees it should stop soon."""
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        """Raises :class:`JobCancelled` when the job was cancelled."""
        if self._cancelled.is_set():
            raise JobCancelled(f"job {self.id} was cancelled: {self._reason}")

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Reports how far the job is (0 to 1; clamped) and, optionally, what it is doing.

        Returns at once: the report is sent in the background, best effort (a report that
        cannot be delivered is dropped, never raised). Raises :class:`JobCancelled` when
        the job was cancelled meanwhile.
        """
        self.check_cancelled()
        if not math.isfinite(fraction):
            raise ValueError(f"progress must be a number from 0 to 1, got {fraction!r}")
        self._on_progress(self.id, min(1.0, max(0.0, float(fraction))), None if message is None else message[:1000])

    def wait(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``, waking early when the job is cancelled; returns :attr:`cancelled`."""
        return self._cancelled.wait(seconds)

    def _cancel(self, reason: str) -> None:
        if not self._cancelled.is_set():
            self._reason = reason
            self._cancelled.set()

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, kind={self.kind!r}, attempt={self.attempt})"
