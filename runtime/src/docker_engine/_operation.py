"""Descriptions of API operations, written out by the generator and read by the client.

A generated method does no HTTP itself: it hands its operation's description and the
caller's arguments to the client, which checks them against the daemon's API version,
encodes them and decodes the response. So everything a request needs to know about an
operation, and nothing about sockets, is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

# The first API version that has a published swagger file. A feature that every
# archived version has is recorded as introduced in this version.
FIRST_API_VERSION = "1.25"


class Location(str, Enum):
    """The part of the request that carries a parameter."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    BODY = "body"


class ResponseKind(str, Enum):
    """The way the client turns the daemon's response into a return value."""

    NONE = "none"  # no body worth reading: returns None
    JSON = "json"  # one JSON document, decoded as `Operation.result_type`
    TEXT = "text"  # a text body, returned as `str`
    HEADERS = "headers"  # the response headers are the result: returned as a dict
    BYTES = "bytes"  # a binary body (a tar archive), returned as a stream of chunks
    FRAMES = "frames"  # container output, multiplexed or raw: (stream, data) pairs
    JSON_STREAM = "json_stream"  # a stream of JSON objects (events, stats)
    PROGRESS = "progress"  # JSON lines that may report an error mid-stream (pull, build)
    HIJACK = "hijack"  # the connection is upgraded to a bidirectional stream (attach, exec)


class BodyKind(str, Enum):
    """The kind of request body an operation sends."""

    NONE = "none"
    JSON = "json"  # a model or a plain dict, sent as JSON
    BINARY = "binary"  # bytes, a file object or an iterable of bytes, sent as it is


class _Description:
    """Equality, hashing and repr from the `__slots__` of a description class.

    Generated packages build hundreds of these at import; plain slotted classes keep that
    cheap, where dataclasses would import `inspect` and `ast` first.
    """

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(v if not isinstance(v, Mapping) else tuple(v.items()) for v in self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Parameter(_Description):
    """One parameter of an operation, other than the body."""

    __slots__ = (
        "wire_name",
        "python_name",
        "location",
        "type",
        "required",
        "collection_format",
        "json_encoded",
        "since",
    )

    def __init__(
        self,
        wire_name: str,
        python_name: str,
        location: Location,
        type: str = "string",
        required: bool = False,
        collection_format: str | None = None,
        json_encoded: bool = False,
        since: str = FIRST_API_VERSION,
    ) -> None:
        self.wire_name = wire_name
        self.python_name = python_name
        self.location = location
        # The swagger type: string, integer, boolean, number, array, object.
        self.type = type
        self.required = required
        # How an array travels in the query: "csv" joins items with commas, "multi"
        # repeats the parameter. None for non-arrays.
        self.collection_format = collection_format
        # A map sent as a JSON document in the query string (`filters` and friends).
        self.json_encoded = json_encoded
        # The first API version that has this parameter on this operation.
        self.since = since


class Operation(_Description):
    """One operation of the Engine API, as one version package describes it."""

    __slots__ = (
        "operation_id",
        "method",
        "path",
        "parameters",
        "response",
        "result_type",
        "item_type",
        "body",
        "body_content_type",
        "since",
        "body_fields_since",
    )

    def __init__(
        self,
        operation_id: str,
        method: str,
        path: str,
        parameters: tuple[Parameter, ...] = (),
        response: ResponseKind = ResponseKind.JSON,
        result_type: str | None = None,
        item_type: str | None = None,
        body: BodyKind = BodyKind.NONE,
        body_content_type: str | None = None,
        since: str = FIRST_API_VERSION,
        body_fields_since: Mapping[str, str] | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.method = method
        # The path template without the version prefix, such as "/containers/{id}/json".
        self.path = path
        self.parameters = parameters
        self.response = response
        # The Python type of a JSON response, as source text evaluated against the package's
        # models module on first use ("list[ContainerSummary]"), or None to return plain JSON.
        self.result_type = result_type
        # The type of each item of a JSON_STREAM or PROGRESS response, likewise.
        self.item_type = item_type
        self.body = body
        self.body_content_type = body_content_type
        # The first API version that has this operation.
        self.since = since
        # Body fields introduced after FIRST_API_VERSION, by dotted path ("HostConfig.Annotations",
        # with "[]" for array items and "{}" for map values), with the version that added each.
        self.body_fields_since: Mapping[str, str] = body_fields_since or {}

    def parameter(self, python_name: str) -> Parameter:
        """Return the parameter whose Python name is `python_name`."""
        for parameter in self.parameters:
            if parameter.python_name == python_name:
                return parameter
        raise KeyError(f"{self.operation_id} has no parameter {python_name!r}")
