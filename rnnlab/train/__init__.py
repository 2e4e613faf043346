"""Training loops: ``fit`` for PyTorch models, ``fit_scratch`` for ``rnnlab.scratch`` models.

Three modules, one job each: ``driver`` (the shared epoch loop, history, early stopping,
metrics, batches), ``torch_loop`` (``fit``, ``evaluate``) and ``scratch_loop`` (``fit_scratch``,
``evaluate_scratch``).

Both loops share one epoch driver (``_run_training``): the same seeded mini-batch shuffling, the
same ``History``, the same early stopping on validation loss with the best weights restored.
Only "one optimisation step" and "copy the weights" differ between the two.

``import rnnlab.train`` imports neither torch nor tqdm; they are imported when a loop runs.

Data are ``(inputs, targets)`` pairs whose first dimension is the batch N. ``inputs`` may also
be a tuple of arrays, passed to the model as ``model(*inputs)`` (e.g. an encoder-decoder's
source ids and decoder inputs). If the model returns a tuple, such as ``(out, state)``, its
first element is the prediction handed to the loss.
"""


from rnnlab.train.driver import EarlyStopping, History, accuracy, batch_indices
from rnnlab.train.scratch_loop import SCRATCH_OPTIMIZERS, evaluate_scratch, fit_scratch
from rnnlab.train.torch_loop import TORCH_OPTIMIZERS, evaluate, fit

__all__ = [
    "SCRATCH_OPTIMIZERS",
    "TORCH_OPTIMIZERS",
    "EarlyStopping",
    "History",
    "accuracy",
    "batch_indices",
    "evaluate",
    "evaluate_scratch",
    "fit",
    "fit_scratch",
]
