"""Hijacked connections over ssh://: attach and exec through `docker system dial-stdio`.

The runtime's end of an ssh connection is a socket pair whose other end is ssh's stdin
and stdout, so `close_write()` ends ssh's stdin, and the remote `docker system
dial-stdio` passes that on to the daemon as the end of the process's stdin.
"""

from __future__ import annotations

import os

from docker_engine import exec_run
from tests.generated_packages import import_package
from tests.integration.streams_support import container
from tests.integration.test_runtime_ssh import SSHServer, ssh_on_path, ssh_server  # noqa: F401

VERSION = "1.41"


def test_ssh_attach_write_and_close_write(ssh_on_path: SSHServer) -> None:  # noqa: F811
    client = import_package(VERSION).Client(ssh_on_path.host)
    with container(client, VERSION, ["cat"], stdin=True) as container_id:
        with client.containers.attach(
            container_id, stream=True, stdin=True, stdout=True, stderr=True
        ) as stream:
            stream.write(b"over ssh\n")
            received = b""
            while received != b"over ssh\n":
                name, data = next(stream)
                assert name == "stdout"
                received += data
            stream.close_write()
            assert list(stream) == []
        assert client.containers.wait(container_id).status_code == 0
    client.close()


def test_ssh_exec_run_stdin(ssh_on_path: SSHServer) -> None:  # noqa: F811
    client = import_package(VERSION).Client(ssh_on_path.host)
    data = os.urandom(512 * 1024)
    with container(client, VERSION, ["sleep", "300"]) as container_id:
        result = exec_run(
            client, container_id, ["sh", "-c", "cat; exit 5"], stdin=data, timeout=120
        )
    assert result.exit_code == 5
    assert result.stdout == data
    assert result.stderr == b""
    client.close()
