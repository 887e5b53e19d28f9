"""BaseClient.call against a fake daemon on a unix socket: what goes over the wire."""

from __future__ import annotations

import sys
import threading
import time

import pytest
import sample_api
from fake_daemon import Answer, FakeDaemon
from sample_api import (
    CONTAINER_ARCHIVE_INFO,
    CONTAINER_CREATE,
    CONTAINER_DELETE,
    CONTAINER_EXPORT,
    CONTAINER_INSPECT,
    CONTAINER_LIST,
    CONTAINER_LOGS,
    CONTAINER_START,
    IMAGE_LOAD,
    SWARM_UNLOCK_KEY,
    SYSTEM_PING,
    Client43,
    Client47,
    Client52,
    ContainerCreateBody,
    ContainerSummary,
    CreateResponse,
    HostConfig,
    Port,
)

from docker_engine import BaseClient, Operation, ResponseKind, Timeout
from docker_engine.errors import (
    APIError,
    APIVersionError,
    Conflict,
    DockerConnectionError,
    NotFound,
    ServerError,
    TimeoutError,
)

CONTAINERS = [{"Id": "abc", "Names": ["/web"], "Ports": [{"PrivatePort": 80, "Type": "tcp"}], "State": "running"}]


def test_client_creation_opens_no_connection(fake_daemon: FakeDaemon) -> None:
    client = Client47(fake_daemon.host)
    assert client.api_version is None
    assert fake_daemon.connections == 0
    assert fake_daemon.requests == []


def test_negotiation_transcript_engine_29(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, CONTAINERS))
    client = Client47(fake_daemon.host)
    containers = client.call(CONTAINER_LIST, {"all": True})

    assert [r.target for r in fake_daemon.requests] == ["/_ping", "/version", "/v1.47/containers/json?all=1"]
    assert client.api_version == "1.47"
    assert client.daemon_version is not None
    assert client.daemon_version.min_api_version == "1.44"
    assert len(containers) == 1
    assert isinstance(containers[0], ContainerSummary)
    assert containers[0].id == "abc"
    assert containers[0].names == ["/web"]
    assert containers[0].ports == [Port(private_port=80, type="tcp")]
    assert containers[0].extra == {"State": "running"}


