"""``fit`` and ``evaluate`` for PyTorch models, on the shared epoch driver."""

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

    def step(batch: np.ndarray) -> tuple[float, Any, Any]:
        index = torch.as_tensor(batch, device=targets.device)
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
    where = torch.device(device)
    model.to(where)
    inputs, targets = _split_pair(train_data, "train_data")
    inputs, (targets,) = _to_torch(inputs, where), _to_torch((targets,), where)
    opt = _torch_optimizer(optimizer, model, lr)

    def train_step(batch: np.ndarray) -> tuple[float, Any, Any]:
        index = torch.as_tensor(batch, device=where)
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
        val_inputs, (val_targets,) = _to_torch(val_inputs, where), _to_torch((val_targets,), where)

        def evaluate_val() -> tuple[float, dict[str, float]]:
            return _torch_eval_epoch(model, val_inputs, val_targets, loss_fn, batch_size, metric_fns)

    loop = _Loop(
        train_epoch,
        evaluate_val,
        snapshot=lambda: {k: v.detach().clone() for k, v in model.state_dict().items()},
        restore=model.load_state_dict,
    )
    cuda_devices = [where.index or 0] if where.type == "cuda" else []
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
    where = torch.device(device)
    model.to(where)
    inputs, (targets,) = _to_torch(inputs, where), _to_torch((targets,), where)
    loss, values = _torch_eval_epoch(model, inputs, targets, loss_fn, check_int("batch_size", batch_size),
                                     _resolve_metrics(metrics))
    return {"loss": loss, **values}
