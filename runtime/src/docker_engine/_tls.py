"""TLS settings for tcp:// and https:// hosts, and the SSL context built from them.

The Docker CLI's conventions apply: a certificate directory contains `ca.pem` (the CA that
signed the daemon's certificate), `cert.pem` and `key.pem` (the client's certificate and
key). `ssl` is imported only when a TLS connection is first opened.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docker_engine.errors import ConfigurationError

if TYPE_CHECKING:
    import ssl

logger = logging.getLogger("docker_engine")

CA_FILE = "ca.pem"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"


@dataclass(frozen=True)
class TLSConfig:
    """How to secure a TCP connection to the daemon.

    `ca_cert` is a CA bundle to verify the daemon against (None uses the system's CAs),
    `client_cert` and `client_key` the client's certificate and key (both or neither),
    and `verify` whether to check the daemon's certificate and host name at all.
    """

    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    # Where these settings came from, for error messages.
    source: str = "the tls argument"
    _context: list[ssl.SSLContext] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_key is None):
            raise ConfigurationError(
                f"TLS settings from {self.source} have a client certificate without its key "
                f"or a key without its certificate (cert: {self.client_cert}, key: "
                f"{self.client_key}): give both or neither",
                source=self.source,
            )
        for kind, path in (
            ("CA certificate", self.ca_cert),
            ("client certificate", self.client_cert),
            ("client key", self.client_key),
        ):
            if path is not None and not os.path.isfile(path):
                raise ConfigurationError(
                    f"the {kind} {path} from {self.source} does not exist or is not a file",
                    source=self.source,
                )

    @classmethod
    def from_directory(
        cls, directory: str, *, verify: bool = True, require_ca: bool = True, source: str
    ) -> TLSConfig:
        """Read ca.pem, cert.pem and key.pem from `directory`, the way the Docker CLI does.

        With `require_ca`, a missing ca.pem is an error; otherwise the system's CAs are used.
        """
        if not os.path.isdir(directory):
            raise ConfigurationError(
                f"the TLS certificate directory {directory} from {source} does not exist: "
                f"create it with {CA_FILE}, {CERT_FILE} and {KEY_FILE}, or point "
                "DOCKER_CERT_PATH at the directory that has them",
                source=source,
            )
        ca_path = os.path.join(directory, CA_FILE)
        if not os.path.isfile(ca_path):
            if require_ca:
                raise ConfigurationError(
                    f"the CA certificate {ca_path} from {source} does not exist: TLS "
                    f"verification needs the {CA_FILE} that signed the daemon's certificate",
                    source=source,
                )
            ca_path_or_none: str | None = None
        else:
            ca_path_or_none = ca_path
        cert_path = os.path.join(directory, CERT_FILE)
        key_path = os.path.join(directory, KEY_FILE)
        has_cert, has_key = os.path.isfile(cert_path), os.path.isfile(key_path)
        if has_cert != has_key:
            missing = key_path if has_cert else cert_path
            raise ConfigurationError(
                f"{missing} from {source} does not exist: the client certificate and key "
                "go together",
                source=source,
            )
        return cls(
            ca_cert=ca_path_or_none,
            client_cert=cert_path if has_cert else None,
            client_key=key_path if has_key else None,
            verify=verify,
            source=source,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Return the SSL context for these settings, built once."""
        with self._lock:
            if not self._context:
                self._context.append(self._build_context())
            return self._context[0]

    def _build_context(self) -> ssl.SSLContext:
        import ssl

        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_cert)
        except (OSError, ssl.SSLError) as error:
            raise ConfigurationError(
                f"cannot load the CA certificate {self.ca_cert} from {self.source}: {error}",
                source=self.source,
            ) from error
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            logger.warning(
                "TLS verification of the daemon's certificate is turned off (by %s): the "
                "connection is encrypted, but anyone on the network path can pose as the "
                "daemon. Turn it on with DOCKER_TLS_VERIFY=1 or TLSConfig(verify=True)",
                self.source,
            )
        if self.client_cert is not None and self.client_key is not None:
            _warn_if_readable_by_others(self.client_key, self.source)
            try:
                context.load_cert_chain(self.client_cert, self.client_key)
            except (OSError, ssl.SSLError) as error:
                raise ConfigurationError(
                    f"cannot load the client certificate {self.client_cert} with key "
                    f"{self.client_key} from {self.source}: {error}",
                    source=self.source,
                ) from error
        return context


def _warn_if_readable_by_others(key_path: str, source: str) -> None:
    """Log a warning when users other than the key's owner can read the private key file."""
    try:
        mode = os.stat(key_path).st_mode
    except OSError:
        return  # load_cert_chain reports the missing or unreadable file
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning(
            "the TLS client key %s (from %s) is readable by users other than its owner "
            "(mode %s): restrict it with `chmod 600 %s`",
            key_path,
            source,
            stat.filemode(mode),
            key_path,
        )
