"""Real time series that ship with ``vega_datasets`` (no download), windowed without look-ahead.

* ``load_stock``: monthly closing prices of AAPL, AMZN, GOOG, IBM or MSFT, 2000-2010.
* ``load_weather``: daily Seattle weather, 2012-2015.

``series_dataset`` splits by time: every training target precedes every validation target,
which precedes every test target, and the scaler sees the training period only. Inputs of the
first validation windows reach back into the training period, which is the past and so allowed.

Shapes use the book's letters: a raw series is (n_steps,) or (n_steps, D) with D features; its
windows are (N, T, D), N windows of T steps, and their targets (N, K), K predicted features.
``seasonal_climatology`` is the forecast the book calls climatology (6.5 and chapter 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_choice, check_int
from rnnlab.data.splits import Splits, split_counts

SYMBOLS = ("AAPL", "AMZN", "GOOG", "IBM", "MSFT")
WEATHER_VARIABLES = ("precipitation", "temp_max", "temp_min", "wind")


def load_stock(symbol: str = "AAPL") -> tuple[np.ndarray, np.ndarray]:
    """Monthly prices of one ticker from ``vega_datasets.local_data.stocks()``, oldest first.

    Returns:
        dates: (n_months,) datetime64[D], first day of each month (123 months; 68 for GOOG, listed in 2004).
        prices: (n_months,) float32, US dollars.
    """
    from vega_datasets import local_data  # lazy: pandas and vega_datasets are optional extras

    check_choice("symbol", symbol, SYMBOLS)
    frame = local_data.stocks()
    frame = frame[frame["symbol"] == symbol].sort_values("date")
    return frame["date"].to_numpy(dtype="datetime64[D]"), frame["price"].to_numpy(dtype=np.float32)


def load_weather(variables: str | Sequence[str] = "temp_max") -> tuple[np.ndarray, np.ndarray]:
    """Daily Seattle weather from ``vega_datasets.local_data.seattle_weather()``, oldest first.

    Args:
        variables: one of ``WEATHER_VARIABLES`` (mm of rain, degrees C, m/s) or a list of them.

    Returns:
        dates: (n_days,) datetime64[D], 1461 days.
        values: (n_days,) float32 for one variable, (n_days, D) for a list of D.
    """
    from vega_datasets import local_data

    names = [variables] if isinstance(variables, str) else list(variables)
    for name in names:
        check_choice("weather variable", name, WEATHER_VARIABLES)
    frame = local_data.seattle_weather().sort_values("date")
    values = frame[names].to_numpy(dtype=np.float32)
    return frame["date"].to_numpy(dtype="datetime64[D]"), values[:, 0] if isinstance(variables, str) else values


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if values.ndim not in (1, 2):
        raise ValueError(f"values must be (n_steps,) or (n_steps, D), received shape {values.shape}")
    return values[:, None] if values.ndim == 1 else values


def make_windows(
    values: np.ndarray, window: int, *, horizon: int = 1, target_columns: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Slide a window over a series: ``window`` past steps in, the value ``horizon`` steps later out.

    Window i holds steps ``i .. i + window - 1``; its target is step ``i + window + horizon - 1``.

    Args:
        values: (n_steps,) or (n_steps, D).
        window: T, the number of input steps.
        horizon: how many steps ahead the target lies (1 = next step).
        target_columns: the K features to predict; default all (K = D).

    Returns:
        x: (N, T, D) float32 with N = n_steps - T - horizon + 1.
        y: (N, K) float32.
    """
    values, steps, columns = window_steps(values, window, horizon, target_columns)
    return values[steps], values[steps[:, -1] + horizon][:, columns]


