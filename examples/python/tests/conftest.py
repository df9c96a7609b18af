"""
Shared by the reference workers' tests: the worker modules on the import path,
and one model trained per session, so the backtest tests need not train again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import training_worker  # noqa: E402
from fakes import FakeJob, strategy  # noqa: E402


@dataclass(frozen=True)
class Trained:
    """One training run: its input, result and model directory."""

    spec: dict[str, Any]
    result: dict[str, Any]
    model_dir: Path

    @property
    def input(self) -> dict[str, Any]:
        """The training job's input."""
        return strategy(**self.spec)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A (small) random forest, the default family, trained once on SPX."""
    directory = tmp_path_factory.mktemp("models")
    spec: dict[str, Any] = {
        "instrument": "SPX",
        "indicators": [{"name": "rsi", "period": 10}, {"name": "macd"}, "volatility"],
        "model": {"family": "random_forest", "n_estimators": 50},
    }
    settings = training_worker.TrainingSettings(model_dir=directory)
    return Trained(spec, training_worker.train(FakeJob(strategy(**spec)), settings), directory)
