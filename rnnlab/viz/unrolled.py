"""A recurrent layer folded (one cell with a self-loop) and unrolled in time."""

from __future__ import annotations

from typing import Any

from rnnlab._checks import check_int
from rnnlab.viz._style import BOX, ROLE_COLOURS, WEIGHT_COLOURS, arrow, node


def draw_unrolled(
    ax: Any,
    steps: int = 4,
    *,
    folded: bool = True,
    last_label: str | None = "T",
    outputs: bool = False,
    state: str = "h",
    inputs: str = "x",
) -> Any:
    """Draw a recurrent layer unrolled over ``steps`` time steps, optionally beside its folded form.

    Inputs ``x_t`` sit in the bottom row, states ``h_t`` in the middle row, with ``h_0`` on the
    left; every input arrow is labelled ``W`` and every state-to-state arrow ``U``, in one colour
    each, to show that the same weights serve every step. With ``outputs``, a top row of
    ``y_t`` read from ``h_t`` through ``V`` is added.

    Args:
        ax: a matplotlib Axes; its axis is switched off and its limits set.
        steps: number of unrolled steps drawn, at least 1.
        folded: also draw the folded cell (a self-loop through a one-step delay) on the left.
        last_label: if given, the last step is labelled with it (e.g. ``"T"``) and a gap with
            dots is drawn before it; otherwise steps are numbered 1..steps.
        outputs: add the output row ``y_t = h_t V``.
        state, inputs: the letters used for the state and the input.

    Returns:
        ``ax``.
    """
    steps = check_int("steps", steps)
    labels = [str(t) for t in range(1, steps + 1)]
    if last_label is not None and steps >= 2:
        labels[-1] = str(last_label)
    gap = last_label is not None and steps >= 2
    y_in, y_state, y_out = 0.0, 1.2, 2.4
    left = 0.0
    if folded:
        node(ax, 0.0, y_state, f"${state}_t$")
        node(ax, 0.0, y_in, f"${inputs}_t$", face=ROLE_COLOURS["input"])
        arrow(ax, (0.0, y_in + BOX), (0.0, y_state - BOX), WEIGHT_COLOURS["W"], "W", label_offset=(-0.18, 0))
        # The self-loop: out of the right side, up, back over the top, down into the cell; the
        # black square on it is the one-step delay (h_{t-1} comes back as input at step t).
        loop_x, loop_top = 0.62, y_state + 0.62
        ax.plot([BOX, loop_x, loop_x, 0.0], [y_state, y_state, loop_top, loop_top],
                color=WEIGHT_COLOURS["U"], linewidth=1.8, zorder=1, solid_joinstyle="round")
        arrow(ax, (0.0, loop_top), (0.0, y_state + BOX), WEIGHT_COLOURS["U"])
        ax.text(0.31, loop_top + 0.16, "U", color=WEIGHT_COLOURS["U"], fontsize=12, fontweight="bold",
                ha="center", va="center")
        ax.add_patch(_delay_square(loop_x, y_state + 0.31))
        if outputs:
            node(ax, -0.9, y_out, "$y_t$", face=ROLE_COLOURS["output"])
            arrow(ax, (-BOX, y_state + 0.1), (-0.9, y_out - BOX), WEIGHT_COLOURS["V"], "V",
                   label_offset=(-0.2, 0))
        ax.text(1.25, y_state, "=", fontsize=22, ha="center", va="center")
        ax.text(0.0, -0.62, "folded", ha="center", va="center", fontsize=11, style="italic")
        left = 2.0
    # Unrolled chain: h_0, then one column per step.
    node(ax, left, y_state, f"${state}_0$", face=ROLE_COLOURS["input"])
    xs = [left + 1.3 * (k + 1) + (0.7 if gap and k == steps - 1 else 0.0) for k in range(steps)]
    previous = left
    for k, (x, label) in enumerate(zip(xs, labels)):
        node(ax, x, y_state, f"${state}_{{{label}}}$")
        node(ax, x, y_in, f"${inputs}_{{{label}}}$", face=ROLE_COLOURS["input"])
        arrow(ax, (x, y_in + BOX), (x, y_state - BOX), WEIGHT_COLOURS["W"], "W", label_offset=(-0.18, 0))
        dotted = gap and k == steps - 1
        arrow(ax, (previous + BOX, y_state), (x - BOX, y_state), WEIGHT_COLOURS["U"], "U",
               label_offset=(0.0, 0.16), style=":" if dotted else "-")
        if dotted:
            ax.text((previous + x) / 2, y_state - 0.22, "…", ha="center", va="center", fontsize=14)
        if outputs:
            node(ax, x, y_out, f"$y_{{{label}}}$", face=ROLE_COLOURS["output"])
            arrow(ax, (x, y_state + BOX), (x, y_out - BOX), WEIGHT_COLOURS["V"], "V", label_offset=(-0.18, 0))
        previous = x
    ax.text((left + xs[-1]) / 2, -0.62, f"unrolled over {steps} steps" if not gap else "unrolled in time",
            ha="center", va="center", fontsize=11, style="italic")
    top = (y_out if outputs else y_state) + 0.75
    ax.set_xlim(-1.3 if folded and outputs else -0.6, xs[-1] + 0.5)
    ax.set_ylim(-0.85, top)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _delay_square(x: float, y: float) -> Any:
    from matplotlib.patches import Rectangle

    side = 0.1
    return Rectangle((x - side / 2, y - side / 2), side, side, facecolor="black", zorder=3)
