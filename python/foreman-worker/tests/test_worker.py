"""The worker against a fake coordinator, at the wire."""

from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import Running
from fake_coordinator import FakeCoordinator

from foreman_worker import Job, JobCancelled, Worker, WorkerConfig

Start = Callable[..., Running]
WORKER = "test-worker-1"


def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Polls ``predicate`` until it holds (for state outside the fake coordinator)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def blocking(started: threading.Event, release: threading.Event, result: Any = None) -> Callable[[Job], Any]:
    """A handler that says it started, then waits for ``release``."""

    def handler(job: Job) -> Any:
        started.set()
        assert release.wait(10)
        return {"job": job.id} if result is None else result

    return handler


def test_registers_as_a_pull_worker_and_polls_on_one_connection(fake: FakeCoordinator, start: Start) -> None:
    fake.token = "s3cret"
    running = start(fake, {}, token="s3cret", poll_wait_seconds=0.05, capabilities={"models": {"rf": {"depth": [1, 2]}}})
    fake.wait_for(lambda: len(fake.calls("/poll")) >= 3)

    registration = fake.registrations[0]
    assert registration == {
        "id": WORKER,
        "type": "training",
        "capacity": 1,
        "runtime": f"python {sys.version_info[0]}.{sys.version_info[1]}",
        "capabilities": {"models": {"rf": {"depth": [1, 2]}}},
        "runningJobs": [],
        "finishedJobs": [],
        "sequence": registration["sequence"],
    }
    assert registration["sequence"] > 1_700_000_000_000
    polls = fake.calls("/poll")
    assert polls[0].body == {"waitSeconds": 0.05, "running": []}
    assert polls[0].headers["Authorization"] == "Bearer s3cret"
    assert polls[0].headers["X-Foreman-Worker-Secret"] == fake.workers[WORKER].secret
    assert len({poll.client_port for poll in polls}) == 1, "polls reuse their keep-alive connection"

    running.finish()
    assert fake.deregistered == [WORKER]


def test_a_final_report_waits_for_the_progress_report_in_flight(fake: FakeCoordinator, start: Start) -> None:
    """A slow coordinator: the job ends while its progress report is unanswered; the final one goes after it."""
    fake.set(report_delay=0.3)

    def train(job: Job) -> dict[str, object]:
        job.progress(0.5, "fold 2/4")
        fake.wait_for(lambda: "job_a" in fake.progress)
        return {"testAccuracy": 0.61}

    fake.offer("job_a")
    start(fake, {"training": train})
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    assert fake.progress["job_a"] == [{"_tag": "Progress", "progress": 0.5, "message": "fold 2/4"}]
    events = fake.report_events
    assert events.index(("job_a", "Progress", "answered")) < events.index(("job_a", "Completed", "arrived")), events


def test_a_job_completes_with_progress(fake: FakeCoordinator, start: Start, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="foreman_worker")
    seen: list[tuple[Any, ...]] = []

    def train(job: Job) -> dict[str, object]:
        seen.append((job.id, job.research_id, job.kind, job.attempt, job.input, job.cancelled))
        job.log.info("fitting")
        job.progress(0.5, "fold 2/4")
        fake.wait_for(lambda: "job_a" in fake.progress)
        return {"testAccuracy": 0.61, "testLoss": 0.52}

    fake.offer("job_a", input={"bars": [1, 2, 3]}, attempt=2)
    start(fake, {"training": train})
    fake.wait_for(lambda: "job_a" in fake.final_reports)

    assert seen == [("job_a", "op_test", "training", 2, {"bars": [1, 2, 3]}, False)]
    assert fake.progress["job_a"] == [{"_tag": "Progress", "progress": 0.5, "message": "fold 2/4"}]
    report = fake.final_reports["job_a"][0]
    assert report["_tag"] == "Completed"
    assert report["result"] == {"testAccuracy": 0.61, "testLoss": 0.52}
    assert report["next"] == {"waitSeconds": 2.0, "running": []}
    eventually(lambda: any("completed in" in r.getMessage() for r in caplog.records))
    lines = [r.getMessage() for r in caplog.records if r.name == "foreman_worker" and r.getMessage().startswith("job ")]
    assert lines[0] == "job job_a training attempt 2 started"
    assert re.fullmatch(r"job job_a training attempt 2 completed in \d+\.\ds", lines[1])
    assert any(r.name == "foreman_worker.job.job_a" and r.getMessage() == "fitting" for r in caplog.records)


def test_the_final_report_carries_the_next_job(fake: FakeCoordinator, start: Start) -> None:
    started, release = threading.Event(), threading.Event()
    fake.offer("job_a")
    start(fake, {"training": blocking(started, release)})
    assert started.wait(5)
    fake.offer("job_b")  # the worker is full: no poll takes it
    polls = len(fake.calls("/poll"))
    release.set()
    fake.wait_for(lambda: "job_b" in fake.final_reports)

    assert fake.delivered_by == {"job_a": ["poll"], "job_b": ["report"]}
    assert fake.final_reports["job_a"][0]["next"] == {"waitSeconds": 2.0, "running": []}
    assert len(fake.calls("/poll")) == polls, "no poll while a final report asks for the next job"


