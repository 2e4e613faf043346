"""Truncated backpropagation through time (Williams & Peng, 1990).

A long sequence is cut into chunks. The state is carried forward from chunk to chunk, so the
model still *sees* the whole past, but gradients stop at each chunk's start: the carried state is
a plain array, and ``backward``'s ``dstate0`` for it is simply dropped. Cost and memory per
update then grow with the chunk length, not with the sequence length.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnlab._checks import check_int

from .optim import clip_grad_norm


def chunk_slices(length: int, chunk_length: int) -> list[slice]:
    """Consecutive slices covering ``range(length)``; the last chunk may be shorter."""
    length = check_int("length", length)
    chunk_length = check_int("chunk_length", chunk_length)
    return [slice(start, min(start + chunk_length, length)) for start in range(0, length, chunk_length)]


def truncated_bptt(
    model,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss_fn: Callable,
    optimizer,
    chunk_length: int,
    *,
    state=None,
    clip_norm: float | None = None,
):
    """One pass over ``inputs`` in chunks of ``chunk_length`` steps, one update per chunk.

    Args:
        model: anything with ``out, state = model(x, state)``, ``model.backward(dout)``, and
            ``params``/``grads`` (a scratch RNN/LSTM/GRU or ``LanguageModel``).
        inputs: (batch, time, ...) array, sliced along axis 1.
        targets: (batch, time, ...) array, sliced the same way.
        loss_fn: ``loss, dout = loss_fn(out_chunk, targets_chunk)``.
        optimizer: has ``step(grads)``.
        chunk_length: steps per chunk (the truncation length).
        state: initial state (None: zeros).
        clip_norm: clip the joint gradient norm to this before each step.

    Returns:
        ``(losses, state)``: the loss of each chunk, and the state after the last chunk.
    """
    if inputs.shape[:2] != targets.shape[:2]:
        raise ValueError(f"inputs and targets must share (batch, time), got {inputs.shape[:2]} and {targets.shape[:2]}")
    losses = []
    for chunk in chunk_slices(inputs.shape[1], chunk_length):
        out, state = model(inputs[:, chunk], state)
        loss, dout = loss_fn(out, targets[:, chunk])
        model.backward(dout)  # stops at the chunk's first step: that is the truncation
        grads = model.grads
        if clip_norm is not None:
            clip_grad_norm(grads, clip_norm)
        optimizer.step(grads)
        losses.append(loss)
    return losses, state
