"""Training loops: ``fit`` for PyTorch models, ``fit_scratch`` for ``rnnlab.scratch`` models.

Both loops share one epoch driver (``_run_training``): the same seeded mini-batch shuffling, the
same ``History``, the same early stopping on validation loss with the best weights restored.
Only "one optimisation step" and "copy the weights" differ between the two.

``import rnnlab.train`` imports neither torch nor tqdm; they are imported when a loop runs.

Data are ``(inputs, targets)`` pairs whose first dimension is the batch N. ``inputs`` may also
be a tuple of arrays, passed to the model as ``model(*inputs)`` (e.g. an encoder-decoder's
source ids and decoder inputs). If the model returns a tuple, such as ``(out, state)``, its
first element is the prediction handed to the loss.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab._checks import check_choice, check_float, check_int, check_seed

Metric = Callable[[Any, Any], float]


# ----------------------------------------------------------------------------------------------
# Shared pieces: metrics, batches, history, early stopping, the epoch driver.


def accuracy(output: Any, target: Any) -> float:
    """Fraction of positions where ``argmax(output, -1) == target``; NumPy arrays or torch tensors.

    Args:
        output: (..., C) scores or logits.
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


# ----------------------------------------------------------------------------------------------
# PyTorch.

TORCH_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


def _to_torch(arrays: tuple[Any, ...], device: Any) -> tuple[Any, ...]:
    """NumPy arrays or tensors -> tensors on ``device``; float64 NumPy becomes float32 (torch's default)."""
    import torch

    tensors = []
    for array in arrays:
        if isinstance(array, np.ndarray) and array.dtype == np.float64:
            array = array.astype(np.float32)
        tensors.append(torch.as_tensor(array, device=device))
    return tuple(tensors)


def _torch_optimizer(optimizer: Any, model: Any, lr: float) -> Any:
    import torch

    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    name = check_choice("optimizer", optimizer, TORCH_OPTIMIZERS)
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
               "rmsprop": torch.optim.RMSprop}
    return classes[name](model.parameters(), lr=lr)


def _torch_eval_epoch(model: Any, inputs: tuple, targets: Any, loss_fn: Callable, batch_size: int,
                      metric_fns: dict[str, Metric]) -> tuple[float, dict[str, float]]:
    import torch

    def step(index: np.ndarray) -> tuple[float, Any, Any]:
        index = torch.as_tensor(index, device=targets.device)
        output = _first(model(*(x[index] for x in inputs)))
        return float(loss_fn(output, targets[index])), output, targets[index]

    model.eval()
    with torch.no_grad():
        return _run_epoch(len(targets), batch_size, step, metric_fns)


