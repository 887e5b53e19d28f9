"""Time one diff of two adjacent API versions and the whole history, against baselines from the same run.

Baselines, measured in the same process so that machine load affects both sides alike:
- the time to load the two models of the diff from the model cache;
- the time to load all models from the model cache (for the history).

Goals: one diff under 0.5 s and the whole history (loading all models, every diff, the
changelog and the feature history) under 5 s. Run: `python bench/diff_bench.py [--from DIR]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.commands.history import render_changelog  # noqa: E402
from generator.diff import diff_models  # noqa: E402
from generator.history import build_feature_history  # noqa: E402
from generator.models_cache import all_versions, load_models  # noqa: E402

T = TypeVar("T")

DIFF_GOAL_SECONDS = 0.5
HISTORY_GOAL_SECONDS = 5.0


def best_of(repeats: int, work: Callable[[], T]) -> tuple[float, T]:
    """Return the median time in seconds of `repeats` runs of `work`, and its last result."""
    times = []
    result: T
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", help="spec source for files missing from .cache/specs/")
    parser.add_argument("--old", default="1.43", help="older version of the single diff (default 1.43)")
    parser.add_argument("--new", default="1.44", help="newer version of the single diff (default 1.44)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement; the median is reported")
    args = parser.parse_args()

    versions = all_versions()
    # Warm the model cache so that every measurement reads it, as a second run of a command does.
    load_models(versions, args.source)

    pair_load, (old, new) = best_of(args.repeats, lambda: load_models([args.old, args.new], args.source))
    one_diff, diff = best_of(args.repeats, lambda: diff_models(old, new))
    print(f"baseline: load 2 models ({args.old}, {args.new}) from the cache  {pair_load * 1000:8.1f} ms")
    print(
        f"one diff {args.old} -> {args.new} ({len(diff.changes)} changes)          {one_diff * 1000:8.1f} ms"
        f"  = {one_diff / pair_load:5.2f} x baseline   goal < {DIFF_GOAL_SECONDS * 1000:.0f} ms"
    )

    all_load, models = best_of(args.repeats, lambda: load_models(versions, args.source))

    def whole_history() -> int:
        loaded = load_models(versions, args.source)
        diffs = [diff_models(a, b) for a, b in zip(loaded, loaded[1:])]
        render_changelog(diffs)
        build_feature_history(loaded)
        return sum(len(d.changes) for d in diffs)

    history_time, total = best_of(args.repeats, whole_history)
    diffs_only, _ = best_of(args.repeats, lambda: [diff_models(a, b) for a, b in zip(models, models[1:])])
    feature_only, _ = best_of(args.repeats, lambda: build_feature_history(models))
    print(f"baseline: load {len(versions)} models from the cache              {all_load * 1000:8.1f} ms")
    print(f"  alone: {len(versions) - 1} diffs, no loading                    {diffs_only * 1000:8.1f} ms")
    print(f"  alone: feature history, no loading               {feature_only * 1000:8.1f} ms")
    print(
        f"whole history {versions[0]} -> {versions[-1]} ({total} changes)       {history_time * 1000:8.1f} ms"
        f"  = {history_time / all_load:5.2f} x baseline   goal < {HISTORY_GOAL_SECONDS * 1000:.0f} ms"
    )

    met = one_diff < DIFF_GOAL_SECONDS and history_time < HISTORY_GOAL_SECONDS
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
