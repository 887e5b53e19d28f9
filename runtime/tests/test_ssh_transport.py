"""The ssh transport with a stand-in `ssh` on PATH that relays to the fake daemon's socket.

The stand-in records its arguments, then copies its standard input to the socket and the
socket to its standard output, as `ssh HOST docker system dial-stdio` does.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator

import pytest
from fake_daemon import Answer, FakeDaemon
from sample_api import CONTAINER_LIST, Client47

from docker_engine.errors import DockerConnectionError

RELAY = r'''
import os, socket, sys, threading
with open(os.environ["FAKE_SSH_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")
if os.environ.get("FAKE_SSH_FAIL"):
    sys.stderr.write("root@127.0.0.1: Permission denied (publickey).\n")
    sys.exit(255)
sock = socket.socket(socket.AF_UNIX)
sock.connect(os.environ["FAKE_SSH_SOCKET"])

def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)

threading.Thread(target=upstream, daemon=True).start()
while True:
    data = sock.recv(65536)
    if not data:
        break
    os.write(1, data)
'''


@pytest.fixture
def fake_ssh(
    short_tmp: str, fake_daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Put a stand-in `ssh` first on PATH; return the file its arguments are logged to."""
    directory = os.path.join(short_tmp, "bin")
    os.makedirs(directory)
    script = os.path.join(directory, "ssh")
    with open(script, "w") as file:
        file.write(f"#!{sys.executable}\n{RELAY}")
    os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC)
    log = os.path.join(short_tmp, "ssh.log")
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_LOG", log)
    monkeypatch.setenv("FAKE_SSH_SOCKET", fake_daemon.socket_path)
    yield log


def test_ssh_command_line(fake_ssh: str, fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = Client47("ssh://deploy@build-host:2222", version="1.47", timeout=7)
    assert client.call(CONTAINER_LIST, {}) == []
    assert client.call(CONTAINER_LIST, {}) == []
    client.close()
    with open(fake_ssh) as file:
        launches = file.read().splitlines()
    assert launches == [
        "-T -o BatchMode=yes -o ConnectTimeout=7 -l deploy -p 2222 -- build-host docker system dial-stdio"
    ]
    assert [r.target for r in fake_daemon.requests] == ["/v1.47/containers/json"] * 2


def test_ssh_without_user_or_port(fake_ssh: str, fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("GET", "/containers/json", Answer(200, []))
    client = Client47("ssh://build-host", version="1.47")
    client.call(CONTAINER_LIST, {})
    client.close()
    with open(fake_ssh) as file:
        assert file.read().split() == [
            "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "--", "build-host", "docker", "system", "dial-stdio",
        ]  # fmt: skip


def test_ssh_failure_shows_its_output(fake_ssh: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SSH_FAIL", "1")
    client = Client47("ssh://root@127.0.0.1", version="1.47")
    with pytest.raises(DockerConnectionError) as raised:
        client.call(CONTAINER_LIST, {})
    message = str(raised.value)
    assert "ssh exited with status 255" in message
    assert "Permission denied (publickey)" in message
    assert "ssh://root@127.0.0.1 (from the base_url argument)" in message


def test_ssh_missing_from_path(monkeypatch: pytest.MonkeyPatch, short_tmp: str) -> None:
    monkeypatch.setenv("PATH", short_tmp)
    with pytest.raises(DockerConnectionError, match="`ssh` command is not on PATH"):
        Client47("ssh://host", version="1.47").call(CONTAINER_LIST, {})
