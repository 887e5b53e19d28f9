"""Logs, attach, exec, events, stats and builds against Engine 20.10 with the 1.41 package.

API 1.41 names no framing in its Content-Type, so every output stream here is decided
by the container's or the exec's TTY setting.
"""

from __future__ import annotations

import http.server
import re
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import docker_engine
from docker_engine import BuildContext, ProgressError, exec_run
from tests.integration.streams_support import LABEL, client_for, container, models_of
from tests.testbed import Daemon

VERSION = "1.41"


@pytest.fixture(scope="module")
def client(daemon_20_10: Daemon) -> Any:
    return client_for(daemon_20_10.host, VERSION)


# --- logs ---------------------------------------------------------------------------------


def test_logs_stdout_stderr_separated_and_interleaved(client: Any) -> None:
    # The json-file log driver stores lines as JSON strings, so the bytes must be UTF-8.
    script = (
        "printf 'out 1\\n'; sleep 0.1; printf 'err 1\\n' >&2; sleep 0.1; "
        "printf '\\000\\001caf\\303\\251\\n'; sleep 0.1; printf 'err 2' >&2"
    )
    with container(client, VERSION, ["sh", "-c", script]) as container_id:
        client.containers.wait(container_id)

        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert stream.multiplexed
            pairs = list(stream)
        assert pairs == [
            ("stdout", b"out 1\n"),
            ("stderr", b"err 1\n"),
            ("stdout", b"\x00\x01caf\xc3\xa9\n"),
            ("stderr", b"err 2"),
        ]

        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert stream.read_separated() == (b"out 1\n\x00\x01caf\xc3\xa9\n", b"err 1\nerr 2")
        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert list(stream.iter_stdout()) == [b"out 1\n", b"\x00\x01caf\xc3\xa9\n"]
        with client.containers.logs(container_id, stderr=True) as stream:
            assert stream.read() == b"err 1\nerr 2"


def test_logs_tty_raw_output(client: Any) -> None:
    with container(client, VERSION, ["printf", "Hello from tty\\n"], tty=True) as container_id:
        client.containers.wait(container_id)
        with client.containers.logs(container_id, stdout=True, stderr=True) as stream:
            assert not stream.multiplexed
            pairs = list(stream)
    assert b"".join(data for _, data in pairs) == b"Hello from tty\r\n"
    assert {name for name, _ in pairs} == {"stdout"}


def test_logs_follow_while_running(client: Any) -> None:
    script = "for i in 1 2 3 4; do echo line $i; sleep 0.4; done"
    with container(client, VERSION, ["sh", "-c", script]) as container_id:
        received: list[bytes] = []
        running_at_first_line = None
        with client.containers.logs(container_id, follow=True, stdout=True) as stream:
            for _, data in stream:
                if not received:
                    running_at_first_line = client.containers.inspect(container_id).state.running
                received.append(data)
        # The iteration ended by itself when the container stopped.
        assert client.containers.inspect(container_id).state.running is False
    assert running_at_first_line is True
    assert b"".join(received) == b"line 1\nline 2\nline 3\nline 4\n"


def test_logs_since_until_timestamps_tail(client: Any) -> None:
    script = "for i in 1 2 3 4 5; do echo line $i; done"
    with container(client, VERSION, ["sh", "-c", script]) as container_id:
        client.containers.wait(container_id)

        with client.containers.logs(container_id, stdout=True, tail="2") as stream:
            assert stream.read() == b"line 4\nline 5\n"

        with client.containers.logs(container_id, stdout=True, timestamps=True) as stream:
            lines = stream.read().decode().splitlines()
        assert len(lines) == 5
        for number, line in enumerate(lines, start=1):
            assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line {number}", line)

        future = int(time.time()) + 3600
        with client.containers.logs(container_id, stdout=True, since=future) as stream:
            assert stream.read() == b""
        with client.containers.logs(container_id, stdout=True, until=1) as stream:
            assert stream.read() == b""
        with client.containers.logs(container_id, stdout=True, since=1, until=future) as stream:
            assert stream.read().count(b"\n") == 5


