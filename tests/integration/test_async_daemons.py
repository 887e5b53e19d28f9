"""The generated AsyncClient against real daemons: the sync integration tests, with await.

Containers, volumes, errors, negotiation (down to Engine 20.10, and the refusal of a
daemon whose minimum is 1.44), connect_async(), logs, attach, exec, events, stats and
archives, then one client under load: 200 concurrent inspects while 20 log follows run.
Every test runs its coroutine on a debug-mode event loop under the blocking-call
detector of runtime/tests/test_async_blocking.py.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import sys
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

import docker_engine
from docker_engine.errors import APIVersionError, NotFound
from tests.generated_packages import (
    REPO_ROOT,
    generated_versions,
    import_package,
    package_dir,
)
from tests.testbed import Daemon

sys.path.insert(0, str(REPO_ROOT / "runtime" / "tests"))

from test_async_blocking import run_checked  # noqa: E402

pytestmark = pytest.mark.daemon

# Every container these tests create carries this label.
LABEL_KEY, LABEL_VALUE = "docker-engine-tests", "async"

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = os.path.join(str(tmp_path), "docker-config")
    os.makedirs(config)
    monkeypatch.setenv("DOCKER_CONFIG", config)


@pytest.fixture(autouse=True)
def imported_packages() -> None:
    """Import the async clients and models these tests use before any loop runs, as an
    application does at startup: importing on the loop is a blocking call."""
    versions = generated_versions()
    if not versions:
        pytest.skip("generated/ has no version packages; run `make generate` first")
    for version in ("1.41", "1.43", "1.44", "1.47", "1.52", versions[-1]):
        package = import_package(version)
        importlib.import_module(f"{package.__name__}._async_client")
        importlib.import_module(f"{package.__name__}.models")


def async_client(package_version: str, host: str, **settings: Any) -> Any:
    """Return an AsyncClient of the generated package of `package_version`."""
    return import_package(package_version).AsyncClient(host, **settings)


def models_of(version: str) -> Any:
    package = import_package(version)
    return importlib.import_module(f"{package.__name__}.models")


@asynccontextmanager
async def container(
    client: Any,
    version: str,
    cmd: Sequence[str],
    *,
    tty: bool = False,
    stdin: bool = False,
    start: bool = True,
) -> AsyncIterator[str]:
    """Create (and start) a busybox container without network; remove it afterwards."""
    models = models_of(version)
    body = models.ContainerCreateRequest(
        image="busybox:test",
        cmd=list(cmd),
        tty=tty,
        open_stdin=stdin,
        stdin_once=stdin,
        attach_stdin=stdin,
        attach_stdout=True,
        attach_stderr=True,
        labels={LABEL_KEY: LABEL_VALUE},
        host_config=models.HostConfig(network_mode="none"),
    )
    created = await client.containers.create(
        body, name=f"async-{uuid.uuid4().hex[:10]}"
    )
    try:
        if start:
            await client.containers.start(created.id)
        yield created.id
    finally:
        await client.containers.delete(created.id, force=True)


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def files_in_tar(data: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                files[member.name] = extracted.read()
    return files


# --- containers, volumes, errors (Engine 20.10, package 1.41) ------------------------------


def test_container_exit_code_and_filtered_list(daemon_20_10: Daemon) -> None:
    models = models_of("1.41")
    name = f"exit-code-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            body = models.ContainerCreateRequest(
                image="busybox:test",
                cmd=["sh", "-c", "exit 3"],
                labels={LABEL_KEY: LABEL_VALUE},
                host_config=models.HostConfig(network_mode="none"),
            )
            created = await client.containers.create(body, name=name)
            try:
                assert isinstance(created, models.ContainerCreateResponse)
                await client.containers.start(created.id)
                waited = await client.containers.wait(created.id)
                assert waited.status_code == 3

                filters = {"label": [f"{LABEL_KEY}={LABEL_VALUE}"], "name": [name]}
                listed = await client.containers.list(all=True, filters=filters)
                assert [summary.id for summary in listed] == [created.id]
                assert listed[0].state == "exited"
                assert listed[0].names == [f"/{name}"]

                inspected = await client.containers.inspect(created.id)
                assert inspected.state.exit_code == 3
                assert inspected.host_config.network_mode == "none"
            finally:
                await client.containers.delete(created.id, force=True)
            assert (
                await client.containers.list(all=True, filters={"name": [name]}) == []
            )
            assert client.api_version == "1.41"

    run_checked(main())


def test_volume_create_list_remove(daemon_20_10: Daemon) -> None:
    name = f"volume-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            volume = await client.volumes.create(
                {"Name": name, "Labels": {"suite": "async"}}
            )
            assert volume.name == name
            assert volume.labels == {"suite": "async"}
            listed = await client.volumes.list(filters={"name": [name]})
            assert [v.name for v in listed.volumes] == [name]
            await client.volumes.delete(name)
            assert (await client.volumes.list(filters={"name": [name]})).volumes in (
                [],
                None,
            )

    run_checked(main())


def test_missing_container_not_found(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            with pytest.raises(NotFound) as caught:
                await client.containers.inspect("no-such-container-here")
            assert caught.value.status == 404
            assert caught.value.path == "/v1.41/containers/no-such-container-here/json"
            assert "no-such-container-here" in caught.value.message

    run_checked(main())


# --- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["daemon_20_10", "daemon_26_1", "daemon_28"])
def test_newest_package_negotiates_down(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    newest = generated_versions()[-1]

    async def main() -> None:
        async with async_client(newest, daemon.host) as client:
            assert await client.system.ping() == "OK"
            assert client.api_version == daemon.api_version
            assert "negotiated down" in (client.negotiation_reason or "")
            version = await client.system.version()
            assert version.api_version == daemon.api_version

    run_checked(main())


def test_newer_operation_refused_before_sending(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.52", daemon_20_10.host) as client:
            # The manifests parameter of GET /images/{name}/json came with API 1.48.
            with pytest.raises(APIVersionError) as raised:
                await client.images.inspect("busybox:test", manifests=True)
            assert raised.value.feature_since == "1.48"
            assert raised.value.client_version == "1.41"
            assert "whose maximum is 1.41" in str(raised.value)

    run_checked(main())


def test_min_1_44_daemon_refuses_older(daemon_28_min_1_44: Daemon) -> None:
    host = daemon_28_min_1_44.host

    async def main() -> None:
        async with async_client("1.43", host) as old:
            with pytest.raises(APIVersionError) as raised:
                await old.system.ping()
            assert raised.value.daemon_min == "1.44"
            assert "docker-engine-v1-44" in str(raised.value)
            assert old.api_version is None

        async with async_client("1.47", host, version="1.43") as pinned:
            with pytest.raises(APIVersionError) as rejected:
                await pinned.system.version()
            assert rejected.value.status == 400
            assert rejected.value.client_version == "1.43"
            assert "Minimum supported API version is 1.44" in str(rejected.value)

        async with async_client("1.44", host) as fitting:
            assert await fitting.system.ping() == "OK"
            assert fitting.api_version == "1.44"

    run_checked(main())


@pytest.fixture
def generated_on_path() -> Iterator[list[str]]:
    """Put every generated package on sys.path, where connect_async() finds them."""
    versions = generated_versions()
    if not versions:
        pytest.skip("generated/ has no version packages; run `make generate` first")
    folders = [str(package_dir(version)) for version in versions]
    sys.path[:0] = folders
    yield versions
    del sys.path[: len(folders)]


@pytest.mark.parametrize(
    "fixture", ["daemon_20_10", "daemon_26_1", "daemon_28", "daemon_28_min_1_44"]
)
def test_connect_async_picks_newest_fitting(
    fixture: str, request: pytest.FixtureRequest, generated_on_path: list[str]
) -> None:
    from docker_engine._versions import version_key

    daemon: Daemon = request.getfixturevalue(fixture)
    expected = max(
        (
            v
            for v in generated_on_path
            if version_key(v) <= version_key(daemon.api_version)
        ),
        key=version_key,
    )

    async def main() -> None:
        client = await docker_engine.connect_async(daemon.host)
        async with client:
            assert isinstance(client, docker_engine.AsyncBaseClient)
            assert type(client).__name__ == "AsyncClient"
            assert type(client).PACKAGE_API_VERSION == expected
            assert client.api_version == expected
            assert await client.system.ping() == "OK"

        pinned = await docker_engine.connect_async(daemon.host, version="1.44")
        async with pinned:
            assert pinned.api_version == "1.44"

    run_checked(main())


# --- streams (Engine 20.10, package 1.41: framing from the TTY setting) -------------------


def test_logs_follow_while_running(daemon_20_10: Daemon) -> None:
    script = "for i in 1 2 3 4; do echo line $i; sleep 0.3; done; echo done >&2"

    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(client, "1.41", ["sh", "-c", script]) as container_id:
                received: list[tuple[str, bytes]] = []
                running_at_first_line = None
                logs = await client.containers.logs(
                    container_id, follow=True, stdout=True, stderr=True
                )
                async with logs:
                    assert logs.multiplexed
                    async for pair in logs:
                        if not received:
                            inspected = await client.containers.inspect(container_id)
                            running_at_first_line = inspected.state.running
                        received.append(pair)
                # The iteration ended by itself when the container stopped.
                assert (
                    await client.containers.inspect(container_id)
                ).state.running is False
            assert running_at_first_line is True
            stdout = b"".join(data for stream, data in received if stream == "stdout")
            assert stdout == b"line 1\nline 2\nline 3\nline 4\n"
            assert ("stderr", b"done\n") in received

    run_checked(main())


def test_logs_tty_raw_output(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            cmd = ["printf", "Hello from tty\\n"]
            async with container(client, "1.41", cmd, tty=True) as container_id:
                await client.containers.wait(container_id)
                logs = await client.containers.logs(
                    container_id, stdout=True, stderr=True
                )
                async with logs:
                    assert not logs.multiplexed
                    assert await logs.read() == b"Hello from tty\r\n"

    run_checked(main())


def test_attach_stdin_echoed_by_cat(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(
                client, "1.41", ["cat"], stdin=True, start=False
            ) as container_id:
                stream = await client.containers.attach(
                    container_id, stream=True, stdin=True, stdout=True, stderr=True
                )
                async with stream:
                    await client.containers.start(container_id)
                    assert stream.hijacked
                    assert stream.multiplexed
                    received = b""
                    for line in (b"first line\n", b"second line\n"):
                        await stream.write(line)
                        while not received.endswith(line):
                            name, data = await stream.__anext__()
                            assert name == "stdout"
                            received += data
                    assert received == b"first line\nsecond line\n"
                    await stream.close_write()
                    # cat reads the end of stdin and exits, and the daemon ends the output.
                    assert [pair async for pair in stream] == []
                assert (await client.containers.wait(container_id)).status_code == 0

                data = bytes(range(256)) * 4096  # 1 MiB, more than socket buffers hold
            async with container(client, "1.41", ["cat"], stdin=True) as container_id:
                stream = await client.containers.attach(
                    container_id, stream=True, stdin=True, stdout=True
                )
                async with stream:
                    assert await stream.communicate(data, timeout=60) == (data, b"")

    run_checked(main())


async def exit_code_of(client: Any, exec_id: str) -> int:
    """Wait for the daemon to record the exit code of an exec whose output has ended."""
    deadline = time.monotonic() + 10
    while True:
        inspected = await client.exec.inspect(exec_id)
        if not inspected.running and inspected.exit_code is not None:
            return int(inspected.exit_code)
        assert time.monotonic() < deadline, f"exec {exec_id} did not exit"
        await asyncio.sleep(0.05)


def test_exec_stdin_output_exit_code(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(client, "1.41", ["sleep", "300"]) as container_id:
                created = await client.exec.create(
                    container_id,
                    {
                        "AttachStdin": True,
                        "AttachStdout": True,
                        "AttachStderr": True,
                        "Cmd": ["sh", "-c", "cat; echo to stderr >&2; exit 7"],
                    },
                )
                stream = await client.exec.start(
                    created.id, {"Detach": False, "Tty": False}
                )
                async with stream:
                    stdout, stderr = await stream.communicate(
                        b"from stdin\n", timeout=30
                    )
                assert stdout == b"from stdin\n"
                assert stderr == b"to stderr\n"
                assert await exit_code_of(client, created.id) == 7

                # With a TTY, stdin ends with the terminal's end-of-file character.
                created = await client.exec.create(
                    container_id,
                    {
                        "AttachStdin": True,
                        "AttachStdout": True,
                        "Tty": True,
                        "Cmd": ["cat"],
                    },
                )
                stream = await client.exec.start(
                    created.id, {"Detach": False, "Tty": True}
                )
                async with stream:
                    assert not stream.multiplexed
                    stdout, _ = await stream.communicate(b"typed\n\x04", timeout=30)
                # The terminal echoes the input, then cat writes it.
                assert stdout.replace(b"\r\n", b"\n") == b"typed\ntyped\n"
                assert await exit_code_of(client, created.id) == 0

    run_checked(main())


def test_exec_run_async(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(client, "1.41", ["sleep", "300"]) as container_id:
                result = await docker_engine.exec_run_async(
                    client,
                    container_id,
                    ["sh", "-c", "cat; echo to stderr >&2; exit 7"],
                    stdin=b"from stdin\n",
                )
                assert result == docker_engine.ExecResult(
                    7, b"from stdin\n", b"to stderr\n"
                )

                plain = await docker_engine.exec_run_async(
                    client,
                    container_id,
                    "echo 'two words'",
                    env={"X": "1"},
                    workdir="/tmp",
                )
                assert plain == docker_engine.ExecResult(0, b"two words\n", b"")

                tty = await docker_engine.exec_run_async(
                    client, container_id, ["cat"], stdin=b"typed", tty=True
                )
                assert tty.exit_code == 0
                # The terminal echoes the input, then cat writes it.
                assert tty.stdout == b"typedtyped"

    # Imported before the loop runs, as an application's imports are.
    assert docker_engine.exec_run_async
    run_checked(main())


def test_events_while_container_created_and_removed(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            since = str(int(time.time()) - 1)
            filters = {"type": ["container"], "label": [f"{LABEL_KEY}={LABEL_VALUE}"]}
            events = await client.system.events(since=since, filters=filters)
            seen: list[Any] = []

            async def consume() -> None:
                async for event in events:
                    seen.append(event)

            reader = asyncio.create_task(consume())
            async with container(client, "1.41", ["true"]) as container_id:
                await client.containers.wait(container_id)

            def actions() -> list[str]:
                return [
                    event.action for event in seen if event.actor.id == container_id
                ]

            async with asyncio.timeout(10):
                while "destroy" not in actions():
                    await asyncio.sleep(0.05)
            await events.aclose()
            async with asyncio.timeout(5):
                await reader
            assert actions()[:2] == ["create", "start"]
            assert "die" in actions()
            assert actions()[-1] == "destroy"

    run_checked(main())


def test_stats_one_shot_and_streaming(daemon_20_10: Daemon) -> None:
    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(client, "1.41", ["sleep", "300"]) as container_id:
                # With stream=False the method returns the one document, not a stream.
                one = await client.containers.stats(container_id, stream=False)
                assert one["id"] == container_id
                assert "memory_stats" in one
                async with await client.containers.stats(
                    container_id, stream=True
                ) as stats:
                    first = await stats.__anext__()
                    second = await stats.__anext__()
                assert first["id"] == second["id"] == container_id
                assert first["read"] < second["read"]

    run_checked(main())


def test_archive_round_trip(daemon_20_10: Daemon) -> None:
    big = os.urandom(3 * 1024 * 1024 + 17)
    chunked = tar_of({"one/c.txt": b"chunked body"})

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(chunked), 1000):
            yield chunked[start : start + 1000]

    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            async with container(client, "1.41", ["true"], start=False) as container_id:
                await client.containers.put_archive(
                    container_id, tar_of({"one/a.txt": b"bytes body"}), path="/tmp"
                )
                await client.containers.put_archive(
                    container_id, tar_of({"one/big.bin": big}), path="/tmp"
                )
                await client.containers.put_archive(container_id, pieces(), path="/tmp")

                async with await client.containers.archive(
                    container_id, path="/tmp/one"
                ) as s:
                    data = await s.read()
                assert files_in_tar(data) == {
                    "one/a.txt": b"bytes body",
                    "one/big.bin": big,
                    "one/c.txt": b"chunked body",
                }
                headers = await client.containers.archive_info(
                    container_id, path="/tmp/one/big.bin"
                )
                assert "X-Docker-Container-Path-Stat" in headers

    run_checked(main())


# --- one client under load -----------------------------------------------------------------


def test_200_inspects_while_20_log_follows(daemon_20_10: Daemon) -> None:
    script = "for i in 1 2 3 4 5 6; do echo $HOSTNAME $i; sleep 0.25; done"

    async def follow(client: Any, container_id: str) -> bytes:
        logs = await client.containers.logs(container_id, follow=True, stdout=True)
        async with logs:
            return b"".join([data async for _, data in logs])

    async def main() -> None:
        async with async_client("1.41", daemon_20_10.host) as client:
            ids = []
            for _ in range(20):
                created = await client.containers.create(
                    {
                        "Image": "busybox:test",
                        "Cmd": ["sh", "-c", script],
                        "Labels": {LABEL_KEY: LABEL_VALUE},
                        "HostConfig": {"NetworkMode": "none"},
                    }
                )
                ids.append(created.id)
            try:
                await asyncio.gather(*(client.containers.start(i) for i in ids))
                follows = [asyncio.create_task(follow(client, i)) for i in ids]
                inspected = await asyncio.gather(
                    *(client.containers.inspect(ids[n % 20]) for n in range(200))
                )
                assert [result.id for result in inspected] == [
                    ids[n % 20] for n in range(200)
                ]
                # The follows were still running while the inspects completed.
                assert sum(not task.done() for task in follows) > 0
                outputs = await asyncio.gather(*follows)
            finally:
                await asyncio.gather(
                    *(client.containers.delete(i, force=True) for i in ids)
                )
            for container_id, output in zip(ids, outputs):
                hostname = container_id[:12].encode()
                expected = b"".join(b"%s %d\n" % (hostname, n) for n in range(1, 7))
                assert output == expected

    run_checked(main())
