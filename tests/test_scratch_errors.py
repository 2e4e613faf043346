"""Bad input gets a clear error that names what was expected and what was received."""

from __future__ import annotations

import numpy as np
import pytest
from scratch_helpers import CELL_IDS, CELL_SPECS

from rnnlab import scratch


@pytest.fixture(params=CELL_SPECS, ids=CELL_IDS)
def model(request):
    _, cell, kwargs = request.param
    return cell(3, 4, 2, seed=0, **kwargs)


def test_input_must_be_three_dimensional(model):
    with pytest.raises(ValueError, match=r"3-D.*got 2-D array of shape \(5, 3\)"):
        model(np.zeros((5, 3)))


def test_input_last_dimension_must_be_input_size(model):
    with pytest.raises(ValueError, match=r"\(batch, time, 3\), got \(2, 5, 7\)"):
        model(np.zeros((2, 5, 7)))


def test_empty_sequences_are_refused(model):
    with pytest.raises(ValueError, match="at least one"):
        model(np.zeros((2, 0, 3)))


def test_wrong_initial_state_shape(model):
    bad = np.zeros((1, 2, 4))
    state = (bad, bad) if isinstance(model, scratch.LSTM) else bad
    with pytest.raises(ValueError, match=r"shape \(2, 2, 4\), got \(1, 2, 4\)"):
        model(np.zeros((2, 5, 3)), state)


def test_lstm_state_must_be_a_pair():
    lstm = scratch.LSTM(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"tuple \(h, c\)"):
        lstm(np.zeros((2, 5, 3)), np.zeros((1, 2, 4)))


@pytest.mark.parametrize("bad", [np.array([[["a", "b", "c"]]]), np.zeros((1, 2, 3), dtype=complex), [[[None] * 3]]])
def test_non_numeric_input(model, bad):
    with pytest.raises(TypeError, match="real numbers"):
        model(bad)


def test_backward_before_forward(model):
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.zeros((2, 5, 4)))


def test_backward_with_wrong_dout_modifies_nothing(model):
    out, _ = model(np.ones((2, 5, 3)))
    before = {key: grad.copy() for key, grad in model.grads.items()}
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 5, 4\), got \(2, 4, 4\)"):
        model.backward(np.ones((2, 4, 4)))
    for key, grad in model.grads.items():
        np.testing.assert_array_equal(grad, before[key])
    model.backward(np.ones_like(out))  # the graph is still usable


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_size": 0}, ValueError, "input_size must be an int >= 1, received 0"),
        ({"hidden_size": 2.5}, TypeError, "hidden_size must be an int, received float"),
        ({"num_layers": -1}, ValueError, "num_layers must be an int >= 1, received -1"),
        ({"seed": 1.5}, TypeError, "seed must be an int, received float"),
        ({"dtype": np.int32}, TypeError, "dtype must be float32 or float64, got int32"),
    ],
)
def test_constructor_arguments(kwargs, error, message):
    arguments = {"input_size": 3, "hidden_size": 4, **kwargs}
    with pytest.raises(error, match=message):
        scratch.LSTM(**arguments)


def test_unknown_options():
    with pytest.raises(ValueError, match=r"nonlinearity must be one of \('tanh', 'relu'\), got 'sigmoid'"):
        scratch.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="cell must be one of"):
        scratch.SequenceClassifier(3, 4, 2, cell="transformer")
    with pytest.raises(TypeError, match="reset_after must be a bool"):
        scratch.GRU(3, 4, reset_after="yes")


def test_layer_and_loss_errors():
    linear = scratch.Linear(4, 2)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\), got \(3, 5\)"):
        linear(np.zeros((3, 5)))
    embedding = scratch.Embedding(5, 2)
    with pytest.raises(ValueError, match=r"\[0, 5\), got values from 0 to 5"):
        embedding(np.array([0, 5]))
    with pytest.raises(TypeError, match="integers"):
        embedding(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\)"):
        scratch.softmax_cross_entropy(np.zeros((3, 4)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="target must have the shape"):
        scratch.mse(np.zeros(3), np.zeros(4))


def test_optimizer_errors():
    params = {"w": np.zeros(3)}
    with pytest.raises(ValueError, match="lr must be a positive"):
        scratch.SGD(params, lr=-1.0)
    with pytest.raises(ValueError, match=r"missing \['w'\], unexpected \['v'\]"):
        scratch.Adam(params).step({"v": np.zeros(3)})
    with pytest.raises(ValueError, match=r"gradient 'w' must have shape \(3,\), got \(2,\)"):
        scratch.SGD(params, lr=0.1).step({"w": np.zeros(2)})
    with pytest.raises(ValueError, match="max_norm must be positive"):
        scratch.clip_grad_norm({"w": np.zeros(3)}, 0.0)
