"""`python -m generator validate`: check the published specs and list what the corrections fix."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from generator.errors import GeneratorError
from generator.fetch import cache_dir, resolve_source
from generator.manifest import load_manifest, version_key
from generator.validate import VersionReport, validate_reports

HELP = "validate the spec files (fetching missing ones) and list findings and corrections applied"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="folder or http(s) URL to fetch missing spec files from "
        "(default: env SPECS_FROM, else the upstream repository at the pinned commit)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="validate again even when a cached result matches",
    )
    parser.add_argument(
        "versions",
        nargs="*",
        metavar="VERSION",
        help="API versions such as 1.41 (default: all)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="FILE",
        help="validate this spec file instead of the manifest's versions (never cached)",
    )
    parser.add_argument(
        "--version",
        dest="spec_version",
        metavar="VERSION",
        help="the API version of --spec FILE (default: its info.version, else its name v1.NN.yaml)",
    )
    parser.add_argument(
        "--no-corrections",
        action="store_true",
        help="validate --spec FILE as it is, without the corrections for its version",
    )


def _print_progress(report: VersionReport) -> None:
    state = "cached" if report.from_cache else "checked"
    print(f"{report.version:<5} {state}", file=sys.stderr, flush=True)


def compress_versions(versions: Sequence[str], known: Sequence[str]) -> str:
    """Return `versions` as comma-separated runs of consecutive `known` versions ("1.25-1.39, 1.41")."""
    position = {version: index for index, version in enumerate(known)}
    ordered = sorted(set(versions), key=version_key)
    runs: list[list[str]] = []
    for version in ordered:
        if (
            runs
            and version in position
            and position.get(runs[-1][-1], -2) + 1 == position[version]
        ):
            runs[-1].append(version)
        else:
            runs.append([version])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def _print_results(reports: Sequence[VersionReport]) -> None:
    print(
        f"{'version':<8}{'operations':>11}{'definitions':>12}{'warnings':>9}{'errors':>7}{'corrections':>12}"
    )
    for report in reports:
        print(
            f"{report.version:<8}{report.operations:>11}{report.definitions:>12}"
            f"{report.warnings:>9}{report.errors:>7}{len(report.corrections):>12}"
        )

    findings = [finding for report in reports for finding in report.findings]
    if findings:
        print("\nfindings:")
        for finding in findings:
            print(
                f"{finding.version} {finding.severity} {finding.pointer or '/'} : {finding.message} [{finding.rule}]"
            )

    applied: dict[str, tuple[list[str], str, str]] = {}
    for report in reports:
        for correction in report.corrections:
            versions, _, _ = applied.setdefault(
                correction.id, ([], correction.action, correction.pointer)
            )
            versions.append(correction.version)
    if applied:
        known = load_manifest().versions
        print("\ncorrections applied:")
        for correction_id, (versions, action, pointer) in applied.items():
            print(
                f"{correction_id}  {compress_versions(versions, known)}  {action} {pointer}"
            )


def _validate_spec(args: argparse.Namespace) -> VersionReport:
    from generator.spec_file import check_spec, load_spec_file, version_report

    if args.versions or args.source:
        raise GeneratorError(
            "--spec validates one spec file: drop the VERSION arguments and --from, or drop --spec"
        )
    spec = load_spec_file(args.spec, args.spec_version)
    report = version_report(spec, check_spec(spec, [] if args.no_corrections else None))
    print(f"{report.version:<5} checked {spec.label}", file=sys.stderr, flush=True)
    return report


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.spec is not None:
        reports = [_validate_spec(args)]
    elif args.spec_version is not None or args.no_corrections:
        raise GeneratorError("--version and --no-corrections apply to --spec FILE only")
    else:
        reports = validate_reports(
            args.versions or None,
            resolve_source(args.source),
            use_cache=not args.no_cache,
            progress=_print_progress,
        )
    _print_results(reports)

    errors = sum(report.errors for report in reports)
    warnings = sum(report.warnings for report in reports)
    corrections = sum(len(report.corrections) for report in reports)
    cached = sum(1 for report in reports if report.from_cache)
    failed = [report.version for report in reports if report.errors]
    print(
        f"{len(reports)} version(s): {errors} error(s), {warnings} warning(s), {corrections} correction(s) "
        f"applied; {cached} from cache; {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    if args.spec is None and args.source is not None:
        # The checksums pin the content, so a cached file is the file the source would give;
        # a user who passed --from to check that folder's files needs to know it was skipped.
        print(
            f"note: spec files already in {cache_dir()} with the manifest's checksums are used as they "
            f"are, without reading {args.source}; `python -m generator fetch --force --from "
            f"{args.source}` reads and checks the source again",
            file=sys.stderr,
        )
    if failed:
        subject = f"{args.spec} (API {failed[0]})" if args.spec is not None else ", ".join(failed)
        print(f"validation failed for {subject}; see the findings above", file=sys.stderr)
        return 1
    return 0
