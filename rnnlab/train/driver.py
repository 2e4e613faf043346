"""The pieces both training loops share: metrics, mini-batches, history, early stopping, and the
epoch driver ``_run_training`` that runs either loop's "one epoch" with the same shuffling and
the same early stopping."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab._checks import check_choice, check_float, check_int, check_seed

Metric = Callable[[Any, Any], float]




def accuracy(output: Any, target: Any) -> float:
    """Fraction of positions where ``argmax(output, -1) == target``; NumPy arrays or torch tensors.

    Args:
        output: (..., K) scores or logits.
        target: (...) int class ids.
    """
    correct = output.argmax(-1) == target
    return float(correct.sum()) / max(1, int(np.prod(tuple(correct.shape))))


#: Metrics that can be named by string in ``metrics=["accuracy"]``.
METRICS: dict[str, Metric] = {"accuracy": accuracy}


def _resolve_metrics(metrics: Mapping[str, Metric] | Sequence[str] | None) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if isinstance(metrics, Mapping):
        return dict(metrics)
    return {name: METRICS[check_choice("metric", name, tuple(METRICS))] for name in metrics}


def batch_indices(n: int, batch_size: int, *, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    """Index arrays of consecutive mini-batches over ``n`` items; the last one may be smaller.

    Args:
        n: number of items.
        batch_size: B.
        rng: shuffles the order when given (training); None keeps it (evaluation).

    Yields:
        (B,) int64 indices.
    """
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


@dataclass
class History:
    """Per-epoch record of a training run.

    Attributes:
        train_loss: mean training loss of each epoch (averaged over its mini-batches, weighted by size).
        val_loss: validation loss after each epoch; empty without validation data.
        train_metrics, val_metrics: metric name -> one value per epoch.
        best_epoch: 0-based epoch of the lowest validation loss (None without validation data);
            ``history.val_loss[history.best_epoch]`` is the loss of the weights ``fit`` returns.
        stopped_early: whether early stopping ended the run before ``epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metrics: dict[str, list[float]] = field(default_factory=dict)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False

    def __len__(self) -> int:
        """Number of epochs run."""
        return len(self.train_loss)

    def record(self, train: tuple[float, dict[str, float]], val: tuple[float, dict[str, float]] | None) -> None:
        """Append one epoch: ``(loss, metrics)`` for training and, if given, for validation."""
        self.train_loss.append(train[0])
        for name, value in train[1].items():
            self.train_metrics.setdefault(name, []).append(value)
        if val is not None:
            self.val_loss.append(val[0])
            for name, value in val[1].items():
                self.val_metrics.setdefault(name, []).append(value)

    @property
    def best_val_loss(self) -> float | None:
        """The lowest validation loss, or None without validation data."""
        return None if self.best_epoch is None else self.val_loss[self.best_epoch]

    def to_dict(self) -> dict[str, list[float]]:
        """Flat columns (``train_loss``, ``val_loss``, ``train_<metric>``, ``val_<metric>``), e.g. for pandas."""
        columns = {"train_loss": self.train_loss}
        if self.val_loss:
            columns["val_loss"] = self.val_loss
        columns |= {f"train_{name}": values for name, values in self.train_metrics.items()}
        columns |= {f"val_{name}": values for name, values in self.val_metrics.items()}
        return columns


class EarlyStopping:
    """Track the best validation loss; ask to stop after ``patience`` epochs without improvement.

    Args:
        patience: epochs to wait for an improvement, or None never to stop.
        min_delta: how much lower than the best a loss must be to count as an improvement.
    """

    def __init__(self, patience: int | None, min_delta: float = 0.0) -> None:
        self.patience = None if patience is None else check_int("patience", patience)
        self.min_delta = check_float("min_delta", min_delta)
        self.best_loss = float("inf")
        self.best_epoch: int | None = None
        self.waited = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record one epoch's validation loss; return True if it is the new best (NaN never is)."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.waited >= self.patience


