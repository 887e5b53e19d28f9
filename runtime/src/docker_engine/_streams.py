"""Responses read as they arrive: container output, JSON streams and progress streams.

`BaseClient.call` hands every FRAMES, JSON_STREAM, PROGRESS and HIJACK response to
`open_stream`, which returns the object the generated method is declared to return:

    FrameStream        logs: `(stream, data)` pairs, stream "stdout" or "stderr"
    HijackedStream     attach, exec start: the same pairs, plus `write()` and `close_write()`
    JSONStream[T]      events, stats: one decoded item per JSON document
    ProgressStream[T]  pull, push, build, load: typed JSON lines; raises ProgressError at
                       the line that reports a failure

Each is an iterator and a context manager. Read to its end, a stream gives its connection
back to the pool; closed early (`close()`, leaving the `with` block, or dropping it) it
closes the connection, which also stops the daemon's side. `close()` may be called from
another thread while one iterates: the iteration then ends without an error.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from docker_engine._body import CHUNK_SIZE, BodyReader
from docker_engine._frames import (
    MULTIPLEXED_STREAM_TYPE,
    RAW_STREAM_TYPE,
    STDERR,
    STDOUT,
    FrameDecoder,
)
from docker_engine._jsonseq import JSONSplitter, JSONStreamError
from docker_engine._operation import ResponseKind
from docker_engine._versions import version_key
from docker_engine.errors import ProgressError, StreamError, error_from_response

if TYPE_CHECKING:
    from docker_engine._responses import Exchange

logger = logging.getLogger("docker_engine")

T = TypeVar("T")

# The first API version whose attach, exec and logs responses name their framing in the
# Content-Type header. Older versions send RAW_STREAM_TYPE for both framings.
FRAMING_HEADER_SINCE = (1, 42)


def open_stream(exchange: Exchange) -> Any:
    """Wrap the open response of a FRAMES, JSON_STREAM, PROGRESS or HIJACK operation."""
    kind = exchange.operation.response
    if kind is ResponseKind.FRAMES:
        return FrameStream(exchange, multiplexed=is_multiplexed(exchange))
    if kind is ResponseKind.JSON_STREAM:
        stream: JSONStream[Any] = JSONStream(exchange)
        # With `stream=False` (stats) the daemon sends one document: return it, not an iterator.
        return stream.one() if exchange.arguments.get("stream") is False else stream
    if kind is ResponseKind.PROGRESS:
        return ProgressStream(exchange)
    if kind is ResponseKind.HIJACK:
        from docker_engine._hijack import HijackedStream

        return HijackedStream(exchange, multiplexed=is_multiplexed(exchange))
    raise TypeError(f"{exchange.operation.operation_id}: {kind.name} responses are not streams")


class _Stream:
    """The base of every stream: reading the exchange, releasing it and closing it."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._lock = threading.Lock()
        self._ended = False  # the exchange was released or closed
        self._closed_by_caller = False
        self._body: BodyReader | None = None  # opened on the first read

    @property
    def status(self) -> int:
        """Return the response's HTTP status (101 for a hijacked connection)."""
        return self._exchange.response.status

    @property
    def headers(self) -> dict[str, str]:
        """Return the response's headers."""
        return dict(self._exchange.response.getheaders())

    @property
    def closed(self) -> bool:
        """True once the stream was read to its end or closed."""
        return self._ended

    def close(self) -> None:
        """Stop reading and close the connection, unless the stream was read to its end.

        Safe to call from another thread while one iterates: that iteration then stops
        without an error.
        """
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self._closed_by_caller = True
        # Wake a read blocked in another thread: closing the file descriptor alone does
        # not end a recv() that is already waiting.
        _shutdown_socket(self._exchange)
        self._exchange.close()

    def _release(self) -> None:
        """End after reading the body to its end: the connection can serve another request."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._exchange.release()

    def _fail(self) -> None:
        """End after an error: the connection is in an unknown state."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._exchange.close()

    def _read_body(self) -> bytes:
        """Read the next bytes of the response body; b"" at its end or once closed."""
        if self._ended:
            return b""
        exchange = self._exchange
        try:
            if self._body is None:
                self._body = BodyReader(exchange.response, _socket_of(exchange))
            return self._body.read()
        except socket.timeout:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise exchange.timeout_error() from None
        except StreamError as error:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise StreamError(
                f"the daemon's response to {_describe_request(exchange)} is cut or malformed: "
                f"{error}. The daemon closed the connection or stopped"
            ) from None
        except (OSError, ValueError, AttributeError) as error:
            # ValueError and AttributeError come from a socket closed under the read.
            if self._closed_by_caller:
                return b""
            self._fail()
            raise exchange.pool.transport.connection_error(
                f"the connection failed while reading the response to "
                f"{_describe_request(exchange)} ({type(error).__name__}: {error})"
            ) from error

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # An abandoned stream would otherwise hold one of the pool's connection slots.
        if not getattr(self, "_ended", True):
            self.close()


