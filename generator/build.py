"""The `generate` pipeline: validate the specs, render every version package, swap them in.

`generated` is a symbolic link to one complete build under `.generated/`. A run writes a new
build next to the current one and then replaces the link in one `rename`, so a failure or a
kill at any point leaves the previous `generated/` exactly as it was, and readers never see
half a build. Versions not asked for are carried over from the current build as hard links.

A build records the fingerprint of everything that shaped it (spec checksums, corrections,
templates, the generator's own source, black's version). A rerun whose fingerprint matches
does no work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import black

from generator.errors import GeneratorError
from generator.formatting import Formatter
from generator.manifest import REPO_ROOT, Manifest, load_manifest
from generator.model import ApiModel
from generator.plan import FeatureHistory, PackagePlan, plan_package
from generator.render import Renderer, RenderedPackage

log = logging.getLogger(__name__)

GENERATED_LINK = REPO_ROOT / "generated"
FORMAT_CACHE = REPO_ROOT / ".cache" / "format-cache.pickle"
STAMP_NAME = ".build.json"

# Everything whose change must change the output, besides the specs themselves.
_FINGERPRINT_INPUTS = (
    REPO_ROOT / "generator",
    REPO_ROOT / "templates",
    REPO_ROOT / "specs",
)

Progress = Callable[[str], None]


@dataclass
class VersionReport:
    """The counts and time of one generated API version."""

    version: str
    operations: int
    classes: int
    lines: int
    seconds: float


@dataclass
class BuildReport:
    """The outcome of a `generate` run: what it rendered, reused and carried over."""

    up_to_date: bool
    target: Path
    versions: list[VersionReport] = field(default_factory=list)
    carried_over: list[str] = field(default_factory=list)
    formatted_chunks: int = 0
    reused_chunks: int = 0
    seconds: float = 0.0


def fingerprint(manifest: Manifest) -> str:
    """Return a digest of every input that shapes the generated code."""
    digest = hashlib.sha256()
    digest.update(f"black {black.__version__}\n".encode())
    for entry in manifest.select(None):
        digest.update(f"spec {entry.version} {entry.sha256}\n".encode())
    for root in _FINGERPRINT_INPUTS:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"file {path.relative_to(REPO_ROOT)}\n".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def builds_folder(link: Path) -> Path:
    """Return the folder of `link`'s builds: `.generated` beside `generated`, `.out` beside `out`.

    Each link has its own folder, so that generating into two links in one folder never
    removes the build the other one points to.
    """
    return link.parent / f".{link.name}"


def current_build(link: Path = GENERATED_LINK) -> Path | None:
    """Return the build folder that the `generated` link points to, if there is one."""
    if link.is_symlink():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


def read_stamp(build: Path | None) -> dict[str, object]:
    if build is None:
        return {}
    try:
        stamp = json.loads((build / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def generate(
    versions: Sequence[str] | None,
    *,
    source: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    load_models: Callable[[Sequence[str], str | None], list[ApiModel]],
    validate: Callable[[Sequence[str], str | None], None],
    build_history: Callable[[Sequence[ApiModel]], FeatureHistory],
    link: Path = GENERATED_LINK,
    format_cache: Path | None = FORMAT_CACHE,
) -> BuildReport:
    """Render the packages of `versions` (all when None) into a new build and swap it in.

    `link` is the `generated` link to replace; its builds live in `builds_folder(link)`
    beside it. `format_cache` is where black's results persist (None keeps them in memory only).
    """
    started = time.perf_counter()
    say = progress or (lambda line: None)
    manifest = load_manifest()
    entries = manifest.select(versions)
    requested = [entry.version for entry in entries]
    all_versions = manifest.versions

    _ensure_link_layout(link)
    previous = current_build(link)
    stamp = read_stamp(previous)
    digest = fingerprint(manifest)
    previous_versions = _stamp_versions(stamp)
    # A package rendered from a spec file outside the manifest is never up to date.
    spec_files = _stamp_spec_files(stamp)
    manifest_versions = previous_versions - set(spec_files)
    # Each version records the fingerprint it was rendered with: a version carried over
    # from an older build is not up to date just because others were rendered since.
    fingerprints = _stamp_fingerprints(stamp)
    if (
        not force
        and set(requested) <= manifest_versions
        and all(fingerprints.get(version) == digest for version in requested)
    ):
        return BuildReport(up_to_date=True, target=link, seconds=time.perf_counter() - started)

    # Every spec is read, even for one requested version: the feature history of a
    # package depends on all versions before and after it.
    phase = time.perf_counter()
    validate(all_versions, source)
    log.info("validated %d spec(s) in %.2f s", len(all_versions), time.perf_counter() - phase)
    phase = time.perf_counter()
    models = load_models(all_versions, source)
    log.info("loaded %d model(s) in %.2f s", len(models), time.perf_counter() - phase)
    phase = time.perf_counter()
    history = build_history(models)
    log.info("built the feature history in %.2f s", time.perf_counter() - phase)
    by_version = {model.version: model for model in models}

    carried_spec_files = {
        version: origin for version, origin in spec_files.items() if version not in requested
    }
    reports, carried, formatter = _render_and_swap(
        [by_version[version] for version in requested],
        history,
        link=link,
        previous=previous,
        carry=previous_versions - set(requested),
        stamp={"fingerprints": {**fingerprints, **{version: digest for version in requested}}},
        spec_files=carried_spec_files,
        format_cache=format_cache,
        say=say,
    )
    return BuildReport(
        up_to_date=False,
        target=link,
        versions=reports,
        carried_over=sorted(carried),
        formatted_chunks=formatter.formatted_count,
        reused_chunks=formatter.reused_count,
        seconds=time.perf_counter() - started,
    )


def generate_spec(
    model: ApiModel,
    history: FeatureHistory,
    *,
    origin: dict[str, str],
    progress: Progress | None = None,
    link: Path = GENERATED_LINK,
    format_cache: Path | None = FORMAT_CACHE,
) -> BuildReport:
    """Render the package of one spec file's model into a new build and swap it in.

    The spec file is one outside the manifest, already validated and built into `model`;
    `origin` (its file and checksum) is recorded in the build's stamp, so that a later
    `generate` renders that version from the manifest again. The current build's other
    versions are carried over, and its fingerprint is kept, since it still describes them.
    """
    started = time.perf_counter()
    say = progress or (lambda line: None)
    _ensure_link_layout(link)
    previous = current_build(link)
    stamp = read_stamp(previous)
    spec_files = {
        version: recorded for version, recorded in _stamp_spec_files(stamp).items() if version != model.version
    }
    spec_files[model.version] = origin

    reports, carried, formatter = _render_and_swap(
        [model],
        history,
        link=link,
        previous=previous,
        carry=_stamp_versions(stamp) - {model.version},
        stamp={
            "fingerprints": {
                version: recorded
                for version, recorded in _stamp_fingerprints(stamp).items()
                if version != model.version
            }
        },
        spec_files=spec_files,
        format_cache=format_cache,
        say=say,
    )
    return BuildReport(
        up_to_date=False,
        target=link,
        versions=reports,
        carried_over=sorted(carried),
        formatted_chunks=formatter.formatted_count,
        reused_chunks=formatter.reused_count,
        seconds=time.perf_counter() - started,
    )


def _stamp_versions(stamp: dict[str, object]) -> set[str]:
    versions = stamp.get("versions")
    return {version for version in versions if isinstance(version, str)} if isinstance(versions, list) else set()


def _stamp_fingerprints(stamp: dict[str, object]) -> dict[str, str]:
    """Return the fingerprint each version of a build was rendered with."""
    recorded = stamp.get("fingerprints")
    if not isinstance(recorded, dict):
        return {}
    return {version: value for version, value in recorded.items() if isinstance(value, str)}


def _stamp_spec_files(stamp: dict[str, object]) -> dict[str, object]:
    """Return the versions of a build that were rendered from spec files, with their origin."""
    spec_files = stamp.get("spec_files")
    return dict(spec_files) if isinstance(spec_files, dict) else {}


def _render_and_swap(
    models: Sequence[ApiModel],
    history: FeatureHistory,
    *,
    link: Path,
    previous: Path | None,
    carry: set[str],
    stamp: dict[str, object],
    spec_files: dict[str, object],
    format_cache: Path | None,
    say: Progress,
) -> tuple[list[VersionReport], list[str], Formatter]:
    """Render `models` and the carried-over versions into a new build, then point `link` at it.

    Returns the report of each rendered version, the versions carried over from `previous`,
    and the formatter (for its counts). On any failure the new build is removed and `link`
    is left as it was.
    """
    renderer = Renderer()
    rendered: list[RenderedPackage] = []
    reports: list[VersionReport] = []
    for model in models:
        version_started = time.perf_counter()
        plan = plan_package(model, history)
        rendered.append(renderer.render(plan))
        reports.append(
            VersionReport(
                version=model.version,
                operations=len(plan.operations),
                classes=len(plan.classes),
                lines=0,
                seconds=time.perf_counter() - version_started,
            )
        )

    formatter = Formatter(format_cache)
    format_started = time.perf_counter()
    formatter.format_modules(module for package in rendered for module in package.modules.values())
    format_seconds = time.perf_counter() - format_started
    log.info(
        "black formatted %d chunk(s) in %.2f s, reused %d",
        formatter.formatted_count,
        format_seconds,
        formatter.reused_count,
    )

    builds_dir = builds_folder(link)
    builds_dir.mkdir(exist_ok=True)
    # Created before the `try`: the cleanup below must only ever remove a folder this run made.
    build = _new_build_folder(builds_dir)
    try:
        for package, report in zip(rendered, reports):
            report.lines = _write_package(build, package, formatter)
            report.seconds += format_seconds / max(len(rendered), 1)
            say(
                f"{report.version:>5}  {report.operations:4d} operations  {report.classes:4d} models"
                f"  {report.lines:7,d} lines  {report.seconds:5.2f} s"
            )
        carried = _carry_over(previous, build, carry)
        written_versions = sorted(
            {*(model.version for model in models), *carried}, key=lambda v: tuple(map(int, v.split(".")))
        )
        contents: dict[str, object] = {**stamp, "versions": written_versions}
        recorded = stamp.get("fingerprints")
        if isinstance(recorded, dict):
            contents["fingerprints"] = {v: recorded[v] for v in written_versions if v in recorded}
        kept_spec_files = {version: origin for version, origin in spec_files.items() if version in written_versions}
        if kept_spec_files:
            contents["spec_files"] = kept_spec_files
        (build / STAMP_NAME).write_text(json.dumps(contents, indent=2) + "\n")
        _fsync_tree(build)
        _swap_link(link, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    formatter.save()
    _remove_old_builds(builds_dir, keep=build)
    return reports, carried, formatter


def _new_build_folder(builds_dir: Path) -> Path:
    """Create and return a new, empty build folder with a name no other build has."""
    stem = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    attempt = 0
    while True:
        # Two runs in one process within a second get the same stem.
        candidate = builds_dir / (stem if attempt == 0 else f"{stem}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            attempt += 1
            continue
        return candidate


def _write_package(build: Path, package: RenderedPackage, formatter: Formatter) -> int:
    root = build / package.package
    lines = 0
    for relative, module in package.modules.items():
        text = formatter.text(module)
        lines += text.count("\n")
        _write(root / relative, text)
    for relative, text in package.files.items():
        _write(root / relative, text)
    return lines


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _carry_over(previous: Path | None, build: Path, versions: set[str]) -> list[str]:
    """Hard-link the packages of `versions` from the previous build into the new one."""
    from generator.plan import package_name

    carried = []
    for version in versions:
        if previous is None:
            break
        source = previous / package_name(version)
        if not source.is_dir():
            continue
        shutil.copytree(source, build / package_name(version), copy_function=os.link)
        carried.append(version)
    return carried


def _fsync_tree(root: Path) -> None:
    """Flush the new build to disk before the link points at it."""
    if sys.platform == "win32":
        return
    for directory, _, files in os.walk(root):
        for name in files:
            descriptor = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _ensure_link_layout(link: Path) -> None:
    """Refuse to replace a real `generated/` folder that this tool did not make."""
    if link.exists() and not link.is_symlink():
        raise GeneratorError(
            f"{link} is a folder, not the link this generator maintains; "
            "move it away (or delete it) and run generate again"
        )


def _swap_link(link: Path, build: Path) -> None:
    temporary = link.with_name(f".{link.name}-link-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    os.symlink(os.path.relpath(build, link.parent), temporary)
    os.replace(temporary, link)


def _remove_old_builds(builds_dir: Path, keep: Path) -> None:
    for candidate in builds_dir.iterdir():
        if candidate != keep and candidate.name.startswith("build-"):
            shutil.rmtree(candidate, ignore_errors=True)
