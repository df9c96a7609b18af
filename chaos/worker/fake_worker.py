"""The chaos run's Python worker, on the foreman_worker SDK (pull protocol): the
same fake work as fakeWorker.mjs, so the runner measures both alike. It sleeps
a time drawn from the job id and the run's seed (CHAOS_JOB_MS, "min-max"
milliseconds), reports progress half way, and returns a valid training or
backtest result whose gate outcome the research's brief decides
(`training:fail`, `backtest:fail`).

Every start and finish is appended to CHAOS_STARTS_FILE, one line each
(`start|done jobId researchId kind workerId pid attempt time`), flushed and
synced so it survives a SIGKILL of this process.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "foreman-worker"))

from foreman_worker import Job, Worker  # noqa: E402

STARTS = os.environ.get("CHAOS_STARTS_FILE")
SEED = os.environ.get("CHAOS_SEED", "0")
MIN_MS, MAX_MS = (int(x) for x in os.environ.get("CHAOS_JOB_MS", "200-1500").split("-"))


def fnv(text: str) -> int:
    """FNV-1a, as fakeWorker.mjs hashes."""
    h = 0x811C9DC5
    for ch in text:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h


def record(event: str, job: Job, worker_id: str) -> None:
    if STARTS is None:
        return
    line = f"{event} {job.id} {job.research_id} {job.kind} {worker_id} {os.getpid()} {job.attempt} {int(time.time() * 1000)}\n"
    fd = os.open(STARTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def result(job: Job) -> dict[str, object]:
    if job.kind == "backtest":
        passed = field(field(job.input, "training"), "chaosBacktest") != "fail"
        return {"sharpeRatio": 1.3 if passed else -2, "winRate": 0.55, "totalReturn": 0.12, "totalTrades": 40,
                "maxDrawdown": 0.1, "netReturn": 0.11, "tradeCount": 40}
    brief = str(field(job.input, "brief") or "")
    return {"testAccuracy": 0.04 if "training:fail" in brief else 0.62, "testLoss": 0.41,
            "epochLosses": [0.9, 0.6, 0.45], "chaosBacktest": "fail" if "backtest:fail" in brief else "pass"}


worker = Worker(type=os.environ.get("FOREMAN_WORKER_TYPE", "training"))


def run(job: Job) -> dict[str, object]:
    record("start", job, worker.id)
    ms = MIN_MS + fnv(f"{SEED}:{job.id}") % max(1, MAX_MS - MIN_MS + 1)
    job.wait(ms / 2000)
    job.progress(0.5, "half way")
    job.wait(ms / 2000)
    job.check_cancelled()
    out = result(job)
    record("done", job, worker.id)
    return out


worker.handler("training")(run)
worker.handler("backtest")(run)

if __name__ == "__main__":
    worker.run()
