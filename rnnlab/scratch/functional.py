"""Elementwise nonlinearities and softmax, written to be stable for any input size.

The logistic sigmoid is computed as ``0.5 * (1 + tanh(z / 2))``: the identity is exact, and
``tanh`` never overflows, so large ``|z|`` gives 0 or 1 without the ``exp`` overflow warning
that ``1 / (1 + exp(-z))`` raises in NumPy.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function σ(z) = 1 / (1 + e^{-z}), elementwise; floats keep their dtype."""
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    out = np.tanh(0.5 * z)
    out += 1.0
    out *= 0.5
    return out


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, elementwise."""
    return np.tanh(z)


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0), elementwise."""
    return np.maximum(z, 0)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax along ``axis``, shifted by the max so that exp never overflows."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Probabilities along ``axis``; rows sum to 1."""
    return np.exp(log_softmax(logits, axis=axis))
