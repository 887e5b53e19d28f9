"""The asyncio client's HTTP/1.1 code against responses written byte by byte.

A raw-bytes fake daemon on a unix socket sends what a well-behaved daemon never does, or
does rarely: interim 100 responses, folded and repeated headers, chunk extensions and
trailers, bodies that end with the connection, HTTP/1.0, and broken responses. Each
test runs on a debug-mode loop under the blocking-call detector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from stream_daemon import Connection, RawRequest, StreamDaemon, chunk, head
from test_async_blocking import run_checked

from docker_engine import AsyncBaseClient, Location, Operation, Parameter, ResponseKind
from docker_engine._async_http import encode_head
from docker_engine.errors import DockerConnectionError, InvalidArgument

INSPECT = Operation(
    "ContainerInspect",
    "GET",
    "/containers/{id}/json",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
)
PING = Operation("SystemPing", "GET", "/_ping", response=ResponseKind.TEXT)
PING_HEAD = Operation("SystemPingHead", "HEAD", "/_ping", response=ResponseKind.HEADERS)
START = Operation(
    "ContainerStart",
    "POST",
    "/containers/{id}/start",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
    response=ResponseKind.NONE,
)

Route = Callable[[RawRequest, Connection], "bool | None"]


@pytest.fixture
def daemon(short_tmp: str) -> Iterator[StreamDaemon]:
    server = StreamDaemon(short_tmp).start()
    yield server
    server.stop()


def raw(response: bytes, *, keep: bool = True) -> Route:
    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(response)
        return keep

    return route


def call(
    daemon: StreamDaemon,
    operation: Operation,
    arguments: dict[str, Any],
    times: int = 1,
) -> list[Any]:
    """Send `operation` `times` times on one client and return the results."""

    async def main() -> list[Any]:
        async with AsyncBaseClient(daemon.host, version="1.44", timeout=5) as client:
            return [await client.call(operation, arguments) for _ in range(times)]

    return run_checked(main())


def test_interim_100_response_skipped(daemon: StreamDaemon) -> None:
    body = b'{"Id": "abc"}'
    response = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        + head(
            200, {"Content-Type": "application/json", "Content-Length": str(len(body))}
        )
        + body
    )
    daemon.route("GET", "/containers/abc/json", raw(response))
    assert call(daemon, INSPECT, {"id": "abc"}, times=2) == [{"Id": "abc"}] * 2
    assert daemon.connections == 1


def test_folded_and_repeated_headers(daemon: StreamDaemon) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\n"
        b"X-Note: first part\r\n"
        b"  second part\r\n"
        b"X-Repeated: one\r\n"
        b"x-repeated: two\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    daemon.route("HEAD", "/_ping", raw(response))
    [headers] = call(daemon, PING_HEAD, {})
    assert headers["X-Note"] == "first part second part"
    assert headers["X-Repeated"] == "one"
    assert headers["x-repeated"] == "two"


def test_chunk_extensions_and_trailers(daemon: StreamDaemon) -> None:
    response = (
        head(200, {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"})
        + b"2;name=value\r\nOK\r\n"
        + b"0\r\nX-Trailer: done\r\n\r\n"
    )
    daemon.route("GET", "/_ping", raw(response))
    assert call(daemon, PING, {}, times=3) == ["OK"] * 3
    assert daemon.connections == 1


def test_body_split_across_writes(daemon: StreamDaemon) -> None:
    body = b'{"Id": "abc", "Name": "' + b"x" * 200_000 + b'"}'

    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(head(200, {"Content-Length": str(len(body))}))
        for start in range(0, len(body), 4096):
            connection.send(body[start : start + 4096])
        return True

    daemon.route("GET", "/containers/abc/json", route)
    [result] = call(daemon, INSPECT, {"id": "abc"})
    assert len(result["Name"]) == 200_000


@pytest.mark.parametrize(
    "response",
    [
        # No length: the body ends with the connection.
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nOK",
        # HTTP/1.0 without keep-alive closes after the response.
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nOK",
    ],
    ids=["until-close", "http-1.0", "connection-close"],
)
def test_connection_not_reused_when_response_says_so(
    daemon: StreamDaemon, response: bytes
) -> None:
    daemon.route("GET", "/_ping", raw(response, keep=False))
    assert call(daemon, PING, {}, times=2) == ["OK", "OK"]
    assert daemon.connections == 2


def test_no_content_then_next_request(daemon: StreamDaemon) -> None:
    daemon.route("POST", "/containers/abc/start", raw(head(204, {}, "No Content")))
    assert call(daemon, START, {"id": "abc"}, times=2) == [None, None]
    assert daemon.connections == 1


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "invalid status line 'SSH-2.0-OpenSSH_9.2'"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "invalid header line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "5 bytes before its Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "invalid Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid chunk size line",
        ),
        (
            b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
            "longer than 65536",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "closed inside the response headers"),
    ],
    ids=[
        "not-http",
        "header",
        "short-body",
        "bad-length",
        "bad-chunk",
        "huge-head",
        "cut-head",
    ],
)
def test_broken_response_is_a_connection_error(
    daemon: StreamDaemon, response: bytes, message: str
) -> None:
    daemon.route("GET", "/containers/abc/json", raw(response, keep=False))

    async def main() -> None:
        async with AsyncBaseClient(daemon.host, version="1.44", timeout=5) as client:
            with pytest.raises(DockerConnectionError) as raised:
                await client.call(INSPECT, {"id": "abc"})
            assert message in str(raised.value)
            assert daemon.host in str(raised.value)

    run_checked(main())


def test_encode_head_checks_values() -> None:
    assert encode_head("GET", "/v1.44/_ping", [("Host", "localhost")]) == (
        b"GET /v1.44/_ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    with pytest.raises(InvalidArgument, match="line break"):
        encode_head("GET", "/", [("X-Registry-Auth", "a\nb")])
    with pytest.raises(InvalidArgument, match="Latin-1"):
        encode_head("GET", "/", [("X-Label", "caf\u00e9 \u2603")])
