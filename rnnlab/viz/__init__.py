"""Diagrams the chapters share, drawn with plain matplotlib (static, no JavaScript), in one visual language.

* :func:`draw_unrolled`: a recurrent layer folded (one cell with a self-loop) and unrolled in
  time (one copy of the cell per step, the same ``W`` and ``U`` on every copy).
* :func:`draw_rnn_cell`, :func:`draw_lstm_cell`, :func:`draw_gru_cell`: one step of each cell, its
  gates and element-wise operations labelled in the book's notation.
* :func:`draw_stacked_rnn`, :func:`draw_bidirectional_rnn`: deep and bidirectional RNNs unrolled.
* :func:`draw_architectures`: one-to-many, many-to-one, many-to-many (aligned) and
  many-to-many (encoder–decoder), in four panels.

Colours mark roles, the same in every drawing (``ROLE_COLOURS`` and ``WEIGHT_COLOURS``).
``import rnnlab.viz`` imports matplotlib only when a function is called, so the package stays light.
"""

from rnnlab.viz._style import ROLE_COLOURS, WEIGHT_COLOURS
from rnnlab.viz.cells import draw_gru_cell, draw_lstm_cell, draw_rnn_cell
from rnnlab.viz.networks import draw_architectures, draw_bidirectional_rnn, draw_stacked_rnn
from rnnlab.viz.unrolled import draw_unrolled

__all__ = [
    "ROLE_COLOURS",
    "WEIGHT_COLOURS",
    "draw_architectures",
    "draw_bidirectional_rnn",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_rnn_cell",
    "draw_stacked_rnn",
    "draw_unrolled",
]

# Documented here (the API page runs automodule on rnnlab.viz), not in the private submodules.
for _name in __all__[2:]:
    globals()[_name].__module__ = __name__
del _name
