"""A Foreman worker written from docs/worker-protocol.md alone, with nothing but
Python's standard library (urllib, json): no SDK. It shows what the protocol
asks of a worker in any language, and the tests run it against a real
coordinator.

It runs one job at a time. A `training` job answers a small made-up model fit
from the strategy's name; a `backtest` job answers metrics that pass the gates.
Real workers do real work: see training_worker.py and backtest_worker.py, built
on the SDK.

    FOREMAN_API_URL=http://127.0.0.1:8000 FOREMAN_WORKER_TYPE=training \\
        python3 examples/python/urllib_worker.py
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
import zlib
from typing import Any

API = os.environ["FOREMAN_API_URL"].rstrip("/") + "/api/v1"
TYPE = os.environ.get("FOREMAN_WORKER_TYPE", "training")
WORKER_ID = os.environ.get("FOREMAN_WORKER_ID", f"{TYPE}-urllib-{os.getpid()}")
TOKEN = os.environ.get("FOREMAN_WORKER_TOKEN", "")
WAIT = float(os.environ.get("FOREMAN_POLL_WAIT_SECONDS", "20"))

secret = ""
stopping = False


def call(method: str, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """One request; answers (status, decoded body). Network trouble is retried with backoff."""
    headers = {"content-type": "application/json", "x-foreman-worker-secret": secret}
    if TOKEN:
        headers["authorization"] = f"Bearer {TOKEN}"
    data = None if body is None else json.dumps(body).encode()
    delay = 1.0
    while True:
        request = urllib.request.Request(API + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            if error.code != 503:
                text = error.read()
                return error.code, json.loads(text) if text else None
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(delay)  # the coordinator is away (or 503): back off, never longer than it tolerates
        delay = min(delay * 2, 15)


def register() -> None:
    global secret
    status, answer = call("POST", "/workers/register", {
        "id": WORKER_ID, "type": TYPE, "capacity": 1,
        "runtime": f"python {sys.version_info.major}.{sys.version_info.minor} (urllib)",
        "sequence": int(time.time() * 1000),
    })
    if status != 200:
        sys.exit(f"registration refused ({status}): {answer}")
    secret = answer["secret"]
    print(f"registered {WORKER_ID} ({TYPE}), protocol {answer.get('protocolVersion')}", flush=True)


def run(job: dict[str, Any]) -> dict[str, Any]:
    """The job's result: made up, but shaped as the gates read it."""
    name = (job["input"].get("strategy") or {}).get("name", "")
    seed = zlib.crc32(name.encode()) % 100 / 1000
    if job["kind"] == "training":
        return {"kind": "classification", "testAccuracy": 0.55 + seed, "testLoss": 0.45 - seed}
    return {"sharpeRatio": 1.1 + seed, "winRate": 0.52, "totalReturn": 0.08, "totalTrades": 30,
            "maxDrawdown": 0.12, "netReturn": 0.07, "tradeCount": 30}


def main() -> None:
    def stop(*_: Any) -> None:
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    register()
    jobs: list[dict[str, Any]] = []
    while not stopping:
        if not jobs:
            status, answer = call("POST", f"/workers/{WORKER_ID}/poll", {"waitSeconds": WAIT}, timeout=WAIT + 10)
            if status in (403, 404):  # forgotten, or another registration took the id over: register again
                register()
                continue
            jobs = answer["jobs"] if status == 200 else []
            continue
        job = jobs.pop(0)
        call("POST", f"/workers/{WORKER_ID}/jobs/{job['jobId']}/report", {"_tag": "Progress", "progress": 0.5})
        try:
            final: dict[str, Any] = {"_tag": "Completed", "result": run(job)}
        except Exception as error:  # a failed job is reported, never dropped
            final = {"_tag": "Failed", "error": f"{type(error).__name__}: {error}"}
        if not stopping:
            final["next"] = {"waitSeconds": 0}  # the answer carries the next job, if one waits
        status, answer = call("POST", f"/workers/{WORKER_ID}/jobs/{job['jobId']}/report", final)
        print(f"job {job['jobId']} {job['kind']} {final['_tag'].lower()} ({status})", flush=True)
        if status == 200 and "next" in answer:
            jobs.extend(answer["next"]["jobs"])
    call("DELETE", f"/workers/{WORKER_ID}")
    print(f"{WORKER_ID} stopped", flush=True)


if __name__ == "__main__":
    main()
