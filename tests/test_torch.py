"""rnnlab.torch: exact weight transfer between scratch models and their torch.nn twins.

The three-way equality of outputs and gradients lives in test_twins.py; this file covers what
is PyTorch's own: round trips, its two biases, initial states, devices and refusals.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scratch_helpers import TORCH_CELL_IDS, TORCH_CELLS  # noqa: E402

from rnnlab import scratch  # noqa: E402
from rnnlab import torch as rt  # noqa: E402

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


def assert_params_equal(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, options", TORCH_CELLS, ids=TORCH_CELL_IDS)
def test_round_trip_is_exact(kind, options, num_layers, dtype):
    model = scratch.CELLS[kind](3, 4, num_layers, seed=0, dtype=dtype, **options)
    twin = rt.to_torch(model)
    assert type(twin) is {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    assert twin.batch_first and twin.num_layers == num_layers and twin.hidden_size == 4
    assert twin.weight_ih_l0.dtype == {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    if kind == "rnn":
        assert twin.nonlinearity == options.get("nonlinearity", "tanh")
    back = rt.from_torch(twin)
    assert type(back) is type(model)
    assert_params_equal(back.params, model.params)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_from_torch_keeps_both_biases_and_the_initial_state(kind):
    """A torch module with nonzero b_hh, run from a nonzero state, gradient to that state."""
    torch.manual_seed(0)
    twin = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        3, 4, 2, batch_first=True, dtype=torch.float64
    )
    model = rt.from_torch(twin)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 3))
    h0 = [rng.normal(size=(2, 2, 4)) for _ in range(2 if kind == "lstm" else 1)]
    dout = rng.normal(size=(2, 5, 4))
    out, _ = model(x, tuple(h0) if kind == "lstm" else h0[0])
    _, dstate0 = model.backward(dout)

    h0_t = [torch.tensor(h, requires_grad=True) for h in h0]
    out_t, _ = twin(torch.from_numpy(x), tuple(h0_t) if kind == "lstm" else h0_t[0])
    (out_t * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-12)
    dstate0 = list(dstate0) if kind == "lstm" else [dstate0]
    for got, h in zip(dstate0, h0_t):
        np.testing.assert_allclose(got, h.grad.numpy(), rtol=0, atol=1e-12)
    # And back: the same function, though the RNN/LSTM biases now sit in b_ih alone.
    again, _ = rt.to_torch(model)(torch.from_numpy(x))
    np.testing.assert_allclose(again.detach().numpy(), twin(torch.from_numpy(x))[0].detach().numpy(), atol=1e-12)


def test_handles_bias_false_and_time_major_modules():
    twin = torch.nn.GRU(3, 4, 2, bias=False, batch_first=False, dtype=torch.float64)
    model = rt.from_torch(twin)
    assert all(not model.params[f"{key}{layer}"].any() for key in ("b", "bU") for layer in (0, 1))
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    expected, _ = twin(torch.from_numpy(x).transpose(0, 1))  # (T, B, ·) in, (T, B, H) out
    np.testing.assert_allclose(model(x)[0], expected.transpose(0, 1).detach().numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "module, message",
    [
        (torch.nn.LSTM(3, 4, proj_size=2), "proj_size"),
        (torch.nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2), "proj_size"),
        (torch.nn.RNN(3, 4, dtype=torch.float16), "float32 or float64"),
        (torch.nn.Linear(3, 4), "got Linear"),
    ],
    ids=["proj_size", "bidirectional-proj_size", "float16", "not-recurrent"],
)
def test_from_torch_refuses_what_scratch_lacks(module, message):
    with pytest.raises(ValueError, match=message):
        rt.from_torch(module)


def test_to_torch_refuses_a_reset_before_gru_and_strangers():
    with pytest.raises(ValueError, match="reset_after=False"):
        rt.to_torch(scratch.GRU(3, 4, reset_after=False))
    with pytest.raises(ValueError, match="reset_after=False"):
        rt.SequenceClassifier(3, 4, 2, cell="gru", reset_after=False)
    with pytest.raises(ValueError, match="got Linear"):
        rt.to_torch(scratch.Linear(3, 4))
    with pytest.raises(ValueError, match="'rnn', 'lstm' or 'gru'"):
        rt.make_rnn("transformer", 3, 4)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_classifier_twin(kind):
    model = scratch.SequenceClassifier(3, 4, 5, cell=kind, num_layers=2, seed=1, dtype=np.float64)
    twin = rt.to_torch(model)
    assert isinstance(twin, rt.SequenceClassifier)
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), model(x), rtol=0, atol=1e-12)
    back = rt.from_torch(twin)
    assert isinstance(back, scratch.SequenceClassifier)
    assert_params_equal(back.params, model.params)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_language_model_twin(kind):
    model = scratch.LanguageModel(7, 3, 4, cell=kind, num_layers=2, seed=1, dtype=np.float64)
    twin = rt.to_torch(model)
    assert isinstance(twin, rt.LanguageModel)
    ids = np.random.default_rng(0).integers(0, 7, size=(2, 6))
    logits, state = model(ids)
    logits_t, state_t = twin(torch.from_numpy(ids))
    np.testing.assert_allclose(logits_t.detach().numpy(), logits, rtol=0, atol=1e-12)
    for got, expected in zip(state_t if kind == "lstm" else [state_t], state if kind == "lstm" else [state]):
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=0, atol=1e-12)
    assert_params_equal(rt.from_torch(twin).params, model.params)


@pytest.mark.parametrize("device", DEVICES)
def test_twin_runs_on_the_requested_device(device):
    # float64: a GPU may run float32 cuDNN RNNs in TF32, which is not the same arithmetic.
    model = scratch.SequenceClassifier(3, 4, 2, cell="lstm", seed=0, dtype=np.float64)
    twin = rt.to_torch(model, device=device)
    assert all(p.device.type == device for p in twin.parameters())
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    logits = twin(torch.from_numpy(x).to(device)).detach().cpu().numpy()
    np.testing.assert_allclose(logits, model(x), rtol=0, atol=1e-10)
    assert_params_equal(rt.from_torch(twin).params, model.params)


@pytest.mark.parametrize("kind, options", TORCH_CELLS, ids=TORCH_CELL_IDS)
def test_bidirectional_and_dropout_round_trip(kind, options):
    """Bidirectional stacks with dropout convert both ways: the *_reverse weights, the rate, the mode."""
    model = scratch.CELLS[kind](3, 4, 2, bidirectional=True, dropout=0.3, seed=0, dtype=np.float64, **options)
    model.eval()
    twin = rt.to_torch(model)
    assert twin.bidirectional and twin.dropout == 0.3 and not twin.training
    assert "weight_hh_l1_reverse" in dict(twin.named_parameters())
    back = rt.from_torch(twin)
    assert back.bidirectional and back.dropout == 0.3 and not back.training
    assert_params_equal(back.params, model.params)
    twin.train()
    assert rt.from_torch(twin).training


def test_from_torch_accepts_what_it_used_to_refuse():
    """bidirectional=True and dropout > 0 were refused before scratch had them."""
    back = rt.from_torch(torch.nn.GRU(3, 4, 2, dropout=0.5, bidirectional=True))
    assert isinstance(back, scratch.GRU) and back.bidirectional and back.dropout == 0.5


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_composite_twins_take_lengths(kind, bidirectional):
    lengths = np.array([2, 6, 1])
    rng = np.random.default_rng(0)
    clf = scratch.SequenceClassifier(3, 4, 5, cell=kind, num_layers=2, bidirectional=bidirectional,
                                     dropout=0.2, seed=1, dtype=np.float64).eval()
    x = rng.normal(size=(3, 6, 3))
    twin = rt.to_torch(clf)
    np.testing.assert_allclose(twin(torch.from_numpy(x), lengths).detach().numpy(), clf(x, lengths=lengths),
                               rtol=0, atol=1e-12)
    lm = scratch.LanguageModel(7, 3, 4, cell=kind, num_layers=2, bidirectional=bidirectional, padding_idx=0,
                               seed=1, dtype=np.float64)
    ids = rng.integers(1, 7, size=(3, 6))
    ids[np.arange(6)[None, :] >= lengths[:, None]] = 0
    logits, state = lm(ids, lengths=lengths)
    twin = rt.to_torch(lm)
    assert twin.embedding.padding_idx == 0
    logits_t, state_t = twin(torch.from_numpy(ids), lengths=torch.from_numpy(lengths))
    np.testing.assert_allclose(logits_t.detach().numpy(), logits, rtol=0, atol=1e-12)
    for got, expected in zip(state_t if kind == "lstm" else [state_t], state if kind == "lstm" else [state]):
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=0, atol=1e-12)
    back = rt.from_torch(twin)
    assert back.embedding.padding_idx == 0 and back.rnn.bidirectional == bidirectional
    assert_params_equal(back.params, lm.params)
