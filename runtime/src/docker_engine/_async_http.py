"""HTTP/1.1 over asyncio streams: writing a request and reading its response.

This covers what the Docker Engine API uses and no more. A connection carries one
request at a time (no pipelining). Bodies have a Content-Length, are chunked (in both
directions) or end with the connection. `HEAD` responses have no body, and after a `101`
upgrade the connection is a raw byte pipe (attach, exec start). The asyncio transport (docker_engine._async_transport)
opens the streams and pools the connections; this module only frames bytes.

`AsyncResponse` has the names of `http.client.HTTPResponse` that the shared stream code
reads (`status`, `getheader`, `getheaders`, `chunked`, `will_close`), so that code works
on both clients' responses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator
from typing import Any

from docker_engine.errors import InvalidArgument

# Bytes read from a binary request body per read, and asked for per read of a response.
CHUNK_SIZE = 256 * 1024

# The maximum size of a status line and headers, which is also the StreamReader's limit
# for finding the end of a line. The daemon's headers take a few hundred bytes.
MAX_HEAD_SIZE = 64 * 1024

_HEAD_END = b"\r\n\r\n"
_CRLF = b"\r\n"
_END_OF_ITERATION = object()


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid HTTP/1.1 response."""


class IncompleteBody(ProtocolError):
    """The connection ended before the response body did."""


class RemoteDisconnected(ConnectionResetError):
    """The connection ended before the first byte of a response.

    On a kept-alive connection this means the daemon closed it while it was idle, so the
    request may be sent again on a new connection.
    """


def encode_head(method: str, target: str, headers: list[tuple[str, str]]) -> bytes:
    """Return the request line and headers, ending with the blank line.

    Raises InvalidArgument for a header value that would split the head (CR or LF) or
    that Latin-1 cannot encode, the checks http.client makes for the sync client.
    """
    parts = [method, " ", target, " HTTP/1.1\r\n"]
    for name, value in headers:
        if "\r" in value or "\n" in value:
            raise InvalidArgument(
                f"the value of the header {name} contains a line break ({value!r}), which "
                "would end the header early: remove it",
                parameter=name,
            )
        parts += [name, ": ", value, "\r\n"]
    parts.append("\r\n")
    try:
        return "".join(parts).encode("latin-1")
    except UnicodeEncodeError as error:
        raise InvalidArgument(
            f"a header of {method} {target} has a character that HTTP headers cannot carry "
            f"({error.object[error.start:error.end]!r}): header values are Latin-1 text"
        ) from None


