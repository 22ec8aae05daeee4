"""Throwaway certificates for the TLS tests (trustme): a CA of the suite's own, and server
certificates for 127.0.0.1 and localhost issued by it, written as PEM files that a broker
(`AGORA_NOTIFICATION_CA_FILE`), Mosquitto or amqtt can read."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class ServerCert:
    """A server's certificate chain and key, and the PEM file of the CA that issued it."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate's CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


class TestCa:
    """A certificate authority that exists only for one test run."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, directory: Path, name: str = "ca") -> None:
        self._ca = trustme.CA()
        self.directory = directory
        self.name = name
        self.ca_file = directory / f"{name}.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))

    def issue(self, name: str, hosts: tuple[str, ...] = LOOPBACK_NAMES) -> ServerCert:
        """A server certificate for `hosts` (127.0.0.1 and localhost unless told)."""
        cert = self._ca.issue_cert(*hosts)
        cert_file = self.directory / f"{self.name}-{name}.crt"
        key_file = self.directory / f"{self.name}-{name}.key"
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(cert_file), append=True)
        cert.private_key_pem.write_to_path(str(key_file))
        return ServerCert(self.ca_file, cert_file, key_file)
