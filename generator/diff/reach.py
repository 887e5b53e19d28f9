"""The places where each operation uses each definition, followed through `$ref` and `allOf`.

A change inside a shared definition affects every operation that reaches the definition,
at the path where it reaches it. `definition_uses(model)` lists those places once per model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.diff.paths import field_path, items_path, join_paths, location, values_path
from generator.diff.rules import REQUEST, RESPONSE
from generator.model import ApiModel, Operation, Schema


@dataclass(frozen=True)
class Use:
    """One place where an operation uses a definition."""

    operation: str  # "POST /containers/create"
    operation_id: str
    where: str  # "body", "response 200", "query"
    path: str  # the path of the node that refers to the definition, within `where`
    direction: str  # "request" or "response"

    @property
    def location(self) -> str:
        """The place as users read it: "body HostConfig.Mounts[]"."""
        return location(self.where, self.path)


# Results by id(model). The model is kept next to its result so that the id stays taken.
_cache: dict[int, tuple[ApiModel, dict[str, tuple[Use, ...]]]] = {}
_CACHE_SIZE = 4


def definition_uses(model: ApiModel) -> dict[str, tuple[Use, ...]]:
    """Return, for each definition that some operation reaches, every place that reaches it."""
    cached = _cache.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]

    references = {name: tuple(_direct_references(definition.schema, "")) for name, definition in model.definitions.items()}
    uses: dict[str, list[Use]] = {}

    def follow(name: str, base: Use, chain: frozenset[str]) -> None:
        uses.setdefault(name, []).append(base)
        for path, target in references.get(name, ()):
            # Limitation: a definition inside itself is not followed again, so only the
            # outermost place of a recursive definition is listed.
            if target in chain:
                continue
            nested = Use(base.operation, base.operation_id, base.where, join_paths(base.path, path), base.direction)
            follow(target, nested, chain | {target})

    for operation in model.operations:
        for where, root, schema, direction in operation_schemas(operation):
            for path, target in _direct_references(schema, root):
                follow(target, Use(operation.key, operation.operation_id, where, path, direction), frozenset({target}))

    result = {name: tuple(found) for name, found in uses.items()}
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[id(model)] = (model, result)
    return result


def operation_schemas(operation: Operation) -> Iterator[tuple[str, str, Schema, str]]:
    """Yield (where, root path, schema, direction) for every schema an operation sends or reads.

    A body's root is the empty path within "body"; a plain parameter's root is its name
    within its location ("query platform").
    """
    for parameter in operation.parameters:
        if parameter.location == "body":
            yield "body", "", parameter.schema, REQUEST
        else:
            yield parameter.location, parameter.name, parameter.schema, REQUEST
    for response in operation.responses:
        if response.schema is not None:
            yield f"response {response.status}", "", response.schema, RESPONSE


def _direct_references(schema: Schema, path: str) -> Iterator[tuple[str, str]]:
    """Yield (path, definition name) for each `$ref` reachable without following one."""
    if schema.ref is not None:
        yield path, schema.ref
        return
    for part in schema.all_of:
        # The parts of an allOf describe the same object, so they share its path.
        yield from _direct_references(part, path)
    for prop in schema.properties:
        yield from _direct_references(prop.schema, field_path(path, prop.name))
    if schema.items is not None:
        yield from _direct_references(schema.items, items_path(path))
    if isinstance(schema.additional_properties, Schema):
        yield from _direct_references(schema.additional_properties, values_path(path))
