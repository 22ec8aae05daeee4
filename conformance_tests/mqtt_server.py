"""An MQTT server for the MQTT notification tests, on free loopback ports (never the
system's): Mosquitto where its binary is installed, else the pure-Python amqtt broker.

`AGORA_TEST_MQTT_BROKER=mosquitto|amqtt` forces one of them (a forced one that is missing is
an error, not a skip). Both allow anonymous clients and check the password of a client that
gives a user name (MQTT_USER / MQTT_PASSWORD). Given server certificates, each gets a TLS
listener of its own beside the plain one (`tls_url(i)`).

What the two differ in, which the tests read from the server instead of assuming:
- amqtt speaks MQTT 3.1.1 only (`versions`); it refuses an MQTT 5.0 CONNECT.
- amqtt forwards a message with the QoS of the receiving subscription, not the lower of that
  and the publisher's (`forwards_publish_qos`), so a subscriber cannot see which QoS the
  broker published with.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance_tests.servers import free_port, stop_process, venv_bin, wait_for_port
from conformance_tests.tls import ServerCert

MQTT_USER, MQTT_PASSWORD = "agora", "s3cret"
KIND_ENV = "AGORA_TEST_MQTT_BROKER"
KINDS = ("mosquitto", "amqtt")


class NoMqttServer(RuntimeError):
    """Neither Mosquitto nor amqtt can be started here."""


@dataclass
class MqttServer:
    kind: str
    command: list[str]
    port: int
    tls_ports: list[int]
    checks_passwords: bool
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def tls_url(self, listener: int = 0, host: str = "127.0.0.1") -> str:
        return f"mqtts://{host}:{self.tls_ports[listener]}"

    @property
    def versions(self) -> tuple[str, ...]:
        """The `MQTT-Version`s this server accepts."""
        return ("mqtt3.1.1", "mqtt5.0") if self.kind == "mosquitto" else ("mqtt3.1.1",)

    @property
    def version(self) -> str:
        """The newest version it speaks: what a test that does not care about it uses."""
        return self.versions[-1]

    @property
    def forwards_publish_qos(self) -> bool:
        return self.kind == "mosquitto"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            for port in (self.port, *self.tls_ports):
                wait_for_port(port, self.proc, 20)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{self.kind}: {exc}") from None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.proc = None


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def amqtt_available() -> bool:
    try:
        venv_bin("amqtt")
    except RuntimeError:
        return False
    return True


def mqtt_server_kind() -> str:
    """Which server the tests start: the forced one, else Mosquitto, else amqtt."""
    forced = os.environ.get(KIND_ENV, "").strip().lower()
    if forced:
        if forced not in KINDS:
            raise RuntimeError(f"{KIND_ENV}={forced!r}: not one of {', '.join(KINDS)}")
        if forced == "mosquitto" and mosquitto_binary() is None:
            raise RuntimeError(f"{KIND_ENV}=mosquitto but there is no mosquitto binary")
        if forced == "amqtt" and not amqtt_available():
            raise RuntimeError(f"{KIND_ENV}=amqtt but amqtt is not installed")
        return forced
    if mosquitto_binary() is not None:
        return "mosquitto"
    if amqtt_available():
        return "amqtt"
    raise NoMqttServer("neither a mosquitto binary nor amqtt (pip install amqtt)")


@contextlib.contextmanager
def mqtt_server(
    tls: Sequence[ServerCert] = (), kind: str | None = None
) -> Iterator[MqttServer]:
    """A started MQTT server (`kind`, else mqtt_server_kind()) with one plain listener and a
    TLS listener per certificate."""
    kind = kind or mqtt_server_kind()
    with tempfile.TemporaryDirectory(prefix=f"agora-{kind}-") as tmp:
        directory = Path(tmp)
        port = free_port()
        tls_ports = [free_port() for _ in tls]
        if kind == "mosquitto":
            server = _mosquitto(directory, port, tls_ports, tls)
        else:
            server = _amqtt(directory, port, tls_ports, tls)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _mosquitto(
    directory: Path, port: int, tls_ports: list[int], tls: Sequence[ServerCert]
) -> MqttServer:
    binary = mosquitto_binary()
    assert binary is not None
    lines = [
        "allow_anonymous true",
        "persistence false",
        f"user {getpass.getuser()}",  # as root it would switch to a user that cannot read tmp
    ]
    passwd_tool = shutil.which("mosquitto_passwd")
    if passwd_tool is not None:
        passwd = directory / "passwd"
        subprocess.run(
            [passwd_tool, "-b", "-c", str(passwd), MQTT_USER, MQTT_PASSWORD],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        passwd.chmod(0o600)
        lines.append(f"password_file {passwd}")
    lines.append(f"listener {port} 127.0.0.1")
    for tls_port, cert in zip(tls_ports, tls, strict=True):
        lines += [
            f"listener {tls_port} 127.0.0.1",
            f"certfile {cert.cert_file}",
            f"keyfile {cert.key_file}",
        ]
    config = directory / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n")
    return MqttServer(
        "mosquitto", [binary, "-c", str(config)], port, tls_ports, passwd_tool is not None
    )


def _amqtt(
    directory: Path, port: int, tls_ports: list[int], tls: Sequence[ServerCert]
) -> MqttServer:
    from pwdlib import PasswordHash  # amqtt's own dependency, for its password file
    from pwdlib.hashers.argon2 import Argon2Hasher

    passwd = directory / "passwd"
    passwd.write_text(f"{MQTT_USER}:{PasswordHash((Argon2Hasher(),)).hash(MQTT_PASSWORD)}\n")
    listeners: dict[str, dict[str, object]] = {
        "default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}
    }
    for n, (tls_port, cert) in enumerate(zip(tls_ports, tls, strict=True)):
        listeners[f"tls{n}"] = {
            "type": "tcp",
            "bind": f"127.0.0.1:{tls_port}",
            "ssl": True,
            "certfile": str(cert.cert_file),
            "keyfile": str(cert.key_file),
        }
    config = {
        "listeners": listeners,
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(passwd)},
        },
    }
    path = directory / "amqtt.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return MqttServer("amqtt", [venv_bin("amqtt"), "-c", str(path)], port, tls_ports, True)
