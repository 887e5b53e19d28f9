"""Validation of the published specs, and loading of a corrected spec for the rest of the generator.

`validate_document` checks one version's raw (uncorrected) document twice: with
openapi-spec-validator (Swagger 2.0) and with the project's own checks that the generator
relies on. It then checks the corrected document the same way. Each finding gets a JSON
pointer and a severity:

- warning: the project understands it. Either it is a known limit of the validator (it
  applies OpenAPI 3.0 rules where Swagger 2.0 uses the vendor extension `x-nullable`), or
  a correction in `specs/corrections.yaml` removes it.
- error: anything else, including a problem that only appears after the corrections.

`validate_versions` validates many versions in parallel processes and caches each version's
result under `.cache/validate/`, keyed by the spec's checksum, the corrections file and the
code and validator version that produced it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from generator.corrections import (
    AppliedCorrection,
    Correction,
    apply_corrections,
    corrections_digest,
    join_pointer,
    load_corrections,
    resolve_pointer,
    CORRECTIONS_PATH,
)
from generator.errors import GeneratorError
from generator.fetch import ensure_specs, file_sha256
from generator.load import load_document
from generator.manifest import REPO_ROOT, Manifest, ManifestEntry, load_manifest

logger = logging.getLogger(__name__)

SEVERITIES = ("warning", "error")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_DEFINITIONS_PREFIX = "#/definitions/"
# Validator messages repeat the offending value, which can be a whole schema.
MAX_MESSAGE_LENGTH = 300
# Bump when the cached result format changes.
CACHE_FORMAT = 1


@dataclass(frozen=True)
class Finding:
    """One problem found in a spec, located by a JSON pointer into the raw document."""

    version: str
    pointer: str
    severity: str
    rule: str
    message: str


@dataclass(frozen=True)
class LoadedSpec:
    """One API version's document after corrections, with the corrections applied to it."""

    version: str
    path: Path
    document: dict[str, Any]
    corrections: tuple[AppliedCorrection, ...]


@dataclass(frozen=True)
class VersionReport:
    """The validation result of one API version, as `python -m generator validate` prints it."""

    version: str
    operations: int
    definitions: int
    findings: tuple[Finding, ...]
    corrections: tuple[AppliedCorrection, ...]
    from_cache: bool

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "warning")


@dataclass(frozen=True)
class _Problem:
    """A finding before it is classified: `known_limit` explains a validator limit, if it is one."""

    rule: str
    pointer: str
    message: str
    known_limit: str | None = None


# ---------------------------------------------------------------------------------------------
# The project's own checks


