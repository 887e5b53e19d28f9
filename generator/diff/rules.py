"""The rules that classify a change as breaking for a client or not.

A change is breaking when a client written for the older API version can fail against the
newer one: a call goes nowhere, a value it sends is rejected or ignored, or a value it reads
is missing or has another type. Some rules depend on the direction a schema travels in. A
request schema is written by the client and a response schema is read by it, so a field that
becomes required breaks requests, while a field that stops being required breaks responses.
A shared definition can travel both ways; then the breaking reading wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REQUEST = "request"
RESPONSE = "response"
BOTH_DIRECTIONS = frozenset({REQUEST, RESPONSE})


@dataclass(frozen=True)
class Rule:
    """A named reason why a kind of change is breaking or not."""

    name: str
    breaking: bool
    reason: str


_ALL_RULES = (
    # Operations.
    Rule("operation-added", False, "a new operation breaks no existing call"),
    Rule("operation-removed", True, "calls to the operation fail"),
    Rule("operation-renamed", True, "the operationId names the generated method, which is renamed"),
    Rule("method-changed", True, "requests with the old method reach no operation"),
    Rule("path-changed", True, "requests to the old path reach no operation"),
    Rule("operation-deprecated", False, "a deprecated operation still works"),
    Rule("operation-undeprecated", False, "the operation keeps working"),
    Rule("content-type-added", False, "clients keep using the content types they know"),
    Rule("content-type-removed", True, "a client that sends or accepts the removed content type fails"),
    Rule("success-status-added", False, "clients accept any success status"),
    Rule("success-status-removed", True, "clients that decode the removed success response get another"),
    Rule("error-status-added", False, "clients handle error statuses as errors, whatever the code"),
    Rule("error-status-removed", False, "clients handle error statuses as errors, whatever the code"),
    # Parameters.
    Rule("parameter-added", False, "an optional parameter can be left out"),
    Rule("required-parameter-added", True, "existing calls do not send the new required parameter"),
    Rule("parameter-removed", True, "calls that pass the parameter lose its effect or are rejected"),
    Rule("parameter-became-required", True, "existing calls may leave the parameter out"),
    Rule("parameter-became-optional", False, "calls that pass the parameter keep working"),
    Rule("collection-format-changed", True, "the daemon splits the array's values another way"),
    # Fields and schema nodes.
    Rule("field-added", False, "clients ignore response fields they do not know and may leave out optional request fields"),
    Rule("required-field-added", True, "existing requests do not send the new required field"),
    Rule("field-removed", True, "a client that sends or reads the field loses it"),
    Rule("field-became-required", True, "existing requests may leave the field out"),
    Rule("field-became-optional", False, "requests that send the field keep working"),
    Rule("response-field-became-required", False, "responses still carry the field"),
    Rule("response-field-became-optional", True, "responses may leave out a field that clients read"),
    Rule("field-became-nullable", False, "requests that send a value keep working"),
    Rule("response-field-became-nullable", True, "clients may read null where they expect a value"),
    Rule("field-became-non-nullable", False, "responses carry a value where they could carry null"),
    Rule("request-field-became-non-nullable", True, "requests that send null are rejected"),
    Rule("type-changed", True, "values of the old type no longer fit"),
    Rule("format-changed", False, "the JSON type stays the same"),
    Rule("enum-value-added", False, "values that clients send or expect stay valid"),
    Rule("enum-value-removed", True, "a client that sends or expects the removed value fails"),
    Rule("enum-introduced", True, "requests with values outside the new list are rejected"),
    Rule("response-enum-introduced", False, "responses now carry only values from the list"),
    Rule("enum-dropped", False, "every value that was allowed stays allowed"),
    Rule("default-changed", False, "calls keep working, but a call that leaves the value out gets the new default"),
    Rule("schema-added", False, "clients ignore what they do not read"),
    Rule("schema-removed", True, "clients that decode the response body get none"),
    Rule("header-added", False, "clients ignore headers they do not read"),
    Rule("header-removed", True, "clients that read the header get none"),
    Rule("map-values-changed", False, "a map keeps its keys and its JSON type"),
    Rule("field-deprecated", False, "a deprecated field still works"),
    Rule("field-undeprecated", False, "the field keeps working"),
    # Definitions.
    Rule("definition-added", False, "a new model class breaks no existing code"),
    Rule("definition-removed", True, "the generated model class disappears"),
    Rule("definition-renamed", True, "the generated model class gets the new name"),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _ALL_RULES}

# Events whose rule depends on the direction the schema travels in: event -> (request rule,
# response rule). Every other event is the name of its rule.
_DIRECTED_EVENTS: dict[str, tuple[str, str]] = {
    "field-added-required": ("required-field-added", "field-added"),
    "field-became-required": ("field-became-required", "response-field-became-required"),
    "field-became-optional": ("field-became-optional", "response-field-became-optional"),
    "became-nullable": ("field-became-nullable", "response-field-became-nullable"),
    "became-non-nullable": ("request-field-became-non-nullable", "field-became-non-nullable"),
    "enum-introduced": ("enum-introduced", "response-enum-introduced"),
}


def rule_for(event: str, directions: Iterable[str]) -> Rule:
    """Return the rule for `event` on a schema that travels in `directions`.

    Where the directions disagree, the breaking rule wins. An empty `directions` counts as
    both, because a definition that no operation uses yet may be used either way.
    """
    if event not in _DIRECTED_EVENTS:
        return RULES[event]
    request_rule, response_rule = (RULES[name] for name in _DIRECTED_EVENTS[event])
    chosen = set(directions) or BOTH_DIRECTIONS
    candidates = [rule for direction, rule in ((REQUEST, request_rule), (RESPONSE, response_rule)) if direction in chosen]
    for rule in candidates:
        if rule.breaking:
            return rule
    return candidates[0]
