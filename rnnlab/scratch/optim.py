"""Optimisers and gradient clipping, updating parameter arrays in place.

An optimiser is built on a model's ``params`` dict and stepped with its ``grads`` dict::

    opt = Adam(model.params, lr=1e-3)
    loss, dout = ...; model.backward(dout)
    clip_grad_norm(model.grads, max_norm=1.0)
    opt.step(model.grads)
"""

from __future__ import annotations

import numpy as np


def _check_grads(params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
    if set(grads) != set(params):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise ValueError(f"grads must have the keys of params; missing {missing}, unexpected {extra}")
    for name, grad in grads.items():
        if grad.shape != params[name].shape:
            raise ValueError(f"gradient {name!r} must have shape {params[name].shape}, got {grad.shape}")


def _check_lr(lr: float) -> float:
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return float(lr)


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum, as in PyTorch:

    v ← μ v + g,   p ← p − lr · v
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float, momentum: float = 0.0):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.params, self.lr, self.momentum = params, _check_lr(lr), float(momentum)
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Apply one update from ``grads`` (same keys and shapes as ``params``)."""
        _check_grads(self.params, grads)
        for name, p in self.params.items():
            v = self.velocity[name]
            v *= self.momentum
            v += grads[name]
            p -= self.lr * v


class Adam:
    """Adam (Kingma & Ba, 2015): per-parameter step sizes from running moments of the gradient.

    m ← β₁ m + (1−β₁) g,   v ← β₂ v + (1−β₂) g²,   p ← p − lr · m̂ / (√v̂ + ε)
    with the bias corrections m̂ = m / (1−β₁ᵗ), v̂ = v / (1−β₂ᵗ).
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        self.params, self.lr, self.betas, self.eps = params, _check_lr(lr), betas, float(eps)
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Apply one update from ``grads`` (same keys and shapes as ``params``)."""
        _check_grads(self.params, grads)
        self.t += 1
        beta1, beta2 = self.betas
        for name, p in self.params.items():
            g = grads[name]
            m, v = self.m[name], self.v[name]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            m_hat = m / (1 - beta1**self.t)
            v_hat = v / (1 - beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale all gradients together so that their joint L2 norm is at most ``max_norm``.

    Clipping the joint norm keeps the update's direction and only shortens it (Pascanu et al., 2013).

    Returns:
        The joint norm before clipping (useful to plot exploding gradients).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    total = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads.values():
            g *= scale
    return total
