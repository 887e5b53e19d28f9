"""Splitting JSON streams: every separator, documents cut anywhere, many per read."""

from __future__ import annotations

import json

import pytest

from docker_engine._jsonseq import JSONSplitter, JSONStreamError

DOCUMENTS = [
    {"status": "start", "id": "abc", "Actor": {"Attributes": {"name": "x"}}},
    {"text": 'braces } { ] [ and "quotes" and \\ backslashes \\" inside'},
    {"nested": [1, [2, [3, {"deep": []}]], {}], "unicode": "caf\u00e9 \u2603"},
    [],
    {"empty": ""},
]

SEPARATORS = {
    "newline": (b"", b"\n"),
    "crlf": (b"", b"\r\n"),
    "nothing": (b"", b""),
    "json-seq": (b"\x1e", b"\n"),
    "record separator only": (b"\x1e", b""),
    "spaces": (b"  ", b" \t "),
}


def encode(documents: list[object], before: bytes, after: bytes) -> bytes:
    return b"".join(before + json.dumps(d).encode() + after for d in documents)


def split_all(pieces: list[bytes]) -> list[object]:
    splitter = JSONSplitter()
    documents: list[object] = []
    for piece in pieces:
        documents.extend(splitter.feed(piece))
    documents.extend(splitter.finish())
    return documents


@pytest.mark.parametrize("separator", SEPARATORS, ids=list(SEPARATORS))
def test_json_many_documents_in_one_read(separator: str) -> None:
    before, after = SEPARATORS[separator]
    assert split_all([encode(DOCUMENTS, before, after)]) == DOCUMENTS


@pytest.mark.parametrize("separator", SEPARATORS, ids=list(SEPARATORS))
def test_json_every_split_point(separator: str) -> None:
    before, after = SEPARATORS[separator]
    body = encode(DOCUMENTS, before, after)
    for split in range(len(body) + 1):
        assert split_all([body[:split], body[split:]]) == DOCUMENTS, f"split at {split}"


def test_json_one_byte_per_read() -> None:
    body = encode(DOCUMENTS, b"", b"\r\n")
    assert split_all([body[i : i + 1] for i in range(len(body))]) == DOCUMENTS


def test_json_document_returned_before_its_newline() -> None:
    splitter = JSONSplitter()
    assert splitter.feed(b'{"Type": "container"') == []
    assert splitter.feed(b', "Action": "create"}') == [{"Type": "container", "Action": "create"}]
    assert splitter.feed(b"\n") == []
    assert not splitter.pending


def test_json_escaped_quote_cut_after_backslash() -> None:
    splitter = JSONSplitter()
    assert splitter.feed(b'{"a": "x\\') == []
    assert splitter.feed(b'"}"') == []
    assert splitter.feed(b'}') == [{"a": 'x"}'}]


def test_json_top_level_scalars() -> None:
    assert split_all([b'1 "two" true\nnull 5']) == [1, "two", True, None, 5]


def test_json_cut_document_at_end_rejected() -> None:
    splitter = JSONSplitter()
    splitter.feed(b'{"a": 1}\n{"b": ')
    assert splitter.pending
    with pytest.raises(JSONStreamError, match="ended inside a JSON document at byte 9"):
        splitter.finish()


def test_json_invalid_document_rejected() -> None:
    splitter = JSONSplitter()
    with pytest.raises(JSONStreamError, match="invalid JSON document at byte 0"):
        splitter.feed(b"{not json}\n")


def test_json_large_document_in_many_reads() -> None:
    document = {"blob": "x" * 300_000, "list": list(range(10_000))}
    body = json.dumps(document).encode()
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    assert split_all(pieces) == [document]
