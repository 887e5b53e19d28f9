"""AsyncBaseClient.call against a fake daemon on a unix socket: what goes over the wire.

The same cases as test_client.py, for the asyncio client and its own HTTP code, plus what
only the asyncio client has: concurrency on one loop, cancellation, a client used on two
event loops. Every test runs its coroutine with run_checked, which fails it on any
blocking call made on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fake_daemon import Answer, FakeDaemon
from sample_api import (
    CONTAINER_ARCHIVE_INFO,
    CONTAINER_CREATE,
    CONTAINER_DELETE,
    CONTAINER_EXPORT,
    CONTAINER_INSPECT,
    CONTAINER_LIST,
    CONTAINER_START,
    IMAGE_LOAD,
    IMAGE_PUSH,
    SWARM_UNLOCK_KEY,
    SYSTEM_PING,
    ContainerCreateBody,
    ContainerSummary,
    CreateResponse,
    HostConfig,
)
from stream_daemon import Connection, RawRequest, StreamDaemon, head
from test_async_blocking import open_descriptors, run_checked

from docker_engine import AsyncBaseClient, InvalidArgument, Operation, Timeout
from docker_engine.errors import (
    APIError,
    APIVersionError,
    Conflict,
    DockerConnectionError,
    NotFound,
    ServerError,
    TimeoutError,
)

CONTAINERS = [
    {"Id": "abc", "Names": ["/web"], "Ports": [{"PrivatePort": 80, "Type": "tcp"}]}
]


class AsyncClient47(AsyncBaseClient):
    PACKAGE_API_VERSION = "1.47"
    MODELS_MODULE = "sample_api"


class AsyncClient43(AsyncBaseClient):
    PACKAGE_API_VERSION = "1.43"
    MODELS_MODULE = "sample_api"


class AsyncClient52(AsyncBaseClient):
    PACKAGE_API_VERSION = "1.52"
    MODELS_MODULE = "sample_api"


async def client_descriptors(daemon: FakeDaemon) -> set[int]:
    """Return the open descriptors but the fake daemon's own sockets, read in a thread."""
    directory = os.path.dirname(daemon.socket_path)
    return await asyncio.to_thread(open_descriptors, except_under=directory)


@pytest.fixture
def old_daemon(short_tmp: str) -> Iterator[FakeDaemon]:
    daemon = FakeDaemon(
        short_tmp, api_version="1.41", min_api_version="1.12", engine_version="20.10.24"
    ).start()
    yield daemon
    daemon.stop()


# --- negotiation ---------------------------------------------------------------------------


def test_creation_opens_no_connection(fake_daemon: FakeDaemon) -> None:
    client = AsyncClient47(fake_daemon.host)
    assert client.api_version is None
    assert fake_daemon.connections == 0


def test_negotiation_transcript_engine_29(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, CONTAINERS))

    async def main() -> list[Any]:
        async with AsyncClient47(fake_daemon.host) as client:
            result: list[Any] = await client.call(CONTAINER_LIST, {"all": True})
            assert client.api_version == "1.47"
            assert "includes the package's 1.47" in (client.negotiation_reason or "")
            return result

    containers = run_checked(main())
    targets = [request.target for request in fake_daemon.requests]
    assert targets == ["/_ping", "/version", "/v1.47/containers/json?all=1"]
    assert isinstance(containers[0], ContainerSummary)
    assert containers[0].ports[0].private_port == 80
    request = fake_daemon.requests[-1]
    assert request.headers["Host"] == "localhost"
    assert request.headers["User-Agent"].startswith("docker-engine-python/")


def test_negotiates_down_and_encodes_body(old_daemon: FakeDaemon) -> None:
    old_daemon.route(
        "POST", "/containers/create", Answer(201, {"Id": "new", "Warnings": []})
    )

    async def main() -> tuple[Any, AsyncClient47]:
        client = AsyncClient47(old_daemon.host)
        created = await client.call(
            CONTAINER_CREATE,
            {"name": "web", "platform": "linux"},
            body=ContainerCreateBody(image="busybox"),
        )
        await client.aclose()
        return created, client

    created, client = run_checked(main())
    assert client.api_version == "1.41"
    assert "negotiated down" in (client.negotiation_reason or "")
    assert created == CreateResponse(id="new", warnings=[])
    request = old_daemon.requests[-1]
    assert request.target == "/v1.41/containers/create?name=web&platform=linux"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == b'{"Image":"busybox"}'


