"""Feed-forward pieces for whole models: an affine map, an embedding table, dropout."""

from __future__ import annotations

import numpy as np

from rnnlab._checks import (
    as_float_array,
    check_float_dtype,
    check_int,
    check_optional_seed,
    check_probability,
)

from .init import xavier_uniform
from .module import Module


class Linear(Module):
    """``y = x W + b`` on the last axis; parameters ``W`` (in, out) and ``b`` (out,).

    Works on any leading shape: (..., in_features) -> (..., out_features), so the same head
    serves the last hidden state (B, H) and a whole sequence of them (B, T, H).
    """

    def __init__(self, in_features: int, out_features: int, *, seed: int | None = None, dtype: object = np.float32):
        self.in_features = check_int("in_features", in_features)
        self.out_features = check_int("out_features", out_features)
        self.dtype = check_float_dtype(dtype)
        self.seed = check_optional_seed(seed)
        rng = np.random.default_rng(self.seed)
        self.params = {
            "W": xavier_uniform(rng, self.in_features, self.out_features, self.dtype),
            "b": np.zeros(self.out_features, dtype=self.dtype),
        }
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._x: np.ndarray | None = None

    def forward(self, x: object) -> np.ndarray:
        """Args: x (..., in_features). Returns: (..., out_features)."""
        x = as_float_array(x, "x", self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape (..., {self.in_features}), got {x.shape}")
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dy: object) -> np.ndarray:
        """Args: dy = dL/dy (..., out_features). Returns dL/dx (..., in_features); fills grads."""
        if self._x is None:
            raise RuntimeError("backward() called before forward()")
        dy = as_float_array(dy, "dy", self.dtype)
        expected = self._x.shape[:-1] + (self.out_features,)
        if dy.shape != expected:
            raise ValueError(f"dy must have shape {expected}, got {dy.shape}")
        x2d = self._x.reshape(-1, self.in_features)
        dy2d = dy.reshape(-1, self.out_features)
        self.grads = {"W": x2d.T @ dy2d, "b": dy2d.sum(axis=0)}
        return dy @ self.params["W"].T

    def config(self) -> dict:
        """The constructor arguments that rebuild this module (JSON-serialisable)."""
        return {"in_features": self.in_features, "out_features": self.out_features, "seed": self.seed,
                "dtype": self.dtype.name}

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, dtype={self.dtype.name})"


class Embedding(Module):
    """A lookup table ``E`` (num_embeddings, embedding_dim): token id ``k`` -> row ``E[k]``.

    Equivalent to multiplying a one-hot vector by ``E``, without building the one-hot.
    Initialised from N(0, 1), as in PyTorch.

    Args:
        num_embeddings: K, the number of token ids.
        embedding_dim: D, the size of each row.
        padding_idx: a token id (negative counts from the end, as in PyTorch) whose row starts
            at zero and never receives a gradient, as ``torch.nn.Embedding(padding_idx=...)``.
        seed, dtype: as for the other modules.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, padding_idx: int | None = None,
                 seed: int | None = None, dtype: object = np.float32):
        self.num_embeddings = check_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_int("embedding_dim", embedding_dim)
        self.dtype = check_float_dtype(dtype)
        self.seed = check_optional_seed(seed)
        if padding_idx is not None:
            padding_idx = check_int("padding_idx", padding_idx, minimum=-self.num_embeddings)
            if padding_idx >= self.num_embeddings:
                raise ValueError(
                    f"padding_idx must lie in [-{self.num_embeddings}, {self.num_embeddings}), received {padding_idx}"
                )
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        rng = np.random.default_rng(self.seed)
        self.params = {"E": rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(self.dtype)}
        if padding_idx is not None:
            self.params["E"][padding_idx] = 0.0
        self.grads = {"E": np.zeros_like(self.params["E"])}
        self._ids: np.ndarray | None = None

    def forward(self, ids: object) -> np.ndarray:
        """Args: ids, integers in [0, num_embeddings), any shape (...). Returns (..., embedding_dim)."""
        ids = check_token_ids(ids, self.num_embeddings)
        self._ids = ids
        return self.params["E"][ids]

    def backward(self, dout: object) -> None:
        """Args: dout = dL/d(output) (..., embedding_dim). Fills ``grads["E"]``; ids have no gradient."""
        if self._ids is None:
            raise RuntimeError("backward() called before forward()")
        dout = as_float_array(dout, "dout", self.dtype)
        expected = self._ids.shape + (self.embedding_dim,)
        if dout.shape != expected:
            raise ValueError(f"dout must have shape {expected}, got {dout.shape}")
        dE = np.zeros_like(self.params["E"])
        # add.at sums the rows of tokens that occur several times; plain indexing would keep one.
        np.add.at(dE, self._ids.reshape(-1), dout.reshape(-1, self.embedding_dim))
        if self.padding_idx is not None:
            dE[self.padding_idx] = 0.0  # the padding row is a constant
        self.grads = {"E": dE}
        return None

    def config(self) -> dict:
        """The constructor arguments that rebuild this module (JSON-serialisable)."""
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "seed": self.seed, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{padding}, dtype={self.dtype.name})"


class Dropout(Module):
    """Inverted dropout (Srivastava et al., 2014): in training mode each element is zeroed with
    probability ``p`` and the others are scaled by 1/(1-p), so the expected activation is
    unchanged; in evaluation mode it is the identity. Same semantics as ``torch.nn.Dropout``.

    Args:
        p: the drop probability, in [0, 1).
        seed: seed of the generator the masks come from (``rng``; assign a fresh generator to
            replay masks).
    """

    def __init__(self, p: float = 0.5, *, seed: int | None = None):
        self.p = check_probability("p", p)
        self.seed = check_optional_seed(seed)
        self.rng = np.random.default_rng(self.seed)
        self.params, self.grads = {}, {}
        self._mask: np.ndarray | None = None
        self._called = False

    def forward(self, x: object) -> np.ndarray:
        """Args: x, a float array of any shape (...). Returns the same shape and dtype."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"x must be a float array, got dtype {x.dtype}")
        self._called = True
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self._mask = keep * np.asarray(1.0 / (1.0 - self.p), dtype=x.dtype)
        return x * self._mask

    def backward(self, dout: object) -> np.ndarray:
        """Args: dL/d(output) (...). Returns dL/dx, through the forward pass's mask."""
        if not self._called:
            raise RuntimeError("backward() called before forward()")
        dout = np.asarray(dout)
        return dout if self._mask is None else dout * self._mask

    def config(self) -> dict:
        """The constructor arguments that rebuild this module (JSON-serialisable)."""
        return {"p": self.p, "seed": self.seed}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


def check_token_ids(ids: object, vocab_size: int, name: str = "ids") -> np.ndarray:
    """Integer ids in [0, vocab_size), or a ValueError/TypeError saying what is wrong."""
    array = np.asarray(ids)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        raise ValueError(
            f"{name} must lie in [0, {vocab_size}), got values from {array.min()} to {array.max()}"
        )
    return array
