"""Decoding multiplexed container output: frames cut anywhere, many per read, bad headers."""

from __future__ import annotations

import pytest

from docker_engine._frames import MAX_HELD_PAYLOAD, FrameDecoder, FrameError, encode_frame

FRAMES = [
    ("stdout", b"hello\n"),
    ("stderr", b"oops\n"),
    ("stdout", b""),
    ("stdout", bytes(range(256)) * 3),
    ("stderr", b"\x01\x00\x00\x00\x00\x00\x00\x05 looks like a header"),
    ("stdin", b"x"),
    ("stdout", b"end"),
]
BODY = b"".join(encode_frame(stream, payload) for stream, payload in FRAMES)


def decode(pieces: list[bytes]) -> list[tuple[str, bytes]]:
    decoder = FrameDecoder()
    frames: list[tuple[str, bytes]] = []
    for piece in pieces:
        frames.extend(decoder.feed(piece))
    assert not decoder.pending
    return frames


def test_frames_whole_body_in_one_read() -> None:
    assert decode([BODY]) == FRAMES


def test_frames_every_single_split_point() -> None:
    for split in range(len(BODY) + 1):
        assert decode([BODY[:split], BODY[split:]]) == FRAMES, f"split at byte {split}"


def test_frames_every_pair_of_split_points_near_headers() -> None:
    # Cut twice around each header, so a header spans three reads.
    boundaries = [0]
    for stream, payload in FRAMES:
        boundaries.append(boundaries[-1] + 8 + len(payload))
    points = sorted({p + d for p in boundaries for d in range(-2, 10) if 0 <= p + d <= len(BODY)})
    for first in points:
        for second in points:
            if second < first:
                continue
            pieces = [BODY[:first], BODY[first:second], BODY[second:]]
            assert decode(pieces) == FRAMES, f"splits at {first} and {second}"


def test_frames_one_byte_per_read() -> None:
    assert decode([BODY[i : i + 1] for i in range(len(BODY))]) == FRAMES


def test_frames_large_payload_across_many_reads() -> None:
    payload = bytes(range(251)) * 4000  # about 1 MB
    body = encode_frame("stdout", payload) + encode_frame("stderr", b"tail")
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    assert decode(pieces) == [("stdout", payload), ("stderr", b"tail")]


def test_frames_pending_describes_cut_header() -> None:
    decoder = FrameDecoder()
    decoder.feed(BODY[:3])
    assert decoder.pending
    assert "3 of the 8 bytes of a frame header" in decoder.describe_pending()


def test_frames_pending_describes_cut_payload() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame("stderr", b"0123456789")[:12])
    assert decoder.pending
    assert "6 bytes short" in decoder.describe_pending()
    assert "stderr" in decoder.describe_pending()


@pytest.mark.parametrize(
    "header",
    [
        b"\x03\x00\x00\x00\x00\x00\x00\x01",  # unknown stream id
        b"\x01\x00\x01\x00\x00\x00\x00\x01",  # non-zero padding
        b"Hello fr",  # TTY output read as frames
    ],
)
def test_frames_invalid_header_rejected(header: bytes) -> None:
    decoder = FrameDecoder()
    # The frames before the bad header come out; decoding stops there.
    assert decoder.feed(encode_frame("stdout", b"ok") + header + b"more") == [("stdout", b"ok")]
    assert decoder.error is not None
    assert "invalid frame header" in str(decoder.error)
    assert "at byte 10" in str(decoder.error)
    with pytest.raises(FrameError, match="at byte 10"):
        decoder.feed(b"anything")


def test_frames_invalid_header_cut_across_reads() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame("stderr", b"e") + b"\x01\x00")
    assert decoder.feed(b"\x07\x00\x00\x00\x00\x01x") == []
    assert decoder.error is not None
    assert "at byte 9" in str(decoder.error)


def test_frames_huge_payload_returned_in_pieces() -> None:
    # A header announcing 4 GiB - 1 must not make the decoder hold the payload.
    decoder = FrameDecoder()
    pieces = decoder.feed(b"\x01\x00\x00\x00\xff\xff\xff\xff" + b"x" * 1000)
    block = b"y" * (256 * 1024)
    for _ in range(8):
        pieces += decoder.feed(block)
    assert all(stream == "stdout" for stream, _ in pieces)
    assert sum(len(data) for _, data in pieces) == 1000 + 8 * len(block)
    assert max(len(data) for _, data in pieces) <= MAX_HELD_PAYLOAD + len(block)
    assert decoder.pending
    assert "stdout frame" in decoder.describe_pending()
