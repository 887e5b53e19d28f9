"""Render an `ApiDiff` for people (text, Markdown) or for programs (JSON).

Reports list the operations first, each with its own changes and a line naming the shared
definitions whose changes reach it, then the definitions with their changes and the
operations that use them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from generator.diff.changes import ADDED, REMOVED, ApiDiff, Change
from generator.diff.compare import operation_sort_key

# How many operations a definition's "used by" line names before it only counts the rest.
MAX_USERS_SHOWN = 8

_SIGNS = {ADDED: "+", REMOVED: "-"}


def only_breaking(diff: ApiDiff) -> ApiDiff:
    """Return `diff` with its breaking changes only."""
    return replace(diff, changes=diff.breaking)


def render_json(diff: ApiDiff) -> str:
    """Render the diff as a JSON document with one record per change."""
    document: dict[str, Any] = {
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "summary": {"changes": len(diff.changes), "breaking": len(diff.breaking)},
        "changes": [change.as_json() for change in diff.changes],
    }
    return json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"


def summary_line(diff: ApiDiff) -> str:
    """Return "12 changes, 3 breaking, 5 operations affected (2 directly), 4 definitions"."""
    direct = {c.operation_id for c in diff.changes if c.operation_id is not None}
    # An operation can change only through a definition it uses; it is affected all the same.
    affected = direct | {reach.operation_id for c in diff.changes for reach in c.reached_by}
    definitions = {c.definition for c in diff.changes if c.definition is not None}
    return (
        f"{_count(len(diff.changes), 'change')}, {len(diff.breaking)} breaking, "
        f"{_count(len(affected), 'operation')} affected ({len(direct)} directly), "
        f"{_count(len(definitions), 'definition')}"
    )


def render_text(diff: ApiDiff) -> str:
    """Render the diff as plain text for a terminal."""
    lines = [f"Engine API {diff.old_version} -> {diff.new_version}: {summary_line(diff)}"]
    if not diff.changes:
        lines.append("No changes.")
        return "\n".join(lines) + "\n"

    operations = _operations(diff)
    if operations:
        lines += ["", "Operations", "=========="]
        for title, own, through in operations:
            lines.append(title)
            lines += [f"  {_sign(change)} {change.location}: {change.describe()}  {_rule_tag(change)}" for change in own]
            if through:
                lines.append(f"  ~ changed through definitions: {_through_text(through)}")

    definitions = _definitions(diff)
    if definitions:
        lines += ["", "Definitions", "==========="]
        for name, changes in definitions:
            lines.append(f"{name}  ({_users_text(changes, lambda key: key)})")
            lines += [f"  {_sign(change)} {change.location}: {change.describe()}  {_rule_tag(change)}" for change in changes]
    return "\n".join(lines) + "\n"


def render_markdown(diff: ApiDiff, level: int = 1, title: str | None = None) -> str:
    """Render the diff as Markdown, with its title at heading `level`."""
    heading = "#" * level
    lines = [f"{heading} {title or f'Engine API {diff.old_version} → {diff.new_version}'}", ""]
    lines += [_capitalize(summary_line(diff)) + ".", ""]
    if not diff.changes:
        return "\n".join(lines)

    operations = _operations(diff)
    if operations:
        lines += [f"{heading}# Operations", ""]
        for title_line, own, through in operations:
            lines += [f"{heading}## {_markdown_operation_title(title_line)}", ""]
            lines += [_markdown_item(change, change.location) for change in own]
            if through:
                lines.append(f"- Changed through definitions: {_through_text(through, code=True)}")
            lines.append("")

    definitions = _definitions(diff)
    if definitions:
        lines += [f"{heading}# Definitions", ""]
        for name, changes in definitions:
            lines += [f"{heading}## `{name}`", ""]
            lines += [_capitalize(_users_text(changes, lambda key: f"`{key}`")) + ".", ""]
            lines += [_markdown_item(change, change.location) for change in changes]
            lines.append("")
    return "\n".join(lines)


def _operations(diff: ApiDiff) -> list[tuple[str, list[Change], Counter[str]]]:
    """Group the diff by operation: title, own changes, and definition changes reaching it."""
    keys: dict[str, str] = {}
    own: dict[str, list[Change]] = {}
    through: dict[str, Counter[str]] = {}
    for change in diff.changes:
        if change.operation is not None and change.operation_id is not None:
            keys.setdefault(change.operation_id, change.operation)
            own.setdefault(change.operation_id, []).append(change)
            continue
        if not change.inside_definition:
            continue
        for operation_id, operation in {(r.operation_id, r.operation) for r in change.reached_by}:
            keys.setdefault(operation_id, operation)
            through.setdefault(operation_id, Counter())[change.definition or ""] += 1
    ordered = sorted(keys, key=lambda operation_id: (operation_sort_key(keys[operation_id]), operation_id))
    return [
        (f"{keys[op]}  ({op})", own.get(op, []), through.get(op, Counter()))
        for op in ordered
    ]


def _definitions(diff: ApiDiff) -> list[tuple[str, list[Change]]]:
    grouped: dict[str, list[Change]] = {}
    for change in diff.changes:
        if change.definition is not None:
            grouped.setdefault(change.definition, []).append(change)
    return sorted(grouped.items())


def _users_text(changes: Iterable[Change], quote: Any) -> str:
    users = sorted({reach.operation for change in changes for reach in change.reached_by}, key=operation_sort_key)
    if not users:
        return "used by no operation"
    shown = ", ".join(quote(user) for user in users[:MAX_USERS_SHOWN])
    if len(users) > MAX_USERS_SHOWN:
        shown += f" and {len(users) - MAX_USERS_SHOWN} more"
    return f"used by {shown}"


def _through_text(counts: Counter[str], code: bool = False) -> str:
    parts = []
    for name in sorted(counts):
        label = f"`{name}`" if code else name
        parts.append(f"{label} ({_count(counts[name], 'change')})")
    return ", ".join(parts)


def _markdown_item(change: Change, place: str) -> str:
    tag = f"**breaking** (`{change.rule}`)" if change.breaking else f"(`{change.rule}`)"
    return f"- `{place}`: {_escape_markdown(change.describe())} {tag}"


def _markdown_operation_title(title: str) -> str:
    operation, _, rest = title.partition("  ")
    return f"`{operation}` {rest}".rstrip()


def _escape_markdown(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _rule_tag(change: Change) -> str:
    return f"[breaking: {change.rule}]" if change.breaking else f"[{change.rule}]"


def _sign(change: Change) -> str:
    return _SIGNS.get(change.change, "~")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
