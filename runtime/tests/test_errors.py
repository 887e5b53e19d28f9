from __future__ import annotations

import builtins
import json

import pytest

from docker_engine import errors
from docker_engine.errors import (
    APIError,
    APIVersionError,
    BadRequest,
    Conflict,
    DockerError,
    Forbidden,
    NotFound,
    ServerError,
    Unauthorized,
    error_from_response,
)


@pytest.mark.parametrize(
    "status, expected",
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (500, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
def test_status_maps_to_class(status: int, expected: type[APIError]) -> None:
    body = json.dumps({"message": "it went wrong"}).encode()
    error = error_from_response(status, "GET", "/v1.41/containers/x/json", body, "application/json")
    assert type(error) is expected
    assert isinstance(error, APIError)
    assert error.status == status
    assert error.message == "it went wrong"
    assert error.method == "GET"
    assert error.path == "/v1.41/containers/x/json"
    assert "GET /v1.41/containers/x/json failed with" in str(error)


def test_too_old_becomes_version_error() -> None:
    body = json.dumps(
        {
            "message": "client version 1.43 is too old. Minimum supported API version is "
            "1.44, please upgrade your client to a newer version"
        }
    ).encode()
    error = error_from_response(400, "GET", "/v1.43/version", body, "application/json", daemon_max="1.52")
    assert isinstance(error, APIVersionError)
    assert error.client_version == "1.43"
    assert error.daemon_min == "1.44"
    assert error.daemon_max == "1.52"
    assert error.status == 400
    assert "docker-engine-v1-44" in str(error)
    assert "connect()" in str(error)


def test_too_new_becomes_version_error() -> None:
    body = json.dumps({"message": "client version 1.99 is too new. Maximum supported API version is 1.51"}).encode()
    error = error_from_response(400, "GET", "/v1.99/version", body, "application/json")
    assert isinstance(error, APIVersionError)
    assert error.client_version == "1.99"
    assert error.daemon_max == "1.51"
    assert "'1.51' or lower" in str(error)


def test_html_body_from_proxy() -> None:
    body = b"<!DOCTYPE html><html><body>" + b"x" * 1000 + b"</body></html>"
    error = error_from_response(502, "GET", "/v1.41/info", body, "text/html")
    assert isinstance(error, ServerError)
    assert "HTML page" in error.message
    assert "proxy" in error.message
    assert error.message.endswith("...")
    assert len(error.message) < 600


def test_plain_text_body() -> None:
    error = error_from_response(500, "POST", "/v1.41/build", b"internal failure\n", "text/plain")
    assert "plain text" in error.message
    assert "internal failure" in error.message


def test_empty_body() -> None:
    assert "no body" in error_from_response(404, "GET", "/x", b"", None).message


def test_json_without_message() -> None:
    error = error_from_response(400, "GET", "/x", b'{"error": "nope"}', "application/json")
    assert "without a 'message'" in error.message
    assert "nope" in error.message


def test_timeout_error_is_builtin_timeout() -> None:
    error = errors.TimeoutError("slow", phase="read", timeout=1.0)
    assert isinstance(error, builtins.TimeoutError)
    assert isinstance(error, errors.DockerConnectionError)
    assert isinstance(error, DockerError)


def test_value_errors() -> None:
    assert issubclass(errors.InvalidArgument, ValueError)
    assert issubclass(errors.ConfigurationError, ValueError)


def test_docstring_draws_every_exception() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name[0].isupper():
            assert name in doc, name
