"""Finding the installed version packages and picking the one that fits a daemon.

A version package is an import package `docker_engine_v1_NN` whose `Client` is generated
from API version 1.NN. They are found two ways, merged by API version: entry points in
the group `docker_engine.versions` (name "1.41", value "docker_engine_v1_41:Client"),
which every installed distribution declares, and top-level modules on sys.path named
like a version package, which covers generated trees used through PYTHONPATH without
being installed.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from docker_engine._client import BaseClient
from docker_engine._negotiation import DaemonVersion
from docker_engine._timeout import Timeout
from docker_engine._tls import TLSConfig
from docker_engine._versions import distribution_for, normalize_pinned_version, version_key
from docker_engine.errors import APIVersionError, ConfigurationError

logger = logging.getLogger("docker_engine")

ENTRY_POINT_GROUP = "docker_engine.versions"
_MODULE_NAME = re.compile(r"docker_engine_v(\d+)_(\d+)")


@dataclass(frozen=True)
class VersionPackage:
    """An installed version package."""

    api_version: str
    module: str  # the import name, such as "docker_engine_v1_41"
    target: str  # "module:attribute" of its Client class
    found_by: str  # "entry point" or "sys.path"

    @property
    def distribution(self) -> str:
        """The distribution name to install it by, such as "docker-engine-v1-41"."""
        return self.module.replace("_", "-")

    def load(self) -> type[BaseClient]:
        """Import the package and return its Client class."""
        module_name, _, attribute = self.target.partition(":")
        module = importlib.import_module(module_name)
        client_class = getattr(module, attribute or "Client", None)
        if not (isinstance(client_class, type) and issubclass(client_class, BaseClient)):
            raise ConfigurationError(
                f"{self.target} (found by {self.found_by}) is not a docker_engine client class",
                source=self.found_by,
            )
        if client_class.PACKAGE_API_VERSION != self.api_version:
            raise ConfigurationError(
                f"{self.target} (found by {self.found_by}) is for API "
                f"{client_class.PACKAGE_API_VERSION}, not {self.api_version}",
                source=self.found_by,
            )
        return client_class


def installed_packages() -> list[VersionPackage]:
    """Return the installed version packages, oldest API version first."""
    from importlib.metadata import entry_points

    found: dict[str, VersionPackage] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            version = normalize_pinned_version(entry_point.name, f"entry point {entry_point.name}")
        except ConfigurationError:
            logger.debug("ignoring entry point %r: its name is not an API version", entry_point.name)
            continue
        found.setdefault(
            version,
            VersionPackage(version, entry_point.module, entry_point.value, "entry point"),
        )

    import pkgutil

    for module in pkgutil.iter_modules():
        match = _MODULE_NAME.fullmatch(module.name)
        if match is None:
            continue
        version = f"{int(match.group(1))}.{int(match.group(2))}"
        found.setdefault(
            version, VersionPackage(version, module.name, f"{module.name}:Client", "sys.path")
        )
    return sorted(found.values(), key=lambda package: version_key(package.api_version))


def choose_for_daemon(
    packages: Sequence[VersionPackage], daemon: DaemonVersion
) -> tuple[VersionPackage, str]:
    """Pick the newest package the daemon speaks; return it and why."""
    maximum = version_key(daemon.api_version)
    minimum = version_key(daemon.min_api_version) if daemon.min_api_version else (0, 0)
    fitting = [p for p in packages if minimum <= version_key(p.api_version) <= maximum]
    if not fitting:
        raise APIVersionError(
            f"no installed version package fits the daemon, which speaks API "
            f"{_describe_range(daemon)}. Installed: {_describe(packages)}. Install "
            f"{distribution_for(daemon.api_version)} (the daemon's newest version)"
            + (
                f" or another from {distribution_for(daemon.min_api_version)} up"
                if daemon.min_api_version
                else ""
            ),
            daemon_max=daemon.api_version,
            daemon_min=daemon.min_api_version,
        )
    chosen = fitting[-1]
    reason = (
        f"the newest installed package within the daemon's API range "
        f"{_describe_range(daemon)}"
    )
    return chosen, reason


def choose_for_pinned(
    packages: Sequence[VersionPackage], version: str, source: str
) -> tuple[VersionPackage, str]:
    """Pick the package for a pinned API version: its own, else the closest newer one.

    A newer package speaks an older pinned version correctly, because it records since
    which version each operation, parameter and body field exists and rejects the newer
    ones. An older package lacks the pinned version's additions, so it is never
    picked.
    """
    requested = version_key(version)
    for package in packages:
        if version_key(package.api_version) == requested:
            return package, f"the package for API {version}, pinned by {source}"
    newer = [p for p in packages if version_key(p.api_version) > requested]
    if newer:
        return newer[0], (
            f"the closest package newer than API {version} (pinned by {source}), which "
            "speaks it and refuses features added after it"
        )
    raise APIVersionError(
        f"no installed version package speaks API {version} (pinned by {source}). "
        f"Installed: {_describe(packages)}. Install {distribution_for(version)}",
        client_version=version,
    )


def connect(
    base_url: str | None = None,
    *,
    version: str | None = None,
    tls: TLSConfig | bool | None = None,
    timeout: float | Timeout | None = None,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_insecure_credentials: bool = False,
) -> BaseClient:
    """Return a client of the installed version package that best fits the daemon.

    Without a pinned version, the daemon is probed once (GET /_ping and GET /version) and
    the newest package within its API range is picked; the client reuses that probe and
    its connection. With `version` or DOCKER_API_VERSION, the package for that version
    (else the closest newer one) is picked without contacting the daemon.
    `allow_insecure_credentials` is passed to the client (see BaseClient).
    """
    if environ is None:
        environ = os.environ
    packages = installed_packages()

    pinned_source = "the version argument" if version is not None else None
    if version is None and environ.get("DOCKER_API_VERSION"):
        version = environ["DOCKER_API_VERSION"]
        pinned_source = "the DOCKER_API_VERSION environment variable"
    if version is not None and pinned_source is not None:
        pinned = normalize_pinned_version(version, pinned_source)
        package, reason = choose_for_pinned(packages, pinned, pinned_source)
        logger.debug("connect() picked %s (API %s): %s", package.module, package.api_version, reason)
        client_class = package.load()
        return client_class(
            base_url,
            version=pinned,
            tls=tls,
            timeout=timeout,
            strict=strict,
            allow_insecure_credentials=allow_insecure_credentials,
        )

    prober = BaseClient(base_url, tls=tls, timeout=timeout)
    prober.negotiate()
    daemon = prober.daemon_version
    assert daemon is not None
    package, reason = choose_for_daemon(packages, daemon)
    logger.debug("connect() picked %s (API %s): %s", package.module, package.api_version, reason)
    return package.load()._from_probe(
        prober, strict=strict, allow_insecure_credentials=allow_insecure_credentials
    )


def _describe(packages: Sequence[VersionPackage]) -> str:
    if not packages:
        return "none"
    if len(packages) > 6:
        # A message listing 32 packages by name hides its point: give the count and versions.
        versions = ", ".join(p.api_version for p in packages)
        return f"{len(packages)} packages, for API {versions}"
    return ", ".join(f"{p.module} (API {p.api_version})" for p in packages)


def _describe_range(daemon: DaemonVersion) -> str:
    if daemon.min_api_version:
        return f"{daemon.min_api_version} to {daemon.api_version}"
    return f"up to {daemon.api_version}"