def test_every_request_has_version_prefix(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    fake_daemon.route("GET", "/_ping", Answer(200, "OK"))
    fake_daemon.route("DELETE", "/containers/abc", Answer(204))
    client = Client47(fake_daemon.host)
    client.call(CONTAINER_LIST, {})
    assert client.call(SYSTEM_PING, {}) == "OK"
    client.call(CONTAINER_DELETE, {"id": "abc", "force": True})
    after_probe = fake_daemon.requests[2:]
    assert [r.target for r in after_probe] == [
        "/v1.47/containers/json",
        "/v1.47/_ping",
        "/v1.47/containers/abc?force=1",
    ]
    assert all(r.version == "1.47" for r in after_probe)


def test_headers_sent(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    Client47(fake_daemon.host, version="1.47").call(CONTAINER_LIST, {})
    headers = fake_daemon.requests[0].headers
    assert headers["Host"] == "localhost"
    assert headers["User-Agent"].startswith("docker-engine-python/")


def test_package_below_daemon_minimum_refused(fake_daemon: FakeDaemon) -> None:
    client = Client43(fake_daemon.host)
    with pytest.raises(APIVersionError) as raised:
        client.call(CONTAINER_LIST, {})
    error = raised.value
    assert error.daemon_min == "1.44"
    assert error.daemon_max == "1.52"
    assert "docker-engine-v1-44" in str(error)
    assert [r.path for r in fake_daemon.requests] == ["/_ping", "/version"]


def test_pinned_version_rejected_by_daemon(fake_daemon: FakeDaemon) -> None:
    client = Client47(fake_daemon.host, version="1.43")
    assert client.api_version == "1.43"
    with pytest.raises(APIVersionError) as raised:
        client.call(CONTAINER_LIST, {})
    error = raised.value
    assert error.client_version == "1.43"
    assert error.daemon_min == "1.44"
    assert error.daemon_max == "1.52"
    assert error.status == 400
    assert "too old" in str(error)
    assert [r.target for r in fake_daemon.requests] == ["/v1.43/containers/json"]


def test_pinned_too_new_rejected_by_daemon(fake_daemon: FakeDaemon) -> None:
    with pytest.raises(APIVersionError) as raised:
        Client47(fake_daemon.host, version="1.99").call(CONTAINER_LIST, {})
    assert raised.value.daemon_max == "1.52"
    assert raised.value.client_version == "1.99"


def test_docker_api_version_variable_pins(fake_daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    monkeypatch.setenv("DOCKER_API_VERSION", "1.45")
    client = Client47(fake_daemon.host)
    assert client.api_version == "1.45"
    assert "DOCKER_API_VERSION" in (client.negotiation_reason or "")
    client.call(CONTAINER_LIST, {})
    assert [r.target for r in fake_daemon.requests] == ["/v1.45/containers/json"]
    assert Client47(fake_daemon.host, version="1.46").api_version == "1.46"


def test_docker_host_variable_used(fake_daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    monkeypatch.setenv("DOCKER_HOST", fake_daemon.host)
    Client47(version="1.47").call(CONTAINER_LIST, {})
    assert len(fake_daemon.requests) == 1


@pytest.fixture
def old_daemon(short_tmp: str):  # type: ignore[no-untyped-def]
    daemon = FakeDaemon(short_tmp, api_version="1.41", min_api_version="1.12", engine_version="20.10.24").start()
    yield daemon
    daemon.stop()


def test_negotiates_down_to_older_daemon(old_daemon: FakeDaemon) -> None:
    old_daemon.route("POST", "/containers/create", Answer(201, {"Id": "new", "Warnings": []}))
    client = Client47(old_daemon.host)
    created = client.call(
        CONTAINER_CREATE, {"name": "web", "platform": "linux"}, body=ContainerCreateBody(image="busybox")
    )
    assert client.api_version == "1.41"
    assert "negotiated down" in (client.negotiation_reason or "")
    assert created == CreateResponse(id="new", warnings=[])
    request = old_daemon.requests[-1]
    assert request.target == "/v1.41/containers/create?name=web&platform=linux"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == b'{"Image":"busybox"}'


def test_newer_features_refused_before_sending(old_daemon: FakeDaemon) -> None:
    client = Client47(old_daemon.host)
    with pytest.raises(APIVersionError) as raised:
        client.call(SWARM_UNLOCK_KEY, {})
    assert raised.value.feature_since == "1.44"
    assert "whose maximum is 1.41" in str(raised.value)

    body = ContainerCreateBody(image="busybox", host_config=HostConfig(annotations={"a": "b"}))
    with pytest.raises(APIVersionError, match="HostConfig.Annotations"):
        client.call(CONTAINER_CREATE, {}, body=body)
    assert [r.path for r in old_daemon.requests] == ["/_ping", "/version"]


def test_strict_refuses_older_daemon(old_daemon: FakeDaemon) -> None:
    client = Client47(old_daemon.host, strict=True)
    with pytest.raises(APIVersionError, match="strict=True"):
        client.call(CONTAINER_LIST, {})
    assert client.api_version is None


def test_ping_without_header_falls_back_to_version(short_tmp: str) -> None:
    daemon = FakeDaemon(short_tmp, api_version="1.26", min_api_version="1.12", ping_header=False).start()
    try:
        daemon.route("GET", "/containers/json", Answer(200, []))

        class Client26(BaseClient):
            PACKAGE_API_VERSION = "1.41"

        client = Client26(daemon.host)
        client.call(CONTAINER_LIST, {})
        assert client.api_version == "1.26"
        assert daemon.requests[-1].target == "/v1.26/containers/json"
    finally:
        daemon.stop()


def test_failed_probe_raises_and_retries_later(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/_ping", Answer(500, "daemon is starting"))
    client = Client47(fake_daemon.host)
    with pytest.raises(ServerError, match="daemon is starting"):
        client.call(CONTAINER_LIST, {})
    assert client.api_version is None

    del fake_daemon.routes[("GET", "/_ping")]
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client.call(CONTAINER_LIST, {})
    assert client.api_version == "1.47"


def test_negotiation_happens_once_across_threads(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    fake_daemon.route("GET", "/_ping", Answer(200, "OK", delay=0.2))
    client = Client52(fake_daemon.host)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.call(CONTAINER_LIST, {})
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    paths = [r.path for r in fake_daemon.requests]
    assert paths.count("/_ping") == 1
    assert paths.count("/version") == 1
    assert paths.count("/containers/json") == 6


def test_error_statuses_map_to_exceptions(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/ghost/json", Answer(404, {"message": "No such container: ghost"}))
    fake_daemon.route("DELETE", "/containers/busy", Answer(409, {"message": "container is running"}))
    client = Client47(fake_daemon.host, version="1.47")
    with pytest.raises(NotFound) as raised:
        client.call(CONTAINER_INSPECT, {"id": "ghost"})
    assert raised.value.message == "No such container: ghost"
    assert raised.value.path == "/v1.47/containers/ghost/json"
    with pytest.raises(Conflict):
        client.call(CONTAINER_DELETE, {"id": "busy"})


def test_not_modified_is_success(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("POST", "/containers/abc/start", Answer(304))
    assert Client47(fake_daemon.host, version="1.47").call(CONTAINER_START, {"id": "abc"}) is None


def test_redirect_is_an_error_naming_location(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(301, b"", {"Location": "http://elsewhere/login"}))
    with pytest.raises(APIError) as raised:
        Client47(fake_daemon.host, version="1.47").call(CONTAINER_LIST, {})
    assert raised.value.status == 301
    assert "http://elsewhere/login" in str(raised.value)
    assert len(fake_daemon.requests) == 1


def test_plain_json_and_headers_answers(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/json", Answer(200, {"Id": "abc", "State": {"Running": True}}))
    fake_daemon.route(
        "HEAD", "/containers/abc/archive", Answer(200, b"", {"X-Docker-Container-Path-Stat": "e30="})
    )
    client = Client47(fake_daemon.host, version="1.47")
    assert client.call(CONTAINER_INSPECT, {"id": "abc", "size": False}) == {"Id": "abc", "State": {"Running": True}}
    assert fake_daemon.requests[-1].query == {"size": ["0"]}
    headers = client.call(CONTAINER_ARCHIVE_INFO, {"id": "abc", "path": "/etc"})
    assert headers["X-Docker-Container-Path-Stat"] == "e30="


def test_result_type_evaluated_once(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = Client47(fake_daemon.host, version="1.47")
    client.call(CONTAINER_LIST, {})
    decoder = Client47._plans[id(CONTAINER_LIST)].result_decoder
    assert decoder is not None
    client.call(CONTAINER_LIST, {})
    assert Client47._plans[id(CONTAINER_LIST)].result_decoder is decoder


def test_bad_result_type_names_models_module(fake_daemon: FakeDaemon) -> None:
    broken = Operation(operation_id="Broken", method="GET", path="/containers/json", result_type="list[Nope]")
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    with pytest.raises(TypeError, match="sample_api"):
        Client47(fake_daemon.host, version="1.47").call(broken, {})


def test_connections_are_reused(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = Client47(fake_daemon.host)
    for _ in range(5):
        client.call(CONTAINER_LIST, {})
    assert fake_daemon.connections == 1
    assert len({r.connection_id for r in fake_daemon.requests}) == 1


def test_stale_connection_is_retried(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/json", Answer(200, {"Id": "abc"}, drop=True))
    client = Client47(fake_daemon.host, version="1.47")
    client.call(CONTAINER_INSPECT, {"id": "abc"})
    time.sleep(0.1)
    assert client.call(CONTAINER_INSPECT, {"id": "abc"}) == {"Id": "abc"}
    assert fake_daemon.connections == 2
    assert len(fake_daemon.requests) == 2


def test_connection_close_header_discards(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/json", Answer(200, {"Id": "abc"}, close=True))
    client = Client47(fake_daemon.host, version="1.47")
    client.call(CONTAINER_INSPECT, {"id": "abc"})
    client.call(CONTAINER_INSPECT, {"id": "abc"})
    assert fake_daemon.connections == 2


def test_read_timeout(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, [], delay=1.5))
    client = Client47(fake_daemon.host, version="1.47", timeout=Timeout(connect=1, read=5))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        client.call(CONTAINER_LIST, {}, timeout=0.3)
    assert time.monotonic() - started < 1.2
    assert raised.value.phase == "read"
    assert raised.value.timeout == 0.3
    assert fake_daemon.host in str(raised.value)


def test_client_timeout_applies(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, [], delay=1.0))
    with pytest.raises(TimeoutError):
        Client47(fake_daemon.host, version="1.47", timeout=0.3).call(CONTAINER_LIST, {})


def test_missing_socket_error(short_tmp: str) -> None:
    client = Client47(f"unix://{short_tmp}/missing.sock")
    with pytest.raises(DockerConnectionError) as raised:
        client.call(CONTAINER_LIST, {})
    message = str(raised.value)
    assert f"{short_tmp}/missing.sock does not exist" in message
    assert "the base_url argument" in message
    assert raised.value.source == "the base_url argument"
    assert raised.value.host == f"unix://{short_tmp}/missing.sock"


def test_binary_stream_answer(fake_daemon: FakeDaemon) -> None:
    payload = bytes(range(256)) * 1024
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, payload, {"Content-Type": "application/x-tar"}))
    client = Client47(fake_daemon.host, version="1.47")
    stream = client.call(CONTAINER_EXPORT, {"id": "abc"})
    chunks = list(stream)
    assert len(chunks) > 1
    assert b"".join(chunks) == payload
    client.call(CONTAINER_EXPORT, {"id": "abc"}).read()
    assert fake_daemon.connections == 1


def test_binary_stream_closed_early(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, b"x" * 1_000_000))
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = Client47(fake_daemon.host, version="1.47", max_connections=1)
    with client.call(CONTAINER_EXPORT, {"id": "abc"}) as stream:
        assert next(stream)
    client.call(CONTAINER_LIST, {})
    assert fake_daemon.connections == 2


def test_pool_limit_waits_then_times_out(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/abc/export", Answer(200, b"x" * 1_000_000))
    client = Client47(fake_daemon.host, version="1.47", max_connections=1, timeout=Timeout(connect=0.3, read=5))
    stream = client.call(CONTAINER_EXPORT, {"id": "abc"})
    with pytest.raises(TimeoutError, match="1 connections"):
        client.call(CONTAINER_LIST, {})
    stream.close()


def test_chunked_upload(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("POST", "/images/load", Answer(200, {"stream": "Loaded"}))
    client = Client47(fake_daemon.host, version="1.47")
    result = client.call(IMAGE_LOAD, {"quiet": True}, body=iter([b"part one, ", b"part two"]))
    assert result == {"stream": "Loaded"}
    request = fake_daemon.requests[-1]
    assert request.headers["Transfer-Encoding"] == "chunked"
    assert request.headers["Content-Type"] == "application/x-tar"
    assert request.body == b"part one, part two"


def test_base_client_uses_daemon_version(fake_daemon: FakeDaemon) -> None:
    client = BaseClient(fake_daemon.host)
    assert client.negotiate() == "1.52"


def test_models_module_cached_per_class() -> None:
    assert Client47.MODELS_MODULE == sample_api.__name__
    assert Client47._plans is not Client43._plans
    assert ResponseKind.BYTES.value == "bytes"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_tcp_host_header_and_connect(short_tmp: str, address: str) -> None:
    import socket

    if address == "::1" and not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")
    try:
        daemon = FakeDaemon(short_tmp, tcp_address=address).start()
    except OSError as error:
        pytest.skip(f"cannot listen on {address}: {error}")
    try:
        daemon.route("GET", "/containers/json", Answer(200, []))
        client = Client47(daemon.host, version="1.47")
        assert client.call(CONTAINER_LIST, {}) == []
        port = daemon.host.rsplit(":", 1)[1]
        expected = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        assert daemon.requests[0].headers["Host"] == expected
        assert client.host.hostname == address
    finally:
        daemon.stop()


def test_shared_client_across_threads(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, CONTAINERS, delay=0.005))
    client = Client47(fake_daemon.host, version="1.47", max_connections=3)
    failures: list[BaseException] = []
    results: list[int] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(len(client.call(CONTAINER_LIST, {})))
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert results == [1] * 160
    assert 1 <= fake_daemon.connections <= 3