def window_steps(
    values: np.ndarray, window: int, horizon: int, target_columns: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The checks and indices shared by the windowing functions.

    Returns:
        ``(values (n_steps, D), steps (N, T) int, columns)``: row i of ``steps`` is window i's
        input steps; N leaves room for ``horizon`` steps after each window.
    """
    values = _as_2d(values)
    window = check_int("window", window)
    horizon = check_int("horizon", horizon)
    n_windows = len(values) - window - horizon + 1
    if n_windows < 1:
        raise ValueError(f"series of length {len(values)} is too short for window={window}, horizon={horizon}")
    columns = list(range(values.shape[1])) if target_columns is None else list(target_columns)
    return values, np.arange(n_windows)[:, None] + np.arange(window), columns


class Scaler:
    """Standardise features with the mean and standard deviation of the data it was fitted on."""

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None  # (D,)
        self.std: np.ndarray | None = None  # (D,)

    def fit(self, values: np.ndarray) -> Scaler:
        """Learn mean and std per feature from ``values`` (n_steps,) or (n_steps, D); constant features get std 1."""
        values = _as_2d(values)
        self.mean = values.mean(axis=0)
        std = values.std(axis=0)
        self.std = np.where(std > 0, std, 1.0).astype(np.float32)
        return self

    def _check_fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.std is None:
            raise ValueError("Scaler must be fitted before use: call fit() on the training part")
        return self.mean, self.std

    def transform(self, values: np.ndarray, columns: Sequence[int] | None = None) -> np.ndarray:
        """``(values - mean) / std``; ``columns`` picks the statistics of a subset of features."""
        mean, std = self._check_fitted()
        index = slice(None) if columns is None else list(columns)
        return ((np.asarray(values, dtype=np.float32) - mean[index]) / std[index]).astype(np.float32)

    def inverse_transform(self, values: np.ndarray, columns: Sequence[int] | None = None) -> np.ndarray:
        """Back to original units, e.g. ``scaler.inverse_transform(pred, data.target_columns)``."""
        mean, std = self._check_fitted()
        index = slice(None) if columns is None else list(columns)
        return (np.asarray(values, dtype=np.float32) * std[index] + mean[index]).astype(np.float32)


def chronological_split(values: np.ndarray, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> Splits:
    """Cut a series into consecutive train / val / test segments, oldest first (no shuffling)."""
    n_train, n_val, _ = split_counts(len(values), fractions)
    return Splits(values[:n_train], values[n_train:n_train + n_val], values[n_train + n_val:])


@dataclass(frozen=True)
class SeriesData:
    """Windows of a scaled series, split by the time of their targets.

    Attributes:
        train, val, test: (x (N, T, D) float32, y (N, K) float32), in scaled units.
        target_index: ``Splits`` of (N,) int64 time indices of each target (use them to index dates).
        scaler: the ``Scaler`` fitted on the training period only.
        target_columns: the predicted features.
    """

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    target_index: Splits
    scaler: Scaler
    target_columns: tuple[int, ...]


def scale_by_training_period(
    values: np.ndarray, fractions: tuple[float, float, float], target_columns: Sequence[int] | None
) -> tuple[np.ndarray, tuple[int, int], tuple[int, ...], Scaler]:
    """The series scaled with statistics of its training period only, ready to be windowed.

    Args:
        values: (n_steps,) or (n_steps, D), oldest first.
        fractions: (train, val, test) fractions of the steps; the first ``n_train`` steps train.
        target_columns: the K features to predict; None means all D.

    Returns:
        ``(scaled (n_steps, D) float32, (n_train, n_val), columns, scaler)``.
    """
    values = _as_2d(values)
    n_train, n_val, _ = split_counts(len(values), fractions)
    columns = tuple(range(values.shape[1])) if target_columns is None else tuple(target_columns)
    scaler = Scaler().fit(values[:n_train])  # training period only: no statistics from the future
    return scaler.transform(values), (n_train, n_val), columns, scaler


def series_dataset(
    values: np.ndarray,
    window: int,
    *,
    horizon: int = 1,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    target_columns: Sequence[int] | None = None,
) -> SeriesData:
    """Scale a series with training statistics, window it and split the windows by target time.

    The first ``n_train`` steps (``fractions[0]`` of the series) form the training period: the
    scaler is fitted on them and the training windows have their targets (and so their inputs)
    inside it. Validation and test windows have their targets in the next two periods.

    Args:
        values: (n_steps,) or (n_steps, D) raw series, oldest first.
        window: T, the number of input steps.
        horizon: steps between the last input and the target.
        fractions: (train, val, test) fractions of the n_steps steps.
        target_columns: the K features to predict; default all.

    Returns:
        ``SeriesData``.
    """
    scaled, (n_train, n_val), columns, scaler = scale_by_training_period(values, fractions, target_columns)
    x, y = make_windows(scaled, window, horizon=horizon, target_columns=columns)
    target_index = np.arange(len(x)) + window + horizon - 1
    parts = [target_index < n_train, (target_index >= n_train) & (target_index < n_train + n_val),
             target_index >= n_train + n_val]
    if not parts[0].any():
        raise ValueError(f"window + horizon = {window + horizon} leaves no training window in {n_train} steps")
    train, val, test = ((x[mask], y[mask]) for mask in parts)
    return SeriesData(
        train, val, test,
        target_index=Splits(*(target_index[mask] for mask in parts)),
        scaler=scaler,
        target_columns=columns,
    )


def persistence_forecast(x: np.ndarray, target_columns: Sequence[int] | None = None) -> np.ndarray:
    """The naive forecast "tomorrow equals today": the last input step of each window.

    Args:
        x: (N, T, D) windows.
        target_columns: the K predicted features; default all.

    Returns:
        (N, K), directly comparable with the targets ``y``.
    """
    last = np.asarray(x)[:, -1, :]
    return last if target_columns is None else last[:, list(target_columns)]


def walk_forward_splits(n_samples: int, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window train/test index pairs over time-ordered windows (scikit-learn's ``TimeSeriesSplit``).

    Returns:
        ``n_splits`` pairs (train_index, test_index); every train index precedes every test index.
    """
    from sklearn.model_selection import TimeSeriesSplit  # lazy: scikit-learn is an optional extra

    n_samples = check_int("n_samples", n_samples, minimum=2)
    n_splits = check_int("n_splits", n_splits, minimum=2)
    return list(TimeSeriesSplit(n_splits=n_splits).split(np.arange(n_samples)))


def seasonal_harmonics(dates: np.ndarray, n_harmonics: int = 2) -> np.ndarray:
    """Sine and cosine of the day of the year, at 1..n_harmonics cycles a year.

    Args:
        dates: (N,) ``datetime64`` values.
        n_harmonics: how many yearly frequencies.

    Returns:
        (N, 2 * n_harmonics) float64: sin(k θ), cos(k θ) for k = 1..n_harmonics, θ = 2π · day / 365.25.
    """
    dates = np.asarray(dates)
    if not np.issubdtype(dates.dtype, np.datetime64) or dates.ndim != 1:
        raise TypeError(f"dates must be a 1-D datetime64 array, got dtype {dates.dtype} with shape {dates.shape}")
    n_harmonics = check_int("n_harmonics", n_harmonics, minimum=1)
    days = (dates.astype("datetime64[D]") - dates.astype("datetime64[Y]")).astype(int)
    angle = 2 * np.pi * days / 365.25
    return np.concatenate([np.stack([np.sin(k * angle), np.cos(k * angle)], axis=1)
                           for k in range(1, n_harmonics + 1)], axis=1)


def seasonal_climatology(
    train_dates: np.ndarray, train_values: np.ndarray, dates: np.ndarray, n_harmonics: int = 2
) -> np.ndarray:
    """The seasonal "climatology" forecast: a least-squares fit of yearly harmonics to the past.

    Predicts each date's value from its day of the year alone, with a mean and ``n_harmonics``
    yearly sine/cosine pairs fitted on the training period only, so it knows the season but not
    the recent weather.

    Args:
        train_dates: (N_train,) ``datetime64``, the period the fit may see.
        train_values: (N_train,) values on those dates.
        dates: (N,) ``datetime64`` dates to forecast.
        n_harmonics: yearly frequencies in the fit.

    Returns:
        (N,) float64 forecasts.
    """
    train_values = np.asarray(train_values, dtype=np.float64)
    if train_values.shape != np.shape(train_dates):
        raise ValueError(f"train_values must have the shape of train_dates {np.shape(train_dates)}, "
                         f"got {train_values.shape}")
    design = np.column_stack([np.ones(len(train_values)), seasonal_harmonics(train_dates, n_harmonics)])
    coef, *_ = np.linalg.lstsq(design, train_values, rcond=None)
    target = np.column_stack([np.ones(len(dates)), seasonal_harmonics(dates, n_harmonics)])
    return target @ coef
