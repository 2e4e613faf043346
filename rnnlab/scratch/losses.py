"""Losses that return the loss and its gradient together, ready for ``backward``."""

from __future__ import annotations

import numpy as np

from rnnlab._checks import as_float_array, check_int

from .functional import log_softmax
from .layers import check_token_ids


def softmax_cross_entropy(logits: object, targets: object, *, ignore_index: int | None = None) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer class targets.

    Args:
        logits: unnormalised scores, shape (..., K), float32 or float64 (e.g. (B, T, K)).
        targets: class ids in [0, K), shape (...) (the logits' shape without the last axis).
        ignore_index: a target value that marks padding (e.g. -100, PyTorch's default, or the
            pad token's id): those positions are left out of the mean and get zero gradient, as
            ``torch.nn.functional.cross_entropy(ignore_index=...)``. If every position is
            ignored the loss is 0.0 and the gradient zero (PyTorch returns nan there).

    Returns:
        ``(loss, dlogits)``: the mean over the n counted positions, and its gradient
        (softmax(logits) − onehot(targets)) / n, shape (..., K), in the logits' dtype.
    """
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        raise TypeError(f"logits must be a float array, got dtype {logits.dtype}")
    if logits.ndim < 1:
        raise ValueError("logits must have shape (..., num_classes), got a scalar")
    num_classes = logits.shape[-1]
    raw_targets = np.asarray(targets)
    keep = None
    if ignore_index is not None:
        ignore_index = check_int("ignore_index", ignore_index, minimum=-(2**62))
        if raw_targets.dtype.kind in "iu":
            keep = raw_targets != ignore_index
            raw_targets = np.where(keep, raw_targets, 0)
    targets = check_token_ids(raw_targets, num_classes, name="targets")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"targets must have shape {logits.shape[:-1]} to match logits {logits.shape}, got {targets.shape}")
    flat_logp = log_softmax(logits).reshape(-1, num_classes)
    flat_targets = targets.reshape(-1)
    rows = np.arange(flat_targets.size)
    dlogits = np.exp(flat_logp)
    dlogits[rows, flat_targets] -= 1.0
    if keep is None:
        loss = -flat_logp[rows, flat_targets].mean()
        dlogits /= flat_targets.size
    else:
        flat_keep = keep.reshape(-1)
        count = int(flat_keep.sum())
        if count == 0:
            return 0.0, np.zeros_like(logits)
        loss = -flat_logp[rows, flat_targets][flat_keep].sum() / count
        dlogits *= (flat_keep / count)[:, None]
    return float(loss), dlogits.reshape(logits.shape).astype(logits.dtype, copy=False)


def mse(pred: object, target: object, *, mask: object = None) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements, or over the elements ``mask`` selects.

    Args:
        pred: predictions, float array of any shape, e.g. (B, T, K).
        target: the same shape.
        mask: None, or booleans (or 0/1) of pred's shape or of its leading axes (e.g. (B, T)
            for pred (B, T, K), broadcast over the rest): True marks the elements that count.

    Returns:
        ``(loss, dpred)`` with dpred = 2 (pred − target) / n at the selected elements and 0
        elsewhere, n = the number of selected elements (pred.size without a mask), in the
        predictions' dtype. A mask that selects nothing gives 0.0 and a zero gradient.
    """
    pred = np.asarray(pred)
    if pred.dtype.kind != "f":
        raise TypeError(f"pred must be a float array, got dtype {pred.dtype}")
    target = as_float_array(target, "target", pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    diff = pred - target
    if mask is None:
        return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biu" or (mask.dtype.kind != "b" and mask.size and not np.isin(mask, (0, 1)).all()):
        raise TypeError(f"mask must hold booleans (or 0/1), got dtype {mask.dtype}")
    if mask.shape != pred.shape[: mask.ndim]:
        raise ValueError(f"mask must have pred's shape {pred.shape} or a leading part of it, got {mask.shape}")
    mask = np.broadcast_to(mask.astype(bool).reshape(mask.shape + (1,) * (pred.ndim - mask.ndim)), pred.shape)
    count = int(mask.sum())
    if count == 0:
        return 0.0, np.zeros_like(diff)
    diff = np.where(mask, diff, 0.0).astype(pred.dtype, copy=False)
    return float(np.sum(diff * diff) / count), (2.0 / count) * diff