_S = TypeVar("_S", bound=_Stream)


class FrameStream(_Stream, Iterator[tuple[str, bytes]]):
    """Container output as `(stream, data)` pairs, `stream` being "stdout" or "stderr".

    Without a TTY each pair is one frame as the daemon sent it. With a TTY the output has
    a single stream, so every pair is ("stdout", bytes as they arrived). `multiplexed`
    is True for frames and False for TTY output.
    """

    def __init__(self, exchange: Exchange, *, multiplexed: bool) -> None:
        super().__init__(exchange)
        self.multiplexed = multiplexed
        self._items = self._generate()

    def __iter__(self) -> FrameStream:
        return self

    def __next__(self) -> tuple[str, bytes]:
        return next(self._items)

    def iter_stdout(self) -> Iterator[bytes]:
        """Iterate over the stdout data only, dropping stderr."""
        for stream, data in self:
            if stream == STDOUT:
                yield data

    def read(self) -> bytes:
        """Read the rest of the output, stdout and stderr interleaved as they came."""
        return b"".join(data for _, data in self)

    def read_separated(self) -> tuple[bytes, bytes]:
        """Read the rest of the output and return `(stdout, stderr)`."""
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        for stream, data in self:
            if stream == STDERR:
                stderr.append(data)
            else:
                stdout.append(data)
        return b"".join(stdout), b"".join(stderr)

    def _read_chunk(self) -> bytes:
        return self._read_body()

    def _end_of_output(self) -> None:
        self._release()

    def _generate(self) -> Iterator[tuple[str, bytes]]:
        read = self._read_chunk
        if not self.multiplexed:
            while True:
                data = read()
                if not data:
                    break
                yield STDOUT, data
            self._end_of_output()
            return

        decoder = FrameDecoder()
        feed = decoder.feed
        while True:
            data = read()
            if not data:
                break
            yield from feed(data)
            if decoder.error is not None:
                self._fail()
                raise StreamError(f"{_describe_request(self._exchange)}: {decoder.error}")
        if decoder.pending and not self._closed_by_caller:
            self._fail()
            raise StreamError(
                f"the output of {_describe_request(self._exchange)} ended "
                f"{decoder.describe_pending()}: the connection was cut"
            )
        self._end_of_output()


class JSONStream(_Stream, Iterator[T], Generic[T]):
    """A stream of JSON documents (events, stats), each decoded as the operation's item type.

    Documents are returned as soon as they are complete, whatever separates them. The
    iteration ends when the daemon ends the response or when the stream is closed.
    """

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange)
        self._decode = exchange.item_decoder
        self._documents = self._generate_documents()

    def __iter__(self) -> JSONStream[T]:
        return self

    def __next__(self) -> T:
        return self._decode(next(self._documents))  # type: ignore[no-any-return]

    def one(self) -> T:
        """Return the first item and close the stream.

        This is how to read a response that contains one document, such as stats with
        `stream=False`. Raises StreamError if the response ends before its first document.
        """
        try:
            for item in self:
                return item
        finally:
            self.close()
        raise StreamError(
            f"the response to {_describe_request(self._exchange)} ended without a JSON document"
        )

    def _generate_documents(self) -> Iterator[Any]:
        splitter = JSONSplitter()
        try:
            while True:
                data = self._read_body()
                if not data:
                    break
                yield from splitter.feed(data)
            if self._closed_by_caller:
                return
            yield from splitter.finish()
        except JSONStreamError as error:
            self._fail()
            raise StreamError(f"{_describe_request(self._exchange)}: {error}") from None
        self._release()


