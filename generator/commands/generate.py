"""`python -m generator generate`: render one package per API version into generated/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from generator import build
from generator.errors import GeneratorError
from generator.model import ApiModel

HELP = "validate the specs and render one client package per API version into generated/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "versions",
        nargs="*",
        metavar="VERSION",
        help="API versions to render, such as 1.41 (default: all in the manifest)",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="folder or URL to fetch missing spec files from (default: $SPECS_FROM, else upstream)",
    )
    parser.add_argument(
        "--force", action="store_true", help="render everything again even if nothing changed"
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="FILE",
        help="render the package of this spec file instead of the manifest's versions; its feature "
        "history is empty, so everything in it counts as added in its own version",
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
        help="render --spec FILE as it is, without the corrections for its version",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="LINK",
        help="the link to point at the new build; its builds are kept beside it in a folder named "
        "after it with a leading dot (default: generated in the repository)",
    )


def _validate(versions: Sequence[str], source: str | None) -> None:
    from generator.validate import validate_versions

    findings = validate_versions(versions, source)
    errors = [
        finding
        for version_findings in findings.values()
        for finding in version_findings
        if finding.severity == "error"
    ]
    if errors:
        shown = "\n".join(
            f"  {finding.version} {finding.pointer}: {finding.message}" for finding in errors[:20]
        )
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise GeneratorError(
            f"{len(errors)} validation error(s); nothing was generated and generated/ is unchanged:\n"
            f"{shown}{more}\nrun `python -m generator validate` for the full report"
        )


def _load_models(versions: Sequence[str], source: str | None) -> list[ApiModel]:
    from generator.models_cache import load_models

    return load_models(versions, source)


def _build_history(models: Sequence[ApiModel]) -> build.FeatureHistory:
    from generator.history import build_feature_history

    return build_feature_history(models)


def _output_link(output: Path | None) -> Path:
    if output is None:
        return build.GENERATED_LINK
    if not output.parent.is_dir():
        raise GeneratorError(
            f"--output {output}: the folder {output.parent} does not exist; create it or pick another link"
        )
    return output


def _generate_spec(args: argparse.Namespace, link: Path, progress: build.Progress) -> build.BuildReport:
    from generator.history import build_feature_history
    from generator.spec_file import build_spec_model, load_spec_file

    if args.versions or args.source:
        raise GeneratorError(
            "--spec renders one spec file: drop the VERSION arguments and --from, or drop --spec"
        )
    spec = load_spec_file(args.spec, args.spec_version)
    model = build_spec_model(spec, [] if args.no_corrections else None)
    return build.generate_spec(
        model,
        build_feature_history([model]),
        origin={"file": str(spec.path.resolve()), "sha256": spec.sha256},
        progress=progress,
        link=link,
        format_cache=build.FORMAT_CACHE,
    )


def run(args: argparse.Namespace) -> int:
    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    link = _output_link(args.output)
    if args.spec is not None:
        report = _generate_spec(args, link, progress)
    elif args.spec_version is not None or args.no_corrections:
        raise GeneratorError("--version and --no-corrections apply to --spec FILE only")
    else:
        report = build.generate(
            args.versions or None,
            source=args.source,
            force=args.force,
            progress=progress,
            load_models=_load_models,
            validate=_validate,
            build_history=_build_history,
            link=link,
            format_cache=build.FORMAT_CACHE,
        )
    if report.up_to_date:
        progress(f"generated/ is up to date; nothing to do ({report.seconds:.2f} s); use --force to render again")
        return 0
    lines = sum(version.lines for version in report.versions)
    carried = f", {len(report.carried_over)} carried over" if report.carried_over else ""
    progress(
        f"generated {len(report.versions)} package(s){carried}, {lines:,} lines, in {report.seconds:.1f} s"
        f" (black formatted {report.formatted_chunks} chunk(s), reused {report.reused_chunks})"
    )
    return 0
