"""Tests for rnnlab.modern_torch: loop vs parallel forms, vs the NumPy equations, gradients, layers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnlab import modern_torch as mt  # noqa: E402
from rnnlab.recall import mqar  # noqa: E402

B, T, DK, DV, N = 2, 7, 3, 4, 3


def _inputs(seed=0):
    g = np.random.default_rng(seed)
    k = g.standard_normal((B, T, DK))
    return dict(
        q=g.standard_normal((B, T, DK)), k=k / np.linalg.norm(k, axis=-1, keepdims=True),
        v=g.standard_normal((B, T, DV)), beta=g.uniform(0.1, 1.0, (B, T)), decay=g.uniform(0.5, 1.0, (B, T)),
        x=g.standard_normal((B, T, DV)), delta=g.uniform(0.05, 1.0, (B, T, DV)),
        A=-g.uniform(0.5, 3.0, (DV, N)), Bm=g.standard_normal((B, T, N)), C=g.standard_normal((B, T, N)),
        D=g.standard_normal(DV), z=g.uniform(0.05, 0.95, (B, T, DV)),
    )


# The issue's equations as plain NumPy loops: the definitions the torch code must match.
def np_linear_attention(q, k, v, decay):
    S, out = np.zeros((B, DK, DV)), []
    for t in range(T):
        S = decay[:, t, None, None] * S + k[:, t, :, None] * v[:, t, None, :]
        out.append(np.einsum("bk,bkv->bv", q[:, t], S))
    return np.stack(out, 1)


def np_delta_rule(q, k, v, beta, decay):
    S, out, eye = np.zeros((B, DK, DV)), [], np.eye(DK)
    for t in range(T):
        kk = k[:, t, :, None] * k[:, t, None, :]
        S = decay[:, t, None, None] * (eye - beta[:, t, None, None] * kk) @ S \
            + beta[:, t, None, None] * k[:, t, :, None] * v[:, t, None, :]
        out.append(np.einsum("bk,bkv->bv", q[:, t], S))
    return np.stack(out, 1)


def np_selective_scan(x, delta, A, Bm, C, D):
    h, out = np.zeros((B, DV, N)), []
    for t in range(T):
        h = np.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * x[:, t])[:, :, None] * Bm[:, t, None, :]
        out.append(np.einsum("bdn,bn->bd", h, C[:, t]) + D * x[:, t])
    return np.stack(out, 1)


def _t(a):
    return torch.tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("mode", ["recurrent", "parallel"])
@pytest.mark.parametrize("gated", [False, True])
def test_matches_issue_equations(mode, gated):
    i = _inputs()
    decay = i["decay"] if gated else np.ones((B, T))
    la = mt.linear_attention(_t(i["q"]), _t(i["k"]), _t(i["v"]), _t(decay) if gated else None, mode=mode)
    dr = mt.delta_rule(_t(i["q"]), _t(i["k"]), _t(i["v"]), _t(i["beta"]), _t(decay) if gated else None, mode=mode)
    assert np.abs(la.numpy() - np_linear_attention(i["q"], i["k"], i["v"], decay)).max() < 1e-10
    assert np.abs(dr.numpy() - np_delta_rule(i["q"], i["k"], i["v"], i["beta"], decay)).max() < 1e-10
    ss = mt.selective_scan(*(_t(i[n]) for n in ("x", "delta", "A", "Bm", "C", "D")), mode=mode)
    assert np.abs(ss.numpy() - np_selective_scan(i["x"], i["delta"], i["A"], i["Bm"], i["C"], i["D"])).max() < 1e-10
    h_tilde = i["x"]
    mg = mt.min_gru(_t(i["z"]), _t(h_tilde), mode=mode)
    h, ref = np.zeros((B, DV)), []
    for t in range(T):
        h = (1 - i["z"][:, t]) * h + i["z"][:, t] * h_tilde[:, t]
        ref.append(h)
    assert np.abs(mg.numpy() - np.stack(ref, 1)).max() < 1e-10


def test_matches_rnnlab_modern():
    modern = pytest.importorskip("rnnlab.modern")
    i = _inputs(1)
    for decay in (None, i["decay"]):
        d_t = None if decay is None else _t(decay)
        ref = modern.linear_attention(i["q"], i["k"], i["v"], decay=decay)
        assert np.abs(mt.linear_attention(_t(i["q"]), _t(i["k"]), _t(i["v"]), d_t, mode="parallel").numpy() - ref).max() < 1e-10
        ref = modern.delta_rule(i["q"], i["k"], i["v"], i["beta"], decay=decay)
        out = mt.delta_rule(_t(i["q"]), _t(i["k"]), _t(i["v"]), _t(i["beta"]), d_t, mode="parallel")
        assert np.abs(out.numpy() - ref).max() < 1e-10
    ref = modern.selective_scan(i["x"], i["delta"], i["A"], i["Bm"], i["C"], i["D"])
    out = mt.selective_scan(*(_t(i[n]) for n in ("x", "delta", "A", "Bm", "C", "D")), mode="parallel")
    assert np.abs(out.numpy() - ref).max() < 1e-10


CASES = {
    "linear_attention": (lambda q, k, v, beta, decay, mode: mt.linear_attention(q, k, v, decay, mode=mode)),
    "delta_rule": (lambda q, k, v, beta, decay, mode: mt.delta_rule(q, k, v, beta, decay, mode=mode)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients(name):
    i = _inputs(2)
    args = [_t(i[n]).requires_grad_() for n in ("q", "k", "v", "beta", "decay")]
    for mode in ("recurrent", "parallel"):
        assert torch.autograd.gradcheck(lambda *a, mode=mode: CASES[name](*a, mode=mode), args)
    # the parallel form's gradients equal autograd through the loop
    grads = [torch.autograd.grad(CASES[name](*args, mode=m).sum(), args, allow_unused=True)
             for m in ("recurrent", "parallel")]
    for a, b in zip(*grads):                       # beta is unused by linear attention: None in both
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-10)


def test_gradients_scan_and_min_gru():
    i = _inputs(3)
    ss_args = [_t(i[n]).requires_grad_() for n in ("x", "delta", "A", "Bm", "C", "D")]
    mg_args = [_t(i["z"]).requires_grad_(), _t(i["x"]).requires_grad_()]
    for mode in ("recurrent", "parallel"):
        assert torch.autograd.gradcheck(lambda *a, mode=mode: mt.selective_scan(*a, mode=mode), ss_args)
        assert torch.autograd.gradcheck(lambda *a, mode=mode: mt.min_gru(*a, mode=mode), mg_args)


def test_bad_shapes_and_modes():
    q = torch.zeros(2, 5, 3)
    with pytest.raises(ValueError, match=r"q \(2, 5, 3\), k \(2, 4, 3\)"):
        mt.linear_attention(q, torch.zeros(2, 4, 3), torch.zeros(2, 5, 2))
    with pytest.raises(ValueError, match=r"beta must be of shape \(B, T\) = \(2, 5\), received \(2, 4\)"):
        mt.delta_rule(q, q, q, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="mode must be 'recurrent' or 'parallel', received 'scan'"):
        mt.linear_attention(q, q, q, mode="scan")
    with pytest.raises(ValueError, match="mixer must be one of"):
        mt.RecallModel("transformer", 16, 8, 4)


@pytest.mark.parametrize("name", sorted(mt.MIXERS))
def test_layers_run_and_modes_agree(name):
    torch.manual_seed(0)
    model = mt.RecallModel(name, 16, 8, 4).double()
    tokens = torch.as_tensor(mqar(3, 10, 3, 16, seed=0).tokens)
    logits = model(tokens)
    assert logits.shape == (3, 10, 16) and torch.isfinite(logits).all()
    mixer = model.mixers[0]
    if hasattr(mixer, "mode"):
        other = {"recurrent": "parallel", "parallel": "recurrent"}[mixer.mode]
        mixer.mode = other
        assert torch.allclose(model(tokens), logits, atol=1e-10)
    expected = {"LSTM": 8, "GRU": 4, "minGRU": 4, "selective SSM": 32, "attention": 10 * 16}.get(name, 4 * 8)
    assert model.state_floats(10) == expected


def test_attention_is_causal():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 6, 4).unbind(0)
    out = mt.causal_attention(q, k, v)
    v2 = v.clone()
    v2[:, 3:] += 1.0                                       # change the future
    assert torch.equal(mt.causal_attention(q, k, v2)[:, :3], out[:, :3])


def test_training_reduces_loss():
    torch.manual_seed(0)
    model = mt.RecallModel("attention", 16, 16, 4)
    losses = mt.train_recall(model, lambda s: mqar(16, 10, 3, 16, seed=s), steps=30, lr=1e-2)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert 0.0 <= mt.recall_accuracy(model, mqar(16, 10, 3, 16, seed=99)) <= 1.0
