"""A controllable worker on the Python SDK (foreman_worker), for the conformance tests.

It runs ``training`` and ``backtest`` jobs the same way: it appends ``start <jobId> <attempt>``
to the file ``CONFORMANCE_LOG``, reports progress ten times over ``CONFORMANCE_JOB_SECONDS``
(default 1) while it sleeps, checking cancellation, and appends ``done <jobId>`` (or
``cancelled <jobId>``) before it returns a result that passes the coordinator's gates. Every
other setting is the SDK's own (``FOREMAN_API_URL``, ``FOREMAN_WORKER_TYPE``, …). SIGTERM/SIGINT
drain it, then it exits 0; a worker whose registration is refused exits 1 saying why.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "python" / "foreman-worker"))

from foreman_worker import Job, JobCancelled, Worker  # noqa: E402

STEPS = 10
RESULTS: dict[str, dict[str, object]] = {
    "training": {"kind": "classification", "testAccuracy": 0.6, "testLoss": 0.4},
    "backtest": {
        "sharpeRatio": 1.2, "winRate": 0.55, "totalReturn": 0.1, "totalTrades": 30,
        "maxDrawdown": 0.1, "netReturn": 0.09, "tradeCount": 30,
    },
}


def append(line: str) -> None:
    with open(os.environ["CONFORMANCE_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")


def run(job: Job) -> dict[str, object]:
    append(f"start {job.id} {job.attempt}")
    step = float(os.environ.get("CONFORMANCE_JOB_SECONDS", "1")) / STEPS
    try:
        for done in range(STEPS):
            job.progress(done / STEPS, f"step {done + 1}/{STEPS}")
            if job.wait(step):
                job.check_cancelled()
    except JobCancelled:
        append(f"cancelled {job.id}")
        raise
    append(f"done {job.id}")
    return RESULTS[job.kind]


worker = Worker(type=os.environ.get("FOREMAN_WORKER_TYPE", "training"))
for kind in RESULTS:
    worker.handler(kind)(run)

try:
    worker.run()
except RuntimeError as error:  # the coordinator refused the first registration
    print(error, file=sys.stderr)
    sys.exit(1)
