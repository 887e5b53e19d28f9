"""Discovery of version packages, the choice connect() makes, and `python -m docker_engine version`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fake_daemon import Answer, FakeDaemon

import docker_engine
from docker_engine import _connect
from docker_engine._connect import VersionPackage, choose_for_daemon, choose_for_pinned, installed_packages
from docker_engine._negotiation import DaemonVersion
from docker_engine.errors import APIVersionError

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _package(version: str) -> VersionPackage:
    module = f"docker_engine_v{version.replace('.', '_')}"
    return VersionPackage(version, module, f"{module}:Client", "sys.path")


PACKAGES = [_package(v) for v in ("1.41", "1.43", "1.45", "1.47", "1.52")]


@pytest.mark.parametrize(
    "maximum, minimum, expected",
    [
        ("1.41", "1.12", "1.41"),  # Engine 20.10
        ("1.45", "1.24", "1.45"),  # Engine 26.1
        ("1.51", "1.24", "1.47"),  # Engine 28.5: the newest installed below its maximum
        ("1.52", "1.44", "1.52"),  # Engine 29.0
        ("1.44", "1.44", None),  # nothing installed in range
        ("1.40", "1.12", None),  # older than every installed package
    ],
)
def test_choose_for_daemon(maximum: str, minimum: str, expected: str | None) -> None:
    daemon = DaemonVersion(maximum, minimum)
    if expected is not None:
        package, reason = choose_for_daemon(PACKAGES, daemon)
        assert package.api_version == expected
        assert f"{minimum} to {maximum}" in reason
        return
    with pytest.raises(APIVersionError) as raised:
        choose_for_daemon(PACKAGES, daemon)
    message = str(raised.value)
    assert f"{minimum} to {maximum}" in message
    assert "docker_engine_v1_41 (API 1.41)" in message
    assert f"docker-engine-v1-{maximum.split('.')[1]}" in message


@pytest.mark.parametrize(
    "pinned, expected",
    [("1.43", "1.43"), ("1.42", "1.43"), ("1.48", "1.52"), ("1.25", "1.41"), ("1.53", None)],
)
def test_choose_for_pinned(pinned: str, expected: str | None) -> None:
    if expected is not None:
        package, reason = choose_for_pinned(PACKAGES, pinned, "the version argument")
        assert package.api_version == expected
        assert "the version argument" in reason
        return
    with pytest.raises(APIVersionError, match="docker-engine-v1-53"):
        choose_for_pinned(PACKAGES, pinned, "the version argument")


def _write_package(directory: str, version: str) -> str:
    module = f"docker_engine_v{version.replace('.', '_')}"
    os.makedirs(os.path.join(directory, module))
    with open(os.path.join(directory, module, "__init__.py"), "w") as file:
        file.write(
            "from docker_engine import BaseClient\n\n\n"
            "class Client(BaseClient):\n"
            f"    PACKAGE_API_VERSION = {version!r}\n"
        )
    return module


def _write_entry_point(directory: str, version: str, module: str) -> None:
    dist_info = os.path.join(directory, f"{module}-0.1.0.dist-info")
    os.makedirs(dist_info)
    with open(os.path.join(dist_info, "METADATA"), "w") as file:
        file.write(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1.0\n")
    with open(os.path.join(dist_info, "entry_points.txt"), "w") as file:
        file.write(f"[docker_engine.versions]\n{version} = {module}:Client\n")


@pytest.fixture
def package_directory(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Fake version packages: 1.41 and 1.45 found on sys.path, 1.47 declared by an entry point."""
    directory = os.path.join(str(tmp_path), "site")
    os.makedirs(directory)
    _write_package(directory, "9.41")
    _write_package(directory, "9.45")
    hidden = os.path.join(str(tmp_path), "hidden")
    os.makedirs(hidden)
    module = _write_package(hidden, "9.47")
    _write_entry_point(directory, "9.47", module)
    monkeypatch.syspath_prepend(directory)
    monkeypatch.syspath_prepend(hidden)
    yield directory
    for name in list(sys.modules):
        if name.startswith("docker_engine_v9_"):
            del sys.modules[name]


def test_discovery_by_path_and_entry_point(package_directory: str) -> None:
    found = {p.api_version: p for p in installed_packages() if p.api_version.startswith("9.")}
    assert sorted(found) == ["9.41", "9.45", "9.47"]
    assert found["9.47"].found_by == "entry point"
    assert found["9.41"].found_by == "sys.path"
    assert found["9.47"].load().PACKAGE_API_VERSION == "9.47"
    assert found["9.41"].distribution == "docker-engine-v9-41"


