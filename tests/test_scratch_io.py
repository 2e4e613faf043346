"""scratch.save / scratch.load: bit-identical round trips, and a clear ValueError for every bad file."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from rnnlab import scratch

MODELS = {
    "rnn-relu": lambda: scratch.RNN(3, 4, 2, "relu", seed=1),
    "lstm-bi-dropout": lambda: scratch.LSTM(3, 4, 2, bidirectional=True, dropout=0.25, seed=2, dtype=np.float64),
    "gru-reset-before": lambda: scratch.GRU(3, 4, reset_after=False, seed=3),
    "gru-bi": lambda: scratch.GRU(3, 4, 3, bidirectional=True, seed=4),
    "linear": lambda: scratch.Linear(3, 2, seed=5, dtype=np.float64),
    "embedding-padding": lambda: scratch.Embedding(7, 3, padding_idx=0, seed=6),
    "dropout": lambda: scratch.Dropout(0.3, seed=7),
    "classifier": lambda: scratch.SequenceClassifier(3, 4, 5, cell="gru", num_layers=2, bidirectional=True,
                                                     dropout=0.1, seed=8),
    "classifier-rnn": lambda: scratch.SequenceClassifier(3, 4, 5, cell="rnn", nonlinearity="relu", seed=8),
    "language-model": lambda: scratch.LanguageModel(9, 3, 4, cell="lstm", num_layers=2, padding_idx=0,
                                                    seed=9, dtype=np.float64),
    "unseeded": lambda: scratch.LSTM(2, 3),
}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_round_trip_is_bit_identical(make, tmp_path):
    model = make()
    rng = np.random.default_rng(0)
    for value in model.params.values():  # trained-looking weights, not the seed's
        value += rng.standard_normal(value.shape).astype(value.dtype)
    path = tmp_path / "model.npz"
    scratch.save(model, path)
    loaded = scratch.load(path)
    assert type(loaded) is type(model)
    assert loaded.config() == model.config()
    assert set(loaded.params) == set(model.params)
    for name, value in model.params.items():
        assert loaded.params[name].dtype == value.dtype
        assert loaded.params[name].tobytes() == value.tobytes(), name


def test_loaded_model_computes_the_same_function(tmp_path):
    model = scratch.SequenceClassifier(3, 4, 2, cell="lstm", num_layers=2, bidirectional=True, dropout=0.5, seed=0)
    path = tmp_path / "clf.npz"
    scratch.save(model, path)
    loaded = scratch.load(path)
    x = np.random.default_rng(1).standard_normal((3, 5, 3))
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(model(x, lengths=[5, 2, 1]), loaded(x, lengths=[5, 2, 1]))


def test_save_writes_exactly_the_given_path(tmp_path):
    path = tmp_path / "weights.bin"
    scratch.save(scratch.RNN(2, 2, seed=0), path)
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()


def test_save_refuses_other_objects(tmp_path):
    with pytest.raises(ValueError, match="save expects one of"):
        scratch.save(scratch.Adam({"w": np.zeros(2)}), tmp_path / "x.npz")


def good_file(tmp_path):
    path = tmp_path / "good.npz"
    scratch.save(scratch.LSTM(2, 3, 2, seed=0), path)
    return path


def rewrite(tmp_path, path, change):
    """A copy of the saved arrays, changed by ``change(dict)``, written with plain np.savez."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    return bad


def set_header(arrays, **changes):
    header = json.loads(str(arrays["__rnnlab__"][()]))
    header.update(changes)
    arrays["__rnnlab__"] = np.array(json.dumps(header))


BAD_FILES = {
    "another-npz": (lambda arrays: arrays.pop("__rnnlab__"), "not an rnnlab.scratch model file"),
    "missing-array": (lambda arrays: arrays.pop("U1"), r"missing \['U1'\]"),
    "extra-array": (lambda arrays: arrays.update(V0=np.zeros(2)), r"unexpected \['V0'\]"),
    "mis-shaped-array": (lambda arrays: arrays.update(W0=np.zeros((3, 12), np.float32)), r"'W0' must be float32 of shape \(2, 12\)"),
    "mis-typed-array": (lambda arrays: arrays.update(b0=arrays["b0"].astype(np.float64)), "'b0' must be float32"),
    "unknown-class": (lambda arrays: set_header(arrays, **{"class": "Transformer"}), "unknown model class 'Transformer'"),
    "bad-config": (lambda arrays: set_header(arrays, config={"input_size": 2}), "do not build a LSTM"),
    "future-version": (lambda arrays: set_header(arrays, version=99), "version 99"),
    "not-json": (lambda arrays: arrays.update(__rnnlab__=np.array("{oops")), "not the JSON header"),
    "header-not-ours": (lambda arrays: arrays.update(__rnnlab__=np.array('{"format": "other"}')), "not an rnnlab.scratch header"),
}


