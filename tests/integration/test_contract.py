"""The generated packages against what real daemons send: every read-only operation, decoded.

For each engine, the newest package it accepts (1.41 on Engine 20.10, 1.45 on 26.1, 1.51
on 28) calls every list and inspect operation of its API with real objects present. They
are containers running, stopped and never started, an exec instance, a committed image, a
volume, a user-defined network, and a one-node swarm with a service, its task, a secret
and a config. Each JSON response is checked twice:

- against its schema in the corrected spec: a null where the schema is not x-nullable, a
  member the schema lacks, an enum value it does not list or a value of another type is
  a disagreement, and every disagreement must be recorded in specs/corrections.yaml
  (which then makes the corrected spec agree);
- as decoded by the package's models: every declared field has its declared shape or is
  None, and no model keeps members in `extra`, the place for members the spec lacks.
"""

from __future__ import annotations

import base64
import json
import time
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from docker_engine import Model, Operation, ResponseKind
from generator.corrections import apply_corrections, escape_token, resolve_pointer
from generator.load import load_document
from tests.generated_packages import import_package
from tests.specs_support import SHARED_SPECS
from tests.testbed import Daemon, free_tcp_port, leave_swarm, start_swarm

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(
        not SHARED_SPECS.is_dir(), reason=f"spec mirror {SHARED_SPECS} is not on this machine"
    ),
]

# Each engine with the newest API version it accepts that has a package.
TARGETS = {"daemon_20_10": "1.41", "daemon_26_1": "1.45", "daemon_28": "1.51"}

# Read-only operations that are not called, and why.
NOT_CALLED = {
    "DistributionInspect": "asks a registry, and none is reachable",
    "GetPluginPrivileges": "asks a registry, and none is reachable",
    "ImageSearch": "asks a registry, and none is reachable",
    "PluginInspect": "needs an installed plugin, and plugins come from a registry",
    "ContainerArchive": "returns a tar archive, not JSON",
    "ContainerExport": "returns a tar archive, not JSON",
    "ImageGet": "returns a tar archive, not JSON",
    "ImageGetAll": "returns a tar archive, not JSON",
    "ContainerLogs": "returns container output, not JSON",
    "ServiceLogs": "returns container output, not JSON",
    "TaskLogs": "returns container output, not JSON",
}


@dataclass
class World:
    """The objects created on one daemon, and the package that talks to it."""

    daemon: Daemon
    version: str
    ids: dict[str, str] = field(default_factory=dict)


def arguments_by_operation(world: World) -> dict[str, list[dict[str, Any]]]:
    """Return, per operation id, the argument sets to call it with."""
    ids = world.ids
    now = int(time.time())
    return {
        "ConfigInspect": [{"id": ids["config"]}],
        "ConfigList": [{}],
        "ContainerArchiveInfo": [{"id": ids["running"], "path": "/bin"}],
        "ContainerChanges": [{"id": ids["stopped"]}, {"id": ids["created"]}],
        "ContainerInspect": [
            {"id": ids["running"]},
            {"id": ids["stopped"]},
            {"id": ids["created"]},
            {"id": ids["running"], "size": True},
        ],
        "ContainerList": [{"all": True}, {"all": True, "size": True}],
        "ContainerStats": [
            {"id": ids["running"], "stream": False},
            {"id": ids["stopped"], "stream": False},
        ],
        "ContainerTop": [{"id": ids["running"]}],
        "ExecInspect": [{"id": ids["exec"]}],
        "ImageHistory": [{"name": ids["image"]}],
        "ImageInspect": [{"name": ids["image"]}, {"name": "busybox:test"}],
        "ImageList": [{}, {"all": True}],
        "NetworkInspect": [{"id": ids["network"]}, {"id": "none"}, {"id": "host"}],
        "NetworkList": [{}],
        "NodeInspect": [{"id": ids["node"]}],
        "NodeList": [{}],
        "PluginList": [{}],
        "SecretInspect": [{"id": ids["secret"]}],
        "SecretList": [{}],
        "ServiceInspect": [{"id": ids["service"]}],
        "ServiceList": [{}, {"status": True}],
        "SwarmInspect": [{}],
        "SwarmUnlockkey": [{}],
        "SystemDataUsage": [{}],
        "SystemEvents": [{"since": str(now - 600), "until": str(now)}],
        "SystemInfo": [{}],
        "SystemPing": [{}],
        "SystemPingHead": [{}],
        "SystemVersion": [{}],
        "TaskInspect": [{"id": ids["task"]}],
        "TaskList": [{}],
        "VolumeInspect": [{"name": ids["volume"]}],
        "VolumeList": [{}],
    }


