"""A Mosquitto server on a free loopback port for the MQTT notification tests (started by
the test, never the system's), and an MQTT subscriber that records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest

USER, PASSWORD = "agora", "s3cret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mosquitto:
    port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        config = self.directory / "mosquitto.conf"
        self.proc = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), 0.2
            ):
                return
            time.sleep(0.02)
        raise RuntimeError("mosquitto did not listen")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


@contextlib.contextmanager
def mosquitto_server() -> Iterator[Mosquitto]:
    """Anonymous clients are allowed; a client that gives a user name must give USER and
    PASSWORD."""
    if mosquitto_binary() is None:
        pytest.skip("no mosquitto binary")
    passwd_tool = shutil.which("mosquitto_passwd")
    with tempfile.TemporaryDirectory(prefix="agora-mqtt-") as tmp:
        directory = Path(tmp)
        port = _free_port()
        lines = [
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            f"user {getpass.getuser()}",  # as root it would switch to a user that cannot read tmp
        ]
        if passwd_tool is not None:
            passwd = directory / "passwd"
            subprocess.run(
                [passwd_tool, "-b", "-c", str(passwd), USER, PASSWORD],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            passwd.chmod(0o600)
            lines.append(f"password_file {passwd}")
        (directory / "mosquitto.conf").write_text("\n".join(lines) + "\n")
        server = Mosquitto(port, directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@dataclass
class Message:
    topic: str
    payload: Any
    qos: int


@dataclass
class Subscriber:
    messages: list[Message] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, topic: str) -> list[Message]:
        return [m for m in self.messages if m.topic == topic]

    async def wait_for(self, topic: str, count: int = 1, within: float = 10.0) -> list[Message]:
        async def enough() -> None:
            while len(self.on(topic)) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), within)
        return self.on(topic)


@contextlib.asynccontextmanager
async def subscriber(server: Mosquitto, topic: str = "#") -> AsyncIterator[Subscriber]:
    """Records every message published under `topic` (QoS 2 subscription: each message
    arrives with the QoS it was published with)."""
    found = Subscriber()
    async with aiomqtt.Client("127.0.0.1", server.port) as client:
        await client.subscribe(topic, qos=2)

        async def listen() -> None:
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes | bytearray)
                found.messages.append(
                    Message(str(message.topic), orjson.loads(payload), message.qos)
                )
                found.arrived.set()

        task = asyncio.create_task(listen())
        try:
            yield found
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
