"""Responses the asyncio client reads as they arrive: binary streams, and the hand-over to
the async stream readers.

`AsyncByteStream` is what a BYTES operation (an exported tar archive) returns.
`AsyncExchange` is what `AsyncBaseClient.call` hands to
`docker_engine._async_streams.open_stream`, with the attributes of the sync `Exchange`
that the shared stream code reads (`operation`, `arguments`, `api_version`, `response`,
`request_document`).
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from docker_engine._async_http import ProtocolError
from docker_engine._async_transport import finish

if TYPE_CHECKING:
    from docker_engine._async_http import AsyncResponse
    from docker_engine._async_transport import AsyncConnection, AsyncConnectionPool
    from docker_engine._operation import Operation
    from docker_engine.errors import TimeoutError as DockerTimeoutError

CHUNK_SIZE = 64 * 1024


class AsyncExchange:
    """A request whose response is still open, handed to a stream reader.

    The reader must end with exactly one of `release()` (the body was read to its end
    and the connection may serve another request) or `close()` (anything else: an early
    stop, an error, a cancelled read, a hijacked connection). `read_timeout` is the
    limit in seconds for each read, None for none.
    """

    def __init__(
        self,
        *,
        pool: AsyncConnectionPool,
        connection: AsyncConnection,
        response: AsyncResponse,
        operation: Operation,
        arguments: Mapping[str, Any],
        api_version: str,
        item_decoder: Callable[[Any], Any],
        read_timeout: float | None,
        request_document: Any = None,
    ) -> None:
        self.pool = pool
        self.connection = connection
        self.response = response
        self.operation = operation
        self.arguments = arguments
        self.api_version = api_version
        # Decodes one JSON item of a JSON_STREAM or PROGRESS response as `item_type`.
        self.item_decoder = item_decoder
        self.read_timeout = read_timeout
        # The request's JSON body before serialization, or None. Exec start frames its
        # output by the body's "Tty" member.
        self.request_document = request_document
        self.done = False

    def release(self) -> None:
        """Give the connection back to the pool after reading the body to its end."""
        if not self.done:
            self.done = True
            finish(self.pool, self.connection, self.response)

    def close(self) -> None:
        """Close the connection, which ends the stream on the daemon's side too."""
        if not self.done:
            self.done = True
            self.pool.discard(self.connection)

    def timeout_error(self) -> DockerTimeoutError:
        """Return the error for a read that timed out on this exchange."""
        return self.pool.transport.timeout_error("read", self.read_timeout)


class AsyncByteStream(AsyncIterator[bytes]):
    """The body of a binary response, as chunks of bytes.

    Iterate it with `async for`, or await `read()` for everything at once. Use it with
    `async with` (or await `aclose()`) when stopping early: that closes the connection,
    since a half-read response leaves it unusable. Read to its end, it gives the
    connection back for reuse. Cancelling a read closes the stream.
    """

    def __init__(self, exchange: AsyncExchange, chunk_size: int = CHUNK_SIZE) -> None:
        self._exchange = exchange
        self._chunk_size = chunk_size
        self._finished = False

    @property
    def headers(self) -> dict[str, str]:
        """Return the response's headers."""
        return dict(self._exchange.response.getheaders())

    def __aiter__(self) -> AsyncByteStream:
        return self

    async def __anext__(self) -> bytes:
        if self._finished:
            raise StopAsyncIteration
        exchange = self._exchange
        try:
            async with asyncio.timeout(exchange.read_timeout):
                chunk = await exchange.response.read1(self._chunk_size)
        except (OSError, ProtocolError) as error:
            self._abort()
            if isinstance(error, builtins.TimeoutError):
                raise exchange.timeout_error() from None
            raise exchange.pool.transport.connection_error(
                f"the connection failed while reading the response ({error})"
            ) from error
        except BaseException:
            # A cancelled read leaves the body half read.
            self._abort()
            raise
        if not chunk:
            self._finished = True
            exchange.release()
            raise StopAsyncIteration
        return chunk

    async def read(self) -> bytes:
        """Read the rest of the body."""
        return b"".join([chunk async for chunk in self])

    async def write_to(self, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write the rest of the body to a binary file or a path; return the bytes written.

        Memory stays at one chunk whatever the body's size. Files are written in a worker
        thread. A path is created or truncated; a file object is left open. The stream is
        closed either way.
        """
        if isinstance(destination, (str, os.PathLike)):
            file = await asyncio.to_thread(open, destination, "wb")
            try:
                return await self.write_to(file)
            finally:
                await asyncio.to_thread(file.close)
        written = 0
        async with self:
            async for chunk in self:
                await asyncio.to_thread(destination.write, chunk)
                written += len(chunk)
        return written

    async def aclose(self) -> None:
        """Stop reading: close the connection unless the body was read to its end."""
        self._abort()

    def _abort(self) -> None:
        if not self._finished:
            self._finished = True
            self._exchange.close()

    async def __aenter__(self) -> AsyncByteStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._abort()

    def __del__(self) -> None:
        # An abandoned stream would otherwise hold one of the pool's connection slots.
        if not getattr(self, "_finished", True):
            self._abort()
