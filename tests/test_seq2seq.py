"""rnnlab.seq2seq: shapes, packing, teacher forcing vs free running, greedy termination, training, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnlab.data import date_dataset, date_vocabs, decode_iso, encode_dates, random_dates  # noqa: E402
from rnnlab.seq2seq import (  # noqa: E402
    ATTENTIONS,
    CELLS,
    Decoded,
    Seq2Seq,
    exact_match,
    fit_seq2seq,
    greedy_exact_match,
    length_buckets,
    sequence_cross_entropy,
    trim_padding,
)

V_SOURCE, V_TARGET, PAD, START, END = 9, 7, 0, 1, 2


pytestmark = pytest.mark.usefixtures("one_torch_thread")


VARIANTS = [(attention, False) for attention in ATTENTIONS] + [(None, True)]  # (attention, feed_context)


def make_model(attention="additive", cell="gru", seed=0, **kwargs) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(V_SOURCE, V_TARGET, embed_size=4, hidden_size=6, cell=cell, attention=attention, **kwargs)


def toy_batch(n=3, source_len=5, target_len=4, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Post-padded source ids (row i ends with i pads) and decoder inputs starting with START."""
    generator = torch.Generator().manual_seed(seed)
    source = torch.randint(3, V_SOURCE, (n, source_len), generator=generator)
    for i in range(n):
        source[i, source_len - i:] = PAD
    decoder_inputs = torch.randint(3, V_TARGET, (n, target_len), generator=generator)
    decoder_inputs[:, 0] = START
    return source, decoder_inputs


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention, feed_context", VARIANTS)
def test_shapes_and_attention_weights(attention, feed_context, cell):
    model = make_model(attention, cell, feed_context=feed_context)
    source, decoder_inputs = toy_batch()
    logits = model(source, decoder_inputs)
    assert logits.shape == (3, 4, V_TARGET)
    decoded = model.greedy_decode(source, max_len=6)
    n, length = decoded.ids.shape
    assert n == 3 and 1 <= length <= 6 and decoded.ids.dtype == torch.long
    if attention is None:
        assert decoded.attention is None
    else:
        weights = decoded.attention
        assert weights.shape == (3, length, 5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, length))
        assert (weights[source[:, None, :].expand_as(weights) == PAD] == 0).all()  # pads get no weight


@pytest.mark.parametrize("attention, feed_context", VARIANTS)
def test_teacher_forcing_reproduces_free_running_when_fed_its_own_output(attention, feed_context):
    """forward() with the greedy tokens as inputs gives the greedy choices; other inputs change them."""
    model = make_model(attention, feed_context=feed_context)
    with torch.no_grad():
        model.head.weight.mul_(30.0)  # sharper logits: the greedy choices vary with the state
        model.head.bias[[PAD, END]] = -1e3  # never END, so every row runs all 5 steps
    source, _ = toy_batch()
    greedy = model.greedy_decode(source, max_len=5).ids
    assert greedy.shape == (3, 5) and len(greedy.unique()) > 1
    fed_back = torch.cat([torch.full((3, 1), START), greedy[:, :-1]], dim=1)
    with torch.no_grad():
        logits = model(source, fed_back)
    assert torch.equal(logits.argmax(-1), greedy)

    other = fed_back.clone()
    other[:, 1:] = (fed_back[:, 1:] + 1 - 3) % (V_TARGET - 3) + 3  # a different token at every later step
    with torch.no_grad():
        forced = model(source, other)
    torch.testing.assert_close(forced[:, 0], logits[:, 0])  # step 0 sees the same input: START
    assert (forced[:, 1:] - logits[:, 1:]).abs().amax() > 1e-4  # later steps depend on the fed tokens


def test_greedy_decode_stops_at_end_and_pads_after_it():
    model = make_model()
    source, _ = toy_batch()
    with torch.no_grad():
        model.head.bias.zero_()
        model.head.weight.zero_()
        model.head.bias[END] = 10.0  # every row ends at once
    decoded = model.greedy_decode(source, max_len=8)
    assert decoded.ids.shape == (3, 1) and (decoded.ids == END).all()
    with torch.no_grad():
        model.head.bias[END] = -10.0
        model.head.bias[4] = 10.0  # never ends: runs to max_len
    assert model.greedy_decode(source, max_len=8).ids.shape == (3, 8)


