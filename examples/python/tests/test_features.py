"""Spec parsing, indicator features without look-ahead, labels and the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import features
import models


def test_instruments_come_from_the_data_folder() -> None:
    assert features.available_instruments() == ["EURUSD", "GBPUSD", "SPX", "USDJPY"]
    assert features.parse_instrument(None) == "EURUSD"
    assert features.parse_instrument("usd/jpy") == "USDJPY"
    with pytest.raises(ValueError, match="unknown instrument"):
        features.parse_instrument("BTCUSD")


def test_indicators_take_every_shape_the_designers_write() -> None:
    parsed = features.parse_indicators([
        "rsi",
        {"name": "MACD", "fast": 8},
        {"name": "bollinger", "parameters": [{"name": "period", "value": 30}, {"name": "stddev", "value": 2.5}]},
    ])
    assert parsed == (
        {"name": "rsi", "period": 14},
        {"name": "macd", "fast": 8, "slow": 26, "signal": 9},
        {"name": "bollinger", "period": 30, "stddev": 2.5},
    )
    assert len(features.parse_indicators(None)) == len(features.DEFAULT_INDICATORS)
    for bad, message in [
        (["ichimoku"], "unknown indicator"),
        ([{"name": "rsi", "period": 1}], "rsi.period must be"),
        ([{"name": "macd", "fast": 30, "slow": 20}], "fast < slow"),
    ]:
        with pytest.raises(ValueError, match=message):
            features.parse_indicators(bad)


def test_strategy_spec_defaults_and_errors() -> None:
    spec = features.parse_strategy({"strategy": {"name": "s", "spec": {}}})
    assert (spec.instrument, spec.label_horizon_days, spec.model) == ("EURUSD", 1, {})
    with pytest.raises(ValueError, match="timeframe"):
        features.parse_strategy({"strategy": {"name": "s", "spec": {"timeframe": "1h"}}})
    with pytest.raises(ValueError, match="input.strategy"):
        features.parse_strategy({"brief": "no strategy"})


def test_a_feature_of_day_t_depends_on_bars_up_to_t_only() -> None:
    bars = features.load_bars("GBPUSD")
    every = features.parse_indicators(list(features.INDICATOR_NAMES))
    full = features.compute_features(bars, every)
    for cut in (400, 1234, 2000):
        past = features.compute_features(bars.iloc[:cut], every)
        day = past.index[-1]
        np.testing.assert_allclose(past.iloc[-1].to_numpy(), full.loc[day].to_numpy(), rtol=1e-9, atol=1e-12)


def test_labels_look_horizon_bars_ahead() -> None:
    bars = pd.DataFrame({"close": [1.0, 2.0, 1.5, 1.5, 3.0]}, index=pd.date_range("2024-01-01", periods=5))
    assert features.labels(bars, 1).tolist()[:4] == [1.0, 0.0, 0.0, 1.0]
    assert np.isnan(features.labels(bars, 2).iloc[-2])


def test_training_data_ends_before_the_held_out_days() -> None:
    data = features.build_dataset("EURUSD", features.parse_indicators(None), horizon=5)
    x, y = data.development()
    assert len(data.holdout()) == pytest.approx(0.2 * len(data.features), abs=1)
    assert x.index[-1] < data.holdout_from
    assert data.label_dates.reindex(x.index).max() < data.holdout_from
    assert not y.isna().any()


def test_model_choice_from_the_spec() -> None:
    designed = models.choose({"hiddenUnits": 48, "epochs": 300, "learningRate": 0.0005})
    assert designed.family == "mlp" and designed.params["hidden_units"] == 48
    forest = models.choose({"family": "random_forest", "nEstimators": 50, "maxDepth": None, "hiddenUnits": 8})
    assert forest.params["n_estimators"] == 50 and forest.params["max_depth"] is None
    assert forest.ignored == ("hidden_units",)
    assert models.choose({}).family == models.DEFAULT_FAMILY
    nested = models.choose({"family": "logistic-regression", "params": {"C": 0.5, "penalty": "l1"}})
    assert nested.params == {"C": 0.5, "penalty": "l1", "max_iter": 1000}
    with pytest.raises(ValueError, match="unknown model family"):
        models.choose({"family": "transformer"})
    with pytest.raises(ValueError, match="gradient_boosting.max_depth must be an integer between 1 and 8"):
        models.choose({"family": "gradient_boosting", "max_depth": 2.5})


def test_capabilities_describe_every_family() -> None:
    caps = models.CAPABILITIES
    assert caps["indicators"] == list(features.INDICATOR_NAMES)
    assert caps["instruments"] == features.available_instruments()
    assert caps["timeframes"] == ["1d"]
    families = caps["models"]
    assert isinstance(families, dict) and set(families) == set(models.FAMILIES)
    assert families["random_forest"]["n_estimators"] == {
        "type": "int", "default": 200, "min": 10, "max": 1000, "description": "number of trees"
    }
