"""The modern recurrences from scratch, in NumPy: one family, ``S_t = A_t ∘ S_{t-1} + B_t``.

Every function takes NumPy arrays in float32 or float64 (kept), and has ``mode="recurrent"`` (the
loop over t: the definition) and ``mode="parallel"`` (a scan, or a chunked / matrix form: how
these models are trained); the two agree to rounding. Rows are vectors, as in the rest of the book.

* ``attention``: ``linear_attention`` (Katharopoulos et al., 2020; with decay RetNet, GLA) and
  ``delta_rule`` (DeltaNet, Schlag et al., 2021, Yang et al., 2024; with decay Gated DeltaNet,
  Yang et al., 2025).
* ``ssm``: ``selective_scan`` (Mamba's S6, Gu & Dao, 2023), ``ssd`` and ``ssd_matrix``
  (Mamba-2's state-space duality, Dao & Gu, 2024).
* ``lru``: ``lru`` (Orvieto et al., 2023) and ``rg_lru`` (Griffin, De et al., 2024).
* ``xlstm``: ``mlstm`` (Beck et al., 2024), with and without its max-stabiliser.
* ``minimal``: ``min_gru`` (re-exported from ``rnnlab.scan``) and ``min_lstm`` (Feng et al., 2024).

No framework is imported: ``import rnnlab.modern`` loads NumPy only.
"""

from rnnlab.modern.attention import delta_rule, linear_attention
from rnnlab.modern.lru import lru, lru_eigenvalues, rg_lru
from rnnlab.modern.minimal import min_gru, min_lstm
from rnnlab.modern.ssm import selective_scan, ssd, ssd_matrix
from rnnlab.modern.xlstm import mlstm

__all__ = [
    "delta_rule",
    "linear_attention",
    "lru",
    "lru_eigenvalues",
    "min_gru",
    "min_lstm",
    "mlstm",
    "rg_lru",
    "selective_scan",
    "ssd",
    "ssd_matrix",
]
