"""The runtime every generated `docker_engine_v1_NN` package depends on.

    import docker_engine

    client = docker_engine.connect()          # the installed package that fits the daemon
    client.containers.list(all=True)

Each version package's `Client` extends `BaseClient`; its operations are `Operation`
constants that `BaseClient.call` turns into requests. Exceptions are in
`docker_engine.errors`, all re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docker_engine import errors
from docker_engine._client import BaseClient, BinaryBody, Group
from docker_engine._model import Model
from docker_engine._operation import (
    FIRST_API_VERSION,
    BodyKind,
    Location,
    Operation,
    Parameter,
    ResponseKind,
)
from docker_engine._responses import ByteStream
from docker_engine.errors import (
    APIError,
    APIVersionError,
    BadRequest,
    ConfigurationError,
    Conflict,
    DockerConnectionError,
    DockerError,
    Forbidden,
    InvalidArgument,
    InvalidResponse,
    NotFound,
    ProgressError,
    ServerError,
    StreamError,
    TimeoutError,
    Unauthorized,
)

if TYPE_CHECKING:
    from docker_engine._connect import VersionPackage
    from docker_engine._hosts import DockerHost
    from docker_engine._negotiation import DaemonVersion
    from docker_engine._timeout import Timeout
    from docker_engine._tls import TLSConfig
    from docker_engine._auth import (
        auth_config,
        find_credentials,
        registry_auth_header,
        registry_config_header,
    )
    from docker_engine._buildcontext import BuildContext
    from docker_engine._dockerignore import DockerIgnore
    from docker_engine._archives import path_stat
    from docker_engine._exec import ExecResult, exec_run
    from docker_engine._hijack import TTY_EOF
    from docker_engine._async_client import AsyncBaseClient, AsyncBinaryBody, AsyncGroup
    from docker_engine._async_exec import exec_run_async
    from docker_engine._async_hijack import AsyncHijackedStream
    from docker_engine._async_responses import AsyncByteStream
    from docker_engine._async_streams import (
        AsyncFrameStream,
        AsyncJSONStream,
        AsyncProgressStream,
    )

# Names imported on first access, so that importing a version package stays cheap.
_LAZY = {
    "DaemonVersion": "docker_engine._negotiation",
    "DockerHost": "docker_engine._hosts",
    "TLSConfig": "docker_engine._tls",
    "Timeout": "docker_engine._timeout",
    # Streams, exec, build contexts and registry credentials.
    "BuildContext": "docker_engine._buildcontext",
    "DockerIgnore": "docker_engine._dockerignore",
    "ExecResult": "docker_engine._exec",
    "exec_run": "docker_engine._exec",
    "auth_config": "docker_engine._auth",
    "find_credentials": "docker_engine._auth",
    "registry_auth_header": "docker_engine._auth",
    "registry_config_header": "docker_engine._auth",
    "path_stat": "docker_engine._archives",
    "TTY_EOF": "docker_engine._hijack",
    # The asyncio client and its streams.
    "AsyncBaseClient": "docker_engine._async_client",
    "AsyncBinaryBody": "docker_engine._async_client",
    "AsyncGroup": "docker_engine._async_client",
    "AsyncByteStream": "docker_engine._async_responses",
    "AsyncFrameStream": "docker_engine._async_streams",
    "AsyncHijackedStream": "docker_engine._async_hijack",
    "AsyncJSONStream": "docker_engine._async_streams",
    "AsyncProgressStream": "docker_engine._async_streams",
    "exec_run_async": "docker_engine._async_exec",
}


# The stream types of FRAMES, JSON_STREAM, PROGRESS and HIJACK responses, which generated
# packages import for their annotations.
_STREAM_TYPES = ("FrameStream", "JSONStream", "ProgressStream", "HijackedStream")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _STREAM_TYPES:
        value: Any = getattr(importlib.import_module("docker_engine._streams"), name)
        globals()[name] = value
        return value

    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'docker_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "FIRST_API_VERSION",
    "APIError",
    "APIVersionError",
    "AsyncBaseClient",
    "AsyncBinaryBody",
    "AsyncByteStream",
    "AsyncFrameStream",
    "AsyncGroup",
    "AsyncHijackedStream",
    "AsyncJSONStream",
    "AsyncProgressStream",
    "BadRequest",
    "BaseClient",
    "BinaryBody",
    "BodyKind",
    "BuildContext",
    "ByteStream",
    "ConfigurationError",
    "Conflict",
    "DaemonVersion",
    "DockerConnectionError",
    "DockerError",
    "DockerHost",
    "DockerIgnore",
    "ExecResult",
    "Forbidden",
    "Group",
    "InvalidArgument",
    "InvalidResponse",
    "Location",
    "Model",
    "NotFound",
    "Operation",
    "Parameter",
    "ProgressError",
    "ResponseKind",
    "ServerError",
    "StreamError",
    "TLSConfig",
    "TTY_EOF",
    "Timeout",
    "TimeoutError",
    "Unauthorized",
    "__version__",
    "auth_config",
    "connect",
    "connect_async",
    "errors",
    "exec_run",
    "exec_run_async",
    "find_credentials",
    "installed_packages",
    "path_stat",
    "registry_auth_header",
    "registry_config_header",
]


def connect(
    base_url: str | None = None,
    *,
    version: str | None = None,
    tls: TLSConfig | bool | None = None,
    timeout: float | Timeout | None = None,
    strict: bool = False,
    allow_insecure_credentials: bool = False,
) -> BaseClient:
    """Return a client of the installed version package that best fits the daemon.

    Without a pinned version (`version`, else DOCKER_API_VERSION), the daemon is probed
    once and the newest installed package within its API range is picked; the client
    reuses the probe. With a pinned version, the package for that version, else the
    closest newer one, is picked without contacting the daemon. Raises APIVersionError
    naming the daemon's range and the package to install when none fits.
    `allow_insecure_credentials` lets registry credentials go to a tcp:// host without
    TLS that is not loopback (see BaseClient).
    """
    from docker_engine._connect import connect as connect_

    return connect_(
        base_url,
        version=version,
        tls=tls,
        timeout=timeout,
        strict=strict,
        allow_insecure_credentials=allow_insecure_credentials,
    )


async def connect_async(
    base_url: str | None = None,
    *,
    version: str | None = None,
    tls: TLSConfig | bool | None = None,
    timeout: float | Timeout | None = None,
    strict: bool = False,
    allow_insecure_credentials: bool = False,
) -> AsyncBaseClient:
    """Return an asyncio client of the installed version package that best fits the daemon.

    It decides as connect() does and returns the package's AsyncClient. The asyncio
    client's modules are imported in a worker thread, so that the first call reads no
    file while the event loop runs.
    """
    import asyncio
    import importlib

    module = await asyncio.to_thread(importlib.import_module, "docker_engine._async_connect")
    client: AsyncBaseClient = await module.connect_async(
        base_url,
        version=version,
        tls=tls,
        timeout=timeout,
        strict=strict,
        allow_insecure_credentials=allow_insecure_credentials,
    )
    return client


def installed_packages() -> list[VersionPackage]:
    """Return the installed version packages, oldest API version first."""
    from docker_engine._connect import installed_packages as installed

    return installed()
