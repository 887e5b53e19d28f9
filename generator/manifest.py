"""The spec manifest: which API versions exist, where each file comes from, and its checksum.

`specs/manifest.toml` pins the upstream repository to one commit and lists, per API version,
the file's path in that repository and the SHA-256 of its content.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "specs" / "manifest.toml"

_VERSION_PATTERN = re.compile(r"^\d+(\.\d+)*$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_PATTERN = re.compile(r"^[0-9a-f]{40}$")


def display_path(path: Path | str) -> str:
    """Return `path` relative to the working directory when it lies below it, for messages."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def version_key(version: str) -> tuple[int, ...]:
    """Return a sort key that orders API versions numerically per component (1.5 < 1.44 < 1.100)."""
    if not _VERSION_PATTERN.match(version):
        raise GeneratorError(
            f"invalid API version {version!r}: expected numbers separated by dots, such as 1.41"
        )
    return tuple(int(part) for part in version.split("."))


def normalize_version(version: str) -> str:
    """Return `version` without surrounding blanks or a leading "v" ("v1.41" -> "1.41")."""
    version = version.strip()
    if version[:1] in ("v", "V"):
        version = version[1:]
    version_key(version)
    return version


@dataclass(frozen=True)
class ManifestEntry:
    """One API version's spec file: its upstream path, checksum and download URL."""

    version: str
    path: str
    sha256: str
    url: str

    @property
    def file_name(self) -> str:
        """Name of the file in a source folder and in the cache, such as `v1.41.yaml`."""
        return f"v{self.version}.yaml"


@dataclass(frozen=True)
class Manifest:
    """The pinned upstream repository and commit, with one entry per API version."""

    repository: str
    commit: str
    raw_url: str
    entries: dict[str, ManifestEntry]
    source_file: Path

    @property
    def versions(self) -> list[str]:
        """All API versions in the manifest, oldest first."""
        return list(self.entries)

    def describe_range(self) -> str:
        """Return the known versions as "1.25 to 1.56" (or the single version) for messages."""
        versions = self.versions
        if not versions:
            return "no versions"
        if len(versions) == 1:
            return versions[0]
        return f"{versions[0]} to {versions[-1]}"

    def select(self, versions: Sequence[str] | None) -> list[ManifestEntry]:
        """Return the entries for `versions` (all entries when None), oldest first, without repeats.

        Raises GeneratorError naming any version the manifest does not list.
        """
        if versions is None:
            return list(self.entries.values())

        wanted = {normalize_version(version) for version in versions}
        unknown = sorted((v for v in wanted if v not in self.entries), key=version_key)
        if unknown:
            raise GeneratorError(
                f"unknown API version {', '.join(unknown)}: {display_path(self.source_file)} lists "
                f"{self.describe_range()}; pick versions from that range"
            )
        return [self.entries[v] for v in sorted(wanted, key=version_key)]


def _require_string(table: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise GeneratorError(
            f"{display_path(path)}: {where} needs a non-empty string `{key}`"
        )
    return value


def parse_manifest(text: str, path: Path) -> Manifest:
    """Parse manifest TOML `text`; `path` is only used in error messages and `source_file`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GeneratorError(f"{display_path(path)}: invalid TOML: {error}") from error

    repository = _require_string(data, "repository", "the manifest", path)
    commit = _require_string(data, "commit", "the manifest", path)
    if not _COMMIT_PATTERN.match(commit):
        raise GeneratorError(
            f"{display_path(path)}: `commit` must be a full 40-character git hash, got {commit!r}"
        )
    raw_url = _require_string(data, "raw_url", "the manifest", path)

    versions = data.get("versions")
    if not isinstance(versions, dict) or not versions:
        raise GeneratorError(f'{display_path(path)}: no [versions."1.NN"] tables found')

    entries: dict[str, ManifestEntry] = {}
    for version in sorted(versions, key=lambda v: _checked_key(v, path)):
        table = versions[version]
        where = f'[versions."{version}"]'
        if not isinstance(table, dict):
            raise GeneratorError(
                f"{display_path(path)}: {where} must be a table with `path` and `sha256`"
            )
        upstream_path = _require_string(table, "path", where, path)
        sha256 = _require_string(table, "sha256", where, path).lower()
        if not _SHA256_PATTERN.match(sha256):
            raise GeneratorError(
                f"{display_path(path)}: {where} `sha256` must be 64 hexadecimal digits, got {sha256!r}"
            )
        url = raw_url.format(commit=commit, path=upstream_path, version=version)
        entries[version] = ManifestEntry(
            version=version, path=upstream_path, sha256=sha256, url=url
        )

    return Manifest(
        repository=repository,
        commit=commit,
        raw_url=raw_url,
        entries=entries,
        source_file=path,
    )


def _checked_key(version: str, path: Path) -> tuple[int, ...]:
    try:
        return version_key(version)
    except GeneratorError as error:
        raise GeneratorError(f"{display_path(path)}: {error}") from error


@functools.lru_cache(maxsize=8)
def _load_manifest_cached(path: Path, mtime_ns: int) -> Manifest:
    return parse_manifest(path.read_text(encoding="utf-8"), path)


def load_manifest(path: Path | None = None) -> Manifest:
    """Load `specs/manifest.toml` (or the manifest at `path`); reloads when the file changes."""
    path = MANIFEST_PATH if path is None else Path(path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as error:
        raise GeneratorError(
            f"cannot read the spec manifest {display_path(path)}: {error.strerror}"
        ) from error
    return _load_manifest_cached(path, mtime_ns)