def _walk(value: Any, tokens: list[str]) -> Iterator[tuple[list[str], Any]]:
    """Yield (tokens, value) for every node, skipping examples and vendor extension values."""
    yield tokens, value
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("example", "examples") or key.startswith("x-"):
                continue
            yield from _walk(item, tokens + [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, tokens + [str(index)])


def _check_refs(document: dict[str, Any]) -> Iterator[_Problem]:
    for tokens, node in _walk(document, []):
        if not isinstance(node, dict) or "$ref" not in node:
            continue
        ref = node["$ref"]
        pointer = join_pointer(tokens + ["$ref"])
        if not isinstance(ref, str) or not ref.startswith("#"):
            yield _Problem(
                "ref-external",
                pointer,
                f"$ref {ref!r} is not a reference inside this document",
            )
            continue
        try:
            resolve_pointer(document, ref[1:])
        except (KeyError, ValueError):
            yield _Problem("ref-unresolved", pointer, f"$ref {ref!r} does not resolve")


def _resolve_local(document: dict[str, Any], node: Any) -> Any:
    """Follow `node`'s local $ref (one level is all Swagger 2.0 allows for parameters)."""
    if (
        isinstance(node, dict)
        and isinstance(node.get("$ref"), str)
        and node["$ref"].startswith("#")
    ):
        try:
            return resolve_pointer(document, node["$ref"][1:])
        except (KeyError, ValueError):
            return None
    return node


def _check_operations(document: dict[str, Any]) -> Iterator[_Problem]:
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return

    seen_ids: dict[str, str] = {}
    for url, path_item in paths.items():
        if not isinstance(path_item, dict):
            continue
        shared = path_item.get("parameters", [])
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if not isinstance(operation, dict):
                continue
            operation_pointer = join_pointer(["paths", url, method])

            operation_id = operation.get("operationId")
            if not isinstance(operation_id, str) or not operation_id:
                yield _Problem(
                    "operation-id-missing",
                    operation_pointer,
                    f"{method.upper()} {url} has no operationId",
                )
            elif operation_id in seen_ids:
                yield _Problem(
                    "operation-id-duplicate",
                    operation_pointer + "/operationId",
                    f"operationId {operation_id!r} is also used by {seen_ids[operation_id]}",
                )
            else:
                seen_ids[operation_id] = f"{method.upper()} {url}"

            yield from _check_parameters(
                document, url, method, shared, operation.get("parameters", [])
            )


def _check_parameters(
    document: dict[str, Any], url: str, method: str, shared: Any, own: Any
) -> Iterator[_Problem]:
    located: list[tuple[str, Any]] = []
    if isinstance(shared, list):
        located += [
            (join_pointer(["paths", url, "parameters", str(i)]), p)
            for i, p in enumerate(shared)
        ]
    if isinstance(own, list):
        located += [
            (join_pointer(["paths", url, method, "parameters", str(i)]), p)
            for i, p in enumerate(own)
        ]

    bodies = []
    for pointer, raw_parameter in located:
        parameter = _resolve_local(document, raw_parameter)
        if not isinstance(parameter, dict):
            continue  # an unresolved $ref is reported by _check_refs
        if "type" not in parameter and "schema" not in parameter:
            yield _Problem(
                "parameter-type-missing",
                pointer,
                f"parameter {parameter.get('name')!r} of {method.upper()} {url} has neither `type` nor `schema`",
            )
        if parameter.get("in") == "body":
            bodies.append(pointer)

    if len(bodies) > 1:
        yield _Problem(
            "body-parameter-multiple",
            bodies[1],
            f"{method.upper()} {url} has {len(bodies)} body parameters; Swagger 2.0 allows at most one",
        )


def _check_schemas(document: dict[str, Any]) -> Iterator[_Problem]:
    for tokens, node in _walk(document, []):
        if not isinstance(node, dict):
            continue
        if node.get("type") == "array" and "items" not in node:
            yield _Problem(
                "array-items-missing",
                join_pointer(tokens),
                "`type: array` without `items`",
            )

        required = node.get("required")
        properties = node.get("properties")
        # With allOf, required names may come from the other parts; the validator checks that case.
        if (
            isinstance(required, list)
            and isinstance(properties, dict)
            and "allOf" not in node
        ):
            for index, name in enumerate(required):
                # A name that is not a string is reported by the Swagger schema check.
                if isinstance(name, str) and name not in properties:
                    yield _Problem(
                        "required-undeclared",
                        join_pointer(tokens + ["required", str(index)]),
                        f"`required` names {name!r}, which is not among the schema's properties",
                    )


def _shape_references(schema: Any) -> Iterator[tuple[list[str], str]]:
    """Yield (tokens, definition) for the references that a schema's own shape is made of.

    That is its `$ref`, and the `$ref`s among its `allOf` parts, but not references below its
    properties or items: a definition may contain itself there (a tree), but it cannot be
    nothing but itself.
    """
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFINITIONS_PREFIX):
        yield ["$ref"], ref[len(_DEFINITIONS_PREFIX) :].replace("~1", "/").replace("~0", "~")
        return
    parts = schema.get("allOf")
    if isinstance(parts, list):
        for index, part in enumerate(parts):
            for tokens, name in _shape_references(part):
                yield ["allOf", str(index), *tokens], name


