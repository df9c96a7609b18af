"""
What the Python reference workers share about data: reading a strategy's spec
(instrument, timeframe, indicators, label horizon), loading the synthetic daily
bars shipped in ``examples/data/<INSTRUMENT>.csv``, turning them into
scale-free indicator features and direction labels with pandas, and
the chronological split: the last ``HOLDOUT_FRACTION`` of the samples is held
out for the backtest, the rest is for walk-forward training.

Every feature of day t uses closes up to and including day t only; the label
of day t is 1 when the close ``horizon`` bars later is above day t's close.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TIMEFRAMES: tuple[str, ...] = ("1d",)
HOLDOUT_FRACTION = 0.2
DEFAULT_LABEL_HORIZON_DAYS = 1
MAX_LABEL_HORIZON_DAYS = 20


class Log(Protocol):
    """The part of a logger the handlers use."""

    def info(self, msg: str, *args: object) -> None: ...

    def warning(self, msg: str, *args: object) -> None: ...


class JobLike(Protocol):
    """What a handler needs of a job: the SDK's ``Job`` and the tests' fake both fit."""

    @property
    def input(self) -> object: ...

    @property
    def log(self) -> Log: ...

    def progress(self, fraction: float, message: str | None = None) -> None: ...

    def check_cancelled(self) -> None: ...


# Parameters of each indicator with their textbook defaults and accepted ranges.
_INDICATORS: dict[str, dict[str, tuple[float, float, float]]] = {
    "rsi": {"period": (14, 2, 250)},
    "sma": {"period": (20, 2, 250)},
    "ema": {"period": (20, 2, 250)},
    "atr": {"period": (14, 2, 250)},
    "momentum": {"period": (10, 2, 250)},
    "volatility": {"period": (20, 2, 250)},
    "macd": {"fast": (12, 2, 250), "slow": (26, 2, 250), "signal": (9, 2, 250)},
    "bollinger": {"period": (20, 2, 250), "stddev": (2.0, 0.5, 5.0)},
    "stochastic": {"period": (14, 2, 250), "smoothing": (3, 1, 50), "signal": (3, 1, 50)},
}

INDICATOR_NAMES: tuple[str, ...] = tuple(_INDICATORS)

DEFAULT_INDICATORS: tuple[Mapping[str, object], ...] = (
    {"name": "rsi"},
    {"name": "sma", "period": 20},
    {"name": "ema", "period": 50},
    {"name": "macd"},
    {"name": "volatility"},
    {"name": "momentum"},
)

Indicator = dict[str, float | str]
"""One indicator with every parameter filled in, e.g. ``{"name": "rsi", "period": 14}``."""


def available_instruments() -> list[str]:
    """The instruments with a CSV file in ``examples/data``, sorted."""
    return sorted(p.stem for p in DATA_DIR.glob("*.csv"))


def as_record(value: object, what: str) -> Mapping[str, object]:
    """``value`` as a JSON object, or a ``ValueError`` naming ``what``."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {json.dumps(value, default=str)[:200]}")
    return value


@dataclass(frozen=True)
class StrategySpec:
    """What the workers read from ``strategy.spec``, validated, with defaults filled in."""

    name: str
    instrument: str
    indicators: tuple[Indicator, ...]
    label_horizon_days: int
    model: Mapping[str, object]
    raw: Mapping[str, object]


def parse_strategy(job_input: object) -> StrategySpec:
    """Reads ``input.strategy`` (``{name, spec}``) of a training or backtest job."""
    strategy = as_record(as_record(job_input, "the job input").get("strategy"), "input.strategy")
    spec = as_record(strategy.get("spec", {}), "strategy.spec")
    name = strategy.get("name")
    timeframe = spec.get("timeframe", "1d")
    if timeframe not in TIMEFRAMES:
        raise ValueError(
            f"unsupported timeframe {json.dumps(timeframe)}: the example data has daily bars ('1d') only"
        )
    model = spec.get("model")
    return StrategySpec(
        name=name if isinstance(name, str) else "unnamed",
        instrument=parse_instrument(spec.get("instrument")),
        indicators=parse_indicators(spec.get("indicators")),
        label_horizon_days=parse_label_horizon(spec.get("labelHorizonDays")),
        model=as_record(model, "strategy.spec.model") if model is not None else {},
        raw=spec,
    )


def parse_instrument(value: object) -> str:
    """The instrument named (``EURUSD``, ``eur/usd``, …), or the first available when none is."""
    known = available_instruments()
    if not known:
        raise ValueError(f"no market data: {DATA_DIR} has no CSV files")
    if value is None:
        return known[0]
    wanted = re.sub(r"[^A-Z0-9]", "", value.upper()) if isinstance(value, str) else None
    if wanted not in known:
        raise ValueError(
            f"unknown instrument {json.dumps(value)}: the example workers have data for {', '.join(known)}"
        )
    return wanted