def _only_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide real version packages that may be installed beside the fakes."""
    real = _connect.installed_packages
    monkeypatch.setattr(
        _connect, "installed_packages", lambda: [p for p in real() if p.api_version.startswith("9.")]
    )


@pytest.fixture
def fake_daemon_9(short_tmp: str) -> Iterator[FakeDaemon]:
    daemon = FakeDaemon(short_tmp, api_version="9.46", min_api_version="9.30").start()
    daemon.route("GET", "/info", Answer(200, {"ID": "x"}))
    yield daemon
    daemon.stop()


def test_connect_picks_and_reuses_probe(
    package_directory: str, fake_daemon_9: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_fakes(monkeypatch)
    client = docker_engine.connect(fake_daemon_9.host)
    assert type(client).PACKAGE_API_VERSION == "9.45"
    assert client.api_version == "9.45"
    assert "9.30 to 9.46" in (client.negotiation_reason or "")
    info = docker_engine.Operation(operation_id="SystemInfo", method="GET", path="/info")
    assert client.call(info, {}) == {"ID": "x"}
    assert [r.target for r in fake_daemon_9.requests] == ["/_ping", "/version", "/v9.45/info"]
    assert fake_daemon_9.connections == 1


def test_connect_pinned_makes_no_request(
    package_directory: str, fake_daemon_9: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_fakes(monkeypatch)
    client = docker_engine.connect(fake_daemon_9.host, version="9.42")
    assert type(client).PACKAGE_API_VERSION == "9.45"
    assert client.api_version == "9.42"
    assert fake_daemon_9.requests == []
    monkeypatch.setenv("DOCKER_API_VERSION", "9.47")
    assert type(docker_engine.connect(fake_daemon_9.host)).PACKAGE_API_VERSION == "9.47"


def test_connect_without_fitting_package(
    package_directory: str, short_tmp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_fakes(monkeypatch)
    daemon = FakeDaemon(short_tmp, api_version="9.60", min_api_version="9.50").start()
    try:
        with pytest.raises(APIVersionError) as raised:
            docker_engine.connect(daemon.host)
        message = str(raised.value)
        assert "9.50 to 9.60" in message
        assert "docker_engine_v9_47 (API 9.47)" in message
        assert "docker-engine-v9-60" in message
        assert "docker-engine-v9-50" in message
    finally:
        daemon.stop()


def _run_cli(*arguments: str, extra_path: str = "") -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (SOURCE, extra_path) if p)
    return subprocess.run(
        [sys.executable, "-m", "docker_engine", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_cli_version_json(package_directory: str, fake_daemon: FakeDaemon) -> None:
    result = _run_cli("version", "--format", "json", "-H", fake_daemon.host, extra_path=package_directory)
    report = json.loads(result.stdout)
    assert report["Client"]["Version"] == docker_engine.__version__
    modules = [p["Module"] for p in report["Client"]["Packages"]]
    assert "docker_engine_v9_41" in modules
    server = report["Server"]
    assert server["Engine"] == "29.0.0"
    assert server["APIVersion"] == "1.52"
    assert server["MinAPIVersion"] == "1.44"
    assert server["Os"] == "linux"
    assert server["Host"] == fake_daemon.host
    assert server["HostSource"] == "the -H option"


def test_cli_version_text_shows_choice(package_directory: str, fake_daemon_9: FakeDaemon) -> None:
    result = _run_cli("version", "-H", fake_daemon_9.host, extra_path=package_directory)
    assert result.returncode == 0, result.stderr
    assert "Client:" in result.stdout
    assert "Server:" in result.stdout
    assert "API version:      9.46 (minimum version 9.30)" in result.stdout
    assert "docker_engine_v9_45 (API 9.45)" in result.stdout.split("Negotiation:")[1]


def test_cli_unreachable_daemon(short_tmp: str) -> None:
    result = _run_cli("version", "-H", f"unix://{short_tmp}/nothing.sock")
    assert result.returncode == 1
    assert "Client:" in result.stdout
    assert "Traceback" not in result.stderr
    assert f"{short_tmp}/nothing.sock does not exist" in result.stderr
    assert "the -H option" in result.stderr


def test_cli_bad_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://2001:db8::1:2376")
    result = _run_cli("version")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "DOCKER_HOST" in result.stderr
    assert "brackets" in result.stderr
