"""`rnnlab` as a library: the sdist and wheel build, and the wheel works outside the repository.

``python -m build`` (sdist, then the wheel built from the sdist, so a file missing from the
sdist fails here) runs on a copy of the package's files. The wheel is installed into a fresh
virtual environment that holds nothing but NumPy; there a from-scratch LSTM runs forward and
backward and passes a gradient check. Then torch is added and ``rnnlab.torch`` must compute
what the scratch cell computes. NumPy and torch are not downloaded: their installed files are
linked from this environment into the new one, with their metadata, so pip sees them as
installed and ``pip check`` can vouch for the wheel's dependencies.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import rnnlab

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("build", reason="the `build` package is needed (pip install -e '.[dev]')")

SCRATCH_CHECK = """
import numpy as np, rnnlab, sys
from rnnlab import scratch
from rnnlab.scratch.gradcheck import numerical_gradient
assert "site-packages" in rnnlab.__file__, rnnlab.__file__
assert not any(m in sys.modules for m in ("torch", "tensorflow", "keras"))
lstm = scratch.LSTM(3, 4, seed=0, dtype=np.float64)
x = np.random.default_rng(0).standard_normal((2, 5, 3))
out, _ = lstm(x)
dx, _ = lstm.backward(np.ones_like(out))
num = numerical_gradient(lambda: lstm(x)[0].sum(), x)
assert np.abs(num - dx).max() < 1e-7, np.abs(num - dx).max()
print("scratch ok", out.shape)
"""

TORCH_CHECK = """
import numpy as np, torch
from rnnlab import scratch
from rnnlab.torch import to_torch
cell = scratch.GRU(3, 4, seed=0, dtype=np.float64)
x = np.random.default_rng(1).standard_normal((2, 5, 3))
ours, _ = cell(x)
twin = to_torch(cell)
theirs, _ = twin(torch.from_numpy(x))
assert np.abs(theirs.detach().numpy() - ours).max() < 1e-10
print("torch ok")
"""


def _distributions_with_requirements(names: list[str]) -> list[importlib.metadata.Distribution]:
    """The named distributions and, recursively, what they require here (markers evaluated)."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        dist = importlib.metadata.distribution(name)
        seen[name] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def _link_into(site_packages: Path, names: list[str]) -> None:
    """Link the installed files of `names` (and their requirements) into another site-packages."""
    for dist in _distributions_with_requirements(names):
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        origin = Path(dist.locate_file(""))
        for top in tops:
            target = site_packages / top
            if not target.exists() and (origin / top).exists():
                target.symlink_to(origin / top)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel) built from a copy of the package files."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "rnnlab", src / "rnnlab", ignore=shutil.ignore_patterns("__pycache__"))
    out = src / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, text=True)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_the_wheel_carries_the_version_and_the_type_marker(built):
    _, wheel = built
    assert wheel.name.startswith(f"rnnlab-{rnnlab.__version__}-py3-none-any"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "rnnlab/py.typed" in names
    assert "rnnlab/scratch/lstm.py" in names and not any(n.startswith("tests/") for n in names)
    metadata = zipfile.ZipFile(wheel).read(f"rnnlab-{rnnlab.__version__}.dist-info/METADATA").decode()
    assert f"Version: {rnnlab.__version__}" in metadata
    assert "Requires-Dist: numpy" in metadata


def test_the_wheel_works_in_a_fresh_environment_with_numpy_then_torch(built, tmp_path):
    _, wheel = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    _link_into(Path(purelib), ["numpy"])
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    subprocess.run([*pip, "check"], check=True, capture_output=True, text=True)
    run = subprocess.run([str(python), "-c", SCRATCH_CHECK], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "scratch ok (2, 5, 4)" in run.stdout

    pytest.importorskip("torch")
    _link_into(Path(purelib), ["torch"])
    run = subprocess.run([str(python), "-c", TORCH_CHECK], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "torch ok" in run.stdout


def test_this_environment_is_what_the_links_assume():
    # The links above need the files of numpy inside this interpreter's site-packages.
    assert Path(importlib.metadata.distribution("numpy").locate_file("")).resolve() == Path(
        sysconfig.get_paths()["purelib"]).resolve()