# --- attach and exec ----------------------------------------------------------------------


def test_attach_stdin_echoed_by_cat(client: Any) -> None:
    with container(client, VERSION, ["cat"], stdin=True, start=False) as container_id:
        stream = client.containers.attach(
            container_id, stream=True, stdin=True, stdout=True, stderr=True
        )
        with stream:
            client.containers.start(container_id)
            assert stream.hijacked
            assert stream.multiplexed

            received = b""
            for line in (b"first line\n", b"second line\n"):
                stream.write(line)
                while not received.endswith(line):
                    name, data = next(stream)
                    assert name == "stdout"
                    received += data
            assert received == b"first line\nsecond line\n"

            stream.close_write()
            # cat reads the end of stdin and exits, and the daemon ends the output.
            assert list(stream) == []
        assert client.containers.wait(container_id).status_code == 0


def test_attach_communicate_large_input(client: Any) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, more than the socket buffers hold
    with container(client, VERSION, ["cat"], stdin=True) as container_id:
        with client.containers.attach(container_id, stream=True, stdin=True, stdout=True) as stream:
            stdout, stderr = stream.communicate(data, timeout=60)
        assert stdout == data
        assert stderr == b""
        assert client.containers.wait(container_id).status_code == 0


def test_exec_run_stdin_output_exit_code(client: Any) -> None:
    with container(client, VERSION, ["sleep", "300"]) as container_id:
        result = exec_run(
            client,
            container_id,
            ["sh", "-c", "cat; echo to stderr >&2; exit 7"],
            stdin=b"from stdin\n",
        )
        assert result.exit_code == 7
        assert result.stdout == b"from stdin\n"
        assert result.stderr == b"to stderr\n"

        plain = exec_run(client, container_id, "echo 'two words'", env={"X": "1"}, workdir="/tmp")
        assert plain == docker_engine.ExecResult(0, b"two words\n", b"")

        tty = exec_run(client, container_id, ["cat"], stdin=b"typed", tty=True)
        assert tty.exit_code == 0
        # The terminal echoes the input, then cat writes it.
        assert tty.stdout == b"typedtyped"


def test_exec_start_generated_methods(client: Any) -> None:
    with container(client, VERSION, ["sleep", "300"]) as container_id:
        created = client.exec.create(
            container_id,
            {"AttachStdin": True, "AttachStdout": True, "AttachStderr": True, "Cmd": ["sh", "-c", "cat >&2"]},
        )
        with client.exec.start(created.id, {"Detach": False, "Tty": False}) as stream:
            stream.write(b"to stderr via cat\n")
            assert next(stream) == ("stderr", b"to stderr via cat\n")
            stream.close_write()
            assert list(stream) == []
        inspected = client.exec.inspect(created.id)
        assert inspected.exit_code == 0


# --- events and stats ---------------------------------------------------------------------


def test_events_seen_while_container_created_and_removed(client: Any) -> None:
    since = str(int(time.time()) - 1)
    events = client.system.events(since=since, filters={"type": ["container"], "label": [LABEL]})
    seen: list[Any] = []
    failures: list[BaseException] = []

    def consume() -> None:
        try:
            for event in events:
                seen.append(event)
        except BaseException as error:  # noqa: BLE001 - checked in the test
            failures.append(error)

    reader = threading.Thread(target=consume)
    reader.start()
    with container(client, VERSION, ["true"]) as container_id:
        client.containers.wait(container_id)

    def actions_of_container() -> list[str]:
        return [event.action for event in list(seen) if event.actor.id == container_id]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "destroy" not in actions_of_container():
        time.sleep(0.05)
    events.close()
    reader.join(10)
    assert not reader.is_alive()
    assert failures == []
    actions = actions_of_container()
    assert actions[:2] == ["create", "start"]
    assert "die" in actions
    assert actions[-1] == "destroy"

    # A time window gives a stream that ends by itself, with the same events.
    until = str(int(time.time()) + 1)
    time.sleep(1.1)
    with client.system.events(
        since=since, until=until, filters={"type": ["container"], "label": [LABEL]}
    ) as window:
        replayed = [event.action for event in window if event.actor.id == container_id]
    assert replayed == actions


