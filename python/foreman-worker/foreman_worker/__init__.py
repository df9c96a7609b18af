"""Foreman worker SDK: run research jobs for a Foreman coordinator (worker protocol v1, pull).

```python
from foreman_worker import Job, Worker

worker = Worker(type="training", capabilities={"models": {"random_forest": {}}})

@worker.handler("training")
def train(job: Job) -> dict[str, object]:
    job.progress(0.5, "fitting")
    return {"testAccuracy": 0.61, "testLoss": 0.52}

worker.run()
```
"""

from .config import WorkerConfig
from .job import Job, JobCancelled
from .worker import Worker

__all__ = ["Job", "JobCancelled", "Worker", "WorkerConfig"]
__version__ = "0.1.0"
