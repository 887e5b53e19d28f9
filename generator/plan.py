"""The render plan of one version package: Python names and types for the intermediate model.

`plan_package(model, history)` decides everything the templates print. For the models
module, that is its classes (named definitions and the inline objects inside them) and
each field's Python name and type. For each operation, it is the method name, the
arguments in order, the body, what the method returns, and the API version that
introduced the operation and each of its parts. Templates only print these decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from generator import naming
from generator.model import ApiModel, Operation, Parameter, Schema

FIRST_API_VERSION = "1.25"

# The response kind of each streaming operation, keyed by operationId. The specs describe
# these bodies only in prose, so this table records the daemon's behaviour.
STREAM_KINDS = {
    "ContainerLogs": "FRAMES",
    "ServiceLogs": "FRAMES",
    "TaskLogs": "FRAMES",
    "ContainerAttach": "HIJACK",
    "ExecStart": "HIJACK",
    "Session": "HIJACK",
    "SystemEvents": "JSON_STREAM",
    "ContainerStats": "JSON_STREAM",
    "ImageCreate": "PROGRESS",
    "ImagePush": "PROGRESS",
    "ImageBuild": "PROGRESS",
    "ImageLoad": "PROGRESS",
    "PluginPull": "PROGRESS",
    "PluginUpgrade": "PROGRESS",
    "PluginPush": "PROGRESS",
}

# The item type of a progress stream, where the spec defines one.
PROGRESS_ITEM_DEFINITIONS = {
    "ImageCreate": "CreateImageInfo",
    "ImagePush": "PushImageInfo",
    "ImageBuild": "BuildInfo",
}

# Limitation: the websocket variant of attach is not generated; `containers.attach` gives
# the same stream over a hijacked HTTP connection.
SKIPPED_OPERATIONS = frozenset({"ContainerAttachWebsocket"})

# Query parameters that carry a JSON document rather than a plain string, with the Python
# type a caller passes.
JSON_QUERY_PARAMETERS = {
    "filters": "Mapping[str, Any]",
    "buildargs": "Mapping[str, str]",
    "labels": "Mapping[str, str]",
    "cachefrom": "Sequence[str]",
}

_SCALAR_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}

# Names a generated method uses besides its arguments: its own parameters, and the module's
# `cast` and `ops`, which its body calls and would be shadowed by an argument of that name.
_METHOD_NAMES = ("self", "body", "request_timeout", "cast", "ops")

_BINARY_CONTENT_TYPES = ("application/x-tar", "application/octet-stream")


class FeatureHistory(Protocol):
    """The first API version of each operation, parameter and body field."""

    def operation_since(self, version: str, operation_id: str) -> str: ...

    def parameter_since(self, version: str, operation_id: str, location: str, name: str) -> str: ...

    def body_fields_since(self, version: str, operation_id: str) -> dict[str, str]: ...


class NoHistory:
    """A history in which everything is as old as the first archived version."""

    def operation_since(self, version: str, operation_id: str) -> str:
        return FIRST_API_VERSION

    def parameter_since(self, version: str, operation_id: str, location: str, name: str) -> str:
        return FIRST_API_VERSION

    def body_fields_since(self, version: str, operation_id: str) -> dict[str, str]:
        return {}


@dataclass
class FieldPlan:
    """One attribute of a model class."""

    python_name: str
    wire_name: str
    type: str  # a Python type expression, without the `| None` every field gets
    doc: str | None


@dataclass
class ClassPlan:
    """One model class."""

    name: str
    doc: str | None
    fields: list[FieldPlan] = field(default_factory=list)


@dataclass
class AliasPlan:
    """A definition that is not an object (a map, a list, an enum), exported as a type alias."""

    name: str
    type: str
    doc: str | None


@dataclass
class ArgumentPlan:
    """One argument of a generated method."""

    python_name: str
    wire_name: str
    location: str  # path, query, header, body
    type: str
    required: bool
    doc: str | None
    schema_type: str = "string"
    collection_format: str | None = None
    json_encoded: bool = False
    since: str = FIRST_API_VERSION


@dataclass
class OperationPlan:
    """One generated method and the `Operation` constant behind it."""

    operation_id: str
    constant: str
    method_name: str
    http_method: str
    path: str
    summary: str | None
    description: str | None
    deprecated: bool
    path_arguments: list[ArgumentPlan]
    body: ArgumentPlan | None
    keyword_arguments: list[ArgumentPlan]
    response_kind: str
    result_type: str | None  # evaluated against the models module; None for plain JSON
    item_type: str | None
    return_annotation: str  # what the method is declared to return, in the client module
    returns_doc: str | None
    body_kind: str
    body_content_type: str | None
    since: str
    body_fields_since: dict[str, str]
    # The boolean query argument that turns a JSON stream into one document (`stream` of
    # stats): the method gets overloads, returning the item itself when it is False.
    single_switch: str | None = None

    @property
    def single_annotation(self) -> str:
        """The return annotation when `single_switch` is False: the stream's item type."""
        return _qualify(self.item_type) if self.item_type else "Any"

    @property
    def parameters(self) -> list[ArgumentPlan]:
        """Every argument but the body, in the order the constant lists them."""
        return [*self.path_arguments, *self.keyword_arguments]


