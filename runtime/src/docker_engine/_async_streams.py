"""Responses the asyncio client reads as they arrive: container output, JSON and progress streams.

`AsyncBaseClient.call` hands every FRAMES, JSON_STREAM, PROGRESS and HIJACK response to
`open_stream`, which returns the object the generated method is declared to return:

    AsyncFrameStream        logs: `(stream, data)` pairs, stream "stdout" or "stderr"
    AsyncHijackedStream     attach, exec start: the same pairs, plus `write()`,
                            `close_write()` and `communicate()`
    AsyncJSONStream[T]      events, stats: one decoded item per JSON document
    AsyncProgressStream[T]  pull, push, build, load: typed JSON lines; raises ProgressError
                            at the line that reports a failure

Each is an async iterator and an async context manager, and parses with the same code as
its sync counterpart in docker_engine._streams: the frame decoder, the JSON splitter, the
framing decision and the progress error. Read to its end, a stream gives its connection
back to the pool. Closed early (`aclose()`, leaving the `async with` block, dropping it)
it closes the connection, which also stops the daemon's side. A read that is cancelled
(`task.cancel()`, `asyncio.timeout()` around it) closes the stream too, so a cancelled
task leaves no connection behind. `aclose()` from another task ends an iteration
without an error.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import quote

from docker_engine._async_http import (
    IncompleteBody,
    ProtocolError,
    encode_head,
    read_response,
)
from docker_engine._client import USER_AGENT
from docker_engine._frames import STDERR, STDOUT, FrameDecoder
from docker_engine._jsonseq import JSONSplitter, JSONStreamError
from docker_engine._operation import ResponseKind
from docker_engine._timeout import Timeout
from docker_engine._streams import (
    _describe_request,
    _member,
    _progress_error,
    is_progress_failure,
    named_framing,
    tty_source,
)
from docker_engine.errors import StreamError, error_from_response

if TYPE_CHECKING:
    from docker_engine._async_responses import AsyncExchange
    from docker_engine._responses import Exchange

logger = logging.getLogger("docker_engine")

T = TypeVar("T")
_S = TypeVar("_S", bound="_AsyncStream")

# Bytes asked for per read. A read returns what has arrived, up to this size.
CHUNK_SIZE = 256 * 1024


async def open_stream(exchange: AsyncExchange) -> Any:
    """Wrap the open response of a FRAMES, JSON_STREAM, PROGRESS or HIJACK operation."""
    kind = exchange.operation.response
    if kind is ResponseKind.FRAMES:
        return AsyncFrameStream(exchange, multiplexed=await is_multiplexed(exchange))
    if kind is ResponseKind.JSON_STREAM:
        stream: AsyncJSONStream[Any] = AsyncJSONStream(exchange)
        # With `stream=False` (stats) the daemon sends one document: return it, not an iterator.
        return await stream.one() if exchange.arguments.get("stream") is False else stream
    if kind is ResponseKind.PROGRESS:
        return AsyncProgressStream(exchange)
    if kind is ResponseKind.HIJACK:
        from docker_engine._async_hijack import AsyncHijackedStream

        return AsyncHijackedStream(exchange, multiplexed=await is_multiplexed(exchange))
    raise TypeError(
        f"{exchange.operation.operation_id}: {kind.name} responses are not streams"
    )


class _AsyncStream:
    """The base of every async stream: reading the exchange, releasing it and closing it."""

    def __init__(self, exchange: AsyncExchange) -> None:
        self._exchange = exchange
        self._ended = False  # the exchange was released or closed
        self._closed_by_caller = False

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

    async def aclose(self) -> None:
        """Stop reading and close the connection, unless the stream was read to its end.

        May be called from another task while one iterates: that iteration then stops
        without an error.
        """
        self._close()

    def _close(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._closed_by_caller = True
        self._exchange.close()

    def _release(self) -> None:
        """End after reading the body to its end: the connection can serve another request."""
        if not self._ended:
            self._ended = True
            self._exchange.release()

    def _fail(self) -> None:
        """End after an error or a cancelled read: the connection is in an unknown state."""
        if not self._ended:
            self._ended = True
            self._exchange.close()

    async def _read_body(self) -> bytes:
        """Read the next bytes of the response body; b"" at its end or once closed."""
        if self._ended:
            return b""
        exchange = self._exchange
        try:
            async with asyncio.timeout(exchange.read_timeout):
                return await exchange.response.read1(CHUNK_SIZE)
        except (OSError, ProtocolError) as error:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise self._read_error(error) from None
        except BaseException:
            self._fail()
            raise

    def _read_error(self, error: BaseException) -> Exception:
        """Return the error to raise for a failed read of the stream."""
        exchange = self._exchange
        if isinstance(error, builtins.TimeoutError):
            return exchange.timeout_error()
        if isinstance(error, IncompleteBody):
            return StreamError(
                f"the daemon's response to {describe_request(exchange)} ended before its "
                "last chunk: the daemon closed the connection or stopped"
            )
        connection_error = exchange.pool.transport.connection_error(
            f"the connection failed while reading the response to "
            f"{describe_request(exchange)} ({type(error).__name__}: {error})"
        )
        connection_error.__cause__ = error
        return connection_error

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def __del__(self) -> None:
        # An abandoned stream would otherwise hold one of the pool's connection slots.
        if not getattr(self, "_ended", True):
            self._close()


class AsyncFrameStream(_AsyncStream, AsyncIterator[tuple[str, bytes]]):
    """Container output as `(stream, data)` pairs, `stream` being "stdout" or "stderr".

    Without a TTY each pair is one frame as the daemon sent it. With a TTY the output has
    a single stream, so every pair is ("stdout", bytes as they arrived). `multiplexed`
    is True for frames and False for TTY output.
    """

    def __init__(self, exchange: AsyncExchange, *, multiplexed: bool) -> None:
        super().__init__(exchange)
        self.multiplexed = multiplexed
        self._decoder = FrameDecoder() if multiplexed else None
        self._frames: deque[tuple[str, bytes]] = deque()
        self._error: Exception | None = (
            None  # raised once the frames before it are read
        )
        self._exhausted = False
        self._started = False

    def __aiter__(self) -> AsyncFrameStream:
        return self

    async def __anext__(self) -> tuple[str, bytes]:
        frames = self._frames
        while not frames:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._exhausted:
                raise StopAsyncIteration
            self._started = True
            data = await self._read_chunk()
            if not data:
                self._exhausted = True
                self._end()
                raise StopAsyncIteration
            decoder = self._decoder
            if decoder is None:
                return STDOUT, data
            frames.extend(decoder.feed(data))
            if decoder.error is not None:
                self._exhausted = True
                self._fail()
                self._error = StreamError(
                    f"{describe_request(self._exchange)}: {decoder.error}"
                )
        return frames.popleft()

    async def iter_stdout(self) -> AsyncIterator[bytes]:
        """Iterate over the stdout data only, dropping stderr."""
        async for stream, data in self:
            if stream == STDOUT:
                yield data

    async def read(self) -> bytes:
        """Read the rest of the output, stdout and stderr interleaved as they came."""
        return b"".join([data async for _, data in self])

    async def read_separated(self) -> tuple[bytes, bytes]:
        """Read the rest of the output and return `(stdout, stderr)`."""
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        async for stream, data in self:
            if stream == STDERR:
                stderr.append(data)
            else:
                stdout.append(data)
        return b"".join(stdout), b"".join(stderr)

    async def _read_chunk(self) -> bytes:
        return await self._read_body()

    def _end(self) -> None:
        """Finish at the end of the body: check that no frame was cut, then end the output."""
        decoder = self._decoder
        if decoder is not None and decoder.pending and not self._closed_by_caller:
            self._fail()
            raise StreamError(
                f"the output of {describe_request(self._exchange)} ended "
                f"{decoder.describe_pending()}: the connection was cut"
            )
        self._end_of_output()

    def _end_of_output(self) -> None:
        self._release()


class AsyncJSONStream(_AsyncStream, AsyncIterator[T], Generic[T]):
    """A stream of JSON documents (events, stats), each decoded as the operation's item type.

    Documents are returned as soon as they are complete, whatever separates them. The
    iteration ends when the daemon ends the response or when the stream is closed.
    """

    def __init__(self, exchange: AsyncExchange) -> None:
        super().__init__(exchange)
        self._decode = exchange.item_decoder
        self._splitter = JSONSplitter()
        self._documents: deque[Any] = deque()
        self._exhausted = False

    def __aiter__(self) -> AsyncJSONStream[T]:
        return self

    async def __anext__(self) -> T:
        return self._decode(await self._next_document())  # type: ignore[no-any-return]

    async def one(self) -> T:
        """Return the first item and close the stream.

        This is how to read a response that contains one document, such as stats with
        `stream=False`. Raises StreamError if the response ends before its first document.
        """
        try:
            async for item in self:
                return item
        finally:
            self._close()
        raise StreamError(
            f"the response to {describe_request(self._exchange)} ended without a JSON document"
        )

    async def _next_document(self) -> Any:
        documents = self._documents
        while not documents:
            if self._exhausted:
                raise StopAsyncIteration
            data = await self._read_body()
            try:
                if data:
                    documents.extend(self._splitter.feed(data))
                    continue
                self._exhausted = True
                if self._closed_by_caller:
                    raise StopAsyncIteration
                documents.extend(self._splitter.finish())
            except JSONStreamError as error:
                self._exhausted = True
                self._fail()
                raise StreamError(
                    f"{describe_request(self._exchange)}: {error}"
                ) from None
            self._release()
        return documents.popleft()


class AsyncProgressStream(AsyncJSONStream[T]):
    """The progress of a pull, push, build or load, one typed item per JSON line.

    The daemon sends the status 200 before it learns whether the work succeeds and reports a
    failure as a line with `errorDetail` (and `error` before API 1.52). Iterating yields
    the lines before that one, then raises ProgressError and closes the stream.
    """

    async def __anext__(self) -> T:
        document = await self._next_document()
        if is_progress_failure(document):
            item = self._decode(document)
            self._close()
            raise _progress_error(_shared(self._exchange), document, item)
        return self._decode(document)  # type: ignore[no-any-return]

    async def wait(self) -> list[T]:
        """Read the stream to its end and return its items; raises ProgressError on a failure."""
        return [item async for item in self]


# --- framing ---------------------------------------------------------------------------


async def is_multiplexed(exchange: AsyncExchange) -> bool:
    """Decide whether container output comes as frames (True) or raw from a TTY (False).

    The same decision as docker_engine._streams.is_multiplexed: the Content-Type from API
    1.42 on, else the TTY setting, which the request states or the daemon reports.
    """
    named = named_framing(_shared(exchange))
    if named is not None:
        return named
    source = tty_source(_shared(exchange))
    if isinstance(source, bool):
        return not source
    path, members = source
    return not _member(await _inspect(exchange, path), *members)


async def _inspect(exchange: AsyncExchange, path: str) -> Any:
    """GET `path` on a connection of its own and return the decoded JSON.

    The stream keeps its pooled connection meanwhile, and a pool limited to one
    connection would wait for it forever, so this request does not use the pool.
    """
    transport = exchange.pool.transport
    timeout = Timeout()
    target = f"/v{exchange.api_version}{quote(path, safe='/:@')}"
    headers = [("Host", transport.host.host_header), ("User-Agent", USER_AGENT)]
    connection = await transport.open(timeout.connect)
    try:
        async with asyncio.timeout(timeout.read):
            connection.writer.write(encode_head("GET", target, headers))
            response = await read_response(connection.reader, "GET")
            body = await response.read()
    except builtins.TimeoutError:
        raise transport.timeout_error("read", timeout.read) from None
    except (OSError, ProtocolError) as error:
        raise transport.connection_error(
            f"reading {target} to learn whether the output comes from a TTY failed ({error})"
        ) from error
    finally:
        connection.abort()
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


def describe_request(exchange: AsyncExchange) -> str:
    """Return "METHOD /vX.Y/path" of the exchange's request, for messages."""
    return _describe_request(_shared(exchange))


def _shared(exchange: AsyncExchange) -> Exchange:
    # The stream code shared with the sync client reads only the attributes that both
    # exchange types have: operation, arguments, api_version, response, request_document.
    return cast("Exchange", exchange)


def __getattr__(name: str) -> Any:
    # AsyncHijackedStream extends AsyncFrameStream in a module of its own, which imports
    # this one, so it is imported on first access.
    if name == "AsyncHijackedStream":
        from docker_engine._async_hijack import AsyncHijackedStream

        return AsyncHijackedStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncFrameStream",
    "AsyncHijackedStream",
    "AsyncJSONStream",
    "AsyncProgressStream",
    "is_multiplexed",
    "open_stream",
]
