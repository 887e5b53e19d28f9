"""The `python -m generator` command line: one subcommand per module in `COMMANDS`.

Each command module provides `add_arguments(parser)`, `run(args) -> int` and a one-line
`HELP`. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from generator.errors import GeneratorError

COMMANDS = {
    "fetch": "generator.commands.fetch",
    "validate": "generator.commands.validate",
    "generate": "generator.commands.generate",
    "diff": "generator.commands.diff",
    "history": "generator.commands.history",
    "since": "generator.commands.since",
    "matrix": "generator.commands.matrix",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Fetch, validate and render the Docker Engine API specifications.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except GeneratorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
