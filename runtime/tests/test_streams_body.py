"""Decoding response bodies read from the socket: chunked, with a length, or until close."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from docker_engine._body import BodyReader
from docker_engine.errors import StreamError


@dataclass
class FakeResponse:
    chunked: bool
    length: int | None = None
    fp: None = None


@dataclass
class FakeSocket:
    """Returns the given pieces from recv(), then b"" (the peer closed)."""

    pieces: list[bytes]
    sizes: list[int] = field(default_factory=list)

    def recv(self, size: int) -> bytes:
        self.sizes.append(size)
        return self.pieces.pop(0) if self.pieces else b""


def read_all(reader: BodyReader) -> bytes:
    payload = b""
    while True:
        data = reader.read()
        if not data:
            return payload
        payload += data


CHUNKED = b"5\r\nhello\r\n1;name=value\r\n \r\na\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"
PAYLOAD = b"hello 0123456789"


def test_body_chunked_every_split_point() -> None:
    for split in range(len(CHUNKED) + 1):
        # recv() returns b"" only at the end, so an empty piece is left out.
        pieces = [piece for piece in (CHUNKED[:split], CHUNKED[split:]) if piece]
        reader = BodyReader(FakeResponse(chunked=True), FakeSocket(pieces))  # type: ignore[arg-type]
        assert read_all(reader) == PAYLOAD, f"split at {split}"
        assert reader.done


def test_body_chunked_one_byte_per_read() -> None:
    pieces = [CHUNKED[i : i + 1] for i in range(len(CHUNKED))]
    assert read_all(BodyReader(FakeResponse(chunked=True), FakeSocket(pieces))) == PAYLOAD  # type: ignore[arg-type]


def test_body_chunked_stops_at_last_chunk() -> None:
    # Bytes after the body are never asked for: the socket would block on them.
    sock = FakeSocket([b"3\r\nabc\r\n0\r\n\r\n"])
    reader = BodyReader(FakeResponse(chunked=True), sock)  # type: ignore[arg-type]
    assert reader.read() == b"abc"
    assert reader.read() == b""
    assert len(sock.sizes) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"5\r\nhel", "before its last chunk, 2 bytes short of the end of a chunk"),
        (b"5\r\nhello\r\n", "ended before its last chunk"),
        (b"zz\r\nhello\r\n", "invalid chunk size line b'zz'"),
        (b"-5\r\nhello\r\n", "invalid chunk size line b'-5'"),
        (b"5\r\nhelloXY\r\n0\r\n\r\n", "followed by b'XY' instead of a line break"),
        (b"5" * 5000, "line longer than 4096 bytes"),
    ],
)
def test_body_chunked_errors(body: bytes, message: str) -> None:
    reader = BodyReader(FakeResponse(chunked=True), FakeSocket([body]))  # type: ignore[arg-type]
    with pytest.raises(StreamError, match=message):
        read_all(reader)


def test_body_content_length() -> None:
    sock = FakeSocket([b"0123", b"456789"])
    reader = BodyReader(FakeResponse(chunked=False, length=10), sock)  # type: ignore[arg-type]
    assert read_all(reader) == b"0123456789"
    assert sock.sizes == [10, 6]


def test_body_content_length_cut() -> None:
    reader = BodyReader(FakeResponse(chunked=False, length=10), FakeSocket([b"0123"]))  # type: ignore[arg-type]
    with pytest.raises(StreamError, match="6 bytes short of its Content-Length"):
        read_all(reader)


def test_body_until_connection_closes() -> None:
    reader = BodyReader(FakeResponse(chunked=False), FakeSocket([b"ab", b"cd"]))  # type: ignore[arg-type]
    assert read_all(reader) == b"abcd"
    assert reader.done
