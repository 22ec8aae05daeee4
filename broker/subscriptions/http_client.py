"""A small HTTP/1.1 client for notifications: POST a body, read the status, keep the
connection alive.

Notifications are many small POSTs whose answer only matters by its status, so this client
does just that over asyncio protocols: a pool of idle keep-alive connections per origin, a
request written in one call, a response parsed for its status line, `Content-Length`,
`Transfer-Encoding: chunked` and `Connection: close` (the body is read and discarded). It
costs a fraction of a general client's time per request, which is what lets one broker
core send several thousand notifications a second.

Safety: unless `allow_private`, the host is resolved here and must have only public
addresses (broker.netguard.public_address); the connection goes to the address checked
(over TLS with the host name for SNI and the certificate check), so DNS cannot be re-pointed
between check and connection. Redirects are not followed (a 3xx is a failure like any
non-2xx). A response head larger than 64 KiB, or a malformed one, fails the request.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from broker.netguard import public_address

MAX_HEAD = 65536
IDLE_PER_ORIGIN = 32


class HttpClientError(Exception):
    """The request failed before a complete response arrived."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's request goes and the request line and Host header it needs."""

    tls: bool
    host: str
    port: int
    head: bytes
    """b"POST /path HTTP/1.1\\r\\nHost: host:port\\r\\n" """

    @property
    def origin(self) -> tuple[bool, str, int]:
        return (self.tls, self.host, self.port)


def target_of(url: str) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise HttpClientError(f"{url!r} is not an http(s) URL with a host")
    tls = scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    netloc = parts.netloc.rpartition("@")[2]
    head = f"POST {path} HTTP/1.1\r\nHost: {netloc}\r\n".encode("latin-1")
    return Target(tls, parts.hostname, port, head)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self._status = 0
        self._remaining: int | None = None
        self._chunked = False
        self._until_close = False
        self._head_done = False
        self.started = False
        """Some of the response arrived (a failure after that is not retried)."""

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.started = True
        self._buffer += data
        try:
            self._parse()
        except HttpClientError as exc:
            self.reusable = False
            self._fail(exc)
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._until_close and self._head_done:
            self._finish()
            return
        self._fail(HttpClientError(f"connection closed ({exc!r})"))

    # -- use --------------------------------------------------------------------------------

    def send(self, data: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._buffer.clear()
        self._status, self._remaining = 0, None
        self._chunked = self._until_close = self._head_done = self.started = False
        self.transport.write(data)
        return waiter

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _finish(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self._status)

    def _parse(self) -> None:
        while True:
            if not self._head_done:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEAD:
                        raise HttpClientError("response head too large")
                    return
                head = bytes(self._buffer[:end]).decode("latin-1")
                del self._buffer[: end + 4]
                if self._read_head(head):
                    continue  # a 1xx answer: the real one follows
            if not self._body():
                return
            self._finish()
            return

    def _read_head(self, head: str) -> bool:
        """Take a response head; True when it was an interim (1xx) response."""
        lines = head.split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
            raise HttpClientError(f"not an HTTP response: {lines[0][:80]!r}")
        try:
            status = int(status_line[1])
        except ValueError:
            raise HttpClientError(f"bad status line {lines[0][:80]!r}") from None
        if 100 <= status < 200:
            return True
        self._status = status
        self._head_done = True
        if status_line[0] == "HTTP/1.0":
            self.reusable = False
        length: int | None = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip().lower()
            if name == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise HttpClientError("bad Content-Length") from None
            elif name == "transfer-encoding" and "chunked" in value:
                self._chunked = True
            elif name == "connection" and "close" in value:
                self.reusable = False
        if status in (204, 304):
            self._remaining = 0
        elif self._chunked:
            self._remaining = None
        elif length is not None:
            self._remaining = length
        else:
            self._until_close = True
            self.reusable = False
        return False

    def _body(self) -> bool:
        """Consume body bytes; True once the whole body was read."""
        if self._until_close:
            self._buffer.clear()
            return False
        if not self._chunked:
            assert self._remaining is not None
            if len(self._buffer) < self._remaining:
                return False
            del self._buffer[: self._remaining]
            return True
        while True:
            if self._remaining is not None and self._remaining > 0:
                if len(self._buffer) < self._remaining + 2:
                    return False
                del self._buffer[: self._remaining + 2]
                self._remaining = None
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size_text = bytes(self._buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpClientError("bad chunk size") from None
            if size == 0:
                # the last chunk, then optional trailers and an empty line
                if self._buffer.find(b"\r\n\r\n", line_end) < 0:
                    return False
                self._buffer.clear()
                return True
            del self._buffer[: line_end + 2]
            self._remaining = size


class NotificationHttpClient:
    def __init__(self, *, allow_private: bool, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: the client context for https:// (default: the system trust store)."""
        self._allow_private = allow_private
        self._idle: dict[tuple[bool, str, int], list[_Connection]] = {}
        self._ssl = tls
        self._busy: set[_Connection] = set()

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], seconds: float
    ) -> int:
        """POST and return the response status; HttpClientError, OSError or TimeoutError
        when no complete response arrived within `seconds`."""
        target = target_of(url)
        lines = [target.head]
        for name, value in headers.items():
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
        lines.append(body)
        data = b"".join(lines)
        async with asyncio.timeout(seconds):
            connection = self._take_idle(target)
            if connection is not None:
                try:
                    return await self._exchange(target, connection, data)
                except HttpClientError:
                    if connection.started:
                        raise
                    # the server closed the idle connection: once more on a fresh one
            connection = await self._connect(target)
            return await self._exchange(target, connection, data)

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()
        self._idle.clear()
        for connection in list(self._busy):
            connection.abort()
        self._busy.clear()
        await asyncio.sleep(0)  # let the aborted transports close their sockets

    def _take_idle(self, target: Target) -> _Connection | None:
        idle = self._idle.get(target.origin)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self, target: Target) -> _Connection:
        loop = asyncio.get_running_loop()
        address = target.host
        if not self._allow_private:
            address = await public_address(target.host, target.port)
        context: ssl.SSLContext | None = None
        if target.tls:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        _, protocol = await loop.create_connection(
            _Connection,
            address,
            target.port,
            ssl=context,
            server_hostname=target.host if context is not None else None,
        )
        return protocol

    async def _exchange(self, target: Target, connection: _Connection, data: bytes) -> int:
        self._busy.add(connection)
        try:
            status = await connection.send(data)
        except BaseException:
            connection.abort()
            raise
        finally:
            self._busy.discard(connection)
        if connection.reusable and not connection.closed:
            idle = self._idle.setdefault(target.origin, [])
            if len(idle) < IDLE_PER_ORIGIN:
                idle.append(connection)
            else:
                connection.abort()
        else:
            connection.abort()
        return status