def test_newer_features_refused_before_sending(old_daemon: FakeDaemon) -> None:
    async def main() -> None:
        client = AsyncClient47(old_daemon.host)
        with pytest.raises(APIVersionError) as raised:
            await client.call(SWARM_UNLOCK_KEY, {})
        assert raised.value.feature_since == "1.44"
        assert "whose maximum is 1.41" in str(raised.value)
        body = ContainerCreateBody(
            image="busybox", host_config=HostConfig(annotations={"a": "b"})
        )
        with pytest.raises(APIVersionError, match="HostConfig.Annotations"):
            await client.call(CONTAINER_CREATE, {}, body=body)
        await client.aclose()

    run_checked(main())
    assert [request.path for request in old_daemon.requests] == ["/_ping", "/version"]


def test_strict_refuses_older_daemon(old_daemon: FakeDaemon) -> None:
    async def main() -> None:
        client = AsyncClient47(old_daemon.host, strict=True)
        with pytest.raises(APIVersionError, match="strict=True"):
            await client.call(CONTAINER_LIST, {})
        assert client.api_version is None
        await client.aclose()

    run_checked(main())


def test_daemon_minimum_refuses_old_package(fake_daemon: FakeDaemon) -> None:
    async def main() -> None:
        client = AsyncClient43(fake_daemon.host)
        with pytest.raises(APIVersionError) as raised:
            await client.call(CONTAINER_LIST, {})
        assert raised.value.daemon_min == "1.44"
        assert "docker-engine-v1-44" in str(raised.value)
        assert client.api_version is None

        pinned = AsyncClient47(fake_daemon.host, version="1.43")
        with pytest.raises(APIVersionError) as raised:
            await pinned.call(CONTAINER_LIST, {})
        assert raised.value.status == 400
        assert raised.value.client_version == "1.43"
        await client.aclose()
        await pinned.aclose()

    run_checked(main())


def test_docker_api_version_pins(
    fake_daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "1.45")
    fake_daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host) as client:
            assert client.api_version == "1.45"
            await client.call(CONTAINER_LIST, {})
            assert client.daemon_version is None

    run_checked(main())
    assert [request.target for request in fake_daemon.requests] == [
        "/v1.45/containers/json"
    ]


def test_failed_probe_raises_and_retries(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/_ping", Answer(500, "daemon is starting"))
    fake_daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host) as client:
            with pytest.raises(ServerError, match="daemon is starting"):
                await client.call(CONTAINER_LIST, {})
            assert client.api_version is None
            del fake_daemon.routes[("GET", "/_ping")]
            await client.call(CONTAINER_LIST, {})
            assert client.api_version == "1.47"

    run_checked(main())