class ProgressStream(JSONStream[T]):
    """The progress of a pull, push, build or load, one typed item per JSON line.

    The daemon sends the status 200 before it learns whether the work succeeds and reports a
    failure as a line with `errorDetail` (and `error` before API 1.52). Iterating yields
    the lines before that one, then raises ProgressError and closes the stream.
    """

    def __next__(self) -> T:
        document = next(self._documents)
        if is_progress_failure(document):
            item = self._decode(document)
            self.close()
            raise _progress_error(self._exchange, document, item)
        return self._decode(document)  # type: ignore[no-any-return]

    def wait(self) -> list[T]:
        """Read the stream to its end and return its items; raises ProgressError on a failure."""
        return list(self)


def is_progress_failure(document: Any) -> bool:
    """Tell whether a progress line reports a failure: it has `errorDetail` or `error`."""
    return isinstance(document, dict) and bool(document.get("errorDetail") or document.get("error"))


def _progress_error(exchange: Exchange, document: dict[str, Any], item: Any) -> ProgressError:
    detail = document.get("errorDetail")
    message = ""
    code = None
    if isinstance(detail, dict):
        message = str(detail.get("message") or "")
        if isinstance(detail.get("code"), int):
            code = detail["code"]
    if not message:
        message = str(document.get("error") or json.dumps(document))
    operation = exchange.operation
    return ProgressError(
        exchange.response.status,
        operation.method.upper(),
        _request_path(exchange),
        message,
        code=code,
        item=item,
    )


# --- framing ---------------------------------------------------------------------------


def is_multiplexed(exchange: Exchange) -> bool:
    """Decide whether container output comes as frames (True) or raw from a TTY (False).

    From API 1.42 on, the Content-Type names the framing. Before, the daemon sends the
    raw-stream type for both, so the framing depends on whether the container (or exec) has a TTY,
    which is read from the daemon. The first bytes are never used to guess: TTY output
    can look like a frame header.
    """
    named = named_framing(exchange)
    if named is not None:
        return named
    return not _has_tty(exchange)


def named_framing(exchange: Exchange) -> bool | None:
    """Return the framing that the operation or the Content-Type names (True for frames),
    or None when the TTY setting decides."""
    operation_id = exchange.operation.operation_id
    if operation_id == "Session":
        # The session endpoint hands the connection to a gRPC server: no framing.
        return False

    if version_key(exchange.api_version) >= FRAMING_HEADER_SINCE:
        content_type = exchange.response.getheader("Content-Type") or ""
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type == MULTIPLEXED_STREAM_TYPE:
            return True
        if media_type == RAW_STREAM_TYPE:
            return False
        logger.debug(
            "%s responded with Content-Type %r; reading the TTY setting instead",
            operation_id,
            content_type,
        )
    return None


def _has_tty(exchange: Exchange) -> bool:
    """Return whether the output of the exchange's object comes from a TTY."""
    source = tty_source(exchange)
    if isinstance(source, bool):
        return source
    path, members = source
    return bool(_member(_inspect(exchange, path), *members))


