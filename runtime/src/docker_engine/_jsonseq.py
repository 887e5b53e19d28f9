"""Splitting a stream of JSON values into documents, whatever separates them.

Events, stats and progress responses are sequences of JSON documents. Depending on the
daemon and API version they arrive as `application/json` (documents one after another,
usually one per line), `application/x-ndjson` or `application/jsonl` (one per line,
ending in `\\n` or `\\r\\n`) or `application/json-seq` (RFC 7464: each document preceded
by the record separator 0x1E). Reads cut documents anywhere, and one read may hold many.

`JSONSplitter` takes all of these without being told which: separators between
documents (whitespace and 0x1E) are skipped, and an object or array is complete at its
closing bracket, so it is returned at once instead of waiting for a newline that a
daemon may send only with the next document.
"""

from __future__ import annotations

import json
import re
from typing import Any

RECORD_SEPARATOR = 0x1E

# Bytes that may separate two documents: JSON whitespace and the RFC 7464 separator.
_SEPARATORS = re.compile(rb"[ \t\r\n\x1e]*")
# Inside an object or array: the bytes that change the nesting depth or start a string.
_STRUCTURE = re.compile(rb'[{}\[\]"]')
# Inside a string: the bytes that may end it.
_STRING_END = re.compile(rb'["\\]')
# The end of a top-level number, literal (true, false, null) or anything else unbracketed.
_SCALAR_END = re.compile(rb"[ \t\r\n\x1e{\[\"]")

# A document larger than this is refused, so that a stream that is not JSON (or a
# string that never closes) cannot grow the buffer without bound.
MAX_DOCUMENT_SIZE = 64 * 1024 * 1024


class JSONStreamError(ValueError):
    """The bytes are not a sequence of JSON documents."""


class JSONSplitter:
    """Cut a byte stream into JSON documents; `feed` returns those it completes, decoded.

    The scan of an incomplete document resumes where it stopped, so a large document
    split into many reads costs time in proportion to its size.
    """

    __slots__ = ("_buffer", "_scan", "_depth", "_in_string", "offset")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan = 0  # where scanning of the document at the buffer's start resumes
        self._depth = 0  # open brackets at `_scan`
        self._in_string = False  # whether `_scan` is inside a string
        # Bytes of the stream consumed before the buffer's start, for error messages.
        self.offset = 0

    @property
    def pending(self) -> bool:
        """True when the bytes fed so far end inside a document."""
        return bool(self._buffer.strip(b" \t\r\n\x1e"))

    def feed(self, data: bytes) -> list[Any]:
        """Take the next bytes of the stream and return the documents they complete."""
        self._buffer += data
        documents: list[Any] = []
        while True:
            document_end = self._find_end()
            if document_end is None:
                break
            documents.append(self._take(document_end))
        if len(self._buffer) > MAX_DOCUMENT_SIZE:
            raise JSONStreamError(
                f"a JSON document at byte {self.offset} of the stream is larger than "
                f"{MAX_DOCUMENT_SIZE} bytes without ending; the stream is probably not JSON"
            )
        return documents

    def finish(self) -> list[Any]:
        """Return the last document when the stream has ended, checking nothing is cut."""
        documents: list[Any] = []
        buffer = self._buffer
        start = _SEPARATORS.match(buffer).end()  # type: ignore[union-attr]
        if start == len(buffer):
            return documents
        if self._depth or self._in_string or buffer[start] in b"{[\"":
            raise JSONStreamError(
                f"the stream ended inside a JSON document at byte {self.offset + start}: "
                f"{_excerpt(bytes(buffer[start:]))}"
            )
        # An unbracketed top-level value (a number or a literal) ends with the stream.
        documents.append(self._take(len(buffer)))
        return documents

    def _find_end(self) -> int | None:
        """Return the end of the first document in the buffer, or None if it is incomplete."""
        buffer = self._buffer
        if self._scan == 0:
            # Skip what separates this document from the previous one.
            start = _SEPARATORS.match(buffer).end()  # type: ignore[union-attr]
            if start:
                del buffer[:start]
                self.offset += start
            if not buffer:
                return None
            first = buffer[0]
            if first not in b"{[\"":
                end = _SCALAR_END.search(buffer, 1)
                return end.start() if end else None
            self._scan = 0
            self._depth = 0
            self._in_string = False

        position = self._scan
        depth = self._depth
        in_string = self._in_string
        size = len(buffer)
        while position < size:
            if in_string:
                match = _STRING_END.search(buffer, position)
                if match is None:
                    position = size
                    break
                position = match.end()
                if buffer[match.start()] == 0x5C:  # a backslash escapes the next byte
                    if position >= size:
                        position -= 1  # look at the backslash again with more bytes
                        break
                    position += 1
                    continue
                in_string = False
                if depth == 0:
                    return self._stop_at(position)
                continue
            match = _STRUCTURE.search(buffer, position)
            if match is None:
                position = size
                break
            byte = buffer[match.start()]
            position = match.end()
            if byte == 0x22:  # '"'
                in_string = True
            elif byte in b"{[":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return self._stop_at(position)
                if depth < 0:
                    raise JSONStreamError(
                        f"unbalanced {chr(byte)!r} at byte {self.offset + match.start()} of "
                        f"the JSON stream: {_excerpt(bytes(buffer))}"
                    )

        self._scan = max(position, 1)
        self._depth = depth
        self._in_string = in_string
        return None

    def _stop_at(self, end: int) -> int:
        self._scan = 0
        self._depth = 0
        self._in_string = False
        return end

    def _take(self, end: int) -> Any:
        buffer = self._buffer
        text = bytes(buffer[:end])
        del buffer[:end]
        offset = self.offset
        self.offset += end
        try:
            return json.loads(text)
        except ValueError as error:
            raise JSONStreamError(
                f"invalid JSON document at byte {offset} of the stream ({error}): "
                f"{_excerpt(text)}"
            ) from None


def _excerpt(text: bytes, limit: int = 200) -> str:
    shown = text[:limit].decode("utf-8", errors="replace")
    return repr(shown + ("..." if len(text) > limit else ""))
