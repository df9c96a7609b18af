"""
The Python reference backtest worker. For a job ``{strategy, training}`` it
loads the model the training worker saved (``training.modelRef``), recomputes
its features on the same instrument and trades its signals over the held-out
days only (from ``holdoutFrom``, after every close the training saw).

At each close the model gives p, the probability of a rise; the position until
the next close is long when p is above the median of the model's own
out-of-sample predictions in training, flat otherwise (``long_flat``, the
default), or with ``spec.positions = "long_short"`` long above their 65th
percentile, short below their 35th, flat between. So a model whose outputs
stay near its base rate still ranks days, and the threshold is set without
looking at the held-out days. Each unit of position change pays ``cost_bps``
(5 bps: a flip from long to short pays twice), and an open position is closed
at the last close.

A trade runs from entering a position to leaving it and wins when its return
after costs is positive. ``totalReturn`` is before costs; ``netReturn``, the
Sharpe ratio (daily, annualised with √252) and the drawdown are after costs.

    FOREMAN_API_URL=http://127.0.0.1:8000 /usr/bin/python3 examples/python/backtest_worker.py
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import sdk

try:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    import features
    import models
except ImportError as error:
    if __name__ == "__main__" and sdk.is_missing_dependency(error):
        sdk.exit_missing_dependencies()
    raise

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BacktestSettings:
    """Trading costs and how much of the result to keep."""

    cost_bps: float = 5.0
    """Cost of one unit of position change, in basis points of the traded notional."""
    equity_points: int = 250
    """At most this many points of the equity curves in the result (first and last day included)."""
    prediction_chunks: int = 5
    """Predict in this many chunks, reporting progress after each."""
    model_dir: Path | None = None
    """Where models may be loaded from; ``None``: ``FOREMAN_MODEL_DIR`` or ``<tmp>/foreman-models``."""


DEFAULT_SETTINGS = BacktestSettings()
TRADING_DAYS = 252
POSITIONS = ("long_flat", "long_short")
FLAT_SHARE = 0.3


@dataclass(frozen=True)
class Simulation:
    """Daily figures of one run over ``n`` days (``n - 1`` holding periods)."""

    positions: Floats
    """Position held from each close to the next (``n - 1``)."""
    gross: Floats
    """Daily returns before costs (``n - 1``)."""
    net: Floats
    """Daily returns after costs (``n - 1``), the exit at the last close included."""
    costs: Floats
    """Costs paid each day (``n - 1``)."""


def simulate(closes: Floats, positions: Floats, cost_bps: float) -> Simulation:
    """Holds ``positions[t]`` from close t to close t + 1, paying ``cost_bps`` per unit of change."""
    rate = cost_bps / 10_000
    moves = closes[1:] / closes[:-1] - 1
    gross = positions * moves
    changes = np.abs(np.diff(positions, prepend=0.0))
    changes[-1] += abs(positions[-1])  # close what is open at the last close
    costs = changes * rate
    net = (1 + gross) * (1 - costs) - 1
    return Simulation(positions, gross, net, costs)


def trades(sim: Simulation, cost_bps: float) -> tuple[int, int]:
    """How many trades (runs of one non-flat position) and how many of them won after costs."""
    rate = cost_bps / 10_000
    count = wins = 0
    value, held = 1.0, 0.0
    for position, move in zip(sim.positions, sim.gross):
        if position != held and held != 0:
            count += 1
            wins += value * (1 - rate) > 1
        if position != held:
            value = 1 - rate if position != 0 else 1.0
        value *= 1 + move
        held = position
    if held != 0:
        count += 1
        wins += value * (1 - rate) > 1
    return count, wins


def max_drawdown(equity: Floats) -> float:
    """The largest fall from a peak, as a positive fraction of the peak."""
    return float(np.max(1 - equity / np.maximum.accumulate(equity)))


def sharpe(returns: Floats) -> float:
    """Mean over standard deviation of daily returns, times √252; 0 without variation."""
    if len(returns) < 2:
        return 0.0
    sd = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / sd * math.sqrt(TRADING_DAYS) if sd > 1e-12 else 0.0


def _positions_rule(spec: features.StrategySpec) -> str:
    rule = spec.raw.get("positions", "long_flat")
    if rule not in POSITIONS:
        raise ValueError(f"positions must be one of {', '.join(POSITIONS)}, got {json.dumps(rule)}")
    return str(rule)


def _training_result(job_input: object) -> dict[str, object]:
    training = features.as_record(job_input, "the job input").get("training")
    if training is None:
        raise ValueError("the backtest needs a trained model, but the job input has no training result")
    return dict(features.as_record(training, "input.training"))


def backtest(job: features.JobLike, settings: BacktestSettings = DEFAULT_SETTINGS) -> dict[str, object]:
    """Backtests ``{strategy, training}`` on the days the training never saw."""
    job.progress(0.0, "loading the model")
    spec = features.parse_strategy(job.input)
    rule = _positions_rule(spec)
    training = _training_result(job.input)
    model_ref = training.get("modelRef")
    if not isinstance(model_ref, str):
        raise ValueError("the training result has no modelRef: was it trained by the Python training worker?")
    model = models.load(model_ref, models.model_dir(settings.model_dir))
    if model.instrument != spec.instrument:
        raise ValueError(f"the model is trained on {model.instrument} but the strategy trades {spec.instrument}")
    if training.get("holdoutFrom", model.holdout_from) != model.holdout_from:
        raise ValueError(
            f"the training result says the held-out days start {training['holdoutFrom']}, "
            f"its model says {model.holdout_from}"
        )

    data = features.build_dataset(model.instrument, model.indicators, model.label_horizon_days)
    if tuple(data.features.columns) != model.feature_names:
        raise ValueError(
            f"the model expects features [{', '.join(model.feature_names)}] "
            f"but its indicators give [{', '.join(data.features.columns)}]"
        )
    start = pd.Timestamp(model.holdout_from)
    window = data.holdout(start)
    if len(window) < 2 or not window.index[0] > pd.Timestamp(model.trained_through):
        raise ValueError(f"no held-out days after {model.trained_through} on {model.instrument} to backtest on")
    job.progress(0.1, f"{len(window)} held-out days of {model.instrument} from {model.holdout_from}")

    chunks = [c for c in np.array_split(np.arange(len(window) - 1), max(1, settings.prediction_chunks)) if len(c)]
    probabilities: list[Floats] = []
    for k, rows in enumerate(chunks):
        job.check_cancelled()
        probabilities.append(model.estimator.predict_proba(window.iloc[rows])[:, 1])
        done = sum(len(c) for c in probabilities)
        job.progress(0.1 + 0.8 * (k + 1) / len(chunks), f"predicted {done}/{len(window) - 1} days")
    p = np.concatenate(probabilities)

    calibration = np.asarray(model.calibration)
    if rule == "long_flat":
        band = {"long": float(np.quantile(calibration, 0.5))}
        positions = np.where(p > band["long"], 1.0, 0.0)
    else:
        band = {
            "short": float(np.quantile(calibration, (1 - FLAT_SHARE) / 2)),
            "long": float(np.quantile(calibration, (1 + FLAT_SHARE) / 2)),
        }
        positions = np.where(p > band["long"], 1.0, np.where(p < band["short"], -1.0, 0.0))

    closes = data.bars["close"].reindex(window.index).to_numpy()
    sim = simulate(closes, positions, settings.cost_bps)
    total_trades, wins = trades(sim, settings.cost_bps)
    strategy_equity = np.concatenate((np.ones(1), np.cumprod(1 + sim.net)))
    hold_equity = closes / closes[0]
    labels = data.labels.reindex(window.index).to_numpy()[:-1]
    known = ~np.isnan(labels)
    net_return = float(strategy_equity[-1] - 1)
    job.progress(1.0, f"net return {net_return:.1%} over {total_trades} trades")

    shown = np.unique(np.linspace(0, len(window) - 1, min(len(window), settings.equity_points)).round().astype(int))
    return {
        "kind": "classification",
        "sharpeRatio": sharpe(sim.net),
        "winRate": wins / total_trades if total_trades > 0 else 0.0,
        "totalReturn": float(np.prod(1 + sim.gross) - 1),
        "netReturn": net_return,
        "maxDrawdown": max_drawdown(strategy_equity),
        "totalTrades": total_trades,
        "tradeCount": total_trades,
        "buyAndHoldReturn": float(hold_equity[-1] - 1),
        "costsPaid": float(sim.costs.sum()),
        "holdoutAccuracy": float(np.mean((p[known] > 0.5) == (labels[known] == 1))) if known.any() else None,
        "exposure": {
            "longDays": int(np.sum(positions > 0)),
            "shortDays": int(np.sum(positions < 0)),
            "flatDays": int(np.sum(positions == 0)),
        },
        "settings": {"costBps": settings.cost_bps, "positions": rule, "band": band},
        "window": {
            "from": features.day(window.index[0]),
            "to": features.day(window.index[-1]),
            "days": len(window) - 1,
        },
        "model": {"family": model.family, "ref": model_ref, "trainedThrough": model.trained_through},
        "equityCurve": [
            {
                "t": features.day(window.index[i]),
                "strategy": float(strategy_equity[i]),
                "buyAndHold": float(hold_equity[i]),
            }
            for i in shown
        ],
    }


def main() -> None:
    """Registers with the coordinator named by ``FOREMAN_*`` and runs backtest jobs until SIGTERM/SIGINT."""
    foreman_worker = sdk.foreman_worker()
    try:
        worker = foreman_worker.Worker(type="backtest", capabilities=models.CAPABILITIES)
    except ValueError as error:  # the FOREMAN_* settings
        raise SystemExit(f"backtest worker: {error}") from None
    worker.handler("backtest")(backtest)
    worker.run()


if __name__ == "__main__":
    main()
