"""Which daemon to talk to, resolved the way the Docker CLI does it.

In order: the `base_url` argument, the DOCKER_HOST environment variable, the current
Docker context (DOCKER_CONTEXT, else `currentContext` in config.json), then
unix:///var/run/docker.sock. Every resolved host remembers where it came from, so an
error can name what was tried.

Supported hosts:

    unix:///path/to/docker.sock
    tcp://HOST[:PORT]       plain HTTP on 2375, or TLS on 2376 when DOCKER_TLS_VERIFY is set
    http://HOST[:PORT]      plain HTTP (same as tcp:// without TLS)
    https://HOST[:PORT]     TLS, verified against DOCKER_CERT_PATH's ca.pem or the system's CAs
    ssh://[USER@]HOST[:PORT]   the system `ssh` running `docker system dial-stdio` remotely

An IPv6 address goes in brackets: tcp://[2001:db8::10]:2376.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from docker_engine._contexts import (
    DEFAULT_CONTEXT,
    ContextEndpoint,
    current_context_name,
    load_context,
)
from docker_engine._tls import TLSConfig
from docker_engine.errors import ConfigurationError

DEFAULT_UNIX_SOCKET = "/var/run/docker.sock"
DEFAULT_HOST = "unix://" + DEFAULT_UNIX_SOCKET
PLAIN_PORT = 2375
TLS_PORT = 2376

SOURCE_ARGUMENT = "the base_url argument"
SOURCE_ENVIRONMENT = "the DOCKER_HOST environment variable"
SOURCE_DEFAULT = "the default"


@dataclass(frozen=True)
class DockerHost:
    """A resolved daemon address and how to secure it."""

    url: str
    scheme: str  # "unix", "tcp" or "ssh"
    source: str
    socket_path: str | None = None  # unix
    hostname: str | None = None  # tcp and ssh, without IPv6 brackets
    port: int | None = None  # tcp and ssh (None for ssh means ssh's own default)
    user: str | None = None  # ssh
    tls: TLSConfig | None = None  # tcp only

    @property
    def host_header(self) -> str:
        """Return the value of the HTTP Host header for requests to this host."""
        if self.scheme != "tcp" or self.hostname is None:
            # The daemon ignores the Host header on sockets; any valid name does.
            return "localhost"
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{name}:{self.port}"

    @property
    def insecure_remote(self) -> bool:
        """True for a tcp:// host without TLS whose address is not a loopback address.

        Anyone on the network path to such a host can read and change the traffic. Only
        "localhost" and literal loopback addresses (127.0.0.0/8, ::1) count as loopback:
        other names are not resolved, so a name that resolves to 127.0.0.1 counts as remote.
        """
        if self.scheme != "tcp" or self.tls is not None or self.hostname is None:
            return False
        if self.hostname.lower() in ("localhost", "localhost."):
            return False
        import ipaddress

        try:
            address = ipaddress.ip_address(self.hostname)
        except ValueError:
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return not address.is_loopback

    def describe(self) -> str:
        """Return the host and where it came from, for messages."""
        return f"{self.url} (from {self.source})"


def resolve_host(
    base_url: str | None,
    tls: TLSConfig | bool | None,
    environ: Mapping[str, str] | None = None,
    *,
    base_url_source: str = SOURCE_ARGUMENT,
) -> DockerHost:
    """Resolve the daemon to use, the way the Docker CLI does.

    Raises ConfigurationError naming the setting and where it came from when a host,
    context or TLS file is invalid or missing.
    """
    if environ is None:
        environ = os.environ

    if base_url:
        return parse_host(base_url, base_url_source, _tls_from_environment(tls, environ))

    environment_host = environ.get("DOCKER_HOST")
    if environment_host:
        return parse_host(
            environment_host, SOURCE_ENVIRONMENT, _tls_from_environment(tls, environ)
        )

    named = current_context_name(environ)
    if named is not None and named[0] != DEFAULT_CONTEXT:
        context = load_context(named[0], named[1], environ)
        return parse_host(context.host, context.source, _tls_from_context(tls, context))

    return parse_host(DEFAULT_HOST, SOURCE_DEFAULT, None)


def parse_host(url: str, source: str, tls: TLSConfig | None) -> DockerHost:
    """Parse a host URL from `source`; `tls` applies to tcp:// hosts only."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator:
        raise _invalid(
            url,
            source,
            "it has no scheme. Write unix:///path/to/docker.sock, tcp://HOST:PORT "
            "or ssh://USER@HOST",
        )

    if scheme == "unix":
        if not rest:
            raise _invalid(url, source, "the socket path is missing, as in unix:///var/run/docker.sock")
        return DockerHost(url=url, scheme="unix", source=source, socket_path=rest)

    if scheme == "npipe":
        raise _invalid(
            url,
            source,
            "npipe:// names a Windows named pipe, which this library does not support"
            + ("" if sys.platform == "win32" else " and which does not exist off Windows")
            + ". Use unix:// or tcp:// instead",
        )

    if scheme not in ("tcp", "http", "https", "ssh"):
        raise _invalid(
            url, source, f"the scheme {scheme!r} is not supported: use unix, tcp, http, https or ssh"
        )

    authority, slash, path = rest.partition("/")
    if (slash and path) or "?" in authority or "#" in authority:
        raise _invalid(url, source, "a host URL has no path, query or fragment")

    user = None
    if "@" in authority:
        if scheme != "ssh":
            raise _invalid(url, source, "only ssh:// hosts take a user name")
        user, _, authority = authority.rpartition("@")
        if not user or user.startswith("-"):
            raise _invalid(url, source, f"the user name {user!r} is invalid")

    hostname, port = _split_host_port(url, source, scheme, authority)

    if scheme == "ssh":
        return DockerHost(
            url=url, scheme="ssh", source=source, hostname=hostname, port=port, user=user
        )

    if scheme == "http":
        tls = None
    elif scheme == "https" and tls is None:
        tls = TLSConfig(source=f"{source} (https:// with the system's CAs)")
    if port is None:
        port = TLS_PORT if tls is not None else PLAIN_PORT
    return DockerHost(url=url, scheme="tcp", source=source, hostname=hostname, port=port, tls=tls)