# --- the objects on the daemon -----------------------------------------------------------


def _created(response: Any, *statuses: int) -> Any:
    assert response.status in statuses, f"{response.status}: {response.message}"
    return response.json() if response.body else None


def build_world(daemon: Daemon, version: str) -> World:
    """Create the objects the operations inspect, through the daemon's raw API."""
    world = World(daemon, version)
    ids = world.ids
    suffix = uuid.uuid4().hex[:8]
    request = daemon.request
    prefix = f"/v{version}"
    labels = {"suite": "contract"}

    ids["network"] = _created(
        request(
            "POST",
            f"{prefix}/networks/create",
            json_body={"Name": f"contract-{suffix}", "Driver": "bridge", "Labels": labels},
        ),
        201,
    )["Id"]
    ids["volume"] = _created(
        request(
            "POST",
            f"{prefix}/volumes/create",
            json_body={"Name": f"contract-{suffix}", "Labels": labels},
        ),
        201,
    )["Name"]

    def create(name: str, body: dict[str, Any]) -> str:
        path = f"{prefix}/containers/create?name={name}-{suffix}"
        return str(_created(request("POST", path, json_body=body), 201)["Id"])

    binding = {"HostIp": "127.0.0.1", "HostPort": str(free_tcp_port())}
    ids["running"] = create(
        "contract-running",
        {
            "Image": "busybox:test",
            "Cmd": ["sleep", "600"],
            "Labels": labels,
            "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_000_000_000},
            "HostConfig": {
                "NetworkMode": f"contract-{suffix}",
                "PortBindings": {"80/tcp": [binding]},
                "Mounts": [{"Type": "volume", "Source": ids["volume"], "Target": "/data"}],
            },
        },
    )
    _created(request("POST", f"{prefix}/containers/{ids['running']}/start"), 204)
    ids["stopped"] = create(
        "contract-stopped",
        {
            "Image": "busybox:test",
            "Cmd": ["sh", "-c", "echo out > /out; exit 3"],
            "Labels": labels,
            "HostConfig": {"NetworkMode": "none", "RestartPolicy": {"Name": "no"}},
        },
    )
    _created(request("POST", f"{prefix}/containers/{ids['stopped']}/start"), 204)
    _created(request("POST", f"{prefix}/containers/{ids['stopped']}/wait"), 200)
    ids["created"] = create(
        "contract-created",
        {
            "Image": "busybox:test",
            "Cmd": ["true"],
            "Tty": True,
            "HostConfig": {"NetworkMode": "none"},
        },
    )
    ids["exec"] = _created(
        request("POST", f"{prefix}/containers/{ids['running']}/exec", json_body={"Cmd": ["true"]}),
        201,
    )["Id"]
    _created(
        request(
            "POST",
            f"{prefix}/commit?container={ids['stopped']}&repo=contract-image&tag={suffix}",
        ),
        201,
    )
    ids["image"] = f"contract-image:{suffix}"

    ids["node"] = start_swarm(daemon).node_id
    ids["secret"] = _created(
        request(
            "POST",
            f"{prefix}/secrets/create",
            json_body={
                "Name": f"contract-{suffix}",
                "Data": base64.b64encode(b"secret").decode(),
                "Labels": labels,
            },
        ),
        201,
    )["ID"]
    ids["config"] = _created(
        request(
            "POST",
            f"{prefix}/configs/create",
            json_body={
                "Name": f"contract-{suffix}",
                "Data": base64.b64encode(b"config").decode(),
                "Labels": labels,
            },
        ),
        201,
    )["ID"]
    service = {
        "Name": f"contract-{suffix}",
        "Labels": labels,
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "busybox:test",
                "Command": ["sleep", "600"],
                "Secrets": [
                    {
                        "SecretID": ids["secret"],
                        "SecretName": f"contract-{suffix}",
                        "File": {"Name": "secret", "UID": "0", "GID": "0", "Mode": 0o400},
                    }
                ],
                "Configs": [
                    {
                        "ConfigID": ids["config"],
                        "ConfigName": f"contract-{suffix}",
                        "File": {"Name": "/config", "UID": "0", "GID": "0", "Mode": 0o444},
                    }
                ],
            },
            "RestartPolicy": {"Condition": "none"},
        },
        "Mode": {"Replicated": {"Replicas": 1}},
    }
    ids["service"] = _created(request("POST", f"{prefix}/services/create", json_body=service), 201)[
        "ID"
    ]
    ids["task"] = _wait_for_task(daemon, prefix, ids["service"])
    return world