def _run_epoch(
    n: int,
    batch_size: int,
    step: Callable[[np.ndarray], tuple[float, Any, Any]],
    metric_fns: dict[str, Metric],
    rng: np.random.Generator | None = None,
) -> tuple[float, dict[str, float]]:
    """One pass over ``n`` items: ``step(indices) -> (loss, output, target)`` per mini-batch.

    Returns the size-weighted means of the loss and of each metric.
    """
    loss_sum, metric_sums = 0.0, dict.fromkeys(metric_fns, 0.0)
    for index in batch_indices(n, batch_size, rng=rng):
        loss, output, target = step(index)
        loss_sum += loss * len(index)
        for name, metric in metric_fns.items():
            metric_sums[name] += float(metric(output, target)) * len(index)
    return loss_sum / n, {name: total / n for name, total in metric_sums.items()}


@dataclass
class _Loop:
    """What a backend supplies to the shared driver."""

    train_epoch: Callable[[np.random.Generator], tuple[float, dict[str, float]]]
    evaluate: Callable[[], tuple[float, dict[str, float]]] | None
    snapshot: Callable[[], Any]
    restore: Callable[[Any], None]


def _run_training(
    loop: _Loop, *, epochs: int, patience: int | None, restore_best: bool, seed: int, progress: bool
) -> History:
    """Run the epochs with shuffling from ``seed``, record the history, stop early, restore the best weights."""
    rng = np.random.default_rng(seed)
    history, stopper, best_state = History(), EarlyStopping(patience), None
    bar = _progress_bar(epochs) if progress else None
    try:
        for epoch in range(epochs):
            train_result = loop.train_epoch(rng)
            val_result = loop.evaluate() if loop.evaluate is not None else None
            history.record(train_result, val_result)
            if bar is not None:
                bar.set_postfix_str(_summary(train_result, val_result), refresh=False)
                bar.update()
            if val_result is None:
                continue
            if stopper.update(epoch, val_result[0]):
                best_state = loop.snapshot()  # copy now: later epochs change the weights in place
            if stopper.should_stop:
                history.stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    history.best_epoch = stopper.best_epoch
    if restore_best and best_state is not None:
        loop.restore(best_state)
    return history


def _progress_bar(epochs: int) -> Any:
    # Plain-text tqdm, not tqdm.auto: notebook widgets do not survive an offline book build.
    # stdout rather than stderr, so executed notebooks show no red stderr cells.
    from tqdm import tqdm

    return tqdm(total=epochs, desc="epochs", unit="epoch", file=sys.stdout, ascii=True, dynamic_ncols=False)


def _summary(train: tuple[float, dict[str, float]], val: tuple[float, dict[str, float]] | None) -> str:
    parts = [f"loss={train[0]:.4g}"] + [f"{k}={v:.3g}" for k, v in train[1].items()]
    if val is not None:
        parts += [f"val_loss={val[0]:.4g}"] + [f"val_{k}={v:.3g}" for k, v in val[1].items()]
    return " ".join(parts)


# ----------------------------------------------------------------------------------------------
# Argument checks shared by both loops.


def _split_pair(data: Any, name: str) -> tuple[tuple[Any, ...], Any]:
    """``(inputs, targets)`` -> (tuple of input arrays, targets), checking that N agrees."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be an (inputs, targets) pair, received {type(data).__name__}")
    inputs, targets = data
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    lengths = [len(x) for x in inputs] + [len(targets)]
    if len(set(lengths)) != 1 or lengths[0] == 0:
        raise ValueError(f"{name}: inputs and targets must share a first dimension N >= 1, received {lengths}")
    return inputs, targets


def _check_settings(
    loss_fn: Any, epochs: Any, batch_size: Any, lr: Any, clip_norm: Any, patience: Any, seed: Any, has_val: bool
) -> None:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, received {type(loss_fn).__name__}")
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    check_float("lr", lr, 0.0, strict=True)
    if clip_norm is not None:
        check_float("clip_norm", clip_norm, 0.0, strict=True)
    if patience is not None:
        check_int("patience", patience)
        if not has_val:
            raise ValueError(
                "patience needs val_data: early stopping watches the validation loss, received val_data=None"
            )
    check_seed(seed)


def _first(output: Any) -> Any:
    """The prediction of a model that may return ``(prediction, state)``."""
    return output[0] if isinstance(output, tuple) else output
