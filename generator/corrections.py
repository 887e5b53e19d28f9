"""The project's corrections to mistakes in the published specs (`specs/corrections.yaml`).

Each correction names the API versions it applies to, a JSON pointer (RFC 6901) into the
document and one action:

- `set`: replace the value at `pointer` with `value`. The pointer must exist.
- `add`: insert `value` at `pointer`. The parent must exist and the pointer must not, so a
  correction that upstream has since made fails loudly. In an array, `-` appends.
- `merge`: merge the mapping `value` into the mapping at `pointer` as a JSON merge patch
  (RFC 7386): nested mappings merge, a null value deletes that key.
- `delete`: remove the value at `pointer`. The pointer must exist.
- `move`: remove the value at `from` and insert it at `pointer` with the rules of `add`. When
  `pointer` is an ancestor of `from`, the value replaces that ancestor ("hoist a child").

An optional `expect` is compared with the current value at `pointer` (at `from` for `move`)
before the action, which pins what the correction assumes. A correction whose pointer does
not exist in a version it claims raises GeneratorError, so corrections cannot rot silently.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError
from generator.load import load_document
from generator.manifest import REPO_ROOT, display_path, version_key

CORRECTIONS_PATH = REPO_ROOT / "specs" / "corrections.yaml"

ACTIONS = ("set", "add", "merge", "delete", "move")
_KEYS = {"id", "versions", "action", "pointer", "from", "value", "expect", "reason"}
_NEEDS_VALUE = {"set", "add", "merge"}
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_MISSING: Any = object()


@dataclass(frozen=True)
class VersionRange:
    """An inclusive range of API versions; `first == last` for a single version."""

    first: str
    last: str

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, str):
            return False
        return version_key(self.first) <= version_key(version) <= version_key(self.last)

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Correction:
    """One entry of the corrections file; `value`, `from_pointer` and `expect` depend on `action`."""

    id: str
    versions: tuple[VersionRange, ...]
    action: str
    pointer: str
    reason: str
    value: Any = None
    from_pointer: str | None = None
    expect: Any = _MISSING
    source: str = ""

    def applies_to(self, version: str) -> bool:
        """Return whether `version` lies in one of this correction's version ranges."""
        return any(version in version_range for version_range in self.versions)

    @property
    def has_expect(self) -> bool:
        return self.expect is not _MISSING


@dataclass(frozen=True)
class AppliedCorrection:
    """A correction that `apply_corrections` made to one version's document."""

    id: str
    version: str
    action: str
    pointer: str
    reason: str
    from_pointer: str | None = None


# ---------------------------------------------------------------------------------------------
# JSON pointers