def parse_label_horizon(value: object) -> int:
    """How many bars ahead the label looks: 1 (the next day) unless the spec says otherwise."""
    if value is None:
        return DEFAULT_LABEL_HORIZON_DAYS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"labelHorizonDays must be a whole number, got {json.dumps(value)}")
    if not 1 <= value <= MAX_LABEL_HORIZON_DAYS:
        raise ValueError(f"labelHorizonDays must be between 1 and {MAX_LABEL_HORIZON_DAYS}, got {value}")
    return int(value)


def parse_indicators(value: object) -> tuple[Indicator, ...]:
    """
    The indicators to compute, with defaults for missing parameters. Accepts
    ``{"name": "rsi", "period": 7}``, the designer's ``{"name", "parameters":
    [{"name", "value"}]}`` and bare names; the default set when none are given.
    """
    if value is None or value == []:
        value = list(DEFAULT_INDICATORS)
    if not isinstance(value, list):
        raise ValueError("strategy.spec.indicators must be a list")
    return tuple(_parse_indicator(item) for item in value)


def _parse_indicator(item: object) -> Indicator:
    raw: dict[str, object] = {"name": item} if isinstance(item, str) else dict(as_record(item, "an indicator"))
    parameters = raw.pop("parameters", None)
    if isinstance(parameters, list):
        for p in parameters:
            pair = as_record(p, "an indicator parameter")
            raw[str(pair.get("name"))] = pair.get("value")
    name = str(raw.pop("name", "")).lower()
    if name not in _INDICATORS:
        raise ValueError(
            f"unknown indicator {json.dumps(name)}: the example workers know {', '.join(INDICATOR_NAMES)}"
        )
    accepted = _INDICATORS[name]
    indicator: Indicator = {"name": name}
    for key, (default, low, high) in accepted.items():
        given = raw.get(key, default)
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not low <= given <= high:
            raise ValueError(f"{name}.{key} must be a number between {low:g} and {high:g}, got {json.dumps(given)}")
        indicator[key] = float(given) if isinstance(default, float) else int(round(given))
    if name == "macd" and not float(indicator["fast"]) < float(indicator["slow"]):
        raise ValueError(f"macd needs fast < slow, got {indicator['fast']}/{indicator['slow']}")
    return indicator


def load_bars(instrument: str) -> pd.DataFrame:
    """Daily bars of an instrument, oldest first, indexed by date (``open, high, low, close, volume``)."""
    path = DATA_DIR / f"{instrument}.csv"
    bars = pd.read_csv(path, comment="#", parse_dates=["date"], index_col="date")
    bars = bars[["open", "high", "low", "close", "volume"]].astype(float).sort_index()
    if len(bars) == 0 or not np.isfinite(bars["close"].to_numpy()).all() or (bars["close"] <= 0).any():
        raise ValueError(f"{path}: no usable closes")
    return bars


def _log(series: pd.Series) -> pd.Series:
    return pd.Series(np.log(series.to_numpy()), index=series.index)


def _wilder(series: pd.Series, period: int) -> pd.Series:
    return series.ewm(alpha=1 / period, adjust=False, min_periods=period).mean()


