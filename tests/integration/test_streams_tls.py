"""Hijacked connections over TLS: attach and exec against Engine 20.10 with --tlsverify.

Python's ssl module cannot send a TLS close_notify while it keeps reading, so
`close_write()` shuts down the TCP writing side under the TLS session. The daemon (Go's
crypto/tls) reads that as the end of stdin and goes on sending output.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from docker_engine import TLSConfig, exec_run
from tests.generated_packages import import_package
from tests.integration.streams_support import container
from tests.integration.test_runtime_tls import TLSDaemon, clean_environment, tls_daemon  # noqa: F401
from tests.testbed import import_busybox

VERSION = "1.41"


@pytest.fixture(scope="module")
def client(tls_daemon: TLSDaemon) -> Any:  # noqa: F811
    import_busybox(tls_daemon.daemon)
    directory = tls_daemon.client_dir
    tls = TLSConfig(
        ca_cert=str(directory / "ca.pem"),
        client_cert=str(directory / "cert.pem"),
        client_key=str(directory / "key.pem"),
    )
    return import_package(VERSION).Client(tls_daemon.tcp_host, tls=tls)


def test_tls_attach_write_and_close_write(client: Any) -> None:
    with container(client, VERSION, ["cat"], stdin=True) as container_id:
        with client.containers.attach(
            container_id, stream=True, stdin=True, stdout=True, stderr=True
        ) as stream:
            stream.write(b"over tls\n")
            received = b""
            while received != b"over tls\n":
                name, data = next(stream)
                assert name == "stdout"
                received += data
            stream.close_write()
            assert list(stream) == []
        assert client.containers.wait(container_id).status_code == 0


def test_tls_exec_run_large_stdin(client: Any) -> None:
    data = os.urandom(2 * 1024 * 1024)
    with container(client, VERSION, ["sleep", "300"]) as container_id:
        result = exec_run(
            client, container_id, ["sh", "-c", "cat; echo done >&2"], stdin=data, timeout=120
        )
    assert result.exit_code == 0
    assert result.stdout == data
    assert result.stderr == b"done\n"
