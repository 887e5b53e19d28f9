"""The API diff on pairs of miniature specs in tests/specs/diff/, one file per kind of change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.diff import RULES, ApiDiff, Change, diff_models
from generator.diff.deprecation import states_deprecation
from generator.diff.rules import REQUEST, RESPONSE, rule_for
from generator.model import ApiModel, build_model

PAIRS = Path(__file__).parent / "specs" / "diff"


def load_pair(name: str) -> tuple[ApiModel, ApiModel]:
    document = yaml.safe_load((PAIRS / f"{name}.yaml").read_text())
    return build_model("1.0", document["old"]), build_model("1.1", document["new"])


def diff_pair(name: str, reverse: bool = False) -> ApiDiff:
    old, new = load_pair(name)
    return diff_models(new, old) if reverse else diff_models(old, new)


def find(diff: ApiDiff, **fields: Any) -> Change:
    """Return the one change whose attributes equal `fields`."""
    matches = [c for c in diff.changes if all(getattr(c, key) == value for key, value in fields.items())]
    assert len(matches) == 1, f"expected one change with {fields}, found {matches}"
    return matches[0]


def absent(diff: ApiDiff, **fields: Any) -> bool:
    return not any(all(getattr(c, key) == value for key, value in fields.items()) for c in diff.changes)


# Operations.


def test_operation_added_not_breaking() -> None:
    change = find(diff_pair("operations"), operation="POST /things/{id}/pause", aspect="operation")
    assert change.change == "added"
    assert change.rule == "operation-added"
    assert not change.breaking


def test_operation_removed_breaking() -> None:
    change = find(diff_pair("operations"), operation_id="ThingDelete", aspect="operation")
    assert change.operation == "DELETE /things/{id}"
    assert change.change == "removed"
    assert change.rule == "operation-removed"
    assert change.breaking


def test_operation_renamed_on_same_path() -> None:
    diff = diff_pair("operations")
    change = find(diff, aspect="operationId")
    assert (change.before, change.after) == ("ThingGetArchive", "ThingArchive")
    assert change.operation == "GET /things/{id}/archive"
    assert change.rule == "operation-renamed"
    assert change.breaking
    # A rename is neither a removal nor an addition.
    assert absent(diff, operation="GET /things/{id}/archive", aspect="operation")


def test_operation_path_and_method_changed() -> None:
    diff = diff_pair("operations")
    path = find(diff, operation_id="ThingStart", aspect="path")
    assert (path.before, path.after) == ("/things/{id}/start", "/things/{id}/launch")
    assert path.rule == "path-changed"
    assert path.breaking
    method = find(diff, operation_id="ThingKill", aspect="method")
    assert (method.before, method.after) == ("POST", "PUT")
    assert method.rule == "method-changed"
    assert method.breaking


def test_operations_reverse_order_swaps_added_and_removed() -> None:
    diff = diff_pair("operations", reverse=True)
    assert find(diff, operation_id="ThingDelete", aspect="operation").change == "added"
    assert find(diff, operation_id="ThingPause", aspect="operation").change == "removed"
    assert diff.old_version == "1.1"
    assert diff.new_version == "1.0"


def test_content_types_added_and_removed() -> None:
    diff = diff_pair("content_and_status")
    removed = find(diff, aspect="consumes", before="application/x-tar")
    assert removed.change == "removed"
    assert removed.rule == "content-type-removed"
    assert removed.breaking
    added = find(diff, aspect="produces", after="text/plain")
    assert added.rule == "content-type-added"
    assert not added.breaking


def test_status_codes_success_and_error() -> None:
    diff = diff_pair("content_and_status")
    assert find(diff, location="response 200").rule == "success-status-removed"
    assert find(diff, location="response 200").breaking
    assert find(diff, location="response 201").rule == "success-status-added"
    assert not find(diff, location="response 201").breaking
    assert find(diff, location="response 404").rule == "error-status-removed"
    assert not find(diff, location="response 404").breaking
    assert find(diff, location="response 409").rule == "error-status-added"
    assert absent(diff, location="response 500")


# Parameters.


def test_parameter_added_optional_and_required() -> None:
    diff = diff_pair("parameters")
    optional = find(diff, location="query since", aspect="parameter")
    assert optional.change == "added"
    assert optional.after == "string"
    assert optional.rule == "parameter-added"
    assert not optional.breaking
    required = find(diff, location="query user", aspect="parameter")
    assert required.rule == "required-parameter-added"
    assert required.breaking


def test_parameter_removed_breaking() -> None:
    change = find(diff_pair("parameters"), location="header X-Trace")
    assert change.change == "removed"
    assert change.rule == "parameter-removed"
    assert change.breaking


def test_parameter_became_required_or_optional() -> None:
    diff = diff_pair("parameters")
    required = find(diff, location="query filter", aspect="required")
    assert (required.before, required.after) == (False, True)
    assert required.rule == "parameter-became-required"
    assert required.breaking
    optional = find(diff, location="query platform", aspect="required")
    assert optional.rule == "parameter-became-optional"
    assert not optional.breaking


def test_parameter_type_format_default() -> None:
    diff = diff_pair("parameters")
    type_change = find(diff, location="query size", aspect="type")
    assert (type_change.before, type_change.after) == ("integer", "string")
    assert type_change.rule == "type-changed"
    assert type_change.breaking
    format_change = find(diff, location="query limit", aspect="format")
    assert (format_change.before, format_change.after) == ("int32", "int64")
    assert not format_change.breaking
    default = find(diff, location="query limit", aspect="default")
    assert (default.before, default.after) == (10, 20)
    assert default.rule == "default-changed"
    assert not default.breaking


def test_parameter_enum_values() -> None:
    diff = diff_pair("parameters")
    removed = find(diff, location="query state", aspect="enum", before="paused")
    assert removed.rule == "enum-value-removed"
    assert removed.breaking
    added = find(diff, location="query state", aspect="enum", after="dead")
    assert added.rule == "enum-value-added"
    assert not added.breaking
    assert absent(diff, location="query state", aspect="enum", before="running")
    introduced = find(diff, location="query kind", aspect="enum")
    assert introduced.after == ["a", "b"]
    assert introduced.rule == "enum-introduced"
    assert introduced.breaking


def test_parameter_collection_format() -> None:
    change = find(diff_pair("parameters"), location="query names", aspect="collectionFormat")
    assert (change.before, change.after) == ("csv", "multi")
    assert change.rule == "collection-format-changed"
    assert change.breaking


def test_unchanged_parameter_not_reported() -> None:
    assert absent(diff_pair("parameters"), location="query all")


# Bodies and shared definitions.


def test_deep_field_in_definition_reached_by_all_users() -> None:
    change = find(diff_pair("body"), definition="Mount", location="Mount.VolumeOptions.Subpath")
    assert change.operation is None
    assert change.change == "added"
    assert change.after == "string"
    assert change.rule == "field-added"
    assert not change.breaking
    places = [(reach.operation, reach.location) for reach in change.reached_by]
    assert places == [
        ("POST /things/create", "body HostConfig.Mounts[].VolumeOptions.Subpath"),
        ("POST /things/{id}/update", "body Mounts[].VolumeOptions.Subpath"),
    ]


def test_map_field_added_and_map_values_changed() -> None:
    diff = diff_pair("body")
    annotations = find(diff, location="HostConfig.Annotations")
    assert annotations.after == "map of string"
    assert annotations.definition == "HostConfig"
    labels = find(diff, location="HostConfig.Labels{}", aspect="type")
    assert (labels.before, labels.after) == ("string", "integer")
    assert labels.breaking


def test_field_type_change_in_request_body() -> None:
    change = find(diff_pair("body"), location="HostConfig.CpuShares", aspect="type")
    assert change.rule == "type-changed"
    assert change.breaking
    assert {reach.direction for reach in change.reached_by} == {REQUEST}


def test_request_field_became_required_breaking() -> None:
    change = find(diff_pair("body"), location="HostConfig.Memory", aspect="required")
    assert change.rule == "field-became-required"
    assert change.breaking


def test_request_field_became_nullable_not_breaking() -> None:
    change = find(diff_pair("body"), location="HostConfig.Hostname", aspect="nullable")
    assert change.rule == "field-became-nullable"
    assert not change.breaking


def test_required_field_added_to_inline_body() -> None:
    change = find(diff_pair("body"), operation="POST /things/create", location="body Platform")
    assert change.definition is None
    assert change.rule == "required-field-added"
    assert change.breaking


def test_field_removed_from_inline_body() -> None:
    change = find(diff_pair("body"), operation="POST /things/create", location="body Note")
    assert change.change == "removed"
    assert change.rule == "field-removed"
    assert change.breaking


def test_allof_definition_field_reported_once() -> None:
    diff = diff_pair("body")
    shell = find(diff, location="ThingConfig.Shell")
    assert shell.definition == "ThingConfig"
    assert [reach.location for reach in shell.reached_by] == ["body Shell"]
    # Not repeated under the operation that includes ThingConfig through allOf.
    assert absent(diff, operation="POST /things/create", location="body Shell")


def test_field_moved_between_allof_parts() -> None:
    # "Moved" left ThingConfig but the body still has it inline, so the body did not change.
    diff = diff_pair("body")
    assert absent(diff, operation="POST /things/create", location="body Moved")
    assert find(diff, location="ThingConfig.Moved").change == "removed"


def test_renamed_body_parameter_not_reported() -> None:
    # The body parameter is called "body" in the old spec and "config" in the new one.
    assert absent(diff_pair("body"), operation="POST /things/create", aspect="parameter")


def test_enum_value_added_to_field() -> None:
    change = find(diff_pair("body"), location="HostConfig.Mode", aspect="enum")
    assert change.after == "relaxed"
    assert not change.breaking


# Responses.


def test_response_field_became_optional_breaking() -> None:
    change = find(diff_pair("responses"), location="ThingSummary.Name", aspect="required")
    assert change.rule == "response-field-became-optional"
    assert change.breaking
    assert [reach.location for reach in change.reached_by] == ["response 200 [].Name"]
    assert [reach.direction for reach in change.reached_by] == [RESPONSE]


def test_response_field_became_required_not_breaking() -> None:
    change = find(diff_pair("responses"), location="ThingSummary.Created", aspect="required")
    assert change.rule == "response-field-became-required"
    assert not change.breaking


def test_response_field_became_nullable_breaking() -> None:
    change = find(diff_pair("responses"), location="ThingSummary.Size", aspect="nullable")
    assert change.rule == "response-field-became-nullable"
    assert change.breaking


def test_response_enum_introduced_not_breaking() -> None:
    change = find(diff_pair("responses"), location="ThingSummary.State", aspect="enum")
    assert change.rule == "response-enum-introduced"
    assert not change.breaking


def test_response_schema_removed() -> None:
    change = find(diff_pair("responses"), location="response 304", aspect="schema")
    assert change.before == "Error"
    assert change.rule == "schema-removed"
    assert change.breaking


def test_response_headers() -> None:
    diff = diff_pair("responses")
    removed = find(diff, location="response 200 header X-Total")
    assert removed.rule == "header-removed"
    assert removed.breaking
    added = find(diff, location="response 200 header X-Next")
    assert added.rule == "header-added"
    assert not added.breaking


# Definitions.


def test_definition_renamed_when_shape_equal() -> None:
    diff = diff_pair("definitions")
    change = find(diff, aspect="definition", change="changed")
    assert (change.before, change.after) == ("ThingDeleteResponse", "ThingDeleteResponseItem")
    assert change.rule == "definition-renamed"
    assert change.breaking
    assert [reach.operation for reach in change.reached_by] == ["DELETE /things/{id}"]
    # The response points at the renamed definition, whose shape is the same: nothing else.
    assert absent(diff, operation="DELETE /things/{id}")


def test_definition_added_and_removed() -> None:
    diff = diff_pair("definitions")
    added = find(diff, definition="Fresh")
    assert added.change == "added"
    assert added.rule == "definition-added"
    assert not added.breaking
    removed = find(diff, definition="Legacy")
    assert removed.change == "removed"
    assert removed.rule == "definition-removed"
    assert removed.breaking


def test_unused_definition_counts_both_directions() -> None:
    # No operation uses "Unused", so a field that stops being required breaks the response reading.
    change = find(diff_pair("definitions"), location="Unused.Kept", aspect="required")
    assert change.reached_by == ()
    assert change.rule == "response-field-became-optional"
    assert change.breaking


# Deprecations.


def test_operation_deprecated_in_description() -> None:
    change = find(diff_pair("deprecation"), operation="POST /session", aspect="deprecated")
    assert (change.before, change.after) == (False, True)
    assert change.rule == "operation-deprecated"
    assert not change.breaking


def test_parameter_and_field_deprecated() -> None:
    diff = diff_pair("deprecation")
    assert find(diff, location="query keep", aspect="deprecated").rule == "field-deprecated"
    assert find(diff, location="body MacAddress", aspect="deprecated").after is True
    undeprecated = find(diff, location="body Email", aspect="deprecated")
    assert undeprecated.rule == "field-undeprecated"


def test_deprecated_word_inside_sentence_ignored() -> None:
    assert absent(diff_pair("deprecation"), location="query version")
    assert not states_deprecation("`1` is the first generation classic (deprecated) builder")
    assert states_deprecation("Text.\n\n> **Deprecated**: This field is deprecated.")
    assert states_deprecation("Deprecated: This field is never set.")
    assert states_deprecation(None, {"x-deprecated": True})


# References.


def test_inline_schema_moved_to_definition_no_change() -> None:
    assert absent(diff_pair("references"), location="body Owner")
    assert absent(diff_pair("references"), location="body Owner.Name")


def test_reference_to_other_definition_compared_in_place() -> None:
    change = find(diff_pair("references"), operation="POST /trees", location="body Policy.Retries")
    assert change.change == "added"
    assert change.after == "integer"


def test_recursive_definition_terminates() -> None:
    change = find(diff_pair("references"), location="Node.Weight")
    # The loop through Children is not followed again.
    assert [reach.location for reach in change.reached_by] == ["body Root.Weight"]


# Rules and ordering.


def test_breaking_rules_match_issue_list() -> None:
    for name in ("operation-removed", "parameter-removed", "field-removed", "type-changed",
                 "required-parameter-added", "enum-value-removed"):
        assert RULES[name].breaking, name
    for name in ("operation-added", "parameter-added", "field-added", "enum-value-added"):
        assert not RULES[name].breaking, name


def test_directed_rule_prefers_breaking() -> None:
    assert rule_for("field-became-optional", {REQUEST}).name == "field-became-optional"
    assert rule_for("field-became-optional", {RESPONSE}).name == "response-field-became-optional"
    assert rule_for("field-became-optional", {REQUEST, RESPONSE}).breaking
    assert rule_for("field-added-required", {RESPONSE}).name == "field-added"


def test_diff_sorted_and_deterministic() -> None:
    first = diff_pair("body")
    second = diff_pair("body")
    assert first == second
    operation_changes = [c for c in first.changes if c.operation is not None]
    definition_changes = [c for c in first.changes if c.definition is not None]
    assert first.changes == tuple(operation_changes + definition_changes)
    names = [c.definition for c in definition_changes]
    assert names == sorted(names)


def test_identical_models_no_changes() -> None:
    old, _ = load_pair("body")
    assert diff_models(old, old).changes == ()
