"""Property tests: a mutated real spec ends in a located error or in a package that compiles.

Each test takes the published 1.25 or 1.41 spec, loaded once per module, and changes it in
one way that hypothesis draws. The changes are a deleted key, a value of another type, a
duplicate operationId, a `$ref` pointed elsewhere, a name turned into a keyword or a
non-identifier, and a dropped `type`. Then the test runs what `validate --spec` and
`generate --spec` run. Whatever the input, the
outcome is one of two: a GeneratorError that names the file and a place, or a package whose
modules compile and import with the runtime, and whose models decode.

Validation takes most of each example's time, about 0.5 to 1 s on a 2-core machine, so
the tests run `EXAMPLES` examples each (env SPEC_MUTATION_EXAMPLES, default 20), twice that
for names, which found the most bugs, and a quarter for duplicate operationIds, which always
fail validation. All of them take about two minutes. Set SPEC_MUTATION_EXAMPLES=200 for a
deeper run.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import json
import keyword
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from generator import build
from generator.corrections import escape_token, join_pointer
from generator.errors import GeneratorError
from generator.history import build_feature_history
from generator.load import load_document
from generator.spec_file import SpecFile, check_spec, model_from_check, version_report
from tests.specs_support import SHARED_SPECS

pytestmark = pytest.mark.skipif(
    not SHARED_SPECS.is_dir(), reason=f"spec mirror {SHARED_SPECS} is not on this machine"
)

VERSIONS = ("1.25", "1.41")
EXAMPLES = int(os.environ.get("SPEC_MUTATION_EXAMPLES") or 20)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_POINTER = re.compile(r"(?:^|[\s'(])#?/[^\s]*")

# Names that are legal in a spec but not as Python names, or that mean something in the
# generated modules: keywords, soft keywords, builtins, the runtime's and the templates' names.
AWKWARD_NAMES = sorted(
    {
        *keyword.kwlist,
        *keyword.softkwlist,
        "self", "cls", "body", "request_timeout", "cast", "ops", "models", "builtins", "functools",
        "list", "dict", "str", "int", "float", "bool", "bytes", "type", "object",
        "Any", "Mapping", "Sequence", "Model", "Client", "Group", "BaseClient", "BinaryBody",
        "Operation", "Parameter", "Location", "ResponseKind", "BodyKind",
        "extra", "from_dict", "to_dict", "_wire_names", "_decoders", "__init__", "__class__",
        "call", "host", "close", "api_version",
        "", "_", "__", "1", "2fast", "a-b", "a b", "a.b", "a/b", "a~b", "{x}", "ü", "日本", "-", '"', "\\",
        # Text that generated string literals and docstrings must escape.
        "\\x", "\\N", "\\u12", '"""', "nul\x00", "bell\x07", "line\u2028separator", "a\nb",
    }
)


# ---------------------------------------------------------------------------------------------
# The real specs and the places a mutation can reach


@dataclass(frozen=True)
class RealSpec:
    """A published spec as loaded, with the locations that mutations pick from."""

    version: str
    document: dict[str, Any]
    entries: tuple[tuple[str, ...], ...]  # every mapping member and list item, as tokens
    members: tuple[tuple[str, ...], ...]  # every mapping member only
    refs: tuple[tuple[str, ...], ...]  # every `$ref` member
    typed: tuple[tuple[str, ...], ...]  # every mapping that has a `type` member
    operations: tuple[tuple[str, str], ...]  # (path, method)
    properties: tuple[tuple[str, ...], ...]  # every `properties` mapping that has members
    parameters: tuple[tuple[str, ...], ...]  # every parameter object with a name
    definitions: tuple[str, ...]


def _walk(value: Any, tokens: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield tokens, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*tokens, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*tokens, str(index)))


@functools.lru_cache(maxsize=None)
def real_spec(version: str) -> RealSpec:
    document = load_document(SHARED_SPECS / f"v{version}.yaml")
    nodes = list(_walk(document, ()))
    dicts = {tokens for tokens, value in nodes if isinstance(value, dict)}
    paths = document["paths"]
    return RealSpec(
        version=version,
        document=document,
        entries=tuple(tokens for tokens, _ in nodes if tokens),
        members=tuple(tokens for tokens, _ in nodes if tokens and tokens[:-1] in dicts),
        refs=tuple(tokens for tokens, _ in nodes if tokens and tokens[-1] == "$ref" and tokens[:-1] in dicts),
        typed=tuple(tokens for tokens, value in nodes if isinstance(value, dict) and "type" in value),
        operations=tuple(
            (path, method) for path, item in paths.items() for method in HTTP_METHODS if method in item
        ),
        properties=tuple(
            tokens
            for tokens, value in nodes
            if tokens and tokens[-1] == "properties" and isinstance(value, dict) and value
            and "example" not in tokens and "examples" not in tokens
        ),
        parameters=tuple(
            tokens
            for tokens, value in nodes
            if len(tokens) >= 2 and tokens[-2] == "parameters" and isinstance(value, dict) and "name" in value
        ),
        definitions=tuple(document.get("definitions", {})),
    )


