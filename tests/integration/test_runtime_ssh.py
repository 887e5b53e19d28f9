"""The runtime over ssh://, through Debian's sshd on 127.0.0.1 and `docker system dial-stdio`.

The test runs its own sshd on a free port with a host key and a client key it makes, and
points the remote `docker` CLI at the Engine 20.10 test daemon with `SetEnv DOCKER_HOST`.
The runtime runs `ssh` from PATH; the test puts a wrapper first on PATH that adds
`-F` with the test's client configuration (key, known_hosts) and logs each start, so the
user's own ~/.ssh is neither read nor changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docker_engine import BaseClient, Operation, ResponseKind
from docker_engine.errors import DockerConnectionError
from tests.testbed import Daemon, free_tcp_port

pytestmark = pytest.mark.daemon

SYSTEM_PING = Operation(
    operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT
)
SYSTEM_VERSION = Operation(
    operation_id="SystemVersion", method="GET", path="/version", response=ResponseKind.JSON
)

SSHD = Path("/usr/sbin/sshd")
SSH = shutil.which("ssh")
# Debian's sshd refuses to start without its privilege separation directory.
PRIVILEGE_SEPARATION_DIR = Path("/run/sshd")


class Client41(BaseClient):
    PACKAGE_API_VERSION = "1.41"


@dataclass
class SSHServer:
    port: int
    directory: Path
    launches: Path  # one line per ssh the runtime started: its pid

    @property
    def host(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def launched_pids(self) -> list[int]:
        if not self.launches.exists():
            return []
        return [int(line) for line in self.launches.read_text().split()]


def remote_docker_cli() -> str | None:
    for candidate in ("/usr/local/bin/docker", "/usr/bin/docker"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def ssh_server(daemon_20_10: Daemon) -> Iterator[SSHServer]:
    if not SSHD.exists() or SSH is None:
        pytest.skip("Debian's openssh-server and openssh-client are needed (/usr/sbin/sshd, ssh)")
    docker_cli = remote_docker_cli()
    if docker_cli is None:
        pytest.skip("no docker CLI for `docker system dial-stdio` on the remote side")

    directory = Path(tempfile.mkdtemp(prefix="ssh-", dir="/tmp"))
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)],
            check=True,
            timeout=60,
        )
    shutil.copy(directory / "client_key.pub", directory / "authorized_keys")
    port = free_tcp_port()
    (directory / "sshd_config").write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {directory / 'host_key'}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        "StrictModes no\n"
        f"SetEnv DOCKER_HOST={daemon_20_10.host} PATH={os.path.dirname(docker_cli)}:/usr/bin:/bin\n"
    )
    host_key = (directory / "host_key.pub").read_text().split()
    (directory / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (directory / "ssh_config").write_text(
        "Host 127.0.0.1\n"
        f"  IdentityFile {directory / 'client_key'}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {directory / 'known_hosts'}\n"
        "  StrictHostKeyChecking yes\n"
    )
    wrapper_dir = directory / "bin"
    wrapper_dir.mkdir()
    launches = directory / "launches"
    wrapper = wrapper_dir / "ssh"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"echo $$ >> {launches}\n"
        f'exec {SSH} -F {directory / "ssh_config"} "$@"\n'
    )
    wrapper.chmod(0o755)

    PRIVILEGE_SEPARATION_DIR.mkdir(mode=0o755, exist_ok=True)
    log = open(directory / "sshd.log", "wb")
    sshd = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(directory / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while b"Server listening" not in (directory / "sshd.log").read_bytes():
            if sshd.poll() is not None or time.monotonic() > deadline:
                output = (directory / "sshd.log").read_text(errors="replace")
                pytest.skip(f"sshd did not start: {output[-500:]}")
            time.sleep(0.05)
        yield SSHServer(port, directory, launches)
    finally:
        sshd.terminate()
        try:
            sshd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sshd.kill()
            sshd.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def ssh_on_path(ssh_server: SSHServer, monkeypatch: pytest.MonkeyPatch) -> SSHServer:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", f"{ssh_server.directory / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ssh_server.launches.unlink(missing_ok=True)
    return ssh_server


def _alive(pid: int) -> bool:
    # A zombie still has a /proc entry; its state is "Z".
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_ping_and_version_over_ssh(ssh_on_path: SSHServer) -> None:
    client = Client41(ssh_on_path.host)
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.call(SYSTEM_VERSION, {})["ApiVersion"] == "1.41"
    assert client.api_version == "1.41"
    client.close()


def test_ssh_connection_reused_and_reaped(ssh_on_path: SSHServer) -> None:
    client = Client41(ssh_on_path.host, version="1.41")
    for _ in range(5):
        assert client.call(SYSTEM_PING, {}) == "OK"
    pids = ssh_on_path.launched_pids()
    assert len(pids) == 1
    assert _alive(pids[0])
    client.close()
    assert not _alive(pids[0])


def test_ssh_failure_reports_ssh_output(ssh_on_path: SSHServer) -> None:
    client = Client41(f"ssh://nobody-here@127.0.0.1:{ssh_on_path.port}", version="1.41")
    with pytest.raises(DockerConnectionError) as raised:
        client.call(SYSTEM_PING, {})
    message = str(raised.value)
    assert "ssh exited with status 255" in message
    assert "Permission denied" in message
    assert raised.value.host == f"ssh://nobody-here@127.0.0.1:{ssh_on_path.port}"
