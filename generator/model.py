"""The intermediate model of one API version: what the templates and the diff read.

`build_model(version, document)` turns a loaded, corrected swagger document into frozen
dataclasses. Nothing downstream reads raw YAML: a quirk of the input is handled here once,
and everything after sees operations, parameters, responses, definitions and schemas.

Schemas keep their structure (`$ref`, `allOf`, `additionalProperties`) so the diff can follow
references, and `ApiModel.resolve` and `ApiModel.properties_of` give the flattened view that
rendering needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.errors import GeneratorError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# Every `$ref` in a Swagger 2.0 document that the model follows starts with this.
_REF_PREFIX = "#/definitions/"


@dataclass(frozen=True)
class Schema:
    """A schema node: a reference, a composition, or an inline type."""

    type: str | None = None
    ref: str | None = None  # the name of the definition this node refers to
    format: str | None = None
    enum: tuple[Any, ...] | None = None
    nullable: bool = False  # `x-nullable: true`
    description: str | None = None
    title: str | None = None
    default: Any = None
    has_default: bool = False
    properties: tuple[Property, ...] = ()
    required: tuple[str, ...] = ()
    items: Schema | None = None
    # A schema for map values, True for "any value", None when absent.
    additional_properties: Schema | bool | None = None
    all_of: tuple[Schema, ...] = ()
    read_only: bool = False
    # `x-` keys other than x-nullable, with their values (x-omitempty, x-go-name, ...).
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_object(self) -> bool:
        """Tell whether this node declares an object with named properties."""
        return bool(self.properties) or bool(self.all_of) or (
            self.type == "object" and self.additional_properties is None
        )

    def property(self, name: str) -> Property | None:
        """Return the property called `name` declared directly on this node."""
        for candidate in self.properties:
            if candidate.name == name:
                return candidate
        return None


@dataclass(frozen=True)
class Property:
    """A named member of an object schema."""

    name: str
    schema: Schema
    required: bool = False


@dataclass(frozen=True)
class Parameter:
    """A parameter of an operation."""

    name: str
    location: str  # path, query, header, body, formData
    required: bool = False
    description: str | None = None
    # For a body parameter, the body's schema. For the others, the type, format, enum,
    # default and items of the parameter itself.
    schema: Schema = field(default_factory=Schema)
    collection_format: str | None = None


@dataclass(frozen=True)
class Response:
    """One declared response of an operation."""

    status: str  # "200", "default"
    description: str | None = None
    schema: Schema | None = None
    headers: Mapping[str, Schema] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One HTTP method on one path."""

    operation_id: str
    method: str  # upper case: GET, POST, ...
    path: str
    tag: str
    summary: str | None = None
    description: str | None = None
    parameters: tuple[Parameter, ...] = ()
    responses: tuple[Response, ...] = ()
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    deprecated: bool = False

    @property
    def key(self) -> str:
        """The operation as users name it: "POST /containers/create"."""
        return f"{self.method} {self.path}"

    @property
    def body(self) -> Parameter | None:
        """The body parameter, if the operation takes one."""
        for parameter in self.parameters:
            if parameter.location == "body":
                return parameter
        return None

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        """Return the parameters that travel in `location` (path, query, header)."""
        return tuple(p for p in self.parameters if p.location == location)

    @property
    def success(self) -> Response | None:
        """The first 2xx response, which is what a call returns."""
        for response in self.responses:
            if response.status.startswith("2"):
                return response
        return None


@dataclass(frozen=True)
class Definition:
    """A named schema under `definitions`."""

    name: str
    schema: Schema