def _wait_for_task(daemon: Daemon, prefix: str, service: str) -> str:
    """Wait until the service's task runs (or has ended); return its ID."""
    filters = quote(json.dumps({"service": [service]}))
    deadline = time.monotonic() + 60
    tasks: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        tasks = _created(daemon.request("GET", f"{prefix}/tasks?filters={filters}"), 200)
        if tasks and tasks[0]["Status"]["State"] in ("running", "complete", "failed", "rejected"):
            break
        time.sleep(0.2)
    assert tasks, f"the service {service} has no task after 60 s"
    return str(tasks[0]["ID"])


def destroy_world(world: World) -> None:
    daemon, prefix, ids = world.daemon, f"/v{world.version}", world.ids
    if "node" in ids:
        leave_swarm(daemon)
    for name in ("running", "stopped", "created"):
        if name in ids:
            daemon.request("DELETE", f"{prefix}/containers/{ids[name]}?force=1&v=1")
    if "image" in ids:
        daemon.request("DELETE", f"{prefix}/images/{ids['image']}?force=1")
    if "volume" in ids:
        daemon.request("DELETE", f"{prefix}/volumes/{ids['volume']}")
    if "network" in ids:
        daemon.request("DELETE", f"{prefix}/networks/{ids['network']}")


# --- calling every operation -------------------------------------------------------------


@dataclass
class Call:
    """One call of an operation: its arguments, the raw JSON documents and the result."""

    operation: Operation
    arguments: dict[str, Any]
    documents: list[Any]
    result: Any


@dataclass
class Observed:
    world: World
    operations: list[Operation]
    calls: list[Call]


def read_operations(package: Any) -> list[Operation]:
    found = vars(package._operations).values()
    return [op for op in found if isinstance(op, Operation) and op.method in ("GET", "HEAD")]


def call_everything(world: World) -> Observed:
    package = import_package(world.version)
    documents: list[Any] = []

    class RecordingClient(package.Client):  # type: ignore[misc, name-defined]
        """The package's client, keeping each JSON document before the models decode it."""

        def _type_decoder(self, operation: Operation, type_text: str | None) -> Any:
            decode = super()._type_decoder(operation, type_text)

            def record(value: Any) -> Any:
                documents.append(value)
                return decode(value)

            return record

    client = RecordingClient(world.daemon.host)
    assert client.negotiate() == world.version
    operations = read_operations(package)
    plans = arguments_by_operation(world)
    calls = []
    for operation in operations:
        for arguments in plans.get(operation.operation_id, []):
            documents.clear()
            result = client.call(operation, arguments)
            if arguments.get("stream") is False:
                result = [result]  # one document, returned as it is
            elif operation.response in (ResponseKind.JSON_STREAM, ResponseKind.PROGRESS):
                result = list(result)
            calls.append(Call(operation, arguments, list(documents), result))
    client.close()
    return Observed(world, operations, calls)


@pytest.fixture(scope="module", params=list(TARGETS), ids=list(TARGETS.values()))
def observed(request: pytest.FixtureRequest) -> Iterator[Observed]:
    daemon: Daemon = request.getfixturevalue(request.param)
    world = build_world(daemon, TARGETS[request.param])
    try:
        yield call_everything(world)
    finally:
        destroy_world(world)


# --- checking responses against the spec -------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A way a response differs from its schema, located by the schema's JSON pointer."""

    kind: str  # "null", "member", "enum" or "type"
    pointer: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.pointer}: {self.detail}"


@dataclass
class Flat:
    """A schema with its $refs followed and its allOf parts merged."""

    pointer: str
    types: set[str] = field(default_factory=set)
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    additional: tuple[Any, str] | None = None
    free_form: bool = False
    enum: list[Any] | None = None
    enum_pointer: str = ""
    items: tuple[Any, str] | None = None


def _follow(schema: Any, pointer: str, document: Any) -> tuple[Any, str]:
    for _ in range(50):
        if not isinstance(schema, dict) or "$ref" not in schema:
            return schema, pointer
        pointer = schema["$ref"].removeprefix("#")
        schema = resolve_pointer(document, pointer)
    raise AssertionError(f"$ref loop at {pointer}")


