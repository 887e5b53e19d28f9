"""`connect_async()`: the asyncio client of the installed version package that fits a daemon.

It decides as `connect()` does, with the same functions of docker_engine._connect, and
returns the package's `AsyncClient` instead of its `Client`. Finding and importing the
packages reads files, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Mapping

from docker_engine._async_client import AsyncBaseClient
from docker_engine._connect import (
    VersionPackage,
    choose_for_daemon,
    choose_for_pinned,
    installed_packages,
)
from docker_engine._timeout import Timeout
from docker_engine._tls import TLSConfig
from docker_engine._versions import normalize_pinned_version
from docker_engine.errors import ConfigurationError

logger = logging.getLogger("docker_engine")


async def connect_async(
    base_url: str | None = None,
    *,
    version: str | None = None,
    tls: TLSConfig | bool | None = None,
    timeout: float | Timeout | None = None,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_insecure_credentials: bool = False,
) -> AsyncBaseClient:
    """Return an asyncio client of the installed version package that best fits the daemon.

    Without a pinned version, the daemon is probed once (GET /_ping and GET /version) and
    the newest package within its API range is picked. The client reuses that probe and
    its connection. With `version` or DOCKER_API_VERSION, the package for that version
    (else the closest newer one) is picked without contacting the daemon. Raises
    APIVersionError naming the daemon's range and the package to install when none fits.
    `allow_insecure_credentials` is passed to the client (see BaseClient).
    """
    if environ is None:
        environ = os.environ
    packages = await asyncio.to_thread(installed_packages)

    pinned_source = "the version argument" if version is not None else None
    if version is None and environ.get("DOCKER_API_VERSION"):
        version = environ["DOCKER_API_VERSION"]
        pinned_source = "the DOCKER_API_VERSION environment variable"
    if version is not None and pinned_source is not None:
        pinned = normalize_pinned_version(version, pinned_source)
        package, reason = choose_for_pinned(packages, pinned, pinned_source)
        logger.debug(
            "connect_async() picked %s (API %s): %s",
            package.module,
            package.api_version,
            reason,
        )
        client_class = await asyncio.to_thread(load_async_client, package)
        return await asyncio.to_thread(
            client_class,
            base_url,
            version=pinned,
            tls=tls,
            timeout=timeout,
            strict=strict,
            allow_insecure_credentials=allow_insecure_credentials,
        )

    # Resolving the host may read the Docker CLI's config and context files.
    prober = await asyncio.to_thread(
        AsyncBaseClient, base_url, tls=tls, timeout=timeout
    )
    await prober.negotiate()
    daemon = prober.daemon_version
    assert daemon is not None
    package, reason = choose_for_daemon(packages, daemon)
    logger.debug(
        "connect_async() picked %s (API %s): %s",
        package.module,
        package.api_version,
        reason,
    )
    client_class = await asyncio.to_thread(load_async_client, package)
    return client_class._from_probe(
        prober, strict=strict, allow_insecure_credentials=allow_insecure_credentials
    )


def load_async_client(package: VersionPackage) -> type[AsyncBaseClient]:
    """Import a version package and return its AsyncClient class."""
    module_name = package.target.partition(":")[0]
    module = importlib.import_module(module_name)
    client_class = getattr(module, "AsyncClient", None)
    if not (
        isinstance(client_class, type) and issubclass(client_class, AsyncBaseClient)
    ):
        raise ConfigurationError(
            f"{module_name} (found by {package.found_by}) has no AsyncClient that is a "
            "docker_engine asyncio client class: regenerate or reinstall the package",
            source=package.found_by,
        )
    if client_class.PACKAGE_API_VERSION != package.api_version:
        raise ConfigurationError(
            f"{module_name}.AsyncClient (found by {package.found_by}) is for API "
            f"{client_class.PACKAGE_API_VERSION}, not {package.api_version}",
            source=package.found_by,
        )
    return client_class