def _split_host_port(url: str, source: str, scheme: str, authority: str) -> tuple[str, int | None]:
    if not authority:
        raise _invalid(url, source, f"the host name is missing, as in {scheme}://HOST:PORT")

    port_text = ""
    if authority.startswith("["):
        hostname, bracket, after = authority[1:].partition("]")
        if not bracket or not hostname:
            raise _invalid(url, source, "the IPv6 address has no closing bracket")
        if after:
            if not after.startswith(":"):
                raise _invalid(url, source, f"unexpected {after!r} after the IPv6 address")
            port_text = after[1:]
            if not port_text:
                raise _invalid(url, source, "the port after ':' is missing")
    elif authority.count(":") > 1:
        # Without brackets, "2001:db8::10:2376" may be an address with a port or an
        # address that ends in :2376. Guessing could connect to the wrong place.
        address, _, last = authority.rpartition(":")
        raise _invalid(
            url,
            source,
            "an IPv6 address must be written in brackets, because without them the "
            f"port cannot be told apart: write {scheme}://[{address}]:{last} for port "
            f"{last}, or {scheme}://[{authority}] for the default port",
        )
    else:
        hostname, colon, port_text = authority.partition(":")
        if colon and not port_text:
            raise _invalid(url, source, "the port after ':' is missing")
        if not hostname:
            raise _invalid(url, source, f"the host name is missing, as in {scheme}://HOST:PORT")

    if hostname.startswith("-"):
        raise _invalid(url, source, f"the host name {hostname!r} is invalid")

    if not port_text:
        return hostname, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _invalid(url, source, f"the port {port_text!r} is not a number from 1 to 65535")
    return hostname, int(port_text)


def _tls_from_environment(tls: TLSConfig | bool | None, environ: Mapping[str, str]) -> TLSConfig | None:
    """TLS for a host from the argument or DOCKER_HOST: the tls argument, else the variables.

    As in the Docker CLI, DOCKER_TLS_VERIFY set to any non-empty value turns on TLS with
    verification against DOCKER_CERT_PATH (default ~/.docker), and DOCKER_TLS alone turns
    on TLS without verification.
    """
    if isinstance(tls, TLSConfig):
        return tls
    if tls is False:
        return None

    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    if not (tls or verify or environ.get("DOCKER_TLS")):
        return None

    cert_path = environ.get("DOCKER_CERT_PATH")
    if cert_path:
        source = "DOCKER_CERT_PATH"
    else:
        home = environ.get("HOME") or os.path.expanduser("~")
        cert_path = os.path.join(home, ".docker")
        source = "the default certificate directory (DOCKER_CERT_PATH is unset)"
    if verify or tls is True:
        return TLSConfig.from_directory(cert_path, verify=True, source=source)
    return TLSConfig.from_directory(cert_path, verify=False, require_ca=False, source=source)


def _tls_from_context(tls: TLSConfig | bool | None, context: ContextEndpoint) -> TLSConfig | None:
    """TLS for a host from a context: the tls argument, else the context's own material."""
    if isinstance(tls, TLSConfig):
        return tls
    if tls is False or context.tls_directory is None:
        return None
    return TLSConfig.from_directory(
        context.tls_directory,
        verify=not context.skip_tls_verify,
        require_ca=False,
        source=context.source,
    )


def _invalid(url: str, source: str, reason: str) -> ConfigurationError:
    return ConfigurationError(f"invalid Docker host {url!r} from {source}: {reason}", source=source)
