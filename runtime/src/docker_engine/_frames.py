"""Container output as the daemon sends it: multiplexed frames, or raw bytes from a TTY.

Without a TTY the daemon multiplexes stdout and stderr into one body of frames. Each frame
is an 8-byte header followed by its payload:

    byte 0      stream id: 0 stdin, 1 stdout, 2 stderr
    bytes 1-3   zero
    bytes 4-7   payload length, big-endian unsigned 32-bit

With a TTY there is one output stream, sent as it comes, with no header at all. Nothing
in the bytes distinguishes the two, so the caller decides from the Content-Type (API 1.42
and later) or from the container's `Tty` setting, never from the first bytes.
"""

from __future__ import annotations

import struct

# Content types of attach, exec and logs responses from API 1.42 on. Older API versions
# send RAW_STREAM_TYPE for both kinds of output.
MULTIPLEXED_STREAM_TYPE = "application/vnd.docker.multiplexed-stream"
RAW_STREAM_TYPE = "application/vnd.docker.raw-stream"

STDIN = "stdin"
STDOUT = "stdout"
STDERR = "stderr"

HEADER_SIZE = 8

# A payload up to this size is returned as one piece once complete. A longer one is
# returned in pieces as its bytes arrive, so that memory stays bounded whatever a header
# announces (up to 4 GiB). The daemon's own frames are much smaller: with Engine 20.10,
# log frames measured at most 16 KiB (json-file and local drivers) and attach frames
# at most 32 KiB.
MAX_HELD_PAYLOAD = 1 << 20
_STREAM_NAMES = (STDIN, STDOUT, STDERR)
_HEADER = struct.Struct(">B3xL")
_HEADER_WORDS = struct.Struct(">LL")


class FrameError(ValueError):
    """The bytes are not a valid multiplexed stream."""


class FrameDecoder:
    """Split a multiplexed body into `(stream, payload)` pairs, fed in pieces of any size.

    `feed` takes the next bytes read from the connection and returns the frames they
    complete, in order. A header or payload cut across two reads is kept until the rest
    arrives. Each returned payload is one whole frame, except that a payload longer than
    MAX_HELD_PAYLOAD is returned in several pieces, each as soon as MAX_HELD_PAYLOAD
    bytes of it have arrived, so memory stays bounded.
    """

    __slots__ = (
        "_header",
        "_stream",
        "_missing",
        "_parts",
        "_held",
        "_received",
        "offset",
        "error",
    )

    def __init__(self) -> None:
        self._header = b""  # the start of a header cut by the end of a read
        self._stream = STDOUT  # the stream of the payload being collected
        self._missing = 0  # bytes of that payload not read yet
        self._parts: list[bytes] = []  # the bytes of that payload read but not returned yet
        self._held = 0  # their total length
        self._received = 0  # bytes of that payload read so far, returned or not
        # Bytes of the body consumed so far, for error messages.
        self.offset = 0
        # The invalid header that stopped decoding; the frames before it were returned.
        self.error: FrameError | None = None

    @property
    def pending(self) -> bool:
        """True when the bytes fed so far end inside a frame."""
        return bool(self._header or self._missing)

    def describe_pending(self) -> str:
        """Describe where the bytes fed so far stop inside a frame."""
        if self._header:
            return f"after {len(self._header)} of the {HEADER_SIZE} bytes of a frame header"
        received = self._received
        return (
            f"{self._missing} bytes short of the end of a {self._stream} frame "
            f"({received} of {received + self._missing} payload bytes received)"
        )

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """Decode `data`, the next bytes of the body; return the frames it completes.

        At an invalid header, decoding stops: `feed` returns the frames before it and
        sets `error`, and raises that error if called again.
        """
        if self.error is not None:
            raise self.error
        frames: list[tuple[str, bytes]] = []
        size = len(data)
        position = 0

        # Finish the frame that the previous read cut.
        if self._missing:
            take = min(self._missing, size)
            self._hold(data[:take], frames)
            self._missing -= take
            position = take
            if self._missing:
                self.offset += size
                return frames
            self._release_held(frames)
        elif self._header:
            need = HEADER_SIZE - len(self._header)
            if size < need:
                self._header += data
                self.offset += size
                return frames
            header = self._header + data[:need]
            self._header = b""
            position = need
            stream, length = self._parse_header(header, self.offset - HEADER_SIZE + need)
            if self.error is not None:
                return frames
            end = position + length
            if end > size:
                self._start_payload(stream, length, data[position:], frames)
                self.offset += size
                return frames
            frames.append((stream, data[position:end]))
            position = end

        # Whole frames within this read. The first header word is the stream id in its
        # top byte and the three zero bytes, checked with one comparison per frame.
        unpack = _HEADER_WORDS.unpack_from
        names = _STREAM_NAMES
        append = frames.append
        while size - position >= HEADER_SIZE:
            word, length = unpack(data, position)
            if word & 0xFFFFFF or word > 0x2000000:
                self._parse_header(data[position : position + HEADER_SIZE], self.offset + position)
                self.offset += position
                return frames
            start = position + HEADER_SIZE
            end = start + length
            if end > size:
                self._start_payload(names[word >> 24], length, data[start:], frames)
                self.offset += size
                return frames
            append((names[word >> 24], data[start:end]))
            position = end

        if position < size:
            self._header = data[position:]
        self.offset += size
        return frames

    def _start_payload(
        self, stream: str, length: int, received: bytes, frames: list[tuple[str, bytes]]
    ) -> None:
        self._stream = stream
        self._parts = []
        self._held = 0
        self._received = 0
        self._missing = length - len(received)
        if received:
            self._hold(received, frames)

    def _hold(self, piece: bytes, frames: list[tuple[str, bytes]]) -> None:
        """Keep a piece of the current payload, returning what is held once it is too much."""
        self._parts.append(piece)
        self._held += len(piece)
        self._received += len(piece)
        if self._held >= MAX_HELD_PAYLOAD:
            self._release_held(frames)

    def _release_held(self, frames: list[tuple[str, bytes]]) -> None:
        if self._parts:
            frames.append((self._stream, b"".join(self._parts)))
        self._parts = []
        self._held = 0

    def _parse_header(self, header: bytes, offset: int) -> tuple[str, int]:
        """Decode a header; for an invalid one, set `error` and return a dummy."""
        stream_id, length = _HEADER.unpack(header)
        if stream_id > 2 or header[1:4] != b"\0\0\0":
            self.error = FrameError(
                f"invalid frame header {header.hex(' ')} at byte {offset} of the body: a "
                "header starts with a stream id of 0, 1 or 2 followed by three zero bytes. "
                "The body is probably raw TTY output read as multiplexed frames"
            )
            return STDOUT, 0
        return _STREAM_NAMES[stream_id], length


def encode_frame(stream: str, payload: bytes) -> bytes:
    """Build one frame, as the daemon does; used by tests and fake daemons."""
    return _HEADER.pack(_STREAM_NAMES.index(stream), len(payload)) + payload
