from __future__ import annotations

import pytest

from docker_engine._versions import normalize_pinned_version, version_key, version_less
from docker_engine.errors import ConfigurationError


@pytest.mark.parametrize(
    "older, newer",
    [("1.5", "1.44"), ("1.44", "1.100"), ("1.9", "1.10"), ("1.41", "1.42"), ("0.99", "1.0")],
)
def test_versions_compare_numerically(older: str, newer: str) -> None:
    assert version_less(older, newer)
    assert not version_less(newer, older)


def test_version_sort_order() -> None:
    versions = ["1.100", "1.5", "1.44", "1.25", "1.9"]
    assert sorted(versions, key=version_key) == ["1.5", "1.9", "1.25", "1.44", "1.100"]


def test_equal_versions_are_not_less() -> None:
    assert not version_less("1.41", "1.41")


@pytest.mark.parametrize("text", ["", "1", "1.x", "v", "1.41.0", "latest"])
def test_version_key_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="MAJOR.MINOR"):
        version_key(text)


def test_pinned_version_normalized() -> None:
    assert normalize_pinned_version("v1.43", "a test") == "1.43"
    assert normalize_pinned_version(" 1.043 ", "a test") == "1.43"


def test_pinned_version_error_names_source() -> None:
    with pytest.raises(ConfigurationError) as raised:
        normalize_pinned_version("latest", "the DOCKER_API_VERSION environment variable")
    assert "'latest'" in str(raised.value)
    assert "DOCKER_API_VERSION" in str(raised.value)
