"""Hand-made operations and models in the shape the generator writes, for the client tests."""

from __future__ import annotations

from docker_engine import BaseClient, BodyKind, Location, Model, Operation, Parameter, ResponseKind


class Port(Model):
    _wire_names = {"private_port": "PrivatePort", "type": "Type"}

    private_port: int | None = None
    type: str | None = None


class ContainerSummary(Model):
    _wire_names = {"id": "Id", "names": "Names", "ports": "Ports"}

    id: str | None = None
    names: list[str] | None = None
    ports: list[Port] | None = None


class HostConfig(Model):
    _wire_names = {"annotations": "Annotations", "memory": "Memory"}

    annotations: dict[str, str] | None = None
    memory: int | None = None


class ContainerCreateBody(Model):
    _wire_names = {"image": "Image", "host_config": "HostConfig"}

    image: str | None = None
    host_config: HostConfig | None = None


class CreateResponse(Model):
    _wire_names = {"id": "Id", "warnings": "Warnings"}

    id: str | None = None
    warnings: list[str] | None = None


CONTAINER_LIST = Operation(
    operation_id="ContainerList",
    method="GET",
    path="/containers/json",
    parameters=(
        Parameter("all", "all", Location.QUERY, type="boolean"),
        Parameter("limit", "limit", Location.QUERY, type="integer"),
        Parameter("filters", "filters", Location.QUERY, type="string", json_encoded=True),
    ),
    response=ResponseKind.JSON,
    result_type="list[ContainerSummary]",
)

CONTAINER_CREATE = Operation(
    operation_id="ContainerCreate",
    method="POST",
    path="/containers/create",
    parameters=(
        Parameter("name", "name", Location.QUERY),
        Parameter("platform", "platform", Location.QUERY, since="1.41"),
    ),
    body=BodyKind.JSON,
    body_content_type="application/json",
    response=ResponseKind.JSON,
    result_type="CreateResponse",
    body_fields_since={"HostConfig.Annotations": "1.43", "Mounts[].BindOptions.ReadOnlyNonRecursive": "1.44"},
)

CONTAINER_INSPECT = Operation(
    operation_id="ContainerInspect",
    method="GET",
    path="/containers/{id}/json",
    parameters=(
        Parameter("id", "id", Location.PATH, required=True),
        Parameter("size", "size", Location.QUERY, type="boolean"),
    ),
    response=ResponseKind.JSON,
    result_type=None,
)

CONTAINER_DELETE = Operation(
    operation_id="ContainerDelete",
    method="DELETE",
    path="/containers/{id}",
    parameters=(
        Parameter("id", "id", Location.PATH, required=True),
        Parameter("force", "force", Location.QUERY, type="boolean"),
    ),
    response=ResponseKind.NONE,
)

CONTAINER_START = Operation(
    operation_id="ContainerStart",
    method="POST",
    path="/containers/{id}/start",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
    response=ResponseKind.NONE,
)

IMAGE_INSPECT = Operation(
    operation_id="ImageInspect",
    method="GET",
    path="/images/{name}/json",
    parameters=(Parameter("name", "name", Location.PATH, required=True),),
    response=ResponseKind.JSON,
)

IMAGE_PUSH = Operation(
    operation_id="ImagePush",
    method="POST",
    path="/images/{name}/push",
    parameters=(
        Parameter("name", "name", Location.PATH, required=True),
        Parameter("tag", "tag", Location.QUERY),
        Parameter("X-Registry-Auth", "x_registry_auth", Location.HEADER),
    ),
    response=ResponseKind.NONE,
)

IMAGE_LOAD = Operation(
    operation_id="ImageLoad",
    method="POST",
    path="/images/load",
    parameters=(Parameter("quiet", "quiet", Location.QUERY, type="boolean"),),
    body=BodyKind.BINARY,
    body_content_type="application/x-tar",
    response=ResponseKind.JSON,
)

CONTAINER_EXPORT = Operation(
    operation_id="ContainerExport",
    method="GET",
    path="/containers/{id}/export",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
    response=ResponseKind.BYTES,
)

CONTAINER_ARCHIVE_INFO = Operation(
    operation_id="ContainerArchiveInfo",
    method="HEAD",
    path="/containers/{id}/archive",
    parameters=(
        Parameter("id", "id", Location.PATH, required=True),
        Parameter("path", "path", Location.QUERY, required=True),
    ),
    response=ResponseKind.HEADERS,
)

SYSTEM_PING = Operation(
    operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT
)

IMAGE_LIST = Operation(
    operation_id="ImageList",
    method="GET",
    path="/images/json",
    parameters=(
        Parameter("shared-size", "shared_size", Location.QUERY, type="boolean", since="1.42"),
        Parameter("names", "names", Location.QUERY, type="array", collection_format="multi"),
        Parameter("ids", "ids", Location.QUERY, type="array", collection_format="csv"),
    ),
    response=ResponseKind.JSON,
)

CONTAINER_LOGS = Operation(
    operation_id="ContainerLogs",
    method="GET",
    path="/containers/{id}/logs",
    parameters=(Parameter("id", "id", Location.PATH, required=True),),
    response=ResponseKind.FRAMES,
)

SWARM_UNLOCK_KEY = Operation(  # an operation introduced after 1.41
    operation_id="NewerThing",
    method="GET",
    path="/newer/thing",
    response=ResponseKind.JSON,
    since="1.44",
)


class Client47(BaseClient):
    PACKAGE_API_VERSION = "1.47"
    MODELS_MODULE = "sample_api"


class Client43(BaseClient):
    PACKAGE_API_VERSION = "1.43"
    MODELS_MODULE = "sample_api"


class Client52(BaseClient):
    PACKAGE_API_VERSION = "1.52"
    MODELS_MODULE = "sample_api"
