"""``rnnlab.scratch`` is NumPy only: importing it must not pull in a deep-learning framework."""

import json
import subprocess
import sys


def test_scratch_imports_no_framework():
    code = (
        "import json, sys, rnnlab.scratch; "
        "print(json.dumps([m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
