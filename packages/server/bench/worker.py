"""The benchmark's Python worker (the foreman_worker SDK, pull protocol): every
job finishes at once with passing metrics; it prints when each job starts and
ends, in milliseconds since the epoch, as ``start <ms>`` / ``end <ms>`` lines,
as bench/worker.ts does."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python" / "foreman-worker"))

from foreman_worker import Job, Worker  # noqa: E402

TRAINING = {"kind": "classification", "testAccuracy": 0.62, "testLoss": 0.41}
BACKTEST = {"sharpeRatio": 1.3, "winRate": 0.55, "totalReturn": 0.12, "totalTrades": 40,
            "maxDrawdown": 0.1, "netReturn": 0.1, "tradeCount": 40}

logging.getLogger("foreman_worker").setLevel(logging.WARNING)  # one line per job would slow what is measured
worker = Worker(type=sys.argv[1] if len(sys.argv) > 1 else "training")


def run(job: Job) -> dict[str, object]:
    print(f"start {time.time() * 1000}", flush=True)
    result = TRAINING if job.kind == "training" else BACKTEST
    print(f"end {time.time() * 1000}", flush=True)
    return result


worker.handler("training")(run)
worker.handler("backtest")(run)

if __name__ == "__main__":
    worker.run()
