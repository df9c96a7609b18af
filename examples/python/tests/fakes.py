"""A fake job for calling the handlers without a coordinator, and job inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field


class Cancelled(Exception):
    """What the fake job raises once it is cancelled (the SDK raises its JobCancelled)."""


@dataclass
class FakeJob:
    """A job as a handler sees it; records progress and cancels after ``cancel_after`` checks."""

    input: object
    cancel_after: int | None = None
    reports: list[tuple[float, str | None]] = field(default_factory=list)
    checks: int = 0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("fake-job"))

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.reports.append((fraction, message))

    def check_cancelled(self) -> None:
        self.checks += 1
        if self.cancel_after is not None and self.checks > self.cancel_after:
            raise Cancelled()


def strategy(**spec: object) -> dict[str, object]:
    """A job input ``{strategy}`` with the given spec."""
    return {"strategy": {"name": "test_strategy", "spec": spec}}


def with_training(job_input: dict[str, object], training: object) -> dict[str, object]:
    """A backtest job's input ``{strategy, training}``."""
    return {**job_input, "training": training}
