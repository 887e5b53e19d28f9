"""A spec file named on the command line instead of taken from the manifest.

`python -m generator validate --spec FILE` and `generate --spec FILE` read a development
spec, or a test fixture, straight from disk, and no checksum pins it. Its API version comes from
`--version`, else from its `info.version`, else from its file name (`v1.NN.yaml`). The
project's corrections that name that version apply to it as they do to the archived file
(an out-of-range version such as 9.1 gets none), unless the caller passes an empty list.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.corrections import AppliedCorrection, Correction, apply_corrections
from generator.errors import GeneratorError
from generator.load import load_document
from generator.manifest import display_path, normalize_version
from generator.model import ApiModel, build_model
from generator.validate import Finding, VersionReport, count_operations, validate_document

# The largest archived spec (1.56) is under 0.5 MB. A file more than 30 times that size is
# not a spec, and parsing it would only waste time and memory.
MAX_SPEC_BYTES = 16 * 1024 * 1024

_FILE_NAME_VERSION = re.compile(r"^v(\d+(?:\.\d+)+)\.ya?ml$")
# A generate error lists this many validation errors, while `validate --spec` prints all.
_SHOWN_ERRORS = 20


@dataclass(frozen=True)
class SpecFile:
    """A spec file as loaded, before corrections, with the API version it is generated as."""

    path: Path
    version: str
    document: dict[str, Any]
    sha256: str

    @property
    def label(self) -> str:
        """The file and version as messages name them: "dev/v1.56.yaml (API 1.56)"."""
        return f"{display_path(self.path)} (API {self.version})"


@dataclass(frozen=True)
class SpecCheck:
    """The validation of a spec file: findings, and the corrected document unless a correction failed."""

    findings: tuple[Finding, ...]
    corrected: dict[str, Any] | None
    corrections: tuple[AppliedCorrection, ...]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]


def load_spec_file(path: Path | str, version: str | None = None) -> SpecFile:
    """Read the spec file at `path`; `version` overrides the one the file names.

    Raises GeneratorError for a missing, oversized, empty or unparsable file, and for a
    file whose API version cannot be determined.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise GeneratorError(f"spec file not found: {display_path(path)}") from None
    except OSError as error:
        raise GeneratorError(f"cannot read spec file {display_path(path)}: {error.strerror}") from None
    if path.is_dir():
        raise GeneratorError(f"{display_path(path)} is a folder; --spec takes one spec file")
    if size > MAX_SPEC_BYTES:
        raise GeneratorError(
            f"{display_path(path)}: the file is {size / 1024 / 1024:.1f} MiB, larger than the "
            f"{MAX_SPEC_BYTES // 1024 // 1024} MiB a spec file may have; check that it is a Swagger document"
        )

    document = load_document(path)
    resolved_version = spec_version(path, document, version)
    return SpecFile(
        path=path,
        version=resolved_version,
        document=document,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def spec_version(path: Path, document: dict[str, Any], requested: str | None) -> str:
    """Return the API version of a spec file: `requested`, else /info/version, else the file name."""
    if requested is not None:
        return normalize_version(requested)

    info = document.get("info")
    declared = info.get("version") if isinstance(info, dict) else None
    if isinstance(declared, str):
        try:
            return normalize_version(declared)
        except GeneratorError as error:
            raise GeneratorError(
                f"{display_path(path)}: /info/version: {error}; pass --version"
            ) from None

    match = _FILE_NAME_VERSION.match(path.name)
    if match:
        return match.group(1)
    # YAML reads an unquoted 1.40 as the number 1.4, so a number is not trusted as a version.
    found = "missing" if declared is None else f"{declared!r}, not a quoted string"
    raise GeneratorError(
        f"{display_path(path)}: cannot determine the API version: /info/version is {found}, and the "
        "file name is not v1.NN.yaml; pass --version"
    )


def check_spec(spec: SpecFile, corrections: Sequence[Correction] | None = None) -> SpecCheck:
    """Validate a spec file and apply the corrections for its version to a copy of it.

    `corrections` defaults to the project's file; pass an empty list to validate the file as
    it is. A correction that does not apply is reported as an error finding, and then the
    check has no corrected document.
    """
    findings = validate_document(spec.version, spec.document, corrections)
    corrected = copy.deepcopy(spec.document)
    try:
        applied = apply_corrections(corrected, spec.version, corrections)
    except GeneratorError:
        # validate_document has already reported the failed correction as a finding.
        return SpecCheck(tuple(findings), None, ())
    return SpecCheck(tuple(findings), corrected, tuple(applied))


def version_report(spec: SpecFile, check: SpecCheck) -> VersionReport:
    """Return the validation result in the form `python -m generator validate` prints."""
    definitions = spec.document.get("definitions")
    return VersionReport(
        version=spec.version,
        operations=count_operations(spec.document),
        definitions=len(definitions) if isinstance(definitions, dict) else 0,
        findings=check.findings,
        corrections=check.corrections,
        from_cache=False,
    )


def build_spec_model(spec: SpecFile, corrections: Sequence[Correction] | None = None) -> ApiModel:
    """Validate a spec file and build its intermediate model.

    Raises GeneratorError listing the validation errors, each with its JSON pointer, or
    naming the file and the place that the model cannot be built from.
    """
    return model_from_check(spec, check_spec(spec, corrections))


def model_from_check(spec: SpecFile, check: SpecCheck) -> ApiModel:
    """Build the intermediate model of a spec file that `check` found valid; see `build_spec_model`."""
    errors = check.errors
    if errors or check.corrected is None:
        listed = "\n".join(
            f"  {finding.pointer or '/'}: {finding.message} [{finding.rule}]"
            for finding in errors[:_SHOWN_ERRORS]
        )
        more = f"\n  ... and {len(errors) - _SHOWN_ERRORS} more" if len(errors) > _SHOWN_ERRORS else ""
        raise GeneratorError(
            f"{spec.label}: {len(errors)} validation error(s), so nothing was generated:\n{listed}{more}\n"
            f"run `python -m generator validate --spec {display_path(spec.path)}` for the full report"
        )
    try:
        return build_model(spec.version, check.corrected)
    except GeneratorError as error:
        raise GeneratorError(f"{display_path(spec.path)}: {error}") from None
