"""Generated packages pass `mypy --strict` and `black --check`, like hand-written code.

The oldest, a middle and the newest version are checked here to keep the suite fast;
`make typecheck` and `make format-check` cover all 32.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.generated_packages import REPO_ROOT, package_dir

CHECKED_VERSIONS = ("1.25", "1.41", "1.56")


def python_files(version: str) -> list[str]:
    folder = package_dir(version)
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing; run `make generate` first")
    return sorted(str(path) for path in folder.rglob("*.py"))


@pytest.mark.timeout(900)
def test_mypy_strict_passes() -> None:
    packages = [str(package_dir(v) / package_dir(v).name) for v in CHECKED_VERSIONS]
    for version in CHECKED_VERSIONS:
        python_files(version)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *packages],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", CHECKED_VERSIONS)
def test_black_check_passes(version: str) -> None:
    # Files are named one by one: black skips git-ignored folders such as generated/.
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", *python_files(version)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
