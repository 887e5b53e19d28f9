"""The asyncio transports that leave the unix socket: TLS over TCP and ssh://.

The TLS daemon (Engine 20.10 started with --tlsverify on 127.0.0.1) and the sshd on
127.0.0.1 come from the fixtures of the sync tests, test_runtime_tls.py and
test_runtime_ssh.py. Each test runs on a debug-mode event loop under the blocking-call
detector of runtime/tests/test_async_blocking.py.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid
from pathlib import Path

import pytest

from docker_engine import AsyncBaseClient, Operation, ResponseKind, TLSConfig
from docker_engine.errors import BadRequest, DockerConnectionError
from tests.generated_packages import REPO_ROOT, import_package
from tests.integration.test_runtime_ssh import (  # noqa: F401 - fixtures
    SSHServer,
    _alive,
    ssh_on_path,
    ssh_server,
)
from tests.integration.test_runtime_tls import (
    TLSDaemon,
    tls_daemon,
)  # noqa: F401 - fixture
from tests.testbed import import_busybox

sys.path.insert(0, str(REPO_ROOT / "runtime" / "tests"))

from test_async_blocking import run_checked  # noqa: E402

pytestmark = pytest.mark.daemon

SYSTEM_PING = Operation(
    operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT
)
SYSTEM_VERSION = Operation(
    operation_id="SystemVersion",
    method="GET",
    path="/version",
    response=ResponseKind.JSON,
)

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


class AsyncClient41(AsyncBaseClient):
    PACKAGE_API_VERSION = "1.41"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))


@pytest.fixture(scope="module")
def tls_daemon_with_image(tls_daemon: TLSDaemon) -> TLSDaemon:
    """The TLS daemon with the busybox:test image, imported over its unix socket."""
    import_busybox(tls_daemon.daemon)
    return tls_daemon


def client_tls(directory: Path) -> TLSConfig:
    return TLSConfig(
        ca_cert=str(directory / "ca.pem"),
        client_cert=str(directory / "cert.pem"),
        client_key=str(directory / "key.pem"),
    )


# --- TLS -----------------------------------------------------------------------------------


def test_tls_config_argument(tls_daemon: TLSDaemon) -> None:
    async def main() -> None:
        client = AsyncClient41(
            tls_daemon.tcp_host, tls=client_tls(tls_daemon.client_dir)
        )
        async with client:
            for _ in range(3):
                assert await client.call(SYSTEM_PING, {}) == "OK"
            assert client.api_version == "1.41"

    run_checked(main())


def test_tls_verify_from_environment(
    tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", tls_daemon.tcp_host)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tls_daemon.client_dir))
    # Resolving DOCKER_HOST and the certificate files happens before the loop runs.
    client = AsyncClient41()

    async def main() -> None:
        async with client:
            assert await client.call(SYSTEM_PING, {}) == "OK"

    run_checked(main())
    assert client.host.host_header == f"127.0.0.1:{tls_daemon.port}"


def test_tls_failures_explained(tls_daemon: TLSDaemon) -> None:
    wrong_ca = client_tls(tls_daemon.other_ca_dir)
    no_certificate = TLSConfig(ca_cert=str(tls_daemon.client_dir / "ca.pem"))

    async def main() -> None:
        with pytest.raises(DockerConnectionError) as raised:
            await AsyncClient41(tls_daemon.tcp_host, tls=wrong_ca).call(SYSTEM_PING, {})
        assert "failed verification" in str(raised.value)
        assert raised.value.host == tls_daemon.tcp_host

        with pytest.raises(DockerConnectionError) as raised:
            await AsyncClient41(tls_daemon.tcp_host, tls=no_certificate).call(
                SYSTEM_PING, {}
            )
        assert tls_daemon.tcp_host in str(raised.value)
        assert "client certificate" in str(raised.value)

        with pytest.raises(BadRequest) as rejected:
            await AsyncClient41(tls_daemon.tcp_host, tls=False).call(SYSTEM_PING, {})
        assert "expects TLS" in rejected.value.message

    run_checked(main())


def test_attach_over_tls_half_close(tls_daemon_with_image: TLSDaemon) -> None:
    """close_write() over TLS: the daemon reads the end of stdin and still sends output."""
    package = import_package("1.41")
    importlib.import_module(f"{package.__name__}._async_client")
    importlib.import_module(f"{package.__name__}.models")
    daemon = tls_daemon_with_image
    tls = client_tls(daemon.client_dir)

    async def main() -> None:
        async with package.AsyncClient(daemon.tcp_host, tls=tls) as client:
            created = await client.containers.create(
                {
                    "Image": "busybox:test",
                    "Cmd": ["sh", "-c", "cat; echo stdin ended >&2"],
                    "OpenStdin": True,
                    "StdinOnce": True,
                    "AttachStdin": True,
                    "AttachStdout": True,
                    "AttachStderr": True,
                    "HostConfig": {"NetworkMode": "none"},
                },
                name=f"async-tls-{uuid.uuid4().hex[:8]}",
            )
            try:
                stream = await client.containers.attach(
                    created.id, stream=True, stdin=True, stdout=True, stderr=True
                )
                async with stream:
                    await client.containers.start(created.id)
                    await stream.write(b"over tls\n")
                    assert await stream.__anext__() == ("stdout", b"over tls\n")
                    await stream.close_write()
                    assert [pair async for pair in stream] == [
                        ("stderr", b"stdin ended\n")
                    ]
                assert (await client.containers.wait(created.id)).status_code == 0
            finally:
                await client.containers.delete(created.id, force=True)

    run_checked(main())


# --- ssh -----------------------------------------------------------------------------------


def test_ping_and_version_over_ssh(ssh_on_path: SSHServer) -> None:
    async def main() -> None:
        async with AsyncClient41(ssh_on_path.host) as client:
            assert await client.call(SYSTEM_PING, {}) == "OK"
            assert (await client.call(SYSTEM_VERSION, {}))["ApiVersion"] == "1.41"
            assert client.api_version == "1.41"

    run_checked(main())


def test_ssh_connection_reused_and_reaped(ssh_on_path: SSHServer) -> None:
    # The test reads the launch log and /proc in worker threads: file reads on the loop
    # would be blocking calls of the test itself.
    async def launched() -> list[int]:
        return await asyncio.to_thread(ssh_on_path.launched_pids)

    async def alive(pids: list[int]) -> list[bool]:
        return [await asyncio.to_thread(_alive, pid) for pid in pids]

    async def main() -> None:
        client = AsyncClient41(ssh_on_path.host, version="1.41")
        for _ in range(5):
            assert await client.call(SYSTEM_PING, {}) == "OK"
        pids = await launched()
        assert len(pids) == 1
        assert await alive(pids) == [True]
        await client.aclose()
        assert await alive(pids) == [False]

        # Concurrent calls open one ssh process per connection, all reaped by aclose().
        await asyncio.to_thread(ssh_on_path.launches.unlink)
        await asyncio.gather(*(client.call(SYSTEM_PING, {}) for _ in range(3)))
        pids = await launched()
        assert 1 <= len(pids) <= 3
        await client.aclose()
        assert await alive(pids) == [False] * len(pids)

    run_checked(main())


def test_ssh_failure_reports_ssh_output(ssh_on_path: SSHServer) -> None:
    host = f"ssh://nobody-here@127.0.0.1:{ssh_on_path.port}"

    async def main() -> None:
        client = AsyncClient41(host, version="1.41")
        with pytest.raises(DockerConnectionError) as raised:
            await client.call(SYSTEM_PING, {})
        message = str(raised.value)
        assert "ssh exited with status 255" in message
        assert "Permission denied" in message
        assert raised.value.host == host
        await client.aclose()

    run_checked(main())
    assert os.environ["PATH"].startswith(str(ssh_on_path.directory / "bin"))
