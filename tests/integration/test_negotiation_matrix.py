"""Generated packages against real daemons: which API version each pair settles on.

One table of packages x daemons. A package newer than the daemon negotiates down to the
daemon's maximum; one within the daemon's range keeps its own version; one older than the
daemon's minimum (Engine 28 started as Docker 29 does, refusing clients before 1.44) gets
an APIVersionError at its first call instead of a bare 400 later.
"""

from __future__ import annotations

from typing import Any

import pytest

from docker_engine.errors import APIVersionError
from tests.generated_packages import import_package
from tests.testbed import Daemon

PACKAGES = ("1.25", "1.41", "1.43", "1.45", "1.47", "1.51", "1.56")
DAEMONS = ("daemon_20_10", "daemon_26_1", "daemon_28", "daemon_28_min_1_44")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def expected_version(package: str, daemon: Daemon) -> str | None:
    """Return the version a client of `package` should speak to `daemon`; None for refusal."""
    minimum = daemon.min_api_version or "1.0"
    if version_key(package) < version_key(minimum):
        return None
    if version_key(package) > version_key(daemon.api_version):
        return daemon.api_version
    return package


@pytest.mark.parametrize("fixture", DAEMONS)
@pytest.mark.parametrize("package", PACKAGES)
def test_package_against_daemon(package: str, fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    client: Any = import_package(package).Client(daemon.host)
    assert client.api_version is None  # creating a client makes no connection
    expected = expected_version(package, daemon)

    if expected is None:
        with pytest.raises(APIVersionError) as raised:
            client.system.ping()
        message = str(raised.value)
        assert daemon.min_api_version in message
        assert package in message
        return

    assert client.system.ping() == "OK"
    assert client.api_version == expected
    # The daemon reports its own maximum whatever version the client speaks.
    assert client.system.version().api_version == daemon.api_version
    # A call that carries arguments works at the settled version too.
    assert isinstance(client.containers.list(all=True), list)
