"""Tests for generator.manifest: version ordering, selection and the pinned checksums."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generator.errors import GeneratorError
from generator.manifest import load_manifest, parse_manifest, version_key
from tests.specs_support import SHARED_SPECS


def test_version_key_orders_numerically() -> None:
    versions = ["1.100", "1.44", "1.5", "2.0", "1.9"]

    assert sorted(versions, key=version_key) == ["1.5", "1.9", "1.44", "1.100", "2.0"]
    assert version_key("1.41") == (1, 41)


@pytest.mark.parametrize("bad", ["", "1.", "v1.41", "1.4a", "one"])
def test_version_key_rejects_invalid(bad: str) -> None:
    with pytest.raises(GeneratorError, match="invalid API version"):
        version_key(bad)


def test_manifest_lists_all_versions_in_order() -> None:
    manifest = load_manifest()

    assert manifest.versions == [f"1.{minor}" for minor in range(25, 57)]
    assert manifest.commit == "b985e2313a8676e18072b442911fc8f64f17d440"
    assert manifest.entries["1.41"].path == "api/docs/v1.41.yaml"
    assert manifest.entries["1.56"].path == "api/swagger.yaml"
    assert manifest.entries["1.41"].url.endswith(
        f"/{manifest.commit}/api/docs/v1.41.yaml"
    )


def test_select_all_subset_and_repeats() -> None:
    manifest = load_manifest()

    assert manifest.select(None) == list(manifest.entries.values())
    selected = manifest.select(["1.44", "v1.25", "1.44", "1.30"])
    assert [entry.version for entry in selected] == ["1.25", "1.30", "1.44"]


def test_select_unknown_version_names_it() -> None:
    manifest = load_manifest()

    with pytest.raises(GeneratorError) as caught:
        manifest.select(["1.41", "1.24", "1.99"])

    message = str(caught.value)
    assert "unknown API version 1.24, 1.99" in message
    assert "1.25 to 1.56" in message


def test_parse_manifest_rejects_bad_checksum(tmp_path: Path) -> None:
    text = (
        'repository = "r"\ncommit = "' + "a" * 40 + '"\nraw_url = "u/{path}"\n'
        '[versions."1.41"]\npath = "p"\nsha256 = "xyz"\n'
    )

    with pytest.raises(GeneratorError, match="64 hexadecimal digits"):
        parse_manifest(text, tmp_path / "m.toml")


def test_parse_manifest_rejects_short_commit(tmp_path: Path) -> None:
    text = (
        'repository = "r"\ncommit = "abc"\nraw_url = "u"\n[versions."1.41"]\npath = "p"\nsha256 = "'
        + "0" * 64
        + '"\n'
    )

    with pytest.raises(GeneratorError, match="40-character"):
        parse_manifest(text, tmp_path / "m.toml")


@pytest.mark.skipif(
    not SHARED_SPECS.is_dir(),
    reason=f"spec mirror {SHARED_SPECS} is not on this machine",
)
def test_manifest_checksums_match_mirror() -> None:
    for entry in load_manifest().entries.values():
        data = (SHARED_SPECS / entry.file_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, entry.version
