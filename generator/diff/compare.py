"""Compare the intermediate models of two API versions.

Operations are matched by operationId. An operationId that disappears while another appears on
the same method and path counts as a renamed operation, so its other changes still show.

Schemas are compared deeply, through `$ref` and `allOf`. A reference to the same definition on
both sides is not followed: that definition is compared once, by name, and its changes are
reported under the definition with every operation that reaches it. Everything else (inline
schemas, or a reference that now points to another definition) is compared in place and
reported under the operation, or under the definition that contains it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.diff.changes import ADDED, CHANGED, REMOVED, ApiDiff, Change, Reach
from generator.diff.deprecation import states_deprecation
from generator.diff.paths import field_path, items_path, join_paths, location, values_path
from generator.diff.reach import Use, definition_uses
from generator.diff.rules import REQUEST, RESPONSE, rule_for
from generator.model import ApiModel, Definition, Operation, Parameter, Property, Response, Schema

_ANY = Schema()
_METHOD_ORDER = {"GET": 0, "HEAD": 1, "POST": 2, "PUT": 3, "PATCH": 4, "DELETE": 5, "OPTIONS": 6}


@dataclass(frozen=True)
class _Finding:
    """A difference before it is classified and attached to an operation or definition."""

    where: str  # "body", "query", "response 200"; empty for an operation's own attributes
    path: str
    aspect: str
    change: str
    before: Any
    after: Any
    event: str  # a rule name, or a direction-dependent event (see rules.rule_for)


def diff_models(old: ApiModel, new: ApiModel) -> ApiDiff:
    """Return every change from `old` to `new`. Either may be the newer version."""
    comparer = _Comparer(old, new)
    old_uses = definition_uses(old)
    new_uses = definition_uses(new)

    changes: list[Change] = []
    for old_operation, new_operation in match_operations(old, new):
        changes.extend(comparer.operation_changes(old_operation, new_operation))
    for name, findings in comparer.definition_findings():
        changes.extend(_definition_changes(name, findings, old_uses, new_uses))

    changes.sort(key=_sort_key)
    return ApiDiff(old.version, new.version, tuple(changes))


def match_operations(
    old: ApiModel, new: ApiModel
) -> list[tuple[Operation | None, Operation | None]]:
    """Pair each operation of `old` with the same operation of `new`, or with None.

    Operations match by operationId, or by method and path when the operationId changed.
    """
    old_by_id = {operation.operation_id: operation for operation in old.operations}
    new_by_id = {operation.operation_id: operation for operation in new.operations}
    pairs: list[tuple[Operation | None, Operation | None]] = [
        (operation, new_by_id[operation_id])
        for operation_id, operation in old_by_id.items()
        if operation_id in new_by_id
    ]

    # An operationId that is gone, with a new one on the same method and path, was renamed.
    removed = {op.key: op for op_id, op in old_by_id.items() if op_id not in new_by_id}
    added = {op.key: op for op_id, op in new_by_id.items() if op_id not in old_by_id}
    for key in sorted(removed.keys() & added.keys()):
        pairs.append((removed.pop(key), added.pop(key)))
    pairs.extend((operation, None) for operation in removed.values())
    pairs.extend((None, operation) for operation in added.values())
    return pairs


class _Comparer:
    def __init__(self, old: ApiModel, new: ApiModel) -> None:
        self.old = old
        self.new = new

    # Operations.

    def operation_changes(self, old: Operation | None, new: Operation | None) -> list[Change]:
        findings: list[_Finding] = []
        if old is None:
            assert new is not None
            findings.append(_Finding("", "operation", "operation", ADDED, None, new.key, "operation-added"))
        elif new is None:
            findings.append(_Finding("", "operation", "operation", REMOVED, old.key, None, "operation-removed"))
        else:
            self._compare_operation(old, new, findings)
        current = new if new is not None else old
        assert current is not None
        return [
            _make_change(finding, operation=current, directions=_directions_of(finding.where))
            for finding in findings
        ]

    def _compare_operation(self, old: Operation, new: Operation, out: list[_Finding]) -> None:
        if old.operation_id != new.operation_id:
            out.append(_Finding("", "operationId", "operationId", CHANGED, old.operation_id, new.operation_id, "operation-renamed"))
        if old.method != new.method:
            out.append(_Finding("", "method", "method", CHANGED, old.method, new.method, "method-changed"))
        if old.path != new.path:
            out.append(_Finding("", "path", "path", CHANGED, old.path, new.path, "path-changed"))

        old_deprecated = old.deprecated or states_deprecation(old.description)
        new_deprecated = new.deprecated or states_deprecation(new.description)
        if old_deprecated != new_deprecated:
            event = "operation-deprecated" if new_deprecated else "operation-undeprecated"
            out.append(_Finding("", "operation", "deprecated", CHANGED, old_deprecated, new_deprecated, event))

        for aspect in ("consumes", "produces"):
            before, after = getattr(old, aspect), getattr(new, aspect)
            for content_type in _ordered_union(before, after):
                if content_type not in after:
                    out.append(_Finding("", aspect, aspect, REMOVED, content_type, None, "content-type-removed"))
                elif content_type not in before:
                    out.append(_Finding("", aspect, aspect, ADDED, None, content_type, "content-type-added"))

        self._compare_parameters(old, new, out)
        self._compare_responses(old.responses, new.responses, out)

    def _compare_parameters(self, old: Operation, new: Operation, out: list[_Finding]) -> None:
        old_parameters = {_parameter_key(p): p for p in old.parameters}
        new_parameters = {_parameter_key(p): p for p in new.parameters}
        for key in _ordered_union(old_parameters, new_parameters):
            before, after = old_parameters.get(key), new_parameters.get(key)
            where, path = _parameter_place(before or after)  # type: ignore[arg-type]
            if before is None:
                assert after is not None
                event = "required-parameter-added" if after.required else "parameter-added"
                out.append(_Finding(where, path, "parameter", ADDED, None, self._summary(self.new, after.schema), event))
                continue
            if after is None:
                out.append(_Finding(where, path, "parameter", REMOVED, self._summary(self.old, before.schema), None, "parameter-removed"))
                continue

            if before.required != after.required:
                event = "parameter-became-required" if after.required else "parameter-became-optional"
                out.append(_Finding(where, path, "required", CHANGED, before.required, after.required, event))
            if before.collection_format != after.collection_format:
                change = _change_kind(before.collection_format, after.collection_format)
                out.append(
                    _Finding(where, path, "collectionFormat", change, before.collection_format, after.collection_format, "collection-format-changed")
                )
            self.compare_schema(before.schema, after.schema, where, path, out)

    def _compare_responses(self, old: Iterable[Response], new: Iterable[Response], out: list[_Finding]) -> None:
        old_responses = {response.status: response for response in old}
        new_responses = {response.status: response for response in new}
        for status in _ordered_union(old_responses, new_responses):
            where = f"response {status}"
            kind = "success" if status.startswith("2") else "error"
            before, after = old_responses.get(status), new_responses.get(status)
            if before is None:
                out.append(_Finding(where, "", "status", ADDED, None, None, f"{kind}-status-added"))
                continue
            if after is None:
                out.append(_Finding(where, "", "status", REMOVED, None, None, f"{kind}-status-removed"))
                continue

            if before.schema is None and after.schema is not None:
                out.append(_Finding(where, "", "schema", ADDED, None, self._summary(self.new, after.schema), "schema-added"))
            elif before.schema is not None and after.schema is None:
                out.append(_Finding(where, "", "schema", REMOVED, self._summary(self.old, before.schema), None, "schema-removed"))
            elif before.schema is not None and after.schema is not None:
                self.compare_schema(before.schema, after.schema, where, "", out)

            header_where = f"{where} header"
            for name in _ordered_union(before.headers, after.headers):
                old_header, new_header = before.headers.get(name), after.headers.get(name)
                if old_header is None:
                    out.append(_Finding(header_where, name, "header", ADDED, None, self._summary(self.new, new_header), "header-added"))  # type: ignore[arg-type]
                elif new_header is None:
                    out.append(_Finding(header_where, name, "header", REMOVED, self._summary(self.old, old_header), None, "header-removed"))
                else:
                    self.compare_schema(old_header, new_header, header_where, name, out)

    # Definitions.

    def definition_findings(self) -> list[tuple[str, list[_Finding]]]:
        """Return the findings of every definition, by name, including added, removed and renamed."""
        old_definitions, new_definitions = self.old.definitions, self.new.definitions
        result: list[tuple[str, list[_Finding]]] = []
        for name in sorted(old_definitions.keys() & new_definitions.keys()):
            findings: list[_Finding] = []
            self.compare_schema(old_definitions[name].schema, new_definitions[name].schema, "", "", findings)
            if findings:
                result.append((name, findings))

        removed = sorted(old_definitions.keys() - new_definitions.keys())
        added = sorted(new_definitions.keys() - old_definitions.keys())
        renamed = _renamed_definitions(
            [old_definitions[name] for name in removed], [new_definitions[name] for name in added]
        )
        for old_name, new_name in renamed.items():
            finding = _Finding("", "", "definition", CHANGED, old_name, new_name, "definition-renamed")
            result.append((new_name, [finding]))
        for name in removed:
            if name not in renamed:
                summary = self._summary(self.old, old_definitions[name].schema)
                result.append((name, [_Finding("", "", "definition", REMOVED, summary, None, "definition-removed")]))
        renamed_to = set(renamed.values())
        for name in added:
            if name not in renamed_to:
                summary = self._summary(self.new, new_definitions[name].schema)
                result.append((name, [_Finding("", "", "definition", ADDED, None, summary, "definition-added")]))
        return result

    # Schemas.

    def compare_schema(
        self,
        old: Schema,
        new: Schema,
        where: str,
        path: str,
        out: list[_Finding],
        pairs: frozenset[tuple[str | None, str | None]] = frozenset(),
    ) -> None:
        """Compare two schema nodes at `where` `path`, and everything below them."""
        if old.ref is not None and old.ref == new.ref:
            # The definition itself is compared once, by name. Only what the referring
            # site adds (x-nullable, a description) belongs here.
            self._compare_site(old, new, old.nullable, new.nullable, where, path, out)
            return

        pair = (old.ref, new.ref)
        if pair != (None, None):
            if pair in pairs:
                return
            pairs = pairs | {pair}
        old_resolved, new_resolved = self.old.resolve(old), self.new.resolve(new)
        self._compare_site(
            old, new, old.nullable or old_resolved.nullable, new.nullable or new_resolved.nullable, where, path, out
        )
        self._compare_node(old_resolved, new_resolved, where, path, out, pairs)

    def _compare_site(
        self, old: Schema, new: Schema, old_nullable: bool, new_nullable: bool, where: str, path: str, out: list[_Finding]
    ) -> None:
        old_deprecated = states_deprecation(old.description, old.extensions)
        new_deprecated = states_deprecation(new.description, new.extensions)
        if old_deprecated != new_deprecated:
            event = "field-deprecated" if new_deprecated else "field-undeprecated"
            out.append(_Finding(where, path, "deprecated", CHANGED, old_deprecated, new_deprecated, event))
        if old_nullable != new_nullable:
            event = "became-nullable" if new_nullable else "became-non-nullable"
            out.append(_Finding(where, path, "nullable", CHANGED, old_nullable, new_nullable, event))

    def _compare_node(
        self,
        old: Schema,
        new: Schema,
        where: str,
        path: str,
        out: list[_Finding],
        pairs: frozenset[tuple[str | None, str | None]],
    ) -> None:
        old_type, new_type = _type_name(old), _type_name(new)
        if old_type != new_type:
            out.append(_Finding(where, path, "type", CHANGED, old_type, new_type, "type-changed"))
            return

        if old.format != new.format:
            change = _change_kind(old.format, new.format)
            out.append(_Finding(where, path, "format", change, old.format, new.format, "format-changed"))
        self._compare_enum(old.enum, new.enum, where, path, out)
        if (old.has_default, old.default) != (new.has_default, new.default):
            change = ADDED if not old.has_default else REMOVED if not new.has_default else CHANGED
            out.append(_Finding(where, path, "default", change, old.default, new.default, "default-changed"))

        if old_type == "array":
            self.compare_schema(old.items or _ANY, new.items or _ANY, where, items_path(path), out, pairs)
        elif old_type in ("object", "map"):
            self._compare_properties(old, new, where, path, out, pairs)
            self._compare_values(old.additional_properties, new.additional_properties, where, path, out, pairs)

    def _compare_enum(
        self, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None, where: str, path: str, out: list[_Finding]
    ) -> None:
        if old is None and new is None:
            return
        if old is None:
            out.append(_Finding(where, path, "enum", ADDED, None, list(new or ()), "enum-introduced"))
            return
        if new is None:
            out.append(_Finding(where, path, "enum", REMOVED, list(old), None, "enum-dropped"))
            return
        for value in old:
            if value not in new:
                out.append(_Finding(where, path, "enum", REMOVED, value, None, "enum-value-removed"))
        for value in new:
            if value not in old:
                out.append(_Finding(where, path, "enum", ADDED, None, value, "enum-value-added"))

    def _compare_properties(
        self,
        old: Schema,
        new: Schema,
        where: str,
        path: str,
        out: list[_Finding],
        pairs: frozenset[tuple[str | None, str | None]],
    ) -> None:
        old_members, old_origins = _members(self.old, old)
        new_members, new_origins = _members(self.new, new)
        old_required = self.old.required_of(old) if old_members else frozenset()
        new_required = self.new.required_of(new) if new_members else frozenset()

        for name in _ordered_union(old_members, new_members):
            member_path = field_path(path, name)
            if name not in new_members:
                prop, origin = old_members[name]
                # Gone from a definition that both sides include: reported under that definition.
                if origin is None or origin not in new_origins:
                    out.append(_Finding(where, member_path, "field", REMOVED, self._summary(self.old, prop.schema), None, "field-removed"))
                continue
            if name not in old_members:
                prop, origin = new_members[name]
                if origin is None or origin not in old_origins:
                    event = "field-added-required" if name in new_required else "field-added"
                    out.append(_Finding(where, member_path, "field", ADDED, None, self._summary(self.new, prop.schema), event))
                continue

            (old_prop, old_origin), (new_prop, new_origin) = old_members[name], new_members[name]
            same_origin = old_origin is not None and old_origin == new_origin
            if not same_origin:
                self.compare_schema(old_prop.schema, new_prop.schema, where, member_path, out, pairs)
            was_required, is_required = name in old_required, name in new_required
            if was_required != is_required and not (
                same_origin and self._required_in(old_origin, name) != (self._required_in(new_origin, name, new=True))
            ):
                event = "field-became-required" if is_required else "field-became-optional"
                out.append(_Finding(where, member_path, "required", CHANGED, was_required, is_required, event))

    def _required_in(self, definition: str | None, name: str, new: bool = False) -> bool:
        model = self.new if new else self.old
        return definition is not None and name in model.required_of(Schema(ref=definition))

    def _compare_values(
        self,
        old: Schema | bool | None,
        new: Schema | bool | None,
        where: str,
        path: str,
        out: list[_Finding],
        pairs: frozenset[tuple[str | None, str | None]],
    ) -> None:
        if isinstance(old, Schema) and isinstance(new, Schema):
            self.compare_schema(old, new, where, values_path(path), out, pairs)
            return
        if old == new:
            return
        before = self._values_summary(self.old, old)
        after = self._values_summary(self.new, new)
        if before != after:
            out.append(_Finding(where, path, "map values", CHANGED, before, after, "map-values-changed"))

    # Summaries of types, for added and removed things.

    def _summary(self, model: ApiModel, schema: Schema) -> str:
        return _summary(model, schema, 0)

    def _values_summary(self, model: ApiModel, values: Schema | bool | None) -> str:
        if values is None:
            return "none"
        if values is True or values is False:
            return "any" if values else "none"
        return _summary(model, values, 0)


def _summary(model: ApiModel, schema: Schema, depth: int) -> str:
    """Describe a schema's type in a few words: "string (date-time)", "array of Mount"."""
    if schema.ref is not None:
        return schema.ref
    kind = _type_name(schema)
    if depth > 3:
        return kind
    if kind == "array":
        return f"array of {_summary(model, schema.items or _ANY, depth + 1)}"
    if kind == "map":
        assert isinstance(schema.additional_properties, Schema)
        return f"map of {_summary(model, schema.additional_properties, depth + 1)}"
    if kind == "object" and len(schema.all_of) == 1 and schema.all_of[0].ref is not None and not schema.properties:
        return schema.all_of[0].ref
    if schema.format:
        return f"{kind} ({schema.format})"
    return kind


