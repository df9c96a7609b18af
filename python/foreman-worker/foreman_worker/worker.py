"""The worker: registers, polls for jobs, runs each on its own thread, reports, drains on stop.

It follows the pull protocol, version 1 (``docs/worker-protocol.md``). The threads:

- ``run()``'s thread registers, then polls while a slot is free, then drains;
- one thread per job runs its handler, then delivers its final report, which asks for the
  next job (``next``) when no other call is asking;
- a heartbeat thread lists the jobs held every interval and stops those the coordinator
  no longer wants; a progress thread sends the latest progress of each job.

All shared state is guarded by one condition, ``_state``. A job is *held* from the moment
a poll hands it over until its final report is answered (or the coordinator stops it);
held jobs are what every call lists as ``running``.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any, Callable, Literal, Mapping, TypeVar

from .client import Client, Interrupted, Refused, Unreachable, path_part
from .config import WorkerConfig
from .job import Job, JobCancelled

__all__ = ["Worker"]

log = logging.getLogger("foreman_worker")

Handler = Callable[[Job], object]
H = TypeVar("H", bound=Handler)

# Answers after which a final report is settled: delivered, or not wanted.
_SETTLED = frozenset({200, 201, 204, 400, 403, 404, 413})
# Job statuses in a progress answer under which the job goes on.
_GOING_ON = frozenset({"running", "pending"})
# How many finished job ids are remembered so that a job offered again is not run twice.
_REMEMBERED = 10_000


class _Reregistered(Exception):
    """The coordinator had forgotten the worker, which has registered again: retry the call."""


@dataclass
class _Held:
    job: Job
    report: dict[str, Any] | None = None
    """The final report, once the handler has returned."""
    replaced: bool = False
    """Whether ``report`` is a failure standing in for a report the coordinator refused."""


class _Backoff:
    """1 s (configurable) doubling, capped by what the coordinator tolerates."""

    def __init__(self, initial: float, cap: Callable[[], float]) -> None:
        self._initial = initial
        self._cap = cap
        self._next = initial

    def next(self) -> float:
        delay = min(self._next, self._cap())
        self._next = min(self._next * 2, self._cap())
        return delay

    def reset(self) -> None:
        self._next = self._initial


class Worker:
    """A worker process for one job type.

    ``capabilities`` are sent with the registration (the designer reads ``indicators``,
    ``instruments``, ``timeframes``, ``models``); ``runtime`` defaults to ``python X.Y``.
    Settings come from the ``FOREMAN_*`` variables (:meth:`WorkerConfig.from_env`) unless
    ``config`` is given; the worker type is ``type`` unless ``FOREMAN_WORKER_TYPE`` (or
    ``config.type``) sets another.
    """

    def __init__(
        self,
        type: str,
        capabilities: Mapping[str, object] | None = None,
        runtime: str | None = None,
        config: WorkerConfig | None = None,
    ) -> None:
        config = config if config is not None else WorkerConfig.from_env(type=type)
        self.config = config if config.type else replace(config, type=type)
        """The settings in force."""
        self.capabilities: dict[str, object] = dict(capabilities or {})
        self.runtime = runtime if runtime is not None else f"python {sys.version_info[0]}.{sys.version_info[1]}"
        self._handlers: dict[str, Handler] = {}
        self._client = Client(self.config.api_url, self.config.token, self.config.request_timeout_seconds)
        self._state = threading.Condition()
        self._held: dict[str, _Held] = {}
        self._busy: set[str] = set()  # jobs whose handler is still running, held or not
        self._finished: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._progress: dict[str, tuple[float, str | None]] = {}
        self._progress_in_flight: set[str] = set()  # jobs whose progress report is being sent
        self._asking = False  # a poll, or a final report with `next`, is under way
        self._started = False
        self._stopping = False
        self._stop_requested = threading.Event()
        self._done = threading.Event()  # set when the drain is over: every loop ends
        self._register_lock = threading.Lock()
        self._secret: str | None = None
        self._retry_within = self.config.backoff_max_seconds
        self._sequence = 0

    @property
    def id(self) -> str:
        """The worker's id."""
        return self.config.id

    def handler(self, kind: str) -> Callable[[H], H]:
        """Decorator: ``fn`` runs the jobs of ``kind``; it returns the result (JSON) or raises.

        A job of a kind with no handler is reported Failed.
        """

        def register(fn: H) -> H:
            if kind in self._handlers:
                raise ValueError(f"a handler for job kind {kind!r} is already registered")
            self._handlers[kind] = fn
            return fn

        return register

    def stop(self) -> None:
        """Asks the worker to drain (thread-safe): stop polling, let running jobs finish, deregister."""
        with self._state:
            if self._stopping:
                return
            log.info("worker %s stopping: no new jobs; draining", self.id)
            self._stopping = True
            self._state.notify_all()
        self._stop_requested.set()
        self._client.interrupt()

    def run(self) -> None:
        """Runs until :meth:`stop` or SIGTERM/SIGINT (handled when called on the main thread), then drains.

        Returns normally once drained and deregistered. Raises :class:`RuntimeError` when
        the coordinator refuses the first registration (a bad token, a bad id).
        """
        if self._started:
            raise RuntimeError("a Worker runs once")
        self._started = True
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        restore = self._handle_signals()
        try:
            if not self._register_first():
                return
            log.info(
                "worker %s (%s) registered with %s, capacity %d", self.id, self.config.type, self.config.api_url,
                self.config.capacity,
            )
            for loop in (self._heartbeat_loop, self._progress_loop, self._parent_watch):
                threading.Thread(target=loop, name=f"foreman-{loop.__name__.strip('_')}", daemon=True).start()
            self._poll_loop()
            self._drain()
        finally:
            self._done.set()
            with self._state:
                self._state.notify_all()
            restore()

    def _parent_watch(self) -> None:
        """Drains and stops once the process in ``parent_pid`` is gone (the server that started this worker)."""
        pid = self.config.parent_pid
        if pid is None:
            return
        while not self._stop_requested.wait(1.0):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.warning("the server (pid %d) is gone: draining and stopping", pid)
                self.stop()
            except PermissionError:
                pass  # alive, someone else's

    # Registration

    def _register_first(self) -> bool:
        """Registers, retrying while the coordinator is away; False when stopped first."""
        backoff = _Backoff(self.config.backoff_initial_seconds, self._backoff_cap)
        while not self._stop_requested.is_set():
            try:
                with self._register_lock:
                    self._register_once()
                return True
            except Unreachable as error:
                log.warning("cannot register with %s (%s); retrying", self.config.api_url, error)
            except Refused as error:
                raise RuntimeError(f"the coordinator refused the registration of {self.id}: {error}") from None
            self._stop_requested.wait(backoff.next())
        return False

    def _register_once(self) -> None:
        """One registration (under ``_register_lock``), listing the jobs held; raises Unreachable or Refused."""
        with self._state:
            body = self._registration()
        answer = _mapping(self._client.call("POST", "/workers/register", body))
        with self._state:
            self._secret = str(answer.get("secret", ""))
            self._retry_within = float(answer.get("retryWithinSeconds", self._retry_within))
            for report in body["finishedJobs"]:
                held = self._held.get(report["jobId"])
                delivered = held is not None and held.report is not None and report == {
                    **held.report, "jobId": report["jobId"], "workerId": self.id
                }
                if delivered:
                    self._forget(report["jobId"])  # delivered with the registration
            for job_id in answer.get("cancel", []):
                self._drop(job_id, "the coordinator runs it elsewhere")

    def _registration(self) -> dict[str, Any]:
        self._sequence = max(time.time_ns() // 1_000_000, self._sequence + 1)
        return {
            "id": self.id,
            "type": self.config.type,
            "capacity": self.config.capacity,
            "runtime": self.runtime,
            "capabilities": self.capabilities,
            "runningJobs": [job_id for job_id, held in self._held.items() if held.report is None],
            "finishedJobs": [
                {**held.report, "jobId": job_id, "workerId": self.id}
                for job_id, held in self._held.items() if held.report is not None
            ],
            "sequence": self._sequence,
        }

    def _reregister(self, stale_secret: str | None) -> None:
        """Registers again after the coordinator forgot this worker, unless another thread already did.

        One attempt: the caller retries as it retries its own call. Raises :class:`Unreachable`.
        """
        with self._register_lock:
            if self._secret != stale_secret or self._done.is_set():
                return
            log.warning("the coordinator does not know worker %s (any more): registering again", self.id)
            try:
                self._register_once()
            except Refused as error:
                log.error("the coordinator refused the registration of %s: %s", self.id, error)
                raise Unreachable(f"registration refused: {error}") from None

    def _backoff_cap(self) -> float:
        return min(self.config.backoff_max_seconds, self._retry_within)

    def _call(self, method: str, path: str, body: object = None, **options: Any) -> Any:
        """A call about this worker; registers again and raises :class:`_Reregistered` when the coordinator forgot it."""
        secret = self._secret
        try:
            return self._client.call(method, f"/workers/{path_part(self.id)}{path}", body, secret=secret, **options)
        except Refused as error:
            if (error.status, error.tag) in ((404, "WorkerNotFound"), (403, "WorkerNotAuthenticated")):
                self._reregister(secret)
                raise _Reregistered() from error
            raise

    # Polling and taking jobs

    def _poll_loop(self) -> None:
        backoff = _Backoff(self.config.backoff_initial_seconds, self._backoff_cap)
        wait = self.config.poll_wait_seconds
        while True:
            with self._state:
                while not self._stopping and (self._asking or not self._slot_free()):
                    self._state.wait()
                if self._stopping:
                    return
                self._asking = True
                running = list(self._held)
            answer: Mapping[str, Any] | None = None
            started = 0
            pause = True
            try:
                answer = _mapping(self._call(
                    "POST", "/poll", {"waitSeconds": wait, "running": running},
                    timeout=wait + self.config.poll_timeout_margin_seconds, interruptible=True,
                ))
                backoff.reset()
            except Interrupted:
                pause = False
            except _Reregistered:
                pass
            except (Unreachable, Refused) as error:
                log.warning("poll failed (%s); retrying", error)
            finally:
                with self._state:
                    if answer is not None:
                        started = self._take(answer)
                    self._asking = False
                    self._state.notify_all()
            if answer is None:
                if pause:
                    self._stop_requested.wait(backoff.next())
            elif answer.get("jobs") and started == 0:
                # Only jobs run here already: do not spin if the coordinator keeps offering them.
                self._stop_requested.wait(self.config.backoff_initial_seconds)

    def _slot_free(self) -> bool:
        return len(self._busy.union(self._held)) < self.config.capacity

    def _take(self, answer: Mapping[str, Any]) -> int:
        """Acts on a poll's answer (under ``_state``): stops what it says, starts its new jobs; returns how many."""
        for job_id in answer.get("stop", []):
            self._drop(job_id, "stopped by the coordinator")
        started = 0
        for spec in answer.get("jobs", []):
            job_id = str(spec["jobId"])
            if job_id in self._held or job_id in self._busy or job_id in self._finished:
                log.info("job %s offered again: it runs or ran here already; not running it twice", job_id)
            elif self._stopping:
                log.info("job %s offered while draining: left to the coordinator", job_id)
            else:
                self._start(spec)
                started += 1
        return started

    def _start(self, spec: Mapping[str, Any]) -> None:
        job = Job(
            id=str(spec["jobId"]),
            research_id=str(spec.get("researchId", "")),
            kind=str(spec.get("kind", "")),
            attempt=int(spec.get("attempt", 1)),
            input=spec.get("input"),
            on_progress=self._report_progress,
        )
        self._held[job.id] = _Held(job)
        self._busy.add(job.id)
        threading.Thread(target=self._run_job, args=(job,), name=f"foreman-job-{job.id}", daemon=True).start()

    def _drop(self, job_id: str, reason: str) -> None:
        """Stops a job the coordinator no longer wants from this worker (under ``_state``); no report follows."""
        held = self._held.get(job_id)
        if held is None:
            return
        if held.report is None:
            held.job._cancel(reason)
            log.info("job %s dropped: %s", job_id, reason)
        else:
            log.info("job %s: its report is no longer wanted (%s)", job_id, reason)
        self._forget(job_id)

    def _forget(self, job_id: str) -> None:
        """Lets go of a held job (under ``_state``), remembering its id so that it never runs again here."""
        self._held.pop(job_id, None)
        self._progress.pop(job_id, None)
        self._finished[job_id] = None
        while len(self._finished) > _REMEMBERED:
            self._finished.popitem(last=False)
        self._state.notify_all()

    # Running a job

    def _run_job(self, job: Job) -> None:
        try:
            report = self._execute(job)
        finally:
            with self._state:
                self._busy.discard(job.id)
                self._state.notify_all()
        with self._state:
            held = self._held.get(job.id)
            if held is None or report is None:
                return
            held.report = report
            self._progress.pop(job.id, None)
            # The final report never overtakes the job's progress report in flight.
            while job.id in self._progress_in_flight:
                self._state.wait()
        self._deliver(job.id)

    def _execute(self, job: Job) -> dict[str, Any] | None:
        """Runs the handler, re-running it after a failure up to ``max_retries`` times; None when cancelled."""
        started = time.monotonic()
        log.info("job %s %s attempt %d started", job.id, job.kind, job.attempt)
        handler = self._handlers.get(job.kind)
        report: dict[str, Any] | None
        if handler is None:
            known = ", ".join(sorted(self._handlers)) or "none"
            report = _failed(f"LookupError: no handler for job kind {job.kind!r} on this worker (it has: {known})")
        else:
            report = self._attempts(job, handler)
        if job.cancelled:
            report = None
        outcome = "cancelled" if report is None else "completed" if report["_tag"] == "Completed" else "failed"
        detail = f": {report['error']}" if report is not None and report["_tag"] == "Failed" else ""
        log.info(
            "job %s %s attempt %d %s in %.1fs%s", job.id, job.kind, job.attempt, outcome,
            time.monotonic() - started, detail,
        )
        return report

    def _attempts(self, job: Job, handler: Handler) -> dict[str, Any] | None:
        runs = self.config.max_retries + 1
        run = 0
        while True:
            run += 1
            try:
                result = handler(job)
            except JobCancelled:
                return None
            except BaseException as error:  # a handler's failure, whatever it is, fails its job, not the worker
                if job.cancelled:
                    return None
                if run == runs:
                    job.log.warning("job %s failed", job.id, exc_info=True)
                    return _failed(_describe(error))
                job.log.warning(
                    "job %s failed (run %d of %d): %s; running it again", job.id, run, runs, _describe(error),
                    exc_info=True,
                )
                continue
            try:
                json.dumps(result, allow_nan=False)
            except (TypeError, ValueError) as error:
                return _failed(f"{type(error).__name__}: the result is not JSON: {error}")
            return {"_tag": "Completed", "result": result}

    def _report_progress(self, job_id: str, fraction: float, message: str | None) -> None:
        with self._state:
            held = self._held.get(job_id)
            if held is not None and held.report is None:
                self._progress[job_id] = (fraction, message)
                self._state.notify_all()

    # Final reports

    def _deliver(self, job_id: str) -> None:
        """Sends a job's final report until it is answered or no longer wanted."""
        backoff = _Backoff(self.config.backoff_initial_seconds, self._backoff_cap)
        while not self._done.is_set():
            outcome = self._send_final(job_id)
            if outcome == "settled":
                return
            if outcome == "later":
                self._done.wait(backoff.next())

    def _send_final(self, job_id: str) -> Literal["settled", "again", "later"]:
        """One attempt at a job's final report, asking for the next job when no other call is asking."""
        wait = self.config.poll_wait_seconds
        with self._state:
            held = self._held.get(job_id)
            if held is None or held.report is None:
                return "settled"  # delivered with a registration, or stopped by the coordinator
            asks = not self._asking and not self._stopping
            self._asking = self._asking or asks
            running = [other for other in self._held if other != job_id]
        body = {**held.report, "next": {"waitSeconds": wait, "running": running}} if asks else held.report
        answer: Mapping[str, Any] | None = None
        try:
            answer = _mapping(self._call(
                "POST", f"/jobs/{path_part(job_id)}/report", body,
                timeout=(wait + self.config.poll_timeout_margin_seconds) if asks else None, interruptible=asks,
            ))
            return "settled"
        except Interrupted:
            return "again"  # stopping: send it again without asking for more
        except _Reregistered:
            return "later"
        except Unreachable as error:
            log.warning("cannot deliver the report on job %s (%s); retrying", job_id, error)
            return "later"
        except Refused as error:
            if error.status not in _SETTLED:
                log.warning("the coordinator refused the report on job %s (%s); retrying", job_id, error)
                return "later"
            with self._state:
                return "again" if self._refused(job_id, held, error) else "settled"
        finally:
            # The next jobs take the slot this job frees in one step, so no poll slips in between.
            with self._state:
                if answer is not None:
                    if self._held.get(job_id) is held:
                        self._forget(job_id)
                    if asks:
                        self._take(_mapping(answer.get("next")))
                if asks:
                    self._asking = False
                    self._state.notify_all()

    def _refused(self, job_id: str, held: _Held, error: Refused) -> bool:
        """After a settled refusal (under ``_state``): True to send the failure that replaces the report."""
        if self._held.get(job_id) is not held:
            return False
        if error.status in (400, 413) and not held.replaced and held.report is not None:
            log.warning("the coordinator cannot take the report on job %s (%s): reporting it failed", job_id, error)
            reason = f"the coordinator refused the job's report ({error})"
            if held.report["_tag"] == "Failed":
                reason += f"; the job failed: {held.report['error']}"
            held.report = _failed(reason.replace("\x00", ""))
            held.replaced = True
            return True
        log.warning("the coordinator refused the report on job %s (%s): dropping it", job_id, error)
        self._forget(job_id)
        return False

    # Heartbeats and progress

    def _heartbeat_loop(self) -> None:
        while not self._done.wait(self.config.heartbeat_interval_seconds):
            with self._state:
                running = list(self._held)
                busy = bool(self._busy)
            if not running and not busy:
                continue
            try:
                answer = self._call("POST", "/heartbeat", {"healthy": True, "running": running})
            except _Reregistered:
                continue
            except (Unreachable, Refused) as error:
                log.warning("heartbeat failed (%s)", error)
                continue
            with self._state:
                for job_id in _mapping(answer).get("stop", []):
                    self._drop(job_id, "stopped by the coordinator")

    def _progress_loop(self) -> None:
        while True:
            with self._state:
                while not self._progress and not self._done.is_set():
                    self._state.wait()
                if self._done.is_set():
                    return
                pending, self._progress = self._progress, {}
                self._progress_in_flight.update(pending)
            for job_id, (fraction, message) in pending.items():
                try:
                    self._send_progress(job_id, fraction, message)
                finally:
                    with self._state:
                        self._progress_in_flight.discard(job_id)
                        self._state.notify_all()

    def _send_progress(self, job_id: str, fraction: float, message: str | None) -> None:
        body: dict[str, Any] = {"_tag": "Progress", "progress": fraction}
        if message is not None:
            body["message"] = message
        try:
            answer = self._call("POST", f"/jobs/{path_part(job_id)}/report", body)
        except (Unreachable, _Reregistered) as error:
            log.debug("progress of job %s not delivered (%s)", job_id, error)
            return
        except Refused as error:
            if error.tag in ("JobNotAssigned", "JobNotFound"):
                with self._state:
                    self._drop_running(job_id, f"the coordinator does not assign it to this worker ({error.tag})")
            else:
                log.warning("progress of job %s refused (%s)", job_id, error)
            return
        status = _mapping(answer).get("status")
        if isinstance(status, str) and status not in _GOING_ON:
            with self._state:
                self._drop_running(job_id, f"the coordinator has it {status}")

    def _drop_running(self, job_id: str, reason: str) -> None:
        """Drops a job whose handler still runs (under ``_state``); one that finished meanwhile keeps its report."""
        held = self._held.get(job_id)
        if held is not None and held.report is None:
            self._drop(job_id, reason)

    # Stopping

    def _drain(self) -> None:
        """Waits for held jobs to finish and their reports to be answered, up to the drain deadline; deregisters."""
        deadline = time.monotonic() + self.config.drain_seconds
        with self._state:
            if self._held:
                log.info("waiting up to %gs for %d job(s)", self.config.drain_seconds, len(self._held))
            while self._held and (left := deadline - time.monotonic()) > 0:
                self._state.wait(left)
            for job_id, held in list(self._held.items()):
                if held.report is None:
                    held.job._cancel("the worker stopped")
                    log.warning("job %s still running at the drain deadline: cancelled", job_id)
                else:
                    log.warning("the report on job %s could not be delivered before the drain deadline", job_id)
                self._forget(job_id)
        self._done.set()
        with self._register_lock:
            try:
                self._client.call("DELETE", f"/workers/{path_part(self.id)}", secret=self._secret)
                log.info("worker %s drained and deregistered", self.id)
            except (Unreachable, Refused) as error:
                log.warning("could not deregister (%s); the coordinator will notice the silence", error)

    def _handle_signals(self) -> Callable[[], None]:
        """Drains on the first SIGTERM/SIGINT (the second acts as usual); returns what restores the handlers."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            restore()
            # stop() takes locks this very thread may hold where the signal interrupted it.
            threading.Thread(target=self.stop, name="foreman-stop", daemon=True).start()

        for sig in previous:
            signal.signal(sig, on_signal)
        return restore


def _mapping(value: Any) -> Mapping[str, Any]:
    """An answer's JSON object; an empty one when the answer is something else."""
    return value if isinstance(value, dict) else {}


def _failed(error: str) -> dict[str, Any]:
    return {"_tag": "Failed", "error": error[:10_000]}


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
