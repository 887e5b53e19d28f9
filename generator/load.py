"""Loading a spec file from YAML into plain JSON-compatible Python data.

YAML turns some scalars into types that a Swagger document does not mean: unquoted response
codes such as `200:` become integer keys, and unquoted dates in `example:` values become
date objects. `load_document` returns data in which every mapping key is a string and every
value is a dict, list, str, int, float, bool or None.
"""

from __future__ import annotations

import base64
import datetime
import logging
import math
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from generator.errors import GeneratorError
from generator.manifest import display_path

logger = logging.getLogger(__name__)

try:
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader
    HAVE_LIBYAML = True
except AttributeError:
    # PyYAML built without libyaml: the pure-Python loader gives the same data, only slower.
    _BaseLoader = yaml.SafeLoader
    HAVE_LIBYAML = False

_MERGE_TAG = "tag:yaml.org,2002:merge"
_warned_about_libyaml = False


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, mark: yaml.Mark) -> None:
        super().__init__(key)
        self.key = key
        self.mark = mark


class SpecLoader(_BaseLoader):  # type: ignore[misc]
    """A safe YAML loader that keeps timestamps as written and rejects duplicate keys."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, Any]:
        data: dict[Hashable, Any] = super().construct_mapping(node, deep)
        # Plain PyYAML keeps the last of two equal keys and drops the first without a word.
        # Counting first keeps the common case cheap.
        if len(data) != len(node.value):
            _raise_on_duplicate_key(node)
        return data


def _construct_timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # A spec's example dates are text in the JSON the daemon sends; parsing them would drop
    # nanoseconds and rewrite the time zone.
    return str(loader.construct_scalar(node))


SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def _raise_on_duplicate_key(node: yaml.MappingNode) -> None:
    # Pairs merged in through `<<` come from elsewhere in the file and may repeat a key on
    # purpose (the mapping's own value wins), so only keys written inside this mapping count.
    start, end = node.start_mark.index, node.end_mark.index
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not start <= key_node.start_mark.index <= end:
            continue
        key = (key_node.tag, str(key_node.value))
        if key in seen:
            raise _DuplicateKeyError(str(key_node.value), key_node.start_mark)
        seen.add(key)


def _key_to_string(key: Any, where: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        # YAML 1.1 reads unquoted yes/no/on/off/true/false keys as booleans.
        text = "true" if key else "false"
        logger.warning(
            "%s: boolean key %s turned into the string %r; quote it in the YAML",
            where,
            key,
            text,
        )
        return text
    if isinstance(key, int):
        return str(key)
    if key is None:
        return "null"
    if isinstance(key, float):
        converted = _float_to_json(key, where)
        return converted if isinstance(converted, str) else repr(converted)
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    raise GeneratorError(
        f"{where}: mapping key {key!r} is a {type(key).__name__}; use a string key"
    )


def _float_to_json(value: float, where: str) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        text = ".nan"
    elif value > 0:
        text = ".inf"
    else:
        text = "-.inf"
    logger.warning("%s: %s has no JSON form, kept as the string %r", where, value, text)
    return text


def to_json_compatible(value: Any, where: str = "") -> Any:
    """Return `value` with string keys and only JSON types, converting the rest.

    Integer, boolean and null keys become their text, and dates become ISO 8601 strings.
    Sets become sorted lists, binary becomes base64 text, and NaN and infinity become the
    strings ".nan", ".inf" and "-.inf". `where` (a file name) prefixes warnings and errors.
    """
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            text = _key_to_string(key, where)
            if text in result:
                raise GeneratorError(
                    f"{where}: the keys {key!r} and {text!r} of one mapping both mean {text!r}; remove one of them"
                )
            result[text] = to_json_compatible(item, where)
        return result
    if isinstance(value, list):
        return [to_json_compatible(item, where) for item in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return _float_to_json(value, where)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted((to_json_compatible(item, where) for item in value), key=repr)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple):
        return [to_json_compatible(item, where) for item in value]
    raise GeneratorError(
        f"{where}: value {value!r} of type {type(value).__name__} has no JSON form"
    )


def _warn_without_libyaml() -> None:
    global _warned_about_libyaml
    if not HAVE_LIBYAML and not _warned_about_libyaml:
        _warned_about_libyaml = True
        logger.warning(
            "PyYAML has no libyaml support here, so specs load with the slower pure-Python parser; "
            "install libyaml and reinstall PyYAML to speed it up"
        )


def load_document(path: Path | str) -> dict[str, Any]:
    """Load the YAML spec file at `path` and return it as JSON-compatible data.

    Raises GeneratorError for a missing or unreadable file, a YAML syntax error (with line
    and column), an empty file, a top level that is not a mapping, or a duplicate key.
    """
    path = Path(path)
    where = display_path(path)
    _warn_without_libyaml()
    started = time.perf_counter()

    try:
        with path.open("rb") as stream:
            raw = yaml.load(stream, Loader=SpecLoader)
    except FileNotFoundError:
        raise GeneratorError(f"spec file not found: {where}") from None
    except OSError as error:
        raise GeneratorError(
            f"cannot read spec file {where}: {error.strerror}"
        ) from error
    except _DuplicateKeyError as error:
        raise GeneratorError(
            f"{where}: duplicate key {error.key!r} at line {error.mark.line + 1}, column {error.mark.column + 1}; "
            "YAML would keep only the last one, so remove one of them"
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = (
            f"line {mark.line + 1}, column {mark.column + 1}"
            if mark
            else "unknown position"
        )
        raise GeneratorError(
            f"{where}: invalid YAML at {position}: {error.problem or error}"
        ) from None
    except yaml.YAMLError as error:
        raise GeneratorError(f"{where}: invalid YAML: {error}") from None

    if raw is None:
        raise GeneratorError(
            f"{where}: the file is empty (or only comments); expected a Swagger document"
        )
    if not isinstance(raw, dict):
        raise GeneratorError(
            f"{where}: the top level is a {type(raw).__name__}; expected a mapping (a Swagger document)"
        )

    document: dict[str, Any] = to_json_compatible(raw, where)
    logger.debug("loaded %s in %.3f s", where, time.perf_counter() - started)
    return document