@dataclass(frozen=True)
class ApiModel:
    """Everything one API version declares."""

    version: str
    title: str
    description: str | None
    operations: tuple[Operation, ...]
    definitions: Mapping[str, Definition]
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()

    def operation(self, operation_id: str) -> Operation:
        """Return the operation with this operationId."""
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(f"API {self.version} has no operation {operation_id!r}")

    def find_operation(self, key: str) -> Operation | None:
        """Return the operation named "METHOD /path" or by operationId, if there is one."""
        for operation in self.operations:
            if operation.key == key or operation.operation_id == key:
                return operation
        return None

    def resolve(self, schema: Schema) -> Schema:
        """Follow `$ref` links until a schema that is not a bare reference."""
        seen: set[str] = set()
        while schema.ref is not None:
            if schema.ref in seen:
                raise GeneratorError(
                    f"API {self.version}: $ref cycle through #/definitions/{schema.ref}"
                )
            seen.add(schema.ref)
            definition = self.definitions.get(schema.ref)
            if definition is None:
                raise GeneratorError(
                    f"API {self.version}: $ref to missing #/definitions/{schema.ref}"
                )
            schema = definition.schema
        return schema

    def properties_of(self, schema: Schema) -> tuple[Property, ...]:
        """Return the properties of an object schema, with `allOf` parts merged in order.

        A later part's property replaces an earlier one of the same name, as the daemon's
        own types embed one struct in another.
        """
        merged: dict[str, Property] = {}
        for part in self._object_parts(self.resolve(schema), set()):
            for prop in part.properties:
                merged[prop.name] = prop
        return tuple(merged.values())

    def required_of(self, schema: Schema) -> frozenset[str]:
        """Return the required property names of an object schema, across `allOf` parts."""
        names: set[str] = set()
        for part in self._object_parts(self.resolve(schema), set()):
            names.update(part.required)
        return frozenset(names)

    def _object_parts(self, schema: Schema, seen: set[str]) -> Iterator[Schema]:
        for part in schema.all_of:
            if part.ref is not None:
                if part.ref in seen:
                    raise GeneratorError(
                        f"API {self.version}: allOf cycle through #/definitions/{part.ref}"
                    )
                yield from self._object_parts(self.resolve(part), seen | {part.ref})
            else:
                yield from self._object_parts(part, seen)
        yield schema


def build_model(version: str, document: Mapping[str, Any]) -> ApiModel:
    """Build the intermediate model of one API version from its swagger document."""
    info = document.get("info") or {}
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise GeneratorError(f"API {version}: /paths is missing or not a mapping")
    consumes = tuple(document.get("consumes") or ())
    produces = tuple(document.get("produces") or ())

    operations = []
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            raise GeneratorError(f"API {version}: /paths/{_escape(path)} is not a mapping")
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            pointer = f"/paths/{_escape(path)}/{method}"
            operations.append(
                _build_operation(version, pointer, path, method, raw, shared, consumes, produces)
            )

    definitions = {}
    for name, raw in (document.get("definitions") or {}).items():
        pointer = f"/definitions/{_escape(name)}"
        definitions[name] = Definition(name, _build_schema(version, pointer, raw))

    return ApiModel(
        version=version,
        title=str(info.get("title", "")),
        description=info.get("description"),
        operations=tuple(operations),
        definitions=definitions,
        consumes=consumes,
        produces=produces,
    )


def _build_operation(
    version: str,
    pointer: str,
    path: str,
    method: str,
    raw: Mapping[str, Any],
    shared_parameters: list[Any],
    consumes: tuple[str, ...],
    produces: tuple[str, ...],
) -> Operation:
    operation_id = raw.get("operationId")
    if not isinstance(operation_id, str) or not operation_id:
        raise GeneratorError(f"API {version}: {pointer} has no operationId")
    tags = raw.get("tags") or ["Default"]

    parameters: dict[tuple[str, str], Parameter] = {}
    for index, raw_parameter in enumerate([*shared_parameters, *(raw.get("parameters") or [])]):
        parameter = _build_parameter(version, f"{pointer}/parameters/{index}", raw_parameter)
        # An operation's own parameter overrides a path-level one of the same name and place.
        parameters[(parameter.location, parameter.name)] = parameter

    responses = []
    for status, raw_response in (raw.get("responses") or {}).items():
        response_pointer = f"{pointer}/responses/{status}"
        if not isinstance(raw_response, Mapping):
            raise GeneratorError(f"API {version}: {response_pointer} is not a mapping")
        schema = raw_response.get("schema")
        headers = {
            name: _build_schema(version, f"{response_pointer}/headers/{_escape(name)}", header)
            for name, header in (raw_response.get("headers") or {}).items()
        }
        responses.append(
            Response(
                status=str(status),
                description=raw_response.get("description"),
                schema=None if schema is None else _build_schema(version, response_pointer + "/schema", schema),
                headers=headers,
            )
        )

    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=path,
        tag=str(tags[0]),
        summary=raw.get("summary"),
        description=raw.get("description"),
        parameters=tuple(parameters.values()),
        responses=tuple(responses),
        consumes=tuple(raw.get("consumes") or consumes),
        produces=tuple(raw.get("produces") or produces),
        deprecated=bool(raw.get("deprecated", False)),
    )


