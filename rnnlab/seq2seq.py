"""A character-level encoder-decoder (seq2seq) in PyTorch: plain, context at every step, or attention.

Notation (the book's preface): B batch size, S source length, T target length, D embedding
size (the input size of both RNNs), H hidden size, K the target vocabulary (the output size).
The encoder (an embedding, then a GRU or LSTM) reads the source and keeps its state
:math:`\\bar h_j` at every source position j = 1..S; the decoder, an RNN of the same kind, starts
from the encoder's final state :math:`\\bar h_S` and at step t reads the previous target token,
updates its own state :math:`h_t` and scores the K target tokens with logits
:math:`s_t = (\\cdot) V + b_y`, :math:`p_t = \\operatorname{softmax}(s_t)`. What the decoder sees
of the source is the only difference between the three variants:

* ``attention=None``: nothing but its initial state :math:`\\bar h_S`, as in Sutskever, Vinyals &
  Le (2014), "Sequence to Sequence Learning with Neural Networks":
  :math:`s_t = h_t V + b_y`.
* ``attention=None, feed_context=True``: the same vector :math:`\\mathrm{ctx} = \\bar h_S` is also
  an input of every decoder step and of the output layer, as in Cho et al. (2014), "Learning
  Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation":
  :math:`h_t = \\mathrm{RNN}([E'_{y_{t-1}}; \\mathrm{ctx}], h_{t-1})`,
  :math:`s_t = [h_t; \\mathrm{ctx}] V + b_y`.
* ``attention="additive"`` or ``"dot"``: at every step a context vector :math:`\\mathrm{ctx}_t`,
  a weighted mean of all the :math:`\\bar h_j` (the letter c is the LSTM's cell state), and
  :math:`s_t = [h_t; \\mathrm{ctx}_t] V + b_y` with

  .. math::  \\mathrm{score}(h_t, \\bar h_j) = v_a^\\top \\tanh(h_t W_q + \\bar h_j W_k + b_a)
             \\ \\text{(additive)} \\quad\\text{or}\\quad h_t \\cdot \\bar h_j \\ \\text{(dot)},
             \\qquad \\alpha_{tj} = \\operatorname{softmax}_j \\mathrm{score}(h_t, \\bar h_j),
             \\qquad \\mathrm{ctx}_t = \\sum_j \\alpha_{tj} \\bar h_j .

  The additive score is that of Bahdanau, Cho & Bengio (2015), "Neural Machine Translation by
  Jointly Learning to Align and Translate" (their eq. 6); the dot score and the placement of
  attention *after* the decoder's update (query :math:`h_t` rather than :math:`h_{t-1}`, no
  context fed back into the RNN) follow Luong, Pham & Manning (2015), "Effective Approaches to
  Attention-based Neural Machine Translation". That placement lets teacher-forced training
  run the decoder RNN over all T target steps in one call.

Sources are padded at the end ("post"); the encoder runs on a packed sequence, so padding never
enters its recurrence: a source gets the same encoding (up to rounding) whatever the batch and the
padded width.

``forward`` trains with teacher forcing: the decoder's input at step t is the *true* token
t-1. ``greedy_decode`` runs free: its input at step t is its own previous prediction. Both go
through ``decode``, so feeding the greedy output back through ``forward`` reproduces it.
``beam_search`` keeps the W most likely partial outputs of every source instead of one (the
decoder of Sutskever et al., 2014, section 3.1, with the length normalisation of Wu et al., 2016,
section 7); ``score_sequences`` gives the model's log-probability of any given outputs by teacher
forcing, the number beam search ranks by.
``fit_seq2seq`` trains with length-bucketed mini-batches (Sutskever et al.'s speed-up) and
records the greedy exact match on the validation set after every epoch.

Importing this module imports torch; ``import rnnlab`` does not import this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab._checks import check_choice, check_float, check_int, make_rng

__all__ = ["Decoded", "Seq2Seq", "Seq2SeqHistory", "exact_match", "fit_seq2seq", "greedy_exact_match",
           "length_buckets", "sequence_cross_entropy", "trim_padding"]

CELLS = ("gru", "lstm")
ATTENTIONS = ("dot", "additive", None)
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU: h (1, B, H); LSTM: (h, c)


class Decoded(NamedTuple):
    """What ``Seq2Seq.greedy_decode`` and ``Seq2Seq.beam_search`` return: ids and attention weights."""

    #: (B, L) int64 predicted tokens, L <= max_len; ``pad_id`` after a row's end token.
    ids: torch.Tensor
    #: (B, L, S) attention weights alpha_tj, each row summing to 1 over the non-pad source
    #: positions; None for a model without attention. After a row's end token the decoder has
    #: kept running on its own argmax predictions: those rows still sum to 1 but mean nothing.
    attention: torch.Tensor | None


class Seq2Seq(nn.Module):
    """Encoder-decoder over token ids, trained with teacher forcing, decoded greedily or by beam search.

    Args:
        source_vocab_size: size of the source vocabulary.
        target_vocab_size: K, the size of the target vocabulary (the output size).
        embed_size: D, the size of both embeddings (the input size of both RNNs).
        hidden_size: H, the size of the encoder and decoder states.
        cell: "gru" or "lstm", for both encoder and decoder.
        attention: "additive" (Bahdanau) or "dot" (Luong) scores over the encoder states, or
            None for an encoder-decoder that sees the source only through its final state.
        feed_context: with ``attention=None``, also give the final encoder state to every
            decoder step and to the output layer (Cho et al., 2014).
        pad_id: padding id of the source (and of targets after their end), masked out of the
            attention and given a zero embedding.
        start_id, end_id: the target tokens that begin and end every target sequence.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        *,
        embed_size: int = 16,
        hidden_size: int = 48,
        cell: str = "gru",
        attention: str | None = "additive",
        feed_context: bool = False,
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
        if not isinstance(feed_context, bool) or (feed_context and attention is not None):
            raise ValueError(f"feed_context must be a bool, and True only with attention=None, "
                             f"received feed_context={feed_context!r} with attention={attention!r}")
        self.feed_context = feed_context
        for name, value, size in (("pad_id", pad_id, source_vocab_size), ("start_id", start_id, target_vocab_size),
                                  ("end_id", end_id, target_vocab_size)):
            if check_int(name, value, 0) >= size:
                raise ValueError(f"{name} must be < its vocabulary size {size}, received {value}")
        self.pad_id, self.start_id, self.end_id = pad_id, start_id, end_id
        self.hidden_size = hidden_size

        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.source_embedding = nn.Embedding(source_vocab_size, embed_size, padding_idx=pad_id)  # E
        self.target_embedding = nn.Embedding(target_vocab_size, embed_size)  # E'
        self.encoder = rnn(embed_size, hidden_size, batch_first=True)
        self.decoder = rnn(embed_size + (hidden_size if feed_context else 0), hidden_size, batch_first=True)
        if attention == "additive":
            self.query = nn.Linear(hidden_size, hidden_size, bias=False)  # W_q
            self.key = nn.Linear(hidden_size, hidden_size)  # W_k, with the bias b_a
            self.score = nn.Linear(hidden_size, 1, bias=False)  # v_a
        wide = attention is not None or feed_context  # the output layer reads [h_t; ctx_t]
        self.head = nn.Linear(2 * hidden_size if wide else hidden_size, target_vocab_size)  # V, b_y

    def encode(self, source_ids: torch.Tensor) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Read the source, skipping its padding.

        Args:
            source_ids: (B, S) int64, each row its tokens followed by ``pad_id`` ("post" padding).

        Returns:
            outputs: (B, S, H) the encoder state at every source position (zeros at padding).
            state: the final state after each row's last real token, which starts the decoder:
                (1, B, H), or (h, c) for an LSTM.
            mask: (B, S) bool, True at real (non-pad) positions.
        """
        source_ids = self._check_ids("source_ids", source_ids)
        mask = source_ids != self.pad_id  # (B, S)
        lengths = mask.sum(dim=1)  # (B,)
        if not bool((lengths > 0).all()):
            raise ValueError(f"every row of source_ids needs a token other than pad_id={self.pad_id}, "
                             f"received {int((lengths == 0).sum())} all-padding rows")
        positions = torch.arange(source_ids.shape[1], device=source_ids.device)
        if not torch.equal(mask, positions[None, :] < lengths[:, None]):
            raise ValueError(f"source_ids must be padded at the end (padding='post'): found pad_id={self.pad_id} "
                             f"before a real token")
        packed = pack_padded_sequence(self.source_embedding(source_ids), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        outputs, state = self.encoder(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=source_ids.shape[1])  # (B, S, H)
        return outputs, state, mask

    def decode(
        self, decoder_inputs: torch.Tensor, state: State, outputs: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Run the decoder over given input tokens, all T steps in one call of its RNN.

        Args:
            decoder_inputs: (B, T) int64, the previous token at each step (true or predicted).
            state: the decoder state before the first of them.
            outputs: (B, S, H) encoder states; mask: (B, S) True at real source positions.

        Returns:
            logits: (B, T, K) the scores s_t; state: the decoder state after step T;
            weights: (B, T, S) attention weights alpha_tj (rows sum to 1), or None.
        """
        embedded = self.target_embedding(decoder_inputs)  # (B, T, D)
        if self.feed_context:
            final = mask.sum(dim=1) - 1  # (B,) position of the last real token
            context = outputs[torch.arange(len(final)), final][:, None, :]  # (B, 1, H): ctx = h-bar_S
            context = context.expand(-1, embedded.shape[1], -1)  # (B, T, H): the same at every step
            states, state = self.decoder(torch.cat([embedded, context], dim=-1), state)  # (B, T, H)
            return self.head(torch.cat([states, context], dim=-1)), state, None
        states, state = self.decoder(embedded, state)  # (B, T, H)
        if self.attention is None:
            return self.head(states), state, None
        if self.attention == "dot":
            scores = states @ outputs.transpose(1, 2)  # (B, T, S): h_t . h-bar_j
        else:
            hidden = self.query(states)[:, :, None, :] + self.key(outputs)[:, None, :, :]  # (B, T, S, H)
            scores = self.score(torch.tanh(hidden))[..., 0]  # (B, T, S)
        weights = torch.softmax(scores.masked_fill(~mask[:, None, :], float("-inf")), dim=-1)  # (B, T, S)
        context = weights @ outputs  # (B, T, H): ctx_t = sum_j alpha_tj h-bar_j
        return self.head(torch.cat([states, context], dim=-1)), state, weights

    def forward(self, source_ids: torch.Tensor, decoder_inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position given the true previous tokens.

        Args:
            source_ids: (B, S) int64 source ids, padded at the end.
            decoder_inputs: (B, T) int64, ``start_id`` followed by the target shifted right.

        Returns:
            logits: (B, T, K); position t scores target token t (compare with decoder_targets).
        """
        outputs, state, mask = self.encode(source_ids)
        decoder_inputs = self._check_ids("decoder_inputs", decoder_inputs)
        if decoder_inputs.shape[0] != source_ids.shape[0]:
            raise ValueError(f"source_ids and decoder_inputs must share B, received "
                             f"{source_ids.shape[0]} and {decoder_inputs.shape[0]}")
        logits, _, _ = self.decode(decoder_inputs, state, outputs, mask)
        return logits

    @torch.no_grad()
    def greedy_decode(self, source_ids: torch.Tensor, max_len: int) -> Decoded:
        """Free running: one step at a time, feeding back the most likely token (argmax).

        All B rows are decoded together; stops when every row has produced ``end_id`` or after
        ``max_len`` steps. The model is left in whatever train/eval mode it was in.

        Args:
            source_ids: (B, S) int64 source ids, padded at the end.
            max_len: the most tokens to generate, the end token included.

        Returns:
            ``Decoded(ids (B, L), attention (B, L, S) or None)`` with L <= max_len.
        """
        max_len = check_int("max_len", max_len)
        outputs, state, mask = self.encode(source_ids)
        n = source_ids.shape[0]
        previous = torch.full((n, 1), self.start_id, dtype=torch.long, device=source_ids.device)
        finished = torch.zeros((n, 1), dtype=torch.bool, device=source_ids.device)
        ids, weights = [], []
        for _ in range(max_len):
            logits, state, alpha = self.decode(previous, state, outputs, mask)  # (B, 1, K)
            previous = logits.argmax(dim=-1)  # (B, 1)
            ids.append(previous.masked_fill(finished, self.pad_id))
            weights.append(alpha)
            finished |= previous == self.end_id
            if bool(finished.all()):
                break
        attention = torch.cat(weights, dim=1) if self.attention else None  # (B, L, S)
        return Decoded(torch.cat(ids, dim=1), attention)

    @torch.no_grad()
    def beam_search(
        self,
        source_ids: torch.Tensor,
        *,
        beam_width: int = 4,
        max_len: int | None = None,
        length_penalty: float = 0.0,
        keep_greedy: bool = True,
        return_scores: bool = False,
    ) -> Decoded | tuple[Decoded, torch.Tensor]:
        """Free running that keeps the W = ``beam_width`` best partial outputs of every row.

        A hypothesis y of length n (the tokens generated so far, the end token included, the start
        token not) is ranked by its length-normalised log-probability

        .. math:: \\operatorname{score}(y) = \\frac{\\sum_{t=1}^{n} \\log p(y_t \\mid y_{<t}, x)}{n^{\\alpha}},
                  \\qquad \\alpha = \\texttt{length\\_penalty}.

        With ``length_penalty=0.0`` (the default) the score is the plain sum of log-probabilities,
        which favours short outputs; alpha = 1 ranks by the mean log-probability per token. The
        divisor n**alpha is the one fairseq and Hugging Face transformers use; Wu et al. (2016),
        "Google's Neural Machine Translation System", section 7, divide by ((5 + n) / 6)**alpha
        instead, which ranks the same way only at alpha = 0.

        At every step each unfinished hypothesis is extended by each of the K tokens, and the W
        best of the W K candidates of a row (by the score above) are kept. A hypothesis that emits
        ``end_id`` is finished: it stays in the beam as a single candidate with its score frozen,
        until W better ones push it out (as TensorFlow's ``BeamSearchDecoder`` does). The
        search stops when all B W hypotheses are finished or after ``max_len`` steps; the output of
        a row is its best hypothesis, finished or not, by the same score. With ``beam_width=1``
        this is exactly ``greedy_decode``: the same ids and the same attention weights.

        Beam search is a heuristic: a wider beam usually, not always, finds a higher score than
        greedy decoding, because the greedy output's prefix can fall out of the beam (the tests
        show a case). With ``keep_greedy`` (the default) the greedy hypothesis therefore runs
        alongside the beam, one more decoder row per source, and a row's output is the greedy one
        where that scores strictly higher than the beam's best, so no beam width ever returns a
        lower score than ``greedy_decode``; ``keep_greedy=False`` is plain beam search.

        Args:
            source_ids: (B, S) int64 source ids, padded at the end.
            beam_width: W >= 1, the hypotheses kept per row; at most K.
            max_len: the most tokens to generate, the end token included; None: 2 S' + 10, with S'
                the longest source in the batch (so pass it to make rows that never emit
                ``end_id`` independent of the rest of the batch).
            length_penalty: alpha >= 0 in the score above.
            keep_greedy: fall back to the greedy output where it scores higher (see above).
            return_scores: also return the score of every returned row.

        Returns:
            ``Decoded(ids (B, L), attention (B, L, S) or None)`` with L <= max_len the longest
            returned hypothesis, and with ``return_scores`` also scores (B,) float, equal (up to
            rounding) to ``score_sequences(source_ids, ids, length_penalty=length_penalty)``.
        """
        vocab_size = self.head.out_features  # K
        beam_width = check_int("beam_width", beam_width)
        if beam_width > vocab_size:
            raise ValueError(f"beam_width must be <= the target vocabulary size K={vocab_size}, "
                             f"received {beam_width}")
        max_len = None if max_len is None else check_int("max_len", max_len)
        length_penalty = check_float("length_penalty", length_penalty)
        for name, flag in (("keep_greedy", keep_greedy), ("return_scores", return_scores)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be a bool, received {flag!r}")
        outputs, state, mask = self.encode(source_ids)
        if max_len is None:
            max_len = 2 * int(mask.sum(dim=1).max()) + 10
        n, width, device = source_ids.shape[0], beam_width, source_ids.device
        slots = width + (keep_greedy and width > 1)  # G: the W beams, then the greedy hypothesis
        beams = torch.arange(n, device=device).repeat_interleave(slots)  # (B G,) the source row of each
        outputs, mask, state = outputs[beams], mask[beams], _select_state(state, beams)  # (B G, S, H), (B G, S)
        previous = torch.full((n * slots, 1), self.start_id, dtype=torch.long, device=device)
        score = torch.zeros(n, slots, device=device)
        score[:, 1:width] = float("-inf")  # W copies of the start: only the first may be extended
        score = score.reshape(-1)  # (B G,) sum of log p of each hypothesis
        length = torch.zeros(n * slots, dtype=torch.long, device=device)  # (B G,) n, its tokens
        finished = torch.zeros(n * slots, dtype=torch.bool, device=device)
        steps = []  # per step: (parent (B G,), token (B G,), attention (B G, S) or None)
        for _ in range(max_len):
            logits, state, alpha = self.decode(previous, state, outputs, mask)  # (B G, 1, K)
            parent, token, score, length = self._extend_beams(logits[:, 0], score, length, finished,
                                                              width, slots, length_penalty)
            was_finished = finished[parent]
            token = token.masked_fill(was_finished, self.pad_id)
            finished = was_finished | (token == self.end_id)
            # a finished beam keeps feeding its argmax, as greedy_decode does after a row's end
            previous = torch.where(was_finished, logits[parent, 0].argmax(dim=-1), token)[:, None]
            state = _select_state(state, parent)
            steps.append((parent, token, None if alpha is None else alpha[:, 0]))
            if bool(finished.all()):
                break
        normalised = _normalise(score, length, length_penalty).reshape(n, slots)  # (B, G)
        best = normalised[:, :width].argmax(dim=1)  # (B,) each row's best beam
        if slots > width:  # the greedy hypothesis where it is strictly better
            best = best.masked_fill(normalised[:, width] > normalised.gather(1, best[:, None])[:, 0], width)
        best = best + torch.arange(n, device=device) * slots  # (B,) flat index
        decoded = _backtrack(steps, best, int(length[best].max()), self.attention is not None)
        return (decoded, normalised.reshape(-1)[best]) if return_scores else decoded

    @staticmethod
    def _extend_beams(
        logits: torch.Tensor, score: torch.Tensor, length: torch.Tensor, finished: torch.Tensor,
        width: int, slots: int, length_penalty: float,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One beam-search step: the W best one-token extensions of each row's W hypotheses.

        Args:
            logits: (B G, K) the next-token scores of every hypothesis, G = ``slots``: the W beams
                of each row, then (if G = W + 1) its greedy hypothesis, which extends itself by its
                argmax. score, length, finished: (B G,) each one's sum of log p, its number of
                tokens and whether it has ended.

        Returns:
            parent (B G,) the flat index of the hypothesis each new one extends, token (B G,) the
            token it adds (meaningless where the parent had finished), and the new score and length.
        """
        vocab_size = logits.shape[-1]
        candidate = score[:, None] + torch.log_softmax(logits, dim=-1)  # (B G, K)
        # a finished hypothesis is one candidate, itself: its score in column 0, -inf elsewhere
        frozen = torch.full_like(candidate, float("-inf"))
        frozen[:, 0] = score
        ranked = torch.where(finished[:, None], frozen, candidate)
        candidate_length = length + (~finished).long()  # (B G,)
        rank = _normalise(ranked, candidate_length[:, None], length_penalty).reshape(-1, slots, vocab_size)
        chosen = rank[:, :width].reshape(len(rank), width * vocab_size).topk(width, dim=1).indices  # (B, W)
        rows = torch.arange(len(rank), device=logits.device)[:, None] * slots  # (B, 1)
        parent, token = rows + chosen // vocab_size, chosen % vocab_size  # (B, W)
        if slots > width:
            greedy = rows + width  # (B, 1)
            parent = torch.cat([parent, greedy], dim=1)
            token = torch.cat([token, logits[greedy[:, 0]].argmax(dim=-1, keepdim=True)], dim=1)
        parent, token = parent.reshape(-1), token.reshape(-1)  # (B G,)
        new_score = torch.where(finished[parent], score[parent], candidate[parent, token])
        return parent, token, new_score, candidate_length[parent]

    def score_sequences(
        self, source_ids: torch.Tensor, target_ids: torch.Tensor, *, length_penalty: float = 0.0
    ) -> torch.Tensor:
        """The length-normalised log-probability of given outputs, by teacher forcing.

        The score that ``beam_search`` ranks by: sum_t log p(y_t | y_<t, x) over a row's tokens up
        to and including its first ``end_id`` (all T of them if it has none), divided by n**alpha,
        n the number of those tokens; alpha = ``length_penalty`` (0: the plain sum). Differentiable.

        Args:
            source_ids: (B, S) int64 source ids, padded at the end.
            target_ids: (B, T) int64 outputs in the format of ``Decoded.ids`` and of
                ``decoder_targets``: the tokens, ``end_id``, then anything (ignored).
            length_penalty: alpha >= 0.

        Returns:
            (B,) float, one score per row.
        """
        length_penalty = check_float("length_penalty", length_penalty)
        target_ids = self._check_ids("target_ids", target_ids)
        if target_ids.shape[0] != source_ids.shape[0]:
            raise ValueError(f"source_ids and target_ids must share B, received "
                             f"{source_ids.shape[0]} and {target_ids.shape[0]}")
        is_end = (target_ids == self.end_id).long()
        scored = is_end.cumsum(dim=1) - is_end == 0  # (B, T): up to and including the first end
        vocab_size = self.head.out_features
        bad = scored & ((target_ids < 0) | (target_ids >= vocab_size))
        if bool(bad.any()):
            raise ValueError(f"target_ids up to each row's end_id must be token ids in 0..{vocab_size - 1}, "
                             f"received {int(target_ids[bad][0])}")
        targets = target_ids.masked_fill(~scored, self.end_id)  # valid ids where they are ignored
        start = torch.full_like(targets[:, :1], self.start_id)
        logits = self(source_ids, torch.cat([start, targets[:, :-1]], dim=1))  # (B, T, K)
        log_p = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None])[..., 0]  # (B, T)
        return _normalise(log_p.masked_fill(~scored, 0.0).sum(dim=1), scored.sum(dim=1), length_penalty)

    def _check_ids(self, name: str, ids: Any) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
            got = f"{ids.dtype} tensor of shape {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise TypeError(f"{name} must be an int64 tensor (B, length), received {got}")
        if ids.shape[1] == 0:
            raise ValueError(f"{name} must have at least one position, received shape {tuple(ids.shape)}")
        return ids


