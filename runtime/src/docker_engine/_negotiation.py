"""API version negotiation: which version a client speaks to a daemon, decided once.

A version package is generated from one API version. The daemon reports the newest
version it speaks (`Api-Version` on `GET /_ping`, `ApiVersion` in `GET /version`) and
the oldest (`MinAPIVersion` in `GET /version`). `negotiate` is a pure function of those
numbers, so its decisions are tested without a daemon; `probe_daemon` fetches them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docker_engine._operation import FIRST_API_VERSION
from docker_engine._versions import distribution_for, is_valid_version, version_key
from docker_engine.errors import APIVersionError, DockerError, error_from_response

logger = logging.getLogger("docker_engine")


@dataclass(frozen=True)
class DaemonVersion:
    """The daemon's report of its API versions and Engine details, from probing."""

    api_version: str  # the newest API version it speaks
    min_api_version: str | None  # the oldest, None if it did not say
    # The body of GET /version: Version (the Engine's), Os, Arch, KernelVersion...
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Negotiated:
    """The API version a client uses, and why."""

    version: str
    reason: str


def negotiate(package_version: str, daemon: DaemonVersion, *, strict: bool = False) -> Negotiated:
    """Choose the API version a package generated for `package_version` uses with `daemon`.

    Raises APIVersionError when no version fits; never falls back to a default.
    """
    package = version_key(package_version)
    maximum = version_key(daemon.api_version)
    minimum = version_key(daemon.min_api_version) if daemon.min_api_version else None
    daemon_range = _describe_range(daemon)

    # A daemon older than the oldest archived spec: the packages know nothing that
    # old, so they cannot tell which of their features it lacks.
    if maximum < version_key(FIRST_API_VERSION):
        raise APIVersionError(
            f"the daemon speaks API {daemon_range}, older than {FIRST_API_VERSION}, the "
            "oldest version this library supports: upgrade the Docker Engine",
            client_version=package_version,
            daemon_max=daemon.api_version,
            daemon_min=daemon.min_api_version,
        )

    # An older daemon: speak its version. Requests carry its version prefix, and any
    # operation, parameter or body field newer than it raises before it is sent.
    if maximum < package:
        if strict:
            raise APIVersionError(
                f"this client is for API {package_version} but the daemon speaks API "
                f"{daemon_range} (strict=True refuses to negotiate down): install and use "
                f"{distribution_for(daemon.api_version)}, call docker_engine.connect() to pick a "
                "package that fits, or drop strict=True",
                client_version=package_version,
                daemon_max=daemon.api_version,
                daemon_min=daemon.min_api_version,
            )
        return Negotiated(
            daemon.api_version,
            f"the daemon's maximum API version {daemon.api_version} is older than the "
            f"package's {package_version}, so the client negotiated down to "
            f"{daemon.api_version}; features newer than that raise APIVersionError",
        )

    # A newer daemon that dropped this package's version (Engine 29.0 speaks 1.44 and
    # up only): negotiating up would send requests in a shape the package does not know.
    if daemon.min_api_version is not None and minimum is not None and minimum > package:
        raise APIVersionError(
            f"this client is for API {package_version} but the daemon speaks API "
            f"{daemon_range} only: install and use "
            f"{distribution_for(daemon.min_api_version)} or newer (up to "
            f"{distribution_for(daemon.api_version)}), or call docker_engine.connect() to "
            "pick one",
            client_version=package_version,
            daemon_max=daemon.api_version,
            daemon_min=daemon.min_api_version,
        )

    # The daemon speaks the package's version: use it, even when the daemon is newer,
    # because the daemon keeps serving older versions in their old shape.
    if maximum == package:
        reason = f"the daemon's maximum API version is the package's {package_version}"
    else:
        reason = (
            f"the daemon speaks API {daemon_range}, which includes the package's "
            f"{package_version}"
        )
    return Negotiated(package_version, reason)


def probe_daemon(get: Callable[[str], tuple[int, Mapping[str, str], bytes]]) -> DaemonVersion:
    """Ask the daemon for its API version range with `GET /_ping` and `GET /version`.

    `get(path)` sends an unversioned GET and returns the status, headers and body; it
    raises DockerConnectionError when the daemon cannot be reached. The asyncio client
    sends the same two requests and reads them with the same two functions.
    """
    ping_version = read_ping(*get("/_ping"))
    return read_version(ping_version, *get("/version"))


def read_ping(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Check the response to `GET /_ping`; return its Api-Version header, if any."""
    if status != 200:
        raise error_from_response(status, "GET", "/_ping", body, _header(headers, "Content-Type"))
    return _header(headers, "Api-Version")


def read_version(
    ping_version: str | None, status: int, headers: Mapping[str, str], body: bytes
) -> DaemonVersion:
    """Build the DaemonVersion from the response to `GET /version` and the ping's header."""
    import json

    if status != 200:
        raise error_from_response(
            status, "GET", "/version", body, _header(headers, "Content-Type")
        )
    try:
        details = json.loads(body)
    except ValueError as error:
        raise DockerError(f"GET /version returned invalid JSON: {error}") from error
    if not isinstance(details, dict):
        raise DockerError("GET /version returned JSON that is not an object")

    # The 1.25 to 1.27 specs document no headers on /_ping; /version has both numbers.
    maximum = ping_version or details.get("ApiVersion")
    if not isinstance(maximum, str) or not is_valid_version(maximum):
        raise DockerError(
            "the daemon reported no valid API version (neither the Api-Version header of "
            f"GET /_ping nor ApiVersion in GET /version: {maximum!r})"
        )
    minimum = details.get("MinAPIVersion")
    if not isinstance(minimum, str) or not is_valid_version(minimum):
        logger.debug("the daemon reported no MinAPIVersion (%r); assuming no minimum", minimum)
        minimum = None
    return DaemonVersion(maximum, minimum, details)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered and value:
            return value
    return None


def _describe_range(daemon: DaemonVersion) -> str:
    if daemon.min_api_version:
        return f"{daemon.min_api_version} to {daemon.api_version}"
    return f"up to {daemon.api_version}"
