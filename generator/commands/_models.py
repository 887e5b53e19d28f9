"""Argument and loading helpers shared by the diff, history, since and matrix commands."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from generator.model import ApiModel
from generator.models_cache import load_models


def add_source_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--from SOURCE`, the place to fetch spec files from that `.cache/specs/` lacks."""
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="folder or http(s) URL to fetch missing spec files from "
        "(default: env SPECS_FROM, else the upstream repository at the pinned commit)",
    )


def load_models_with_progress(versions: Sequence[str], source: str | None) -> list[ApiModel]:
    """Load the models of `versions` and print one progress line with the time taken to stderr."""
    started = time.perf_counter()
    # The published specs, without the project's corrections: see load_models.
    models = load_models(versions, source, corrected=False)
    elapsed = time.perf_counter() - started
    span = versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"
    print(f"loaded {len(models)} API model(s), {span}, in {elapsed:.2f} s", file=sys.stderr)
    return models