def test_negotiation_once_across_tasks(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    fake_daemon.route("GET", "/_ping", Answer(200, "OK", delay=0.2))

    async def main() -> None:
        async with AsyncClient52(fake_daemon.host) as client:
            await asyncio.gather(*(client.call(CONTAINER_LIST, {}) for _ in range(30)))

    run_checked(main())
    paths = [request.path for request in fake_daemon.requests]
    assert paths.count("/_ping") == 1
    assert paths.count("/version") == 1
    assert paths.count("/containers/json") == 30


def test_base_client_uses_daemon_version(fake_daemon: FakeDaemon) -> None:
    async def main() -> str:
        async with AsyncBaseClient(fake_daemon.host) as client:
            return await client.negotiate()

    assert run_checked(main()) == "1.52"


# --- responses -----------------------------------------------------------------------------


def test_error_statuses_map_to_exceptions(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route(
        "GET",
        "/containers/ghost/json",
        Answer(404, {"message": "No such container: ghost"}),
    )
    fake_daemon.route(
        "DELETE", "/containers/busy", Answer(409, {"message": "container is running"})
    )
    fake_daemon.route("POST", "/containers/abc/start", Answer(304))
    fake_daemon.route(
        "GET",
        "/containers/json",
        Answer(301, b"", {"Location": "http://elsewhere/login"}),
    )

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            with pytest.raises(NotFound) as raised:
                await client.call(CONTAINER_INSPECT, {"id": "ghost"})
            assert raised.value.message == "No such container: ghost"
            assert raised.value.path == "/v1.47/containers/ghost/json"
            with pytest.raises(Conflict):
                await client.call(CONTAINER_DELETE, {"id": "busy"})
            assert await client.call(CONTAINER_START, {"id": "abc"}) is None
            with pytest.raises(APIError) as redirected:
                await client.call(CONTAINER_LIST, {})
            assert redirected.value.status == 301
            assert "http://elsewhere/login" in str(redirected.value)

    run_checked(main())
    # Error bodies are read to their end, so one connection served all four.
    assert fake_daemon.connections == 1


def test_text_json_and_headers_responses(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/json", Answer(200, {"Id": "abc"}))
    fake_daemon.route(
        "HEAD",
        "/containers/abc/archive",
        Answer(200, b"", {"X-Docker-Container-Path-Stat": "e30="}),
    )

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            assert await client.call(SYSTEM_PING, {}) == "OK"
            inspected = await client.call(
                CONTAINER_INSPECT, {"id": "abc", "size": False}
            )
            assert inspected == {"Id": "abc"}
            headers = await client.call(
                CONTAINER_ARCHIVE_INFO, {"id": "abc", "path": "/etc"}
            )
            assert headers["X-Docker-Container-Path-Stat"] == "e30="
            # The HEAD response's Content-Length announces no body to read.
            assert await client.call(SYSTEM_PING, {}) == "OK"

    run_checked(main())
    assert fake_daemon.requests[1].query == {"size": ["0"]}
    assert fake_daemon.connections == 1


def test_large_json_decoded_in_thread(fake_daemon: FakeDaemon) -> None:
    containers = [{"Id": f"{n:064x}", "Names": [f"/c{n}"]} for n in range(20_000)]
    fake_daemon.route("GET", "/containers/json", Answer(200, containers))

    async def main() -> list[Any]:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            result: list[Any] = await client.call(CONTAINER_LIST, {})
            return result

    # One loop step that reads the 2.8 MB body took over 0.25 s once on a busy 2-core CI
    # machine, so this test allows 0.5 s per step. The detector's other checks (sleeps,
    # file and socket calls on the loop) apply unchanged.
    listed = run_checked(main(), slow_callback_duration=0.5)
    assert len(json.dumps(containers)) > 1024 * 1024
    assert len(listed) == 20_000
    assert listed[-1].names == ["/c19999"]


def test_header_with_line_break_refused(fake_daemon: FakeDaemon) -> None:
    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            with pytest.raises(InvalidArgument, match="line break"):
                await client.call(
                    IMAGE_PUSH, {"name": "app", "x_registry_auth": "abc\r\nX-Evil: 1"}
                )

    run_checked(main())
    assert fake_daemon.requests == []


# --- connections ---------------------------------------------------------------------------


def test_connections_reused_and_closed(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    fake_daemon.route(
        "GET", "/containers/abc/json", Answer(200, {"Id": "abc"}, close=True)
    )

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host) as client:
            for _ in range(5):
                await client.call(CONTAINER_LIST, {})
            assert fake_daemon.connections == 1
            # "Connection: close" ends the connection after its response.
            await client.call(CONTAINER_INSPECT, {"id": "abc"})
            await client.call(CONTAINER_LIST, {})
            assert fake_daemon.connections == 2

    run_checked(main())


def test_idle_connection_closed_by_daemon(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route(
        "GET", "/containers/abc/json", Answer(200, {"Id": "abc"}, drop=True)
    )

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            await client.call(CONTAINER_INSPECT, {"id": "abc"})
            await asyncio.sleep(0.1)
            assert await client.call(CONTAINER_INSPECT, {"id": "abc"}) == {"Id": "abc"}

    run_checked(main())
    assert fake_daemon.connections == 2
    assert len(fake_daemon.requests) == 2


def test_stale_connection_retried(short_tmp: str) -> None:
    """A kept-alive connection that the daemon closes as the next request arrives."""
    daemon = StreamDaemon(short_tmp).start()
    served: dict[int, int] = {}

    def route(request: RawRequest, connection: Connection) -> bool:
        served[request.connection_id] = served.get(request.connection_id, 0) + 1
        if served[request.connection_id] == 2:
            return False  # close without a response, as a daemon timing out an idle connection
        body = b'{"Id": "abc"}'
        connection.send(head(200, {"Content-Length": str(len(body))}) + body)
        return True

    daemon.route("GET", "/containers/abc/json", route)

    async def main() -> None:
        async with AsyncClient47(daemon.host, version="1.47") as client:
            for _ in range(2):
                assert await client.call(CONTAINER_INSPECT, {"id": "abc"}) == {
                    "Id": "abc"
                }

    try:
        run_checked(main())
    finally:
        daemon.stop()
    assert served == {1: 2, 2: 1}
    assert not daemon.errors


def test_read_timeouts(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, [], delay=1.0))
    fake_daemon.route("GET", "/containers/abc/json", Answer(200, {"Id": "abc"}))

    async def main() -> None:
        client = AsyncClient47(
            fake_daemon.host, version="1.47", timeout=Timeout(connect=1, read=5)
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            await client.call(CONTAINER_LIST, {}, timeout=0.3)
        assert time.monotonic() - started < 0.9
        assert raised.value.phase == "read"
        assert raised.value.timeout == 0.3
        assert fake_daemon.host in str(raised.value)
        # The connection that timed out is closed; the next call opens another.
        assert await client.call(CONTAINER_INSPECT, {"id": "abc"}) == {"Id": "abc"}
        await client.aclose()

        short = AsyncClient47(fake_daemon.host, version="1.47", timeout=0.3)
        with pytest.raises(TimeoutError):
            await short.call(CONTAINER_LIST, {})
        await short.aclose()

    run_checked(main())


def test_missing_socket_and_refused(short_tmp: str) -> None:
    stale = os.path.join(short_tmp, "stale.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(stale)
    listener.close()  # the file stays, nothing listens: a daemon that died

    async def main() -> None:
        missing = AsyncClient47(f"unix://{short_tmp}/missing.sock")
        with pytest.raises(DockerConnectionError) as raised:
            await missing.call(CONTAINER_LIST, {})
        assert f"{short_tmp}/missing.sock does not exist" in str(raised.value)
        assert raised.value.source == "the base_url argument"

        refused = AsyncClient47(f"unix://{stale}")
        with pytest.raises(DockerConnectionError, match="nothing is listening"):
            await refused.call(CONTAINER_LIST, {})

    run_checked(main())


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_tcp_host(short_tmp: str, address: str) -> None:
    try:
        daemon = FakeDaemon(short_tmp, tcp_address=address).start()
    except OSError as error:
        pytest.skip(f"cannot listen on {address}: {error}")
    daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        async with AsyncClient47(daemon.host, version="1.47") as client:
            assert await client.call(CONTAINER_LIST, {}) == []

    try:
        run_checked(main())
    finally:
        daemon.stop()
    port = daemon.host.rsplit(":", 1)[1]
    expected = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    assert daemon.requests[0].headers["Host"] == expected


def test_pool_limit_under_concurrency(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, CONTAINERS, delay=0.002))

    async def main() -> list[Any]:
        async with AsyncClient47(
            fake_daemon.host, version="1.47", max_connections=3
        ) as client:
            return list(
                await asyncio.gather(
                    *(client.call(CONTAINER_LIST, {}) for _ in range(200))
                )
            )

    results = run_checked(main())
    assert [len(result) for result in results] == [1] * 200
    assert 1 <= fake_daemon.connections <= 3
    assert len(fake_daemon.requests) == 200


def test_pool_limit_waits_then_times_out(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, b"x" * 1_000_000))
    fake_daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        client = AsyncClient47(
            fake_daemon.host,
            version="1.47",
            max_connections=1,
            timeout=Timeout(connect=0.3, read=5),
        )
        stream = await client.call(CONTAINER_EXPORT, {"id": "abc"})
        with pytest.raises(TimeoutError, match="1 connections"):
            await client.call(CONTAINER_LIST, {})
        await stream.aclose()
        # Closing the stream freed the only slot.
        assert await client.call(CONTAINER_LIST, {}) == []
        await client.aclose()

    run_checked(main())


def test_client_on_two_event_loops(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = AsyncClient47(fake_daemon.host, max_connections=2)

    async def main() -> None:
        await asyncio.gather(*(client.call(CONTAINER_LIST, {}) for _ in range(4)))
        await asyncio.gather(*(client.call(CONTAINER_LIST, {}) for _ in range(4)))
        await client.aclose()

    run_checked(main())
    run_checked(main())
    assert client.api_version == "1.47"
    # Negotiated once; each loop opened and reused connections of its own.
    assert [request.path for request in fake_daemon.requests].count("/_ping") == 1
    assert fake_daemon.connections == 4


# --- bodies --------------------------------------------------------------------------------


def test_binary_bodies(fake_daemon: FakeDaemon, tmp_path: Any) -> None:
    fake_daemon.route("POST", "/images/load", Answer(200, {"stream": "Loaded"}))
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"tar bytes " * 100_000)

    def pieces() -> Iterator[bytes]:
        yield b"part one, "
        yield b""
        yield b"part two"

    async def async_pieces() -> AsyncIterator[bytes]:
        yield b"async one, "
        await asyncio.sleep(0)
        yield b"async two"

    async def main(file: Any) -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            result = await client.call(IMAGE_LOAD, {"quiet": True}, body=pieces())
            assert result == {"stream": "Loaded"}
            await client.call(IMAGE_LOAD, {}, body=async_pieces())
            await client.call(IMAGE_LOAD, {}, body=[b"from ", b"a list"])
            await client.call(IMAGE_LOAD, {}, body=file)
            await client.call(IMAGE_LOAD, {}, body=b"plain bytes")

    # Opened before the loop runs: opening a file on the loop is a blocking call.
    with open(archive, "rb") as file:
        run_checked(main(file))
    generator, asynchronous, listed, from_file, plain = fake_daemon.requests
    assert generator.headers["Transfer-Encoding"] == "chunked"
    assert generator.headers["Content-Type"] == "application/x-tar"
    assert generator.body == b"part one, part two"
    assert asynchronous.body == b"async one, async two"
    assert listed.body == b"from a list"
    assert from_file.headers["Content-Length"] == str(1_000_000)
    assert "Transfer-Encoding" not in from_file.headers
    assert from_file.body == archive.read_bytes()
    assert plain.headers["Content-Length"] == "11"
    assert plain.body == b"plain bytes"


def test_body_of_wrong_type_refused(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("POST", "/images/load", Answer(200, {}))

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            with pytest.raises(InvalidArgument, match="yielded str, not bytes"):
                await client.call(IMAGE_LOAD, {}, body=["text"])
            with pytest.raises(InvalidArgument, match="not str"):
                await client.call(IMAGE_LOAD, {}, body="text")

    run_checked(main())


# --- binary streams, cancellation ----------------------------------------------------------


def test_binary_stream(fake_daemon: FakeDaemon, tmp_path: Any) -> None:
    payload = bytes(range(256)) * 4096
    fake_daemon.route(
        "GET",
        "/containers/abc/export",
        Answer(200, payload, {"Content-Type": "application/x-tar"}),
    )
    destination = tmp_path / "export.tar"

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            stream = await client.call(CONTAINER_EXPORT, {"id": "abc"})
            assert stream.headers["Content-Type"] == "application/x-tar"
            chunks = [chunk async for chunk in stream]
            assert len(chunks) > 1
            assert b"".join(chunks) == payload
            assert (
                await (await client.call(CONTAINER_EXPORT, {"id": "abc"})).read()
                == payload
            )
            stream = await client.call(CONTAINER_EXPORT, {"id": "abc"})
            assert await stream.write_to(str(destination)) == len(payload)

    run_checked(main())
    assert destination.read_bytes() == payload
    assert fake_daemon.connections == 1


def test_binary_stream_closed_early(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, b"x" * 1_000_000))
    fake_daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        async with AsyncClient47(
            fake_daemon.host, version="1.47", max_connections=1
        ) as client:
            async with await client.call(CONTAINER_EXPORT, {"id": "abc"}) as stream:
                assert await stream.__anext__()
            await client.call(CONTAINER_LIST, {})

    run_checked(main())
    assert fake_daemon.connections == 2


def test_cancelled_call_closes_its_connection(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, [], delay=0.5))
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, b"x" * 10_000_000))

    async def main() -> None:
        client = AsyncClient47(fake_daemon.host, version="1.47", max_connections=1)
        before = await client_descriptors(fake_daemon)

        task = asyncio.create_task(client.call(CONTAINER_LIST, {}))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        async def read_some() -> None:
            stream = await client.call(CONTAINER_EXPORT, {"id": "abc"})
            async for _ in stream:
                await asyncio.sleep(0.01)

        reader = asyncio.create_task(read_some())
        await asyncio.sleep(0.2)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        await asyncio.sleep(0.05)
        assert (
            await client_descriptors(fake_daemon) <= before
        ), "a cancelled call left a socket"

        # Both cancellations gave the only slot back.
        fake_daemon.routes[("GET", "/containers/json")] = Answer(200, [])
        async with asyncio.timeout(5):
            assert await client.call(CONTAINER_LIST, {}) == []
        await client.aclose()

    run_checked(main())