def _flatten(schema: Any, pointer: str, document: Any, flat: Flat | None = None) -> Flat:
    schema, pointer = _follow(schema, pointer, document)
    flat = flat or Flat(pointer)
    for index, part in enumerate(schema.get("allOf") or []):
        _flatten(part, f"{pointer}/allOf/{index}", document, flat)
    declared = schema.get("type")
    if declared:
        flat.types.update(declared if isinstance(declared, list) else [declared])
    for name, child in (schema.get("properties") or {}).items():
        flat.properties.setdefault(name, (child, f"{pointer}/properties/{escape_token(name)}"))
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        flat.additional = (additional, f"{pointer}/additionalProperties")
    elif additional is True:
        flat.free_form = True
    if "enum" in schema:
        flat.enum, flat.enum_pointer = schema["enum"], f"{pointer}/enum"
    if "items" in schema:
        flat.items = (schema["items"], f"{pointer}/items")
    return flat


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _nullable(schema: Any, pointer: str, document: Any) -> bool:
    """Tell whether x-nullable is set on the schema, beside its $ref or on its target."""
    while isinstance(schema, dict):
        if schema.get("x-nullable") is True:
            return True
        if "$ref" not in schema:
            return False
        schema, pointer = _follow({"$ref": schema["$ref"]}, pointer, document)
    return False


def find_disagreements(value: Any, schema: Any, pointer: str, document: Any) -> set[Disagreement]:
    """Compare a JSON value with the schema at `pointer` of `document`."""
    found: set[Disagreement] = set()
    _walk(value, schema, pointer, document, found)
    return found


def _walk(value: Any, schema: Any, pointer: str, document: Any, found: set[Disagreement]) -> None:
    if value is None:
        if not _nullable(schema, pointer, document):
            found.add(Disagreement("null", pointer, "the daemon sent null"))
        return
    flat = _flatten(schema, pointer, document)
    kind = _json_type(value)
    types = flat.types or ({"object"} if flat.properties or flat.additional else set())
    if types and kind not in types and not (kind == "integer" and "number" in types):
        declared = "/".join(sorted(types))
        found.add(Disagreement("type", flat.pointer, f"declared {declared}, sent {kind}"))
        return
    if flat.enum is not None and value not in flat.enum:
        found.add(Disagreement("enum", flat.enum_pointer, f"the daemon sent {value!r}"))
    if kind == "array" and flat.items is not None:
        for item in value:
            _walk(item, flat.items[0], flat.items[1], document, found)
    elif kind == "object":
        for name, member in value.items():
            if name in flat.properties:
                child, child_pointer = flat.properties[name]
                _walk(member, child, child_pointer, document, found)
            elif flat.additional is not None:
                _walk(member, flat.additional[0], flat.additional[1], document, found)
            elif flat.properties and not flat.free_form:
                where = f"{flat.pointer}/properties/{escape_token(name)}"
                found.add(Disagreement("member", where, f"the daemon sent a {_json_type(member)}"))


def response_schema(document: Any, operation: Operation) -> tuple[Any, str] | None:
    """Return the schema of the operation's success response and its pointer, if any."""
    method = operation.method.lower()
    responses = document["paths"][operation.path][method]["responses"]
    for status in sorted(responses):
        if status.startswith("2") and "schema" in responses[status]:
            pointer = f"/paths/{escape_token(operation.path)}/{method}/responses/{status}/schema"
            return responses[status]["schema"], pointer
    return None


def corrected_spec(version: str) -> Any:
    document = load_document(SHARED_SPECS / f"v{version}.yaml")
    apply_corrections(document, version)
    return document


# --- checking the decoded models ---------------------------------------------------------


def shape_problems(value: Any, annotation: Any, where: str) -> list[str]:
    """List where a decoded value does not have the shape its annotation declares."""
    problems: list[str] = []
    _check_shape(value, annotation, where, problems)
    return problems