def fit(
    model: Any,
    train_data: tuple[Any, Any],
    val_data: tuple[Any, Any] | None,
    loss_fn: Callable[[Any, Any], Any],
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    optimizer: str | Any = "adam",
    clip_norm: float | None = None,
    patience: int | None = None,
    restore_best: bool = True,
    seed: int,
    device: str = "cpu",
    metrics: Mapping[str, Metric] | Sequence[str] | None = None,
    progress: bool = True,
) -> History:
    """Train a ``torch.nn.Module`` with mini-batches; returns the model in eval mode, trained in place.

    Each epoch shuffles the training set (seeded), takes one optimiser step per mini-batch,
    then evaluates on ``val_data`` without gradients. With ``restore_best`` (the default) the
    weights of the epoch with the lowest validation loss are loaded back at the end, whether
    or not early stopping fired. The same seed and the same initial weights give the same history.

    Args:
        model: a ``torch.nn.Module``; moved to ``device``.
        train_data: (inputs, targets), inputs (N, ...) or a tuple of such arrays; NumPy or torch.
        val_data: the same for validation, or None.
        loss_fn: ``loss_fn(output, targets) -> scalar tensor``, a mean over the batch
            (e.g. ``torch.nn.CrossEntropyLoss()``).
        epochs: maximum number of epochs.
        batch_size: B.
        lr: learning rate of the optimiser built from a name.
        optimizer: "adam", "adamw", "sgd" or "rmsprop", or a ready ``torch.optim.Optimizer``
            (its own learning rate is then used and ``lr`` is ignored).
        clip_norm: if set, clip the global gradient norm to this value before each step.
        patience: stop after this many epochs without a lower validation loss (needs val_data).
        restore_best: load the best validation epoch's weights back at the end.
        seed: seeds the shuffling and torch's random state (dropout) during training; torch's
            global random state is restored afterwards.
        device: e.g. "cpu" or "cuda".
        metrics: name -> ``fn(output, targets) -> float``, or names from ``METRICS`` ("accuracy").
        progress: show a plain-text tqdm bar, one tick per epoch.

    Returns:
        ``History`` of losses and metrics per epoch.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, received {type(model).__name__}")
    _check_settings(loss_fn, epochs, batch_size, lr, clip_norm, patience, seed, val_data is not None)
    metric_fns = _resolve_metrics(metrics)
    device = torch.device(device)
    model.to(device)
    inputs, targets = _split_pair(train_data, "train_data")
    inputs, (targets,) = _to_torch(inputs, device), _to_torch((targets,), device)
    opt = _torch_optimizer(optimizer, model, lr)

    def train_step(index: np.ndarray) -> tuple[float, Any, Any]:
        index = torch.as_tensor(index, device=device)
        batch_targets = targets[index]
        opt.zero_grad(set_to_none=True)
        output = _first(model(*(x[index] for x in inputs)))
        loss = loss_fn(output, batch_targets)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        opt.step()
        return loss.item(), output.detach(), batch_targets

    def train_epoch(rng: np.random.Generator) -> tuple[float, dict[str, float]]:
        model.train()
        return _run_epoch(len(targets), batch_size, train_step, metric_fns, rng)

    evaluate_val = None
    if val_data is not None:
        val_inputs, val_targets = _split_pair(val_data, "val_data")
        val_inputs, (val_targets,) = _to_torch(val_inputs, device), _to_torch((val_targets,), device)

        def evaluate_val() -> tuple[float, dict[str, float]]:
            return _torch_eval_epoch(model, val_inputs, val_targets, loss_fn, batch_size, metric_fns)

    loop = _Loop(
        train_epoch,
        evaluate_val,
        snapshot=lambda: {k: v.detach().clone() for k, v in model.state_dict().items()},
        restore=model.load_state_dict,
    )
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):  # seed dropout without touching the caller's RNG
        torch.manual_seed(seed)
        history = _run_training(loop, epochs=epochs, patience=patience, restore_best=restore_best,
                                seed=check_seed(seed), progress=progress)
    model.eval()
    return history


def evaluate(
    model: Any,
    data: tuple[Any, Any],
    loss_fn: Callable[[Any, Any], Any],
    *,
    batch_size: int = 256,
    metrics: Mapping[str, Metric] | Sequence[str] | None = None,
    device: str = "cpu",
) -> dict[str, float]:
    """Loss and metrics of a torch model on ``(inputs, targets)``, without gradients, in eval mode.

    Returns:
        ``{"loss": ..., "<metric>": ...}``.
    """
    import torch

    inputs, targets = _split_pair(data, "data")
    device = torch.device(device)
    model.to(device)
    inputs, (targets,) = _to_torch(inputs, device), _to_torch((targets,), device)
    loss, values = _torch_eval_epoch(model, inputs, targets, loss_fn, check_int("batch_size", batch_size),
                                     _resolve_metrics(metrics))
    return {"loss": loss, **values}


# ----------------------------------------------------------------------------------------------
# rnnlab.scratch (NumPy): model(x) -> output; loss_fn -> (loss, grad); model.backward(grad).

SCRATCH_OPTIMIZERS = ("adam", "sgd")


def _check_scratch_model(model: Any) -> None:
    missing = [name for name in ("params", "grads", "backward") if not hasattr(model, name)]
    if missing or not callable(model):
        raise TypeError(
            f"model must be an rnnlab.scratch model (callable, with params, grads and backward), "
            f"received {type(model).__name__} lacking {missing or ['__call__']}"
        )


def _scratch_optimizer(optimizer: Any, model: Any, lr: float) -> Any:
    from rnnlab import scratch

    if hasattr(optimizer, "step"):
        return optimizer
    name = check_choice("optimizer", optimizer, SCRATCH_OPTIMIZERS)
    return scratch.Adam(model.params, lr=lr) if name == "adam" else scratch.SGD(model.params, lr=lr)


def _scratch_eval_epoch(model: Any, inputs: tuple, targets: np.ndarray, loss_fn: Callable, batch_size: int,
                        metric_fns: dict[str, Metric]) -> tuple[float, dict[str, float]]:
    def step(index: np.ndarray) -> tuple[float, Any, Any]:
        output = _first(model(*(x[index] for x in inputs)))
        loss, _ = loss_fn(output, targets[index])
        return float(loss), output, targets[index]

    return _run_epoch(len(targets), batch_size, step, metric_fns)


def fit_scratch(
    model: Any,
    train_data: tuple[Any, Any],
    val_data: tuple[Any, Any] | None,
    loss_fn: Callable[[Any, Any], tuple[float, np.ndarray]],
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    optimizer: str | Any = "adam",
    clip_norm: float | None = None,
    patience: int | None = None,
    restore_best: bool = True,
    seed: int,
    metrics: Mapping[str, Metric] | Sequence[str] | None = None,
    progress: bool = True,
) -> History:
    """Train an ``rnnlab.scratch`` model with mini-batches; same loop, history and early stopping as ``fit``.

    Per mini-batch: ``output = model(x)``, ``loss, grad = loss_fn(output, y)``,
    ``model.backward(grad)``, optionally ``scratch.clip_grad_norm(model.grads, clip_norm)``, then
    ``optimizer.step(model.grads)``. The best weights are copied back into the live
    ``model.params`` arrays in place, so an optimiser holding them stays valid.

    Args:
        model: e.g. ``scratch.SequenceClassifier`` or ``scratch.LanguageModel``.
        train_data: (inputs, targets) NumPy arrays with first dimension N (inputs may be a tuple).
        val_data: the same for validation, or None.
        loss_fn: ``loss_fn(output, targets) -> (loss, d_output)``, e.g. ``scratch.softmax_cross_entropy``.
        epochs, batch_size, lr, clip_norm, patience, restore_best, metrics, progress: as in ``fit``.
        optimizer: "adam" or "sgd" (built on ``model.params`` with ``lr``), or any object with
            ``step(grads)`` such as a ready ``scratch.SGD(model.params, lr, momentum=0.9)``.
        seed: seeds the shuffling.

    Returns:
        ``History`` of losses and metrics per epoch.
    """
    _check_scratch_model(model)
    _check_settings(loss_fn, epochs, batch_size, lr, clip_norm, patience, seed, val_data is not None)
    from rnnlab import scratch

    metric_fns = _resolve_metrics(metrics)
    inputs, targets = _split_pair(train_data, "train_data")
    opt = _scratch_optimizer(optimizer, model, lr)

    def train_step(index: np.ndarray) -> tuple[float, Any, Any]:
        output = _first(model(*(x[index] for x in inputs)))
        loss, grad = loss_fn(output, targets[index])
        model.backward(grad)
        if clip_norm is not None:
            scratch.clip_grad_norm(model.grads, clip_norm)
        opt.step(model.grads)
        return float(loss), output, targets[index]

    def train_epoch(rng: np.random.Generator) -> tuple[float, dict[str, float]]:
        return _run_epoch(len(targets), batch_size, train_step, metric_fns, rng)

    evaluate_val = None
    if val_data is not None:
        val_inputs, val_targets = _split_pair(val_data, "val_data")

        def evaluate_val() -> tuple[float, dict[str, float]]:
            return _scratch_eval_epoch(model, val_inputs, val_targets, loss_fn, batch_size, metric_fns)

    def restore(saved: dict[str, np.ndarray]) -> None:
        for name, array in saved.items():
            np.copyto(model.params[name], array)  # in place: the optimiser holds these very arrays

    loop = _Loop(train_epoch, evaluate_val, snapshot=lambda: {k: v.copy() for k, v in model.params.items()},
                 restore=restore)
    return _run_training(loop, epochs=epochs, patience=patience, restore_best=restore_best,
                         seed=check_seed(seed), progress=progress)


def evaluate_scratch(
    model: Any,
    data: tuple[Any, Any],
    loss_fn: Callable[[Any, Any], tuple[float, np.ndarray]],
    *,
    batch_size: int = 256,
    metrics: Mapping[str, Metric] | Sequence[str] | None = None,
) -> dict[str, float]:
    """Loss and metrics of a scratch model on ``(inputs, targets)`` (forward passes only).

    Returns:
        ``{"loss": ..., "<metric>": ...}``.
    """
    _check_scratch_model(model)
    inputs, targets = _split_pair(data, "data")
    loss, values = _scratch_eval_epoch(model, inputs, targets, loss_fn, check_int("batch_size", batch_size),
                                       _resolve_metrics(metrics))
    return {"loss": loss, **values}
