"""The client every version package's `Client` extends, and the request path of every call.

`BaseClient.call` checks an operation's arguments against the API version in use, builds
the request, sends it through the connection pool and decodes the response by the
operation's `ResponseKind`. Creating a client resolves the host (reading DOCKER_HOST or
the Docker context) but opens no connection; the first call opens one and, unless the
version is pinned, negotiates the API version.
"""

from __future__ import annotations

import importlib
import json
import threading
import typing
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType, TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Self, TypeAlias

from docker_engine._operation import Operation, ResponseKind
from docker_engine.errors import (
    APIError,
    ConfigurationError,
    DockerError,
    InvalidArgument,
    error_from_response,
    invalid_json_error,
)

if TYPE_CHECKING:
    from docker_engine._hosts import DockerHost
    from docker_engine._negotiation import DaemonVersion, Negotiated
    from docker_engine._request import OperationPlan
    from docker_engine._timeout import Timeout
    from docker_engine._tls import TLSConfig
    from docker_engine._transport import ConnectionPool

# Importing a version package imports this module, so the request machinery (http.client,
# urllib.parse, the encoders) is imported on the first call instead, and kept here.
_request: Any = None

USER_AGENT = "docker-engine-python/0.1.0"

# The types a binary request body may have. A body of known length (bytes, a regular
# file) is sent with Content-Length, any other (a pipe, a generator of chunks) chunked.
BinaryBody: TypeAlias = bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes]

# Connections one client keeps open at most, busy and idle each.
DEFAULT_MAX_CONNECTIONS = 10

# Responses handed to docker_engine._streams.
_STREAM_KINDS = (
    ResponseKind.FRAMES,
    ResponseKind.JSON_STREAM,
    ResponseKind.PROGRESS,
    ResponseKind.HIJACK,
)


class Group:
    """A group of operations on one client, such as `client.containers`."""

    __slots__ = ("_client",)

    def __init__(self, client: BaseClient) -> None:
        self._client = client