def _check_shape(value: Any, annotation: Any, where: str, problems: list[str]) -> None:
    if value is None or annotation is Any:
        return
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [member for member in arguments if member is not type(None)]
        if len(members) == 1:
            _check_shape(value, members[0], where, problems)
        return
    if isinstance(annotation, type) and issubclass(annotation, Model):
        if not isinstance(value, annotation):
            fieldless = "" if annotation._wire_names else " (a model class without fields)"
            problems.append(
                f"{where}: {type(value).__name__} instead of {annotation.__name__}{fieldless}"
            )
            return
        if value.extra:
            problems.append(f"{where}: members the spec lacks: {sorted(value.extra)}")
        hints = typing.get_type_hints(annotation)
        for name, wire_name in annotation._wire_names.items():
            _check_shape(getattr(value, name, None), hints[name], f"{where}.{wire_name}", problems)
        return
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{where}: {type(value).__name__} instead of a list")
            return
        for index, item in enumerate(value):
            _check_shape(item, arguments[0], f"{where}[{index}]", problems)
        return
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{where}: {type(value).__name__} instead of a dict")
            return
        for key, item in value.items():
            _check_shape(item, arguments[1], f"{where}[{key!r}]", problems)
        return
    expected: dict[Any, Callable[[Any], bool]] = {
        str: lambda v: isinstance(v, str),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        bool: lambda v: isinstance(v, bool),
    }
    check = expected.get(annotation)
    if check is not None and not check(value):
        problems.append(f"{where}: {type(value).__name__} instead of {annotation.__name__}")


def result_annotation(package: Any, type_text: str) -> Any:
    return eval(type_text, {"Any": Any, "typing": typing}, vars(package.models))  # noqa: S307


# --- the tests ---------------------------------------------------------------------------


def test_contract_covers_every_read(observed: Observed) -> None:
    called = {call.operation.operation_id for call in observed.calls}
    not_called = {op.operation_id for op in observed.operations} - called
    assert not_called <= set(NOT_CALLED), (
        f"read operations of API {observed.world.version} that are neither called nor "
        f"listed in NOT_CALLED: {sorted(not_called - set(NOT_CALLED))}"
    )
    json_reads = [op for op in observed.operations if op.response is ResponseKind.JSON]
    assert len(called) >= len(json_reads) - 5


def test_contract_responses_match_spec(observed: Observed) -> None:
    version = observed.world.version
    document = corrected_spec(version)
    found: dict[Disagreement, set[str]] = {}
    for call in observed.calls:
        located = response_schema(document, call.operation)
        if located is None:
            continue
        schema, pointer = located
        for value in call.documents:
            for disagreement in find_disagreements(value, schema, pointer, document):
                found.setdefault(disagreement, set()).add(call.operation.operation_id)
    listing = "\n".join(
        f"  {disagreement} ({', '.join(sorted(operations))})"
        for disagreement, operations in sorted(found.items(), key=lambda item: str(item[0]))
    )
    assert not found, (
        f"API {version} on Engine {observed.world.daemon.engine_version} disagrees with the "
        f"corrected spec; record each in specs/corrections.yaml:\n{listing}"
    )


def decoding_problems(observed: Observed) -> tuple[int, list[str]]:
    """Return how many results were checked and where they differ from their types."""
    package = import_package(observed.world.version)
    problems: list[str] = []
    decoded = 0
    for call in observed.calls:
        operation = call.operation
        where = f"{operation.operation_id}({call.arguments})"
        if operation.response is ResponseKind.JSON and operation.result_type:
            problems += shape_problems(
                call.result, result_annotation(package, operation.result_type), where
            )
            decoded += 1
        elif operation.item_type:
            annotation = result_annotation(package, operation.item_type)
            for index, item in enumerate(call.result):
                problems += shape_problems(item, annotation, f"{where}[{index}]")
            decoded += 1
        elif operation.response is ResponseKind.TEXT:
            assert isinstance(call.result, str), where
        elif operation.response is ResponseKind.HEADERS:
            assert isinstance(call.result, dict), where
    return decoded, problems


# A model class without fields in place of a string: how the generator once spelled an
# allOf around one $ref to a string enum (MountPoint.Type, Mount.Type).
FIELDLESS_CLASS = "(a model class without fields)"


def test_contract_models_decode(observed: Observed) -> None:
    decoded, problems = decoding_problems(observed)
    assert decoded > 25
    others = [problem for problem in problems if FIELDLESS_CLASS not in problem]
    assert not others, "\n".join(others)


def test_contract_enums_in_all_of(observed: Observed) -> None:
    _, problems = decoding_problems(observed)
    fieldless = [problem for problem in problems if FIELDLESS_CLASS in problem]
    assert not fieldless, "\n".join(fieldless)
