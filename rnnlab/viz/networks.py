"""Recurrent networks unrolled in time: stacked (deep), bidirectional, and the four input-output shapes.

Nodes follow the roles of :mod:`rnnlab.viz._style` (grey inputs, white states, green outputs) and
arrows the weight colours (``W`` blue, ``U`` orange, ``V`` green), as in :func:`draw_unrolled`.
"""

from __future__ import annotations

from typing import Any

from rnnlab.viz._style import ROLE_COLOURS, WEIGHT_COLOURS, arrow, check_range, finish, new_axes, node

_HALF = 0.3  # half the side of a node here (labels with superscripts need a little more room)


def _step_labels(steps: int) -> tuple[list[str], bool]:
    """Step labels 1, 2, ..., T (a gap with dots before T when there are at least 3 steps)."""
    gap = steps >= 3
    labels = [str(t) for t in range(1, steps + 1)]
    if gap:
        labels[-1] = "T"
    return labels, gap


def draw_stacked_rnn(num_layers: int = 2, steps: int = 3, ax: Any = None) -> Any:
    """Draw a stacked (deep) RNN of ``num_layers`` layers unrolled over ``steps`` steps.

    Row 0 holds the inputs ``x_t``; row ``l`` the states ``h^{(l)}_t`` of layer ``l``, with
    ``h^{(l)}_0`` on the left. Layer 1 reads ``x_t`` through ``W^{(1)}``, layer ``l > 1`` reads
    ``h^{(l-1)}_t`` through ``W^{(l)}``, and every layer carries its state along its own row through
    ``U^{(l)}``. The output ``p = softmax(h^{(L)}_T V + b_y)`` reads only the top layer's last state
    (a many-to-one classifier, as in chapter 5).

    Args:
        num_layers: layers ``L``, 1 to 4.
        steps: time steps drawn, 1 to 6 (the last labelled ``T`` from 3 steps on).
        ax: a matplotlib Axes to draw into, or None for a new figure.

    Returns:
        the Axes drawn into.

    Raises:
        ValueError: if ``num_layers`` or ``steps`` is out of range.
    """
    num_layers = check_range("num_layers", num_layers, 1, 4)
    steps = check_range("steps", steps, 1, 6)
    labels, gap = _step_labels(steps)
    ax = new_axes(ax, (1.6 + 1.5 * steps, 1.4 + 1.25 * num_layers))
    dy = 1.45
    xs = [1.5 * (k + 1) + (0.5 if gap and k == steps - 1 else 0.0) for k in range(steps)]
    for layer in range(1, num_layers + 1):
        y = dy * layer
        node(ax, 0.0, y, f"$h^{{({layer})}}_0$", face=ROLE_COLOURS["input"], half=_HALF, fontsize=11)
        ax.text(-0.55, y, f"layer {layer}", ha="right", va="center", fontsize=11)
        previous = 0.0
        for k, (x, label) in enumerate(zip(xs, labels)):
            node(ax, x, y, f"$h^{{({layer})}}_{{{label}}}$", half=_HALF, fontsize=11, gid=f"state:{layer}:{label}")
            arrow(ax, (x, y - dy + _HALF), (x, y - _HALF), WEIGHT_COLOURS["W"], f"$W^{{({layer})}}$",
                  label_offset=(-0.3, 0), fontsize=10)
            dotted = gap and k == steps - 1
            arrow(ax, (previous + _HALF, y), (x - _HALF, y), WEIGHT_COLOURS["U"], f"$U^{{({layer})}}$",
                  label_offset=(0.0, 0.2), style=":" if dotted else "-", fontsize=10)
            if dotted:
                ax.text((previous + x) / 2, y - 0.22, "…", ha="center", va="center", fontsize=14)
            previous = x
    for x, label in zip(xs, labels):
        node(ax, x, 0.0, f"$x_{{{label}}}$", face=ROLE_COLOURS["input"], half=_HALF, fontsize=11)
    top = dy * (num_layers + 1)
    node(ax, xs[-1], top, "$p$", face=ROLE_COLOURS["output"], half=_HALF, fontsize=12, gid="output:p")
    arrow(ax, (xs[-1], top - dy + _HALF), (xs[-1], top - _HALF), WEIGHT_COLOURS["V"], "$V$",
          label_offset=(-0.25, 0), fontsize=11)
    return finish(ax, (-1.7, xs[-1] + 0.6), (-0.55, top + 0.5))