class ClientCore:
    """The part of a client that does no I/O: settings, the API version, plans, decoding.

    BaseClient and AsyncBaseClient extend it with their own I/O, so that both check,
    build and decode every request with the same code.
    """
    # The API version the package was generated for; None on the base class, which then
    # uses the daemon's newest version.
    PACKAGE_API_VERSION: ClassVar[str | None] = None
    # The module the operations' result types are evaluated in.
    MODELS_MODULE: ClassVar[str | None] = None

    _plans: ClassVar[dict[int, OperationPlan]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Plans hold decoders evaluated in the subclass's models module.
        cls._plans = {}

    def __init__(
        self,
        base_url: str | DockerHost | None = None,
        *,
        version: str | None = None,
        tls: TLSConfig | bool | None = None,
        timeout: float | Timeout | None = None,
        strict: bool = False,
        max_connections: int | None = None,
        allow_insecure_credentials: bool = False,
    ) -> None:
        from docker_engine._hosts import DockerHost, resolve_host

        # A DockerHost is already resolved, TLS settings included.
        host = base_url if isinstance(base_url, DockerHost) else resolve_host(base_url, tls)
        self._setup(
            host,
            version=version,
            timeout=timeout,
            strict=strict,
            max_connections=max_connections,
            allow_insecure_credentials=allow_insecure_credentials,
        )

    def _setup(
        self,
        host: DockerHost,
        *,
        version: str | None,
        timeout: float | Timeout | None,
        strict: bool,
        max_connections: int | None,
        environ: Mapping[str, str] | None = None,
        allow_insecure_credentials: bool = False,
    ) -> None:
        import os

        from docker_engine._timeout import Timeout, as_timeout
        from docker_engine._versions import normalize_pinned_version

        if environ is None:
            environ = os.environ
        self._host = host
        self._strict = strict
        self._max_connections = max_connections or DEFAULT_MAX_CONNECTIONS
        self._timeout = as_timeout(timeout, Timeout())
        self._pool: ConnectionPool | None = None
        self._transport: Any = None
        self._lock = threading.Lock()
        self._negotiation_lock = threading.Lock()
        self._daemon: DaemonVersion | None = None
        self._negotiated: Negotiated | None = None
        self._api_version: str | None = None
        self._api_key: tuple[int, int] = (0, 0)
        self._daemon_note = ""
        # Registry credentials are checked for only where they would cross the network
        # in plain text; the check is skipped everywhere else.
        self._allow_insecure_credentials = allow_insecure_credentials
        self._guard_credentials = host.insecure_remote
        self._warned_insecure_credentials = False

        if version is not None:
            pinned = normalize_pinned_version(version, "the version argument")
            source = "the version argument"
        elif environ.get("DOCKER_API_VERSION"):
            pinned = normalize_pinned_version(
                environ["DOCKER_API_VERSION"], "the DOCKER_API_VERSION environment variable"
            )
            source = "the DOCKER_API_VERSION environment variable"
        else:
            return

        from docker_engine._negotiation import Negotiated
        from docker_engine._operation import FIRST_API_VERSION
        from docker_engine._versions import version_key

        if version_key(pinned) < version_key(FIRST_API_VERSION):
            raise ConfigurationError(
                f"API version {pinned} from {source} predates {FIRST_API_VERSION}, the oldest "
                "version with a published specification, so no version package can speak it: "
                f"pin {FIRST_API_VERSION} or newer, or leave the version unset",
                source=source,
            )
        self._use_version(Negotiated(pinned, f"pinned by {source}; no negotiation"))

    # --- what the client knows ---------------------------------------------------------

    @property
    def api_version(self) -> str | None:
        """The API version in use: pinned, or negotiated on the first call; None before."""
        return self._api_version

    @property
    def negotiation_reason(self) -> str | None:
        """Why the client uses its API version, once it is known."""
        return self._negotiated.reason if self._negotiated else None

    @property
    def daemon_version(self) -> DaemonVersion | None:
        """What the daemon reported when probed; None if it was not (a pinned version)."""
        return self._daemon

    @property
    def host(self) -> DockerHost:
        """The resolved daemon host, with where it came from."""
        return self._host

    def __repr__(self) -> str:
        version = self._api_version or "not negotiated yet"
        return f"<{type(self).__name__} {self._host.url} API {version}>"

    def _status_error(
        self, plan: OperationPlan, target: str, status: int, body: bytes, getheader: Any
    ) -> DockerError:
        """Return the exception for an error status; `getheader(name)` reads a header."""
        path = target.partition("?")[0]
        if status < 400:
            location = getheader("Location")
            return APIError(
                status,
                plan.method,
                path,
                f"unexpected redirect to {location!r}: the Docker Engine API never redirects, "
                f"so {self._host.url} is probably not a Docker daemon (a proxy or a web server?)",
            )
        return error_from_response(
            status,
            plan.method,
            path,
            body,
            getheader("Content-Type"),
            daemon_max=getheader("Api-Version"),
        )

    def _check_credentials(
        self, plan: OperationPlan, headers: list[tuple[str, str]], document: Any
    ) -> None:
        """Raise InvalidArgument if the request carries registry credentials to a remote
        host over plain HTTP, unless the client allows it (then warn once)."""
        carrier = _request.find_credentials(plan, headers, document)
        if carrier is None:
            return
        if not self._allow_insecure_credentials:
            raise InvalidArgument(
                f"{plan.operation.operation_id}: {carrier} carries registry credentials, and "
                f"{self._host.describe()} is plain HTTP to a host that is not loopback, where "
                "anyone on the network path can read them. Nothing was sent. Use TLS "
                "(DOCKER_TLS_VERIFY=1, tls=, an https:// host), ssh:// or a unix socket, or "
                "create the client with allow_insecure_credentials=True to send them anyway"
            )
        if not self._warned_insecure_credentials:
            self._warned_insecure_credentials = True
            import logging

            logging.getLogger("docker_engine").warning(
                "sending registry credentials over plain HTTP to %s, because the client "
                "was created with allow_insecure_credentials=True",
                self._host.url,
            )

    # --- decoding ----------------------------------------------------------------------

    def _decode_result(
        self, plan: OperationPlan, target: str, status: int, data: bytes, getheader: Any
    ) -> Any:
        """Decode the body of a JSON operation's success response as its result type.

        Raises InvalidResponse when the body is not JSON, such as a proxy's HTML page.
        """
        try:
            document = json.loads(data)
        except ValueError as error:
            raise invalid_json_error(
                status,
                plan.method,
                target.partition("?")[0],
                data,
                getheader("Content-Type"),
                error,
            ) from None
        decoder = plan.result_decoder or self._result_decoder(plan)
        return decoder(document)

    def _result_decoder(self, plan: OperationPlan) -> Callable[[Any], Any]:
        decoder = self._type_decoder(plan.operation, plan.operation.result_type)
        plan.result_decoder = decoder
        return decoder

    def _item_decoder(self, plan: OperationPlan) -> Callable[[Any], Any]:
        return self._type_decoder(plan.operation, plan.operation.item_type)

    def _type_decoder(self, operation: Operation, type_text: str | None) -> Callable[[Any], Any]:
        """Evaluate a result type such as "list[ContainerSummary]" in the models module."""
        if type_text is None or self.MODELS_MODULE is None:
            return _identity
        module = _import_models(self.MODELS_MODULE)
        try:
            annotation = eval(type_text, {"Any": Any, "typing": typing}, vars(module))  # noqa: S307
        except Exception as error:
            raise TypeError(
                f"{operation.operation_id}: the result type {type_text!r} does not evaluate in "
                f"{self.MODELS_MODULE}: {error}"
            ) from error
        from docker_engine._model import decoder_for

        return decoder_for(annotation)

    # --- plans and the API version ----------------------------------------------------

    def _plan(self, operation: Operation) -> OperationPlan:
        """Work out once what every call of `operation` needs."""
        global _request
        if _request is None:
            from docker_engine import _request as request

            _request = request
        plan: OperationPlan = _request.OperationPlan(operation)
        self._plans[id(operation)] = plan
        return plan

    def _adopt_daemon(self, daemon: DaemonVersion) -> None:
        """Negotiate against what the daemon reported (the caller holds the lock)."""
        import logging

        from docker_engine._negotiation import Negotiated, negotiate

        self._daemon = daemon
        if self.PACKAGE_API_VERSION is None:
            negotiated = Negotiated(daemon.api_version, "the daemon's newest API version")
        else:
            negotiated = negotiate(self.PACKAGE_API_VERSION, daemon, strict=self._strict)
        logging.getLogger("docker_engine").debug(
            "%s uses API %s with %s: %s",
            type(self).__name__,
            negotiated.version,
            self._host.url,
            negotiated.reason,
        )
        self._use_version(negotiated)

    def _use_version(self, negotiated: Negotiated) -> None:
        from docker_engine._versions import version_key

        self._negotiated = negotiated
        self._api_key = version_key(negotiated.version)
        if self._daemon is not None:
            self._daemon_note = f" with the daemon, whose maximum is {self._daemon.api_version}"
        else:
            # Without a probe the version was pinned, so the pin is what to change.
            self._daemon_note = " (pinned)"
        # Written last: other threads read it without the lock.
        self._api_version = negotiated.version


class BaseClient(ClientCore):
    """A client for one Docker daemon, speaking one API version.

    `base_url` is the daemon's host (unix://, tcp://, http://, https://, ssh://) or an
    already resolved DockerHost; None resolves it like the Docker CLI: DOCKER_HOST, the
    current Docker context, then unix:///var/run/docker.sock. `version` pins the API version
    ("1.43"), as DOCKER_API_VERSION does; the argument wins over the variable, and a
    pinned version turns negotiation off. `tls` is a TLSConfig, True (use
    DOCKER_CERT_PATH), False (never) or None (from the environment or the context).
    `timeout` is a Timeout or a number of seconds for both connecting and reading (by
    default 10 s to connect and 60 s per read, none for the body of a stream).
    `max_connections` limits the connections open at once (default 10). With
    `strict`, a daemon older than the package's API version is refused instead of
    negotiated down. A request with registry credentials (the X-Registry-Auth and
    X-Registry-Config headers, the body of `POST /auth`) to a tcp:// host without TLS that
    is not a loopback address raises InvalidArgument before sending, unless
    `allow_insecure_credentials` is True. One client is safe to share between threads.
    """


    def negotiate(self) -> str:
        """Return the API version in use, probing the daemon now if it is not known yet."""
        return self._api_version or self._negotiate_once()

    def close(self) -> None:
        """Close the idle connections. Open streams keep theirs until they are closed."""
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- the request path --------------------------------------------------------------

    def call(
        self,
        operation: Operation,
        arguments: Mapping[str, Any],
        *,
        body: Any = None,
        timeout: float | Timeout | None = None,
    ) -> Any:
        """Send `operation` with `arguments` (keyed by Python name, None omitted) and
        return the decoded response.

        Raises InvalidArgument for a value it will not send, APIVersionError for a
        feature newer than the API version in use (before sending), an APIError subclass
        for an error status, DockerConnectionError or TimeoutError when the daemon cannot
        be reached or is too slow.
        """
        plan = self._plans.get(id(operation))
        if plan is None or plan.operation is not operation:
            plan = self._plan(operation)
        api_version = self._api_version or self._negotiate_once()
        request = _request

        encoded = request.encode_body(plan, body)
        if plan.newest_key > self._api_key:
            request.check_versions(
                plan, arguments, encoded.document, api_version, self._api_key, self._daemon_note
            )
        target, headers = request.build_target(plan, arguments, api_version)
        kind = operation.response
        open_stream = _stream_opener(kind) if kind in _STREAM_KINDS else None

        if self._guard_credentials:
            self._check_credentials(plan, headers, encoded.document)
        headers.append(("Host", self._host.host_header))
        headers.append(("User-Agent", USER_AGENT))
        headers.extend(encoded.headers)
        if kind is ResponseKind.HIJACK:
            headers.append(("Connection", "Upgrade"))
            headers.append(("Upgrade", "tcp"))

        pool = self._pool or self._open_pool()
        transport = self._transport
        # A stream's body may stay silent for as long as the daemon has nothing to send,
        # but its headers come at once (the daemon flushes them before the first event,
        # log line or frame), so the wait for them is bounded like any other response.
        body_timeout = None
        if timeout is not None:
            timeouts = transport.as_timeout(timeout, self._timeout)
        elif plan.long_poll:
            timeouts = self._streaming_timeout
        elif plan.streaming:
            timeouts = self._timeout
            body_timeout = self._streaming_timeout
        else:
            timeouts = self._timeout

        connection, response = transport.send(
            pool,
            plan.method,
            target,
            headers,
            encoded.data,
            encoded.chunked,
            encoded.replayable,
            timeouts,
        )

        status = response.status
        if status >= 300 and status != 304 and not (status == 101 and kind is ResponseKind.HIJACK):
            self._raise_for_status(plan, target, pool, connection, response)
        if body_timeout is not None:
            connection.set_body_timeout(response, body_timeout.read)

        if kind is ResponseKind.JSON:
            data = transport.read_body(pool, connection, response)
            if not data:
                return None
            return self._decode_result(plan, target, status, data, response.getheader)
        if kind is ResponseKind.NONE:
            transport.read_body(pool, connection, response)
            return None
        if kind is ResponseKind.TEXT:
            return transport.read_body(pool, connection, response).decode("utf-8", errors="replace")
        if kind is ResponseKind.HEADERS:
            transport.read_body(pool, connection, response)
            return dict(response.getheaders())

        from docker_engine._responses import ByteStream, Exchange

        exchange = Exchange(
            pool=pool,
            connection=connection,
            response=response,
            operation=operation,
            arguments=arguments,
            api_version=api_version,
            item_decoder=self._item_decoder(plan),
            request_document=encoded.document,
        )
        if kind is ResponseKind.BYTES:
            return ByteStream(exchange)
        assert open_stream is not None
        try:
            return open_stream(exchange)
        except BaseException:
            exchange.close()
            raise

    def _raise_for_status(
        self,
        plan: OperationPlan,
        target: str,
        pool: ConnectionPool,
        connection: Any,
        response: Any,
    ) -> typing.NoReturn:
        body = self._transport.read_body(pool, connection, response)
        raise self._status_error(plan, target, response.status, body, response.getheader)

    # --- connections and negotiation ---------------------------------------------------

    def _open_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                from docker_engine import _transport
                from docker_engine._timeout import Timeout

                self._transport = _transport
                self._streaming_timeout = Timeout(self._timeout.connect, None)
                self._pool = _transport.ConnectionPool(
                    _transport.transport_for(self._host), self._max_connections
                )
            return self._pool

    def _get_unversioned(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Send a GET without a version prefix (for probing) and return the whole response."""
        pool = self._pool or self._open_pool()
        transport: Any = self._transport
        headers = [("Host", self._host.host_header), ("User-Agent", USER_AGENT)]
        connection, response = transport.send(
            pool, "GET", path, headers, None, False, True, self._timeout
        )
        body = transport.read_body(pool, connection, response)
        return response.status, dict(response.getheaders()), body

    def _negotiate_once(self) -> str:
        """Probe the daemon and settle the API version, once per client (thread-safe).

        Threads that arrive during the probe wait for it. A failed probe raises and
        leaves the version unknown, so the next call probes again.
        """
        from docker_engine._negotiation import probe_daemon

        with self._negotiation_lock:
            if self._api_version is None:
                daemon = self._daemon or probe_daemon(self._get_unversioned)
                with self._lock:
                    self._adopt_daemon(daemon)
            assert self._api_version is not None
            return self._api_version

    @classmethod
    def _from_probe(
        cls,
        prober: BaseClient,
        *,
        strict: bool = False,
        allow_insecure_credentials: bool = False,
    ) -> BaseClient:
        """Build a client that shares `prober`'s host, pool and probe, as connect() does."""
        client = cls.__new__(cls)
        client._setup(
            prober._host,
            version=None,
            timeout=prober._timeout,
            strict=strict,
            max_connections=prober._max_connections,
            environ={},
            allow_insecure_credentials=allow_insecure_credentials,
        )
        client._pool = prober._pool
        client._transport = prober._transport
        client._streaming_timeout = prober._streaming_timeout
        if prober._daemon is not None:
            with client._lock:
                client._adopt_daemon(prober._daemon)
        return client


def _identity(value: Any) -> Any:
    return value


_models_modules: dict[str, ModuleType] = {}


def _import_models(name: str) -> ModuleType:
    module = _models_modules.get(name)
    if module is None:
        module = _models_modules[name] = importlib.import_module(name)
    return module


def _stream_opener(kind: ResponseKind) -> Callable[[Any], Any]:
    """Return `docker_engine._streams.open_stream`, imported on the first streamed call."""
    streams = importlib.import_module("docker_engine._streams")
    opener: Callable[[Any], Any] = streams.open_stream
    return opener
