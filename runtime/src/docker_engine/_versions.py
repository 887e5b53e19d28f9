"""API version strings ("1.41") and their numeric order.

API versions compare per component as integers, so 1.5 < 1.44 < 1.100; comparing the
strings would put "1.100" before "1.44".
"""

from __future__ import annotations

import re

from docker_engine.errors import ConfigurationError

_VERSION = re.compile(r"(\d+)\.(\d+)")


def version_key(version: str) -> tuple[int, int]:
    """Return the sortable form of an API version; raise ValueError if it is not "N.N"."""
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        raise ValueError(f"invalid API version {version!r}: expected MAJOR.MINOR, such as '1.41'")
    return int(match.group(1)), int(match.group(2))


def is_valid_version(version: str) -> bool:
    """Tell whether `version` has the form MAJOR.MINOR."""
    return _VERSION.fullmatch(version.strip()) is not None


def version_less(left: str, right: str) -> bool:
    """Tell whether API version `left` is older than `right`."""
    return version_key(left) < version_key(right)


def normalize_pinned_version(version: str, source: str) -> str:
    """Check a pinned API version from `source` and return it without a leading "v"."""
    if not isinstance(version, str):
        raise ConfigurationError(
            f"invalid API version {version!r} from {source}: pass a string such as '1.41', "
            f"not a {type(version).__name__} (1.4 and 1.40 are different versions)",
            source=source,
        )
    text = version.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    if not is_valid_version(text):
        raise ConfigurationError(
            f"invalid API version {version!r} from {source}: expected MAJOR.MINOR, "
            "such as '1.41'",
            source=source,
        )
    major, minor = version_key(text)
    return f"{major}.{minor}"


def distribution_for(version: str) -> str:
    """Return the distribution name of the version package for `version`."""
    major, minor = version_key(version)
    return f"docker-engine-v{major}-{minor}"
