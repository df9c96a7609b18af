"""The training handler on the shipped data, called without a coordinator."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import Trained
from fakes import Cancelled, FakeJob, strategy

import models
import training_worker

SCRIPT = Path(training_worker.__file__)


def test_the_result_fits_the_training_schema(trained: Trained) -> None:
    result = trained.result
    assert result["kind"] == "classification"
    assert isinstance(result["testAccuracy"], float) and 0 <= result["testAccuracy"] <= 1
    assert isinstance(result["testLoss"], float) and math.isfinite(result["testLoss"]) and result["testLoss"] > 0
    assert "epochLosses" not in result
    assert result["family"] == models.DEFAULT_FAMILY
    json.dumps(result, allow_nan=False)


def test_the_model_ref_is_a_loadable_model(trained: Trained) -> None:
    ref = trained.result["modelRef"]
    assert isinstance(ref, str) and Path(ref).parent == trained.model_dir.resolve()
    with open(ref, "rb") as source:
        assert pickle.load(source)["format"] == models.BUNDLE_FORMAT
    model = models.load(ref, trained.model_dir)
    assert model.instrument == "SPX" and model.holdout_from == trained.result["holdoutFrom"]
    row = pd.DataFrame([[0.0] * len(model.feature_names)], columns=list(model.feature_names))
    assert model.estimator.predict_proba(row).shape == (1, 2)


def test_folds_walk_forward_and_stop_before_the_held_out_days(trained: Trained) -> None:
    folds = trained.result["folds"]
    assert isinstance(folds, list) and len(folds) == training_worker.DEFAULT_SETTINGS.folds
    boundary, seen = trained.result["holdoutFrom"], trained.result["trainedThrough"]
    assert isinstance(boundary, str) and isinstance(seen, str) and seen < boundary
    for fold, after in zip(folds, folds[1:]):
        assert fold["test"]["to"] < after["test"]["from"]
    for fold in folds:
        assert fold["train"]["to"] < fold["test"]["from"] <= fold["test"]["to"] <= seen
        assert 0 <= fold["accuracy"] <= 1


def test_progress_is_reported_per_fold_and_cancellation_stops_it(tmp_path: Path) -> None:
    job = FakeJob(strategy(instrument="EURUSD", model={"family": "logistic_regression"}))
    settings = training_worker.TrainingSettings(model_dir=tmp_path)
    training_worker.train(job, settings)
    fractions = [f for f, _ in job.reports]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert sum((m or "").startswith("fold ") for _, m in job.reports) == settings.folds
    cancelled = FakeJob(job.input, cancel_after=2)
    with pytest.raises(Cancelled):
        training_worker.train(cancelled, settings)
    assert list(tmp_path.glob("*.pkl")) == [Path(str(training_worker.train(job, settings)["modelRef"]))]


def test_the_designers_network_fields_train_an_mlp(tmp_path: Path) -> None:
    job = FakeJob(strategy(instrument="USDJPY", labelHorizonDays=3, model={"hiddenUnits": 8, "epochs": 10}))
    result: dict[str, Any] = training_worker.train(job, training_worker.TrainingSettings(model_dir=tmp_path))
    assert result["family"] == "mlp" and result["labelHorizonDays"] == 3
    assert 0 <= result["testAccuracy"] <= 1


def test_an_invalid_spec_fails_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown indicator \"vwap\""):
        training_worker.train(
            FakeJob(strategy(indicators=["vwap"])), training_worker.TrainingSettings(model_dir=tmp_path)
        )


def test_without_scikit_learn_the_script_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "sklearn"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'sklearn'\", name='sklearn')\n")
    run = subprocess.run(
        [sys.executable, str(SCRIPT)], env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "examples/python needs scikit-learn and pandas: apt-get install python3-sklearn python3-pandas "
        "(Debian's /usr/bin/python3), or set FOREMAN_PYTHON to an interpreter that has them"
    ]
