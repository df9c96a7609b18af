"""
The model families the Python training worker fits (scikit-learn), the
hyper-parameters each accepts, and the trained model as a file: a pickled
bundle of the fitted pipeline and everything the backtest must know (the
instrument, the indicators, the label horizon, where the held-out window
starts, the model's out-of-sample predictions to set its trading threshold).

``CAPABILITIES`` is what both workers declare when they register, so a
designer keeps to what they can run; ``spec.model`` picks a family and its
hyper-parameters:

    {"family": "random_forest", "n_estimators": 300, "max_depth": 4}

(camelCase names such as ``nEstimators`` work too). A model with no family but
the neural-network fields the designer always writes (``hiddenUnits``,
``epochs``, ``learningRate``) is the ``mlp`` family; no model at all is
``DEFAULT_FAMILY``.

Loading a pickle runs code from it, so the backtest only loads models from
the model directory (``FOREMAN_MODEL_DIR``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import features

BUNDLE_FORMAT = "foreman-sklearn-1"
DEFAULT_FAMILY = "random_forest"

Value = int | float | str | None


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its type, range or choices, and default."""

    kind: Literal["int", "float", "choice"]
    default: Value
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    description: str = ""

    def describe(self) -> dict[str, object]:
        """How the capabilities show it to a designer."""
        out: dict[str, object] = {"type": self.kind, "default": self.default}
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        else:
            out["min"], out["max"] = self.low, self.high
        if self.nullable:
            out["nullable"] = True
        if self.description:
            out["description"] = self.description
        return out

    def validate(self, name: str, value: object) -> Value:
        """The value, checked (a ``ValueError`` saying what is accepted otherwise)."""
        if value is None and self.nullable:
            return None
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{name} must be one of {', '.join(self.choices)}, got {json.dumps(value)}")
        assert self.low is not None and self.high is not None
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (self.kind == "float" or value == int(value))
        ):
            return int(value) if self.kind == "int" else float(value)
        raise ValueError(
            f"{name} must be {'an integer' if self.kind == 'int' else 'a number'} "
            f"between {self.low:g} and {self.high:g}{' or null' if self.nullable else ''}, got {json.dumps(value)}"
        )


FAMILIES: dict[str, dict[str, Param]] = {
    "random_forest": {
        "n_estimators": Param("int", 200, 10, 1000, description="number of trees"),
        "max_depth": Param("int", 4, 1, 32, nullable=True, description="null: grow until min_samples_leaf"),
        "min_samples_leaf": Param("int", 25, 1, 500),
        "max_features": Param("choice", "sqrt", choices=("sqrt", "log2", "all")),
    },
    "gradient_boosting": {
        "n_estimators": Param("int", 150, 10, 1000, description="boosting stages"),
        "learning_rate": Param("float", 0.05, 0.001, 1.0),
        "max_depth": Param("int", 2, 1, 8),
        "subsample": Param("float", 0.8, 0.1, 1.0),
        "min_samples_leaf": Param("int", 25, 1, 500),
    },
    "logistic_regression": {
        "C": Param("float", 1.0, 0.0001, 10000.0, description="inverse regularisation strength"),
        "penalty": Param("choice", "l2", choices=("l2", "l1")),
        "max_iter": Param("int", 1000, 50, 10000),
    },
    "mlp": {
        "hidden_units": Param("int", 32, 4, 256, description="one hidden layer"),
        "epochs": Param("int", 200, 10, 1000, description="at most; stops when the loss stops improving"),
        "learning_rate": Param("float", 0.001, 0.00001, 0.1),
        "alpha": Param("float", 0.01, 0.0, 10.0, description="L2 penalty"),
    },
}

CAPABILITIES: dict[str, object] = {
    "indicators": list(features.INDICATOR_NAMES),
    "instruments": features.available_instruments(),
    "timeframes": list(features.TIMEFRAMES),
    "models": {family: {k: p.describe() for k, p in params.items()} for family, params in FAMILIES.items()},
    "positions": ["long_flat", "long_short"],
}
"""What both Python workers declare when they register."""

_FAMILY_KEYS = ("family", "type", "name", "kind")
_NESTED_KEYS = ("params", "parameters", "hyperParameters", "hyperparameters")


def _snake(name: str) -> str:
    return name if name == "C" else re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass(frozen=True)
class ModelChoice:
    """A family and every hyper-parameter (defaults filled in); ``ignored`` lists given names it does not accept."""

    family: str
    params: dict[str, Value]
    ignored: tuple[str, ...] = field(default=())


