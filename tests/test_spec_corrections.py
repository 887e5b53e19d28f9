"""Tests for generator.corrections: each action, version ranges, and corrections that rot."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from generator.corrections import (
    Correction,
    apply_corrections,
    load_corrections,
    parse_corrections,
    resolve_pointer,
)
from generator.errors import GeneratorError
from generator.load import load_document
from tests.specs_support import SHARED_SPECS, TEST_SPECS


def _document() -> dict[str, Any]:
    return {
        "definitions": {
            "Summary": {
                "type": "array",
                "items": {"type": "object", "properties": {"Id": {"type": "string"}}},
            },
            "Item": {"type": "object", "required": ["Id", "Ghost"], "x-nullable": True},
            "a/b": {"type": "string"},
        }
    }


def _corrections(*entries: dict[str, Any]) -> list[Correction]:
    base = {"versions": "1.25-1.34", "reason": "test"}
    return parse_corrections(
        {"corrections": [{**base, **entry} for entry in entries]}, "test.yaml"
    )


def test_set_replaces_value() -> None:
    document = _document()
    corrections = _corrections(
        {
            "id": "s",
            "action": "set",
            "pointer": "/definitions/a~1b/type",
            "value": "integer",
        }
    )

    applied = apply_corrections(document, "1.30", corrections)

    assert document["definitions"]["a/b"] == {"type": "integer"}
    assert [(c.id, c.version, c.action, c.pointer) for c in applied] == [
        ("s", "1.30", "set", "/definitions/a~1b/type")
    ]


def test_add_inserts_and_appends() -> None:
    document = _document()
    corrections = _corrections(
        {
            "id": "new-key",
            "action": "add",
            "pointer": "/definitions/Item/properties",
            "value": {},
        },
        {
            "id": "append",
            "action": "add",
            "pointer": "/definitions/Item/required/-",
            "value": "Name",
        },
        {
            "id": "insert",
            "action": "add",
            "pointer": "/definitions/Item/required/0",
            "value": "First",
        },
    )

    apply_corrections(document, "1.25", corrections)

    assert document["definitions"]["Item"]["properties"] == {}
    assert document["definitions"]["Item"]["required"] == [
        "First",
        "Id",
        "Ghost",
        "Name",
    ]


def test_add_existing_key_rejected() -> None:
    corrections = _corrections(
        {
            "id": "twice",
            "action": "add",
            "pointer": "/definitions/Item/type",
            "value": "x",
        }
    )

    with pytest.raises(GeneratorError, match="already exists"):
        apply_corrections(_document(), "1.25", corrections)


def test_merge_patches_nested_and_deletes() -> None:
    document = _document()
    corrections = _corrections(
        {
            "id": "m",
            "action": "merge",
            "pointer": "/definitions/Summary",
            "value": {
                "x-nullable": True,
                "items": {"properties": {"Id": {"x-go-name": "ID"}}},
                "type": None,
            },
        }
    )

    apply_corrections(document, "1.25", corrections)

    summary = document["definitions"]["Summary"]
    assert summary["x-nullable"] is True
    assert "type" not in summary
    assert summary["items"]["properties"]["Id"] == {"type": "string", "x-go-name": "ID"}


def test_delete_key_and_list_item() -> None:
    document = _document()
    corrections = _corrections(
        {"id": "key", "action": "delete", "pointer": "/definitions/Item/x-nullable"},
        {
            "id": "item",
            "action": "delete",
            "pointer": "/definitions/Item/required/1",
            "expect": "Ghost",
        },
    )

    apply_corrections(document, "1.34", corrections)

    assert document["definitions"]["Item"] == {"type": "object", "required": ["Id"]}


def test_move_hoists_child() -> None:
    document = _document()
    items = copy.deepcopy(document["definitions"]["Summary"]["items"])
    corrections = _corrections(
        {
            "id": "hoist",
            "action": "move",
            "from": "/definitions/Summary/items",
            "pointer": "/definitions/Summary",
        }
    )

    apply_corrections(document, "1.25", corrections)

    assert document["definitions"]["Summary"] == items


def test_move_to_new_place() -> None:
    document = _document()
    corrections = _corrections(
        {
            "id": "name-it",
            "action": "move",
            "from": "/definitions/Summary/items",
            "pointer": "/definitions/One",
        }
    )

    apply_corrections(document, "1.25", corrections)

    assert document["definitions"]["One"]["properties"] == {"Id": {"type": "string"}}
    assert "items" not in document["definitions"]["Summary"]


def test_move_onto_existing_rejected_whole() -> None:
    document = _document()
    before = copy.deepcopy(document)
    corrections = _corrections(
        {
            "id": "clash",
            "action": "move",
            "from": "/definitions/Summary/items",
            "pointer": "/definitions/Item",
        }
    )

    with pytest.raises(GeneratorError, match="already exists"):
        apply_corrections(document, "1.25", corrections)
    assert document == before


@pytest.mark.parametrize(
    "entry",
    [
        {
            "id": "set-gone",
            "action": "set",
            "pointer": "/definitions/Gone/type",
            "value": "x",
        },
        {
            "id": "merge-gone",
            "action": "merge",
            "pointer": "/definitions/Gone",
            "value": {"a": 1},
        },
        {
            "id": "delete-gone",
            "action": "delete",
            "pointer": "/definitions/Item/required/5",
        },
        {
            "id": "add-no-parent",
            "action": "add",
            "pointer": "/definitions/Gone/type",
            "value": "x",
        },
        {
            "id": "move-gone",
            "action": "move",
            "from": "/definitions/Gone",
            "pointer": "/definitions/New",
        },
    ],
)
def test_rotted_pointer_is_error(entry: dict[str, Any]) -> None:
    corrections = _corrections(entry)

    with pytest.raises(GeneratorError) as caught:
        apply_corrections(_document(), "1.30", corrections)

    message = str(caught.value)
    assert f"correction {entry['id']!r}" in message
    assert "API version 1.30" in message
    assert "does not exist" in message


def test_expect_mismatch_is_error() -> None:
    corrections = _corrections(
        {
            "id": "pinned",
            "action": "delete",
            "pointer": "/definitions/Item/required/0",
            "expect": "Ghost",
        }
    )

    with pytest.raises(
        GeneratorError, match=r'the value at /definitions/Item/required/0 is "Id"'
    ):
        apply_corrections(_document(), "1.25", corrections)


def test_versions_outside_range_skipped() -> None:
    document = _document()
    corrections = parse_corrections(
        {
            "corrections": [
                {
                    "id": "range",
                    "versions": "1.5-1.9",
                    "action": "delete",
                    "pointer": "/definitions/a~1b",
                    "reason": "r",
                },
                {
                    "id": "listed",
                    "versions": ["1.44", "1.50-1.52"],
                    "action": "delete",
                    "pointer": "/definitions/Item",
                    "reason": "r",
                },
            ]
        },
        "test.yaml",
    )

    # 1.44 sorts after 1.9 numerically, so only the listed correction applies.
    applied = apply_corrections(document, "1.44", corrections)

    assert [correction.id for correction in applied] == ["listed"]
    assert "a/b" in document["definitions"]
    assert [c.id for c in apply_corrections(_document(), "1.51", corrections)] == [
        "listed"
    ]
    assert [c.id for c in apply_corrections(_document(), "1.7", corrections)] == [
        "range"
    ]
    assert apply_corrections(_document(), "1.53", corrections) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {
                "id": "x",
                "versions": 1.4,
                "action": "delete",
                "pointer": "/a",
                "reason": "r",
            },
            "quote versions",
        ),
        (
            {
                "id": "x",
                "versions": "1.30-1.25",
                "action": "delete",
                "pointer": "/a",
                "reason": "r",
            },
            "ends before",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "rename",
                "pointer": "/a",
                "reason": "r",
            },
            "`action` must be",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "delete",
                "pointer": "a",
                "reason": "r",
            },
            "must be empty or start",
        ),
        (
            {"id": "x", "versions": "1.25", "action": "delete", "pointer": "/a"},
            "`reason` is missing",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "set",
                "pointer": "/a",
                "reason": "r",
            },
            "needs a `value`",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "merge",
                "pointer": "/a",
                "value": 1,
                "reason": "r",
            },
            "mapping",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "move",
                "pointer": "/a",
                "reason": "r",
            },
            "`from` is required",
        ),
        (
            {
                "id": "x",
                "versions": "1.25",
                "action": "delete",
                "pointer": "/a",
                "reason": "r",
                "vaule": 1,
            },
            "unknown key",
        ),
        (
            {
                "id": "Bad Id",
                "versions": "1.25",
                "action": "delete",
                "pointer": "/a",
                "reason": "r",
            },
            "`id` must be",
        ),
    ],
)
def test_invalid_entries_rejected(entry: dict[str, Any], expected: str) -> None:
    with pytest.raises(GeneratorError, match=expected):
        parse_corrections({"corrections": [entry]}, "test.yaml")


def test_duplicate_ids_rejected() -> None:
    entry = {
        "id": "same",
        "versions": "1.25",
        "action": "delete",
        "pointer": "/a",
        "reason": "r",
    }

    with pytest.raises(GeneratorError, match="used twice"):
        parse_corrections({"corrections": [entry, entry]}, "test.yaml")


def test_corrections_file_applies_to_mini_specs() -> None:
    corrections = load_corrections(TEST_SPECS / "corrections.yaml")
    old = load_document(TEST_SPECS / "v9.1.yaml")
    new = load_document(TEST_SPECS / "v9.10.yaml")

    old_applied = apply_corrections(old, "9.1", corrections)
    new_applied = apply_corrections(new, "9.10", corrections)

    assert [c.id for c in old_applied] == [
        "widget-ports-are-lists",
        "port-binding-definition",
    ]
    assert (
        resolve_pointer(
            old, "/definitions/Widget/properties/Ports/additionalProperties/type"
        )
        == "array"
    )
    assert [c.id for c in new_applied] == ["widget-labels-nullable"]
    assert new["definitions"]["Widget"]["properties"]["Labels"]["x-nullable"] is True


@pytest.mark.skipif(
    not SHARED_SPECS.is_dir(),
    reason=f"spec mirror {SHARED_SPECS} is not on this machine",
)
def test_project_corrections_fix_known_mistakes() -> None:
    old = load_document(SHARED_SPECS / "v1.25.yaml")
    middle = load_document(SHARED_SPECS / "v1.33.yaml")
    new = load_document(SHARED_SPECS / "v1.47.yaml")

    apply_corrections(old, "1.25")
    apply_corrections(middle, "1.33")
    apply_corrections(new, "1.47")

    summary = old["definitions"]["ContainerSummary"]
    assert summary["type"] == "object"
    assert summary["properties"]["Ports"]["x-nullable"] is True
    list_schema = old["paths"]["/containers/json"]["get"]["responses"]["200"]["schema"]
    assert list_schema == {
        "type": "array",
        "items": {"$ref": "#/definitions/ContainerSummary"},
    }
    bindings = old["definitions"]["HostConfig"]["allOf"][1]["properties"][
        "PortBindings"
    ]["additionalProperties"]
    assert bindings == {
        "type": "array",
        "x-nullable": True,
        "items": {"$ref": "#/definitions/PortBinding"},
    }
    assert set(old["definitions"]["PortBinding"]["properties"]) == {
        "HostIp",
        "HostPort",
    }

    middle_bindings = middle["definitions"]["HostConfig"]["allOf"][1]["properties"][
        "PortBindings"
    ]
    assert middle_bindings == {"$ref": "#/definitions/PortMap"}
    assert (
        middle["definitions"]["PortMap"]["additionalProperties"]["x-nullable"] is True
    )
    assert "x-nullable" not in middle["definitions"]["PortBinding"]

    assert (
        "UnpackedSize"
        not in new["definitions"]["ImageManifestSummary"]["properties"]["ImageData"][
            "required"
        ]
    )
