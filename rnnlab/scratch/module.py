"""The contract every scratch building block follows: live ``params``, matching ``grads``."""

from __future__ import annotations

import numpy as np


class Module:
    """Base class: ``params`` holds the live trainable arrays, ``grads`` their gradients.

    Optimizers update ``params`` in place, so the arrays are never rebound after construction.
    ``backward`` replaces ``grads`` with the gradients of the latest forward pass.
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    #: True in training mode, the default as in PyTorch, where dropout acts; ``eval()`` sets it False.
    training: bool = True

    def train(self, mode: bool = True) -> Module:
        """Switch training mode on (``mode=True``) or off; returns the module itself."""
        self.training = bool(mode)
        for child in self.children().values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout is the identity. Same as ``train(False)``."""
        return self.train(False)

    def children(self) -> dict[str, Module]:
        """The named sub-modules (none for a leaf module)."""
        return {}

    def config(self) -> dict:
        """The constructor arguments that rebuild this module (what ``scratch.save`` stores)."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its constructor arguments")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.size for p in self.params.values())

    def load_params(self, values: dict[str, np.ndarray]) -> None:
        """Copy ``values`` into the live parameter arrays (same keys and shapes required)."""
        params = self.params
        if set(values) != set(params):
            raise ValueError(f"expected parameters {sorted(params)}, got {sorted(values)}")
        for name, value in values.items():
            value = np.asarray(value)
            if value.shape != params[name].shape:
                raise ValueError(f"parameter {name!r} must have shape {params[name].shape}, got {value.shape}")
        for name, value in values.items():
            np.copyto(params[name], value)

    def copy_params(self) -> dict[str, np.ndarray]:
        """An independent snapshot of the parameters (for early stopping, comparisons)."""
        return {name: value.copy() for name, value in self.params.items()}


def prefixed(children: dict[str, Module], attribute: str) -> dict[str, np.ndarray]:
    """Flatten the ``params`` or ``grads`` of child modules into one dict, keys ``child.name``."""
    return {
        f"{child_name}.{key}": value
        for child_name, child in children.items()
        for key, value in getattr(child, attribute).items()
    }
