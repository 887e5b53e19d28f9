"""Tests for generator.load: YAML to JSON-compatible data, and clear errors for broken files."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from generator.errors import GeneratorError
from generator.load import load_document, to_json_compatible
from tests.specs_support import TEST_SPECS


def test_response_codes_become_strings() -> None:
    document = load_document(TEST_SPECS / "v9.1.yaml")

    responses = document["paths"]["/widgets"]["get"]["responses"]
    assert list(responses) == ["200", "500"]
    assert list(document["paths"]["/widgets/{id}"]["post"]["responses"]) == ["204"]


def test_dates_stay_as_written() -> None:
    document = load_document(TEST_SPECS / "v9.1.yaml")

    example = document["paths"]["/widgets"]["get"]["responses"]["200"]["examples"]
    # Nanoseconds and the "Z" survive because the loader does not parse timestamps.
    assert example["application/json"][0]["Created"] == "2024-05-06T07:08:09.123456789Z"
    created = document["definitions"]["Widget"]["properties"]["Created"]
    assert created["example"] == "2024-05-06"


def test_document_is_json_serialisable() -> None:
    document = load_document(TEST_SPECS / "v9.1.yaml")

    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_other_scalars_become_json(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(
        "a:\n  404: x\n  true: y\n  ~: z\n  1.5: w\ns: !!set {b, a}\nn: .nan\ni: -.inf\nbin: !!binary aGk=\n"
    )

    document = load_document(path)

    assert document["a"] == {"404": "x", "true": "y", "null": "z", "1.5": "w"}
    assert document["s"] == ["a", "b"]
    assert document["n"] == ".nan"
    assert document["i"] == "-.inf"
    assert document["bin"] == "aGk="


def test_parsed_dates_become_iso_strings() -> None:
    value = {
        "day": datetime.date(2024, 5, 6),
        "moment": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
        200: [datetime.date(2020, 1, 2)],
    }

    assert to_json_compatible(value) == {
        "day": "2024-05-06",
        "moment": "2024-05-06T07:08:09+00:00",
        "200": ["2020-01-02"],
    }


def test_colliding_keys_rejected() -> None:
    with pytest.raises(GeneratorError, match="both mean '200'"):
        to_json_compatible({200: "a", "200": "b"}, "spec.yaml")


def test_syntax_error_has_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("swagger: '2.0'\npaths:\n  /a: [1, 2\ninfo: {}\n")

    with pytest.raises(GeneratorError) as caught:
        load_document(path)

    message = str(caught.value)
    assert str(path) in message
    assert "invalid YAML at line 4, column 5" in message


def test_duplicate_key_rejected(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("swagger: '2.0'\ninfo:\n  title: a\n  title: b\n")

    with pytest.raises(
        GeneratorError, match="duplicate key 'title' at line 4, column 3"
    ):
        load_document(path)


def test_merge_key_override_allowed(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n")

    assert load_document(path)["derived"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a\n", "top level is a list"),
    ],
)
def test_empty_or_not_mapping(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)

    with pytest.raises(GeneratorError, match=expected):
        load_document(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="spec file not found"):
        load_document(tmp_path / "absent.yaml")
