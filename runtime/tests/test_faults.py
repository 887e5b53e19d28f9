"""The sync client against a misbehaving daemon: cut bodies, resets, bad JSON, silence, floods.

Every case runs over a unix socket and over TCP on 127.0.0.1 against fake_daemon_faults,
which runs in a process of its own. Each case checks that the call ends in the expected
typed error or returns the right data. `run_fault` then checks that the client works again
with a pool of one connection, so no connection slot leaked, and that the process has no
more file descriptors open than before the client existed. Cases that wait for a timeout
also check how long they took, and the floods check how much memory grew.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fake_daemon_faults import CONTAINER_LIST, MULTIPLEXED, FaultDaemon
from sample_api import CONTAINER_EXPORT, CONTAINER_LIST as LIST_OPERATION
from sample_api import ContainerSummary

from docker_engine import (
    APIError,
    BaseClient,
    DockerConnectionError,
    DockerError,
    InvalidResponse,
    ServerError,
    StreamError,
    Timeout,
    TimeoutError,
)
from docker_engine._frames import MAX_HELD_PAYLOAD, FrameDecoder, encode_frame
from docker_engine._operation import Location, Operation, Parameter, ResponseKind
from docker_engine._streams import CHUNK_SIZE

EVENTS = Operation(
    "SystemEvents", "GET", "/events", response=ResponseKind.JSON_STREAM, item_type=None
)
LOGS = Operation(
    "ContainerLogs",
    "GET",
    "/containers/{id}/logs",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
    response=ResponseKind.FRAMES,
)

# The client's timeouts in these tests. A case that waits for a timeout must end within
# READ_TIMEOUT plus SLACK seconds.
READ_TIMEOUT = 1.0
SLACK = 2.0


class Client(BaseClient):
    PACKAGE_API_VERSION = "1.44"
    MODELS_MODULE = "sample_api"


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultDaemon]:
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="de-faults-", dir="/tmp")
    daemon = FaultDaemon(directory).start()
    yield daemon
    daemon.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["unix", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_fds() -> dict[int, str]:
    """Return this process's open file descriptors and what each refers to."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            pass  # the descriptor listdir itself used, closed by now
    return found


@dataclass
class Outcome:
    result: Any
    error: DockerError | None
    seconds: float


