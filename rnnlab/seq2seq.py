"""A character-level encoder-decoder (seq2seq) in PyTorch, with optional attention.

The encoder reads the source ids (an embedding, then a GRU or LSTM) and keeps its state h_j at
every source position j. The decoder, an RNN of the same kind, starts from the encoder's final
state and emits one target token per step t from its state s_t:

* ``attention=None``: the final encoder state is all the decoder knows of the source, as in
  Sutskever, Vinyals & Le (2014), "Sequence to Sequence Learning with Neural Networks".
* ``attention="additive"`` or ``"dot"``: at every step the decoder also reads a context vector
  c_t, a weighted mean of all the h_j, and predicts from [s_t; c_t]:

  .. math::  e_{tj} = v^\\top \\tanh(s_t W_q + h_j W_k + b) \\ \\text{(additive)} \\quad\\text{or}\\quad
             e_{tj} = s_t \\cdot h_j \\ \\text{(dot)}, \\qquad
             \\alpha_{tj} = \\operatorname{softmax}_j(e_{tj}), \\qquad c_t = \\sum_j \\alpha_{tj} h_j .

  The additive score is that of Bahdanau, Cho & Bengio (2015), "Neural Machine Translation by
  Jointly Learning to Align and Translate" (their eq. 6); the dot score and the placement of
  attention *after* the decoder's update (query s_t rather than s_{t-1}, no context fed back
  into the RNN) follow Luong, Pham & Manning (2015), "Effective Approaches to Attention-based
  Neural Machine Translation". That placement lets teacher-forced training run the decoder RNN
  over all target steps in one call.

``forward`` trains with teacher forcing: the decoder's input at step t is the *true* token
t-1. ``greedy_decode`` runs free: its input at step t is its own previous prediction. Both go
through ``decode``, so feeding the greedy output back through ``forward`` reproduces it.

Importing this module imports torch; ``import rnnlab`` does not import this module.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab._checks import check_choice, check_int

__all__ = ["Decoded", "Seq2Seq", "exact_match", "sequence_cross_entropy"]

CELLS = ("gru", "lstm")
ATTENTIONS = ("dot", "additive", None)
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU: h (1, N, H); LSTM: (h, c)


class Decoded(NamedTuple):
    """What ``Seq2Seq.greedy_decode`` returns: the predicted ids and the attention weights."""

    #: (N, L) int64 predicted tokens, L <= max_len; ``pad_id`` after a row's end token.
    ids: torch.Tensor
    #: (N, L, S) attention weights, each row summing to 1 over the non-pad source positions;
    #: None for a model without attention.
    attention: torch.Tensor | None


class Seq2Seq(nn.Module):
    """Encoder-decoder over token ids, trained with teacher forcing, decoded greedily.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes V_s and V_t.
        embed_size: E, the size of both embeddings.
        hidden_size: H, the size of the encoder and decoder states.
        cell: "gru" or "lstm", for both encoder and decoder.
        attention: "additive" (Bahdanau) or "dot" (Luong) scores over the encoder outputs, or
            None for a plain encoder-decoder that sees the source only through its final state.
        pad_id: source padding id, masked out of the attention and given a zero embedding.
        start_id, end_id: the target tokens that begin and end every target sequence.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        *,
        embed_size: int = 16,
        hidden_size: int = 64,
        cell: str = "gru",
        attention: str | None = "additive",
        pad_id: int = 0,
        start_id: int = 1,
        end_id: int = 2,
    ) -> None:
        super().__init__()
        source_vocab_size = check_int("source_vocab_size", source_vocab_size, 2)
        target_vocab_size = check_int("target_vocab_size", target_vocab_size, 2)
        embed_size, hidden_size = check_int("embed_size", embed_size), check_int("hidden_size", hidden_size)
        self.cell = check_choice("cell", cell, CELLS)
        self.attention = check_choice("attention", attention, ATTENTIONS)
        for name, value, size in (("pad_id", pad_id, source_vocab_size), ("start_id", start_id, target_vocab_size),
                                  ("end_id", end_id, target_vocab_size)):
            if check_int(name, value, 0) >= size:
                raise ValueError(f"{name} must be < its vocabulary size {size}, received {value}")
        self.pad_id, self.start_id, self.end_id = pad_id, start_id, end_id
        self.hidden_size = hidden_size

        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.source_embedding = nn.Embedding(source_vocab_size, embed_size, padding_idx=pad_id)
        self.target_embedding = nn.Embedding(target_vocab_size, embed_size)
        self.encoder = rnn(embed_size, hidden_size, batch_first=True)
        self.decoder = rnn(embed_size, hidden_size, batch_first=True)
        if attention == "additive":
            self.query = nn.Linear(hidden_size, hidden_size, bias=False)  # W_q
            self.key = nn.Linear(hidden_size, hidden_size)  # W_k, with the bias b
            self.score = nn.Linear(hidden_size, 1, bias=False)  # v
        self.head = nn.Linear(2 * hidden_size if attention else hidden_size, target_vocab_size)

    def encode(self, source_ids: torch.Tensor) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Read the source.

        Args:
            source_ids: (N, S) int64; padding (``pad_id``) should come first ("pre"), so that the
                final state is taken after the last real token.

        Returns:
            outputs: (N, S, H) the encoder state h_j at every source position.
            state: the encoder's final state, which starts the decoder: (1, N, H), or (h, c) for LSTM.
            mask: (N, S) bool, True at real (non-pad) positions.
        """
        source_ids = self._check_ids("source_ids", source_ids)
        mask = source_ids != self.pad_id  # (N, S)
        if not bool(mask.any(dim=1).all()):
            raise ValueError(f"every row of source_ids needs a token other than pad_id={self.pad_id}, "
                             f"received {int((~mask.any(dim=1)).sum())} all-padding rows")
        outputs, state = self.encoder(self.source_embedding(source_ids))  # (N, S, H)
        return outputs, state, mask

    def decode(
        self, decoder_inputs: torch.Tensor, state: State, outputs: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Run the decoder over given input tokens, all T steps in one call of its RNN.

        Args:
            decoder_inputs: (N, T) int64, the previous token at each step (true or predicted).
            state: the decoder state before the first of them.
            outputs: (N, S, H) encoder outputs h_j; mask: (N, S) True at real source positions.

        Returns:
            logits: (N, T, V_t); state: the decoder state after step T;
            weights: (N, T, S) attention weights alpha_tj (rows sum to 1), or None.
        """
        states, state = self.decoder(self.target_embedding(decoder_inputs), state)  # (N, T, H)
        if self.attention is None:
            return self.head(states), state, None
        if self.attention == "dot":
            scores = states @ outputs.transpose(1, 2)  # (N, T, S): s_t . h_j
        else:
            hidden = self.query(states)[:, :, None, :] + self.key(outputs)[:, None, :, :]  # (N, T, S, H)
            scores = self.score(torch.tanh(hidden))[..., 0]  # (N, T, S)
        weights = torch.softmax(scores.masked_fill(~mask[:, None, :], float("-inf")), dim=-1)  # (N, T, S)
        context = weights @ outputs  # (N, T, H): c_t = sum_j alpha_tj h_j
        return self.head(torch.cat([states, context], dim=-1)), state, weights

    def forward(self, source_ids: torch.Tensor, decoder_inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position given the true previous tokens.

        Args:
            source_ids: (N, S) int64 source ids.
            decoder_inputs: (N, T) int64, ``start_id`` followed by the target shifted right.

        Returns:
            logits: (N, T, V_t); position t scores target token t (compare with decoder_targets).
        """
        outputs, state, mask = self.encode(source_ids)
        decoder_inputs = self._check_ids("decoder_inputs", decoder_inputs)
        if decoder_inputs.shape[0] != source_ids.shape[0]:
            raise ValueError(f"source_ids and decoder_inputs must share N, received "
                             f"{source_ids.shape[0]} and {decoder_inputs.shape[0]}")
        logits, _, _ = self.decode(decoder_inputs, state, outputs, mask)
        return logits

    @torch.no_grad()
    def greedy_decode(self, source_ids: torch.Tensor, max_len: int) -> Decoded:
        """Free running: one step at a time, feeding back the most likely token (argmax).

        Stops when every row has produced ``end_id`` or after ``max_len`` steps. The model is
        left in whatever train/eval mode it was in.

        Args:
            source_ids: (N, S) int64 source ids.
            max_len: the most tokens to generate, the end token included.

        Returns:
            ``Decoded(ids (N, L), attention (N, L, S) or None)`` with L <= max_len.
        """
        max_len = check_int("max_len", max_len)
        outputs, state, mask = self.encode(source_ids)
        n = source_ids.shape[0]
        previous = torch.full((n, 1), self.start_id, dtype=torch.long, device=source_ids.device)
        finished = torch.zeros((n, 1), dtype=torch.bool, device=source_ids.device)
        ids, weights = [], []
        for _ in range(max_len):
            logits, state, alpha = self.decode(previous, state, outputs, mask)  # (N, 1, V_t)
            previous = logits.argmax(dim=-1)  # (N, 1)
            ids.append(previous.masked_fill(finished, self.pad_id))
            weights.append(alpha)
            finished |= previous == self.end_id
            if bool(finished.all()):
                break
        attention = torch.cat(weights, dim=1) if self.attention else None  # (N, L, S)
        return Decoded(torch.cat(ids, dim=1), attention)

    def _check_ids(self, name: str, ids: Any) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
            got = f"{ids.dtype} tensor of shape {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise TypeError(f"{name} must be an int64 tensor (N, length), received {got}")
        if ids.shape[1] == 0:
            raise ValueError(f"{name} must have at least one position, received shape {tuple(ids.shape)}")
        return ids


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, *, ignore_id: int = 0) -> torch.Tensor:
    """Mean cross-entropy over every target position, skipping positions equal to ``ignore_id``.

    Args:
        logits: (N, T, V) scores. targets: (N, T) int64 token ids.

    Returns:
        a scalar tensor: the mean per-token loss in nats.
    """
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits (N, T, V) and targets (N, T) must agree, received "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_id)


def exact_match(predicted: list[str], expected: list[str]) -> float:
    """Fraction of predicted strings that equal the expected ones exactly (all characters right)."""
    if len(predicted) != len(expected) or not expected:
        raise ValueError(f"predicted and expected must be non-empty and of equal length, received "
                         f"{len(predicted)} and {len(expected)}")
    return sum(p == e for p, e in zip(predicted, expected)) / len(expected)
