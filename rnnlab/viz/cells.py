"""One step of the plain RNN, LSTM and GRU cells, drawn in the book's notation.

Every drawing uses the roles of :mod:`rnnlab.viz._style`: grey inputs, white states, orange gate
layers ``σ``, blue ``tanh`` layers, yellow element-wise operations. Learned layers carry a ``gid``
(``"gate:f"``, ``"candidate:c"``, ...) and element-wise operations one starting with ``"op:"``, so
that a test can count them.
"""

from __future__ import annotations

from typing import Any

from rnnlab.viz._style import ROLE_COLOURS, dot, finish, layer_box, legend, new_axes, op, wire

_END = 0.5  # half the width of an end node (h_{t-1}, x_t, h_t, ...)


def _end(ax: Any, x: float, y: float, text: str, role: str) -> None:
    """An input or state entering or leaving the cell: a box 2 * _END wide, ``text`` inside."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - _END, y - 0.3), 2 * _END, 0.6, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=ROLE_COLOURS[role], edgecolor="black", linewidth=1.5, zorder=2,
                                gid=f"{role}:{text}"))
    ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=3)


def _frame(ax: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.3",
                                facecolor="#fafafa", edgecolor="#999999", linewidth=1.2, zorder=0,
                                gid="cell"))


def _label(ax: Any, x: float, y: float, text: str, ha: str = "center") -> None:
    ax.text(x, y, text, ha=ha, va="center", fontsize=12, zorder=3)


def draw_rnn_cell(ax: Any = None) -> Any:
    """Draw one step of the plain (Elman) RNN cell: ``h_t = tanh(a_t)``, ``a_t = x_t W + h_{t-1} U + b``.

    ``h_{t-1}`` comes in on the left and ``x_t`` from below; together they feed one learned
    ``tanh`` layer (gid ``"layer:tanh"``) whose output ``h_t`` leaves on the right, to become the
    next step's ``h_{t-1}``. There are no gates.

    Args:
        ax: a matplotlib Axes to draw into, or None for a new figure.

    Returns:
        the Axes drawn into.
    """
    ax = new_axes(ax, (6.2, 3.4))
    _frame(ax, 0.0, 0.3, 5.4, 3.9)
    _end(ax, -1.3, 0.9, "$h_{t-1}$", "state")
    _end(ax, 1.2, -0.6, "$x_t$", "input")
    _end(ax, 6.7, 0.9, "$h_t$", "state")
    wire(ax, [(-1.3 + _END, 0.9), (2.4, 0.9), (2.4, 1.9)])
    wire(ax, [(1.2, -0.6 + _END), (1.2, 0.9)], head=False)
    dot(ax, 1.2, 0.9)
    layer_box(ax, 2.4, 2.2, "tanh", role="layer", gid="layer:tanh", width=1.0)
    _label(ax, 2.65, 1.4, "$a_t$", ha="left")
    wire(ax, [(2.4, 2.5), (2.4, 3.3), (4.2, 3.3), (4.2, 0.9), (6.7 - _END, 0.9)])
    _label(ax, 3.3, 3.58, "$h_t$")
    ax.set_title("plain RNN cell: one tanh layer, no gates", fontsize=12)
    legend(ax, ["input", "state", "layer"], anchor=(0.5, -0.16))
    return finish(ax, (-2.0, 7.4), (-1.3, 4.2))


def draw_lstm_cell(ax: Any = None) -> Any:
    """Draw one step of the LSTM cell, with the cell state ``c_t`` as a conveyor belt along the top.

    The belt carries ``c_{t-1}`` from left to right through one multiplication by the forget gate
    and one addition: ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t``. Below it, ``h_{t-1}`` (from the left)
    and ``x_t`` (from below) feed four learned layers: the gates ``f_t``, ``i_t``, ``o_t`` (``σ``,
    gids ``"gate:f"``, ``"gate:i"``, ``"gate:o"``) and the candidate ``c̃_t`` (``tanh``, gid
    ``"candidate:c"``). On the right, ``h_t = o_t ⊙ tanh(c_t)`` leaves at the level at which
    ``h_{t-1}`` came in; ``c_t`` leaves along the belt.

    Args:
        ax: a matplotlib Axes to draw into, or None for a new figure.

    Returns:
        the Axes drawn into.
    """
    ax = new_axes(ax, (8.4, 5.2))
    _frame(ax, 0.0, 0.3, 9.2, 6.0)
    belt, bus = 5.4, 0.9
    _end(ax, -1.3, belt, "$c_{t-1}$", "state")
    _end(ax, 10.5, belt, "$c_t$", "state")
    _end(ax, -1.3, bus, "$h_{t-1}$", "state")
    _end(ax, 10.5, bus, "$h_t$", "state")
    _end(ax, 0.8, -0.6, "$x_t$", "input")
    # The conveyor belt: c_{t-1} -> (x f_t) -> (+ i_t c~_t) -> c_t.
    op(ax, 2.0, belt, r"$\odot$", gid="op:mul:f")
    op(ax, 4.6, belt, "$+$", gid="op:add")
    wire(ax, [(-1.3 + _END, belt), (1.75, belt)])
    wire(ax, [(2.25, belt), (4.35, belt)])
    wire(ax, [(4.85, belt), (10.5 - _END, belt)])
    ax.text(6.2, belt + 0.3, "cell state: the conveyor belt", ha="center", va="center", fontsize=10,
            style="italic")
    # The bus: [h_{t-1}, x_t] feeds the four layers.
    wire(ax, [(-1.3 + _END, bus), (6.4, bus), (6.4, 1.9)])
    wire(ax, [(0.8, -0.6 + _END), (0.8, bus)], head=False)
    dot(ax, 0.8, bus)
    for x in (2.0, 3.4, 4.6):
        dot(ax, x, bus)
        wire(ax, [(x, bus), (x, 1.9)])
    layer_box(ax, 2.0, 2.2, r"$\sigma$", role="gate", gid="gate:f")
    layer_box(ax, 3.4, 2.2, r"$\sigma$", role="gate", gid="gate:i")
    layer_box(ax, 4.6, 2.2, "tanh", role="layer", gid="candidate:c", width=0.95)
    layer_box(ax, 6.4, 2.2, r"$\sigma$", role="gate", gid="gate:o")
    # Forget gate up to the belt; input gate times candidate, added to the belt.
    wire(ax, [(2.0, 2.5), (2.0, belt - 0.25)])
    _label(ax, 1.75, 3.9, "$f_t$", ha="right")
    op(ax, 4.6, 3.6, r"$\odot$", gid="op:mul:i")
    wire(ax, [(3.4, 2.5), (3.4, 3.6), (4.35, 3.6)])
    _label(ax, 3.15, 3.05, "$i_t$", ha="right")
    wire(ax, [(4.6, 2.5), (4.6, 3.35)])
    _label(ax, 4.85, 2.95, r"$\tilde{c}_t$", ha="left")
    wire(ax, [(4.6, 3.85), (4.6, belt - 0.25)])
    # Output: h_t = o_t * tanh(c_t).
    dot(ax, 7.6, belt)
    wire(ax, [(7.6, belt), (7.6, 4.55)])
    op(ax, 7.6, 4.3, "tanh", gid="op:tanh")
    wire(ax, [(7.6, 4.05), (7.6, 3.45)])
    op(ax, 7.6, 3.2, r"$\odot$", gid="op:mul:o")
    wire(ax, [(6.4, 2.5), (6.4, 3.2), (7.35, 3.2)])
    _label(ax, 6.15, 2.95, "$o_t$", ha="right")
    wire(ax, [(7.6, 2.95), (7.6, bus), (10.5 - _END, bus)])
    ax.set_title("LSTM cell: three gates and a candidate around the cell state", fontsize=12)
    legend(ax, ["input", "state", "gate", "layer", "op"], anchor=(0.5, -0.12))
    return finish(ax, (-2.0, 11.2), (-1.3, 6.3))


def draw_gru_cell(ax: Any = None) -> Any:
    """Draw one step of the GRU cell (Cho et al.'s form, ``reset_after=False``), with no cell state.

    ``h_{t-1}`` runs along the top: ``h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t``. Below, the update
    gate ``z_t`` and the reset gate ``r_t`` (``σ``, gids ``"gate:z"``, ``"gate:r"``) read
    ``[h_{t-1}, x_t]``; the candidate ``h̃_t`` (``tanh``, gid ``"candidate:h"``) reads ``x_t`` and
    ``r_t ⊙ h_{t-1}``. The libraries' default form (``reset_after=True``) moves the reset gate after
    the product with ``U_h``; the picture is the same up to where ``⊙ r_t`` sits.

    Args:
        ax: a matplotlib Axes to draw into, or None for a new figure.

    Returns:
        the Axes drawn into.
    """
    ax = new_axes(ax, (8.4, 5.2))
    _frame(ax, 0.0, 0.0, 9.2, 6.0)
    top, bus, xline = 5.4, 0.9, 0.35
    _end(ax, -1.3, top, "$h_{t-1}$", "state")
    _end(ax, 10.5, top, "$h_t$", "state")
    _end(ax, 0.9, -0.9, "$x_t$", "input")
    # The old state along the top: h_{t-1} -> (x z_t) -> (+ (1 - z_t) h~_t) -> h_t.
    op(ax, 4.4, top, r"$\odot$", gid="op:mul:z")
    op(ax, 7.0, top, "$+$", gid="op:add")
    wire(ax, [(-1.3 + _END, top), (4.15, top)])
    wire(ax, [(4.65, top), (6.75, top)])
    wire(ax, [(7.25, top), (10.5 - _END, top)])
    # The bus [h_{t-1}, x_t] feeds the two gates; x_t alone also goes to the candidate.
    dot(ax, 0.4, top)
    wire(ax, [(0.4, top), (0.4, bus), (4.4, bus), (4.4, 1.9)])
    wire(ax, [(0.9, -0.9 + _END), (0.9, bus)], head=False)
    dot(ax, 0.9, bus)
    dot(ax, 0.9, xline)
    wire(ax, [(0.9, xline), (7.0, xline), (7.0, 1.9)])
    dot(ax, 1.8, bus)
    wire(ax, [(1.8, bus), (1.8, 1.9)])
    layer_box(ax, 1.8, 2.2, r"$\sigma$", role="gate", gid="gate:r")
    layer_box(ax, 4.4, 2.2, r"$\sigma$", role="gate", gid="gate:z")
    layer_box(ax, 7.0, 2.2, "tanh", role="layer", gid="candidate:h", width=0.95)
    # Reset gate times the old state, into the candidate (passing over z_t's line).
    op(ax, 1.8, 3.2, r"$\odot$", gid="op:mul:r")
    wire(ax, [(1.8, 2.5), (1.8, 2.95)])
    _label(ax, 2.05, 2.72, "$r_t$", ha="left")
    dot(ax, 1.8, top)
    wire(ax, [(1.8, top), (1.8, 3.45)])
    wire(ax, [(2.05, 3.2), (6.2, 3.2), (6.2, 2.2), (6.525, 2.2)], hop=True)
    _label(ax, 3.15, 3.48, r"$r_t \odot h_{t-1}$")
    # Update gate: z_t times the old state, (1 - z_t) times the candidate.
    wire(ax, [(4.4, 2.5), (4.4, top - 0.25)])
    _label(ax, 4.15, 3.9, "$z_t$", ha="right")
    dot(ax, 4.4, 4.4)
    op(ax, 5.7, 4.4, "$1-$", gid="op:one_minus")
    wire(ax, [(4.4, 4.4), (5.45, 4.4)])
    op(ax, 7.0, 4.4, r"$\odot$", gid="op:mul:h")
    wire(ax, [(5.95, 4.4), (6.75, 4.4)])
    wire(ax, [(7.0, 2.5), (7.0, 4.15)])
    _label(ax, 7.25, 3.3, r"$\tilde{h}_t$", ha="left")
    wire(ax, [(7.0, 4.65), (7.0, top - 0.25)])
    ax.set_title("GRU cell: an update gate and a reset gate, no cell state", fontsize=12)
    legend(ax, ["input", "state", "gate", "layer", "op"], anchor=(0.5, -0.12))
    return finish(ax, (-2.0, 11.2), (-1.4, 6.3))