def _build_parameter(version: str, pointer: str, raw: Any) -> Parameter:
    if not isinstance(raw, Mapping):
        raise GeneratorError(f"API {version}: {pointer} is not a mapping")
    name = raw.get("name")
    location = raw.get("in")
    if not isinstance(name, str) or not isinstance(location, str):
        raise GeneratorError(f"API {version}: {pointer} needs both `name` and `in`")
    if location == "body":
        if "schema" not in raw:
            raise GeneratorError(f"API {version}: {pointer} is a body parameter without a schema")
        schema = _build_schema(version, pointer + "/schema", raw["schema"])
    else:
        if "type" not in raw:
            raise GeneratorError(f"API {version}: {pointer} (parameter {name!r}) has no type")
        schema = _build_schema(version, pointer, raw)
    return Parameter(
        name=name,
        location=location,
        required=bool(raw.get("required", False)),
        description=raw.get("description"),
        schema=schema,
        collection_format=raw.get("collectionFormat"),
    )


def _build_schema(version: str, pointer: str, raw: Any) -> Schema:
    if raw is True or raw == {}:
        return Schema()
    if not isinstance(raw, Mapping):
        raise GeneratorError(f"API {version}: {pointer} is not a schema object")

    ref = raw.get("$ref")
    if ref is not None:
        if not isinstance(ref, str) or not ref.startswith(_REF_PREFIX):
            raise GeneratorError(
                f"API {version}: {pointer}/$ref {ref!r} does not point into #/definitions/"
            )
        # Swagger 2.0 ignores siblings of $ref, except that the specs put x-nullable there.
        return Schema(
            ref=_unescape(ref[len(_REF_PREFIX):]),
            nullable=bool(raw.get("x-nullable", False)),
            description=raw.get("description"),
        )

    # Some specs write `required: true` on a property, which Swagger 2.0 does not define
    # (validation reports it); only a list of names counts.
    required = tuple(raw["required"]) if isinstance(raw.get("required"), list) else ()
    properties = tuple(
        Property(
            name=name,
            schema=_build_schema(version, f"{pointer}/properties/{_escape(name)}", value),
            required=name in required,
        )
        for name, value in (raw.get("properties") or {}).items()
    )
    items = raw.get("items")
    additional = raw.get("additionalProperties")
    if isinstance(additional, Mapping):
        additional_schema: Schema | bool | None = (
            True if not additional else _build_schema(version, pointer + "/additionalProperties", additional)
        )
    elif additional is True:
        additional_schema = True
    else:
        additional_schema = None
    enum = raw.get("enum")
    schema_type = raw.get("type")
    if isinstance(schema_type, list):
        # Swagger 2.0 allows one type only; a list is tolerated when it names one.
        schema_type = schema_type[0] if len(schema_type) == 1 else None

    return Schema(
        type=schema_type,
        format=raw.get("format"),
        enum=None if enum is None else tuple(enum),
        nullable=bool(raw.get("x-nullable", False)),
        description=raw.get("description"),
        title=raw.get("title"),
        default=raw.get("default"),
        has_default="default" in raw,
        properties=properties,
        required=required,
        items=None if items is None else _build_schema(version, pointer + "/items", items),
        additional_properties=additional_schema,
        all_of=tuple(
            _build_schema(version, f"{pointer}/allOf/{index}", part)
            for index, part in enumerate(raw.get("allOf") or ())
        ),
        read_only=bool(raw.get("readOnly", False)),
        extensions={
            key: value for key, value in raw.items() if key.startswith("x-") and key != "x-nullable"
        },
    )


def _escape(token: str) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
