"""The diff, history, since and matrix on the published specs, checked against facts read in the YAML.

Each expected value below was read by hand in the spec files (grep for the operationId,
parameter or field in v1.NN.yaml on both sides of the step).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.cli import main
from generator.diff import ApiDiff, Change, diff_models
from generator.history import FeatureHistory, build_feature_history
from generator.model import ApiModel
from generator.models_cache import all_versions, load_models
from tests.specs_support import SHARED_SPECS

pytestmark = pytest.mark.skipif(
    not SHARED_SPECS.is_dir(), reason=f"the published specs are not at {SHARED_SPECS}"
)


@pytest.fixture(scope="module")
def models() -> dict[str, ApiModel]:
    loaded = load_models(all_versions(), str(SHARED_SPECS))
    return {model.version: model for model in loaded}


@pytest.fixture(scope="module")
def history(models: dict[str, ApiModel]) -> FeatureHistory:
    return build_feature_history(list(models.values()))


def step(models: dict[str, ApiModel], old: str, new: str) -> ApiDiff:
    return diff_models(models[old], models[new])


def only(diff: ApiDiff, **fields: object) -> Change:
    matches = [c for c in diff.changes if all(getattr(c, key) == value for key, value in fields.items())]
    assert len(matches) == 1, f"expected one change with {fields}, found {matches}"
    return matches[0]


def test_platform_appeared_on_container_create(models: dict[str, ApiModel], history: FeatureHistory) -> None:
    change = only(step(models, "1.40", "1.41"), operation="POST /containers/create", location="query platform")
    assert change.change == "added"
    assert not change.breaking
    assert history.parameter_since("1.56", "ContainerCreate", "query", "platform") == "1.41"


def test_container_create_body_fields_since(history: FeatureHistory) -> None:
    fields = history.body_fields_since("1.56", "ContainerCreate")
    assert fields["HostConfig.Annotations"] == "1.43"
    assert fields["HostConfig.Mounts[].VolumeOptions.Subpath"] == "1.45"
    assert fields["NetworkingConfig.EndpointsConfig{}.DriverOpts"] == "1.32"
    assert "Image" not in fields  # in 1.25 already
    assert history.body_field_since("1.56", "ContainerCreate", "Image") == "1.25"


def test_virtual_size_left_image_list_response(models: dict[str, ApiModel]) -> None:
    change = only(step(models, "1.43", "1.44"), location="ImageSummary.VirtualSize")
    assert change.change == "removed"
    assert change.breaking
    places = {(reach.operation, reach.location) for reach in change.reached_by}
    assert ("GET /images/json", "response 200 [].VirtualSize") in places


def test_layers_size_left_disk_usage_response(models: dict[str, ApiModel]) -> None:
    change = only(step(models, "1.51", "1.52"), operation="GET /system/df", location="response 200 LayersSize")
    assert change.rule == "field-removed"


def test_operations_appeared(models: dict[str, ApiModel], history: FeatureHistory) -> None:
    assert history.operation_since("1.56", "ImageAttestations") == "1.55"
    assert history.operation_since("1.56", "SystemPingHead") == "1.40"
    assert history.operation_since("1.56", "VolumeUpdate") == "1.42"
    added = only(step(models, "1.41", "1.42"), operation_id="VolumeUpdate", aspect="operation")
    assert added.operation == "PUT /volumes/{name}"


def test_archive_operations_renamed_in_1_28(models: dict[str, ApiModel], history: FeatureHistory) -> None:
    change = only(step(models, "1.27", "1.28"), operation="GET /containers/{id}/archive", aspect="operationId")
    assert (change.before, change.after) == ("ContainerGetArchive", "ContainerArchive")
    assert history.operation_since("1.56", "ContainerArchive") == "1.25"


def test_platform_became_array_on_image_save(models: dict[str, ApiModel]) -> None:
    change = only(step(models, "1.51", "1.52"), operation="GET /images/get", location="query platform", aspect="type")
    assert (change.before, change.after) == ("string", "array")
    assert change.breaking


def test_every_step_sorted_and_symmetric(models: dict[str, ApiModel]) -> None:
    versions = list(models)
    for old, new in zip(versions, versions[1:]):
        forward = step(models, old, new)
        backward = step(models, new, old)
        assert len(forward.changes) == len(backward.changes), (old, new)
        assert forward == step(models, old, new)


def test_cli_diff_json_fails_on_breaking(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["diff", "1.43", "1.44", "--format", "json", "--fail-on", "breaking", "--from", str(SHARED_SPECS)])
    assert status == 1
    document = json.loads(capsys.readouterr().out)
    record = next(c for c in document["changes"] if c["location"] == "ImageSummary.VirtualSize")
    assert record["operation"] is None
    assert record["definition"] == "ImageSummary"
    assert record["change"] == "removed"
    assert record["breaking"] is True
    assert record["rule"] == "field-removed"
    assert {"before", "after", "reached_by"} <= record.keys()


def test_cli_diff_without_breaking_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "1.54", "1.55", "--fail-on", "breaking", "--from", str(SHARED_SPECS)]) == 0
    assert "GET /images/{name}/attestations" in capsys.readouterr().out


def test_cli_unknown_version_is_clear(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "1.43", "1.99", "--from", str(SHARED_SPECS)]) == 2
    assert "unknown API version 1.99" in capsys.readouterr().err


def test_cli_since_answers(capsys: pytest.CaptureFixture[str]) -> None:
    source = ["--from", str(SHARED_SPECS)]
    assert main(["since", "POST /containers/create", "--param", "platform", *source]) == 0
    assert main(["since", "ContainerCreate", "--field", "HostConfig.Annotations", *source]) == 0
    assert main(["since", "GET /images/json", "--field", "[].VirtualSize", *source]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "POST /containers/create query platform: since 1.41",
        "POST /containers/create body HostConfig.Annotations: since 1.43",
        "GET /images/json response 200 [].VirtualSize: since 1.25; present in 1.25 to 1.43",
    ]


def test_cli_since_unknown_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["since", "POST /containers/creat", "--from", str(SHARED_SPECS)]) == 2
    assert "did you mean 'POST /containers/create'" in capsys.readouterr().err


def test_cli_history_covers_every_step(tmp_path: Path) -> None:
    output = tmp_path / "changelog.md"
    assert main(["history", "--output", str(output), "--from", str(SHARED_SPECS)]) == 0
    text = output.read_text()
    headings = re.findall(r"^## (\S+) \(from (\S+)\)$", text, flags=re.MULTILINE)
    versions = all_versions()
    assert headings == list(reversed(list(zip(versions[1:], versions))))


def test_cli_matrix_self_contained(tmp_path: Path) -> None:
    page = tmp_path / "matrix.html"
    assert main(["matrix", "--html", str(page), "--from", str(SHARED_SPECS)]) == 0
    html = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(http" not in html
    assert html.count('<tr class="row"') == 108  # every operationId lineage, 1.25 to 1.56
    data = json.loads(re.search(r'<script id="matrix-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert data["versions"] == all_versions()
    row = [r["operationId"] for r in data["rows"]].index("ContainerCreate")
    column = data["versions"].index("1.41")
    places = [place for index in data["cells"][f"{row}:{column}"] for place in data["changes"][index]["places"]]
    assert "query platform" in places
