"""Turning an operation and its arguments into an HTTP request: version checks and encoding.

Everything here runs before a byte is sent, so a refused argument or a feature newer than
the API version in use never reaches the daemon. Per operation, the work that does not
depend on the arguments is done once and kept in an `OperationPlan`.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any
from urllib.parse import quote, urlencode

from docker_engine._model import Model, encode
from docker_engine._operation import BodyKind, Location, Operation, Parameter, ResponseKind
from docker_engine._versions import version_key
from docker_engine.errors import APIVersionError, InvalidArgument

# Responses read as a stream rather than all at once. They get no read timeout by default,
# because the daemon may legitimately stay silent for a long time between chunks.
STREAMING_KINDS = frozenset(
    {
        ResponseKind.BYTES,
        ResponseKind.FRAMES,
        ResponseKind.JSON_STREAM,
        ResponseKind.PROGRESS,
        ResponseKind.HIJACK,
    }
)

# Path parameters under these prefixes take image or plugin references, which contain
# "/" ("library/busybox", "localhost:5000/team/app:1.0"), and the daemon's routes match
# them with a pattern that spans slashes. Every other path parameter names an object
# (container, volume, network, node, secret...) whose name or ID cannot contain "/".
SLASH_PREFIXES = ("/images/", "/distribution/", "/plugins/")

# Characters left unescaped in a path value: ":" and "@" appear in image references
# (tags and digests), and "/" where SLASH_PREFIXES allows it.
_PATH_SAFE = ":@"
_PATH_SAFE_WITH_SLASH = "/:@"

# Separators of swagger 2 collection formats for arrays in the query; "multi" repeats
# the parameter instead.
_COLLECTION_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}

_FIELD_TOKEN = re.compile(r"\[\]|\{\}|[^.\[\]{}]+")

# Operations whose response comes when something happens in the daemon, not when the request
# is served: waiting for a container to stop may take hours. Like streams, they get no read
# timeout by default. Their headers are not bounded either, because a daemon may send them
# only when the container stops.
LONG_POLL_OPERATIONS = frozenset({"ContainerWait"})


class FieldNode:
    """One step of a body field path, with the version that added it (None if older)."""

    __slots__ = ("name", "since", "since_key", "children")

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: str | None = None
        self.since_key: tuple[int, int] | None = None
        self.children: dict[str, FieldNode] = {}


class OperationPlan:
    """The per-operation work a client does once: path template, parameters, checks."""

    __slots__ = (
        "operation",
        "method",
        "segments",
        "parameters",
        "newest_key",
        "fields",
        "path_safe",
        "streaming",
        "long_poll",
        "result_decoder",
    )

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.method = operation.method.upper()
        self.parameters = {parameter.python_name: parameter for parameter in operation.parameters}
        self.segments = _split_path(operation)
        self.path_safe = (
            _PATH_SAFE_WITH_SLASH if operation.path.startswith(SLASH_PREFIXES) else _PATH_SAFE
        )
        self.streaming = operation.response in STREAMING_KINDS
        self.long_poll = operation.operation_id in LONG_POLL_OPERATIONS
        self.fields = _compile_fields(operation.body_fields_since)

        # The newest version any part of the operation needs: a client at this version
        # or newer skips the per-argument checks altogether.
        versions = [operation.since, *(p.since for p in operation.parameters)]
        versions += operation.body_fields_since.values()
        self.newest_key = max(version_key(version) for version in versions)
        # Filled in by the client on the first decoded response.
        self.result_decoder: Any = None


def _split_path(operation: Operation) -> list[str | Parameter]:
    """Split "/containers/{id}/json" into literal text and path parameters."""
    by_wire_name = {
        parameter.wire_name: parameter
        for parameter in operation.parameters
        if parameter.location is Location.PATH
    }
    segments: list[str | Parameter] = []
    for index, piece in enumerate(re.split(r"\{([^{}]+)\}", operation.path)):
        if index % 2 == 0:
            if piece:
                segments.append(piece)
            continue
        parameter = by_wire_name.get(piece)
        if parameter is None:
            raise TypeError(
                f"{operation.operation_id}: the path {operation.path} names {{{piece}}}, "
                "which is not one of its path parameters"
            )
        segments.append(parameter)
    return segments


def _compile_fields(fields_since: Mapping[str, str]) -> FieldNode | None:
    """Build a tree from dotted body field paths such as "Mounts[].BindOptions.NonRecursive"."""
    if not fields_since:
        return None
    root = FieldNode("")
    for dotted, since in fields_since.items():
        node = root
        for token in _FIELD_TOKEN.findall(dotted):
            node = node.children.setdefault(token, FieldNode(token))
        node.since = since
        node.since_key = version_key(since)
    return root


def check_versions(
    plan: OperationPlan,
    arguments: Mapping[str, Any],
    document: Any,
    api_version: str,
    api_key: tuple[int, int],
    daemon_note: str,
) -> None:
    """Raise APIVersionError if the operation, a given parameter or a body field is newer
    than `api_version`. `document` is the JSON body as it will be sent, or None."""
    operation = plan.operation
    name = f"{operation.operation_id} ({plan.method} {operation.path})"
    if version_key(operation.since) > api_key:
        raise _too_new(f"the operation {name}", operation.since, api_version, daemon_note)

    for python_name, value in arguments.items():
        parameter = plan.parameters.get(python_name)
        if value is None or parameter is None:
            continue
        if version_key(parameter.since) > api_key:
            raise _too_new(
                f"the parameter {python_name!r} of {name}", parameter.since, api_version, daemon_note
            )

    if plan.fields is not None and document is not None:
        found = _newer_field(document, plan.fields, api_key, "")
        if found is not None:
            path, since = found
            raise _too_new(
                f"the body field {path} of {name}", since, api_version, daemon_note
            )


def _newer_field(
    value: Any, node: FieldNode, api_key: tuple[int, int], prefix: str
) -> tuple[str, str] | None:
    """Find a field under `node` that `value` sets and that is newer than `api_key`."""
    for token, child in node.children.items():
        if token == "[]":
            items: Iterable[tuple[str, Any]] = (
                ((f"{prefix}[{index}]", item) for index, item in enumerate(value))
                if isinstance(value, list)
                else ()
            )
        elif token == "{}":
            items = (
                ((f"{prefix}[{key!r}]", item) for key, item in value.items())
                if isinstance(value, dict)
                else ()
            )
        elif isinstance(value, dict) and value.get(token) is not None:
            items = ((f"{prefix}.{token}" if prefix else token, value[token]),)
        else:
            items = ()

        for path, item in items:
            if child.since_key is not None and child.since_key > api_key:
                assert child.since is not None
                return path, child.since
            found = _newer_field(item, child, api_key, path)
            if found is not None:
                return found
    return None


def _too_new(feature: str, since: str, api_version: str, daemon_note: str) -> APIVersionError:
    return APIVersionError(
        f"{feature} was added in API {since}, but this client speaks API {api_version}"
        f"{daemon_note}: "
        + (
            f"pin API {since} or newer, or do without it"
            if daemon_note == " (pinned)"
            else "upgrade the daemon, or do without it"
        ),
        client_version=api_version,
        feature=feature,
        feature_since=since,
    )


def build_target(
    plan: OperationPlan, arguments: Mapping[str, Any], api_version: str
) -> tuple[str, list[tuple[str, str]]]:
    """Return the request target ("/v1.41/containers/abc/json?size=1") and the headers
    that come from parameters."""
    path_values: dict[str, Any] = {}
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    parameters = plan.parameters

    for python_name, value in arguments.items():
        if value is None:
            continue
        parameter = parameters.get(python_name)
        if parameter is None:
            raise InvalidArgument(
                f"{plan.operation.operation_id} has no parameter {python_name!r}",
                parameter=python_name,
            )
        location = parameter.location
        if location is Location.QUERY:
            _add_query(parameter, value, query)
        elif location is Location.PATH:
            path_values[parameter.wire_name] = value
        elif location is Location.HEADER:
            headers.append((parameter.wire_name, _header_value(parameter, value)))
        else:
            raise InvalidArgument(
                f"{plan.operation.operation_id}: {python_name!r} travels in the body; pass "
                "it as the body",
                parameter=python_name,
            )

    parts = ["/v", api_version]
    for segment in plan.segments:
        if type(segment) is str:
            parts.append(segment)
        else:
            assert isinstance(segment, Parameter)
            parts.append(_path_value(plan, segment, path_values.get(segment.wire_name)))
    if query:
        parts.append("?")
        parts.append(urlencode(query, quote_via=quote))
    return "".join(parts), headers


def _path_value(plan: OperationPlan, parameter: Parameter, value: Any) -> str:
    """Check and percent-encode a path value.

    The daemon's router cleans request paths ("//", "/./" and "/../" collapse) and
    redirects to the result, so a value with such segments, or an empty one, names a
    different endpoint: Engine 20.10 answers `GET /v1.41/containers//json` with a 301 to
    `/v1.41/containers/json`, the container list. Those values are rejected before
    sending, and so is "/" where the object cannot have one.
    """
    operation = plan.operation
    name = parameter.python_name
    if value is None:
        raise InvalidArgument(
            f"{operation.operation_id} needs the path parameter {name!r}", parameter=name
        )
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidArgument(
            f"{operation.operation_id}: the path parameter {name!r} must be a string, not "
            f"{type(value).__name__} ({value!r})",
            parameter=name,
        )
    text = str(value)

    if "/" in text and "/" not in plan.path_safe:
        hint = (
            ": drop the leading '/' that object names have in list responses"
            if text.startswith("/") and text.count("/") == 1
            else ""
        )
        raise InvalidArgument(
            f"{operation.operation_id}: the path parameter {name!r} is {text!r}, which "
            f"contains '/'; the {{{parameter.wire_name}}} part of {operation.path} cannot "
            f"contain one{hint}",
            parameter=name,
        )
    for segment in text.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidArgument(
                f"{operation.operation_id}: the path parameter {name!r} is {text!r}, which "
                "is empty or has an empty, '.' or '..' segment; the daemon would clean it "
                "into the path of another endpoint",
                parameter=name,
            )
    return quote(text, safe=plan.path_safe)


def _add_query(parameter: Parameter, value: Any, query: list[tuple[str, str]]) -> None:
    """Append the query items for one parameter."""
    name = parameter.wire_name
    if parameter.json_encoded or isinstance(value, (Mapping, Model)):
        query.append((name, _json_query_value(parameter, value)))
    elif isinstance(value, bool):
        # The daemon reads booleans with httputils.BoolValue (anything but "", "0",
        # "no", "false" and "none" is true) or with strconv.ParseBool. "1" and "0" mean
        # the same to both, and they are what the Docker CLI sends.
        query.append((name, "1" if value else "0"))
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [_scalar(item) for item in value]
        collection_format = parameter.collection_format or "csv"
        if collection_format == "multi":
            query.extend((name, item) for item in items)
        else:
            separator = _COLLECTION_SEPARATORS.get(collection_format)
            if separator is None:
                raise InvalidArgument(
                    f"the parameter {parameter.python_name!r} has the unknown collection "
                    f"format {collection_format!r}",
                    parameter=parameter.python_name,
                )
            query.append((name, separator.join(items)))
    else:
        query.append((name, _scalar(value)))


def _json_query_value(parameter: Parameter, value: Any) -> str:
    if isinstance(value, str):
        # A string is taken as JSON the caller encoded already; encoding it again would
        # send a JSON string, which the daemon rejects with a 500.
        try:
            json.loads(value)
        except ValueError:
            raise InvalidArgument(
                f"the parameter {parameter.python_name!r} is the string {value!r}, which is "
                "not JSON: pass a mapping (the client encodes it) or a JSON document",
                parameter=parameter.python_name,
            ) from None
        return value
    document = encode(value.to_dict() if isinstance(value, Model) else value)
    if parameter.wire_name == "filters" and isinstance(document, dict):
        # The daemon's filters are a map of lists of strings: accept a bare string or a
        # set for one key, as in {"status": "running"}, and send the list it means.
        normalized: dict[str, Any] = {}
        for key, item in document.items():
            if isinstance(item, str):
                item = [item]
            elif isinstance(item, (set, frozenset)):
                item = sorted(item)
            normalized[key] = item
        document = normalized
    return json.dumps(document, separators=(",", ":"))


def _scalar(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _header_value(parameter: Parameter, value: Any) -> str:
    """Encode a header parameter; objects (X-Registry-Auth, X-Registry-Config) become
    base64url-encoded JSON, the encoding the daemon decodes them with."""
    if isinstance(value, (Mapping, Model)):
        document = encode(value.to_dict() if isinstance(value, Model) else value)
        raw = json.dumps(document, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii")
    text = _scalar(value)
    if _HEADER_BREAKING.search(text):
        # The value is not shown: registry headers carry credentials.
        raise InvalidArgument(
            f"the header parameter {parameter.python_name!r} contains a line break or a NUL "
            "character, which an HTTP header cannot carry: pass the value the daemon expects "
            "(registry headers are base64url, which has neither)",
            parameter=parameter.python_name,
        )
    return text


# Characters that would end a header line early or that HTTP forbids in a header value.
_HEADER_BREAKING = re.compile(r"[\r\n\0]")

# Headers whose values carry registry credentials as base64url-encoded JSON, by lowercase
# name: True for a map of auth configurations by registry (X-Registry-Config), False for
# one auth configuration (X-Registry-Auth).
CREDENTIAL_HEADERS = {"x-registry-auth": False, "x-registry-config": True}

# The members of an auth configuration that are secrets.
_SECRET_MEMBERS = ("password", "identitytoken", "registrytoken", "auth")

# Operations whose JSON body is an auth configuration.
_CREDENTIAL_BODIES = ("SystemAuth",)


def find_credentials(
    plan: OperationPlan, headers: Iterable[tuple[str, str]], document: Any
) -> str | None:
    """Return what carries registry credentials in a request ("the X-Registry-Auth
    header"), or None when it carries none.

    An auth configuration without a password or token (anonymous access, as `{}`) is no
    credential. A registry header that does not decode is taken for one.
    """
    for name, value in headers:
        is_map = CREDENTIAL_HEADERS.get(name.lower())
        if is_map is None:
            continue
        try:
            decoded = json.loads(base64.urlsafe_b64decode(value.encode("ascii") + b"=="))
        except (ValueError, UnicodeError):
            return f"the {name} header"
        configs = list(decoded.values()) if is_map and isinstance(decoded, dict) else [decoded]
        if any(_has_secret(config) for config in configs):
            return f"the {name} header"
    if plan.operation.operation_id in _CREDENTIAL_BODIES and _has_secret(document):
        return "the request body"
    return None


def _has_secret(config: Any) -> bool:
    if not isinstance(config, dict):
        return config is not None
    return any(config.get(member) for member in _SECRET_MEMBERS)


class EncodedBody:
    """A request body ready to send."""

    __slots__ = ("data", "document", "headers", "chunked", "replayable")

    def __init__(
        self,
        data: Any,
        document: Any,
        headers: list[tuple[str, str]],
        chunked: bool,
        replayable: bool,
    ) -> None:
        self.data = data
        # The JSON value before serialization, for the body field version checks.
        self.document = document
        self.headers = headers
        self.chunked = chunked
        # True when the body can be sent a second time after a stale connection.
        self.replayable = replayable


NO_BODY = EncodedBody(None, None, [], False, True)
EMPTY_BODY = EncodedBody(None, None, [("Content-Length", "0")], False, True)


def encode_body(plan: OperationPlan, body: Any) -> EncodedBody:
    """Encode the request body: JSON for models, mappings and lists; bytes, a file or an
    iterable of bytes for binary bodies (chunked when the length is unknown)."""
    operation = plan.operation
    kind = operation.body
    if body is None:
        return EMPTY_BODY if plan.method in ("POST", "PUT", "PATCH") else NO_BODY
    if kind is BodyKind.NONE:
        raise InvalidArgument(f"{operation.operation_id} takes no request body")

    content_type = operation.body_content_type
    if kind is BodyKind.JSON:
        document = body.to_dict() if isinstance(body, Model) else encode(body)
        if isinstance(body, Mapping) and not isinstance(document, dict):
            document = encode(dict(body))
        data = json.dumps(document, separators=(",", ":")).encode("utf-8")
        headers = [
            ("Content-Type", content_type or "application/json"),
            ("Content-Length", str(len(data))),
        ]
        return EncodedBody(data, document, headers, False, True)

    content_type = content_type or "application/octet-stream"
    if isinstance(body, (bytes, bytearray, memoryview)):
        length = memoryview(body).nbytes
        headers = [("Content-Type", content_type), ("Content-Length", str(length))]
        return EncodedBody(bytes(body), None, headers, False, True)
    if isinstance(body, str):
        raise InvalidArgument(
            f"{operation.operation_id} takes a binary body: pass bytes, a binary file or an "
            "iterable of bytes, not str"
        )
    if hasattr(body, "read"):
        remaining = _remaining_file_length(body)
        if remaining is not None:
            headers = [("Content-Type", content_type), ("Content-Length", str(remaining))]
            return EncodedBody(body, None, headers, False, False)
    elif not isinstance(body, Iterable):
        raise InvalidArgument(
            f"{operation.operation_id} takes a binary body: pass bytes, a binary file or an "
            f"iterable of bytes, not {type(body).__name__}"
        )
    headers = [("Content-Type", content_type), ("Transfer-Encoding", "chunked")]
    return EncodedBody(body, None, headers, True, False)


def _remaining_file_length(file: Any) -> int | None:
    """Return the bytes left in a regular file, or None for pipes, sockets and the like."""
    import stat

    try:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            return None
        position: int = file.tell()
        return max(0, status.st_size - position)
    except (AttributeError, OSError, ValueError):
        return None