def test_aclose_closes_idle_connections(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, [], delay=0.01))

    async def main() -> None:
        before = await client_descriptors(fake_daemon)
        client = AsyncClient47(fake_daemon.host, version="1.47")
        await asyncio.gather(*(client.call(CONTAINER_LIST, {}) for _ in range(5)))
        assert len(await client_descriptors(fake_daemon) - before) == 5
        await client.aclose()
        assert await client_descriptors(fake_daemon) <= before

    run_checked(main())


def test_bad_result_type_names_models_module(fake_daemon: FakeDaemon) -> None:
    broken = Operation(
        operation_id="Broken",
        method="GET",
        path="/containers/json",
        result_type="list[Nope]",
    )
    fake_daemon.route("GET", "/containers/json", Answer(200, []))

    async def main() -> None:
        async with AsyncClient47(fake_daemon.host, version="1.47") as client:
            with pytest.raises(TypeError, match="sample_api"):
                await client.call(broken, {})

    run_checked(main())


def test_credentials_to_plain_remote_refused(
    short_tmp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = FakeDaemon(short_tmp, tcp_address="127.0.0.1").start()
    daemon.route("POST", "/images/app/push", Answer(200, b""))
    port = daemon.host.rsplit(":", 1)[1]
    # "docker.test" is not a loopback name, so the client treats it as remote; this
    # process resolves it to 127.0.0.1, so nothing leaves the machine.
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *arguments: Any, **keywords: Any) -> Any:
        return original(
            "127.0.0.1" if host == "docker.test" else host, *arguments, **keywords
        )

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    auth = {"x_registry_auth": {"username": "me", "password": "secret"}}

    async def main() -> None:
        refusing = AsyncClient47(f"tcp://docker.test:{port}", version="1.47")
        with pytest.raises(InvalidArgument, match="allow_insecure_credentials=True"):
            await refusing.call(IMAGE_PUSH, {"name": "app", **auth})
        assert daemon.requests == []

        allowing = AsyncClient47(
            f"tcp://docker.test:{port}", version="1.47", allow_insecure_credentials=True
        )
        await allowing.call(IMAGE_PUSH, {"name": "app", **auth})
        await allowing.aclose()
        await refusing.aclose()

    try:
        run_checked(main())
    finally:
        daemon.stop()
    assert [request.path for request in daemon.requests] == ["/images/app/push"]
    assert "X-Registry-Auth" in daemon.requests[0].headers
