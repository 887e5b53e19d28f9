"""The runtime against real daemons over their unix sockets: ping, version, negotiation.

The operations here are written by hand, in the shape the generator writes them, so these
tests check the runtime alone; the generated packages have tests of their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from docker_engine import BaseClient, Location, Operation, Parameter, ResponseKind
from docker_engine.errors import APIVersionError, NotFound
from tests.generated_packages import REPO_ROOT, generated_versions, package_dir
from tests.testbed import Daemon

pytestmark = pytest.mark.daemon

SYSTEM_PING = Operation(
    operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT
)
SYSTEM_VERSION = Operation(
    operation_id="SystemVersion", method="GET", path="/version", response=ResponseKind.JSON
)
CONTAINER_INSPECT = Operation(
    operation_id="ContainerInspect",
    method="GET",
    path="/containers/{id}/json",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
)
# Added in API 1.44: GET /containers/json lists nothing new, so a made-up operation stands
# in for one the daemon lacks; the runtime must refuse it without sending anything.
NEWER_OPERATION = Operation(
    operation_id="NewerOperation",
    method="GET",
    path="/containers/json",
    since="1.44",
)

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


def client_class(version: str) -> type[BaseClient]:
    """A client class like a generated one, for API `version`."""
    return type(f"Client{version.replace('.', '')}", (BaseClient,), {"PACKAGE_API_VERSION": version})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = os.path.join(str(tmp_path), "docker-config")
    os.makedirs(config)
    monkeypatch.setenv("DOCKER_CONFIG", config)


def test_ping_and_version_on_20_10(daemon_20_10: Daemon) -> None:
    client = client_class("1.41")(daemon_20_10.host)
    assert client.call(SYSTEM_PING, {}) == "OK"
    version = client.call(SYSTEM_VERSION, {})
    assert version["ApiVersion"] == "1.41"
    assert version["Version"].startswith("20.10")
    assert client.api_version == "1.41"
    assert client.daemon_version is not None
    assert client.daemon_version.min_api_version == daemon_20_10.min_api_version


@pytest.mark.parametrize("fixture", ["daemon_20_10", "daemon_26_1", "daemon_28"])
def test_newer_package_negotiates_down(fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    client = client_class("1.56")(daemon.host)
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.api_version == daemon.api_version
    assert "negotiated down" in (client.negotiation_reason or "")


@pytest.mark.parametrize("fixture", ["daemon_26_1", "daemon_28"])
def test_older_package_keeps_its_version(fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    client = client_class("1.41")(daemon.host)
    version = client.call(SYSTEM_VERSION, {})
    assert client.api_version == "1.41"
    assert version["ApiVersion"] == daemon.api_version


def test_newer_operation_refused_on_20_10(daemon_20_10: Daemon) -> None:
    client = client_class("1.47")(daemon_20_10.host)
    with pytest.raises(APIVersionError) as raised:
        client.call(NEWER_OPERATION, {})
    assert raised.value.feature_since == "1.44"
    assert raised.value.client_version == "1.41"
    assert "whose maximum is 1.41" in str(raised.value)


def test_errors_from_real_daemon(daemon_20_10: Daemon) -> None:
    client = client_class("1.41")(daemon_20_10.host)
    with pytest.raises(NotFound) as raised:
        client.call(CONTAINER_INSPECT, {"id": "no-such-container-here"})
    assert "no-such-container-here" in raised.value.message
    assert raised.value.path == "/v1.41/containers/no-such-container-here/json"


def test_min_1_44_daemon_refuses_pinned_1_43(daemon_28_min_1_44: Daemon) -> None:
    client = client_class("1.47")(daemon_28_min_1_44.host, version="1.43")
    with pytest.raises(APIVersionError) as raised:
        client.call(SYSTEM_VERSION, {})
    error = raised.value
    assert error.client_version == "1.43"
    assert error.daemon_min == "1.44"
    assert error.status == 400
    assert "Minimum supported API version is 1.44" in str(error)


def test_min_1_44_daemon_refuses_old_package(daemon_28_min_1_44: Daemon) -> None:
    client = client_class("1.43")(daemon_28_min_1_44.host)
    with pytest.raises(APIVersionError) as raised:
        client.call(SYSTEM_PING, {})
    assert raised.value.daemon_min == "1.44"
    assert "docker-engine-v1-44" in str(raised.value)
    assert client.api_version is None


def test_min_1_44_daemon_accepts_1_44(daemon_28_min_1_44: Daemon) -> None:
    client = client_class("1.44")(daemon_28_min_1_44.host)
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.api_version == "1.44"


def test_docker_api_version_pins(daemon_20_10: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "1.40")
    client = client_class("1.41")(daemon_20_10.host)
    assert client.api_version == "1.40"
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.daemon_version is None

    # A version the daemon does not speak shows that the pin reaches the wire.
    monkeypatch.setenv("DOCKER_API_VERSION", "1.99")
    with pytest.raises(APIVersionError) as raised:
        client_class("1.41")(daemon_20_10.host).call(SYSTEM_PING, {})
    assert raised.value.daemon_max == "1.41"


def test_docker_host_variable(daemon_26_1: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", daemon_26_1.host)
    client = client_class("1.45")()
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.host.source == "the DOCKER_HOST environment variable"


def test_context_points_at_daemon(daemon_26_1: Daemon) -> None:
    config = os.environ["DOCKER_CONFIG"]
    digest = hashlib.sha256(b"testbed").hexdigest()
    meta_directory = os.path.join(config, "contexts", "meta", digest)
    os.makedirs(meta_directory)
    with open(os.path.join(meta_directory, "meta.json"), "w") as file:
        json.dump({"Name": "testbed", "Endpoints": {"docker": {"Host": daemon_26_1.host}}}, file)
    with open(os.path.join(config, "config.json"), "w") as file:
        json.dump({"currentContext": "testbed"}, file)

    client = client_class("1.45")()
    assert client.call(SYSTEM_VERSION, {})["ApiVersion"] == "1.45"
    assert "context 'testbed'" in client.host.source


@pytest.fixture
def generated_on_path() -> Iterator[list[str]]:
    """Put every generated package on sys.path, where connect() finds them."""
    versions = generated_versions()
    if not versions:
        pytest.skip("generated/ has no version packages; run `make generate` first")
    folders = [str(package_dir(version)) for version in versions]
    sys.path[:0] = folders
    yield versions
    del sys.path[: len(folders)]


@pytest.mark.parametrize("fixture", ["daemon_20_10", "daemon_26_1", "daemon_28", "daemon_28_min_1_44"])
def test_connect_picks_newest_fitting_package(
    fixture: str, request: pytest.FixtureRequest, generated_on_path: list[str]
) -> None:
    import docker_engine
    from docker_engine._versions import version_key

    daemon: Daemon = request.getfixturevalue(fixture)
    client = docker_engine.connect(daemon.host)
    expected = max(
        (v for v in generated_on_path if version_key(v) <= version_key(daemon.api_version)),
        key=version_key,
    )
    assert type(client).PACKAGE_API_VERSION == expected
    assert client.api_version == expected
    assert client.call(SYSTEM_PING, {}) == "OK"


def test_version_command(daemon_20_10: Daemon) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    environment["PYTHONPATH"] = str(REPO_ROOT / "runtime" / "src")
    result = subprocess.run(
        [sys.executable, "-m", "docker_engine", "version", "--format", "json", "-H", daemon_20_10.host],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    report = json.loads(result.stdout)
    server = report["Server"]
    assert server["Engine"] == daemon_20_10.engine_version
    assert server["APIVersion"] == "1.41"
    assert server["MinAPIVersion"] == daemon_20_10.min_api_version
    assert server["Host"] == daemon_20_10.host
