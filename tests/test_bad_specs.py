"""Broken and awkward spec files through the real command line: a located error or a package.

The specs in tests/specs/broken/ are written for these tests. Each broken one must end in
one `error:` line (or, for `validate`, located findings) that names the file, the place
(a JSON pointer, or a line and column for YAML) and the reason, never a traceback. The
awkward but legal ones (keyword names, names that are not identifiers, recursive
definitions) must give a package that compiles and imports with the runtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import build, cli, naming
from generator.commands.generate import _build_history, _load_models, _validate
from generator.load import load_document
from generator.manifest import display_path, load_manifest
from generator.model import build_model
from generator.plan import PackagePlan, plan_package
from generator.spec_file import MAX_SPEC_BYTES
from tests.specs_support import SHARED_SPECS, TEST_SPECS

BROKEN = TEST_SPECS / "broken"

needs_mirror = pytest.mark.skipif(
    not SHARED_SPECS.is_dir(), reason=f"spec mirror {SHARED_SPECS} is not on this machine"
)


@pytest.fixture(scope="session")
def format_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's cache of black's results, so that reruns reuse it."""
    copy = tmp_path_factory.mktemp("bad-specs") / "format-cache.pickle"
    if build.FORMAT_CACHE.exists():
        shutil.copy(build.FORMAT_CACHE, copy)
    return copy