@dataclass
class GroupPlan:
    """The operations of one tag: `client.containers`."""

    tag: str
    attribute: str
    class_name: str
    operations: list[OperationPlan] = field(default_factory=list)


@dataclass
class PackagePlan:
    """Everything one version package contains."""

    version: str
    package: str  # import name: docker_engine_v1_41
    distribution: str  # docker-engine-v1-41
    title: str
    classes: list[ClassPlan]
    aliases: list[AliasPlan]
    groups: list[GroupPlan]
    skipped_operations: list[str]

    @property
    def operations(self) -> list[OperationPlan]:
        return [operation for group in self.groups for operation in group.operations]


def package_name(version: str) -> str:
    """Return the import name of a version's package: "1.41" -> "docker_engine_v1_41"."""
    return "docker_engine_v" + version.replace(".", "_")


def distribution_name(version: str) -> str:
    """Return the distribution name of a version's package: "1.41" -> "docker-engine-v1-41"."""
    return "docker-engine-v" + version.replace(".", "-")


class _TypeNamer:
    """Names the classes of one models module and spells the type of every schema."""

    def __init__(self, model: ApiModel) -> None:
        self.model = model
        self.classes: dict[str, ClassPlan] = {}
        self.aliases: list[AliasPlan] = []
        # Definition name to the Python class or alias that stands for it.
        self.definition_names: dict[str, str] = {}
        # Inline object schemas, by identity, to the class made for each.
        self._inline: dict[int, str] = {}
        # The definitions whose alias is being spelled out at the moment.
        self._aliases_spelling: set[str] = set()

    def plan_definitions(self) -> None:
        for name in sorted(self.model.definitions):
            self.definition_names[name] = self._unique(naming.class_name(name))
        for name in sorted(self.model.definitions):
            schema = self.model.definitions[name].schema
            python_name = self.definition_names[name]
            if self._is_class(schema):
                self._add_class(python_name, schema)
            else:
                alias_type = self.spell(schema, python_name)
                self.aliases.append(AliasPlan(python_name, alias_type, schema.description))

    def _is_class(self, schema: Schema) -> bool:
        # A free-form object (`type: object` with neither properties nor a value schema)
        # stays a dict: a class without fields would hide every member in `extra`. An
        # `allOf` is a class only when one of its parts is: the specs wrap a `$ref` to a
        # string enum in `allOf` to give it a description (MountPoint.Type).
        if schema.ref is not None:
            return False
        if schema.properties:
            return True
        return any(self._is_class(self.model.resolve(part)) for part in schema.all_of)

    def _unique(self, name: str) -> str:
        candidate = name
        counter = 2
        while candidate in self.classes or candidate in self.definition_names.values():
            candidate = f"{name}{counter}"
            counter += 1
        return candidate

    def _add_class(self, name: str, schema: Schema) -> None:
        plan = ClassPlan(name=name, doc=schema.description or schema.title)
        self.classes[name] = plan
        used: set[str] = set()
        for prop in self.model.properties_of(schema):
            python_name = naming.field_name(prop.name)
            while python_name in used:
                python_name += "_"
            used.add(python_name)
            field_type = self.spell(prop.schema, name + naming.pascal_case(prop.name))
            plan.fields.append(FieldPlan(python_name, prop.name, field_type, _field_doc(prop.schema)))

    def spell(self, schema: Schema, owner: str) -> str:
        """Return the Python type of `schema`; an inline object becomes a class named `owner`."""
        if schema.ref is not None:
            target = self.model.resolve(schema)
            if self._is_class(target):
                return self.definition_names[schema.ref]
            # Aliases are spelled out where they are used, so no module-level name has to be
            # defined before the classes that use it. An alias that contains itself (a map of
            # maps of the same kind) would never end, so its inner occurrence is spelled Any.
            if schema.ref in self._aliases_spelling:
                return "Any"
            self._aliases_spelling.add(schema.ref)
            try:
                return self.spell(target, self.definition_names[schema.ref])
            finally:
                self._aliases_spelling.discard(schema.ref)
        if schema.all_of and not self._is_class(schema):
            return self.spell(schema.all_of[0], owner)
        if self._is_class(schema):
            # The model reuses schema objects, so one inline object is one class however
            # often its type is spelled.
            known = self._inline.get(id(schema))
            if known is not None:
                return known
            name = self._unique(owner)
            self._inline[id(schema)] = name
            self._add_class(name, schema)
            return name
        if schema.type == "array":
            if schema.items is None:
                return "list[Any]"
            return f"list[{self._nullable(schema.items, self.spell(schema.items, owner + 'Item'))}]"
        if schema.type == "object" or schema.additional_properties is not None:
            values = schema.additional_properties
            if isinstance(values, Schema):
                return f"dict[str, {self._nullable(values, self.spell(values, owner + 'Value'))}]"
            return "dict[str, Any]"
        if schema.type in _SCALAR_TYPES:
            return _SCALAR_TYPES[schema.type]
        return "Any"

    def _nullable(self, schema: Schema, spelled: str) -> str:
        if schema.nullable and spelled != "Any":
            return f"{spelled} | None"
        return spelled


