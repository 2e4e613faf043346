"""rnnlab: recurrent neural networks from scratch, and their framework twins.

``rnnlab.scratch`` is pure NumPy. ``rnnlab.torch`` and ``rnnlab.keras`` import their
frameworks only when they are imported themselves, so ``import rnnlab`` stays light.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
