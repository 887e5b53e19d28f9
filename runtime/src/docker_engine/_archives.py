"""Container archives: the file information the daemon sends with `GET` and `HEAD` of
`/containers/{id}/archive`."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from docker_engine.errors import StreamError

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"


def path_stat(headers: Mapping[str, str]) -> dict[str, Any]:
    """Decode the X-Docker-Container-Path-Stat header: the name, size, mode, mtime and
    link target of the archived path.

    `headers` is what `containers.archive_info()` returns or a ByteStream's `headers`.
    The daemon encodes the JSON with standard base64, unlike the registry headers.
    """
    value = next(
        (text for name, text in headers.items() if name.lower() == PATH_STAT_HEADER.lower()),
        None,
    )
    if value is None:
        raise StreamError(
            f"the response has no {PATH_STAT_HEADER} header: it is not from the container "
            "archive endpoint"
        )
    try:
        document = json.loads(base64.b64decode(value))
    except ValueError as error:
        raise StreamError(f"the {PATH_STAT_HEADER} header is not base64 of JSON: {error}") from None
    if not isinstance(document, dict):
        raise StreamError(f"the {PATH_STAT_HEADER} header does not encode a JSON object")
    return document