def _field_doc(schema: Schema) -> str | None:
    parts = []
    if schema.description:
        parts.append(schema.description.strip())
    if schema.enum:
        values = ", ".join(f"`{value}`" for value in schema.enum if value is not None)
        if values:
            parts.append(f"One of: {values}.")
    return "\n\n".join(parts) or None


def plan_package(model: ApiModel, history: FeatureHistory | None = None) -> PackagePlan:
    """Decide the names, types and layout of the version package for `model`."""
    history = history or NoHistory()
    namer = _TypeNamer(model)
    namer.plan_definitions()

    groups: dict[str, GroupPlan] = {}
    skipped = []
    for operation in sorted(model.operations, key=lambda op: (op.tag, op.path, op.method)):
        if operation.operation_id in SKIPPED_OPERATIONS:
            skipped.append(operation.operation_id)
            continue
        group = groups.get(operation.tag)
        if group is None:
            group = groups[operation.tag] = GroupPlan(
                tag=operation.tag,
                attribute=naming.group_attribute(operation.tag),
                class_name=naming.group_class(operation.tag),
            )
        group.operations.append(_plan_operation(model, namer, history, operation))

    ordered_groups = sorted(groups.values(), key=lambda g: g.attribute)
    _make_group_names_unique(ordered_groups)
    _make_constants_unique([operation for group in ordered_groups for operation in group.operations])
    for group in ordered_groups:
        _make_method_names_unique(group)
        group.operations.sort(key=lambda op: op.method_name)

    return PackagePlan(
        version=model.version,
        package=package_name(model.version),
        distribution=distribution_name(model.version),
        title=model.title,
        classes=sorted(namer.classes.values(), key=lambda c: c.name),
        aliases=sorted(namer.aliases, key=lambda a: a.name),
        groups=ordered_groups,
        skipped_operations=skipped,
    )


def _make_method_names_unique(group: GroupPlan) -> None:
    # The first operation (by operationId) keeps the short name; the others are named after
    # their whole operationId, with underscores appended while that is taken as well.
    taken: set[str] = set()
    for operation in sorted(group.operations, key=lambda op: op.operation_id):
        if operation.method_name in taken:
            operation.method_name = naming.safe_identifier(naming.snake_case(operation.operation_id))
        while operation.method_name in taken:
            operation.method_name += "_"
        taken.add(operation.method_name)