def parse_pointer(pointer: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped tokens ("" is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    return [
        token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")
    ]


def escape_token(token: str) -> str:
    """Escape one reference token for use in a JSON pointer (`~` -> `~0`, `/` -> `~1`)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(tokens: Sequence[object]) -> str:
    """Build a JSON pointer from unescaped tokens (strings or list indexes)."""
    return "".join("/" + escape_token(str(token)) for token in tokens)


class _PointerNotFound(Exception):
    def __init__(self, prefix: str, token: str) -> None:
        super().__init__(f"no {token!r} at {prefix or '/'}")


def _child(container: Any, token: str, prefix: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise _PointerNotFound(prefix, token)
        return container[token]
    if isinstance(container, list):
        index = _list_index(container, token, prefix)
        return container[index]
    raise _PointerNotFound(prefix, token)


def _list_index(container: list[Any], token: str, prefix: str) -> int:
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise _PointerNotFound(prefix, token)
    index = int(token)
    if index >= len(container):
        raise _PointerNotFound(prefix, token)
    return index


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Return the value at `pointer` in `document`; raise KeyError when it does not exist."""
    current = document
    tokens = parse_pointer(pointer)
    for position, token in enumerate(tokens):
        try:
            current = _child(current, token, join_pointer(tokens[:position]))
        except _PointerNotFound as error:
            raise KeyError(str(error)) from None
    return current


def _parent_and_token(document: Any, pointer: str) -> tuple[Any, str]:
    tokens = parse_pointer(pointer)
    if not tokens:
        raise _PointerNotFound("", "")
    current = document
    for position, token in enumerate(tokens[:-1]):
        current = _child(current, token, join_pointer(tokens[:position]))
    return current, tokens[-1]


# ---------------------------------------------------------------------------------------------
# Loading the corrections file


def _parse_versions(raw: Any, where: str) -> tuple[VersionRange, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise GeneratorError(
            f'{where}: `versions` is empty; give a range such as "1.25-1.34" or a list'
        )

    ranges = []
    for item in items:
        if not isinstance(item, str):
            raise GeneratorError(
                f'{where}: `versions` entry {item!r} is not a string; quote versions, such as "1.40" '
                "(YAML reads an unquoted 1.40 as the number 1.4)"
            )
        first, _, last = item.partition("-")
        first, last = first.strip(), (last.strip() or first.strip())
        try:
            if version_key(first) > version_key(last):
                raise GeneratorError(
                    f"{where}: version range {item!r} ends before it starts"
                )
        except GeneratorError as error:
            raise GeneratorError(f"{where}: {error}") from None
        ranges.append(VersionRange(first, last))
    return tuple(ranges)


def _parse_pointer_field(entry: dict[str, Any], key: str, where: str) -> str:
    pointer = entry.get(key)
    if not isinstance(pointer, str):
        raise GeneratorError(
            f"{where}: `{key}` must be a JSON pointer string such as /definitions/Name"
        )
    try:
        parse_pointer(pointer)
    except ValueError as error:
        raise GeneratorError(f"{where}: {error}") from None
    return pointer


def _parse_entry(entry: Any, index: int, file_label: str) -> Correction:
    where = f"{file_label}: correction #{index + 1}"
    if not isinstance(entry, dict):
        raise GeneratorError(
            f"{where} must be a mapping with id, versions, action, pointer and reason"
        )

    correction_id = entry.get("id")
    if not isinstance(correction_id, str) or not _ID_PATTERN.match(correction_id):
        raise GeneratorError(
            f"{where}: `id` must be lowercase words joined by '-', got {correction_id!r}"
        )
    where = f"{file_label}: correction {correction_id!r}"

    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise GeneratorError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}"
        )

    action = entry.get("action")
    if action not in ACTIONS:
        raise GeneratorError(
            f"{where}: `action` must be one of {', '.join(ACTIONS)}, got {action!r}"
        )

    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise GeneratorError(
            f"{where}: `reason` is missing; say why the published spec is wrong"
        )

    if action in _NEEDS_VALUE and "value" not in entry:
        raise GeneratorError(f"{where}: action {action!r} needs a `value`")
    if action not in _NEEDS_VALUE and "value" in entry:
        raise GeneratorError(f"{where}: action {action!r} takes no `value`")
    if action == "merge" and not isinstance(entry["value"], dict):
        raise GeneratorError(f"{where}: action 'merge' needs a mapping as `value`")
    if (action == "move") != ("from" in entry):
        raise GeneratorError(
            f"{where}: `from` is required for action 'move' and allowed only there"
        )

    return Correction(
        id=correction_id,
        versions=_parse_versions(entry.get("versions"), where),
        action=action,
        pointer=_parse_pointer_field(entry, "pointer", where),
        reason=" ".join(reason.split()),
        value=entry.get("value"),
        from_pointer=(
            _parse_pointer_field(entry, "from", where) if action == "move" else None
        ),
        expect=entry.get("expect", _MISSING),
        source=file_label,
    )


def parse_corrections(document: Any, file_label: str) -> list[Correction]:
    """Build corrections from the loaded corrections file; `file_label` names it in errors."""
    if not isinstance(document, dict) or not isinstance(
        document.get("corrections"), list
    ):
        raise GeneratorError(f"{file_label}: expected a top-level `corrections:` list")

    corrections = [
        _parse_entry(entry, index, file_label)
        for index, entry in enumerate(document["corrections"])
    ]
    seen: set[str] = set()
    for correction in corrections:
        if correction.id in seen:
            raise GeneratorError(
                f"{file_label}: correction id {correction.id!r} is used twice; ids must be unique"
            )
        seen.add(correction.id)
    return corrections


@functools.lru_cache(maxsize=8)
def _load_corrections_cached(path: Path, mtime_ns: int) -> tuple[Correction, ...]:
    return tuple(parse_corrections(load_document(path), display_path(path)))


def load_corrections(path: Path | str | None = None) -> list[Correction]:
    """Load `specs/corrections.yaml` (or the file at `path`); reloads when the file changes."""
    path = CORRECTIONS_PATH if path is None else Path(path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as error:
        raise GeneratorError(
            f"cannot read the corrections file {display_path(path)}: {error.strerror}"
        ) from error
    return list(_load_corrections_cached(path.resolve(), mtime_ns))


def corrections_digest(path: Path | str | None = None) -> str:
    """Return the SHA-256 of the corrections file's bytes (part of the validation cache key)."""
    path = CORRECTIONS_PATH if path is None else Path(path)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise GeneratorError(
            f"cannot read the corrections file {display_path(path)}: {error.strerror}"
        ) from error


# ---------------------------------------------------------------------------------------------
# Applying corrections


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _parent_pointer(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0]


def _insert(document: Any, pointer: str, value: Any) -> None:
    parent, token = _parent_and_token(document, pointer)
    if isinstance(parent, dict):
        if token in parent:
            raise _AlreadyExists(pointer)
        parent[token] = value
    elif isinstance(parent, list):
        if token == "-":
            parent.append(value)
        elif token.isdigit() and int(token) <= len(parent):
            parent.insert(int(token), value)
        else:
            raise _PointerNotFound(_parent_pointer(pointer), token)
    else:
        raise _PointerNotFound(_parent_pointer(pointer), token)


def _remove(document: Any, pointer: str) -> Any:
    parent, token = _parent_and_token(document, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise _PointerNotFound(_parent_pointer(pointer), token)
        return parent.pop(token)
    if isinstance(parent, list):
        return parent.pop(_list_index(parent, token, _parent_pointer(pointer)))
    raise _PointerNotFound(_parent_pointer(pointer), token)


def _replace(document: Any, pointer: str, value: Any) -> None:
    parent, token = _parent_and_token(document, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise _PointerNotFound(_parent_pointer(pointer), token)
        parent[token] = value
    elif isinstance(parent, list):
        parent[_list_index(parent, token, _parent_pointer(pointer))] = value
    else:
        raise _PointerNotFound(_parent_pointer(pointer), token)


class _AlreadyExists(Exception):
    pass


class _UnexpectedValue(Exception):
    def __init__(self, pointer: str, actual: Any) -> None:
        super().__init__(pointer)
        self.pointer = pointer
        self.actual = actual


def _check_expect(correction: Correction, document: Any, pointer: str) -> None:
    if not correction.has_expect:
        return
    actual = resolve_pointer(document, pointer)
    if actual != correction.expect:
        raise _UnexpectedValue(pointer, actual)


def _apply_one(correction: Correction, document: dict[str, Any]) -> None:
    action = correction.action
    pointer = correction.pointer

    if action == "set":
        resolve_pointer(document, pointer)
        _check_expect(correction, document, pointer)
        if pointer == "":
            raise GeneratorError(
                f"correction {correction.id!r}: cannot replace the whole document"
            )
        _replace(document, pointer, copy.deepcopy(correction.value))
    elif action == "add":
        _insert(document, pointer, copy.deepcopy(correction.value))
    elif action == "merge":
        target = resolve_pointer(document, pointer)
        _check_expect(correction, document, pointer)
        if not isinstance(target, dict):
            raise GeneratorError(
                f"correction {correction.id!r}: {pointer} is a {type(target).__name__}, not a mapping, "
                "so 'merge' cannot apply; use 'set'"
            )
        _merge_patch(target, correction.value)
    elif action == "delete":
        resolve_pointer(document, pointer)
        _check_expect(correction, document, pointer)
        _remove(document, pointer)
    elif action == "move":
        assert correction.from_pointer is not None
        source = correction.from_pointer
        resolve_pointer(document, source)
        _check_expect(correction, document, source)
        hoisting = source.startswith(pointer + "/")
        if not hoisting:
            # Check the target before removing anything, so a failed move leaves the document whole.
            _parent_and_token(document, pointer)
            try:
                resolve_pointer(document, pointer)
            except KeyError:
                pass
            else:
                raise _AlreadyExists(pointer)
        value = _remove(document, source)
        if hoisting:
            _replace(document, pointer, value)
        else:
            _insert(document, pointer, value)


def apply_corrections(
    document: dict[str, Any],
    version: str,
    corrections: Sequence[Correction] | None = None,
) -> list[AppliedCorrection]:
    """Apply, in file order, each correction that claims `version`; return what was applied.

    Mutates `document`. `corrections` defaults to `load_corrections()`. Raises GeneratorError
    when a correction's pointer does not exist, its `expect` does not match, or `add`/`move`
    would overwrite an existing value.
    """
    if corrections is None:
        corrections = load_corrections()

    applied = []
    for correction in corrections:
        if not correction.applies_to(version):
            continue
        where = f"correction {correction.id!r} ({correction.source}) for API version {version}"
        try:
            _apply_one(correction, document)
        except (KeyError, _PointerNotFound) as error:
            message = error.args[0] if error.args else ""
            raise GeneratorError(
                f"{where}: the pointer does not exist in that version's spec ({message}); "
                "fix the pointer or narrow the correction's `versions`"
            ) from None
        except _AlreadyExists:
            raise GeneratorError(
                f"{where}: {correction.pointer} already exists, so '{correction.action}' would overwrite it; "
                "the spec may have been fixed upstream: narrow `versions` or use 'set'"
            ) from None
        except _UnexpectedValue as error:
            raise GeneratorError(
                f"{where}: the value at {error.pointer} is {json.dumps(error.actual)[:200]}, not the "
                "`expect`ed value; the spec differs from what the correction assumes, so review it"
            ) from None
        applied.append(
            AppliedCorrection(
                id=correction.id,
                version=version,
                action=correction.action,
                pointer=correction.pointer,
                reason=correction.reason,
                from_pointer=correction.from_pointer,
            )
        )
    return applied
