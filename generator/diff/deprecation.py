"""How the Engine API specs mark something deprecated.

Swagger 2.0 has a `deprecated` flag on operations only, and the Engine API specs use none
of it (nor an `x-deprecated` key) up to 1.56. They state deprecations in descriptions, as a
paragraph that starts with the word: "> **Deprecated**: This field is ...",
"**Deprecated**: ...", or "Deprecated: This field is never set ...". The word elsewhere in a
sentence ("the classic (deprecated) builder") describes something else and does not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_MARKER = re.compile(r"^[ \t>]*(?:\*\*|__)?deprecated(?:\*\*|__)?\s*:", re.IGNORECASE | re.MULTILINE)


def states_deprecation(description: str | None, extensions: Mapping[str, Any] | None = None) -> bool:
    """Tell whether a description (or an `x-deprecated` extension) marks its subject deprecated."""
    if extensions and extensions.get("x-deprecated"):
        return True
    return bool(description) and _MARKER.search(description) is not None  # type: ignore[arg-type]
