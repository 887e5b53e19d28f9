"""Fetching spec files into the local cache, checked against the manifest's SHA-256 sums.

The cache is the git-ignored folder `.cache/specs/` in the repository (env `SPECS_CACHE`
overrides it) and contains one `v1.NN.yaml` per API version. A source is either a local folder
with files named `v1.NN.yaml`, or an http(s) URL. The default source is the upstream
repository's raw-file URL at the commit pinned in `specs/manifest.toml`; env `SPECS_FROM`
replaces that default.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GeneratorError
from generator.manifest import (
    REPO_ROOT,
    Manifest,
    ManifestEntry,
    display_path,
    load_manifest,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
# The largest spec file is about 0.6 MB; this bound stops a wrong URL from filling the disk.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
USER_AGENT = "docker-engine-api-generator (spec fetch)"


@dataclass(frozen=True)
class FetchResult:
    """Outcome of fetching one API version's spec file.

    `status` is "cached" (the cached file already had the right checksum), "copied" (from a
    local folder) or "downloaded" (over http or https). `origin` is the file or URL read,
    or None when cached.
    """

    version: str
    path: Path
    status: str
    origin: str | None
    seconds: float


ProgressCallback = Callable[[FetchResult], None]


def cache_dir() -> Path:
    """Return the spec cache folder: env `SPECS_CACHE`, else `<repo>/.cache/specs`."""
    override = os.environ.get("SPECS_CACHE")
    if override:
        return Path(override).expanduser()
    return REPO_ROOT / ".cache" / "specs"


def cached_path(entry: ManifestEntry) -> Path:
    """Return where `entry`'s file lives in the cache (whether or not it is there yet)."""
    return cache_dir() / entry.file_name


