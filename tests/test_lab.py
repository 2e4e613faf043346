"""`make lab`: JupyterLab from .venv serves book/ and its kernel imports rnnlab.

Starts ``jupyter lab --no-browser`` on a free loopback port with a random token, asks the
REST API for its status and the notebooks it sees, starts a kernel, runs one cell in it over
the kernel's websocket, and shuts everything down (bounded waits; the server is killed in a
``finally`` whatever happens).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).with_name("jupyter")
START_TIMEOUT_S = 60
CELL = "import os, rnnlab; print(rnnlab.__file__, os.environ.get('OPENBLAS_NUM_THREADS'))"

pytestmark = pytest.mark.skipif(
    not JUPYTER.exists() or shutil.which("jupyter-lab", path=str(JUPYTER.parent)) is None,
    reason="JupyterLab is not installed in this environment (pip install -e '.[book]')",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base}{path}", data=data, method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return response.status, (json.loads(text) if text else None)


def _wait_until_up(base: str, token: str, server: subprocess.Popen) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"jupyter lab exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            return _api(base, token, "/api/status")[1]
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer /api/status within {START_TIMEOUT_S} s")


def _run_in_kernel(base: str, token: str, kernel_id: str, code: str) -> str:
    """Execute `code` over the kernel's websocket and return its stdout (raises on an error)."""
    import websocket  # websocket-client, installed with jupyter_server

    ws = websocket.create_connection(
        f"{base.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels",
        header=[f"Authorization: token {token}"], timeout=30,
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        stdout = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream" and msg["content"]["name"] == "stdout":
                stdout.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(stdout)
        raise AssertionError("the kernel did not finish the cell within 60 s")
    finally:
        ws.close()


def test_jupyterlab_serves_the_book_and_its_kernel_imports_rnnlab(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), HOME=str(tmp_path))
    # Not inherited from `make`: the value must come from the kernel spec that `make venv` installs.
    env.pop("OPENBLAS_NUM_THREADS", None)
    server = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT / 'book'}", "--ServerApp.allow_remote_access=False"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        status = _wait_until_up(base, token, server)
        assert "started" in status, status
        # the server's root is book/: the chapters are there, as a reader opens them
        _, listing = _api(base, token, "/api/contents/")
        names = {entry["name"] for entry in listing["content"]}
        assert {"ch01_background.ipynb", "ch06_applications"} <= names, names
        # the default kernel is the venv's own, with the book's environment variables
        _, specs = _api(base, token, "/api/kernelspecs")
        assert specs["default"] == "python3"
        _, kernel = _api(base, token, "/api/kernels", "POST", {"name": "python3"})
        try:
            out = _run_in_kernel(base, token, kernel["id"], CELL)
            path, threads = out.split()
            assert Path(path).resolve().is_relative_to(ROOT / "rnnlab"), f"kernel imported rnnlab from {path}"
            assert threads == "1", f"OPENBLAS_NUM_THREADS in the kernel is {threads}, the book's is 1"
        finally:
            _api(base, token, f"/api/kernels/{kernel['id']}", "DELETE")
        _api(base, token, "/api/shutdown", "POST")
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