def test_a_failing_job_is_run_again_then_reported_failed(fake: FakeCoordinator, start: Start) -> None:
    runs: list[int] = []

    def train(job: Job) -> dict[str, object]:
        runs.append(job.attempt)
        raise ValueError("not enough bars")

    fake.offer("job_a")
    start(fake, {"training": train}, max_retries=2)
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    assert runs == [1, 1, 1]
    report = fake.final_reports["job_a"][0]
    assert (report["_tag"], report["error"]) == ("Failed", "ValueError: not enough bars")


def test_a_job_of_a_kind_without_handler_or_with_a_result_not_json_fails(fake: FakeCoordinator, start: Start) -> None:
    fake.offer("job_a", kind="backtest")
    fake.offer("job_b")
    start(fake, {"training": lambda job: {"tags": {"a", "b"}}})
    fake.wait_for(lambda: "job_a" in fake.final_reports and "job_b" in fake.final_reports)
    assert fake.final_reports["job_a"][0]["error"].startswith("LookupError: no handler for job kind 'backtest'")
    assert fake.final_reports["job_b"][0]["error"].startswith("TypeError: the result is not JSON")


def test_a_result_the_coordinator_cannot_take_is_reported_failed(fake: FakeCoordinator, start: Start) -> None:
    fake.max_result_chars = 50
    fake.offer("job_a")
    start(fake, {"training": lambda job: {"weights": "x" * 100}})
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    [report] = fake.final_reports["job_a"]
    assert report["_tag"] == "Failed"
    assert "413 PayloadTooLarge" in report["error"]


def cancellable(started: threading.Event, cancelled: threading.Event, progress: bool = False) -> Callable[[Job], Any]:
    """A handler that runs until its job is cancelled, reporting progress when asked to."""

    def handler(job: Job) -> Any:
        started.set()
        try:
            while True:
                if progress:
                    job.progress(0.1)
                job.wait(0.02)
                job.check_cancelled()
        except JobCancelled:
            cancelled.set()
            raise

    return handler


@pytest.mark.parametrize(
    ("channel", "settings"),
    [
        ("heartbeat", {"heartbeat_interval_seconds": 0.05}),
        ("poll", {"heartbeat_interval_seconds": 60.0, "capacity": 2}),
        ("progress", {"heartbeat_interval_seconds": 60.0}),
    ],
)
def test_a_cancelled_job_stops_without_a_report(
    fake: FakeCoordinator, start: Start, channel: str, settings: dict[str, Any]
) -> None:
    started, cancelled = threading.Event(), threading.Event()
    fake.offer("job_a")
    start(fake, {"training": cancellable(started, cancelled, progress=channel == "progress")}, **settings)
    assert started.wait(5)
    if channel == "poll":
        fake.wait_for(lambda: any(p.body["running"] == ["job_a"] for p in fake.calls("/poll")))
    fake.cancel("job_a")
    assert cancelled.wait(5)
    if channel != "progress":
        assert ("job_a", channel) in fake.stops_sent
    # The slot is free again: the worker polls without the job.
    fake.wait_for(lambda: fake.calls("/poll")[-1].body["running"] == [])
    assert "job_a" not in fake.final_reports


@pytest.mark.parametrize("answer", ["404 WorkerNotFound", "403 WorkerNotAuthenticated"])
def test_registers_again_listing_its_running_job(fake: FakeCoordinator, start: Start, answer: str) -> None:
    started, release = threading.Event(), threading.Event()
    fake.offer("job_a")
    start(fake, {"training": blocking(started, release)}, heartbeat_interval_seconds=0.05)
    assert started.wait(5)
    if answer.startswith("404"):
        fake.forget(WORKER)
    else:
        fake.set(workers={WORKER: replace(fake.workers[WORKER], secret="another registration's")})
    fake.wait_for(lambda: len(fake.registrations) == 2)
    first, second = fake.registrations
    assert second["runningJobs"] == ["job_a"] and second["finishedJobs"] == []
    assert second["sequence"] > first["sequence"]
    release.set()
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    assert fake.final_reports["job_a"][0]["_tag"] == "Completed"


def test_an_undelivered_final_report_goes_with_the_next_registration(fake: FakeCoordinator, start: Start) -> None:
    started, release = threading.Event(), threading.Event()
    fake.offer("job_a")
    start(fake, {"training": blocking(started, release, {"testAccuracy": 0.6})}, heartbeat_interval_seconds=60.0)
    assert started.wait(5)
    fake.forget(WORKER)
    release.set()
    fake.wait_for(lambda: len(fake.registrations) == 2)
    assert fake.registrations[1]["runningJobs"] == []
    assert fake.registrations[1]["finishedJobs"] == [
        {"_tag": "Completed", "result": {"testAccuracy": 0.6}, "jobId": "job_a", "workerId": WORKER}
    ]
    # Delivered with the registration: the worker lets the job go and polls for the next.
    fake.wait_for(lambda: any(p.body["running"] == [] for p in fake.calls("/poll")[1:]))
    assert len(fake.final_reports["job_a"]) == 1


