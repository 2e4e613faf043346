"""Truncated BPTT in PyTorch over a continuous text: B parallel streams, chunks of T steps.

A language model reads a long text best as the text it is: one stream, in order, with the state
of each step handed to the next. Truncated backpropagation through time (Williams & Peng, 1990)
keeps that while bounding the cost of an update. The layout is the one of
``rnnlab.scratch.truncated_bptt``:

* ``stream_batches`` cuts the id stream into B equal contiguous rows, (B, S) inputs and the
  (B, S) targets one token on. Row b is consecutive text, so the state reached at the end of
  column t of row b is the state of the text before column t + 1 of that row.
* ``tbptt_epoch`` reads the columns in chunks of T (``chunk_slices``), one optimiser step per
  chunk. With ``carry_state=True`` the final state of a chunk, detached from the graph, starts the
  next chunk: the model sees the whole past, the gradient stops at the chunk's first step. With
  ``carry_state=False`` every chunk starts from zeros, as independent windows of T would.
* ``stream_nll`` scores every target of the streams without gradients, in either mode;
  ``fit_tbptt`` runs epochs of ``tbptt_epoch`` with a validation score after each.

Importing this module does not import torch; its functions do, when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab._checks import check_bool, check_float, check_int, check_seed
from rnnlab.scratch.tbptt import chunk_slices

__all__ = ["StreamHistory", "detach_state", "fit_tbptt", "next_token_loss", "stream_batches", "stream_nll",
           "tbptt_epoch"]


def stream_batches(ids: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut one id stream into ``batch_size`` contiguous rows of inputs and next-token targets.

    With S = (L - 1) // B, row b of the inputs is ``ids[b*S : (b+1)*S]`` and row b of the
    targets is ``ids[b*S + 1 : (b+1)*S + 1]``; the last ``L - 1 - B*S`` targets are dropped. The
    rows follow each other in the text: the last target of row b is the first input of row b + 1.

    Args:
        ids: (L,) int token ids, e.g. ``vocab.encode(text)``.
        batch_size: B, the number of parallel streams.

    Returns:
        inputs: (B, S) int64.
        targets: (B, S) int64, ``targets[:, t] == inputs[:, t + 1]`` inside a row.

    Raises:
        ValueError: if ``ids`` is not 1-D, or too short to give every row at least one step.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D array of ints (L,), received {ids.dtype} of shape {ids.shape}")
    batch_size = check_int("batch_size", batch_size)
    steps = (len(ids) - 1) // batch_size
    if steps < 1:
        raise ValueError(f"ids must hold at least batch_size + 1 = {batch_size + 1} tokens, received {len(ids)}")
    ids = ids.astype(np.int64)
    inputs = ids[: batch_size * steps].reshape(batch_size, steps)
    targets = ids[1: batch_size * steps + 1].reshape(batch_size, steps)
    return inputs, targets


def detach_state(state: Any) -> Any:
    """The same recurrent state cut from the autograd graph: a tensor, a tuple of them (LSTM), or None."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(detach_state(part) for part in state)
    return state.detach()


