"""`python -m generator since OPERATION`: the first API version of an operation, parameter or field."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from generator.commands._models import add_source_argument, load_models_with_progress
from generator.errors import GeneratorError
from generator.history import FeatureHistory, build_feature_history
from generator.manifest import normalize_version
from generator.model import ApiModel, Operation
from generator.models_cache import all_versions

HELP = "print the first API version that has an operation, or one of its parameters or fields"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "operation", metavar="OPERATION", help='the operation, as "POST /containers/create" or as its operationId'
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--param", metavar="NAME", help="a parameter of the operation, such as platform")
    target.add_argument(
        "--field",
        metavar="PATH",
        help="a body or response field, such as HostConfig.Annotations or [].Containers; "
        'prefix "body " or "response 200 " to pick one',
    )
    parser.add_argument(
        "--version",
        metavar="VERSION",
        help="answer for this API version (default: the newest version that has the feature)",
    )
    add_source_argument(parser)


@dataclass(frozen=True)
class _Place:
    """Where a feature sits in an operation, and how to find it in any version."""

    label: str  # "query platform", "body HostConfig.Annotations", "" for the operation itself
    present: Callable[[FeatureHistory, str, str], bool]  # (history, version, operationId)
    since: Callable[[FeatureHistory, str, str], str]


def run(args: argparse.Namespace) -> int:
    versions = all_versions()
    models = load_models_with_progress(versions, args.source)
    history = build_feature_history(models)

    reference = _find_operation(models, args.operation)

    def operation_in(model: ApiModel) -> Operation | None:
        # Follow the operation across renamed operationIds through its method and path.
        return model.find_operation(reference.operation_id) or model.find_operation(reference.key)

    places = _places(args, models, history, operation_in)
    requested_version = normalize_version(args.version) if args.version else None
    if requested_version is not None and requested_version not in versions:
        raise GeneratorError(f"unknown API version {requested_version}: pick one from {versions[0]} to {versions[-1]}")

    for place in places:
        present_in = [
            model.version
            for model in models
            if (operation := operation_in(model)) is not None
            and place.present(history, model.version, operation.operation_id)
        ]
        version = requested_version or present_in[-1]
        operation = operation_in(history.model(version))
        title = f"{reference.key} {place.label}".rstrip() if place.label else f"{reference.key} ({reference.operation_id})"
        if operation is None or version not in present_in:
            raise GeneratorError(
                f"API {version} does not have {title}; it is in {_runs_text(present_in, versions)}"
            )
        since = place.since(history, version, operation.operation_id)
        line = f"{title}: since {since}"
        if requested_version is not None:
            line += f" (as of {requested_version})"
        if present_in != versions[versions.index(present_in[0]) :]:
            line += f"; present in {_runs_text(present_in, versions)}"
        print(line)
    return 0


def _find_operation(models: list[ApiModel], name: str) -> Operation:
    """Return the operation called `name` in the newest version that has it."""
    requested = " ".join(name.split())
    if " " in requested:
        method, _, path = requested.partition(" ")
        requested = f"{method.upper()} {path}"
    for model in reversed(models):
        operation = model.find_operation(requested)
        if operation is not None:
            return operation

    known = sorted({o.key for m in models for o in m.operations} | {o.operation_id for m in models for o in m.operations})
    close = difflib.get_close_matches(requested, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; use \"METHOD /path\" or an operationId"
    raise GeneratorError(f"no API version has an operation {name!r}{hint}")


def _places(
    args: argparse.Namespace,
    models: list[ApiModel],
    history: FeatureHistory,
    operation_in: Callable[[ApiModel], Operation | None],
) -> list[_Place]:
    if args.param is not None:
        return [_parameter_place(args.param, models, operation_in)]
    if args.field is not None:
        return _field_places(args.field, models, history, operation_in)
    return [
        _Place(
            "",
            lambda history, version, op_id: True,
            lambda history, version, op_id: history.operation_since(version, op_id),
        )
    ]


def _parameter_place(name: str, models: list[ApiModel], operation_in: Callable[[ApiModel], Operation | None]) -> _Place:
    # The newest version with a parameter of that name decides its location.
    seen: set[str] = set()
    for model in reversed(models):
        operation = operation_in(model)
        if operation is None:
            continue
        for parameter in operation.parameters:
            seen.add(parameter.name)
            if parameter.name == name and parameter.location != "body":
                location = parameter.location
                return _Place(
                    f"{location} {name}",
                    lambda history, version, op_id: _has_parameter(history, version, op_id, location, name),
                    lambda history, version, op_id: history.parameter_since(version, op_id, location, name),
                )
    close = difflib.get_close_matches(name, sorted(seen), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise GeneratorError(f"the operation has no parameter {name!r} in any API version{hint}")


def _has_parameter(history: FeatureHistory, version: str, op_id: str, location: str, name: str) -> bool:
    try:
        history.parameter_since(version, op_id, location, name)
    except KeyError:
        return False
    return True


def _field_places(
    text: str,
    models: list[ApiModel],
    history: FeatureHistory,
    operation_in: Callable[[ApiModel], Operation | None],
) -> list[_Place]:
    where, path = _split_field(text)
    seen: set[str] = set()
    for model in reversed(models):
        operation = operation_in(model)
        if operation is None:
            continue
        places = []
        body = history.body_fields(model.version, operation.operation_id)
        seen.update(body)
        if where in (None, "body") and path in body:
            places.append(
                _Place(
                    f"body {path}",
                    lambda h, version, op_id: path in h.body_fields(version, op_id),
                    lambda h, version, op_id: h.body_field_since(version, op_id, path),
                )
            )
        response = history.response_fields(model.version, operation.operation_id)
        seen.update(field for _, field in response)
        for status in sorted({status for status, field in response if field == path}):
            if where in (None, f"response {status}"):
                places.append(_response_place(status, path))
        if places:
            return places

    close = difflib.get_close_matches(path, sorted(seen), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise GeneratorError(f"the operation has no {where or 'body or response'} field {path!r} in any API version{hint}")


def _response_place(status: str, path: str) -> _Place:
    return _Place(
        f"response {status} {path}",
        lambda h, version, op_id: (status, path) in h.response_fields(version, op_id),
        lambda h, version, op_id: h.response_field_since(version, op_id, status, path),
    )


def _split_field(text: str) -> tuple[str | None, str]:
    """Split "response 200 [].Id" into ("response 200", "[].Id"); a bare path has no place."""
    words = text.split()
    if len(words) >= 2 and words[0] == "body":
        return "body", " ".join(words[1:])
    if len(words) >= 3 and words[0] == "response":
        return f"response {words[1]}", " ".join(words[2:])
    return None, text.strip()


def _runs_text(present: list[str], versions: list[str]) -> str:
    """Return versions as runs of adjacent ones: "1.25 to 1.43, 1.45 to 1.56"."""
    runs: list[list[str]] = []
    for version in present:
        if runs and versions.index(runs[-1][-1]) + 1 == versions.index(version):
            runs[-1].append(version)
        else:
            runs.append([version])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs)
