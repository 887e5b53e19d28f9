"""The asyncio client against the misbehaving daemon of test_faults.py, case by case.

Each case runs on a new event loop, over a unix socket and over TCP. It checks what the
sync cases check: the typed error or the data, then a working client with a pool of one
connection, and no file descriptor left open once the client is closed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fake_daemon_faults import CONTAINER_LIST, MULTIPLEXED, FaultDaemon
from sample_api import CONTAINER_EXPORT
from sample_api import CONTAINER_LIST as LIST_OPERATION
from sample_api import ContainerSummary
from test_faults import (  # noqa: F401 - faults and transport are fixtures
    EVENTS,
    LOGS,
    READ_TIMEOUT,
    SLACK,
    Outcome,
    faults,
    open_fds,
    resident_bytes,
    transport,
)

from docker_engine import (
    APIError,
    AsyncBaseClient,
    DockerConnectionError,
    DockerError,
    InvalidResponse,
    ServerError,
    StreamError,
    Timeout,
    TimeoutError,
)
from docker_engine._frames import MAX_HELD_PAYLOAD


class AsyncClient(AsyncBaseClient):
    PACKAGE_API_VERSION = "1.44"
    MODELS_MODULE = "sample_api"


Action = Callable[[AsyncBaseClient], Awaitable[Any]]


def run_fault(
    faults: FaultDaemon, transport: str, name: str, action: Action, **arguments: object
) -> Outcome:
    """Run `action` against the fault `name` on a new event loop; check recovery and fds."""
    before = open_fds()
    faults.select(name, **arguments)

    async def scenario() -> Outcome:
        client = AsyncClient(
            faults.host(transport),
            version="1.44",
            timeout=Timeout(connect=5.0, read=READ_TIMEOUT),
            max_connections=1,
        )
        started = time.monotonic()
        result: Any = None
        error: DockerError | None = None
        try:
            result = await action(client)
        except DockerError as caught:
            error = caught
        seconds = time.monotonic() - started

        # With one connection allowed, a leaked slot would make this call wait and raise.
        await asyncio.to_thread(faults.select, "ok")
        healthy = await client.call(LIST_OPERATION, {}, timeout=Timeout(connect=1.0, read=5.0))
        assert [summary.id for summary in healthy] == [CONTAINER_LIST[0]["Id"]]
        await client.aclose()
        return Outcome(result, error, seconds)

    outcome = asyncio.run(scenario())
    after = open_fds()
    leaked = {fd: target for fd, target in after.items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open after the fault {name}: {leaked}"
    return outcome


async def list_containers(client: AsyncBaseClient) -> Any:
    return await client.call(LIST_OPERATION, {})


async def read_events(client: AsyncBaseClient) -> list[Any]:
    received: list[Any] = []
    try:
        async for event in await client.call(EVENTS, {}):
            received.append(event)
    except DockerError as error:
        error.received = received  # type: ignore[attr-defined]
        raise
    return received


async def read_logs(client: AsyncBaseClient) -> bytes:
    stream = await client.call(LOGS, {"id": "4a3f"})
    return b"".join([data async for _, data in stream])


async def read_export(client: AsyncBaseClient) -> bytes:
    stream = await client.call(CONTAINER_EXPORT, {"id": "4a3f"})
    return await stream.read()  # type: ignore[no-any-return]


# --- a body that ends too early ----------------------------------------------------------


def test_async_chunk_cut_json(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)


def test_async_chunk_cut_events(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", read_events, before=3)
    assert isinstance(outcome.error, StreamError)
    assert len(outcome.error.received) == 3  # type: ignore[union-attr]


def test_async_chunk_cut_frames(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", read_logs, before=2, type=MULTIPLEXED)
    assert isinstance(outcome.error, StreamError)
    assert "invalid frame header" not in str(outcome.error)


def test_async_chunk_cut_binary(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults, transport, "chunk-cut", read_export, before=2, type="application/x-tar"
    )
    assert isinstance(outcome.error, DockerConnectionError)


def test_async_short_body(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "short-body", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)


@pytest.mark.parametrize(
    ("read", "content_type"),
    [
        (list_containers, "application/json"),
        (read_events, "application/json"),
        (read_logs, MULTIPLEXED),
        (read_export, "application/x-tar"),
    ],
    ids=["json", "events", "logs", "binary"],
)
def test_async_invalid_chunk_size(
    faults: FaultDaemon, transport: str, read: Action, content_type: str
) -> None:
    outcome = run_fault(faults, transport, "bad-chunk-size", read, before=1, type=content_type)
    assert isinstance(outcome.error, (DockerConnectionError, StreamError))


# --- a connection reset ------------------------------------------------------------------


def test_async_reset_json(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "reset", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)


def test_async_reset_events(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "reset", read_events, stream=1, before=2)
    assert isinstance(outcome.error, (DockerConnectionError, StreamError))
    assert len(outcome.error.received) == 2  # type: ignore[union-attr]


# --- bodies that are not what the operation returns --------------------------------------


def test_async_invalid_json(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults, transport, "body", list_containers, type="application/json", body='[{"Id": "4a'
    )
    assert isinstance(outcome.error, InvalidResponse)
    assert "is not valid JSON" in str(outcome.error)


def test_async_html_page_200(faults: FaultDaemon, transport: str) -> None:
    page = "<!DOCTYPE html><html><body>Sign in to the proxy</body></html>"
    outcome = run_fault(faults, transport, "body", list_containers, type="text/html", body=page)
    assert isinstance(outcome.error, InvalidResponse)
    assert "HTML page" in str(outcome.error)


def test_async_html_502(faults: FaultDaemon, transport: str) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head></html>"
    outcome = run_fault(
        faults, transport, "body", list_containers, status=502, type="text/html", body=page
    )
    assert isinstance(outcome.error, ServerError)
    assert "HTML page" in outcome.error.message


def test_async_plain_text_500(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults, transport, "body", list_containers, status=500, type="text/plain", body="boom\n"
    )
    assert isinstance(outcome.error, ServerError)
    assert "boom" in outcome.error.message


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", ""])
def test_async_wrong_content_type(faults: FaultDaemon, transport: str, content_type: str) -> None:
    outcome = run_fault(
        faults,
        transport,
        "body",
        list_containers,
        type=content_type,
        body=json.dumps(CONTAINER_LIST),
    )
    assert outcome.error is None
    assert isinstance(outcome.result[0], ContainerSummary)


def test_async_redirect_not_followed(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "redirect", list_containers, to="/v1.44/images/json")
    assert isinstance(outcome.error, APIError)
    assert outcome.error.status == 301


# --- silence -----------------------------------------------------------------------------


def test_async_headers_never_come(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "silent", list_containers)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.seconds < READ_TIMEOUT + SLACK


def test_async_stream_headers_never_come(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "silent", read_events)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.seconds < READ_TIMEOUT + SLACK


def test_async_body_stops_midway(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "stalled-body", list_containers)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.seconds < READ_TIMEOUT + SLACK


@pytest.mark.parametrize("close", [0, 1], ids=["chunked", "until-close"])
def test_async_quiet_stream_not_timed_out(faults: FaultDaemon, transport: str, close: int) -> None:
    outcome = run_fault(
        faults, transport, "slow-events", read_events, pause=READ_TIMEOUT + 0.5, close=close
    )
    assert outcome.error is None
    assert [event["time"] for event in outcome.result] == [1700000000, 1700000001]


# --- not HTTP at all ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["garbage", "close", "long-header"])
def test_async_not_http(faults: FaultDaemon, transport: str, name: str) -> None:
    outcome = run_fault(faults, transport, name, list_containers)
    assert isinstance(outcome.error, DockerConnectionError)


# --- floods ------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_async_frame_announcing_4_gib(faults: FaultDaemon, transport: str) -> None:
    streamed_mib = 256
    received = 0
    growth = 0

    async def read(client: AsyncBaseClient) -> None:
        nonlocal received, growth
        start = resident_bytes()
        async for stream, data in await client.call(LOGS, {"id": "4a3f"}):
            assert stream == "stdout"
            received += len(data)
            growth = max(growth, resident_bytes() - start)

    outcome = run_fault(faults, transport, "huge-frame", read, mib=streamed_mib)
    assert isinstance(outcome.error, StreamError)
    assert (streamed_mib << 20) - MAX_HELD_PAYLOAD < received <= streamed_mib << 20
    assert growth < 32 << 20, f"memory grew by {growth >> 20} MiB while reading the frame"


@pytest.mark.timeout(120)
def test_async_hundred_thousand_events(faults: FaultDaemon, transport: str) -> None:
    count = 100_000
    growth = 0

    async def read(client: AsyncBaseClient) -> int:
        nonlocal growth
        start = resident_bytes()
        seen = 0
        async for event in await client.call(EVENTS, {}):
            assert event["time"] == 1700000000 + seen
            seen += 1
            if seen % 1000 == 0:
                growth = max(growth, resident_bytes() - start)
        return seen

    outcome = run_fault(faults, transport, "events", read, count=count)
    assert outcome.error is None
    assert outcome.result == count
    assert growth < 32 << 20, f"memory grew by {growth >> 20} MiB while reading the events"
    assert outcome.seconds < 60