def next_token_loss(logits: Any, targets: Any) -> Any:
    """Mean cross-entropy over all B*T positions: logits (B, T, K), targets (B, T) ids."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def _check_pair(inputs: Any, targets: Any) -> tuple[Any, Any]:
    import torch

    inputs, targets = torch.as_tensor(inputs), torch.as_tensor(targets)
    if inputs.ndim != 2 or inputs.shape != targets.shape:
        raise ValueError(f"inputs and targets must be (B, S) ids of the same shape, received "
                         f"{tuple(inputs.shape)} and {tuple(targets.shape)}")
    return inputs, targets


def tbptt_epoch(
    model: Any,
    inputs: Any,
    targets: Any,
    optimizer: Any,
    chunk_length: int,
    *,
    carry_state: bool = True,
    state: Any = None,
    clip_norm: float | None = None,
    loss_fn: Callable[[Any, Any], Any] = next_token_loss,
) -> tuple[list[float], Any]:
    """One pass over (B, S) streams in chunks of ``chunk_length`` steps, one update per chunk.

    Args:
        model: ``logits, state = model(ids, state)`` with ids (B, T) and logits (B, T, K), e.g.
            ``rnnlab.torch.LanguageModel``; put in training mode here.
        inputs, targets: (B, S) ids from ``stream_batches`` (NumPy or torch).
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters.
        chunk_length: T, the truncation length; the last chunk may be shorter.
        carry_state: start each chunk from the previous chunk's final state, detached (truncated
            BPTT over the stream); False starts every chunk from zeros.
        state: the state before the first chunk (None: zeros).
        clip_norm: clip the global gradient norm to this before each step (None: no clipping).
        loss_fn: ``loss_fn(logits, targets) -> scalar tensor``.

    Returns:
        ``(losses, state)``: each chunk's loss before its update, and the detached state after the
        last chunk (None when ``carry_state`` is False).
    """
    import torch

    inputs, targets = _check_pair(inputs, targets)
    chunk_length = check_int("chunk_length", chunk_length)
    carry_state = check_bool("carry_state", carry_state)
    if clip_norm is not None:
        clip_norm = check_float("clip_norm", clip_norm, strict=True)
    model.train()
    losses = []
    for chunk in chunk_slices(inputs.shape[1], chunk_length):
        logits, new_state = model(inputs[:, chunk], state if carry_state else None)
        state = detach_state(new_state) if carry_state else None  # the value goes on, the gradient stops
        loss = loss_fn(logits, targets[:, chunk])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        losses.append(loss.item())
    return losses, state


def stream_nll(model: Any, inputs: Any, targets: Any, chunk_length: int, *, carry_state: bool = True) -> np.ndarray:
    """Negative log-likelihood of every target of (B, S) streams, in eval mode, without gradients.

    Without ``carry_state`` the full chunks are independent, so they are scored side by side as
    the rows of one batch (B * S // T rows), which is much faster than one call per chunk.

    Args:
        model: as for ``tbptt_epoch``; left in eval mode.
        inputs, targets: (B, S) ids.
        chunk_length: T. With ``carry_state`` it only bounds memory (the state flows through
            every chunk, so the result does not depend on T beyond float rounding); without it
            every chunk of T starts from zeros.
        carry_state: carry the state from chunk to chunk.

    Returns:
        (B, S) float64 ``-log p(targets[b, t] | inputs[b, : t + 1])`` (the past of each row, or of
        its current chunk without ``carry_state``).
    """
    import torch
    import torch.nn.functional as F

    inputs, targets = _check_pair(inputs, targets)
    chunk_length = check_int("chunk_length", chunk_length)
    carry_state = check_bool("carry_state", carry_state)
    model.eval()

    def score(x: Any, y: Any, state: Any = None) -> tuple[np.ndarray, Any]:
        logits, state = model(x, state)
        nll = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")  # (rows, T)
        return nll.double().numpy(), state

    batch, steps = inputs.shape
    with torch.no_grad():
        if not carry_state:  # independent chunks: read all the full ones side by side, as rows of one batch
            full = steps // chunk_length * chunk_length
            rows = batch * (full // chunk_length)
            out = [score(inputs[:, :full].reshape(rows, chunk_length),
                         targets[:, :full].reshape(rows, chunk_length))[0].reshape(batch, full)]
            if full < steps:
                out.append(score(inputs[:, full:], targets[:, full:])[0])
            return np.concatenate(out, axis=1)
        out, state = [], None
        for chunk in chunk_slices(steps, chunk_length):
            nll, state = score(inputs[:, chunk], targets[:, chunk], state)
            out.append(nll)
    return np.concatenate(out, axis=1)


@dataclass
class StreamHistory:
    """Record of ``fit_tbptt``.

    Attributes:
        chunk_loss: the training loss of every chunk, in order, over all epochs.
        train_loss: the mean chunk loss of each epoch.
        val_loss: the mean validation negative log-likelihood after each epoch (empty without
            validation data).
    """

    chunk_loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def fit_tbptt(
    model: Any,
    train_ids: Any,
    val_ids: Any = None,
    *,
    epochs: int,
    batch_size: int,
    chunk_length: int,
    lr: float = 1e-3,
    clip_norm: float | None = None,
    carry_state: bool = True,
    val_batch_size: int = 1,
    seed: int,
) -> StreamHistory:
    """Train a PyTorch language model with truncated BPTT over a continuous text, Adam.

    Each epoch reads the training text as ``batch_size`` streams in chunks of ``chunk_length``
    (``tbptt_epoch``), from a zero state at the start of the epoch; the validation text is scored
    as ``val_batch_size`` streams with the same ``carry_state``. The model is trained in place and
    returned in eval mode with its last weights.

    Args:
        model: as for ``tbptt_epoch``.
        train_ids: (L,) ids of the training text; val_ids: (L',) ids, or None.
        epochs: passes over the training text.
        batch_size: B, parallel training streams; chunk_length: T.
        lr: Adam's learning rate η; clip_norm: gradient clipping τ (None: none).
        carry_state: carry the state across chunks (True) or reset it at each chunk (False).
        val_batch_size: parallel validation streams (1: the whole validation text in order).
        seed: seeds torch's random state during training (dropout); restored afterwards.

    Returns:
        ``StreamHistory``.
    """
    import torch

    epochs = check_int("epochs", epochs)
    lr = check_float("lr", lr, strict=True)
    seed = check_seed(seed)
    inputs, targets = stream_batches(train_ids, batch_size)
    val = None if val_ids is None else stream_batches(val_ids, val_batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = StreamHistory()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            losses, _ = tbptt_epoch(model, inputs, targets, optimizer, chunk_length, carry_state=carry_state,
                                    clip_norm=clip_norm)
            history.chunk_loss.extend(losses)
            history.train_loss.append(float(np.mean(losses)))
            if val is not None:
                history.val_loss.append(float(stream_nll(model, *val, chunk_length, carry_state=carry_state).mean()))
    model.eval()
    return history
