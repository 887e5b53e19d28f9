"""Registry credentials for the `X-Registry-Auth` and `X-Registry-Config` headers.

The daemon reads both headers as base64url (the URL-safe alphabet with `-` and `_`,
padded with `=`) of a JSON document. `X-Registry-Auth` carries one auth configuration
(pull, push, plugin install); `X-Registry-Config` maps registry addresses to auth
configurations (build). An auth configuration is a JSON object with `username` and
`password`, or `identitytoken`, plus `serveraddress`.

Credentials come from the caller or from the Docker CLI's config file
(`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): its `credHelpers` name a
helper per registry, `credsStore` a helper for all registries, and `auths` contains
credentials inline. A helper NAME is the program `docker-credential-NAME` on PATH,
which prints a registry's credentials for `get` and the known registries for `list`.

Nothing here logs a credential or a header value.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from docker_engine.errors import ConfigurationError, InvalidArgument

logger = logging.getLogger("docker_engine")

# Docker Hub's key in config files and credential helpers, kept from the v1 registry API.
DOCKER_HUB_ADDRESS = "https://index.docker.io/v1/"
_DOCKER_HUB_NAMES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

# A credential helper that returns this user name for a `get` returns an identity token
# (an OAuth refresh token) as its secret, not a password.
_TOKEN_USERNAME = "<token>"

HELPER_TIMEOUT = 30.0


def encode_header(document: Any) -> str:
    """Encode a JSON document as the daemon decodes registry headers: base64url of JSON."""
    raw = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def auth_config(
    username: str | None = None,
    password: str | None = None,
    *,
    identity_token: str | None = None,
    server_address: str | None = None,
    email: str | None = None,
) -> dict[str, str]:
    """Build an auth configuration from explicit credentials."""
    config: dict[str, str] = {}
    if username is not None:
        config["username"] = username
    if password is not None:
        config["password"] = password
    if identity_token is not None:
        config["identitytoken"] = identity_token
    if email is not None:
        config["email"] = email
    if server_address is not None:
        config["serveraddress"] = server_address
    return config


def registry_auth_header(
    image: str | None = None,
    *,
    username: str | None = None,
    password: str | None = None,
    identity_token: str | None = None,
    server_address: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
) -> str:
    """Return the `X-Registry-Auth` value for pulling or pushing `image`.

    Explicit credentials win. Without them, the registry of `image` (Docker Hub for a
    reference without one) is looked up in the Docker config file and its credential
    helpers. Without any credentials the value is the encoded empty object, which the
    daemon takes as anonymous access, as the Docker CLI sends it.
    """
    if username is not None or password is not None or identity_token is not None:
        if server_address is None and image is not None:
            server_address = _helper_address(registry_of(image))
        return encode_header(
            auth_config(
                username,
                password,
                identity_token=identity_token,
                server_address=server_address,
            )
        )
    if image is None:
        return encode_header({})
    found = find_credentials(registry_of(image), config_path=config_path)
    return encode_header(found or {})


def registry_config_header(
    credentials: Mapping[str, Mapping[str, str]] | None = None,
    *,
    config_path: str | os.PathLike[str] | None = None,
    use_config: bool = True,
) -> str:
    """Return the `X-Registry-Config` value for a build: credentials for each registry.

    With `use_config`, every registry of the Docker config file is included: its
    `auths`, its `credHelpers` and what its `credsStore` lists. The `credentials`,
    keyed by registry address, are added on top.
    """
    configs: dict[str, dict[str, str]] = {}
    if use_config:
        configs.update(all_credentials(config_path=config_path))
    for address, config in (credentials or {}).items():
        configs[address] = dict(config)
    return encode_header(configs)


# --- the Docker config file --------------------------------------------------------------


def config_file_path() -> str:
    """Return the Docker CLI's config file path: $DOCKER_CONFIG/config.json or ~/.docker/."""
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(directory, "config.json")