def draw_bidirectional_rnn(steps: int = 3, ax: Any = None) -> Any:
    """Draw a bidirectional RNN over ``steps`` steps: one layer forward in time, one backward.

    Inputs ``x_t`` at the bottom feed both a forward layer, whose states ``h^→_t`` are computed
    from ``h^→_{t-1}`` (left to right), and a backward layer, whose states ``h^←_t`` are computed
    from ``h^←_{t+1}`` (right to left). The output at step ``t``, ``y_t``, reads the concatenation
    ``[h^→_t, h^←_t]``, so it depends on the whole sequence, before and after ``t``. The backward
    layer is drawn half a column to the right so that its arrows can be told apart.

    Args:
        steps: time steps drawn, 2 to 6.
        ax: a matplotlib Axes to draw into, or None for a new figure.

    Returns:
        the Axes drawn into.

    Raises:
        ValueError: if ``steps`` is out of range.
    """
    import matplotlib.patheffects as pe

    steps = check_range("steps", steps, 2, 6)
    ax = new_axes(ax, (1.9 + 1.9 * steps, 4.6))
    step, shift = 1.9, 0.65
    xs = [step * k for k in range(steps)]
    rows = {"x": 0.0, "fwd": 1.4, "bwd": 2.8, "y": 4.2}
    halo = [pe.Stroke(linewidth=5, foreground="white"), pe.Normal()]

    def crossing_arrow(start: tuple[float, float], end: tuple[float, float], colour: str) -> None:
        from matplotlib.patches import FancyArrowPatch

        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, color=colour,
                                     linewidth=1.6, shrinkA=0, shrinkB=0, zorder=1.5, path_effects=halo))

    for k, x in enumerate(xs):
        t = k + 1
        node(ax, x + shift / 2, rows["x"], f"$x_{{{t}}}$", face=ROLE_COLOURS["input"], half=_HALF, fontsize=11)
        node(ax, x, rows["fwd"], rf"$h^{{\rightarrow}}_{{{t}}}$", half=_HALF, fontsize=11, gid=f"state:fwd:{t}")
        node(ax, x + shift, rows["bwd"], rf"$h^{{\leftarrow}}_{{{t}}}$", half=_HALF, fontsize=11,
             gid=f"state:bwd:{t}")
        node(ax, x + shift / 2, rows["y"], f"$y_{{{t}}}$", face=ROLE_COLOURS["output"], half=_HALF,
             fontsize=11, gid=f"output:{t}")
        # Inputs into both layers (the one into the backward layer passes over the forward row).
        crossing_arrow((x + shift / 2 - 0.1, rows["x"] + _HALF), (x - 0.05, rows["fwd"] - _HALF), WEIGHT_COLOURS["W"])
        crossing_arrow((x + shift / 2 + 0.1, rows["x"] + _HALF), (x + shift, rows["bwd"] - _HALF),
                       WEIGHT_COLOURS["W"])
        # Both states into the output (the forward one passes over the backward row).
        crossing_arrow((x, rows["fwd"] + _HALF), (x + shift / 2 - 0.1, rows["y"] - _HALF), WEIGHT_COLOURS["V"])
        crossing_arrow((x + shift, rows["bwd"] + _HALF), (x + shift / 2 + 0.1, rows["y"] - _HALF),
                       WEIGHT_COLOURS["V"])
        if k:
            arrow(ax, (xs[k - 1] + _HALF, rows["fwd"]), (x - _HALF, rows["fwd"]), WEIGHT_COLOURS["U"])
            arrow(ax, (x + shift - _HALF, rows["bwd"]), (xs[k - 1] + shift + _HALF, rows["bwd"]),
                  WEIGHT_COLOURS["U"])
    left, right = xs[0] - 0.6, xs[-1] + shift + 0.6
    ax.text(left - 0.1, rows["fwd"], "forward →", ha="right", va="center", fontsize=11)
    ax.text(left - 0.1, rows["bwd"], "← backward", ha="right", va="center", fontsize=11)
    ax.text(left - 0.1, rows["y"], r"$y_t$ reads $[h^{\rightarrow}_t, h^{\leftarrow}_t]$", ha="right",
            va="center", fontsize=11)
    return finish(ax, (left - 2.7, right), (-0.5, rows["y"] + 0.5))


