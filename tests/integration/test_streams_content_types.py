"""Output framing named by Content-Type (API 1.42 and later) on Engine 26.1 and 28.

From API 1.42 on, logs, attach and exec name their framing in the Content-Type, so the
client reads no TTY setting. These tests make reading one fail to prove it. An older
API version against the same daemons gets the raw-stream type for both framings, and
the client must then read the TTY setting.
"""

from __future__ import annotations

from typing import Any

import pytest

import docker_engine._streams
from docker_engine import exec_run
from docker_engine._frames import MULTIPLEXED_STREAM_TYPE, RAW_STREAM_TYPE
from tests.integration.streams_support import client_for, container
from tests.testbed import Daemon


@pytest.fixture(params=[("daemon_26_1", "1.45"), ("daemon_28", "1.51")], ids=["26.1", "28"])
def setup(request: pytest.FixtureRequest) -> tuple[Any, str]:
    fixture, version = request.param
    daemon: Daemon = request.getfixturevalue(fixture)
    return client_for(daemon.host, version), version


@pytest.fixture
def no_tty_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*arguments: object) -> None:
        raise AssertionError("the framing was read from the TTY setting, not the Content-Type")

    monkeypatch.setattr(docker_engine._streams, "_has_tty", fail)


@pytest.mark.usefixtures("no_tty_lookup")
def test_logs_framing_from_content_type(setup: tuple[Any, str]) -> None:
    client, version = setup
    script = "echo out; sleep 0.1; echo err >&2"
    with container(client, version, ["sh", "-c", script]) as container_id:
        client.containers.wait(container_id)
        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert stream.headers["Content-Type"] == MULTIPLEXED_STREAM_TYPE
            assert stream.multiplexed
            assert list(stream) == [("stdout", b"out\n"), ("stderr", b"err\n")]

    with container(client, version, ["printf", "Hello from tty\\n"], tty=True) as container_id:
        client.containers.wait(container_id)
        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert stream.headers["Content-Type"] == RAW_STREAM_TYPE
            assert not stream.multiplexed
            assert stream.read() == b"Hello from tty\r\n"


@pytest.mark.usefixtures("no_tty_lookup")
def test_attach_framing_from_content_type(setup: tuple[Any, str]) -> None:
    client, version = setup
    for tty in (False, True):
        with container(client, version, ["cat"], stdin=True, tty=tty) as container_id:
            with client.containers.attach(
                container_id, stream=True, stdin=True, stdout=True, stderr=True
            ) as stream:
                assert stream.status == 101
                assert stream.multiplexed is not tty
                expected = RAW_STREAM_TYPE if tty else MULTIPLEXED_STREAM_TYPE
                assert stream.headers["Content-Type"] == expected
                stream.write(b"ping\n")
                received = b""
                while b"ping\n" not in received.replace(b"\r\n", b"\n"):
                    received += next(stream)[1]


@pytest.mark.usefixtures("no_tty_lookup")
def test_exec_framing_from_content_type(setup: tuple[Any, str]) -> None:
    client, version = setup
    with container(client, version, ["sleep", "300"]) as container_id:
        result = exec_run(client, container_id, ["sh", "-c", "cat; echo e >&2; exit 4"], stdin=b"in\n")
        assert (result.exit_code, result.stdout, result.stderr) == (4, b"in\n", b"e\n")
        tty = exec_run(client, container_id, ["sh", "-c", "echo e >&2"], tty=True)
        assert (tty.exit_code, tty.stdout, tty.stderr) == (0, b"e\r\n", b"")


def test_old_api_version_reads_tty_setting(daemon_26_1: Daemon) -> None:
    client = client_for(daemon_26_1.host, "1.41")
    with container(client, "1.41", ["sh", "-c", "echo out; sleep 0.1; echo err >&2"]) as container_id:
        client.containers.wait(container_id)
        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            # The daemon names the raw type for a multiplexed body at API 1.41.
            assert stream.headers.get("Content-Type", RAW_STREAM_TYPE) == RAW_STREAM_TYPE
            assert stream.multiplexed
            assert stream.read_separated() == (b"out\n", b"err\n")


def test_events_content_type_and_split(setup: tuple[Any, str]) -> None:
    client, version = setup
    import time

    since = str(int(time.time()) - 1)
    with container(client, version, ["true"]) as container_id:
        client.containers.wait(container_id)
    until = str(int(time.time()) + 1)
    time.sleep(1.1)
    with client.system.events(since=since, until=until, filters={"container": [container_id]}) as events:
        content_type = events.headers.get("Content-Type", "")
        actions = [event.action for event in events]
    assert content_type.split(";")[0] in ("application/json", "application/x-ndjson", "application/jsonl", "application/json-seq")
    assert actions[:2] == ["create", "start"]
    assert actions[-1] == "destroy"
