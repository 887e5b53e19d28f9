"""The field path notation that diff reports, the feature history and the runtime share.

A path names a field inside a body or response schema. Segments are joined by ".", an
array's items are written as "[]" appended to the segment and a map's values as "{}":
"HostConfig.Mounts[].VolumeOptions.Subpath", "NetworkingConfig.EndpointsConfig{}.DriverOpts".
The root of a schema is the empty path, so the items of a top-level array are "[]" and a
field of those items is "[].Id".
"""

from __future__ import annotations

ITEMS = "[]"
VALUES = "{}"


def field_path(parent: str, name: str) -> str:
    """Return the path of the field `name` inside the object at `parent`."""
    return f"{parent}.{name}" if parent else name


def items_path(parent: str) -> str:
    """Return the path of the items of the array at `parent`."""
    return parent + ITEMS


def values_path(parent: str) -> str:
    """Return the path of the values of the map at `parent`."""
    return parent + VALUES


def join_paths(prefix: str, suffix: str) -> str:
    """Return the path `suffix`, given relative to the node at `prefix`, as one path."""
    if not prefix:
        return suffix
    if not suffix or suffix.startswith((ITEMS, VALUES)):
        return prefix + suffix
    return f"{prefix}.{suffix}"


def location(where: str, path: str) -> str:
    """Return a location as users read it: "body HostConfig.Annotations", "response 200"."""
    if not where:
        return path
    return f"{where} {path}" if path else where