def _select_state(state: State, index: torch.Tensor) -> State:
    """The decoder state of the given batch rows: (1, len(index), H), or a pair of them for an LSTM."""
    if isinstance(state, tuple):
        return tuple(part[:, index] for part in state)  # type: ignore[return-value]
    return state[:, index]


def _normalise(score: torch.Tensor, length: torch.Tensor, length_penalty: float) -> torch.Tensor:
    """score / length**length_penalty, the plain score when length_penalty is 0."""
    return score if length_penalty == 0.0 else score / length.to(score.dtype) ** length_penalty


def _backtrack(steps: list, best: torch.Tensor, steps_kept: int, attention: bool) -> Decoded:
    """Follow the parents back from the chosen final hypotheses to their tokens and attention.

    Args:
        steps: per step (parent (B W,), token (B W,), attention (B W, S) or None), as
            ``Seq2Seq.beam_search`` records them. best: (B,) flat index of each row's output.
        steps_kept: L, the number of leading steps to return.
    """
    ids, weights, beam = [], [], best
    for parent, token, alpha in reversed(steps):
        ids.append(token[beam])
        beam = parent[beam]
        weights.append(alpha[beam] if attention else None)  # alpha belongs to the hypothesis extended
    ids = torch.stack(ids[::-1], dim=1)[:, :steps_kept]  # (B, L)
    return Decoded(ids, torch.stack(weights[::-1], dim=1)[:, :steps_kept] if attention else None)


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
        for index in length_buckets(lengths, batch_size, rng, bucket):
            for group in optimiser.param_groups:
                group["lr"] = lr * (1 - step / total_steps)
            step += 1
            index = torch.as_tensor(index)
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
