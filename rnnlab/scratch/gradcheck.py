"""Check analytic gradients against centred finite differences.

For each entry θ_k: (L(θ_k + ε) − L(θ_k − ε)) / 2ε, whose error is O(ε²). In float64 with
ε ≈ 1e-6 the agreement with an exact gradient is typically 1e-9 or better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class GradcheckResult:
    """Per-array relative errors ``‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖)``."""

    errors: dict[str, float]

    @property
    def max_relative_error(self) -> float:
        return max(self.errors.values())

    def __str__(self) -> str:
        rows = [f"  {name:>12s}: {error:.2e}" for name, error in self.errors.items()]
        return f"relative error per array (max {self.max_relative_error:.2e}):\n" + "\n".join(rows)


def numerical_gradient(loss: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred differences of ``loss()`` with respect to every entry of ``array``.

    ``array`` is perturbed in place and restored, so ``loss`` must read it live (e.g. a model
    parameter, or an input captured by the closure).
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = loss()
        flat[k] = original - eps
        minus = loss()
        flat[k] = original
        flat_grad[k] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    loss: Callable[[], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    eps: float = 1e-6,
) -> GradcheckResult:
    """Compare ``analytic`` gradients with finite differences of ``loss`` over ``arrays``.

    Args:
        loss: zero-argument callable that recomputes the scalar loss from the live arrays.
        arrays: name -> array to perturb (use float64 for a meaningful check).
        analytic: name -> gradient from backward, same shapes as ``arrays``.
        eps: finite-difference step.

    Returns:
        A :class:`GradcheckResult`; ``max_relative_error`` below ~1e-6 means the gradients agree.
    """
    errors = {}
    for name, array in arrays.items():
        if array.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 arrays for a precise check; {name!r} is {array.dtype}")
        expected = np.asarray(analytic[name], dtype=np.float64)
        if expected.shape != array.shape:
            raise ValueError(f"analytic gradient {name!r} must have shape {array.shape}, got {expected.shape}")
        numeric = numerical_gradient(loss, array, eps)
        scale = np.linalg.norm(expected) + np.linalg.norm(numeric)
        errors[name] = float(np.linalg.norm(expected - numeric) / scale) if scale > 0 else 0.0
    return GradcheckResult(errors)
