"""Streams against a fake daemon that writes raw bytes: framing choice, faults, hijacking."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from stream_daemon import Connection, RawRequest, StreamDaemon, chunk, head

from docker_engine import BaseClient, ProgressError, StreamError
from docker_engine._exec import EXEC_START
from docker_engine._frames import MULTIPLEXED_STREAM_TYPE, RAW_STREAM_TYPE, encode_frame
from docker_engine._operation import Location, Operation, Parameter, ResponseKind
from docker_engine._tls import TLSConfig

ID = Parameter("id", "id", Location.PATH, required=True)
LOGS = Operation(
    "ContainerLogs",
    "GET",
    "/containers/{id}/logs",
    parameters=(ID, Parameter("follow", "follow", Location.QUERY, type="boolean")),
    response=ResponseKind.FRAMES,
)
ATTACH = Operation(
    "ContainerAttach",
    "POST",
    "/containers/{id}/attach",
    parameters=(ID, Parameter("stdin", "stdin", Location.QUERY, type="boolean")),
    response=ResponseKind.HIJACK,
)
EVENTS = Operation("SystemEvents", "GET", "/events", response=ResponseKind.JSON_STREAM)
STATS = Operation(
    "ContainerStats",
    "GET",
    "/containers/{id}/stats",
    parameters=(ID,),
    response=ResponseKind.JSON_STREAM,
)
PULL = Operation("ImageCreate", "POST", "/images/create", response=ResponseKind.PROGRESS)

FRAMES = [("stdout", b"one\n"), ("stderr", b"two\n"), ("stdout", b"three" * 100)]
FRAMED_BODY = b"".join(encode_frame(s, d) for s, d in FRAMES)


@pytest.fixture
def daemon(short_tmp: str) -> Iterator[StreamDaemon]:
    server = StreamDaemon(short_tmp).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def client_for(daemon: StreamDaemon, version: str) -> BaseClient:
    return BaseClient(daemon.host, version=version, timeout=10)


def chunked_route(content_type: str | None, pieces: list[bytes], delay: float = 0.0):  # type: ignore[no-untyped-def]
    def route(request: RawRequest, connection: Connection) -> bool:
        headers = {"Transfer-Encoding": "chunked"}
        if content_type:
            headers["Content-Type"] = content_type
        connection.send(head(200, headers))
        for piece in pieces:
            connection.send(chunk(piece))
            if delay:
                time.sleep(delay)
        connection.send(chunk(b""))
        return True

    return route


def inspect_route(tty: bool):  # type: ignore[no-untyped-def]
    def route(request: RawRequest, connection: Connection) -> bool:
        body = json.dumps({"Id": "abc", "Config": {"Tty": tty}}).encode()
        connection.send(
            head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
            + body
        )
        return True

    return route


# --- logs: framing ------------------------------------------------------------------------


def test_logs_frames_cut_across_chunks(daemon: StreamDaemon) -> None:
    pieces = [FRAMED_BODY[i : i + 5] for i in range(0, len(FRAMED_BODY), 5)]
    daemon.route("GET", "/containers/abc/logs", chunked_route(MULTIPLEXED_STREAM_TYPE, pieces))
    client = client_for(daemon, "1.44")
    with client.call(LOGS, {"id": "abc"}) as stream:
        assert stream.multiplexed
        assert list(stream) == FRAMES
    # Read to its end, the stream gave its connection back for the next request.
    with client.call(LOGS, {"id": "abc"}) as stream:
        assert stream.read_separated() == (b"one\n" + b"three" * 100, b"two\n")
    assert daemon.connections == 1
    assert daemon.requests_to("/containers/abc/json") == []


def test_logs_raw_type_means_tty(daemon: StreamDaemon) -> None:
    body = b"\x01\x00\x00\x00\x00\x00\x00\x03abc"  # TTY bytes that look like a frame
    daemon.route("GET", "/containers/abc/logs", chunked_route(RAW_STREAM_TYPE, [body]))
    with client_for(daemon, "1.42").call(LOGS, {"id": "abc"}) as stream:
        assert not stream.multiplexed
        assert stream.read() == body
    assert daemon.requests_to("/containers/abc/json") == []


@pytest.mark.parametrize("tty", [True, False])
def test_logs_before_1_42_framing_from_inspect(daemon: StreamDaemon, tty: bool) -> None:
    body = b"Hello from tty\r\n" if tty else FRAMED_BODY
    daemon.route("GET", "/containers/abc/logs", chunked_route(RAW_STREAM_TYPE, [body]))
    daemon.route("GET", "/containers/abc/json", inspect_route(tty))
    with client_for(daemon, "1.41").call(LOGS, {"id": "abc"}) as stream:
        assert stream.multiplexed is not tty
        pairs = list(stream)
    if tty:
        assert b"".join(data for _, data in pairs) == b"Hello from tty\r\n"
        assert {name for name, _ in pairs} == {"stdout"}
    else:
        assert pairs == FRAMES
    inspections = daemon.requests_to("/containers/abc/json")
    assert len(inspections) == 1
    assert inspections[0].version == "1.41"


def test_logs_body_cut_inside_frame(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        # No length and no chunking: the body ends when the connection closes.
        connection.send(head(200, {"Content-Type": MULTIPLEXED_STREAM_TYPE}))
        connection.send(FRAMED_BODY[:-7])

    daemon.route("GET", "/containers/abc/logs", route)
    with client_for(daemon, "1.44").call(LOGS, {"id": "abc"}) as stream:
        received = []
        with pytest.raises(StreamError, match="7 bytes short of the end of a stdout frame"):
            for pair in stream:
                received.append(pair)
    assert received == FRAMES[:2]


def test_logs_invalid_frame_header(daemon: StreamDaemon) -> None:
    body = encode_frame("stdout", b"ok") + b"Hello from tty\r\n"
    daemon.route("GET", "/containers/abc/logs", chunked_route(MULTIPLEXED_STREAM_TYPE, [body]))
    with client_for(daemon, "1.44").call(LOGS, {"id": "abc"}) as stream:
        assert next(stream) == ("stdout", b"ok")
        with pytest.raises(StreamError, match="invalid frame header .* at byte 10"):
            next(stream)
        assert stream.closed


def test_logs_chunked_body_cut(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(head(200, {"Content-Type": MULTIPLEXED_STREAM_TYPE, "Transfer-Encoding": "chunked"}))
        connection.send(chunk(FRAMED_BODY[:20]) + b"ff\r\nabc")

    daemon.route("GET", "/containers/abc/logs", route)
    with client_for(daemon, "1.44").call(LOGS, {"id": "abc"}) as stream:
        with pytest.raises(StreamError, match="before its last chunk, 252 bytes short of the end of a chunk"):
            list(stream)


# --- JSON streams -------------------------------------------------------------------------


def test_events_yielded_before_next_arrives(daemon: StreamDaemon) -> None:
    first_seen = threading.Event()

    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        connection.send(chunk(b'{"Type": "container", '))
        connection.send(chunk(b'"Action": "create"}'))  # no newline after it
        assert first_seen.wait(10), "the client did not yield the first event in time"
        connection.send(chunk(b'{"Type": "container", "Action": "destroy"}'))
        connection.send(chunk(b""))
        return True

    daemon.route("GET", "/events", route)
    with client_for(daemon, "1.44").call(EVENTS, {}) as events:
        assert next(events) == {"Type": "container", "Action": "create"}
        first_seen.set()
        assert list(events) == [{"Type": "container", "Action": "destroy"}]


@pytest.mark.parametrize(
    ("content_type", "separator"),
    [
        ("application/x-ndjson", b"\n"),
        ("application/jsonl", b"\r\n"),
        ("application/json-seq", b"\x1e"),
        ("application/json", b""),
    ],
)
def test_events_content_types(daemon: StreamDaemon, content_type: str, separator: bytes) -> None:
    documents = [{"id": str(n), "status": "start"} for n in range(5)]
    if separator == b"\x1e":
        body = b"".join(b"\x1e" + json.dumps(d).encode() + b"\n" for d in documents)
    else:
        body = b"".join(json.dumps(d).encode() + separator for d in documents)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    daemon.route("GET", "/events", chunked_route(content_type, pieces))
    with client_for(daemon, "1.44").call(EVENTS, {}) as events:
        assert list(events) == documents


def test_events_close_from_another_thread(daemon: StreamDaemon) -> None:
    release = threading.Event()

    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        connection.send(chunk(b'{"n": 1}\n'))
        release.wait(10)  # then silence, as a daemon with no new events

    daemon.route("GET", "/events", route)
    events = client_for(daemon, "1.44").call(EVENTS, {})
    received: list[object] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            for event in events:
                received.append(event)
        except BaseException as error:  # noqa: BLE001 - checked below
            errors.append(error)

    reader = threading.Thread(target=consume)
    reader.start()
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    events.close()
    reader.join(5)
    release.set()
    assert not reader.is_alive(), "close() did not end the iteration"
    assert received == [{"n": 1}]
    assert errors == []


def test_stats_one_document(daemon: StreamDaemon) -> None:
    body = json.dumps({"read": "2024-01-01T00:00:00Z", "pids_stats": {"current": 1}}).encode() + b"\n"
    daemon.route("GET", "/containers/abc/stats", chunked_route("application/json", [body]))
    with client_for(daemon, "1.44").call(STATS, {"id": "abc"}) as stats:
        assert stats.one() == {"read": "2024-01-01T00:00:00Z", "pids_stats": {"current": 1}}
        assert stats.closed


def test_stats_one_on_empty_response(daemon: StreamDaemon) -> None:
    daemon.route("GET", "/containers/abc/stats", chunked_route("application/json", []))
    with pytest.raises(StreamError, match="ended without a JSON document"):
        client_for(daemon, "1.44").call(STATS, {"id": "abc"}).one()


def test_json_stream_cut_inside_document(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(head(200, {"Content-Type": "application/json"}))
        connection.send(b'{"a": 1}\n{"b": ')

    daemon.route("GET", "/events", route)
    with client_for(daemon, "1.44").call(EVENTS, {}) as events:
        assert next(events) == {"a": 1}
        with pytest.raises(StreamError, match="ended inside a JSON document"):
            next(events)


# --- progress -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error_line",
    [
        {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"},
        {"errorDetail": {"message": "manifest unknown"}},  # API 1.52 and later
        {"error": "manifest unknown"},  # old daemons
    ],
)
def test_progress_error_at_its_line(daemon: StreamDaemon, error_line: dict[str, object]) -> None:
    lines = [
        {"status": "Pulling from library/nothing", "id": "latest"},
        {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "f00"},
        error_line,
        {"status": "never read"},
    ]
    body = b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)
    daemon.route("POST", "/images/create", chunked_route("application/json", [body]))
    stream = client_for(daemon, "1.44").call(PULL, {})
    received = []
    with pytest.raises(ProgressError) as raised:
        for item in stream:
            received.append(item)
    assert received == lines[:2]
    assert raised.value.message == "manifest unknown"
    assert raised.value.status == 200
    assert raised.value.item == error_line
    assert "POST /v1.44/images/create" in str(raised.value)
    assert stream.closed


def test_progress_error_code(daemon: StreamDaemon) -> None:
    line = {"errorDetail": {"code": 3, "message": "returned a non-zero code: 3"}, "error": "x"}
    body = json.dumps({"stream": "Step 1/2"}).encode() + b"\n" + json.dumps(line).encode()
    daemon.route("POST", "/images/create", chunked_route("application/json", [body]))
    with pytest.raises(ProgressError) as raised:
        client_for(daemon, "1.44").call(PULL, {}).wait()
    assert raised.value.code == 3
    assert raised.value.message == "returned a non-zero code: 3"


def test_progress_wait_returns_lines(daemon: StreamDaemon) -> None:
    lines = [{"stream": "Step 1/1"}, {"aux": {"ID": "sha256:abc"}}]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    daemon.route("POST", "/images/create", chunked_route("application/json", [body]))
    assert client_for(daemon, "1.44").call(PULL, {}).wait() == lines


# --- hijacked connections -----------------------------------------------------------------


def echo_route(content_type: str, greeting: bytes = b"", *, upgrade: bool = True):  # type: ignore[no-untyped-def]
    """Upgrade, then send each stdin read back as a stdout frame; at stdin's end send
    "bye" on stderr and close."""

    def route(request: RawRequest, connection: Connection) -> None:
        if upgrade:
            response = head(
                101,
                {"Content-Type": content_type, "Connection": "Upgrade", "Upgrade": "tcp"},
                "UPGRADED",
            )
        else:
            response = head(200, {"Content-Type": content_type})
        connection.send(response + greeting)
        while True:
            data = connection.recv()
            if not data:
                break
            connection.send(encode_frame("stdout", data))
        connection.send(encode_frame("stderr", b"bye"))

    return route


def test_attach_write_close_write_read(daemon: StreamDaemon) -> None:
    daemon.route(
        "POST",
        "/containers/abc/attach",
        echo_route(MULTIPLEXED_STREAM_TYPE, encode_frame("stdout", b"ready\n")),
    )
    with client_for(daemon, "1.44").call(ATTACH, {"id": "abc", "stdin": True}) as stream:
        assert stream.hijacked and stream.multiplexed
        assert next(stream) == ("stdout", b"ready\n")
        stream.write(b"line 1\n")
        assert next(stream) == ("stdout", b"line 1\n")
        stream.write(b"line 2\n")
        assert next(stream) == ("stdout", b"line 2\n")
        stream.close_write()
        assert list(stream) == [("stderr", b"bye")]
    request = daemon.requests_to("/containers/abc/attach")[0]
    assert request.headers["Connection"] == "Upgrade"
    assert request.headers["Upgrade"] == "tcp"


def test_attach_communicate(daemon: StreamDaemon) -> None:
    daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))
    data = os.urandom(3 * 1024 * 1024)  # more than the socket buffers hold
    with client_for(daemon, "1.44").call(ATTACH, {"id": "abc", "stdin": True}) as stream:
        stdout, stderr = stream.communicate(data, timeout=30)
    assert stdout == data
    assert stderr == b"bye"


def test_attach_over_plain_tcp(short_tmp: str) -> None:
    daemon = StreamDaemon(short_tmp, tcp=True).start()
    try:
        daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))
        assert daemon.host.startswith("tcp://127.0.0.1:")
        client = BaseClient(daemon.host, version="1.44", tls=False, timeout=10)
        with client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            stream.write(b"over tcp\n")
            assert next(stream) == ("stdout", b"over tcp\n")
            stream.close_write()
            assert list(stream) == [("stderr", b"bye")]
        data = os.urandom(1024 * 1024)
        with client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            assert stream.communicate(data, timeout=30) == (data, b"bye")
    finally:
        daemon.stop()
    assert not daemon.errors, daemon.errors


def test_attach_200_without_upgrade(daemon: StreamDaemon) -> None:
    daemon.route(
        "POST", "/containers/abc/attach", echo_route(RAW_STREAM_TYPE, upgrade=False)
    )
    daemon.route("GET", "/containers/abc/json", inspect_route(False))
    with client_for(daemon, "1.41").call(ATTACH, {"id": "abc", "stdin": True}) as stream:
        assert stream.hijacked and stream.multiplexed
        assert stream.communicate(b"hi") == (b"hi", b"bye")


def test_exec_start_framing_from_body(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        tty = json.loads(request.body)["Tty"]
        connection.send(head(101, {"Content-Type": RAW_STREAM_TYPE, "Upgrade": "tcp"}, "UPGRADED"))
        connection.send(b"tty output\r\n" if tty else encode_frame("stderr", b"framed"))

    daemon.route("POST", "/exec/e1/start", route)
    client = client_for(daemon, "1.41")
    with client.call(EXEC_START, {"id": "e1"}, body={"Tty": True}) as stream:
        assert stream.communicate() == (b"tty output\r\n", b"")
    with client.call(EXEC_START, {"id": "e1"}, body={"Tty": False}) as stream:
        assert stream.communicate() == (b"", b"framed")
    assert daemon.requests_to("/exec/e1/json") == []


def test_exec_start_detached_not_hijacked(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(head(200, {"Content-Length": "0"}))
        return True

    daemon.route("POST", "/exec/e1/start", route)
    with client_for(daemon, "1.44").call(EXEC_START, {"id": "e1"}, body={"Detach": True}) as stream:
        assert not stream.hijacked
        assert list(stream) == []
        with pytest.raises(StreamError, match="no stdin to write to"):
            stream.write(b"x")


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture
def tls_files(short_tmp: str) -> dict[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = f"{short_tmp}/key.pem", f"{short_tmp}/cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", key, "-out", cert,
        ],
        check=True,
        capture_output=True,
    )
    return {"key": key, "cert": cert}


def test_attach_over_tls_half_close(short_tmp: str, tls_files: dict[str, str]) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    # close_write() ends the TCP writing side without a TLS close_notify. Go's TLS, which
    # the daemon uses, reads that as the end of input and keeps writing; OpenSSL 3 does
    # the same only with this option.
    context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    daemon = StreamDaemon(short_tmp, tls_context=context).start()
    try:
        daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))
        client = BaseClient(
            daemon.host, version="1.44", tls=TLSConfig(ca_cert=tls_files["cert"]), timeout=10
        )
        with client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            stream.write(b"over tls\n")
            assert next(stream) == ("stdout", b"over tls\n")
            stream.close_write()
            # The fake daemon saw the end of stdin and still sent output over TLS.
            assert list(stream) == [("stderr", b"bye")]

        data = os.urandom(1024 * 1024)
        with client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            assert stream.communicate(data, timeout=30) == (data, b"bye")
    finally:
        daemon.stop()
    assert not daemon.errors, daemon.errors
