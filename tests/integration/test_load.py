"""One client shared by many threads (or tasks) against a real daemon: no errors, no leaks.

32 threads make 500 calls each through one sync Client of the 1.41 package, and 32 tasks
do the same through one AsyncClient, against Engine 20.10. The calls mix the probe,
lists and inspects, and check their results. Afterwards, with the client closed, the
process has no more file descriptors open than before the client existed.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.generated_packages import import_package
from tests.testbed import Daemon

WORKERS = 32
CALLS_PER_WORKER = 500


def test_pool_slots_first_come_first_served() -> None:
    # A thread that gives a slot back must not take it again ahead of a waiting thread.
    from docker_engine._transport import _Slots

    slots = _Slots(1)
    assert slots.acquire(1.0)
    order: list[str] = []

    def wait(name: str) -> None:
        assert slots.acquire(5.0)
        order.append(name)

    waiters = [threading.Thread(target=wait, args=(name,)) for name in ("first", "second")]
    for waiter in waiters:
        waiter.start()
        time.sleep(0.2)  # let it queue up before the next one
    slots.release()
    assert not slots.acquire(0.2), "the releasing thread took the slot back"
    waiters[0].join(5.0)
    assert order == ["first"]
    slots.release()
    waiters[1].join(5.0)
    assert order == ["first", "second"]
    slots.release()
    assert slots.acquire(0.1)


def test_pool_slot_wait_times_out() -> None:
    from docker_engine._transport import _Slots

    slots = _Slots(1)
    assert slots.acquire(None)
    started = time.monotonic()
    assert not slots.acquire(0.3)
    assert 0.25 < time.monotonic() - started < 2.0
    slots.release()
    assert slots.acquire(0.1)


def open_fds() -> dict[int, str]:
    """Return this process's open file descriptors and what each refers to."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            pass  # the descriptor that listdir used, closed by now
    return found


@pytest.fixture(scope="module")
def container(daemon_20_10: Daemon) -> Iterator[str]:
    """A stopped container with a label, for the inspects and filtered lists."""
    name = f"load-{uuid.uuid4().hex[:8]}"
    created = daemon_20_10.request(
        "POST",
        f"/v1.41/containers/create?name={name}",
        json_body={"Image": "busybox:test", "Cmd": ["true"], "Labels": {"suite": "load"}},
    )
    assert created.status == 201, created.message
    container_id = str(created.json()["Id"])
    yield container_id
    daemon_20_10.request("DELETE", f"/v1.41/containers/{container_id}?force=1")


def sync_call(client: Any, number: int, container_id: str) -> None:
    """Make call `number` of a worker and check its result."""
    kind = number % 6
    if kind == 0:
        assert client.system.ping() == "OK"
    elif kind == 1:
        assert client.system.version().api_version == "1.41"
    elif kind == 2:
        listed = client.containers.list(all=True, filters={"label": ["suite=load"]})
        assert container_id in [summary.id for summary in listed]
    elif kind == 3:
        assert client.containers.inspect(container_id).id == container_id
    elif kind == 4:
        assert any("busybox:test" in (image.repo_tags or []) for image in client.images.list())
    else:
        assert {network.name for network in client.networks.list()} >= {"none", "host"}


@pytest.mark.timeout(600)
def test_load_threads_share_client(daemon_20_10: Daemon, container: str) -> None:
    package = import_package("1.41")
    before = open_fds()
    client = package.Client(daemon_20_10.host)
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work() -> None:
        start.wait()
        for number in range(CALLS_PER_WORKER):
            try:
                sync_call(client, number, container)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    client.close()

    assert errors == [], "\n".join(repr(e) for e in errors)
    after = open_fds()
    leaked = {fd: target for fd, target in after.items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open: {leaked}"
    print(f"{WORKERS * CALLS_PER_WORKER} calls from {WORKERS} threads in {seconds:.1f} s")


async def async_call(client: Any, number: int, container_id: str) -> None:
    kind = number % 6
    if kind == 0:
        assert await client.system.ping() == "OK"
    elif kind == 1:
        assert (await client.system.version()).api_version == "1.41"
    elif kind == 2:
        listed = await client.containers.list(all=True, filters={"label": ["suite=load"]})
        assert container_id in [summary.id for summary in listed]
    elif kind == 3:
        assert (await client.containers.inspect(container_id)).id == container_id
    elif kind == 4:
        images = await client.images.list()
        assert any("busybox:test" in (image.repo_tags or []) for image in images)
    else:
        networks = await client.networks.list()
        assert {network.name for network in networks} >= {"none", "host"}


@pytest.mark.timeout(600)
def test_load_tasks_share_async_client(daemon_20_10: Daemon, container: str) -> None:
    package = import_package("1.41")
    before = open_fds()

    async def main() -> float:
        client = package.AsyncClient(daemon_20_10.host)

        async def work() -> None:
            for number in range(CALLS_PER_WORKER):
                await async_call(client, number, container)

        started = time.monotonic()
        try:
            await asyncio.gather(*(work() for _ in range(WORKERS)))
        finally:
            await client.aclose()
        return time.monotonic() - started

    seconds = asyncio.run(main())
    after = open_fds()
    leaked = {fd: target for fd, target in after.items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open: {leaked}"
    print(f"{WORKERS * CALLS_PER_WORKER} calls from {WORKERS} tasks in {seconds:.1f} s")
