"""`python -m generator fetch`: download or copy spec files into the cache, checking their sums."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from generator.fetch import (
    FetchResult,
    cache_dir,
    describe_source,
    fetch_entries,
    resolve_source,
)
from generator.manifest import display_path

HELP = "download or copy the spec files into .cache/specs/, checking each SHA-256 sum"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="folder with v1.NN.yaml files, or an http(s) URL base "
        "(default: env SPECS_FROM, else the upstream repository at the pinned commit)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="fetch again even when the cached file's checksum matches",
    )
    parser.add_argument(
        "versions",
        nargs="*",
        metavar="VERSION",
        help="API versions such as 1.41 (default: all)",
    )


def _print_progress(result: FetchResult) -> None:
    if result.status == "cached":
        line = f"{result.version:<5} cached"
    else:
        line = f"{result.version:<5} {result.status} from {result.origin} ({result.seconds:.2f} s)"
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    source = resolve_source(args.source)
    results = fetch_entries(
        source, args.versions or None, force=args.force, progress=_print_progress
    )

    counts = Counter(result.status for result in results)
    parts = [
        f"{counts[status]} {status}"
        for status in ("downloaded", "copied", "cached")
        if counts[status]
    ]
    elapsed = time.perf_counter() - started
    print(
        f"{len(results)} spec file(s) in {display_path(cache_dir())}: {', '.join(parts)}; "
        f"source {describe_source(source)}; {elapsed:.2f} s",
        file=sys.stderr,
    )
    return 0
