"""The generated 1.41 package against a real Engine 20.10 daemon."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.generated_packages import import_package
from tests.testbed import Daemon


@pytest.fixture(scope="module")
def client(daemon_20_10: Daemon) -> Any:
    package = import_package("1.41")
    return package.Client(daemon_20_10.host)


def test_container_runs_and_reports_exit_code(client: Any) -> None:
    models = import_package("1.41").models
    name = f"exit-code-{uuid.uuid4().hex[:8]}"
    body = models.ContainerCreateRequest(
        image="busybox:test",
        cmd=["sh", "-c", "exit 3"],
        labels={"suite": "v1-41"},
        host_config=models.HostConfig(network_mode="none"),
    )
    created = client.containers.create(body, name=name)
    try:
        assert isinstance(created, models.ContainerCreateResponse)
        assert created.id
        client.containers.start(created.id)
        waited = client.containers.wait(created.id)
        assert waited.status_code == 3

        listed = client.containers.list(
            all=True, filters={"label": ["suite=v1-41"], "name": [name]}
        )
        assert [summary.id for summary in listed] == [created.id]
        assert listed[0].state == "exited"
        assert listed[0].names == [f"/{name}"]

        inspected = client.containers.inspect(created.id)
        assert inspected.state.exit_code == 3
        assert inspected.host_config.network_mode == "none"
    finally:
        client.containers.delete(created.id, force=True)

    assert client.containers.list(all=True, filters={"name": [name]}) == []


def test_volume_create_list_remove(client: Any) -> None:
    name = f"volume-{uuid.uuid4().hex[:8]}"
    volume = client.volumes.create({"Name": name, "Labels": {"suite": "v1-41"}})
    assert volume.name == name
    assert volume.labels == {"suite": "v1-41"}

    listed = client.volumes.list(filters={"name": [name]})
    assert [v.name for v in listed.volumes] == [name]

    client.volumes.delete(name)
    assert client.volumes.list(filters={"name": [name]}).volumes in ([], None)


def test_missing_container_raises_not_found(client: Any) -> None:
    from docker_engine.errors import NotFound

    with pytest.raises(NotFound) as caught:
        client.containers.inspect("no-such-container-here")
    assert caught.value.status == 404
    assert "no-such-container-here" in str(caught.value)


def test_requests_use_the_package_version(client: Any) -> None:
    client.system.ping()
    assert client.api_version == "1.41"


def test_wait_outlasts_the_read_timeout(daemon_20_10: Daemon) -> None:
    from docker_engine import Timeout

    package = import_package("1.41")
    client = package.Client(daemon_20_10.host, timeout=Timeout(connect=5, read=1))
    created = client.containers.create(
        {"Image": "busybox:test", "Cmd": ["sleep", "3"], "HostConfig": {"NetworkMode": "none"}}
    )
    try:
        client.containers.start(created.id)
        # Waiting answers when the container stops, after the 1 s read timeout: a wait
        # has no read timeout unless the call sets one.
        assert client.containers.wait(created.id).status_code == 0
    finally:
        client.containers.delete(created.id, force=True)