def _check_definition_cycles(document: dict[str, Any]) -> Iterator[_Problem]:
    definitions = document.get("definitions")
    if not isinstance(definitions, dict):
        return
    edges = {
        name: [(tokens, target) for tokens, target in _shape_references(schema) if target in definitions]
        for name, schema in definitions.items()
    }

    # A depth-first search from each definition in turn. A reference back into the current
    # path closes a cycle, which is reported once, at its alphabetically first definition.
    reported: set[tuple[str, ...]] = set()
    finished: set[str] = set()
    for start in sorted(edges):
        if start in finished:
            continue
        path = [start]
        stack = [iter(edges[start])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                finished.add(path.pop())
                continue
            _, target = step
            if target in path:
                cycle = path[path.index(target) :]
                first = cycle.index(min(cycle))
                canonical = tuple(cycle[first:] + cycle[:first])
                if canonical not in reported:
                    reported.add(canonical)
                    yield _cycle_problem(canonical, edges)
            elif target not in finished:
                path.append(target)
                stack.append(iter(edges[target]))


def _cycle_problem(cycle: tuple[str, ...], edges: dict[str, list[tuple[list[str], str]]]) -> _Problem:
    origin = cycle[0]
    successor = cycle[1] if len(cycle) > 1 else origin
    tokens = next(tokens for tokens, target in edges[origin] if target == successor)
    chain = " -> ".join([*cycle, origin])
    return _Problem(
        "ref-cycle",
        join_pointer(["definitions", origin, *tokens]),
        f"definition {origin!r} is made of itself through $ref or allOf ({chain}), so it has no "
        "shape; a definition may refer to itself only below its properties, items or additionalProperties",
    )


def _own_checks(document: dict[str, Any]) -> list[_Problem]:
    """Run the project's own structural checks (the ones the generator relies on)."""
    problems = []
    if document.get("swagger") != "2.0":
        problems.append(
            _Problem(
                "swagger-version",
                "/swagger",
                f"`swagger` is {document.get('swagger')!r}, expected \"2.0\"",
            )
        )
    if not isinstance(document.get("paths"), dict):
        problems.append(
            _Problem("paths-missing", "/paths", "the document has no `paths` mapping")
        )
    problems += _check_refs(document)
    problems += _check_operations(document)
    problems += _check_schemas(document)
    problems += _check_definition_cycles(document)
    return problems


# ---------------------------------------------------------------------------------------------
# openapi-spec-validator


def _pointer_index(document: Any) -> dict[int, str]:
    """Map the id() of every dict and list in `document` to its JSON pointer (first one wins)."""
    index: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if id(node) in index:
            continue
        index[id(node)] = pointer
        if isinstance(node, dict):
            stack.extend(
                (item, f"{pointer}/{_escape(key)}")
                for key, item in node.items()
                if isinstance(item, (dict, list))
            )
        elif isinstance(node, list):
            stack.extend(
                (item, f"{pointer}/{i}")
                for i, item in enumerate(node)
                if isinstance(item, (dict, list))
            )
    return index


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    return message[: MAX_MESSAGE_LENGTH - 1] + "…"


def _library_checks(document: dict[str, Any]) -> list[_Problem]:
    """Run openapi-spec-validator and give each of its errors a JSON pointer.

    The validator reports schema and default-value problems without a location. Each of
    its keyword validators is wrapped here to record, on every error it raises, the pointer
    of the schema, parameter or operation it was checking. That pointer is looked up by the
    checked object's identity in `document`.
    """
    # Imported here: the validator takes about 0.25 s to import, and loading a spec
    # for generation does not need it.
    from jsonschema_path.paths import SchemaPath
    from openapi_spec_validator import OpenAPIV2SpecValidator
    from openapi_spec_validator.validation import exceptions, keywords

    pointers = _pointer_index(document)

    def locate(validator_class: type[Any]) -> type[Any]:
        class Locating(validator_class):  # type: ignore[misc]
            def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
                where = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
                pointer = (
                    pointers.get(id(where.read_value())) if where is not None else None
                )
                for error in super().__call__(*args, **kwargs):
                    if not hasattr(error, "spec_pointer"):
                        error.spec_pointer = pointer
                        error.spec_checker = validator_class
                    yield error

        return Locating

    class RootWithDefinitions(keywords.RootValidator):
        # The stock root validator only reaches definitions through references from paths;
        # checking /definitions as well covers definitions that no operation uses.
        def __call__(self, spec: Any) -> Iterator[Any]:
            yield from super().__call__(spec)
            if "definitions" in spec:
                schemas_validator: Any = self.registry["schemas"]
                yield from schemas_validator(spec / "definitions")

    class LocatingValidator(OpenAPIV2SpecValidator):
        keyword_validators = {
            **{
                name: locate(cls)
                for name, cls in OpenAPIV2SpecValidator.keyword_validators.items()
            },
            "__root__": RootWithDefinitions,
        }

    validator = LocatingValidator(document)
    problems = []
    try:
        # The Swagger 2.0 JSON Schema pass locates its errors itself (absolute_path).
        for error in validator.schema_validator.iter_errors(document):
            problems.append(
                _Problem(
                    "swagger-schema",
                    join_pointer(list(error.absolute_path)),
                    _shorten(error.message),
                )
            )

        # Called directly rather than through iter_errors(), which re-creates each error and
        # so would drop the recorded location.
        for error in validator.root_validator(validator.schema_path):
            problems.append(
                _classify_library_error(document, error, exceptions, keywords)
            )
    except (
        Exception
    ) as error:  # noqa: BLE001 - the validator raises anything from broken input
        problems.append(
            _Problem(
                "validator-failed",
                "",
                _shorten(
                    f"openapi-spec-validator stopped early with {type(error).__name__}: "
                    f"{_first_clause(error)}; fix the other errors and validate again"
                ),
            )
        )
    return problems


def _first_clause(error: Exception) -> str:
    # Reference errors end with " within {...}" and the whole document after it.
    return str(error).split(" within ", 1)[0]


def _classify_library_error(
    document: dict[str, Any], error: Any, exceptions: Any, keywords: Any
) -> _Problem:
    base = getattr(error, "spec_pointer", None) or ""
    checker = getattr(error, "spec_checker", None)
    message = _shorten(error.message)

    if isinstance(error, exceptions.DuplicateOperationIDError):
        return _Problem("operation-id-duplicate", base + "/operationId", message)
    if isinstance(error, exceptions.UnresolvableParameterError):
        return _Problem("path-parameter-unresolved", base, message)
    if isinstance(error, exceptions.ParameterDuplicateError):
        return _Problem("parameter-duplicate", base, message)
    if isinstance(error, exceptions.ExtraParametersError):
        return _Problem("required-undeclared", base + "/required", message)

    if checker is not None and issubclass(checker, keywords.ValueValidator):
        pointer = base + "/default" + join_pointer(list(error.path))
        try:
            schema = resolve_pointer(document, base)
        except (KeyError, ValueError):
            schema = None
        if (
            isinstance(schema, dict)
            and schema.get("x-nullable") is True
            and schema.get("default", 0) is None
        ):
            return _Problem(
                "x-nullable-default",
                pointer,
                "default null on an x-nullable schema; the validator applies OpenAPI 3.0 `nullable` rules "
                "and does not read Swagger 2.0's `x-nullable`",
                known_limit="openapi-spec-validator ignores x-nullable",
            )
        return _Problem("default-invalid", pointer, f"default value: {message}")

    return _Problem("schema-invalid", base + join_pointer(list(error.path)), message)


# ---------------------------------------------------------------------------------------------
# Classification


def _moved_pointer(pointer: str, applied: Sequence[AppliedCorrection]) -> str:
    """Return where `pointer` is after the corrections that moved values."""
    for correction in applied:
        source = correction.from_pointer
        if source and (pointer == source or pointer.startswith(source + "/")):
            pointer = correction.pointer + pointer[len(source) :]
    return pointer


def _related(pointer: str, other: str) -> bool:
    return (
        pointer == other
        or pointer.startswith(other + "/")
        or other.startswith(pointer + "/")
    )


def validate_document(
    version: str,
    document: dict[str, Any],
    corrections: Sequence[Correction] | None = None,
) -> list[Finding]:
    """Validate one version's raw document and return its findings (warnings and errors).

    `document` is not modified: the corrections (`corrections`, default the project's file)
    are applied to a copy, which is validated too. A raw problem that the corrections remove
    is a warning naming them; a problem that remains or first appears after them is an error.
    """
    findings, _ = _validate_with_corrections(version, document, corrections)
    return findings


def _validate_with_corrections(
    version: str, document: dict[str, Any], corrections: Sequence[Correction] | None
) -> tuple[list[Finding], list[AppliedCorrection]]:
    # openapi-spec-validator is the slow part (about 0.4 s of CPU per version), so it runs
    # once, on the corrected document. The project's own checks run on both documents: they
    # are what tells a raw problem that the corrections remove (a warning) from one that
    # remains or that the corrections introduce (an error).
    raw_problems = _dedupe(_own_checks(document))

    corrected = copy.deepcopy(document)
    try:
        applied = apply_corrections(corrected, version, corrections)
    except GeneratorError as error:
        # Without a corrected document nothing counts as corrected: report everything.
        failure = Finding(version, "", "error", "correction-failed", str(error))
        everything = _dedupe(raw_problems + _library_checks(document))
        return [failure] + [_as_finding(version, problem, None) for problem in everything], []
    corrected_problems = _dedupe(_own_checks(corrected)) if applied else raw_problems

    remaining = {(problem.rule, problem.pointer) for problem in corrected_problems}
    findings = []
    for problem in raw_problems:
        if (
            problem.known_limit is None
            and (problem.rule, _moved_pointer(problem.pointer, applied))
            not in remaining
        ):
            findings.append(
                _as_finding(version, problem, _fixers(problem.pointer, applied))
            )
        else:
            findings.append(_as_finding(version, problem, None))

    raw_keys = {
        (problem.rule, _moved_pointer(problem.pointer, applied))
        for problem in raw_problems
    }
    for problem in corrected_problems:
        if (
            problem.known_limit is None
            and (problem.rule, problem.pointer) not in raw_keys
        ):
            findings.append(
                Finding(
                    version,
                    problem.pointer,
                    "error",
                    problem.rule,
                    f"after corrections: {problem.message}",
                )
            )

    # The validator's findings on the corrected document, except those the own checks
    # already reported (and perhaps found corrected) under the same rule and pointer.
    reported = raw_keys | remaining
    for problem in _dedupe(_library_checks(corrected)):
        if (problem.rule, problem.pointer) not in reported:
            findings.append(_as_finding(version, problem, None))

    findings.sort(key=lambda finding: (finding.pointer, finding.rule, finding.severity))
    return findings, applied


def _fixers(pointer: str, applied: Sequence[AppliedCorrection]) -> str:
    """Name the applied corrections that touch `pointer`, for a corrected problem's message."""
    ids = [
        correction.id
        for correction in applied
        if _related(pointer, correction.pointer)
        or (
            correction.from_pointer is not None
            and _related(pointer, correction.from_pointer)
        )
    ]
    return ", ".join(dict.fromkeys(ids)) or "specs/corrections.yaml"


def _as_finding(version: str, problem: _Problem, corrected_by: str | None) -> Finding:
    if problem.known_limit is not None:
        return Finding(
            version, problem.pointer, "warning", problem.rule, problem.message
        )
    if corrected_by is not None:
        message = f"{problem.message}; corrected by {corrected_by}"
        return Finding(version, problem.pointer, "warning", problem.rule, message)
    return Finding(version, problem.pointer, "error", problem.rule, problem.message)


def _dedupe(problems: Sequence[_Problem]) -> list[_Problem]:
    """Keep one problem per (rule, pointer): the validator reports one bad default several ways."""
    unique: dict[tuple[str, str], _Problem] = {}
    for problem in problems:
        unique.setdefault((problem.rule, problem.pointer), problem)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------
# Loading and validating versions


def count_operations(document: dict[str, Any]) -> int:
    """Return the number of operations (method and path pairs) in `document`."""
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return 0
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for method in HTTP_METHODS
        if method in item
    )