class AsyncResponse:
    """The status, headers and body of one response on an asyncio connection.

    `read()` returns the whole body and `read1(size)` the next part of it; either returns
    b"" once the body has ended. A `101` response and the response to `HEAD` have no body.
    """

    __slots__ = (
        "status",
        "reason",
        "version",
        "chunked",
        "will_close",
        "_headers",
        "_lookup",
        "_reader",
        "_length",
        "_chunk_left",
        "_crlf_pending",
        "_done",
    )

    def __init__(
        self,
        reader: asyncio.StreamReader,
        status: int,
        reason: str,
        version: str,
        headers: list[tuple[str, str]],
        method: str,
    ) -> None:
        self._reader = reader
        self.status = status
        self.reason = reason
        self.version = version
        self._headers = headers
        lookup: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            lookup[key] = f"{lookup[key]}, {value}" if key in lookup else value
        self._lookup = lookup

        self._chunk_left = 0
        self._crlf_pending = False
        self._length: int | None = None
        self._done = False
        self.chunked = False
        connection = lookup.get("connection", "").lower()
        self.will_close = "close" in connection or (
            version == "HTTP/1.0" and "keep-alive" not in connection
        )

        # RFC 9112, section 6.3: which responses have a body and where it ends.
        if method == "HEAD" or status in (101, 204, 304):
            self._done = True
            if status == 101:
                # The connection now belongs to the upgraded protocol.
                self.will_close = True
            return
        if "chunked" in lookup.get("transfer-encoding", "").lower():
            self.chunked = True
            return
        length = lookup.get("content-length")
        if length is None:
            # The body ends with the connection.
            self.will_close = True
            return
        try:
            self._length = int(length.partition(",")[0])
        except ValueError:
            raise ProtocolError(f"invalid Content-Length header {length!r}") from None
        if self._length < 0:
            raise ProtocolError(f"invalid Content-Length header {length!r}")
        if self._length == 0:
            self._done = True

    @property
    def done(self) -> bool:
        """True once the body has been read to its end (at once for a response without one)."""
        return self._done

    def getheader(self, name: str, default: str | None = None) -> str | None:
        """Return the header `name` (any case), its values joined by ", "; `default` if absent."""
        return self._lookup.get(name.lower(), default)

    def getheaders(self) -> list[tuple[str, str]]:
        """Return the headers as (name, value) pairs, in the order received."""
        return list(self._headers)

    async def read(self) -> bytes:
        """Read the rest of the body."""
        if self._done:
            return b""
        if self._length is not None:
            try:
                data = await self._reader.readexactly(self._length)
            except asyncio.IncompleteReadError as error:
                self._length -= len(error.partial)
                raise IncompleteBody(
                    f"the body ended {self._length} bytes before its Content-Length"
                ) from None
            self._length = 0
            self._done = True
            return data
        parts: list[bytes] = []
        while True:
            part = await self.read1(CHUNK_SIZE)
            if not part:
                return b"".join(parts)
            parts.append(part)

    async def read1(self, size: int = CHUNK_SIZE) -> bytes:
        """Read at most `size` bytes of the body, waiting only until some have arrived.

        State changes only after each await completes, so a cancelled call loses no
        bytes of the body.
        """
        if self._done:
            return b""
        reader = self._reader

        if self._length is not None:
            data = await reader.read(min(size, self._length))
            if not data:
                raise IncompleteBody(
                    f"the body ended {self._length} bytes before its Content-Length"
                )
            self._length -= len(data)
            if not self._length:
                self._done = True
            return data

        if not self.chunked:
            data = await reader.read(size)
            if not data:
                self._done = True
            return data

        if self._crlf_pending:
            await self._read_line(expect_empty=True)
            self._crlf_pending = False
        if not self._chunk_left:
            line = await self._read_line()
            try:
                chunk_size = int(line.partition(b";")[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"invalid chunk size line {line[:40]!r}") from None
            if chunk_size < 0:
                raise ProtocolError(f"invalid chunk size line {line[:40]!r}")
            if chunk_size == 0:
                # Trailer fields, if any, up to the blank line; the daemon sends none.
                while await self._read_line():
                    pass
                self._done = True
                return b""
            self._chunk_left = chunk_size
        data = await reader.read(min(size, self._chunk_left))
        if not data:
            raise IncompleteBody("the body ended before its last chunk")
        self._chunk_left -= len(data)
        if not self._chunk_left:
            self._crlf_pending = True
        return data

    async def _read_line(self, *, expect_empty: bool = False) -> bytes:
        """Read one line of the chunked framing, without its CRLF."""
        try:
            line = await self._reader.readuntil(_CRLF)
        except asyncio.IncompleteReadError:
            raise IncompleteBody("the body ended before its last chunk") from None
        except asyncio.LimitOverrunError:
            raise ProtocolError("a line of the chunked body is too long") from None
        if expect_empty and line != _CRLF:
            raise ProtocolError(
                f"invalid chunked body: a chunk is longer than its size line ({line[:40]!r})"
            )
        return line[:-2]


async def read_response(reader: asyncio.StreamReader, method: str) -> AsyncResponse:
    """Read a response's status line and headers; skip interim 1xx responses but 101."""
    while True:
        try:
            head = await reader.readuntil(_HEAD_END)
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise RemoteDisconnected(
                    "the connection closed before a response"
                ) from None
            raise ProtocolError(
                f"the connection closed inside the response headers: {error.partial[:80]!r}"
            ) from None
        except asyncio.LimitOverrunError:
            raise ProtocolError(
                f"the response headers are longer than {MAX_HEAD_SIZE} bytes"
            ) from None

        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        status_text, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not (
            len(status_text) == 3 and status_text.isdigit()
        ):
            raise ProtocolError(
                f"invalid status line {lines[0][:80]!r}: is this an HTTP server?"
            )
        status = int(status_text)

        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and headers:
                # An obsolete folded continuation of the previous header.
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {line.strip()}")
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ProtocolError(f"invalid header line {line[:80]!r}")
            headers.append((name.strip(), value.strip()))

        if 100 <= status < 200 and status != 101:
            continue
        return AsyncResponse(reader, status, reason, version, headers, method)


async def write_body(
    writer: asyncio.StreamWriter,
    body: Any,
    chunked: bool,
    write_timeout: float | None,
) -> None:
    """Send a request body that is not bytes: a file, an iterable or an async iterable of bytes.

    With `chunked`, each piece becomes one chunk and the last chunk follows. Reading a
    file or advancing a plain iterator may block (a build context reads files), so both
    run in a worker thread, one piece at a time. Lists and tuples are read directly.
    `write_timeout` bounds each wait for the daemon to take a piece, not the whole body.
    """
    if hasattr(body, "__aiter__"):
        await _send_pieces(writer, body, chunked, write_timeout)
        return
    pieces: AsyncGenerator[Any, None]
    if hasattr(body, "read"):
        pieces = _read_file(body)
    elif isinstance(body, (list, tuple)):
        pieces = _from_sequence(body)
    else:
        pieces = _in_thread(iter(body))
    async with contextlib.aclosing(pieces):
        await _send_pieces(writer, pieces, chunked, write_timeout)


async def _send_pieces(
    writer: asyncio.StreamWriter,
    pieces: AsyncIterable[Any],
    chunked: bool,
    write_timeout: float | None,
) -> None:
    async for piece in pieces:
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise InvalidArgument(
                f"the request body yielded {type(piece).__name__}, not bytes: a binary body "
                "must be bytes, a binary file or an iterable of bytes"
            )
        if not piece:
            # An empty chunk would end a chunked body.
            continue
        if chunked:
            writer.write(b"%x\r\n" % len(piece))
            writer.write(piece)
            writer.write(_CRLF)
        else:
            writer.write(piece)
        async with asyncio.timeout(write_timeout):
            await writer.drain()
    if chunked:
        writer.write(b"0\r\n\r\n")


async def _read_file(file: Any) -> AsyncGenerator[Any, None]:
    while True:
        piece = await asyncio.to_thread(file.read, CHUNK_SIZE)
        if not piece:
            return
        yield piece


async def _from_sequence(pieces: Iterable[Any]) -> AsyncGenerator[Any, None]:
    for piece in pieces:
        yield piece


async def _in_thread(iterator: Iterator[Any]) -> AsyncGenerator[Any, None]:
    while True:
        piece = await asyncio.to_thread(next, iterator, _END_OF_ITERATION)
        if piece is _END_OF_ITERATION:
            return
        yield piece
