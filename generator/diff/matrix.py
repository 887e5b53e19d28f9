"""The operations-by-versions matrix: which operation exists, appeared or changed in which version.

`build_matrix` lays out one row per operation (followed across renamed operationIds) and one
column per API version. `render_matrix_html` turns it into one self-contained HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator.diff.changes import ApiDiff, Change
from generator.diff.compare import match_operations, operation_sort_key
from generator.model import ApiModel, Operation

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
TEMPLATE_NAME = "matrix.html.j2"

ABSENT = "absent"
REMOVED = "removed"  # absent, and present in the version before
BASE = "base"  # present in the oldest version, where nothing is compared
ADDED = "added"
CHANGED = "changed"
BREAKING = "breaking"  # changed, with at least one breaking change
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class MatrixCell:
    """One operation in one API version."""

    state: str
    title: str  # the tooltip
    changes: tuple[int, ...] = ()  # indexes into Matrix.changes


@dataclass(frozen=True)
class MatrixRow:
    """One operation across all versions, named as in the newest version that has it."""

    operation: str
    operation_id: str
    tag: str
    cells: tuple[MatrixCell, ...]

    @property
    def method(self) -> str:
        """The HTTP method, upper case."""
        return self.operation.split(" ", 1)[0]

    @property
    def path(self) -> str:
        """The URL path template."""
        return self.operation.split(" ", 1)[1]

    @property
    def changed_versions(self) -> int:
        """How many versions added or changed the operation."""
        return sum(1 for cell in self.cells if cell.state in (ADDED, CHANGED, BREAKING))

    @property
    def breaking_versions(self) -> int:
        """How many versions changed the operation in a breaking way."""
        return sum(1 for cell in self.cells if cell.state == BREAKING)


@dataclass(frozen=True)
class Matrix:
    """The whole matrix, with the change records that its cells point to."""

    versions: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    changes: tuple[dict[str, Any], ...]

    def column_counts(self) -> list[tuple[int, int]]:
        """Return, per version, how many operations changed and how many of them broke."""
        counts = []
        for index in range(len(self.versions)):
            states = [row.cells[index].state for row in self.rows]
            changed = sum(1 for state in states if state in (ADDED, CHANGED, BREAKING))
            counts.append((changed, states.count(BREAKING)))
        return counts


def build_matrix(models: Sequence[ApiModel], diffs: Sequence[ApiDiff]) -> Matrix:
    """Build the matrix of `models` (oldest first) and the diffs of each adjacent pair."""
    if len(diffs) != len(models) - 1:
        raise ValueError(f"{len(models)} models need {len(models) - 1} diffs, got {len(diffs)}")

    # Each row's operation per version: row index -> {version index: operation}.
    lineage: list[dict[int, Operation]] = []
    row_of: dict[str, int] = {}  # operationId -> row, for the newest version seen so far
    for index, model in enumerate(models):
        current: dict[str, int] = {}
        pairs = (
            match_operations(models[index - 1], model)
            if index
            else [(None, operation) for operation in model.operations]
        )
        for old, new in pairs:
            if new is None:
                continue
            if old is not None:
                row = row_of[old.operation_id]
            elif new.operation_id in row_of:
                # Removed earlier and added again: it keeps its row.
                row = row_of[new.operation_id]
            else:
                row = len(lineage)
                lineage.append({})
            lineage[row][index] = new
            current[new.operation_id] = row
        # Operations that are gone keep their id, so a later return finds the row.
        row_of = {**row_of, **current}

    changes: list[dict[str, Any]] = []
    rows = []
    versions = tuple(model.version for model in models)
    for present in lineage:
        newest = present[max(present)]
        cells = tuple(_cell(present, index, versions, diffs, changes) for index in range(len(models)))
        rows.append(MatrixRow(newest.key, newest.operation_id, newest.tag, cells))
    rows.sort(key=lambda row: (row.tag.lower(), operation_sort_key(row.operation)))
    return Matrix(versions, tuple(rows), tuple(changes))


def _cell(
    present: dict[int, Operation],
    index: int,
    versions: tuple[str, ...],
    diffs: Sequence[ApiDiff],
    changes: list[dict[str, Any]],
) -> MatrixCell:
    version = versions[index]
    operation = present.get(index)
    if operation is None:
        if index - 1 in present:
            return MatrixCell(REMOVED, f"{version}: removed")
        return MatrixCell(ABSENT, f"{version}: absent")
    if index == 0:
        return MatrixCell(BASE, f"{version}: present (oldest version compared)")
    if index - 1 not in present:
        return MatrixCell(ADDED, f"{version}: added")

    reaching = diffs[index - 1].changes_reaching(operation.operation_id)
    if not reaching:
        return MatrixCell(UNCHANGED, f"{version}: unchanged")
    indexes = []
    for change in reaching:
        indexes.append(len(changes))
        changes.append(_change_record(change, operation.operation_id))
    breaking = sum(1 for change in reaching if change.breaking)
    title = f"{version}: {len(reaching)} change{'s' if len(reaching) != 1 else ''}"
    if breaking:
        title += f", {breaking} breaking"
    return MatrixCell(BREAKING if breaking else CHANGED, title, tuple(indexes))


def _change_record(change: Change, operation_id: str) -> dict[str, Any]:
    if change.definition is None:
        places = [change.location]
    else:
        # The same definition change, at the places where this operation uses the definition.
        places = [reach.location for reach in change.reached_by if reach.operation_id == operation_id]
    return {
        "places": places,
        "text": change.describe(),
        "rule": change.rule,
        "breaking": change.breaking,
        "definition": change.definition,
        "definitionLocation": change.location if change.definition is not None else None,
    }


def render_matrix_html(matrix: Matrix, title: str = "Docker Engine API: operations by version") -> str:
    """Render the matrix as one HTML page with its styles, script and data inline."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    cell_changes = {
        f"{row_index}:{column}": list(cell.changes)
        for row_index, row in enumerate(matrix.rows)
        for column, cell in enumerate(row.cells)
        if cell.changes
    }
    data = {
        "versions": list(matrix.versions),
        "rows": [{"operation": row.operation, "operationId": row.operation_id} for row in matrix.rows],
        "changes": list(matrix.changes),
        "cells": cell_changes,
    }
    # "</" inside a <script> element would end it early.
    data_json = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    tags: list[tuple[str, list[tuple[int, MatrixRow]]]] = []
    for row_index, row in enumerate(matrix.rows):
        if not tags or tags[-1][0] != row.tag:
            tags.append((row.tag, []))
        tags[-1][1].append((row_index, row))
    return environment.get_template(TEMPLATE_NAME).render(
        title=title,
        matrix=matrix,
        groups=tags,
        column_counts=matrix.column_counts(),
        max_column_count=max((changed for changed, _ in matrix.column_counts()), default=0) or 1,
        data_json=Markup(data_json),
    )