@pytest.fixture(autouse=True)
def private_format_cache(format_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `generate` writes black's results to build.FORMAT_CACHE, which is the repository's.
    monkeypatch.setattr(build, "FORMAT_CACHE", format_cache)
    monkeypatch.delenv("SPECS_FROM", raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# (file, where the problem is, part of the expected message). `where` is a JSON pointer
# for problems in the document and a YAML position for problems in the file's syntax.
LOAD_ERRORS = [
    ("yaml-syntax.yaml", "line 11, column 1", "invalid YAML"),
    ("yaml-indentation.yaml", "line 10, column 6", "invalid YAML"),
    ("yaml-tab.yaml", "line 1, column 1", "cannot start any token"),
    ("duplicate-key.yaml", "line 13, column 3", "duplicate key '/widgets'"),
    ("empty.yaml", "", "the file is empty"),
    ("comments-only.yaml", "", "the file is empty"),
    ("top-level-list.yaml", "", "the top level is a list"),
    ("version-unknown.yaml", "/info/version", "is 1.4, not a quoted string"),
    ("version-invalid.yaml", "/info/version", "invalid API version 'latest'"),
]

# (file, JSON pointer, validation rule, part of the expected message)
VALIDATION_ERRORS = [
    ("ref-dangling.yaml", "/definitions/Widget/properties/Owner/$ref", "ref-unresolved", "does not resolve"),
    ("ref-cycle.yaml", "/definitions/Gadget/$ref", "ref-cycle", "Gadget -> Widget -> Gadget"),
    ("allof-cycle.yaml", "/definitions/Gadget/allOf/0/$ref", "ref-cycle", "Gadget -> Widget -> Gadget"),
    ("paths-missing.yaml", "/paths", "paths-missing", "no `paths` mapping"),
    ("swagger-version.yaml", "/swagger", "swagger-version", "is '3.0', expected \"2.0\""),
    ("openapi-3.yaml", "/swagger", "swagger-version", "is None, expected \"2.0\""),
    (
        "operation-id-duplicate.yaml",
        "/paths/~1gadgets/get/operationId",
        "operation-id-duplicate",
        "'WidgetList' is also used by GET /widgets",
    ),
    ("operation-id-missing.yaml", "/paths/~1widgets/get", "operation-id-missing", "has no operationId"),
    (
        "parameter-type-missing.yaml",
        "/paths/~1widgets/get/parameters/0",
        "parameter-type-missing",
        "neither `type` nor `schema`",
    ),
    (
        "body-two-schemas.yaml",
        "/paths/~1widgets/post/parameters/1",
        "body-parameter-multiple",
        "has 2 body parameters",
    ),
    (
        "body-schema-missing.yaml",
        "/paths/~1widgets/post/parameters/0",
        "parameter-type-missing",
        "neither `type` nor `schema`",
    ),
    ("required-not-string.yaml", "/definitions/Widget/required/0", "swagger-schema", "is not of type 'string'"),
]

LEGAL_SPECS = ["keyword-names.yaml", "odd-names.yaml", "ref-recursive.yaml"]


def test_corpus_lists_every_file() -> None:
    listed = {name for name, *_ in LOAD_ERRORS + VALIDATION_ERRORS} | set(LEGAL_SPECS)
    assert listed == {path.name for path in BROKEN.glob("*.yaml")}


@pytest.mark.parametrize(("name", "where", "reason"), LOAD_ERRORS, ids=[case[0] for case in LOAD_ERRORS])
@pytest.mark.parametrize("command", ["validate", "generate"])
def test_unreadable_spec_is_one_error_line(
    command: str, name: str, where: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = BROKEN / name
    link = tmp_path / "generated"
    extra = ["--output", str(link)] if command == "generate" else []

    status, out, err = run_cli(capsys, command, "--spec", str(spec), *extra)

    assert status == 2
    assert "Traceback" not in err
    (line,) = error_lines(err)
    assert name in line
    assert where in line
    assert reason in line
    assert out == ""
    assert not link.exists()


@pytest.mark.parametrize(
    ("name", "pointer", "rule", "reason"), VALIDATION_ERRORS, ids=[case[0] for case in VALIDATION_ERRORS]
)
def test_invalid_spec_fails_validation_located(
    name: str, pointer: str, rule: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(capsys, "validate", "--spec", str(BROKEN / name))

    assert status == 1
    assert "Traceback" not in err
    finding = next(line for line in out.splitlines() if line.endswith(f"[{rule}]"))
    assert finding.startswith(f"9.1 error {pointer} : ")
    assert reason in finding
    assert f"validation failed for {BROKEN / name} (API 9.1)" in err


@pytest.mark.parametrize(
    ("name", "pointer", "rule", "reason"), VALIDATION_ERRORS, ids=[case[0] for case in VALIDATION_ERRORS]
)
def test_invalid_spec_generates_nothing(
    name: str, pointer: str, rule: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "generated"

    status, _, err = run_cli(capsys, "generate", "--spec", str(BROKEN / name), "--output", str(link))

    assert status == 2
    assert "Traceback" not in err
    (line,) = error_lines(err)
    assert line.startswith(f"error: {display_path(BROKEN / name)} (API 9.1): ")
    assert "nothing was generated" in line
    listed = next(line for line in err.splitlines() if line.endswith(f"[{rule}]"))
    assert listed.startswith(f"  {pointer}: ")
    assert reason in listed
    assert not link.exists()
    assert not build.builds_folder(link).exists()


def test_huge_file_is_rejected_before_parsing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A well-formed document of 50 MiB: a small spec followed by a description that long.
    spec = tmp_path / "v9.1.yaml"
    head = 'swagger: "2.0"\ninfo:\n  title: huge\n  version: "9.1"\npaths: {}\ndescription: "'
    with spec.open("w") as stream:
        stream.write(head)
        stream.write("x" * (50 * 1024 * 1024 - len(head) - 2))
        stream.write('"\n')
    assert spec.stat().st_size == 50 * 1024 * 1024

    for argv in (["validate", "--spec", str(spec)], ["generate", "--spec", str(spec), "--output", str(tmp_path / "out")]):
        status, _, err = run_cli(capsys, *argv)
        assert status == 2
        (line,) = error_lines(err)
        assert str(spec) in line
        assert "50.0 MiB" in line
        assert f"{MAX_SPEC_BYTES // 1024 // 1024} MiB" in line
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "--spec", "{missing}"], "spec file not found: {missing}"),
        (["generate", "--spec", "{folder}"], "{folder} is a folder; --spec takes one spec file"),
        (["generate", "--spec", "{legal}", "1.41"], "drop the VERSION arguments and --from"),
        (["validate", "--spec", "{legal}", "--from", "{folder}"], "drop the VERSION arguments and --from"),
        (["generate", "--version", "1.41"], "--version and --no-corrections apply to --spec FILE only"),
        (["validate", "--no-corrections"], "--version and --no-corrections apply to --spec FILE only"),
        (["generate", "--spec", "{legal}", "--version", "one"], "invalid API version 'one'"),
        (
            ["generate", "--spec", "{legal}", "--output", "{folder}/nowhere/generated"],
            "the folder {folder}/nowhere does not exist",
        ),
    ],
)
def test_spec_option_misuse_is_one_error_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {"missing": str(tmp_path / "v1.99.yaml"), "folder": str(tmp_path), "legal": str(BROKEN / LEGAL_SPECS[0])}

    status, _, err = run_cli(capsys, *(argument.format(**names) for argument in argv))

    assert status == 2
    (line,) = error_lines(err)
    assert message.format(**names) in line
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Legal but awkward names


def plan_of(name: str) -> PackagePlan:
    document = load_document(BROKEN / name)
    return plan_package(build_model(document["info"]["version"], document))


def test_keyword_names_get_python_names() -> None:
    plan = plan_of("keyword-names.yaml")

    assert {cls.name for cls in plan.classes} == {"class_", "None_", "Any_", "list_", "Model_"}
    assert [alias.name for alias in plan.aliases] == ["str_"]
    groups = {group.attribute: group for group in plan.groups}
    assert sorted(groups) == ["import_", "match_", "none"]
    assert [op.method_name for op in groups["import_"].operations] == ["class_"]
    with_ = groups["none"].operations[0]
    assert with_.method_name == "with_"
    assert [argument.python_name for argument in with_.path_arguments] == ["self_"]
    assert [argument.python_name for argument in with_.keyword_arguments] == ["request_timeout_"]
    class_ = next(cls for cls in plan.classes if cls.name == "class_")
    assert [field.python_name for field in class_.fields] == [
        "from_", "import_", "none", "self", "extra_", "to_dict_", "wire_names", "model",
    ]


def test_non_identifier_names_get_python_names() -> None:
    plan = plan_of("odd-names.yaml")

    assert {cls.name for cls in plan.classes} == {"ItemRecord", "item_record", "N1StItem", "Ünïcödé", "Value"}
    groups = {group.attribute: group for group in plan.groups}
    # "Call" and "Host" would replace BaseClient.call and BaseClient.host.
    assert sorted(groups) == ["call_", "host_", "my_tag", "my_tag_", "n123", "x_n_u12_end"]
    assert len({group.class_name for group in plan.groups}) == len(plan.groups)
    fast = groups["my_tag"].operations[0]
    assert fast.method_name == "n2_fast"
    assert [argument.python_name for argument in fast.path_arguments] == ["item_id", "item_id_"]
    assert [argument.python_name for argument in fast.keyword_arguments] == ["x_y", "value", "cast_", "ops_", "x_y_"]
    assert [op.method_name for op in groups["n123"].operations] == ["item_create", "item_create_"]
    constants = [op.constant for op in plan.operations]
    assert len(set(constants)) == len(constants)


def test_reserved_names_cover_the_runtime() -> None:
    from docker_engine import AsyncBaseClient, BaseClient, Model

    for client_class in (BaseClient, AsyncBaseClient):
        public = {name for name in dir(client_class) if not name.startswith("_")}
        assert public - {"PACKAGE_API_VERSION", "MODELS_MODULE"} <= naming.RESERVED_CLIENT_ATTRIBUTES
    model_public = {name for name in dir(Model) if not name.startswith("_")}
    assert {naming.field_name(name) for name in model_public}.isdisjoint(model_public)


IMPORT_SCRIPT = """
import importlib, inspect, sys
import docker_engine
name = sys.argv[1]
package = importlib.import_module(name)
models = importlib.import_module(name + ".models")
decoded = 0
for value in vars(models).values():
    if inspect.isclass(value) and issubclass(value, docker_engine.Model) and value.__module__ == models.__name__:
        # The first decode evaluates every annotation of the class in the models module.
        value.from_dict({})
        decoded += 1
client = package.Client("unix:///nonexistent/docker.sock")
assert issubclass(package.AsyncClient, docker_engine.AsyncBaseClient)
groups = sorted(
    attribute for attribute, member in vars(package.Client).items()
    if not attribute.startswith("_") and isinstance(getattr(client, attribute), docker_engine.Group)
)
print(decoded, " ".join(groups))
"""


@pytest.mark.parametrize("name", LEGAL_SPECS)
def test_awkward_spec_gives_working_package(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "generated"

    status, _, err = run_cli(capsys, "generate", "--spec", str(BROKEN / name), "--output", str(link))

    assert status == 0, err
    plan = plan_of(name)
    folder = link / plan.package
    modules = sorted((folder / plan.package).glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        compile(module.read_text(encoding="utf-8"), str(module), "exec")

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, plan.package],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(folder)),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    decoded, _, groups = result.stdout.strip().partition(" ")
    assert int(decoded) == len(plan.classes)
    assert groups.split() == sorted(group.attribute for group in plan.groups)


def test_two_links_in_one_folder_keep_their_builds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first", tmp_path / "second"

    assert run_cli(capsys, "generate", "--spec", str(BROKEN / "keyword-names.yaml"), "--output", str(first))[0] == 0
    assert run_cli(capsys, "generate", "--spec", str(BROKEN / "odd-names.yaml"), "--output", str(second))[0] == 0

    assert (first / "docker_engine_v9_2" / "pyproject.toml").is_file()
    assert (second / "docker_engine_v9_3" / "pyproject.toml").is_file()
    assert build.current_build(first).parent.name == ".first"  # type: ignore[union-attr]
    assert build.current_build(second).parent.name == ".second"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Real specs through --spec, and the manifest's --from folder


@needs_mirror
def test_spec_file_validates_like_its_manifest_version(capsys: pytest.CaptureFixture[str]) -> None:
    spec = SHARED_SPECS / "v1.41.yaml"

    status, from_file, _ = run_cli(capsys, "validate", "--spec", str(spec))
    assert status == 0
    status, from_manifest, _ = run_cli(capsys, "validate", "--from", str(SHARED_SPECS), "--no-cache", "1.41")
    assert status == 0
    assert from_file == from_manifest
    assert "corrections applied:" in from_file


@needs_mirror
def test_spec_file_package_counts_from_its_own_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A development spec: the published 1.41 file under another version.
    spec = tmp_path / "v1.99.yaml"
    spec.write_text((SHARED_SPECS / "v1.41.yaml").read_text().replace('version: "1.41"', 'version: "1.99"', 1))
    link = tmp_path / "generated"

    status, _, err = run_cli(capsys, "generate", "--spec", str(spec), "--output", str(link), "--no-corrections")

    assert status == 0, err
    operations = (link / "docker_engine_v1_99" / "docker_engine_v1_99" / "_operations.py").read_text()
    assert 'API_VERSION = "1.99"' in (link / "docker_engine_v1_99" / "docker_engine_v1_99" / "__init__.py").read_text()
    # Everything counts as added in 1.99, so nothing lists body fields added later.
    assert len(re.findall(r'^    since="1\.99",$', operations, re.MULTILINE)) == operations.count(" = Operation(")
    assert "body_fields_since={" not in operations
    stamp = json.loads((link / build.STAMP_NAME).read_text())
    assert stamp["versions"] == ["1.99"]
    assert stamp["spec_files"]["1.99"]["sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()


@needs_mirror
def test_manifest_generate_renders_spec_versions_again(tmp_path: Path, format_cache: Path) -> None:
    link = tmp_path / "generated"

    def manifest_generate() -> build.BuildReport:
        return build.generate(
            ["1.41"],
            source=str(SHARED_SPECS),
            load_models=_load_models,
            validate=_validate,
            build_history=_build_history,
            link=link,
            format_cache=format_cache,
        )

    assert not manifest_generate().up_to_date
    official = (link / "docker_engine_v1_41" / "README.md").read_text()

    # A development copy of 1.41 replaces the package; 9.4 comes along from the corpus.
    development = tmp_path / "v1.41.yaml"
    development.write_text((SHARED_SPECS / "v1.41.yaml").read_text())
    for spec in (BROKEN / "ref-recursive.yaml", development):
        status = cli.main(["generate", "--spec", str(spec), "--output", str(link)])
        assert status == 0
    assert (link / "docker_engine_v1_41" / "README.md").read_text() != official
    assert sorted(json.loads((link / build.STAMP_NAME).read_text())["spec_files"]) == ["1.41", "9.4"]

    # The manifest's 1.41 is not up to date while the package comes from the spec file.
    report = manifest_generate()
    assert not report.up_to_date
    assert report.carried_over == ["9.4"]
    assert (link / "docker_engine_v1_41" / "README.md").read_text() == official
    assert sorted(json.loads((link / build.STAMP_NAME).read_text())["spec_files"]) == ["9.4"]
    assert manifest_generate().up_to_date


@needs_mirror
@pytest.mark.parametrize("command", ["generate", "validate"])
@pytest.mark.parametrize("problem", ["checksum", "missing"])
def test_bad_source_folder_names_file_and_sums(
    problem: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SPECS_CACHE", str(cache))
    source = tmp_path / "source"
    source.mkdir()
    for spec in SHARED_SPECS.glob("v*.yaml"):
        (source / spec.name).symlink_to(spec)
    broken = source / "v1.25.yaml"
    broken.unlink()
    if problem == "checksum":
        broken.write_text((SHARED_SPECS / "v1.25.yaml").read_text() + "# changed\n")
    link = tmp_path / "generated"
    extra = ["--output", str(link)] if command == "generate" else []

    status, _, err = run_cli(capsys, command, "--from", str(source), *extra, "1.25")

    assert status == 2
    assert "Traceback" not in err
    (line,) = error_lines(err)
    assert str(broken) in line
    if problem == "checksum":
        expected = load_manifest().entries["1.25"].sha256
        actual = hashlib.sha256(broken.read_bytes()).hexdigest()
        assert f"expected sha256 {expected}, got {actual}" in line
    else:
        assert "does not exist" in line
        assert "must contain v1.25.yaml" in line
    assert not link.exists()
    assert not (cache / "v1.25.yaml").exists()
