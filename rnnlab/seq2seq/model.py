"""``Seq2Seq``: the encoder-decoder module (see the package docstring of ``rnnlab.seq2seq``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab._checks import check_choice, check_float, check_int
from rnnlab.seq2seq.beam import Decoded, State, beam_search, normalise

CELLS = ("gru", "lstm")
ATTENTIONS = ("dot", "additive", None)


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
        bidirectional: read the source in both directions, with H/2 units each way (H must be
            even), as Bahdanau et al. (2015) do: the encoder state at position j is
            [forward state after x_1..x_j; backward state after x_S..x_j], still H numbers, and
            the decoder starts from [forward state at the last real token; backward state at
            the first].
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
        bidirectional: bool = False,
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
        if not isinstance(bidirectional, bool) or (bidirectional and hidden_size % 2):
            raise ValueError(f"bidirectional must be a bool, and True only with an even hidden_size (H/2 units "
                             f"each way), received bidirectional={bidirectional!r} with hidden_size={hidden_size}")
        self.bidirectional = bidirectional
        for name, value, size in (("pad_id", pad_id, source_vocab_size), ("start_id", start_id, target_vocab_size),
                                  ("end_id", end_id, target_vocab_size)):
            if check_int(name, value, 0) >= size:
                raise ValueError(f"{name} must be < its vocabulary size {size}, received {value}")
        self.pad_id, self.start_id, self.end_id = pad_id, start_id, end_id
        self.hidden_size = hidden_size

        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.source_embedding = nn.Embedding(source_vocab_size, embed_size, padding_idx=pad_id)  # E
        self.target_embedding = nn.Embedding(target_vocab_size, embed_size)  # E'
        self.encoder = rnn(embed_size, hidden_size // 2 if bidirectional else hidden_size, batch_first=True,
                           bidirectional=bidirectional)
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
            outputs: (B, S, H) the encoder state at every source position (zeros at padding);
                bidirectional: the forward and the backward state, H/2 each, side by side.
            state: the final state after each row's last real token, which starts the decoder:
                (1, B, H), or (h, c) for an LSTM; bidirectional: the forward state after the
                last real token beside the backward state after the first.
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
        if self.bidirectional:  # (2, B, H/2) per part, forward then backward -> (1, B, H)
            state = (tuple(torch.cat([part[0], part[1]], dim=-1)[None] for part in state)
                     if isinstance(state, tuple) else torch.cat([state[0], state[1]], dim=-1)[None])
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
            context = outputs[torch.arange(len(final)), final]  # (B, H): ctx = h-bar_S
            if self.bidirectional:  # the backward half is complete at the first position
                half = self.hidden_size // 2
                context = torch.cat([context[:, :half], outputs[:, 0, half:]], dim=-1)  # (B, H)
            context = context[:, None, :]  # (B, 1, H)
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
        ids: list[torch.Tensor] = []
        weights: list[torch.Tensor] = []
        for _ in range(max_len):
            logits, state, alpha = self.decode(previous, state, outputs, mask)  # (B, 1, K)
            previous = logits.argmax(dim=-1)  # (B, 1)
            ids.append(previous.masked_fill(finished, self.pad_id))
            if alpha is not None:
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
        which favours short outputs; alpha = 1 ranks by the mean log-probability per token (the
        module ``rnnlab.seq2seq.beam`` compares this divisor with Wu et al.'s). The W best
        extensions of each row are kept at every step; a hypothesis that emits ``end_id`` stays in
        the beam, its score frozen, until W better ones push it out. The output of a row is its
        best hypothesis, finished or not. With ``beam_width=1`` this is exactly ``greedy_decode``:
        the same ids and the same attention weights.

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
        return beam_search(self, source_ids, beam_width=beam_width, max_len=max_len,
                           length_penalty=length_penalty, keep_greedy=keep_greedy, return_scores=return_scores)

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
        return normalise(log_p.masked_fill(~scored, 0.0).sum(dim=1), scored.sum(dim=1), length_penalty)

    def _check_ids(self, name: str, ids: Any) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
            got = f"{ids.dtype} tensor of shape {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise TypeError(f"{name} must be an int64 tensor (B, length), received {got}")
        if ids.shape[1] == 0:
            raise ValueError(f"{name} must have at least one position, received shape {tuple(ids.shape)}")
        return ids
