"""The exceptions this library raises, so a caller knows what to catch.

    DockerError                      root of everything below
    ├── ConfigurationError           bad DOCKER_HOST, context, TLS files, pinned version (ValueError)
    ├── InvalidArgument              a value the client refuses to send, such as a path value
    │                                that would name another endpoint (ValueError)
    ├── DockerConnectionError        the daemon cannot be reached; names the host and its origin
    │   └── TimeoutError             connecting or reading took longer than the timeout
    │                                (also the built-in TimeoutError)
    ├── APIVersionError              the API version in use lacks a feature, or the daemon
    │                                rejects the client's API version
    ├── StreamError                  a streamed answer is malformed or ends inside a frame or
    │                                a JSON document
    ├── InvalidResponse              a success status with a body the operation cannot return,
    │                                such as invalid JSON or a proxy's HTML page
    └── APIError                     the daemon responded with an error status
        ├── BadRequest               400
        ├── Unauthorized             401
        ├── Forbidden                403
        ├── NotFound                 404
        ├── Conflict                 409
        ├── ServerError              500 and above
        └── ProgressError            a pull, push, build or load reported an error in its
                                     progress stream, after the status 200

`APIError.message` is the daemon's own message: the `message` member of its JSON error
body or, when the body is not JSON (an HTML page from a proxy, a plain-text 500), a note
saying so followed by the start of that body.
"""

from __future__ import annotations

import builtins
import re

__all__ = [
    "APIError",
    "APIVersionError",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "DockerConnectionError",
    "DockerError",
    "Forbidden",
    "InvalidArgument",
    "InvalidResponse",
    "NotFound",
    "ProgressError",
    "ServerError",
    "StreamError",
    "TimeoutError",
    "Unauthorized",
    "error_from_response",
    "invalid_json_error",
]

# How much of a body that is not JSON goes into an error message.
BODY_EXCERPT_LENGTH = 300


class DockerError(Exception):
    """The root of every exception raised by this library."""