def test_rows_that_finish_early_are_padded():
    model = make_model(attention=None)
    source, _ = toy_batch()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[5] = 1.0
    original_decode = model.decode

    def decode_row0_ends_first(inputs, state, outputs, mask):
        logits, state, weights = original_decode(inputs, state, outputs, mask)
        logits = logits.clone()
        logits[0, :, END] = 100.0  # row 0 ends at step 1, the others never
        return logits, state, weights

    model.decode = decode_row0_ends_first
    ids = model.greedy_decode(source, max_len=4).ids
    assert ids[0].tolist() == [END, PAD, PAD, PAD]
    assert (ids[1:] == 5).all()


def test_tiny_overfit_translates_training_dates_exactly():
    """Memorise 16 dates (teacher forcing), then translate all of them free-running."""
    sources, targets = random_dates(16, seed=0)
    source_ids, decoder_inputs, decoder_targets = (torch.as_tensor(a) for a in encode_dates(sources, targets))
    source_vocab, target_vocab = date_vocabs()
    torch.manual_seed(0)
    model = Seq2Seq(len(source_vocab), len(target_vocab), embed_size=8, hidden_size=32)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(80):  # exact from about step 40 on
        optimiser.zero_grad()
        loss = sequence_cross_entropy(model(source_ids, decoder_inputs), decoder_targets)
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.05
    predicted = decode_iso(model.greedy_decode(source_ids, max_len=11).ids.numpy())
    assert exact_match(predicted, targets) == 1.0


def test_sequence_cross_entropy_matches_torch_and_ignores_padding():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 5, generator=generator)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    expected = torch.nn.functional.cross_entropy(logits[targets != 0], targets[targets != 0])
    torch.testing.assert_close(sequence_cross_entropy(logits, targets), expected)
    with pytest.raises(ValueError, match="must agree"):
        sequence_cross_entropy(logits, targets[:, :2])


