"""Registry auth headers: base64url bytes, the Docker config file and credential helpers."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from fake_daemon import Answer, FakeDaemon

from docker_engine import BaseClient
from docker_engine._auth import (
    DOCKER_HUB_ADDRESS,
    encode_header,
    find_credentials,
    registry_auth_header,
    registry_config_header,
    registry_of,
)
from docker_engine._operation import Location, Operation, Parameter, ResponseKind
from docker_engine.errors import ConfigurationError

# {"username":"ab","password":">>>???"} encodes to "+" and "/" in standard base64
# ("...iI+Pj4/Pz8ifQ=="), which the daemon's base64url decoder rejects.
AWKWARD_PASSWORD = ">>>???"
AWKWARD_HEADER = "eyJ1c2VybmFtZSI6ImFiIiwicGFzc3dvcmQiOiI-Pj4_Pz8ifQ=="

IMAGE_PUSH = Operation(
    "ImagePush",
    "POST",
    "/images/{name}/push",
    parameters=(
        Parameter("name", "name", Location.PATH, required=True),
        Parameter("X-Registry-Auth", "x_registry_auth", Location.HEADER, required=True),
    ),
    response=ResponseKind.NONE,
)


def decode(header: str) -> object:
    return json.loads(base64.urlsafe_b64decode(header))


def write_config(document: dict[str, object]) -> Path:
    path = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    path.write_text(json.dumps(document))
    return path


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install docker-credential-fake on PATH; it logs each call to calls.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    script = bin_dir / "docker-credential-fake"
    script.write_text(
        f"""#!/bin/sh
read -r server || true
echo "$1 $server" >> {log}
case "$1 $server" in
  "get registry.example.com") echo '{{"ServerURL":"registry.example.com","Username":"helper-user","Secret":"helper+pass/word"}}' ;;
  "get {DOCKER_HUB_ADDRESS}") echo '{{"ServerURL":"{DOCKER_HUB_ADDRESS}","Username":"<token>","Secret":"refresh-token"}}' ;;
  "list "*) echo '{{"registry.example.com":"helper-user","{DOCKER_HUB_ADDRESS}":"<token>"}}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_auth_header_is_base64url() -> None:
    header = registry_auth_header(username="ab", password=AWKWARD_PASSWORD)
    assert header == AWKWARD_HEADER
    assert "+" not in header
    assert "/" not in header
    assert decode(header) == {"username": "ab", "password": AWKWARD_PASSWORD}


def test_auth_header_bytes_on_the_wire(fake_daemon: FakeDaemon) -> None:
    fake_daemon.route("POST", "/images/example/push", Answer(200, b""))
    client = BaseClient(fake_daemon.host, version="1.44")
    header = registry_auth_header(username="ab", password=AWKWARD_PASSWORD)
    client.call(IMAGE_PUSH, {"name": "example", "x_registry_auth": header})
    # A mapping is encoded the same way by the client itself.
    client.call(
        IMAGE_PUSH,
        {"name": "example", "x_registry_auth": {"username": "ab", "password": AWKWARD_PASSWORD}},
    )
    sent = [r.headers["X-Registry-Auth"] for r in fake_daemon.requests if r.path == "/images/example/push"]
    assert sent == [AWKWARD_HEADER, AWKWARD_HEADER]


def test_auth_header_without_credentials() -> None:
    assert registry_auth_header("busybox") == "e30="
    assert registry_auth_header() == "e30="


def test_auth_header_explicit_server_from_image() -> None:
    header = registry_auth_header("registry.example.com:5000/team/app:1", username="u", password="p")
    assert decode(header) == {"username": "u", "password": "p", "serveraddress": "registry.example.com:5000"}


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("busybox", "docker.io"),
        ("library/busybox:1.36", "docker.io"),
        ("registry.example.com/team/app", "registry.example.com"),
        ("registry.example.com:5000/app:1.0", "registry.example.com:5000"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app@sha256:abc", "localhost:5000"),
        ("team/app", "docker.io"),
    ],
)
def test_auth_registry_of(image: str, registry: str) -> None:
    assert registry_of(image) == registry


