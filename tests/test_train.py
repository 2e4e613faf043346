"""rnnlab.train: history, early stopping with the best weights restored, reproducibility, errors.

The torch loop and the scratch loop share their driver, so each behaviour is checked on both.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnlab import data, scratch, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def regression_data(seed: int, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """y = x @ w + noise, x (n, 3) float32, y (n, 1) float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    return x, y


def torch_linear(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Linear(3, 1)


def fit_torch(model=None, train_data=None, val_data=None, **kwargs) -> train.History:
    options = dict(epochs=5, batch_size=16, lr=0.05, seed=0, progress=False) | kwargs
    model = torch_linear() if model is None else model
    train_data = regression_data(0) if train_data is None else train_data
    return train.fit(model, train_data, val_data, torch.nn.MSELoss(), **options)


@pytest.fixture(scope="module")
def order_splits():
    x, y = data.event_order_task(96, 8, seed=0)
    return data.random_split(x, y, seed=0, fractions=(0.5, 0.25, 0.25), stratify=y)


def fit_classifier(splits, **kwargs) -> tuple[scratch.SequenceClassifier, train.History]:
    model = scratch.SequenceClassifier(3, 8, 2, cell="gru", seed=0)
    options = dict(epochs=4, batch_size=16, lr=0.02, seed=0, progress=False, metrics=["accuracy"]) | kwargs
    history = train.fit_scratch(model, splits.train, splits.val, scratch.softmax_cross_entropy, **options)
    return model, history


# ------------------------------------------------------------------------------ shared pieces


def test_import_does_not_load_torch_or_tqdm():
    code = "import sys, rnnlab.train; print(sorted(m for m in ('torch', 'tqdm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_batch_indices_cover_every_item_once():
    batches = list(train.batch_indices(10, 4))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    shuffled = list(train.batch_indices(10, 4, rng=np.random.default_rng(0)))
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(10))
    again = list(train.batch_indices(10, 4, rng=np.random.default_rng(0)))
    assert all(np.array_equal(a, b) for a, b in zip(shuffled, again))


def test_early_stopping_counts_epochs_without_improvement():
    stopper = train.EarlyStopping(patience=2)
    assert stopper.update(0, 1.0) and stopper.best_epoch == 0
    assert not stopper.update(1, 1.0) and not stopper.should_stop
    assert stopper.update(2, 0.5) and stopper.waited == 0
    assert not stopper.update(3, float("nan"))
    assert not stopper.update(4, 0.7) and stopper.should_stop
    assert not train.EarlyStopping(patience=None).should_stop


def test_history_records_and_flattens():
    history = train.History()
    history.record((1.0, {"accuracy": 0.5}), (2.0, {"accuracy": 0.25}))
    history.best_epoch = 0
    assert len(history) == 1 and history.best_val_loss == 2.0
    assert history.to_dict() == {
        "train_loss": [1.0], "val_loss": [2.0], "train_accuracy": [0.5], "val_accuracy": [0.25],
    }


def test_accuracy_works_on_numpy_and_torch():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    targets = np.array([1, 1, 1])
    assert train.accuracy(logits, targets) == pytest.approx(2 / 3)
    assert train.accuracy(torch.tensor(logits), torch.tensor(targets)) == pytest.approx(2 / 3)


# ------------------------------------------------------------------------------ torch loop


def test_torch_history_has_one_entry_per_epoch_and_learns():
    history = fit_torch(val_data=regression_data(1), epochs=6)
    assert len(history) == len(history.val_loss) == 6 and not history.stopped_early
    assert history.train_loss[-1] < history.train_loss[0] / 4
    assert history.best_epoch == int(np.argmin(history.val_loss))


def test_torch_same_seed_same_history_and_weights():
    runs = []
    for _ in range(2):
        model = torch_linear()
        runs.append((fit_torch(model, val_data=regression_data(1), epochs=3), model.weight.detach().clone()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])
    assert fit_torch(torch_linear(), val_data=regression_data(1), epochs=3, seed=1) != runs[0][0]


def test_torch_fit_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    fit_torch(epochs=1)
    assert torch.equal(state, torch.random.get_rng_state())


def test_torch_early_stopping_restores_the_best_weights():
    x, y = regression_data(0)
    # Validation targets of the opposite sign: the better the fit, the worse the validation loss.
    val_data = (x, -y)
    model = torch_linear()
    history = fit_torch(model, (x, y), val_data, epochs=50, patience=3)
    assert history.stopped_early and history.best_epoch == 0
    assert len(history) == history.best_epoch + 3 + 1
    restored = train.evaluate(model, val_data, torch.nn.MSELoss())["loss"]
    assert restored == pytest.approx(history.best_val_loss, rel=1e-6)
    assert not model.training

    last = torch_linear()
    history = fit_torch(last, (x, y), val_data, epochs=5, restore_best=False)
    assert train.evaluate(last, val_data, torch.nn.MSELoss())["loss"] == pytest.approx(history.val_loss[-1], rel=1e-6)


def test_torch_metrics_tuple_outputs_multiple_inputs_and_clipping():
    class TwoInputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 2)

        def forward(self, a, b):  # returns (prediction, extra) like an RNN's (out, state)
            return self.linear(a + b), None

    x, y = data.event_order_task(40, 5, seed=0)
    pair = ((x.mean(axis=1), x[:, -1]), y)
    torch.manual_seed(0)
    history = train.fit(TwoInputs(), pair, pair, torch.nn.CrossEntropyLoss(), epochs=2, batch_size=8,
                        clip_norm=0.5, seed=0, progress=False, optimizer="sgd",
                        metrics={"accuracy": train.accuracy, "one": lambda out, target: 1.0})
    assert set(history.val_metrics) == {"accuracy", "one"} and history.train_metrics["one"] == [1.0, 1.0]
    assert all(0.0 <= a <= 1.0 for a in history.val_metrics["accuracy"])


