"""Built intermediate models, cached on disk so that commands over many API versions start fast.

Parsing, correcting and building the models of all archived specs takes seconds, while
unpickling the built models takes about a second for all of them. A cache entry is keyed by
the spec's SHA-256 from the manifest, the corrections file, and a hash of the generator modules
that shape the model, so a change to any of them rebuilds the entry on the next run.

Entries live in `<repo>/.cache/models/` (env `MODELS_CACHE` overrides it). Deleting that
folder is always safe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from generator.corrections import corrections_digest
from generator.errors import GeneratorError
from generator.fetch import ensure_specs, resolve_source
from generator.load import load_document
from generator.manifest import REPO_ROOT, load_manifest, normalize_version
from generator.model import ApiModel, build_model
from generator.validate import load_spec

logger = logging.getLogger(__name__)

# Modules whose code decides what a built model contains. A change to any of them
# invalidates every entry.
_MODEL_SOURCES = ("model.py", "load.py", "corrections.py", "validate.py", "models_cache.py")


def cache_dir() -> Path:
    """Return the folder of cached models: env `MODELS_CACHE`, else `.cache/models`."""
    override = os.environ.get("MODELS_CACHE")
    return Path(override).expanduser() if override else REPO_ROOT / ".cache" / "models"


def all_versions() -> list[str]:
    """Return every API version that the manifest lists, oldest first."""
    return load_manifest().versions


def load_models(
    versions: Sequence[str], source: str | None = None, *, corrected: bool = True
) -> list[ApiModel]:
    """Return the models of `versions`, in the order given, from the cache or freshly built.

    `corrected` applies specs/corrections.yaml, as generation needs. The diff commands ask
    for the published specs as they are (`corrected=False`): several corrections record
    what daemons were seen to send at only some versions, and would show up as changes
    between those versions and their neighbours.

    `source` is a spec source as `python -m generator fetch --from` takes it (a folder or a
    URL). When None, env `SPECS_FROM` applies, else the upstream repository; the source is
    only read for spec files that `.cache/specs/` lacks. Raises GeneratorError for a version
    the manifest does not list, or a spec that cannot be fetched or loaded.
    """
    manifest = load_manifest()
    source = resolve_source(source)
    normalized = [normalize_version(version) for version in versions]
    entries = {entry.version: entry for entry in manifest.select(normalized)}
    key_suffix = _key_suffix() + ("" if corrected else "-published")

    paths = {
        version: cache_dir() / f"v{version}-{entries[version].sha256[:16]}-{key_suffix}.pickle"
        for version in normalized
    }
    models = {version: _read_entry(paths[version], version) for version in normalized}
    missing = [version for version, model in models.items() if model is None]
    if len(missing) > 1:
        # Parsing YAML dominates a cold start: build the missing models in parallel.
        ensure_specs(source, missing, manifest=manifest)
        workers = max(1, min(os.cpu_count() or 1, len(missing), 4))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            built = pool.map(_build, missing, [source] * len(missing), [corrected] * len(missing))
            models.update(zip(missing, built))
    for version in missing:
        model = models[version]
        if model is None:
            model = models[version] = _build(version, source, corrected)
        _write_entry(paths[version], model)
    return [model for model in models.values() if model is not None]


def store(version: str, sha256: str, model: ApiModel) -> None:
    """Cache `model`, built from the spec file whose SHA-256 is `sha256` with the corrections."""
    _write_entry(cache_dir() / f"v{version}-{sha256[:16]}-{_key_suffix()}.pickle", model)


def _build(version: str, source: str | None, corrected: bool = True) -> ApiModel:
    if corrected:
        return build_model(version, load_spec(version, source).document)
    (path,) = ensure_specs(source, [version])
    return build_model(version, load_document(path))


def _read_entry(path: Path, version: str) -> ApiModel | None:
    try:
        with path.open("rb") as file:
            model = pickle.load(file)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as error:
        logger.warning("ignoring unreadable model cache %s: %s", path, error)
        return None
    if not isinstance(model, ApiModel) or model.version != version:
        logger.warning("ignoring model cache %s: it does not contain API %s", path, version)
        return None
    return model


def _write_entry(path: Path, model: ApiModel) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temporary file and rename it, so that a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".tmp", delete=False) as file:
            pickle.dump(model, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, path)
    except OSError as error:
        # The cache only saves time: a read-only checkout still works without it.
        logger.warning("cannot write model cache %s: %s", path, error)
        return
    _remove_stale_entries(path)


def _remove_stale_entries(current: Path) -> None:
    # Entries of the same version with another key can never be read again.
    version_prefix = current.name.split("-", 1)[0] + "-"
    for other in current.parent.glob(version_prefix + "*.pickle"):
        if other != current:
            try:
                other.unlink()
            except OSError as error:
                logger.debug("cannot remove stale model cache %s: %s", other, error)


def _key_suffix() -> str:
    digest = hashlib.sha256(f"python {sys.version_info[:2]}".encode())
    package = Path(__file__).resolve().parent
    for name in _MODEL_SOURCES:
        try:
            digest.update(name.encode() + b"\0" + (package / name).read_bytes())
        except FileNotFoundError:
            continue
    try:
        digest.update(corrections_digest().encode())
    except GeneratorError:
        # load_spec reports the unreadable corrections file with its own message.
        pass
    return digest.hexdigest()[:16]
