"""Responses the caller reads as they arrive: binary streams, and the hand-over to stream readers.

`ByteStream` is what a BYTES operation (an exported tar archive) returns. `Exchange` is
what the client hands to `docker_engine._streams.open_stream` for the FRAMES,
JSON_STREAM, PROGRESS and HIJACK kinds: the open response, its connection and the means
to give the connection back.

Generated packages import `ByteStream` for their annotations, so this module imports
nothing heavy; `http.client` is loaded by the time a stream exists.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client

    from docker_engine._operation import Operation
    from docker_engine._transport import Connection, ConnectionPool

CHUNK_SIZE = 64 * 1024


class Exchange:
    """A request whose response is still open, handed to a stream reader.

    The reader must end with exactly one of `release()` (the body was read to its end
    and the connection may serve another request) or `close()` (anything else: an early
    stop, an error, a hijacked connection). For HIJACK, the daemon has responded with
    101 Switching Protocols (or 200 from daemons that skip the upgrade); bytes it sent
    after its headers may already sit in `response.fp`'s buffer, so read from there before
    reading `connection.sock` directly.
    """

    def __init__(
        self,
        *,
        pool: ConnectionPool,
        connection: Connection,
        response: http.client.HTTPResponse,
        operation: Operation,
        arguments: Mapping[str, Any],
        api_version: str,
        item_decoder: Callable[[Any], Any],
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
        # The request's JSON body before serialization, or None. Exec start frames its
        # output by the body's "Tty" member.
        self.request_document = request_document
        self._done = False

    def release(self) -> None:
        """Give the connection back to the pool after reading the body to its end."""
        if not self._done:
            self._done = True
            # read1() can reach the end without marking the response closed, and http.client
            # sends no new request on a connection whose response is still open.
            self.response.close()
            from docker_engine._transport import finish

            finish(self.pool, self.connection, self.response)

    def close(self) -> None:
        """Close the connection, which ends the stream on the daemon's side too."""
        if not self._done:
            self._done = True
            self.response.close()
            self.pool.discard(self.connection)

    def timeout_error(self) -> Exception:
        """Return the error for a read that timed out on this exchange."""
        return self.pool.transport.timeout_error("read", self.connection.read_timeout)


class ByteStream(Iterator[bytes]):
    """The body of a binary response, as chunks of bytes.

    Iterate it, or call `read()` for everything at once. Use it as a context manager (or
    call `close()`) when stopping early: that closes the connection, since a half-read
    response leaves it unusable. Read to its end, it gives the connection back for reuse.
    """

    def __init__(self, exchange: Exchange, chunk_size: int = CHUNK_SIZE) -> None:
        self._exchange = exchange
        self._chunk_size = chunk_size
        self._finished = False

    @property
    def headers(self) -> dict[str, str]:
        """Return the response's headers."""
        return dict(self._exchange.response.getheaders())

    def __iter__(self) -> ByteStream:
        return self

    def __next__(self) -> bytes:
        if self._finished:
            raise StopIteration
        exchange = self._exchange
        try:
            chunk = exchange.response.read1(self._chunk_size)
        except builtins.TimeoutError:
            self.close()
            raise exchange.timeout_error() from None
        except Exception as error:
            import http.client

            if not isinstance(error, (OSError, http.client.HTTPException)):
                raise
            self.close()
            raise exchange.pool.transport.connection_error(
                f"the connection failed while reading the response ({error})"
            ) from error
        if not chunk:
            self._finished = True
            exchange.release()
            raise StopIteration
        return chunk

    def read(self) -> bytes:
        """Read the rest of the body."""
        return b"".join(self)

    def write_to(self, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write the rest of the body to a binary file or a path; return the bytes written.

        Memory stays at one chunk whatever the body's size. A path is created or
        truncated; a file object is left open. The stream is closed either way.
        """
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as file:
                return self.write_to(file)
        written = 0
        with self:
            for chunk in self:
                destination.write(chunk)
                written += len(chunk)
        return written

    def close(self) -> None:
        """Stop reading: close the connection unless the body was read to its end."""
        if not self._finished:
            self._finished = True
            self._exchange.close()

    def __enter__(self) -> ByteStream:
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
        if not getattr(self, "_finished", True):
            self.close()
