"""The notification HTTP client (http_client.py) against a raw TCP server that answers with
canned responses: every framing a receiver may use, keep-alive reuse, a connection the
server closed while idle, timeouts, and the private-address rule."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from broker.netguard import UrlNotAllowed
from broker.subscriptions.http_client import HttpClientError, NotificationHttpClient

Answer = Callable[[int], bytes]


class RawServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.close_after_answer = False
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                writer.write(self.answer(len(self.requests)))
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify?x=1"


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Answer], RawServer]]:
    servers: list[RawServer] = []

    def make(answer: Answer) -> RawServer:
        server = RawServer(answer)
        servers.append(server)
        return server

    yield make
    for server in servers:
        for writer in server.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if server.server is not None:
            server.server.close()
            await server.server.wait_closed()


async def started(server: RawServer) -> RawServer:
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = server.server.sockets[0].getsockname()[1]
    return server


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    ],
)
async def test_each_response_framing_is_read_and_the_connection_kept(
    raw: Callable[[Answer], RawServer], response: bytes
) -> None:
    server = await started(raw(lambda n: response))
    client = NotificationHttpClient(allow_private=True)
    statuses = [
        await client.post(server.url, b'{"n":1}', {"Content-Type": "application/json"}, 2)
        for _ in range(3)
    ]
    await client.close()
    assert all(200 <= s < 300 for s in statuses)
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /notify?x=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Type: application/json\r\n" in first
    assert first.endswith(b'Content-Length: 7\r\n\r\n{"n":1}')


async def test_a_response_split_over_many_packets_is_read(
    raw: Callable[[Answer], RawServer],
) -> None:
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"

    async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for i in range(len(response)):
            writer.write(response[i : i + 1])
            await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")  # until the client closes
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(dribble, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = NotificationHttpClient(allow_private=True)
    assert await client.post(f"http://127.0.0.1:{port}/", b"", {}, 2) == 200
    await client.close()
    server.close()
    await server.wait_closed()
    await asyncio.sleep(0.01)


async def test_connection_close_and_read_until_close_are_not_reused(
    raw: Callable[[Answer], RawServer],
) -> None:
    server = await started(raw(lambda n: b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n"))
    server.close_after_answer = True
    client = NotificationHttpClient(allow_private=True)
    assert await client.post(server.url, b"", {}, 2) == 500
    assert await client.post(server.url, b"", {}, 2) == 500
    await client.close()
    assert server.connections == 2


async def test_an_idle_connection_the_server_closed_is_replaced(
    raw: Callable[[Answer], RawServer],
) -> None:
    server = await started(raw(lambda n: b"HTTP/1.1 204 No Content\r\n\r\n"))
    server.close_after_answer = True  # closes without saying so
    client = NotificationHttpClient(allow_private=True)
    assert await client.post(server.url, b"", {}, 2) == 204
    await asyncio.sleep(0.05)
    assert await client.post(server.url, b"", {}, 2) == 204
    await client.close()
    assert server.connections == 2


async def test_a_silent_server_times_out(raw: Callable[[Answer], RawServer]) -> None:
    server = await started(raw(lambda n: b""))
    client = NotificationHttpClient(allow_private=True)
    with pytest.raises(TimeoutError):
        await client.post(server.url, b"", {}, 0.2)
    await client.close()


async def test_garbage_is_an_error(raw: Callable[[Answer], RawServer]) -> None:
    server = await started(raw(lambda n: b"SMTP ready\r\n\r\n"))
    client = NotificationHttpClient(allow_private=True)
    with pytest.raises(HttpClientError):
        await client.post(server.url, b"", {}, 2)
    await client.close()


async def test_a_loopback_receiver_is_refused_unless_private_urls_are_allowed(
    raw: Callable[[Answer], RawServer],
) -> None:
    server = await started(raw(lambda n: b"HTTP/1.1 204 No Content\r\n\r\n"))
    client = NotificationHttpClient(allow_private=False)
    with pytest.raises(UrlNotAllowed):
        await client.post(server.url, b"", {}, 2)
    with pytest.raises(UrlNotAllowed):
        await client.post(server.url.replace("127.0.0.1", "localhost"), b"", {}, 2)
    await client.close()
    assert server.connections == 0