def choose(model: Mapping[str, object]) -> ModelChoice:
    """Reads ``strategy.spec.model``."""
    given: dict[str, object] = {}
    family_value: object = None
    for key, value in model.items():
        if key in _FAMILY_KEYS and family_value is None:
            family_value = value
        elif key in _NESTED_KEYS and isinstance(value, Mapping):
            given.update({_snake(str(k)): v for k, v in value.items()})
        else:
            given[_snake(key)] = value
    if family_value is None:
        family = "mlp" if given and set(given) <= set(FAMILIES["mlp"]) else DEFAULT_FAMILY
    elif isinstance(family_value, str) and _snake(family_value).replace("-", "_") in FAMILIES:
        family = _snake(family_value).replace("-", "_")
    else:
        raise ValueError(
            f"unknown model family {json.dumps(family_value)}: the Python training worker fits {', '.join(FAMILIES)}"
        )
    accepted = FAMILIES[family]
    params = {
        name: param.validate(f"{family}.{name}", given[name]) if name in given else param.default
        for name, param in accepted.items()
    }
    return ModelChoice(family, params, tuple(sorted(set(given) - set(accepted))))


def make_estimator(choice: ModelChoice, seed: int) -> Pipeline:
    """An unfitted pipeline: standardisation, then the family's classifier."""
    p = choice.params
    classifier: object
    if choice.family == "random_forest":
        classifier = RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            max_features=None if p["max_features"] == "all" else p["max_features"],
            random_state=seed,
            n_jobs=1,
        )
    elif choice.family == "gradient_boosting":
        classifier = GradientBoostingClassifier(
            n_estimators=p["n_estimators"],
            learning_rate=p["learning_rate"],
            max_depth=p["max_depth"],
            subsample=p["subsample"],
            min_samples_leaf=p["min_samples_leaf"],
            random_state=seed,
        )
    elif choice.family == "logistic_regression":
        classifier = LogisticRegression(
            C=p["C"],
            penalty=p["penalty"],
            solver="liblinear" if p["penalty"] == "l1" else "lbfgs",
            max_iter=p["max_iter"],
        )
    else:
        classifier = MLPClassifier(
            hidden_layer_sizes=(p["hidden_units"],),
            max_iter=p["epochs"],
            learning_rate_init=p["learning_rate"],
            alpha=p["alpha"],
            batch_size=32,
            random_state=seed,
        )
    return make_pipeline(StandardScaler(), classifier)


def fit(estimator: Pipeline, x: object, y: object) -> Pipeline:
    """Fits quietly: an MLP that used all its epochs is a model, not an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        return estimator.fit(x, y)


def seed_of(value: object) -> int:
    """A stable 31-bit seed from JSON data: the same strategy trains the same model."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def model_dir(configured: Path | None = None) -> Path:
    """Where models are saved: ``configured``, else ``FOREMAN_MODEL_DIR``, else ``<tmp>/foreman-models``."""
    if configured is not None:
        return configured
    env = os.environ.get("FOREMAN_MODEL_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / "foreman-models"


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model and what the backtest must know to trade it without looking ahead."""

    estimator: Pipeline
    family: str
    instrument: str
    indicators: tuple[features.Indicator, ...]
    label_horizon_days: int
    feature_names: tuple[str, ...]
    holdout_from: str
    """First day of the held-out window (``YYYY-MM-DD``): the backtest trades from here on."""
    trained_through: str
    """The last day whose close the training saw, labels included (before ``holdout_from``)."""
    calibration: tuple[float, ...]
    """The model's out-of-sample up-probabilities in the walk-forward folds, oldest first."""


def save(model: TrainedModel, directory: Path, stem: str) -> Path:
    """Pickles the model to ``<directory>/<stem>.pkl`` (written whole or not at all); returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = (directory / f"{stem}.pkl").resolve()
    bundle = {"format": BUNDLE_FORMAT, **{f.name: getattr(model, f.name) for f in fields(model)}}
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(bundle, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(model_ref: str, directory: Path) -> TrainedModel:
    """The model saved at ``model_ref``, which must lie inside ``directory``."""
    path = Path(model_ref).resolve()
    root = directory.resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"refusing to load model {model_ref}: models load only from {root} (FOREMAN_MODEL_DIR)")
    if not path.is_file():
        raise ValueError(f"model {model_ref} not found (is FOREMAN_MODEL_DIR shared with the training worker?)")
    with path.open("rb") as source:
        bundle = pickle.load(source)
    if not isinstance(bundle, dict) or bundle.pop("format", None) != BUNDLE_FORMAT:
        raise ValueError(f"{model_ref} is not a model saved by the Python training worker ({BUNDLE_FORMAT})")
    try:
        return TrainedModel(**bundle)
    except TypeError as error:
        raise ValueError(f"{model_ref} does not hold the fields of a trained model: {error}") from error
