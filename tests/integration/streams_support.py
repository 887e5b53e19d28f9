"""Helpers of the stream tests: clients of generated packages and throwaway containers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tests.generated_packages import import_package

# Every container the stream tests create carries this label.
LABEL = "docker-engine-tests=streams"


def client_for(host: str, version: str) -> Any:
    """Return a client of the generated package of `version` for the daemon at `host`."""
    return import_package(version).Client(host)


def models_of(version: str) -> Any:
    import importlib

    import_package(version)
    return importlib.import_module(f"docker_engine_v{version.replace('.', '_')}.models")


@contextmanager
def container(
    client: Any,
    version: str,
    cmd: Sequence[str],
    *,
    tty: bool = False,
    stdin: bool = False,
    start: bool = True,
) -> Iterator[str]:
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
        labels={LABEL.split("=")[0]: LABEL.split("=")[1]},
        host_config=models.HostConfig(network_mode="none"),
    )
    name = f"streams-{uuid.uuid4().hex[:10]}"
    container_id = client.containers.create(body, name=name).id
    try:
        if start:
            client.containers.start(container_id)
        yield container_id
    finally:
        client.containers.delete(container_id, force=True)


def wait_for_state(client: Any, container_id: str, running: bool, timeout: float = 30) -> None:
    """Wait until the container is (or is no longer) running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.containers.inspect(container_id).state
        if bool(state.running) == running:
            return
        time.sleep(0.05)
    raise AssertionError(f"container {container_id} did not reach running={running}")