def resolve(document: Any, tokens: tuple[str, ...]) -> Any:
    node = document
    for token in tokens:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def rename_key(mapping: dict[str, Any], old: str, new: str) -> None:
    """Rename a member in place, keeping the order. A member already called `new` is replaced."""
    items = [(new if key == old else key, value) for key, value in mapping.items() if key != new or key == old]
    mapping.clear()
    mapping.update(items)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=6,
)
VALUES_BY_TYPE = {
    "null": st.none(),
    "boolean": st.booleans(),
    "number": st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    "string": st.text(max_size=20),
    "array": st.lists(JSON_VALUES, max_size=3),
    "object": st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3),
}
NAMES = st.sampled_from(AWKWARD_NAMES) | st.text(max_size=12)


# ---------------------------------------------------------------------------------------------
# The pipeline under test


@dataclass(frozen=True)
class Outcome:
    kind: str  # "error" or "package"
    detail: str


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mutations")
    if build.FORMAT_CACHE.exists():
        shutil.copy(build.FORMAT_CACHE, folder / "format-cache.pickle")
    return folder


def assert_located(message: str, label: str) -> None:
    assert message.startswith(label), message
    assert _POINTER.search(message), f"no JSON pointer in: {message}"


def run_pipeline(version: str, document: dict[str, Any], workdir: Path) -> Outcome:
    """Validate and generate `document` as `validate --spec` and `generate --spec` do."""
    spec = SpecFile(path=Path(f"mutated-v{version}.yaml"), version=version, document=document, sha256="0" * 64)
    label = f"mutated-v{version}.yaml"

    check = check_spec(spec)
    report = version_report(spec, check)
    assert report.errors == len(check.errors)
    if check.errors:
        # Each finding has a JSON pointer ("" is the whole document). A validator that
        # stopped early has no useful one, so another finding must locate the problem.
        assert any(finding.rule != "validator-failed" for finding in check.errors), check.errors
    try:
        model = model_from_check(spec, check)
        build.generate_spec(
            model,
            build_feature_history([model]),
            origin={"file": str(spec.path), "sha256": spec.sha256},
            link=workdir / "generated",
            format_cache=workdir / "format-cache.pickle",
        )
    except GeneratorError as error:
        message = str(error)
        assert_located(message, label)
        rules = sorted({finding.rule for finding in check.errors}) or ["model"]
        note_outcome(f"error: {', '.join(rules[:3])}")
        return Outcome("error", message)

    note_outcome("package")
    assert not check.errors
    check_package(workdir / "generated" / f"docker_engine_v{version.replace('.', '_')}")
    return Outcome("package", "")


def note_outcome(text: str) -> None:
    # Shown by pytest --hypothesis-show-statistics, to see how often mutations pass validation.
    if currently_in_test_context():
        event(text)


def check_package(folder: Path) -> None:
    """Compile every module of a generated package, import it and decode every model."""
    name = folder.name
    for module in sorted((folder / name).glob("*.py")):
        compile(module.read_text(encoding="utf-8"), str(module), "exec")

    for loaded in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
        del sys.modules[loaded]
    sys.path.insert(0, str(folder))
    try:
        from docker_engine import Model

        package = importlib.import_module(name)
        models = importlib.import_module(name + ".models")
        for value in vars(models).values():
            if inspect.isclass(value) and issubclass(value, Model) and value.__module__ == models.__name__:
                # The first decode evaluates every annotation of the class in the models module.
                value.from_dict({})
        package.Client("unix:///nonexistent/docker.sock")
        assert package.AsyncClient.__name__ == "AsyncClient"
    finally:
        sys.path.remove(str(folder))
        for loaded in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[loaded]


# ---------------------------------------------------------------------------------------------
# The mutations


