"""Benchmark: generate all 32 version packages from a clean state, then rerun with nothing changed.

The generator's sources are copied into a temporary folder so that every cache (fetched
specs, validation results, built models, black's results) starts empty, as in a fresh
clone. Each figure is also given as a ratio to a baseline measured in the same run, because
these machines are noisy: black formatting about 14,000 lines of generated code (one version
package) from scratch, which is the cost the design of the formatter works around.

    python bench/generate_bench.py [--from SPECS]

Goals: full generation under 30 s, a no-change rerun under 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COPIED = ("generator", "templates", "specs", "runtime")


def black_baseline(package: Path) -> tuple[float, int]:
    """Time black on the Python files of one generated package, with black's own cache off."""
    import black

    sources = [path.read_text() for path in sorted(package.rglob("*.py"))]
    lines = sum(source.count("\n") for source in sources)
    started = time.perf_counter()
    for source in sources:
        black.format_str(source, mode=black.Mode())
    return time.perf_counter() - started, lines


def timed_generate(workdir: Path, specs: str, *extra: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "generator", "generate", "--from", specs, *extra],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "SPECS_CACHE"},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"generate failed in {workdir}:\n{result.stderr}")
    print(result.stderr.strip().splitlines()[-1], file=sys.stderr)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from",
        dest="source",
        default=os.environ.get("SPECS_FROM") or str(REPO_ROOT.parent / "shared" / "engine-api-specs"),
        help="folder of v1.NN.yaml spec files (default: $SPECS_FROM, else ../shared/engine-api-specs)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="generate-bench-") as temporary:
        workdir = Path(temporary)
        for name in COPIED:
            shutil.copytree(REPO_ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))

        full = timed_generate(workdir, args.source)
        rerun = timed_generate(workdir, args.source)
        forced = timed_generate(workdir, args.source, "--force")
        baseline, lines = black_baseline(workdir / "generated" / "docker_engine_v1_41")

    print(f"baseline: black on one package ({lines:,} lines) from scratch: {baseline:.2f} s")
    print(f"full generation, clean state:  {full:6.2f} s  = {full / baseline:5.2f} x baseline  (goal < 30 s)")
    print(f"rerun, nothing changed:        {rerun:6.2f} s  = {rerun / baseline:5.2f} x baseline  (goal < 1 s)")
    print(f"forced rerun, caches warm:     {forced:6.2f} s  = {forced / baseline:5.2f} x baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