def test_stats_one_shot_and_streaming(client: Any) -> None:
    with container(client, VERSION, ["sleep", "300"]) as container_id:
        # With stream=False the method returns the one document, not a stream.
        one = client.containers.stats(container_id, stream=False)
        assert one["id"] == container_id
        assert "memory_stats" in one

        with client.containers.stats(container_id, stream=True) as stats:
            first, second = next(stats), next(stats)
        assert first["id"] == second["id"] == container_id
        assert first["read"] < second["read"]


# --- build --------------------------------------------------------------------------------


def test_build_with_dockerignore(client: Any, tmp_path: Path) -> None:
    context = tmp_path / "context"
    (context / "keep").mkdir(parents=True)
    (context / "skip").mkdir()
    (context / "Dockerfile").write_text(
        "FROM busybox:test\nCOPY . /ctx\nRUN find /ctx -type f | sort > /listing\n"
        'CMD ["cat", "/listing"]\n'
    )
    (context / ".dockerignore").write_text("skip\n*.tmp\n!keep/wanted.tmp\n")
    (context / "keep" / "a.txt").write_text("a")
    (context / "keep" / "wanted.tmp").write_text("w")
    (context / "drop.tmp").write_text("d")
    (context / "skip" / "b.txt").write_text("b")

    tag = "streams-build:dockerignore"
    build = BuildContext(context)
    lines = client.images.build(build, t=tag, dockerfile=build.dockerfile_name, rm=True).wait()
    output = "".join(line.stream or "" for line in lines)
    assert "Step 1/4 : FROM busybox:test" in output
    assert "Successfully tagged " + tag in output

    models = models_of(VERSION)
    body = models.ContainerCreateRequest(image=tag, host_config=models.HostConfig(network_mode="none"))
    container_id = client.containers.create(body).id
    try:
        client.containers.start(container_id)
        client.containers.wait(container_id)
        with client.containers.logs(container_id, stdout=True) as stream:
            listing = stream.read().decode().split()
    finally:
        client.containers.delete(container_id, force=True)
        client.images.delete(tag, force=True)
    assert listing == [
        "/ctx/.dockerignore",
        "/ctx/Dockerfile",
        "/ctx/keep/a.txt",
        "/ctx/keep/wanted.tmp",
    ]


def test_build_failure_raises_at_error_line(client: Any, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:test\nRUN echo before failing && exit 3\n")
    stream = client.images.build(BuildContext(tmp_path), rm=True, forcerm=True)
    received = []
    with pytest.raises(ProgressError) as raised:
        for line in stream:
            received.append(line)
    assert raised.value.code == 3
    assert "returned a non-zero code: 3" in raised.value.message
    assert raised.value.status == 200
    assert "before failing" in "".join(line.stream or "" for line in received)
    assert stream.closed


def test_image_import_failure_reported_mid_stream(client: Any) -> None:
    # The daemon downloads from a loopback server of the test, sends 200 with progress
    # lines, and reports the failure to unpack what it got as a line with errorDetail.
    class NotATar(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"not a tar archive " * 100_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *arguments: Any) -> None:
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), NotATar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/image.tar"
        stream = client.images.create(from_src=url, repo="streams-import", tag="broken")
        assert stream.status == 200
        received = []
        with pytest.raises(ProgressError) as raised:
            for line in stream:
                received.append(line)
    finally:
        server.shutdown()
        server.server_close()
    assert [line.status for line in received][:1] == [f"Downloading from {url}"]
    assert "invalid tar header" in raised.value.message
    assert raised.value.item.error_detail.message == raised.value.message
    assert stream.closed
