"""``fit_scratch`` and ``evaluate_scratch`` for ``rnnlab.scratch`` models, on the shared epoch driver.

A scratch model is called as ``model(x) -> output``; ``loss_fn`` returns ``(loss, grad)``; and
``model.backward(grad)`` fills ``model.grads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnnlab._checks import check_choice, check_int, check_seed
from rnnlab.train.driver import (
    History,
    Metric,
    _check_settings,
    _first,
    _Loop,
    _resolve_metrics,
    _run_epoch,
    _run_training,
    _split_pair,
)

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

    # Evaluate in eval mode (no dropout), then put the model back in the mode it was in.
    was_training = getattr(model, "training", False)
    _set_mode(model, training=False)
    try:
        return _run_epoch(len(targets), batch_size, step, metric_fns)
    finally:
        _set_mode(model, training=was_training)


def _set_mode(model: Any, *, training: bool) -> None:
    """``model.train()`` or ``model.eval()``, for models that have modes (dropout); others are left alone."""
    if hasattr(model, "train") and hasattr(model, "eval"):
        model.train() if training else model.eval()


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
        _set_mode(model, training=True)
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
    history = _run_training(loop, epochs=epochs, patience=patience, restore_best=restore_best,
                            seed=check_seed(seed), progress=progress)
    _set_mode(model, training=False)  # as ``fit`` leaves a torch model: ready for predictions
    return history


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
