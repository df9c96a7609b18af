"""The backtest handler on the model the session's training saved."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Trained
from fakes import FakeJob, strategy, with_training

import backtest_worker
import features
import models
import training_worker


def run(trained: Trained, **spec: object) -> dict[str, Any]:
    """Backtests the session's model, with ``spec`` over the strategy's spec."""
    job_input = with_training(strategy(**{**trained.spec, **spec}), trained.result)
    return backtest_worker.backtest(FakeJob(job_input), backtest_worker.BacktestSettings(model_dir=trained.model_dir))


def closes(instrument: str) -> dict[str, float]:
    """Closes by date, read with the csv module (not the code under test)."""
    with open(features.DATA_DIR / f"{instrument}.csv", newline="") as source:
        rows = csv.reader(line for line in source if not line.startswith("#"))
        next(rows)
        return {row[0]: float(row[4]) for row in rows}


@pytest.fixture(scope="module")
def report(trained: Trained) -> dict[str, Any]:
    return run(trained)


def test_metrics_are_finite_and_typed(report: dict[str, Any]) -> None:
    for key in ("sharpeRatio", "winRate", "totalReturn", "maxDrawdown", "netReturn", "buyAndHoldReturn"):
        value = report[key]
        assert isinstance(value, float) and math.isfinite(value), key
    assert type(report["totalTrades"]) is int and report["totalTrades"] == report["tradeCount"]
    assert 0 <= report["winRate"] <= 1 and 0 <= report["maxDrawdown"] < 1
    assert report["totalTrades"] > 0


def test_equity_starts_at_one_and_ends_at_the_returns(report: dict[str, Any]) -> None:
    equity = report["equityCurve"]
    assert isinstance(equity, list) and 2 <= len(equity) <= 250
    assert equity[0]["strategy"] == 1.0 and equity[0]["buyAndHold"] == 1.0
    assert [p["t"] for p in equity] == sorted({p["t"] for p in equity})
    assert equity[-1]["strategy"] == pytest.approx(1 + report["netReturn"])
    assert equity[-1]["buyAndHold"] == pytest.approx(1 + report["buyAndHoldReturn"])
    assert max(1 - p["strategy"] / max(q["strategy"] for q in equity[: i + 1]) for i, p in enumerate(equity)) <= (
        report["maxDrawdown"] + 1e-12
    )


def test_buy_and_hold_is_the_price_change_over_the_window(report: dict[str, Any]) -> None:
    prices = closes("SPX")
    window = report["window"]
    assert isinstance(window, dict)
    assert report["buyAndHoldReturn"] == pytest.approx(prices[window["to"]] / prices[window["from"]] - 1, rel=1e-9)
    for point in report["equityCurve"]:
        assert point["buyAndHold"] == pytest.approx(prices[point["t"]] / prices[window["from"]], rel=1e-9)


def test_the_window_starts_after_everything_the_training_saw(trained: Trained, report: dict[str, Any]) -> None:
    window = report["window"]
    assert isinstance(window, dict)
    assert window["from"] == trained.result["holdoutFrom"] > trained.result["trainedThrough"]
    assert all(f["test"]["to"] < window["from"] for f in trained.result["folds"])
    assert window["to"] == max(closes("SPX"))


def test_long_short_trades_both_ways(trained: Trained) -> None:
    both = run(trained, positions="long_short")
    exposure = both["exposure"]
    assert isinstance(exposure, dict) and exposure["shortDays"] > 0 and exposure["longDays"] > 0
    with pytest.raises(ValueError, match="positions must be one of"):
        run(trained, positions="short_only")


def test_costs_trades_and_wins_by_hand() -> None:
    sim = backtest_worker.simulate(np.array([100.0, 110.0, 99.0, 99.0, 108.9]), np.array([1.0, 0.0, -1.0, -1.0]), 10)
    rate = 0.001
    np.testing.assert_allclose(sim.gross, [0.10, 0.0, 0.0, -0.10])
    np.testing.assert_allclose(sim.costs, [rate, rate, rate, rate])
    np.testing.assert_allclose(sim.net, [1.1 * (1 - rate) - 1, -rate, -rate, 0.9 * (1 - rate) - 1])
    assert backtest_worker.trades(sim, 10) == (2, 1)
    assert backtest_worker.max_drawdown(np.array([1.0, 1.2, 0.9, 1.3, 1.0])) == pytest.approx(0.25)
    assert backtest_worker.sharpe(np.zeros(10)) == 0.0


def test_progress_runs_from_zero_to_one(trained: Trained) -> None:
    job = FakeJob(with_training(trained.input, trained.result))
    backtest_worker.backtest(job, backtest_worker.BacktestSettings(model_dir=trained.model_dir))
    fractions = [f for f, _ in job.reports]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1 and len(fractions) >= 5
    assert job.checks >= 5


def test_models_load_only_from_the_model_directory(trained: Trained, tmp_path: Path) -> None:
    job = FakeJob(with_training(trained.input, trained.result))
    with pytest.raises(ValueError, match="models load only from"):
        backtest_worker.backtest(job, backtest_worker.BacktestSettings(model_dir=tmp_path))
    with pytest.raises(ValueError, match="no training result"):
        backtest_worker.backtest(FakeJob(trained.input), backtest_worker.BacktestSettings(model_dir=trained.model_dir))


def test_a_model_for_another_instrument_is_refused(trained: Trained) -> None:
    job = FakeJob(with_training(strategy(instrument="EURUSD"), trained.result))
    with pytest.raises(ValueError, match="trained on SPX but the strategy trades EURUSD"):
        backtest_worker.backtest(job, backtest_worker.BacktestSettings(model_dir=trained.model_dir))


def test_the_model_directory_defaults_to_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREMAN_MODEL_DIR", str(tmp_path))
    job_input = strategy(instrument="GBPUSD", model={"family": "logistic_regression"})
    result = training_worker.train(FakeJob(job_input))
    assert Path(str(result["modelRef"])).parent == tmp_path.resolve()
    report: dict[str, Any] = backtest_worker.backtest(FakeJob(with_training(job_input, result)))
    assert report["window"]["from"] == result["holdoutFrom"]
    assert models.model_dir() == tmp_path