def _make_group_names_unique(groups: list[GroupPlan]) -> None:
    # Tags such as "my tag" and "my-tag" get the same attribute and class name.
    attributes: set[str] = set()
    class_names: set[str] = set()
    for group in groups:
        while group.attribute in attributes:
            group.attribute += "_"
        while group.class_name in class_names:
            group.class_name = group.class_name.removesuffix("API") + "_API"
        attributes.add(group.attribute)
        class_names.add(group.class_name)


def _make_constants_unique(operations: list[OperationPlan]) -> None:
    # operationIds such as "Item-Create" and "ItemCreate" get the same constant name.
    taken: set[str] = set()
    for operation in sorted(operations, key=lambda op: op.operation_id):
        while operation.constant in taken:
            operation.constant += "_"
        taken.add(operation.constant)


def _plan_operation(
    model: ApiModel, namer: _TypeNamer, history: FeatureHistory, operation: Operation
) -> OperationPlan:
    version = model.version
    op_id = operation.operation_id
    owner = naming.pascal_case(op_id)

    def since(parameter: Parameter) -> str:
        return history.parameter_since(version, op_id, parameter.location, parameter.name)

    # Path parameters are positional, in the order they appear in the path.
    path_parameters = sorted(
        operation.parameters_in("path"), key=lambda p: operation.path.find("{" + p.name + "}")
    )
    path_arguments = [
        _plain_argument(p, since(p), required=True) for p in path_parameters
    ]
    keyword_arguments = [
        _plain_argument(p, since(p), required=p.required)
        for location in ("query", "header")
        for p in operation.parameters_in(location)
    ]
    taken = set(_METHOD_NAMES)
    for argument in [*path_arguments, *keyword_arguments]:
        while argument.python_name in taken:
            argument.python_name += "_"
        taken.add(argument.python_name)

    body_kind, body_content_type, body = _plan_body(model, namer, operation, owner)
    kind, result_type, item_type = _plan_response(model, namer, operation, owner)
    single_switch = None
    if kind == "JSON_STREAM":
        for argument in keyword_arguments:
            if argument.wire_name == "stream" and argument.schema_type == "boolean":
                single_switch = argument.python_name

    return OperationPlan(
        operation_id=op_id,
        constant=naming.snake_case(op_id).upper(),
        method_name=naming.method_name(op_id, operation.tag),
        http_method=operation.method,
        path=operation.path,
        summary=operation.summary,
        description=operation.description,
        deprecated=operation.deprecated,
        path_arguments=path_arguments,
        body=body,
        keyword_arguments=keyword_arguments,
        response_kind=kind,
        result_type=result_type,
        item_type=item_type,
        return_annotation=_return_annotation(kind, result_type, item_type),
        returns_doc=_returns_doc(operation),
        body_kind=body_kind,
        body_content_type=body_content_type,
        since=history.operation_since(version, op_id),
        body_fields_since=history.body_fields_since(version, op_id),
        single_switch=single_switch,
    )


def _plain_argument(parameter: Parameter, since: str, *, required: bool) -> ArgumentPlan:
    schema = parameter.schema
    json_type = JSON_QUERY_PARAMETERS.get(parameter.name) if parameter.location == "query" else None
    if json_type is not None and schema.type == "string":
        python_type = json_type
    elif schema.type == "array":
        item = _SCALAR_TYPES.get(schema.items.type if schema.items else "string", "str")
        python_type = f"Sequence[{item}]"
    else:
        python_type = _SCALAR_TYPES.get(schema.type or "string", "Any")
    doc = parameter.description.strip() if parameter.description else None
    if schema.enum:
        values = ", ".join(f"`{value}`" for value in schema.enum)
        doc = f"{doc} One of: {values}." if doc else f"One of: {values}."
    return ArgumentPlan(
        python_name=naming.parameter_name(parameter.name),
        wire_name=parameter.name,
        location=parameter.location,
        type=python_type,
        required=required,
        doc=doc,
        schema_type=schema.type or "string",
        collection_format=parameter.collection_format if schema.type == "array" else None,
        json_encoded=json_type is not None and schema.type == "string",
        since=since,
    )


