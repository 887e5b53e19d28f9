"""Request building without a daemon: query, path, header and body encoding, version checks."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sample_api import (
    CONTAINER_CREATE,
    CONTAINER_DELETE,
    CONTAINER_INSPECT,
    CONTAINER_LIST,
    IMAGE_INSPECT,
    IMAGE_LIST,
    IMAGE_LOAD,
    IMAGE_PUSH,
    ContainerCreateBody,
    HostConfig,
)

from docker_engine._operation import Operation
from docker_engine._request import OperationPlan, build_target, check_versions, encode_body
from docker_engine._versions import version_key
from docker_engine.errors import APIVersionError, InvalidArgument


def _target(operation: Operation, arguments: dict[str, object], version: str = "1.41") -> str:
    target, _ = build_target(OperationPlan(operation), arguments, version)
    return target


def _query(target: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target).query, keep_blank_values=True)


def test_version_prefix_always_present() -> None:
    assert _target(CONTAINER_LIST, {}) == "/v1.41/containers/json"
    assert _target(CONTAINER_LIST, {}, "1.100") == "/v1.100/containers/json"


def test_booleans_are_one_and_zero() -> None:
    query = _query(_target(CONTAINER_LIST, {"all": True, "limit": 5}))
    assert query == {"all": ["1"], "limit": ["5"]}
    assert _query(_target(CONTAINER_LIST, {"all": False})) == {"all": ["0"]}


def test_none_arguments_are_omitted() -> None:
    assert _target(CONTAINER_LIST, {"all": None, "limit": None, "filters": None}) == "/v1.41/containers/json"


def test_filters_are_json() -> None:
    target = _target(CONTAINER_LIST, {"filters": {"status": ["running"], "label": {"a=b": True}}})
    filters = json.loads(_query(target)["filters"][0])
    assert filters == {"status": ["running"], "label": {"a=b": True}}


def test_filters_bare_string_becomes_list() -> None:
    target = _target(CONTAINER_LIST, {"filters": {"status": "exited", "name": {"b", "a"}}})
    assert json.loads(_query(target)["filters"][0]) == {"status": ["exited"], "name": ["a", "b"]}


def test_array_collection_formats() -> None:
    query = _query(_target(IMAGE_LIST, {"names": ["a", "b"], "ids": ["x", "y"]}))
    assert query["names"] == ["a", "b"]
    assert query["ids"] == ["x,y"]


def test_query_values_are_percent_encoded() -> None:
    target = _target(CONTAINER_CREATE, {"name": "a b&c=d"})
    assert "a%20b%26c%3Dd" in target
    assert _query(target) == {"name": ["a b&c=d"]}


def test_path_values_are_percent_encoded() -> None:
    assert _target(CONTAINER_INSPECT, {"id": "abc def"}) == "/v1.41/containers/abc%20def/json"
    assert _target(CONTAINER_INSPECT, {"id": "a?b#c%"}) == "/v1.41/containers/a%3Fb%23c%25/json"


def test_image_references_keep_slashes() -> None:
    target = _target(IMAGE_INSPECT, {"name": "localhost:5000/team/app@sha256:abc"})
    assert target == "/v1.41/images/localhost:5000/team/app@sha256:abc/json"


@pytest.mark.parametrize("value", ["", ".", "..", "../images/json", "a/../b", "a//b", "a/", "a/./b"])
def test_path_values_that_clean_are_refused(value: str) -> None:
    for operation, name in ((IMAGE_INSPECT, "name"), (CONTAINER_DELETE, "id")):
        with pytest.raises(InvalidArgument) as raised:
            _target(operation, {name: value})
        assert isinstance(raised.value, ValueError)
        assert raised.value.parameter == name
        assert repr(value) in str(raised.value) or value == ""


def test_slash_refused_where_object_cannot_have_one() -> None:
    with pytest.raises(InvalidArgument, match="contains '/'"):
        _target(CONTAINER_INSPECT, {"id": "abc/def"})
    with pytest.raises(InvalidArgument, match="drop the leading '/'"):
        _target(CONTAINER_INSPECT, {"id": "/web"})


def test_missing_path_parameter() -> None:
    with pytest.raises(InvalidArgument, match="needs the path parameter 'id'"):
        _target(CONTAINER_INSPECT, {"size": True})


def test_path_parameter_type_checked() -> None:
    with pytest.raises(InvalidArgument, match="must be a string"):
        _target(CONTAINER_INSPECT, {"id": ["a"]})


def test_unknown_argument() -> None:
    with pytest.raises(InvalidArgument, match="no parameter 'colour'"):
        _target(CONTAINER_LIST, {"colour": "red"})


def test_registry_auth_header_is_base64url_json() -> None:
    import base64

    _, headers = build_target(
        OperationPlan(IMAGE_PUSH), {"name": "app", "x_registry_auth": {"username": "u", "password": "p?>"}}, "1.41"
    )
    name, value = headers[0]
    assert name == "X-Registry-Auth"
    assert "+" not in value and "/" not in value
    assert json.loads(base64.urlsafe_b64decode(value)) == {"username": "u", "password": "p?>"}


def test_json_body_from_model_and_mapping() -> None:
    plan = OperationPlan(CONTAINER_CREATE)
    model = encode_body(plan, ContainerCreateBody(image="busybox", host_config=HostConfig(memory=1024)))
    assert json.loads(model.data) == {"Image": "busybox", "HostConfig": {"Memory": 1024}}
    assert ("Content-Type", "application/json") in model.headers
    assert ("Content-Length", str(len(model.data))) in model.headers
    mapping = encode_body(plan, {"Image": "busybox", "HostConfig": HostConfig(memory=1)})
    assert json.loads(mapping.data) == {"Image": "busybox", "HostConfig": {"Memory": 1}}


def test_binary_bodies() -> None:
    plan = OperationPlan(IMAGE_LOAD)
    raw = encode_body(plan, b"tar bytes")
    assert ("Content-Length", "9") in raw.headers
    assert ("Content-Type", "application/x-tar") in raw.headers
    assert raw.replayable

    stream = encode_body(plan, iter([b"a", b"b"]))
    assert stream.chunked
    assert ("Transfer-Encoding", "chunked") in stream.headers
    assert not stream.replayable

    unknown_length = encode_body(plan, io.BytesIO(b"no fileno"))
    assert unknown_length.chunked

    with pytest.raises(InvalidArgument, match="not str"):
        encode_body(plan, "text")


def test_file_body_has_length(tmp_path: object) -> None:
    path = f"{tmp_path}/image.tar"
    with open(path, "wb") as file:
        file.write(b"x" * 1000)
    with open(path, "rb") as file:
        file.read(100)
        encoded = encode_body(OperationPlan(IMAGE_LOAD), file)
        assert ("Content-Length", "900") in encoded.headers
        assert not encoded.chunked


def test_body_refused_when_operation_takes_none() -> None:
    with pytest.raises(InvalidArgument, match="takes no request body"):
        encode_body(OperationPlan(CONTAINER_DELETE), {"x": 1})


def _check(operation: Operation, arguments: dict[str, object], body: object, version: str) -> None:
    plan = OperationPlan(operation)
    document = encode_body(plan, body).document
    check_versions(plan, arguments, document, version, version_key(version), " with the daemon")


def test_parameter_newer_than_version() -> None:
    with pytest.raises(APIVersionError) as raised:
        _check(CONTAINER_CREATE, {"platform": "linux"}, {"Image": "x"}, "1.40")
    error = raised.value
    assert error.feature_since == "1.41"
    assert error.client_version == "1.40"
    assert "'platform'" in str(error)
    _check(CONTAINER_CREATE, {"platform": None}, {"Image": "x"}, "1.40")
    _check(CONTAINER_CREATE, {"platform": "linux"}, {"Image": "x"}, "1.41")


def test_body_field_newer_than_version() -> None:
    body = ContainerCreateBody(image="x", host_config=HostConfig(annotations={"a": "b"}))
    with pytest.raises(APIVersionError) as raised:
        _check(CONTAINER_CREATE, {}, body, "1.42")
    assert "HostConfig.Annotations" in str(raised.value)
    assert raised.value.feature_since == "1.43"
    _check(CONTAINER_CREATE, {}, body, "1.43")
    _check(CONTAINER_CREATE, {}, ContainerCreateBody(image="x", host_config=HostConfig(memory=1)), "1.42")


def test_body_field_inside_array_items() -> None:
    body = {"Image": "x", "Mounts": [{"Type": "bind"}, {"BindOptions": {"ReadOnlyNonRecursive": True}}]}
    with pytest.raises(APIVersionError) as raised:
        _check(CONTAINER_CREATE, {}, body, "1.43")
    assert "Mounts[1].BindOptions.ReadOnlyNonRecursive" in str(raised.value)
    _check(CONTAINER_CREATE, {}, {"Image": "x", "Mounts": [{"Type": "bind"}]}, "1.43")
