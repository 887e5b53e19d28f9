"""Helpers for the spec pipeline tests: the miniature specs in tests/specs/ and a manifest for them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from generator.manifest import Manifest, parse_manifest

TEST_SPECS = Path(__file__).parent / "specs"
# The mirror of the published specs on the project's machines; tests that need it skip without it.
SHARED_SPECS = Path(__file__).resolve().parents[2] / "shared" / "engine-api-specs"
MINI_VERSIONS = ("9.1", "9.10")
TEST_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_manifest(folder: Path, versions: tuple[str, ...] = MINI_VERSIONS) -> Manifest:
    """Write and parse a manifest for the v<version>.yaml files in `folder`."""
    lines = [
        'repository = "https://example.invalid/widgets"',
        f'commit = "{TEST_COMMIT}"',
        'raw_url = "http://127.0.0.1:9/{commit}/{path}"',
    ]
    for version in versions:
        digest = hashlib.sha256((folder / f"v{version}.yaml").read_bytes()).hexdigest()
        lines += [
            f'[versions."{version}"]',
            f'path = "api/v{version}.yaml"',
            f'sha256 = "{digest}"',
        ]
    path = folder / "manifest.toml"
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return parse_manifest(text, path)
