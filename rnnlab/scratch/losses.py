"""Losses that return the loss and its gradient together, ready for ``backward``."""

from __future__ import annotations

import numpy as np

from rnnlab._checks import as_float_array

from .functional import log_softmax
from .layers import check_token_ids


def softmax_cross_entropy(logits: object, targets: object) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer class targets.

    Args:
        logits: unnormalised scores, shape (..., K), float32 or float64.
        targets: class ids in [0, K), shape (...) (the logits' shape without the last axis).

    Returns:
        ``(loss, dlogits)``: the mean over all positions, and its gradient
        (softmax(logits) − onehot(targets)) / n, with n the number of positions, shape (..., K), in the logits' dtype.
    """
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        raise TypeError(f"logits must be a float array, got dtype {logits.dtype}")
    if logits.ndim < 1:
        raise ValueError("logits must have shape (..., num_classes), got a scalar")
    targets = check_token_ids(targets, logits.shape[-1], name="targets")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"targets must have shape {logits.shape[:-1]} to match logits {logits.shape}, got {targets.shape}")
    num_classes = logits.shape[-1]
    flat_logp = log_softmax(logits).reshape(-1, num_classes)
    flat_targets = targets.reshape(-1)
    count = flat_targets.size
    rows = np.arange(count)
    loss = -flat_logp[rows, flat_targets].mean()
    dlogits = np.exp(flat_logp)
    dlogits[rows, flat_targets] -= 1.0
    dlogits /= count
    return float(loss), dlogits.reshape(logits.shape).astype(logits.dtype, copy=False)


def mse(pred: object, target: object) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements.

    Args:
        pred: predictions, float array of any shape.
        target: the same shape.

    Returns:
        ``(loss, dpred)`` with dpred = 2 (pred − target) / n, n = pred.size, in the predictions' dtype.
    """
    pred = np.asarray(pred)
    if pred.dtype.kind != "f":
        raise TypeError(f"pred must be a float array, got dtype {pred.dtype}")
    target = as_float_array(target, "target", pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
