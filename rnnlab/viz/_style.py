"""The visual language every diagram of :mod:`rnnlab.viz` shares: colours by role, boxes, arrows.

Roles and their colours (faces of boxes and circles):

* inputs ``x_t``: light grey; states ``h_t``, ``c_t``: white with a black edge; outputs ``y_t``:
  light green;
* gates (a learned layer with a sigmoid, ``σ``): orange; candidates and other learned ``tanh``
  layers: blue;
* element-wise operations (``⊙``, ``+``, ``1−``, a point-wise ``tanh``): yellow circles;
* the shared weights of an unrolled network: ``W`` blue, ``U`` orange, ``V`` green arrows.
"""

from __future__ import annotations

from typing import Any

#: Colours of the shared input weights W, the recurrent weights U, and the output weights V.
WEIGHT_COLOURS = {"W": "tab:blue", "U": "tab:orange", "V": "tab:green"}

#: Face colours by role, the same in every diagram.
ROLE_COLOURS = {
    "input": "#e3e3e3",
    "state": "white",
    "output": "#eaf5ea",
    "gate": "#fdd9b5",
    "layer": "#cfe2f3",
    "op": "#fff2a8",
}

#: Colour of the lines that carry data inside a cell.
WIRE = "#333333"

BOX = 0.26  # half the side of a node box, in data units (one time step = 1.0 wide)


def check_range(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` as an int if it is an int in ``[low, high]``; say what was expected otherwise.

    Raises:
        TypeError: if ``value`` is not an int.
        ValueError: if ``value`` is outside ``[low, high]``.
    """
    from rnnlab._checks import check_int

    value = check_int(name, value, minimum=-(2**31))
    if not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], received {value}")
    return value


def new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """Return ``ax``, or the Axes of a new figure of ``figsize`` inches if ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, received {type(ax).__name__}")
    return ax


def finish(ax: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> Any:
    """Set equal aspect and the limits, switch the axis off, and return ``ax``."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def node(ax: Any, x: float, y: float, text: str, *, face: str = "white", edge: str = "black",
         half: float = BOX, fontsize: float = 13, gid: str | None = None) -> Any:
    """A rounded square node centred at ``(x, y)`` with ``text`` inside; returns the patch."""
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch((x - half, y - half), 2 * half, 2 * half,
                           boxstyle="round,pad=0.02,rounding_size=0.08",
                           facecolor=face, edgecolor=edge, linewidth=1.5, zorder=2)
    if gid:
        patch.set_gid(gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return patch


def arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], colour: str, label: str | None = None,
          *, label_offset: tuple[float, float] = (0.0, 0.0), rad: float = 0.0, style: str = "-",
          fontsize: float = 12) -> None:
    """A straight (or, with ``rad``, curved) arrow, optionally labelled at its midpoint."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=colour,
                                 linewidth=1.8, linestyle=style, connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=0, shrinkB=0, zorder=1))
    if label:
        mid_x = (start[0] + end[0]) / 2 + label_offset[0]
        mid_y = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mid_x, mid_y, label, color=colour, ha="center", va="center", fontsize=fontsize,
                fontweight="bold", zorder=3)


def wire(ax: Any, points: list[tuple[float, float]], *, head: bool = True, hop: bool = False) -> None:
    """A polyline through ``points`` in the wire colour, with an arrow head at the end if ``head``.

    With ``hop`` the line gets a white halo, so that where it crosses another line it reads as
    passing over it rather than joining it.
    """
    import matplotlib.patheffects as pe
    from matplotlib.patches import FancyArrowPatch

    xs, ys = zip(*points)
    effects = [pe.Stroke(linewidth=6, foreground="white"), pe.Normal()] if hop else None
    ax.plot(xs[:-1] if head else xs, ys[:-1] if head else ys, color=WIRE, linewidth=1.6,
            zorder=1.5 if hop else 1, solid_capstyle="butt", path_effects=effects)
    if head:
        ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=12,
                                     color=WIRE, linewidth=1.6, shrinkA=0, shrinkB=0,
                                     zorder=1.5 if hop else 1))


def dot(ax: Any, x: float, y: float) -> None:
    """A junction: the line splits (copies its value) here."""
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), 0.07, facecolor=WIRE, edgecolor=WIRE, zorder=2))


def layer_box(ax: Any, x: float, y: float, text: str, *, role: str, gid: str,
              width: float = 0.8, height: float = 0.6) -> Any:
    """A learned layer (a gate ``σ`` or a ``tanh`` layer) centred at ``(x, y)``; returns the patch."""
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle="round,pad=0.02,rounding_size=0.1", facecolor=ROLE_COLOURS[role],
                           edgecolor="black", linewidth=1.4, zorder=2)
    patch.set_gid(gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=13, zorder=3)
    return patch


def op(ax: Any, x: float, y: float, text: str, *, gid: str, radius: float = 0.25) -> Any:
    """An element-wise operation (``⊙``, ``+``, ``1−``, ``tanh``) as a yellow circle or ellipse."""
    from matplotlib.patches import Ellipse

    width = 2 * radius * (1.9 if len(text) > 3 else 1.0)
    patch = Ellipse((x, y), width, 2 * radius, facecolor=ROLE_COLOURS["op"], edgecolor="black",
                    linewidth=1.3, zorder=2)
    patch.set_gid(gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=12 if len(text) > 3 else 15, zorder=3)
    return patch


def legend(ax: Any, roles: list[str], *, loc: str = "lower center", ncol: int | None = None,
           anchor: tuple[float, float] = (0.5, -0.14)) -> None:
    """A legend of the role colours used in the diagram, below the Axes."""
    from matplotlib.patches import Patch

    names = {"input": "input", "state": "state", "output": "output", "gate": "gate (σ layer)",
             "layer": "tanh layer", "op": "element-wise operation"}
    handles = [Patch(facecolor=ROLE_COLOURS[r], edgecolor="black", label=names[r]) for r in roles]
    ax.legend(handles=handles, loc=loc, ncol=ncol or len(roles), frameon=False, fontsize=9.5,
              bbox_to_anchor=anchor, handlelength=1.4, columnspacing=1.2)