@pytest.mark.parametrize("trouble", ["unavailable", "down"])
def test_keeps_trying_while_the_coordinator_is_away(fake: FakeCoordinator, start: Start, trouble: str) -> None:
    count = "unavailable_answers" if trouble == "unavailable" else "dropped"
    fake.set(**{trouble: True})
    started, release = threading.Event(), threading.Event()
    start(fake, {"training": blocking(started, release)})
    fake.wait_for(lambda: getattr(fake, count) >= 3)
    assert not fake.registrations
    fake.set(**{trouble: False})
    fake.wait_for(lambda: fake.registrations)

    fake.offer("job_a")
    assert started.wait(5)
    fake.set(**{trouble: True})
    seen = getattr(fake, count)
    release.set()
    fake.wait_for(lambda: getattr(fake, count) >= seen + 3)
    fake.set(**{trouble: False})
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    assert fake.final_reports["job_a"][-1]["_tag"] == "Completed"


def test_waits_for_a_coordinator_that_is_not_listening_yet(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start(f"http://127.0.0.1:{port}", {})
    eventually(lambda: sum("cannot register" in r.getMessage() for r in caplog.records) >= 2)
    fake = FakeCoordinator(port=port)
    try:
        fake.wait_for(lambda: fake.registrations)
    finally:
        fake.close()


def test_stop_drains_the_running_job_takes_no_other_and_deregisters(fake: FakeCoordinator, start: Start) -> None:
    started, release = threading.Event(), threading.Event()
    fake.offer("job_a")
    running = start(fake, {"training": blocking(started, release, {"ok": True})})
    assert started.wait(5)
    fake.offer("job_b")
    running.worker.stop()
    release.set()
    running.join()

    assert fake.final_reports["job_a"] == [{"_tag": "Completed", "result": {"ok": True}}]
    assert [job["jobId"] for job in fake.queue] == ["job_b"]
    assert fake.deregistered == [WORKER]


def test_a_job_still_running_at_the_drain_deadline_is_cancelled(fake: FakeCoordinator, start: Start) -> None:
    started, cancelled = threading.Event(), threading.Event()
    fake.offer("job_a")
    running = start(fake, {"training": cancellable(started, cancelled)}, drain_seconds=0.1)
    assert started.wait(5)
    running.finish()
    assert cancelled.wait(5)
    assert "job_a" not in fake.final_reports
    assert fake.deregistered == [WORKER]


def test_stop_cuts_a_waiting_poll_short(fake: FakeCoordinator, start: Start) -> None:
    running = start(fake, {}, poll_wait_seconds=30.0)
    fake.wait_for(lambda: fake.calls("/poll"))
    began = time.monotonic()
    running.finish()
    assert time.monotonic() - began < 2
    assert fake.deregistered == [WORKER]


def test_a_job_offered_again_runs_once(fake: FakeCoordinator, start: Start) -> None:
    runs: list[str] = []

    def train(job: Job) -> dict[str, object]:
        runs.append(job.id)
        return {}

    fake.offer("job_a")
    start(fake, {"training": train}, capacity=2)
    fake.wait_for(lambda: "job_a" in fake.final_reports)
    fake.offer("job_a", "job_a", "job_b")
    fake.wait_for(lambda: "job_b" in fake.final_reports)
    assert runs == ["job_a", "job_b"]
    assert len(fake.final_reports["job_a"]) == 1


def test_a_refused_first_registration_raises(fake: FakeCoordinator, start: Start) -> None:
    fake.token = "expected"
    running = start(fake, {}, token="wrong")
    with pytest.raises(RuntimeError, match="401 Unauthorized"):
        running.join()


def test_one_handler_per_kind(fake: FakeCoordinator) -> None:
    worker = Worker(type="training", config=WorkerConfig(api_url=fake.url))
    assert worker.id.startswith("training-worker-")
    worker.handler("training")(lambda job: {})
    with pytest.raises(ValueError, match="already registered"):
        worker.handler("training")(lambda job: {})


def test_sigterm_drains_and_exits_0(fake: FakeCoordinator) -> None:
    script = textwrap.dedent(
        """
        import sys
        from foreman_worker import Worker, WorkerConfig
        config = WorkerConfig(api_url=sys.argv[1], id="sig-worker", poll_wait_seconds=30, poll_timeout_margin_seconds=2)
        Worker(type="training", config=config).run()
        """
    )
    package = str(Path(__file__).resolve().parents[1])
    process = subprocess.Popen([sys.executable, "-c", script, fake.url], env={"PYTHONPATH": package})
    try:
        fake.wait_for(lambda: fake.calls("/poll"), timeout=10)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert fake.deregistered == ["sig-worker"]


def test_stops_once_the_server_that_started_it_is_gone(fake: FakeCoordinator, start: Start) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        running = start(fake, {}, parent_pid=parent.pid)
        fake.wait_for(lambda: fake.calls("/poll"))
        assert fake.deregistered == []
        parent.kill()
        parent.wait()
        fake.wait_for(lambda: fake.deregistered == [WORKER])
        running.join()
    finally:
        parent.kill()