def run_fault(
    faults: FaultDaemon,
    transport: str,
    name: str,
    action: Callable[[BaseClient], Any],
    **arguments: object,
) -> Outcome:
    """Run `action` against the fault `name` and check the client recovers and leaks nothing."""
    before = open_fds()
    client = Client(
        faults.host(transport),
        version="1.44",
        timeout=Timeout(connect=5.0, read=READ_TIMEOUT),
        max_connections=1,
    )
    faults.select(name, **arguments)
    started = time.monotonic()
    result: Any = None
    error: DockerError | None = None
    try:
        result = action(client)
    except DockerError as caught:
        error = caught
    seconds = time.monotonic() - started

    # With one connection allowed, a slot the fault leaked would make this call wait for
    # the connect timeout and raise.
    faults.select("ok")
    healthy = client.call(LIST_OPERATION, {}, timeout=Timeout(connect=1.0, read=5.0))
    assert [summary.id for summary in healthy] == [CONTAINER_LIST[0]["Id"]]
    client.close()

    after = open_fds()
    leaked = {fd: target for fd, target in after.items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open after the fault {name}: {leaked}"
    return Outcome(result, error, seconds)


def list_containers(client: BaseClient) -> Any:
    return client.call(LIST_OPERATION, {})


def read_events(client: BaseClient) -> list[Any]:
    received: list[Any] = []
    try:
        for event in client.call(EVENTS, {}):
            received.append(event)
    except DockerError as error:
        error.received = received  # type: ignore[attr-defined]
        raise
    return received


def read_logs(client: BaseClient) -> bytes:
    return b"".join(data for _, data in client.call(LOGS, {"id": "4a3f"}))


def read_export(client: BaseClient) -> bytes:
    return client.call(CONTAINER_EXPORT, {"id": "4a3f"}).read()  # type: ignore[no-any-return]


# --- a body that ends too early ----------------------------------------------------------


def test_chunk_cut_json_response(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)
    assert "IncompleteRead" in str(outcome.error)


def test_chunk_cut_event_stream(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", read_events, before=3)
    assert isinstance(outcome.error, StreamError)
    assert "ended before its last chunk" in str(outcome.error)
    assert [event["Actor"]["Attributes"]["name"] for event in outcome.error.received] == [  # type: ignore[attr-defined]
        "c0",
        "c1",
        "c2",
    ]


def test_chunk_cut_log_frames(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "chunk-cut", read_logs, before=2, type=MULTIPLEXED)
    assert isinstance(outcome.error, StreamError)
    assert "ended before its last chunk" in str(outcome.error)


def test_chunk_cut_binary_body(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults, transport, "chunk-cut", read_export, before=2, type="application/x-tar"
    )
    assert isinstance(outcome.error, DockerConnectionError)


def test_short_body_with_length(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "short-body", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)
    assert "IncompleteRead" in str(outcome.error)


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
def test_invalid_chunk_size(
    faults: FaultDaemon,
    transport: str,
    read: Callable[[BaseClient], Any],
    content_type: str,
) -> None:
    outcome = run_fault(faults, transport, "bad-chunk-size", read, before=1, type=content_type)
    assert isinstance(outcome.error, (DockerConnectionError, StreamError))


# --- a connection reset ------------------------------------------------------------------


def test_reset_during_json_body(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "reset", list_containers)
    assert isinstance(outcome.error, DockerConnectionError)


def test_reset_during_event_stream(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "reset", read_events, stream=1, before=2)
    assert isinstance(outcome.error, (DockerConnectionError, StreamError))
    assert len(outcome.error.received) == 2  # type: ignore[union-attr]


# --- bodies that are not what the operation returns --------------------------------------


def test_invalid_json_body(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults, transport, "body", list_containers, type="application/json", body='[{"Id": "4a'
    )
    assert isinstance(outcome.error, InvalidResponse)
    assert "GET /v1.44/containers/json" in str(outcome.error)
    assert "is not valid JSON" in str(outcome.error)
    assert '[{"Id": "4a' in str(outcome.error)


def test_html_page_with_status_200(faults: FaultDaemon, transport: str) -> None:
    page = "<!DOCTYPE html><html><body><form>Sign in to the proxy</form></body></html>"
    outcome = run_fault(faults, transport, "body", list_containers, type="text/html", body=page)
    assert isinstance(outcome.error, InvalidResponse)
    assert "HTML page" in str(outcome.error)


def test_html_error_page_from_proxy(faults: FaultDaemon, transport: str) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    outcome = run_fault(
        faults, transport, "body", list_containers, status=502, type="text/html", body=page
    )
    assert isinstance(outcome.error, ServerError)
    assert outcome.error.status == 502
    assert "HTML page" in outcome.error.message
    assert "502 Bad Gateway" in outcome.error.message


def test_plain_text_server_error(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(
        faults,
        transport,
        "body",
        list_containers,
        status=500,
        type="text/plain",
        body="Internal Server Error: context deadline exceeded\n",
    )
    assert isinstance(outcome.error, ServerError)
    assert outcome.error.status == 500
    assert "context deadline exceeded" in outcome.error.message


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", ""])
def test_wrong_content_type_still_decodes(
    faults: FaultDaemon, transport: str, content_type: str
) -> None:
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
    assert outcome.result[0].names == ["/healthy"]


def test_event_stream_with_html_content_type(faults: FaultDaemon, transport: str) -> None:
    body = '{"Type":"container","Action":"start"}\n{"Type":"network","Action":"create"}\n'
    outcome = run_fault(faults, transport, "body", read_events, type="text/html", body=body)
    assert outcome.error is None
    assert [event["Type"] for event in outcome.result] == ["container", "network"]


def test_redirect_is_not_followed(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "redirect", list_containers, to="/v1.44/images/json")
    assert isinstance(outcome.error, APIError)
    assert outcome.error.status == 301
    assert "/v1.44/images/json" in outcome.error.message


# --- silence -----------------------------------------------------------------------------


def test_headers_never_come(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "silent", list_containers)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.error.phase == "read"
    assert outcome.seconds < READ_TIMEOUT + SLACK


def test_stream_headers_never_come(faults: FaultDaemon, transport: str) -> None:
    # Streams read their body without a time limit, but the headers come at once from
    # a real daemon, so waiting for them is bounded by the read timeout.
    outcome = run_fault(faults, transport, "silent", read_events)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.seconds < READ_TIMEOUT + SLACK


@pytest.mark.parametrize("close", [0, 1], ids=["chunked", "until-close"])
def test_quiet_stream_is_not_timed_out(faults: FaultDaemon, transport: str, close: int) -> None:
    # Once the headers are in, a stream waits for its next item without a time limit.
    outcome = run_fault(
        faults, transport, "slow-events", read_events, pause=READ_TIMEOUT + 0.5, close=close
    )
    assert outcome.error is None
    assert [event["time"] for event in outcome.result] == [1700000000, 1700000001]


def test_body_stops_midway(faults: FaultDaemon, transport: str) -> None:
    outcome = run_fault(faults, transport, "stalled-body", list_containers)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.seconds < READ_TIMEOUT + SLACK


# --- not HTTP at all ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["garbage", "close", "long-header"])
def test_not_an_http_response(faults: FaultDaemon, transport: str, name: str) -> None:
    outcome = run_fault(faults, transport, name, list_containers)
    assert isinstance(outcome.error, DockerConnectionError)
    assert "cannot connect to the Docker daemon" in str(outcome.error)


# --- floods ------------------------------------------------------------------------------


def resident_bytes() -> int:
    """Return this process's resident memory, from /proc/self/statm."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.timeout(120)
def test_frame_header_announcing_4_gib(faults: FaultDaemon, transport: str) -> None:
    streamed_mib = 256
    received = 0
    growth = 0

    def read(client: BaseClient) -> None:
        nonlocal received, growth
        start = resident_bytes()
        for stream, data in client.call(LOGS, {"id": "4a3f"}):
            assert stream == "stdout"
            assert len(data) <= MAX_HELD_PAYLOAD + CHUNK_SIZE
            received += len(data)
            growth = max(growth, resident_bytes() - start)

    outcome = run_fault(faults, transport, "huge-frame", read, mib=streamed_mib)
    assert isinstance(outcome.error, StreamError)
    assert "short of the end of a stdout frame" in str(outcome.error)
    # Up to MAX_HELD_PAYLOAD bytes wait for more when the body ends, and are lost with it.
    assert (streamed_mib << 20) - MAX_HELD_PAYLOAD < received <= streamed_mib << 20
    assert growth < 32 << 20, f"memory grew by {growth >> 20} MiB while reading the frame"


@pytest.mark.timeout(120)
def test_hundred_thousand_events(faults: FaultDaemon, transport: str) -> None:
    count = 100_000
    growth = 0

    def read(client: BaseClient) -> int:
        nonlocal growth
        start = resident_bytes()
        seen = 0
        for event in client.call(EVENTS, {}):
            assert event["time"] == 1700000000 + seen
            seen += 1
            if seen % 1000 == 0:
                growth = max(growth, resident_bytes() - start)
        return seen

    outcome = run_fault(faults, transport, "events", read, count=count)
    assert outcome.error is None
    assert outcome.result == count
    # The events are 20 MB of JSON; holding them decoded would take several times that.
    assert growth < 32 << 20, f"memory grew by {growth >> 20} MiB while reading the events"
    assert outcome.seconds < 60


def test_frame_decoder_returns_large_payload_in_pieces() -> None:
    payload = bytes(range(256)) * (3 * MAX_HELD_PAYLOAD // 256 + 7)
    body = encode_frame("stderr", payload) + encode_frame("stdout", b"after")
    decoder = FrameDecoder()
    pieces: list[tuple[str, bytes]] = []
    for start in range(0, len(body), 100_000):
        pieces += decoder.feed(body[start : start + 100_000])

    assert not decoder.pending
    assert pieces[-1] == ("stdout", b"after")
    large = pieces[:-1]
    assert {stream for stream, _ in large} == {"stderr"}
    assert b"".join(data for _, data in large) == payload
    # Each piece but the last is returned by the read that takes it past MAX_HELD_PAYLOAD.
    assert len(large) == 3
    for _, data in large[:-1]:
        assert MAX_HELD_PAYLOAD <= len(data) < MAX_HELD_PAYLOAD + 100_000