ARCHITECTURE_TITLES = (
    "one-to-many",
    "many-to-one",
    "many-to-many (aligned)",
    "many-to-many (encoder–decoder)",
)


def _panel(ax: Any, inputs: list[bool], outputs: list[bool], *, feedback: bool = False,
           encoder_steps: int = 0) -> None:
    """One small unrolled network: ``inputs[k]``/``outputs[k]`` say whether step k has an x / a ŷ."""
    half, dx, rows = 0.26, 1.0, (0.0, 1.1, 2.2)
    steps = len(inputs)
    xs = [dx * k + (0.4 if encoder_steps and k >= encoder_steps else 0.0) for k in range(steps)]
    for k, x in enumerate(xs):
        node(ax, x, rows[1], "$h$", half=half, fontsize=10, gid="state")
        if inputs[k]:
            node(ax, x, rows[0], "$x$", face=ROLE_COLOURS["input"], half=half, fontsize=10, gid="input")
            arrow(ax, (x, rows[0] + half), (x, rows[1] - half), WEIGHT_COLOURS["W"])
        if outputs[k]:
            node(ax, x, rows[2], r"$\hat{y}$", face=ROLE_COLOURS["output"], half=half, fontsize=10, gid="output")
            arrow(ax, (x, rows[1] + half), (x, rows[2] - half), WEIGHT_COLOURS["V"])
            if feedback and k + 1 < steps:
                arrow(ax, (x + half, rows[2] - 0.1), (xs[k + 1] - half * 0.6, rows[1] + half), "#888888",
                      style="--")
        if k:
            handover = encoder_steps and k == encoder_steps
            arrow(ax, (xs[k - 1] + half, rows[1]), (x - half, rows[1]),
                  "black" if handover else WEIGHT_COLOURS["U"])
    if encoder_steps:
        mid_enc = (xs[0] + xs[encoder_steps - 1]) / 2
        mid_dec = (xs[encoder_steps] + xs[-1]) / 2
        ax.text(mid_enc, rows[0] - 0.55, "encoder", ha="center", va="center", fontsize=9.5, style="italic")
        ax.text(mid_dec, rows[0] - 0.55, "decoder", ha="center", va="center", fontsize=9.5, style="italic")
    finish(ax, (xs[0] - 0.6, xs[-1] + 0.6), (-0.8 if encoder_steps else -0.5, rows[2] + 0.5))


def draw_architectures() -> Any:
    """Draw the four input-output shapes of a recurrent network, one panel each, in a new figure.

    Each panel is a network unrolled in time: grey inputs ``x``, white states ``h``, green
    outputs ``ŷ``; ``W`` blue, ``U`` orange, ``V`` green, as in :func:`draw_unrolled`.

    * one-to-many: one input at the first step, an output at every step; each output is fed back
      (dashed) as the next step's input, as when sampling text.
    * many-to-one: an input at every step, one output read from the last state ``h_T``.
    * many-to-many (aligned): an input and an output at every step, as in tagging.
    * many-to-many (encoder–decoder): an encoder reads the whole input; its last state (black
      arrow) starts a decoder that writes the output, of its own length, feeding each output back.

    Returns:
        the Figure, whose four Axes carry the titles in ``ARCHITECTURE_TITLES`` (in this order).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 5.6))
    on, off = True, False
    _panel(axes[0, 0], [on, off, off, off], [on, on, on, on], feedback=True)
    _panel(axes[0, 1], [on, on, on, on], [off, off, off, on])
    _panel(axes[1, 0], [on, on, on, on], [on, on, on, on])
    _panel(axes[1, 1], [on, on, on, off, off, off], [off, off, off, on, on, on], feedback=True, encoder_steps=3)
    for ax, title in zip(axes.flat, ARCHITECTURE_TITLES):
        ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig
