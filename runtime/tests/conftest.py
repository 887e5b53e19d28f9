"""Fixtures of the runtime's unit tests: a clean Docker environment and a fake daemon."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

import pytest

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if SOURCE not in sys.path:
    sys.path.insert(0, SOURCE)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_daemon import FakeDaemon  # noqa: E402

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Hide the machine's Docker settings: every test starts from an empty configuration."""
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = os.path.join(str(tmp_path), "docker-config")
    os.makedirs(config)
    monkeypatch.setenv("DOCKER_CONFIG", config)


@pytest.fixture
def short_tmp() -> Iterator[str]:
    """A directory with a short path: unix socket paths are limited to 107 bytes."""
    directory = tempfile.mkdtemp(prefix="de-", dir="/tmp")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fake_daemon(short_tmp: str) -> Iterator[FakeDaemon]:
    """A fake Engine 29.0 daemon (API 1.44 to 1.52) on a unix socket."""
    daemon = FakeDaemon(short_tmp).start()
    yield daemon
    daemon.stop()
