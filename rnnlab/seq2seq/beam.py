"""Beam search for ``rnnlab.seq2seq.Seq2Seq``, and the types its decoders return.

``Seq2Seq.beam_search`` (documented there) calls ``beam_search`` below. Each of the B source
rows gets G = W (+ 1) decoder rows: its W beams and, with ``keep_greedy``, the greedy hypothesis,
which extends itself by its argmax. At every step ``extend_beams`` picks the W best one-token
extensions of each row's hypotheses by their (length-normalised) log-probability; finished
hypotheses stay as one frozen candidate; at the end ``backtrack`` follows the parents from each
row's best hypothesis back to its tokens and attention weights. The search stops when all
hypotheses are finished or after ``max_len`` steps. Finished hypotheses compete with unfinished
ones until W better ones push them out, as TensorFlow's ``BeamSearchDecoder`` does.

The length normalisation divides by n**alpha, as fairseq and Hugging Face transformers do;
Wu et al. (2016), "Google's Neural Machine Translation System", section 7, divide by
((5 + n) / 6)**alpha instead, which ranks the same way only at alpha = 0.

Notation: B rows, S source positions, H hidden size, K target tokens, W the beam width.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch

from rnnlab._checks import check_float, check_int

if TYPE_CHECKING:
    from rnnlab.seq2seq.model import Seq2Seq

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU: h (1, B, H); LSTM: (h, c)


class Decoded(NamedTuple):
    """What ``Seq2Seq.greedy_decode`` and ``Seq2Seq.beam_search`` return: ids and attention weights."""

    #: (B, L) int64 predicted tokens, L <= max_len; ``pad_id`` after a row's end token.
    ids: torch.Tensor
    #: (B, L, S) attention weights alpha_tj, each row summing to 1 over the non-pad source
    #: positions; None for a model without attention. After a row's end token the decoder has
    #: kept running on its own argmax predictions: those rows still sum to 1 but mean nothing.
    attention: torch.Tensor | None


@torch.no_grad()
def beam_search(
    model: Seq2Seq,
    source_ids: torch.Tensor,
    *,
    beam_width: int = 4,
    max_len: int | None = None,
    length_penalty: float = 0.0,
    keep_greedy: bool = True,
    return_scores: bool = False,
) -> Decoded | tuple[Decoded, torch.Tensor]:
    """``model.beam_search(source_ids, ...)``: see ``Seq2Seq.beam_search`` for the arguments."""
    vocab_size = model.head.out_features  # K
    beam_width = check_int("beam_width", beam_width)
    if beam_width > vocab_size:
        raise ValueError(f"beam_width must be <= the target vocabulary size K={vocab_size}, "
                         f"received {beam_width}")
    max_len = None if max_len is None else check_int("max_len", max_len)
    length_penalty = check_float("length_penalty", length_penalty)
    for name, flag in (("keep_greedy", keep_greedy), ("return_scores", return_scores)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be a bool, received {flag!r}")
    outputs, state, mask = model.encode(source_ids)
    if max_len is None:
        max_len = 2 * int(mask.sum(dim=1).max()) + 10
    n, width, device = source_ids.shape[0], beam_width, source_ids.device
    slots = width + (keep_greedy and width > 1)  # G: the W beams, then the greedy hypothesis
    beams = torch.arange(n, device=device).repeat_interleave(slots)  # (B G,) the source row of each
    outputs, mask, state = outputs[beams], mask[beams], select_state(state, beams)  # (B G, S, H), (B G, S)
    previous = torch.full((n * slots, 1), model.start_id, dtype=torch.long, device=device)
    score = torch.zeros(n, slots, device=device)
    score[:, 1:width] = float("-inf")  # W copies of the start: only the first may be extended
    score = score.reshape(-1)  # (B G,) sum of log p of each hypothesis
    length = torch.zeros(n * slots, dtype=torch.long, device=device)  # (B G,) n, its tokens
    finished = torch.zeros(n * slots, dtype=torch.bool, device=device)
    steps = []  # per step: (parent (B G,), token (B G,), attention (B G, S) or None)
    for _ in range(max_len):
        logits, state, alpha = model.decode(previous, state, outputs, mask)  # (B G, 1, K)
        parent, token, score, length = extend_beams(logits[:, 0], score, length, finished,
                                                          width, slots, length_penalty)
        was_finished = finished[parent]
        token = token.masked_fill(was_finished, model.pad_id)
        finished = was_finished | (token == model.end_id)
        # a finished beam keeps feeding its argmax, as greedy_decode does after a row's end
        previous = torch.where(was_finished, logits[parent, 0].argmax(dim=-1), token)[:, None]
        state = select_state(state, parent)
        steps.append((parent, token, None if alpha is None else alpha[:, 0]))
        if bool(finished.all()):
            break
    normalised = normalise(score, length, length_penalty).reshape(n, slots)  # (B, G)
    best = normalised[:, :width].argmax(dim=1)  # (B,) each row's best beam
    if slots > width:  # the greedy hypothesis where it is strictly better
        best = best.masked_fill(normalised[:, width] > normalised.gather(1, best[:, None])[:, 0], width)
    best = best + torch.arange(n, device=device) * slots  # (B,) flat index
    decoded = backtrack(steps, best, int(length[best].max()), model.attention is not None)
    return (decoded, normalised.reshape(-1)[best]) if return_scores else decoded


def extend_beams(
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
    rank = normalise(ranked, candidate_length[:, None], length_penalty).reshape(-1, slots, vocab_size)
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


def select_state(state: State, index: torch.Tensor) -> State:
    """The decoder state of the given batch rows: (1, len(index), H), or a pair of them for an LSTM."""
    if isinstance(state, tuple):
        return tuple(part[:, index] for part in state)  # type: ignore[return-value]
    return state[:, index]


def normalise(score: torch.Tensor, length: torch.Tensor, length_penalty: float) -> torch.Tensor:
    """score / length**length_penalty, the plain score when length_penalty is 0."""
    return score if length_penalty == 0.0 else score / length.to(score.dtype) ** length_penalty


def backtrack(steps: list, best: torch.Tensor, steps_kept: int, attention: bool) -> Decoded:
    """Follow the parents back from the chosen final hypotheses to their tokens and attention.

    Args:
        steps: per step (parent (B W,), token (B W,), attention (B W, S) or None), as
            ``Seq2Seq.beam_search`` records them. best: (B,) flat index of each row's output.
        steps_kept: L, the number of leading steps to return.
    """
    tokens: list[torch.Tensor] = []
    weights: list[torch.Tensor] = []
    beam = best
    for parent, token, alpha in reversed(steps):
        tokens.append(token[beam])
        beam = parent[beam]
        if attention:
            weights.append(alpha[beam])  # alpha belongs to the hypothesis extended
    ids = torch.stack(tokens[::-1], dim=1)[:, :steps_kept]  # (B, L)
    return Decoded(ids, torch.stack(weights[::-1], dim=1)[:, :steps_kept] if attention else None)
