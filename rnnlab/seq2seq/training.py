"""Training and scoring helpers for ``rnnlab.seq2seq.Seq2Seq``: the loss, exact match, trimming, ``fit_seq2seq``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from rnnlab._checks import check_float, check_int, make_rng
from rnnlab.seq2seq.model import Seq2Seq


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, *, ignore_id: int = 0) -> torch.Tensor:
    """Mean cross-entropy over every target position, skipping positions equal to ``ignore_id``.

    Args:
        logits: (B, T, K) scores. targets: (B, T) int64 token ids.

    Returns:
        a scalar tensor: the mean per-token loss in nats.
    """
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits (B, T, K) and targets (B, T) must agree, received "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_id)


def exact_match(predicted: list[str], expected: list[str]) -> float:
    """Fraction of predicted strings that equal the expected ones exactly (all characters right)."""
    if len(predicted) != len(expected) or not expected:
        raise ValueError(f"predicted and expected must be non-empty and of equal length, received "
                         f"{len(predicted)} and {len(expected)}")
    return sum(p == e for p, e in zip(predicted, expected)) / len(expected)


def trim_padding(source_ids: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
    """Drop the trailing columns that are padding in every row (post-padded ids).

    With a packed encoder and masked attention the result is the same up to rounding; the
    model just has fewer source positions to attend over.

    Args:
        source_ids: (B, S) int64, padded at the end.

    Returns:
        (B, S') with S' the longest row's length.
    """
    longest = int((source_ids != pad_id).sum(dim=1).max()) if len(source_ids) else 0
    return source_ids[:, :max(longest, 1)]


@torch.no_grad()
def greedy_exact_match(model: Seq2Seq, source_ids: Any, decoder_targets: Any) -> float:
    """Fraction of rows whose greedy output equals the target sequence token for token, end included.

    Args:
        model: a ``Seq2Seq``; source_ids: (B, S) int64; decoder_targets: (B, T) int64, the target
            tokens then ``end_id`` (then ``pad_id``).

    Returns:
        the exact match in [0, 1]; all B rows are decoded in one batch.
    """
    source_ids, decoder_targets = torch.as_tensor(source_ids), torch.as_tensor(decoder_targets)
    steps = decoder_targets.shape[1]
    ids = model.greedy_decode(trim_padding(source_ids, model.pad_id), max_len=steps).ids  # (B, L)
    ids = F.pad(ids, (0, steps - ids.shape[1]), value=model.pad_id)  # (B, T): rows that all stopped early
    return int((ids == decoder_targets).all(dim=1).sum()) / len(decoder_targets)


@dataclass
class Seq2SeqHistory:
    """Per-epoch record of ``fit_seq2seq`` (lists with one value per epoch, epoch 1 first).

    Attributes:
        train_loss: mean teacher-forced training loss of each epoch (nats per target token).
        val_loss: teacher-forced validation loss after each epoch.
        val_char_accuracy: teacher-forced per-token accuracy on the validation set.
        val_exact_match: greedy (free-running) exact match on the validation set.
        best_epoch: 1-based epoch of the highest ``val_exact_match`` (the first, on ties); the
            weights ``fit_seq2seq`` leaves in the model when ``restore_best``.
        snapshots: epoch (1-based) -> a copy of the model's ``state_dict`` after that epoch,
            for the epochs asked for in ``keep_epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_char_accuracy: list[float] = field(default_factory=list)
    val_exact_match: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)


def length_buckets(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucket: int = 8) -> list[np.ndarray]:
    """Shuffled mini-batches of similar lengths: sort each chunk of ``bucket`` batches by length.

    Args:
        lengths: (N,) the length of every example. batch_size: B. rng: the shuffle.
        bucket: how many batches' worth of examples are sorted together (1: no sorting).

    Returns:
        a list of (B,) int64 index arrays (the last may be smaller), in random order.
    """
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * bucket):
        chunk = order[start:start + batch_size * bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def fit_seq2seq(
    model: Seq2Seq,
    train: tuple[Any, Any, Any],
    val: tuple[Any, Any, Any],
    *,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 0.01,
    clip_norm: float | None = 1.0,
    bucket: int = 8,
    restore_best: bool = True,
    keep_epochs: tuple[int, ...] = (),
) -> Seq2SeqHistory:
    """Train with teacher forcing and Adam; score greedy exact match on ``val`` after every epoch.

    The learning rate falls linearly from ``lr`` to 0 over the run. Mini-batches come from
    ``length_buckets`` (shuffled with ``seed``) and are trimmed to their longest source, so the
    encoder does not step through columns of padding. The same seed and the same initial
    weights give the same history.

    Args:
        model: a ``Seq2Seq``, trained in place and left in eval mode.
        train, val: (source_ids (N, S), decoder_inputs (N, T), decoder_targets (N, T)), int64,
            NumPy or torch; e.g. ``DateData.train``.
        epochs: number of epochs. seed: seeds the shuffling.
        batch_size: B. lr: the initial learning rate eta. clip_norm: tau, the global gradient
            norm to clip to before each step, or None.
        bucket: batches sorted by length together (see ``length_buckets``).
        restore_best: at the end, load the weights of the epoch with the highest validation
            exact match.
        keep_epochs: 1-based epochs after which to keep a copy of the weights.

    Returns:
        a ``Seq2SeqHistory``.
    """
    if not isinstance(model, Seq2Seq):
        raise TypeError(f"model must be a Seq2Seq, received {type(model).__name__}")
    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    bucket = check_int("bucket", bucket)
    lr = check_float("lr", lr, strict=True)
    if clip_norm is not None:
        clip_norm = check_float("clip_norm", clip_norm, strict=True)
    source, inputs, targets = (torch.as_tensor(a) for a in train)
    val_source, val_inputs, val_targets = (torch.as_tensor(a) for a in val)
    if not len(source) == len(inputs) == len(targets) or not len(val_source) == len(val_inputs) == len(val_targets):
        raise ValueError("train and val must each be three arrays sharing their first dimension N")
    rng = make_rng(seed)
    lengths = (source != model.pad_id).sum(dim=1).numpy()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps, step = epochs * math.ceil(len(source) / batch_size), 0
    history, best_state = Seq2SeqHistory(), None
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum = 0.0
        for batch in length_buckets(lengths, batch_size, rng, bucket):
            for group in optimiser.param_groups:
                group["lr"] = lr * (1 - step / total_steps)
            step += 1
            index = torch.as_tensor(batch)
            batch_source = trim_padding(source[index], model.pad_id)
            optimiser.zero_grad(set_to_none=True)
            loss = sequence_cross_entropy(model(batch_source, inputs[index]), targets[index], ignore_id=model.pad_id)
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimiser.step()
            loss_sum += loss.item() * len(index)
        model.eval()
        with torch.no_grad():
            logits = model(trim_padding(val_source, model.pad_id), val_inputs)
            real = val_targets != model.pad_id
        history.train_loss.append(loss_sum / len(source))
        history.val_loss.append(float(sequence_cross_entropy(logits, val_targets, ignore_id=model.pad_id)))
        history.val_char_accuracy.append(float((logits.argmax(-1) == val_targets)[real].float().mean()))
        history.val_exact_match.append(greedy_exact_match(model, val_source, val_targets))
        if history.best_epoch is None or history.val_exact_match[-1] > history.val_exact_match[history.best_epoch - 1]:
            history.best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch in keep_epochs:
            history.snapshots[epoch] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