def _type_name(schema: Schema) -> str:
    """Name a resolved schema's JSON type, telling maps (only additionalProperties) from objects."""
    if schema.type == "array" or (schema.type is None and schema.items is not None):
        return "array"
    if schema.type == "object" or (
        schema.type is None and (schema.properties or schema.all_of or schema.additional_properties is not None)
    ):
        if not schema.properties and not schema.all_of and isinstance(schema.additional_properties, Schema):
            return "map"
        return "object"
    return schema.type or "any"


def _members(model: ApiModel, schema: Schema) -> tuple[dict[str, tuple[Property, str | None]], set[str]]:
    """Return an object's properties with the allOf definition each comes from, and those definitions.

    A later allOf part's property replaces an earlier one of the same name, as in
    `ApiModel.properties_of`. The origin is the definition named by the outermost `$ref` that
    led to the property, or None for a property written inline.
    """
    members: dict[str, tuple[Property, str | None]] = {}
    origins: set[str] = set()

    def visit(node: Schema, origin: str | None, seen: frozenset[str]) -> None:
        for part in node.all_of:
            if part.ref is None:
                visit(part, origin, seen)
            elif part.ref not in seen:
                if origin is None:
                    origins.add(part.ref)
                visit(model.resolve(part), origin or part.ref, seen | {part.ref})
        for prop in node.properties:
            members[prop.name] = (prop, origin)

    visit(schema, None, frozenset())
    return members, origins


