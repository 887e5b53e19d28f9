"""`python -m generator diff OLD NEW`: what changed between two API versions."""

from __future__ import annotations

import argparse
import sys
import time

from generator.errors import GeneratorError
from generator.commands._models import add_source_argument, load_models_with_progress
from generator.diff import diff_models
from generator.diff.report import only_breaking, render_json, render_markdown, render_text, summary_line
from generator.manifest import normalize_version

HELP = "report the changes between two API versions, each marked breaking or not"

_RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="the API version to compare from, such as 1.43")
    parser.add_argument("new", metavar="NEW", help="the API version to compare to, such as 1.44 (may be older than OLD)")
    parser.add_argument(
        "--format", choices=sorted(_RENDERERS), default="text", help="report format (default: text)"
    )
    parser.add_argument("--breaking", action="store_true", help="list only the changes that can break a client")
    parser.add_argument(
        "--fail-on",
        choices=["breaking"],
        help="exit with status 1 when the diff has a change of this kind",
    )
    add_source_argument(parser)


def run(args: argparse.Namespace) -> int:
    old_version, new_version = normalize_version(args.old), normalize_version(args.new)
    if old_version == new_version:
        raise GeneratorError(
            f"OLD and NEW are both {old_version}: name two different API versions, "
            "such as `diff 1.43 1.44` (either order works: NEW older than OLD shows the downgrade)"
        )
    old, new = load_models_with_progress([old_version, new_version], args.source)

    started = time.perf_counter()
    diff = diff_models(old, new)
    elapsed = time.perf_counter() - started

    shown = only_breaking(diff) if args.breaking else diff
    sys.stdout.write(_RENDERERS[args.format](shown))
    print(f"diff {old_version} -> {new_version}: {summary_line(diff)}; {elapsed:.2f} s", file=sys.stderr)
    if args.fail_on == "breaking" and diff.breaking:
        return 1
    return 0
