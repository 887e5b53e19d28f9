"""Checks of the testbed itself: each engine starts, reports its API version and runs a container.

The requests here are raw HTTP through tests/testbed.py, so a failure points at the
testbed or the daemon, never at the code under test.
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
from pathlib import Path

import pytest

from tests.testbed import (
    ENGINES,
    REQUIRED_APPLETS,
    Daemon,
    DaemonStartError,
    TestbedError,
    build_busybox_rootfs,
    leave_swarm,
    parse_api_version,
    start_swarm,
)

FIXTURE_FOR_ENGINE = {"20.10": "daemon_20_10", "26.1": "daemon_26_1", "28": "daemon_28"}

TOO_OLD_MESSAGE = (
    "client version 1.43 is too old. Minimum supported API version is 1.44, "
    "please upgrade your client to a newer version"
)


def demultiplex(stream: bytes) -> tuple[bytes, bytes]:
    """Split a log stream of a container without a TTY into its stdout and stderr bytes.

    Each frame is an 8-byte header (stream type, three zero bytes, payload size as a
    big-endian uint32) followed by the payload.
    """
    output = {1: b"", 2: b""}
    offset = 0
    while offset < len(stream):
        stream_type, size = struct.unpack_from(">BxxxI", stream, offset)
        offset += 8
        output[stream_type] += stream[offset : offset + size]
        offset += size
    return output[1], output[2]


def run_busybox(daemon: Daemon, command: list[str]) -> tuple[int, bytes, bytes]:
    """Run ``command`` in a busybox:test container without a network.

    Returns the exit code, the stdout bytes and the stderr bytes.
    """
    prefix = f"/v{daemon.api_version}"
    config = {"Image": "busybox:test", "Cmd": command, "HostConfig": {"NetworkMode": "none"}}
    created = daemon.request("POST", f"{prefix}/containers/create", json_body=config)
    assert created.status == 201, created.message
    container_id = created.json()["Id"]

    try:
        started = daemon.request("POST", f"{prefix}/containers/{container_id}/start")
        assert started.status == 204, started.message

        waited = daemon.request("POST", f"{prefix}/containers/{container_id}/wait")
        assert waited.status == 200, waited.message

        logs = daemon.request("GET", f"{prefix}/containers/{container_id}/logs?stdout=1&stderr=1")
        assert logs.status == 200, logs.message
    finally:
        removed = daemon.request("DELETE", f"{prefix}/containers/{container_id}?force=1")
        assert removed.status == 204, removed.message

    stdout, stderr = demultiplex(logs.body)
    return int(waited.json()["StatusCode"]), stdout, stderr


@pytest.mark.daemon
@pytest.mark.parametrize("engine", sorted(FIXTURE_FOR_ENGINE))
def test_engine_reports_api_version(request: pytest.FixtureRequest, engine: str) -> None:
    daemon: Daemon = request.getfixturevalue(FIXTURE_FOR_ENGINE[engine])
    expected = ENGINES[engine]

    assert expected.matches_api_version(
        daemon.api_version
    ), f"engine {engine} reported API {daemon.api_version}, expected {expected.api_version}" + (
        " or newer" if expected.newer_api_allowed else ""
    )
    version = daemon.request("GET", "/version").json()
    assert version["ApiVersion"] == daemon.api_version
    if not expected.newer_api_allowed:
        assert daemon.engine_version.startswith(f"{engine}.")


@pytest.mark.daemon
def test_sid_engine_is_at_least_1_51(daemon_28: Daemon) -> None:
    assert parse_api_version(daemon_28.api_version) >= (1, 51)


@pytest.mark.daemon
def test_min_api_daemon_rejects_1_43(daemon_28_min_1_44: Daemon) -> None:
    response = daemon_28_min_1_44.request("GET", "/v1.43/version")

    assert response.status == 400
    assert response.message == TOO_OLD_MESSAGE


@pytest.mark.daemon
def test_min_api_daemon_accepts_1_44(daemon_28_min_1_44: Daemon) -> None:
    response = daemon_28_min_1_44.request("GET", "/v1.44/version")

    assert response.status == 200
    assert daemon_28_min_1_44.min_api_version == "1.44"


@pytest.mark.daemon
def test_daemon_rejects_too_new_version(daemon_28: Daemon) -> None:
    response = daemon_28.request("GET", "/v1.99/version")

    assert response.status == 400
    assert response.message == (
        "client version 1.99 is too new. "
        f"Maximum supported API version is {daemon_28.api_version}"
    )


@pytest.mark.daemon
@pytest.mark.parametrize("engine", sorted(FIXTURE_FOR_ENGINE))
def test_busybox_container_echoes_hello(request: pytest.FixtureRequest, engine: str) -> None:
    daemon: Daemon = request.getfixturevalue(FIXTURE_FOR_ENGINE[engine])

    exit_code, stdout, stderr = run_busybox(daemon, ["echo", "hello"])

    assert exit_code == 0
    assert stdout == b"hello\n"
    assert stderr == b""


@pytest.mark.daemon
def test_busybox_container_reports_exit_code(daemon_20_10: Daemon) -> None:
    exit_code, stdout, stderr = run_busybox(daemon_20_10, ["sh", "-c", "echo oops >&2; exit 3"])

    assert exit_code == 3
    assert stdout == b""
    assert stderr == b"oops\n"


@pytest.mark.daemon
def test_swarms_on_two_daemons_and_stop(tmp_path_factory: pytest.TempPathFactory) -> None:
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    missing = [name for name in ("20.10", "28") if not ENGINES[name].dockerd.is_file()]
    if missing:
        pytest.skip(f"dockerd of engine {', '.join(missing)} is not installed")

    daemons = []
    try:
        # Two swarms at once, as parallel test runs would create, need different ports.
        for name in ("20.10", "28"):
            daemon = Daemon.start(name, tmp_path_factory.mktemp("swarm"), name=f"swarm-{name}")
            daemons.append(daemon)
            node = start_swarm(daemon)

            swarm = daemon.request("GET", "/swarm")
            assert swarm.status == 200, swarm.message
            nodes = daemon.request("GET", "/nodes").json()
            assert [entry["ID"] for entry in nodes] == [node.node_id]
            assert nodes[0]["ManagerStatus"]["Addr"] == node.listen_addr
            assert nodes[0]["ManagerStatus"]["Leader"] is True

        leave_swarm(daemons[0])
        info = daemons[0].request("GET", "/info").json()
        assert info["Swarm"]["LocalNodeState"] == "inactive"
    finally:
        pids = [daemon.running_pid() for daemon in daemons]
        for daemon in daemons:
            daemon.stop()

    for daemon, pid in zip(daemons, pids):
        assert pid is not None
        assert not Path(f"/proc/{pid}").exists()
        assert not daemon.socket_path.exists()
        assert not daemon.pidfile.exists()
        assert not daemon.data_root.exists()
        assert daemon.log_path.exists()


@pytest.mark.daemon
def test_start_failure_reports_log(tmp_path_factory: pytest.TempPathFactory) -> None:
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if not ENGINES["20.10"].dockerd.is_file():
        pytest.skip("dockerd of engine 20.10 is not installed")
    workdir = tmp_path_factory.mktemp("bad")

    with pytest.raises(DaemonStartError) as caught:
        Daemon.start("20.10", workdir, extra_args=["--no-such-flag"])

    assert "exited with code" in str(caught.value)
    assert "--no-such-flag" in str(caught.value)
    assert not (workdir / "docker.sock").exists()


def test_long_workdir_rejected() -> None:
    workdir = Path("/tmp") / ("x" * 80)

    with pytest.raises(TestbedError, match="too long for unix sockets"):
        Daemon.start("20.10", workdir)

    assert not workdir.exists()


def test_busybox_rootfs_contents() -> None:
    try:
        rootfs = build_busybox_rootfs()
    except TestbedError as error:
        pytest.skip(str(error))

    with tarfile.open(fileobj=io.BytesIO(rootfs)) as archive:
        members = {member.name: member for member in archive.getmembers()}

    assert members["bin/busybox"].isfile()
    for applet in REQUIRED_APPLETS:
        assert members[f"bin/{applet}"].issym(), applet
        assert members[f"bin/{applet}"].linkname == "busybox", applet
    assert members["tmp"].mode == 0o1777
    assert members["etc/passwd"].isfile()
