"""PyTorch versions of the modern recurrences that the recall benchmark trains, and a tiny model.

The functions compute the same recurrences as :mod:`rnnlab.modern` (row vectors, states
``S: (dk, dv)`` or ``h: (D, N)``), each as a step-by-step loop (``mode="recurrent"``, the
definition) and as a parallel form (``mode="parallel"``: masked matrices over the whole sequence,
O(T²) memory, which is what the layers use to train at the book's T <= 64). Each has a layer
(``nn.Module``, (B, T, d) -> (B, T, d)) that computes its inputs from projections:

* ``linear_attention``: S_t = γ_t S_{t-1} + k_tᵀ v_t, o_t = q_t S_t (Katharopoulos et al. 2020;
  with a data-dependent decay γ_t, the gated form of GLA / Mamba-2 style models).
* ``delta_rule``: S_t = γ_t (I - β_t k_tᵀ k_t) S_{t-1} + β_t k_tᵀ v_t (DeltaNet, Schlag et al. 2021
  and Yang et al. 2024; with γ_t, Gated DeltaNet, Yang et al. 2025). Keys and queries are
  L2-normalised in the layer, as in those papers: with ‖k_t‖ = 1 and β_t ∈ (0, 1] the factor
  (I - β_t k_tᵀ k_t) has eigenvalues in [0, 1], so the state cannot blow up.
* ``selective_scan``: Mamba's S6, h_t = exp(Δ_t A) ∘ h_{t-1} + (Δ_t x_t)ᵀ B_t, y_t = h_t C_t + D x_t
  (Gu and Dao 2023).
* ``min_gru``: h_t = (1 - z_t) ∘ h_{t-1} + z_t ∘ h̃_t (Feng et al. 2024).
* ``causal_attention``: one softmax-attention head with a causal mask, the reference.

``RecallModel`` wraps one of them: embedding, a width-2 causal convolution over the embeddings
(the short convolution that Mamba and DeltaNet put before their mixers, so that a value's
position also sees its key), then ``num_layers`` residual blocks (pre-norm mixer, pre-norm MLP)
and a linear head. ``state_floats`` counts the recurrent state of one mixing layer.

Importing this module imports torch; ``import rnnlab`` does not.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MIXERS",
    "CausalAttention",
    "DeltaNet",
    "LinearAttention",
    "MinGRU",
    "RecallModel",
    "SelectiveSSM",
    "TorchRNN",
    "causal_attention",
    "delta_rule",
    "linear_attention",
    "min_gru",
    "recall_accuracy",
    "selective_scan",
    "train_recall",
]


def _decay_column(decay: torch.Tensor | float | None, B: int, T: int, like: torch.Tensor) -> torch.Tensor:
    """decay as a (B, T) tensor (None means 1)."""
    if decay is None:
        return torch.ones(B, T, dtype=like.dtype, device=like.device)
    decay = torch.as_tensor(decay, dtype=like.dtype, device=like.device)
    if decay.dim() == 0:
        return decay.expand(B, T)
    if decay.shape != (B, T):
        raise ValueError(f"decay must be a float or of shape (B, T) = {(B, T)}, received {tuple(decay.shape)}")
    return decay


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() != 3 or q.shape != k.shape or v.dim() != 3 or v.shape[:2] != q.shape[:2]:
        raise ValueError(
            f"expected q, k: (B, T, dk) and v: (B, T, dv); received q {tuple(q.shape)}, "
            f"k {tuple(k.shape)}, v {tuple(v.shape)}"
        )


# --------------------------------------------------------------------------- the recurrences
def _check_mode(mode: str) -> None:
    if mode not in ("recurrent", "parallel"):
        raise ValueError(f"mode must be 'recurrent' or 'parallel', received {mode!r}")


def _decay_matrix(gamma: torch.Tensor) -> torch.Tensor:
    """(B, T, T) with entry [t, j] = γ_{j+1} ⋯ γ_t for j <= t and 0 above the diagonal."""
    log_prefix = torch.cumsum(torch.log(gamma), dim=1)                            # (B, T)
    exponent = log_prefix[:, :, None] - log_prefix[:, None, :]
    T = gamma.shape[1]
    future = torch.ones(T, T, dtype=torch.bool, device=gamma.device).triu(1)
    return torch.exp(exponent.masked_fill(future, float("-inf")))


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, decay=None, *, mode: str = "recurrent") -> torch.Tensor:
    """Linear attention: S_t = γ_t S_{t-1} + k_tᵀ v_t, o_t = q_t S_t.

    ``mode="parallel"`` computes the same outputs as masked attention without softmax,
    O = (Q Kᵀ ∘ Γ) V with Γ[t, j] = γ_{j+1} ⋯ γ_t for j <= t (0 above the diagonal).

    Args:
        q, k: (B, T, dk); v: (B, T, dv); decay: None (γ = 1), a float, or (B, T).
        mode: "recurrent" (the loop) or "parallel".

    Returns:
        o: (B, T, dv).
    """
    _check_qkv(q, k, v)
    _check_mode(mode)
    B, T, dk = q.shape
    gamma = _decay_column(decay, B, T, q)
    if mode == "parallel":
        return (q @ k.transpose(1, 2) * _decay_matrix(gamma)) @ v
    S = q.new_zeros(B, dk, v.shape[-1])
    outputs = []
    for t in range(T):
        S = gamma[:, t, None, None] * S + k[:, t, :, None] * v[:, t, None, :]   # (B, dk, dv)
        outputs.append(torch.einsum("bk,bkv->bv", q[:, t], S))
    return torch.stack(outputs, dim=1)


def delta_rule(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, decay=None, *, mode: str = "recurrent"
) -> torch.Tensor:
    """The (gated) delta rule: S_t = γ_t (I - β_t k_tᵀ k_t) S_{t-1} + β_t k_tᵀ v_t, o_t = q_t S_t.

    Written as S_t = γ_t S_{t-1} + β_t k_tᵀ (v_t - γ_t k_t S_{t-1}): the state first reads what it
    stores under k_t, then replaces a fraction β_t of it with v_t. Keys are used as given.

    ``mode="parallel"`` uses the form of Yang et al. 2024 for one chunk: with
    u_t = β_t (v_t - γ_t k_t S_{t-1}), S_t = Σ_{j<=t} Γ[t, j] k_jᵀ u_j, so the u_t solve the
    unit lower-triangular system (I + strictly_lower(diag(β) (K Kᵀ ∘ Γ))) U = diag(β) V, and
    O = (Q Kᵀ ∘ Γ) U.

    Args:
        q, k: (B, T, dk); v: (B, T, dv); beta: (B, T); decay: None, a float or (B, T).
        mode: "recurrent" (the loop) or "parallel".

    Returns:
        o: (B, T, dv).
    """
    _check_qkv(q, k, v)
    B, T, dk = q.shape
    if beta.shape != (B, T):
        raise ValueError(f"beta must be of shape (B, T) = {(B, T)}, received {tuple(beta.shape)}")
    _check_mode(mode)
    gamma = _decay_column(decay, B, T, q)
    if mode == "parallel":
        Gamma = _decay_matrix(gamma)                                              # (B, T, T)
        system = torch.tril(beta[:, :, None] * (k @ k.transpose(1, 2)) * Gamma, diagonal=-1)
        system = system + torch.eye(T, dtype=q.dtype, device=q.device)
        U = torch.linalg.solve_triangular(system, beta[:, :, None] * v, upper=False, unitriangular=True)
        return (q @ k.transpose(1, 2) * Gamma) @ U
    S = q.new_zeros(B, dk, v.shape[-1])
    outputs = []
    for t in range(T):
        S = gamma[:, t, None, None] * S
        error = v[:, t] - torch.einsum("bk,bkv->bv", k[:, t], S)                   # (B, dv)
        S = S + beta[:, t, None, None] * k[:, t, :, None] * error[:, None, :]
        outputs.append(torch.einsum("bk,bkv->bv", q[:, t], S))
    return torch.stack(outputs, dim=1)


def selective_scan(x, delta, A, B, C, D=None, *, mode: str = "recurrent") -> torch.Tensor:
    """Mamba's S6: h_t = exp(Δ_t A) ∘ h_{t-1} + (Δ_t ∘ x_t)ᵀ B_t, y_t = h_t C_t + D ∘ x_t.

    ``mode="parallel"`` unrolls it: y_t = Σ_{j<=t} Σ_n C_t[n] exp((Δ_{j+1} + ⋯ + Δ_t) A[:, n])
    Δ_j x_j B_j[n] (+ D x_t), one (Bt, T, T, D, N) tensor: fine for the book's T <= 64.

    Args:
        x, delta: (Bt, T, D); A: (D, N), negative; B, C: (Bt, T, N); D: (D,) or None.
        mode: "recurrent" (the loop) or "parallel".

    Returns:
        y: (Bt, T, D).
    """
    if x.dim() != 3 or delta.shape != x.shape or A.shape[0] != x.shape[-1] or B.shape != C.shape \
            or B.shape[:2] != x.shape[:2] or B.shape[-1] != A.shape[1]:
        raise ValueError(
            f"expected x, delta: (Bt, T, D), A: (D, N), B, C: (Bt, T, N); received x {tuple(x.shape)}, "
            f"delta {tuple(delta.shape)}, A {tuple(A.shape)}, B {tuple(B.shape)}, C {tuple(C.shape)}"
        )
    _check_mode(mode)
    if mode == "parallel":
        T = x.shape[1]
        prefix = torch.cumsum(delta, dim=1)                                       # (Bt, T, D)
        span = prefix[:, :, None, :] - prefix[:, None, :, :]                      # (Bt, T, T, D)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)[None, :, :, None, None]
        exponent = (span[..., None] * A).masked_fill(future, float("-inf"))       # (Bt, T, T, D, N)
        y = torch.einsum("btjdn,btn,bjn,bjd->btd", torch.exp(exponent), C, B, delta * x)
        return y if D is None else y + D * x
    h = x.new_zeros(x.shape[0], *A.shape)
    outputs = []
    for t in range(x.shape[1]):
        h = torch.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * x[:, t])[:, :, None] * B[:, t, None, :]
        outputs.append(torch.einsum("bdn,bn->bd", h, C[:, t]))
    y = torch.stack(outputs, dim=1)
    return y if D is None else y + D * x


def min_gru(z: torch.Tensor, h_tilde: torch.Tensor, *, mode: str = "recurrent") -> torch.Tensor:
    """minGRU's recurrence h_t = (1 - z_t) ∘ h_{t-1} + z_t ∘ h̃_t with h_0 = 0.

    Args:
        z: (B, T, H) gates in (0, 1); h_tilde: (B, T, H) candidates.
        mode: "recurrent" (the loop) or "parallel": h_t = Σ_{j<=t} (1 - z_{j+1}) ⋯ (1 - z_t) z_j h̃_j,
            from cumulative sums of log(1 - z) (B, T, T, H).

    Returns:
        h: (B, T, H).
    """
    if z.shape != h_tilde.shape or z.dim() != 3:
        raise ValueError(f"expected z and h_tilde of one shape (B, T, H); received {tuple(z.shape)}, {tuple(h_tilde.shape)}")
    _check_mode(mode)
    if mode == "parallel":
        T = z.shape[1]
        prefix = torch.cumsum(torch.log1p(-z), dim=1)                              # (B, T, H)
        future = torch.ones(T, T, dtype=torch.bool, device=z.device).triu(1)[None, :, :, None]
        weights = torch.exp((prefix[:, :, None] - prefix[:, None]).masked_fill(future, float("-inf")))
        return torch.einsum("btjh,bjh->bth", weights, z * h_tilde)
    h = z.new_zeros(z.shape[0], z.shape[2])
    outputs = []
    for t in range(z.shape[1]):
        h = (1 - z[:, t]) * h + z[:, t] * h_tilde[:, t]
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """One softmax-attention head with a causal mask: o_t = Σ_{j<=t} softmax_j(q_t k_jᵀ / √dk) v_j."""
    _check_qkv(q, k, v)
    T = q.shape[1]
    scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])                          # (B, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v


# --------------------------------------------------------------------------- layers
class LinearAttention(nn.Module):
    """Linear attention with L2-normalised q, k (state dk × d); ``gated=True`` adds a decay γ_t."""

    def __init__(self, d: int, key_size: int, *, gated: bool = False) -> None:
        super().__init__()
        self.key_size, self.gated = key_size, gated
        self.mode = "parallel"                             # "recurrent" computes the same, slower
        self.qkv = nn.Linear(d, 2 * key_size + d, bias=False)
        self.gate = nn.Linear(d, 1) if gated else None
        self.out = nn.Linear(d, d, bias=False)

    def inputs(self, x: torch.Tensor):
        q, k, v = self.qkv(x).split([self.key_size, self.key_size, x.shape[-1]], dim=-1)
        decay = torch.sigmoid(self.gate(x)[..., 0] + 3.0) if self.gate is not None else None  # starts near 1
        return F.normalize(q, dim=-1), F.normalize(k, dim=-1), v, decay

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v, decay = self.inputs(x)
        return self.out(linear_attention(q, k, v, decay, mode=self.mode))

    def state_floats(self, d: int, T: int) -> int:
        return self.key_size * d


class DeltaNet(LinearAttention):
    """DeltaNet (``gated=False``) or Gated DeltaNet: the delta rule with β_t = σ(x_t w_β + b_β)."""

    def __init__(self, d: int, key_size: int, *, gated: bool = False) -> None:
        super().__init__(d, key_size, gated=gated)
        self.beta = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v, decay = self.inputs(x)
        return self.out(delta_rule(q, k, v, torch.sigmoid(self.beta(x)[..., 0]), decay, mode=self.mode))


class SelectiveSSM(nn.Module):
    """A small Mamba-style S6 mixer: input-dependent Δ_t, B_t, C_t, state (d, N) per layer.

    A is initialised as in Mamba (S4D-real): A[:, n] = -(n + 1); Δ_t = softplus(x_t W_Δ + b_Δ).
    """

    def __init__(self, d: int, state_size: int) -> None:
        super().__init__()
        self.state_size = state_size
        self.mode = "recurrent"                            # the (Bt, T, T, D, N) parallel form is slower on a CPU
        self.in_proj = nn.Linear(d, d, bias=False)
        self.delta = nn.Linear(d, d)
        self.bc = nn.Linear(d, 2 * state_size, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, state_size + 1, dtype=torch.float32)).repeat(d, 1))
        self.D = nn.Parameter(torch.ones(d))
        self.out = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.in_proj(x)
        B, C = self.bc(x).split(self.state_size, dim=-1)
        y = selective_scan(u, F.softplus(self.delta(x)), -torch.exp(self.A_log), B, C, self.D, mode=self.mode)
        return self.out(y)

    def state_floats(self, d: int, T: int) -> int:
        return d * self.state_size


class MinGRU(nn.Module):
    """minGRU: z_t = σ(x_t W_z + b_z), h̃_t = x_t W_h + b_h, hidden size H."""

    def __init__(self, d: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.mode = "recurrent"                            # the loop is faster on a CPU at T <= 64
        self.gates = nn.Linear(d, 2 * hidden_size)
        self.out = nn.Linear(hidden_size, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, h_tilde = self.gates(x).chunk(2, dim=-1)
        return self.out(min_gru(torch.sigmoid(z), h_tilde, mode=self.mode))

    def state_floats(self, d: int, T: int) -> int:
        return self.hidden_size


class TorchRNN(nn.Module):
    """``nn.LSTM`` or ``nn.GRU`` of hidden size H as a mixer (its state: 2H or H floats)."""

    def __init__(self, d: int, hidden_size: int, *, cell: str) -> None:
        super().__init__()
        self.cell = cell
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](d, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0])

    def state_floats(self, d: int, T: int) -> int:
        return (2 if self.cell == "lstm" else 1) * self.rnn.hidden_size


class CausalAttention(nn.Module):
    """One causal softmax-attention head; its "state" is the KV cache, 2 T d floats at length T."""

    def __init__(self, d: int, key_size: int | None = None) -> None:
        super().__init__()
        self.key_size = key_size or d
        self.qkv = nn.Linear(d, 2 * self.key_size + d, bias=False)
        self.out = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).split([self.key_size, self.key_size, x.shape[-1]], dim=-1)
        return self.out(causal_attention(q, k, v))

    def state_floats(self, d: int, T: int) -> int:
        return T * (self.key_size + d)


MIXERS = {
    "LSTM": lambda d, n: TorchRNN(d, n, cell="lstm"),
    "GRU": lambda d, n: TorchRNN(d, n, cell="gru"),
    "minGRU": MinGRU,
    "linear attention": LinearAttention,
    "DeltaNet": DeltaNet,
    "Gated DeltaNet": lambda d, n: DeltaNet(d, n, gated=True),
    "selective SSM": SelectiveSSM,
    "attention": lambda d, n: CausalAttention(d),
}
"""Each mixer's constructor by name, called as ``constructor(d, size)``, where ``size`` is H for
LSTM, GRU and minGRU, the key size dk for the linear-attention family, the state size N for the
SSM, and is ignored for attention."""


class RecallModel(nn.Module):
    """Embedding -> width-2 causal conv -> ``num_layers`` × (x + mixer(norm x); x + MLP(norm x)) -> head.

    Args:
        mixer: a key of ``MIXERS``.
        vocab_size: V, the number of tokens (and of output classes).
        d: the model width.
        size: the mixer's size argument (see ``MIXERS``).
        num_layers: residual blocks (1 or 2 in the book).

    Input (B, T) token ids; output (B, T, V) logits.
    """

    def __init__(self, mixer: str, vocab_size: int, d: int, size: int, num_layers: int = 1) -> None:
        super().__init__()
        if mixer not in MIXERS:
            raise ValueError(f"mixer must be one of {sorted(MIXERS)}, received {mixer!r}")
        self.embed = nn.Embedding(vocab_size, d)
        self.shift = nn.Linear(2 * d, d)                   # [E x_t, E x_{t-1}] -> d
        self.mixers = nn.ModuleList(MIXERS[mixer](d, size) for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(2 * num_layers + 1))
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)) for _ in range(num_layers)
        )
        self.head = nn.Linear(d, vocab_size)
        self.d = d

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        e = self.embed(tokens)                                               # (B, T, d)
        x = self.shift(torch.cat([e, F.pad(e, (0, 0, 1, 0))[:, :-1]], dim=-1))
        for i, (mixer, mlp) in enumerate(zip(self.mixers, self.mlps)):
            x = x + mixer(self.norms[2 * i](x))
            x = x + mlp(self.norms[2 * i + 1](x))
        return self.head(self.norms[-1](x))

    def state_floats(self, T: int) -> int:
        """Floats one mixing layer keeps between tokens at length T (the KV cache for attention)."""
        return self.mixers[0].state_floats(self.d, T)  # type: ignore[operator]  # ModuleList items are typed Module


# --------------------------------------------------------------------------- training on a recall task
def train_recall(model: nn.Module, make_batch, *, steps: int, lr: float = 3e-3, clip: float = 1.0) -> list[float]:
    """Train ``model`` with Adam on fresh batches ``make_batch(step) -> RecallBatch``; return the losses.

    The loss is the cross-entropy at the scored positions only (targets elsewhere are -100);
    gradients are clipped to norm ``clip`` and the learning rate decays linearly to zero.
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / steps)
    losses = []
    model.train()
    for step in range(steps):
        batch = make_batch(step)
        logits = model(torch.as_tensor(batch.tokens))
        loss = F.cross_entropy(logits.flatten(0, 1), torch.as_tensor(batch.targets).flatten())
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def recall_accuracy(model: nn.Module, batch) -> float:
    """Fraction of the scored positions of ``batch`` where the model's argmax is the target."""
    model.eval()
    predictions = model(torch.as_tensor(batch.tokens)).argmax(-1).numpy()
    return float((predictions[batch.mask] == batch.targets[batch.mask]).mean())
