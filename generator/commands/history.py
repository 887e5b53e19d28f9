"""`python -m generator history`: every step between adjacent API versions, as one changelog."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generator.commands._models import add_source_argument, load_models_with_progress
from generator.diff import ApiDiff, diff_models
from generator.diff.report import only_breaking, render_markdown
from generator.errors import GeneratorError
from generator.manifest import normalize_version, version_key
from generator.models_cache import all_versions

HELP = "print the changes of every step from the oldest to the newest API version as a Markdown changelog"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--oldest", metavar="VERSION", help="start at this API version (default: the oldest)")
    parser.add_argument("--newest", metavar="VERSION", help="end at this API version (default: the newest)")
    parser.add_argument("--breaking", action="store_true", help="list only the changes that can break a client")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the changelog to FILE instead of stdout")
    add_source_argument(parser)


def select_versions(oldest: str | None, newest: str | None) -> list[str]:
    """Return the manifest's versions from `oldest` to `newest`, both included."""
    versions = all_versions()
    low = normalize_version(oldest) if oldest else versions[0]
    high = normalize_version(newest) if newest else versions[-1]
    for bound in (low, high):
        if bound not in versions:
            raise GeneratorError(f"unknown API version {bound}: pick one from {versions[0]} to {versions[-1]}")
    selected = [v for v in versions if version_key(low) <= version_key(v) <= version_key(high)]
    if len(selected) < 2:
        raise GeneratorError(f"--oldest {low} and --newest {high} leave fewer than two versions to compare")
    return selected


def render_changelog(diffs: list[ApiDiff], breaking_only: bool = False) -> str:
    """Render the diffs of adjacent versions, oldest first, as one Markdown changelog, newest step first."""
    first, last = diffs[0].old_version, diffs[-1].new_version
    lines = [f"# Docker Engine API changelog, {first} to {last}", ""]
    lines += [
        "Each section lists what changed from the previous API version. Changes marked",
        "**breaking** can break a client written for the previous version; the rule in",
        "brackets names the reason. Changes inside a shared definition are listed under",
        "the definition, with the operations that use it.",
        "",
        "| Version | From | Changes | Breaking |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [
        f"| [{d.new_version}](#{_anchor(d)}) | {d.old_version} | {len(d.changes)} | {len(d.breaking)} |"
        for d in reversed(diffs)
    ]
    lines.append("")
    for diff in reversed(diffs):
        shown = only_breaking(diff) if breaking_only else diff
        lines.append(render_markdown(shown, level=2, title=f"{diff.new_version} (from {diff.old_version})"))
    return "\n".join(lines).rstrip() + "\n"


def _anchor(diff: ApiDiff) -> str:
    # GitHub's heading anchors drop dots and parentheses and turn spaces into dashes.
    return f"{diff.new_version.replace('.', '')}-from-{diff.old_version.replace('.', '')}"


def run(args: argparse.Namespace) -> int:
    versions = select_versions(args.oldest, args.newest)
    models = load_models_with_progress(versions, args.source)

    started = time.perf_counter()
    diffs = [diff_models(old, new) for old, new in zip(models, models[1:])]
    changelog = render_changelog(diffs, breaking_only=args.breaking)
    elapsed = time.perf_counter() - started

    if args.output is not None:
        args.output.write_text(changelog, encoding="utf-8")
    else:
        sys.stdout.write(changelog)
    total = sum(len(d.changes) for d in diffs)
    breaking = sum(len(d.breaking) for d in diffs)
    print(
        f"history {versions[0]} to {versions[-1]}: {len(diffs)} steps, {total} changes, {breaking} breaking; {elapsed:.2f} s",
        file=sys.stderr,
    )
    return 0