class ConfigurationError(DockerError, ValueError):
    """A setting is invalid: the host, a Docker context, TLS files or a pinned API version.

    `source` says where the setting came from, such as "the DOCKER_HOST environment
    variable" or "context 'remote' (/root/.docker/contexts/meta/.../meta.json)".
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


class InvalidArgument(DockerError, ValueError):
    """An argument the client will not send, such as a path value naming another endpoint."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class DockerConnectionError(DockerError):
    """The daemon cannot be reached.

    `host` is the resolved host (such as "unix:///var/run/docker.sock") and `source`
    where it came from (the argument, DOCKER_HOST, a context or the default).
    """

    def __init__(self, message: str, *, host: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.source = source


class TimeoutError(DockerConnectionError, builtins.TimeoutError):  # noqa: A001
    """Connecting to the daemon or waiting for its response took longer than the timeout.

    `phase` is "connect" or "read" and `timeout` the limit in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        timeout: float | None,
        host: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message, host=host, source=source)
        self.phase = phase
        self.timeout = timeout


class APIVersionError(DockerError):
    """The API version in use and the request or the daemon do not fit together.

    Raised before sending when an operation, parameter or body field is newer than the
    API version in use (`feature` and `feature_since` are set), when negotiation finds no
    version both sides support, and when the daemon rejects the client's version with
    "client version X is too old" or "too new" (`status` is then the HTTP status).
    """

    def __init__(
        self,
        message: str,
        *,
        client_version: str | None = None,
        daemon_max: str | None = None,
        daemon_min: str | None = None,
        feature: str | None = None,
        feature_since: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.client_version = client_version
        self.daemon_max = daemon_max
        self.daemon_min = daemon_min
        self.feature = feature
        self.feature_since = feature_since
        self.status = status


class APIError(DockerError):
    """The daemon responded with an error status.

    `status` is the HTTP status, `method` and `path` the request (the path with its
    version prefix, without the query), `message` the daemon's explanation.
    """

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path} failed with {status}: {message}")
        self.status = status
        self.method = method
        self.path = path
        self.message = message


class BadRequest(APIError):
    """400: the daemon rejected the request's parameters or body."""


class Unauthorized(APIError):
    """401: the registry or the daemon requires credentials."""


class Forbidden(APIError):
    """403: an authorization plugin or the daemon forbids the request."""


class NotFound(APIError):
    """404: the object (container, image, network...) or the endpoint does not exist."""


class Conflict(APIError):
    """409: the request conflicts with the object's state, such as a name already in use."""


class ServerError(APIError):
    """500 and above: the daemon failed to carry out a valid request."""


class StreamError(DockerError):
    """A streamed response (logs, attach, events, progress) breaks its own format.

    Raised for a frame header or JSON document that is invalid, and for a body that ends
    inside a frame or a document, which means the connection was cut.
    """


class InvalidResponse(DockerError):
    """The daemon responded with a success status but a body the operation cannot return.

    Raised for a JSON operation whose body does not parse, such as a proxy's HTML login
    page sent with 200. `status`, `method` and `path` are as in APIError, `content_type`
    is the response's Content-Type header (None without one).
    """

    def __init__(
        self, message: str, *, status: int, method: str, path: str, content_type: str | None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path
        self.content_type = content_type


def invalid_json_error(
    status: int,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    error: ValueError,
) -> InvalidResponse:
    """Build the exception for a JSON operation whose response body does not parse."""
    text = body.decode("utf-8", errors="replace").strip()
    excerpt = text if len(text) <= BODY_EXCERPT_LENGTH else text[:BODY_EXCERPT_LENGTH] + "..."
    if "html" in (content_type or "").lower() or text[:200].lower().startswith(
        ("<!doctype html", "<html")
    ):
        detail = (
            "the body is an HTML page, not JSON, so something other than the Docker daemon "
            "(a proxy or a web server) probably responded"
        )
    else:
        detail = f"the body is not valid JSON ({error})"
    return InvalidResponse(
        f"{method} {path} returned {status} but {detail}: {excerpt}",
        status=status,
        method=method,
        path=path,
        content_type=content_type,
    )


class ProgressError(APIError):
    """A pull, push, build or load reported an error as a line of its progress stream.

    The daemon sends the status 200 before it knows the outcome, so the failure comes as
    a JSON line with `errorDetail` (and, before API 1.52, `error`). `status` is the
    response's status (200), `message` the daemon's message, `code` the `errorDetail`
    code when it has one (a build step's exit code), and `item` the decoded line.
    """

    def __init__(
        self,
        status: int,
        method: str,
        path: str,
        message: str,
        *,
        code: int | None = None,
        item: object = None,
    ) -> None:
        super().__init__(status, method, path, message)
        self.args = (f"{method} {path} reported an error in its progress stream: {message}",)
        self.code = code
        self.item = item


_ERRORS_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}

# The daemon's responses to a client API version outside its range:
# "client version 1.43 is too old. Minimum supported API version is 1.44, please upgrade
# your client to a newer version" and "client version 1.99 is too new. Maximum supported
# API version is 1.51".
_TOO_OLD = re.compile(
    r"client version (?P<client>\d+\.\d+) is too old\. "
    r"Minimum supported API version is (?P<daemon>\d+\.\d+)",
    re.IGNORECASE,
)
_TOO_NEW = re.compile(
    r"client version (?P<client>\d+\.\d+) is too new\. "
    r"Maximum supported API version is (?P<daemon>\d+\.\d+)",
    re.IGNORECASE,
)


def error_message_from_body(body: bytes, content_type: str | None) -> str:
    """Extract the daemon's message from an error body, or describe the body it sent instead."""
    import json

    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "the response has no body"

    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return str(document["message"])

    excerpt = text if len(text) <= BODY_EXCERPT_LENGTH else text[:BODY_EXCERPT_LENGTH] + "..."
    lowered = text[:200].lower()
    if "html" in (content_type or "").lower() or lowered.startswith(("<!doctype html", "<html")):
        return (
            "the response is an HTML page, not the daemon's JSON error, so something other "
            f"than the Docker daemon (a proxy or a web server) probably responded: {excerpt}"
        )
    if document is not None:
        return f"the response is JSON without a 'message' member: {excerpt}"
    if "HTTP request to an HTTPS server" in text:
        # Go's HTTP server sends this when a TLS port receives plain HTTP.
        return (
            f"the daemon expects TLS on this port: {excerpt} Set DOCKER_TLS_VERIFY=1 and "
            "DOCKER_CERT_PATH, pass tls=, or use an https:// host"
        )
    return f"the response is plain text, not the daemon's JSON error: {excerpt}"


def error_from_response(
    status: int,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    daemon_max: str | None = None,
) -> DockerError:
    """Build the exception for an error response.

    `daemon_max` is the daemon's `Api-Version` response header, when it sent one. A
    rejection of the client's API version becomes an `APIVersionError`, any other
    status the `APIError` subclass for it.
    """
    message = error_message_from_body(body, content_type)

    too_old = _TOO_OLD.search(message)
    if too_old:
        client, minimum = too_old.group("client"), too_old.group("daemon")
        return APIVersionError(
            f"the daemon rejected API version {client} ({method} {path}): its minimum "
            f"is {minimum}. Use a newer API version: pin version={minimum!r} or higher "
            f"with a version package that has it (docker-engine-v{minimum.replace('.', '-')} "
            "or newer), or call docker_engine.connect() to pick one. "
            f"Daemon message: {message}",
            client_version=client,
            daemon_min=minimum,
            daemon_max=daemon_max,
            status=status,
        )

    too_new = _TOO_NEW.search(message)
    if too_new:
        client, maximum = too_new.group("client"), too_new.group("daemon")
        return APIVersionError(
            f"the daemon rejected API version {client} ({method} {path}): its maximum "
            f"is {maximum}. Pin version={maximum!r} or lower, or leave the version unset "
            f"so the client negotiates it. Daemon message: {message}",
            client_version=client,
            daemon_max=maximum,
            status=status,
        )

    if status >= 500:
        return ServerError(status, method, path, message)
    return _ERRORS_BY_STATUS.get(status, APIError)(status, method, path, message)