def _renamed_definitions(removed: list[Definition], added: list[Definition]) -> dict[str, str]:
    """Pair removed and added definitions whose shapes are equal, where the pairing is unique."""
    removed_by_shape: dict[str, list[str]] = {}
    for definition in removed:
        removed_by_shape.setdefault(_shape(definition.schema), []).append(definition.name)
    added_by_shape: dict[str, list[str]] = {}
    for definition in added:
        added_by_shape.setdefault(_shape(definition.schema), []).append(definition.name)
    return {
        names[0]: added_by_shape[shape][0]
        for shape, names in removed_by_shape.items()
        if len(names) == 1 and len(added_by_shape.get(shape, ())) == 1
    }


def _shape(schema: Schema) -> str:
    """Return a canonical text of what a schema accepts, without descriptions and Go names."""
    return json.dumps(_shape_of(schema), sort_keys=True, default=str)


def _shape_of(schema: Schema | bool | None) -> Any:
    if schema is None or isinstance(schema, bool):
        return schema
    return {
        "ref": schema.ref,
        "type": schema.type,
        "format": schema.format,
        "enum": schema.enum,
        "nullable": schema.nullable,
        "required": sorted(schema.required),
        "properties": {prop.name: _shape_of(prop.schema) for prop in schema.properties},
        "items": _shape_of(schema.items),
        "values": _shape_of(schema.additional_properties),
        "allOf": [_shape_of(part) for part in schema.all_of],
    }