def test_auth_from_config_auths() -> None:
    write_config(
        {
            "auths": {
                DOCKER_HUB_ADDRESS: {"auth": basic("alice", "s3cr3t:with:colons")},
                "https://registry.example.com:5000/v1/": {"auth": basic("bob", "pw")},
                "token.example.com": {"identitytoken": "tok"},
            }
        }
    )
    assert decode(registry_auth_header("busybox")) == {
        "serveraddress": DOCKER_HUB_ADDRESS,
        "username": "alice",
        "password": "s3cr3t:with:colons",
    }
    assert decode(registry_auth_header("registry.example.com:5000/app")) == {
        "serveraddress": "https://registry.example.com:5000/v1/",
        "username": "bob",
        "password": "pw",
    }
    assert find_credentials("token.example.com") == {
        "serveraddress": "token.example.com",
        "identitytoken": "tok",
    }
    assert find_credentials("unknown.example.com") is None


def test_auth_from_credential_helpers(helper: Path) -> None:
    write_config({"credHelpers": {"registry.example.com": "fake"}})
    assert find_credentials("registry.example.com") == {
        "username": "helper-user",
        "password": "helper+pass/word",
        "serveraddress": "registry.example.com",
    }
    assert helper.read_text() == "get registry.example.com\n"


def test_auth_from_creds_store_token(helper: Path) -> None:
    write_config({"credsStore": "fake", "auths": {DOCKER_HUB_ADDRESS: {}}})
    assert decode(registry_auth_header("busybox")) == {
        "identitytoken": "refresh-token",
        "serveraddress": DOCKER_HUB_ADDRESS,
    }
    # A registry the store does not know falls back to anonymous access.
    assert registry_auth_header("other.example.com/app") == "e30="


def test_auth_registry_config_for_build(helper: Path) -> None:
    write_config(
        {
            "auths": {"inline.example.com": {"auth": basic("carol", "pw")}},
            "credsStore": "fake",
        }
    )
    header = registry_config_header({"explicit.example.com": {"username": "dan", "password": AWKWARD_PASSWORD}})
    assert "+" not in header
    assert "/" not in header
    assert decode(header) == {
        "inline.example.com": {"serveraddress": "inline.example.com", "username": "carol", "password": "pw"},
        "registry.example.com": {
            "username": "helper-user",
            "password": "helper+pass/word",
            "serveraddress": "registry.example.com",
        },
        DOCKER_HUB_ADDRESS: {"identitytoken": "refresh-token", "serveraddress": DOCKER_HUB_ADDRESS},
        "explicit.example.com": {"username": "dan", "password": AWKWARD_PASSWORD},
    }


def test_auth_missing_helper() -> None:
    write_config({"credHelpers": {"registry.example.com": "absent"}})
    with pytest.raises(ConfigurationError, match="docker-credential-absent is not on PATH"):
        find_credentials("registry.example.com")


def test_auth_invalid_config_file() -> None:
    path = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="cannot read the Docker config file"):
        find_credentials("docker.io")


def test_auth_never_logged(helper: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_config({"credHelpers": {"registry.example.com": "fake"}, "auths": {DOCKER_HUB_ADDRESS: {"auth": basic("alice", "s3cr3t")}}})
    caplog.set_level(logging.DEBUG, logger="docker_engine")
    headers = [
        registry_auth_header("registry.example.com/app"),
        registry_auth_header("busybox"),
        registry_config_header(),
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the helper call is expected to be logged, without secrets"
    for secret in ["helper+pass/word", "s3cr3t", *headers]:
        assert secret not in logged


def test_auth_encode_header_matches_client() -> None:
    from docker_engine._request import _header_value

    document = {"username": "ab", "password": AWKWARD_PASSWORD}
    parameter = IMAGE_PUSH.parameter("x_registry_auth")
    assert encode_header(document) == _header_value(parameter, document) == AWKWARD_HEADER
