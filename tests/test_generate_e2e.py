"""End to end: generate all 32 versions, import each, and check the build's guarantees.

These tests run the real pipeline on the real specs into a temporary `generated` link, so
they do not disturb the repository's own generated/. Black's results are reused from the
repository's format cache, copied, so that the tests take seconds instead of a minute.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import build
from generator.commands.generate import _build_history, _load_models, _validate
from generator.errors import GeneratorError
from generator.manifest import REPO_ROOT, load_manifest

SPECS = Path(
    os.environ.get("SPECS_FROM") or REPO_ROOT.parent / "shared" / "engine-api-specs"
)

pytestmark = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"no spec folder at {SPECS}; set SPECS_FROM to one"
)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != build.STAMP_NAME:
            digest.update(
                str(path.relative_to(root)).encode() + b"\0" + path.read_bytes()
            )
    return digest.hexdigest()


def run_generate(
    link: Path, cache: Path, versions: list[str] | None = None, **kwargs: object
) -> build.BuildReport:
    options: dict[str, object] = {
        "source": str(SPECS),
        "load_models": _load_models,
        "validate": _validate,
        "build_history": _build_history,
        "link": link,
        "format_cache": cache,
    }
    options.update(kwargs)
    return build.generate(versions, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e")
    cache = root / "format-cache.pickle"
    if build.FORMAT_CACHE.exists():
        shutil.copy(build.FORMAT_CACHE, cache)
    link = root / "generated"
    report = run_generate(link, cache)
    assert not report.up_to_date
    assert len(report.versions) == 32
    return link, cache


def test_every_version_has_a_package(generated: tuple[Path, Path]) -> None:
    link, _ = generated
    names = sorted(path.name for path in link.iterdir() if path.is_dir())
    expected = sorted(
        "docker_engine_v" + v.replace(".", "_") for v in load_manifest().versions
    )
    assert names == expected
    for name in names:
        package = link / name
        assert (package / "pyproject.toml").is_file()
        assert (package / "README.md").is_file()
        assert (package / name / "py.typed").is_file()


def test_every_package_imports(generated: tuple[Path, Path]) -> None:
    link, _ = generated
    folders = sorted(path for path in link.iterdir() if path.is_dir())
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    package = importlib.import_module(name)\n"
        "    models = importlib.import_module(name + '.models')\n"
        "    client = package.Client('unix:///nonexistent/docker.sock')\n"
        "    assert client.containers is not None, name\n"
        "    assert package.API_VERSION == name.removeprefix('docker_engine_v').replace('_', '.')\n"
        "print(len(sys.argv) - 1)\n"
    )
    environment = dict(
        os.environ, PYTHONPATH=os.pathsep.join(str(folder) for folder in folders)
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *(folder.name for folder in folders)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "32"


def test_unchanged_rerun_does_no_work(generated: tuple[Path, Path]) -> None:
    link, cache = generated
    before = os.readlink(link)
    report = run_generate(link, cache)
    assert report.up_to_date
    assert os.readlink(link) == before


def test_forced_rerun_is_byte_identical(generated: tuple[Path, Path]) -> None:
    link, cache = generated
    before = tree_digest(link.resolve())
    report = run_generate(link, cache, force=True)
    assert not report.up_to_date
    assert tree_digest(link.resolve()) == before


def test_failed_generation_leaves_previous_build(generated: tuple[Path, Path]) -> None:
    link, cache = generated
    target = os.readlink(link)
    before = tree_digest(link.resolve())

    def broken_validation(versions: object, source: object) -> None:
        raise GeneratorError(
            "API 1.41: /definitions/Broken: a validation error for the test"
        )

    with pytest.raises(GeneratorError):
        run_generate(link, cache, force=True, validate=broken_validation)
    assert os.readlink(link) == target
    assert tree_digest(link.resolve()) == before

    def broken_history(models: object) -> object:
        raise RuntimeError("a crash halfway through, after validation")

    with pytest.raises(RuntimeError):
        run_generate(link, cache, force=True, build_history=broken_history)
    assert os.readlink(link) == target
    assert tree_digest(link.resolve()) == before
    leftovers = [
        p.name
        for p in (link.parent / ".generated").iterdir()
        if p.name != Path(target).name
    ]
    assert leftovers == []


def test_generating_one_version_keeps_the_others(generated: tuple[Path, Path]) -> None:
    link, cache = generated
    before = tree_digest(link.resolve())
    report = run_generate(link, cache, ["1.41"], force=True)
    assert [v.version for v in report.versions] == ["1.41"]
    assert len(report.carried_over) == 31
    assert tree_digest(link.resolve()) == before


def test_generate_refuses_a_real_folder(tmp_path: Path) -> None:
    folder = tmp_path / "generated"
    folder.mkdir()
    (folder / "keep.txt").write_text("user data")
    with pytest.raises(GeneratorError, match="is a folder"):
        run_generate(folder, None, ["1.41"])
    assert (folder / "keep.txt").read_text() == "user data"


def test_crash_while_writing_leaves_previous_build(
    generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    link, cache = generated
    target = os.readlink(link)
    before = tree_digest(link.resolve())
    written = 0
    write = build._write

    def write_then_fail(path: Path, text: str) -> None:
        nonlocal written
        written += 1
        if written == 50:
            raise OSError(28, "No space left on device (simulated)")
        write(path, text)

    monkeypatch.setattr(build, "_write", write_then_fail)
    with pytest.raises(OSError, match="simulated"):
        run_generate(link, cache, force=True)
    assert os.readlink(link) == target
    assert tree_digest(link.resolve()) == before
    assert sorted(p.name for p in (link.parent / ".generated").iterdir()) == [
        Path(target).name
    ]


def test_carried_over_versions_are_not_up_to_date_after_a_change(
    generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    link, cache = generated
    # Render one version with changed inputs: the other 31 are carried over, rendered with
    # the old inputs, so a later full run must render them again instead of skipping.
    monkeypatch.setattr(build, "fingerprint", lambda manifest: "changed-inputs")
    report = run_generate(link, cache, ["1.41"])
    assert [v.version for v in report.versions] == ["1.41"]
    report = run_generate(link, cache)
    assert not report.up_to_date
    assert len(report.versions) == 32
    assert run_generate(link, cache).up_to_date
