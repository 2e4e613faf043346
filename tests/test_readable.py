"""The readable one-step LSTM/GRU functions agree with rnnlab.scratch and with finite differences."""

import numpy as np
import pytest

from rnnlab import readable, scratch
from rnnlab.scratch.gradcheck import numerical_gradient

B, T, D, H = 3, 5, 4, 6


def _lstm_run(x, p, dout):
    hs, cs, caches = [np.zeros((B, H))], [np.zeros((B, H))], []
    for t in range(T):
        h, c, cache = readable.lstm_step(x[:, t], hs[-1], cs[-1], p)
        hs.append(h), cs.append(c), caches.append(cache)
    loss = float(np.sum(np.stack(hs[1:], axis=1) * dout))
    dh, dc = np.zeros((B, H)), np.zeros((B, H))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    for t in reversed(range(T)):
        dx[:, t], dh, dc, g = readable.lstm_step_backward(dh + dout[:, t], dc, caches[t], p)
        for k in grads:
            grads[k] += g[k]
    return loss, np.stack(hs[1:], axis=1), grads, dx


def _gru_run(x, p, dout):
    hs, caches = [np.zeros((B, H))], []
    for t in range(T):
        h, cache = readable.gru_step(x[:, t], hs[-1], p)
        hs.append(h), caches.append(cache)
    loss = float(np.sum(np.stack(hs[1:], axis=1) * dout))
    dh = np.zeros((B, H))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    for t in reversed(range(T)):
        dx[:, t], dh, g = readable.gru_step_backward(dh + dout[:, t], caches[t], p)
        for k in grads:
            grads[k] += g[k]
    return loss, np.stack(hs[1:], axis=1), grads, dx


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, T, H))


def test_sigmoid():
    a = np.linspace(-5, 5, 11)
    assert np.allclose(readable.sigmoid(a), 0.5 * np.tanh(a / 2) + 0.5)


def test_lstm_matches_scratch(data):
    x, dout = data
    net = scratch.LSTM(D, H, seed=1, dtype=np.float64)
    net.params["b0"][:] = np.random.default_rng(2).uniform(-0.5, 0.5, 4 * H)
    p = readable.lstm_params(net.params["W0"], net.params["U0"], net.params["b0"])
    assert set(p) == {f"{k}_{g}" for k in "WUb" for g in "ifco"} and p["W_f"].shape == (D, H)
    _, out, grads, dx = _lstm_run(x, p, dout)
    out_pkg, _ = net(x)
    dx_pkg, _ = net.backward(dout)
    assert np.allclose(out, out_pkg) and np.allclose(dx, dx_pkg)
    fused = readable.lstm_params(net.grads["W0"], net.grads["U0"], net.grads["b0"])
    for k in p:
        assert np.allclose(grads[k], fused[k]), k


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_finite_differences(cell, data):
    x, dout = data
    rng = np.random.default_rng(3)
    if cell == "lstm":
        p = {f"{k}_{g}": 0.5 * rng.standard_normal(shape) for g in "ifco"
             for k, shape in (("W", (D, H)), ("U", (H, H)), ("b", (H,)))}
        run = _lstm_run
    else:
        p = {f"{k}_{g}": 0.5 * rng.standard_normal(shape) for g in "zrh"
             for k, shape in (("W", (D, H)), ("U", (H, H)), ("b", (H,)), ("bU", (H,)))}
        run = _gru_run
    _, _, grads, dx = run(x, p, dout)
    for k in p:
        num = numerical_gradient(lambda: run(x, p, dout)[0], p[k])
        assert np.allclose(grads[k], num, rtol=1e-6, atol=1e-8), k
    num_x = numerical_gradient(lambda: run(x, p, dout)[0], x)
    assert np.allclose(dx, num_x, rtol=1e-6, atol=1e-8)


def test_gru_matches_scratch(data):
    x, dout = data
    net = scratch.GRU(D, H, seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    net.params["b0"][:] = rng.uniform(-0.5, 0.5, 3 * H)
    net.params["bU0"][:] = rng.uniform(-0.5, 0.5, 3 * H)
    p = readable.gru_params(*(net.params[k] for k in ("W0", "U0", "b0", "bU0")))
    _, out, grads, dx = _gru_run(x, p, dout)
    out_pkg, _ = net(x)
    dx_pkg, _ = net.backward(dout)
    assert np.allclose(out, out_pkg) and np.allclose(dx, dx_pkg)
    fused = readable.gru_params(*(net.grads[k] for k in ("W0", "U0", "b0", "bU0")))
    for k in p:
        assert np.allclose(grads[k], fused[k]), k


def test_params_are_copies():
    W, U, b = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    p = readable.lstm_params(W, U, b)
    p["W_i"][:] = 1.0
    assert W.sum() == 0.0