def _indicator_columns(bars: pd.DataFrame, ind: Indicator) -> dict[str, pd.Series]:
    """One indicator as one or two scale-free features (so 0.8 and 2000 look alike)."""
    close, high, low = bars["close"], bars["high"], bars["low"]
    name = str(ind["name"])

    def p(key: str) -> int:
        return int(ind[key])

    if name == "rsi":
        change = close.diff()
        gain = _wilder(change.clip(lower=0), p("period"))
        loss = _wilder(-change.clip(upper=0), p("period"))
        rsi = 100 - 100 / (1 + gain / loss.replace(0, np.nan))
        rsi = rsi.where(loss != 0, 100.0).where(gain.notna())
        return {f"rsi{p('period')}": rsi / 100 - 0.5}
    if name in ("sma", "ema"):
        n = p("period")
        average = close.rolling(n).mean() if name == "sma" else close.ewm(span=n, adjust=False, min_periods=n).mean()
        return {f"close_over_{name}{n}": close / average - 1}
    if name == "macd":
        fast, slow, signal = p("fast"), p("slow"), p("signal")
        line = close.ewm(span=fast, adjust=False).mean() - close.ewm(span=slow, adjust=False).mean()
        line = line.where(np.arange(len(close)) >= slow - 1)
        histogram = line - line.ewm(span=signal, adjust=False, min_periods=signal).mean()
        prefix = f"macd{fast}_{slow}_{signal}"
        return {f"{prefix}_line": line / close, f"{prefix}_histogram": histogram / close}
    if name == "bollinger":
        n, stddev = p("period"), float(ind["stddev"])
        middle = close.rolling(n).mean()
        width = close.rolling(n).std(ddof=0) * (2 * stddev)
        percent_b = ((close - (middle - width / 2)) / width.replace(0, np.nan) - 0.5).where(width != 0, 0.0)
        prefix = f"bollinger{n}_{stddev:g}"
        return {f"{prefix}_percent_b": percent_b.where(middle.notna()), f"{prefix}_bandwidth": width / middle}
    if name == "atr":
        previous = close.shift(1)
        true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1).max(axis=1)
        return {f"atr{p('period')}_over_close": _wilder(true_range, p("period")) / close}
    if name == "stochastic":
        n, smoothing, signal = p("period"), p("smoothing"), p("signal")
        lowest, highest = low.rolling(n).min(), high.rolling(n).max()
        raw_k = ((close - lowest) * 100 / (highest - lowest).replace(0, np.nan)).where(highest != lowest, 50.0)
        k = raw_k.where(lowest.notna()).rolling(smoothing).mean()
        d = k.rolling(signal).mean()
        prefix = f"stochastic{n}_{smoothing}_{signal}"
        return {f"{prefix}_k": k / 100 - 0.5, f"{prefix}_k_minus_d": (k - d) / 100}
    if name == "momentum":
        return {f"momentum{p('period')}_over_close": close.diff(p("period")) / close}
    if name == "volatility":
        return {f"volatility{p('period')}": _log(close).diff().rolling(p("period")).std()}
    raise ValueError(f"unknown indicator {name!r}")


def compute_features(bars: pd.DataFrame, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """
    The feature matrix, one row per day on which every feature is defined and
    finite (the warm-up days are dropped); the first column is the day's log return.
    """
    columns: dict[str, pd.Series] = {"log_return_1d": _log(bars["close"]).diff()}
    for ind in indicators:
        columns.update(_indicator_columns(bars, ind))
    frame = pd.DataFrame(columns, index=bars.index)
    return frame[np.isfinite(frame.to_numpy()).all(axis=1)]


def labels(bars: pd.DataFrame, horizon: int) -> pd.Series:
    """1.0 when the close ``horizon`` bars later is above the day's close, 0.0 when not, NaN near the end."""
    later = bars["close"].shift(-horizon)
    return (later > bars["close"]).astype(float).where(later.notna())


def label_dates(bars: pd.DataFrame, horizon: int) -> pd.Series:
    """The date of the close each day's label looks at (NaT near the end)."""
    return pd.Series(bars.index, index=bars.index).shift(-horizon)


@dataclass(frozen=True)
class Dataset:
    """Features and labels of one instrument, aligned, with the held-out window's first date."""

    bars: pd.DataFrame
    features: pd.DataFrame
    labels: pd.Series
    label_dates: pd.Series
    holdout_from: pd.Timestamp

    def development(self) -> tuple[pd.DataFrame, pd.Series]:
        """The labelled samples whose label's close comes before the held-out window: all training may see."""
        label_dates = self.label_dates.reindex(self.features.index)
        labels = self.labels.reindex(self.features.index)
        usable = (label_dates < self.holdout_from) & labels.notna()
        return self.features[usable], labels[usable]

    def holdout(self, start: pd.Timestamp | None = None) -> pd.DataFrame:
        """The feature rows from ``start`` (by default the first held-out day) on."""
        return self.features[self.features.index >= (start if start is not None else self.holdout_from)]


def build_dataset(instrument: str, indicators: Sequence[Indicator], horizon: int) -> Dataset:
    """Loads an instrument and splits its samples: the last ``HOLDOUT_FRACTION`` is held out."""
    bars = load_bars(instrument)
    features = compute_features(bars, indicators)
    if len(features) < 50:
        raise ValueError(
            f"not enough data for {instrument}: {len(features)} days with every indicator warm; "
            "shorten the indicator periods"
        )
    holdout_from = features.index[int(len(features) * (1 - HOLDOUT_FRACTION))]
    return Dataset(bars, features, labels(bars, horizon), label_dates(bars, horizon), holdout_from)


def day(timestamp: pd.Timestamp) -> str:
    """``YYYY-MM-DD``."""
    return str(timestamp.strftime("%Y-%m-%d"))