# Building changes from findings.


def _make_change(
    finding: _Finding,
    *,
    operation: Operation | None = None,
    definition: str | None = None,
    reached_by: tuple[Reach, ...] = (),
    directions: Iterable[str] = (),
) -> Change:
    rule = rule_for(finding.event, directions)
    if definition is not None:
        place = join_paths(definition, finding.path) if finding.aspect != "definition" else definition
    else:
        place = location(finding.where, finding.path)
    return Change(
        operation=operation.key if operation is not None else None,
        operation_id=operation.operation_id if operation is not None else None,
        definition=definition,
        location=place,
        aspect=finding.aspect,
        change=finding.change,
        before=finding.before,
        after=finding.after,
        breaking=rule.breaking,
        rule=rule.name,
        reached_by=reached_by,
    )


def _definition_changes(
    name: str,
    findings: list[_Finding],
    old_uses: Mapping[str, tuple[Use, ...]],
    new_uses: Mapping[str, tuple[Use, ...]],
) -> list[Change]:
    changes = []
    for finding in findings:
        if finding.event == "definition-renamed":
            uses = (*new_uses.get(finding.after, ()), *old_uses.get(finding.before, ()))
        else:
            uses = (*new_uses.get(name, ()), *old_uses.get(name, ()))
        reaches: dict[tuple[str, str], Reach] = {}
        for use in uses:
            full = location(use.where, join_paths(use.path, finding.path))
            reaches.setdefault((use.operation_id, full), Reach(use.operation, use.operation_id, full, use.direction))
        reached_by = tuple(sorted(reaches.values(), key=_reach_key))
        directions = {reach.direction for reach in reached_by}
        changes.append(_make_change(finding, definition=name, reached_by=reached_by, directions=directions))
    return changes