def _plan_body(
    model: ApiModel, namer: _TypeNamer, operation: Operation, owner: str
) -> tuple[str, str | None, ArgumentPlan | None]:
    parameter = operation.body
    consumes = operation.consumes
    if parameter is None:
        if "application/x-tar" in consumes:
            # An operation that documents its tar body only as a content type still takes one.
            return "BINARY", "application/x-tar", ArgumentPlan(
                "body", "body", "body", "BinaryBody", False, "The request body, sent as it is."
            )
        return "NONE", None, None

    schema = model.resolve(parameter.schema)
    doc = parameter.description.strip() if parameter.description else None
    if schema.type == "string" or schema.format == "binary":
        content_type = _first_binary(consumes) or "application/octet-stream"
        return "BINARY", content_type, ArgumentPlan(
            "body", parameter.name, "body", "BinaryBody", parameter.required, doc
        )

    # Inline classes are named after the operation, not the schema's `title`: some specs
    # give the connect and disconnect bodies each other's titles.
    body_type = namer.spell(parameter.schema, owner + "Request")
    if body_type.startswith(("dict[", "list[")) or body_type == "Any":
        annotation = body_type.replace("dict[", "Mapping[") if body_type.startswith("dict[") else body_type
    else:
        annotation = f"models.{body_type} | Mapping[str, Any]"
    return "JSON", "application/json", ArgumentPlan(
        "body", parameter.name, "body", _qualify(annotation), parameter.required, doc
    )


def _first_binary(consumes: tuple[str, ...]) -> str | None:
    for content_type in consumes:
        if content_type in _BINARY_CONTENT_TYPES:
            return content_type
    return None


def _plan_response(
    model: ApiModel, namer: _TypeNamer, operation: Operation, owner: str
) -> tuple[str, str | None, str | None]:
    op_id = operation.operation_id
    success = operation.success
    schema = success.schema if success else None

    kind = STREAM_KINDS.get(op_id)
    if kind == "PROGRESS":
        item = PROGRESS_ITEM_DEFINITIONS.get(op_id)
        if item in model.definitions:
            return kind, None, namer.definition_names[item]
        return kind, None, None
    if kind == "JSON_STREAM":
        item_type = None
        if schema is not None:
            item_type = namer.spell(schema, owner + "Response")
        elif op_id == "SystemEvents" and "EventMessage" in model.definitions:
            item_type = namer.definition_names["EventMessage"]
        return kind, item_type, item_type
    if kind is not None:
        return kind, None, None

    if operation.method == "HEAD":
        return "HEADERS", None, None
    if any(c in _BINARY_CONTENT_TYPES for c in operation.produces) and (
        schema is None or model.resolve(schema).type in ("string", None)
    ):
        return "BYTES", None, None
    if schema is None:
        return "NONE", None, None
    resolved = model.resolve(schema)
    if resolved.type == "string" and "application/json" not in operation.produces:
        return "TEXT", None, None

    result_type = namer.spell(schema, owner + "Response")
    return "JSON", result_type, None


def _qualify(type_expression: str) -> str:
    """Prefix model class names with `models.` and builtins with `builtins.` for the client module.

    The client's group classes define methods named `list` and friends, which would shadow
    the builtins in annotations evaluated inside the class.
    """
    import re

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in ("list", "dict"):
            return "builtins." + word
        if word in ("str", "int", "float", "bool", "bytes"):
            return word
        if word in ("Any", "Mapping", "Sequence", "None", "BinaryBody") or word == "models":
            return word
        return "models." + word

    return re.sub(r"(?<![.\w])[A-Za-z_]\w*", replace, type_expression)


def _return_annotation(kind: str, result_type: str | None, item_type: str | None) -> str:
    if kind == "NONE":
        return "None"
    if kind == "TEXT":
        return "str"
    if kind == "HEADERS":
        return "builtins.dict[str, str]"
    if kind == "BYTES":
        return "ByteStream"
    if kind == "FRAMES":
        return "FrameStream"
    if kind == "HIJACK":
        return "HijackedStream"
    if kind == "JSON_STREAM":
        item = _qualify(item_type) if item_type else "Any"
        return f"JSONStream[{item}]"
    if kind == "PROGRESS":
        item = _qualify(item_type) if item_type else "builtins.dict[str, Any]"
        return f"ProgressStream[{item}]"
    return _qualify(result_type) if result_type else "Any"


def _returns_doc(operation: Operation) -> str | None:
    success = operation.success
    if success is None or not success.description:
        return None
    return success.description.strip()


def docstring_body(*parts: str | None) -> str:
    """Join documentation parts with blank lines, dropping empty ones."""
    return "\n\n".join(part.strip() for part in parts if part and part.strip())