@pytest.mark.parametrize("change, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_value_error(change, message, tmp_path):
    bad = rewrite(tmp_path, good_file(tmp_path), change)
    with pytest.raises(ValueError, match=message):
        scratch.load(bad)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_file_raises_value_error(keep, tmp_path):
    data = good_file(tmp_path).read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: int(keep * len(data))])
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        scratch.load(bad)


def test_corrupted_member_raises_value_error(tmp_path):
    path = good_file(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("W0.npy")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # a byte of W0's data: CRC fails
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        scratch.load(bad)


def test_other_files_raise_value_error(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        scratch.load(text)
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        scratch.load(npy)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __rnnlab__=np.array([{"class": "LSTM"}], dtype=object))
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        scratch.load(pickled)  # object arrays need pickle, which load never allows
    with pytest.raises(FileNotFoundError):
        scratch.load(tmp_path / "absent.npz")


# --------------------------------------------------------------------------- load(path, into=model)
def test_load_into_copies_in_place_and_keeps_the_mode(tmp_path):
    saved = scratch.SequenceClassifier(3, 4, 2, cell="gru", num_layers=2, dropout=0.5, seed=0)
    path = tmp_path / "clf.npz"
    scratch.save(saved, path)
    target = scratch.SequenceClassifier(3, 4, 2, cell="gru", num_layers=2, dropout=0.5, seed=1)
    target.eval()
    arrays = target.params  # the very arrays: loading must write into them, not replace them
    assert scratch.load(path, into=target) is target
    assert not target.training
    for name, value in saved.params.items():
        assert target.params[name] is arrays[name]
        assert target.params[name].tobytes() == value.tobytes(), name
    x = np.random.default_rng(1).standard_normal((3, 5, 3))
    saved.eval()
    np.testing.assert_array_equal(target(x), saved(x))


def test_load_into_ignores_arguments_that_hold_no_parameter(tmp_path):
    path = tmp_path / "lstm.npz"
    scratch.save(scratch.LSTM(2, 3, 2, dropout=0.3, seed=0), path)
    target = scratch.LSTM(2, 3, 2, dropout=0.0, seed=5)  # another seed and dropout rate: same parameters
    scratch.load(path, into=target)
    assert target.params["W1"].tobytes() == scratch.load(path).params["W1"].tobytes()


def test_load_into_a_model_of_another_shape_names_what_differs(tmp_path):
    path = tmp_path / "clf.npz"
    scratch.save(scratch.SequenceClassifier(3, 4, 2, cell="gru", seed=0), path)
    wider = scratch.SequenceClassifier(3, 8, 2, cell="gru", seed=0)
    before = {name: value.copy() for name, value in wider.params.items()}
    with pytest.raises(ValueError, match=r"must be float32 of shape \(3, 24\), got float32 of shape \(3, 12\)"
                                         r".*hidden_size=4 \(the model has 8\)"):
        scratch.load(path, into=wider)
    for name, value in wider.params.items():  # nothing was copied
        assert value.tobytes() == before[name].tobytes(), name
    deeper = scratch.SequenceClassifier(3, 4, 2, cell="gru", num_layers=2, seed=0)
    with pytest.raises(ValueError, match=r"missing \['rnn\.U1'.*num_layers=1 \(the model has 2\)"):
        scratch.load(path, into=deeper)
    other_cell = scratch.SequenceClassifier(3, 4, 2, cell="lstm", seed=0)
    with pytest.raises(ValueError, match=r"cell='gru' \(the model has 'lstm'\)"):
        scratch.load(path, into=other_cell)
    in_float64 = scratch.SequenceClassifier(3, 4, 2, cell="gru", seed=0, dtype=np.float64)
    with pytest.raises(ValueError, match=r"must be float64 .* got float32.*dtype='float32' \(the model has 'float64'\)"):
        scratch.load(path, into=in_float64)


def test_load_into_refuses_another_class(tmp_path):
    path = tmp_path / "gru.npz"
    scratch.save(scratch.GRU(3, 4, seed=0), path)
    with pytest.raises(ValueError, match="the file holds a GRU; cannot load it into a LSTM"):
        scratch.load(path, into=scratch.LSTM(3, 4, seed=0))
    with pytest.raises(ValueError, match=r"load\(into=\.\.\.\) expects one of .* got Adam"):
        scratch.load(path, into=scratch.Adam({"w": np.zeros(2)}))


def test_load_into_still_refuses_bad_files(tmp_path):
    bad = rewrite(tmp_path, good_file(tmp_path), lambda arrays: arrays.pop("__rnnlab__"))
    with pytest.raises(ValueError, match=r"not an rnnlab\.scratch model file"):
        scratch.load(bad, into=scratch.LSTM(2, 3, 2, seed=0))
