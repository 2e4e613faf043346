"""rnnlab.viz: the diagrams draw the nodes and weight labels they promise, and import lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from rnnlab.viz import draw_unrolled  # noqa: E402


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