def test_progress_bar_is_plain_text_on_stdout(capsys):
    fit_torch(epochs=2, progress=True)
    captured = capsys.readouterr()
    assert "2/2" in captured.out and "loss=" in captured.out and captured.err == ""
    fit_torch(epochs=2, progress=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 0}, ValueError, "epochs must be an int >= 1, received 0"),
        ({"batch_size": 1.5}, TypeError, "batch_size must be an int, received float 1.5"),
        ({"seed": "0"}, TypeError, "seed must be an int, received str"),
        ({"seed": 0.0}, TypeError, "seed must be an int, received float"),
        ({"lr": 0}, ValueError, "lr must be a finite number > 0.0, received 0.0"),
        ({"clip_norm": -1.0}, ValueError, "clip_norm"),
        ({"patience": 2}, ValueError, "patience needs val_data"),
        ({"optimizer": "adagrad"}, ValueError, "unknown optimizer: expected one of"),
        ({"metrics": ["f1"]}, ValueError, "unknown metric: expected one of \\['accuracy'\\], received 'f1'"),
        ({"train_data": (np.zeros((4, 3), np.float32), np.zeros((5, 1), np.float32))}, ValueError,
         "share a first dimension"),
        ({"train_data": np.zeros((4, 3))}, TypeError, "must be an \\(inputs, targets\\) pair"),
        ({"model": object()}, TypeError, "model must be a torch.nn.Module, received object"),
    ],
)
def test_torch_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        fit_torch(**kwargs)


# ------------------------------------------------------------------------------ scratch loop


def test_scratch_history_learns_and_is_reproducible(order_splits):
    _, history = fit_classifier(order_splits)
    assert len(history) == len(history.val_loss) == len(history.val_metrics["accuracy"]) == 4
    assert history.train_loss[-1] < history.train_loss[0]
    _, again = fit_classifier(order_splits)
    assert again == history
    _, other = fit_classifier(order_splits, seed=1)
    assert other.train_loss != history.train_loss


def test_scratch_early_stopping_restores_best_params_in_place(order_splits):
    x, y = order_splits.train
    flipped = ((x, y), (x, 1 - y))  # validation labels flipped: learning makes validation worse
    model = scratch.SequenceClassifier(3, 8, 2, cell="rnn", seed=0)
    arrays = {name: id(array) for name, array in model.params.items()}
    history = train.fit_scratch(model, *flipped, scratch.softmax_cross_entropy, epochs=40, batch_size=16,
                                lr=0.05, patience=2, seed=0, progress=False)
    assert history.stopped_early and len(history) == history.best_epoch + 3
    assert {name: id(array) for name, array in model.params.items()} == arrays  # same live arrays
    restored = train.evaluate_scratch(model, flipped[1], scratch.softmax_cross_entropy)["loss"]
    assert restored == pytest.approx(history.best_val_loss, rel=1e-5)


def test_scratch_language_model_with_sgd_object_and_clipping():
    x, y = data.echo_task(32, 6, 1, seed=0, n_symbols=4)
    model = scratch.LanguageModel(5, 4, 8, cell="lstm", seed=0)  # returns (logits, state)
    sgd = scratch.SGD(model.params, lr=0.5, momentum=0.9)
    history = train.fit_scratch(model, (x, y), None, scratch.softmax_cross_entropy, epochs=3, batch_size=8,
                                optimizer=sgd, clip_norm=1.0, seed=0, progress=False, metrics=["accuracy"])
    assert len(history) == 3 and history.val_loss == [] and history.best_epoch is None
    assert history.train_loss[-1] < history.train_loss[0]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": -1}, ValueError, "epochs must be an int >= 1, received -1"),
        ({"seed": None}, TypeError, "seed must be an int, received NoneType"),
        ({"optimizer": "adamw"}, ValueError, "unknown optimizer: expected one of \\['adam', 'sgd'\\]"),
        ({"patience": 0}, ValueError, "patience must be an int >= 1, received 0"),
    ],
)
def test_scratch_bad_arguments(order_splits, kwargs, error, message):
    with pytest.raises(error, match=message):
        fit_classifier(order_splits, **kwargs)


def test_scratch_loop_refuses_a_torch_model(order_splits):
    with pytest.raises(TypeError, match=r"rnnlab\.scratch model"):
        train.fit_scratch(torch_linear(), order_splits.train, None, scratch.softmax_cross_entropy,
                          epochs=1, seed=0)


def test_fit_scratch_trains_with_dropout_and_validates_without_it():
    from rnnlab import scratch

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 3))
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    model = scratch.SequenceClassifier(3, 8, 2, cell="gru", num_layers=2, dropout=0.5, seed=0,
                                       dtype=np.float64)
    modes = []
    original_backward = model.backward
    model.backward = lambda grad: (modes.append(model.training), original_backward(grad))[1]
    history = train.fit_scratch(model, (x, y), (x, y), scratch.softmax_cross_entropy, epochs=2,
                                batch_size=32, lr=1e-2, seed=0)
    assert modes and all(modes), "every training step must run in training mode (dropout on)"
    assert model.training is False, "fit_scratch leaves the model in eval mode, as fit does"
    # Validation ran without dropout: it equals a deterministic evaluation of the final weights.
    again = train.evaluate_scratch(model, (x, y), scratch.softmax_cross_entropy, batch_size=32)
    assert again == train.evaluate_scratch(model, (x, y), scratch.softmax_cross_entropy, batch_size=32)
    assert history.val_loss[history.best_epoch] == pytest.approx(again["loss"], rel=1e-12)