def load_spec(
    version: str,
    source: str | None = None,
    *,
    manifest: Manifest | None = None,
    corrections: Sequence[Correction] | None = None,
) -> LoadedSpec:
    """Return one version's document with the corrections applied.

    Fetches the spec file from `source` (see `generator.fetch.fetch_specs`) if the cache
    lacks it. `manifest` and `corrections` default to the project's files.
    """
    manifest = manifest or load_manifest()
    entry = manifest.select([version])[0]
    (path,) = ensure_specs(source, [entry.version], manifest=manifest)
    document = load_document(path)
    applied = apply_corrections(document, entry.version, corrections)
    return LoadedSpec(
        version=entry.version, path=path, document=document, corrections=tuple(applied)
    )


def validation_cache_dir() -> Path:
    """Return the folder of cached validation results: env `VALIDATE_CACHE`, else `.cache/validate`."""
    override = os.environ.get("VALIDATE_CACHE")
    return (
        Path(override).expanduser() if override else REPO_ROOT / ".cache" / "validate"
    )


def _code_digest() -> str:
    digest = hashlib.sha256()
    digest.update(f"format {CACHE_FORMAT}".encode())
    for name in ("validate.py", "corrections.py", "load.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    for package in ("openapi-spec-validator", "openapi-schema-validator", "jsonschema"):
        try:
            digest.update(f"{package} {metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    return digest.hexdigest()


def _validate_path(version: str, path: str, corrections_path: str) -> dict[str, Any]:
    """Validate one version's file and return the result as plain data (runs in a worker process)."""
    document = load_document(path)
    corrections = load_corrections(corrections_path)
    findings, applied = _validate_with_corrections(version, document, corrections)
    data = {
        "version": version,
        "operations": count_operations(document),
        "definitions": len(document.get("definitions") or {}),
        "findings": [asdict(finding) for finding in findings],
        "corrections": [asdict(correction) for correction in applied],
    }
    if Path(corrections_path) == CORRECTIONS_PATH and not any(f.severity == "error" for f in findings):
        # The document is parsed already: building its model here spares `generate` a second
        # YAML parse of every spec on a cold start. The document is not needed after this.
        from generator.model import build_model
        from generator.models_cache import store

        apply_corrections(document, version, corrections)
        store(version, file_sha256(Path(path)) or "", build_model(version, document))
    return data


def _report_from_data(data: dict[str, Any], from_cache: bool) -> VersionReport:
    return VersionReport(
        version=data["version"],
        operations=data["operations"],
        definitions=data["definitions"],
        findings=tuple(Finding(**finding) for finding in data["findings"]),
        corrections=tuple(
            AppliedCorrection(**correction) for correction in data["corrections"]
        ),
        from_cache=from_cache,
    )


def _read_cached(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.warning("ignoring unreadable validation cache %s: %s", path, error)
        return None


def _write_cached(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8"
        ) as file:
            json.dump(data, file)
        os.replace(file.name, path)
    except OSError as error:
        logger.warning("cannot write validation cache %s: %s", path, error)
        return

    # Results for older code, corrections or spec files would never be read again.
    for stale in path.parent.glob(f"v{data['version']}-*.json"):
        if stale != path:
            stale.unlink(missing_ok=True)


def _entries(
    entries_or_versions: Sequence[ManifestEntry] | Sequence[str] | None,
    manifest: Manifest,
) -> list[ManifestEntry]:
    if entries_or_versions is None:
        return manifest.select(None)
    versions = [
        item.version if isinstance(item, ManifestEntry) else item
        for item in entries_or_versions
    ]
    return manifest.select(versions)


def validate_reports(
    entries_or_versions: Sequence[ManifestEntry] | Sequence[str] | None,
    source: str | None = None,
    *,
    use_cache: bool = True,
    workers: int | None = None,
    progress: Callable[[VersionReport], None] | None = None,
    manifest: Manifest | None = None,
    corrections_path: Path | None = None,
) -> list[VersionReport]:
    """Validate the given versions (all when None) and return one report per version, oldest first.

    Missing spec files are fetched from `source`. Results are cached per version unless
    `use_cache` is false; uncached versions run in `workers` processes (default: CPU count).
    `manifest` and `corrections_path` default to the project's files.
    """
    manifest = manifest or load_manifest()
    entries = _entries(entries_or_versions, manifest)
    paths = ensure_specs(
        source, [entry.version for entry in entries], manifest=manifest
    )
    corrections_path = corrections_path or CORRECTIONS_PATH
    # Parse the corrections here so that a broken file is reported once, not by each worker.
    load_corrections(corrections_path)
    key_base = f"{corrections_digest(corrections_path)}-{_code_digest()}"

    reports: dict[str, VersionReport] = {}
    cache_paths: dict[str, Path] = {}
    pending: list[tuple[ManifestEntry, Path]] = []
    for entry, path in zip(entries, paths):
        spec_sum = file_sha256(path) or ""
        key = hashlib.sha256(f"{spec_sum}-{key_base}".encode()).hexdigest()[:24]
        cache_path = validation_cache_dir() / f"v{entry.version}-{key}.json"
        cache_paths[entry.version] = cache_path
        cached = _read_cached(cache_path) if use_cache else None
        if cached is not None and cached.get("version") == entry.version:
            reports[entry.version] = _report_from_data(cached, from_cache=True)
            if progress is not None:
                progress(reports[entry.version])
        else:
            pending.append((entry, path))

    for entry, data in _run_pending(pending, str(corrections_path), workers):
        if use_cache:
            _write_cached(cache_paths[entry.version], data)
        reports[entry.version] = _report_from_data(data, from_cache=False)
        if progress is not None:
            progress(reports[entry.version])

    return [reports[entry.version] for entry in entries]


def _run_pending(
    pending: list[tuple[ManifestEntry, Path]],
    corrections_path: str,
    workers: int | None,
) -> Iterator[tuple[ManifestEntry, dict[str, Any]]]:
    if not pending:
        return
    count = min(len(pending), workers or os.cpu_count() or 1)
    started = time.perf_counter()
    if count == 1:
        for entry, path in pending:
            yield entry, _validate_path(entry.version, str(path), corrections_path)
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            futures = [
                (
                    entry,
                    pool.submit(
                        _validate_path, entry.version, str(path), corrections_path
                    ),
                )
                for entry, path in pending
            ]
            for entry, future in futures:
                yield entry, future.result()
    logger.debug(
        "validated %d version(s) in %d process(es) in %.2f s",
        len(pending),
        count,
        time.perf_counter() - started,
    )


def validate_versions(
    entries_or_versions: Sequence[ManifestEntry] | Sequence[str] | None,
    source: str | None = None,
) -> dict[str, list[Finding]]:
    """Validate the given versions (all when None); return each version's findings, oldest first."""
    return {
        report.version: list(report.findings)
        for report in validate_reports(entries_or_versions, source)
    }
