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
