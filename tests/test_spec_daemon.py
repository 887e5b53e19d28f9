"""Check the corrections in specs/corrections.yaml against what a real daemon sends.

Docker Engine 20.10 serves every API version from 1.12 to 1.41, so one daemon responds in
the dialect of the old specs whose mistakes the corrections fix. Each targeted check
validates part of a real response against the published schema (which rejects it) and
the corrected schema (which accepts it). Schemas are checked with JSON Schema draft 4, the
dialect that Swagger 2.0 builds on, with `x-nullable: true` read as "null is allowed too".
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from generator.corrections import apply_corrections, resolve_pointer
from generator.load import load_document
from tests.specs_support import SHARED_SPECS
from tests.testbed import Daemon, free_tcp_port

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(
        not SHARED_SPECS.is_dir(),
        reason=f"spec mirror {SHARED_SPECS} is not on this machine",
    ),
]

_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def _to_json_schema(schema: Any, lenient: bool) -> Any:
    """Return a Swagger schema as JSON Schema, with null allowed where `x-nullable` is true.

    With `lenient`, null is allowed everywhere, because daemons send null for many empty
    lists, maps and optional numbers that no spec marks nullable. What remains are
    mistakes in the shape of the data, which is what the corrections are about.
    """
    if not isinstance(schema, dict):
        return schema
    converted = {key: value for key, value in schema.items() if key != "x-nullable"}
    if isinstance(schema.get("properties"), dict):
        converted["properties"] = {
            name: _to_json_schema(value, lenient)
            for name, value in schema["properties"].items()
        }
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            converted[key] = _to_json_schema(schema[key], lenient)
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            converted[key] = [_to_json_schema(part, lenient) for part in schema[key]]

    if lenient or schema.get("x-nullable") is True:
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


def _errors(
    document: dict[str, Any], pointer: str, instance: Any, lenient: bool = False
) -> list[str]:
    """Validate `instance` against the schema at `pointer`; return the error messages."""
    definitions = {
        name: _to_json_schema(schema, lenient)
        for name, schema in document["definitions"].items()
    }
    schema = _to_json_schema(resolve_pointer(document, pointer), lenient)
    validator = jsonschema.Draft4Validator({**schema, "definitions": definitions})
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def _specs(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the published and the corrected document of `version`."""
    published = load_document(SHARED_SPECS / f"v{version}.yaml")
    corrected = copy.deepcopy(published)
    apply_corrections(corrected, version)
    return published, corrected


@pytest.fixture(scope="module")
def probe(daemon_20_10: Daemon) -> Iterator[dict[str, Any]]:
    """A running container with port 80 published, port 443 exposed only, and one exec.

    A second container, never started, has the restart policy "no".
    """
    daemon = daemon_20_10
    suffix = uuid.uuid4().hex[:8]
    network = f"spec-probe-{suffix}"
    created: list[str] = []

    def create(name: str, body: dict[str, Any]) -> str:
        response = daemon.request(
            "POST", f"/v1.41/containers/create?name={name}", json_body=body
        )
        assert response.status == 201, response.message
        created.append(response.json()["Id"])
        return created[-1]

    response = daemon.request(
        "POST",
        "/v1.41/networks/create",
        json_body={"Name": network, "Driver": "bridge"},
    )
    assert response.status == 201, response.message
    try:
        binding = {"HostIp": "127.0.0.1", "HostPort": str(free_tcp_port())}
        running = create(
            f"spec-probe-{suffix}",
            {
                "Image": "busybox:test",
                "Cmd": ["sleep", "300"],
                "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
                "HostConfig": {
                    "NetworkMode": network,
                    "PortBindings": {"80/tcp": [binding]},
                },
            },
        )
        stopped = create(
            f"spec-probe-no-restart-{suffix}",
            {
                "Image": "busybox:test",
                "Cmd": ["true"],
                "HostConfig": {"NetworkMode": "none", "RestartPolicy": {"Name": "no"}},
            },
        )
        response = daemon.request("POST", f"/v1.41/containers/{running}/start")
        assert response.status == 204, response.message
        response = daemon.request(
            "POST", f"/v1.41/containers/{running}/exec", json_body={"Cmd": ["true"]}
        )
        assert response.status == 201, response.message

        yield {"daemon": daemon, "running": running, "stopped": stopped}
    finally:
        for container in created:
            daemon.request("DELETE", f"/v1.41/containers/{container}?force=1")
        daemon.request("DELETE", f"/v1.41/networks/{network}")


def _get(probe: dict[str, Any], path: str) -> Any:
    response = probe["daemon"].request("GET", path)
    assert response.status == 200, response.message
    return response.json()


