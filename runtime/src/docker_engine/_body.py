"""Reading a streamed response body straight from the socket.

http.client reads a chunked body through an 8 KiB buffer, with several calls and
system calls per chunk, and the daemon sends one chunk per frame or JSON document. For
logs that is the bottleneck, so streams read the socket in blocks of up to CHUNK_SIZE
and decode the transfer coding here: chunked, with a Content-Length, or ending when the
daemon closes the connection.
"""

from __future__ import annotations

import http.client
from typing import Any

from docker_engine.errors import StreamError

CHUNK_SIZE = 256 * 1024

# A chunk-size line or trailer line longer than this is not HTTP.
MAX_LINE = 4096


class BodyReader:
    """Return the payload of a response body in pieces, after http.client read its headers.

    `read()` returns the next payload bytes, as many as one socket read provides, and
    b"" at the end of the body. A body that ends early raises StreamError.
    """

    def __init__(self, response: http.client.HTTPResponse, sock: Any) -> None:
        self._sock = sock
        self._pending = take_buffered(response.fp, sock)
        self._chunked = bool(response.chunked)
        self._length: int | None = None if self._chunked else response.length
        self.done = False

        # Chunked decoding state.
        self._chunk_left = 0  # payload bytes of the current chunk not read yet
        self._after_chunk = False  # a CRLF must follow the payload just read
        self._in_trailer = False  # the last chunk was read; trailer lines follow
        self._line = b""  # the start of a size or trailer line cut by a read

    def read(self) -> bytes:
        """Return the next payload bytes; b"" once the body has ended."""
        while not self.done:
            if self._length is not None and self._length <= 0:
                self.done = True
                break
            data = self._next_data()
            if not data:
                if self._chunked or self._length is not None:
                    raise StreamError(self._describe_cut())
                self.done = True  # the body ends with the connection
                break
            if not self._chunked:
                if self._length is not None:
                    data = data[: self._length]
                    self._length -= len(data)
                return data
            payload = self._decode_chunked(data)
            if payload:
                return payload
        return b""

    def _next_data(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        size = CHUNK_SIZE if self._length is None else min(CHUNK_SIZE, self._length)
        return self._sock.recv(size)  # type: ignore[no-any-return]

    def _decode_chunked(self, data: bytes) -> bytes:
        """Decode the chunked coding of `data`; return the payload bytes it contains."""
        if self._line:
            data = self._line + data
            self._line = b""
        view = memoryview(data)
        pieces: list[memoryview] = []
        position = 0
        size = len(data)
        while position < size:
            if not (self._chunk_left or self._after_chunk or self._in_trailer):
                position = self._whole_chunks(data, view, position, pieces)
                if position >= size:
                    break

            if self._chunk_left:
                end = min(size, position + self._chunk_left)
                pieces.append(view[position:end])
                self._chunk_left -= end - position
                position = end
                if not self._chunk_left:
                    self._after_chunk = True
                continue

            if self._after_chunk and data.startswith(b"\r\n", position):
                # The usual end of a chunk, without looking for the line's end.
                self._after_chunk = False
                position += 2
                continue

            newline = data.find(b"\n", position)
            if newline < 0:
                self._line = data[position:]
                if len(self._line) > MAX_LINE:
                    raise StreamError(
                        f"the chunked body has a line longer than {MAX_LINE} bytes: "
                        f"{self._line[:40]!r}..."
                    )
                break
            line = data[position:newline].rstrip(b"\r")
            position = newline + 1

            if self._after_chunk:
                if line:
                    raise StreamError(
                        f"a chunk of the chunked body is followed by {line[:40]!r} instead "
                        "of a line break"
                    )
                self._after_chunk = False
            elif self._in_trailer:
                if not line:
                    self.done = True
                    break
            else:
                chunk_size = _chunk_size(line)
                if chunk_size == 0:
                    self._in_trailer = True
                else:
                    self._chunk_left = chunk_size
        return b"".join(pieces)

    @staticmethod
    def _whole_chunks(
        data: bytes, view: memoryview, position: int, pieces: list[memoryview]
    ) -> int:
        """Take the chunks that lie whole in `data` from `position` on, with few steps
        per chunk. Return where the first chunk that needs the general path starts."""
        size = len(data)
        find = data.find
        append = pieces.append
        while True:
            line_end = find(b"\r\n", position, position + 18)
            if line_end < 0:
                return position
            try:
                chunk_size = int(data[position:line_end], 16)
            except ValueError:
                return position  # extensions or an invalid line: the general path
            start = line_end + 2
            end = start + chunk_size
            if chunk_size <= 0 or end + 2 > size or data[end : end + 2] != b"\r\n":
                return position
            append(view[start:end])
            position = end + 2

    def _describe_cut(self) -> str:
        if self._length is not None:
            return f"the body ended {self._length} bytes short of its Content-Length"
        if self._chunk_left:
            return (
                "the chunked body ended before its last chunk, "
                f"{self._chunk_left} bytes short of the end of a chunk"
            )
        return "the chunked body ended before its last chunk"


def _chunk_size(line: bytes) -> int:
    """Parse a chunk-size line: hexadecimal digits, maybe followed by ";extensions"."""
    try:
        size = int(line.split(b";", 1)[0], 16)
    except ValueError:
        size = -1
    if size < 0:
        raise StreamError(f"invalid chunk size line {line[:40]!r} in the chunked body")
    return size


def take_buffered(fp: Any, sock: Any) -> bytes:
    """Return the bytes http.client's file object read past the response headers.

    Body bytes that arrived with the headers sit in that buffer, and a stream then reads
    the socket directly. The socket is non-blocking meanwhile, so an empty buffer costs
    one read that returns at once.
    """
    if fp is None:
        return b""
    previous_timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        data = fp.peek()
    except OSError:
        # Nothing has arrived yet (BlockingIOError, or ssl.SSLWantReadError over TLS).
        data = b""
    finally:
        sock.settimeout(previous_timeout)
    if data:
        fp.read(len(data))
    return bytes(data)
