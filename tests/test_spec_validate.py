"""Tests for generator.validate: located findings, their severity, the cache, and the real specs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from generator import cli
from generator.corrections import load_corrections, parse_corrections
from generator.commands.validate import compress_versions
from generator.load import load_document
from generator.manifest import Manifest
from generator.validate import (
    Finding,
    load_spec,
    validate_document,
    validate_reports,
    validate_versions,
)
from tests.specs_support import MINI_VERSIONS, SHARED_SPECS, TEST_SPECS, make_manifest

needs_mirror = pytest.mark.skipif(
    not SHARED_SPECS.is_dir(),
    reason=f"spec mirror {SHARED_SPECS} is not on this machine",
)


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPECS_CACHE", str(tmp_path / "specs-cache"))
    monkeypatch.setenv("VALIDATE_CACHE", str(tmp_path / "validate-cache"))
    monkeypatch.delenv("SPECS_FROM", raising=False)
    return tmp_path


@pytest.fixture
def mini(tmp_path: Path) -> tuple[Path, Manifest]:
    folder = tmp_path / "mini"
    folder.mkdir()
    for version in MINI_VERSIONS:
        shutil.copy(TEST_SPECS / f"v{version}.yaml", folder)
    shutil.copy(TEST_SPECS / "corrections.yaml", folder)
    return folder, make_manifest(folder)


def _summary(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(finding.severity, finding.rule, finding.pointer) for finding in findings]


def test_x_nullable_default_is_warning() -> None:
    document = load_document(TEST_SPECS / "v9.10.yaml")
    document["definitions"]["Widget"]["properties"]["Labels"].update(
        {"x-nullable": True, "default": None}
    )

    findings = validate_document("9.10", document, [])

    assert _summary(findings) == [
        (
            "warning",
            "x-nullable-default",
            "/definitions/Widget/properties/Labels/default",
        )
    ]
    assert "x-nullable" in findings[0].message
    assert findings[0].version == "9.10"


def test_mistakes_are_located_errors() -> None:
    document = load_document(TEST_SPECS / "invalid.yaml")

    findings = validate_document("9.9", document, [])

    assert _summary(findings) == [
        ("error", "validator-failed", ""),
        ("error", "ref-unresolved", "/definitions/Widget/properties/Owner/$ref"),
        ("error", "schema-invalid", "/definitions/Widget/properties/Size/type"),
        ("error", "swagger-schema", "/definitions/Widget/properties/Size/type"),
        ("error", "required-undeclared", "/definitions/Widget/required/1"),
        ("error", "parameter-type-missing", "/paths/~1widgets/get/parameters/0"),
        ("error", "swagger-schema", "/paths/~1widgets/get/parameters/0"),
        ("error", "default-invalid", "/paths/~1widgets/get/parameters/1/default"),
        ("error", "array-items-missing", "/paths/~1widgets/get/responses/200/schema"),
        ("error", "operation-id-duplicate", "/paths/~1widgets/post/operationId"),
        ("error", "body-parameter-multiple", "/paths/~1widgets/post/parameters/1"),
    ]
    assert "'Name'" in findings[4].message
    assert "'WidgetList' is also used by GET /widgets" in findings[9].message


def test_swagger_version_and_paths_checked() -> None:
    findings = validate_document(
        "9.9", {"swagger": "3.0", "info": {"title": "t", "version": "1"}}, []
    )

    rules = {(finding.rule, finding.pointer) for finding in findings}
    assert ("swagger-version", "/swagger") in rules
    assert ("paths-missing", "/paths") in rules
    assert all(finding.severity == "error" for finding in findings)


def _invalid_without_broken_ref() -> dict[str, Any]:
    document = load_document(TEST_SPECS / "invalid.yaml")
    del document["definitions"]["Widget"]["properties"]["Owner"]
    return document


def test_corrected_problem_is_warning() -> None:
    corrections = parse_corrections(
        {
            "corrections": [
                {
                    "id": "widget-name-not-required",
                    "versions": "9.9",
                    "action": "delete",
                    "pointer": "/definitions/Widget/required/1",
                    "expect": "Name",
                    "reason": "Name is not a property.",
                }
            ]
        },
        "test.yaml",
    )

    findings = validate_document("9.9", _invalid_without_broken_ref(), corrections)

    required = [
        finding for finding in findings if finding.rule == "required-undeclared"
    ]
    assert _summary(required) == [
        ("warning", "required-undeclared", "/definitions/Widget/required/1")
    ]
    assert required[0].message.endswith("corrected by widget-name-not-required")
    assert "validator-failed" not in {finding.rule for finding in findings}


def test_problem_added_by_correction_is_error() -> None:
    corrections = parse_corrections(
        {
            "corrections": [
                {
                    "id": "bad-ref",
                    "versions": "9.10",
                    "action": "set",
                    "pointer": "/definitions/Widget/properties/Labels",
                    "value": {"$ref": "#/definitions/Nowhere"},
                    "reason": "test",
                }
            ]
        },
        "test.yaml",
    )

    findings = validate_document(
        "9.10", load_document(TEST_SPECS / "v9.10.yaml"), corrections
    )

    errors = [finding for finding in findings if finding.rule == "ref-unresolved"]
    assert _summary(errors) == [
        ("error", "ref-unresolved", "/definitions/Widget/properties/Labels/$ref")
    ]
    assert errors[0].message.startswith("after corrections: ")


def test_rotted_correction_is_finding() -> None:
    corrections = parse_corrections(
        {
            "corrections": [
                {
                    "id": "gone",
                    "versions": "9.10",
                    "action": "delete",
                    "pointer": "/definitions/Gone",
                    "reason": "r",
                }
            ]
        },
        "test.yaml",
    )

    findings = validate_document(
        "9.10", load_document(TEST_SPECS / "v9.10.yaml"), corrections
    )

    assert _summary(findings) == [("error", "correction-failed", "")]
    assert "'gone'" in findings[0].message


def test_reports_cached_between_runs(caches: Path, mini: tuple[Path, Manifest]) -> None:
    folder, manifest = mini
    options: dict[str, Any] = {
        "manifest": manifest,
        "corrections_path": folder / "corrections.yaml",
    }

    first = validate_reports(None, str(folder), workers=2, **options)
    second = validate_reports(None, str(folder), **options)

    assert [report.version for report in first] == ["9.1", "9.10"]
    assert [report.from_cache for report in first] == [False, False]
    assert [report.from_cache for report in second] == [True, True]
    assert [report.findings for report in second] == [
        report.findings for report in first
    ]
    assert _summary(list(first[0].findings)) == [
        ("warning", "x-nullable-default", "/definitions/Widget/properties/Tags/default")
    ]
    assert [c.id for c in first[0].corrections] == [
        "widget-ports-are-lists",
        "port-binding-definition",
    ]
    assert (first[0].operations, first[0].definitions) == (2, 1)

    # A change to the corrections file invalidates the cached results.
    path = folder / "corrections.yaml"
    path.write_text(path.read_text() + "\n# edited\n")
    third = validate_reports(["9.10"], str(folder), **options)
    assert [report.from_cache for report in third] == [False]
    assert len(list((caches / "validate-cache").glob("v9.10-*.json"))) == 1
    assert len(list((caches / "validate-cache").glob("v9.1-*.json"))) == 1


def test_load_spec_applies_corrections(
    caches: Path, mini: tuple[Path, Manifest]
) -> None:
    folder, manifest = mini
    corrections = load_corrections(folder / "corrections.yaml")

    spec = load_spec("9.1", str(folder), manifest=manifest, corrections=corrections)

    assert spec.version == "9.1"
    assert spec.path == caches / "specs-cache" / "v9.1.yaml"
    assert "PortBinding" in spec.document["definitions"]
    assert [c.id for c in spec.corrections] == [
        "widget-ports-are-lists",
        "port-binding-definition",
    ]


def test_compress_versions_into_runs() -> None:
    known = ["1.25", "1.26", "1.27", "1.30", "1.31"]

    assert (
        compress_versions(["1.27", "1.25", "1.26", "1.31"], known) == "1.25-1.27, 1.31"
    )
    assert compress_versions(["1.30", "1.31"], known) == "1.30-1.31"


@needs_mirror
def test_validate_command_output(
    caches: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["validate", "--from", str(SHARED_SPECS), "1.41"])

    out, err = capsys.readouterr()
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "version",
        "operations",
        "definitions",
        "warnings",
        "errors",
        "corrections",
    ]
    assert lines[1].split() == ["1.41", "106", "105", "1", "0", "55"]
    assert (
        "1.41 warning /definitions/SwarmInfo/properties/RemoteManagers/default : "
        in out
    )
    assert (
        "container-summary-ports-nullable  1.41  merge /definitions/ContainerSummary/properties/Ports"
        in out
    )
    assert (
        "1 version(s): 0 error(s), 1 warning(s), 55 correction(s) applied; 0 from cache"
        in err
    )


@needs_mirror
def test_validate_command_fails_on_error(
    caches: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rotted = tmp_path / "corrections.yaml"
    rotted.write_text(
        "corrections:\n  - {id: gone, versions: '1.41', action: delete, pointer: /definitions/Gone, reason: r}\n"
    )
    monkeypatch.setattr("generator.validate.CORRECTIONS_PATH", rotted)

    status = cli.main(["validate", "--from", str(SHARED_SPECS), "1.41"])

    out, err = capsys.readouterr()
    assert status == 1
    assert "1.41 error / : correction 'gone'" in out
    assert "validation failed for 1.41" in err


@needs_mirror
def test_all_published_specs_pass() -> None:
    # This uses the project's own caches, so after `make generate` it reads cached results.
    # A cold run validates all 32 versions: about 40 s on the project's 2-core machines.
    findings = validate_versions(None, str(SHARED_SPECS))

    assert list(findings) == [f"1.{minor}" for minor in range(25, 57)]
    errors = [
        finding
        for version_findings in findings.values()
        for finding in version_findings
        if finding.severity == "error"
    ]
    assert errors == []
    for version, version_findings in findings.items():
        remote_managers = [
            f
            for f in version_findings
            if f.pointer == "/definitions/SwarmInfo/properties/RemoteManagers/default"
        ]
        minor = int(version.split(".")[1])
        assert len(remote_managers) == (1 if minor >= 32 else 0), version