def test_exact_match():
    assert exact_match(["2026-11-26", "2026-11-27"], ["2026-11-26", "2026-11-28"]) == 0.5
    with pytest.raises(ValueError, match="equal length"):
        exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="non-empty"):
        exact_match([], [])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"cell": "rnn"}, ValueError, "unknown cell"),
        ({"attention": "multiplicative"}, ValueError, "unknown attention"),
        ({"attention": True}, ValueError, "unknown attention"),
        ({"hidden_size": 0}, ValueError, "hidden_size must be an int >= 1"),
        ({"embed_size": 4.0}, TypeError, "embed_size must be an int"),
        ({"end_id": V_TARGET}, ValueError, "end_id must be < its vocabulary size"),
        ({"pad_id": -1}, ValueError, "pad_id must be an int >= 0"),
        ({"feed_context": True}, ValueError, "True only with attention=None"),
        ({"feed_context": 1, "attention": None}, ValueError, "feed_context must be a bool"),
        ({"bidirectional": 1}, ValueError, "bidirectional must be a bool"),
        ({"bidirectional": True, "hidden_size": 7}, ValueError, "even hidden_size .* received .* hidden_size=7"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    options = {"embed_size": 4, "hidden_size": 6} | kwargs
    with pytest.raises(error, match=message):
        Seq2Seq(V_SOURCE, V_TARGET, **options)


def test_bad_call_arguments():
    model = make_model()
    source, decoder_inputs = toy_batch()
    with pytest.raises(TypeError, match="source_ids must be an int64 tensor"):
        model(source.float(), decoder_inputs)
    with pytest.raises(TypeError, match="decoder_inputs must be an int64 tensor"):
        model(source, decoder_inputs.numpy())
    with pytest.raises(TypeError, match="source_ids must be an int64 tensor"):
        model(source[0], decoder_inputs)
    with pytest.raises(ValueError, match="must share B"):
        model(source, decoder_inputs[:2])
    with pytest.raises(ValueError, match="all-padding rows"):
        model(torch.zeros_like(source), decoder_inputs)
    with pytest.raises(ValueError, match="padded at the end"):
        model(source.flip(1), decoder_inputs)  # padding first
    with pytest.raises(ValueError, match="max_len must be an int >= 1"):
        model.greedy_decode(source, max_len=0)


def test_import_rnnlab_does_not_import_seq2seq():
    code = "import sys, rnnlab, rnnlab.data, rnnlab.train; print('rnnlab.seq2seq' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_same_seed_same_model_same_output():
    source, decoder_inputs = toy_batch()
    with torch.no_grad():
        np.testing.assert_array_equal(make_model(seed=3)(source, decoder_inputs).numpy(),
                                      make_model(seed=3)(source, decoder_inputs).numpy())


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention, feed_context", VARIANTS)
def test_padding_never_reaches_the_encoder(attention, feed_context, cell):
    """A row's logits do not depend on extra padding columns or on the other rows of its batch."""
    model = make_model(attention, cell, feed_context=feed_context)
    source, decoder_inputs = toy_batch()
    with torch.no_grad():
        logits = model(source, decoder_inputs)
        wider = model(torch.nn.functional.pad(source, (0, 4), value=PAD), decoder_inputs)
        alone = model(trim_padding(source[2:]), decoder_inputs[2:])  # row 2 by itself, 3 columns
    torch.testing.assert_close(wider, logits)
    torch.testing.assert_close(alone, logits[2:])
    assert trim_padding(source[2:]).shape == (1, 3)


def test_feed_context_gives_the_final_encoder_state_to_every_step():
    """With feed_context the decoder's input is [embedding; h-bar_S]; changing h-bar_S changes every step."""
    model = make_model(None, feed_context=True)
    assert model.decoder.input_size == 4 + 6 and model.head.in_features == 2 * 6
    source, decoder_inputs = toy_batch()
    outputs, state, mask = model.encode(source)
    final = outputs[torch.arange(3), mask.sum(1) - 1]
    torch.testing.assert_close(final, state[0])  # the last real position holds the final state
    with torch.no_grad():
        logits, _, _ = model.decode(decoder_inputs, state, outputs, mask)
        shifted = outputs.clone()
        shifted[torch.arange(3), mask.sum(1) - 1] += 1.0  # a different context, same initial state
        other, _, _ = model.decode(decoder_inputs, state, shifted, mask)
    assert ((other - logits).abs().amax(dim=-1) > 1e-4).all()  # every row, every step


def test_greedy_exact_match_compares_whole_rows_end_included():
    """A row counts only if every token, the end token included, equals the target."""
    data = date_dataset(60, seed=1)
    source_ids, _, decoder_targets = data.train  # 48 rows
    torch.manual_seed(0)
    model = Seq2Seq(len(data.source_vocab), len(data.target_vocab), embed_size=8, hidden_size=16)
    untrained = decode_iso(model.greedy_decode(torch.as_tensor(source_ids), max_len=11).ids.numpy())
    assert greedy_exact_match(model, source_ids, decoder_targets) == exact_match(untrained, data.text.train[1]) == 0.0

    targets = torch.as_tensor(decoder_targets)
    answers = targets.clone()
    answers[:12, 3] = (answers[:12, 3] - 3 + 1) % 10 + 3  # another digit in 12 rows
    answers[12:15, 10] = answers[12, 9]  # no end token in 3 more rows
    model.greedy_decode = lambda source, max_len: Decoded(answers[:, :max_len], None)  # an oracle, corrupted
    assert greedy_exact_match(model, source_ids, decoder_targets) == pytest.approx(1 - 15 / 48)
    model.greedy_decode = lambda source, max_len: Decoded(targets[:, :10], None)  # stops one step short
    assert greedy_exact_match(model, source_ids, decoder_targets) == 0.0


def test_length_buckets_cover_every_example_once_in_sorted_chunks():
    lengths = np.random.default_rng(0).integers(1, 30, size=1000)
    batches = length_buckets(lengths, 32, np.random.default_rng(1), bucket=4)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert sum(len(b) < 32 for b in batches) == 1 and len(batches) == 32
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    unsorted = np.mean([np.ptp(lengths[b]) for b in length_buckets(lengths, 32, np.random.default_rng(1), bucket=1)])
    assert spread < 0.5 * unsorted  # similar lengths in a batch


def test_fit_seq2seq_learns_is_deterministic_and_keeps_the_best_epoch():
    data = date_dataset(400, seed=0, formats=["2026/11/26"])  # the easiest format: digits in ISO order
    source_vocab, target_vocab = data.source_vocab, data.target_vocab

    def train(epochs):
        torch.manual_seed(0)
        model = Seq2Seq(len(source_vocab), len(target_vocab), embed_size=8, hidden_size=24)
        return model, fit_seq2seq(model, data.train, data.val, epochs=epochs, seed=0, batch_size=32,
                                  lr=0.05, keep_epochs=(1,))

    model, history = train(8)
    assert len(history.val_exact_match) == len(history.train_loss) == len(history.val_loss) == 8
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert history.val_exact_match[0] < 0.1 and history.val_exact_match[-1] > 0.9  # it learns, free running
    assert history.val_char_accuracy[-1] > 0.95
    best = history.best_epoch
    assert history.val_exact_match[best - 1] == max(history.val_exact_match)
    assert history.val_exact_match.index(max(history.val_exact_match)) == best - 1  # the first best
    assert greedy_exact_match(model, *data.val[::2]) == history.val_exact_match[best - 1]  # best weights restored
    assert set(history.snapshots) == {1}
    model.load_state_dict(history.snapshots[1])
    assert greedy_exact_match(model, *data.val[::2]) == history.val_exact_match[0]
    _, first = train(2)
    _, again = train(2)
    assert again.train_loss == first.train_loss and again.val_exact_match == first.val_exact_match
    with pytest.raises(TypeError, match="model must be a Seq2Seq"):
        fit_seq2seq(torch.nn.Linear(2, 2), data.train, data.val, epochs=1, seed=0)
    with pytest.raises(ValueError, match="three arrays"):
        fit_seq2seq(model, data.train[:2] + (data.train[2][:5],), data.val, epochs=1, seed=0)


# --- beam search -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def briefly_trained(one_torch_thread):
    """A date model after 15 Adam steps (a second or two) and 8 validation sources, trimmed."""
    data = date_dataset(60, seed=2)
    source_ids, decoder_inputs, decoder_targets = (torch.as_tensor(a) for a in data.train)
    torch.manual_seed(0)
    model = Seq2Seq(len(data.source_vocab), len(data.target_vocab), embed_size=8, hidden_size=16)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(15):
        optimiser.zero_grad()
        sequence_cross_entropy(model(source_ids, decoder_inputs), decoder_targets).backward()
        optimiser.step()
    model.eval()
    return model, trim_padding(torch.as_tensor(data.val[0]))


def markov_model(transitions: dict[int, dict[int, float]]) -> Seq2Seq:
    """A model whose next-token distribution depends only on the previous token: p(y_t | y_{t-1}).

    ``transitions[previous][token]`` = probability; missing entries get 1e-4, rows renormalised.
    """
    table = torch.full((V_TARGET, V_TARGET), 1e-4)
    table[:, END] = 1.0  # after END or PAD: end again (only the decoder's post-end shadow reads it)
    for previous, row in transitions.items():
        table[previous] = 1e-4
        for token, p in row.items():
            table[previous, token] = p
    log_table = (table / table.sum(dim=1, keepdim=True)).log()
    model = make_model(attention=None)
    original_decode = model.decode

    def decode(inputs, state, outputs, mask):
        _, state, weights = original_decode(inputs, state, outputs, mask)
        return log_table[inputs], state, weights  # (B, T, K)

    model.decode = decode
    return model


def test_beam_width_1_is_greedy_decoding_untrained_and_trained(briefly_trained):
    """Same ids and bit-identical attention weights, rows that end early included, any length_penalty."""
    trained, val_source = briefly_trained
    cases = [(trained, val_source, 11)]
    for cell in CELLS:
        for attention, feed_context in VARIANTS:
            cases.append((make_model(attention, cell, feed_context=feed_context), toy_batch(n=4)[0], 8))
    for model, source, max_len in cases:
        greedy = model.greedy_decode(source, max_len=max_len)
        for length_penalty in (0.0, 1.0):
            beam = model.beam_search(source, beam_width=1, max_len=max_len, length_penalty=length_penalty)
            assert isinstance(beam, Decoded) and torch.equal(beam.ids, greedy.ids)
            assert (beam.attention is None) == (greedy.attention is None)
            if greedy.attention is not None:
                assert torch.equal(beam.attention, greedy.attention)
    ends = (trained.greedy_decode(val_source, max_len=11).ids == END).any(dim=1)
    assert ends.any()  # the trained case exercises finished rows


def test_wider_beam_never_scores_below_greedy(briefly_trained):
    """Scored by score_sequences (teacher forcing), for every row, beam width and length penalty."""
    trained, val_source = briefly_trained
    cases = [(trained, val_source, 11)] + [(make_model(attention, cell), toy_batch(n=4)[0], 6)
                                           for cell in CELLS for attention in ATTENTIONS]
    improved = 0
    for model, source, max_len in cases:
        for length_penalty in (0.0, 0.6, 1.0):
            greedy = model.score_sequences(source, model.greedy_decode(source, max_len=max_len).ids,
                                           length_penalty=length_penalty)
            for width in (2, 4):
                ids = model.beam_search(source, beam_width=width, max_len=max_len, length_penalty=length_penalty).ids
                beam = model.score_sequences(source, ids, length_penalty=length_penalty)
                assert (beam >= greedy - 1e-5).all()
                improved += int((beam > greedy + 1e-4).sum())
    assert improved > 0  # and the beam does find better outputs


def test_plain_beam_search_can_lose_to_greedy_and_keep_greedy_prevents_it():
    """Greedy's prefix 3.5 (p = .12) falls out of a 2-beam behind 4.6 and 4.4 (p > .16), which end badly."""
    model = markov_model({
        START: {END: 0.06, 3: 0.40, 4: 0.38, 5: 0.09, 6: 0.07},
        3: {END: 0.15, 3: 0.14, 4: 0.16, 5: 0.30, 6: 0.25},
        4: {END: 0.02, 3: 0.03, 4: 0.44, 5: 0.05, 6: 0.46},
        5: {END: 0.95, 3: 0.02, 4: 0.01, 5: 0.005, 6: 0.015},
        6: {END: 0.10, 3: 0.35, 4: 0.25, 5: 0.12, 6: 0.18},
    })
    source = toy_batch(n=1)[0]
    greedy = model.greedy_decode(source, max_len=6).ids
    assert greedy.tolist() == [[3, 5, END]]
    greedy_score = model.score_sequences(source, greedy)
    plain, plain_score = model.beam_search(source, beam_width=2, max_len=6, keep_greedy=False, return_scores=True)
    assert plain.ids[0, 0] == 4 and plain_score < greedy_score - 0.5
    kept, kept_score = model.beam_search(source, beam_width=2, max_len=6, return_scores=True)
    assert kept.ids.tolist() == greedy.tolist()
    torch.testing.assert_close(kept_score, greedy_score, atol=1e-5, rtol=0)


def test_beam_search_finds_what_greedy_misses_and_length_penalty_ranks_as_documented():
    """Greedy takes 3 (p .5) then ends with p .3; a 2-beam finds 4, END (.4 x .9). With alpha = 1 the
    mean log-probability per token prefers 5, 6, END (.36 x .9 x .9) to ending at once (.45)."""
    myopic = markov_model({START: {3: 0.5, 4: 0.4, 5: 0.05, 6: 0.05}, 3: {END: 0.3, 5: 0.25, 6: 0.25, 3: 0.1, 4: 0.1},
                           4: {END: 0.9, 3: 0.1}})
    source = toy_batch(n=1)[0]
    assert myopic.greedy_decode(source, max_len=5).ids.tolist() == [[3, END]]
    assert myopic.beam_search(source, beam_width=2, max_len=5).ids.tolist() == [[4, END]]

    lengthy = markov_model({START: {END: 0.45, 5: 0.40, 3: 0.05, 4: 0.05, 6: 0.05}, 5: {6: 0.9, 3: 0.1},
                            6: {END: 0.9, 3: 0.1}})
    short, short_score = lengthy.beam_search(source, beam_width=2, max_len=5, return_scores=True)
    assert short.ids.tolist() == [[END]]
    torch.testing.assert_close(short_score, torch.tensor([0.45]).log(), atol=1e-3, rtol=0)  # the plain sum
    long, long_score = lengthy.beam_search(source, beam_width=2, max_len=5, length_penalty=1.0, return_scores=True)
    assert long.ids.tolist() == [[5, 6, END]]
    torch.testing.assert_close(long_score, torch.tensor([0.4 * 0.9 * 0.9]).log() / 3, atol=1e-3, rtol=0)


def test_returned_scores_equal_teacher_forced_scores(briefly_trained):
    """return_scores gives score_sequences of the returned ids to 1e-5, finished or cut at max_len."""
    trained, val_source = briefly_trained
    cases = [(trained, val_source, 11), (trained, val_source, 7)]  # max_len 7: every row is cut
    cases += [(make_model(attention, cell, feed_context=feed_context), toy_batch(n=4)[0], 5)
              for cell in CELLS for attention, feed_context in VARIANTS]
    for model, source, max_len in cases:
        for width, length_penalty, keep_greedy in ((3, 0.0, True), (3, 0.7, False), (4, 1.0, True)):
            decoded, scores = model.beam_search(source, beam_width=width, max_len=max_len, keep_greedy=keep_greedy,
                                                length_penalty=length_penalty, return_scores=True)
            assert scores.shape == (len(source),) and decoded.ids.shape[1] <= max_len
            expected = model.score_sequences(source, decoded.ids, length_penalty=length_penalty)
            torch.testing.assert_close(scores, expected, atol=1e-5, rtol=1e-5)
            ended = (decoded.ids == END).cumsum(dim=1) - (decoded.ids == END).long() > 0
            assert (decoded.ids[ended] == PAD).all()  # pad after each row's end


def test_score_sequences_is_the_teacher_forced_cross_entropy_up_to_the_end_token(briefly_trained):
    trained, _ = briefly_trained
    data = date_dataset(60, seed=2)
    source_ids, decoder_inputs, decoder_targets = (torch.as_tensor(a[:6]) for a in data.val)
    with torch.no_grad():
        scores = trained.score_sequences(source_ids, decoder_targets)
        loss = sequence_cross_entropy(trained(source_ids, decoder_inputs), decoder_targets, ignore_id=PAD)
    tokens = int((decoder_targets != PAD).sum())  # the 10 characters and the end token of each row
    torch.testing.assert_close(-scores.sum() / tokens, loss)
    anything_after_end = decoder_targets.masked_fill(decoder_targets == PAD, 9)
    torch.testing.assert_close(trained.score_sequences(source_ids, anything_after_end), scores)
    normalised = trained.score_sequences(source_ids, decoder_targets, length_penalty=1.0)
    torch.testing.assert_close(normalised, scores / 11)


def test_batched_beam_search_equals_the_per_row_reference(briefly_trained):
    """Plain beam search over the batch gives what a per-row search over Python lists gives."""
    model, source = briefly_trained
    source = source[:4]
    outputs_all = [model.encode(trim_padding(source[i:i + 1])) for i in range(len(source))]
    for width, length_penalty in ((2, 0.0), (3, 1.0)):
        decoded, scores = model.beam_search(source, beam_width=width, max_len=11, length_penalty=length_penalty,
                                            keep_greedy=False, return_scores=True)
        for i, encoded in enumerate(outputs_all):
            tokens, score = reference_beam_search(model, encoded, width, 11, length_penalty)
            assert decoded.ids[i, :len(tokens)].tolist() == tokens
            assert (decoded.ids[i, len(tokens):] == PAD).all()
            assert scores[i].item() == pytest.approx(score, abs=1e-5)


@torch.no_grad()
def reference_beam_search(model, encoded, width, max_len, length_penalty):
    """Beam search of one row as the docstring states it: lists of (tokens, sum log p, ended, state)."""
    outputs, state, mask = encoded

    def rank(total, n):
        return total / n ** length_penalty

    beams = [([], 0.0, False, state)]
    for _ in range(max_len):
        candidates = []
        for tokens, total, ended, state in beams:
            if ended:
                candidates.append((rank(total, len(tokens)), tokens, total, True, state))
                continue
            previous = torch.tensor([[tokens[-1] if tokens else model.start_id]])
            logits, new_state, _ = model.decode(previous, state, outputs, mask)
            for token, log_p in enumerate(torch.log_softmax(logits[0, 0], dim=-1).tolist()):
                candidates.append((rank(total + log_p, len(tokens) + 1), tokens + [token], total + log_p,
                                   token == model.end_id, new_state))
        candidates.sort(key=lambda c: -c[0])
        beams = [c[1:] for c in candidates[:width]]
        if all(ended for _, _, ended, _ in beams):
            break
    tokens, total, _, _ = max(beams, key=lambda b: rank(b[1], len(b[0])))
    return tokens, rank(total, len(tokens))


@pytest.mark.parametrize("keep_greedy", [True, False])
def test_beam_search_does_not_depend_on_the_rest_of_the_batch(briefly_trained, keep_greedy):
    """Each source decoded alone (and trimmed) gives the ids, scores and attention it gets in the batch."""
    model, source = briefly_trained
    together, scores = model.beam_search(source, beam_width=3, max_len=11, keep_greedy=keep_greedy,
                                         return_scores=True)
    for i in range(len(source)):
        row = trim_padding(source[i:i + 1])
        alone, score = model.beam_search(row, beam_width=3, max_len=11, keep_greedy=keep_greedy, return_scores=True)
        length = alone.ids.shape[1]
        assert torch.equal(alone.ids[0], together.ids[i, :length]) and (together.ids[i, length:] == PAD).all()
        torch.testing.assert_close(score, scores[i:i + 1], atol=1e-5, rtol=0)
        torch.testing.assert_close(alone.attention[0], together.attention[i, :length, :row.shape[1]])
        assert (together.attention[i, :length, row.shape[1]:] == 0).all()  # padding gets no weight


def test_beam_search_stops_when_every_hypothesis_ends_or_at_max_len():
    model = make_model()
    source, _ = toy_batch()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[END] = 10.0
    assert model.beam_search(source, beam_width=3).ids.tolist() == [[END]] * 3
    with torch.no_grad():
        model.head.bias[END] = -10.0
    assert model.beam_search(source, beam_width=3, max_len=4).ids.shape == (3, 4)
    assert model.beam_search(source, beam_width=3).ids.shape == (3, 2 * 5 + 10)  # None: 2 S' + 10


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"beam_width": 0}, ValueError, "beam_width must be an int >= 1, received 0"),
        ({"beam_width": 2.0}, TypeError, "beam_width must be an int, received float"),
        ({"beam_width": V_TARGET + 1}, ValueError, f"beam_width must be <= the target vocabulary size K={V_TARGET}"),
        ({"max_len": 0}, ValueError, "max_len must be an int >= 1, received 0"),
        ({"length_penalty": -0.5}, ValueError, r"length_penalty must be a finite number >= 0.0, received -0.5"),
        ({"length_penalty": float("nan")}, ValueError, "length_penalty must be a finite number"),
        ({"length_penalty": "1"}, TypeError, "length_penalty must be a real number"),
        ({"return_scores": 1}, ValueError, "return_scores must be a bool, received 1"),
        ({"keep_greedy": None}, ValueError, "keep_greedy must be a bool, received None"),
    ],
)
def test_bad_beam_search_arguments(kwargs, error, message):
    model = make_model()
    source, _ = toy_batch()
    with pytest.raises(error, match=message):
        model.beam_search(source, **kwargs)


