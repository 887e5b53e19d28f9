"""Async streams against a fake daemon that writes raw bytes: framing, faults, hijacking.

The cases of test_streams_daemon.py for the asyncio client, plus closing from another
task and cancelling a task in the middle of a stream. Every test runs on a debug-mode
loop under the blocking-call detector of test_async_blocking.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from stream_daemon import Connection, RawRequest, StreamDaemon, chunk, head
from test_async_blocking import open_descriptors, run_checked

from docker_engine import AsyncBaseClient, ProgressError, StreamError
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
PULL = Operation(
    "ImageCreate", "POST", "/images/create", response=ResponseKind.PROGRESS
)

FRAMES = [("stdout", b"one\n"), ("stderr", b"two\n"), ("stdout", b"three" * 100)]
FRAMED_BODY = b"".join(encode_frame(stream, data) for stream, data in FRAMES)


@pytest.fixture
def daemon(short_tmp: str) -> Iterator[StreamDaemon]:
    server = StreamDaemon(short_tmp).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def client_for(daemon: StreamDaemon, version: str, **settings: Any) -> AsyncBaseClient:
    return AsyncBaseClient(daemon.host, version=version, timeout=10, **settings)


def chunked_route(content_type: str | None, pieces: list[bytes]):  # type: ignore[no-untyped-def]
    def route(request: RawRequest, connection: Connection) -> bool:
        headers = {"Transfer-Encoding": "chunked"}
        if content_type:
            headers["Content-Type"] = content_type
        connection.send(head(200, headers))
        for piece in pieces:
            connection.send(chunk(piece))
        connection.send(chunk(b""))
        return True

    return route


def inspect_route(tty: bool):  # type: ignore[no-untyped-def]
    def route(request: RawRequest, connection: Connection) -> bool:
        body = json.dumps({"Id": "abc", "Config": {"Tty": tty}}).encode()
        connection.send(
            head(
                200,
                {"Content-Type": "application/json", "Content-Length": str(len(body))},
            )
            + body
        )
        return True

    return route


def silent_route(first: bytes, release: threading.Event):  # type: ignore[no-untyped-def]
    """Send one chunk, then nothing until `release` is set, as a daemon with no news."""

    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(
            head(
                200,
                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            )
        )
        connection.send(chunk(first))
        release.wait(10)

    return route


# --- logs: framing -------------------------------------------------------------------------


def test_logs_frames_cut_across_chunks(daemon: StreamDaemon) -> None:
    pieces = [FRAMED_BODY[i : i + 5] for i in range(0, len(FRAMED_BODY), 5)]
    daemon.route(
        "GET", "/containers/abc/logs", chunked_route(MULTIPLEXED_STREAM_TYPE, pieces)
    )

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                assert stream.multiplexed
                assert stream.status == 200
                assert [pair async for pair in stream] == FRAMES
                assert stream.closed
            # Read to its end, the stream gave its connection back for the next request.
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                stdout, stderr = await stream.read_separated()
                assert stdout == b"one\n" + b"three" * 100
                assert stderr == b"two\n"
            stream = await client.call(LOGS, {"id": "abc"})
            assert [data async for data in stream.iter_stdout()] == [
                b"one\n",
                b"three" * 100,
            ]

    run_checked(main())
    assert daemon.connections == 1
    assert daemon.requests_to("/containers/abc/json") == []


def test_logs_raw_type_means_tty(daemon: StreamDaemon) -> None:
    body = b"\x01\x00\x00\x00\x00\x00\x00\x03abc"  # TTY bytes that look like a frame
    daemon.route("GET", "/containers/abc/logs", chunked_route(RAW_STREAM_TYPE, [body]))

    async def main() -> None:
        async with client_for(daemon, "1.42") as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                assert not stream.multiplexed
                assert await stream.read() == body

    run_checked(main())
    assert daemon.requests_to("/containers/abc/json") == []


@pytest.mark.parametrize("tty", [True, False])
def test_logs_before_1_42_framing_from_inspect(daemon: StreamDaemon, tty: bool) -> None:
    body = b"Hello from tty\r\n" if tty else FRAMED_BODY
    daemon.route("GET", "/containers/abc/logs", chunked_route(RAW_STREAM_TYPE, [body]))
    daemon.route("GET", "/containers/abc/json", inspect_route(tty))

    async def main() -> list[tuple[str, bytes]]:
        async with client_for(daemon, "1.41", max_connections=1) as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                assert stream.multiplexed is not tty
                return [pair async for pair in stream]

    pairs = run_checked(main())
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

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                received = []
                with pytest.raises(
                    StreamError, match="7 bytes short of the end of a stdout"
                ):
                    async for pair in stream:
                        received.append(pair)
                assert received == FRAMES[:2]
                assert stream.closed

    run_checked(main())


def test_logs_invalid_frame_header(daemon: StreamDaemon) -> None:
    body = encode_frame("stdout", b"ok") + b"Hello from tty\r\n"
    daemon.route(
        "GET", "/containers/abc/logs", chunked_route(MULTIPLEXED_STREAM_TYPE, [body])
    )

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                assert await stream.__anext__() == ("stdout", b"ok")
                with pytest.raises(
                    StreamError, match="invalid frame header .* at byte 10"
                ):
                    await stream.__anext__()
                assert stream.closed
                with pytest.raises(StopAsyncIteration):
                    await stream.__anext__()

    run_checked(main())


def test_logs_chunked_body_cut(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(
            head(
                200,
                {
                    "Content-Type": MULTIPLEXED_STREAM_TYPE,
                    "Transfer-Encoding": "chunked",
                },
            )
        )
        connection.send(chunk(FRAMED_BODY[:20]) + b"ff\r\nabc")

    daemon.route("GET", "/containers/abc/logs", route)

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(LOGS, {"id": "abc"}) as stream:
                with pytest.raises(StreamError, match="ended before its last chunk"):
                    [pair async for pair in stream]

    run_checked(main())


# --- JSON streams --------------------------------------------------------------------------


def test_events_yielded_before_next_arrives(daemon: StreamDaemon) -> None:
    first_seen = threading.Event()

    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(
            head(
                200,
                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            )
        )
        connection.send(chunk(b'{"Type": "container", '))
        connection.send(chunk(b'"Action": "create"}'))  # no newline after it
        assert first_seen.wait(10), "the client did not yield the first event in time"
        connection.send(chunk(b'{"Type": "container", "Action": "destroy"}'))
        connection.send(chunk(b""))
        return True

    daemon.route("GET", "/events", route)

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(EVENTS, {}) as events:
                assert await events.__anext__() == {
                    "Type": "container",
                    "Action": "create",
                }
                first_seen.set()
                assert [event async for event in events] == [
                    {"Type": "container", "Action": "destroy"}
                ]

    run_checked(main())


@pytest.mark.parametrize(
    ("content_type", "separator"),
    [
        ("application/x-ndjson", b"\n"),
        ("application/jsonl", b"\r\n"),
        ("application/json-seq", b"\x1e"),
        ("application/json", b""),
    ],
)
def test_events_content_types(
    daemon: StreamDaemon, content_type: str, separator: bytes
) -> None:
    documents = [{"id": str(n), "status": "start"} for n in range(5)]
    if separator == b"\x1e":
        body = b"".join(b"\x1e" + json.dumps(d).encode() + b"\n" for d in documents)
    else:
        body = b"".join(json.dumps(d).encode() + separator for d in documents)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    daemon.route("GET", "/events", chunked_route(content_type, pieces))

    async def main() -> list[Any]:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(EVENTS, {}) as events:
                return [event async for event in events]

    assert run_checked(main()) == documents


def test_events_aclose_from_another_task(daemon: StreamDaemon) -> None:
    release = threading.Event()
    daemon.route("GET", "/events", silent_route(b'{"n": 1}\n', release))

    async def main() -> list[Any]:
        async with client_for(daemon, "1.44") as client:
            events = await client.call(EVENTS, {})
            received: list[Any] = []

            async def consume() -> None:
                async for event in events:
                    received.append(event)

            reader = asyncio.create_task(consume())
            while not received:
                await asyncio.sleep(0.01)
            await events.aclose()
            # The iteration ends without an error.
            async with asyncio.timeout(5):
                await reader
            return received

    try:
        assert run_checked(main()) == [{"n": 1}]
    finally:
        release.set()


def test_stats_one_document(daemon: StreamDaemon) -> None:
    document = {"read": "2024-01-01T00:00:00Z", "pids_stats": {"current": 1}}
    body = json.dumps(document).encode() + b"\n"
    daemon.route(
        "GET", "/containers/abc/stats", chunked_route("application/json", [body])
    )
    daemon.route("GET", "/containers/def/stats", chunked_route("application/json", []))

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            stats = await client.call(STATS, {"id": "abc"})
            assert await stats.one() == document
            assert stats.closed
            with pytest.raises(StreamError, match="ended without a JSON document"):
                await (await client.call(STATS, {"id": "def"})).one()

    run_checked(main())


def test_json_stream_cut_inside_document(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        connection.send(head(200, {"Content-Type": "application/json"}))
        connection.send(b'{"a": 1}\n{"b": ')

    daemon.route("GET", "/events", route)

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(EVENTS, {}) as events:
                assert await events.__anext__() == {"a": 1}
                with pytest.raises(StreamError, match="ended inside a JSON document"):
                    await events.__anext__()

    run_checked(main())


# --- progress ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error_line",
    [
        {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"},
        {"errorDetail": {"message": "manifest unknown"}},  # API 1.52 and later
        {"error": "manifest unknown"},  # old daemons
    ],
)
def test_progress_error_at_its_line(
    daemon: StreamDaemon, error_line: dict[str, object]
) -> None:
    lines = [
        {"status": "Pulling from library/nothing", "id": "latest"},
        {
            "status": "Downloading",
            "progressDetail": {"current": 1, "total": 2},
            "id": "f00",
        },
        error_line,
        {"status": "never read"},
    ]
    body = b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)
    daemon.route("POST", "/images/create", chunked_route("application/json", [body]))

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            stream = await client.call(PULL, {})
            received = []
            with pytest.raises(ProgressError) as raised:
                async for item in stream:
                    received.append(item)
            assert received == lines[:2]
            assert raised.value.message == "manifest unknown"
            assert raised.value.status == 200
            assert raised.value.item == error_line
            assert "POST /v1.44/images/create" in str(raised.value)
            assert stream.closed

    run_checked(main())


def test_progress_wait(daemon: StreamDaemon) -> None:
    lines = [{"stream": "Step 1/1"}, {"aux": {"ID": "sha256:abc"}}]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    failing = {
        "errorDetail": {"code": 3, "message": "returned a non-zero code: 3"},
        "error": "x",
    }
    failed = (
        json.dumps({"stream": "Step 1/2"}).encode()
        + b"\n"
        + json.dumps(failing).encode()
    )
    pieces = {"ok": [body], "failed": [failed]}

    def route(request: RawRequest, connection: Connection) -> bool:
        return chunked_route("application/json", pieces[request.query["fromImage"][0]])(
            request, connection
        )

    daemon.route("POST", "/images/create", route)
    pull = Operation(
        "ImageCreate",
        "POST",
        "/images/create",
        parameters=(Parameter("fromImage", "from_image", Location.QUERY),),
        response=ResponseKind.PROGRESS,
    )

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            assert await (await client.call(pull, {"from_image": "ok"})).wait() == lines
            with pytest.raises(ProgressError) as raised:
                await (await client.call(pull, {"from_image": "failed"})).wait()
            assert raised.value.code == 3
            assert raised.value.message == "returned a non-zero code: 3"

    run_checked(main())


# --- hijacked connections ------------------------------------------------------------------


def echo_route(content_type: str, greeting: bytes = b"", *, upgrade: bool = True):  # type: ignore[no-untyped-def]
    """Upgrade, then send each stdin read back as a stdout frame; at stdin's end send
    "bye" on stderr and close."""

    def route(request: RawRequest, connection: Connection) -> None:
        if upgrade:
            response = head(
                101,
                {
                    "Content-Type": content_type,
                    "Connection": "Upgrade",
                    "Upgrade": "tcp",
                },
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

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            stream = await client.call(ATTACH, {"id": "abc", "stdin": True})
            async with stream:
                assert stream.hijacked
                assert stream.multiplexed
                assert stream.status == 101
                assert await stream.__anext__() == ("stdout", b"ready\n")
                await stream.write(b"line 1\n")
                assert await stream.__anext__() == ("stdout", b"line 1\n")
                await stream.write(b"line 2\n")
                assert await stream.__anext__() == ("stdout", b"line 2\n")
                await stream.close_write()
                assert [pair async for pair in stream] == [("stderr", b"bye")]
            with pytest.raises(StreamError, match="is closed"):
                await stream.write(b"late")

    run_checked(main())
    request = daemon.requests_to("/containers/abc/attach")[0]
    assert request.headers["Connection"] == "Upgrade"
    assert request.headers["Upgrade"] == "tcp"


def test_attach_write_while_another_task_reads(daemon: StreamDaemon) -> None:
    daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))

    async def main() -> bytes:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(
                ATTACH, {"id": "abc", "stdin": True}
            ) as stream:

                async def feed() -> None:
                    for number in range(50):
                        await stream.write(b"%d\n" % number)
                        await asyncio.sleep(0)
                    await stream.close_write()

                writer = asyncio.create_task(feed())
                stdout, stderr = await stream.read_separated()
                await writer
                assert stderr == b"bye"
                return stdout

    assert run_checked(main()) == b"".join(b"%d\n" % number for number in range(50))


def test_attach_communicate_large_input(daemon: StreamDaemon) -> None:
    daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))
    data = os.urandom(3 * 1024 * 1024)  # more than the socket buffers hold

    async def main() -> tuple[bytes, bytes]:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(
                ATTACH, {"id": "abc", "stdin": True}
            ) as stream:
                return await stream.communicate(data, timeout=30)

    stdout, stderr = run_checked(main())
    assert stdout == data
    assert stderr == b"bye"


def test_communicate_after_iterating_refused(daemon: StreamDaemon) -> None:
    daemon.route(
        "POST",
        "/containers/abc/attach",
        echo_route(MULTIPLEXED_STREAM_TYPE, encode_frame("stdout", b"ready\n")),
    )

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            async with await client.call(
                ATTACH, {"id": "abc", "stdin": True}
            ) as stream:
                await stream.__anext__()
                with pytest.raises(StreamError, match="before iterating"):
                    await stream.communicate(b"x")

    run_checked(main())


def test_attach_200_without_upgrade(daemon: StreamDaemon) -> None:
    daemon.route(
        "POST", "/containers/abc/attach", echo_route(RAW_STREAM_TYPE, upgrade=False)
    )
    daemon.route("GET", "/containers/abc/json", inspect_route(False))

    async def main() -> None:
        async with client_for(daemon, "1.41") as client:
            async with await client.call(
                ATTACH, {"id": "abc", "stdin": True}
            ) as stream:
                assert stream.hijacked
                assert stream.multiplexed
                assert await stream.communicate(b"hi") == (b"hi", b"bye")

    run_checked(main())


def test_exec_start_framing_from_body(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> None:
        tty = json.loads(request.body)["Tty"]
        connection.send(
            head(101, {"Content-Type": RAW_STREAM_TYPE, "Upgrade": "tcp"}, "UPGRADED")
        )
        connection.send(b"tty output\r\n" if tty else encode_frame("stderr", b"framed"))

    daemon.route("POST", "/exec/e1/start", route)

    async def main() -> None:
        async with client_for(daemon, "1.41") as client:
            async with await client.call(
                EXEC_START, {"id": "e1"}, body={"Tty": True}
            ) as stream:
                assert not stream.multiplexed
                # With a TTY, stdin stays open after the input, and the daemon ends output.
                assert await stream.communicate() == (b"tty output\r\n", b"")
            async with await client.call(
                EXEC_START, {"id": "e1"}, body={"Tty": False}
            ) as stream:
                assert await stream.communicate() == (b"", b"framed")

    run_checked(main())
    assert daemon.requests_to("/exec/e1/json") == []


def test_exec_start_detached_not_hijacked(daemon: StreamDaemon) -> None:
    def route(request: RawRequest, connection: Connection) -> bool:
        connection.send(head(200, {"Content-Length": "0"}))
        return True

    daemon.route("POST", "/exec/e1/start", route)

    async def main() -> None:
        async with client_for(daemon, "1.44") as client:
            body = {"Detach": True}
            async with await client.call(EXEC_START, {"id": "e1"}, body=body) as stream:
                assert not stream.hijacked
                assert [pair async for pair in stream] == []
                with pytest.raises(StreamError, match="no stdin to write to"):
                    await stream.write(b"x")
            # The empty 200 response left its connection reusable.
            async with await client.call(EXEC_START, {"id": "e1"}, body=body) as stream:
                assert [pair async for pair in stream] == []

    run_checked(main())
    assert daemon.connections == 1


# --- cancellation --------------------------------------------------------------------------


def test_cancelled_task_mid_stream_leaks_nothing(daemon: StreamDaemon) -> None:
    release = threading.Event()
    daemon.route("GET", "/events", silent_route(b'{"n": 1}\n', release))
    daemon.route(
        "POST",
        "/containers/abc/attach",
        echo_route(MULTIPLEXED_STREAM_TYPE, encode_frame("stdout", b"ready\n")),
    )
    directory = os.path.dirname(daemon.host.removeprefix("unix://"))

    async def descriptors() -> set[int]:
        return await asyncio.to_thread(open_descriptors, except_under=directory)

    async def main() -> None:
        client = client_for(daemon, "1.44", max_connections=2)
        before = await descriptors()
        started = asyncio.Event()

        async def follow_events() -> None:
            async for _ in await client.call(EVENTS, {}):
                started.set()

        async def attach() -> None:
            stream = await client.call(ATTACH, {"id": "abc", "stdin": True})
            async for _ in stream:
                started.set()

        for work in (follow_events, attach):
            started.clear()
            task = asyncio.create_task(work())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await asyncio.sleep(0.05)
        assert await descriptors() <= before

        # Both cancelled streams gave their slots back.
        for _ in range(2):
            stream = await client.call(EVENTS, {})
            assert await stream.__anext__() == {"n": 1}
            await stream.aclose()
        await client.aclose()

    try:
        run_checked(main())
    finally:
        release.set()


def test_stream_left_unclosed_frees_its_slot(daemon: StreamDaemon) -> None:
    release = threading.Event()
    daemon.route("GET", "/events", silent_route(b'{"n": 1}\n', release))

    async def main() -> None:
        client = client_for(daemon, "1.44", max_connections=1)
        stream = await client.call(EVENTS, {})
        assert await stream.__anext__() == {"n": 1}
        del stream  # dropped without aclose(): the garbage collector closes it
        stream = await client.call(EVENTS, {})
        await stream.aclose()
        await client.aclose()

    try:
        run_checked(main())
    finally:
        release.set()


# --- TLS -----------------------------------------------------------------------------------


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
    )  # fmt: skip
    return {"key": key, "cert": cert}


def test_attach_over_tls_half_close(short_tmp: str, tls_files: dict[str, str]) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    # close_write() ends the TCP writing side without a TLS close_notify. Go's TLS, which
    # the daemon uses, reads that as the end of input and keeps writing; OpenSSL 3 does
    # the same only with this option.
    context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    daemon = StreamDaemon(short_tmp, tls_context=context).start()
    daemon.route("POST", "/containers/abc/attach", echo_route(MULTIPLEXED_STREAM_TYPE))
    tls = TLSConfig(ca_cert=tls_files["cert"])
    data = os.urandom(1024 * 1024)

    async def main() -> None:
        client = AsyncBaseClient(daemon.host, version="1.44", tls=tls, timeout=10)
        async with await client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            await stream.write(b"over tls\n")
            assert await stream.__anext__() == ("stdout", b"over tls\n")
            await stream.close_write()
            # The fake daemon saw the end of stdin and still sent output over TLS.
            assert [pair async for pair in stream] == [("stderr", b"bye")]

        async with await client.call(ATTACH, {"id": "abc", "stdin": True}) as stream:
            assert await stream.communicate(data, timeout=30) == (data, b"bye")
        await client.aclose()

    try:
        run_checked(main())
    finally:
        daemon.stop()
    assert not daemon.errors, daemon.errors
