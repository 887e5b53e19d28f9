"""`python -m generator matrix --html FILE`: a page of operations by API version."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generator.commands._models import add_source_argument, load_models_with_progress
from generator.commands.history import select_versions
from generator.diff import diff_models
from generator.diff.matrix import build_matrix, render_matrix_html
from generator.errors import GeneratorError

HELP = "write one self-contained HTML page showing, per operation and API version, what changed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    parser.add_argument("--oldest", metavar="VERSION", help="first API version column (default: the oldest)")
    parser.add_argument("--newest", metavar="VERSION", help="last API version column (default: the newest)")
    add_source_argument(parser)


def run(args: argparse.Namespace) -> int:
    versions = select_versions(args.oldest, args.newest)
    models = load_models_with_progress(versions, args.source)

    started = time.perf_counter()
    diffs = [diff_models(old, new) for old, new in zip(models, models[1:])]
    matrix = build_matrix(models, diffs)
    page = render_matrix_html(matrix)
    try:
        args.html.write_text(page, encoding="utf-8")
    except OSError as error:
        raise GeneratorError(f"cannot write {args.html}: {error.strerror}; pick a writable path for --html") from error
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.html}: {len(matrix.rows)} operations x {len(versions)} versions, "
        f"{len(page) // 1024} KiB; {elapsed:.2f} s",
        file=sys.stderr,
    )
    return 0
