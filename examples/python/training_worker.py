"""
The Python reference training worker. For a job ``{strategy}`` it computes the
strategy's indicator features on its instrument's daily bars (``features.py``),
fits the scikit-learn classifier the spec names (``models.py``) to predict
whether the close ``labelHorizonDays`` (default 1) bars later is higher, and
validates it walk-forward: the first half of the training data trains, each of
the ``folds`` later blocks tests a model trained on everything before it. The
last 20% of the days are held out: no fold and no final fit sees them (nor any
label whose close lies in them), so the backtest can trade them honestly.

The final model, fitted on all the training data, is pickled under
``FOREMAN_MODEL_DIR`` (default ``<tmp>/foreman-models``); the result carries
its path (``modelRef``) and the boundary (``holdoutFrom``, ``trainedThrough``).

    FOREMAN_API_URL=http://127.0.0.1:8000 /usr/bin/python3 examples/python/training_worker.py
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sdk

try:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from sklearn.metrics import log_loss

    import features
    import models
except ImportError as error:
    if __name__ == "__main__" and sdk.is_missing_dependency(error):
        sdk.exit_missing_dependencies()
    raise

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrainingSettings:
    """How to validate; the model family and its hyper-parameters come from the strategy."""

    folds: int = 4
    """Walk-forward test blocks."""
    min_train_fraction: float = 0.5
    """Share of the training data the first fold trains on."""
    model_dir: Path | None = None
    """Where to save models; ``None``: ``FOREMAN_MODEL_DIR`` or ``<tmp>/foreman-models``."""


DEFAULT_SETTINGS = TrainingSettings()
MIN_TRAIN_SAMPLES = 100


def _metrics(labels: Floats, probabilities: Floats) -> tuple[float, float]:
    """Accuracy (threshold 0.5) and log loss."""
    accuracy = float(np.mean((probabilities > 0.5) == (labels == 1)))
    return accuracy, float(log_loss(labels, probabilities, labels=[0, 1]))


def _span(index: pd.Index) -> dict[str, object]:
    return {"from": features.day(index[0]), "to": features.day(index[-1]), "samples": int(len(index))}


def _boundaries(samples: int, settings: TrainingSettings) -> Sequence[int]:
    """Where each fold's test block starts, plus the end."""
    first = int(samples * settings.min_train_fraction)
    return [int(b) for b in np.linspace(first, samples, settings.folds + 1)]


def train(job: features.JobLike, settings: TrainingSettings = DEFAULT_SETTINGS) -> dict[str, object]:
    """Trains on ``{strategy}``; reports progress after each fold."""
    spec = features.parse_strategy(job.input)
    choice = models.choose(spec.model)
    if choice.ignored:
        job.log.warning("ignoring hyper-parameters %s: %s does not take them", ", ".join(choice.ignored), choice.family)
    data = features.build_dataset(spec.instrument, spec.indicators, spec.label_horizon_days)
    x, y = data.development()
    label_dates = data.label_dates.reindex(x.index)
    bounds = _boundaries(len(x), settings)
    if bounds[0] < MIN_TRAIN_SAMPLES or bounds[1] - bounds[0] < 20:
        raise ValueError(
            f"not enough data for {spec.name}: {len(x)} labelled days before the held-out window; "
            "shorten the indicator periods"
        )
    seed = models.seed_of({"name": spec.name, "spec": spec.raw})
    steps = settings.folds + 1
    job.progress(0.0, f"{choice.family} on {spec.instrument}: {len(x)} days, {settings.folds} walk-forward folds")

    folds: list[dict[str, object]] = []
    out_of_sample: list[Floats] = []
    tested: list[Floats] = []
    baseline_hits = 0
    for k in range(settings.folds):
        job.check_cancelled()
        test = slice(bounds[k], bounds[k + 1])
        # Training labels must not reach into the test block: their closes come before its first day.
        trains = (label_dates < x.index[bounds[k]]).to_numpy()
        x_train, y_train = x[trains], y[trains].to_numpy()
        x_test, y_test = x.iloc[test], y.iloc[test].to_numpy()
        estimator = models.fit(models.make_estimator(choice, seed), x_train, y_train)
        probabilities = estimator.predict_proba(x_test)[:, 1]
        accuracy, loss = _metrics(y_test, probabilities)
        majority = 1.0 if y_train.mean() >= 0.5 else 0.0
        baseline_hits += int(np.sum(y_test == majority))
        out_of_sample.append(probabilities)
        tested.append(y_test)
        folds.append({
            "fold": k + 1,
            "train": _span(x_train.index),
            "test": _span(x_test.index),
            "accuracy": accuracy,
            "loss": loss,
        })
        job.progress((k + 1) / steps, f"fold {k + 1}/{settings.folds}: accuracy {accuracy:.1%}, loss {loss:.4f}")

    job.check_cancelled()
    test_accuracy, test_loss = _metrics(np.concatenate(tested), np.concatenate(out_of_sample))
    final = models.fit(models.make_estimator(choice, seed), x, y.to_numpy())
    train_accuracy, train_loss = _metrics(y.to_numpy(), final.predict_proba(x)[:, 1])
    trained = models.TrainedModel(
        estimator=final,
        family=choice.family,
        instrument=spec.instrument,
        indicators=spec.indicators,
        label_horizon_days=spec.label_horizon_days,
        feature_names=tuple(str(c) for c in x.columns),
        holdout_from=features.day(data.holdout_from),
        trained_through=features.day(label_dates.max()),
        calibration=tuple(float(p) for p in np.concatenate(out_of_sample)),
    )
    stem = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name)[:60]}-{spec.instrument}-{choice.family}-{seed:08x}"
    path = models.save(trained, models.model_dir(settings.model_dir), stem)
    job.log.info("saved %s (test accuracy %.3f) to %s", choice.family, test_accuracy, path)
    job.progress(1.0, f"test accuracy {test_accuracy:.1%}, log loss {test_loss:.4f}")
    result: dict[str, object] = {
        "kind": "classification",
        "testAccuracy": test_accuracy,
        "testLoss": test_loss,
        "modelRef": str(path),
        "holdoutFrom": trained.holdout_from,
        "trainedThrough": trained.trained_through,
        "trainAccuracy": train_accuracy,
        "trainLoss": train_loss,
        "baselineAccuracy": baseline_hits / sum(len(t) for t in tested),
        "family": choice.family,
        "hyperParameters": choice.params,
        "instrument": spec.instrument,
        "labelHorizonDays": spec.label_horizon_days,
        "features": list(trained.feature_names),
        "samples": {"train": int(len(x)), "holdout": int(len(data.holdout()))},
        "folds": folds,
    }
    if choice.ignored:
        result["ignoredHyperParameters"] = list(choice.ignored)
    return result


def main() -> None:
    """Registers with the coordinator named by ``FOREMAN_*`` and runs training jobs until SIGTERM/SIGINT."""
    foreman_worker = sdk.foreman_worker()
    try:
        worker = foreman_worker.Worker(type="training", capabilities=models.CAPABILITIES)
    except ValueError as error:  # the FOREMAN_* settings
        raise SystemExit(f"training worker: {error}") from None
    worker.handler("training")(train)
    worker.run()


if __name__ == "__main__":
    main()
