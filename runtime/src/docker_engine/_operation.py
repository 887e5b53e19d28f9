"""Descriptions of API operations, written out by the generator and read by the client.

A generated method does no HTTP itself: it hands its operation's description and the
caller's arguments to the client, which checks them against the daemon's API version,
encodes them and decodes the answer. So everything a request needs to know about an
operation, and nothing about sockets, is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

# The first API version that has a published swagger file. A feature that every
# archived version has is recorded as introduced in this version.
FIRST_API_VERSION = "1.25"


class Location(str, Enum):
    """Where a parameter travels in the request."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    BODY = "body"


class ResponseKind(str, Enum):
    """How the client turns the daemon's answer into a return value."""

    NONE = "none"  # no body worth reading: returns None
    JSON = "json"  # one JSON document, decoded as `Operation.result_type`
    TEXT = "text"  # a text body, returned as `str`
    HEADERS = "headers"  # the answer is in its headers: returns them as a dict
    BYTES = "bytes"  # a binary body (a tar archive), returned as a stream of chunks
    FRAMES = "frames"  # container output, multiplexed or raw: (stream, data) pairs
    JSON_STREAM = "json_stream"  # a stream of JSON objects (events, stats)
    PROGRESS = "progress"  # JSON lines that may report an error mid-stream (pull, build)
    HIJACK = "hijack"  # the connection is upgraded to a bidirectional stream (attach, exec)


class BodyKind(str, Enum):
    """What the request body is."""

    NONE = "none"
    JSON = "json"  # a model or a plain dict, sent as JSON
    BINARY = "binary"  # bytes, a file object or an iterable of bytes, sent as it is


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of an operation, other than the body."""

    wire_name: str
    python_name: str
    location: Location
    type: str = "string"  # the swagger type: string, integer, boolean, number, array, object
    required: bool = False
    # How an array travels in the query: "csv" joins items with commas, "multi"
    # repeats the parameter. None for non-arrays.
    collection_format: str | None = None
    # A map sent as a JSON document in the query string (`filters` and friends).
    json_encoded: bool = False
    # The first API version that has this parameter on this operation.
    since: str = FIRST_API_VERSION


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the Engine API, as one version package knows it."""

    operation_id: str
    method: str
    # The path template without the version prefix, such as "/containers/{id}/json".
    path: str
    parameters: tuple[Parameter, ...] = ()
    response: ResponseKind = ResponseKind.JSON
    # The Python type of a JSON answer, as source text evaluated against the package's
    # models module on first use ("list[ContainerSummary]"), or None to return plain JSON.
    result_type: str | None = None
    # The type of each item of a JSON_STREAM or PROGRESS answer, likewise.
    item_type: str | None = None
    body: BodyKind = BodyKind.NONE
    body_content_type: str | None = None
    # The first API version that has this operation.
    since: str = FIRST_API_VERSION
    # Body fields introduced after FIRST_API_VERSION, by dotted path ("HostConfig.Annotations",
    # with "[]" for array items and "{}" for map values), with the version that added each.
    body_fields_since: Mapping[str, str] = field(default_factory=dict)

    def parameter(self, python_name: str) -> Parameter:
        """Return the parameter whose Python name is `python_name`."""
        for parameter in self.parameters:
            if parameter.python_name == python_name:
                return parameter
        raise KeyError(f"{self.operation_id} has no parameter {python_name!r}")
