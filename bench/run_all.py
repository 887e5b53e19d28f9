"""Run every benchmark in bench/, one after another, and print their figures.

Each script measures its own baseline in the same run (these machines are noisy), so the
ratios it prints are what to compare between machines and commits. `make bench` calls this.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


def main() -> int:
    scripts = sorted(path for path in BENCH_DIR.glob("*_bench.py"))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=REPO_ROOT)
        print(f"== {script.name}: exit {result.returncode} in {time.perf_counter() - started:.1f} s\n", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"benchmarks that missed a goal or failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