def _change_kind(before: Any, after: Any) -> str:
    if before is None:
        return ADDED
    return REMOVED if after is None else CHANGED


def _directions_of(where: str) -> frozenset[str]:
    if not where:
        return frozenset()
    return frozenset({RESPONSE}) if where.startswith("response") else frozenset({REQUEST})


def _parameter_key(parameter: Parameter) -> tuple[str, str]:
    # An operation has at most one body, whatever its parameter is called.
    return ("body", "") if parameter.location == "body" else (parameter.location, parameter.name)


def _parameter_place(parameter: Parameter) -> tuple[str, str]:
    return ("body", "") if parameter.location == "body" else (parameter.location, parameter.name)


def _ordered_union(first: Iterable[Any], second: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys([*first, *second]))


def operation_sort_key(key: str) -> tuple[str, int, str]:
    """Order "METHOD /path" names by path, then by method as HTTP lists them."""
    method, _, path = key.partition(" ")
    return (path, _METHOD_ORDER.get(method, 99), method)


def _reach_key(reach: Reach) -> tuple[Any, ...]:
    return (*operation_sort_key(reach.operation), reach.location)


def _sort_key(change: Change) -> tuple[Any, ...]:
    if change.operation is not None:
        group: tuple[Any, ...] = (0, *operation_sort_key(change.operation))
    else:
        group = (1, change.definition or "", "", "")
    return (
        *group,
        change.location,
        change.aspect,
        change.change,
        json.dumps(change.before, sort_keys=True, default=str),
        json.dumps(change.after, sort_keys=True, default=str),
    )