def test_bad_score_sequences_arguments():
    model = make_model()
    source, decoder_inputs = toy_batch()
    with pytest.raises(TypeError, match="source_ids must be an int64 tensor"):
        model.beam_search(source.float())
    with pytest.raises(TypeError, match="target_ids must be an int64 tensor"):
        model.score_sequences(source, decoder_inputs.float())
    with pytest.raises(ValueError, match="must share B, received 3 and 2"):
        model.score_sequences(source, decoder_inputs[:2])
    bad = decoder_inputs.clone()
    bad[0, 0] = V_TARGET
    with pytest.raises(ValueError, match=f"token ids in 0..{V_TARGET - 1}, received {V_TARGET}"):
        model.score_sequences(source, bad)
    bad[0, 0] = END  # out-of-range ids after the end token are ignored
    model.score_sequences(source, bad)
    with pytest.raises(ValueError, match=r"length_penalty must be a finite number >= 0\.0"):
        model.score_sequences(source, decoder_inputs, length_penalty=-1.0)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention, feed_context", VARIANTS)
def test_bidirectional_encoder_reads_each_row_both_ways_and_skips_padding(attention, feed_context, cell):
    """H/2 units each way; the state is [forward at the last real token; backward at the first]."""
    model = make_model(attention, cell, feed_context=feed_context, bidirectional=True)
    assert model.encoder.bidirectional and model.encoder.hidden_size == 3
    source, decoder_inputs = toy_batch()
    outputs, state, mask = model.encode(source)
    h = state[0] if cell == "lstm" else state
    assert outputs.shape == (3, 5, 6) and h.shape == (1, 3, 6)
    last = mask.sum(1) - 1
    torch.testing.assert_close(h[0, :, :3], outputs[torch.arange(3), last, :3])  # forward, after the end
    torch.testing.assert_close(h[0, :, 3:], outputs[:, 0, 3:])                   # backward, after x_1
    assert (outputs[~mask] == 0).all()
    # the backward half at position 0 of row 2 (3 real tokens) is a GRU run over them reversed
    if cell == "gru":
        reverse = torch.nn.GRU(4, 3, batch_first=True)
        reverse.load_state_dict({name.replace("_reverse", ""): value for name, value in
                                 model.encoder.state_dict().items() if name.endswith("_reverse")})
        with torch.no_grad():
            _, h_back = reverse(model.source_embedding(source[2:, :3].flip(1)))
        torch.testing.assert_close(h_back[0, 0], outputs[2, 0, 3:])
    with torch.no_grad():
        logits = model(source, decoder_inputs)
        wider = model(torch.nn.functional.pad(source, (0, 4), value=PAD), decoder_inputs)
        alone = model(trim_padding(source[2:]), decoder_inputs[2:])
    torch.testing.assert_close(wider, logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(alone, logits[2:], rtol=0, atol=1e-6)


def test_bidirectional_model_trains_decodes_and_beam_searches():
    data = date_dataset(300, seed=1)
    source_vocab, target_vocab = date_vocabs()
    torch.manual_seed(0)
    model = Seq2Seq(len(source_vocab), len(target_vocab), embed_size=8, hidden_size=16, bidirectional=True)
    history = fit_seq2seq(model, data.train, data.val, epochs=2, seed=0, lr=0.02)
    assert history.train_loss[1] < history.train_loss[0]
    source = trim_padding(torch.as_tensor(data.val[0][:8]))
    greedy = model.greedy_decode(source, max_len=11)
    assert model.beam_search(source, beam_width=1, max_len=11).ids.tolist() == greedy.ids.tolist()
    beam, scores = model.beam_search(source, beam_width=3, max_len=11, return_scores=True)
    torch.testing.assert_close(scores, model.score_sequences(source, beam.ids), rtol=1e-5, atol=1e-5)
