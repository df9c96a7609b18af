"""A small coordinator speaking the pull protocol's wire format, for the SDK's tests.

It keeps what it is sent (registrations, polls, heartbeats, reports) and hands out the jobs
a test queues. Switches make it answer 503 (``unavailable``), drop connections unanswered
(``down``) or forget a worker (``forget``). Every change notifies ``changed``, so a test
waits for a condition with :meth:`FakeCoordinator.wait_for`, never with a fixed sleep.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

WORKER_PATH = re.compile(r"/api/v1/workers/([^/]+)(?:/(poll|heartbeat)|/jobs/([^/]+)/report)?")


@dataclass
class Request:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    client_port: int


@dataclass
class Worker:
    secret: str
    capacity: int
    jobs: set[str] = field(default_factory=set)


class FakeCoordinator:
    """The coordinator's side of the pull protocol, in memory, on 127.0.0.1."""

    def __init__(self, port: int = 0, token: str | None = None) -> None:
        self.token = token
        self.changed = threading.Condition()
        self.requests: list[Request] = []
        self.registrations: list[dict[str, Any]] = []
        self.workers: dict[str, Worker] = {}
        self.queue: list[dict[str, Any]] = []
        self.delivered_by: dict[str, list[str]] = {}
        self.cancelled: set[str] = set()
        self.final_reports: dict[str, list[dict[str, Any]]] = {}
        self.progress: dict[str, list[dict[str, Any]]] = {}
        self.stops_sent: list[tuple[str, str]] = []
        self.deregistered: list[str] = []
        self.unavailable = False
        self.unavailable_answers = 0
        self.down = False
        self.dropped = 0
        self.retry_within = 1
        self.max_result_chars: int | None = None
        self.closing = False
        self.report_delay = 0.0  # seconds before a report is answered (a slow coordinator)
        self.report_events: list[tuple[str, str, str]] = []  # (job, report's _tag, "arrived" or "answered")
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # What tests do

    def offer(self, *job_ids: str, kind: str = "training", input: Any = None, attempt: int = 1) -> None:
        """Queues jobs for the next poll (or final report with ``next``) of any worker."""
        with self.changed:
            for job_id in job_ids:
                self.queue.append(
                    {"jobId": job_id, "researchId": "op_test", "kind": kind, "attempt": attempt, "input": input}
                )
            self.changed.notify_all()

    def cancel(self, job_id: str) -> None:
        """Cancels a job: the next call listing it is answered with ``stop``."""
        with self.changed:
            self.cancelled.add(job_id)
            self.changed.notify_all()

    def forget(self, worker_id: str) -> None:
        """Forgets a worker: its next call is answered 404 WorkerNotFound."""
        with self.changed:
            self.workers.pop(worker_id, None)
            self.changed.notify_all()

    def set(self, **switches: Any) -> None:
        with self.changed:
            for name, value in switches.items():
                setattr(self, name, value)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise AssertionError(f"timed out waiting for {predicate.__doc__ or 'a condition'}")

    def calls(self, suffix: str) -> list[Request]:
        with self.changed:
            return [r for r in self.requests if r.path.endswith(suffix)]

    # Serving

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        match = WORKER_PATH.fullmatch(http.path)
        report = (match.group(3), json.loads(raw).get("_tag", "?")) if match is not None and match.group(3) else None
        if report is not None:
            self._report_event(report, "arrived")
        try:
            self._answer(http, raw, report is not None)
        finally:
            if report is not None:
                self._report_event(report, "answered")

    def _report_event(self, report: tuple[str, str], event: str) -> None:
        with self.changed:
            self.report_events.append((*report, event))
            self.changed.notify_all()

    def _answer(self, http: BaseHTTPRequestHandler, raw: bytes, is_report: bool) -> None:
        with self.changed:
            if self.down:
                self.dropped += 1
                self.changed.notify_all()
                http.close_connection = True
                return
            body = json.loads(raw) if raw else None
            self.requests.append(Request(http.command, http.path, body, dict(http.headers), http.client_address[1]))
            self.changed.notify_all()
            if self.unavailable:
                self.unavailable_answers += 1
                status, answer = 503, {"_tag": "Unavailable", "message": "storage is away"}
            elif self.token is not None and http.headers.get("Authorization") != f"Bearer {self.token}":
                status, answer = 401, {"_tag": "Unauthorized", "message": "bad token"}
            else:
                status, answer = self._route(http.command, http.path, body, http.headers.get("X-Foreman-Worker-Secret"))
        data = b"" if answer is None else json.dumps(answer).encode()
        if is_report and self.report_delay > 0:
            time.sleep(self.report_delay)
        try:
            http.send_response(status)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except OSError:  # the worker gave up on this call (a poll cut short by stop())
            http.close_connection = True

    def _route(self, method: str, path: str, body: Any, secret: str | None) -> tuple[int, Any]:
        if method == "POST" and path == "/api/v1/workers/register":
            return self._register(body)
        match = WORKER_PATH.fullmatch(path)
        if match is None:
            return 404, {"_tag": "NotFound", "message": path}
        worker_id, call, job_id = match.groups()
        worker = self.workers.get(worker_id)
        if worker is None:
            return 404, {"_tag": "WorkerNotFound", "message": worker_id}
        if secret != worker.secret:
            return 403, {"_tag": "WorkerNotAuthenticated", "message": "wrong secret"}
        if method == "DELETE":
            self.deregistered.append(worker_id)
            del self.workers[worker_id]
            return 204, None
        if call == "poll":
            return 200, self._wait_for_jobs(worker_id, worker, body, "poll")
        if call == "heartbeat":
            return 200, {"id": worker_id, "stop": self._stops(worker_id, body["running"], "heartbeat")}
        return self._report(worker_id, worker, job_id, body)

    def _register(self, body: dict[str, Any]) -> tuple[int, Any]:
        self.registrations.append(body)
        worker = Worker(secrets.token_hex(8), body.get("capacity", 1), set(body["runningJobs"]))
        for report in body["finishedJobs"]:
            self.final_reports.setdefault(report["jobId"], []).append(report)
        self.workers[body["id"]] = worker
        cancel = [job_id for job_id in body["runningJobs"] if job_id in self.cancelled]
        return 200, {
            "worker": {"id": body["id"], "type": body["type"], "protocol": "pull", "status": "available"},
            "secret": worker.secret,
            "retryWithinSeconds": self.retry_within,
            "cancel": cancel,
            "protocolVersion": 1,
        }

    def _stops(self, worker_id: str, running: list[str], channel: str) -> list[str]:
        stop = [job_id for job_id in running if job_id in self.cancelled]
        self.stops_sent.extend((job_id, channel) for job_id in stop)
        return stop

    def _wait_for_jobs(self, worker_id: str, worker: Worker, ask: dict[str, Any], channel: str) -> dict[str, Any]:
        running = ask["running"]

        def ready() -> bool:
            return bool(self.queue) or any(j in self.cancelled for j in running) or self.closing or self.down

        self.changed.wait_for(ready, ask["waitSeconds"])
        jobs: list[dict[str, Any]] = []
        while self.queue and len(running) + len(jobs) < worker.capacity:
            job = self.queue.pop(0)
            jobs.append(job)
            worker.jobs.add(job["jobId"])
            self.delivered_by.setdefault(job["jobId"], []).append(channel)
        self.changed.notify_all()
        return {"jobs": jobs, "stop": self._stops(worker_id, running, channel)}

    def _report(self, worker_id: str, worker: Worker, job_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        if body["_tag"] == "Progress":
            self.progress.setdefault(job_id, []).append(body)
            return 200, {"id": job_id, "status": "cancelled" if job_id in self.cancelled else "running"}
        if body["_tag"] == "Completed" and self.max_result_chars is not None:
            if len(json.dumps(body["result"])) > self.max_result_chars:
                return 413, {"_tag": "PayloadTooLarge", "message": "result over the limit"}
        self.final_reports.setdefault(job_id, []).append(body)
        self.changed.notify_all()
        answer: dict[str, Any] = {"id": job_id, "status": body["_tag"].lower()}
        if "next" in body:
            answer["next"] = self._wait_for_jobs(worker_id, worker, body["next"], "report")
        return 200, answer
