"""Fixtures with real Docker daemons, started by tests/testbed.py.

Each daemon fixture is session-scoped and starts its daemon on first use, imports the
``busybox:test`` image into it and stops it when the session ends. When the engine's
dockerd is missing, the machine does not allow it to run, or it fails to start, the
tests that use the fixture are skipped with the reason and the end of dockerd's log.
Set ``TESTBED_REQUIRE_DAEMONS=1`` to make them fail instead (CI does).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.testbed import (
    LONGEST_SOCKET_SUFFIX,
    MAX_SOCKET_PATH_BYTES,
    Daemon,
    TestbedError,
    build_busybox_rootfs,
    import_busybox,
    start_setup,
)

# Fixture name for each setup of tests/testbed.py.
DAEMON_FIXTURES = {
    "daemon_20_10": "20.10",
    "daemon_26_1": "26.1",
    "daemon_28": "28",
    "daemon_28_min_1_44": "28-min-1.44",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "daemon: needs a real Docker daemon from tests/testbed.py "
        "(deselect with -m 'not daemon')",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that uses a daemon fixture gets the marker even if its author forgot it,
    # so that -m "not daemon" reliably leaves out every test that starts a daemon.
    for item in items:
        if DAEMON_FIXTURES.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.daemon)


def _daemons_required() -> bool:
    return os.environ.get("TESTBED_REQUIRE_DAEMONS", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if _daemons_required():
        pytest.fail(f"{reason} (TESTBED_REQUIRE_DAEMONS is set)", pytrace=False)
    pytest.skip(reason)


def _make_workdir(tmp_path_factory: pytest.TempPathFactory, setup: str) -> Path:
    """Return a new work directory whose socket paths fit the unix socket limit."""
    workdir = tmp_path_factory.mktemp(f"dockerd-{setup}")
    if len(os.fsencode(f"{workdir}{LONGEST_SOCKET_SUFFIX}")) <= MAX_SOCKET_PATH_BYTES:
        return workdir
    # pytest's temporary directory is too deep, for instance with a long --basetemp.
    return Path(tempfile.mkdtemp(prefix=f"dockerd-{setup}-", dir="/tmp"))


def _run_daemon(setup: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    if os.geteuid() != 0:
        _unavailable(f"dockerd {setup} needs root, and the tests run as uid {os.geteuid()}")

    try:
        build_busybox_rootfs()
    except TestbedError as error:
        _unavailable(f"the busybox:test image for dockerd {setup} cannot be built: {error}")

    workdir = _make_workdir(tmp_path_factory, setup)
    try:
        daemon = start_setup(setup, workdir)
    except TestbedError as error:
        _unavailable(f"dockerd {setup} is unavailable: {error}")

    try:
        import_busybox(daemon)
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def daemon_20_10(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """Docker Engine 20.10 (API 1.41) with the busybox:test image."""
    yield from _run_daemon(DAEMON_FIXTURES["daemon_20_10"], tmp_path_factory)


@pytest.fixture(scope="session")
def daemon_26_1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """Docker Engine 26.1 (API 1.45) with the busybox:test image."""
    yield from _run_daemon(DAEMON_FIXTURES["daemon_26_1"], tmp_path_factory)


@pytest.fixture(scope="session")
def daemon_28(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """Docker Engine 28 from Debian sid (API 1.51 or newer) with the busybox:test image."""
    yield from _run_daemon(DAEMON_FIXTURES["daemon_28"], tmp_path_factory)


@pytest.fixture(scope="session")
def daemon_28_min_1_44(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """Docker Engine 28 that rejects API versions below 1.44, as Engine 29.0 to 29.2 do."""
    yield from _run_daemon(DAEMON_FIXTURES["daemon_28_min_1_44"], tmp_path_factory)