@SETTINGS
@given(data=st.data())
def test_deleted_key(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    tokens = data.draw(st.sampled_from(spec.members), label="deleted member")
    document = copy.deepcopy(spec.document)
    del resolve(document, tokens[:-1])[tokens[-1]]

    run_pipeline(spec.version, document, workdir)


@SETTINGS
@given(data=st.data())
def test_value_of_another_type(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    tokens = data.draw(st.sampled_from(spec.entries), label="replaced value")
    document = copy.deepcopy(spec.document)
    parent = resolve(document, tokens[:-1])
    old_type = json_type(resolve(document, tokens))
    new_type = data.draw(st.sampled_from([name for name in VALUES_BY_TYPE if name != old_type]), label="new type")
    value = data.draw(VALUES_BY_TYPE[new_type], label="new value")
    if isinstance(parent, list):
        parent[int(tokens[-1])] = value
    else:
        parent[tokens[-1]] = value

    run_pipeline(spec.version, document, workdir)


@settings(SETTINGS, max_examples=max(EXAMPLES // 4, 1))
@given(data=st.data())
def test_duplicate_operation_id(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    first, second = data.draw(st.lists(st.sampled_from(spec.operations), min_size=2, max_size=2, unique=True))
    document = copy.deepcopy(spec.document)
    taken = document["paths"][first[0]][first[1]]["operationId"]
    document["paths"][second[0]][second[1]]["operationId"] = taken

    outcome = run_pipeline(spec.version, document, workdir)

    assert outcome.kind == "error"
    pointers = {join_pointer(["paths", *operation, "operationId"]) for operation in (first, second)}
    assert any(f"  {pointer}: operationId {taken!r}" in outcome.detail for pointer in pointers), outcome.detail


@SETTINGS
@given(data=st.data())
def test_ref_pointed_elsewhere(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    tokens = data.draw(st.sampled_from(spec.refs), label="changed $ref")
    owner = tokens[1] if tokens[0] == "definitions" else None
    targets = st.sampled_from(spec.definitions) | st.text(max_size=10)
    if owner is not None:
        # Back to the definition that contains the reference: a tree, or a cycle.
        targets = targets | st.just(owner)
    ref = data.draw(
        st.one_of(
            targets.map(lambda name: "#/definitions/" + escape_token(name)),
            st.sampled_from(["#/paths", "#/info", "#/definitions", "#", "#/", "definitions/Widget", "other.yaml#/definitions/Widget"]),
        ),
        label="new $ref",
    )
    document = copy.deepcopy(spec.document)
    resolve(document, tokens[:-1])["$ref"] = ref

    run_pipeline(spec.version, document, workdir)


@settings(SETTINGS, max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_awkward_name(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    document = copy.deepcopy(spec.document)
    place = data.draw(st.sampled_from(["property", "parameter", "definition", "operationId", "tag"]))
    new = data.draw(NAMES, label="new name")

    if place == "property":
        tokens = data.draw(st.sampled_from(spec.properties), label="properties")
        properties = resolve(document, tokens)
        old = data.draw(st.sampled_from(sorted(properties)), label="property")
        rename_key(properties, old, new)
        owner = resolve(document, tokens[:-1])
        if isinstance(owner.get("required"), list):
            owner["required"] = [new if name == old else name for name in owner["required"]]
    elif place == "parameter":
        tokens = data.draw(st.sampled_from(spec.parameters), label="parameter")
        parameter = resolve(document, tokens)
        old = parameter["name"]
        parameter["name"] = new
        if parameter.get("in") == "path" and tokens[0] == "paths":
            # The path template names the parameter too.
            rename_key(document["paths"], tokens[1], tokens[1].replace("{" + old + "}", "{" + new + "}"))
    elif place == "definition":
        old = data.draw(st.sampled_from(spec.definitions), label="definition")
        rename_key(document["definitions"], old, new)
        old_ref, new_ref = "#/definitions/" + escape_token(old), "#/definitions/" + escape_token(new)
        for ref_tokens in spec.refs:
            try:
                holder = resolve(document, _renamed(ref_tokens[:-1], old, new))
            except KeyError:
                continue  # inside a definition that the new name replaced
            if holder.get("$ref") == old_ref:
                holder["$ref"] = new_ref
    elif place == "operationId":
        path, method = data.draw(st.sampled_from(spec.operations), label="operation")
        document["paths"][path][method]["operationId"] = new
    else:
        path, method = data.draw(st.sampled_from(spec.operations), label="operation")
        document["paths"][path][method]["tags"] = [new]

    run_pipeline(spec.version, document, workdir)


def _renamed(tokens: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    """Return where `tokens` are once the definition `old` is called `new`."""
    if tokens[:2] == ("definitions", old):
        return ("definitions", new, *tokens[2:])
    return tokens


@SETTINGS
@given(data=st.data())
def test_dropped_type(data: st.DataObject, workdir: Path) -> None:
    spec = real_spec(data.draw(st.sampled_from(VERSIONS)))
    tokens = data.draw(st.sampled_from(spec.typed), label="schema or parameter without type")
    document = copy.deepcopy(spec.document)
    del resolve(document, tokens)["type"]

    run_pipeline(spec.version, document, workdir)


def test_unmutated_specs_give_packages(workdir: Path) -> None:
    # The baseline of every property above: the real specs themselves make packages.
    for version in VERSIONS:
        outcome = run_pipeline(version, copy.deepcopy(real_spec(version).document), workdir)
        assert outcome.kind == "package", outcome.detail
    assert json.loads((workdir / "generated" / build.STAMP_NAME).read_text())["versions"] == list(VERSIONS)
