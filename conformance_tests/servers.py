"""Start and stop the servers a test run needs, on free loopback ports.

Used by the conformance suite (to start a broker when AGORA_URL is not given) and by the
store tests (to start the `nx-27017` MongoDB wire-protocol server when MONGODB_URL is not
given); the MQTT servers are in mqtt_server.py. Only subprocesses and HTTP/wire traffic:
nothing here imports the broker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def venv_bin(name: str) -> str:
    """A console script of this virtual environment (falls back to PATH)."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed")
    return found


@contextlib.contextmanager
def mongo_wire_server() -> Iterator[str]:
    """A MongoDB URL: MONGODB_URL when set, else an nx-27017 server started here."""
    url = os.environ.get("MONGODB_URL")
    if url:
        yield url
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="agora-nx-") as tmp:
        cmd = [
            venv_bin("nx-27017"), "--host", "127.0.0.1", "-p", str(port), "--data-dir", tmp,
            "--log-file", os.path.join(tmp, "nx.log"), "--pid-file", os.path.join(tmp, "nx.pid"),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, proc, 30)
            yield f"mongodb://127.0.0.1:{port}/"
        finally:
            stop_process(proc)


class Broker:
    """An `agora serve` subprocess on a free port."""

    def __init__(self, store: str, env: dict[str, str] | None = None) -> None:
        self.store = store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        cmd = [venv_bin("agora"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--store", self.store]
        self.proc = subprocess.Popen(cmd, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited early with code {self.proc.returncode}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            time.sleep(0.05)
        raise RuntimeError("broker did not become healthy")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