def file_sha256(path: Path) -> str | None:
    """Return the SHA-256 hex digest of the file at `path`, or None if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def resolve_source(source: str | None) -> str | None:
    """Return the effective source: `source`, else env `SPECS_FROM`, else None (the default URL)."""
    if source:
        return source
    return os.environ.get("SPECS_FROM") or None


def describe_source(source: str | None) -> str:
    """Return a short description of `source` for progress lines and messages."""
    if source is None:
        return "the upstream repository at the pinned commit"
    return source


def _check_source(source: str | None) -> None:
    if source is None or is_url(source):
        return
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise GeneratorError(
            f"spec source folder not found: {source}; pass a folder containing v1.NN.yaml files "
            "or an http(s) URL"
        )


def source_location(entry: ManifestEntry, source: str | None, commit: str) -> str:
    """Return the file path or URL that `entry`'s file is read from for `source`.

    A URL source may contain the placeholders {version}, {file_name}, {path} (the upstream
    path) and {commit}; without any, `v1.NN.yaml` is appended to it as to a folder.
    `commit` is the manifest's pinned commit.
    """
    if source is None:
        return entry.url
    if is_url(source):
        if "{" in source:
            return source.format(
                version=entry.version,
                file_name=entry.file_name,
                path=entry.path,
                commit=commit,
            )
        return source.rstrip("/") + "/" + entry.file_name
    return str(Path(source).expanduser() / entry.file_name)


def _read_local(location: str, entry: ManifestEntry) -> bytes:
    path = Path(location)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise GeneratorError(
            f"spec file for API version {entry.version} not found: {location} does not exist; "
            f"the source folder must contain {entry.file_name}"
        ) from None
    except OSError as error:
        raise GeneratorError(
            f"cannot read spec file {location}: {error.strerror}"
        ) from error


def _download(url: str, entry: ManifestEntry, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise GeneratorError(
                f"spec file for API version {entry.version} not found: {url} returned HTTP 404"
            ) from None
        raise GeneratorError(
            f"download of {url} failed: HTTP {error.code} {error.reason}; try again later or pass "
            "--from with a folder of spec files"
        ) from None
    except urllib.error.URLError as error:
        raise GeneratorError(
            f"cannot reach {url}: {error.reason}; check the network, or pass --from with a folder "
            "of spec files"
        ) from None
    except TimeoutError:
        raise GeneratorError(
            f"cannot reach {url}: timed out after {timeout:g} s; check the network, or pass --from "
            "with a folder of spec files"
        ) from None
    except (http.client.HTTPException, ConnectionError) as error:
        raise GeneratorError(f"cannot reach {url}: {error!r}; try again") from None

    if len(data) > MAX_DOWNLOAD_BYTES:
        raise GeneratorError(
            f"download of {url} failed: the response is larger than {MAX_DOWNLOAD_BYTES} bytes, "
            "so it is not a spec file; check the URL"
        )
    return data


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        # mkstemp creates the file readable by its owner only; the cache is ordinary data.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fetch_entry(
    entry: ManifestEntry,
    source: str | None,
    manifest: Manifest,
    *,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> FetchResult:
    """Put `entry`'s spec file into the cache unless a cached copy with the right checksum exists.

    `source` is a folder, a URL, or None for the manifest's URL (env `SPECS_FROM` is not read
    here; see `resolve_source`). `manifest` is the one `entry` comes from. `force` re-reads the file even when the cached copy matches.
    """
    started = time.perf_counter()
    target = cached_path(entry)

    if not force:
        cached_sum = file_sha256(target)
        if cached_sum == entry.sha256:
            return FetchResult(
                entry.version, target, "cached", None, time.perf_counter() - started
            )
        if cached_sum is not None:
            logger.warning(
                "cached %s has sha256 %s, expected %s; fetching it again",
                target,
                cached_sum,
                entry.sha256,
            )

    location = source_location(entry, source, manifest.commit)
    if source is None or is_url(source):
        logger.debug("downloading %s", location)
        data = _download(location, entry, timeout)
        status = "downloaded"
    else:
        data = _read_local(location, entry)
        status = "copied"

    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise GeneratorError(
            f"checksum mismatch for {location} (API version {entry.version}): expected sha256 "
            f"{entry.sha256}, got {actual}; the file is not the one pinned in "
            f"{display_path(manifest.source_file)}"
        )

    _write_atomically(target, data)
    return FetchResult(
        entry.version, target, status, location, time.perf_counter() - started
    )


def fetch_entries(
    source: str | None,
    versions: Sequence[str] | None,
    *,
    force: bool = False,
    manifest: Manifest | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[FetchResult]:
    """Fetch the spec files of `versions` (all when None) and return what happened to each.

    `source` None means env `SPECS_FROM`, else the manifest's URLs. The first failure raises
    GeneratorError; files fetched before it stay in the cache.
    """
    manifest = manifest or load_manifest()
    entries = manifest.select(versions)
    source = resolve_source(source)
    _check_source(source)

    results = []
    for entry in entries:
        result = fetch_entry(entry, source, manifest, force=force, timeout=timeout)
        logger.debug("%s %s from %s", entry.version, result.status, result.origin)
        if progress is not None:
            progress(result)
        results.append(result)
    return results


def fetch_specs(
    source: str | None,
    versions: Sequence[str] | None,
    *,
    force: bool = False,
    manifest: Manifest | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Fetch the spec files of `versions` (all when None) into the cache; return their paths.

    A cached file whose checksum matches is kept unless `force`. Raises GeneratorError on an
    unknown version, a missing file, an unreachable URL or a checksum mismatch.
    """
    results = fetch_entries(
        source, versions, force=force, manifest=manifest, progress=progress
    )
    return [result.path for result in results]


def ensure_specs(
    source: str | None = None,
    versions: Sequence[str] | None = None,
    *,
    manifest: Manifest | None = None,
) -> list[Path]:
    """Return the cached paths of `versions` (all when None), fetching only missing or wrong files.

    Unlike `fetch_specs`, the source is not touched at all when every file is already cached.
    """
    manifest = manifest or load_manifest()
    entries = manifest.select(versions)
    missing = [
        entry.version
        for entry in entries
        if file_sha256(cached_path(entry)) != entry.sha256
    ]
    if missing:
        logger.info(
            "fetching %d spec file(s) missing from %s", len(missing), cache_dir()
        )
        fetch_specs(source, missing, manifest=manifest)
    return [cached_path(entry) for entry in entries]