def _inspect(probe: dict[str, Any], version: str, which: str = "running") -> Any:
    return _get(probe, f"/v{version}/containers/{probe[which]}/json")


INSPECT_SCHEMA = "/paths/~1containers~1{id}~1json/get/responses/200/schema"
LIST_SCHEMA = "/paths/~1containers~1json/get/responses/200/schema"


@pytest.mark.parametrize("version", ["1.25", "1.33"])
def test_port_bindings_are_lists(probe: dict[str, Any], version: str) -> None:
    published, corrected = _specs(version)
    bindings = _inspect(probe, version)["HostConfig"]["PortBindings"]
    pointer = "/definitions/HostConfig/allOf/1/properties/PortBindings"

    assert isinstance(bindings["80/tcp"], list)
    assert _errors(published, pointer, bindings) != []
    assert _errors(corrected, pointer, bindings) == []


@pytest.mark.parametrize("version", ["1.25", "1.31"])
def test_network_ports_are_a_map(probe: dict[str, Any], version: str) -> None:
    published, corrected = _specs(version)
    ports = _inspect(probe, version)["NetworkSettings"]["Ports"]
    pointer = "/definitions/NetworkConfig/properties/Ports"

    assert ports["443/tcp"] is None
    assert isinstance(ports["80/tcp"], list)
    assert _errors(published, pointer, ports) != []
    assert _errors(corrected, pointer, ports) == []


@pytest.mark.parametrize("version", ["1.33", "1.38"])
def test_unpublished_port_is_null(probe: dict[str, Any], version: str) -> None:
    published, corrected = _specs(version)
    ports = _inspect(probe, version)["NetworkSettings"]["Ports"]

    assert ports["443/tcp"] is None
    assert _errors(published, "/definitions/PortMap", ports) != []
    assert _errors(corrected, "/definitions/PortMap", ports) == []


@pytest.mark.parametrize("version", ["1.25", "1.37"])
def test_exec_ids_are_a_list(probe: dict[str, Any], version: str) -> None:
    published, corrected = _specs(version)
    exec_ids = _inspect(probe, version)["ExecIDs"]
    pointer = INSPECT_SCHEMA + "/properties/ExecIDs"

    assert isinstance(exec_ids, list)
    assert _errors(published, pointer, exec_ids) != []
    assert _errors(corrected, pointer, exec_ids) == []
    assert _errors(corrected, pointer, None) == []


@pytest.mark.parametrize(
    ("version", "which", "name"),
    [("1.25", "running", ""), ("1.29", "running", ""), ("1.39", "stopped", "no")],
)
def test_restart_policy_names(
    probe: dict[str, Any], version: str, which: str, name: str
) -> None:
    published, corrected = _specs(version)
    policy = _inspect(probe, version, which)["HostConfig"]["RestartPolicy"]

    assert policy["Name"] == name
    assert _errors(published, "/definitions/RestartPolicy", policy) != []
    assert _errors(corrected, "/definitions/RestartPolicy", policy) == []


@pytest.mark.parametrize("version", ["1.25", "1.39"])
def test_disk_usage_lists_container_objects(
    probe: dict[str, Any], version: str
) -> None:
    published, corrected = _specs(version)
    containers = _get(probe, f"/v{version}/system/df")["Containers"]
    pointer = "/paths/~1system~1df/get/responses/200/schema/properties/Containers"

    assert all(isinstance(container, dict) for container in containers)
    assert _errors(published, pointer, containers, lenient=True) != []
    assert _errors(corrected, pointer, containers, lenient=True) == []


@pytest.mark.parametrize(
    ("version", "published_fails"),
    [("1.25", True), ("1.31", True), ("1.33", True), ("1.39", True), ("1.41", False)],
)
def test_inspect_has_corrected_shape(
    probe: dict[str, Any], version: str, published_fails: bool
) -> None:
    published, corrected = _specs(version)
    responses = [_inspect(probe, version, which) for which in ("running", "stopped")]

    published_errors = [
        _errors(published, INSPECT_SCHEMA, inspect, lenient=True)
        for inspect in responses
    ]
    assert any(published_errors) is published_fails
    for inspect in responses:
        assert _errors(corrected, INSPECT_SCHEMA, inspect, lenient=True) == []


@pytest.mark.parametrize("version", ["1.25", "1.39", "1.41"])
def test_container_list_has_corrected_shape(
    probe: dict[str, Any], version: str
) -> None:
    _, corrected = _specs(version)
    containers = _get(probe, f"/v{version}/containers/json?all=1")

    assert {probe["running"], probe["stopped"]} <= {item["Id"] for item in containers}
    assert _errors(corrected, LIST_SCHEMA, containers, lenient=True) == []
