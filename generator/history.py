"""The first API version of every operation, parameter and field, for the generated packages.

A generated version package records, for each operation, parameter and body field it has,
the API version that introduced it, so the runtime can tell a caller that a daemon speaking
an older version will not understand a call.

"Introduced" means the first version of the unbroken run of versions, ending at the version
asked about, that have the feature: a feature that was removed and added again counts from
its return. What the oldest version in the history already has counts as that version
(1.25 for the archived specs). Operations are followed by operationId, and also across a
renamed operationId when the method and path stay the same (1.28 renamed three archive
operations this way).

Field paths use the notation of `generator.diff.paths`: "HostConfig.Mounts[].Type",
"NetworkingConfig.EndpointsConfig{}.DriverOpts".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from generator.diff.compare import match_operations
from generator.diff.paths import ITEMS, VALUES, join_paths
from generator.errors import GeneratorError
from generator.model import ApiModel, Operation, Schema

logger = logging.getLogger(__name__)

# A body has no name of its own across versions ("body", "container", "config", ...), so
# body parameters are tracked under this one key.
_BODY_KEY = ""

_ParameterKey = tuple[str, str, str]  # operationId, location, name
_ResponseFieldKey = tuple[str, str]  # status, path


class FeatureHistory:
    """The version that introduced each operation, parameter and field, per API version.

    Build it with `build_feature_history`. Every query names the API version it is about,
    because a feature's first version depends on whether it was removed in between. Queries
    raise KeyError, with a message naming what is missing, for a version outside the history
    or a feature that version does not have.
    """

    def __init__(self, models: Sequence[ApiModel]) -> None:
        if not models:
            raise GeneratorError("a feature history needs at least one API version")
        self.versions: tuple[str, ...] = tuple(model.version for model in models)
        self._models = tuple(models)
        self._index = {version: index for index, version in enumerate(self.versions)}
        if len(self._index) != len(self.versions):
            raise GeneratorError(f"API versions repeat in the feature history: {', '.join(self.versions)}")

        self._operations: list[dict[str, str]] = []
        self._parameters: list[dict[_ParameterKey, str]] = []
        self._body_fields: list[dict[str, dict[str, str]]] = []
        self._response_fields: list[dict[str, dict[_ResponseFieldKey, str]]] | None = None
        self._previous_ids: list[dict[str, str]] = []
        self._build()

    # Queries.

    @property
    def oldest(self) -> str:
        """The first version of the history, which everything it already has counts from."""
        return self.versions[0]

    def operation_since(self, version: str, operation_id: str) -> str:
        """Return the version that introduced the operation, as of `version`."""
        operations = self._operations[self._position(version)]
        if operation_id not in operations:
            raise KeyError(f"API {version} has no operation {operation_id!r}")
        return operations[operation_id]

    def parameter_since(self, version: str, operation_id: str, location: str, name: str) -> str:
        """Return the version that introduced a parameter ("query", "platform"), as of `version`.

        For the body (`location` "body"), `name` may be the body parameter's name in any
        version, since the name carries no meaning on the wire.
        """
        parameters = self._parameters[self._position(version)]
        self.operation_since(version, operation_id)
        key = (operation_id, location, _BODY_KEY if location == "body" else name)
        if key not in parameters:
            raise KeyError(f"API {version}: operation {operation_id!r} has no {location} parameter {name!r}")
        return parameters[key]

    def body_fields_since(self, version: str, operation_id: str) -> dict[str, str]:
        """Return {field path: version} for the body fields introduced after the oldest version.

        Fields that the oldest version of the history already had are left out; an operation
        without a body returns an empty dict.
        """
        fields = self._operation_fields(version, operation_id)
        return {path: since for path, since in fields.items() if since != self.oldest}

    def body_field_since(self, version: str, operation_id: str, path: str) -> str:
        """Return the version that introduced one body field, as of `version`."""
        fields = self._operation_fields(version, operation_id)
        if path not in fields:
            raise KeyError(f"API {version}: operation {operation_id!r} has no body field {path!r}")
        return fields[path]

    def body_fields(self, version: str, operation_id: str) -> dict[str, str]:
        """Return {field path: version} for every body field of the operation in `version`."""
        return dict(self._operation_fields(version, operation_id))

    def response_fields(self, version: str, operation_id: str) -> dict[tuple[str, str], str]:
        """Return {(status, field path): version} for every response field of the operation."""
        index = self._position(version)
        self.operation_since(version, operation_id)
        return dict(self._all_response_fields()[index].get(operation_id, {}))

    def response_field_since(self, version: str, operation_id: str, status: str, path: str) -> str:
        """Return the version that introduced a field of the `status` response, as of `version`."""
        fields = self.response_fields(version, operation_id)
        if (status, path) not in fields:
            raise KeyError(f"API {version}: operation {operation_id!r} has no field {path!r} in response {status}")
        return fields[(status, path)]

    def model(self, version: str) -> ApiModel:
        """Return the model of `version`."""
        return self._models[self._position(version)]

    # Building.

    def _position(self, version: str) -> int:
        try:
            return self._index[version]
        except KeyError:
            raise KeyError(
                f"API {version} is not in this history, which covers {self.versions[0]} to {self.versions[-1]}"
            ) from None

    def _operation_fields(self, version: str, operation_id: str) -> dict[str, str]:
        index = self._position(version)
        self.operation_since(version, operation_id)
        return self._body_fields[index].get(operation_id, {})

    def _build(self) -> None:
        previous: ApiModel | None = None
        for index, model in enumerate(self._models):
            # The operationId each operation had in the previous version, when it was renamed.
            renamed: dict[str, str] = {}
            if previous is not None:
                for old, new in match_operations(previous, model):
                    if old is not None and new is not None and old.operation_id != new.operation_id:
                        renamed[new.operation_id] = old.operation_id
            self._previous_ids.append(renamed)

            walker = _FieldWalker(model)
            earlier_operations = self._operations[index - 1] if index else {}
            earlier_parameters = self._parameters[index - 1] if index else {}
            earlier_body_fields = self._body_fields[index - 1] if index else {}
            operations: dict[str, str] = {}
            parameters: dict[_ParameterKey, str] = {}
            body_fields: dict[str, dict[str, str]] = {}
            for operation in model.operations:
                op_id = operation.operation_id
                earlier_id = renamed.get(op_id, op_id)
                operations[op_id] = earlier_operations.get(earlier_id, model.version)

                for parameter in operation.parameters:
                    name = _BODY_KEY if parameter.location == "body" else parameter.name
                    since = earlier_parameters.get((earlier_id, parameter.location, name), model.version)
                    parameters[(op_id, parameter.location, name)] = since

                body = operation.body
                if body is not None:
                    earlier_fields = earlier_body_fields.get(earlier_id, {})
                    body_fields[op_id] = {
                        path: earlier_fields.get(path, model.version) for path in walker.fields(body.schema)
                    }

            self._operations.append(operations)
            self._parameters.append(parameters)
            self._body_fields.append(body_fields)
            previous = model

    def _all_response_fields(self) -> list[dict[str, dict[_ResponseFieldKey, str]]]:
        # Response fields are only needed by `since --field`, so they are built on first use.
        if self._response_fields is not None:
            return self._response_fields
        tables: list[dict[str, dict[_ResponseFieldKey, str]]] = []
        for index, model in enumerate(self._models):
            walker = _FieldWalker(model)
            renamed = self._previous_ids[index]
            table: dict[str, dict[_ResponseFieldKey, str]] = {}
            for operation in model.operations:
                earlier_id = renamed.get(operation.operation_id, operation.operation_id)
                earlier = tables[index - 1].get(earlier_id, {}) if index else {}
                table[operation.operation_id] = {
                    key: earlier.get(key, model.version) for key in _response_field_keys(walker, operation)
                }
            tables.append(table)
        self._response_fields = tables
        return tables


def build_feature_history(models: Sequence[ApiModel]) -> FeatureHistory:
    """Build the feature history of `models`, which must be in version order, oldest first."""
    return FeatureHistory(models)


def _response_field_keys(walker: _FieldWalker, operation: Operation) -> Iterator[_ResponseFieldKey]:
    for response in operation.responses:
        if response.schema is not None:
            for path in walker.fields(response.schema):
                yield response.status, path


class _FieldWalker:
    """Lists the field paths below a schema of one model, following `$ref` and `allOf`."""

    def __init__(self, model: ApiModel) -> None:
        self._model = model
        # Field paths of each definition, relative to it. Only complete lists are kept: a
        # list cut short by a reference cycle depends on where the walk entered the cycle.
        self._by_definition: dict[str, tuple[str, ...]] = {}

    def fields(self, schema: Schema) -> tuple[str, ...]:
        """Return the paths of all fields below `schema`, parents before their children."""
        paths, _ = self._walk(schema, frozenset())
        return paths

    def _walk(self, schema: Schema, chain: frozenset[str]) -> tuple[tuple[str, ...], bool]:
        """Return the field paths below `schema` and whether a reference cycle cut them short."""
        if schema.ref is not None:
            name = schema.ref
            known = self._by_definition.get(name)
            if known is not None:
                return known, False
            if name in chain:
                # Limitation: a recursive definition is expanded once along each path, so the
                # fields below its second occurrence get no path (the specs up to 1.56 have none).
                return (), True
            expanded, cut = self._walk(self._model.resolve(schema), chain | {name})
            if not cut:
                self._by_definition[name] = expanded
            return expanded, cut

        paths: list[str] = []
        cut = False
        if schema.properties or schema.all_of:
            for prop in self._model.properties_of(schema):
                paths.append(prop.name)
                below, below_cut = self._walk(prop.schema, chain)
                paths.extend(join_paths(prop.name, path) for path in below)
                cut = cut or below_cut
        if schema.items is not None:
            below, below_cut = self._walk(schema.items, chain)
            paths.extend(join_paths(ITEMS, path) for path in below)
            cut = cut or below_cut
        if isinstance(schema.additional_properties, Schema):
            below, below_cut = self._walk(schema.additional_properties, chain)
            paths.extend(join_paths(VALUES, path) for path in below)
            cut = cut or below_cut
        return tuple(paths), cut
