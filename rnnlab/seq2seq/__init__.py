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

Sources are padded at the end ("post"); the encoder reads each row's length off its padding and
runs on a packed sequence, so padding never enters its recurrence: a source gets the same
encoding (up to rounding) whatever the batch and the padded width. ``bidirectional=True`` reads
the source both ways with H/2 units each, as Bahdanau et al. (2015) do; the encoder states and
the decoder's initial state still have H numbers.

``forward`` trains with teacher forcing: the decoder's input at step t is the *true* token
t-1. ``greedy_decode`` runs free: its input at step t is its own previous prediction. Both go
through ``decode``, so feeding the greedy output back through ``forward`` reproduces it.
``beam_search`` keeps the W most likely partial outputs of every source instead of one (the
decoder of Sutskever et al., 2014, section 3.1, with the length normalisation of Wu et al., 2016,
section 7); ``score_sequences`` gives the model's log-probability of any given outputs by teacher
forcing, the number beam search ranks by.
``fit_seq2seq`` trains with length-bucketed mini-batches (Sutskever et al.'s speed-up) and
records the greedy exact match on the validation set after every epoch.

Three modules: ``model`` (``Seq2Seq``), ``beam`` (``Decoded`` and the beam search behind
``Seq2Seq.beam_search``) and ``training`` (the loss, exact match, ``trim_padding``,
``fit_seq2seq``); import everything from ``rnnlab.seq2seq``.

Importing this package imports torch; ``import rnnlab`` does not import it.
"""

from rnnlab.seq2seq.beam import Decoded
from rnnlab.seq2seq.model import ATTENTIONS, CELLS, Seq2Seq  # noqa: F401  (CELLS, ATTENTIONS: the choices)
from rnnlab.seq2seq.training import (
    Seq2SeqHistory,
    exact_match,
    fit_seq2seq,
    greedy_exact_match,
    length_buckets,
    sequence_cross_entropy,
    trim_padding,
)

__all__ = ["Decoded", "Seq2Seq", "Seq2SeqHistory", "exact_match", "fit_seq2seq", "greedy_exact_match",
           "length_buckets", "sequence_cross_entropy", "trim_padding"]
