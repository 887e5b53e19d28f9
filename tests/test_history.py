"""The feature history on a series of four miniature versions (tests/specs/diff/history_series.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.errors import GeneratorError
from generator.history import FeatureHistory, build_feature_history
from generator.model import build_model

SERIES = Path(__file__).parent / "specs" / "diff" / "history_series.yaml"


@pytest.fixture(scope="module")
def history() -> FeatureHistory:
    documents = yaml.safe_load(SERIES.read_text())
    return build_feature_history([build_model(version, document) for version, document in documents.items()])


def test_operation_in_oldest_counts_as_oldest(history: FeatureHistory) -> None:
    assert history.versions == ("1.25", "1.26", "1.27", "1.28")
    assert history.operation_since("1.28", "ThingCreate") == "1.25"


def test_operation_readded_counts_from_return(history: FeatureHistory) -> None:
    assert history.operation_since("1.26", "ThingPause") == "1.26"
    assert history.operation_since("1.28", "ThingPause") == "1.28"
    with pytest.raises(KeyError, match="API 1.27 has no operation 'ThingPause'"):
        history.operation_since("1.27", "ThingPause")


def test_renamed_operation_keeps_first_version(history: FeatureHistory) -> None:
    # ThingGetArchive became ThingArchive in 1.26 on the same method and path.
    assert history.operation_since("1.26", "ThingArchive") == "1.25"
    assert history.operation_since("1.28", "ThingArchive") == "1.25"


def test_parameter_since_with_gap(history: FeatureHistory) -> None:
    assert history.parameter_since("1.26", "ThingCreate", "query", "platform") == "1.26"
    assert history.parameter_since("1.28", "ThingCreate", "query", "platform") == "1.28"
    assert history.parameter_since("1.28", "ThingCreate", "query", "name") == "1.25"
    with pytest.raises(KeyError, match="no query parameter 'platform'"):
        history.parameter_since("1.27", "ThingCreate", "query", "platform")


def test_body_parameter_since_ignores_its_name(history: FeatureHistory) -> None:
    # The body is called "body" in 1.25 and "config" later.
    assert history.parameter_since("1.28", "ThingCreate", "body", "config") == "1.25"


def test_body_fields_since_notation(history: FeatureHistory) -> None:
    fields = history.body_fields_since("1.26", "ThingCreate")
    assert fields == {
        "HostConfig.Annotations": "1.26",
        "HostConfig.Mounts[].VolumeOptions": "1.26",
        "HostConfig.Mounts[].VolumeOptions.Subpath": "1.26",
        "Endpoints": "1.26",
        "Endpoints{}.DriverOpts": "1.26",
    }


def test_body_fields_since_after_removal(history: FeatureHistory) -> None:
    # Annotations left in 1.27 and came back in 1.28; Subpath stayed from 1.26 on.
    assert history.body_fields_since("1.28", "ThingCreate") == {
        "HostConfig.Annotations": "1.28",
        "HostConfig.Mounts[].VolumeOptions": "1.26",
        "HostConfig.Mounts[].VolumeOptions.Subpath": "1.26",
    }


def test_body_fields_include_oldest_fields(history: FeatureHistory) -> None:
    fields = history.body_fields("1.28", "ThingCreate")
    assert fields["Image"] == "1.25"
    assert fields["HostConfig.Mounts[].Target"] == "1.25"
    assert history.body_field_since("1.28", "ThingCreate", "HostConfig.Mounts") == "1.25"


def test_operation_without_body(history: FeatureHistory) -> None:
    assert history.body_fields_since("1.28", "ThingArchive") == {}


def test_response_field_since(history: FeatureHistory) -> None:
    assert history.response_field_since("1.26", "ThingCreate", "201", "Warnings") == "1.26"
    assert history.response_field_since("1.26", "ThingCreate", "201", "Id") == "1.25"
    with pytest.raises(KeyError, match="no field 'Id' in response 201"):
        history.response_field_since("1.27", "ThingCreate", "201", "Id")


def test_unknown_version_message(history: FeatureHistory) -> None:
    with pytest.raises(KeyError, match="API 1.40 is not in this history, which covers 1.25 to 1.28"):
        history.operation_since("1.40", "ThingCreate")


def test_history_needs_models() -> None:
    with pytest.raises(GeneratorError, match="at least one API version"):
        build_feature_history([])
