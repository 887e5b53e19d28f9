from __future__ import annotations

import json

import pytest

from docker_engine._negotiation import DaemonVersion, negotiate, probe_daemon
from docker_engine.errors import APIError, APIVersionError, DockerError

# package, daemon max, daemon min, strict, expected version or the error's text
DECISIONS = [
    ("1.41", "1.41", "1.12", False, "1.41"),  # same version
    ("1.47", "1.41", "1.12", False, "1.41"),  # older daemon: negotiate down
    ("1.41", "1.51", "1.24", False, "1.41"),  # newer daemon keeps the package's version
    ("1.44", "1.52", "1.44", False, "1.44"),  # at the newer daemon's minimum
    ("1.43", "1.52", "1.44", False, "docker-engine-v1-44 or newer"),  # below its minimum
    ("1.47", "1.41", "1.12", True, "strict=True"),  # strict refuses to negotiate down
    ("1.41", "1.45", "1.24", True, "1.41"),  # strict accepts a newer daemon
    ("1.41", "1.24", "1.12", False, "older than 1.25"),  # older than any spec
    ("1.41", "1.51", None, False, "1.41"),  # no minimum reported
    ("1.100", "1.99", None, False, "1.99"),  # numeric, not string, comparison
    ("1.9", "1.41", None, False, "1.9"),
]


@pytest.mark.parametrize("package, maximum, minimum, strict, expected", DECISIONS)
def test_negotiation_decisions(
    package: str, maximum: str, minimum: str | None, strict: bool, expected: str
) -> None:
    daemon = DaemonVersion(maximum, minimum)
    if expected[0].isdigit() and "." in expected and " " not in expected:
        assert negotiate(package, daemon, strict=strict).version == expected
    else:
        with pytest.raises(APIVersionError) as raised:
            negotiate(package, daemon, strict=strict)
        assert expected in str(raised.value)
        assert raised.value.daemon_max == maximum
        assert raised.value.client_version == package


def test_negotiation_reason_explains_down() -> None:
    negotiated = negotiate("1.47", DaemonVersion("1.41", "1.12"))
    assert "negotiated down to 1.41" in negotiated.reason


def _prober(answers: dict[str, tuple[int, dict[str, str], bytes]]):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def get(path: str) -> tuple[int, dict[str, str], bytes]:
        asked.append(path)
        return answers[path]

    return get, asked


def test_probe_reads_ping_header_and_version_minimum() -> None:
    get, asked = _prober(
        {
            "/_ping": (200, {"Api-Version": "1.52"}, b"OK"),
            "/version": (200, {}, json.dumps({"ApiVersion": "1.52", "MinAPIVersion": "1.44", "Version": "29.0.0"}).encode()),
        }
    )
    daemon = probe_daemon(get)
    assert asked == ["/_ping", "/version"]
    assert daemon.api_version == "1.52"
    assert daemon.min_api_version == "1.44"
    assert daemon.details["Version"] == "29.0.0"


def test_probe_falls_back_to_version_document() -> None:
    get, _ = _prober(
        {
            "/_ping": (200, {}, b"OK"),
            "/version": (200, {}, json.dumps({"ApiVersion": "1.26", "MinAPIVersion": "1.12"}).encode()),
        }
    )
    assert probe_daemon(get).api_version == "1.26"


def test_probe_failure_raises_instead_of_defaulting() -> None:
    get, _ = _prober({"/_ping": (500, {"Content-Type": "text/plain"}, b"boom")})
    with pytest.raises(APIError) as raised:
        probe_daemon(get)
    assert raised.value.status == 500
    assert "boom" in str(raised.value)


def test_probe_without_any_version_raises() -> None:
    get, _ = _prober({"/_ping": (200, {}, b"OK"), "/version": (200, {}, b"{}")})
    with pytest.raises(DockerError, match="no valid API version"):
        probe_daemon(get)


def test_pin_older_than_first_spec_is_rejected() -> None:
    from docker_engine import BaseClient
    from docker_engine.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="predates 1.25"):
        BaseClient("unix:///nonexistent/docker.sock", version="1.20")


def test_pinned_feature_error_suggests_a_newer_pin() -> None:
    from docker_engine import BaseClient, Operation
    from docker_engine.errors import APIVersionError

    client = BaseClient("unix:///nonexistent/docker.sock", version="1.41")
    operation = Operation(operation_id="New", method="GET", path="/new", since="1.44")
    with pytest.raises(APIVersionError, match=r"\(pinned\): pin API 1.44 or newer"):
        client.call(operation, {})
