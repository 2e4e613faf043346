"""Multi-step (direct, multi-output) windows of a series, split by time with no target across a split.

A window ends at its forecast origin t (its last input step) and has H targets, steps
t + 1 .. t + H: one network output per horizon, the *direct* strategy (no forecast is fed back
as an input). ``multistep_dataset`` fits the scaler on the training period only and gives each
window to the period that holds all H of its targets; a window whose targets straddle a boundary
belongs to no period and is dropped, so no target is in two periods and no training target lies
after the start of validation. Inputs may reach back into earlier periods: that is the past.

Shapes: values (n_steps,) or (n_steps, D); x (N, T, D); y (N, H, K) with K predicted features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_int
from rnnlab.data.series import Scaler, persistence_forecast, scale_by_training_period, window_steps
from rnnlab.data.splits import Splits


def make_multistep_windows(
    values: np.ndarray, window: int, horizon: int, *, target_columns: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Window i: inputs are steps i .. i + T - 1 (origin t = i + T - 1), targets steps t + 1 .. t + H.

    Args:
        values: (n_steps,) or (n_steps, D).
        window: T, input steps.
        horizon: H, target steps after the origin.
        target_columns: the K features to predict; default all.

    Returns:
        x: (N, T, D) float32 and y: (N, H, K) float32, N = n_steps - T - H + 1.
    """
    values, inputs, columns = window_steps(values, window, horizon, target_columns)  # inputs (N, T)
    targets = inputs[:, -1:] + 1 + np.arange(check_int("horizon", horizon))  # (N, H), all after the last input
    return values[inputs], values[targets][:, :, columns]


@dataclass(frozen=True)
class MultiStepData:
    """Multi-step windows of a scaled series, split by the time of all their targets.

    Attributes:
        train, val, test: (x (N, T, D), y (N, H, K)) float32, scaled.
        origin_index: ``Splits`` of (N,) int64, each window's origin t; its targets are t + 1 .. t + H.
        scaler: ``Scaler`` fitted on the first ``n_train`` steps only.
        target_columns: the predicted features.
        horizon: H.
        boundaries: (n_train, n_train + n_val), the first step of validation and of test.
    """

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    origin_index: Splits
    scaler: Scaler
    target_columns: tuple[int, ...]
    horizon: int
    boundaries: tuple[int, int]


def multistep_dataset(
    values: np.ndarray,
    window: int,
    horizon: int,
    *,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    target_columns: Sequence[int] | None = None,
) -> MultiStepData:
    """Scale with training statistics, cut direct multi-step windows, split them by target time.

    Training windows have all their targets before step ``n_train``; validation windows, all in
    ``[n_train, n_train + n_val)``; test windows, all from ``n_train + n_val`` on. The H - 1
    windows at each boundary whose targets fall in two periods are dropped.

    Args:
        values: (n_steps,) or (n_steps, D), oldest first.
        window, horizon: T and H.
        fractions: (train, val, test) fractions of the steps.
        target_columns: the K features to predict; default all.

    Returns:
        ``MultiStepData``.
    """
    scaled, (n_train, n_val), columns, scaler = scale_by_training_period(values, fractions, target_columns)
    x, y = make_multistep_windows(scaled, window, horizon, target_columns=columns)
    origin = np.arange(len(x), dtype=np.int64) + window - 1
    first, last = origin + 1, origin + horizon
    val_start, test_start = n_train, n_train + n_val
    parts = [last < val_start, (first >= val_start) & (last < test_start), first >= test_start]
    for name, mask in zip(("training", "validation", "test"), parts):
        if not mask.any():
            raise ValueError(f"window={window}, horizon={horizon} leave no {name} window in {len(values)} steps "
                             f"split {fractions}")
    train, val, test = ((x[mask], y[mask]) for mask in parts)
    return MultiStepData(
        train, val, test,
        origin_index=Splits(*(origin[mask] for mask in parts)),
        scaler=scaler,
        target_columns=columns,
        horizon=horizon,
        boundaries=(val_start, test_start),
    )


def multistep_persistence(x: np.ndarray, horizon: int, target_columns: Sequence[int] | None = None) -> np.ndarray:
    """Persistence for every horizon, "each future step equals the last one": (N, T, D) -> (N, H, K)."""
    horizon = check_int("horizon", horizon)
    last = persistence_forecast(x, target_columns)  # (N, K)
    return np.repeat(last[:, None, :], horizon, axis=1)
