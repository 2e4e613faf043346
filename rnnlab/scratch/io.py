"""Saving and loading scratch models as one ``.npz`` file, without pickle.

The file holds every parameter under its ``params`` key (``"W0"``, ``"rnn.W0"``, ``"head.b"``)
and one more entry, ``__rnnlab__``: a JSON string naming the class and its constructor
arguments. ``load`` reads it with ``allow_pickle=False``, rebuilds the model from those
arguments, checks that the arrays are exactly the ones that model has (names, shapes, dtypes),
and only then copies them in: a bad file raises ``ValueError`` and never yields a half-loaded
model. The arrays are stored as they are, so a round trip is bit-identical.

``load(path, into=model)`` copies a file's parameters into a model that already exists, as
PyTorch's ``load_state_dict`` does; a file saved from a model of another class or shape is
refused with a message naming the constructor arguments that differ.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from .gru import GRU
from .layers import Dropout, Embedding, Linear
from .lstm import LSTM
from .models import LanguageModel, SequenceClassifier
from .module import Module
from .rnn import RNN

#: The classes ``save`` and ``load`` know, by the name stored in the file.
MODEL_CLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (RNN, LSTM, GRU, Linear, Embedding, Dropout, SequenceClassifier, LanguageModel)
}
HEADER = "__rnnlab__"
FORMAT = "rnnlab.scratch"
VERSION = 1


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model``'s parameters and constructor arguments to ``path`` (one ``.npz`` file).

    Args:
        model: an instance of one of ``MODEL_CLASSES`` (``RNN``, ``LSTM``, ``GRU``,
            ``Linear``, ``Embedding``, ``Dropout``, ``SequenceClassifier``, ``LanguageModel``).
        path: the file to write, used exactly as given (no ``.npz`` is appended).

    Raises:
        ValueError: for a model of another class.
    """
    name = type(model).__name__
    if MODEL_CLASSES.get(name) is not type(model):
        raise ValueError(f"save expects one of {sorted(MODEL_CLASSES)}, got {name}")
    params = model.params
    if HEADER in params:  # pragma: no cover - no model has such a parameter
        raise ValueError(f"parameter name {HEADER!r} is reserved")
    header = json.dumps({"format": FORMAT, "version": VERSION, "class": name, "config": model.config()})
    arrays: dict[str, Any] = {HEADER: np.array(header), **params}  # Any: savez's stub types **kwds loosely
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def load(path: str | os.PathLike, *, into: Module | None = None) -> Module:
    """Read a model written by :func:`save`: same class, constructor arguments and parameters.

    Args:
        path: a file written by ``save``.
        into: an existing model to load the parameters into, in place (its mode, training or
            evaluation, is kept); ``None`` builds a new model from the arguments in the file.

    Returns:
        The model whose parameters are now bit-identical to the saved ones: a new one, which
        starts in training mode like every new model, or ``into`` itself.

    Raises:
        ValueError: if the file is missing its header (another ``.npz``), is not a readable
            ``.npz`` (truncated, or not a zip archive), names an unknown class or arguments the
            class refuses, or has a missing, extra or mis-shaped (or mis-typed) array; with
            ``into``, also if ``into`` is of another class than the saved model, or its
            parameters differ from the file's in names, shapes or dtypes (nothing is copied then).
    """
    if into is not None and MODEL_CLASSES.get(type(into).__name__) is not type(into):
        raise ValueError(f"load(into=...) expects one of {sorted(MODEL_CLASSES)}, got {type(into).__name__}")
    arrays = _read_arrays(path)
    if HEADER not in arrays:
        raise ValueError(f"{path}: not an rnnlab.scratch model file: it has no {HEADER!r} entry")
    header = _parse_header(path, arrays.pop(HEADER))
    cls = MODEL_CLASSES.get(header["class"])
    if cls is None:
        raise ValueError(f"{path}: unknown model class {header['class']!r}; expected one of {sorted(MODEL_CLASSES)}")
    if into is None:
        try:
            model = cls(**header["config"])
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: the saved arguments do not build a {header['class']}: {error}") from error
        what, hint = f"a {header['class']} with these arguments", ""
    elif cls is not type(into):
        raise ValueError(f"{path}: the file holds a {header['class']}; cannot load it into a {type(into).__name__}")
    else:
        model, what, hint = into, f"the {header['class']} given", _config_differences(header["config"], into.config())
    params = model.params
    missing, extra = sorted(set(params) - set(arrays)), sorted(set(arrays) - set(params))
    if missing or extra:
        raise ValueError(f"{path}: {what} has parameters {sorted(params)}; "
                         f"the file is missing {missing} and has unexpected {extra}{hint}")
    for name, value in arrays.items():
        if value.shape != params[name].shape or value.dtype != params[name].dtype:
            raise ValueError(f"{path}: parameter {name!r} must be {params[name].dtype} of shape "
                             f"{params[name].shape}, got {value.dtype} of shape {value.shape}{hint}")
    for name, value in arrays.items():
        np.copyto(params[name], value)
    return model


def _config_differences(saved: dict, current: dict) -> str:
    """A note for error messages: the constructor arguments (seed aside) where file and model differ."""
    keys = sorted((set(saved) | set(current)) - {"seed"})
    pairs = [f"{key}={saved.get(key)!r} (the model has {current.get(key)!r})"
             for key in keys if saved.get(key) != current.get(key)]
    return f"; the file was saved with {', '.join(pairs)}" if pairs else ""


def _read_arrays(path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read eagerly (so a damaged member fails here)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a readable .npz file (truncated or damaged?): {error}") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (it holds a single array, as np.save writes)")
    try:
        with archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{path}: not a readable .npz file (truncated or damaged?): {error}") from error


def _parse_header(path, entry: np.ndarray) -> dict:
    """The JSON header as a dict with ``class`` (str) and ``config`` (dict), or a ValueError."""
    try:
        header = json.loads(str(entry[()]))
    except (ValueError, TypeError, IndexError) as error:
        raise ValueError(f"{path}: its {HEADER!r} entry is not the JSON header save() writes") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path}: its {HEADER!r} entry is not an {FORMAT} header")
    if header.get("version") != VERSION:
        raise ValueError(f"{path}: file format version {header.get('version')!r}; this rnnlab reads version {VERSION}")
    if not isinstance(header.get("class"), str) or not isinstance(header.get("config"), dict):
        raise ValueError(f"{path}: its header must name a class and its arguments, got {header!r}")
    return header