def load_config(config_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the Docker config file; a missing file is an empty configuration."""
    path = os.fspath(config_path) if config_path is not None else config_file_path()
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ConfigurationError(
            f"cannot read the Docker config file {path}: {error}; fix or remove it",
            source=path,
        ) from None
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"the Docker config file {path} is not a JSON object", source=path
        )
    return document


def registry_of(image: str) -> str:
    """Return the registry host of an image reference ("docker.io" when it names none).

    The first component is a registry when it contains "." or ":" or is "localhost",
    as the daemon decides ("registry.example.com:5000/team/app:1.0").
    """
    if not image:
        raise InvalidArgument("the image reference is empty", parameter="image")
    first, separator, _ = image.partition("/")
    if separator and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def find_credentials(
    registry: str, *, config_path: str | os.PathLike[str] | None = None
) -> dict[str, str] | None:
    """Return the auth configuration for `registry` from the Docker config, or None.

    The order is the Docker CLI's: the registry's entry in `credHelpers`, else the
    `credsStore` helper, else the inline `auths` entry.
    """
    config = load_config(config_path)
    address = _helper_address(registry)
    helpers = config.get("credHelpers") or {}
    helper = helpers.get(registry) or helpers.get(address)
    if helper:
        return _helper_get(helper, address)
    store = config.get("credsStore")
    if store:
        found = _helper_get(store, address)
        if found is not None:
            return found
    return _inline_credentials(config.get("auths") or {}, registry)


def all_credentials(
    *, config_path: str | os.PathLike[str] | None = None
) -> dict[str, dict[str, str]]:
    """Return the auth configuration of every registry the Docker config knows."""
    config = load_config(config_path)
    configs: dict[str, dict[str, str]] = {}
    auths = config.get("auths") or {}
    for address in auths:
        found = _inline_credentials(auths, address)
        if found is not None:
            configs[address] = found

    store = config.get("credsStore")
    if store:
        for address in _helper_list(store):
            found = _helper_get(store, address)
            if found is not None:
                configs[address] = found
    for registry, helper in (config.get("credHelpers") or {}).items():
        found = _helper_get(helper, _helper_address(registry))
        if found is not None:
            configs[registry] = found
    return configs


def _helper_address(registry: str) -> str:
    """Return the address under which config files and helpers store `registry`."""
    return DOCKER_HUB_ADDRESS if registry in _DOCKER_HUB_NAMES else registry


def _hostname_of(address: str) -> str:
    """Return the host of a config key ("https://r.example.com/v1/" -> "r.example.com"),
    with every name of Docker Hub as "index.docker.io"."""
    host = address.split("://", 1)[-1].split("/", 1)[0]
    return "index.docker.io" if host in _DOCKER_HUB_NAMES else host


def _inline_credentials(auths: Mapping[str, Any], registry: str) -> dict[str, str] | None:
    address = _helper_address(registry)
    key = address if address in auths else registry
    entry = auths.get(key)
    if entry is None:
        # Keys may carry a scheme or a path ("https://registry.example.com/v1/").
        wanted = _hostname_of(address)
        for candidate, value in auths.items():
            if _hostname_of(candidate) == wanted:
                entry, key = value, candidate
                break
    if not isinstance(entry, dict):
        return None

    config: dict[str, str] = {"serveraddress": key}
    encoded = entry.get("auth")
    if encoded:
        try:
            username, separator, password = (
                base64.b64decode(encoded, validate=False).decode("utf-8").partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            raise ConfigurationError(
                f"the auth of {key!r} in the Docker config file is not base64 of "
                "'user:password': log in again to rewrite it"
            ) from None
        if not separator:
            raise ConfigurationError(
                f"the auth of {key!r} in the Docker config file has no ':' between user "
                "and password: log in again to rewrite it"
            )
        config["username"] = username
        config["password"] = password
    for member in ("identitytoken", "email"):
        if entry.get(member):
            config[member] = entry[member]
    if len(config) == 1:
        return None
    return config


def _run_helper(helper: str, action: str, data: str) -> subprocess.CompletedProcess[bytes]:
    program = f"docker-credential-{helper}"
    executable = shutil.which(program)
    if executable is None:
        raise ConfigurationError(
            f"the Docker config names the credential helper {helper!r}, but {program} is "
            "not on PATH: install it or remove it from the config file"
        )
    logger.debug("asking %s to %s credentials", program, action)
    try:
        return subprocess.run(
            [executable, action],
            input=data.encode("utf-8"),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigurationError(
            f"the credential helper {program} did not finish `{action}` within "
            f"{HELPER_TIMEOUT} s"
        ) from None
    except OSError as error:
        raise ConfigurationError(f"cannot run the credential helper {program}: {error}") from None


def _helper_get(helper: str, address: str) -> dict[str, str] | None:
    result = _run_helper(helper, "get", address)
    output = result.stdout.decode("utf-8", errors="replace").strip()
    if result.returncode != 0:
        # Helpers report unknown registries with this message and a failure status.
        if "credentials not found" in output.lower():
            return None
        raise ConfigurationError(
            f"the credential helper docker-credential-{helper} failed to get the "
            f"credentials of {address} (exit status {result.returncode}): "
            f"{_excerpt(output or result.stderr.decode('utf-8', errors='replace'))}"
        )
    try:
        document = json.loads(output)
        username, secret = document["Username"], document["Secret"]
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"the credential helper docker-credential-{helper} printed something other "
            'than {"Username": ..., "Secret": ...} for ' + address
        ) from None
    if username == _TOKEN_USERNAME:
        return {"identitytoken": secret, "serveraddress": address}
    return {"username": username, "password": secret, "serveraddress": address}


def _helper_list(helper: str) -> list[str]:
    result = _run_helper(helper, "list", "")
    if result.returncode != 0:
        raise ConfigurationError(
            f"the credential helper docker-credential-{helper} failed to list its "
            f"registries (exit status {result.returncode})"
        )
    try:
        document = json.loads(result.stdout or b"{}")
    except ValueError:
        raise ConfigurationError(
            f"the credential helper docker-credential-{helper} printed invalid JSON for `list`"
        ) from None
    return [str(address) for address in document] if isinstance(document, dict) else []


def _excerpt(text: str, limit: int = 200) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."
