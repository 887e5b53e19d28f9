"""Generation is all or nothing: a `generate` killed at any moment leaves the old build or the new one.

The kill test runs the real command line in a subprocess, in a temporary copy of the
repository's generator/, templates/ and specs/, and kills it with SIGKILL after a random
delay. Copies of the repository's caches make a run take about two seconds. Two variants of
the README template give two different complete builds, so each killed run switches
between two known tree digests, and `generated` must point at a complete build whose
digest is one of them. The seed is printed; set ATOMIC_GENERATE_SEED to repeat a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import build
from generator.history import build_feature_history
from generator.spec_file import build_spec_model, load_spec_file
from tests.specs_support import SHARED_SPECS, TEST_SPECS

COPIED = ("generator", "templates", "specs")
CACHES = ("specs", "validate", "models", "format-cache.pickle")
VERSIONS = ("1.40", "1.41", "1.44")
KILLS = 20
README_TEMPLATE = Path("templates") / "package" / "README.md.j2"


def tree_digest(root: Path) -> str:
    """Return a digest of every file's path and content below `root`, the stamp included."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def make_workdir(root: Path) -> Path:
    work = root / "repository"
    for name in COPIED:
        shutil.copytree(build.REPO_ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    # Without them a run takes much longer, and the first runs below (not killed) fill them.
    (work / ".cache").mkdir()
    for name in CACHES:
        cached = build.REPO_ROOT / ".cache" / name
        if cached.is_dir():
            shutil.copytree(cached, work / ".cache" / name)
        elif cached.is_file():
            shutil.copy(cached, work / ".cache" / name)
    return work


@dataclass
class Run:
    """One `generate` subprocess: when it wrote its first package, and how it ended."""

    seconds: float
    first_package_at: float | None
    returncode: int
    stderr: str


def run_generate(work: Path, kill_after: float | None = None, *, from_first_package: bool = False) -> Run:
    """Run `generate` in `work`, and with `kill_after` SIGKILL its process group after that many seconds.

    The delay counts from the start, or with `from_first_package` from the moment the run
    reports its first package written.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SPECS_CACHE", "VALIDATE_CACHE", "MODELS_CACHE", "SPECS_FROM")
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "generate", "--from", str(SHARED_SPECS), *VERSIONS],
        cwd=work,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Its own process group, so that the kill reaches black's worker processes too.
        start_new_session=True,
    )
    lines: list[str] = []
    first_package_at: list[float] = []
    first_package = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if not first_package_at and line.split()[:1] == [VERSIONS[0]]:
                first_package_at.append(time.perf_counter() - started)
                first_package.set()
            lines.append(line)
        first_package.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    if kill_after is not None:
        if from_first_package:
            first_package.wait(timeout=300)
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    returncode = process.wait(timeout=300)
    reader.join(timeout=10)
    return Run(time.perf_counter() - started, (first_package_at or [None])[0], returncode, "".join(lines))


def assert_complete_build(work: Path, digests: set[str], context: str) -> str:
    """Check that `generated` points at a complete build with one of `digests`; return its digest."""
    link = work / "generated"
    assert link.is_symlink(), context
    target = build.current_build(link)
    assert target is not None, f"{context}: generated points at a missing folder"
    assert target.parent == work / ".generated", context
    stamp = target / build.STAMP_NAME
    assert stamp.is_file(), f"{context}: the build has no {build.STAMP_NAME}, so it is incomplete"
    assert json.loads(stamp.read_text())["versions"] == list(VERSIONS), context
    digest = tree_digest(target)
    assert digest in digests, f"{context}: the build is neither the old one nor the new one"
    return digest


@pytest.mark.skipif(not SHARED_SPECS.is_dir(), reason=f"spec mirror {SHARED_SPECS} is not on this machine")
def test_killed_generate_leaves_old_or_new_build(tmp_path: Path) -> None:
    seed = int(os.environ.get("ATOMIC_GENERATE_SEED") or time.time_ns() % 2**32)
    print(f"seed {seed}; set ATOMIC_GENERATE_SEED={seed} to repeat this run")
    rng = random.Random(seed)
    work = make_workdir(tmp_path)
    readme = work / README_TEMPLATE
    variants = [readme.read_text(), readme.read_text() + "\nRendered for the atomic generation test.\n"]

    # One complete run per variant gives the digest of each variant's build and the timing.
    digests: list[str] = []
    runs: list[Run] = []
    for text in variants:
        readme.write_text(text)
        run = run_generate(work)
        assert run.returncode == 0, run.stderr
        runs.append(run)
        digests.append(tree_digest(work / "generated"))
    assert digests[0] != digests[1]
    current = 1
    total = runs[-1].seconds
    writing = runs[-1].first_package_at or total / 2
    print(f"a complete run takes {total:.2f} s and writes its first package after {writing:.2f} s")

    outcomes = {"old": 0, "new": 0}
    killed_while_writing = 0
    for attempt in range(KILLS):
        # Half the kills land anywhere in the run. The others land while it writes the build
        # and swaps the link, a few tenths of a second after it reports its first package.
        from_first_package = attempt % 2 == 1
        delay = rng.uniform(0.0, total - writing + 0.05) if from_first_package else rng.uniform(0.0, total)
        target = 1 - current
        readme.write_text(variants[target])

        run = run_generate(work, kill_after=delay, from_first_package=from_first_package)

        start = "the first package" if from_first_package else "the start"
        context = f"seed {seed}, kill {attempt + 1} at {delay:.3f} s after {start} (exit status {run.returncode})"
        if run.returncode == -signal.SIGKILL and run.first_package_at is not None:
            killed_while_writing += 1
        assert run.returncode in (0, -signal.SIGKILL), f"{context}: {run.stderr}"
        digest = assert_complete_build(work, {digests[current], digests[target]}, context)
        if digest == digests[target]:
            outcomes["new"] += 1
            current = target
        else:
            outcomes["old"] += 1
    print(
        f"after {KILLS} kills ({killed_while_writing} after the first package was written): "
        f"{outcomes['old']} left the old build, {outcomes['new']} the new one"
    )

    # The next complete run removes what the killed runs left behind.
    target = 1 - current
    readme.write_text(variants[target])
    run = run_generate(work)
    assert run.returncode == 0, run.stderr
    assert_complete_build(work, {digests[target]}, f"seed {seed}, final run")
    assert [path.name for path in (work / ".generated").iterdir()] == [build.current_build(work / "generated").name]  # type: ignore[union-attr]
    assert not list(work.glob(".generated-link-*"))


def test_two_builds_in_one_second_keep_the_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every build gets the same time stamp, as two quick runs in one process do.
    monkeypatch.setattr(build.time, "strftime", lambda pattern: "20260101-000000")
    spec = load_spec_file(TEST_SPECS / "broken" / "ref-recursive.yaml")
    model = build_spec_model(spec)
    link = tmp_path / "generated"

    for _ in range(3):
        build.generate_spec(
            model,
            build_feature_history([model]),
            origin={"file": str(spec.path), "sha256": spec.sha256},
            link=link,
            format_cache=None,
        )
        target = build.current_build(link)
        assert target is not None
        assert (target / "docker_engine_v9_4" / "pyproject.toml").is_file()

    assert [path.name for path in build.builds_folder(link).iterdir()] == [target.name]
