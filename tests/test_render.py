"""Planning and rendering a version package from a small spec written for these tests."""

from __future__ import annotations

from pathlib import Path

import black
import pytest

from generator.formatting import Formatter
from generator.load import load_document
from generator.model import build_model
from generator.plan import PackagePlan, plan_package
from generator.render import Renderer, RenderedPackage

SPEC = Path(__file__).parent / "specs" / "render" / "widgets.yaml"


@pytest.fixture(scope="module")
def plan() -> PackagePlan:
    return plan_package(build_model("1.41", load_document(SPEC)))


def render_texts(plan: PackagePlan) -> dict[str, str]:
    rendered: RenderedPackage = Renderer().render(plan)
    formatter = Formatter(cache_file=None, workers=1)
    formatter.format_modules(rendered.modules.values())
    texts = {path: formatter.text(module) for path, module in rendered.modules.items()}
    texts.update(rendered.files)
    return texts


def test_plan_names_inline_objects_after_their_owner(plan: PackagePlan) -> None:
    names = {cls.name for cls in plan.classes}
    assert {"Widget", "WidgetPartsItem", "PortBinding", "WidgetConfig"} <= names
    assert "WidgetCreateRequest" in names
    assert "WidgetCreateResponse" in names


def test_plan_merges_all_of_parts(plan: PackagePlan) -> None:
    request = next(cls for cls in plan.classes if cls.name == "WidgetCreateRequest")
    assert [f.wire_name for f in request.fields] == ["Name", "Color"]


def test_plan_spells_aliases_inline(plan: PackagePlan) -> None:
    widget = next(cls for cls in plan.classes if cls.name == "Widget")
    types = {f.wire_name: f.type for f in widget.fields}
    assert types["Ports"] == "dict[str, list[PortBinding] | None]"
    assert types["Kind"] == "str"
    assert types["Shape"] == "str"
    assert types["Labels"] == "dict[str, str]"
    assert types["Parts"] == "list[WidgetPartsItem]"
    aliases = {alias.name: alias.type for alias in plan.aliases}
    assert aliases == {"PortMap": "dict[str, list[PortBinding] | None]", "WidgetKind": "str"}


def test_plan_renames_reserved_field_names(plan: PackagePlan) -> None:
    widget = next(cls for cls in plan.classes if cls.name == "Widget")
    python_names = {f.wire_name: f.python_name for f in widget.fields}
    assert python_names["from"] == "from_"
    assert python_names["extra"] == "extra_"


def test_plan_operations(plan: PackagePlan) -> None:
    (group,) = plan.groups
    assert group.attribute == "widget"  # only known countable tags are plural
    by_name = {op.method_name: op for op in group.operations}
    assert sorted(by_name) == [
        "archive", "archive_info", "create", "delete", "list", "part_inspect", "put_archive",
    ]
    assert by_name["list"].response_kind == "JSON"
    assert by_name["list"].return_annotation == "builtins.list[models.Widget]"
    assert by_name["list"].keyword_arguments[1].json_encoded
    assert by_name["create"].body is not None
    assert by_name["create"].body.type == "models.WidgetCreateRequest | Mapping[str, Any]"
    assert by_name["create"].result_type == "WidgetCreateResponse"
    assert [a.python_name for a in by_name["part_inspect"].path_arguments] == ["id", "part"]
    assert by_name["part_inspect"].keyword_arguments[0].python_name == "x_registry_auth"
    assert by_name["archive_info"].response_kind == "HEADERS"
    assert by_name["archive"].response_kind == "BYTES"
    assert by_name["put_archive"].body_kind == "BINARY"
    assert by_name["put_archive"].body_content_type == "application/x-tar"
    assert by_name["delete"].response_kind == "NONE"
    assert by_name["delete"].keyword_arguments[0].collection_format == "multi"


def test_rendered_modules_compile_and_match_black(plan: PackagePlan) -> None:
    texts = render_texts(plan)
    for path, text in texts.items():
        if not path.endswith(".py"):
            continue
        compile(text, path, "exec")
        assert black.format_str(text, mode=black.Mode()) == text, path


def test_rendering_is_deterministic(plan: PackagePlan) -> None:
    first = render_texts(plan)
    second = render_texts(plan_package(build_model("1.41", load_document(SPEC))))
    assert first == second


def test_rendered_package_metadata(plan: PackagePlan) -> None:
    texts = render_texts(plan)
    assert 'name = "docker-engine-v1-41"' in texts["pyproject.toml"]
    assert '"1.41" = "docker_engine_v1_41:Client"' in texts["pyproject.toml"]
    assert "docker_engine_v1_41/py.typed" in texts
    assert "`client.widget`" in texts["README.md"]
