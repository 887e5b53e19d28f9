"""Docker contexts: the named endpoints the Docker CLI stores under its configuration directory.

The configuration directory is DOCKER_CONFIG, else ~/.docker. The current context is
DOCKER_CONTEXT, else `currentContext` in its config.json. A context named NAME lives in

    contexts/meta/<sha256 of NAME>/meta.json       {"Name": ..., "Endpoints": {"docker":
                                                    {"Host": ..., "SkipTLSVerify": ...}}}
    contexts/tls/<sha256 of NAME>/docker/          ca.pem, cert.pem, key.pem (optional)

The context named "default" is not stored: it means DOCKER_HOST or the default socket.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docker_engine.errors import ConfigurationError

DEFAULT_CONTEXT = "default"


@dataclass(frozen=True)
class ContextEndpoint:
    """The Docker endpoint of a stored context."""

    name: str
    host: str
    skip_tls_verify: bool
    # The directory with the context's ca.pem, cert.pem and key.pem, if it has one.
    tls_directory: str | None
    meta_path: str
    # The origin of the context's name, such as "the DOCKER_CONTEXT environment variable".
    name_source: str

    @property
    def source(self) -> str:
        """Describe this context for messages, with where its name came from."""
        return f"context {self.name!r} ({self.meta_path}, named by {self.name_source})"


def config_directory(environ: Mapping[str, str]) -> str:
    """Return the Docker CLI's configuration directory: DOCKER_CONFIG, else ~/.docker."""
    configured = environ.get("DOCKER_CONFIG")
    if configured:
        return configured
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".docker")


def current_context_name(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """Return the current context's name and where it came from, or None if there is none."""
    name = environ.get("DOCKER_CONTEXT")
    if name:
        return name, "the DOCKER_CONTEXT environment variable"

    config_path = os.path.join(config_directory(environ), "config.json")
    config = _read_json(config_path, what="Docker CLI configuration")
    if config is None:
        return None
    current = config.get("currentContext")
    if current is None or current == "":
        return None
    if not isinstance(current, str):
        raise ConfigurationError(
            f"currentContext in {config_path} is {current!r}, not a context name: fix it "
            "with `docker context use NAME` or remove the member",
            source=config_path,
        )
    return current, f"currentContext in {config_path}"


def load_context(name: str, name_source: str, environ: Mapping[str, str]) -> ContextEndpoint:
    """Read the Docker endpoint of the context `name` from the contexts store."""
    import hashlib

    directory = config_directory(environ)
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    meta_path = os.path.join(directory, "contexts", "meta", digest, "meta.json")
    meta = _read_json(meta_path, what=f"metadata of context {name!r}")
    if meta is None:
        raise ConfigurationError(
            f"context {name!r} (from {name_source}) not found: {meta_path} does not exist. "
            "List the contexts with `docker context ls`, or unset the variable or "
            "`currentContext` that names it",
            source=name_source,
        )

    endpoints = meta.get("Endpoints")
    endpoint = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = endpoint.get("Host") if isinstance(endpoint, dict) else None
    if not isinstance(endpoint, dict) or not isinstance(host, str) or not host:
        raise ConfigurationError(
            f"context {name!r} ({meta_path}) has no Docker endpoint: Endpoints.docker.Host "
            "is missing or empty",
            source=meta_path,
        )

    tls_directory = os.path.join(directory, "contexts", "tls", digest, "docker")
    return ContextEndpoint(
        name=name,
        host=host,
        skip_tls_verify=bool(endpoint.get("SkipTLSVerify", False)),
        tls_directory=tls_directory if os.path.isdir(tls_directory) else None,
        meta_path=meta_path,
        name_source=name_source,
    )


def _read_json(path: str, *, what: str) -> dict[str, Any] | None:
    """Read a JSON object from `path`, or return None if the file does not exist."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigurationError(f"cannot read the {what} {path}: {error}", source=path) from error

    try:
        document = json.loads(data)
    except ValueError as error:
        raise ConfigurationError(
            f"the {what} {path} is not valid JSON: {error}", source=path
        ) from error
    if not isinstance(document, dict):
        raise ConfigurationError(f"the {what} {path} is not a JSON object", source=path)
    return document
