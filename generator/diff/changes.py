"""The records a diff produces: one `Change` per difference, collected in an `ApiDiff`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

# How each aspect reads in a sentence, when that differs from the aspect's name.
_ASPECT_WORDS = {
    "collectionFormat": "collection format",
    "operationId": "operationId",
    "schema": "response schema",
}


@dataclass(frozen=True)
class Reach:
    """One place where an operation uses a definition, given as the full location of a change."""

    operation: str  # "POST /containers/create"
    operation_id: str
    location: str  # "body HostConfig.Mounts[].VolumeOptions.Subpath"
    direction: str  # "request" or "response"


@dataclass(frozen=True)
class Change:
    """One difference between two API versions.

    A change belongs either to an operation (`operation` is set) or to a definition
    (`definition` is set). The `location` of an operation's change is relative to the
    operation ("query platform", "body HostConfig", "response 200 [].Id", "method"). The
    `location` of a definition's change starts with the definition's name
    ("HostConfig.Annotations"), and `reached_by` lists every operation that uses that spot.
    """

    operation: str | None
    operation_id: str | None
    definition: str | None
    location: str
    aspect: str  # operation, parameter, field, type, format, enum, required, nullable, ...
    change: str  # added, removed or changed
    before: Any
    after: Any
    breaking: bool
    rule: str
    reached_by: tuple[Reach, ...] = ()

    @property
    def inside_definition(self) -> bool:
        """Tell whether this is a change within a definition, not the definition's addition, removal or renaming.

        Only those reach operations in a way their own changes do not already show: a field
        that starts or stops using a definition is reported where the field is.
        """
        return self.definition is not None and self.aspect != "definition"

    def describe(self) -> str:
        """Return the change as one sentence, without its location."""
        aspect = _ASPECT_WORDS.get(self.aspect, self.aspect)
        if self.aspect in ("definition", "operationId") and self.change == CHANGED:
            return f"{aspect} renamed from {self.before} to {self.after}"
        if self.aspect == "operation":
            return f"operation {self.change}"
        if self.aspect in ("parameter", "field", "definition", "header", "schema", "status"):
            detail = self.after if self.change == ADDED else self.before
            text = f"{aspect} {self.change}"
            return f"{text} ({detail})" if detail not in (None, "") else text
        if self.aspect == "deprecated":
            return "marked deprecated" if self.after else "no longer marked deprecated"
        if self.aspect in ("required", "nullable"):
            word = "required" if self.aspect == "required" else "nullable"
            return f"became {word}" if self.after else f"no longer {word}"
        if self.aspect in ("enum", "produces", "consumes") and self.change != CHANGED:
            value = self.after if self.change == ADDED else self.before
            if self.aspect != "enum":
                return f"content type {value} {self.change}"
            if isinstance(value, list):
                return f"enum {self.change}: {json.dumps(value)}"
            return f"enum value {json.dumps(value)} {self.change}"
        if self.change == ADDED:
            return f"{aspect} {_format_value(self.after)} added"
        if self.change == REMOVED:
            return f"{aspect} {_format_value(self.before)} removed"
        return f"{aspect} changed from {_format_value(self.before)} to {_format_value(self.after)}"

    def as_json(self) -> dict[str, Any]:
        """Return the change as a JSON-compatible record."""
        return {
            "operation": self.operation,
            "operation_id": self.operation_id,
            "definition": self.definition,
            "location": self.location,
            "aspect": self.aspect,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "breaking": self.breaking,
            "rule": self.rule,
            "reached_by": [
                {
                    "operation": reach.operation,
                    "operation_id": reach.operation_id,
                    "location": reach.location,
                    "direction": reach.direction,
                }
                for reach in self.reached_by
            ],
        }


@dataclass(frozen=True)
class ApiDiff:
    """All changes from `old_version` to `new_version`, operations' first, in a stable order."""

    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that can break a client written for `old_version`."""
        return tuple(change for change in self.changes if change.breaking)

    def operation_changes(self) -> tuple[Change, ...]:
        """The changes that belong to an operation."""
        return tuple(change for change in self.changes if change.operation is not None)

    def definition_changes(self) -> tuple[Change, ...]:
        """The changes that belong to a definition."""
        return tuple(change for change in self.changes if change.definition is not None)

    def changes_reaching(self, operation_id: str) -> tuple[Change, ...]:
        """Return the operation's own changes and the changes within definitions that reach it."""
        return tuple(
            change
            for change in self.changes
            if change.operation_id == operation_id
            or (change.inside_definition and any(reach.operation_id == operation_id for reach in change.reached_by))
        )


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value and value.isprintable() else json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)
