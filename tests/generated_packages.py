"""Access to the packages in generated/, for tests that import them.

The packages are built by `make generate` (which `make test` runs first). A test that needs
one calls `import_package(version)`, which puts the package's folder on `sys.path`; when
generated/ lacks it, the test is skipped with the command that makes it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATED = REPO_ROOT / "generated"


def package_dir(version: str) -> Path:
    """Return the distribution folder of a version package: generated/docker_engine_v1_NN."""
    return GENERATED / ("docker_engine_v" + version.replace(".", "_"))


def import_package(version: str) -> ModuleType:
    """Import the generated package of `version`, or skip the test when it is missing."""
    folder = package_dir(version)
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing; run `make generate` first")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(folder.name)


def generated_versions() -> list[str]:
    """Return the API versions that generated/ has packages for, oldest first."""
    if not GENERATED.is_dir():
        return []
    versions = [
        path.name.removeprefix("docker_engine_v").replace("_", ".")
        for path in GENERATED.iterdir()
        if path.name.startswith("docker_engine_v") and path.is_dir()
    ]
    return sorted(versions, key=lambda v: tuple(int(part) for part in v.split(".")))
