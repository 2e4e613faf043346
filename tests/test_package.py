"""The package itself: importable, versioned, and light to import."""

import json
import subprocess
import sys

import rnnlab

HEAVY = ("torch", "tensorflow", "keras")


def test_version_is_a_string():
    assert isinstance(rnnlab.__version__, str) and rnnlab.__version__


def test_import_does_not_load_frameworks():
    # A fresh interpreter: this test process may already have imported a framework.
    code = (
        "import json, sys, rnnlab; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`import rnnlab` loaded {loaded}; expected none of {HEAVY}"
