"""rnnlab.seq2seq: shapes, teacher forcing vs free running, greedy termination, a tiny overfit, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnlab.data import date_vocabs, decode_iso, encode_dates, random_dates  # noqa: E402
from rnnlab.seq2seq import ATTENTIONS, CELLS, Seq2Seq, exact_match, sequence_cross_entropy  # noqa: E402

V_SOURCE, V_TARGET, PAD, START, END = 9, 7, 0, 1, 2


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_model(attention="additive", cell="gru", seed=0, **kwargs) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(V_SOURCE, V_TARGET, embed_size=4, hidden_size=6, cell=cell, attention=attention, **kwargs)


def toy_batch(n=3, source_len=5, target_len=4, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-padded source ids (row i has i pads) and decoder inputs starting with START."""
    generator = torch.Generator().manual_seed(seed)
    source = torch.randint(3, V_SOURCE, (n, source_len), generator=generator)
    for i in range(n):
        source[i, :i] = PAD
    decoder_inputs = torch.randint(3, V_TARGET, (n, target_len), generator=generator)
    decoder_inputs[:, 0] = START
    return source, decoder_inputs


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_shapes_and_attention_weights(attention, cell):
    model = make_model(attention, cell)
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


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_teacher_forcing_reproduces_free_running_when_fed_its_own_output(attention):
    """forward() with the greedy tokens as inputs gives the greedy choices; other inputs change them."""
    model = make_model(attention)
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
    with pytest.raises(ValueError, match="must share N"):
        model(source, decoder_inputs[:2])
    with pytest.raises(ValueError, match="all-padding rows"):
        model(torch.zeros_like(source), decoder_inputs)
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