def tty_source(exchange: Exchange) -> bool | tuple[str, tuple[str, ...]]:
    """Return the TTY setting when the request states it, else where the daemon reports
    it: the path to GET (without version prefix) and the members that lead to it."""
    operation_id = exchange.operation.operation_id
    arguments = exchange.arguments
    if operation_id == "ExecStart":
        # The daemon frames exec output by the start request's Tty, not the exec's.
        document = getattr(exchange, "request_document", None)
        if isinstance(document, dict):
            return bool(document.get("Tty"))
        # Limitation: without the request body, the exec's own setting replaces it.
        # The two differ only when exec create and exec start disagree on Tty.
        return f"/exec/{arguments['id']}/json", ("ProcessConfig", "tty")
    if operation_id in ("ContainerLogs", "ContainerAttach"):
        return f"/containers/{arguments['id']}/json", ("Config", "Tty")
    if operation_id == "ServiceLogs":
        return f"/services/{arguments['id']}", ("Spec", "TaskTemplate", "ContainerSpec", "TTY")
    if operation_id == "TaskLogs":
        return f"/tasks/{arguments['id']}", ("Spec", "ContainerSpec", "TTY")
    # Limitation: output of an operation not listed above is read as multiplexed frames.
    # The list covers every FRAMES and HIJACK operation of API 1.25 to 1.56.
    return False


def _member(document: Any, *names: str) -> Any:
    for name in names:
        if not isinstance(document, dict):
            return None
        document = document.get(name)
    return document


def _inspect(exchange: Exchange, path: str) -> Any:
    """GET `path` on a connection of its own and return the decoded JSON.

    The stream keeps its pooled connection meanwhile, and a pool limited to one
    connection would wait for it forever, so this request does not use the pool.
    """
    from urllib.parse import quote

    from docker_engine._client import USER_AGENT
    from docker_engine._timeout import Timeout
    from docker_engine._transport import Connection

    transport = exchange.pool.transport
    timeout = Timeout()
    target = f"/v{exchange.api_version}{quote(path, safe='/:@')}"
    connection = Connection(transport)
    try:
        connection.open(timeout.connect)
        connection.set_read_timeout(timeout.read)
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", transport.host.host_header)
        connection.putheader("User-Agent", USER_AGENT)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    except socket.timeout:
        raise transport.timeout_error("read", timeout.read) from None
    except (OSError, http.client.HTTPException) as error:
        raise transport.connection_error(
            f"reading {target} to learn whether the output comes from a TTY failed ({error})"
        ) from error
    finally:
        connection.close()
    if response.status != 200:
        raise error_from_response(
            response.status,
            "GET",
            target.partition("?")[0],
            body,
            response.getheader("Content-Type"),
            daemon_max=response.getheader("Api-Version"),
        )
    return json.loads(body)


# --- helpers ---------------------------------------------------------------------------


def _socket_of(exchange: Exchange) -> socket.socket | None:
    """Return the socket under the exchange, also after http.client let go of it."""
    sock = exchange.connection.sock
    if sock is not None:
        return sock
    # http.client drops `connection.sock` when the response has no length (the connection
    # then ends with the body); the response's file object still holds the socket.
    raw = getattr(exchange.response.fp, "raw", None)
    return getattr(raw, "_sock", None)


def _shutdown_socket(exchange: Exchange) -> None:
    """Shut down both directions of the exchange's socket, waking any blocked read."""
    sock = _socket_of(exchange)
    if sock is None:
        return
    try:
        # socket.socket.shutdown, not ssl.SSLSocket.shutdown, which also drops the TLS
        # state that a read in another thread may still be using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already shut down or closed


def _request_path(exchange: Exchange) -> str:
    """Return the request's path with its version prefix, for messages."""
    path = exchange.operation.path
    for parameter in exchange.operation.parameters:
        value = exchange.arguments.get(parameter.python_name)
        if value is not None:
            path = path.replace("{" + parameter.wire_name + "}", str(value))
    return f"/v{exchange.api_version}{path}"


def _describe_request(exchange: Exchange) -> str:
    return f"{exchange.operation.method.upper()} {_request_path(exchange)}"


def __getattr__(name: str) -> Any:
    # HijackedStream extends FrameStream in a module of its own, which imports this one,
    # so it is imported on first access. The docker_engine package looks all stream
    # types up here.
    if name == "HijackedStream":
        from docker_engine._hijack import HijackedStream

        return HijackedStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FrameStream",
    "HijackedStream",
    "JSONStream",
    "ProgressStream",
    "is_multiplexed",
    "open_stream",
]
