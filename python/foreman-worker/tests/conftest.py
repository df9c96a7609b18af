"""Fixtures: a fake coordinator, and workers with short timings running on a thread."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest
from fake_coordinator import FakeCoordinator

from foreman_worker import Worker, WorkerConfig

FAST: dict[str, Any] = dict(
    heartbeat_interval_seconds=0.1,
    poll_wait_seconds=2.0,
    drain_seconds=5.0,
    request_timeout_seconds=2.0,
    backoff_initial_seconds=0.02,
    backoff_max_seconds=0.1,
    poll_timeout_margin_seconds=2.0,
)


class Running:
    """A worker running on a thread; ``finish`` stops it and waits for ``run`` to return."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as error:
            self.error = error

    def join(self, timeout: float = 10.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "Worker.run() did not return"
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        self.worker.stop()
        self.join()


@pytest.fixture
def fake() -> Iterator[FakeCoordinator]:
    coordinator = FakeCoordinator()
    yield coordinator
    coordinator.close()


@pytest.fixture
def start() -> Iterator[Callable[..., Running]]:
    """``start(fake_or_url, handlers={"training": fn}, **settings)``: builds and runs a worker."""
    started: list[Running] = []

    def start(target: FakeCoordinator | str, handlers: dict[str, Callable[..., Any]], **settings: Any) -> Running:
        capabilities = settings.pop("capabilities", None)
        url = target if isinstance(target, str) else target.url
        config = WorkerConfig(api_url=url, type="training", id="test-worker-1", **{**FAST, **settings})
        worker = Worker(type="training", capabilities=capabilities, config=config)
        for kind, fn in handlers.items():
            worker.handler(kind)(fn)
        running = Running(worker)
        started.append(running)
        running.thread.start()
        return running

    yield start
    for running in started:
        running.worker.stop()
        running.thread.join(10)
