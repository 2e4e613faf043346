"""rnnlab.viz: the diagrams draw the nodes and weight labels they promise, and import lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyBboxPatch

from rnnlab.viz import draw_unrolled


def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("steps", [1, 2, 4])
@pytest.mark.parametrize("folded", [True, False])
@pytest.mark.parametrize("outputs", [True, False])
def test_node_and_label_counts(steps, folded, outputs):
    fig, ax = plt.subplots()
    try:
        assert draw_unrolled(ax, steps, folded=folded, outputs=outputs) is ax
        per_column = 3 if outputs else 2  # x_t, h_t (and y_t)
        nodes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
        assert len(nodes) == per_column * (steps + int(folded)) + 1  # + h_0
        texts = _texts(ax)
        assert texts.count("W") == steps + int(folded)
        assert texts.count("U") == steps + int(folded)
        assert texts.count("V") == (steps + int(folded)) * int(outputs)
        assert "$h_0$" in texts and not ax.axison
    finally:
        plt.close(fig)


def test_last_label_and_numbering():
    fig, ax = plt.subplots()
    try:
        draw_unrolled(ax, 3, folded=False, state="s", inputs="u")
        assert {"$s_{1}$", "$s_{2}$", "$s_{T}$", "$u_{T}$"} <= set(_texts(ax))
        ax.clear()
        draw_unrolled(ax, 3, folded=False, last_label=None)
        assert "$h_{3}$" in _texts(ax) and "$h_{T}$" not in _texts(ax)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("steps, error", [(0, ValueError), (2.0, TypeError)])
def test_bad_steps(steps, error):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(error, match="steps"):
            draw_unrolled(ax, steps)
    finally:
        plt.close(fig)


def test_import_does_not_load_matplotlib():
    code = "import json, sys, rnnlab.viz; print(json.dumps('matplotlib' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) is False


# --- the cell diagrams, the deep and bidirectional networks, and the taxonomy -----------------

from rnnlab.viz import (  # noqa: E402
    ROLE_COLOURS,
    draw_architectures,
    draw_bidirectional_rnn,
    draw_gru_cell,
    draw_lstm_cell,
    draw_rnn_cell,
    draw_stacked_rnn,
)
from rnnlab.viz.networks import ARCHITECTURE_TITLES  # noqa: E402


def _gids(ax, prefix):
    return sorted(p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith(prefix))


def _draws(ax):
    """Render the figure (mathtext is parsed at draw time, so a bad label fails here)."""
    ax.figure.canvas.draw()


@pytest.mark.parametrize(
    "draw, gates, candidates, ops, labels",
    [
        (draw_rnn_cell, [], [], [], {"$h_{t-1}$", "$x_t$", "$h_t$", "$a_t$", "tanh"}),
        (draw_lstm_cell, ["gate:f", "gate:i", "gate:o"], ["candidate:c"],
         ["op:add", "op:mul:f", "op:mul:i", "op:mul:o", "op:tanh"],
         {"$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$", "$o_t$", r"$\tilde{c}_t$",
          r"$\sigma$", r"$\odot$", "$+$", "tanh"}),
        (draw_gru_cell, ["gate:r", "gate:z"], ["candidate:h"],
         ["op:add", "op:mul:h", "op:mul:r", "op:mul:z", "op:one_minus"],
         {"$h_{t-1}$", "$h_t$", "$x_t$", "$z_t$", "$r_t$", r"$\tilde{h}_t$", r"$\sigma$", r"$\odot$", "$+$",
          "$1-$", "tanh"}),
    ],
)
def test_cells_gate_boxes_and_labels(draw, gates, candidates, ops, labels):
    ax = draw()
    try:
        _draws(ax)
        assert _gids(ax, "gate:") == gates  # LSTM: 3 gates, GRU: 2, plain RNN: none
        assert _gids(ax, "candidate:") == candidates  # one candidate for each gated cell
        assert _gids(ax, "op:") == ops
        assert labels <= set(_texts(ax)), labels - set(_texts(ax))
        gate_faces = {p.get_facecolor() for p in ax.patches if (p.get_gid() or "").startswith("gate:")}
        assert gate_faces <= {matplotlib.colors.to_rgba(ROLE_COLOURS["gate"])}  # one colour per role
        assert not ax.axison and ax.get_title()
    finally:
        plt.close(ax.figure)


def test_cells_draw_into_a_given_axes():
    fig, axes = plt.subplots(1, 3)
    try:
        for ax, draw in zip(axes, (draw_rnn_cell, draw_lstm_cell, draw_gru_cell)):
            assert draw(ax) is ax
        fig.canvas.draw()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("num_layers, steps", [(1, 1), (2, 3), (3, 2), (4, 6)])
def test_stacked_rnn_nodes(num_layers, steps):
    ax = draw_stacked_rnn(num_layers=num_layers, steps=steps)
    try:
        _draws(ax)
        assert len(_gids(ax, "state:")) == num_layers * steps
        assert _gids(ax, "output:") == ["output:p"]  # one output, read from the top layer's last state
        texts = _texts(ax)
        last = "T" if steps >= 3 else str(steps)
        assert f"$h^{{({num_layers})}}_{{{last}}}$" in texts and f"$x_{{{last}}}$" in texts
        for layer in range(1, num_layers + 1):
            assert texts.count(f"$W^{{({layer})}}$") == steps and texts.count(f"$U^{{({layer})}}$") == steps
            assert f"$h^{{({layer})}}_0$" in texts and f"layer {layer}" in texts
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("steps", [2, 3, 6])
def test_bidirectional_rnn_nodes(steps):
    ax = draw_bidirectional_rnn(steps=steps)
    try:
        _draws(ax)
        assert len(_gids(ax, "state:fwd:")) == len(_gids(ax, "state:bwd:")) == len(_gids(ax, "output:")) == steps
        texts = _texts(ax)
        assert r"$h^{\rightarrow}_{1}$" in texts and rf"$h^{{\leftarrow}}_{{{steps}}}$" in texts
        assert "forward →" in texts and "← backward" in texts
    finally:
        plt.close(ax.figure)


def test_architectures_four_panels():
    fig = draw_architectures()
    try:
        fig.canvas.draw()
        assert len(fig.axes) == 4
        assert [ax.get_title() for ax in fig.axes] == list(ARCHITECTURE_TITLES) == [
            "one-to-many", "many-to-one", "many-to-many (aligned)", "many-to-many (encoder–decoder)"]
        inputs = [len(_gids(ax, "input")) for ax in fig.axes]
        outputs = [len(_gids(ax, "output")) for ax in fig.axes]
        assert inputs == [1, 4, 4, 3] and outputs == [4, 1, 4, 3]
        assert {"encoder", "decoder"} <= set(_texts(fig.axes[3]))
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: draw_stacked_rnn(num_layers=0), r"num_layers must be an int in \[1, 4\], received 0"),
        (lambda: draw_stacked_rnn(num_layers=5), r"num_layers must be an int in \[1, 4\], received 5"),
        (lambda: draw_stacked_rnn(steps=0), r"steps must be an int in \[1, 6\], received 0"),
        (lambda: draw_bidirectional_rnn(steps=1), r"steps must be an int in \[2, 6\], received 1"),
        (lambda: draw_bidirectional_rnn(steps=7), r"steps must be an int in \[2, 6\], received 7"),
        (lambda: draw_lstm_cell(ax="axes"), r"ax must be a matplotlib Axes or None, received str"),
        (lambda: draw_stacked_rnn(ax=3), r"ax must be a matplotlib Axes or None, received int"),
    ],
)
def test_bad_arguments(call, message):
    try:
        with pytest.raises(ValueError, match=message):
            call()
    finally:
        plt.close("all")


def test_non_int_sizes_raise_type_error():
    with pytest.raises(TypeError, match="num_layers"):
        draw_stacked_rnn(num_layers=2.0)
